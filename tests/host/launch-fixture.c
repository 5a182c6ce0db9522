/* launch-fixture.c: what the launch host tests share: a private tree in
 * /run with root-installed fake programs and a user's home, two unused
 * uids, cgroup and process helpers, and a guardian that cleans up. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cgroup.h"
#include "helper-config.h"
#include "jail.h"
#include "launch-ops.h"

#include "launch-fixture.h"

/* Everything this process makes lives below top (in /run: the programs
 * need directories only root can write, all the way up) and under the
 * cgroups banger/UID and banger/UID2 of two uids nobody else uses. */
char    *top;
guint32  test_uid, test_gid, other_uid;
char    *cgroup_root;
static guint    fixture_count;
static int      guard_write = -1;   /* the guardian cleans up once it closes */
static pid_t    guard_pid;

/* ------------------------------------------------------------- helpers */

char *
read_text (const char *path)
{
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

void
write_text (const char *path,
            const char *text)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, text, strlen (text)), ==, (gssize) strlen (text));
  close (fd);
}

gboolean
wait_for (gboolean (*cond) (gconstpointer), gconstpointer data, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!cond (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_usleep (10000);
    }
  return TRUE;
}

gboolean
file_exists (gconstpointer path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

char *
cgroup_dir (guint32     uid,
            const char *vm)
{
  g_autofree char *uid_name = g_strdup_printf ("%u", uid);

  return g_build_filename (cgroup_root, "banger", uid_name, vm, NULL);
}

char *
cgroup_uid_dir (guint32 uid)
{
  g_autofree char *uid_name = g_strdup_printf ("%u", uid);

  return g_build_filename (cgroup_root, "banger", uid_name, NULL);
}

gboolean
cgroup_empty (gconstpointer dir)
{
  g_autofree char *events_path = g_build_filename (dir, "cgroup.events", NULL);
  g_autofree char *events = read_text (events_path);

  return events == NULL || strstr (events, "populated 0") != NULL;
}

gboolean
pid_listed (const char *dir,
            pid_t       pid)
{
  g_autofree char *procs_path = g_build_filename (dir, "cgroup.procs", NULL);
  g_autofree char *procs = read_text (procs_path);
  g_auto(GStrv) lines = g_strsplit (procs != NULL ? procs : "", "\n", -1);
  g_autofree char *want = g_strdup_printf ("%d", (int) pid);

  return g_strv_contains ((const char *const *) lines, want);
}

void
move_to_cgroup (const char *dir,
                pid_t       pid)
{
  g_autofree char *procs = g_build_filename (dir, "cgroup.procs", NULL);
  g_autofree char *text = g_strdup_printf ("%d", (int) pid);

  write_text (procs, text);
}

/* A process that any signal reaching it would end (no handlers), as
 * @uid (or root with 0), optionally moved into cgroup @dir. */
pid_t
spawn_bystander (uid_t       uid,
                 const char *dir)
{
  pid_t pid = fork ();

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      close (guard_write);
      if (uid != 0 && (setresgid (uid, uid, uid) < 0 || setresuid (uid, uid, uid) < 0))
        _exit (2);
      /* After the uid change, which clears it. */
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () == 1)
        _exit (0);
      for (;;)
        pause ();
    }
  if (dir != NULL)
    move_to_cgroup (dir, pid);
  return pid;
}

gboolean
bystander_alive (pid_t pid)
{
  int status;

  return waitpid (pid, &status, WNOHANG) == 0;
}

void
bystander_end (pid_t pid)
{
  kill (pid, SIGKILL);
  g_assert_cmpint (waitpid (pid, NULL, 0), ==, pid);
}

void
copy_file (const char *from,
           const char *to,
           mode_t      mode)
{
  g_autofree char *data = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (from, &data, &len, NULL));
  g_assert_true (g_file_set_contents (to, data, (gssize) len, NULL));
  g_assert_cmpint (chmod (to, mode), ==, 0);
}

void
make_user_dir (const char *path)
{
  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);
  g_assert_cmpint (chown (path, test_uid, test_gid), ==, 0);
}

char *
make_user_file (const char *dir,
                const char *name,
                const char *content)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, content, -1, NULL));
  g_assert_cmpint (chmod (path, 0600), ==, 0);
  g_assert_cmpint (chown (path, test_uid, test_gid), ==, 0);
  return path;
}

gboolean
same_inode (const char *a,
            const char *b)
{
  struct stat sa, sb;

  return stat (a, &sa) == 0 && stat (b, &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Kills and removes every cgroup of our two uids, unmounts everything
 * below @dir and deletes it. Used after each test and, by the guardian
 * process, when this program dies in the middle of one. */
void
cleanup_everything (const char *dir)
{
  guint32 uids[] = { test_uid, other_uid };

  /* Anything still running as one of our uids, also outside its cgroup
   * (a broken placement must not leave a VMM behind). */
  {
    g_autoptr(GDir) procs = g_dir_open ("/proc", 0, NULL);
    const char *name;

    while (procs != NULL && (name = g_dir_read_name (procs)) != NULL)
      {
        g_autofree char *status_path = g_build_filename ("/proc", name, "status", NULL);
        g_autofree char *status = NULL;
        guint64 pid = 0;
        guint uid = 0;
        const char *line;

        if (!g_ascii_string_to_unsigned (name, 10, 2, G_MAXINT32, &pid, NULL) ||
            (status = read_text (status_path)) == NULL ||
            (line = strstr (status, "\nUid:\t")) == NULL ||
            sscanf (line, "\nUid:\t%u", &uid) != 1)
          continue;
        if (uid == test_uid || uid == other_uid)
          kill ((pid_t) pid, SIGKILL);
      }
  }

  for (guint u = 0; cgroup_root != NULL && u < G_N_ELEMENTS (uids); u++)
    {
      g_autofree char *uid_name = g_strdup_printf ("%u", uids[u]);
      g_autofree char *uid_dir = g_build_filename (cgroup_root, "banger", uid_name, NULL);
      g_autoptr(GDir) entries = g_dir_open (uid_dir, 0, NULL);
      const char *name;

      while (entries != NULL && (name = g_dir_read_name (entries)) != NULL)
        {
          g_autofree char *cg = g_build_filename (uid_dir, name, NULL);
          g_autofree char *kill_path = g_build_filename (cg, "cgroup.kill", NULL);
          int fd = open (kill_path, O_WRONLY | O_CLOEXEC);

          if (fd >= 0)
            {
              (void) !write (fd, "1", 1);
              close (fd);
            }
          wait_for (cgroup_empty, cg, 5000);
          g_rmdir (cg);
        }
      g_rmdir (uid_dir);
    }

  if (dir != NULL && g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GPtrArray) mounts = jail_mounts_below (dir, NULL);
      const char *rm[] = { "rm", "-rf", "--one-file-system", "--", dir, NULL };

      for (guint i = 0; mounts != NULL && i < mounts->len; i++)
        umount2 (mounts->pdata[i], MNT_DETACH | UMOUNT_NOFOLLOW);
      g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                    NULL, NULL);
    }
}

/* ------------------------------------------------------------- fixture */


void
set_config (Fixture    *fx,
            const char *jail_base,
            gboolean    with_jailer)
{
  g_autofree char *path = g_build_filename (fx->dir, "helper.conf", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  HelperConfig *config;

  if (with_jailer)
    text = g_strdup_printf ("[launch]\njailer=%s\nfirecracker=%s\njail-base=%s\n",
                            fx->jailer, fx->firecracker, jail_base);
  else
    text = g_strdup_printf ("[launch]\njail-base=%s\n", jail_base);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  config = helper_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (config->cgroup_root);
  helper_config_set_global (config);
}

void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  g_autofree char *name = g_strdup_printf ("t%u", ++fixture_count);
  g_autofree char *share = NULL;

  fx->dir = g_build_filename (top, name, NULL);
  fx->bin = g_build_filename (fx->dir, "bin", NULL);
  g_assert_cmpint (g_mkdir_with_parents (fx->bin, 0755), ==, 0);
  g_assert_cmpint (chmod (fx->dir, 0755), ==, 0);
  g_assert_cmpint (chmod (fx->bin, 0755), ==, 0);

  /* The programs, installed by root in a directory only root writes. */
  fx->jailer = g_build_filename (fx->bin, "jailer", NULL);
  fx->firecracker = g_build_filename (fx->bin, "firecracker", NULL);
  copy_file (g_getenv ("BANGER_FAKE_JAILER"), fx->jailer, 0755);
  copy_file (g_getenv ("BANGER_FAKE_VMM"), fx->firecracker, 0755);
  fx->jail_base = g_build_filename (fx->dir, "jail", NULL);
  set_config (fx, fx->jail_base, TRUE);

  /* The caller's home with their banger files. */
  fx->home = g_build_filename (fx->dir, "home", NULL);
  fx->state = g_build_filename (fx->home, ".local", "state", "banger", NULL);
  fx->images = g_build_filename (fx->state, "images", NULL);
  share = g_build_filename (fx->home, ".local", "share", "banger", NULL);
  make_user_dir (fx->home);
  g_assert_cmpint (chmod (fx->home, 0755), ==, 0);
  make_user_dir (fx->state);
  make_user_dir (fx->images);
  make_user_dir (share);
  {
    g_autofree char *local = g_build_filename (fx->home, ".local", NULL);
    g_autofree char *local_state = g_build_filename (local, "state", NULL);
    g_autofree char *local_share = g_build_filename (local, "share", NULL);
    make_user_dir (local);
    make_user_dir (local_state);
    make_user_dir (local_share);
  }
  fx->kernel = make_user_file (fx->state, "vmlinux", "kernel-bytes\n");
  fx->initrd = make_user_file (fx->state, "initrd.img", "initrd-bytes\n");
  fx->rootfs = make_user_file (fx->images, "rootfs.ext4", "rootfs-bytes\n");
  fx->data = make_user_file (share, "data.img", "data-bytes\n");
  fx->secret = g_build_filename (fx->dir, "secret", NULL);
  g_assert_true (g_file_set_contents (fx->secret, "SECRET\n", -1, NULL));
  g_assert_cmpint (chmod (fx->secret, 0600), ==, 0);

  fx->vm = g_strdup_printf ("lt%u-%d", fixture_count, (int) getpid ());
  fx->caller.uid = test_uid;
  fx->caller.gid = test_gid;
  fx->caller.home = g_strdup (fx->home);
}

void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) released = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *cg_uid = cgroup_uid_dir (test_uid);
  g_autofree char *jail_uid = jail_uid_dir (fx->jail_base, test_uid);
  g_autoptr(GPtrArray) mounts = NULL;

  launch_set_test_hook (NULL, NULL);
  vm_cgroup_set_test_hook (NULL, NULL);
  set_config (fx, fx->jail_base, TRUE);
  /* ReleaseAll's share must leave nothing of the uid behind. */
  g_assert_true (launch_release_all (test_uid, released, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (cg_uid, G_FILE_TEST_EXISTS));
  mounts = jail_mounts_below (fx->dir, NULL);
  g_assert_cmpuint (mounts->len, ==, 0);

  cleanup_everything (fx->dir);
  launch_caller_clear (&fx->caller);
  g_free (fx->dir); g_free (fx->bin); g_free (fx->jailer); g_free (fx->firecracker);
  g_free (fx->jail_base); g_free (fx->home); g_free (fx->state); g_free (fx->images);
  g_free (fx->kernel); g_free (fx->initrd); g_free (fx->rootfs); g_free (fx->data);
  g_free (fx->secret); g_free (fx->vm);
}

LaunchSpec *
make_spec (const char *kernel,
           const char *initrd,
           const char *rootfs,
           const char *data)
{
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariantBuilder) drives = g_variant_builder_new (G_VARIANT_TYPE ("a(sb)"));
  g_autoptr(GVariant) spec = NULL;
  g_autoptr(GError) error = NULL;
  LaunchSpec *parsed;

  g_variant_builder_add (builder, "{sv}", "kernel", g_variant_new_string (kernel));
  if (initrd != NULL)
    g_variant_builder_add (builder, "{sv}", "initrd", g_variant_new_string (initrd));
  if (rootfs != NULL)
    g_variant_builder_add (drives, "(sb)", rootfs, FALSE);
  if (data != NULL)
    g_variant_builder_add (drives, "(sb)", data, TRUE);
  g_variant_builder_add (builder, "{sv}", "drives", g_variant_builder_end (drives));
  spec = g_variant_ref_sink (g_variant_builder_end (builder));
  parsed = launch_spec_parse (spec, NULL, &error);
  g_assert_no_error (error);
  return parsed;
}

LaunchSpec *
fixture_spec (Fixture *fx)
{
  return make_spec (fx->kernel, fx->initrd, fx->rootfs, fx->data);
}

/* Launches @vm, reaps the jailer, waits for the VMM's report; returns the
 * jail root and the VMM's pid (in our pid namespace). */
char *
launch_ok (Fixture    *fx,
           const char *vm,
           LaunchSpec *spec,
           pid_t      *out_vmm)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *info = NULL;
  g_autofree char *pid_file = NULL;
  g_autofree char *pid_text = NULL;
  char *root = NULL;
  GPid pid = 0;
  int status = 0;

  g_assert_true (launch_vm (&fx->caller, vm, spec, &pid, &root, &error));
  g_assert_no_error (error);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);

  info = g_build_filename (root, "vmm-info", NULL);
  g_assert_true (wait_for (file_exists, info, 10000));
  pid_file = g_build_filename (root, "firecracker.pid", NULL);
  pid_text = read_text (pid_file);
  g_assert_nonnull (pid_text);
  *out_vmm = (pid_t) g_ascii_strtoll (pid_text, NULL, 10);
  g_assert_cmpint (*out_vmm, >, 1);
  return root;
}

char *
proc_field (pid_t       pid,
            const char *file,
            const char *prefix)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", (int) pid, file);
  g_autofree char *text = read_text (path);
  g_auto(GStrv) lines = g_strsplit (text != NULL ? text : "", "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_strdup (lines[i] + strlen (prefix));
  return NULL;
}

void
kill_and_wait (Fixture    *fx,
               const char *vm)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cg = cgroup_dir (test_uid, vm);

  g_assert_true (launch_kill (test_uid, vm, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (cgroup_empty, cg, 10000));
}

static void
guardian (int pipe_fd)
{
  int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  struct pollfd fds[2] = {
    { .fd = pipe_fd, .events = POLLIN },
    { .fd = pidfd_open (getppid (), 0), .events = POLLIN },
  };

  /* TAP goes to stdout: the guardian must never write there. Its own
   * session, deaf to SIGTERM/SIGINT/SIGHUP: a timeout that signals the
   * test's process group must not take the cleanup down with it. */
  dup2 (devnull, STDOUT_FILENO);
  setsid ();
  signal (SIGTERM, SIG_IGN);
  signal (SIGINT, SIG_IGN);
  signal (SIGHUP, SIG_IGN);
  /* Nobody writes to the pipe: it reports EOF when the test is done;
   * the pidfd reports the test process's end however it ended. */
  while (poll (fds, fds[1].fd >= 0 ? 2 : 1, -1) < 0 && errno == EINTR)
    ;
  cleanup_everything (top);
  _exit (0);
}

/* Everything a test run needs before its first test: root, a cgroup2
 * hierarchy, two unused uids, the top directory and the guardian. FALSE
 * (after g_test_skip) when the run cannot happen here. */
gboolean
launch_fixture_init (void)
{
  g_autoptr(HelperConfig) probe = NULL;
  int guard[2];

  if (getuid () != 0)
    {
      if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
        g_error ("needs root, and CI=true must not skip");
      g_test_skip ("needs root (cgroups, mounts, uid switch)");
      return FALSE;
    }
  g_assert_nonnull (g_getenv ("BANGER_FAKE_JAILER"));
  g_assert_nonnull (g_getenv ("BANGER_FAKE_VMM"));
  probe = helper_config_load ("/nonexistent/helper.conf", NULL);
  cgroup_root = g_strdup (probe->cgroup_root);
  if (cgroup_root == NULL)
    {
      if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
        g_error ("no cgroup2 hierarchy, and CI=true must not skip");
      g_test_skip ("no cgroup2 hierarchy");
      return FALSE;
    }

  /* Two uids no account uses, distinct per process (several test runs may
   * share the machine). */
  test_uid = 3000000u + (guint32) (getpid () % 1000000) * 2u;
  test_gid = test_uid;
  other_uid = test_uid + 1;
  top = g_build_filename ("/run", "banger-launch-test-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp_full (top, 0755));
  g_assert_cmpint (chmod (top, 0755), ==, 0);

  /* Whatever happens to this process, the guardian cleans up after it. */
  g_assert_cmpint (pipe2 (guard, O_CLOEXEC), ==, 0);
  guard_pid = fork ();
  g_assert_cmpint (guard_pid, >=, 0);
  if (guard_pid == 0)
    {
      close (guard[1]);
      guardian (guard[0]);
    }
  close (guard[0]);
  guard_write = guard[1];
  return TRUE;
}

/* Lets the guardian clean up, waits for it and checks nothing is left. */
void
launch_fixture_finish (void)
{
  helper_config_set_global (NULL);
  close (guard_write);
  waitpid (guard_pid, NULL, 0);
  g_assert_false (g_file_test (top, G_FILE_TEST_EXISTS));
  g_clear_pointer (&top, g_free);
  g_clear_pointer (&cgroup_root, g_free);
}
