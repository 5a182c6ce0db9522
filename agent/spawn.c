/* spawn.c: starts a command's process. Each start runs on a short-lived
 * thread that calls vfork(): no copy of the agent's address space (under
 * an emulated CPU fork() cost ~0.5 ms of every exec, docs/performance.md),
 * and a child that blocks in chdir() or execve() (a hung network file
 * system) stops only that thread, never the agent's loop. The thread
 * reports the pid through a pipe the loop polls. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* The thread's stack is also the vfork() child's; it needs a few pages
 * (more under ASan). */
#define SPAWN_STACK_SIZE (256 * 1024)

typedef struct {
  AgentWireExec request;
  int in_fd, out_fd, err_fd; /* the child's ends */
  pid_t *starting_pid;
  int report_fd;
  SpawnReport report;
} SpawnJob;

/* @dir "/" @file, or @file alone for an empty @dir (the current
 * directory); false if it does not fit. */
static bool
join_path (char *out, size_t size, const char *dir, size_t dir_len, const char *file)
{
  size_t file_len = strlen (file);

  if (dir_len + 1 + file_len + 1 > size)
    return false;
  memcpy (out, dir, dir_len);
  if (dir_len > 0)
    out[dir_len++] = '/';
  memcpy (out + dir_len, file, file_len + 1);
  return true;
}

/* execvpe() searches the agent's own PATH; the command's environment is the
 * one that counts here. A missing candidate is skipped after access(): a
 * failing execve() on Linux 6.1 (Debian 12's guest kernel) first sets up a
 * new address space and copies argv and env into it, ~0.1 ms per PATH
 * entry under an emulated CPU. What exists is still left to execve() to
 * accept or refuse. */
static void
exec_search (char **argv, char **envp)
{
  const char *file = argv[0], *path = DEFAULT_PATH;
  bool denied = false;
  int last = ENOENT;

  if (strchr (file, '/') != NULL)
    {
      execve (file, argv, envp);
      return;
    }
  for (char **e = envp; *e != NULL; e++)
    if (strncmp (*e, "PATH=", 5) == 0)
      path = *e + 5;
  while (path != NULL)
    {
      const char *colon = strchr (path, ':');
      size_t dir_len = colon ? (size_t) (colon - path) : strlen (path);
      char full[PATH_MAX];
      bool fits = join_path (full, sizeof full, path, dir_len, file);

      path = colon ? colon + 1 : NULL;
      if (!fits)
        {
          last = ENAMETOOLONG;
          continue;
        }
      if (access (full, F_OK) < 0 && (errno == ENOENT || errno == ENOTDIR))
        continue;
      execve (full, argv, envp);
      if (errno == EACCES)
        denied = true;
      else if (errno != ENOENT && errno != ENOTDIR)
        last = errno;
    }
  errno = denied ? EACCES : last;
}

/* "banger-agent: WHAT: WHY\n" on the command's stderr, copied together by
 * hand: no stdio, no allocation (see child_run). */
static void
child_complain (const char *what_1, const char *what_2, const char *why)
{
  const char *parts[] = { "banger-agent: ", what_1, what_2, ": ", why ? why : "unknown error", "\n" };
  char line[2 * PATH_MAX];
  size_t len = 0;

  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    {
      size_t n = strnlen (parts[i], sizeof line - len);

      memcpy (line + len, parts[i], n);
      len += n;
    }
  if (write (2, line, len) < 0)
    (void) 0; /* the exit status still says it */
}

/* The vfork() child, on the agent's memory while its thread waits: system
 * calls and code that writes only its own stack; no stdio, no malloc, no
 * locale (strerrordesc_np, not strerror). Never returns. A start failure
 * goes to the command's stderr like a shell's and its errno to
 * *@exec_errno; the status is 127 (not found) or 126 (found but not
 * runnable). */
__attribute__ ((noreturn)) static void
child_run (const AgentWireExec *request, int in_fd, int out_fd, int err_fd, pid_t *starting_pid,
           int *exec_errno)
{
  const char *cwd = request->cwd[0] ? request->cwd : "/";
  sigset_t none;
  int err;

  setsid ();
  /* Its own group first: a signal for the group may come from now on. */
  __atomic_store_n (starting_pid, getpid (), __ATOMIC_RELEASE);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  signal (SIGPIPE, SIG_DFL);
  if (dup2 (in_fd, 0) < 0 || dup2 (out_fd, 1) < 0 || dup2 (err_fd, 2) < 0)
    {
      *exec_errno = errno;
      _exit (126);
    }
  if (chdir (cwd) < 0)
    {
      err = errno;
      child_complain ("cannot change to directory ", cwd, strerrordesc_np (err));
    }
  else
    {
      exec_search (request->argv, request->envp);
      err = errno;
      child_complain (request->argv[0], "",
                      err == ENOENT ? "command not found" : strerrordesc_np (err));
    }
  *exec_errno = err;
  _exit (err == ENOENT || err == ENOTDIR ? 127 : 126);
}

static void
job_free (SpawnJob *job)
{
  close (job->in_fd);
  close (job->out_fd);
  close (job->err_fd);
  agent_wire_exec_clear (&job->request);
  free (job);
}

static void *
spawn_thread (void *data)
{
  SpawnJob *job = data;
  pid_t pid = vfork ();

  if (pid == 0)
    child_run (&job->request, job->in_fd, job->out_fd, job->err_fd, job->starting_pid,
               &job->report.exec_errno);
  /* The child has exec'd or exited: its memory is its own again. */
  job->report.pid = pid;
  job->report.spawn_errno = pid < 0 ? errno : 0;
  /* Smaller than PIPE_BUF: one write, never mixed with another thread's.
   * A process the loop cannot learn of must not run on. */
  if (write (job->report_fd, &job->report, sizeof job->report) != (ssize_t) sizeof job->report
      && pid > 0)
    kill (pid, SIGKILL);
  job_free (job);
  return NULL;
}

bool
spawn_init (Agent *agent)
{
  int fds[2];

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return false;
  fcntl (fds[0], F_SETFL, fcntl (fds[0], F_GETFL) | O_NONBLOCK);
  agent->spawn_read_fd = fds[0];
  agent->spawn_write_fd = fds[1];
  return true;
}

/* A detached thread running @fn (@data); 0 or an errno. */
static int
start_thread (void *(*fn) (void *), void *data)
{
  pthread_attr_t attr;
  pthread_t thread;
  int err;

  pthread_attr_init (&attr);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize (&attr, SPAWN_STACK_SIZE);
  err = pthread_create (&thread, &attr, fn, data);
  pthread_attr_destroy (&attr);
  return err;
}

bool
spawn_start (Agent *agent, uint64_t serial, AgentWireExec *request, int in_fd, int out_fd, int err_fd,
             pid_t *starting_pid)
{
  SpawnJob *job = calloc (1, sizeof *job);
  int err;

  if (job == NULL)
    {
      close (in_fd);
      close (out_fd);
      close (err_fd);
      agent_wire_exec_clear (request);
      errno = ENOMEM;
      return false;
    }
  *job = (SpawnJob) {
    .request = *request, .in_fd = in_fd, .out_fd = out_fd, .err_fd = err_fd,
    .starting_pid = starting_pid,
    .report_fd = agent->spawn_write_fd, .report = { .serial = serial },
  };
  *request = (AgentWireExec) { 0 };
  err = start_thread (spawn_thread, job);
  if (err != 0)
    {
      job_free (job);
      errno = err;
      return false;
    }
  return true;
}

/* An idle thread, started and ended once (see loop_once()). */
static void *
warm_up_thread (void *data)
{
  return NULL;
}

void
spawn_warm_up (void)
{
  if (start_thread (warm_up_thread, NULL) != 0)
    (void) 0; /* only a head start */
}

bool
spawn_next_report (Agent *agent, SpawnReport *report)
{
  return read (agent->spawn_read_fd, report, sizeof *report) == (ssize_t) sizeof *report;
}
