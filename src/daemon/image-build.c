/* image-build.c: the build job's worker: download, unpack, kernel, rootfs,
 * ext4. Everything happens in a private work dir beside images/, so the
 * registry can rename the results into place and one removal undoes all. */
#define G_LOG_DOMAIN "bangerd-image"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "banger-error.h"
#include "deb-extract.h"
#include "ext4-owner.h"
#include "fs-util.h"
#include "image-build.h"
#include "image-debs.h"
#include "vmlinux-extract.h"

#define MIB (G_GUINT64_CONSTANT (1) << 20)
#define IMAGE_HEADROOM (64 * MIB)

void
image_build_params_free (ImageBuildParams *params)
{
  if (params == NULL)
    return;
  g_free (params->name);
  g_free (params->data_dir);
  g_free (params->cache_dir);
  g_free (params->debs_dir);
  g_free (params->agent_path);
  g_free (params);
}

static ImageBuildParams *
params_copy (const ImageBuildParams *params)
{
  ImageBuildParams *copy = g_new0 (ImageBuildParams, 1);

  copy->name = g_strdup (params->name);
  copy->data_dir = g_strdup (params->data_dir);
  copy->cache_dir = g_strdup (params->cache_dir);
  copy->debs_dir = g_strdup (params->debs_dir);
  copy->agent_path = g_strdup (params->agent_path);
  return copy;
}

ImageBuildProgress *
image_build_progress_new (void)
{
  ImageBuildProgress *progress = g_new0 (ImageBuildProgress, 1);

  g_mutex_init (&progress->lock);
  return progress;
}

void
image_build_progress_free (ImageBuildProgress *progress)
{
  if (progress == NULL)
    return;
  g_mutex_clear (&progress->lock);
  g_free (progress->step);
  g_free (progress->description);
  g_free (progress);
}

static void
progress_set (ImageBuildProgress *progress,
              const char         *step,
              const char         *description,
              double              fraction)
{
  g_mutex_lock (&progress->lock);
  g_free (progress->step);
  g_free (progress->description);
  progress->step = g_strdup (step);
  progress->description = g_strdup (description);
  progress->fraction = fraction;
  progress->serial++;
  g_mutex_unlock (&progress->lock);
}

gboolean
image_build_progress_read (ImageBuildProgress *progress,
                           guint              *serial,
                           char              **step,
                           char              **description,
                           double             *fraction)
{
  gboolean changed;

  g_mutex_lock (&progress->lock);
  changed = progress->serial != *serial;
  if (changed)
    {
      *serial = progress->serial;
      *step = g_strdup (progress->step);
      *description = g_strdup (progress->description);
      *fraction = progress->fraction;
    }
  g_mutex_unlock (&progress->lock);
  return changed;
}

void
image_build_result_free (ImageBuildResult *result)
{
  if (result == NULL)
    return;
  g_free (result->work_dir);
  g_free (result->kernel_sha256);
  g_free (result->kernel_release);
  g_free (result->kernel_dir);
  g_free (result->image_sha256);
  g_free (result->image_file);
  g_free (result->source);
  g_free (result);
}

static gboolean
errno_error (GError     **error,
             const char  *what,
             const char  *path)
{
  int saved = errno;

  g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "%s %s: %s", what, path,
               g_strerror (saved));
  return FALSE;
}

static char *
sha256_file (const char    *path,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buffer = g_malloc (MIB);
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t n;

  if (fd < 0)
    {
      errno_error (error, _("Cannot open"), path);
      return NULL;
    }
  while ((n = read (fd, buffer, MIB)) > 0)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          close (fd);
          return NULL;
        }
      g_checksum_update (sum, buffer, n);
    }
  if (n < 0)
    {
      errno_error (error, _("Cannot read"), path);
      close (fd);
      return NULL;
    }
  close (fd);
  return g_strdup (g_checksum_get_string (sum));
}

static gboolean
make_dir (const char  *path,
          mode_t       mode,
          GError     **error)
{
  if (g_mkdir_with_parents (path, 0755) != 0)
    return errno_error (error, _("Cannot create"), path);
  /* Not the umask's business: these modes end up in the image. */
  if (chmod (path, mode) != 0)
    return errno_error (error, _("Cannot change the mode of"), path);
  return TRUE;
}

static gboolean
move (const char  *from,
      const char  *to,
      GError     **error)
{
  if (g_rename (from, to) != 0)
    return errno_error (error, _("Cannot move to"), to);
  return TRUE;
}

/* boot/vmlinuz-RELEASE of the unpacked kernel package. */
static char *
find_release (const char  *unpacked,
              GError     **error)
{
  g_autofree char *boot = g_build_filename (unpacked, "boot", NULL);
  g_autoptr(GDir) dir = g_dir_open (boot, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "vmlinuz-") && name[8] != '\0' && strchr (name, '/') == NULL)
      return g_strdup (name + 8);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
               _("The kernel package has no boot/vmlinuz-RELEASE"));
  return NULL;
}

static char *
find_program (const char *name)
{
  g_autofree char *sbin = g_build_filename ("/usr/sbin", name, NULL);
  g_autofree char *old = g_build_filename ("/sbin", name, NULL);
  char *found = g_find_program_in_path (name);

  if (found != NULL)
    return found;
  if (g_file_test (sbin, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&sbin);
  if (g_file_test (old, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&old);
  return g_strdup (name);
}

/* kernels/<sha256>/: vmlinuz, vmlinux (ELF) and modules/lib/modules/REL
 * with modules.dep, which Debian's package leaves to its postinst. */
static gboolean
stage_kernel (const char        *unpacked,
              const char        *release,
              const char        *kernel_dir,
              GCancellable      *cancellable,
              GError           **error)
{
  g_autofree char *vmlinuz_name = g_strconcat ("vmlinuz-", release, NULL);
  g_autofree char *from_vmlinuz = g_build_filename (unpacked, "boot", vmlinuz_name, NULL);
  g_autofree char *from_modules = g_build_filename (unpacked, "lib", "modules", release, NULL);
  g_autofree char *vmlinuz = g_build_filename (kernel_dir, "vmlinuz", NULL);
  g_autofree char *vmlinux = g_build_filename (kernel_dir, "vmlinux", NULL);
  g_autofree char *modules_root = g_build_filename (kernel_dir, "modules", NULL);
  g_autofree char *modules_parent = g_build_filename (modules_root, "lib", "modules", NULL);
  g_autofree char *modules = g_build_filename (modules_parent, release, NULL);
  g_autofree char *modules_dep = g_build_filename (modules, "modules.dep", NULL);
  g_autofree char *depmod = find_program ("depmod");
  const char *const argv[] = { depmod, "-b", modules_root, release, NULL };
  g_autofree char *out = NULL;

  if (!make_dir (kernel_dir, 0755, error) ||
      !move (from_vmlinuz, vmlinuz, error) ||
      !vmlinux_extract_file (vmlinuz, vmlinux, error) ||
      !make_dir (modules_parent, 0755, error))
    return FALSE;
  if (g_file_test (from_modules, G_FILE_TEST_IS_DIR) && !move (from_modules, modules, error))
    return FALSE;
  if (!g_file_test (modules, G_FILE_TEST_IS_DIR) && !make_dir (modules, 0755, error))
    return FALSE;
  if (g_file_test (modules_dep, G_FILE_TEST_EXISTS))
    return TRUE;
  out = image_run (argv, NULL, cancellable, error);
  return out != NULL;
}

static gboolean
write_file (const char  *root,
            const char  *relative,
            const char  *contents,
            mode_t       mode,
            GError     **error)
{
  g_autofree char *path = g_build_filename (root, relative, NULL);

  if (!g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_NONE, mode, error))
    return FALSE;
  if (chmod (path, mode) != 0)
    return errno_error (error, _("Cannot change the mode of"), path);
  return TRUE;
}

static gboolean
copy_file (const char  *from,
           const char  *to,
           mode_t       mode,
           GError     **error)
{
  g_autoptr(GFile) src = g_file_new_for_path (from);
  g_autoptr(GFile) dst = g_file_new_for_path (to);

  if (!g_file_copy (src, dst, G_FILE_COPY_NOFOLLOW_SYMLINKS, NULL, NULL, NULL, error))
    return FALSE;
  if (chmod (to, mode) != 0)
    return errno_error (error, _("Cannot change the mode of"), to);
  return TRUE;
}

/* One symlink to /bin/busybox per applet, except init and linuxrc: with no
 * init in the image, banger's agent runs as PID 1. */
static gboolean
link_applets (const char    *rootfs,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autofree char *busybox = g_build_filename (rootfs, "bin", "busybox", NULL);
  const char *const argv[] = { busybox, "--list-full", NULL };
  g_autofree char *out = image_run (argv, NULL, cancellable, error);
  g_auto(GStrv) lines = NULL;

  if (out == NULL)
    return FALSE;
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *applet = g_strstrip (lines[i]);
      g_autofree char *base = NULL, *path = NULL, *parent = NULL;

      if (*applet == '\0' || applet[0] == '/' || strstr (applet, "..") != NULL)
        continue;
      base = g_path_get_basename (applet);
      if (g_str_equal (base, "init") || g_str_equal (base, "linuxrc"))
        continue;
      path = g_build_filename (rootfs, applet, NULL);
      parent = g_path_get_dirname (path);
      if (!make_dir (parent, 0755, error))
        return FALSE;
      if (symlink ("/bin/busybox", path) != 0 && errno != EEXIST)
        return errno_error (error, _("Cannot create"), path);
    }
  return TRUE;
}

static gboolean
stage_rootfs (const char        *rootfs,
              const char        *busybox_unpacked,
              const ImageBuildParams *params,
              const char        *source,
              GCancellable      *cancellable,
              GError           **error)
{
  /* Parents first: a parent make_dir creates on the way gets the umask's
   * mode, and bangerd's umask is no input of the image. */
  static const struct { const char *path; mode_t mode; } dirs[] = {
    { "bin", 0755 }, { "sbin", 0755 }, { "etc", 0755 }, { "usr", 0755 }, { "usr/bin", 0755 },
    { "usr/sbin", 0755 }, { "usr/lib", 0755 }, { "usr/lib/banger", 0755 }, { "proc", 0555 },
    { "sys", 0555 }, { "dev", 0755 }, { "tmp", 01777 }, { "run", 0755 }, { "root", 0700 },
    { "var", 0755 }, { "var/tmp", 01777 }, { "mnt", 0755 },
  };
  g_autofree char *busybox_from = g_build_filename (busybox_unpacked, "bin", "busybox", NULL);
  g_autofree char *busybox_to = g_build_filename (rootfs, "bin", "busybox", NULL);
  g_autofree char *os_release = g_strdup_printf (
    "NAME=\"banger\"\nID=banger\nID_LIKE=debian\n"
    "PRETTY_NAME=\"banger image built from Debian packages (%s)\"\n", source);

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = g_build_filename (rootfs, dirs[i].path, NULL);

      if (!make_dir (path, dirs[i].mode, error))
        return FALSE;
    }
  if (!make_dir (rootfs, 0755, error) || !move (busybox_from, busybox_to, error))
    return FALSE;
  if (chmod (busybox_to, 0755) != 0)
    return errno_error (error, _("Cannot change the mode of"), busybox_to);
  if (!link_applets (rootfs, cancellable, error) ||
      !write_file (rootfs, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644, error) ||
      !write_file (rootfs, "etc/group", "root:x:0:\n", 0644, error) ||
      !write_file (rootfs, "etc/shadow", "root:!:1::::::\n", 0600, error) ||
      !write_file (rootfs, "etc/hostname", "banger\n", 0644, error) ||
      !write_file (rootfs, "etc/os-release", os_release, 0644, error))
    return FALSE;

  if (params->agent_path != NULL && g_file_test (params->agent_path, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *agent = g_build_filename (rootfs, "usr", "lib", "banger", "banger-agent", NULL);

      if (!copy_file (params->agent_path, agent, 0755, error))
        return FALSE;
    }
  else
    g_info ("No guest agent at %s; the image is built without it",
            params->agent_path != NULL ? params->agent_path : "(none)");
  return TRUE;
}

/* Bytes the tree needs in the file system: blocks plus one per inode. */
static guint64
tree_size (const char *path)
{
  struct stat st;
  guint64 total = 4096;

  if (lstat (path, &st) != 0)
    return total;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          total += tree_size (child);
        }
    }
  else if (S_ISREG (st.st_mode))
    total += ((guint64) st.st_size + 4095) / 4096 * 4096;
  return total;
}

/* What makes an image reproducible: the staged tree and the timestamp
 * every inode gets. SOURCE_DATE_EPOCH (of bangerd's environment) when set,
 * else the mtime /bin/busybox has in its package: Debian sets it from the
 * package's changelog, so it moves only when the package does. */
static gboolean
image_timestamp (const char  *rootfs,
                 gint64      *out,
                 GError     **error)
{
  const char *epoch = g_getenv ("SOURCE_DATE_EPOCH");
  g_autofree char *busybox = g_build_filename (rootfs, "bin", "busybox", NULL);
  struct stat st;
  guint64 value;

  if (epoch != NULL)
    {
      if (!g_ascii_string_to_unsigned (epoch, 10, 0, (guint64) EXT4_TIMESTAMP_MAX, &value, NULL))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                       _("SOURCE_DATE_EPOCH “%s” is not a number of seconds from 0 to %d"),
                       epoch, (int) EXT4_TIMESTAMP_MAX);
          return FALSE;
        }
      *out = (gint64) value;
      return TRUE;
    }
  if (lstat (busybox, &st) != 0)
    return errno_error (error, _("Cannot read"), busybox);
  *out = CLAMP ((gint64) st.st_mtime, 0, EXT4_TIMESTAMP_MAX);
  return TRUE;
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Adds @relative (under @root) and everything below it to @sum, in byte
 * order of names: type, mode, path, then the contents' sha256 or the link
 * target. Owners and times are not inputs: the image has its own. */
static gboolean
digest_tree (GChecksum     *sum,
             const char    *root,
             const char    *relative,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autofree char *path = g_build_filename (root, relative, NULL);
  g_autofree char *head = NULL, *tail = NULL;
  struct stat st;

  if (lstat (path, &st) != 0)
    return errno_error (error, _("Cannot read"), path);
  head = g_strdup_printf ("%o %o %s", (unsigned) (st.st_mode & S_IFMT),
                          (unsigned) (st.st_mode & 07777), relative);
  g_checksum_update (sum, (const guchar *) head, strlen (head) + 1);
  if (S_ISREG (st.st_mode))
    tail = sha256_file (path, cancellable, error);
  else if (S_ISLNK (st.st_mode))
    tail = g_file_read_link (path, error);
  else if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, error);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (dir == NULL)
        return FALSE;
      while ((name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (names, g_build_filename (relative, name, NULL));
      g_ptr_array_sort (names, compare_names);
      for (guint i = 0; i < names->len; i++)
        if (!digest_tree (sum, root, names->pdata[i], cancellable, error))
          return FALSE;
      return TRUE;
    }
  else
    tail = g_strdup ("");
  if (tail == NULL)
    return FALSE;
  g_checksum_update (sum, (const guchar *) tail, strlen (tail) + 1);
  return TRUE;
}

/* RFC 9562 version 8 (custom) UUID text from 16 bytes of @digest. */
static char *
uuid_from (const guint8 *digest)
{
  guint8 b[16];

  memcpy (b, digest, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                          "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
                          b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* mkfs.ext4 picks a random UUID and directory hash seed and stamps the
 * clock: both come from a digest of the tree and the timestamp instead,
 * the time from E2FSPROGS_FAKE_TIME, and the owner pass sets every time
 * the staging tree left (and the superblock's) to the timestamp. mkfs -d
 * adds a directory's entries in sorted order (C locale), so the same tree
 * and timestamp give the same bytes. */
static gboolean
make_ext4 (const char    *rootfs,
           const char    *file,
           gint64         timestamp,
           GCancellable  *cancellable,
           GError       **error)
{
  guint64 size = (tree_size (rootfs) + IMAGE_HEADROOM + MIB - 1) / MIB * MIB;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *header = g_strdup_printf ("banger-image 1 %" G_GINT64_FORMAT, timestamp);
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  g_autofree char *mkfs = find_program ("mkfs.ext4");
  g_autofree char *size_arg = g_strdup_printf ("%" G_GUINT64_FORMAT "k", size / 1024);
  g_autofree char *uuid = NULL, *seed = NULL, *extended = NULL, *fake_time = NULL;
  g_autofree char *out = NULL;
  int fd;

  g_checksum_update (sum, (const guchar *) header, strlen (header) + 1);
  if (!digest_tree (sum, rootfs, "", cancellable, error))
    return FALSE;
  g_checksum_get_digest (sum, digest, &digest_len);
  uuid = uuid_from (digest);
  seed = uuid_from (digest + 16);
  extended = g_strconcat ("lazy_itable_init=1,lazy_journal_init=1,root_owner=0:0,hash_seed=",
                          seed, NULL);
  fake_time = g_strdup_printf ("%" G_GINT64_FORMAT, timestamp);

  /* Sparse: mkfs writes only what the file system needs. */
  fd = open (file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    return errno_error (error, _("Cannot create"), file);
  if (ftruncate (fd, (off_t) size) != 0)
    {
      close (fd);
      return errno_error (error, _("Cannot size"), file);
    }
  close (fd);
  {
    const char *const argv[] = {
      mkfs, "-q", "-F", "-t", "ext4", "-L", "banger-image", "-m", "0", "-U", uuid,
      "-E", extended, "-d", rootfs, file, size_arg, NULL
    };
    const char *const env[] = { "E2FSPROGS_FAKE_TIME", fake_time, NULL };

    out = image_run_env (argv, NULL, env, cancellable, error);
  }
  return out != NULL && ext4_reset_owners_and_times (file, timestamp, error);
}

static gboolean
build (const ImageBuildParams *params,
       ImageBuildProgress     *progress,
       ImageBuildResult       *result,
       GCancellable           *cancellable,
       GError                **error)
{
  g_autofree char *kernel_deb = NULL, *busybox_deb = NULL;
  g_autofree char *kernel_label = NULL, *busybox_label = NULL;
  g_autofree char *kernel_pkg = g_build_filename (result->work_dir, "kernel-package", NULL);
  g_autofree char *busybox_pkg = g_build_filename (result->work_dir, "busybox-package", NULL);
  g_autofree char *rootfs = g_build_filename (result->work_dir, "rootfs", NULL);
  g_autofree char *vmlinuz = NULL, *installed = NULL, *staged_kernel = NULL;
  g_autofree char *image = g_build_filename (result->work_dir, "image.ext4", NULL);
  struct stat st;
  gint64 timestamp = 0;

  progress_set (progress, "download", _("Fetching the Debian packages"), 0.02);
  kernel_deb = image_debs_get (IMAGE_DEBS_KERNEL_META, params->debs_dir, params->cache_dir,
                               &kernel_label, cancellable, error);
  if (kernel_deb == NULL)
    return FALSE;
  busybox_deb = image_debs_get (IMAGE_DEBS_BUSYBOX, params->debs_dir, params->cache_dir,
                                &busybox_label, cancellable, error);
  if (busybox_deb == NULL || g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  result->source = g_strdup_printf ("debian: %s, %s", kernel_label, busybox_label);

  progress_set (progress, "unpack", _("Unpacking the packages"), 0.25);
  if (!make_dir (kernel_pkg, 0755, error) || !make_dir (busybox_pkg, 0755, error) ||
      !deb_extract (kernel_deb, kernel_pkg, cancellable, error) ||
      !deb_extract (busybox_deb, busybox_pkg, cancellable, error))
    return FALSE;

  progress_set (progress, "kernel", _("Preparing the kernel"), 0.5);
  result->kernel_release = find_release (kernel_pkg, error);
  if (result->kernel_release == NULL)
    return FALSE;
  vmlinuz = g_strdup_printf ("%s/boot/vmlinuz-%s", kernel_pkg, result->kernel_release);
  result->kernel_sha256 = sha256_file (vmlinuz, cancellable, error);
  if (result->kernel_sha256 == NULL)
    return FALSE;
  installed = g_build_filename (params->data_dir, "kernels", result->kernel_sha256, NULL);
  if (!g_file_test (installed, G_FILE_TEST_IS_DIR))
    {
      staged_kernel = g_build_filename (result->work_dir, "kernel", NULL);
      if (!stage_kernel (kernel_pkg, result->kernel_release, staged_kernel, cancellable, error))
        return FALSE;
      result->kernel_dir = g_steal_pointer (&staged_kernel);
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  progress_set (progress, "rootfs", _("Assembling the root file system"), 0.65);
  if (!stage_rootfs (rootfs, busybox_pkg, params, result->source, cancellable, error))
    return FALSE;

  progress_set (progress, "ext4", _("Making the ext4 image"), 0.75);
  if (!image_timestamp (rootfs, &timestamp, error) ||
      !make_ext4 (rootfs, image, timestamp, cancellable, error))
    return FALSE;
  result->image_sha256 = sha256_file (image, cancellable, error);
  if (result->image_sha256 == NULL)
    return FALSE;
  if (chmod (image, 0444) != 0 || stat (image, &st) != 0)
    return errno_error (error, _("Cannot finish"), image);
  result->image_size = st.st_size;
  result->image_file = g_steal_pointer (&image);

  progress_set (progress, "register", _("Registering the image"), 0.95);
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

typedef struct {
  ImageBuildParams   *params;
  ImageBuildProgress *progress;
} BuildData;

static void
build_data_free (BuildData *data)
{
  image_build_params_free (data->params);
  g_free (data);
}

static void
build_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  BuildData *data = task_data;
  g_autoptr(ImageBuildResult) result = g_new0 (ImageBuildResult, 1);
  g_autofree char *images = g_build_filename (data->params->data_dir, "images", NULL);
  g_autofree char *tmpl = NULL;
  GError *error = NULL;

  if (!fs_ensure_private_dir (images, &error))
    return g_task_return_error (task, error);
  tmpl = g_strdup_printf ("%s/" IMAGE_BUILD_WORK_PREFIX "%s-XXXXXX", images, data->params->name);
  if (g_mkdtemp_full (tmpl, 0700) == NULL)
    {
      errno_error (&error, _("Cannot create a work directory in"), images);
      return g_task_return_error (task, error);
    }
  result->work_dir = g_steal_pointer (&tmpl);

  if (!build (data->params, data->progress, result, cancellable, &error))
    {
      g_autoptr(GError) cleanup = NULL;

      if (!fs_remove_tree (result->work_dir, &cleanup))
        g_warning ("%s", cleanup->message);
      return g_task_return_error (task, error);
    }
  g_task_return_pointer (task, g_steal_pointer (&result), (GDestroyNotify) image_build_result_free);
}

void
image_build_async (const ImageBuildParams *params,
                   ImageBuildProgress     *progress,
                   GCancellable           *cancellable,
                   GAsyncReadyCallback     callback,
                   gpointer                user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  BuildData *data = g_new0 (BuildData, 1);

  data->params = params_copy (params);
  data->progress = progress;
  g_task_set_source_tag (task, image_build_async);
  g_task_set_task_data (task, data, (GDestroyNotify) build_data_free);
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, build_thread);
}

ImageBuildResult *
image_build_finish (GAsyncResult  *result,
                    GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
