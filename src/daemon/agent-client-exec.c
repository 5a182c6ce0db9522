/* agent-client-exec.c: one exec's stdio between the caller's fds and its
 * stream: stdin read as the agent grants credit, output written as the
 * caller's fds accept it, credit returned as it leaves our hands. */
#define G_LOG_DOMAIN "bangerd-agent"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib-unix.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "agent-client-private.h"

void
client_exec_free (ClientExec *exec)
{
  agent_client_source_clear (&exec->cancel_source);
  agent_client_source_clear (&exec->stdin_source);
  agent_client_fd_clear (&exec->stdin_fd);
  for (int k = 0; k < 2; k++)
    {
      agent_client_source_clear (&exec->out_source[k]);
      agent_client_fd_clear (&exec->out_fd[k]);
      g_queue_clear_full (&exec->out_pending[k], (GDestroyNotify) g_bytes_unref);
    }
  g_clear_object (&exec->task);
  g_free (exec->name);
  g_free (exec);
}

void
client_exec_return_error (ClientExec *exec, GError *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&exec->task);

  agent_client_source_clear (&exec->cancel_source);
  if (task != NULL)
    g_task_return_error (task, error);
  else
    g_error_free (error);
}

static void exec_grant (ClientExec *exec, gsize bytes);

/* Stops reading stdin and writing output; the caller's fds are closed.
 * Output not yet written is credited back, so the agent can drain the
 * command to its EXIT. */
void
client_exec_stop_io (ClientExec *exec)
{
  agent_client_source_clear (&exec->stdin_source);
  agent_client_fd_clear (&exec->stdin_fd);
  for (int k = 0; k < 2; k++)
    {
      GBytes *head;
      gsize dropped = 0;

      agent_client_source_clear (&exec->out_source[k]);
      agent_client_fd_clear (&exec->out_fd[k]);
      while ((head = g_queue_pop_head (&exec->out_pending[k])) != NULL)
        {
          dropped += g_bytes_get_size (head);
          g_bytes_unref (head);
        }
      exec_grant (exec, dropped - exec->out_offset[k]);
      exec->out_offset[k] = 0;
    }
}

/* Completes once the exit status is in and all output has been written. */
static void
exec_maybe_complete (ClientExec *exec)
{
  AgentClient *self = exec->client;

  if (!exec->exited || !g_queue_is_empty (&exec->out_pending[0])
      || !g_queue_is_empty (&exec->out_pending[1]))
    return;
  if (exec->task != NULL)
    {
      g_autoptr(GTask) task = g_steal_pointer (&exec->task);

      agent_client_source_clear (&exec->cancel_source);
      g_task_return_pointer (task, g_memdup2 (&exec->status, sizeof exec->status), g_free);
    }
  g_hash_table_remove (self->execs, GUINT_TO_POINTER (exec->id));
}

/* Reads one chunk of stdin into @buf as STDIN, or STDIN_EOF at its end;
 * FALSE once stdin is done or out of credit. *@ok is the encoder's. */
static gboolean
exec_read_stdin (ClientExec *exec, AgentWireBuf *buf, gboolean *ok)
{
  guint8 chunk[AGENT_WIRE_DATA_CHUNK];
  gsize want = MIN (sizeof chunk, exec->stdin_window);
  gssize n = read (exec->stdin_fd, chunk, want);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return TRUE;
  if (n < 0)
    g_debug ("exec %u: reading stdin: %s", exec->id, g_strerror (errno));
  if (n <= 0)
    {
      exec->stdin_done = TRUE;
      agent_client_fd_clear (&exec->stdin_fd);
      *ok = *ok && agent_wire_put_frame (buf, AGENT_MSG_STDIN_EOF, exec->id, NULL, 0);
      return FALSE;
    }
  exec->stdin_window -= (guint32) n;
  *ok = *ok && agent_wire_put_frame (buf, AGENT_MSG_STDIN, exec->id, chunk, (gsize) n);
  return exec->stdin_window > 0;
}

static gboolean
on_stdin_ready (int fd, GIOCondition condition, gpointer user_data)
{
  ClientExec *exec = user_data;
  AgentWireBuf buf = { 0 };
  gboolean ok = TRUE;
  gboolean more = exec_read_stdin (exec, &buf, &ok);

  agent_client_send_buf (exec->client, &buf, ok);
  if (more)
    return G_SOURCE_CONTINUE;
  /* Done, or out of credit until a WINDOW from the agent restarts it. */
  g_clear_pointer (&exec->stdin_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
exec_pump_stdin (ClientExec *exec)
{
  if (exec->stdin_fd < 0 || exec->stdin_done || exec->stdin_window == 0
      || exec->stdin_source != NULL || exec->client->closed)
    return;
  exec->stdin_source = g_unix_fd_source_new (exec->stdin_fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (exec->stdin_source, (GSourceFunc) (void (*) (void)) on_stdin_ready,
                         exec, NULL);
  g_source_attach (exec->stdin_source, exec->client->context);
}

/* Gives @bytes of output credit back once they have left our hands. */
static void
exec_grant (ClientExec *exec, gsize bytes)
{
  exec->out_window_used -= (guint32) bytes;
  if (bytes > 0 && !exec->exited)
    agent_client_send_u32 (exec->client, AGENT_MSG_WINDOW, exec->id, (guint32) bytes);
}

/* write() that reports EPIPE without raising SIGPIPE, which would kill
 * bangerd when a caller closes its end of an output pipe early. */
static gssize
write_no_sigpipe (int fd, const void *data, gsize len)
{
  sigset_t pipe_set, old_set, pending;
  struct timespec zero = { 0, 0 };
  gboolean was_pending;
  gssize n;
  int saved;

  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  sigpending (&pending);
  was_pending = sigismember (&pending, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, &old_set);
  n = write (fd, data, len);
  saved = errno;
  /* Swallow the SIGPIPE this write raised, not one that was there before. */
  if (n < 0 && saved == EPIPE && !was_pending)
    while (sigtimedwait (&pipe_set, NULL, &zero) < 0 && errno == EINTR)
      ;
  pthread_sigmask (SIG_SETMASK, &old_set, NULL);
  errno = saved;
  return n;
}

static gboolean
on_output_ready (int fd, GIOCondition condition, gpointer user_data)
{
  ClientExec *exec = user_data;
  int k = fd == exec->out_fd[0] ? 0 : 1;
  GBytes *head = g_queue_peek_head (&exec->out_pending[k]);
  gsize len;
  const guint8 *data = g_bytes_get_data (head, &len);
  /* A blocking fd reported writable takes PIPE_BUF bytes without
   * blocking; a nonblocking one takes what it can. */
  gsize want = MIN (len - exec->out_offset[k], exec->out_blocking[k] ? PIPE_BUF : len);
  gssize n = write_no_sigpipe (fd, data + exec->out_offset[k], want);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n < 0)
    {
      /* The reader went away: drop this output, keep the command going. */
      gsize dropped = 0;

      g_debug ("exec %u: writing output: %s", exec->id, g_strerror (errno));
      while ((head = g_queue_pop_head (&exec->out_pending[k])) != NULL)
        {
          dropped += g_bytes_get_size (head);
          g_bytes_unref (head);
        }
      exec_grant (exec, dropped - exec->out_offset[k]);
      exec->out_offset[k] = 0;
      g_clear_pointer (&exec->out_source[k], g_source_unref);
      agent_client_fd_clear (&exec->out_fd[k]);
      exec_maybe_complete (exec);
      return G_SOURCE_REMOVE;
    }
  exec->out_offset[k] += (gsize) n;
  exec_grant (exec, (gsize) n);
  if (exec->out_offset[k] == len)
    {
      g_bytes_unref (g_queue_pop_head (&exec->out_pending[k]));
      exec->out_offset[k] = 0;
    }
  if (!g_queue_is_empty (&exec->out_pending[k]))
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&exec->out_source[k], g_source_unref);
  exec_maybe_complete (exec); /* may free exec */
  return G_SOURCE_REMOVE;
}

static void
exec_pump_output (ClientExec *exec, int k)
{
  if (exec->out_source[k] != NULL || g_queue_is_empty (&exec->out_pending[k]))
    return;
  exec->out_source[k] = g_unix_fd_source_new (exec->out_fd[k], G_IO_OUT | G_IO_ERR | G_IO_HUP);
  g_source_set_callback (exec->out_source[k], (GSourceFunc) (void (*) (void)) on_output_ready,
                         exec, NULL);
  g_source_attach (exec->out_source[k], exec->client->context);
}

static void
exec_output (ClientExec *exec, int k, const guint8 *data, guint32 len)
{
  if (exec->out_fd[k] < 0)
    {
      exec_grant (exec, len);
      return;
    }
  g_queue_push_tail (&exec->out_pending[k], g_bytes_new (data, len));
  exec_pump_output (exec, k);
}

static gboolean
on_exec_cancelled (GCancellable *cancellable, gpointer user_data)
{
  ClientExec *exec = user_data;

  /* The exec stays in the table to absorb what the agent still sends for
   * it, until its EXIT. */
  agent_client_send_u32 (exec->client, AGENT_MSG_SIGNAL, exec->id, SIGKILL);
  client_exec_stop_io (exec);
  client_exec_return_error (exec, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                _("The command was cancelled")));
  return G_SOURCE_REMOVE;
}

static int
dup_or_minus_one (int fd)
{
  return fd < 0 ? -1 : fcntl (fd, F_DUPFD_CLOEXEC, 3);
}

guint32
agent_client_exec_async (AgentClient         *self,
                         const char * const  *argv,
                         const char * const  *envp,
                         const char          *cwd,
                         int                  stdin_fd,
                         int                  stdout_fd,
                         int                  stderr_fd,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  const char *no_env[] = { NULL };
  AgentWireExec request = {
    .flags = stdin_fd >= 0 ? AGENT_EXEC_FLAG_STDIN : 0,
    .cwd = (char *) (cwd ? cwd : ""),
    .argv = (char **) argv,
    .envp = (char **) (envp ? envp : no_env),
  };
  AgentWireBuf buf = { 0 };
  g_autoptr(GTask) task = NULL;
  ClientExec *exec;
  gboolean ok;

  g_return_val_if_fail (AGENT_IS_CLIENT (self), 0);
  g_return_val_if_fail (argv != NULL && argv[0] != NULL, 0);

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, agent_client_exec_async);
  if (self->closed)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                               _("The connection to the guest agent is closed"));
      return 0;
    }
  if (!agent_wire_put_exec (&buf, 0, &request))
    {
      agent_wire_buf_clear (&buf);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("The command line and environment are too long for the guest agent"));
      return 0;
    }
  agent_wire_buf_clear (&buf);

  do
    self->next_id++;
  while (self->next_id == 0 || g_hash_table_contains (self->execs, GUINT_TO_POINTER (self->next_id)));

  exec = g_new0 (ClientExec, 1);
  exec->client = self;
  exec->id = self->next_id;
  exec->name = g_strdup (argv[0]);
  exec->task = g_steal_pointer (&task);
  exec->stdin_fd = dup_or_minus_one (stdin_fd);
  exec->stdin_window = AGENT_WIRE_INITIAL_WINDOW;
  exec->out_fd[0] = dup_or_minus_one (stdout_fd);
  exec->out_fd[1] = dup_or_minus_one (stderr_fd);
  for (int k = 0; k < 2; k++)
    exec->out_blocking[k] = exec->out_fd[k] >= 0 && !(fcntl (exec->out_fd[k], F_GETFL) & O_NONBLOCK);
  g_hash_table_insert (self->execs, GUINT_TO_POINTER (exec->id), exec);

  /* What stdin already holds (or its end: /dev/null, a drained pipe whose
   * writer is gone) goes out in the same write as EXEC: one message to the
   * guest instead of two, so the agent is not woken again while it starts
   * the command. */
  ok = agent_wire_put_exec (&buf, exec->id, &request);
  if (exec->stdin_fd >= 0
      && poll (&(struct pollfd) { .fd = exec->stdin_fd, .events = POLLIN }, 1, 0) > 0)
    exec_read_stdin (exec, &buf, &ok);
  agent_client_send_buf (self, &buf, ok);
  exec_pump_stdin (exec);
  if (cancellable != NULL)
    {
      exec->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (exec->cancel_source, (GSourceFunc) (void (*) (void)) on_exec_cancelled,
                             exec, NULL);
      g_source_attach (exec->cancel_source, self->context);
    }
  return exec->id;
}

gboolean
agent_client_exec_finish (AgentClient      *self,
                          GAsyncResult     *result,
                          AgentExitStatus  *status,
                          GError          **error)
{
  g_autofree AgentExitStatus *got = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  got = g_task_propagate_pointer (G_TASK (result), error);
  if (got == NULL)
    return FALSE;
  if (status != NULL)
    *status = *got;
  return TRUE;
}

void
agent_client_signal_exec (AgentClient *self, guint32 exec_id, int signo)
{
  ClientExec *exec = g_hash_table_lookup (self->execs, GUINT_TO_POINTER (exec_id));

  g_return_if_fail (signo > 0 && signo <= 64);
  if (exec != NULL && !exec->exited)
    agent_client_send_u32 (self, AGENT_MSG_SIGNAL, exec_id, (guint32) signo);
}

/* STDOUT, STDERR, WINDOW and EXIT for one exec. */
void
client_exec_frame (AgentClient *self, const AgentWireFrame *frame)
{
  ClientExec *exec = g_hash_table_lookup (self->execs, GUINT_TO_POINTER (frame->stream));
  AgentWireExit exit_status;
  guint32 value;

  if (exec == NULL || exec->exited)
    {
      agent_client_fail (self, agent_client_protocol_error ("frame for a stream that is not running"));
      return;
    }
  switch (frame->type)
    {
    case AGENT_MSG_STDOUT:
    case AGENT_MSG_STDERR:
      exec->out_window_used += frame->length;
      if (exec->out_window_used > AGENT_WIRE_INITIAL_WINDOW)
        {
          agent_client_fail (self, agent_client_protocol_error ("output beyond the stream window"));
          return;
        }
      /* Granting happens as bytes reach the caller's fd (exec_grant). */
      exec_output (exec, frame->type == AGENT_MSG_STDERR, frame->payload, frame->length);
      break;
    case AGENT_MSG_WINDOW:
      if (!agent_wire_parse_u32 (frame, &value) || value == 0
          || (guint64) exec->stdin_window + value > AGENT_WIRE_INITIAL_WINDOW)
        {
          agent_client_fail (self, agent_client_protocol_error ("malformed WINDOW"));
          return;
        }
      exec->stdin_window += value;
      exec_pump_stdin (exec);
      break;
    case AGENT_MSG_EXIT:
      if (!agent_wire_parse_exit (frame, &exit_status))
        {
          agent_client_fail (self, agent_client_protocol_error ("malformed EXIT"));
          return;
        }
      exec->exited = TRUE;
      exec->status.exit_code = exit_status.kind == AGENT_EXIT_CODE ? (int) exit_status.value : -1;
      exec->status.signal = exit_status.kind == AGENT_EXIT_SIGNAL ? (int) exit_status.value : 0;
      exec->status.exec_errno = (int) exit_status.exec_errno;
      agent_client_source_clear (&exec->stdin_source);
      agent_client_fd_clear (&exec->stdin_fd);
      exec_maybe_complete (exec);
      break;
    default:
      agent_client_fail (self, agent_client_protocol_error ("frame type the agent must not send"));
      break;
    }
}
