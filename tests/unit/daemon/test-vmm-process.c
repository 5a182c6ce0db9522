/* test-vmm-process.c: what a spawned VMM gets (stdio, directory, session,
 * descriptors) and the end of a VMM process (vmm_process_end_async) with
 * real processes: one that exits within the grace, one that has to be
 * killed, one that is gone already, and one adopted rather than spawned. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banger-error.h"
#include "vmm-process.h"

#define STEP_TIMEOUT_S 20

typedef struct {
  VmmProcess *process;
  gboolean    exited;
  int         wait_status;
} Watch;

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

static void
on_exit_seen (VmmProcess *process, int wait_status, gpointer user_data)
{
  Watch *watch = user_data;

  watch->exited = TRUE;
  watch->wait_status = wait_status;
}

static void
iterate_until (gboolean *done, const char *what)
{
  guint timeout = g_timeout_add_seconds (STEP_TIMEOUT_S, on_step_timeout, (gpointer) what);

  while (!*done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
}

static void
spawn (Watch *watch, const char *script)
{
  const char *argv[] = { "/bin/sh", "-c", script, NULL };
  g_autoptr(GError) error = NULL;
  int log_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);

  g_assert_cmpint (log_fd, >=, 0);
  watch->process = vmm_process_spawn (argv, "/", log_fd, &error);
  close (log_fd);
  g_assert_no_error (error);
  g_assert_nonnull (watch->process);
  vmm_process_set_exit_func (watch->process, on_exit_seen, watch);
}

/* Ends the process with @grace_ms; returns what the end reported and sets
 * *@elapsed_ms to how long it took. */
static gboolean
end (Watch *watch, guint grace_ms, gint64 *elapsed_ms)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  guint timeout = g_timeout_add_seconds (STEP_TIMEOUT_S, on_step_timeout, "end");
  gboolean on_its_own;

  vmm_process_end_async (watch->process, grace_ms, on_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
  *elapsed_ms = (g_get_monotonic_time () - start) / G_TIME_SPAN_MILLISECOND;
  on_its_own = vmm_process_end_finish (watch->process, result, &error);
  g_assert_no_error (error);
  /* Whichever way it ended, it has ended by now. */
  g_assert_true (vmm_process_has_exited (watch->process));
  return on_its_own;
}

/* An fd holding @text, at position 0, close-on-exec like all of bangerd's. */
static int
fd_with_text (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  int fd;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  return fd;
}

/* The VMM gets /dev/null as stdin, the log as stdout and stderr, the
 * directory asked for, a session of its own, and of bangerd's descriptors
 * only the one passed, under the number asked for: also when it already
 * has that number, and not one left open without close-on-exec. */
static void
test_spawn_gives_the_vmm_what_it_needs (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-vmm-spawn-XXXXXX", &error);
  g_autofree char *log_path = g_build_filename (dir, "console.log", NULL);
  g_autofree char *log_text = NULL;
  g_autofree char *expected = NULL;
  const char *script =
    "printf fds=; for fd in 0 1 2 3 4 5 6 7 8 9 10 11 12; do "
    "[ -e /proc/$$/fd/$fd ] && printf '%s ' $fd; done; echo; "
    "echo cwd=$(pwd); echo stdin=$(readlink /proc/self/fd/0); "
    "echo passed=$(cat <&$1) >&2; "
    "set -- $(cat /proc/$$/stat); [ \"$6\" = \"$$\" ] && echo own-session";
  const int pass_numbers[] = { 7, -1 };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (pass_numbers); i++)
    {
      int passed = fd_with_text (dir, "passed", "the-passed-file");
      int pass_as = pass_numbers[i] >= 0 ? pass_numbers[i] : passed;
      g_autofree char *pass_word = g_strdup_printf ("%d", pass_as);
      const char *argv[] = { "/bin/sh", "-c", script, "sh", pass_word, NULL };
      int leaked = dup2 (STDIN_FILENO, 9); /* no O_CLOEXEC: as if inherited */
      int log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      Watch watch = { 0 };

      g_assert_cmpint (leaked, >=, 0);
      g_assert_cmpint (log_fd, >=, 0);
      watch.process = vmm_process_spawn_with_fd (argv, dir, log_fd, passed, pass_as, &error);
      g_assert_no_error (error);
      close (log_fd);
      close (leaked);
      close (passed);
      vmm_process_set_exit_func (watch.process, on_exit_seen, &watch);
      iterate_until (&watch.exited, "the spawned shell");
      g_assert_true (WIFEXITED (watch.wait_status));
      vmm_process_free (watch.process);

      g_file_get_contents (log_path, &log_text, NULL, &error);
      g_assert_no_error (error);
      expected = g_strdup_printf ("fds=0 1 2 %d \ncwd=%s\nstdin=/dev/null\n"
                                  "passed=the-passed-file\nown-session\n", pass_as, dir);
      g_assert_cmpstr (log_text, ==, expected);
      g_clear_pointer (&log_text, g_free);
      g_clear_pointer (&expected, g_free);
    }
  g_unlink (log_path);
  {
    g_autofree char *passed_path = g_build_filename (dir, "passed", NULL);
    g_unlink (passed_path);
  }
  g_rmdir (dir);
}

/* A VMM binary that cannot be run, or a directory that does not exist,
 * is an error of the spawn itself, naming the binary; nothing is left
 * running and the log stays empty. */
static void
test_spawn_refused (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-vmm-spawn-XXXXXX", &error);
  g_autofree char *log_path = g_build_filename (dir, "console.log", NULL);
  g_autofree char *missing_dir = g_build_filename (dir, "missing", NULL);
  const char *missing[] = { "/nonexistent/qemu", NULL };
  const char *shell[] = { "/bin/sh", "-c", "echo ran", NULL };
  int log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_autofree char *log_text = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (log_fd, >=, 0);
  g_assert_null (vmm_process_spawn (missing, dir, log_fd, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "/nonexistent/qemu"));
  g_clear_error (&error);
  g_assert_null (vmm_process_spawn (shell, missing_dir, log_fd, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_clear_error (&error);
  close (log_fd);
  /* Both refused before anything ran: no child to reap, nothing logged. */
  g_assert_cmpint (waitpid (-1, NULL, WNOHANG), ==, -1);
  g_assert_cmpint (errno, ==, ECHILD);
  g_file_get_contents (log_path, &log_text, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (log_text, ==, "");
  g_unlink (log_path);
  g_rmdir (dir);
}

/* Reaped by the watch: nothing is left for a waitpid(). */
static void
assert_reaped (int pid)
{
  g_assert_cmpint (waitpid (pid, NULL, WNOHANG), ==, -1);
  g_assert_cmpint (errno, ==, ECHILD);
}

static void
test_exits_within_grace (void)
{
  Watch watch = { 0 };
  gint64 elapsed_ms;
  int pid;

  spawn (&watch, "sleep 0.3; exit 3");
  pid = vmm_process_get_pid (watch.process);
  g_assert_true (end (&watch, 10000, &elapsed_ms));
  /* It ended when it exited, not when the grace ran out. */
  g_assert_cmpint (elapsed_ms, <, 8000);
  iterate_until (&watch.exited, "exit notice");
  g_assert_true (WIFEXITED (watch.wait_status));
  g_assert_cmpint (WEXITSTATUS (watch.wait_status), ==, 3);
  assert_reaped (pid);
  vmm_process_free (watch.process);
}

static void
test_killed_after_grace (void)
{
  Watch watch = { 0 };
  gint64 elapsed_ms;
  int pid;

  /* Ignoring SIGTERM changes nothing: the end uses SIGKILL. */
  spawn (&watch, "trap '' TERM; exec sleep 60");
  pid = vmm_process_get_pid (watch.process);
  g_assert_false (end (&watch, 400, &elapsed_ms));
  g_assert_cmpint (elapsed_ms, >=, 400);
  g_assert_cmpint (elapsed_ms, <, 8000);
  iterate_until (&watch.exited, "exit notice");
  g_assert_true (WIFSIGNALED (watch.wait_status));
  g_assert_cmpint (WTERMSIG (watch.wait_status), ==, SIGKILL);
  assert_reaped (pid);
  vmm_process_free (watch.process);
}

static void
test_no_grace_kills_at_once (void)
{
  Watch watch = { 0 };
  gint64 elapsed_ms;

  spawn (&watch, "exec sleep 60");
  g_assert_false (end (&watch, 0, &elapsed_ms));
  g_assert_cmpint (elapsed_ms, <, 5000);
  iterate_until (&watch.exited, "exit notice");
  g_assert_true (WIFSIGNALED (watch.wait_status));
  g_assert_cmpint (WTERMSIG (watch.wait_status), ==, SIGKILL);
  vmm_process_free (watch.process);
}

/* A process already seen to exit is not signalled and not waited for. */
static void
test_already_gone (void)
{
  const guint graces[] = { 0, 30000 };

  for (guint i = 0; i < G_N_ELEMENTS (graces); i++)
    {
      Watch watch = { 0 };
      gint64 elapsed_ms;

      spawn (&watch, "exit 0");
      iterate_until (&watch.exited, "exit notice");
      g_assert_true (end (&watch, graces[i], &elapsed_ms));
      g_assert_cmpint (elapsed_ms, <, 5000);
      g_assert_true (WIFEXITED (watch.wait_status));
      vmm_process_free (watch.process);
    }
}

/* After a bangerd restart the VMM is adopted, not a child: the end still
 * kills it through the pidfd and sees it go. */
static void
test_adopted_killed_after_grace (void)
{
  const char *argv[] = { "/bin/sleep", "60", NULL };
  g_autoptr(GError) error = NULL;
  Watch watch = { 0 };
  gint64 elapsed_ms;
  GPid pid;
  int status;

  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                NULL, &pid, &error));
  g_assert_no_error (error);
  watch.process = vmm_process_adopt (pid, vmm_process_read_start_time (pid), &error);
  g_assert_no_error (error);
  vmm_process_set_exit_func (watch.process, on_exit_seen, &watch);
  g_assert_false (end (&watch, 300, &elapsed_ms));
  g_assert_cmpint (elapsed_ms, >=, 300);
  iterate_until (&watch.exited, "exit notice");
  /* Not our child as far as the watch knows: the status is unknown. */
  g_assert_cmpint (watch.wait_status, ==, -1);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);
  vmm_process_free (watch.process);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vmm-process/spawn/gives-the-vmm-what-it-needs",
                   test_spawn_gives_the_vmm_what_it_needs);
  g_test_add_func ("/vmm-process/spawn/refused", test_spawn_refused);
  g_test_add_func ("/vmm-process/end/exits-within-grace", test_exits_within_grace);
  g_test_add_func ("/vmm-process/end/killed-after-grace", test_killed_after_grace);
  g_test_add_func ("/vmm-process/end/no-grace-kills-at-once", test_no_grace_kills_at_once);
  g_test_add_func ("/vmm-process/end/already-gone", test_already_gone);
  g_test_add_func ("/vmm-process/end/adopted-killed-after-grace",
                   test_adopted_killed_after_grace);
  return g_test_run ();
}
