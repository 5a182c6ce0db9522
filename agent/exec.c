/* exec.c: runs the host's commands: one process group each (started by
 * spawn.c), stdio over nonblocking pipes paced by the stream windows, EXIT
 * once all is done. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"

/* Grant stdin credit back in batches, not per write. */
#define STDIN_GRANT_BATCH (16 * 1024)

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

/* Orphans (id 0: their host went away while they started) are nobody's. */
Exec *
exec_find (Agent *agent, uint32_t id)
{
  for (Exec *e = agent->execs; e != NULL && id != 0; e = e->next)
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
  agent_wire_buf_clear (&exec->stdin_buf);
  free (exec);
  agent->n_execs--;
}

/* The command's process group (its first act was setsid()); the process
 * alone if the group is gone. */
static void
signal_group (pid_t pid, int signo)
{
  if (kill (-pid, signo) < 0 && errno == ESRCH)
    kill (pid, signo);
}

/* The pid a command still starting stored itself, or 0. */
static pid_t
starting_pid (Exec *exec)
{
  return __atomic_load_n (&exec->starting_pid, __ATOMIC_ACQUIRE);
}

/* A signal for a command still starting goes to the pid it stored, or
 * waits for its pid; of several waiting, the last counts, and SIGKILL
 * stays. */
void
exec_signal (Exec *exec, int signo)
{
  pid_t pid = exec->pid > 0 ? exec->pid : starting_pid (exec);

  if (pid > 0)
    signal_group (pid, signo);
  else if (exec->pending_signal != SIGKILL)
    exec->pending_signal = signo;
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
  int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
  bool want_stdin = request->flags & AGENT_EXEC_FLAG_STDIN;
  Exec *exec = calloc (1, sizeof *exec);

  if (exec == NULL)
    {
      refuse (agent, id, "memory");
      return;
    }
  if ((want_stdin ? pipe2 (in, O_CLOEXEC) : (in[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC))) < 0
      || pipe2 (out, O_CLOEXEC) < 0 || pipe2 (err, O_CLOEXEC) < 0)
    {
      refuse (agent, id, "pipe");
      for (int i = 0; i < 2; i++)
        {
          close_fd (&in[i]);
          close_fd (&out[i]);
          close_fd (&err[i]);
        }
      free (exec);
      return;
    }
  *exec = (Exec) {
    .next = agent->execs, .id = id, .serial = ++agent->spawn_serial,
    .in_fd = in[1], .out_fd = out[0], .err_fd = err[0],
    .want_stdin = want_stdin, .stdin_room = AGENT_WIRE_INITIAL_WINDOW,
    .out_window = AGENT_WIRE_INITIAL_WINDOW,
  };
  /* The child's ends (and the request) belong to the spawner now. */
  if (!spawn_start (agent, exec->serial, request, in[0], out[1], err[1], &exec->starting_pid))
    {
      refuse (agent, id, "thread");
      close_fd (&exec->in_fd);
      close_fd (&exec->out_fd);
      close_fd (&exec->err_fd);
      free (exec);
      return;
    }
  for (int *fd = &exec->in_fd; fd <= &exec->err_fd; fd++)
    if (*fd >= 0)
      fcntl (*fd, F_SETFL, fcntl (*fd, F_GETFL) | O_NONBLOCK);
  agent->execs = exec;
  agent->n_execs++;
  agent->n_spawning++;
}

/* A spawner's report: the command runs (or ran) as @report->pid, or
 * could not get a process at all. */
static void
exec_spawned (Agent *agent, const SpawnReport *report)
{
  Exec *exec = agent->execs;

  while (exec != NULL && exec->serial != report->serial)
    exec = exec->next;
  agent->n_spawning--;
  if (exec == NULL)
    {
      if (report->pid > 0)
        signal_group (report->pid, SIGKILL); /* reaped by exec_reap, unmatched */
      return;
    }
  if (report->pid < 0)
    {
      errno = report->spawn_errno;
      if (exec->id != 0)
        refuse (agent, exec->id, "vfork");
      exec_free (agent, exec);
      return;
    }
  exec->pid = report->pid;
  exec->exec_errno = report->exec_errno;
  if (exec->id == 0)
    {
      signal_group (exec->pid, SIGKILL);
      exec_free (agent, exec);
    }
  else if (exec->pending_signal != 0)
    signal_group (exec->pid, exec->pending_signal);
}

/* Waits up to @timeout_ms for every command still starting to get its
 * pid, so that exec_kill_all() leaves no orphan running. */
void
exec_wait_spawns (Agent *agent, int timeout_ms)
{
  int64_t deadline = agent_monotonic_ms () + timeout_ms;

  while (agent->n_spawning > 0)
    {
      struct pollfd pfd = { .fd = agent->spawn_read_fd, .events = POLLIN };
      int64_t left = deadline - agent_monotonic_ms ();

      if (left <= 0 || poll (&pfd, 1, (int) left) <= 0)
        return;
      exec_read_spawn_reports (agent);
    }
}

void
exec_read_spawn_reports (Agent *agent)
{
  SpawnReport report;

  while (spawn_next_report (agent, &report))
    exec_spawned (agent, &report);
  /* Exits seen while a pid was unknown were left for now. */
  exec_reap (agent);
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

static void
mark_reaped (Agent *agent, pid_t pid, int wstatus)
{
  for (Exec *e = agent->execs; e != NULL; e = e->next)
    if (e->pid == pid && !e->reaped)
      {
        e->reaped = true;
        e->wstatus = wstatus;
        return;
      }
}

void
exec_reap (Agent *agent)
{
  struct signalfd_siginfo drain[8];
  int wstatus;
  pid_t pid;

  while (read (agent->sigchld_fd, drain, sizeof drain) > 0)
    ;
  /* While a spawner has not reported, waitpid(-1) could take a child
   * whose Exec does not know its pid yet: then only known pids. */
  if (agent->n_spawning > 0)
    {
      for (Exec *e = agent->execs; e != NULL; e = e->next)
        if (e->pid > 0 && !e->reaped && waitpid (e->pid, &wstatus, WNOHANG) == e->pid)
          {
            e->reaped = true;
            e->wstatus = wstatus;
          }
      return;
    }
  /* waitpid(-1): as PID 1 this also reaps orphans re-parented to us. */
  while ((pid = waitpid (-1, &wstatus, WNOHANG)) > 0)
    mark_reaped (agent, pid, wstatus);
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

/* Kills every command. One still starting is killed if it stored its pid
 * and becomes an orphan (id 0) either way, kept until its spawner reports
 * (the child may still store its pid into it) and killed then. */
void
exec_kill_all (Agent *agent)
{
  Exec *e = agent->execs;

  while (e != NULL)
    {
      Exec *next = e->next;

      if (e->pid > 0)
        {
          signal_group (e->pid, SIGKILL);
          exec_free (agent, e);
        }
      else
        {
          pid_t pid = starting_pid (e);

          if (pid > 0)
            signal_group (pid, SIGKILL);
          e->id = 0;
          close_fd (&e->in_fd);
          close_fd (&e->out_fd);
          close_fd (&e->err_fd);
          e->stdin_buf.len = 0;
        }
      e = next;
    }
}
