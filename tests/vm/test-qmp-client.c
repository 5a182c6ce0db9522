/* test-qmp-client.c: bangerd's QMP client against a fake QMP server on a
 * unix socket, run by a thread of this test: the greeting, capabilities
 * negotiation, replies matched by id (also out of order), error replies,
 * events before a reply, and a server that goes away mid-command. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "qmp-client.h"

typedef enum {
  GREETING_QMP,
  GREETING_GARBAGE,
} Greeting;

typedef struct {
  char     *dir;
  char     *path;
  int       listen_fd;
  GThread  *server;
  Greeting  greeting;
  char     *last_id;        /* the capabilities command's id, checked */
  GPtrArray *events;        /* names seen by the client, main thread */
} Fixture;

/* ---- the fake server (its own thread, blocking sockets) ----------------- */

static char *
server_read_line (int fd)
{
  GString *line = g_string_new (NULL);
  char c;

  while (read (fd, &c, 1) == 1)
    {
      if (c == '\n')
        return g_string_free (line, FALSE);
      g_string_append_c (line, c);
    }
  g_string_free (line, TRUE);
  return NULL;
}

static void
server_send (int         fd,
             const char *format,
             ...) G_GNUC_PRINTF (2, 3);

static void
server_send (int         fd,
             const char *format,
             ...)
{
  va_list args;
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  line = g_strconcat (text, "\r\n", NULL);   /* qemu ends lines so */
  /* A client that has what it waited for may be gone already (EPIPE);
   * the client side checks what arrived. */
  if (write (fd, line, strlen (line)) < 0)
    g_assert_cmpint (errno, ==, EPIPE);
}

/* The command's name, id and optional "value" argument. */
static gboolean
server_read_command (int    fd,
                     char **command,
                     char **id,
                     char **value)
{
  g_autofree char *line = server_read_line (fd);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *object, *args;

  if (line == NULL)
    return FALSE;
  g_assert_true (json_parser_load_from_data (parser, line, -1, NULL));
  object = json_node_get_object (json_parser_get_root (parser));
  *command = g_strdup (json_object_get_string_member (object, "execute"));
  *id = g_strdup (json_object_get_string_member (object, "id"));
  args = json_object_has_member (object, "arguments")
           ? json_object_get_object_member (object, "arguments") : NULL;
  *value = args != NULL ? g_strdup (json_object_get_string_member_with_default (args, "value", ""))
                        : g_strdup ("");
  return TRUE;
}

static gpointer
server_main (gpointer user_data)
{
  Fixture *f = user_data;
  int fd = accept (f->listen_fd, NULL, NULL);
  char *held_id = NULL;

  g_assert_cmpint (fd, >=, 0);
  if (f->greeting == GREETING_GARBAGE)
    {
      server_send (fd, "this is not QMP");
      goto out;
    }
  server_send (fd, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
                   "\"major\": 7}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}");
  for (;;)
    {
      g_autofree char *command = NULL;
      g_autofree char *id = NULL;
      g_autofree char *value = NULL;

      if (!server_read_command (fd, &command, &id, &value))
        break;
      if (g_str_equal (command, "qmp_capabilities"))
        server_send (fd, "{\"return\": {}, \"id\": \"%s\"}", id);
      else if (g_str_equal (command, "echo"))
        server_send (fd, "{\"return\": {\"value\": \"%s\"}, \"id\": \"%s\"}", value, id);
      else if (g_str_equal (command, "query-status"))
        {
          /* An event before the reply, as qemu sends them. */
          server_send (fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
                           "\"event\": \"POWERDOWN\"}");
          server_send (fd, "{\"return\": {\"status\": \"running\", \"running\": true}, "
                           "\"id\": \"%s\"}", id);
        }
      else if (g_str_equal (command, "hold"))
        held_id = g_steal_pointer (&id);     /* answered after the next one */
      else if (g_str_equal (command, "vanish"))
        break;
      else
        server_send (fd, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                         "\"The command %s has not been found\"}, \"id\": \"%s\"}", command, id);
      if (held_id != NULL && !g_str_equal (command, "hold"))
        {
          server_send (fd, "{\"return\": {\"value\": \"held\"}, \"id\": \"%s\"}", held_id);
          g_clear_pointer (&held_id, g_free);
        }
    }
out:
  g_free (held_id);
  close (fd);
  return NULL;
}

/* ---- the fixture ---------------------------------------------------------- */

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };

  f->greeting = GPOINTER_TO_INT (data);
  f->dir = g_dir_make_tmp ("banger-qmp-XXXXXX", NULL);
  f->path = g_build_filename (f->dir, "qmp.sock", NULL);
  f->events = g_ptr_array_new_with_free_func (g_free);
  g_strlcpy (addr.sun_path, f->path, sizeof addr.sun_path);
  f->listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (bind (f->listen_fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (f->listen_fd, 1), ==, 0);
  f->server = g_thread_new ("fake-qmp", server_main, f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_thread_join (f->server);
  close (f->listen_fd);
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
  g_free (f->last_id);
  g_ptr_array_unref (f->events);
}

static void
on_result (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static QmpClient *
connect_client (Fixture  *f,
                GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  qmp_client_connect_async (f->path, NULL, on_result, &result);
  return qmp_client_connect_finish (wait_result (&result), error);
}

static JsonNode *
execute (QmpClient   *client,
         const char  *command,
         const char  *value,
         GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(JsonObject) args = NULL;

  if (value != NULL)
    {
      args = json_object_new ();
      json_object_set_string_member (args, "value", value);
    }
  qmp_client_execute_async (client, command, args, NULL, on_result, &result);
  return qmp_client_execute_finish (client, wait_result (&result), error);
}

static void
on_event (QmpClient  *client,
          const char *event,
          JsonObject *data,
          gpointer    user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->events, g_strdup (event));
}

/* ---- the tests -------------------------------------------------------------- */

static void
test_negotiate_and_execute (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmpClient) client = connect_client (f, &error);
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(JsonNode) echo = NULL;

  g_assert_no_error (error);
  qmp_client_set_event_func (client, on_event, f);
  reply = execute (client, "query-status", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (reply), "status"), ==,
                   "running");
  /* The event came first and went to the event function, not the reply. */
  g_assert_cmpuint (f->events->len, ==, 1);
  g_assert_cmpstr (f->events->pdata[0], ==, "POWERDOWN");

  echo = execute (client, "echo", "hello world", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (echo), "value"), ==,
                   "hello world");
  qmp_client_close (client);
  g_assert_true (qmp_client_is_closed (client));
}

static void
test_error_reply (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmpClient) client = connect_client (f, &error);
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(JsonNode) after = NULL;

  g_assert_no_error (error);
  reply = execute (client, "no-such-command", NULL, &error);
  g_assert_null (reply);
  g_assert_nonnull (error);
  /* Names the command and carries qemu's desc. */
  g_assert_nonnull (strstr (error->message, "no-such-command"));
  g_assert_nonnull (strstr (error->message, "The command no-such-command has not been found"));
  g_clear_error (&error);
  /* The connection stays usable after an error reply. */
  after = execute (client, "echo", "still here", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (after), "value"), ==,
                   "still here");
}

static void
test_out_of_order (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmpClient) client = connect_client (f, &error);
  g_autoptr(GAsyncResult) held = NULL;
  g_autoptr(GAsyncResult) quick = NULL;
  g_autoptr(JsonNode) held_reply = NULL;
  g_autoptr(JsonNode) quick_reply = NULL;
  g_autoptr(JsonObject) args = json_object_new ();

  g_assert_no_error (error);
  json_object_set_string_member (args, "value", "quick");
  /* Both in flight at once; the server answers the second first. */
  qmp_client_execute_async (client, "hold", NULL, NULL, on_result, &held);
  qmp_client_execute_async (client, "echo", args, NULL, on_result, &quick);
  wait_result (&quick);
  wait_result (&held);
  quick_reply = qmp_client_execute_finish (client, quick, &error);
  g_assert_no_error (error);
  held_reply = qmp_client_execute_finish (client, held, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (quick_reply), "value"),
                   ==, "quick");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (held_reply), "value"),
                   ==, "held");
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmpClient) client = connect_client (f, &error);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) held = NULL;
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(JsonNode) after = NULL;

  g_assert_no_error (error);
  /* The server sits on "hold": cancelling ends the wait at once. */
  qmp_client_execute_async (client, "hold", NULL, cancellable, on_result, &held);
  g_cancellable_cancel (cancellable);
  reply = qmp_client_execute_finish (client, wait_result (&held), &error);
  g_assert_null (reply);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  /* The late reply to the cancelled command is dropped; others work. */
  after = execute (client, "echo", "after", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (after), "value"), ==,
                   "after");
}

static void
test_server_closes_mid_command (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmpClient) client = connect_client (f, &error);
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(JsonNode) later = NULL;

  g_assert_no_error (error);
  reply = execute (client, "vanish", NULL, &error);
  g_assert_null (reply);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "vanish"));
  g_assert_true (qmp_client_is_closed (client));
  g_clear_error (&error);
  /* Later commands fail at once rather than wait for ever. */
  later = execute (client, "echo", "x", &error);
  g_assert_null (later);
  g_assert_nonnull (error);
}

static void
test_not_qmp (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(QmpClient) client = connect_client (f, &error);

  g_assert_null (client);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "not QMP"));
}

static void
test_no_server (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *dir = g_dir_make_tmp ("banger-qmp-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "none.sock", NULL);
  g_autoptr(QmpClient) client = NULL;

  qmp_client_connect_async (path, NULL, on_result, &result);
  client = qmp_client_connect_finish (wait_result (&result), &error);
  g_assert_null (client);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, greeting, func) \
  g_test_add ("/qmp-client/" name, Fixture, GINT_TO_POINTER (greeting), fixture_setup, func, \
              fixture_teardown)
  ADD ("negotiate-and-execute", GREETING_QMP, test_negotiate_and_execute);
  ADD ("error-reply", GREETING_QMP, test_error_reply);
  ADD ("out-of-order", GREETING_QMP, test_out_of_order);
  ADD ("cancel", GREETING_QMP, test_cancel);
  ADD ("server-closes-mid-command", GREETING_QMP, test_server_closes_mid_command);
  ADD ("not-qmp", GREETING_GARBAGE, test_not_qmp);
#undef ADD
  g_test_add_func ("/qmp-client/no-server", test_no_server);
  return g_test_run ();
}
