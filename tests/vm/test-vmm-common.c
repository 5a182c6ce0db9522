/* test-vmm-common.c: what both VMM drivers share, through the driver
 * interface and without a guest: the refusal of a binary that is not
 * there, and the end of a VMM at shutdown (here the firecracker driver's,
 * against an API served by a thread of this test: the qemu driver's runs
 * against real guests in test-qemu-driver.c). */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error.h"
#include "vmm-driver.h"

static void
on_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
check_fails (const VmmDriver *driver, const char *binary, const char *expected)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  driver->check_async (binary, NULL, on_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  path = driver->check_finish (result, &error);
  g_assert_null (path);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  if (strstr (error->message, expected) == NULL)
    g_error ("“%s” does not say “%s”", error->message, expected);
}

/* Both drivers refuse a binary that is missing, not in PATH or not
 * executable before running anything, and name the config key to set. */
static void
test_check_binary_missing (void)
{
  g_autofree char *dir = g_dir_make_tmp ("banger-vmm-check-XXXXXX", NULL);
  g_autofree char *plain = g_build_filename (dir, "vmm", NULL);
  const VmmDriver *drivers[] = { &vmm_driver_firecracker, &vmm_driver_qemu };
  const char *keys[] = { "[firecracker] binary", "[qemu] binary" };

  g_assert_true (g_file_set_contents (plain, "#!/bin/sh\nexit 0\n", -1, NULL));
  g_assert_cmpint (g_chmod (plain, 0644), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (drivers); i++)
    {
      check_fails (drivers[i], "/nonexistent/vmm", "was not found");
      check_fails (drivers[i], "no-such-vmm-in-path", keys[i]);
      check_fails (drivers[i], plain, "is not executable");
    }
  g_unlink (plain);
  g_rmdir (dir);
}

/* ---- the firecracker driver's shutdown ladder ------------------------------------ */

/* A Firecracker API served by a thread of this test (GET / says Running;
 * PUT /actions is recorded; one request per connection) in front of a
 * process that stands in for the VMM: the driver adopts it as after a
 * bangerd restart, so the test stays its parent and sees how it died. */
typedef struct {
  char        *dir;
  int          listen_fd;
  GThread     *thread;
  GPid         pid;
  GMutex       lock;
  GString     *actions;
  gboolean     exit_on_ctrl_alt_del;
  VmmInstance *instance;
} FcLadder;

static void
serve_one (FcLadder *fl, int fd)
{
  char buffer[4096];
  gsize used = 0;
  const char *end = NULL;
  const char *reply;
  guint64 length = 0;
  const char *header;

  /* The head, then as much body as Content-Length says. */
  while (used < sizeof buffer - 1)
    {
      gssize n = read (fd, buffer + used, sizeof buffer - 1 - used);

      if (n <= 0)
        return;
      used += (gsize) n;
      buffer[used] = '\0';
      end = strstr (buffer, "\r\n\r\n");
      if (end == NULL)
        continue;
      header = g_strstr_len (buffer, end - buffer, "\r\nContent-Length:");
      if (header == NULL)
        header = g_strstr_len (buffer, end - buffer, "\r\ncontent-length:");
      length = header != NULL ? g_ascii_strtoull (header + 17, NULL, 10) : 0;
      if (used >= (gsize) (end + 4 - buffer) + length)
        break;
    }
  if (end == NULL)
    return;
  if (g_str_has_prefix (buffer, "GET / "))
    reply = "HTTP/1.1 200 \r\nContent-Type: application/json\r\nContent-Length: 35\r\n"
            "Connection: close\r\n\r\n{\"id\": \"test\", \"state\": \"Running\"}";
  else if (g_str_has_prefix (buffer, "PUT /actions "))
    {
      g_mutex_lock (&fl->lock);
      g_string_append_len (fl->actions, end + 4, (gssize) length);
      g_string_append_c (fl->actions, '\n');
      g_mutex_unlock (&fl->lock);
      /* A guest that reboots on Ctrl-Alt-Del: the VMM exits by itself. */
      if (fl->exit_on_ctrl_alt_del)
        kill (fl->pid, SIGTERM);
      reply = "HTTP/1.1 204 \r\nConnection: close\r\n\r\n";
    }
  else
    reply = "HTTP/1.1 400 \r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  g_assert_cmpint (write (fd, reply, strlen (reply)), ==, (gssize) strlen (reply));
}

static gpointer
fake_api_main (gpointer user_data)
{
  FcLadder *fl = user_data;
  int fd;

  /* Ends when the test shuts the listening socket down. */
  while ((fd = accept4 (fl->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
    {
      serve_one (fl, fd);
      close (fd);
    }
  return NULL;
}

static void
fc_ladder_setup (FcLadder *fl)
{
  const char *argv[] = { "/bin/sleep", "600", NULL };
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  g_autofree char *api = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  VmmProcess *process;

  fl->dir = g_dir_make_tmp ("banger-fc-ladder-XXXXXX", NULL);
  fl->actions = g_string_new (NULL);
  g_mutex_init (&fl->lock);
  api = g_build_filename (fl->dir, "firecracker.sock", NULL);
  g_strlcpy (addr.sun_path, api, sizeof addr.sun_path);
  fl->listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (bind (fl->listen_fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (fl->listen_fd, 4), ==, 0);

  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                NULL, &fl->pid, &error));
  g_assert_no_error (error);
  fl->thread = g_thread_new ("fake-api", fake_api_main, fl);
  process = vmm_process_adopt (fl->pid, vmm_process_read_start_time (fl->pid), &error);
  g_assert_no_error (error);
  vmm_driver_firecracker.adopt_async (process, fl->dir, on_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  fl->instance = vmm_driver_firecracker.adopt_finish (result, &error);
  g_assert_no_error (error);
}

/* Shuts down with @timeout_ms; returns the milliseconds it took and the
 * VMM's wait status. */
static gint64
fc_ladder_shutdown (FcLadder *fl, guint timeout_ms, int *out_status)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed_ms;

  vmm_driver_firecracker.shutdown_async (fl->instance, timeout_ms, FALSE, on_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  elapsed_ms = (g_get_monotonic_time () - start) / G_TIME_SPAN_MILLISECOND;
  g_assert_true (vmm_driver_firecracker.shutdown_finish (result, &error));
  g_assert_no_error (error);
  g_assert_true (vmm_process_has_exited (fl->instance->process));
  g_assert_cmpint (waitpid (fl->pid, out_status, 0), ==, fl->pid);
  return elapsed_ms;
}

static void
fc_ladder_teardown (FcLadder *fl)
{
  g_autofree char *api = g_build_filename (fl->dir, "firecracker.sock", NULL);

  vmm_instance_free (fl->instance);
  shutdown (fl->listen_fd, SHUT_RDWR);
  g_thread_join (fl->thread);
  close (fl->listen_fd);
  g_mutex_clear (&fl->lock);
  g_string_free (fl->actions, TRUE);
  g_unlink (api);
  g_rmdir (fl->dir);
  g_free (fl->dir);
}

static void
test_fc_shutdown_graceful (void)
{
  FcLadder fl = { .exit_on_ctrl_alt_del = TRUE };
  int status;

  fc_ladder_setup (&fl);
  g_assert_cmpint (fc_ladder_shutdown (&fl, 30000, &status), <, 20000);
  g_mutex_lock (&fl.lock);
  g_assert_nonnull (strstr (fl.actions->str, "SendCtrlAltDel"));
  g_mutex_unlock (&fl.lock);
  /* It ended by itself, not by SIGKILL. */
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGTERM);
  fc_ladder_teardown (&fl);
}

static void
test_fc_shutdown_timeout_kills (void)
{
  FcLadder fl = { .exit_on_ctrl_alt_del = FALSE };
  int status;

  fc_ladder_setup (&fl);
  g_assert_cmpint (fc_ladder_shutdown (&fl, 500, &status), >=, 500);
  g_mutex_lock (&fl.lock);
  g_assert_nonnull (strstr (fl.actions->str, "SendCtrlAltDel"));
  g_mutex_unlock (&fl.lock);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);
  fc_ladder_teardown (&fl);
}

static void
test_fc_shutdown_already_gone (void)
{
  FcLadder fl = { .exit_on_ctrl_alt_del = FALSE };
  int status;

  fc_ladder_setup (&fl);
  kill (fl.pid, SIGTERM);
  while (!vmm_process_has_exited (fl.instance->process))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (fc_ladder_shutdown (&fl, 30000, &status), <, 5000);
  /* Nothing is asked of a VMM that is gone. */
  g_mutex_lock (&fl.lock);
  g_assert_cmpstr (fl.actions->str, ==, "");
  g_mutex_unlock (&fl.lock);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGTERM);
  fc_ladder_teardown (&fl);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vmm-common/check/binary-missing", test_check_binary_missing);
  g_test_add_func ("/vmm-common/firecracker/shutdown-graceful", test_fc_shutdown_graceful);
  g_test_add_func ("/vmm-common/firecracker/shutdown-timeout-kills",
                   test_fc_shutdown_timeout_kills);
  g_test_add_func ("/vmm-common/firecracker/shutdown-already-gone",
                   test_fc_shutdown_already_gone);
  return g_test_run ();
}
