/* fs-util.c: recursive removal through openat/unlinkat (never following a
 * symlink out of the tree) and private directory creation. */
#define G_LOG_DOMAIN "bangerd-fs"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "banger-error.h"
#include "fs-util.h"

static gboolean
remove_children (int          dir_fd,
                 const char  *path,
                 GError     **error)
{
  DIR *dir = fdopendir (dir_fd);
  struct dirent *entry;
  gboolean ok = TRUE;

  if (dir == NULL)
    {
      close (dir_fd);
      return FALSE;
    }
  while (ok && (entry = readdir (dir)) != NULL)
    {
      if (g_str_equal (entry->d_name, ".") || g_str_equal (entry->d_name, ".."))
        continue;
      if (unlinkat (dirfd (dir), entry->d_name, 0) == 0 || errno == ENOENT)
        continue;
      if (errno != EISDIR && errno != EPERM)
        {
          ok = FALSE;
          break;
        }
      int child = openat (dirfd (dir), entry->d_name,
                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0 || !remove_children (child, path, error) ||
          unlinkat (dirfd (dir), entry->d_name, AT_REMOVEDIR) != 0)
        ok = FALSE;
    }
  if (!ok && error != NULL && *error == NULL)
    {
      int saved = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Cannot remove %s: %s"), path, g_strerror (saved));
    }
  closedir (dir);
  return ok;
}

gboolean
fs_remove_tree (const char  *path,
                GError     **error)
{
  int fd;

  if (unlink (path) == 0 || errno == ENOENT)
    return TRUE;
  fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || !remove_children (fd, path, error) || rmdir (path) != 0)
    {
      int saved = errno;
      if (saved == ENOENT)
        return TRUE;
      if (error != NULL && *error == NULL)
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                     _("Cannot remove %s: %s"), path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

gboolean
fs_ensure_private_dir (const char  *path,
                       GError     **error)
{
  struct stat st;

  if (g_mkdir_with_parents (path, 0700) != 0 ||
      lstat (path, &st) != 0 || !S_ISDIR (st.st_mode) || st.st_uid != getuid ())
    {
      int saved = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Cannot use %s as a private directory: %s"), path,
                   saved != 0 ? g_strerror (saved) : _("not a directory of ours"));
      return FALSE;
    }
  return TRUE;
}

gboolean
fs_set_errno_error (GError     **error,
                    int          saved_errno,
                    const char  *format,
                    ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "%s: %s", what, g_strerror (saved_errno));
  return FALSE;
}

char *
fs_file_identity (const char *path)
{
  struct stat st;

  if (stat (path, &st) != 0)
    return NULL;
  return g_strdup_printf ("%s:%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT ":%" G_GINT64_FORMAT
                          ".%ld:%" G_GINT64_FORMAT, path, (guint64) st.st_dev,
                          (guint64) st.st_ino, (gint64) st.st_mtim.tv_sec,
                          st.st_mtim.tv_nsec, (gint64) st.st_size);
}
