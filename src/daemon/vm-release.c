/* vm-release.c: what a VM held while it ran, given back in a fixed order:
 * the jail first (it may still hold a process), then the runtime dir, then
 * the tap. */
#define G_LOG_DOMAIN "bangerd-lifecycle"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"
#include "fs-util.h"
#include "helper-client.h"
#include "helper-jail.h"
#include "vm-release.h"
#include "vm-runtime.h"

typedef struct {
  VmObject        *vm;
  const VmmDriver *driver;
  VmReleaseFlags   flags;
  GError          *error;   /* the first failure */
} Release;

static void
release_free (Release *release)
{
  g_clear_error (&release->error);
  g_free (release);
}

static void
release_done (GTask *task)
{
  Release *release = g_task_get_task_data (task);

  if (release->error != NULL)
    g_task_return_error (task, g_steal_pointer (&release->error));
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
on_tap_deleted (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  Release *release = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = helper_call_finish (result, &error);

  /* A tap already gone is fine. */
  if (reply == NULL && !g_error_matches (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND) &&
      release->error == NULL)
    release->error = g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                  _("VM “%s” is down, but its tap %s could not be removed: %s"),
                                  release->vm->record->name, release->vm->record->tap,
                                  error->message);
  release_done (task);
}

static void
release_runtime_and_tap (GTask *task)
{
  Release *release = g_task_get_task_data (task);
  VmObject *vm = release->vm;
  g_autofree char *dir = vm_object_runtime_dir (vm);
  g_autoptr(GError) error = NULL;

  /* The runtime dir holds only what the VMM and bangerd made for this boot. */
  if (release->driver != NULL)
    release->driver->cleanup (dir);
  if (!fs_remove_tree (dir, &error))
    g_warning ("VM %s: %s", vm->record->name, error->message);

  if ((release->flags & VM_RELEASE_TAP) && vm->record->tap != NULL)
    helper_call_async ("DeleteTap", g_variant_new ("(s)", vm->record->tap), G_VARIANT_TYPE_UNIT,
                       NULL, on_tap_deleted, task);
  else
    release_done (task);
}

static void
on_jail_released (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  Release *release = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!helper_jail_release_finish (result, &error))
    release->error = g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                  _("VM “%s” is down, but the helper could not remove its "
                                    "jail: %s"), release->vm->record->name, error->message);
  release_runtime_and_tap (task);
}

void
vm_release_async (VmObject            *vm,
                  const VmmDriver     *driver,
                  VmReleaseFlags       flags,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  Release *release = g_new0 (Release, 1);

  release->vm = vm;
  release->driver = driver;
  release->flags = flags;
  g_task_set_task_data (task, release, (GDestroyNotify) release_free);
  if (flags & VM_RELEASE_JAIL)
    helper_jail_release_async (vm->record->name, on_jail_released, task);
  else
    release_runtime_and_tap (task);
}

gboolean
vm_release_finish (GAsyncResult  *result,
                   GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

VmReleaseFlags
vm_release_flags_for (VmObject *vm,
                      gboolean  starting)
{
  g_autofree char *dir = vm_object_runtime_dir (vm);
  g_autoptr(VmRuntimeRecord) record = vm_runtime_read (dir, NULL);
  VmReleaseFlags flags = VM_RELEASE_TAP;

  if (record != NULL ? record->jailed : starting)
    flags |= VM_RELEASE_JAIL;
  return flags;
}
