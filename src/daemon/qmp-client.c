/* qmp-client.c: one reader loop per connection reads qemu's lines (one JSON
 * object each, "\r\n"-terminated); replies are matched to their command by
 * id, events go to the event function, and writes are queued so only one
 * is ever pending on the stream. */
#define G_LOG_DOMAIN "bangerd-qemu"

#include "config.h"

#include <string.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "qmp-client.h"

/* A qemu line is small; a longer one is not QMP. */
#define MAX_LINE_BYTES (1024 * 1024)
/* qemu greets at once; a socket that accepts and stays silent is stuck. */
#define NEGOTIATION_TIMEOUT_MS 10000

struct _QmpClient {
  GObject             parent_instance;
  GSocketConnection  *connection;
  GDataInputStream   *input;
  GCancellable       *cancellable;   /* the reader's and writer's */
  GHashTable         *pending;       /* id → GTask */
  GQueue              writes;        /* GBytes */
  gboolean            writing;
  guint64             next_id;
  GTask              *connect_task;  /* until capabilities are negotiated */
  GSource            *connect_timeout;
  gboolean            closed;
  QmpEventFunc        event_func;
  gpointer            event_data;
};

G_DEFINE_TYPE (QmpClient, qmp_client, G_TYPE_OBJECT)

typedef struct {
  char         *command;
  char         *id;
  GCancellable *cancellable;
  gulong        cancelled_id;
} Pending;

static void
pending_free (Pending *pending)
{
  g_free (pending->command);
  g_free (pending->id);
  g_clear_object (&pending->cancellable);
  g_free (pending);
}

/* Called before a waiting command's task returns. */
static void
pending_settle (GTask *task)
{
  Pending *pending = g_task_get_task_data (task);

  if (pending->cancelled_id != 0)
    g_cancellable_disconnect (pending->cancellable, pending->cancelled_id);
  pending->cancelled_id = 0;
}

static void
stop_connect_timeout (QmpClient *self)
{
  if (self->connect_timeout != NULL)
    {
      g_source_destroy (self->connect_timeout);
      g_clear_pointer (&self->connect_timeout, g_source_unref);
    }
}

/* Async callbacks hold the client weakly: a client the caller dropped is
 * finalized even while a read is pending on its socket. */
static GWeakRef *
weak_new (QmpClient *self)
{
  GWeakRef *weak = g_new0 (GWeakRef, 1);

  g_weak_ref_init (weak, self);
  return weak;
}

static QmpClient *
weak_take (GWeakRef *weak)
{
  QmpClient *self = g_weak_ref_get (weak);

  g_weak_ref_clear (weak);
  g_free (weak);
  return self;
}

static void
fail_pending (QmpClient    *self,
              const GError *reason)
{
  g_autoptr(GList) tasks = g_hash_table_get_values (self->pending);

  g_hash_table_steal_all (self->pending);
  for (GList *l = tasks; l != NULL; l = l->next)
    {
      GTask *task = l->data;
      Pending *pending = g_task_get_task_data (task);

      pending_settle (task);
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("QEMU's QMP connection ended before it answered “%s”: %s"),
                               pending->command, reason->message);
      g_object_unref (task);
    }
  stop_connect_timeout (self);
  if (self->connect_task != NULL)
    {
      GTask *task = g_steal_pointer (&self->connect_task);

      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("QEMU's QMP connection ended before negotiation: %s"),
                               reason->message);
      g_object_unref (task);
    }
}

static void
close_with (QmpClient    *self,
            const GError *reason)
{
  if (self->closed)
    return;
  self->closed = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_queue_clear_full (&self->writes, (GDestroyNotify) g_bytes_unref);
  if (self->connection != NULL)
    g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);
  fail_pending (self, reason);
}

void
qmp_client_close (QmpClient *self)
{
  g_autoptr(GError) reason = g_error_new_literal (BANGER_ERROR, BANGER_ERROR_FAILED,
                                                  _("the connection was closed"));

  close_with (self, reason);
}

gboolean
qmp_client_is_closed (QmpClient *self)
{
  return self->closed;
}

/* ---- writing ---------------------------------------------------------------- */

static void write_next (QmpClient *self);

/* The bytes being written stay alive until the write completes, even when
 * the client is gone by then. */
typedef struct {
  GWeakRef *weak;
  GBytes   *bytes;
} WriteOp;

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  WriteOp *op = user_data;
  g_autoptr(QmpClient) self = weak_take (op->weak);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error);

  g_bytes_unref (op->bytes);
  g_free (op);
  if (self == NULL || self->closed)
    return;
  if (!ok)
    {
      close_with (self, error);
      return;
    }
  self->writing = FALSE;
  write_next (self);
}

static void
write_next (QmpClient *self)
{
  WriteOp *op;
  gsize size;
  const void *data;

  if (self->writing || self->closed || g_queue_is_empty (&self->writes))
    return;
  op = g_new0 (WriteOp, 1);
  op->weak = weak_new (self);
  op->bytes = g_queue_pop_head (&self->writes);
  data = g_bytes_get_data (op->bytes, &size);
  self->writing = TRUE;
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (self->connection)),
                                   data, size, G_PRIORITY_DEFAULT, self->cancellable,
                                   on_written, op);
}

static void
send_command (QmpClient  *self,
              const char *command,
              JsonObject *arguments,
              const char *id)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  char *line;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "execute");
  json_builder_add_string_value (builder, command);
  if (arguments != NULL)
    {
      JsonNode *node = json_node_new (JSON_NODE_OBJECT);

      json_node_set_object (node, arguments);
      json_builder_set_member_name (builder, "arguments");
      json_builder_add_value (builder, node);
    }
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  line = g_strconcat (text, "\n", NULL);
  g_queue_push_tail (&self->writes, g_bytes_new_take (line, strlen (line)));
  write_next (self);
}

/* ---- reading ---------------------------------------------------------------- */

static void read_next (QmpClient *self);

static void
on_capabilities (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  QmpClient *self = QMP_CLIENT (source);
  g_autoptr(JsonNode) reply = NULL;
  GError *error = NULL;
  GTask *task = g_steal_pointer (&self->connect_task);

  stop_connect_timeout (self);
  if (task == NULL)
    return;     /* failed already, when the connection ended */
  reply = qmp_client_execute_finish (self, result, &error);
  if (reply == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_object_ref (self), g_object_unref);
  g_object_unref (task);
}

static void
handle_reply (QmpClient  *self,
              JsonObject *object)
{
  const char *id = NULL;
  JsonNode *id_node = json_object_get_member (object, "id");
  GTask *task;
  Pending *pending;

  if (id_node != NULL && JSON_NODE_HOLDS_VALUE (id_node) &&
      json_node_get_value_type (id_node) == G_TYPE_STRING)
    id = json_node_get_string (id_node);
  if (id == NULL || !g_hash_table_steal_extended (self->pending, id, NULL, (gpointer *) &task))
    {
      /* A command cancelled while qemu was still working on it. */
      g_debug ("QMP reply for no waiting command (id %s)", id != NULL ? id : "none");
      return;
    }
  pending = g_task_get_task_data (task);
  pending_settle (task);
  if (g_task_return_error_if_cancelled (task))
    ;
  else if (json_object_has_member (object, "return"))
    g_task_return_pointer (task, json_node_copy (json_object_get_member (object, "return")),
                           (GDestroyNotify) json_node_unref);
  else
    {
      JsonNode *err = json_object_get_member (object, "error");
      const char *desc = NULL;

      if (err != NULL && JSON_NODE_HOLDS_OBJECT (err))
        desc = json_object_get_string_member_with_default (json_node_get_object (err),
                                                           "desc", NULL);
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("QEMU refused “%s”: %s"), pending->command,
                               desc != NULL ? desc : _("no reason given"));
    }
  g_object_unref (task);
}

static gboolean
handle_line (QmpClient   *self,
             const char  *line,
             GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *object;
  JsonNode *root;

  if (!json_parser_load_from_data (parser, line, -1, error))
    return FALSE;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, _("not a JSON object"));
      return FALSE;
    }
  object = json_node_get_object (root);
  if (json_object_has_member (object, "QMP"))
    {
      if (self->connect_task == NULL)
        return TRUE;
      qmp_client_execute_async (self, "qmp_capabilities", NULL, NULL, on_capabilities, NULL);
    }
  else if (json_object_has_member (object, "event"))
    {
      JsonNode *data = json_object_get_member (object, "data");
      const char *event = json_object_get_string_member_with_default (object, "event", "");

      g_debug ("QMP event %s", event);
      if (self->event_func != NULL)
        self->event_func (self, event,
                          data != NULL && JSON_NODE_HOLDS_OBJECT (data)
                            ? json_node_get_object (data) : NULL,
                          self->event_data);
    }
  else if (json_object_has_member (object, "return") || json_object_has_member (object, "error"))
    handle_reply (self, object);
  else
    g_debug ("Ignoring a QMP message that is neither reply nor event");
  return TRUE;
}

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(QmpClient) self = weak_take (user_data);
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  gsize length = 0;

  line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result,
                                               &length, &error);
  if (self == NULL || self->closed)
    return;
  if (line == NULL && error == NULL)
    error = g_error_new_literal (BANGER_ERROR, BANGER_ERROR_FAILED,
                                 _("QEMU closed the connection"));
  else if (line != NULL && length > MAX_LINE_BYTES)
    error = g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                         _("QEMU sent a line longer than %u bytes"), (guint) MAX_LINE_BYTES);
  if (error != NULL)
    {
      close_with (self, error);
      return;
    }
  g_strchomp (line);
  if (line[0] != '\0' && !handle_line (self, line, &error))
    {
      g_prefix_error (&error, _("QEMU sent something that is not QMP: "));
      close_with (self, error);
      return;
    }
  read_next (self);
}

static void
read_next (QmpClient *self)
{
  if (self->closed)
    return;
  g_data_input_stream_read_line_async (self->input, G_PRIORITY_DEFAULT, self->cancellable,
                                       on_line, weak_new (self));
}

/* ---- the object --------------------------------------------------------------- */

static void
qmp_client_dispose (GObject *object)
{
  QmpClient *self = QMP_CLIENT (object);

  qmp_client_close (self);
  g_clear_object (&self->input);
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (qmp_client_parent_class)->dispose (object);
}

static void
qmp_client_finalize (GObject *object)
{
  QmpClient *self = QMP_CLIENT (object);

  g_hash_table_unref (self->pending);
  g_object_unref (self->cancellable);
  G_OBJECT_CLASS (qmp_client_parent_class)->finalize (object);
}

static void
qmp_client_class_init (QmpClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = qmp_client_dispose;
  object_class->finalize = qmp_client_finalize;
}

static void
qmp_client_init (QmpClient *self)
{
  /* Keyed by the id its Pending owns. */
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->cancellable = g_cancellable_new ();
  g_queue_init (&self->writes);
}

void
qmp_client_set_event_func (QmpClient    *self,
                           QmpEventFunc  func,
                           gpointer      user_data)
{
  self->event_func = func;
  self->event_data = user_data;
}

/* The reply may still come; it is then dropped as one for no command. */
static gboolean
cancel_in_idle (gpointer user_data)
{
  GTask *task = user_data;
  QmpClient *self = g_task_get_source_object (task);
  Pending *pending = g_task_get_task_data (task);
  GTask *stolen = NULL;

  if (g_hash_table_steal_extended (self->pending, pending->id, NULL, (gpointer *) &stolen))
    {
      pending_settle (stolen);
      g_task_return_error_if_cancelled (stolen);
      g_object_unref (stolen);
    }
  return G_SOURCE_REMOVE;
}

/* From whatever thread cancelled: the work happens in the task's context. */
static void
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  GTask *task = user_data;
  GSource *idle = g_idle_source_new ();

  g_source_set_callback (idle, cancel_in_idle, g_object_ref (task), g_object_unref);
  g_source_attach (idle, g_task_get_context (task));
  g_source_unref (idle);
}

void
qmp_client_execute_async (QmpClient           *self,
                          const char          *command,
                          JsonObject          *arguments,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  Pending *pending = g_new0 (Pending, 1);

  g_task_set_source_tag (task, qmp_client_execute_async);
  pending->command = g_strdup (command);
  g_task_set_task_data (task, pending, (GDestroyNotify) pending_free);
  if (self->closed)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("Cannot send “%s”: the QMP connection is closed"), command);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;
  pending->id = g_strdup_printf ("banger-%" G_GUINT64_FORMAT, ++self->next_id);
  send_command (self, command, arguments, pending->id);
  if (cancellable != NULL)
    {
      pending->cancellable = g_object_ref (cancellable);
      pending->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled),
                                                     task, NULL);
    }
  g_hash_table_insert (self->pending, pending->id, g_steal_pointer (&task));
}

JsonNode *
qmp_client_execute_finish (QmpClient     *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The client is alive while it is negotiating: the connect task holds it. */
static gboolean
on_negotiation_timeout (gpointer user_data)
{
  QmpClient *self = user_data;
  g_autoptr(GError) reason = g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                          _("no greeting and negotiation within %u ms"),
                                          NEGOTIATION_TIMEOUT_MS);

  g_clear_pointer (&self->connect_timeout, g_source_unref);   /* destroyed by returning */
  close_with (self, reason);
  return G_SOURCE_REMOVE;
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  QmpClient *self = g_task_get_task_data (task);
  GError *error = NULL;

  self->connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  if (self->connection == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  self->input = g_data_input_stream_new (
    g_io_stream_get_input_stream (G_IO_STREAM (self->connection)));
  g_data_input_stream_set_newline_type (self->input, G_DATA_STREAM_NEWLINE_TYPE_LF);
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (self->input), FALSE);
  self->connect_task = g_steal_pointer (&task);
  self->connect_timeout = g_timeout_source_new (NEGOTIATION_TIMEOUT_MS);
  g_source_set_callback (self->connect_timeout, on_negotiation_timeout, self, NULL);
  g_source_attach (self->connect_timeout, g_main_context_get_thread_default ());
  read_next (self);
}

void
qmp_client_connect_async (const char          *socket_path,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (socket_path);
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, qmp_client_connect_async);
  g_task_set_task_data (task, g_object_new (QMP_TYPE_CLIENT, NULL), g_object_unref);
  g_socket_client_connect_async (socket_client, G_SOCKET_CONNECTABLE (address), cancellable,
                                 on_connected, task);
}

QmpClient *
qmp_client_connect_finish (GAsyncResult  *result,
                           GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
