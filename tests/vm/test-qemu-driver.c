/* test-qemu-driver.c: real guests booted under qemu (TCG here) through the
 * qemu driver's interface, as the lifecycle drives it. Run by
 * qemu-driver.sh, which builds the guest's initramfs: its /init answers
 * "ping" with "guest-up" and "poweroff" with a power-off on the agent's
 * virtio-serial port, and powers off on the ACPI power button (busybox
 * acpid) unless the command line says test.noacpid. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error.h"
#include "fs-util.h"
#include "vmm-driver.h"
#include "vmm-qemu.h"

#define STEP_TIMEOUT_S 60

typedef struct {
  char        *dir;
  char        *state_dir;
  char        *runtime_dir;
  char        *binary;
  char        *boot_args;
  VmmBootSpec  spec;
  VmmInstance *instance;
  gboolean     exited;
  int          wait_status;
} Fixture;

static const VmmDriver *driver = &vmm_driver_qemu;

static void
on_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
on_step_timeout (gpointer user_data)
{
  g_error ("%s did not finish within %d s", (const char *) user_data, STEP_TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

/* Spins the main loop until *@slot is set, failing after a bound. */
static GAsyncResult *
wait_for (GAsyncResult **slot, const char *what)
{
  guint timeout = g_timeout_add_seconds (STEP_TIMEOUT_S, on_step_timeout, (gpointer) what);

  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
  return *slot;
}

static void
make_file (const char *path, gsize size)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) size), ==, 0);
  close (fd);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *image = NULL;
  g_autofree char *disk = NULL;
  g_autofree char *log = NULL;

  f->dir = g_dir_make_tmp ("banger-qemu-XXXXXX", NULL);
  /* A comma in the state dir and the image: qemu's option syntax. */
  f->state_dir = g_build_filename (f->dir, "state,dir", NULL);
  f->runtime_dir = g_build_filename (f->dir, "run", NULL);
  g_assert_cmpint (g_mkdir (f->state_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (f->runtime_dir, 0700), ==, 0);
  image = g_build_filename (f->state_dir, "image,1.raw", NULL);
  disk = g_build_filename (f->state_dir, "disk.ext4", NULL);
  log = g_build_filename (f->state_dir, "console.log", NULL);
  make_file (image, 1 << 20);
  make_file (disk, 1 << 20);
  make_file (log, 0);

  driver->check_async ("qemu-system-x86_64", NULL, on_result, &result);
  f->binary = driver->check_finish (wait_for (&result, "check"), &error);
  g_assert_no_error (error);

  f->boot_args = g_strdup_printf ("console=ttyS0 panic=-1 %s", data != NULL ? (char *) data : "");
  f->spec = (VmmBootSpec) {
    .vm_name = "test,vm",
    .binary = f->binary,
    .state_dir = f->state_dir,
    .runtime_dir = f->runtime_dir,
    .kernel_path = g_getenv ("GUEST_KERNEL"),
    .initrd_path = g_getenv ("GUEST_INITRD"),
    .image_path = g_steal_pointer (&image),
    .image_read_only = TRUE,
    .disk_path = g_steal_pointer (&disk),
    .vcpus = 1,
    .memory_mib = 256,
    .tap = NULL,
    .mac = NULL,
    .boot_args = f->boot_args,
  };
}

static void
on_exit_seen (VmmProcess *process, int wait_status, gpointer user_data)
{
  Fixture *f = user_data;

  f->exited = TRUE;
  f->wait_status = wait_status;
}

static void
stop_instance (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;

  if (f->instance == NULL)
    return;
  driver->shutdown_async (f->instance, 0, TRUE, on_result, &result);
  driver->shutdown_finish (wait_for (&result, "forced shutdown"), NULL);
  g_clear_pointer (&f->instance, vmm_instance_free);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  stop_instance (f);
  driver->cleanup (f->runtime_dir);
  g_assert_true (fs_remove_tree (f->dir, &error));
  g_free ((char *) f->spec.image_path);
  g_free ((char *) f->spec.disk_path);
  g_free (f->boot_args);
  g_free (f->binary);
  g_free (f->state_dir);
  g_free (f->runtime_dir);
  g_free (f->dir);
}

static char *
console (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->state_dir, "console.log", NULL);
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* launch → configure → boot, as the lifecycle does. */
static void
boot (Fixture *f)
{
  g_autoptr(GAsyncResult) launched = NULL;
  g_autoptr(GAsyncResult) configured = NULL;
  g_autoptr(GAsyncResult) booted = NULL;
  g_autoptr(GError) error = NULL;

  driver->launch_async (&f->spec, NULL, on_result, &launched);
  f->instance = driver->launch_finish (wait_for (&launched, "launch"), &error);
  g_assert_no_error (error);
  vmm_process_set_exit_func (f->instance->process, on_exit_seen, f);
  driver->configure_async (f->instance, &f->spec, NULL, on_result, &configured);
  g_assert_true (driver->configure_finish (wait_for (&configured, "configure"), &error));
  g_assert_no_error (error);
  /* boot checks query-status says "running" after "cont". */
  driver->boot_async (f->instance, NULL, on_result, &booted);
  g_assert_true (driver->boot_finish (wait_for (&booted, "boot"), &error));
  g_assert_no_error (error);
}

static char *
read_line (GDataInputStream *in)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *line;

  g_data_input_stream_read_line_async (in, G_PRIORITY_DEFAULT, NULL, on_result, &result);
  line = g_data_input_stream_read_line_finish (in, wait_for (&result, "agent line"), NULL,
                                               &error);
  g_assert_no_error (error);
  return line;
}

static void
agent_send (GIOStream *stream, const char *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (stream), text,
                                            strlen (text), NULL, NULL, &error));
  g_assert_no_error (error);
}

/* Connects to the agent channel and waits for the guest to answer. */
static GIOStream *
agent_hello (Fixture *f, GDataInputStream **out_in)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  GIOStream *stream;

  driver->agent_connect_async (f->instance, NULL, on_result, &result);
  stream = driver->agent_connect_finish (wait_for (&result, "agent connect"), &error);
  g_assert_no_error (error);
  *out_in = g_data_input_stream_new (g_io_stream_get_input_stream (stream));
  agent_send (stream, "ping\n");
  line = read_line (*out_in);
  g_assert_cmpstr (line, ==, "guest-up");
  return stream;
}

static void
wait_exit (Fixture *f)
{
  guint timeout = g_timeout_add_seconds (STEP_TIMEOUT_S, on_step_timeout, "exit");

  while (!f->exited)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
}

static void
assert_no_sockets (Fixture *f)
{
  g_autoptr(GDir) dir = g_dir_open (f->runtime_dir, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_assert_cmpstr (name, ==, "(nothing)");
}

static void
test_boot_agent_poweroff (Fixture *f, gconstpointer data)
{
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autofree char *text = NULL;

  boot (f);
  /* configure expects a paused qemu, and says what it found instead. */
  {
    g_autoptr(GAsyncResult) configured = NULL;
    g_autoptr(GError) error = NULL;

    driver->configure_async (f->instance, &f->spec, NULL, on_result, &configured);
    g_assert_false (driver->configure_finish (wait_for (&configured, "configure"), &error));
    g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "“running” before the boot"));
  }
  stream = agent_hello (f, &in);
  agent_send (stream, "poweroff\n");
  wait_exit (f);
  /* A guest power-off ends qemu with status 0. */
  g_assert_true (WIFEXITED (f->wait_status));
  g_assert_cmpint (WEXITSTATUS (f->wait_status), ==, 0);

  text = console (f);
  g_assert_nonnull (strstr (text, "Linux version"));
  g_assert_nonnull (strstr (text, "banger.agent=vport:dev.banger.agent"));
  g_assert_nonnull (strstr (text, "tsc_early_khz="));
  /* The image read-only first, the disk writable second. */
  g_assert_nonnull (strstr (text, "guest: disks vda=ro:1 vdb=ro:0"));
  g_assert_nonnull (strstr (text, "guest: powering off"));

  g_io_stream_close (stream, NULL, NULL);
  g_clear_pointer (&f->instance, vmm_instance_free);
  driver->cleanup (f->runtime_dir);
  assert_no_sockets (f);
}

static void
test_graceful_shutdown (Fixture *f, gconstpointer data)
{
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  gint64 start;

  boot (f);
  stream = agent_hello (f, &in);    /* acpid runs by now */
  start = g_get_monotonic_time ();
  driver->shutdown_async (f->instance, 30000, FALSE, on_result, &result);
  g_assert_true (driver->shutdown_finish (wait_for (&result, "shutdown"), &error));
  g_assert_no_error (error);
  g_assert_true (vmm_process_has_exited (f->instance->process));
  wait_exit (f);
  g_assert_true (WIFEXITED (f->wait_status));
  g_assert_cmpint (WEXITSTATUS (f->wait_status), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 30 * G_TIME_SPAN_SECOND);
  text = console (f);
  g_assert_nonnull (strstr (text, "guest: acpid ready"));
  g_assert_nonnull (strstr (text, "guest: power button"));
  g_clear_pointer (&f->instance, vmm_instance_free);
  driver->cleanup (f->runtime_dir);
  assert_no_sockets (f);
}

static void
test_forced_shutdown (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  boot (f);
  driver->shutdown_async (f->instance, 30000, TRUE, on_result, &result);
  g_assert_true (driver->shutdown_finish (wait_for (&result, "forced shutdown"), &error));
  g_assert_no_error (error);
  wait_exit (f);
  g_assert_true (WIFSIGNALED (f->wait_status));
  g_assert_cmpint (WTERMSIG (f->wait_status), ==, SIGKILL);
  g_clear_pointer (&f->instance, vmm_instance_free);
  {
    /* Killed, qemu leaves its sockets: cleanup is what removes them. */
    g_autofree char *qmp = g_build_filename (f->runtime_dir, "qmp.sock", NULL);
    g_autofree char *agent = g_build_filename (f->runtime_dir, "agent.sock", NULL);

    g_assert_true (g_file_test (qmp, G_FILE_TEST_EXISTS));
    g_assert_true (g_file_test (agent, G_FILE_TEST_EXISTS));
  }
  driver->cleanup (f->runtime_dir);
  assert_no_sockets (f);
}

/* The guest ignores the power button: after the timeout qemu is ended. */
static void
test_shutdown_timeout (Fixture *f, gconstpointer data)
{
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  gint64 start;

  boot (f);
  stream = agent_hello (f, &in);
  start = g_get_monotonic_time ();
  driver->shutdown_async (f->instance, 1500, FALSE, on_result, &result);
  g_assert_true (driver->shutdown_finish (wait_for (&result, "shutdown"), &error));
  g_assert_no_error (error);
  g_assert_true (vmm_process_has_exited (f->instance->process));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 1500 * G_TIME_SPAN_MILLISECOND);
  text = console (f);
  g_assert_nonnull (strstr (text, "guest: ignoring the power button"));
  g_assert_null (strstr (text, "guest: power button"));
  g_clear_pointer (&f->instance, vmm_instance_free);
  driver->cleanup (f->runtime_dir);
  assert_no_sockets (f);
}

/* A restarted bangerd finds the VM by pid and start time, and QMP. */
static void
test_adopt (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  VmmProcess *process;
  int pid;
  guint64 start_time;

  boot (f);
  pid = vmm_process_get_pid (f->instance->process);
  start_time = vmm_process_get_start_time (f->instance->process);
  /* Dropping the instance leaves qemu running, as a bangerd exit does. */
  vmm_process_set_exit_func (f->instance->process, NULL, NULL);
  g_clear_pointer (&f->instance, vmm_instance_free);
  g_assert_cmpint (kill (pid, 0), ==, 0);

  process = vmm_process_adopt (pid, start_time, &error);
  g_assert_no_error (error);
  driver->adopt_async (process, f->runtime_dir, on_result, &result);
  f->instance = driver->adopt_finish (wait_for (&result, "adopt"), &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->instance);
  g_assert_cmpint (vmm_process_get_pid (f->instance->process), ==, pid);
  /* The adopted instance found the agent's device in qemu and reaches the
   * guest through it. */
  {
    g_autoptr(GDataInputStream) in = NULL;
    g_autoptr(GIOStream) stream = agent_hello (f, &in);
  }

  stop_instance (f);
  /* Adopted, so not reaped by the process watch: the test is its parent. */
  g_assert_cmpint (waitpid (pid, NULL, 0), ==, pid);
  driver->cleanup (f->runtime_dir);
  assert_no_sockets (f);
}

/* A qemu whose devices have no qdev ids, as an older banger started
 * them: re-adopted, it is reached through the serial port. */
static void
test_adopt_without_ids (Fixture *f, gconstpointer data)
{
  g_auto(GStrv) argv = qemu_build_argv (&f->spec, FALSE, qemu_host_tsc_khz (), 0);
  g_autoptr(GPtrArray) old = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *log_path = g_build_filename (f->state_dir, "console.log", NULL);
  g_autofree char *qmp_path = g_build_filename (f->runtime_dir, "qmp.sock", NULL);
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GIOStream) stream = NULL;
  VmmProcess *spawned;
  VmmProcess *process;
  int log_fd;
  int pid;

  for (guint i = 0; argv[i] != NULL; i++)
    {
      g_autofree char *without = NULL;

      /* Running from the start, as adopt expects; no ids on devices. */
      if (g_str_equal (argv[i], "-S"))
        continue;
      without = g_strdup (argv[i]);
      if (strstr (without, ",id=agent-serial") != NULL)
        {
          g_auto(GStrv) parts = g_strsplit (without, ",id=agent-serial", 2);
          g_free (without);
          without = g_strjoinv ("", parts);
        }
      g_ptr_array_add (old, g_steal_pointer (&without));
    }
  g_ptr_array_add (old, NULL);
  log_fd = open (log_path, O_WRONLY | O_APPEND | O_CLOEXEC);
  g_assert_cmpint (log_fd, >=, 0);
  spawned = vmm_process_spawn ((const char * const *) old->pdata, f->runtime_dir, log_fd, &error);
  close (log_fd);
  g_assert_no_error (error);
  pid = vmm_process_get_pid (spawned);
  for (guint i = 0; i < 500 && !g_file_test (qmp_path, G_FILE_TEST_EXISTS); i++)
    g_usleep (20 * 1000);
  g_assert_true (g_file_test (qmp_path, G_FILE_TEST_EXISTS));

  process = vmm_process_adopt (pid, vmm_process_get_start_time (spawned), &error);
  g_assert_no_error (error);
  driver->adopt_async (process, f->runtime_dir, on_result, &result);
  f->instance = driver->adopt_finish (wait_for (&result, "adopt"), &error);
  g_assert_no_error (error);
  stream = agent_hello (f, &in);
  g_clear_object (&stream);
  stop_instance (f);
  vmm_process_free (spawned);
  /* Gone: reaped here, or already by the spawned handle's watch. */
  if (waitpid (pid, NULL, 0) != pid)
    g_assert_cmpint (errno, ==, ECHILD);
  g_assert_cmpint (kill (pid, 0), ==, -1);
  driver->cleanup (f->runtime_dir);
  assert_no_sockets (f);
}

/* vsock asked for on a host without a usable /dev/vhost-vsock: the launch
 * says what to do, and no qemu was started. */
static void
test_vsock_unavailable (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autofree char *log = NULL;
  int fd = open ("/dev/vhost-vsock", O_RDWR | O_CLOEXEC);

  if (fd >= 0)
    {
      close (fd);
      g_test_skip ("/dev/vhost-vsock is usable here");
      return;
    }
  f->spec.agent_channel = VMM_AGENT_CHANNEL_VSOCK;
  driver->launch_async (&f->spec, NULL, on_result, &result);
  g_assert_null (driver->launch_finish (wait_for (&result, "launch"), &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "/dev/vhost-vsock"));
  g_assert_nonnull (strstr (error->message, "agent-channel"));
  dir = g_dir_open (f->runtime_dir, 0, NULL);
  g_assert_nonnull (dir);
  g_assert_null (g_dir_read_name (dir));
  log = console (f);
  g_assert_cmpstr (log, ==, "");
}

/* qemu exits at once (no such kernel): the error carries its words. */
static void
test_launch_early_exit (Fixture *f, gconstpointer data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  f->spec.kernel_path = "/nonexistent/vmlinuz";
  driver->launch_async (&f->spec, NULL, on_result, &result);
  g_assert_null (driver->launch_finish (wait_for (&result, "launch"), &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "QEMU did not come up"));
  g_assert_nonnull (strstr (error->message, "/nonexistent/vmlinuz"));
}

static void
check_fails (const char *binary, const char *expected)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  driver->check_async (binary, NULL, on_result, &result);
  path = driver->check_finish (wait_for (&result, "check"), &error);
  g_assert_null (path);
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  if (strstr (error->message, expected) == NULL)
    g_error ("“%s” does not say “%s”", error->message, expected);
}

static void
test_check_errors (void)
{
  g_autofree char *dir = g_dir_make_tmp ("banger-qemu-check-XXXXXX", NULL);
  g_autofree char *old = g_build_filename (dir, "qemu-old", NULL);
  g_autofree char *other = g_build_filename (dir, "qemu-other", NULL);

  check_fails ("/nonexistent/qemu-system-x86_64", "was not found");
  check_fails ("no-such-qemu-in-path", "was not found");
  g_assert_true (g_file_set_contents (old, "#!/bin/sh\necho 'QEMU emulator version 6.2.0 "
                                      "(Debian 1:6.2+dfsg-2ubuntu6)'\n", -1, NULL));
  g_assert_true (g_file_set_contents (other, "#!/bin/sh\necho 'Bochs x86 Emulator 2.7'\n",
                                      -1, NULL));
  g_assert_cmpint (g_chmod (old, 0755), ==, 0);
  g_assert_cmpint (g_chmod (other, 0755), ==, 0);
  check_fails (old, "too old");
  check_fails (other, "does not look like QEMU");
  g_unlink (old);
  g_unlink (other);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("GUEST_KERNEL") == NULL || g_getenv ("GUEST_INITRD") == NULL)
    {
      g_printerr ("Run me through qemu-driver.sh, which sets GUEST_KERNEL and GUEST_INITRD\n");
      return 77;
    }
#define ADD(name, args, func) \
  g_test_add ("/qemu-driver/" name, Fixture, args, fixture_setup, func, fixture_teardown)
  g_test_add_func ("/qemu-driver/check-errors", test_check_errors);
  ADD ("launch-early-exit", NULL, test_launch_early_exit);
  ADD ("boot-agent-poweroff", NULL, test_boot_agent_poweroff);
  ADD ("graceful-shutdown", NULL, test_graceful_shutdown);
  ADD ("forced-shutdown", NULL, test_forced_shutdown);
  ADD ("shutdown-timeout", "test.noacpid", test_shutdown_timeout);
  ADD ("adopt", NULL, test_adopt);
  ADD ("adopt-without-ids", NULL, test_adopt_without_ids);
  ADD ("vsock-unavailable", NULL, test_vsock_unavailable);
#undef ADD
  return g_test_run ();
}
