/* vm-object.c: one VM on the bus (dev.banger.VM1). Handlers validate,
 * change the store first, then mirror the change into the properties. */
#define G_LOG_DOMAIN "bangerd-vm"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-log.h"
#include "banger-names.h"
#include "daemon.h"

struct _VmObject {
  Daemon               *daemon;      /* not owned */
  VmRecord             *record;
  BangerObjectSkeleton *object;
  BangerVM1            *iface;
};

static GVariant *
settings_source_variant (const VmSettings *s)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  g_variant_builder_add (&builder, "{ss}", "VCPUs", setting_source_to_string (s->vcpus.source));
  g_variant_builder_add (&builder, "{ss}", "MemoryMiB", setting_source_to_string (s->memory_mib.source));
  g_variant_builder_add (&builder, "{ss}", "DiskBytes", setting_source_to_string (s->disk_bytes.source));
  return g_variant_builder_end (&builder);
}

/* The skeleton batches these into one PropertiesChanged per main-loop turn
 * and only announces values that really changed. */
static void
sync_properties (VmObject *vm)
{
  const VmRecord *r = vm->record;

  banger_vm1_set_name (vm->iface, r->name);
  banger_vm1_set_state (vm->iface, r->state);
  banger_vm1_set_vcpus (vm->iface, (guint) r->settings.vcpus.value);
  banger_vm1_set_memory_mib (vm->iface, r->settings.memory_mib.value);
  banger_vm1_set_disk_bytes (vm->iface, r->settings.disk_bytes.value);
  banger_vm1_set_created_at (vm->iface, (guint64) r->created_at_us);
  banger_vm1_set_settings_source (vm->iface, settings_source_variant (&r->settings));
}

static gboolean
reject_unknown_options (GVariant  *options,
                        GError   **error)
{
  if (g_variant_n_children (options) == 0)
    return TRUE;

  g_autoptr(GVariant) first = g_variant_get_child_value (options, 0);
  const char *key = NULL;

  g_variant_get_child (first, 0, "&s", &key);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               _("Unknown option “%s”"), key);
  return FALSE;
}

static gboolean
handle_delete (BangerVM1             *iface,
               GDBusMethodInvocation *invocation,
               GVariant              *options,
               VmObject              *vm)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup (vm->record->name);
  Daemon *daemon = vm->daemon;

  if (!reject_unknown_options (options, &error) ||
      !store_delete_vm (daemon->store, name, &error))
    {
      g_message ("Delete of VM %s refused: %s", name, error->message);
      banger_error_to_invocation (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  /* Reply before the object (and @vm) goes away; the InterfacesRemoved
   * signal follows the reply on the same connection. */
  banger_vm1_complete_delete (iface, invocation);
  daemon_remove_vm (daemon, name);
  g_info ("Deleted VM %s", name);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_set (BangerVM1             *iface,
            GDBusMethodInvocation *invocation,
            GVariant              *changes,
            VmObject              *vm)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);
  g_autoptr(GError) error = NULL;
  g_autoptr(VmRecord) updated = vm_record_new (vm->record->name);

  updated->settings = vm->record->settings;
  updated->created_at_us = vm->record->created_at_us;

  if (!g_str_equal (vm->record->state, "stopped"))
    {
      g_set_error (&error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   _("VM “%s” is %s; stop it before changing its settings"),
                   vm->record->name, vm->record->state);
    }
  else if (vm_settings_apply_options (&updated->settings, changes,
                                      VM_SETTING_VCPUS | VM_SETTING_MEMORY_MIB,
                                      NULL, &error))
    {
      store_update_vm_settings (vm->daemon->store, updated, &error);
    }

  if (error != NULL)
    {
      g_message ("Set on VM %s refused: %s", vm->record->name, error->message);
      banger_error_to_invocation (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  vm->record->settings = updated->settings;
  sync_properties (vm);
  g_info ("Changed settings of VM %s", vm->record->name);
  banger_vm1_complete_set (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Takes ownership of @record and exports the VM through the manager. */
VmObject *
vm_object_new (Daemon   *daemon,
               VmRecord *record)
{
  VmObject *vm = g_new0 (VmObject, 1);
  g_autofree char *path = banger_object_path_for (DAEMON_VM_PATH, record->name);

  vm->daemon = daemon;
  vm->record = record;
  vm->object = banger_object_skeleton_new (path);
  vm->iface = banger_vm1_skeleton_new ();
  sync_properties (vm);

  g_signal_connect (vm->iface, "handle-delete", G_CALLBACK (handle_delete), vm);
  g_signal_connect (vm->iface, "handle-set", G_CALLBACK (handle_set), vm);

  banger_object_skeleton_set_vm1 (vm->object, vm->iface);
  g_dbus_object_manager_server_export (daemon->object_manager,
                                       G_DBUS_OBJECT_SKELETON (vm->object));
  return vm;
}

void
vm_object_free (VmObject *vm)
{
  if (vm == NULL)
    return;
  g_signal_handlers_disconnect_by_data (vm->iface, vm);
  g_dbus_object_manager_server_unexport (vm->daemon->object_manager,
                                         g_dbus_object_get_object_path (G_DBUS_OBJECT (vm->object)));
  g_clear_object (&vm->iface);
  g_clear_object (&vm->object);
  vm_record_free (vm->record);
  g_free (vm);
}

const char *
vm_object_get_path (VmObject *vm)
{
  return g_dbus_object_get_object_path (G_DBUS_OBJECT (vm->object));
}
