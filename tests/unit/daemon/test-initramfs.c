/* test-initramfs.c: the initramfs builder on a fake modules tree: load
 * order from modules.dep (dependencies first, no duplicates), built-in
 * modules left out, missing ones refused, hostile kernel versions refused,
 * and the same inputs giving the same bytes; and a VM's initramfs shared
 * by starts with the same inputs, renewed when one of them changes. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>

#include "banger-error.h"
#include "initramfs.h"
#include "vm-initrd.h"

#define VERSION "9.9.9-test"

static const char *const fake_dep[] = {
  "kernel/v/virtio_mmio.ko: kernel/v/virtio.ko kernel/v/virtio_ring.ko",
  "kernel/v/virtio.ko: kernel/v/virtio_ring.ko",
  "kernel/v/virtio_ring.ko:",
  "kernel/b/virtio_blk.ko: kernel/v/virtio.ko kernel/v/virtio_ring.ko",
  "kernel/n/virtio_net.ko: kernel/n/net_failover.ko kernel/n/failover.ko kernel/v/virtio.ko kernel/v/virtio_ring.ko",
  "kernel/n/net_failover.ko: kernel/n/failover.ko",
  "kernel/n/failover.ko:",
  "kernel/c/virtio_console.ko: kernel/v/virtio.ko kernel/v/virtio_ring.ko",
  "kernel/s/vmw_vsock_virtio_transport.ko: kernel/s/vmw_vsock_virtio_transport_common.ko kernel/s/vsock.ko kernel/v/virtio.ko kernel/v/virtio_ring.ko",
  "kernel/s/vmw_vsock_virtio_transport_common.ko: kernel/s/vsock.ko",
  "kernel/s/vsock.ko:",
  "kernel/fs/overlay.ko:",
  "kernel/i/evdev.ko:",
  "kernel/a/button.ko:",
  "kernel/x/unrelated.ko: kernel/v/virtio.ko",
  NULL,
};

/* Each set in load order; a channel's set leaves out what the base set
 * loads (virtio, virtio_ring) and what is built in (ext4). */
static const char *const expected_base[] = {
  "kernel/v/virtio_ring.ko", "kernel/v/virtio.ko", "kernel/v/virtio_mmio.ko",
  "kernel/b/virtio_blk.ko", "kernel/n/failover.ko", "kernel/n/net_failover.ko",
  "kernel/n/virtio_net.ko", "kernel/fs/overlay.ko", "kernel/i/evdev.ko", "kernel/a/button.ko",
  NULL,
};
static const char *const expected_vsock[] = {
  "kernel/s/vsock.ko", "kernel/s/vmw_vsock_virtio_transport_common.ko",
  "kernel/s/vmw_vsock_virtio_transport.ko", NULL,
};
static const char *const expected_vport[] = { "kernel/c/virtio_console.ko", NULL };

static const char *const *const expected_sets[INITRAMFS_N_MODULE_SETS] = {
  [INITRAMFS_MODULES_BASE] = expected_base,
  [INITRAMFS_MODULES_VSOCK] = expected_vsock,
  [INITRAMFS_MODULES_VPORT] = expected_vport,
};
static const char *const expected_lists[INITRAMFS_N_MODULE_SETS] = {
  [INITRAMFS_MODULES_BASE] = "banger/modules",
  [INITRAMFS_MODULES_VSOCK] = "banger/modules.vsock",
  [INITRAMFS_MODULES_VPORT] = "banger/modules.vport",
};

typedef struct {
  char *dir;
  char *root;          /* the modules root: holds lib/modules/VERSION */
  char *modules_dir;
  char *init;
  char *agent;
  char *output;
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
write_file (const char *path, const char *contents)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
write_dep (Fixture *f, const char *const *lines, const char *builtin)
{
  g_autofree char *joined = g_strjoinv ("\n", (char **) lines);
  g_autofree char *text = g_strconcat (joined, "\n", NULL);
  g_autofree char *dep = g_build_filename (f->modules_dir, "modules.dep", NULL);
  g_autofree char *builtin_path = g_build_filename (f->modules_dir, "modules.builtin", NULL);

  write_file (dep, text);
  write_file (builtin_path, builtin);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  const char *build = g_getenv ("BANGER_BUILD_DIR");
  g_autofree char *tmpl = g_build_filename (build != NULL ? build : g_get_tmp_dir (),
                                            "test-initramfs-XXXXXX", NULL);

  f->dir = g_mkdtemp (g_steal_pointer (&tmpl));
  g_assert_nonnull (f->dir);
  f->root = g_build_filename (f->dir, "tree", NULL);
  f->modules_dir = g_build_filename (f->root, "lib", "modules", VERSION, NULL);
  f->init = g_build_filename (f->dir, "banger-init", NULL);
  f->agent = g_build_filename (f->dir, "banger-agent", NULL);
  f->output = g_build_filename (f->dir, "initrd.cpio", NULL);

  write_dep (f, fake_dep, "kernel/fs/ext4/ext4.ko\nkernel/fs/jbd2/jbd2.ko\n");
  for (guint i = 0; fake_dep[i] != NULL; i++)
    {
      g_autofree char *relative = g_strndup (fake_dep[i], strchr (fake_dep[i], ':') - fake_dep[i]);
      g_autofree char *path = g_build_filename (f->modules_dir, relative, NULL);
      g_autofree char *contents = g_strdup_printf ("module %s\n", relative);

      write_file (path, contents);
    }
  write_file (f->init, "#!fake init\n");
  write_file (f->agent, "#!fake agent\n");
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->root);
  g_free (f->modules_dir);
  g_free (f->init);
  g_free (f->agent);
  g_free (f->output);
}

static gboolean
build (Fixture *f, const char *version, GError **error)
{
  return initramfs_build (f->root, version, f->init, f->agent, f->output, NULL, error);
}

typedef struct {
  char   *path;
  guint   mode;
  char   *data;
} Entry;

static void
entry_free (Entry *e)
{
  g_free (e->path);
  g_free (e->data);
  g_free (e);
}

/* Reads the cpio back with libarchive: every member with its mode and data,
 * and checks owner 0:0 and mtime 0 on each. */
static GPtrArray *
read_cpio (const char *path)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  struct archive *a = archive_read_new ();
  struct archive_entry *entry;

  archive_read_support_format_cpio (a);
  g_assert_cmpint (archive_read_open_filename (a, path, 4096), ==, ARCHIVE_OK);
  while (archive_read_next_header (a, &entry) == ARCHIVE_OK)
    {
      Entry *e = g_new0 (Entry, 1);
      la_int64_t size = archive_entry_size (entry);

      e->path = g_strdup (archive_entry_pathname (entry));
      e->mode = archive_entry_mode (entry);
      e->data = g_malloc0 ((gsize) size + 1);
      if (size > 0)
        g_assert_cmpint (archive_read_data (a, e->data, (size_t) size), ==, size);
      g_assert_cmpint (archive_entry_uid (entry), ==, 0);
      g_assert_cmpint (archive_entry_gid (entry), ==, 0);
      g_assert_cmpint (archive_entry_mtime (entry), ==, 0);
      g_ptr_array_add (entries, e);
    }
  g_assert_cmpint (archive_format (a), ==, ARCHIVE_FORMAT_CPIO_SVR4_NOCRC);
  archive_read_free (a);
  return entries;
}

static Entry *
lookup_entry (GPtrArray *entries, const char *path)
{
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = g_ptr_array_index (entries, i);

      if (g_str_equal (e->path, path))
        return e;
    }
  return NULL;
}

/* The member at @path; the test fails when there is none. */
static Entry *
find_entry (GPtrArray *entries, const char *path)
{
  Entry *e = lookup_entry (entries, path);

  if (e == NULL)
    g_error ("the initramfs has no member %s", path);
  return e;
}

static void
test_order (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *sets[INITRAMFS_N_MODULE_SETS];

  g_assert_true (initramfs_resolve_modules (f->modules_dir, sets, &error));
  g_assert_no_error (error);
  for (guint set = 0; set < INITRAMFS_N_MODULE_SETS; set++)
    {
      g_assert_cmpuint (sets[set]->len, ==, g_strv_length ((char **) expected_sets[set]));
      for (guint i = 0; i < sets[set]->len; i++)
        g_assert_cmpstr (g_ptr_array_index (sets[set], i), ==, expected_sets[set][i]);
      g_ptr_array_unref (sets[set]);
    }
}

static void
test_contents (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GString) expected_list = g_string_new (NULL);
  struct stat st;
  Entry *e;

  g_assert_true (build (f, VERSION, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (f->output, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0644);

  entries = read_cpio (f->output);
  /* Sorted, so every directory comes before its contents. */
  for (guint i = 1; i < entries->len; i++)
    g_assert_cmpint (strcmp (((Entry *) g_ptr_array_index (entries, i - 1))->path,
                             ((Entry *) g_ptr_array_index (entries, i))->path), <, 0);

  e = find_entry (entries, "init");
  g_assert_cmpuint (e->mode, ==, S_IFREG | 0755);
  g_assert_cmpstr (e->data, ==, "#!fake init\n");
  e = find_entry (entries, "banger/agent");
  g_assert_cmpuint (e->mode, ==, S_IFREG | 0755);
  g_assert_cmpstr (e->data, ==, "#!fake agent\n");

  for (guint set = 0; set < INITRAMFS_N_MODULE_SETS; set++)
    {
      g_string_truncate (expected_list, 0);
      for (guint i = 0; expected_sets[set][i] != NULL; i++)
        {
          g_autofree char *path = g_build_filename ("lib/modules", VERSION, expected_sets[set][i], NULL);
          g_autofree char *contents = g_strdup_printf ("module %s\n", expected_sets[set][i]);

          g_string_append_printf (expected_list, "%s\n", expected_sets[set][i]);
          e = find_entry (entries, path);
          g_assert_cmpuint (e->mode, ==, S_IFREG | 0644);
          g_assert_cmpstr (e->data, ==, contents);
        }
      e = find_entry (entries, expected_lists[set]);
      g_assert_cmpuint (e->mode, ==, S_IFREG | 0644);
      g_assert_cmpstr (e->data, ==, expected_list->str);
    }
  g_assert_null (lookup_entry (entries, "lib/modules/" VERSION "/kernel/x/unrelated.ko"));
  for (guint i = 0; i < 7; i++)
    {
      static const char *const dirs[] = { "dev", "proc", "sys", "mnt", "newroot", "banger",
                                          "lib/modules/" VERSION "/kernel/v" };

      e = find_entry (entries, dirs[i]);
          g_assert_cmpuint (e->mode, ==, S_IFDIR | 0755);
    }
  e = find_entry (entries, "dev/console");
  g_assert_true (S_ISCHR (e->mode));
}

static void
test_deterministic (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *module = g_build_filename (f->modules_dir, "kernel/v/virtio.ko", NULL);
  struct utimbuf times = { .actime = 12345, .modtime = 67890 };
  gsize first_len = 0, second_len = 0;

  g_assert_true (build (f, VERSION, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (f->output, &first, &first_len, NULL));

  /* Other timestamps and a rebuild over the old file change nothing. */
  g_assert_cmpint (utime (module, &times), ==, 0);
  g_assert_cmpint (utime (f->init, &times), ==, 0);
  g_assert_true (build (f, VERSION, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (f->output, &second, &second_len, NULL));
  g_assert_cmpmem (first, first_len, second, second_len);
}

static void
assert_no_output (Fixture *f)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  g_assert_false (g_file_test (f->output, G_FILE_TEST_EXISTS));
  while ((name = g_dir_read_name (dir)) != NULL)
    g_assert_false (g_str_has_prefix (name, "initrd.cpio"));
}

static void
test_missing_module (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new ();

  /* button neither in modules.dep nor built in. */
  for (guint i = 0; fake_dep[i] != NULL; i++)
    if (!g_str_has_prefix (fake_dep[i], "kernel/a/button.ko"))
      g_ptr_array_add (lines, (gpointer) fake_dep[i]);
  g_ptr_array_add (lines, NULL);
  write_dep (f, (const char *const *) lines->pdata, "kernel/fs/ext4/ext4.ko\n");

  g_assert_false (build (f, VERSION, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "button"));
  assert_no_output (f);

  /* Built in instead: fine. */
  g_clear_error (&error);
  write_dep (f, (const char *const *) lines->pdata, "kernel/fs/ext4/ext4.ko\nkernel/drivers/acpi/button.ko\n");
  g_assert_true (build (f, VERSION, &error));
  g_assert_no_error (error);
}

static void
test_missing_builtin (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  /* ext4 is wanted: neither a module nor built in is an error. */
  write_dep (f, fake_dep, "kernel/fs/jbd2/jbd2.ko\n");
  g_assert_false (build (f, VERSION, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "ext4"));
  assert_no_output (f);
}

static void
test_corrupt_dep (Fixture *f, gconstpointer data)
{
  static const char *const dangling[] = { "kernel/v/virtio_mmio.ko: kernel/v/gone.ko", NULL };
  static const char *const escaping[] = { "kernel/v/virtio_mmio.ko: ../../../etc/shadow", NULL };
  static const char *const cycle[] = { "kernel/v/virtio_mmio.ko: kernel/v/virtio.ko",
                                       "kernel/v/virtio.ko: kernel/v/virtio_mmio.ko", NULL };
  const char *const *cases[] = { dangling, escaping, cycle };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;

      write_dep (f, cases[i], "");
      g_assert_false (build (f, VERSION, &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT);
      assert_no_output (f);
    }
}

static void
test_hostile_version (Fixture *f, gconstpointer data)
{
  static const char *const versions[] = {
    "", ".", "..", "../../etc", "a/b", "/abs", "6.1\n", "6.1 x", "6.1;rm", "$(id)",
  };

  for (guint i = 0; i < G_N_ELEMENTS (versions); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (build (f, versions[i], &error));
      g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
      assert_no_output (f);
    }
}

static void
test_bad_inputs (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename (f->dir, "missing", NULL);

  g_assert_false (initramfs_build (f->root, VERSION, missing, f->agent, f->output, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  assert_no_output (f);
  g_clear_error (&error);
  g_assert_false (initramfs_build (f->root, VERSION, f->init, f->dir, f->output, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT);
  assert_no_output (f);
  g_clear_error (&error);
  g_assert_false (build (f, "1.2.3-other", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  assert_no_output (f);
}

static void
on_built (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
test_async (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  initramfs_build_async (f->root, VERSION, f->init, f->agent, f->output, NULL, on_built, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (initramfs_build_finish (result, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (f->output, G_FILE_TEST_IS_REGULAR));
  g_clear_object (&result);
  g_unlink (f->output);

  g_cancellable_cancel (cancellable);
  initramfs_build_async (f->root, VERSION, f->init, f->agent, f->output, cancellable, on_built, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (initramfs_build_finish (result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_no_output (f);
}

static char *
ensure_initrd (const char *kernel_path)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *path;

  vm_initrd_ensure_async (kernel_path, NULL, on_built, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  path = vm_initrd_ensure_finish (result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (path);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  return path;
}

/* A registry kernel's dir holds its modules tree beside the kernel. */
static void
test_vm_initrd (Fixture *f, gconstpointer data)
{
  g_autofree char *kernel_dir = g_build_filename (f->dir, "kernel-1", NULL);
  g_autofree char *modules = g_build_filename (kernel_dir, "modules", NULL);
  g_autofree char *kernel = g_build_filename (kernel_dir, "vmlinux", NULL);
  g_autofree char *first = NULL, *again = NULL, *new_agent = NULL, *new_init = NULL;

  g_assert_cmpint (g_mkdir (kernel_dir, 0700), ==, 0);
  g_assert_cmpint (g_rename (f->root, modules), ==, 0);
  g_setenv ("BANGER_INIT_PATH", f->init, TRUE);
  g_setenv ("BANGER_AGENT_PATH", f->agent, TRUE);

  first = ensure_initrd (kernel);
  again = ensure_initrd (kernel);
  g_assert_cmpstr (first, ==, again);

  /* A new agent or banger-init build (another size, so no timestamp
   * granularity can hide it) gets an initramfs of its own. */
  write_file (f->agent, "#!fake agent, next build\n");
  new_agent = ensure_initrd (kernel);
  g_assert_cmpstr (new_agent, !=, first);
  write_file (f->init, "#!fake init, next build\n");
  new_init = ensure_initrd (kernel);
  g_assert_cmpstr (new_init, !=, first);
  g_assert_cmpstr (new_init, !=, new_agent);
}

int
main (int argc, char **argv)
{
  /* vm-initrd writes below $XDG_DATA_HOME: a directory of this run
   * (G_TEST_OPTION_ISOLATE_DIRS would do, but GLib 2.74 leaks its strings). */
  g_autofree char *data_home = g_dir_make_tmp ("test-initramfs-data-XXXXXX", NULL);
  int status;

  g_assert_nonnull (data_home);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/initramfs/order", test_order);
  ADD ("/initramfs/contents", test_contents);
  ADD ("/initramfs/deterministic", test_deterministic);
  ADD ("/initramfs/missing-module", test_missing_module);
  ADD ("/initramfs/missing-builtin", test_missing_builtin);
  ADD ("/initramfs/corrupt-dep", test_corrupt_dep);
  ADD ("/initramfs/hostile-version", test_hostile_version);
  ADD ("/initramfs/bad-inputs", test_bad_inputs);
  ADD ("/initramfs/async", test_async);
  ADD ("/vm-initrd/shared-until-an-input-changes", test_vm_initrd);
#undef ADD
  status = g_test_run ();
  remove_tree (data_home);
  return status;
}
