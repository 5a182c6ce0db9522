/* test-launch-ops.c: Launch, Signal, Kill, CleanupJail and ReleaseAll's
 * share, for real as root: jails, bind mounts, cgroups, a stand-in VMM. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error.h"
#include "cgroup.h"
#include "helper-config.h"
#include "jail.h"
#include "launch-ops.h"

/* Everything this process makes lives below top (in /run: the programs
 * need directories only root can write, all the way up) and under the
 * cgroups banger/UID and banger/UID2 of two uids nobody else uses. */
static char    *top;
static guint32  test_uid, test_gid, other_uid;
static char    *cgroup_root;
static guint    fixture_count;
static int      guard_write = -1;   /* the guardian cleans up once it closes */

/* ------------------------------------------------------------- helpers */

static char *
read_text (const char *path)
{
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

static void
write_text (const char *path,
            const char *text)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, text, strlen (text)), ==, (gssize) strlen (text));
  close (fd);
}

static gboolean
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

static gboolean
file_exists (gconstpointer path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static char *
cgroup_dir (guint32     uid,
            const char *vm)
{
  g_autofree char *uid_name = g_strdup_printf ("%u", uid);

  return g_build_filename (cgroup_root, "banger", uid_name, vm, NULL);
}

static char *
cgroup_uid_dir (guint32 uid)
{
  g_autofree char *uid_name = g_strdup_printf ("%u", uid);

  return g_build_filename (cgroup_root, "banger", uid_name, NULL);
}

static gboolean
cgroup_empty (gconstpointer dir)
{
  g_autofree char *events_path = g_build_filename (dir, "cgroup.events", NULL);
  g_autofree char *events = read_text (events_path);

  return events == NULL || strstr (events, "populated 0") != NULL;
}

static gboolean
pid_listed (const char *dir,
            pid_t       pid)
{
  g_autofree char *procs_path = g_build_filename (dir, "cgroup.procs", NULL);
  g_autofree char *procs = read_text (procs_path);
  g_auto(GStrv) lines = g_strsplit (procs != NULL ? procs : "", "\n", -1);
  g_autofree char *want = g_strdup_printf ("%d", (int) pid);

  return g_strv_contains ((const char *const *) lines, want);
}

static void
move_to_cgroup (const char *dir,
                pid_t       pid)
{
  g_autofree char *procs = g_build_filename (dir, "cgroup.procs", NULL);
  g_autofree char *text = g_strdup_printf ("%d", (int) pid);

  write_text (procs, text);
}

/* A process that any signal reaching it would end (no handlers), as
 * @uid (or root with 0), optionally moved into cgroup @dir. */
static pid_t
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

static gboolean
bystander_alive (pid_t pid)
{
  int status;

  return waitpid (pid, &status, WNOHANG) == 0;
}

static void
bystander_end (pid_t pid)
{
  kill (pid, SIGKILL);
  g_assert_cmpint (waitpid (pid, NULL, 0), ==, pid);
}

static void
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

static void
make_user_dir (const char *path)
{
  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);
  g_assert_cmpint (chown (path, test_uid, test_gid), ==, 0);
}

static char *
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

static gboolean
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
static void
cleanup_everything (const char *dir)
{
  guint32 uids[] = { test_uid, other_uid };

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

typedef struct {
  char         *dir;
  char         *bin;
  char         *jailer;
  char         *firecracker;
  char         *jail_base;
  char         *home;
  char         *state;
  char         *images;
  char         *kernel;
  char         *initrd;
  char         *rootfs;
  char         *data;
  char         *secret;     /* root's, 0600: what an attacker wants */
  char         *vm;
  LaunchCaller  caller;
} Fixture;

static void
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

static void
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

static void
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

static LaunchSpec *
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

static LaunchSpec *
fixture_spec (Fixture *fx)
{
  return make_spec (fx->kernel, fx->initrd, fx->rootfs, fx->data);
}

/* Launches @vm, reaps the jailer, waits for the VMM's report; returns the
 * jail root and the VMM's pid (in our pid namespace). */
static char *
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

static char *
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

static void
kill_and_wait (Fixture    *fx,
               const char *vm)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cg = cgroup_dir (test_uid, vm);

  g_assert_true (launch_kill (test_uid, vm, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (cgroup_empty, cg, 10000));
}

/* --------------------------------------------------------------- tests */

static void
test_runs_vmm_as_caller_in_cgroup (Fixture       *fx,
                                   gconstpointer  data)
{
  g_autoptr(LaunchSpec) spec = fixture_spec (fx);
  g_autoptr(GError) error = NULL;
  g_autofree char *cg = cgroup_dir (test_uid, fx->vm);
  g_autofree char *want_cgroup = g_strdup_printf ("/banger/%u/%s", test_uid, fx->vm);
  g_autofree char *uid_dir = jail_uid_dir (fx->jail_base, test_uid);
  g_autofree char *vm_dir = g_build_filename (uid_dir, "firecracker", fx->vm, NULL);
  g_autofree char *want_root = g_build_filename (vm_dir, "root", NULL);
  g_autofree char *root = NULL;
  g_autofree char *ids = g_strdup_printf ("\t%u\t%u\t%u\t%u", test_uid, test_uid, test_uid, test_uid);
  g_autofree char *gids = g_strdup_printf ("\t%u\t%u\t%u\t%u", test_gid, test_gid, test_gid, test_gid);
  g_autofree char *value = NULL;
  g_autofree char *second_root = NULL;
  g_autofree char *info = NULL;
  g_autofree char *info_path = NULL;
  g_autofree char *jailer_info = NULL;
  g_autofree char *jailer_info_path = NULL;
  g_autofree char *want_argv = NULL;
  g_autofree char *sock = NULL;
  g_autofree char *victim_dir = g_build_filename (fx->dir, "victim", NULL);
  g_autofree char *victim_file = g_build_filename (victim_dir, "keep", NULL);
  g_autoptr(GPtrArray) mounts = NULL;
  const char *files[][2] = {
    { "vmlinux", fx->kernel }, { "initrd.img", fx->initrd },
    { "rootfs.ext4", fx->rootfs }, { "data.img", fx->data },
  };
  struct stat st;
  pid_t vmm = 0;
  GPid pid = 0;

  root = launch_ok (fx, fx->vm, spec, &vmm);
  g_assert_cmpstr (root, ==, want_root);

  /* The VMM: the caller's uid and gid (all four of each), no groups, in
   * the VM's cgroup, pid 1 of a new pid namespace. */
  value = proc_field (vmm, "status", "Uid:");
  g_assert_cmpstr (value, ==, ids);
  g_clear_pointer (&value, g_free);
  value = proc_field (vmm, "status", "Gid:");
  g_assert_cmpstr (value, ==, gids);
  g_clear_pointer (&value, g_free);
  value = proc_field (vmm, "status", "Groups:");
  g_assert_cmpstr (g_strstrip (value), ==, "");
  g_clear_pointer (&value, g_free);
  value = proc_field (vmm, "cgroup", "0::");
  g_assert_cmpstr (value, ==, want_cgroup);
  g_clear_pointer (&value, g_free);
  value = proc_field (vmm, "status", "NSpid:");
  g_assert_true (g_str_has_suffix (value, "\t1"));
  g_assert_true (pid_listed (cg, vmm));

  /* The jailer: started with exactly this argv, and already in the VM's
   * cgroup when it began (it read /proc/self/cgroup first thing). */
  jailer_info_path = g_build_filename (root, "jailer-info", NULL);
  jailer_info = read_text (jailer_info_path);
  g_assert_nonnull (strstr (jailer_info, want_cgroup));
  g_assert_nonnull (strstr (jailer_info, "uid=0\n"));
  want_argv = g_strdup_printf ("argv=jailer\nargv=--id\nargv=%s\nargv=--exec-file\nargv=%s\n"
                               "argv=--uid\nargv=%u\nargv=--gid\nargv=%u\n"
                               "argv=--chroot-base-dir\nargv=%s\nargv=--new-pid-ns\nargv=--\n"
                               "argv=--api-sock\nargv=/api.sock\n",
                               fx->vm, fx->firecracker, test_uid, test_gid, uid_dir);
  g_assert_true (g_str_has_suffix (jailer_info, want_argv));

  /* The files: hard links of the caller's own (same inode, not mounts),
   * read by the VMM under their base names. */
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *in_jail = g_build_filename (root, files[i][0], NULL);
      g_assert_true (same_inode (in_jail, files[i][1]));
      g_assert_cmpint (stat (in_jail, &st), ==, 0);
      g_assert_cmpuint (st.st_nlink, ==, 2);
    }
  mounts = jail_mounts_below (vm_dir, NULL);
  g_assert_cmpuint (mounts->len, ==, 0);
  info_path = g_build_filename (root, "vmm-info", NULL);
  info = read_text (info_path);
  g_test_message ("vmm-info:\n%s", info);
  g_assert_nonnull (strstr (info, "file vmlinux rw kernel-bytes\n"));
  g_assert_nonnull (strstr (info, "file initrd.img rw initrd-bytes\n"));
  g_assert_nonnull (strstr (info, "rootfs.ext4 rw rootfs-bytes\n"));
  g_assert_nonnull (strstr (info, "groups=0 api-sock=/api.sock\n"));

  /* Firecracker's socket lands at <jail root>/api.sock, the user's, and
   * umask 077 made what the VMM creates private. */
  sock = g_build_filename (root, "api.sock", NULL);
  g_assert_cmpint (lstat (sock, &st), ==, 0);
  g_assert_true (S_ISSOCK (st.st_mode));
  g_assert_cmpuint (st.st_uid, ==, test_uid);
  g_assert_cmpuint (st.st_mode & 077, ==, 0);
  g_assert_cmpint (lstat (info_path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 077, ==, 0);

  /* Running: a second Launch and a cleanup are refused. */
  g_assert_false (launch_vm (&fx->caller, fx->vm, spec, &pid, &second_root, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_false (launch_cleanup_jail (test_uid, fx->vm, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_true (g_file_test (root, G_FILE_TEST_IS_DIR));

  /* What the jail's user may plant in the jail (root/ is theirs): links
   * out of it, deep trees. Cleanup removes the links, not their targets. */
  g_assert_cmpint (mkdir (victim_dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (victim_file, "keep\n", -1, NULL));
  {
    g_autofree char *escape = g_build_filename (root, "escape", NULL);
    g_autofree char *escape_dir = g_build_filename (root, "escape-dir", NULL);
    g_autofree char *deep = g_build_filename (root, "a", "b", "c", "d", NULL);
    g_autofree char *deep_link = g_build_filename (deep, "up", NULL);
    g_autofree char *hard = g_build_filename (root, "hard", NULL);

    g_assert_cmpint (symlink (fx->secret, escape), ==, 0);
    g_assert_cmpint (symlink (victim_dir, escape_dir), ==, 0);
    g_assert_cmpint (g_mkdir_with_parents (deep, 0700), ==, 0);
    g_assert_cmpint (symlink ("/", deep_link), ==, 0);
    g_assert_cmpint (link (victim_file, hard), ==, 0);
  }

  kill_and_wait (fx, fx->vm);
  g_assert_true (launch_cleanup_jail (test_uid, fx->vm, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (cg, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (victim_file, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (fx->secret, G_FILE_TEST_IS_REGULAR));
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_assert_cmpint (stat (files[i][1], &st), ==, 0);
      g_assert_cmpuint (st.st_nlink, ==, 1);
    }
  g_clear_pointer (&info, g_free);
  info = read_text (fx->kernel);
  g_assert_cmpstr (info, ==, "kernel-bytes\n");

  /* Idempotent; and afterwards there is nothing to signal or kill. */
  g_assert_true (launch_cleanup_jail (test_uid, fx->vm, &error));
  g_assert_no_error (error);
  g_assert_false (launch_signal (test_uid, fx->vm, SIGTERM, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (launch_kill (test_uid, fx->vm, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
}

static void
test_bind_mounts_across_filesystems (Fixture       *fx,
                                     gconstpointer  data)
{
  g_autoptr(LaunchSpec) spec = fixture_spec (fx);
  g_autoptr(GError) error = NULL;
  g_autofree char *fs = g_build_filename (fx->dir, "jailfs", NULL);
  g_autofree char *jail_base = g_build_filename (fs, "jail", NULL);
  g_autofree char *uid_dir = jail_uid_dir (jail_base, test_uid);
  g_autofree char *vm_dir = g_build_filename (uid_dir, "firecracker", fx->vm, NULL);
  g_autofree char *root = NULL;
  g_autofree char *info_path = NULL;
  g_autofree char *info = NULL;
  g_autofree char *ro_line = NULL;
  g_autoptr(GPtrArray) mounts = NULL;
  const char *files[][2] = {
    { "vmlinux", fx->kernel }, { "initrd.img", fx->initrd },
    { "rootfs.ext4", fx->rootfs }, { "data.img", fx->data },
  };
  pid_t vmm = 0;
  int fd;

  /* The jail base on its own tmpfs: linking from the home fails (EXDEV). */
  g_assert_cmpint (mkdir (fs, 0755), ==, 0);
  g_assert_cmpint (mount ("banger-test", fs, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"), ==, 0);
  set_config (fx, jail_base, TRUE);

  root = launch_ok (fx, fx->vm, spec, &vmm);
  mounts = jail_mounts_below (vm_dir, NULL);
  g_assert_cmpuint (mounts->len, ==, G_N_ELEMENTS (files));
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *in_jail = g_build_filename (root, files[i][0], NULL);
      g_assert_true (same_inode (in_jail, files[i][1]));
      g_assert_true (g_ptr_array_find_with_equal_func (mounts, in_jail, g_str_equal, NULL));
    }

  /* The read-only drive is read-only even for root; the other is not. */
  {
    g_autofree char *ro = g_build_filename (root, "data.img", NULL);
    g_autofree char *rw = g_build_filename (root, "rootfs.ext4", NULL);

    g_assert_cmpint (open (ro, O_WRONLY | O_CLOEXEC), <, 0);
    g_assert_cmpint (errno, ==, EROFS);
    fd = open (rw, O_WRONLY | O_CLOEXEC);
    g_assert_cmpint (fd, >=, 0);
    close (fd);
  }
  info_path = g_build_filename (root, "vmm-info", NULL);
  info = read_text (info_path);
  g_test_message ("vmm-info:\n%s", info);
  g_assert_nonnull (strstr (info, "file vmlinux rw kernel-bytes\n"));
  g_assert_nonnull (strstr (info, "file rootfs.ext4 rw rootfs-bytes\n"));
  ro_line = g_strdup_printf ("file data.img ro(%d) data-bytes\n", EROFS);
  g_assert_nonnull (strstr (info, ro_line));

  g_assert_false (launch_cleanup_jail (test_uid, fx->vm, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  g_clear_pointer (&mounts, g_ptr_array_unref);
  mounts = jail_mounts_below (vm_dir, NULL);
  g_assert_cmpuint (mounts->len, ==, G_N_ELEMENTS (files));

  kill_and_wait (fx, fx->vm);
  g_assert_true (launch_cleanup_jail (test_uid, fx->vm, &error));
  g_assert_no_error (error);
  g_clear_pointer (&mounts, g_ptr_array_unref);
  mounts = jail_mounts_below (fs, NULL);
  g_assert_cmpuint (mounts->len, ==, 1);      /* the tmpfs itself */
  g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    g_assert_true (g_file_test (files[i][1], G_FILE_TEST_IS_REGULAR));

  set_config (fx, fx->jail_base, TRUE);
  g_assert_cmpint (umount2 (fs, MNT_DETACH), ==, 0);
}

typedef struct {
  const char *to;
  pid_t       pid;
  gboolean    done;
} MoveOut;

static void
move_out_hook (gpointer user_data)
{
  MoveOut *move = user_data;

  if (!move->done)
    move_to_cgroup (move->to, move->pid);
  move->done = TRUE;
}

static gboolean
signals_has (gconstpointer path)
{
  g_autofree char *text = read_text (path);

  return text != NULL && strstr (text, "USR1") != NULL;
}

static void
test_signal_reaches_only_vm_cgroup (Fixture       *fx,
                                    gconstpointer  data)
{
  g_autoptr(LaunchSpec) spec = fixture_spec (fx);
  g_autoptr(GError) error = NULL;
  g_autofree char *cg = cgroup_dir (test_uid, fx->vm);
  g_autofree char *twin = cgroup_dir (other_uid, fx->vm);
  g_autofree char *twin_parent = g_path_get_dirname (twin);
  g_autofree char *root = NULL;
  g_autofree char *signals = NULL;
  g_autofree char *text = NULL;
  MoveOut move = { cgroup_root, 0, FALSE };
  pid_t vmm = 0, twin_pid, nobody_pid, leaver_pid;

  root = launch_ok (fx, fx->vm, spec, &vmm);
  signals = g_build_filename (root, "signals", NULL);

  /* Bystanders: the same VM name under another uid; uid 65534 outside
   * banger; and one in the VM's cgroup that leaves it after Signal read
   * cgroup.procs but before it signals (the hook). Any signal kills them. */
  g_assert_cmpint (g_mkdir_with_parents (twin, 0755), ==, 0);
  twin_pid = spawn_bystander (0, twin);
  nobody_pid = spawn_bystander (65534, NULL);
  leaver_pid = spawn_bystander (0, cg);
  g_assert_true (pid_listed (cg, leaver_pid));
  move.pid = leaver_pid;
  vm_cgroup_set_test_hook (move_out_hook, &move);

  g_assert_true (launch_signal (test_uid, fx->vm, SIGUSR1, &error));
  g_assert_no_error (error);
  g_assert_true (move.done);
  g_assert_false (pid_listed (cg, leaver_pid));
  g_assert_true (wait_for (signals_has, signals, 5000));
  g_usleep (100000);
  g_assert_true (bystander_alive (twin_pid));
  g_assert_true (bystander_alive (nobody_pid));
  g_assert_true (bystander_alive (leaver_pid));
  g_assert_cmpint (kill (1, 0), ==, 0);

  /* VMs that are not the caller's (or do not exist) are not found. */
  g_assert_false (launch_signal (test_uid, "no-such-vm", SIGKILL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (launch_kill (test_uid, "no-such-vm", &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (launch_kill (test_uid, "../../..", &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* TERM: the VMM's handler sees it (it is pid 1 of its namespace, so only
   * handled signals arrive) and exits; nothing else is touched. */
  vm_cgroup_set_test_hook (NULL, NULL);
  g_assert_true (launch_signal (test_uid, fx->vm, SIGTERM, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (cgroup_empty, cg, 10000));
  text = read_text (signals);
  g_assert_cmpstr (text, ==, "USR1\nTERM\n");

  /* Kill of the (now empty) VM: nothing else dies either. */
  g_assert_true (launch_kill (test_uid, fx->vm, &error));
  g_assert_no_error (error);
  g_usleep (100000);
  g_assert_true (bystander_alive (twin_pid));
  g_assert_true (bystander_alive (nobody_pid));
  g_assert_true (bystander_alive (leaver_pid));

  bystander_end (twin_pid);
  bystander_end (nobody_pid);
  bystander_end (leaver_pid);
  g_assert_true (wait_for (cgroup_empty, twin, 5000));
  g_assert_cmpint (g_rmdir (twin), ==, 0);
  g_assert_cmpint (g_rmdir (twin_parent), ==, 0);
}

static void
test_kill_spares_other_cgroups (Fixture       *fx,
                                gconstpointer  data)
{
  g_autoptr(LaunchSpec) spec = fixture_spec (fx);
  g_autofree char *twin = cgroup_dir (other_uid, fx->vm);
  g_autofree char *twin_parent = g_path_get_dirname (twin);
  g_autofree char *root = NULL;
  pid_t vmm = 0, twin_pid, nobody_pid;

  root = launch_ok (fx, fx->vm, spec, &vmm);
  g_assert_cmpint (g_mkdir_with_parents (twin, 0755), ==, 0);
  twin_pid = spawn_bystander (0, twin);
  nobody_pid = spawn_bystander (65534, NULL);

  kill_and_wait (fx, fx->vm);
  g_usleep (100000);
  g_assert_true (bystander_alive (twin_pid));
  g_assert_true (bystander_alive (nobody_pid));
  g_assert_cmpint (kill (1, 0), ==, 0);

  bystander_end (twin_pid);
  bystander_end (nobody_pid);
  g_assert_true (wait_for (cgroup_empty, twin, 5000));
  g_assert_cmpint (g_rmdir (twin), ==, 0);
  g_assert_cmpint (g_rmdir (twin_parent), ==, 0);
}

static void
assert_nothing_launched (Fixture *fx)
{
  g_autofree char *cg = cgroup_dir (test_uid, fx->vm);
  g_autofree char *uid_dir = jail_uid_dir (fx->jail_base, test_uid);
  g_autofree char *vm_dir = g_build_filename (uid_dir, "firecracker", fx->vm, NULL);

  g_assert_true (!g_file_test (cg, G_FILE_TEST_EXISTS) || cgroup_empty (cg));
  g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));
}

static void
assert_launch_refused (Fixture    *fx,
                       LaunchSpec *spec,
                       gint        code)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = NULL;
  GPid pid = 0;

  g_assert_false (launch_vm (&fx->caller, fx->vm, spec, &pid, &root, &error));
  g_assert_error (error, BANGER_ERROR, code);
  g_test_message ("refused: %s", error->message);
  assert_nothing_launched (fx);
}

static void
test_refuses_symlinked_files (Fixture       *fx,
                              gconstpointer  data)
{
  g_autofree char *leaf = g_build_filename (fx->state, "vmlinux-link", NULL);
  g_autofree char *to_secret = g_build_filename (fx->state, "secret-link", NULL);
  g_autofree char *dir_link = g_build_filename (fx->state, "images-link", NULL);
  g_autofree char *via_dir_link = g_build_filename (dir_link, "rootfs.ext4", NULL);
  g_autofree char *foreign = g_build_filename (fx->state, "foreign.img", NULL);
  g_autofree char *outside = g_build_filename (fx->home, "id_rsa", NULL);
  g_autofree char *escape = g_build_filename (fx->state, "..", "..", "..", "id_rsa", NULL);

  g_assert_cmpint (symlink (fx->kernel, leaf), ==, 0);
  g_assert_cmpint (symlink (fx->secret, to_secret), ==, 0);
  g_assert_cmpint (symlink (fx->images, dir_link), ==, 0);
  g_assert_true (g_file_set_contents (foreign, "x", -1, NULL));
  g_assert_cmpint (chown (foreign, 65534, 65534), ==, 0);
  g_free (make_user_file (fx->home, "id_rsa", "key"));

  {
    g_autoptr(LaunchSpec) spec = make_spec (leaf, NULL, NULL, NULL);
    assert_launch_refused (fx, spec, BANGER_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr(LaunchSpec) spec = make_spec (to_secret, NULL, NULL, NULL);
    assert_launch_refused (fx, spec, BANGER_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr(LaunchSpec) spec = make_spec (fx->kernel, NULL, via_dir_link, NULL);
    assert_launch_refused (fx, spec, BANGER_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr(LaunchSpec) spec = make_spec (fx->kernel, NULL, NULL, foreign);
    assert_launch_refused (fx, spec, BANGER_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr(LaunchSpec) spec = make_spec (outside, NULL, NULL, NULL);
    assert_launch_refused (fx, spec, BANGER_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr(GVariant) v = g_variant_ref_sink (g_variant_new_parsed ("{'kernel': <%s>}", escape));
    g_autoptr(GError) error = NULL;
    g_assert_null (launch_spec_parse (v, NULL, &error));
    g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  }
  {
    /* Two files of one name; a file named like the VMM's copy in the jail
     * (only known once the configuration is: checked by launch_vm). */
    g_autofree char *clash = make_user_file (fx->images, "vmlinux", "other");
    g_autofree char *named_fc = make_user_file (fx->images, "firecracker", "evil");
    g_autoptr(GVariant) v = g_variant_ref_sink (
      g_variant_new_parsed ("{'kernel': <%s>, 'drives': <[(%s, false)]>}", fx->kernel, clash));
    g_autoptr(LaunchSpec) spec = make_spec (named_fc, NULL, NULL, NULL);
    g_autoptr(GError) error = NULL;

    g_assert_null (launch_spec_parse (v, NULL, &error));
    g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
    assert_launch_refused (fx, spec, BANGER_ERROR_INVALID_ARGUMENT);
  }
}

typedef struct {
  Fixture *fx;
  char    *evil_images;
} Swap;

/* Runs after launch_vm opened and checked every file, before it uses them:
 * what an attacker racing the helper would do. */
static void
swap_hook (gpointer user_data)
{
  Swap *swap = user_data;
  Fixture *fx = swap->fx;
  g_autofree char *kernel_orig = g_strconcat (fx->kernel, ".orig", NULL);
  g_autofree char *images_orig = g_strconcat (fx->images, ".orig", NULL);

  /* The leaf becomes a symlink to root's secret; the directory on the way
   * to the rootfs becomes a symlink to other files. */
  g_assert_cmpint (rename (fx->kernel, kernel_orig), ==, 0);
  g_assert_cmpint (symlink (fx->secret, fx->kernel), ==, 0);
  g_assert_cmpint (rename (fx->images, images_orig), ==, 0);
  g_assert_cmpint (symlink (swap->evil_images, fx->images), ==, 0);
}

static void
test_swap_after_check_changes_nothing (Fixture       *fx,
                                       gconstpointer  data)
{
  g_autoptr(LaunchSpec) spec = make_spec (fx->kernel, NULL, fx->rootfs, NULL);
  g_autofree char *evil = g_build_filename (fx->dir, "evil-images", NULL);
  g_autofree char *evil_rootfs = g_build_filename (evil, "rootfs.ext4", NULL);
  g_autofree char *kernel_orig = g_strconcat (fx->kernel, ".orig", NULL);
  g_autofree char *rootfs_orig = g_build_filename (fx->state, "images.orig", "rootfs.ext4", NULL);
  g_autofree char *root = NULL;
  g_autofree char *in_jail = NULL;
  g_autofree char *text = NULL;
  g_autofree char *info_path = NULL;
  Swap swap = { fx, evil };
  pid_t vmm = 0;

  g_assert_cmpint (mkdir (evil, 0755), ==, 0);
  g_assert_true (g_file_set_contents (evil_rootfs, "EVIL\n", -1, NULL));
  launch_set_test_hook (swap_hook, &swap);

  root = launch_ok (fx, fx->vm, spec, &vmm);
  launch_set_test_hook (NULL, NULL);

  /* The jail got the files that were checked, not what the paths name now. */
  in_jail = g_build_filename (root, "vmlinux", NULL);
  g_assert_true (same_inode (in_jail, kernel_orig));
  text = read_text (in_jail);
  g_assert_cmpstr (text, ==, "kernel-bytes\n");
  g_clear_pointer (&in_jail, g_free);
  g_clear_pointer (&text, g_free);
  in_jail = g_build_filename (root, "rootfs.ext4", NULL);
  g_assert_true (same_inode (in_jail, rootfs_orig));
  g_assert_false (same_inode (in_jail, evil_rootfs));
  info_path = g_build_filename (root, "vmm-info", NULL);
  text = read_text (info_path);
  g_assert_nonnull (strstr (text, "file vmlinux rw kernel-bytes\n"));
  g_assert_null (strstr (text, "SECRET"));
  g_assert_null (strstr (text, "EVIL"));

  kill_and_wait (fx, fx->vm);
}

static void
test_refuses_unsafe_programs (Fixture       *fx,
                              gconstpointer  data)
{
  g_autoptr(LaunchSpec) spec = make_spec (fx->kernel, NULL, NULL, NULL);
  g_autofree char *real = g_strconcat (fx->jailer, ".real", NULL);

  /* The jailer or firecracker: owned by a user, group- or world-writable,
   * a symlink, a directory; or a directory on the way writable or owned
   * by a user. Each is refused before anything is created. */
  g_assert_cmpint (chown (fx->jailer, test_uid, 0), ==, 0);
  assert_launch_refused (fx, spec, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_cmpint (chown (fx->jailer, 0, 0), ==, 0);

  g_assert_cmpint (chmod (fx->jailer, 0777), ==, 0);
  assert_launch_refused (fx, spec, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_cmpint (chmod (fx->jailer, 0775), ==, 0);
  assert_launch_refused (fx, spec, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_cmpint (chmod (fx->jailer, 0755), ==, 0);

  g_assert_cmpint (chmod (fx->firecracker, 0757), ==, 0);
  assert_launch_refused (fx, spec, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_cmpint (chmod (fx->firecracker, 0755), ==, 0);
  g_assert_cmpint (chown (fx->firecracker, test_uid, test_gid), ==, 0);
  assert_launch_refused (fx, spec, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_cmpint (chown (fx->firecracker, 0, 0), ==, 0);

  g_assert_cmpint (rename (fx->jailer, real), ==, 0);
  g_assert_cmpint (symlink (real, fx->jailer), ==, 0);
  assert_launch_refused (fx, spec, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_cmpint (unlink (fx->jailer), ==, 0);
  g_assert_cmpint (mkdir (fx->jailer, 0755), ==, 0);
  assert_launch_refused (fx, spec, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_cmpint (rmdir (fx->jailer), ==, 0);
  g_assert_cmpint (rename (real, fx->jailer), ==, 0);

  g_assert_cmpint (chmod (fx->bin, 0775), ==, 0);
  assert_launch_refused (fx, spec, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_cmpint (chmod (fx->bin, 01777), ==, 0);
  assert_launch_refused (fx, spec, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_cmpint (chmod (fx->bin, 0755), ==, 0);
  g_assert_cmpint (chown (fx->bin, test_uid, 0), ==, 0);
  assert_launch_refused (fx, spec, BANGER_ERROR_NOT_SUPPORTED);
  g_assert_cmpint (chown (fx->bin, 0, 0), ==, 0);

  /* No jailer configured at all. */
  set_config (fx, fx->jail_base, FALSE);
  assert_launch_refused (fx, spec, BANGER_ERROR_NOT_SUPPORTED);
  set_config (fx, fx->jail_base, TRUE);

  /* And with everything put back, it launches. */
  {
    g_autofree char *root = NULL;
    pid_t vmm = 0;

    root = launch_ok (fx, fx->vm, spec, &vmm);
    kill_and_wait (fx, fx->vm);
  }
}

static void
test_never_as_root (Fixture       *fx,
                    gconstpointer  data)
{
  g_autoptr(LaunchSpec) spec = make_spec (fx->kernel, NULL, NULL, NULL);
  g_auto(LaunchCaller) looked_up = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *root_cg = NULL;

  fx->caller.uid = 0;
  assert_launch_refused (fx, spec, BANGER_ERROR_NOT_SUPPORTED);
  fx->caller.uid = test_uid;
  fx->caller.gid = 0;
  assert_launch_refused (fx, spec, BANGER_ERROR_NOT_SUPPORTED);
  fx->caller.gid = test_gid;

  g_assert_false (launch_caller_lookup (0, &looked_up, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
  root_cg = g_build_filename (cgroup_root, "banger", "0", NULL);
  g_assert_false (g_file_test (root_cg, G_FILE_TEST_EXISTS));
}

static void
test_release_all_removes_everything (Fixture       *fx,
                                     gconstpointer  data)
{
  g_autoptr(LaunchSpec) spec = make_spec (fx->kernel, NULL, fx->rootfs, NULL);
  g_autoptr(GPtrArray) released = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *vm2 = g_strconcat (fx->vm, "-b", NULL);
  g_autofree char *cg_uid = cgroup_uid_dir (test_uid);
  g_autofree char *uid_dir = jail_uid_dir (fx->jail_base, test_uid);
  g_autofree char *jails = g_build_filename (uid_dir, "firecracker", NULL);
  g_autofree char *root1 = NULL;
  g_autofree char *root2 = NULL;
  const char *want[4];
  pid_t vmm1 = 0, vmm2 = 0;

  root1 = launch_ok (fx, fx->vm, spec, &vmm1);
  root2 = launch_ok (fx, vm2, spec, &vmm2);

  g_assert_true (launch_release_all (test_uid, released, &error));
  g_assert_no_error (error);
  want[0] = g_strconcat ("jail:", fx->vm, NULL);
  want[1] = g_strconcat ("cgroup:", fx->vm, NULL);
  want[2] = g_strconcat ("jail:", vm2, NULL);
  want[3] = g_strconcat ("cgroup:", vm2, NULL);
  g_assert_cmpuint (released->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      g_assert_true (g_ptr_array_find_with_equal_func (released, want[i], g_str_equal, NULL));
      g_free ((char *) want[i]);
    }
  g_assert_false (g_file_test (cg_uid, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (root1, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (root2, G_FILE_TEST_EXISTS));
  /* Gone (or a zombie waiting for PID 1 to reap it). */
  {
    g_autofree char *state = proc_field (vmm1, "status", "State:");
    g_assert_true (state == NULL || g_str_has_prefix (state, "\tZ"));
  }

  g_ptr_array_set_size (released, 0);
  g_assert_true (launch_release_all (test_uid, released, &error));
  g_assert_cmpuint (released->len, ==, 0);
}

/* ----------------------------------------------------------------- main */

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

int
main (int    argc,
      char **argv)
{
  g_autoptr(HelperConfig) probe = NULL;
  int guard[2];
  pid_t guard_pid;
  int status;

  g_test_init (&argc, &argv, NULL);

  if (getuid () != 0)
    {
      if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
        g_error ("needs root, and CI=true must not skip");
      g_test_skip ("needs root (cgroups, mounts, uid switch)");
      return g_test_run ();
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
      return g_test_run ();
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

  g_test_add ("/helper/launch/host/runs-vmm-as-caller-in-vm-cgroup", Fixture, NULL,
              fixture_setup, test_runs_vmm_as_caller_in_cgroup, fixture_teardown);
  g_test_add ("/helper/launch/host/bind-mounts-across-filesystems", Fixture, NULL,
              fixture_setup, test_bind_mounts_across_filesystems, fixture_teardown);
  g_test_add ("/helper/launch/host/signal-reaches-only-vm-cgroup", Fixture, NULL,
              fixture_setup, test_signal_reaches_only_vm_cgroup, fixture_teardown);
  g_test_add ("/helper/launch/host/kill-spares-other-cgroups", Fixture, NULL,
              fixture_setup, test_kill_spares_other_cgroups, fixture_teardown);
  g_test_add ("/helper/launch/host/refuses-symlinked-or-foreign-files", Fixture, NULL,
              fixture_setup, test_refuses_symlinked_files, fixture_teardown);
  g_test_add ("/helper/launch/host/swap-after-check-changes-nothing", Fixture, NULL,
              fixture_setup, test_swap_after_check_changes_nothing, fixture_teardown);
  g_test_add ("/helper/launch/host/refuses-unsafe-programs", Fixture, NULL,
              fixture_setup, test_refuses_unsafe_programs, fixture_teardown);
  g_test_add ("/helper/launch/host/never-as-root", Fixture, NULL,
              fixture_setup, test_never_as_root, fixture_teardown);
  g_test_add ("/helper/launch/host/release-all-removes-everything", Fixture, NULL,
              fixture_setup, test_release_all_removes_everything, fixture_teardown);

  status = g_test_run ();

  helper_config_set_global (NULL);
  close (guard[1]);
  waitpid (guard_pid, NULL, 0);
  g_assert_false (g_file_test (top, G_FILE_TEST_EXISTS));
  g_free (top);
  g_free (cgroup_root);
  return status;
}
