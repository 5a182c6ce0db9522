/* daemon.c: owns the store and the registry of exported VM objects; the
 * registry and the vms table always change together. */
#define G_LOG_DOMAIN "bangerd-daemon"

#include "config.h"

#include "daemon.h"

Daemon *
daemon_new (Store       *store,
            const char  *config_path,
            const char  *state_dir,
            GMainLoop   *loop)
{
  Daemon *daemon = g_new0 (Daemon, 1);

  daemon->store = store;
  daemon->config_path = g_strdup (config_path);
  daemon->state_dir = g_strdup (state_dir);
  daemon->loop = g_main_loop_ref (loop);
  daemon->vms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) vm_object_free);
  daemon->object_manager = g_dbus_object_manager_server_new (DAEMON_OBJECT_PATH);
  host_resources_read (&daemon->host);
  return daemon;
}

void
daemon_free (Daemon *daemon)
{
  if (daemon == NULL)
    return;
  /* Objects go before the manager that exports them. */
  g_hash_table_unref (daemon->vms);
  if (daemon->manager != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (daemon->manager));
  g_clear_object (&daemon->manager);
  g_dbus_object_manager_server_set_connection (daemon->object_manager, NULL);
  g_clear_object (&daemon->object_manager);
  g_clear_object (&daemon->connection);
  store_close (daemon->store);
  g_main_loop_unref (daemon->loop);
  g_free (daemon->config_path);
  g_free (daemon->state_dir);
  g_free (daemon);
}

/* Exports the manager and one object per stored VM. Called once the bus
 * name is ours, so clients never see a half-populated object tree. */
gboolean
daemon_export (Daemon           *daemon,
               GDBusConnection  *connection,
               GError          **error)
{
  g_autoptr(GPtrArray) records = store_list_vms (daemon->store, error);

  if (records == NULL)
    return FALSE;

  daemon->connection = g_object_ref (connection);
  manager_export (daemon);
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (daemon->manager),
                                         connection, DAEMON_OBJECT_PATH, error))
    return FALSE;

  for (guint i = 0; i < records->len; i++)
    daemon_add_vm (daemon, g_steal_pointer (&records->pdata[i]));

  g_dbus_object_manager_server_set_connection (daemon->object_manager, connection);
  g_info ("Serving %u VMs from %s", g_hash_table_size (daemon->vms),
          store_get_path (daemon->store));
  return TRUE;
}

/* Takes ownership of @record. */
void
daemon_add_vm (Daemon   *daemon,
               VmRecord *record)
{
  VmObject *vm = vm_object_new (daemon, record);

  g_hash_table_replace (daemon->vms, g_strdup (record->name), vm);
}

VmObject *
daemon_lookup_vm (Daemon     *daemon,
                  const char *name)
{
  return g_hash_table_lookup (daemon->vms, name);
}

void
daemon_remove_vm (Daemon     *daemon,
                  const char *name)
{
  g_hash_table_remove (daemon->vms, name);
}
