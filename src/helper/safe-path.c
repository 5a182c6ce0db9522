/* safe-path.c: walks a path from "/" with openat(O_NOFOLLOW) one component
 * at a time, so no symlink anywhere can redirect the helper. */
#define G_LOG_DOMAIN "banger-helper-safe-path"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "banger-error.h"

#include "launch-spec.h"
#include "safe-path.h"

void
safe_path_set_errno_error (GError     **error,
                           int          saved_errno,
                           const char  *format,
                           ...)
{
  g_autofree char *message = NULL;
  BangerError code = BANGER_ERROR_FAILED;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (saved_errno == ENOENT)
    code = BANGER_ERROR_NOT_FOUND;
  else if (saved_errno == EBUSY)
    code = BANGER_ERROR_BUSY;
  g_set_error (error, BANGER_ERROR, code, "%s: %s", message, g_strerror (saved_errno));
}

gboolean
safe_path_check_root_owned (const char         *dir_path,
                            const struct stat  *st,
                            gpointer            user_data,
                            GError            **error)
{
  if (st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                   _("%s must be owned by root and writable by nobody else "
                     "(it is owned by uid %u, mode %04o); fix its owner and "
                     "mode, or configure another path in "
                     "/etc/banger/helper.conf."),
                   dir_path, (guint) st->st_uid, (guint) (st->st_mode & 07777));
      return FALSE;
    }
  return TRUE;
}

/* Why opening @name below @dirfd as a directory failed, in words. */
static void
set_component_error (GError     **error,
                     int          saved_errno,
                     int          dirfd,
                     const char  *name,
                     const char  *path,
                     const char  *component_path)
{
  struct stat st;

  if (saved_errno == ENOENT)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                 _("%s does not exist (%s is missing)."), path, component_path);
  else if ((saved_errno == ENOTDIR || saved_errno == ELOOP) &&
           fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode))
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 _("%s is reached through a symbolic link (%s); the helper "
                   "follows none. Use the real path."), path, component_path);
  else if (saved_errno == ENOTDIR)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 _("%s: %s is not a directory."), path, component_path);
  else
    safe_path_set_errno_error (error, saved_errno, _("Could not open %s"), component_path);
}

static int
open_dir_component (int            dirfd,
                    const char    *name,
                    gboolean       last,
                    SafePathFlags  flags,
                    const char    *path,
                    const char    *component_path,
                    GError       **error)
{
  gboolean created = FALSE;
  int fd;

  if ((flags & SAFE_PATH_CREATE) != 0)
    {
      if (mkdirat (dirfd, name, 0755) == 0)
        created = TRUE;
      else if (errno != EEXIST)
        {
          safe_path_set_errno_error (error, errno, _("Could not create %s"), component_path);
          return -1;
        }
    }

  fd = openat (dirfd, name,
               ((last || created) ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      set_component_error (error, errno, dirfd, name, path, component_path);
      return -1;
    }
  /* Exactly 0755 whatever the umask: users must be able to pass through. */
  if (created && fchmod (fd, 0755) < 0)
    {
      safe_path_set_errno_error (error, errno, _("Could not set the mode of %s"), component_path);
      close (fd);
      return -1;
    }
  return fd;
}

int
safe_path_open (const char        *path,
                SafePathFlags      flags,
                SafePathDirCheck   check_dir,
                gpointer           user_data,
                GError           **error)
{
  g_auto(GStrv) parts = NULL;
  g_autoptr(GString) so_far = g_string_new ("");
  struct stat st;
  guint n;
  int fd;

  if (!launch_path_check_canonical (path, error))
    return -1;

  fd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      safe_path_set_errno_error (error, errno, _("Could not open %s"), "/");
      if (fd >= 0)
        close (fd);
      return -1;
    }
  if (check_dir != NULL && !check_dir ("/", &st, user_data, error))
    {
      close (fd);
      return -1;
    }

  parts = g_strsplit (path + 1, "/", -1);
  n = g_strv_length (parts);
  for (guint i = 0; i < n; i++)
    {
      gboolean last = i + 1 == n;
      int next;

      g_string_append_c (so_far, '/');
      g_string_append (so_far, parts[i]);

      if (!last || (flags & SAFE_PATH_DIRECTORY) != 0)
        {
          next = open_dir_component (fd, parts[i], last, flags, path, so_far->str, error);
          if (next >= 0 && fstat (next, &st) < 0)
            {
              safe_path_set_errno_error (error, errno, _("Could not open %s"), so_far->str);
              helper_fd_close (g_steal_fd (&next));
            }
          if (next >= 0 && check_dir != NULL &&
              !check_dir (so_far->str, &st, user_data, error))
            helper_fd_close (g_steal_fd (&next));
        }
      else
        {
          /* O_PATH|O_NOFOLLOW opens a symlink itself rather than failing:
           * fstat tells. */
          next = openat (fd, parts[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
          if (next < 0)
            set_component_error (error, errno, fd, parts[i], path, so_far->str);
          else if (fstat (next, &st) < 0 || S_ISLNK (st.st_mode))
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           _("%s is a symbolic link; the helper follows none. "
                             "Pass the path of the file itself."), path);
              helper_fd_close (g_steal_fd (&next));
            }
        }

      close (fd);
      if (next < 0)
        return -1;
      fd = next;
    }
  return fd;
}

int
safe_path_mkdir_root_owned (int          dirfd,
                            const char  *dir_path,
                            const char  *name,
                            mode_t       mode,
                            GError     **error)
{
  g_autofree char *path = g_build_filename (dir_path, name, NULL);
  gboolean created = FALSE;
  struct stat st;
  int fd;

  if (mkdirat (dirfd, name, mode) == 0)
    created = TRUE;
  else if (errno != EEXIST)
    {
      safe_path_set_errno_error (error, errno, _("Could not create %s"), path);
      return -1;
    }

  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      set_component_error (error, errno, dirfd, name, path, path);
      return -1;
    }
  if ((created && fchmod (fd, mode) < 0) || fstat (fd, &st) < 0)
    {
      safe_path_set_errno_error (error, errno, _("Could not set up %s"), path);
      close (fd);
      return -1;
    }
  if (!safe_path_check_root_owned (path, &st, NULL, error))
    {
      close (fd);
      return -1;
    }
  return fd;
}
