/* cgroup.c: creates banger/UID/VM cgroups and reaches their processes
 * (signal, cgroup.kill) without ever touching a process outside them. */
#define G_LOG_DOMAIN "banger-helper-cgroup"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/statfs.h>

#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-names.h"

#include "cgroup.h"
#include "safe-path.h"

/* cgroup.procs of one VM is small; this only bounds a broken kernel file. */
#define READ_LIMIT (4 * 1024 * 1024)

static VmCgroupTestHook test_hook;
static gpointer test_hook_data;

void
vm_cgroup_set_test_hook (VmCgroupTestHook hook,
                         gpointer         user_data)
{
  test_hook = hook;
  test_hook_data = user_data;
}

/* The whole of a (kernel) file below @dirfd, NUL-terminated. */
static char *
read_file_at (int          dirfd,
              const char  *name,
              GError     **error)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_auto(HelperFd) fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  char buf[4096];
  ssize_t n;

  if (fd < 0)
    {
      safe_path_set_errno_error (error, errno, _("Could not read %s"), name);
      return NULL;
    }
  while ((n = read (fd, buf, sizeof buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || text->len + (gsize) n > READ_LIMIT)
        {
          safe_path_set_errno_error (error, n < 0 ? errno : EFBIG, _("Could not read %s"), name);
          return NULL;
        }
      g_string_append_len (text, buf, n);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

int
vm_cgroup_root_open (const char  *cgroup_root,
                     GError     **error)
{
  g_auto(HelperFd) fd = -1;
  struct statfs st;

  if (cgroup_root == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                           _("No cgroup2 hierarchy was found at /sys/fs/cgroup "
                             "or /sys/fs/cgroup/unified; mount one, or set "
                             "[launch] cgroup-root in /etc/banger/helper.conf."));
      return -1;
    }
  fd = safe_path_open (cgroup_root, SAFE_PATH_DIRECTORY, safe_path_check_root_owned,
                       NULL, error);
  if (fd < 0)
    return -1;
  if (fstatfs (fd, &st) < 0 || st.f_type != CGROUP2_SUPER_MAGIC)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                   _("%s is not a cgroup2 filesystem; set [launch] "
                     "cgroup-root in /etc/banger/helper.conf to where "
                     "cgroup2 is mounted."), cgroup_root);
      return -1;
    }
  return g_steal_fd (&fd);
}

char *
vm_cgroup_path (guint32      uid,
                const char  *vm)
{
  return g_strdup_printf ("/banger/%u/%s", uid, vm);
}

static void
set_not_found (GError     **error,
               guint32      uid,
               const char  *vm)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
               _("You have no VM “%s” launched by the helper (there is no "
                 "cgroup banger/%u/%s); launch it first."), vm, uid, vm);
}

/* banger/UID below @root_fd, or -1 (errno ENOENT when missing). */
static int
open_uid_dir (int      root_fd,
              guint32  uid)
{
  char uid_name[16];
  int banger, fd, saved_errno;

  banger = openat (root_fd, "banger", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (banger < 0)
    return -1;
  g_snprintf (uid_name, sizeof uid_name, "%u", uid);
  fd = openat (banger, uid_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  saved_errno = errno;
  close (banger);
  errno = saved_errno;
  return fd;
}

int
vm_cgroup_open (int          root_fd,
                guint32      uid,
                const char  *vm,
                gboolean     create,
                GError     **error)
{
  g_autofree char *uid_name = g_strdup_printf ("%u", uid);
  g_autofree char *uid_path = g_strconcat ("banger/", uid_name, NULL);
  g_auto(HelperFd) banger = -1;
  g_auto(HelperFd) uid_fd = -1;
  int fd;

  if (!create)
    {
      uid_fd = open_uid_dir (root_fd, uid);
      fd = uid_fd >= 0 ? openat (uid_fd, vm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
      if (fd < 0 && errno == ENOENT)
        set_not_found (error, uid, vm);
      else if (fd < 0)
        safe_path_set_errno_error (error, errno, _("Could not open cgroup banger/%u/%s"), uid, vm);
      return fd;
    }

  banger = safe_path_mkdir_root_owned (root_fd, "cgroup", "banger", 0755, error);
  if (banger < 0)
    return -1;
  uid_fd = safe_path_mkdir_root_owned (banger, "cgroup banger", uid_name, 0755, error);
  if (uid_fd < 0)
    return -1;
  return safe_path_mkdir_root_owned (uid_fd, uid_path, vm, 0755, error);
}

gboolean
vm_cgroup_populated (int        cg_fd,
                     gboolean  *out_populated,
                     GError   **error)
{
  g_autofree char *events = read_file_at (cg_fd, "cgroup.events", error);
  g_auto(GStrv) lines = NULL;

  if (events == NULL)
    return FALSE;
  lines = g_strsplit (events, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "populated "))
      {
        *out_populated = !g_str_equal (lines[i] + strlen ("populated "), "0");
        return TRUE;
      }
  g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                       _("cgroup.events has no “populated” line; is this a "
                         "cgroup2 filesystem?"));
  return FALSE;
}

gboolean
vm_cgroup_wait_empty (int       cg_fd,
                      guint     timeout_ms,
                      GError  **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gulong interval = 5000;

  for (;;)
    {
      gboolean populated = TRUE;

      if (!vm_cgroup_populated (cg_fd, &populated, error))
        return FALSE;
      if (!populated)
        return TRUE;
      if (g_get_monotonic_time () >= deadline)
        break;
      g_usleep (interval);
      interval = MIN (interval * 2, 50000);
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
               _("The VM's processes did not exit within %u ms; try again."),
               timeout_ms);
  return FALSE;
}

/* Whether /proc/@pid/cgroup puts it in @cg_path (the cgroup2 line). */
static gboolean
pid_in_cgroup (pid_t        pid,
               const char  *cg_path)
{
  g_autofree char *proc_dir = g_strdup_printf ("/proc/%d", (int) pid);
  g_auto(HelperFd) dir = open (proc_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  if (dir < 0)
    return FALSE;
  text = read_file_at (dir, "cgroup", NULL);
  if (text == NULL)
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "0::"))
      return g_str_equal (lines[i] + 3, cg_path);
  return FALSE;
}

gboolean
vm_cgroup_signal (int          cg_fd,
                  const char  *cg_path,
                  int          signo,
                  guint       *out_count,
                  GError     **error)
{
  g_autofree char *procs = read_file_at (cg_fd, "cgroup.procs", error);
  g_auto(GStrv) lines = NULL;
  guint count = 0;

  if (procs == NULL)
    return FALSE;
  if (test_hook != NULL)
    test_hook (test_hook_data);

  lines = g_strsplit (procs, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(HelperFd) pidfd = -1;
      guint64 pid;

      if (*lines[i] == '\0')
        continue;
      if (!g_ascii_string_to_unsigned (lines[i], 10, 1, G_MAXINT32, &pid, NULL))
        {
          g_warning ("ignoring “%s” in %s/cgroup.procs", lines[i], cg_path);
          continue;
        }

      /* Pin the process first, then check where it is: if the pid was
       * reused by a process elsewhere, the check fails; if the pinned
       * process exits and its pid is reused after the check, the signal
       * through the pidfd goes nowhere (ESRCH) rather than to the new one.
       * A process that is still alive at the signal held the pid during
       * the check, so the check was about it. */
      pidfd = pidfd_open ((pid_t) pid, 0);
      if (pidfd < 0)
        {
          if (errno != ESRCH)
            g_warning ("cannot pin pid %" G_GUINT64_FORMAT ": %s", pid, g_strerror (errno));
          continue;
        }
      if (!pid_in_cgroup ((pid_t) pid, cg_path))
        {
          g_debug ("pid %" G_GUINT64_FORMAT " left %s; not signalled", pid, cg_path);
          continue;
        }
      if (pidfd_send_signal (pidfd, signo, NULL, 0) < 0)
        {
          if (errno == ESRCH)
            continue;
          safe_path_set_errno_error (error, errno, _("Could not signal pid %d of %s"),
                                     (int) pid, cg_path);
          return FALSE;
        }
      count++;
    }
  g_debug ("signal %d sent to %u process(es) of %s", signo, count, cg_path);
  if (out_count != NULL)
    *out_count = count;
  return TRUE;
}

gboolean
vm_cgroup_kill (int          cg_fd,
                const char  *cg_path,
                GError     **error)
{
  g_auto(HelperFd) fd = openat (cg_fd, "cgroup.kill", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0 && errno == ENOENT)
    {
      /* Before Linux 5.14: one signal per process. A process forking in
       * between could escape; cgroup.kill is atomic. */
      g_debug ("no cgroup.kill; sending SIGKILL to each process of %s", cg_path);
      return vm_cgroup_signal (cg_fd, cg_path, SIGKILL, NULL, error);
    }
  if (fd < 0 || write (fd, "1", 1) != 1)
    {
      safe_path_set_errno_error (error, errno, _("Could not kill the processes of %s"),
                                 cg_path);
      return FALSE;
    }
  return TRUE;
}

gboolean
vm_cgroup_remove (int          root_fd,
                  guint32      uid,
                  const char  *vm,
                  gboolean    *out_removed,
                  GError     **error)
{
  g_auto(HelperFd) uid_fd = open_uid_dir (root_fd, uid);

  *out_removed = FALSE;
  if (uid_fd < 0 && errno == ENOENT)
    return TRUE;
  if (uid_fd < 0 || unlinkat (uid_fd, vm, AT_REMOVEDIR) < 0)
    {
      if (uid_fd >= 0 && errno == ENOENT)
        return TRUE;
      if (errno == EBUSY)
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                     _("VM “%s” still has running processes; kill it first."), vm);
      else
        safe_path_set_errno_error (error, errno, _("Could not remove cgroup banger/%u/%s"),
                                   uid, vm);
      return FALSE;
    }
  *out_removed = TRUE;
  return TRUE;
}

GPtrArray *
vm_cgroup_list (int          root_fd,
                guint32      uid,
                GError     **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_auto(HelperFd) uid_fd = open_uid_dir (root_fd, uid);
  DIR *dir;
  struct dirent *entry;

  if (uid_fd < 0)
    {
      if (errno == ENOENT)
        return g_steal_pointer (&names);
      safe_path_set_errno_error (error, errno, _("Could not open cgroup banger/%u"), uid);
      return NULL;
    }
  dir = fdopendir (g_steal_fd (&uid_fd));
  if (dir == NULL)
    {
      safe_path_set_errno_error (error, errno, _("Could not open cgroup banger/%u"), uid);
      return NULL;
    }
  while ((entry = readdir (dir)) != NULL)
    if (entry->d_type == DT_DIR && banger_vm_name_validate (entry->d_name, NULL))
      g_ptr_array_add (names, g_strdup (entry->d_name));
  closedir (dir);
  return g_steal_pointer (&names);
}

void
vm_cgroup_remove_uid (int      root_fd,
                      guint32  uid)
{
  g_auto(HelperFd) banger = openat (root_fd, "banger",
                                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  g_autofree char *uid_name = g_strdup_printf ("%u", uid);

  if (banger >= 0 && unlinkat (banger, uid_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    g_debug ("cgroup banger/%u stays: %s", uid, g_strerror (errno));
}
