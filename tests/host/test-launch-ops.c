/* test-launch-ops.c: Launch, Signal, Kill, CleanupJail and ReleaseAll's
 * share, for real as root: jails, bind mounts, cgroups, a stand-in VMM. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error.h"
#include "cgroup.h"
#include "helper-config.h"
#include "jail.h"
#include "launch-ops.h"

#include "launch-fixture.h"

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

  /* The jail base on its own tmpfs: linking from the home fails (EXDEV).
   * And the home read-only, as the helper sees it under systemd's
   * ProtectHome=read-only: writable drives must stay writable. */
  g_assert_cmpint (mkdir (fs, 0755), ==, 0);
  g_assert_cmpint (mount ("banger-test", fs, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"), ==, 0);
  set_config (fx, jail_base, TRUE);
  g_assert_cmpint (mount (fx->home, fx->home, NULL, MS_BIND, NULL), ==, 0);
  g_assert_cmpint (mount (NULL, fx->home, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), ==, 0);
  g_assert_cmpint (open (fx->rootfs, O_WRONLY | O_CLOEXEC), <, 0);
  g_assert_cmpint (errno, ==, EROFS);

  root = launch_ok (fx, fx->vm, spec, &vmm);
  g_assert_cmpint (umount2 (fx->home, MNT_DETACH), ==, 0);
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


/* The capabilities the launch methods need (docs/privileges.md and the
 * report on data/systemd/banger-helper.service): no CAP_FOWNER, and
 * CAP_DAC_OVERRIDE only for the jailer, which fills the chroot as root
 * after handing it to the user (pid file, /dev, /run). */
static const int launch_caps[] = {
  CAP_SYS_ADMIN, CAP_DAC_READ_SEARCH, CAP_DAC_OVERRIDE, CAP_SYS_CHROOT,
  CAP_MKNOD, CAP_CHOWN, CAP_SETUID, CAP_SETGID, CAP_KILL,
};

/* Like CapabilityBoundingSet=: everything else dropped from the bounding
 * set (so the jailer's exec cannot regain it) and from the current sets;
 * @except is dropped too (-1: nothing). Only ever in a child. */
static void
keep_only_caps (int except)
{
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct caps[2] = { { 0 } };
  g_autofree char *last_text = read_text ("/proc/sys/kernel/cap_last_cap");
  int last = last_text != NULL ? atoi (last_text) : CAP_LAST_CAP;

  for (int cap = 0; cap <= last; cap++)
    {
      gboolean keep = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (launch_caps); i++)
        keep |= launch_caps[i] == cap && cap != except;
      if (keep)
        {
          caps[cap / 32].effective |= 1u << (cap % 32);
          caps[cap / 32].permitted |= 1u << (cap % 32);
        }
      else if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
        _exit (3);
    }
  if (syscall (SYS_capset, &header, caps) < 0)
    _exit (4);
}

/* Launch, Signal and Kill in a child with only launch_caps, then
 * CleanupJail in another without CAP_DAC_OVERRIDE either (root/ is the
 * user's, 0700). @read_only_home: as under ProtectHome=read-only. */
static void
test_works_with_launch_capabilities (Fixture       *fx,
                                     gconstpointer  data)
{
  gboolean read_only_home = GPOINTER_TO_INT (data);
  g_autofree char *cg = cgroup_dir (test_uid, fx->vm);
  g_autofree char *uid_dir = jail_uid_dir (fx->jail_base, test_uid);
  g_autofree char *vm_dir = g_build_filename (uid_dir, "firecracker", fx->vm, NULL);
  g_autofree char *root = g_build_filename (vm_dir, "root", NULL);
  pid_t child;
  int status = 0;
  struct stat st;

  if (read_only_home)
    {
      g_assert_cmpint (mount (fx->home, fx->home, NULL, MS_BIND, NULL), ==, 0);
      g_assert_cmpint (mount (NULL, fx->home, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), ==, 0);
    }

  child = fork ();
  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    {
      g_autoptr(LaunchSpec) spec = fixture_spec (fx);
      g_autofree char *jail_root = NULL;
      g_autofree char *signals = NULL;
      g_autoptr(GPtrArray) mounts = NULL;
      g_autoptr(GError) error = NULL;
      pid_t vmm = 0;

      keep_only_caps (-1);
      /* Across the read-only mount (EXDEV) the files are bind-mounted;
       * else hard-linked (CAP_DAC_OVERRIDE satisfies protected_hardlinks
       * without CAP_FOWNER). */
      jail_root = launch_ok (fx, fx->vm, spec, &vmm);
      mounts = jail_mounts_below (vm_dir, NULL);
      g_assert_cmpuint (mounts->len, ==, read_only_home ? 4 : 0);
      g_assert_true (launch_signal (test_uid, fx->vm, SIGUSR1, &error));
      signals = g_build_filename (jail_root, "signals", NULL);
      g_assert_true (wait_for (file_exists, signals, 5000));
      g_assert_true (launch_kill (test_uid, fx->vm, &error));
      g_assert_true (wait_for (cgroup_empty, cg, 10000));
      _exit (0);
    }
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_cmpint (stat (root, &st), ==, 0);
  g_assert_cmpuint (st.st_uid, ==, test_uid);
  g_assert_cmpuint (st.st_mode & 0777, ==, 0700);

  child = fork ();
  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    {
      g_autoptr(GError) error = NULL;

      keep_only_caps (CAP_DAC_OVERRIDE);
      _exit (launch_cleanup_jail (test_uid, fx->vm, &error) ? 0 : 6);
    }
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  if (read_only_home)
    g_assert_cmpint (umount2 (fx->home, MNT_DETACH), ==, 0);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (cg, G_FILE_TEST_EXISTS));
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  if (!launch_fixture_init ())
    return g_test_run ();

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

  g_test_add ("/helper/launch/host/works-with-only-the-launch-capabilities", Fixture,
              GINT_TO_POINTER (FALSE),
              fixture_setup, test_works_with_launch_capabilities, fixture_teardown);
  g_test_add ("/helper/launch/host/works-with-launch-capabilities-and-read-only-home",
              Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_works_with_launch_capabilities, fixture_teardown);

  status = g_test_run ();
  launch_fixture_finish ();
  return status;
}
