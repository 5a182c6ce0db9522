/* manager.c: dev.banger.Manager1 at /dev/banger/Daemon1: creating VMs,
 * the daemon's version and paths, and shutting the daemon down. */
#define G_LOG_DOMAIN "bangerd-manager"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-log.h"
#include "banger-names.h"
#include "daemon.h"

static gboolean
create_vm (Daemon      *daemon,
           const char  *name,
           GVariant    *options,
           VmObject   **out_vm,
           GError     **error)
{
  g_autoptr(VmRecord) record = NULL;

  if (!banger_vm_name_validate (name, error))
    return FALSE;

  record = vm_record_new (name);
  record->created_at_us = g_get_real_time ();
  if (!config_load_vm_defaults (daemon->config_path, &daemon->host, &record->settings, error) ||
      !vm_settings_apply_options (&record->settings, options,
                                  VM_SETTING_VCPUS | VM_SETTING_MEMORY_MIB | VM_SETTING_DISK_BYTES,
                                  NULL, error) ||
      !store_insert_vm (daemon->store, record, error))   /* AlreadyExists */
    return FALSE;

  daemon_add_vm (daemon, g_steal_pointer (&record));
  *out_vm = daemon_lookup_vm (daemon, name);
  return TRUE;
}

static gboolean
handle_create_vm (BangerManager1        *manager,
                  GDBusMethodInvocation *invocation,
                  const char            *name,
                  GVariant              *options,
                  Daemon                *daemon)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);
  g_autoptr(GError) error = NULL;
  VmObject *vm = NULL;

  if (!create_vm (daemon, name, options, &vm, &error))
    {
      g_message ("CreateVM refused: %s", error->message);
      banger_error_to_invocation (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  g_info ("Created VM %s", name);
  banger_manager1_complete_create_vm (manager, invocation, vm_object_get_path (vm));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_vm (BangerManager1        *manager,
               GDBusMethodInvocation *invocation,
               const char            *name,
               Daemon                *daemon)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);
  g_autoptr(GError) error = NULL;
  VmObject *vm;

  if (!banger_vm_name_validate (name, &error))
    {
      banger_error_to_invocation (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  vm = daemon_lookup_vm (daemon, name);
  if (vm == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                                             _("There is no VM named “%s”"), name);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  banger_manager1_complete_get_vm (manager, invocation, vm_object_get_path (vm));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_shutdown (BangerManager1        *manager,
                 GDBusMethodInvocation *invocation,
                 Daemon                *daemon)
{
  g_autoptr(BangerOp) op = banger_op_begin (invocation);

  g_info ("Shutting down on request");
  banger_manager1_complete_shutdown (manager, invocation);
  /* Quit from an idle so the reply is flushed first. */
  g_idle_add_once ((GSourceOnceFunc) g_main_loop_quit, daemon->loop);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

void
manager_export (Daemon *daemon)
{
  daemon->manager = banger_manager1_skeleton_new ();
  banger_manager1_set_version (daemon->manager, PACKAGE_VERSION);
  banger_manager1_set_config_file (daemon->manager, daemon->config_path);
  banger_manager1_set_state_directory (daemon->manager, daemon->state_dir);

  g_signal_connect (daemon->manager, "handle-create-vm", G_CALLBACK (handle_create_vm), daemon);
  g_signal_connect (daemon->manager, "handle-get-vm", G_CALLBACK (handle_get_vm), daemon);
  g_signal_connect (daemon->manager, "handle-shutdown", G_CALLBACK (handle_shutdown), daemon);
}
