/* jail.c: prepares a VM's jail below the helper's jail base with the
 * caller's files, and removes it again without ever leaving BASE/UID. */
#define G_LOG_DOMAIN "banger-helper-jail"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>

#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-names.h"

#include "jail.h"
#include "safe-path.h"

/* A VM's jail is banger's own; a deeper tree was made by its user, and is
 * left for them (or an administrator) rather than recursed into. */
#define JAIL_MAX_DEPTH 64

char *
jail_uid_dir (const char *jail_base,
              guint32     uid)
{
  g_autofree char *uid_name = g_strdup_printf ("%u", uid);

  return g_build_filename (jail_base, uid_name, NULL);
}

/* ----------------------------------------------------------- unmounting */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *
unescape_mount_path (const char *field)
{
  GString *out = g_string_new (NULL);

  for (const char *p = field; *p != '\0'; p++)
    {
      if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
          p[3] >= '0' && p[3] <= '7')
        {
          g_string_append_c (out, (char) (((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0')));
          p += 3;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

typedef struct {
  char  *path;
  guint  depth;
  guint  line;
} MountPoint;

static void
mount_point_free (gpointer data)
{
  MountPoint *mp = data;

  g_free (mp->path);
  g_free (mp);
}

static gint
deepest_first (gconstpointer a,
               gconstpointer b)
{
  const MountPoint *x = *(MountPoint *const *) a;
  const MountPoint *y = *(MountPoint *const *) b;

  if (x->depth != y->depth)
    return x->depth > y->depth ? -1 : 1;
  return x->line > y->line ? -1 : (x->line < y->line ? 1 : 0);
}

GPtrArray *
jail_mounts_below (const char  *dir,
                   GError     **error)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (mount_point_free);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *text = NULL;
  g_autofree char *prefix = g_strconcat (dir, "/", NULL);
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) local_error = NULL;

  if (!g_file_get_contents ("/proc/self/mountinfo", &text, NULL, &local_error))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Could not read the mount table: %s"), local_error->message);
      return NULL;
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], " ", 6);
      g_autofree char *path = NULL;
      MountPoint *mp;

      if (g_strv_length (fields) < 5)
        continue;
      path = unescape_mount_path (fields[4]);
      if (!g_str_equal (path, dir) && !g_str_has_prefix (path, prefix))
        continue;
      mp = g_new0 (MountPoint, 1);
      mp->depth = 0;
      for (const char *p = path; *p != '\0'; p++)
        mp->depth += *p == '/';
      mp->line = i;
      mp->path = g_steal_pointer (&path);
      g_ptr_array_add (found, mp);
    }
  g_ptr_array_sort (found, deepest_first);
  for (guint i = 0; i < found->len; i++)
    g_ptr_array_add (paths, g_strdup (((MountPoint *) found->pdata[i])->path));
  return g_steal_pointer (&paths);
}

/* Opens the directory @rel ("a/b", or "" for @dirfd itself) below @dirfd
 * without following symlinks. */
static int
open_below (int          dirfd,
            const char  *rel)
{
  g_auto(GStrv) parts = g_strsplit (rel, "/", -1);
  int fd = fcntl (dirfd, F_DUPFD_CLOEXEC, 3);

  for (guint i = 0; fd >= 0 && parts[i] != NULL; i++)
    {
      int next;

      if (*parts[i] == '\0')
        continue;
      next = openat (fd, parts[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      close (fd);
      fd = next;
    }
  return fd;
}

/* Unmounts everything at or below @vm_path (= the directory @vm below
 * @parent_fd). Each mount point is reached from @parent_fd through
 * O_NOFOLLOW opens and unmounted through /proc/self/fd, so a symlink the
 * jail's user planted inside cannot point the unmount elsewhere. */
static gboolean
unmount_below (int          parent_fd,
               const char  *vm_path,
               const char  *vm,
               GError     **error)
{
  g_autoptr(GPtrArray) mounts = jail_mounts_below (vm_path, error);

  if (mounts == NULL)
    return FALSE;
  for (guint i = 0; i < mounts->len; i++)
    {
      const char *path = mounts->pdata[i];
      g_autofree char *rel = g_strconcat (vm, path + strlen (vm_path), NULL);
      g_autofree char *dir_rel = g_path_get_dirname (rel);
      g_autofree char *leaf = g_path_get_basename (rel);
      g_autofree char *target = NULL;
      g_auto(HelperFd) dir = open_below (parent_fd, g_str_equal (dir_rel, ".") ? "" : dir_rel);

      if (dir < 0)
        {
          safe_path_set_errno_error (error, errno, _("Could not reach mount point %s"), path);
          return FALSE;
        }
      target = g_strdup_printf ("/proc/self/fd/%d/%s", dir, leaf);
      if (umount2 (target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
        {
          safe_path_set_errno_error (error, errno, _("Could not unmount %s"), path);
          return FALSE;
        }
      g_debug ("unmounted %s", path);
    }
  return TRUE;
}

/* ------------------------------------------------------------- removing */

static gboolean
is_mount_root (int          dirfd,
               const char  *name)
{
  struct statx stx;

  if (statx (dirfd, name, AT_SYMLINK_NOFOLLOW | (*name == '\0' ? AT_EMPTY_PATH : 0),
             STATX_BASIC_STATS, &stx) < 0)
    return FALSE;
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
         (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

static gboolean
still_mounted (GError     **error,
               const char  *path)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
               _("%s is still a mount point, so the jail was not removed; "
                 "stop what uses it and call CleanupJail again."), path);
  return FALSE;
}

/* Opens directory @name below @parent_fd for emptying it. The jail's
 * root/ and what its user made in it belong to that user, often 0700:
 * each is taken back (root, 0700) first, so removal needs CAP_CHOWN rather
 * than CAP_DAC_OVERRIDE; it is deleted right after anyway. A mount point
 * is refused. */
static int
open_dir_for_removal (int          parent_fd,
                      const char  *name,
                      const char  *path,
                      dev_t        dev,
                      GError     **error)
{
  g_auto(HelperFd) pfd = openat (parent_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  int fd;

  if (pfd < 0 || fstat (pfd, &st) < 0)
    {
      safe_path_set_errno_error (error, errno, _("Could not open %s"), path);
      return -1;
    }
  if (st.st_dev != dev || is_mount_root (pfd, ""))
    {
      still_mounted (error, path);
      return -1;
    }
  if (st.st_uid != 0 || (st.st_mode & 0700) != 0700)
    {
      /* chmod through the fd's /proc link: the directory itself, which
       * O_NOFOLLOW made sure is no symlink. */
      g_autofree char *self = g_strdup_printf ("/proc/self/fd/%d", pfd);

      if (fchownat (pfd, "", 0, 0, AT_EMPTY_PATH) < 0 || chmod (self, 0700) < 0)
        {
          safe_path_set_errno_error (error, errno, _("Could not take back %s for removal"),
                                     path);
          return -1;
        }
    }
  fd = openat (pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    safe_path_set_errno_error (error, errno, _("Could not open %s"), path);
  return fd;
}

/* Deletes @name below @parent_fd and everything in it: no symlink is
 * followed (they are unlinked), no mount crossed (refused), nothing
 * outside reached (every step is an *at call on an fd below). */
static gboolean
remove_tree_at (int          parent_fd,
                const char  *name,
                const char  *path,
                dev_t        dev,
                guint        depth,
                GError     **error)
{
  g_auto(HelperFd) fd = -1;
  struct dirent *entry;
  DIR *dir;

  if (depth > JAIL_MAX_DEPTH)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("%s is nested more than %d directories deep; remove its "
                     "contents yourself, then call CleanupJail again."),
                   path, JAIL_MAX_DEPTH);
      return FALSE;
    }
  fd = open_dir_for_removal (parent_fd, name, path, dev, error);
  if (fd < 0)
    return FALSE;

  dir = fdopendir (fcntl (fd, F_DUPFD_CLOEXEC, 3));
  if (dir == NULL)
    {
      safe_path_set_errno_error (error, errno, _("Could not read %s"), path);
      return FALSE;
    }
  while ((entry = readdir (dir)) != NULL)
    {
      g_autofree char *child = NULL;
      struct stat cst;

      if (g_str_equal (entry->d_name, ".") || g_str_equal (entry->d_name, ".."))
        continue;
      child = g_build_filename (path, entry->d_name, NULL);
      if (fstatat (fd, entry->d_name, &cst, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          safe_path_set_errno_error (error, errno, _("Could not check %s"), child);
          closedir (dir);
          return FALSE;
        }
      if (cst.st_dev != dev || is_mount_root (fd, entry->d_name))
        {
          closedir (dir);
          return still_mounted (error, child);
        }
      if (S_ISDIR (cst.st_mode) ?
          !remove_tree_at (fd, entry->d_name, child, dev, depth + 1, error) :
          (unlinkat (fd, entry->d_name, 0) < 0 && errno != ENOENT))
        {
          if (!S_ISDIR (cst.st_mode))
            safe_path_set_errno_error (error, errno, _("Could not remove %s"), child);
          closedir (dir);
          return FALSE;
        }
    }
  closedir (dir);

  if (unlinkat (parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    {
      safe_path_set_errno_error (error, errno, _("Could not remove %s"), path);
      return FALSE;
    }
  return TRUE;
}

/* Unmounts and removes @exec_path/@vm (below @exec_fd), if it exists. */
static gboolean
remove_vm_dir (int          exec_fd,
               const char  *exec_path,
               const char  *vm,
               gboolean    *out_removed,
               GError     **error)
{
  g_autofree char *vm_path = g_build_filename (exec_path, vm, NULL);
  struct stat st;

  if (fstatat (exec_fd, vm, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      safe_path_set_errno_error (error, errno, _("Could not check %s"), vm_path);
      return FALSE;
    }
  if (fstat (exec_fd, &st) < 0)
    {
      safe_path_set_errno_error (error, errno, _("Could not check %s"), exec_path);
      return FALSE;
    }
  if (!unmount_below (exec_fd, vm_path, vm, error) ||
      !remove_tree_at (exec_fd, vm, vm_path, st.st_dev, 0, error))
    return FALSE;
  *out_removed = TRUE;
  g_debug ("removed jail %s", vm_path);
  return TRUE;
}

/* ------------------------------------------------------------- preparing */

/* Bind-mounts the file behind @file->fd onto the empty file @name below
 * @root_fd: through the fd (open_tree), never by path. */
static gboolean
bind_file (int              root_fd,
           const char      *root_path,
           const JailFile  *file,
           GError         **error)
{
  g_autofree char *target = g_build_filename (root_path, file->name, NULL);
  struct mount_attr attr = { 0 };
  g_auto(HelperFd) placeholder = -1;
  g_auto(HelperFd) tree = -1;

  placeholder = openat (root_fd, file->name,
                        O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (placeholder < 0)
    {
      safe_path_set_errno_error (error, errno, _("Could not create %s"), target);
      return FALSE;
    }

  /* The clone keeps the flags of the mount the file was reached through:
   * under ProtectHome=read-only the home is a read-only mount, yet a drive
   * the caller wants writable must be writable in the jail. */
  attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                  (file->read_only ? MOUNT_ATTR_RDONLY : 0);
  attr.attr_clr = file->read_only ? 0 : MOUNT_ATTR_RDONLY;
  tree = open_tree (file->fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0 ||
      mount_setattr (tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0 ||
      move_mount (tree, "", root_fd, file->name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    {
      safe_path_set_errno_error (error, errno, _("Could not bind-mount your file onto %s"),
                                 target);
      return FALSE;
    }
  g_debug ("bind-mounted %s%s", target, file->read_only ? " read-only" : "");
  return TRUE;
}

static gboolean
place_file (int              root_fd,
            const char      *root_path,
            const JailFile  *file,
            GError         **error)
{
  g_autofree char *source = g_strdup_printf ("/proc/self/fd/%d", file->fd);

  /* AT_SYMLINK_FOLLOW on /proc/self/fd/N links the file the fd refers
   * to (an O_PATH fd is enough), whatever its path is now. */
  if (linkat (AT_FDCWD, source, root_fd, file->name, AT_SYMLINK_FOLLOW) == 0)
    {
      g_debug ("hard-linked %s/%s", root_path, file->name);
      return TRUE;
    }
  /* EXDEV: another filesystem. EPERM: protected_hardlinks without
   * CAP_FOWNER. Both: bind-mount instead. */
  if (errno == EXDEV || errno == EPERM)
    return bind_file (root_fd, root_path, file, error);
  safe_path_set_errno_error (error, errno, _("Could not link your file into %s"), root_path);
  return FALSE;
}

static int
open_jail_base (const char   *jail_base,
                gboolean      create,
                GError      **error)
{
  return safe_path_open (jail_base, SAFE_PATH_DIRECTORY | (create ? SAFE_PATH_CREATE : 0),
                         safe_path_check_root_owned, NULL, error);
}

gboolean
jail_prepare (const char      *jail_base,
              guint32          uid,
              const char      *exec_name,
              const char      *vm,
              const JailFile  *files,
              guint            n_files,
              char           **out_root,
              GError         **error)
{
  g_autofree char *uid_name = g_strdup_printf ("%u", uid);
  g_autofree char *uid_path = jail_uid_dir (jail_base, uid);
  g_autofree char *exec_path = g_build_filename (uid_path, exec_name, NULL);
  g_autofree char *vm_path = g_build_filename (exec_path, vm, NULL);
  g_autofree char *root_path = g_build_filename (vm_path, "root", NULL);
  g_auto(HelperFd) base = -1;
  g_auto(HelperFd) uid_fd = -1;
  g_auto(HelperFd) exec_fd = -1;
  g_auto(HelperFd) vm_fd = -1;
  g_auto(HelperFd) root_fd = -1;
  gboolean stale = FALSE;

  base = open_jail_base (jail_base, TRUE, error);
  if (base < 0)
    return FALSE;
  uid_fd = safe_path_mkdir_root_owned (base, jail_base, uid_name, 0755, error);
  if (uid_fd < 0)
    return FALSE;
  exec_fd = safe_path_mkdir_root_owned (uid_fd, uid_path, exec_name, 0755, error);
  if (exec_fd < 0)
    return FALSE;

  /* Left by a VM that was not cleaned up; its cgroup is empty (checked by
   * the caller), so nothing uses it. */
  if (!remove_vm_dir (exec_fd, exec_path, vm, &stale, error))
    return FALSE;
  if (stale)
    g_message ("removed the stale jail %s before launching", vm_path);

  vm_fd = safe_path_mkdir_root_owned (exec_fd, exec_path, vm, 0755, error);
  if (vm_fd >= 0)
    root_fd = safe_path_mkdir_root_owned (vm_fd, vm_path, "root", 0755, error);
  for (guint i = 0; root_fd >= 0 && i < n_files; i++)
    if (!place_file (root_fd, root_path, &files[i], error))
      helper_fd_close (g_steal_fd (&root_fd));

  if (root_fd < 0)
    {
      gboolean removed = FALSE;
      g_autoptr(GError) cleanup_error = NULL;

      if (!remove_vm_dir (exec_fd, exec_path, vm, &removed, &cleanup_error))
        g_warning ("cannot remove the half-made jail %s: %s", vm_path, cleanup_error->message);
      return FALSE;
    }
  *out_root = g_steal_pointer (&root_path);
  return TRUE;
}

/* Calls @func for each jailer exec-name directory below BASE/UID. */
typedef gboolean (*ExecDirFunc) (int          exec_fd,
                                 const char  *exec_path,
                                 gpointer     user_data,
                                 GError     **error);

static gboolean
foreach_exec_dir (const char   *jail_base,
                  guint32       uid,
                  ExecDirFunc   func,
                  gpointer      user_data,
                  GError      **error)
{
  g_autofree char *uid_name = g_strdup_printf ("%u", uid);
  g_autofree char *uid_path = jail_uid_dir (jail_base, uid);
  g_autoptr(GError) local_error = NULL;
  g_auto(HelperFd) base = open_jail_base (jail_base, FALSE, &local_error);
  g_auto(HelperFd) uid_fd = -1;
  struct dirent *entry;
  struct stat st;
  DIR *dir;

  /* No base or no BASE/UID: this uid never had a jail. */
  if (base < 0)
    {
      if (g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  uid_fd = openat (base, uid_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (uid_fd < 0 && errno == ENOENT)
    return TRUE;
  if (uid_fd < 0 || fstat (uid_fd, &st) < 0)
    {
      safe_path_set_errno_error (error, errno, _("Could not open %s"), uid_path);
      return FALSE;
    }
  if (!safe_path_check_root_owned (uid_path, &st, NULL, error))
    return FALSE;

  dir = fdopendir (fcntl (uid_fd, F_DUPFD_CLOEXEC, 3));
  if (dir == NULL)
    {
      safe_path_set_errno_error (error, errno, _("Could not read %s"), uid_path);
      return FALSE;
    }
  while ((entry = readdir (dir)) != NULL)
    {
      g_autofree char *exec_path = NULL;
      g_auto(HelperFd) exec_fd = -1;

      if (g_str_equal (entry->d_name, ".") || g_str_equal (entry->d_name, ".."))
        continue;
      exec_path = g_build_filename (uid_path, entry->d_name, NULL);
      exec_fd = openat (uid_fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (exec_fd < 0 || fstat (exec_fd, &st) < 0 ||
          !safe_path_check_root_owned (exec_path, &st, NULL, NULL))
        {
          g_debug ("skipping %s: not a jailer directory of the helper's", exec_path);
          continue;
        }
      if (!func (exec_fd, exec_path, user_data, error))
        {
          closedir (dir);
          return FALSE;
        }
    }
  closedir (dir);
  return TRUE;
}

typedef struct {
  const char *vm;
  gboolean    removed;
} CleanupData;

static gboolean
cleanup_in_exec_dir (int          exec_fd,
                     const char  *exec_path,
                     gpointer     user_data,
                     GError     **error)
{
  CleanupData *data = user_data;
  gboolean removed = FALSE;

  if (!remove_vm_dir (exec_fd, exec_path, data->vm, &removed, error))
    return FALSE;
  data->removed |= removed;
  return TRUE;
}

gboolean
jail_cleanup (const char  *jail_base,
              guint32      uid,
              const char  *vm,
              gboolean    *out_removed,
              GError     **error)
{
  CleanupData data = { vm, FALSE };

  if (!foreach_exec_dir (jail_base, uid, cleanup_in_exec_dir, &data, error))
    return FALSE;
  *out_removed = data.removed;
  return TRUE;
}

static gboolean
list_in_exec_dir (int          exec_fd,
                  const char  *exec_path,
                  gpointer     user_data,
                  GError     **error)
{
  GPtrArray *names = user_data;
  struct dirent *entry;
  DIR *dir = fdopendir (fcntl (exec_fd, F_DUPFD_CLOEXEC, 3));

  if (dir == NULL)
    {
      safe_path_set_errno_error (error, errno, _("Could not read %s"), exec_path);
      return FALSE;
    }
  while ((entry = readdir (dir)) != NULL)
    if (banger_vm_name_validate (entry->d_name, NULL) &&
        !g_ptr_array_find_with_equal_func (names, entry->d_name, g_str_equal, NULL))
      g_ptr_array_add (names, g_strdup (entry->d_name));
  closedir (dir);
  return TRUE;
}

GPtrArray *
jail_list (const char  *jail_base,
           guint32      uid,
           GError     **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (!foreach_exec_dir (jail_base, uid, list_in_exec_dir, names, error))
    return NULL;
  return g_steal_pointer (&names);
}
