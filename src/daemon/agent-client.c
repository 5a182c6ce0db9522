/* agent-client.c: one connection to the guest agent: frames out through a
 * write queue, frames in through a read loop, HELLO, POWEROFF, and failing
 * everything pending when the connection ends. Execs: agent-client-exec.c. */
#define G_LOG_DOMAIN "bangerd-agent"

#include "config.h"

#include <glib/gi18n.h>
#include <unistd.h>

#include "agent-client-private.h"

/* A HELLO or POWEROFF waiting for its answer. Answers come in order, so a
 * cancelled request stays queued (done) to absorb its answer. */
typedef struct {
  GTask *task;
  GSource *cancel_source;
  gboolean done;
} Pending;

enum { SIGNAL_CLOSED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (AgentClient, agent_client, G_TYPE_OBJECT)

void
agent_guest_info_free (AgentGuestInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->kernel_release);
  g_free (info->hostname);
  g_free (info);
}

void
agent_client_source_clear (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

void
agent_client_fd_clear (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

/* --- writing frames ------------------------------------------------------ */

static void write_next (AgentClient *self);

static void
on_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(AgentClient) self = user_data;
  g_autoptr(GError) error = NULL;

  self->writing = FALSE;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      agent_client_fail (self, g_steal_pointer (&error));
      return;
    }
  write_next (self);
}

static void
write_next (AgentClient *self)
{
  g_autoptr(GByteArray) batch = NULL;
  GBytes *bytes;

  if (self->writing || self->closed || g_queue_is_empty (&self->write_queue))
    return;
  /* Many small frames (WINDOW grants) go out in one write. */
  batch = g_byte_array_new ();
  while ((bytes = g_queue_pop_head (&self->write_queue)) != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);

      g_byte_array_append (batch, data, (guint) len);
      g_bytes_unref (bytes);
      if (batch->len >= READ_CHUNK)
        break;
    }
  self->writing = TRUE;
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&batch));
  g_output_stream_write_all_async (g_io_stream_get_output_stream (self->stream),
                                   g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                   G_PRIORITY_DEFAULT, self->cancellable, on_written,
                                   g_object_ref (self));
  /* The data must outlive the write: keep it on the operation's object. */
  g_object_set_data_full (G_OBJECT (self), "agent-client-writing", bytes,
                          (GDestroyNotify) g_bytes_unref);
}

/* Queues the frames in @buf (which is emptied). */
void
agent_client_send_buf (AgentClient *self, AgentWireBuf *buf, gboolean ok)
{
  if (!ok)
    g_error ("agent-client: cannot encode a frame"); /* only OOM or a caller bug */
  if (!self->closed && buf->len > 0)
    {
      g_queue_push_tail (&self->write_queue, g_bytes_new (buf->data, buf->len));
      write_next (self);
    }
  agent_wire_buf_clear (buf);
}

void
agent_client_send_u32 (AgentClient *self, guint8 type, guint32 stream, guint32 value)
{
  AgentWireBuf buf = { 0 };

  agent_client_send_buf (self, &buf, agent_wire_put_u32 (&buf, type, stream, value));
}

/* --- HELLO and POWEROFF -------------------------------------------------- */

static void
pending_free (Pending *pending)
{
  agent_client_source_clear (&pending->cancel_source);
  g_clear_object (&pending->task);
  g_free (pending);
}

static gboolean
on_pending_cancelled (GCancellable *cancellable, gpointer user_data)
{
  Pending *pending = user_data;

  pending->done = TRUE;
  g_clear_pointer (&pending->cancel_source, g_source_unref);
  g_task_return_error_if_cancelled (pending->task);
  return G_SOURCE_REMOVE;
}

static void
pending_start (AgentClient *self, GQueue *queue, GTask *task, GCancellable *cancellable)
{
  Pending *pending = g_new0 (Pending, 1);

  pending->task = g_object_ref (task);
  if (cancellable != NULL)
    {
      pending->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (pending->cancel_source,
                             (GSourceFunc) (void (*) (void)) on_pending_cancelled, pending, NULL);
      g_source_attach (pending->cancel_source, self->context);
    }
  g_queue_push_tail (queue, pending);
}

/* Pops the oldest request; NULL when the answer was not asked for. */
static GTask *
pending_pop (GQueue *queue)
{
  Pending *pending = g_queue_pop_head (queue);
  GTask *task = NULL;

  if (pending == NULL)
    return NULL;
  if (!pending->done)
    task = g_steal_pointer (&pending->task);
  pending_free (pending);
  return task;
}

void
agent_client_hello_async (AgentClient         *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  AgentWireHello hello = { .version = AGENT_WIRE_VERSION };
  AgentWireBuf buf = { 0 };

  g_task_set_source_tag (task, agent_client_hello_async);
  if (self->closed)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                               _("The connection to the guest agent is closed"));
      return;
    }
  pending_start (self, &self->hellos, task, cancellable);
  agent_client_send_buf (self, &buf, agent_wire_put_hello (&buf, &hello));
}

AgentGuestInfo *
agent_client_hello_finish (AgentClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
agent_client_poweroff_async (AgentClient         *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  AgentWireBuf buf = { 0 };

  g_task_set_source_tag (task, agent_client_poweroff_async);
  if (self->closed)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                               _("The connection to the guest agent is closed"));
      return;
    }
  pending_start (self, &self->poweroffs, task, cancellable);
  agent_client_send_buf (self, &buf, agent_wire_put_frame (&buf, AGENT_MSG_POWEROFF, 0, NULL, 0));
}

gboolean
agent_client_poweroff_finish (AgentClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- reading frames ------------------------------------------------------ */

GError *
agent_client_protocol_error (const char *what)
{
  return g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                      _("The guest agent broke the protocol: %s"), what);
}

static void
handle_hello (AgentClient *self, const AgentWireFrame *frame)
{
  AgentWireHello hello;
  g_autoptr(GTask) task = NULL;
  AgentGuestInfo *info;

  if (!agent_wire_parse_hello (frame, &hello))
    {
      agent_client_fail (self, agent_client_protocol_error ("malformed HELLO"));
      return;
    }
  task = pending_pop (&self->hellos);
  if (task != NULL)
    {
      info = g_new0 (AgentGuestInfo, 1);
      info->protocol_version = hello.version;
      info->kernel_release = g_strdup (hello.kernel_release);
      info->hostname = g_strdup (hello.hostname);
      info->uptime_ms = hello.uptime_ms;
      g_task_return_pointer (task, info, (GDestroyNotify) agent_guest_info_free);
    }
  agent_wire_hello_clear (&hello);
}

static void
handle_error (AgentClient *self, const AgentWireFrame *frame)
{
  AgentWireError err;
  ClientExec *exec;

  if (!agent_wire_parse_error (frame, &err))
    {
      agent_client_fail (self, agent_client_protocol_error ("malformed ERROR"));
      return;
    }
  if (frame->stream == 0)
    {
      /* The agent drops the connection after a connection-level error. */
      agent_client_fail (self, g_error_new (G_IO_ERROR, err.code == AGENT_ERR_VERSION
                                                  ? G_IO_ERROR_NOT_SUPPORTED : G_IO_ERROR_FAILED,
                                      _("The guest agent refused the connection: %s"),
                                      err.message));
    }
  else if ((exec = g_hash_table_lookup (self->execs, GUINT_TO_POINTER (frame->stream))) != NULL)
    {
      client_exec_stop_io (exec);
      client_exec_return_error (exec, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
                                            _("The guest could not run “%s”: %s"),
                                            exec->name, err.message));
      g_hash_table_remove (self->execs, GUINT_TO_POINTER (frame->stream));
    }
  agent_wire_error_clear (&err);
}

static void
handle_frame (AgentClient *self, const AgentWireFrame *frame)
{
  g_autoptr(GTask) task = NULL;

  switch (frame->type)
    {
    case AGENT_MSG_HELLO:
      handle_hello (self, frame);
      break;
    case AGENT_MSG_PONG:
      break;
    case AGENT_MSG_ERROR:
      handle_error (self, frame);
      break;
    case AGENT_MSG_POWEROFF_ACK:
      task = pending_pop (&self->poweroffs);
      if (task != NULL)
        g_task_return_boolean (task, TRUE);
      break;
    case AGENT_MSG_STDOUT:
    case AGENT_MSG_STDERR:
    case AGENT_MSG_WINDOW:
    case AGENT_MSG_EXIT:
      /* Output may still arrive for a cancelled exec, or for one we
       * stopped writing: it counts against the window all the same. */
      client_exec_frame (self, frame);
      break;
    default:
      agent_client_fail (self, agent_client_protocol_error ("frame type the agent must not send"));
      break;
    }
}

static void read_next (AgentClient *self);

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(AgentClient) self = user_data;
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  gsize offset = 0;

  if (n < 0)
    {
      agent_client_fail (self, g_steal_pointer (&error));
      return;
    }
  if (n == 0)
    {
      agent_client_fail (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                              _("The guest agent closed the connection")));
      return;
    }
  g_byte_array_append (self->inbuf, self->read_chunk, (guint) n);
  while (!self->closed)
    {
      AgentWireFrame frame;
      gsize used;
      const char *why = NULL;
      AgentWireStatus status = agent_wire_decode (self->inbuf->data + offset,
                                                  self->inbuf->len - offset, &frame, &used, &why);

      if (status == AGENT_WIRE_NEED_MORE)
        break;
      if (status != AGENT_WIRE_FRAME)
        {
          agent_client_fail (self, agent_client_protocol_error (why));
          return;
        }
      offset += used;
      handle_frame (self, &frame);
    }
  if (self->closed)
    return;
  g_byte_array_remove_range (self->inbuf, 0, (guint) offset);
  read_next (self);
}

static void
read_next (AgentClient *self)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (self->stream), self->read_chunk,
                             READ_CHUNK, G_PRIORITY_DEFAULT, self->cancellable, on_read,
                             g_object_ref (self));
}

/* --- lifetime ------------------------------------------------------------ */

static void
on_stream_closed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(AgentClient) self = user_data;

  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
}

/* Ends the connection once: everything pending fails with @error, then
 * "closed" is emitted. Takes @error. */
void
agent_client_fail (AgentClient *self, GError *error)
{
  g_autoptr(GError) reason = error;
  g_autoptr(GError) closed = NULL;
  g_autoptr(GList) execs = NULL;
  Pending *pending;

  if (self->closed)
    return;
  g_object_ref (self);
  self->closed = TRUE;
  g_debug ("agent connection closed: %s", reason->message);
  if (g_error_matches (reason, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
    closed = g_error_copy (reason);
  else
    closed = g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                          _("The connection to the guest agent was lost: %s"), reason->message);

  g_cancellable_cancel (self->cancellable);
  g_queue_clear_full (&self->write_queue, (GDestroyNotify) g_bytes_unref);
  while ((pending = g_queue_pop_head (&self->hellos)) != NULL
         || (pending = g_queue_pop_head (&self->poweroffs)) != NULL)
    {
      if (!pending->done)
        g_task_return_error (pending->task, g_error_copy (closed));
      pending_free (pending);
    }
  execs = g_hash_table_get_values (self->execs);
  for (GList *l = execs; l != NULL; l = l->next)
    {
      ClientExec *exec = l->data;

      client_exec_stop_io (exec);
      client_exec_return_error (exec, g_error_copy (closed));
    }
  g_hash_table_remove_all (self->execs);
  if (!self->closing_stream)
    {
      self->closing_stream = TRUE;
      g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, on_stream_closed,
                               g_object_ref (self));
    }
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0, closed);
  g_object_unref (self);
}

void
agent_client_close (AgentClient *self)
{
  g_return_if_fail (AGENT_IS_CLIENT (self));
  agent_client_fail (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                          _("The connection to the guest agent was closed")));
}

gboolean
agent_client_is_closed (AgentClient *self)
{
  return self->closed;
}

static void
agent_client_finalize (GObject *object)
{
  AgentClient *self = AGENT_CLIENT (object);

  g_hash_table_unref (self->execs);
  g_queue_clear_full (&self->write_queue, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&self->hellos, (GDestroyNotify) pending_free);
  g_queue_clear_full (&self->poweroffs, (GDestroyNotify) pending_free);
  g_byte_array_unref (self->inbuf);
  g_free (self->read_chunk);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->stream);
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (agent_client_parent_class)->finalize (object);
}

static void
agent_client_class_init (AgentClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = agent_client_finalize;

  /* AgentClient::closed: (GError *reason) the connection ended; all pending
   * operations have already failed with it. */
  signals[SIGNAL_CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
agent_client_init (AgentClient *self)
{
  self->execs = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) client_exec_free);
  self->inbuf = g_byte_array_new ();
  self->read_chunk = g_malloc (READ_CHUNK);
  self->cancellable = g_cancellable_new ();
  self->context = g_main_context_ref_thread_default ();
}

AgentClient *
agent_client_new (GIOStream *stream)
{
  AgentClient *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);
  self = g_object_new (AGENT_TYPE_CLIENT, NULL);
  self->stream = g_object_ref (stream);
  read_next (self);
  return self;
}
