/* helper-jail.c: a VMM started by the helper's jailer. With --new-pid-ns
 * the jailer's own pid exits at once; the VMM is the process it left in
 * the VM's cgroup, which only the helper can put a process in. */
#define G_LOG_DOMAIN "bangerd-jail"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "banger-error.h"
#include "helper-client.h"
#include "helper-jail.h"

#define VMM_TIMEOUT_MS       5000
#define CLEANUP_RETRY_MS     20
#define CLEANUP_TIMEOUT_MS   3000

char *
helper_jail_path (const char *host_path)
{
  g_autofree char *base = g_path_get_basename (host_path);

  return g_strconcat ("/", base, NULL);
}

/* ---- release ---------------------------------------------------------------- */

typedef struct {
  char  *vm_name;
  guint  waited_ms;
} Release;

static void
release_free (Release *release)
{
  g_free (release->vm_name);
  g_free (release);
}

static void cleanup_jail (GTask *task);

static gboolean
retry_cleanup (gpointer user_data)
{
  cleanup_jail (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_cleaned_up (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  Release *release = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GVariant) reply = helper_call_finish (result, &error);

  /* Busy: the killed processes have not left the cgroup yet. */
  if (reply == NULL && g_error_matches (error, BANGER_ERROR, BANGER_ERROR_BUSY) &&
      release->waited_ms < CLEANUP_TIMEOUT_MS)
    {
      g_clear_error (&error);
      release->waited_ms += CLEANUP_RETRY_MS;
      g_timeout_add (CLEANUP_RETRY_MS, retry_cleanup, task);
      return;
    }
  if (reply == NULL && !g_error_matches (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED))
    g_task_return_error (task, error);
  else
    {
      g_clear_error (&error);
      g_task_return_boolean (task, TRUE);
    }
  g_object_unref (task);
}

static void
cleanup_jail (GTask *task)
{
  Release *release = g_task_get_task_data (task);

  helper_call_async ("CleanupJail", g_variant_new ("(s)", release->vm_name),
                     G_VARIANT_TYPE_UNIT, NULL, on_cleaned_up, task);
}

static void
on_killed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = helper_call_finish (result, &error);

  /* NotFound: no cgroup, nothing runs. NotSupported: no jailer, so the
   * helper never launched anything for us. */
  if (reply == NULL && !g_error_matches (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND) &&
      !g_error_matches (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  cleanup_jail (task);
}

void
helper_jail_release_async (const char          *vm_name,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  Release *release = g_new0 (Release, 1);

  release->vm_name = g_strdup (vm_name);
  g_task_set_task_data (task, release, (GDestroyNotify) release_free);
  helper_call_async ("Kill", g_variant_new ("(s)", vm_name), G_VARIANT_TYPE_UNIT, NULL,
                     on_killed, task);
}

gboolean
helper_jail_release_finish (GAsyncResult  *result,
                            GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- launch ----------------------------------------------------------------- */

typedef struct {
  char       *vm_name;
  char       *runtime_dir;
  char       *jail_root;
  guint32     jailer_pid;
  guint       waited_ms;
  guint       interval_ms;
  VmmProcess *process;
  GError     *error;      /* to report once the jail is given back */
} Launch;

static void
launch_free (Launch *launch)
{
  g_free (launch->vm_name);
  g_free (launch->runtime_dir);
  g_free (launch->jail_root);
  g_clear_pointer (&launch->process, vmm_process_free);
  g_clear_error (&launch->error);
  g_free (launch);
}

static void
on_failed_launch_released (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Launch *launch = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!helper_jail_release_finish (result, &error))
    g_warning ("VM %s: giving back the jail of a failed launch: %s", launch->vm_name,
               error->message);
  g_task_return_error (task, g_steal_pointer (&launch->error));
}

/* Takes @error; ends the launch after giving the jail back. */
static void
launch_fail (GTask  *task,
             GError *error)
{
  Launch *launch = g_task_get_task_data (task);

  launch->error = error;
  g_clear_pointer (&launch->process, vmm_process_free);
  helper_jail_release_async (launch->vm_name, on_failed_launch_released, task);
}

/* Whether the cgroup line of /proc/PID/cgroup ends in /banger/UID/VM: the
 * helper put the process there, and a process of ours cannot move itself
 * into a cgroup the helper owns. */
static gboolean
in_vm_cgroup (const char *pid,
              const char *suffix)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/cgroup", pid);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "0::"))
      return g_str_has_suffix (lines[i], suffix);
  return FALSE;
}

/* The VMM: the one process in the VM's cgroup besides the jailer, which
 * forks it into a new pid namespace and exits. (The jailer's pid file is
 * no use: the helper's umask makes it readable by root only.) 0: not
 * there yet; -1: more than one. */
static int
find_vmm (const char *vm_name,
          guint32     jailer_pid)
{
  g_autofree char *suffix = g_strdup_printf ("/banger/%u/%s", (guint) getuid (), vm_name);
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  int found = 0;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      char *end = NULL;
      long pid = strtol (name, &end, 10);

      if (*end != '\0' || pid <= 1 || pid == (long) jailer_pid || pid > G_MAXINT ||
          !in_vm_cgroup (name, suffix))
        continue;
      if (found != 0)
        return -1;
      found = (int) pid;
    }
  return found;
}

static gboolean poll_vmm (gpointer user_data);

static void
schedule_poll (GTask *task)
{
  Launch *launch = g_task_get_task_data (task);

  launch->waited_ms += launch->interval_ms;
  g_timeout_add (launch->interval_ms, poll_vmm, task);
  launch->interval_ms = MIN (launch->interval_ms * 2, 20);
}

static gboolean
poll_vmm (gpointer user_data)
{
  GTask *task = user_data;
  Launch *launch = g_task_get_task_data (task);
  GError *error = NULL;
  int pid;

  if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error))
    {
      launch_fail (task, error);
      return G_SOURCE_REMOVE;
    }
  pid = find_vmm (launch->vm_name, launch->jailer_pid);
  if (pid < 0)
    {
      launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                      _("more than one process runs in the VM's cgroup")));
      return G_SOURCE_REMOVE;
    }
  if (pid == 0)
    {
      if (launch->waited_ms >= VMM_TIMEOUT_MS)
        launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                        _("no VMM appeared in the VM's cgroup within %u ms; "
                                          "the helper's jailer or Firecracker failed (the "
                                          "helper's log may say why)"), VMM_TIMEOUT_MS));
      else
        schedule_poll (task);
      return G_SOURCE_REMOVE;
    }
  launch->process = vmm_process_adopt (pid, vmm_process_read_start_time (pid), &error);
  if (launch->process == NULL)
    {
      launch_fail (task, error);
      return G_SOURCE_REMOVE;
    }
  g_info ("VM %s: the jailer started the VMM as pid %d in %s", launch->vm_name, pid,
          launch->jail_root);
  g_task_return_pointer (task, g_steal_pointer (&launch->process),
                         (GDestroyNotify) vmm_process_free);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static void
on_launched (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;
  Launch *launch = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GVariant) reply = helper_call_finish (result, &error);
  g_autofree char *link = NULL;

  if (reply == NULL)
    {
      /* Nothing was made (Launch undoes its own work). */
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  g_variant_get (reply, "(us)", &launch->jailer_pid, &launch->jail_root);
  g_debug ("VM %s: jailer pid %u, jail %s", launch->vm_name, launch->jailer_pid,
           launch->jail_root);

  /* The VMM's sockets and logs are reached through this link, so the code
   * that knows only the runtime dir (the API client, reconcile) works as is. */
  link = g_build_filename (launch->runtime_dir, HELPER_JAIL_LINK, NULL);
  if (symlink (launch->jail_root, link) != 0)
    {
      int saved = errno;
      launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                      _("Cannot link %s to the jail: %s"), link,
                                      g_strerror (saved)));
      return;
    }
  launch->interval_ms = 2;
  schedule_poll (task);
}

void
helper_jail_launch_async (const char            *vm_name,
                          const char            *runtime_dir,
                          const char            *kernel,
                          const char            *initrd,
                          const HelperJailDrive *drives,
                          guint                  n_drives,
                          GCancellable          *cancellable,
                          GAsyncReadyCallback    callback,
                          gpointer               user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Launch *launch = g_new0 (Launch, 1);
  GVariantBuilder spec, list;

  launch->vm_name = g_strdup (vm_name);
  launch->runtime_dir = g_strdup (runtime_dir);
  g_task_set_task_data (task, launch, (GDestroyNotify) launch_free);

  g_variant_builder_init (&spec, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&spec, "{sv}", "kernel", g_variant_new_string (kernel));
  if (initrd != NULL)
    g_variant_builder_add (&spec, "{sv}", "initrd", g_variant_new_string (initrd));
  g_variant_builder_init (&list, G_VARIANT_TYPE ("a(sb)"));
  for (guint i = 0; i < n_drives; i++)
    g_variant_builder_add (&list, "(sb)", drives[i].path, drives[i].read_only);
  g_variant_builder_add (&spec, "{sv}", "drives", g_variant_builder_end (&list));

  /* Not cancellable: a Launch that went through must be seen, to be undone. */
  helper_call_async ("Launch", g_variant_new ("(sa{sv})", vm_name, &spec),
                     G_VARIANT_TYPE ("(us)"), NULL, on_launched, task);
}

VmmProcess *
helper_jail_launch_finish (GAsyncResult  *result,
                           GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
