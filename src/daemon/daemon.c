/* daemon.c: owns the store and the registry of exported VM objects; the
 * registry and the vms table always change together. */
#define G_LOG_DOMAIN "bangerd-daemon"

#include "config.h"

#include "daemon.h"
#include "fs-util.h"
#include "image-registry.h"
#include "vm-object.h"

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
  daemon->creating = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
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
  g_hash_table_unref (daemon->creating);
  g_clear_pointer (&daemon->images, image_registry_free);
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

/* A CreateVM or Delete cut short by a crash leaves a renamed directory
 * that belongs to no VM. */
static void
sweep_leftovers (Daemon *daemon)
{
  g_autofree char *vms_dir = g_build_filename (daemon->state_dir, "vms", NULL);
  g_autoptr(GDir) dir = g_dir_open (vms_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, ".creating-") || g_str_has_prefix (name, ".deleting-"))
      {
        g_autofree char *path = g_build_filename (vms_dir, name, NULL);
        g_autoptr(GError) error = NULL;

        g_info ("Removing %s, left by an interrupted create or delete", path);
        if (!fs_remove_tree (path, &error))
          g_warning ("%s", error->message);
      }
}

/* VMs stored as starting, running or stopping are checked against their
 * VMM processes; the stored state alone is never trusted. */
static void
reconcile_vms (Daemon *daemon)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, daemon->vms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    vm_lifecycle_reconcile (value);
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
  daemon->images = image_registry_new (daemon, error);
  if (daemon->images == NULL)
    return FALSE;

  g_dbus_object_manager_server_set_connection (daemon->object_manager, connection);
  sweep_leftovers (daemon);
  reconcile_vms (daemon);
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
