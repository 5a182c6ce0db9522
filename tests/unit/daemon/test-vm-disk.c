/* test-vm-disk.c: real ext4 disks made by mkfs.ext4 -d are valid, sparse and
 * carry the boot config; every refusal or failure leaves the VM dir as it was. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "banger-error.h"
#include "vm-disk.h"

#define MIB (G_GUINT64_CONSTANT (1) << 20)
#define GIB (G_GUINT64_CONSTANT (1) << 30)
#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0Vx3lV9n7b1C1f8oQd2nZs0m0P5w4oT2b0kq7b3Qy alice@laptop"
#define EXPECTED_CONF \
  "version=1\nhostname=web\nipv4=172.30.0.2/24\ngateway=172.30.0.1\n" \
  "mac=02:bd:00:1e:00:02\nresolver=172.30.0.1\nagent_vsock_port=52\n"

typedef struct {
  char *dir;
} Fixture;

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  /* Under the build dir, not /tmp: /tmp may be a size-limited tmpfs. */
  const char *build = g_getenv ("BANGER_BUILD_DIR");
  g_autofree char *tmpl = g_build_filename (build != NULL ? build : g_get_tmp_dir (),
                                            "test-vm-disk-XXXXXX", NULL);

  f->dir = g_mkdtemp (g_steal_pointer (&tmpl));
  g_assert_nonnull (f->dir);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  remove_tree (f->dir);
  g_free (f->dir);
}

static char *
find_tool (const char *name)
{
  g_autofree char *usr = g_build_filename ("/usr/sbin", name, NULL);
  g_autofree char *sbin = g_build_filename ("/sbin", name, NULL);
  char *found = g_find_program_in_path (name);

  if (found == NULL && g_file_test (usr, G_FILE_TEST_IS_EXECUTABLE))
    found = g_steal_pointer (&usr);
  if (found == NULL && g_file_test (sbin, G_FILE_TEST_IS_EXECUTABLE))
    found = g_steal_pointer (&sbin);
  return found;
}

/* Skips the test (with the reason) unless e2fsprogs is installed. */
static gboolean
have_e2fsprogs (void)
{
  static const char *const tools[] = { "mkfs.ext4", "debugfs", "e2fsck" };

  for (guint i = 0; i < G_N_ELEMENTS (tools); i++)
    {
      g_autofree char *path = find_tool (tools[i]);

      if (path == NULL)
        {
          g_autofree char *why = g_strdup_printf ("%s not found; install e2fsprogs", tools[i]);
          g_test_skip (why);
          return FALSE;
        }
    }
  return TRUE;
}

static BootConfig *
test_config (void)
{
  BootConfig *c = boot_config_new ();
  const char *resolvers[] = { "172.30.0.1", NULL };

  c->hostname = g_strdup ("web");
  c->ipv4_address = g_strdup ("172.30.0.2");
  c->ipv4_prefix = 24;
  c->gateway = g_strdup ("172.30.0.1");
  c->mac = g_strdup ("02:bd:00:1e:00:02");
  c->resolvers = g_strdupv ((char **) resolvers);
  c->ssh_authorized_key = g_strdup (KEY);
  c->agent_vsock_port = 52;
  return c;
}

static void
store_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static gboolean
create_disk (const char *dir, const char *name, guint64 size, const BootConfig *config,
             GCancellable *cancellable, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  vm_disk_create_async (dir, name, size, config, cancellable, store_result, &result);
  return vm_disk_create_finish (wait_for (&result), error);
}

static gboolean
copy_root (const char *image, const char *dest, GCancellable *cancellable,
           VmRootCopyMethod *method, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  vm_disk_copy_root_async (image, dest, cancellable, store_result, &result);
  return vm_disk_copy_root_finish (wait_for (&result), method, error);
}

static guint
count_entries (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Runs debugfs read-only on @disk and returns what it printed on stdout. */
static char *
debugfs (const char *disk, const char *request)
{
  g_autofree char *tool = find_tool ("debugfs");
  const char *argv[] = { tool, "-R", request, disk, NULL };
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  int status;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return out;
}

/* The label, straight from the ext4 superblock (s_volume_name at 1024+120). */
static char *
read_label (const char *disk)
{
  g_autoptr(GMappedFile) map = g_mapped_file_new (disk, FALSE, NULL);
  const guint8 *sb;

  g_assert_nonnull (map);
  sb = (const guint8 *) g_mapped_file_get_contents (map) + 1024;
  g_assert_cmpuint (sb[0x38] | (sb[0x39] << 8), ==, 0xEF53);
  return g_strndup ((const char *) sb + 0x78, 16);
}

static void
test_makes_valid_sparse_ext4_with_boot_config (Fixture *f, gconstpointer data)
{
  g_autoptr(BootConfig) config = test_config ();
  g_autoptr(GError) error = NULL;
  g_autofree char *disk = g_build_filename (f->dir, "disk.ext4", NULL);
  g_autofree char *e2fsck = NULL;
  g_autofree char *conf = NULL, *keys = NULL, *overlay = NULL, *label = NULL, *root = NULL;
  const char *fsck_argv[] = { NULL, "-fn", disk, NULL };
  struct stat st;
  gint64 start;
  int status;

  if (!have_e2fsprogs ())
    return;
  start = g_get_monotonic_time ();
  g_assert_true (create_disk (f->dir, "disk.ext4", 8 * GIB, config, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("vm_disk_create of an 8 GiB disk took %.1f ms",
                  (g_get_monotonic_time () - start) / 1000.0);

  /* Only the disk: the staging dir is gone. */
  g_assert_cmpuint (count_entries (f->dir), ==, 1);
  g_assert_cmpint (g_lstat (disk, &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_assert_cmpuint (st.st_size, ==, 8 * GIB);
  g_test_message ("8 GiB disk allocates %" G_GUINT64_FORMAT " KiB",
                  (guint64) st.st_blocks * 512 / 1024);
  g_assert_cmpuint ((guint64) st.st_blocks * 512, <, 256 * MIB);

  fsck_argv[0] = e2fsck = find_tool ("e2fsck");
  g_assert_true (g_spawn_sync (NULL, (char **) fsck_argv, NULL,
                               G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, &error));
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  label = read_label (disk);
  g_assert_cmpstr (label, ==, "banger-disk");
  conf = debugfs (disk, "cat /banger/vm.conf");
  g_assert_cmpstr (conf, ==, EXPECTED_CONF);
  keys = debugfs (disk, "cat /banger/authorized_keys");
  g_assert_cmpstr (keys, ==, KEY "\n");
  /* The root (the first entry, ".") is 0755 root:root, not the staging
   * dir's 0700 and the host user's uid. */
  root = debugfs (disk, "ls -l /");
  g_assert_true (g_regex_match_simple ("^ *2 +40755 \\(2\\) +0 +0 ", root, 0, 0));
  overlay = debugfs (disk, "ls -l /overlay");
  g_assert_nonnull (strstr (overlay, " upper"));
  g_assert_nonnull (strstr (overlay, " work"));
  g_assert_nonnull (strstr (overlay, "40755"));
}

static void
test_without_key_has_no_authorized_keys (Fixture *f, gconstpointer data)
{
  g_autoptr(BootConfig) config = test_config ();
  g_autoptr(GError) error = NULL;
  g_autofree char *disk = g_build_filename (f->dir, "disk.ext4", NULL);
  g_autofree char *listing = NULL;

  if (!have_e2fsprogs ())
    return;
  g_clear_pointer (&config->ssh_authorized_key, g_free);
  g_assert_true (create_disk (f->dir, "disk.ext4", 64 * MIB, config, NULL, &error));
  g_assert_no_error (error);
  listing = debugfs (disk, "ls /banger");
  g_assert_nonnull (strstr (listing, "vm.conf"));
  g_assert_null (strstr (listing, "authorized_keys"));
}

static void
test_hostile_config_refused_before_any_file (Fixture *f, gconstpointer data)
{
  static const struct { int field; const char *value; } cases[] = {
    { 0, "web\nhostname=evil" }, { 0, "a;reboot" }, { 0, "$(reboot)" }, { 0, "../../x" },
    { 0, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
    { 1, "ssh-ed25519 AAAA\nssh-rsa AAAA evil" }, { 1, "ssh-ed25519 $(reboot)" },
    { 2, "172.30.0.2\n" }, { 2, "172.30.0.2;" }, { 2, "$(reboot)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(BootConfig) config = test_config ();
      g_autoptr(GError) error = NULL;
      char **slot = cases[i].field == 0 ? &config->hostname
                    : cases[i].field == 1 ? &config->ssh_authorized_key : &config->ipv4_address;

      g_free (*slot);
      *slot = g_strdup (cases[i].value);
      g_assert_false (create_disk (f->dir, "disk.ext4", 64 * MIB, config, NULL, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
      g_assert_cmpuint (count_entries (f->dir), ==, 0);
    }
}

static void
test_bad_size_or_name_refused_before_any_file (Fixture *f, gconstpointer data)
{
  static const guint64 sizes[] = { 0, 63 * MIB, 64 * MIB + 4096, (G_GUINT64_CONSTANT (16) << 40) + MIB };
  static const char *const names[] = { "", ".", "..", "../disk.ext4", "sub/disk.ext4" };
  g_autoptr(BootConfig) config = test_config ();

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (create_disk (f->dir, "disk.ext4", sizes[i], config, NULL, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
    }
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (create_disk (f->dir, names[i], 64 * MIB, config, NULL, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
    }
  g_assert_cmpuint (count_entries (f->dir), ==, 0);
}

/* ext4 caps a file at 16 TiB - 4 KiB, so the largest allowed disk cannot be
 * made there: a clear refusal and nothing left behind. */
static void
test_too_big_for_host_fs_leaves_nothing (Fixture *f, gconstpointer data)
{
  g_autoptr(BootConfig) config = test_config ();
  g_autoptr(GError) error = NULL;
  struct statfs fs;

  g_assert_cmpint (statfs (f->dir, &fs), ==, 0);
  if (fs.f_type != EXT4_SUPER_MAGIC)
    {
      g_test_skip ("the test directory is not on ext4");
      return;
    }
  if (!have_e2fsprogs ())
    return;
  g_assert_false (create_disk (f->dir, "disk.ext4", G_GUINT64_CONSTANT (16) << 40, config, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (count_entries (f->dir), ==, 0);
}

static void
test_existing_disk_refused_untouched (Fixture *f, gconstpointer data)
{
  g_autoptr(BootConfig) config = test_config ();
  g_autoptr(GError) error = NULL;
  g_autofree char *disk = g_build_filename (f->dir, "disk.ext4", NULL);
  g_autofree char *contents = NULL;

  if (!have_e2fsprogs ())
    return;
  g_assert_true (g_file_set_contents (disk, "precious", -1, &error));
  g_assert_false (create_disk (f->dir, "disk.ext4", 64 * MIB, config, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS);
  g_assert_true (g_file_get_contents (disk, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "precious");
  g_assert_cmpuint (count_entries (f->dir), ==, 1);
}

static void
test_cancelled_leaves_nothing (Fixture *f, gconstpointer data)
{
  g_autoptr(BootConfig) config = test_config ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  if (!have_e2fsprogs ())
    return;
  g_cancellable_cancel (cancellable);
  g_assert_false (create_disk (f->dir, "disk.ext4", GIB, config, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (count_entries (f->dir), ==, 0);
  g_clear_error (&error);

  /* Cancelled while the worker runs: either it finished first (a whole
   * disk) or it rolled back (nothing); never a partial disk or staging dir. */
  g_cancellable_reset (cancellable);
  vm_disk_create_async (f->dir, "disk.ext4", GIB, config, cancellable, store_result, &result);
  g_cancellable_cancel (cancellable);
  if (vm_disk_create_finish (wait_for (&result), &error))
    g_assert_cmpuint (count_entries (f->dir), ==, 1);
  else
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpuint (count_entries (f->dir), ==, 0);
    }
}

/* A failing mkfs.ext4 found first in PATH; run in a child so PATH is set
 * before any worker thread exists. */
static void
test_failed_mkfs_leaves_nothing (Fixture *f, gconstpointer data)
{
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }
  else
    {
      g_autoptr(BootConfig) config = test_config ();
      g_autoptr(GError) error = NULL;
      g_autofree char *bin = g_build_filename (f->dir, "bin", NULL);
      g_autofree char *vm_dir = g_build_filename (f->dir, "vm", NULL);
      g_autofree char *fake = g_build_filename (bin, "mkfs.ext4", NULL);

      g_assert_cmpint (g_mkdir (bin, 0700), ==, 0);
      g_assert_cmpint (g_mkdir (vm_dir, 0700), ==, 0);
      g_assert_true (g_file_set_contents (fake, "#!/bin/sh\necho 'simulated: no space left' >&2\nexit 1\n",
                                          -1, &error));
      g_assert_cmpint (g_chmod (fake, 0755), ==, 0);
      g_setenv ("PATH", bin, TRUE);

      g_assert_false (create_disk (vm_dir, "disk.ext4", 64 * MIB, config, NULL, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "simulated: no space left"));
      g_assert_cmpuint (count_entries (vm_dir), ==, 0);
    }
}

static gboolean
cancel_soon (gpointer cancellable)
{
  g_cancellable_cancel (cancellable);
  return G_SOURCE_REMOVE;
}

/* A hanging mkfs.ext4 is killed on cancel; the call returns promptly and
 * the disk and staging dir are gone. */
static void
test_cancel_during_mkfs_kills_it (Fixture *f, gconstpointer data)
{
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }
  else
    {
      g_autoptr(BootConfig) config = test_config ();
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GError) error = NULL;
      g_autofree char *bin = g_build_filename (f->dir, "bin", NULL);
      g_autofree char *vm_dir = g_build_filename (f->dir, "vm", NULL);
      g_autofree char *fake = g_build_filename (bin, "mkfs.ext4", NULL);
      g_autofree char *sleep_path = g_find_program_in_path ("sleep");
      g_autofree char *script = g_strdup_printf ("#!/bin/sh\nexec %s 60\n", sleep_path);
      gint64 start;

      g_assert_nonnull (sleep_path);
      g_assert_cmpint (g_mkdir (bin, 0700), ==, 0);
      g_assert_cmpint (g_mkdir (vm_dir, 0700), ==, 0);
      g_assert_true (g_file_set_contents (fake, script, -1, &error));
      g_assert_cmpint (g_chmod (fake, 0755), ==, 0);
      g_setenv ("PATH", bin, TRUE);

      g_timeout_add (300, cancel_soon, cancellable);
      start = g_get_monotonic_time ();
      g_assert_false (create_disk (vm_dir, "disk.ext4", 64 * MIB, config, cancellable, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpint (g_get_monotonic_time () - start, <, 30 * G_USEC_PER_SEC);
      g_assert_cmpuint (count_entries (vm_dir), ==, 0);
    }
}

/* 32 MiB image: data at 0, 8 MiB and the last 4 KiB; holes elsewhere. */
static void
write_holey_image (const char *path, guint64 size)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  g_autofree guint8 *buf = g_malloc (MIB);

  g_assert_cmpint (fd, >=, 0);
  for (gsize i = 0; i < MIB; i++)
    buf[i] = (guint8) (i * 7 + 3);
  g_assert_cmpint (pwrite (fd, buf, 64 * 1024, 0), ==, 64 * 1024);
  g_assert_cmpint (pwrite (fd, buf, MIB, 8 * MIB), ==, (ssize_t) MIB);
  g_assert_cmpint (pwrite (fd, buf, 4096, size - 4096), ==, 4096);
  g_assert_cmpint (close (fd), ==, 0);
}

static void
test_copy_keeps_content_and_holes (Fixture *f, gconstpointer data)
{
  g_autofree char *image = g_build_filename (f->dir, "image.ext4", NULL);
  g_autofree char *dest = g_build_filename (f->dir, "root.ext4", NULL);
  g_autofree char *a = NULL, *b = NULL;
  g_autoptr(GError) error = NULL;
  VmRootCopyMethod method = -1;
  struct stat sa, sb;
  struct statfs fs;
  gsize la, lb;

  write_holey_image (image, 32 * MIB);
  g_assert_true (copy_root (image, dest, NULL, &method, &error));
  g_assert_no_error (error);

  g_assert_cmpint (statfs (f->dir, &fs), ==, 0);
  if (fs.f_type == EXT4_SUPER_MAGIC || fs.f_type == TMPFS_MAGIC)
    g_assert_cmpint (method, ==, VM_ROOT_COPY_SPARSE);
  g_test_message ("copy method: %s", method == VM_ROOT_COPY_REFLINK ? "reflink" : "sparse");

  g_assert_true (g_file_get_contents (image, &a, &la, NULL));
  g_assert_true (g_file_get_contents (dest, &b, &lb, NULL));
  g_assert_cmpmem (a, la, b, lb);

  g_assert_cmpint (stat (image, &sa), ==, 0);
  g_assert_cmpint (stat (dest, &sb), ==, 0);
  g_assert_cmpint (sb.st_mode & 07777, ==, 0600);
  g_test_message ("image %lld blocks, copy %lld blocks", (long long) sa.st_blocks, (long long) sb.st_blocks);
  if (method == VM_ROOT_COPY_SPARSE)
    g_assert_cmpint (sb.st_blocks, <=, sa.st_blocks + 64);
  g_assert_cmpint ((guint64) sb.st_blocks * 512, <, 4 * MIB);
}

static void
test_copy_refuses_existing_dest_and_symlinked_image (Fixture *f, gconstpointer data)
{
  g_autofree char *image = g_build_filename (f->dir, "image.ext4", NULL);
  g_autofree char *link = g_build_filename (f->dir, "link.ext4", NULL);
  g_autofree char *dest = g_build_filename (f->dir, "root.ext4", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  write_holey_image (image, 32 * MIB);
  g_assert_true (g_file_set_contents (dest, "precious", -1, NULL));
  g_assert_false (copy_root (image, dest, NULL, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS);
  g_assert_true (g_file_get_contents (dest, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "precious");
  g_clear_error (&error);
  g_unlink (dest);

  g_assert_cmpint (symlink (image, link), ==, 0);
  g_assert_false (copy_root (link, dest, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
}

static void
test_copy_cancelled_leaves_no_dest (Fixture *f, gconstpointer data)
{
  g_autofree char *image = g_build_filename (f->dir, "image.ext4", NULL);
  g_autofree char *dest = g_build_filename (f->dir, "root.ext4", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  write_holey_image (image, 32 * MIB);
  g_cancellable_cancel (cancellable);
  g_assert_false (copy_root (image, dest, cancellable, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/vm-disk/create/makes-valid-sparse-ext4-with-boot-config", test_makes_valid_sparse_ext4_with_boot_config);
  ADD ("/vm-disk/create/without-key-has-no-authorized-keys", test_without_key_has_no_authorized_keys);
  ADD ("/vm-disk/create/hostile-config-refused-before-any-file", test_hostile_config_refused_before_any_file);
  ADD ("/vm-disk/create/bad-size-or-name-refused-before-any-file", test_bad_size_or_name_refused_before_any_file);
  ADD ("/vm-disk/create/too-big-for-host-fs-leaves-nothing", test_too_big_for_host_fs_leaves_nothing);
  ADD ("/vm-disk/create/existing-disk-refused-untouched", test_existing_disk_refused_untouched);
  ADD ("/vm-disk/create/cancelled-leaves-nothing", test_cancelled_leaves_nothing);
  ADD ("/vm-disk/create/failed-mkfs-leaves-nothing", test_failed_mkfs_leaves_nothing);
  ADD ("/vm-disk/create/cancel-during-mkfs-kills-it", test_cancel_during_mkfs_kills_it);
  ADD ("/vm-disk/copy-root/keeps-content-and-holes", test_copy_keeps_content_and_holes);
  ADD ("/vm-disk/copy-root/refuses-existing-dest-and-symlinked-image",
       test_copy_refuses_existing_dest_and_symlinked_image);
  ADD ("/vm-disk/copy-root/cancelled-leaves-no-dest", test_copy_cancelled_leaves_no_dest);
  return g_test_run ();
}
