/* vm-disk.c: makes a VM's writable disk (sparse ext4 with its boot config,
 * mkfs.ext4 -d from a private staging dir) and the full-copy root fallback. */
#define G_LOG_DOMAIN "bangerd-vm-disk"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-size.h"
#include "fs-util.h"
#include "vm-disk.h"
#include "vm-settings.h"

#define COPY_CHUNK_BYTES  ((size_t) 64 << 20)   /* cancellation is checked per chunk */
#define STAGING_TEMPLATE  ".disk-staging-XXXXXX"

/* g_auto(Fd) closes a descriptor on every return path (g_autofd needs 2.76). */
typedef int Fd;
static void
fd_close (int fd)
{
  if (fd >= 0)
    close (fd);
}
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (Fd, fd_close, -1)

/* ---- the writable disk ---- */

typedef struct {
  char    *vm_dir;
  char    *disk_name;
  guint64  size_bytes;
  char    *vm_conf;
  char    *authorized_keys;   /* NULL when the VM has no SSH key */
} CreateData;

static void
create_data_free (CreateData *data)
{
  g_free (data->vm_dir);
  g_free (data->disk_name);
  g_free (data->vm_conf);
  g_free (data->authorized_keys);
  g_free (data);
}

/* Users' PATH often lacks the sbin directories where e2fsprogs lives. */
static char *
find_mkfs (GError **error)
{
  static const char *const fallbacks[] = { "/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4" };
  char *found = g_find_program_in_path ("mkfs.ext4");

  if (found != NULL)
    return found;
  for (guint i = 0; i < G_N_ELEMENTS (fallbacks); i++)
    if (g_file_test (fallbacks[i], G_FILE_TEST_IS_EXECUTABLE))
      return g_strdup (fallbacks[i]);

  g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                       _("mkfs.ext4 was not found in PATH, /usr/sbin or /sbin; "
                         "install e2fsprogs (e.g. apt install e2fsprogs) to create VM disks"));
  return NULL;
}

static gboolean
write_data_file (int          dir_fd,
                 const char  *name,
                 const char  *contents,
                 GError     **error)
{
  g_auto(Fd) fd = openat (dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  size_t len = strlen (contents);
  size_t done = 0;

  if (fd < 0)
    return fs_set_errno_error (error, errno, _("Cannot create %s in the disk staging directory"), name);
  /* mkfs -d copies modes as they are; do not let bangerd's umask decide. */
  if (fchmod (fd, 0644) < 0)
    return fs_set_errno_error (error, errno, _("Cannot set the mode of %s"), name);
  while (done < len)
    {
      ssize_t n = write (fd, contents + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return fs_set_errno_error (error, errno, _("Cannot write %s in the disk staging directory"), name);
      done += (size_t) n;
    }
  return TRUE;
}

static gboolean
make_data_dir (int          dir_fd,
               const char  *name,
               GError     **error)
{
  if (mkdirat (dir_fd, name, 0755) < 0)
    return fs_set_errno_error (error, errno, _("Cannot create %s in the disk staging directory"), name);
  if (fchmodat (dir_fd, name, 0755, 0) < 0)
    return fs_set_errno_error (error, errno, _("Cannot set the mode of %s"), name);
  return TRUE;
}

/* The tree docs/boot-config.md describes, built under @staging_fd. */
static gboolean
populate_staging (int                stage_fd,
                  const CreateData  *data,
                  GError           **error)
{
  g_auto(Fd) banger_fd = -1;

  if (!make_data_dir (stage_fd, "banger", error))
    return FALSE;
  banger_fd = openat (stage_fd, "banger", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (banger_fd < 0)
    return fs_set_errno_error (error, errno, _("Cannot open %s in the disk staging directory"), "banger");
  if (!write_data_file (banger_fd, "vm.conf", data->vm_conf, error))
    return FALSE;
  if (data->authorized_keys != NULL
      && !write_data_file (banger_fd, "authorized_keys", data->authorized_keys, error))
    return FALSE;
  return make_data_dir (stage_fd, "overlay", error)
         && make_data_dir (stage_fd, "overlay/upper", error)
         && make_data_dir (stage_fd, "overlay/work", error);
}

/* Removes exactly what populate_staging() may have made, then the dir. */
static void
remove_staging (const char *staging)
{
  static const struct { const char *name; int flags; } entries[] = {
    { "banger/vm.conf", 0 },
    { "banger/authorized_keys", 0 },
    { "banger", AT_REMOVEDIR },
    { "overlay/upper", AT_REMOVEDIR },
    { "overlay/work", AT_REMOVEDIR },
    { "overlay", AT_REMOVEDIR },
  };
  g_auto(Fd) fd = open (staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd >= 0)
    for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
      if (unlinkat (fd, entries[i].name, entries[i].flags) < 0 && errno != ENOENT)
        g_warning ("Cannot remove %s/%s: %s", staging, entries[i].name, g_strerror (errno));
  if (rmdir (staging) < 0 && errno != ENOENT)
    g_warning ("Cannot remove disk staging directory %s: %s", staging, g_strerror (errno));
}

static gboolean
run_mkfs (const char    *mkfs,
          const char    *staging,
          const char    *disk_path,
          GCancellable  *cancellable,
          GError       **error)
{
  const char *argv[] = {
    mkfs, "-q", "-F", "-t", "ext4", "-L", VM_DISK_LABEL, "-m", "0",
    /* Lazy init keeps creation O(1) in the disk's size; the guest kernel
     * zeroes inode tables in the background. root_owner keeps the
     * filesystem root from being owned by the host user's uid. */
    "-E", "lazy_itable_init=1,lazy_journal_init=1,root_owner=0:0",
    "-d", staging, disk_path, NULL
  };
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GBytes) err_bytes = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *err_text = NULL;
  const char *err_data;
  gsize err_len = 0;
  int status;

  /* stdin is /dev/null by default, so mkfs can never stop to ask. */
  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                            error);
  if (proc == NULL)
    return FALSE;
  if (!g_subprocess_communicate (proc, NULL, cancellable, NULL, &err_bytes, &local))
    {
      /* Never leave mkfs writing to a file we are about to delete. */
      g_subprocess_force_exit (proc);
      g_subprocess_wait (proc, NULL, NULL);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }

  err_data = err_bytes != NULL ? g_bytes_get_data (err_bytes, &err_len) : NULL;
  err_text = g_utf8_make_valid (err_data != NULL ? err_data : "", (gssize) err_len);
  g_strstrip (err_text);
  status = g_subprocess_get_status (proc);
  if (g_subprocess_get_if_exited (proc) && g_subprocess_get_exit_status (proc) == 0)
    return TRUE;
  if (WIFSIGNALED (status))
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                 _("%s was killed by signal %d while making %s: %s"),
                 mkfs, WTERMSIG (status), disk_path, err_text);
  else
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                 _("%s failed with exit status %d while making %s: %s"),
                 mkfs, WEXITSTATUS (status), disk_path, err_text);
  return FALSE;
}

/* Creates the disk file, builds the staging tree and runs mkfs; the
 * caller removes the disk file when this fails after creating it. */
static gboolean
make_disk (const CreateData  *data,
           int                vm_dir_fd,
           const char        *mkfs,
           gboolean          *out_created,
           GCancellable      *cancellable,
           GError           **error)
{
  g_autofree char *disk_path = g_build_filename (data->vm_dir, data->disk_name, NULL);
  g_autofree char *staging = g_build_filename (data->vm_dir, STAGING_TEMPLATE, NULL);
  g_auto(Fd) disk_fd = -1;
  g_auto(Fd) stage_fd = -1;
  gboolean ok;

  disk_fd = openat (vm_dir_fd, data->disk_name,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (disk_fd < 0 && errno == EEXIST)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   _("Disk %s already exists; remove it or pick another VM name"), disk_path);
      return FALSE;
    }
  if (disk_fd < 0)
    return fs_set_errno_error (error, errno, _("Cannot create disk %s"), disk_path);
  *out_created = TRUE;

  /* Sparse: no block is allocated until mkfs or the guest writes one. */
  if (ftruncate (disk_fd, (off_t) data->size_bytes) < 0)
    {
      int saved_errno = errno;
      g_autofree char *size = banger_size_format (data->size_bytes);

      /* e.g. ext4 on the host caps a file just below 16 TiB. */
      if (saved_errno == EFBIG)
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                     _("The filesystem holding %s cannot store a %s file; choose a smaller disk"),
                     data->vm_dir, size);
      else
        fs_set_errno_error (error, saved_errno, _("Cannot make disk %s %s large"), disk_path, size);
      return FALSE;
    }
  if (close (g_steal_fd (&disk_fd)) < 0)
    return fs_set_errno_error (error, errno, _("Cannot write disk %s"), disk_path);

  if (g_mkdtemp_full (staging, 0700) == NULL)
    return fs_set_errno_error (error, errno, _("Cannot create a disk staging directory in %s"), data->vm_dir);
  stage_fd = open (staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  ok = stage_fd >= 0
       ? populate_staging (stage_fd, data, error)
       : fs_set_errno_error (error, errno, _("Cannot open disk staging directory %s"), staging);
  ok = ok && !g_cancellable_set_error_if_cancelled (cancellable, error)
       && run_mkfs (mkfs, staging, disk_path, cancellable, error);
  remove_staging (staging);
  return ok;
}

static void
create_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  CreateData *data = task_data;
  g_autofree char *mkfs = NULL;
  g_auto(Fd) vm_dir_fd = -1;
  gboolean created = FALSE;
  GError *error = NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, &error)
      || (mkfs = find_mkfs (&error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  vm_dir_fd = open (data->vm_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (vm_dir_fd < 0)
    {
      fs_set_errno_error (&error, errno, _("Cannot open VM directory %s"), data->vm_dir);
      g_task_return_error (task, error);
      return;
    }

  if (make_disk (data, vm_dir_fd, mkfs, &created, cancellable, &error))
    {
      g_debug ("Made disk %s/%s (%" G_GUINT64_FORMAT " bytes)", data->vm_dir, data->disk_name,
               data->size_bytes);
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (created && unlinkat (vm_dir_fd, data->disk_name, 0) < 0 && errno != ENOENT)
    g_warning ("Cannot remove partial disk %s/%s: %s", data->vm_dir, data->disk_name,
               g_strerror (errno));
  g_task_return_error (task, error);
}

static gboolean
validate_disk_name (const char  *name,
                    GError     **error)
{
  if (name == NULL || *name == '\0' || strchr (name, '/') != NULL
      || g_str_equal (name, ".") || g_str_equal (name, ".."))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("Disk file name “%s” is not a plain file name"), name != NULL ? name : "");
      return FALSE;
    }
  return TRUE;
}

void
vm_disk_create_async (const char          *vm_dir,
                      const char          *disk_name,
                      guint64              size_bytes,
                      const BootConfig    *config,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  CreateData *data;

  g_return_if_fail (vm_dir != NULL && config != NULL);
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, vm_disk_create_async);
  /* The thread decides: a cancel after mkfs succeeded must not report
   * failure while the disk stays behind. */
  g_task_set_check_cancellable (task, FALSE);

  /* Everything is checked before anything is touched. */
  if (!validate_disk_name (disk_name, &error)
      || !vm_settings_check_disk_bytes (size_bytes, &error)
      || !boot_config_validate (config, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  data = g_new0 (CreateData, 1);
  data->vm_dir = g_strdup (vm_dir);
  data->disk_name = g_strdup (disk_name);
  data->size_bytes = size_bytes;
  data->vm_conf = boot_config_serialize (config, NULL);
  if (config->ssh_authorized_key != NULL)
    data->authorized_keys = g_strconcat (config->ssh_authorized_key, "\n", NULL);
  g_task_set_task_data (task, data, (GDestroyNotify) create_data_free);
  g_task_run_in_thread (task, create_thread);
}

gboolean
vm_disk_create_finish (GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, vm_disk_create_async), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- the full-copy fallback ---- */

typedef struct {
  char *image_path;
  char *dest_path;
} CopyData;

static void
copy_data_free (CopyData *data)
{
  g_free (data->image_path);
  g_free (data->dest_path);
  g_free (data);
}

/* Copies [offset, offset+len) at the same offset; copy_file_range lets the
 * kernel share or splice blocks, read/write covers filesystems that refuse. */
static gboolean
copy_extent (int            src,
             int            dst,
             off_t          offset,
             off_t          len,
             gboolean      *use_plain_io,
             const char    *image_path,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autofree char *buffer = NULL;

  while (len > 0)
    {
      size_t chunk = (size_t) MIN ((off_t) COPY_CHUNK_BYTES, len);
      ssize_t n;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (!*use_plain_io)
        {
          off_t in_off = offset, out_off = offset;

          n = copy_file_range (src, &in_off, dst, &out_off, chunk, 0);
          if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL))
            {
              *use_plain_io = TRUE;
              continue;
            }
        }
      else
        {
          if (buffer == NULL)
            buffer = g_malloc (COPY_CHUNK_BYTES);
          n = pread (src, buffer, chunk, offset);
          for (ssize_t done = 0; n > 0 && done < n;)
            {
              ssize_t w = pwrite (dst, buffer + done, (size_t) (n - done), offset + done);

              if (w < 0 && errno != EINTR)
                return fs_set_errno_error (error, errno, _("Cannot write the copy of %s"), image_path);
              done += MAX (w, 0);
            }
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return fs_set_errno_error (error, errno, _("Cannot copy %s"), image_path);
      if (n == 0)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                       _("Image %s shrank while it was being copied; images must not be modified"),
                       image_path);
          return FALSE;
        }
      offset += n;
      len -= n;
    }
  return TRUE;
}

/* Walks the image's data extents (SEEK_DATA/SEEK_HOLE) so holes stay holes. */
static gboolean
copy_sparse (int            src,
             int            dst,
             off_t          size,
             const char    *image_path,
             GCancellable  *cancellable,
             GError       **error)
{
  gboolean use_plain_io = FALSE;
  off_t pos = 0;

  if (ftruncate (dst, size) < 0)
    return fs_set_errno_error (error, errno, _("Cannot size the copy of %s"), image_path);
  while (pos < size)
    {
      off_t data = lseek (src, pos, SEEK_DATA);
      off_t hole;

      if (data < 0 && errno == ENXIO)
        break;                                  /* only a hole remains */
      if (data < 0 && errno != EINVAL && errno != EOPNOTSUPP)
        return fs_set_errno_error (error, errno, _("Cannot read the layout of %s"), image_path);
      if (data < 0)
        data = pos;                             /* no SEEK_DATA: copy it all */
      hole = lseek (src, data, SEEK_HOLE);
      if (hole < 0 || hole > size)
        hole = size;
      if (!copy_extent (src, dst, data, hole - data, &use_plain_io, image_path, cancellable, error))
        return FALSE;
      pos = hole;
    }
  return TRUE;
}

static gboolean
copy_root (const CopyData    *data,
           VmRootCopyMethod  *out_method,
           GCancellable      *cancellable,
           GError           **error)
{
  g_auto(Fd) src = open (data->image_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  g_auto(Fd) dst = -1;
  struct stat st;
  gboolean ok;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (src < 0)
    return fs_set_errno_error (error, errno, _("Cannot open image %s"), data->image_path);
  if (fstat (src, &st) < 0)
    return fs_set_errno_error (error, errno, _("Cannot inspect image %s"), data->image_path);
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   _("Image %s is not a regular file"), data->image_path);
      return FALSE;
    }

  dst = open (data->dest_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0 && errno == EEXIST)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   _("%s already exists; remove it before copying the image again"), data->dest_path);
      return FALSE;
    }
  if (dst < 0)
    return fs_set_errno_error (error, errno, _("Cannot create %s"), data->dest_path);

  if (ioctl (dst, FICLONE, src) == 0)
    {
      *out_method = VM_ROOT_COPY_REFLINK;
      ok = TRUE;
    }
  else
    {
      *out_method = VM_ROOT_COPY_SPARSE;
      ok = copy_sparse (src, dst, st.st_size, data->image_path, cancellable, error);
    }
  if (ok && fsync (dst) < 0)
    ok = fs_set_errno_error (error, errno, _("Cannot flush %s to disk"), data->dest_path);
  if (ok && close (g_steal_fd (&dst)) < 0)
    ok = fs_set_errno_error (error, errno, _("Cannot write the copy of %s"), data->dest_path);
  if (!ok && unlink (data->dest_path) < 0 && errno != ENOENT)
    g_warning ("Cannot remove partial copy %s: %s", data->dest_path, g_strerror (errno));
  return ok;
}

static void
copy_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  VmRootCopyMethod method = VM_ROOT_COPY_SPARSE;
  GError *error = NULL;

  if (!copy_root (task_data, &method, cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_int (task, method);
}

void
vm_disk_copy_root_async (const char          *image_path,
                         const char          *dest_path,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  CopyData *data;

  g_return_if_fail (image_path != NULL && dest_path != NULL);
  task = g_task_new (NULL, cancellable, callback, user_data);
  data = g_new0 (CopyData, 1);
  g_task_set_source_tag (task, vm_disk_copy_root_async);
  g_task_set_check_cancellable (task, FALSE);
  data->image_path = g_strdup (image_path);
  data->dest_path = g_strdup (dest_path);
  g_task_set_task_data (task, data, (GDestroyNotify) copy_data_free);
  g_task_run_in_thread (task, copy_thread);
}

gboolean
vm_disk_copy_root_finish (GAsyncResult      *result,
                          VmRootCopyMethod  *out_method,
                          GError           **error)
{
  gssize method;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, vm_disk_copy_root_async), FALSE);
  method = g_task_propagate_int (G_TASK (result), error);
  if (method < 0)
    return FALSE;
  if (out_method != NULL)
    *out_method = (VmRootCopyMethod) method;
  return TRUE;
}
