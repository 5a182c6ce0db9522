/* test-image-extract.c: the image build's building blocks on real inputs:
 * .debs made by dpkg-deb and hostile ones made here, the Debian bzImage and
 * a crafted lz4 frame, and an ext4 image made by mkfs.ext4 -d. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <lz4.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-error.h"
#include "deb-extract.h"
#include "ext4-owner.h"
#include "fs-util.h"
#include "image-debs.h"
#include "vmlinux-extract.h"

typedef struct {
  char *dir;
  char *root;      /* the extraction target, inside dir */
  char *outside;   /* a directory next to it that must stay empty */
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  const char *build = g_getenv ("BANGER_BUILD_DIR");
  g_autofree char *tmpl = g_build_filename (build != NULL ? build : g_get_tmp_dir (),
                                            "test-image-extract-XXXXXX", NULL);

  f->dir = g_mkdtemp (g_steal_pointer (&tmpl));
  g_assert_nonnull (f->dir);
  f->root = g_build_filename (f->dir, "root", NULL);
  f->outside = g_build_filename (f->dir, "outside", NULL);
  g_assert_cmpint (g_mkdir (f->root, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (f->outside, 0755), ==, 0);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (fs_remove_tree (f->dir, &error));
  g_free (f->dir);
  g_free (f->root);
  g_free (f->outside);
}

static gboolean
run (GError **error, const char *const *argv)
{
  g_autoptr(GSubprocess) proc =
    g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, error);

  return proc != NULL && g_subprocess_wait_check (proc, NULL, error);
}

static char *
run_output (const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
    g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  char *out = NULL;

  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  return out;
}

static gboolean
dir_is_empty (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);

  return dir != NULL && g_dir_read_name (dir) == NULL;
}

static gboolean
have_program (const char *name)
{
  g_autofree char *path = g_find_program_in_path (name);

  return path != NULL;
}

static void
test_deb_dpkg_built (Fixture *f, gconstpointer data)
{
  g_autofree char *pkg = g_build_filename (f->dir, "pkg", NULL);
  g_autofree char *control_dir = g_build_filename (pkg, "DEBIAN", NULL);
  g_autofree char *control = g_build_filename (control_dir, "control", NULL);
  g_autofree char *bin_dir = g_build_filename (pkg, "usr", "bin", NULL);
  g_autofree char *bin = g_build_filename (bin_dir, "hello", NULL);
  g_autofree char *link = g_build_filename (bin_dir, "hi", NULL);
  g_autofree char *deb = g_build_filename (f->dir, "hello_1.0_amd64.deb", NULL);
  g_autofree char *got = NULL, *got_link = NULL, *contents = NULL;
  g_autoptr(GError) error = NULL;
  struct stat st;

  if (!have_program ("dpkg-deb"))
    {
      g_test_skip ("dpkg-deb is not installed");
      return;
    }
  g_assert_cmpint (g_mkdir_with_parents (control_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (bin_dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (control, "Package: hello\nVersion: 1.0\n"
                                      "Architecture: amd64\nMaintainer: t <t@example.org>\n"
                                      "Description: test\n", -1, NULL));
  g_assert_true (g_file_set_contents_full (bin, "#!/bin/sh\necho hi\n", -1,
                                           G_FILE_SET_CONTENTS_NONE, 0755, NULL));
  g_assert_cmpint (symlink ("hello", link), ==, 0);
  g_assert_true (run (&error, (const char *const[]) { "dpkg-deb", "--root-owner-group", "-Zxz",
                                                      "-b", pkg, deb, NULL }));
  g_assert_no_error (error);

  g_assert_true (deb_extract (deb, f->root, NULL, &error));
  g_assert_no_error (error);
  got = g_build_filename (f->root, "usr", "bin", "hello", NULL);
  g_assert_true (g_file_get_contents (got, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "#!/bin/sh\necho hi\n");
  g_assert_cmpint (lstat (got, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0755);
  got_link = g_build_filename (f->root, "usr", "bin", "hi", NULL);
  g_assert_cmpint (lstat (got_link, &st), ==, 0);
  g_assert_true (S_ISLNK (st.st_mode));
  g_free (got);
  got = g_build_filename (f->root, "DEBIAN", NULL);
  g_assert_false (g_file_test (got, G_FILE_TEST_EXISTS));
}

typedef struct {
  const char *path;
  mode_t      type;
  const char *target;   /* symlink or hard link target */
} HostileEntry;

/* A .deb (ar: debian-binary, data.tar.gz) whose data holds @entries. */
static char *
make_deb (Fixture *f, const HostileEntry *entries, guint n_entries)
{
  char *deb = g_build_filename (f->dir, "hostile.deb", NULL);
  g_autofree char *tar = NULL;
  size_t tar_size = 0, tar_alloc = 1 << 20;
  struct archive *a = archive_write_new ();
  struct archive_entry *e;

  tar = g_malloc (tar_alloc);
  archive_write_set_format_pax_restricted (a);
  archive_write_add_filter_gzip (a);
  g_assert_cmpint (archive_write_open_memory (a, tar, tar_alloc, &tar_size), ==, ARCHIVE_OK);
  for (guint i = 0; i < n_entries; i++)
    {
      e = archive_entry_new ();
      archive_entry_set_pathname (e, entries[i].path);
      archive_entry_set_perm (e, entries[i].type == AE_IFDIR ? 0755 : 0644);
      if (entries[i].type == AE_IFLNK)
        {
          archive_entry_set_filetype (e, AE_IFLNK);
          archive_entry_set_symlink (e, entries[i].target);
        }
      else if (entries[i].target != NULL)
        {
          archive_entry_set_filetype (e, AE_IFREG);
          archive_entry_set_hardlink (e, entries[i].target);
        }
      else
        {
          archive_entry_set_filetype (e, entries[i].type);
          if (entries[i].type == AE_IFREG)
            archive_entry_set_size (e, 6);
        }
      g_assert_cmpint (archive_write_header (a, e), ==, ARCHIVE_OK);
      if (entries[i].type == AE_IFREG && entries[i].target == NULL)
        g_assert_cmpint (archive_write_data (a, "pwned\n", 6), ==, 6);
      archive_entry_free (e);
    }
  g_assert_cmpint (archive_write_close (a), ==, ARCHIVE_OK);
  archive_write_free (a);

  a = archive_write_new ();
  archive_write_set_format_ar_svr4 (a);
  g_assert_cmpint (archive_write_open_filename (a, deb), ==, ARCHIVE_OK);
  e = archive_entry_new ();
  archive_entry_set_pathname (e, "debian-binary");
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, 4);
  g_assert_cmpint (archive_write_header (a, e), ==, ARCHIVE_OK);
  archive_write_data (a, "2.0\n", 4);
  archive_entry_clear (e);
  archive_entry_set_pathname (e, "data.tar.gz");
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, tar_size);
  g_assert_cmpint (archive_write_header (a, e), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_data (a, tar, tar_size), ==, (la_ssize_t) tar_size);
  archive_entry_free (e);
  g_assert_cmpint (archive_write_close (a), ==, ARCHIVE_OK);
  archive_write_free (a);
  return deb;
}

static void
assert_refused (Fixture *f, const HostileEntry *entries, guint n_entries)
{
  g_autofree char *deb = make_deb (f, entries, n_entries);
  g_autoptr(GError) error = NULL;

  g_assert_false (deb_extract (deb, f->root, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_test_message ("refused: %s", error->message);
  g_assert_true (dir_is_empty (f->outside));
}

static void
test_deb_dotdot (Fixture *f, gconstpointer data)
{
  const HostileEntry entries[] = {
    { "./usr/", AE_IFDIR, NULL },
    { "./usr/../../outside/pwned", AE_IFREG, NULL },
  };
  g_autofree char *escaped = g_build_filename (f->dir, "pwned", NULL);

  assert_refused (f, entries, G_N_ELEMENTS (entries));
  g_assert_false (g_file_test (escaped, G_FILE_TEST_EXISTS));
}

static void
test_deb_absolute (Fixture *f, gconstpointer data)
{
  g_autofree char *target = g_build_filename (f->outside, "pwned", NULL);
  const HostileEntry entries[] = { { target, AE_IFREG, NULL } };

  assert_refused (f, entries, G_N_ELEMENTS (entries));
}

static void
test_deb_through_symlink (Fixture *f, gconstpointer data)
{
  const HostileEntry entries[] = {
    { "./evil", AE_IFLNK, f->outside },
    { "./evil/pwned", AE_IFREG, NULL },
  };

  assert_refused (f, entries, G_N_ELEMENTS (entries));
}

static void
test_deb_relative_symlink (Fixture *f, gconstpointer data)
{
  const HostileEntry entries[] = {
    { "./evil", AE_IFLNK, "../outside" },
    { "./evil/pwned", AE_IFREG, NULL },
  };

  assert_refused (f, entries, G_N_ELEMENTS (entries));
}

static void
test_deb_hardlink_outside (Fixture *f, gconstpointer data)
{
  g_autofree char *victim = g_build_filename (f->dir, "victim", NULL);
  const HostileEntry entries[] = { { "./hl", AE_IFREG, "../victim" } };

  g_assert_true (g_file_set_contents (victim, "x", -1, NULL));
  assert_refused (f, entries, G_N_ELEMENTS (entries));
}

static void
test_deb_device (Fixture *f, gconstpointer data)
{
  const HostileEntry entries[] = { { "./null", AE_IFCHR, NULL } };

  assert_refused (f, entries, G_N_ELEMENTS (entries));
}

/* A symlink above the target (a symlinked home) is not the archive's. */
static void
test_deb_symlinked_target (Fixture *f, gconstpointer data)
{
  const HostileEntry entries[] = {
    { "./usr/", AE_IFDIR, NULL },
    { "./usr/file", AE_IFREG, NULL },
  };
  g_autofree char *deb = make_deb (f, entries, G_N_ELEMENTS (entries));
  g_autofree char *link = g_build_filename (f->dir, "link", NULL);
  g_autofree char *got = g_build_filename (f->root, "usr", "file", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (symlink ("root", link), ==, 0);
  g_assert_true (deb_extract (deb, link, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (got, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "pwned\n");
}

static void
test_deb_not_a_deb (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "junk.deb", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, "!<arch>\nnot really", -1, NULL));
  g_assert_false (deb_extract (path, f->root, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
  g_assert_true (dir_is_empty (f->root));
}

/* junk, then a legacy lz4 frame of @payload split in @block-sized blocks,
 * then the uncompressed size as the kernel's build appends it. */
static GByteArray *
make_lz4_blob (const guint8 *payload, gsize size, gsize block)
{
  GByteArray *blob = g_byte_array_new ();
  const guint8 junk[] = "MZ not a real bzImage header, just bytes before the frame";
  guint8 magic[4] = { 0x02, 0x21, 0x4c, 0x18 };
  guint8 le[4];

  g_byte_array_append (blob, junk, sizeof junk);
  g_byte_array_append (blob, magic, 4);
  for (gsize pos = 0; pos < size; pos += block)
    {
      gsize n = MIN (block, size - pos);
      int bound = LZ4_compressBound ((int) n);
      g_autofree char *out = g_malloc (bound);
      int c = LZ4_compress_default ((const char *) payload + pos, out, (int) n, bound);

      g_assert_cmpint (c, >, 0);
      le[0] = c & 0xff; le[1] = (c >> 8) & 0xff; le[2] = (c >> 16) & 0xff; le[3] = (c >> 24) & 0xff;
      g_byte_array_append (blob, le, 4);
      g_byte_array_append (blob, (const guint8 *) out, c);
    }
  le[0] = size & 0xff; le[1] = (size >> 8) & 0xff; le[2] = (size >> 16) & 0xff; le[3] = (size >> 24) & 0xff;
  g_byte_array_append (blob, le, 4);
  return blob;
}

static void
test_vmlinux_crafted (void)
{
  /* 8 MiB blocks, as the kernel writes them: the payload spans two. */
  gsize size = (8u << 20) + 12345;
  g_autofree guint8 *payload = g_malloc (size);
  g_autoptr(GByteArray) blob = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < size; i++)
    payload[i] = (guint8) ((i * 7) ^ (i >> 9));
  memcpy (payload, "\177ELF", 4);
  blob = make_lz4_blob (payload, size, 8u << 20);
  out = vmlinux_extract_bytes (blob->data, blob->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (out), ==, size);
  g_assert_cmpmem (g_bytes_get_data (out, NULL), size, payload, size);
}

static void
test_vmlinux_not_elf (void)
{
  guint8 payload[4096] = "this is not an ELF file";
  g_autoptr(GByteArray) blob = make_lz4_blob (payload, sizeof payload, sizeof payload);
  g_autoptr(GError) error = NULL;

  g_assert_null (vmlinux_extract_bytes (blob->data, blob->len, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_CORRUPT);
}

static void
test_vmlinux_no_lz4 (void)
{
  const char data[] = "a kernel compressed with something else entirely";
  g_autoptr(GError) error = NULL;

  g_assert_null (vmlinux_extract_bytes ((const guint8 *) data, sizeof data, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED);
}

static void
test_vmlinux_damaged (void)
{
  guint8 payload[65536];
  g_autoptr(GByteArray) blob = NULL;
  g_autoptr(GError) error = NULL;

  memset (payload, 'A', sizeof payload);
  memcpy (payload, "\177ELF", 4);
  blob = make_lz4_blob (payload, sizeof payload, sizeof payload);
  /* Corrupt the compressed block: a match offset pointing before the start. */
  memset (blob->data + 59 + 8, 0xff, 16);
  g_assert_null (vmlinux_extract_bytes (blob->data, blob->len, &error));
  g_assert_nonnull (error);
}

static char *
debian_bzimage (void)
{
  const char *env = g_getenv ("GUEST_KERNEL");
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (env != NULL && g_file_test (env, G_FILE_TEST_IS_REGULAR))
    return g_strdup (env);
  dir = g_dir_open ("/var/cache/banger-test/kernel/boot", 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "vmlinuz-"))
      return g_build_filename ("/var/cache/banger-test/kernel/boot", name, NULL);
  return NULL;
}

static void
test_vmlinux_debian (Fixture *f, gconstpointer data)
{
  g_autofree char *bzimage = debian_bzimage ();
  g_autofree char *out = g_build_filename (f->dir, "vmlinux", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize size;

  if (bzimage == NULL)
    {
      g_test_skip ("No Debian kernel cached (tests/guest/guest-assets.sh fetches one)");
      return;
    }
  g_assert_true (vmlinux_extract_file (bzimage, out, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (out, &contents, &size, NULL));
  g_assert_cmpuint (size, >, 16u << 20);
  g_assert_cmpmem (contents, 4, "\177ELF", 4);
  g_assert_cmpint (contents[4], ==, 2);                     /* ELFCLASS64 */
  g_assert_cmpint (contents[18] | contents[19] << 8, ==, 62);   /* EM_X86_64 */
}

static char *
debugfs_stat (const char *image, const char *path)
{
  g_autofree char *request = g_strdup_printf ("stat %s", path);

  return run_output ((const char *const[]) { "debugfs", "-R", request, image, NULL });
}

static void
test_ext4_owners (Fixture *f, gconstpointer data)
{
  g_autofree char *staging = g_build_filename (f->root, "etc", NULL);
  g_autofree char *file = g_build_filename (staging, "x", NULL);
  g_autofree char *image = g_build_filename (f->dir, "image.ext4", NULL);
  g_autofree char *before = NULL, *after = NULL, *fsck = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRegex) zero = g_regex_new ("User: +0 +Group: +0 ", 0, 0, NULL);

  if (!have_program ("mkfs.ext4") || !have_program ("debugfs"))
    {
      g_test_skip ("mkfs.ext4 or debugfs (e2fsprogs) is not installed");
      return;
    }
  g_assert_cmpint (g_mkdir (staging, 0755), ==, 0);
  g_assert_true (g_file_set_contents (file, "x\n", -1, NULL));
  /* As root the files would already be 0:0: give them an owner, with a
   * uid above 65535 so the high 16 bits are exercised too. */
  if (getuid () == 0)
    {
      g_assert_cmpint (lchown (file, 100042, 100043), ==, 0);
      g_assert_cmpint (lchown (staging, 4242, 4243), ==, 0);
    }
  g_assert_true (run (&error, (const char *const[]) {
    "mkfs.ext4", "-q", "-F", "-t", "ext4", "-E", "lazy_itable_init=1,lazy_journal_init=1",
    "-d", f->root, image, "16M", NULL }));
  g_assert_no_error (error);
  before = debugfs_stat (image, "/etc/x");
  g_assert_false (g_regex_match (zero, before, 0, NULL));

  g_assert_true (ext4_reset_owners_and_times (image, 1000, &error));
  g_assert_no_error (error);
  after = debugfs_stat (image, "/etc/x");
  g_assert_true (g_regex_match (zero, after, 0, NULL));
  g_free (after);
  after = debugfs_stat (image, "/etc");
  g_assert_true (g_regex_match (zero, after, 0, NULL));
  g_assert_true (run (&error, (const char *const[]) { "e2fsck", "-fn", image, NULL }));
  g_assert_no_error (error);
}

/* A staging tree under f->dir/NAME with the given mtime (and, made at
 * another moment, another ctime). */
static char *
stage_tree (Fixture *f, const char *name, time_t mtime)
{
  g_autofree char *top = g_build_filename (f->dir, name, NULL);
  g_autofree char *etc = g_build_filename (top, "etc", NULL);
  g_autofree char *file = g_build_filename (etc, "x", NULL);
  g_autofree char *link = g_build_filename (top, "sh", NULL);
  const struct timespec times[2] = { { mtime, 0 }, { mtime, 0 } };

  g_assert_cmpint (g_mkdir_with_parents (etc, 0755), ==, 0);
  g_assert_true (g_file_set_contents (file, "x\n", -1, NULL));
  g_assert_cmpint (symlink ("/bin/busybox", link), ==, 0);
  g_assert_cmpint (utimensat (AT_FDCWD, file, times, 0), ==, 0);
  g_assert_cmpint (utimensat (AT_FDCWD, link, times, AT_SYMLINK_NOFOLLOW), ==, 0);
  g_assert_cmpint (utimensat (AT_FDCWD, etc, times, 0), ==, 0);
  g_assert_cmpint (utimensat (AT_FDCWD, top, times, 0), ==, 0);
  return g_steal_pointer (&top);
}

static char *
make_fixed_ext4 (Fixture *f, const char *tree, const char *name)
{
  g_autofree char *image = g_build_filename (f->dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (run (&error, (const char *const[]) {
    "env", "E2FSPROGS_FAKE_TIME=1000", "mkfs.ext4", "-q", "-F", "-t", "ext4",
    "-U", "0b2a9f57-1c4e-8d3a-9e21-5f6a7b8c9d0e",
    "-E", "lazy_itable_init=1,lazy_journal_init=1,hash_seed=7d1e2f3a-4b5c-8d6e-8f70-8192a3b4c5d6",
    "-d", tree, image, "16M", NULL }));
  g_assert_no_error (error);
  return g_steal_pointer (&image);
}

/* Two staging trees alike but for their times, made into images with the
 * same UUID, hash seed and fake time: they differ until the pass, and are
 * the same bytes after it, with every time the timestamp. */
static void
test_ext4_times_fixed (Fixture *f, gconstpointer data)
{
  g_autofree char *tree1 = NULL, *tree2 = NULL, *image1 = NULL, *image2 = NULL;
  g_autofree char *bytes1 = NULL, *bytes2 = NULL, *stat_x = NULL, *stat_root = NULL;
  g_autofree char *super = NULL;
  gsize size1 = 0, size2 = 0;
  g_autoptr(GError) error = NULL;

  if (!have_program ("mkfs.ext4") || !have_program ("debugfs") || !have_program ("dumpe2fs"))
    {
      g_test_skip ("mkfs.ext4, debugfs or dumpe2fs (e2fsprogs) is not installed");
      return;
    }
  tree1 = stage_tree (f, "tree1", 1600000000);
  /* A second later: another ctime, which nothing can set back. */
  g_usleep (1100 * G_TIME_SPAN_MILLISECOND);
  tree2 = stage_tree (f, "tree2", 1700000000);
  image1 = make_fixed_ext4 (f, tree1, "one.ext4");
  image2 = make_fixed_ext4 (f, tree2, "two.ext4");
  g_assert_true (g_file_get_contents (image1, &bytes1, &size1, NULL));
  g_assert_true (g_file_get_contents (image2, &bytes2, &size2, NULL));
  g_assert_cmpuint (size1, ==, size2);
  g_assert_true (memcmp (bytes1, bytes2, size1) != 0);
  g_clear_pointer (&bytes1, g_free);
  g_clear_pointer (&bytes2, g_free);

  g_assert_true (ext4_reset_owners_and_times (image1, 1234567890, &error));
  g_assert_no_error (error);
  g_assert_true (ext4_reset_owners_and_times (image2, 1234567890, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (image1, &bytes1, &size1, NULL));
  g_assert_true (g_file_get_contents (image2, &bytes2, &size2, NULL));
  g_assert_cmpuint (size1, ==, size2);
  g_assert_true (memcmp (bytes1, bytes2, size1) == 0);

  stat_x = debugfs_stat (image1, "/etc/x");
  stat_root = debugfs_stat (image1, "/");
  for (const char *const *field = (const char *const[]) { " ctime", " atime", " mtime", "crtime", NULL };
       *field != NULL; field++)
    {
      g_autofree char *expected = g_strdup_printf ("%s: 0x499602d2:00000000", *field);

      g_assert_nonnull (strstr (stat_x, expected));
      g_assert_nonnull (strstr (stat_root, expected));
    }
  super = run_output ((const char *const[]) { "env", "TZ=UTC", "dumpe2fs", "-h", image1, NULL });
  g_assert_nonnull (strstr (super, "Last write time:          Fri Feb 13 23:31:30 2009"));
  g_assert_nonnull (strstr (super, "Filesystem created:       Fri Feb 13 23:31:30 2009"));
  g_assert_true (run (&error, (const char *const[]) { "e2fsck", "-fn", image1, NULL }));
  g_assert_no_error (error);
}

static void
test_ext4_not_ext4 (Fixture *f, gconstpointer data)
{
  g_autofree char *image = g_build_filename (f->dir, "junk.ext4", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (image, "not a file system", -1, NULL));
  g_assert_false (ext4_reset_owners_and_times (image, 1000, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_FAILED);
}

static void
touch (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, "", 0, NULL));
}

/* [images] debs: the highest version of each package, never apt. */
static void
test_debs_fixed_dir (Fixture *f, gconstpointer data)
{
  g_autofree char *path = NULL, *label = NULL;
  g_autofree char *cache = g_build_filename (f->dir, "cache", NULL);
  g_autoptr(GError) error = NULL;

  touch (f->root, "linux-image-cloud-amd64_6.1.192-2_amd64.deb");
  touch (f->root, "linux-image-6.1.0-9-cloud-amd64_6.1.27-1_amd64.deb");
  touch (f->root, "linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb");
  touch (f->root, "busybox_1%3a1.35.0-4_amd64.deb");
  touch (f->root, "busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb");

  path = image_debs_get (IMAGE_DEBS_KERNEL_META, f->root, cache, &label, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (path, "/linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb"));
  g_assert_cmpstr (label, ==, "linux-image-6.1.0-56-cloud-amd64 6.1.192-2");
  g_clear_pointer (&path, g_free);
  g_clear_pointer (&label, g_free);
  path = image_debs_get (IMAGE_DEBS_BUSYBOX, f->root, cache, &label, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (label, ==, "busybox-static 1:1.35.0-4+deb12u1+b1");
  g_assert_false (g_file_test (cache, G_FILE_TEST_EXISTS));
}

static void
test_debs_fixed_dir_missing (Fixture *f, gconstpointer data)
{
  g_autofree char *label = NULL;
  g_autoptr(GError) error = NULL;

  touch (f->root, "busybox_1%3a1.35.0-4_amd64.deb");
  g_assert_null (image_debs_get (IMAGE_DEBS_BUSYBOX, f->root, f->outside, &label, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (image_debs_get (IMAGE_DEBS_KERNEL_META, f->root, f->outside, &label, NULL, &error));
  g_assert_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND);
}

/* With apt: a .deb of apt's candidate version already in the cache is
 * used as it is (no download: this test needs no network). */
static void
test_debs_cache_reused (Fixture *f, gconstpointer data)
{
  const char *const show[] = { "apt-cache", "show", "--no-all-versions", "busybox-static", NULL };
  g_autofree char *info = NULL, *cached = NULL, *path = NULL, *label = NULL;
  g_autoptr(GDir) dir = g_dir_open ("/var/cache/banger-test/debs", 0, NULL);
  g_autoptr(GError) error = NULL;
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "busybox-static_"))
      cached = g_strdup (name);
  info = image_run (show, NULL, NULL, NULL);
  if (cached == NULL || info == NULL)
    {
      g_test_skip ("needs apt's package lists and tests/guest/guest-assets.sh's busybox-static");
      return;
    }
  {
    g_autofree char *version = g_strdup (strstr (info, "\nVersion: ") + 10);
    g_auto(GStrv) parts = NULL;
    g_autofree char *escaped = NULL, *expected = NULL;

    *strchr (version, '\n') = '\0';
    parts = g_strsplit (version, ":", -1);
    escaped = g_strjoinv ("%3a", parts);
    expected = g_strdup_printf ("busybox-static_%s_amd64.deb", escaped);
    if (!g_str_equal (expected, cached))
      {
        g_test_skip ("the cached busybox-static is not apt's candidate version");
        return;
      }
  }
  touch (f->root, cached);
  path = image_debs_get (IMAGE_DEBS_BUSYBOX, NULL, f->root, &label, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (path, cached));
  g_assert_true (g_str_has_prefix (path, f->root));
  g_assert_true (g_str_has_prefix (label, "busybox-static "));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/image/deb/extracts-a-dpkg-deb-package", test_deb_dpkg_built);
  ADD ("/image/deb/refuses-dotdot", test_deb_dotdot);
  ADD ("/image/deb/refuses-absolute-path", test_deb_absolute);
  ADD ("/image/deb/refuses-writing-through-symlink", test_deb_through_symlink);
  ADD ("/image/deb/refuses-writing-through-relative-symlink", test_deb_relative_symlink);
  ADD ("/image/deb/refuses-hardlink-outside", test_deb_hardlink_outside);
  ADD ("/image/deb/refuses-device-nodes", test_deb_device);
  ADD ("/image/deb/extracts-below-a-symlinked-target", test_deb_symlinked_target);
  ADD ("/image/deb/refuses-non-deb", test_deb_not_a_deb);
  ADD ("/image/debs/fixed-dir-picks-highest-version", test_debs_fixed_dir);
  ADD ("/image/debs/fixed-dir-missing-package", test_debs_fixed_dir_missing);
  ADD ("/image/debs/cache-reused-without-download", test_debs_cache_reused);
  g_test_add_func ("/image/vmlinux/crafted-lz4-frame", test_vmlinux_crafted);
  g_test_add_func ("/image/vmlinux/refuses-non-elf-payload", test_vmlinux_not_elf);
  g_test_add_func ("/image/vmlinux/refuses-non-lz4", test_vmlinux_no_lz4);
  g_test_add_func ("/image/vmlinux/refuses-damaged-block", test_vmlinux_damaged);
  ADD ("/image/vmlinux/debian-bzimage", test_vmlinux_debian);
  ADD ("/image/ext4/reset-owners-to-root", test_ext4_owners);
  ADD ("/image/ext4/times-fixed-and-reproducible", test_ext4_times_fixed);
  ADD ("/image/ext4/refuses-non-ext4", test_ext4_not_ext4);
  return g_test_run ();
}
