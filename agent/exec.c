/* exec.c: runs the host's commands: one process group each, stdio over
 * nonblocking pipes paced by the stream windows, EXIT once all is done. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* Grant stdin credit back in batches, not per write. */
#define STDIN_GRANT_BATCH (16 * 1024)

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

Exec *
exec_find (Agent *agent, uint32_t id)
{
  for (Exec *e = agent->execs; e != NULL; e = e->next)
    if (e->id == id)
      return e;
  return NULL;
}

static void
exec_free (Agent *agent, Exec *exec)
{
  for (Exec **p = &agent->execs; *p != NULL; p = &(*p)->next)
    if (*p == exec)
      {
        *p = exec->next;
        break;
      }
  close_fd (&exec->in_fd);
  close_fd (&exec->out_fd);
  close_fd (&exec->err_fd);
  close_fd (&exec->status_fd);
  agent_wire_buf_clear (&exec->stdin_buf);
  free (exec);
  agent->n_execs--;
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

      if (dir_len == 0)
        snprintf (full, sizeof full, "%s", file);
      else
        snprintf (full, sizeof full, "%.*s/%s", (int) dir_len, path, file);
      path = colon ? colon + 1 : NULL;
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

/* In the child: never returns. A start failure goes to the command's
 * stderr like a shell's, its errno to the parent, and the status is 127
 * (not found) or 126 (found but not runnable). */
__attribute__ ((noreturn)) static void
child_run (AgentWireExec *request, int in_fd, int out_fd, int err_fd, int status_fd)
{
  const char *cwd = request->cwd[0] ? request->cwd : "/";
  sigset_t none;
  int err;

  setsid ();
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  signal (SIGPIPE, SIG_DFL);
  if (dup2 (in_fd, 0) < 0 || dup2 (out_fd, 1) < 0 || dup2 (err_fd, 2) < 0)
    _exit (126);
  if (chdir (cwd) < 0)
    {
      err = errno;
      dprintf (2, "banger-agent: cannot change to directory %s: %s\n", cwd, strerror (err));
    }
  else
    {
      exec_search (request->argv, request->envp);
      err = errno;
      dprintf (2, "banger-agent: %s: %s\n", request->argv[0],
               err == ENOENT ? "command not found" : strerror (err));
    }
  if (write (status_fd, &err, sizeof err) < 0)
    (void) 0; /* the exit status still says it */
  _exit (err == ENOENT || err == ENOTDIR ? 127 : 126);
}

/* The command's process group; before the child's setsid() there is
 * none yet, and the child itself is signalled. */
void
exec_signal_group (pid_t pid, int signo)
{
  if (kill (-pid, signo) < 0 && errno == ESRCH)
    kill (pid, signo);
}

static void
refuse (Agent *agent, uint32_t id, const char *what)
{
  char message[160];

  snprintf (message, sizeof message, "cannot start the command: %s: %s", what, strerror (errno));
  proto_send (agent, agent_wire_put_error (&agent->out, id, AGENT_ERR_EXEC, message));
}

void
exec_start (Agent *agent, uint32_t id, AgentWireExec *request)
{
  int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, status[2] = { -1, -1 };
  bool want_stdin = request->flags & AGENT_EXEC_FLAG_STDIN;
  Exec *exec;
  pid_t pid;

  if ((want_stdin ? pipe2 (in, O_CLOEXEC) : (in[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC))) < 0
      || pipe2 (out, O_CLOEXEC) < 0 || pipe2 (err, O_CLOEXEC) < 0 || pipe2 (status, O_CLOEXEC) < 0)
    {
      refuse (agent, id, "pipe");
      for (int i = 0; i < 2; i++)
        {
          close_fd (&in[i]);
          close_fd (&out[i]);
          close_fd (&err[i]);
          close_fd (&status[i]);
        }
      return;
    }
  pid = fork ();
  if (pid == 0)
    child_run (request, in[0], out[1], err[1], status[1]);
  close_fd (&in[0]);
  close_fd (&out[1]);
  close_fd (&err[1]);
  close_fd (&status[1]);
  exec = calloc (1, sizeof *exec);
  if (pid < 0 || exec == NULL)
    {
      if (pid > 0)
        kill (pid, SIGKILL); /* reaped later by exec_reap, unmatched */
      refuse (agent, id, "fork");
      free (exec);
      close_fd (&in[1]);
      close_fd (&out[0]);
      close_fd (&err[0]);
      close_fd (&status[0]);
      return;
    }
  *exec = (Exec) {
    .next = agent->execs, .id = id, .pid = pid,
    .in_fd = in[1], .out_fd = out[0], .err_fd = err[0], .status_fd = status[0],
    .want_stdin = want_stdin, .stdin_room = AGENT_WIRE_INITIAL_WINDOW,
    .out_window = AGENT_WIRE_INITIAL_WINDOW,
  };
  for (int *fd = &exec->in_fd; fd <= &exec->err_fd; fd++)
    if (*fd >= 0)
      fcntl (*fd, F_SETFL, fcntl (*fd, F_GETFL) | O_NONBLOCK);
  agent->execs = exec;
  agent->n_execs++;
}

static void
grant_stdin (Agent *agent, Exec *exec, uint32_t bytes, bool force)
{
  exec->stdin_ungranted += bytes;
  if (exec->stdin_ungranted == 0 || (!force && exec->stdin_ungranted < STDIN_GRANT_BATCH))
    return;
  exec->stdin_room += exec->stdin_ungranted;
  proto_send (agent, agent_wire_put_u32 (&agent->out, AGENT_MSG_WINDOW, exec->id,
                                         exec->stdin_ungranted));
  exec->stdin_ungranted = 0;
}

void
exec_stdin_data (Agent *agent, Exec *exec, const uint8_t *data, uint32_t len)
{
  exec->stdin_room -= len;
  /* The command closed its stdin: swallow the data, keep the host going. */
  if (exec->in_fd < 0)
    {
      grant_stdin (agent, exec, len, true);
      return;
    }
  proto_send (agent, agent_wire_buf_append (&exec->stdin_buf, data, len));
}

void
exec_stdin_eof (Agent *agent, Exec *exec)
{
  exec->stdin_eof = true;
  if (exec->stdin_buf.len == 0)
    close_fd (&exec->in_fd);
}

void
exec_write_stdin (Agent *agent, Exec *exec)
{
  ssize_t n = write (exec->in_fd, exec->stdin_buf.data, exec->stdin_buf.len);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n < 0)
    {
      /* EPIPE: the command stopped reading. */
      grant_stdin (agent, exec, (uint32_t) exec->stdin_buf.len, true);
      exec->stdin_buf.len = 0;
      close_fd (&exec->in_fd);
      return;
    }
  agent_wire_buf_consume (&exec->stdin_buf, (size_t) n);
  grant_stdin (agent, exec, (uint32_t) n, exec->stdin_buf.len == 0);
  if (exec->stdin_buf.len == 0 && exec->stdin_eof)
    close_fd (&exec->in_fd);
}

void
exec_read_output (Agent *agent, Exec *exec, bool is_err)
{
  uint8_t chunk[AGENT_WIRE_DATA_CHUNK];
  int *fd = is_err ? &exec->err_fd : &exec->out_fd;
  size_t want = exec->out_window < sizeof chunk ? (size_t) exec->out_window : sizeof chunk;
  ssize_t n;

  /* stdout and stderr share the window: the other pipe may have used it
   * up in this same poll round, and read(fd, buf, 0) would look like EOF. */
  if (want == 0)
    return;
  n = read (*fd, chunk, want);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      close_fd (fd);
      return;
    }
  exec->out_window -= (uint64_t) n;
  proto_send (agent, agent_wire_put_frame (&agent->out, is_err ? AGENT_MSG_STDERR : AGENT_MSG_STDOUT,
                                           exec->id, chunk, (size_t) n));
}

void
exec_reap (Agent *agent)
{
  struct signalfd_siginfo drain[8];
  int wstatus;
  pid_t pid;

  while (read (agent->sigchld_fd, drain, sizeof drain) > 0)
    ;
  /* waitpid(-1): as PID 1 this also reaps orphans re-parented to us. */
  while ((pid = waitpid (-1, &wstatus, WNOHANG)) > 0)
    {
      for (Exec *e = agent->execs; e != NULL; e = e->next)
        if (e->pid == pid && !e->reaped)
          {
            e->reaped = true;
            e->wstatus = wstatus;
            /* The child is gone, so the pipe holds its errno or nothing. */
            if (read (e->status_fd, &e->exec_errno, sizeof e->exec_errno) != sizeof e->exec_errno)
              e->exec_errno = 0;
            close_fd (&e->status_fd);
            break;
          }
    }
}

/* EXIT goes out only when the child is reaped and both pipes hit EOF, so
 * the host has every byte before it learns the status. */
void
exec_finish_done (Agent *agent)
{
  bool again = true;

  while (again)
    {
      again = false;
      for (Exec *e = agent->execs; e != NULL; e = e->next)
        if (e->reaped && e->out_fd < 0 && e->err_fd < 0)
          {
            AgentWireExit status = { .exec_errno = (uint32_t) e->exec_errno };
            uint32_t id = e->id;

            if (WIFSIGNALED (e->wstatus))
              {
                status.kind = AGENT_EXIT_SIGNAL;
                status.value = (uint32_t) WTERMSIG (e->wstatus);
              }
            else
              status.value = (uint32_t) WEXITSTATUS (e->wstatus);
            exec_free (agent, e);
            proto_send (agent, agent_wire_put_exit (&agent->out, id, &status));
            again = true;
            break;
          }
    }
}

void
exec_kill_all (Agent *agent)
{
  while (agent->execs != NULL)
    {
      exec_signal_group (agent->execs->pid, SIGKILL);
      exec_free (agent, agent->execs);
    }
}
