/* firecracker-client.c: talks to one Firecracker's HTTP API over its unix
 * socket without blocking the main loop; every failure names the request. */
#define G_LOG_DOMAIN "bangerd-firecracker"

#include "config.h"

#include <glib/gi18n.h>
#include <gio/gunixsocketaddress.h>
#include <libsoup/soup.h>
#include <string.h>

#include "banger-error.h"
#include "firecracker-client.h"

/* Firecracker's micro_http serves at most 10 connections per process and
 * runs requests one at a time anyway; two leave room for the daemon's
 * other users of the same VM (e.g. a stats poller) without hogging it. */
#define MAX_CONNECTIONS 2
/* Firecracker listens a few ms after it starts: poll soon, then back off. */
#define WAIT_READY_FIRST_INTERVAL_MS 1
#define WAIT_READY_INTERVAL_MS 10
/* Long enough to show a reason, short enough for one line of CLI output. */
#define RAW_BODY_MAX_CHARS 200

/* libsoup 3 is used as is, no hand-written HTTP: its status-line parser
 * (soup_headers_parse_status_line) skips blanks after the code and accepts
 * an empty reason phrase, so Firecracker's "HTTP/1.1 204 \r\n" is read as
 * 204; keep-alive is HTTP/1.1's default, and a body set from GBytes goes
 * out with Content-Length, never chunked.  tests/vm pins all three against
 * the fake Firecracker, which replies byte for byte like micro_http. */
struct _FirecrackerClient {
  char        *socket_path;
  SoupSession *session;
  guint        request_timeout_ms;
};

FirecrackerClient *
firecracker_client_new (const char *socket_path)
{
  FirecrackerClient *client = g_rc_box_new0 (FirecrackerClient);
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (socket_path);

  client->socket_path = g_strdup (socket_path);
  client->request_timeout_ms = FIRECRACKER_CLIENT_DEFAULT_REQUEST_TIMEOUT_MS;
  /* Our own per-request timer replaces soup's second-granular "timeout". */
  client->session = soup_session_new_with_options ("remote-connectable", address,
                                                   "max-conns", MAX_CONNECTIONS,
                                                   "max-conns-per-host", MAX_CONNECTIONS,
                                                   "user-agent", "bangerd/" PACKAGE_VERSION,
                                                   NULL);
  return client;
}

static void
client_clear (gpointer mem)
{
  FirecrackerClient *client = mem;

  g_object_unref (client->session);
  g_free (client->socket_path);
}

/* Requests and waits in flight hold their own reference (GTask needs a
 * GObject to own them, and this is a plain struct), so freeing the client
 * mid-request is safe; the session goes when the last one completes. */
void
firecracker_client_free (FirecrackerClient *client)
{
  if (client == NULL)
    return;
  g_rc_box_release_full (client, client_clear);
}

static void
client_unref (gpointer client)
{
  firecracker_client_free (client);
}

const char *
firecracker_client_get_socket_path (FirecrackerClient *client)
{
  return client->socket_path;
}

guint
firecracker_client_get_request_timeout (FirecrackerClient *client)
{
  return client->request_timeout_ms;
}

void
firecracker_client_set_request_timeout (FirecrackerClient *client,
                                        guint              timeout_ms)
{
  client->request_timeout_ms = timeout_ms;
}

/* ---- one request ---- */

typedef struct {
  FirecrackerClient *client;
  char         *method;
  char         *path;
  guint         timeout_ms;
  gboolean      timed_out;
  SoupMessage  *message;
  /* What soup sees: cancelled by our timer or by the caller's cancellable. */
  GCancellable *op_cancellable;
  GCancellable *caller_cancellable;
  gulong        caller_handler;
  GSource      *timeout_source;
} RequestData;

static void
request_data_free (RequestData *data)
{
  g_clear_pointer (&data->client, client_unref);
  g_free (data->method);
  g_free (data->path);
  g_clear_object (&data->message);
  g_clear_object (&data->op_cancellable);
  g_clear_object (&data->caller_cancellable);
  g_free (data);
}

/* Breaks the task ↔ timer reference cycle and stops forwarding cancels. */
static void
request_data_settle (RequestData *data)
{
  if (data->caller_handler != 0)
    g_cancellable_disconnect (data->caller_cancellable, data->caller_handler);
  data->caller_handler = 0;
  if (data->timeout_source != NULL)
    {
      g_source_destroy (data->timeout_source);
      g_clear_pointer (&data->timeout_source, g_source_unref);
    }
}

static void
forward_cancel (GCancellable *caller,
                gpointer      op_cancellable)
{
  g_cancellable_cancel (op_cancellable);
}

static gboolean
on_request_timeout (gpointer user_data)
{
  GTask *task = user_data;
  RequestData *data = g_task_get_task_data (task);

  data->timed_out = TRUE;
  g_cancellable_cancel (data->op_cancellable);
  return G_SOURCE_REMOVE;
}

/* Firecracker's reason from an error body: {"fault_message": …} from the
 * VMM, {"error": …} from the HTTP layer; NULL for anything else. */
static char *
parse_fault (GBytes *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize size = 0;
  const char *text = body != NULL ? g_bytes_get_data (body, &size) : NULL;
  JsonNode *root;
  JsonObject *object;
  const char *keys[] = { "fault_message", "error" };

  if (size == 0 || !json_parser_load_from_data (parser, text, (gssize) size, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  object = json_node_get_object (root);
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      JsonNode *member = json_object_get_member (object, keys[i]);

      if (member != NULL && JSON_NODE_HOLDS_VALUE (member) &&
          json_node_get_value_type (member) == G_TYPE_STRING)
        {
          /* The "error" shape ends in "\nAll previous unanswered requests
           * will be dropped."; keep the message on one line. */
          char *reason = g_strdup (json_node_get_string (member));

          g_strdelimit (reason, "\r\n", ' ');
          return g_strstrip (reason);
        }
    }
  return NULL;
}

static char *
truncated_body (GBytes *body)
{
  gsize size = 0;
  const char *text = body != NULL ? g_bytes_get_data (body, &size) : NULL;
  g_autofree char *valid = NULL;

  if (size == 0)
    return g_strdup (_("(empty reply)"));
  valid = g_utf8_make_valid (text, (gssize) size);
  g_strdelimit (valid, "\r\n", ' ');
  if (g_utf8_strlen (valid, -1) <= RAW_BODY_MAX_CHARS)
    return g_steal_pointer (&valid);
  return g_strconcat (g_utf8_substring (valid, 0, RAW_BODY_MAX_CHARS), "…", NULL);
}

static void
return_reply (GTask       *task,
              RequestData *data,
              GBytes      *body)
{
  guint status = soup_message_get_status (data->message);
  gsize size = 0;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) parse_error = NULL;

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_autofree char *reason = parse_fault (body);

      if (reason != NULL)
        g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                                 _("Firecracker refused %s %s: %s"),
                                 data->method, data->path, reason);
      else
        {
          g_autofree char *raw = truncated_body (body);

          g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                                   _("Firecracker refused %s %s with HTTP status %u: %s"),
                                   data->method, data->path, status, raw);
        }
      return;
    }

  if (body != NULL)
    g_bytes_get_data (body, &size);
  if (size == 0)
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                   (gssize) size, &parse_error) ||
      json_parser_get_root (parser) == NULL)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("Firecracker answered %s %s with JSON banger cannot read: %s"),
                               data->method, data->path,
                               parse_error != NULL ? parse_error->message : _("no value"));
      return;
    }
  g_task_return_pointer (task, json_node_copy (json_parser_get_root (parser)),
                         (GDestroyNotify) json_node_unref);
}

static void
on_request_sent (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RequestData *data = g_task_get_task_data (task);
  FirecrackerClient *client = data->client;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  request_data_settle (data);

  if (body != NULL)
    return_reply (task, data, body);
  else if (data->timed_out)
    g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                             _("Firecracker did not answer %s %s within %u ms; "
                               "the VMM may be stuck (see its log)"),
                             data->method, data->path, data->timeout_ms);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                             _("Lost Firecracker's API at %s during %s %s (%s); "
                               "has the process exited?"),
                             client->socket_path, data->method, data->path,
                             error->message);
}

static void
request_start (FirecrackerClient   *client,
               const char          *method,
               const char          *path,
               JsonNode            *body,
               guint                timeout_ms,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autofree char *uri = g_strconcat ("http://localhost", path, NULL);
  RequestData *data = g_new0 (RequestData, 1);

  g_task_set_source_tag (task, request_start);
  g_task_set_task_data (task, data, (GDestroyNotify) request_data_free);
  data->client = g_rc_box_acquire (client);
  data->method = g_strdup (method);
  data->path = g_strdup (path);
  data->timeout_ms = timeout_ms;
  data->op_cancellable = g_cancellable_new ();

  data->message = soup_message_new (method, uri);
  if (data->message == NULL)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                               _("Invalid Firecracker API request %s %s"), method, path);
      return;
    }
  soup_message_headers_replace (soup_message_get_request_headers (data->message),
                                "Accept", "application/json");
  if (body != NULL)
    {
      gsize length = 0;
      char *text = json_to_string (body, FALSE);
      g_autoptr(GBytes) bytes = NULL;

      length = strlen (text);
      bytes = g_bytes_new_take (text, length);
      /* From GBytes, soup knows the length and sends Content-Length;
       * micro_http does not decode chunked bodies. */
      soup_message_set_request_body_from_bytes (data->message, "application/json", bytes);
    }

  if (cancellable != NULL)
    {
      data->caller_cancellable = g_object_ref (cancellable);
      data->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (forward_cancel),
                                                    g_object_ref (data->op_cancellable),
                                                    g_object_unref);
    }
  if (timeout_ms > 0)
    {
      data->timeout_source = g_timeout_source_new (timeout_ms);
      g_task_attach_source (task, data->timeout_source, on_request_timeout);
    }

  g_debug ("%s %s on %s", method, path, client->socket_path);
  soup_session_send_and_read_async (client->session, data->message, G_PRIORITY_DEFAULT,
                                    data->op_cancellable, on_request_sent,
                                    g_steal_pointer (&task));
}

void
firecracker_client_request_async (FirecrackerClient   *client,
                                  const char          *method,
                                  const char          *path,
                                  JsonNode            *body,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (client != NULL);
  g_return_if_fail (method != NULL && path != NULL && path[0] == '/');

  request_start (client, method, path, body, client->request_timeout_ms,
                 cancellable, callback, user_data);
}

gboolean
firecracker_client_request_finish (FirecrackerClient  *client,
                                   GAsyncResult       *result,
                                   JsonNode          **out_reply,
                                   GError            **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) reply = NULL;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == request_start, FALSE);

  reply = g_task_propagate_pointer (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (out_reply != NULL)
    *out_reply = g_steal_pointer (&reply);
  return TRUE;
}

/* ---- waiting for the API ---- */

typedef struct {
  FirecrackerClient    *client;
  guint                 timeout_ms;
  gint64                deadline_us;
  FirecrackerAliveFunc  alive;
  gpointer              alive_data;
  GError               *last_error;
  guint                 interval_ms;
} WaitData;

static void
wait_data_free (WaitData *data)
{
  g_clear_pointer (&data->client, client_unref);
  g_clear_error (&data->last_error);
  g_free (data);
}

static void wait_attempt (GTask *task);

static gboolean
on_wait_interval (gpointer user_data)
{
  wait_attempt (G_TASK (user_data));
  return G_SOURCE_REMOVE;
}

static void
on_wait_reply (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  WaitData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSource) interval = NULL;

  if (firecracker_client_request_finish (data->client, result, NULL, &error))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_clear_error (&data->last_error);
  data->last_error = g_steal_pointer (&error);

  interval = g_timeout_source_new (data->interval_ms);
  data->interval_ms = MIN (data->interval_ms * 2, WAIT_READY_INTERVAL_MS);
  g_task_attach_source (task, interval, on_wait_interval);
}

static void
wait_attempt (GTask *task)
{
  WaitData *data = g_task_get_task_data (task);
  FirecrackerClient *client = data->client;
  gint64 remaining_us = data->deadline_us - g_get_monotonic_time ();
  guint attempt_ms;

  if (g_task_return_error_if_cancelled (task))
    return;
  if (data->alive != NULL && !data->alive (data->alive_data))
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("Firecracker exited before its API at %s answered; "
                                 "see its log for why"),
                               client->socket_path);
      return;
    }
  if (remaining_us <= 0)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("Firecracker's API at %s was not ready within %u ms (%s)"),
                               client->socket_path, data->timeout_ms,
                               data->last_error != NULL ? data->last_error->message
                                                        : _("never tried"));
      return;
    }

  /* No attempt may outlive the overall deadline. */
  attempt_ms = (guint) MAX ((remaining_us + 999) / 1000, 1);
  if (client->request_timeout_ms > 0)
    attempt_ms = MIN (attempt_ms, client->request_timeout_ms);
  request_start (client, "GET", "/machine-config", NULL, attempt_ms,
                 g_task_get_cancellable (task), on_wait_reply, g_object_ref (task));
}

void
firecracker_client_wait_ready_async (FirecrackerClient    *client,
                                     guint                 timeout_ms,
                                     FirecrackerAliveFunc  alive,
                                     gpointer              alive_data,
                                     GCancellable         *cancellable,
                                     GAsyncReadyCallback   callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  WaitData *data = g_new0 (WaitData, 1);

  g_task_set_source_tag (task, firecracker_client_wait_ready_async);
  data->client = g_rc_box_acquire (client);
  data->timeout_ms = timeout_ms;
  data->interval_ms = WAIT_READY_FIRST_INTERVAL_MS;
  data->deadline_us = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  data->alive = alive;
  data->alive_data = alive_data;
  g_task_set_task_data (task, data, (GDestroyNotify) wait_data_free);
  wait_attempt (task);
}

gboolean
firecracker_client_wait_ready_finish (FirecrackerClient  *client,
                                      GAsyncResult       *result,
                                      GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        firecracker_client_wait_ready_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
