/* launch-ops.c: Launch, Signal, Kill, CleanupJail and ReleaseAll's share,
 * each one operation over the checked programs, files, jail and cgroup. */
#define G_LOG_DOMAIN "banger-helper-launch"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>

#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-names.h"

#include "cgroup.h"
#include "exec-check.h"
#include "helper-config.h"
#include "jail.h"
#include "jailer-spawn.h"
#include "launch-ops.h"
#include "safe-path.h"

/* How long ReleaseAll waits for killed VMs to be gone. */
#define RELEASE_WAIT_MS 5000

/* Launch, CleanupJail and ReleaseAll each check a cgroup and then change
 * the jail; one at a time, so two calls cannot interleave there. */
static GMutex launch_lock;

static LaunchTestHook test_hook;
static gpointer test_hook_data;

void
launch_set_test_hook (LaunchTestHook hook,
                      gpointer       user_data)
{
  test_hook = hook;
  test_hook_data = user_data;
}

static const HelperConfig *
get_config (GError **error)
{
  const HelperConfig *config = helper_config_get ();

  if (config == NULL)
    g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                         _("The helper has no configuration; this is a bug."));
  return config;
}

static GArray *
open_spec_files (const LaunchCaller  *caller,
                 const LaunchSpec    *spec,
                 GError             **error)
{
  g_autoptr(GArray) files = g_array_new (FALSE, TRUE, sizeof (JailFile));
  g_autoptr(GPtrArray) paths = g_ptr_array_new ();
  g_autoptr(GArray) read_only = g_array_new (FALSE, TRUE, sizeof (gboolean));
  gboolean rw = FALSE;

  g_ptr_array_add (paths, spec->kernel);
  g_array_append_val (read_only, rw);
  if (spec->initrd != NULL)
    {
      g_ptr_array_add (paths, spec->initrd);
      g_array_append_val (read_only, rw);
    }
  for (guint i = 0; i < spec->drives->len; i++)
    {
      LaunchDrive *drive = spec->drives->pdata[i];

      g_ptr_array_add (paths, drive->path);
      g_array_append_val (read_only, drive->read_only);
    }

  for (guint i = 0; i < paths->len; i++)
    {
      JailFile file = { -1, launch_path_basename (paths->pdata[i]),
                        g_array_index (read_only, gboolean, i) };

      file.fd = launch_user_file_open (caller, paths->pdata[i], error);
      if (file.fd < 0)
        {
          for (guint j = 0; j < files->len; j++)
            close (g_array_index (files, JailFile, j).fd);
          return NULL;
        }
      g_array_append_val (files, file);
    }
  return g_steal_pointer (&files);
}

static void
close_files (GArray *files)
{
  for (guint i = 0; i < files->len; i++)
    close (g_array_index (files, JailFile, i).fd);
  g_array_unref (files);
}

gboolean
launch_vm (const LaunchCaller  *caller,
           const char          *vm,
           const LaunchSpec    *spec,
           GPid                *out_pid,
           char               **out_jail_root,
           GError             **error)
{
  const HelperConfig *config = get_config (error);
  g_autoptr(GMutexLocker) locker = NULL;
  g_autofree char *exec_name = NULL;
  g_autofree char *jailer_name = NULL;
  g_autofree char *uid_text = NULL;
  g_autofree char *gid_text = NULL;
  g_autofree char *uid_dir = NULL;
  g_autofree char *jail_root = NULL;
  g_autoptr(GError) cleanup_error = NULL;
  GArray *files = NULL;
  g_auto(HelperFd) jailer_fd = -1;
  g_auto(HelperFd) firecracker_fd = -1;
  g_auto(HelperFd) cg_root = -1;
  g_auto(HelperFd) cg_fd = -1;
  g_auto(HelperFd) procs_fd = -1;
  gboolean populated = TRUE, removed = FALSE, ok;
  GPid pid = 0;

  if (config == NULL)
    return FALSE;
  if (config->jailer == NULL || config->firecracker == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                           _("Launch is not set up on this host: set [launch] "
                             "jailer and firecracker in "
                             "/etc/banger/helper.conf."));
      return FALSE;
    }
  if (caller->uid == 0 || caller->gid == 0)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                           _("The helper never launches a VM as root; run "
                             "bangerd as a normal user."));
      return FALSE;
    }
  if (!banger_vm_name_validate (vm, error))
    return FALSE;

  /* The programs: from the configuration only, checked, run by fd. */
  exec_name = g_path_get_basename (config->firecracker);
  jailer_name = g_path_get_basename (config->jailer);
  jailer_fd = exec_check_open (config->jailer, error);
  if (jailer_fd < 0)
    return FALSE;
  /* The jailer opens firecracker by path itself (it copies it into the
   * jail): the check of every directory on the way is what makes that
   * path one only root can change. */
  firecracker_fd = exec_check_open (config->firecracker, error);
  if (firecracker_fd < 0 || !launch_spec_check_names (spec, exec_name, error))
    return FALSE;

  /* The caller's files: opened once, used only through these fds. */
  files = open_spec_files (caller, spec, error);
  if (files == NULL)
    return FALSE;
  if (test_hook != NULL)
    test_hook (test_hook_data);

  locker = g_mutex_locker_new (&launch_lock);
  cg_root = vm_cgroup_root_open (config->cgroup_root, error);
  if (cg_root >= 0)
    cg_fd = vm_cgroup_open (cg_root, caller->uid, vm, TRUE, error);
  if (cg_fd < 0 || !vm_cgroup_populated (cg_fd, &populated, error))
    {
      close_files (files);
      return FALSE;
    }
  if (populated)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   _("VM “%s” is still running (cgroup banger/%u/%s has "
                     "processes); stop or kill it first."), vm, caller->uid, vm);
      close_files (files);
      return FALSE;
    }

  ok = jail_prepare (config->jail_base, caller->uid, exec_name, vm,
                     (const JailFile *) files->data, files->len, &jail_root, error);
  close_files (files);
  if (!ok)
    return FALSE;

  uid_text = g_strdup_printf ("%u", caller->uid);
  gid_text = g_strdup_printf ("%u", caller->gid);
  uid_dir = jail_uid_dir (config->jail_base, caller->uid);
  {
    /* The jailer's chroot is <base>/<exec name>/<id>/root, which is
     * jail_root; Firecracker's socket path is inside the chroot. */
    const char *const argv[] = {
      jailer_name, "--id", vm, "--exec-file", config->firecracker,
      "--uid", uid_text, "--gid", gid_text, "--chroot-base-dir", uid_dir,
      "--new-pid-ns", "--", "--api-sock", "/api.sock", NULL
    };

    procs_fd = openat (cg_fd, "cgroup.procs", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (procs_fd < 0)
      safe_path_set_errno_error (error, errno, _("Could not open the cgroup of VM “%s”"), vm);
    else if (jailer_spawn (jailer_fd, argv, procs_fd, &pid, error))
      {
        g_message ("launched VM %s for uid %u: jailer pid %d, jail %s",
                   vm, caller->uid, (int) pid, jail_root);
        *out_pid = pid;
        *out_jail_root = g_steal_pointer (&jail_root);
        return TRUE;
      }
  }

  if (!jail_cleanup (config->jail_base, caller->uid, vm, &removed, &cleanup_error))
    g_warning ("cannot remove the jail of VM %s after a failed launch: %s",
               vm, cleanup_error->message);
  return FALSE;
}

/* Opens banger/@uid/@vm for Signal and Kill: NOT_FOUND if it is not there. */
static int
open_vm_cgroup (guint32      uid,
                const char  *vm,
                GError     **error)
{
  const HelperConfig *config = get_config (error);
  g_auto(HelperFd) cg_root = -1;

  if (config == NULL || !banger_vm_name_validate (vm, error))
    return -1;
  cg_root = vm_cgroup_root_open (config->cgroup_root, error);
  if (cg_root < 0)
    return -1;
  return vm_cgroup_open (cg_root, uid, vm, FALSE, error);
}

gboolean
launch_signal (guint32      uid,
               const char  *vm,
               int          signo,
               GError     **error)
{
  g_auto(HelperFd) cg_fd = open_vm_cgroup (uid, vm, error);
  g_autofree char *cg_path = vm_cgroup_path (uid, vm);
  guint count = 0;

  if (cg_fd < 0 || !vm_cgroup_signal (cg_fd, cg_path, signo, &count, error))
    return FALSE;
  g_message ("signal %d to VM %s of uid %u: %u process(es)", signo, vm, uid, count);
  return TRUE;
}

gboolean
launch_kill (guint32      uid,
             const char  *vm,
             GError     **error)
{
  g_auto(HelperFd) cg_fd = open_vm_cgroup (uid, vm, error);
  g_autofree char *cg_path = vm_cgroup_path (uid, vm);

  if (cg_fd < 0 || !vm_cgroup_kill (cg_fd, cg_path, error))
    return FALSE;
  g_message ("killed VM %s of uid %u", vm, uid);
  return TRUE;
}

/* The cgroup root, or -1 with no error when this host has none (then
 * nothing was ever launched into one). */
static int
open_cgroup_root_if_any (const HelperConfig  *config,
                         GError             **error)
{
  if (config->cgroup_root == NULL)
    return -1;
  return vm_cgroup_root_open (config->cgroup_root, error);
}

static gboolean
cleanup_locked (const HelperConfig  *config,
                int                  cg_root,
                guint32              uid,
                const char          *vm,
                gboolean            *out_jail_removed,
                gboolean            *out_cgroup_removed,
                GError             **error)
{
  g_autoptr(GError) local_error = NULL;
  g_auto(HelperFd) cg_fd = -1;
  gboolean populated = FALSE;

  if (cg_root >= 0)
    {
      cg_fd = vm_cgroup_open (cg_root, uid, vm, FALSE, &local_error);
      if (cg_fd < 0 && !g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (cg_fd >= 0 && !vm_cgroup_populated (cg_fd, &populated, error))
        return FALSE;
      if (populated)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                       _("VM “%s” is still running (cgroup banger/%u/%s has "
                         "processes); kill it before cleaning up its jail."),
                       vm, uid, vm);
          return FALSE;
        }
    }

  if (!jail_cleanup (config->jail_base, uid, vm, out_jail_removed, error))
    return FALSE;
  if (cg_fd >= 0 && !vm_cgroup_remove (cg_root, uid, vm, out_cgroup_removed, error))
    return FALSE;
  return TRUE;
}

gboolean
launch_cleanup_jail (guint32      uid,
                     const char  *vm,
                     GError     **error)
{
  const HelperConfig *config = get_config (error);
  g_autoptr(GMutexLocker) locker = NULL;
  g_auto(HelperFd) cg_root = -1;
  gboolean jail_removed = FALSE, cgroup_removed = FALSE;

  if (config == NULL || !banger_vm_name_validate (vm, error))
    return FALSE;
  locker = g_mutex_locker_new (&launch_lock);
  cg_root = open_cgroup_root_if_any (config, error);
  if (cg_root < 0 && config->cgroup_root != NULL)
    return FALSE;
  if (!cleanup_locked (config, cg_root, uid, vm, &jail_removed, &cgroup_removed, error))
    return FALSE;
  g_message ("cleaned up VM %s of uid %u (jail %s, cgroup %s)", vm, uid,
             jail_removed ? "removed" : "absent", cgroup_removed ? "removed" : "absent");
  return TRUE;
}

static void
keep_first_error (GError **first,
                  GError  *error)
{
  if (*first == NULL)
    *first = error;
  else
    {
      g_warning ("ReleaseAll: %s", error->message);
      g_error_free (error);
    }
}

gboolean
launch_release_all (guint32      uid,
                    GPtrArray   *released,
                    GError     **error)
{
  const HelperConfig *config = get_config (error);
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(GPtrArray) cgroups = NULL;
  g_autoptr(GPtrArray) jails = NULL;
  g_autoptr(GError) first = NULL;
  g_auto(HelperFd) cg_root = -1;
  gint64 deadline = g_get_monotonic_time () + RELEASE_WAIT_MS * 1000;

  if (config == NULL)
    return FALSE;
  locker = g_mutex_locker_new (&launch_lock);
  cg_root = open_cgroup_root_if_any (config, error);
  if (cg_root < 0 && config->cgroup_root != NULL)
    return FALSE;

  cgroups = cg_root >= 0 ? vm_cgroup_list (cg_root, uid, error)
                         : g_ptr_array_new_with_free_func (g_free);
  if (cgroups == NULL)
    return FALSE;

  /* Kill them all first, then wait: the waits overlap. */
  for (guint i = 0; i < cgroups->len; i++)
    {
      g_autofree char *cg_path = vm_cgroup_path (uid, cgroups->pdata[i]);
      g_auto(HelperFd) cg_fd = vm_cgroup_open (cg_root, uid, cgroups->pdata[i], FALSE, NULL);
      GError *local_error = NULL;

      if (cg_fd >= 0 && !vm_cgroup_kill (cg_fd, cg_path, &local_error))
        keep_first_error (&first, local_error);
    }
  for (guint i = 0; i < cgroups->len; i++)
    {
      g_auto(HelperFd) cg_fd = vm_cgroup_open (cg_root, uid, cgroups->pdata[i], FALSE, NULL);
      gint64 left_ms = MAX (0, (deadline - g_get_monotonic_time ()) / 1000);
      GError *local_error = NULL;

      if (cg_fd >= 0 && !vm_cgroup_wait_empty (cg_fd, (guint) left_ms, &local_error))
        keep_first_error (&first, local_error);
    }

  /* Every jail (also of VMs whose cgroup is gone), then the cgroups. */
  jails = jail_list (config->jail_base, uid, error);
  if (jails == NULL)
    return FALSE;
  for (guint i = 0; i < cgroups->len; i++)
    if (!g_ptr_array_find_with_equal_func (jails, cgroups->pdata[i], g_str_equal, NULL))
      g_ptr_array_add (jails, g_strdup (cgroups->pdata[i]));
  for (guint i = 0; i < jails->len; i++)
    {
      const char *vm = jails->pdata[i];
      gboolean jail_removed = FALSE, cgroup_removed = FALSE;
      GError *local_error = NULL;

      if (!cleanup_locked (config, cg_root, uid, vm, &jail_removed, &cgroup_removed,
                           &local_error))
        keep_first_error (&first, local_error);
      if (jail_removed)
        g_ptr_array_add (released, g_strconcat ("jail:", vm, NULL));
      if (cgroup_removed)
        g_ptr_array_add (released, g_strconcat ("cgroup:", vm, NULL));
    }
  if (cg_root >= 0)
    vm_cgroup_remove_uid (cg_root, uid);

  if (first != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first));
      return FALSE;
    }
  g_message ("released everything launched for uid %u", uid);
  return TRUE;
}
