/* main.c: banger-agent, the guest side of bangerd's agent channel: option
 * parsing and the single poll() loop everything else hangs off. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

/* Above this much unsent output, stop reading pipes and the host until the
 * host catches up: nothing grows without bound. */
#define OUT_HIGH_WATER (1024 * 1024)
#define IN_HIGH_WATER (4 * 1024 * 1024)
/* How often a port that read 0 is looked at again (transport_read). */
#define VPORT_RECHECK_MS 20

void
agent_log (const char *fmt, ...)
{
  va_list ap;
  char line[512];

  va_start (ap, fmt);
  vsnprintf (line, sizeof line, fmt, ap);
  va_end (ap);
  fprintf (stderr, "banger-agent: %s\n", line);
}

int64_t
agent_monotonic_ms (void)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void
usage (void)
{
  fprintf (stderr,
           "usage: banger-agent (--vsock PORT | --vport NAME | --unix PATH)"
           " [--pid1] [--test-no-poweroff]\n");
  exit (2);
}

static void
parse_args (Agent *agent, int argc, char **argv)
{
  int transports = 0;

  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];

      if (strcmp (arg, "--vsock") == 0 || strcmp (arg, "--vport") == 0 || strcmp (arg, "--unix") == 0)
        {
          if (i + 1 >= argc)
            usage ();
          agent->kind = arg[2] == 'v' ? (arg[3] == 's' ? TRANSPORT_VSOCK : TRANSPORT_VPORT) : TRANSPORT_UNIX;
          agent->address = argv[++i];
          transports++;
        }
      else if (strcmp (arg, "--pid1") == 0)
        agent->pid1 = true;
      else if (strcmp (arg, "--test-no-poweroff") == 0)
        agent->test_no_poweroff = true;
      else
        usage ();
    }
  if (transports != 1)
    usage ();
}

/* SIGCHLD through a signalfd, so reaping is just another poll event. */
static int
setup_signals (void)
{
  sigset_t mask;
  int fd;

  signal (SIGPIPE, SIG_IGN);
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  fd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0)
    {
      LOG ("signalfd: %s", strerror (errno));
      exit (1);
    }
  return fd;
}

enum { SLOT_EXEC_IN, SLOT_EXEC_OUT, SLOT_EXEC_ERR, SLOT_SIGNAL, SLOT_SPAWN, SLOT_CONN, SLOT_LISTEN };

typedef struct {
  int kind;
  Exec *exec;
} Slot;

static void
add (struct pollfd *fds, Slot *slots, size_t *n, int fd, short events, int kind, Exec *exec)
{
  fds[*n] = (struct pollfd) { .fd = fd, .events = events };
  slots[*n] = (Slot) { kind, exec };
  (*n)++;
}

static void
loop_once (Agent *agent, int *idle_ms)
{
  size_t max = 4 + 3 * (size_t) agent->n_execs, n = 0;
  struct pollfd fds[max];
  Slot slots[max];
  bool host = agent->conn_fd >= 0 && !transport_vport_idle (agent) && !agent->draining;
  bool room = agent->out.len < OUT_HIGH_WATER;
  /* It polls as hung up meanwhile: look on a timer instead. */
  bool unsure = transport_vport_unsure (agent);
  int timeout = -1;

  /* Order matters: execs first, the connection last, because handling the
   * connection may free execs (hangup) that earlier slots point to. */
  for (Exec *e = agent->execs; e != NULL; e = e->next)
    {
      if (e->in_fd >= 0 && e->stdin_buf.len > 0)
        add (fds, slots, &n, e->in_fd, POLLOUT, SLOT_EXEC_IN, e);
      if (host && room && e->out_window > 0)
        {
          if (e->out_fd >= 0)
            add (fds, slots, &n, e->out_fd, POLLIN, SLOT_EXEC_OUT, e);
          if (e->err_fd >= 0)
            add (fds, slots, &n, e->err_fd, POLLIN, SLOT_EXEC_ERR, e);
        }
    }
  add (fds, slots, &n, agent->sigchld_fd, POLLIN, SLOT_SIGNAL, NULL);
  add (fds, slots, &n, agent->spawn_read_fd, POLLIN, SLOT_SPAWN, NULL);
  if (agent->conn_fd >= 0 && !transport_vport_idle (agent) && !unsure)
    {
      short events = agent->in.len < IN_HIGH_WATER ? POLLIN : 0;

      if (agent->out.len > 0)
        events |= POLLOUT;
      add (fds, slots, &n, agent->conn_fd, events, SLOT_CONN, NULL);
    }
  if (agent->listen_fd >= 0)
    add (fds, slots, &n, agent->listen_fd, POLLIN, SLOT_LISTEN, NULL);

  /* An unconnected virtio-serial port reads 0 at once and polls as hung
   * up: look at it on a timer that backs off instead of spinning. */
  if (transport_vport_idle (agent))
    timeout = *idle_ms;
  else if (unsure)
    timeout = VPORT_RECHECK_MS;
  else
    timeout = transport_stall_timeout (agent);

  if (poll (fds, n, timeout) < 0)
    {
      if (errno != EINTR)
        {
          LOG ("poll: %s", strerror (errno));
          exit (1);
        }
      return;
    }

  if (transport_vport_idle (agent))
    {
      transport_read (agent);
      *idle_ms = transport_vport_idle (agent) ? (*idle_ms * 2 > 250 ? 250 : *idle_ms * 2) : 20;
    }

  for (size_t i = 0; i < n; i++)
    {
      if (fds[i].revents == 0)
        continue;
      switch (slots[i].kind)
        {
        case SLOT_EXEC_IN:
          exec_write_stdin (agent, slots[i].exec);
          break;
        case SLOT_EXEC_OUT:
        case SLOT_EXEC_ERR:
          exec_read_output (agent, slots[i].exec, slots[i].kind == SLOT_EXEC_ERR);
          break;
        case SLOT_SIGNAL:
          exec_reap (agent);
          break;
        case SLOT_SPAWN:
          exec_read_spawn_reports (agent);
          break;
        case SLOT_CONN:
          if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
            transport_read (agent);
          break;
        case SLOT_LISTEN:
          transport_accept (agent);
          break;
        default:
          break;
        }
    }
  /* After the exec slots: a hangup (or a new host's HELLO) frees the
   * execs they point to. */
  if (unsure)
    transport_read (agent);
  transport_check_stall (agent);
  exec_finish_done (agent);
  if (agent->out_of_memory)
    {
      agent->out_of_memory = false;
      transport_hangup (agent, "out of memory");
    }
  transport_flush (agent);
  /* Right after the first HELLO answer, while the host reads it: the
   * first thread start runs cold code (~3 ms under TCG) that the first
   * command would pay for otherwise. */
  if (agent->handshaken && agent->out.len == 0 && !agent->spawn_warmed_up)
    {
      agent->spawn_warmed_up = true;
      spawn_warm_up ();
    }
}

int
main (int argc, char **argv)
{
  Agent agent = { .listen_fd = -1, .conn_fd = -1 };
  int idle_ms = 20;

  parse_args (&agent, argc, argv);
  /* Pipes must never get fds 0-2, or a child's dup2() onto them would
   * keep their close-on-exec flag. */
  for (int fd = 0; fd < 3; fd++)
    if (fcntl (fd, F_GETFD) < 0 && open ("/dev/null", O_RDWR) < 0)
      return 1;
  agent.sigchld_fd = setup_signals ();
  if (!spawn_init (&agent))
    {
      LOG ("pipe: %s", strerror (errno));
      return 1;
    }
  if (!transport_open (&agent))
    return 1;
  LOG ("listening (%s %s)",
       agent.kind == TRANSPORT_UNIX ? "unix" : agent.kind == TRANSPORT_VSOCK ? "vsock" : "vport",
       agent.address);
  for (;;)
    loop_once (&agent, &idle_ms);
}
