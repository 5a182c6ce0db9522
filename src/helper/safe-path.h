/* safe-path.h: opening a path one component at a time from "/", never
 * following a symlink, with a policy check on every directory on the way. */
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

G_BEGIN_DECLS

/* An fd closed when it goes out of scope: g_auto(HelperFd) fd = -1;
 * (g_autofd needs GLib 2.76). Hand it on with g_steal_fd (&fd). */
typedef int HelperFd;

static inline void
helper_fd_close (int fd)
{
  if (fd >= 0)
    close (fd);
}
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (HelperFd, helper_fd_close, -1)

/* Called for "/" and every directory after it, with the path so far and
 * the directory's fstat (of the fd that the walk goes on from). */
typedef gboolean (*SafePathDirCheck) (const char         *dir_path,
                                      const struct stat  *st,
                                      gpointer            user_data,
                                      GError            **error);

typedef enum {
  SAFE_PATH_NONE        = 0,
  /* The last component must be a directory; open it O_RDONLY|O_DIRECTORY
   * (usable with fdopendir, fchmod, *at calls). */
  SAFE_PATH_DIRECTORY   = 1 << 0,
  /* Create missing directories on the way (and the last one, with
   * SAFE_PATH_DIRECTORY) with mode 0755; only ever for root's own paths. */
  SAFE_PATH_CREATE      = 1 << 1,
} SafePathFlags;

/* Opens canonical absolute @path: each directory on the way with
 * O_PATH|O_NOFOLLOW|O_DIRECTORY, then @check_dir (NULL: no check), and the
 * last component with O_PATH|O_NOFOLLOW (a symlink there is refused after
 * fstat) or as a directory. Returns a CLOEXEC fd or -1 with @error:
 * NOT_FOUND for a missing component, INVALID_ARGUMENT for a symlink or a
 * non-directory on the way (the message names the component), or what
 * @check_dir set. The caller checks the returned fd itself (fstat). */
int      safe_path_open (const char        *path,
                         SafePathFlags      flags,
                         SafePathDirCheck   check_dir,
                         gpointer           user_data,
                         GError           **error);

/* A directory mkdirat()ed (if missing, mode @mode exactly) and opened
 * O_RDONLY|O_DIRECTORY|O_NOFOLLOW below @dirfd; it must then be owned by
 * root and writable by nobody else, or it is refused. */
int      safe_path_mkdir_root_owned (int          dirfd,
                                     const char  *dir_path,
                                     const char  *name,
                                     mode_t       mode,
                                     GError     **error);

/* The policy for what only root may change: owned by uid 0 and not
 * writable by group or others. A SafePathDirCheck. */
gboolean safe_path_check_root_owned (const char         *dir_path,
                                     const struct stat  *st,
                                     gpointer            user_data,
                                     GError            **error);

/* Sets @error to the formatted message, ": ", and strerror(@saved_errno);
 * the code from errno (ENOENT: NOT_FOUND, EBUSY: BUSY, else FAILED). */
void     safe_path_set_errno_error  (GError     **error,
                                     int          saved_errno,
                                     const char  *format,
                                     ...) G_GNUC_PRINTF (3, 4);

G_END_DECLS
