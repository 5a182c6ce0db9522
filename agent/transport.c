/* transport.c: the byte channel to the host (vsock, a virtio-serial port or
 * a unix socket for tests) and the framing on top of it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "agent.h"

#define VPORT_CLASS "/sys/class/virtio-ports"
/* banger-init loads virtio_console before starting us, but give the
 * device a moment to show up. */
#define VPORT_WAIT_MS 10000
/* How long a port must read 0 before that counts as the host hanging up. */
#define VPORT_HANGUP_GRACE_MS 500
/* How long an unfinished frame on a port may sit still before the agent
 * looks whether a new host's HELLO is what came last. */
#define VPORT_STALL_MS 1000

static int
listen_unix (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof addr.sun_path)
    {
      LOG ("socket path too long: %s", path);
      return -1;
    }
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  unlink (path);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 4) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static int
listen_vsock (const char *port_text)
{
  struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY };
  char *end;
  unsigned long port = strtoul (port_text, &end, 10);
  int fd;

  if (*port_text == '\0' || *end != '\0' || port == 0 || port > UINT32_MAX - 1)
    {
      LOG ("invalid vsock port: %s", port_text);
      errno = EINVAL;
      return -1;
    }
  addr.svm_port = (unsigned) port;
  fd = socket (AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 4) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* Finds /sys/class/virtio-ports/vportNpM whose name file says @name. */
static int
open_vport (const char *name)
{
  DIR *dir = opendir (VPORT_CLASS);
  struct dirent *d;
  int fd = -1;

  if (dir == NULL)
    return -1;
  while (fd < 0 && (d = readdir (dir)) != NULL)
    {
      char path[512], value[256] = "";
      FILE *f;

      if (d->d_name[0] == '.')
        continue;
      snprintf (path, sizeof path, VPORT_CLASS "/%s/name", d->d_name);
      f = fopen (path, "re");
      if (f == NULL)
        continue;
      if (fgets (value, sizeof value, f) != NULL)
        value[strcspn (value, "\n")] = '\0';
      fclose (f);
      if (strcmp (value, name) != 0)
        continue;
      snprintf (path, sizeof path, "/dev/%s", d->d_name);
      fd = open (path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
      if (fd < 0)
        LOG ("cannot open %s: %s", path, strerror (errno));
    }
  closedir (dir);
  if (fd < 0)
    errno = ENOENT;
  return fd;
}

bool
transport_open (Agent *agent)
{
  switch (agent->kind)
    {
    case TRANSPORT_UNIX:
      agent->listen_fd = listen_unix (agent->address);
      break;
    case TRANSPORT_VSOCK:
      agent->listen_fd = listen_vsock (agent->address);
      break;
    case TRANSPORT_VPORT:
      for (int waited = 0; agent->conn_fd < 0 && waited < VPORT_WAIT_MS; waited += 100)
        {
          agent->conn_fd = open_vport (agent->address);
          if (agent->conn_fd < 0)
            nanosleep (&(struct timespec) { .tv_nsec = 100 * 1000 * 1000 }, NULL);
        }
      if (agent->conn_fd < 0)
        {
          LOG ("no virtio-serial port named %s", agent->address);
          return false;
        }
      return true;
    }
  if (agent->listen_fd < 0)
    {
      LOG ("cannot listen on %s: %s", agent->address, strerror (errno));
      return false;
    }
  return true;
}

bool
transport_vport_idle (const Agent *agent)
{
  return agent->kind == TRANSPORT_VPORT && !agent->vport_active;
}

/* An active port that read 0 and is being watched to see if that lasts. */
bool
transport_vport_unsure (const Agent *agent)
{
  return agent->kind == TRANSPORT_VPORT && agent->vport_active && agent->vport_eof;
}

/* The HELLO every host opens with (docs/agent-protocol.md). On a port it
 * is how the agent finds where a new host's bytes begin. */
static const AgentWireBuf *
host_hello (void)
{
  static AgentWireBuf hello;

  if (hello.len == 0)
    {
      AgentWireHello request = { .version = AGENT_WIRE_VERSION };

      if (!agent_wire_put_hello (&hello, &request))
        abort (); /* a few bytes at start-up */
    }
  return &hello;
}

/* A port reads 0 while no host is connected, but also for a moment after
 * a host connects: the guest can see its first bytes before the port
 * reports it connected. Only an end of stream that lasts is a hangup;
 * taking the first one for it would throw away the answer to that host. */
static bool
vport_hangup_certain (Agent *agent)
{
  int64_t now = agent_monotonic_ms ();

  if (!agent->vport_eof)
    {
      agent->vport_eof = true;
      agent->vport_eof_ms = now;
      return false;
    }
  return now - agent->vport_eof_ms >= VPORT_HANGUP_GRACE_MS;
}

/* The host went away (or broke the protocol): its execs die with it, so a
 * reconnecting host starts from a clean slate. */
void
transport_hangup (Agent *agent, const char *why)
{
  if (agent->handshaken || agent->n_execs > 0)
    LOG ("host disconnected (%s); killing %u running exec(s)", why, agent->n_execs);
  exec_kill_all (agent);
  agent->in.len = 0;
  agent->out.len = 0;
  agent->handshaken = false;
  agent->draining = false;
  agent->vport_eof = false;
  if (agent->kind == TRANSPORT_VPORT)
    agent->vport_active = false;
  else if (agent->conn_fd >= 0)
    {
      close (agent->conn_fd);
      agent->conn_fd = -1;
    }
}

void
transport_protocol_error (Agent *agent, uint32_t code, const char *why)
{
  LOG ("protocol error: %s", why);
  agent_wire_put_error (&agent->out, 0, code, why);
  transport_flush_blocking (agent, 200);
  if (agent->kind == TRANSPORT_VPORT)
    {
      /* A port cannot be closed on the host: ignore it until the next
       * host (or this one again) says HELLO, or it hangs up. */
      exec_kill_all (agent);
      agent->in.len = agent->out.len = 0;
      agent->handshaken = false;
      agent->draining = true;
    }
  else
    transport_hangup (agent, why);
}

void
transport_accept (Agent *agent)
{
  int fd = accept4 (agent->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

  if (fd < 0)
    return;
  if (agent->conn_fd >= 0)
    transport_hangup (agent, "replaced by a new connection");
  agent->conn_fd = fd;
}

/* Draining: drops input up to the next host HELLO, which ends the
 * draining; keeps a tail that may be the start of one. */
static void
skip_to_hello (Agent *agent)
{
  const AgentWireBuf *hello = host_hello ();
  const uint8_t *found = memmem (agent->in.data, agent->in.len, hello->data, hello->len);

  if (found != NULL)
    {
      LOG ("a host said HELLO; %zu bytes before it dropped", (size_t) (found - agent->in.data));
      agent_wire_buf_consume (&agent->in, (size_t) (found - agent->in.data));
      agent->draining = false;
    }
  else if (agent->in.len >= hello->len)
    agent_wire_buf_consume (&agent->in, agent->in.len - (hello->len - 1));
}

static void
decode_frames (Agent *agent)
{
  size_t offset = 0;

  if (agent->draining)
    skip_to_hello (agent);
  while (agent->conn_fd >= 0 && !agent->draining)
    {
      AgentWireFrame frame;
      size_t used;
      const char *why = NULL;
      AgentWireStatus status = agent_wire_decode (agent->in.data + offset, agent->in.len - offset,
                                                  &frame, &used, &why);

      if (status == AGENT_WIRE_NEED_MORE)
        break;
      if (status != AGENT_WIRE_FRAME)
        {
          transport_protocol_error (agent, status == AGENT_WIRE_BAD_VERSION ? AGENT_ERR_VERSION
                                                                            : AGENT_ERR_PROTOCOL, why);
          return; /* the input buffer was reset */
        }
      offset += used;
      proto_handle_frame (agent, &frame);
      if (agent->in.len == 0)
        return; /* the frame ended the connection */
    }
  agent_wire_buf_consume (&agent->in, offset);
}

/* On a port, bytes that begin with a HELLO after the host hung up or
 * went quiet in the middle of a frame are a new host's: what is left of
 * the old frame is dropped before they are read, or its missing tail would
 * be taken from the HELLO, which then would not be seen. A live host whose
 * next bytes are exactly a HELLO, after a pause like that, is the one case
 * this misjudges (docs/agent-protocol.md). */
static void
drop_frame_cut_by_new_host (Agent *agent, const uint8_t *chunk, size_t n, bool after_eof)
{
  const AgentWireBuf *hello = host_hello ();

  if (agent->kind != TRANSPORT_VPORT || agent->in.len == 0 || n < hello->len
      || memcmp (chunk, hello->data, hello->len) != 0)
    return;
  if (!after_eof && agent_monotonic_ms () - agent->in_grew_ms < VPORT_STALL_MS)
    return;
  LOG ("a new host said HELLO after %zu bytes of an unfinished frame; dropping them",
       agent->in.len);
  agent->in.len = 0;
}

void
transport_read (Agent *agent)
{
  bool after_eof;
  uint8_t chunk[65536];
  ssize_t n;

  if (agent->conn_fd < 0)
    return;
  n = read (agent->conn_fd, chunk, sizeof chunk);
  if (n < 0)
    {
      /* A port that would block has a host behind it. */
      if (errno == EAGAIN)
        agent->vport_eof = false;
      if (errno == EAGAIN || errno == EINTR)
        return;
      transport_hangup (agent, strerror (errno));
      return;
    }
  if (n == 0)
    {
      /* vport: nobody connected (yet); idle means already noticed. */
      if (transport_vport_idle (agent))
        return;
      if (agent->kind != TRANSPORT_VPORT || vport_hangup_certain (agent))
        transport_hangup (agent, "end of stream");
      return;
    }
  after_eof = agent->vport_eof;
  agent->vport_eof = false;
  drop_frame_cut_by_new_host (agent, chunk, (size_t) n, after_eof);
  agent->in_grew_ms = agent_monotonic_ms ();
  agent->in_stall_seen = false;
  if (agent->kind == TRANSPORT_VPORT)
    agent->vport_active = true;
  if (!agent_wire_buf_append (&agent->in, chunk, (size_t) n))
    {
      transport_hangup (agent, "out of memory");
      return;
    }
  decode_frames (agent);
}

void
transport_flush (Agent *agent)
{
  while (agent->conn_fd >= 0 && agent->out.len > 0)
    {
      ssize_t n = write (agent->conn_fd, agent->out.data, agent->out.len);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno != EAGAIN)
            transport_hangup (agent, strerror (errno));
          return;
        }
      agent_wire_buf_consume (&agent->out, (size_t) n);
      agent->vport_eof = false;
    }
}

bool
transport_flush_blocking (Agent *agent, int timeout_ms)
{
  int64_t deadline = agent_monotonic_ms () + timeout_ms;

  for (;;)
    {
      struct pollfd pfd = { .fd = agent->conn_fd, .events = POLLOUT };
      int64_t left;

      transport_flush (agent);
      if (agent->conn_fd < 0 || agent->out.len == 0)
        return agent->out.len == 0;
      left = deadline - agent_monotonic_ms ();
      if (left <= 0)
        return false;
      poll (&pfd, 1, (int) left);
    }
}

/* A host cut off in the middle of a frame (killed, or closed while it
 * streamed stdin) leaves that frame unfinished on a port, and the next
 * host's bytes would complete it. A frame that stopped growing and ends
 * with a HELLO is such a leftover with a new host waiting behind it. */
int
transport_stall_timeout (const Agent *agent)
{
  int64_t left;

  if (agent->kind != TRANSPORT_VPORT || !agent->vport_active || agent->draining
      || agent->in_stall_seen || agent->in.len <= host_hello ()->len)
    return -1;
  left = agent->in_grew_ms + VPORT_STALL_MS - agent_monotonic_ms ();
  return left > 0 ? (int) left : 0;
}

void
transport_check_stall (Agent *agent)
{
  const AgentWireBuf *hello = host_hello ();

  if (transport_stall_timeout (agent) != 0)
    return;
  agent->in_stall_seen = true;
  if (memcmp (agent->in.data + agent->in.len - hello->len, hello->data, hello->len) != 0)
    return;
  LOG ("a host said HELLO after %zu bytes of an unfinished frame; dropping them",
       agent->in.len - hello->len);
  agent_wire_buf_consume (&agent->in, agent->in.len - hello->len);
  decode_frames (agent);
}
