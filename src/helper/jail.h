/* jail.h: the VM jails below the helper's jail base, in the jailer's
 * layout BASE/UID/EXEC/VM/root: prepared with the caller's files, removed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int          fd;         /* an O_PATH fd of the caller's file */
  const char  *name;       /* its name in the jail (the base name) */
  gboolean     read_only;  /* bind mounts are made read-only */
} JailFile;

/* BASE/UID: the jailer's --chroot-base-dir for @uid. */
char     *jail_uid_dir      (const char  *jail_base,
                             guint32      uid);

/* Creates the jail of @vm for @uid, BASE/UID/@exec_name/@vm/root, every
 * directory root-owned 0755 (the jailer hands root/ to the user), after
 * removing a stale one. Each file is hard-linked from its fd, or, when the
 * jail is on another filesystem (or linking is refused), bind-mounted from
 * its fd (read-only when asked, always nosuid,nodev). Returns the path of
 * root/ in @out_root. On failure nothing is left. */
gboolean  jail_prepare      (const char      *jail_base,
                             guint32          uid,
                             const char      *exec_name,
                             const char      *vm,
                             const JailFile  *files,
                             guint            n_files,
                             char           **out_root,
                             GError         **error);

/* Removes every jail of @vm for @uid (BASE/UID/ANY/@vm): unmounts what is
 * mounted inside, deepest first (MNT_DETACH|UMOUNT_NOFOLLOW), then deletes
 * the tree without following symlinks, crossing into another mount, or
 * leaving BASE/UID. @out_removed: whether there was one. */
gboolean  jail_cleanup      (const char  *jail_base,
                             guint32      uid,
                             const char  *vm,
                             gboolean    *out_removed,
                             GError     **error);

/* The VM names that have a jail for @uid (may be empty). */
GPtrArray *jail_list        (const char  *jail_base,
                             guint32      uid,
                             GError     **error);

/* The mount points at or below @dir in /proc/self/mountinfo, deepest (and,
 * for stacked mounts, newest) first; exposed for tests. */
GPtrArray *jail_mounts_below (const char  *dir,
                              GError     **error);

G_END_DECLS
