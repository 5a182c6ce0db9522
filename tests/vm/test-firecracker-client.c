/* test-firecracker-client.c: bangerd's Firecracker client and version check
 * against the fake Firecracker, which replies byte for byte like v1.14.4. */
#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <string.h>
#include <unistd.h>

#include "banger-error.h"
#include "firecracker-client.h"
#include "firecracker-config.h"
#include "firecracker-version.h"

typedef struct {
  char              *dir;
  char              *sock;
  char              *record;
  GSubprocess       *fake;
  gboolean           exited;
  FirecrackerClient *client;
} Fixture;

static const char *
fake_path (void)
{
  const char *path = g_getenv ("FAKE_FIRECRACKER");

  g_assert_nonnull (path);
  return path;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("banger-fc-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->sock = g_build_filename (f->dir, "api.sock", NULL);
  f->record = g_build_filename (f->dir, "calls.jsonl", NULL);
  f->client = firecracker_client_new (f->sock);
}

static void
spin_until (gboolean *flag)
{
  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_clear_pointer (&f->client, firecracker_client_free);
  if (f->fake != NULL)
    {
      /* SIGKILL, then let GSubprocess's child watch reap it (waitpid). */
      if (!f->exited)
        g_subprocess_force_exit (f->fake);
      spin_until (&f->exited);
      g_clear_object (&f->fake);
    }
  /* Let the session's aborted connections finish closing. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  dir = g_dir_open (f->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_autofree char *flags = g_build_filename (p, "tun_flags", NULL);

      /* The tap stand-in is a directory with one file. */
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        {
          g_assert_cmpint (g_unlink (flags), ==, 0);
          g_assert_cmpint (g_rmdir (p), ==, 0);
        }
      else
        g_assert_cmpint (g_unlink (p), ==, 0);
    }
  g_assert_cmpint (g_rmdir (f->dir), ==, 0);
  g_free (f->sock);
  g_free (f->record);
  g_free (f->dir);
}

static void
on_fake_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  f->exited = TRUE;
}

/* @env: NULL-terminated NAME, VALUE pairs for the fake (FAKE_FC_*). */
static void
spawn_fake (Fixture *f, const char *api_sock, const char * const *env)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *log = g_build_filename (f->dir, "fake.log", NULL);
  g_autoptr(GError) error = NULL;

  /* The fake logs to stdout like the real one; keep it out of the TAP. */
  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_setenv (launcher, "FAKE_FC_RECORD", f->record, TRUE);
  /* The fake opens what the PUTs name, as Firecracker does; the tap is
   * looked up in a stand-in sysfs (see make_boot_files). */
  g_subprocess_launcher_setenv (launcher, "FAKE_FC_SYSFS_NET", f->dir, TRUE);
  for (guint i = 0; env != NULL && env[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, env[i], env[i + 1], TRUE);
  f->fake = g_subprocess_launcher_spawn (launcher, &error, fake_path (),
                                         "--api-sock", api_sock != NULL ? api_sock : f->sock,
                                         "--id", "test-vm", NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (f->fake, NULL, on_fake_exited, f);
}

static gboolean
fake_alive (gpointer user_data)
{
  Fixture *f = user_data;

  return !f->exited;
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
await (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static gboolean
wait_ready (Fixture *f, guint timeout_ms, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  firecracker_client_wait_ready_async (f->client, timeout_ms, fake_alive, f, NULL,
                                       on_done, &result);
  return firecracker_client_wait_ready_finish (f->client, await (&result), error);
}

/* Takes @body. */
static gboolean
request (Fixture *f, const char *method, const char *path, JsonNode *body,
         JsonNode **reply, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(JsonNode) owned = body;

  firecracker_client_request_async (f->client, method, path, owned, NULL, on_done, &result);
  return firecracker_client_request_finish (f->client, await (&result), reply, error);
}

static void
start_ready_fake (Fixture *f, const char * const *env)
{
  g_autoptr(GError) error = NULL;

  spawn_fake (f, NULL, env);
  g_assert_true (wait_ready (f, 10000, &error));
  g_assert_no_error (error);
}

/* wait_ready's successful poll, then the order of the Go SDK and
 * Firecracker's getting-started guide. */
static const char * const boot_calls[] = {
  "GET /machine-config", "PUT /logger", "PUT /metrics", "PUT /machine-config", "PUT /boot-source",
  "PUT /drives/rootfs", "PUT /drives/disk", "PUT /network-interfaces/eth0",
  "PUT /vsock", "PUT /actions",
};

/* The kernel, drives and tap that boot() names must exist. */
static void
make_boot_files (Fixture *f)
{
  const char *files[] = { "vmlinux", "root.ext4", "disk.ext4" };
  g_autofree char *tap_dir = g_build_filename (f->dir, "bg-tap0", NULL);
  g_autofree char *tun_flags = g_build_filename (tap_dir, "tun_flags", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (f->dir, files[i], NULL);
      g_assert_true (g_file_set_contents (path, "x", 1, NULL));
    }
  g_assert_cmpint (g_mkdir_with_parents (tap_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (tun_flags, "0x1002\n", -1, NULL));
}

static gboolean
boot (Fixture *f, GError **error)
{
  g_autofree char *log = g_build_filename (f->dir, "fc.log", NULL);
  g_autofree char *kernel = g_build_filename (f->dir, "vmlinux", NULL);
  g_autofree char *root = g_build_filename (f->dir, "root.ext4", NULL);
  g_autofree char *disk = g_build_filename (f->dir, "disk.ext4", NULL);
  g_autofree char *metrics = g_build_filename (f->dir, "metrics", NULL);
  g_autofree char *vsock = g_build_filename (f->dir, "v.sock", NULL);
  g_autofree char *root_path = firecracker_config_drive_path ("rootfs");
  g_autofree char *disk_path = firecracker_config_drive_path ("disk");
  g_autofree char *net_path = firecracker_config_network_path ("eth0");

  make_boot_files (f);
  return request (f, "PUT", "/logger", firecracker_config_logger (log, TRUE, FALSE), NULL, error) &&
         request (f, "PUT", "/metrics", firecracker_config_metrics (metrics), NULL, error) &&
         request (f, "PUT", "/machine-config", firecracker_config_machine (2, 512), NULL, error) &&
         request (f, "PUT", "/boot-source",
                  firecracker_config_boot_source (kernel, "console=ttyS0 reboot=k panic=1", NULL),
                  NULL, error) &&
         request (f, "PUT", root_path,
                  firecracker_config_drive ("rootfs", root, TRUE, FALSE), NULL, error) &&
         request (f, "PUT", disk_path,
                  firecracker_config_drive ("disk", disk, FALSE, FALSE), NULL, error) &&
         request (f, "PUT", net_path,
                  firecracker_config_network_interface ("eth0", "bg-tap0", "06:00:ac:10:00:02"),
                  NULL, error) &&
         request (f, "PUT", "/vsock", firecracker_config_vsock (3, vsock), NULL, error) &&
         request (f, "PUT", "/actions", firecracker_config_action ("InstanceStart"), NULL, error);
}

static gint64
elapsed_ms (gint64 start_us)
{
  return (g_get_monotonic_time () - start_us) / 1000;
}

static void
test_wait_ready_succeeds (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  /* Started right away: the first polls hit a missing or unbound socket. */
  spawn_fake (f, NULL, NULL);
  g_assert_true (wait_ready (f, 10000, &error));
  g_assert_no_error (error);
}

static void
test_wait_ready_process_exits (Fixture *f, gconstpointer data)
{
  g_autofree char *bogus = g_build_filename (f->dir, "no-such-dir", "api.sock", NULL);
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  spawn_fake (f, bogus, NULL);
  g_assert_false (wait_ready (f, 20000, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "Firecracker exited before its API"));
  g_assert_nonnull (strstr (error->message, f->sock));
  g_assert_cmpint (elapsed_ms (start), <, 10000);
}

static void
test_wait_ready_times_out (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (f->sock);
  gint64 start;

  /* Bound but never listening, as Firecracker is for a moment: refused. */
  sock = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (sock, address, FALSE, &error));
  start = g_get_monotonic_time ();
  g_assert_false (wait_ready (f, 300, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "was not ready within 300 ms"));
  g_assert_cmpint (elapsed_ms (start), >=, 300);
  g_assert_cmpint (elapsed_ms (start), <, 5000);
}

static void
on_cancel_timeout (gpointer cancellable)
{
  g_cancellable_cancel (cancellable);
}

static void
test_wait_ready_cancelled (Fixture *f, gconstpointer data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_timeout_add_once (100, on_cancel_timeout, cancellable);
  firecracker_client_wait_ready_async (f->client, 20000, NULL, NULL, cancellable,
                                       on_done, &result);
  g_assert_false (firecracker_client_wait_ready_finish (f->client, await (&result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_boot_sequence_recorded_in_order (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  JsonObject *state;

  start_ready_fake (f, NULL);
  g_assert_true (boot (f, &error));
  g_assert_no_error (error);

  g_assert_true (g_file_get_contents (f->record, &contents, NULL, &error));
  lines = g_strsplit (g_strchomp (contents), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, G_N_ELEMENTS (boot_calls));
  for (guint i = 0; i < G_N_ELEMENTS (boot_calls); i++)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autofree char *call = NULL;
      JsonObject *o;

      g_assert_true (json_parser_load_from_data (parser, lines[i], -1, &error));
      o = json_node_get_object (json_parser_get_root (parser));
      call = g_strdup_printf ("%s %s", json_object_get_string_member (o, "method"),
                              json_object_get_string_member (o, "path"));
      g_assert_cmpstr (call, ==, boot_calls[i]);
    }

  g_assert_true (request (f, "GET", "/", NULL, &reply, &error));
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  state = json_node_get_object (reply);
  g_assert_cmpstr (json_object_get_string_member (state, "state"), ==, "Running");
  g_assert_cmpstr (json_object_get_string_member (state, "id"), ==, "test-vm");
}

static void
test_204_reply_is_null (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  JsonNode *reply = (JsonNode *) 0x1;

  start_ready_fake (f, NULL);
  g_assert_true (request (f, "PUT", "/machine-config",
                          firecracker_config_machine (2, 256), &reply, &error));
  g_assert_no_error (error);
  g_assert_null (reply);
}

static void
test_injected_failure_names_step (Fixture *f, gconstpointer data)
{
  const char *env[] = { "FAKE_FC_FAIL_AT", "PUT /drives/rootfs", NULL };
  g_autoptr(GError) error = NULL;

  start_ready_fake (f, env);
  g_assert_false (boot (f, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==,
                   "Firecracker refused PUT /drives/rootfs: "
                   "Injected failure at PUT /drives/rootfs.");
}

static void
test_vmm_refusal_quotes_fault_message (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  start_ready_fake (f, NULL);
  g_assert_false (request (f, "PUT", "/actions", firecracker_config_action ("InstanceStart"),
                           NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==,
                   "Firecracker refused PUT /actions: Start microvm error: "
                   "Cannot start microvm without kernel configuration.");
}

static void
test_http_layer_error_shape (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  /* micro_http refuses unknown methods with {"error": "…\nAll previous …"}. */
  start_ready_fake (f, NULL);
  g_assert_false (request (f, "DELETE", "/", NULL, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==,
                   "Firecracker refused DELETE /: Invalid request. "
                   "All previous unanswered requests will be dropped.");
}

static void
test_hang_times_out (Fixture *f, gconstpointer data)
{
  const char *env[] = { "FAKE_FC_HANG_AT", "PUT /machine-config", NULL };
  g_autoptr(GError) error = NULL;
  gint64 start;

  start_ready_fake (f, env);
  firecracker_client_set_request_timeout (f->client, 300);
  g_assert_cmpuint (firecracker_client_get_request_timeout (f->client), ==, 300);
  start = g_get_monotonic_time ();
  g_assert_false (boot (f, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message,
                            "Firecracker did not answer PUT /machine-config within 300 ms"));
  g_assert_cmpint (elapsed_ms (start), <, 5000);
}

static void
test_crash_is_connection_error (Fixture *f, gconstpointer data)
{
  const char *env[] = { "FAKE_FC_CRASH_AT", "PUT /boot-source", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;

  start_ready_fake (f, env);
  g_assert_false (boot (f, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  expected = g_strdup_printf ("Lost Firecracker's API at %s during PUT /boot-source", f->sock);
  g_assert_true (g_str_has_prefix (error->message, expected));
  g_assert_nonnull (strstr (error->message, "has the process exited?"));
}

static gboolean
check_version (const char *binary, guint timeout_ms, FirecrackerVersion *version,
               gboolean *tested, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  firecracker_version_check_async (binary, timeout_ms, NULL, on_done, &result);
  return firecracker_version_check_finish (await (&result), version, tested, error);
}

static char *
write_script (Fixture *f, const char *name, const char *body, int mode)
{
  char *path = g_build_filename (f->dir, name, NULL);
  g_autofree char *text = g_strconcat ("#!/bin/sh\n", body, "\n", NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return path;
}

static void
test_version_accepts_fake (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  FirecrackerVersion version = { 0, 0, 0 };
  gboolean tested = FALSE;

  g_assert_true (check_version (fake_path (), 10000, &version, &tested, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (version.major, ==, 1);
  g_assert_cmpuint (version.minor, ==, 14);
  g_assert_cmpuint (version.patch, ==, 4);
  g_assert_true (tested);
}

static void
test_version_refuses_old (Fixture *f, gconstpointer data)
{
  g_autofree char *script = write_script (f, "old-fc", "echo 'Firecracker v1.4.0'", 0755);
  g_autofree char *expected = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (check_version (script, 5000, NULL, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  expected = g_strdup_printf ("Firecracker 1.4.0 at %s is too old; banger needs 1.5.0 "
                              "or newer (tested with 1.14)", script);
  g_assert_cmpstr (error->message, ==, expected);
}

static void
test_version_untested_accepted (Fixture *f, gconstpointer data)
{
  g_autofree char *script = write_script (f, "new-fc", "echo 'Firecracker v1.16.1'", 0755);
  g_autoptr(GError) error = NULL;
  gboolean tested = TRUE;

  g_assert_true (check_version (script, 5000, NULL, &tested, &error));
  g_assert_no_error (error);
  g_assert_false (tested);
}

static void
test_version_bad_binaries (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (f->dir, "missing", NULL);
  g_autofree char *plain = write_script (f, "not-exec", "echo 'Firecracker v1.14.4'", 0644);
  g_autofree char *garbage = write_script (f, "garbage", "echo 'hello'; echo oops >&2; exit 3",
                                           0755);
  g_autofree char *stuck = write_script (f, "stuck", "exec sleep 30", 0755);
  g_autoptr(GError) error = NULL;

  g_assert_false (check_version (missing, 5000, NULL, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  g_assert_false (check_version ("banger-no-such-firecracker", 5000, NULL, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_false (check_version (plain, 5000, NULL, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "is not an executable file"));
  g_clear_error (&error);

  g_assert_false (check_version (garbage, 5000, NULL, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "does not look like Firecracker"));
  g_assert_nonnull (strstr (error->message, "“hello”"));
  g_assert_nonnull (strstr (error->message, "oops"));
  g_clear_error (&error);

  g_assert_false (check_version (stuck, 300, NULL, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "did not finish within 300 ms"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("FAKE_FIRECRACKER") == NULL)
    {
      g_test_skip ("FAKE_FIRECRACKER is not set; run through meson test");
      return 77;
    }
#define ADD(path, func) \
  g_test_add ("/vm/firecracker/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("wait-ready/succeeds-once-api-listens", test_wait_ready_succeeds);
  ADD ("wait-ready/fails-fast-when-process-exits", test_wait_ready_process_exits);
  ADD ("wait-ready/times-out-on-refusing-socket", test_wait_ready_times_out);
  ADD ("wait-ready/cancellable", test_wait_ready_cancelled);
  ADD ("request/boot-sequence-accepted-in-order-then-running",
       test_boot_sequence_recorded_in_order);
  ADD ("request/204-without-reason-phrase-is-success", test_204_reply_is_null);
  ADD ("request/injected-failure-names-step-and-quotes-fault", test_injected_failure_names_step);
  ADD ("request/vmm-refusal-quotes-fault-message", test_vmm_refusal_quotes_fault_message);
  ADD ("request/http-layer-error-shape-quoted", test_http_layer_error_shape);
  ADD ("request/hang-times-out-naming-step", test_hang_times_out);
  ADD ("request/crash-is-connection-error-naming-step", test_crash_is_connection_error);
  ADD ("version/accepts-fake-1.14.4-as-tested", test_version_accepts_fake);
  ADD ("version/refuses-1.4", test_version_refuses_old);
  ADD ("version/accepts-untested-newer", test_version_untested_accepted);
  ADD ("version/missing-unexecutable-garbage-stuck", test_version_bad_binaries);
  return g_test_run ();
}
