/* user-files.h: who the caller is (uid, gid, home from the password
 * database) and opening the files they want in a jail, safely. */
#pragma once

#include <sys/stat.h>

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint32  uid;
  guint32  gid;     /* the primary group from the password database */
  char    *home;
} LaunchCaller;

void     launch_caller_clear  (LaunchCaller *caller);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LaunchCaller, launch_caller_clear)

/* Fills @caller from the password entry of @uid. Refuses uid 0 and gid 0
 * (a VMM never runs as root) and a uid without an entry. */
gboolean launch_caller_lookup (guint32        uid,
                               LaunchCaller  *caller,
                               GError       **error);

/* The policy for a file the caller hands in: a regular file they own. */
gboolean user_file_check_stat (const char         *path,
                               const struct stat  *st,
                               guint32             uid,
                               GError            **error);

/* Opens @path for @caller: launch_path_check_allowed() against their home,
 * then component by component from "/" with O_NOFOLLOW (a symlink anywhere
 * is refused with INVALID_ARGUMENT naming it), directories below the home
 * owned by the caller or root, the file passing user_file_check_stat().
 * Every refusal, a missing file included, is INVALID_ARGUMENT.
 * Returns an O_PATH|O_CLOEXEC fd; everything after uses that fd, never the
 * path again, so renaming or replacing anything on the path afterwards
 * cannot change which file is used. */
int      launch_user_file_open (const LaunchCaller  *caller,
                                const char          *path,
                                GError             **error);

G_END_DECLS
