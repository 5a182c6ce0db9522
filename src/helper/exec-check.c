/* exec-check.c: opens the configured jailer and firecracker so that only a
 * root-installed, root-only-writable program can ever be run by Launch. */
#define G_LOG_DOMAIN "banger-helper-exec-check"

#include "config.h"

#include <errno.h>
#include <fcntl.h>

#include <glib/gi18n.h>

#include "banger-error.h"

#include "exec-check.h"
#include "safe-path.h"

gboolean
exec_check_file_stat (const char         *path,
                      const struct stat  *st,
                      GError            **error)
{
  const char *why = NULL;

  if (S_ISLNK (st->st_mode))
    why = _("it is a symbolic link");
  else if (!S_ISREG (st->st_mode))
    why = _("it is not a regular file");
  else if (st->st_uid != 0)
    why = _("it is not owned by root");
  else if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
    why = _("it is writable by group or others");
  else if ((st->st_mode & S_IXUSR) == 0)
    why = _("it is not executable");

  if (why == NULL)
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
               _("The helper will not run %s: %s. Install it as a "
                 "root-owned executable (mode 0755) in a root-owned "
                 "directory and set its path in /etc/banger/helper.conf "
                 "([launch] jailer and firecracker)."),
               path, why);
  return FALSE;
}

int
exec_check_open (const char  *path,
                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_auto(HelperFd) fd = -1;
  struct stat st;

  /* Directories: root-owned, not group/world-writable (no sticky-bit
   * exception: nobody but root may even add a name next to the program). */
  fd = safe_path_open (path, SAFE_PATH_NONE, safe_path_check_root_owned, NULL,
                       &local_error);
  if (fd < 0)
    {
      /* A symlink or missing file is the administrator's to fix too. */
      if (g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT) ||
          g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
        local_error->code = BANGER_ERROR_NOT_SUPPORTED;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  _("Launch is not available: "));
      return -1;
    }
  if (fstat (fd, &st) < 0)
    {
      safe_path_set_errno_error (error, errno, _("Could not check %s"), path);
      return -1;
    }
  if (!exec_check_file_stat (path, &st, error))
    return -1;
  return g_steal_fd (&fd);
}
