/* vm-delete.c: deleting a VM: stop it if asked to, then the row, the
 * object and its files. The directory is renamed away first, so a crash
 * half-way leaves a .deleting-* directory that the next start removes. */
#define G_LOG_DOMAIN "bangerd-vm"

#include "config.h"

#include <errno.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "banger-error.h"
#include "fs-util.h"
#include "vm-object.h"

typedef struct {
  gboolean               force;
  GDBusMethodInvocation *invocation;
} PendingDelete;

static void
delete_now (VmObject              *vm,
            GDBusMethodInvocation *invocation)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup (vm->record->name);
  g_autofree char *dir = vm_object_state_dir (vm);
  g_autofree char *runtime_dir = vm_object_runtime_dir (vm);
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *doomed = g_strdup_printf ("%s/.deleting-%s-%" G_GINT64_FORMAT,
                                             parent, name, g_get_real_time ());
  Daemon *daemon = vm->daemon;
  gboolean moved;

  moved = g_rename (dir, doomed) == 0;
  if (!moved && errno != ENOENT)
    {
      int saved = errno;
      g_set_error (&error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Cannot delete the files of VM “%s” in %s: %s"), name, dir, g_strerror (saved));
    }
  else if (!store_delete_vm (daemon->store, name, &error) && moved)
    {
      /* Put the files back: the VM still exists. */
      if (g_rename (doomed, dir) != 0)
        g_warning ("Cannot restore %s: %s", dir, g_strerror (errno));
    }
  if (error != NULL)
    {
      g_message ("Delete of VM %s refused: %s", name, error->message);
      banger_error_to_invocation (invocation, error);
      return;
    }

  /* Reply before the object (and @vm) goes away; the InterfacesRemoved
   * signal follows the reply on the same connection. */
  g_dbus_method_invocation_return_value (invocation, NULL);
  daemon_remove_vm (daemon, name);
  if ((moved && !fs_remove_tree (doomed, &error)) || !fs_remove_tree (runtime_dir, &error))
    g_warning ("VM %s deleted, but not all of its files: %s", name, error->message);
  g_info ("Deleted VM %s", name);
}

static void
after_stop (VmObject *vm,
            gpointer  user_data)
{
  g_autofree PendingDelete *pending = user_data;

  if (!g_str_equal (vm->record->state, "stopped") && !pending->force)
    {
      g_autoptr(GError) error = g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                             _("VM “%s” was not deleted: %s. Delete it with "
                                               "--force to remove it anyway"),
                                             vm->record->name, vm->record->last_error);
      banger_error_to_invocation (pending->invocation, error);
      return;
    }
  delete_now (vm, pending->invocation);
}

void
vm_delete (VmObject              *vm,
           gboolean               force,
           GDBusMethodInvocation *invocation)
{
  const char *state = vm->record->state;
  PendingDelete *pending;

  if (g_str_equal (state, "stopped") && vm->instance == NULL)
    {
      delete_now (vm, invocation);
      return;
    }
  if (!force && !g_str_equal (state, "failed"))
    {
      g_autoptr(GError) error = g_error_new (BANGER_ERROR, BANGER_ERROR_BUSY,
                                             _("VM “%s” is %s; stop it first or delete it "
                                               "with --force"), vm->record->name, state);
      g_message ("Delete of VM %s refused: %s", vm->record->name, error->message);
      banger_error_to_invocation (invocation, error);
      return;
    }

  /* A failed VM may still hold a tap; a forced delete kills the VMM. Both
   * go through a stop that releases everything first. */
  pending = g_new0 (PendingDelete, 1);
  pending->force = force;
  pending->invocation = invocation;
  vm->after_op = after_stop;
  vm->after_op_data = pending;
  vm_lifecycle_stop (vm, 0, TRUE, FALSE, NULL);
}
