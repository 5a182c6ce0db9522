/* daemon-connection.c: finds bangerd on the session bus, starts it by
 * D-Bus activation for commands that need it, and explains bus failures. */
#define G_LOG_DOMAIN "banger-client-connection"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-names.h"
#include "daemon-connection.h"

/* Longer than the bus's own activation timeout (25 s by default), so a
 * daemon that starts but never takes its name is reported by the bus. */
#define START_TIMEOUT_MSEC (2 * 60 * 1000)

void
banger_daemon_free (BangerDaemon *daemon)
{
  if (daemon == NULL)
    return;
  g_clear_object (&daemon->objects);
  g_clear_object (&daemon->manager);
  g_clear_object (&daemon->bus);
  g_free (daemon->owner);
  g_free (daemon);
}

static void
replace_message (GError     *error,
                 const char *format,
                 ...) G_GNUC_PRINTF (2, 3);

static void
replace_message (GError     *error,
                 const char *format,
                 ...)
{
  va_list args;
  char *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_free (error->message);
  error->message = message;
}

void
banger_error_explain (GError *error)
{
  g_autofree char *remote_name = g_dbus_error_get_remote_error (error);

  g_dbus_error_strip_remote_error (error);

  /* bangerd's own errors are written for people already. */
  if (error->domain == BANGER_ERROR)
    return;

  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    replace_message (error, _("The banger daemon did not answer (%s); check its log with 'journalctl --user -u bangerd'"),
                     error->message);
  else if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
           g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    replace_message (error, _("The banger daemon stopped while banger was talking to it; run the command again"));
  else if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD) ||
           g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) ||
           g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_INTERFACE) ||
           g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY))
    replace_message (error, _("The running banger daemon does not understand this request (%s); "
                              "if bangerd is older than banger %s, stop it with 'banger daemon stop' and try again"),
                     error->message, PACKAGE_VERSION);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
           g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED))
    replace_message (error, _("Lost the connection to the D-Bus session bus (%s)"), error->message);
  else if (remote_name != NULL && !g_str_has_prefix (remote_name, "org.freedesktop.DBus."))
    replace_message (error, "%s (%s)", error->message, remote_name);
}

/* Adds a next step the daemon cannot know, unless it already gave one
 * (its messages put a next step after a ';'). */
void
banger_error_add_hint (GError     *error,
                       const char *hint)
{
  if (strchr (error->message, ';') != NULL || strstr (error->message, "'banger ") != NULL)
    return;
  replace_message (error, "%s; %s", error->message, hint);
}

GDBusConnection *
banger_session_bus (GError **error)
{
  g_autoptr(GError) local_error = NULL;
  GDBusConnection *bus;

  /* Remote dev.banger.Error.* names map back to BANGER_ERROR codes only
   * once the domain is registered, so do it before the first call. */
  (void) banger_error_quark ();

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &local_error);
  if (bus == NULL && g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                 _("Cannot reach the D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and "
                   "none was found (%s); banger talks to its daemon over that bus, so run it in a "
                   "desktop or login session, or under 'dbus-run-session'"),
                 local_error->message);
  else if (bus == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                 _("Cannot reach the D-Bus session bus at %s (%s); is the session still running? "
                   "Check DBUS_SESSION_BUS_ADDRESS"),
                 g_getenv ("DBUS_SESSION_BUS_ADDRESS"), local_error->message);
  return bus;
}

char *
banger_daemon_get_owner (GDBusConnection  *bus,
                         GError          **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *owner = NULL;

  /* Calls to the bus driver never activate anything. */
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetNameOwner",
                                       g_variant_new ("(s)", BANGER_DAEMON_BUS_NAME),
                                       G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE,
                                       -1, NULL, &local_error);
  if (reply == NULL)
    {
      if (g_error_matches (local_error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
        return NULL;
      banger_error_explain (local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  g_variant_get (reply, "(&s)", &owner);
  return g_strdup (owner);
}

/* A GDBusObjectManagerClient for the well-known name would activate too
 * (its control proxy calls StartServiceByName), but GLib 2.74 drops a
 * ServiceUnknown reply and just finds no owner, so a missing service file
 * would make 'vm list' say "No VMs". Activating here first turns every
 * failure into an error that says what to do. */
static gboolean
start_daemon (GDBusConnection  *bus,
              GError          **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) local_error = NULL;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "StartServiceByName",
                                       g_variant_new ("(su)", BANGER_DAEMON_BUS_NAME, 0),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE,
                                       START_TIMEOUT_MSEC, NULL, &local_error);
  if (reply != NULL)
    return TRUE;

  g_dbus_error_strip_remote_error (local_error);
  if (g_error_matches (local_error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("Cannot start the banger daemon: the D-Bus service file %s.service was not found; "
                   "is banger installed? (it belongs in a dbus-1/services directory of $XDG_DATA_DIRS)"),
                 BANGER_DAEMON_BUS_NAME);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 _("The banger daemon failed to start (%s); see why with 'journalctl --user -u bangerd' "
                   "or by running bangerd in a terminal"),
                 local_error->message);
  return FALSE;
}

BangerDaemon *
banger_daemon_connect_to_owner (GDBusConnection  *bus,
                  const char       *owner,
                  GError          **error)
{
  g_autoptr(BangerDaemon) daemon = g_new0 (BangerDaemon, 1);
  g_autoptr(GError) local_error = NULL;
  /* A unique name is never activated; the flag makes that explicit. */
  const GDBusProxyFlags proxy_flags = G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START |
                                      G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS;

  daemon->bus = g_object_ref (bus);
  daemon->owner = g_strdup (owner);

  daemon->manager = banger_manager1_proxy_new_sync (bus, proxy_flags, owner, BANGER_DAEMON_PATH,
                                                    NULL, &local_error);
  if (daemon->manager != NULL)
    daemon->objects = banger_object_manager_client_new_sync (bus,
                                                             G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
                                                             owner, BANGER_DAEMON_PATH, NULL, &local_error);
  if (daemon->objects == NULL)
    {
      banger_error_explain (local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return g_steal_pointer (&daemon);
}

BangerDaemon *
banger_daemon_connect (GError **error)
{
  g_autoptr(GDBusConnection) bus = banger_session_bus (error);
  g_autofree char *owner = NULL;
  g_autoptr(GError) local_error = NULL;

  if (bus == NULL)
    return NULL;

  /* A running daemon is used as it is, even one started by hand with no
   * service file installed; only a missing one is activated. */
  owner = banger_daemon_get_owner (bus, &local_error);
  if (owner == NULL && local_error == NULL)
    {
      if (!start_daemon (bus, error))
        return NULL;
      owner = banger_daemon_get_owner (bus, &local_error);
    }
  if (owner == NULL && local_error == NULL)
    g_set_error (&local_error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 _("The banger daemon exited right after it was started; "
                   "see why with 'journalctl --user -u bangerd' or by running bangerd in a terminal"));
  if (owner == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return banger_daemon_connect_to_owner (bus, owner, error);
}

BangerDaemon *
banger_daemon_connect_if_running (GDBusConnection  *bus,
                                  GError          **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *owner = banger_daemon_get_owner (bus, &local_error);

  if (owner == NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return banger_daemon_connect_to_owner (bus, owner, error);
}

static char *
lookup_source (GVariant   *sources,
               const char *property)
{
  char *value = NULL;

  if (sources == NULL || !g_variant_lookup (sources, property, "s", &value))
    return NULL;
  return value;
}

static char *
dup_or_empty (const char *value)
{
  return g_strdup (value != NULL ? value : "");
}

BangerVmInfo *
banger_vm_info_from_proxy (BangerVM1 *vm)
{
  BangerVmInfo *info = g_new0 (BangerVmInfo, 1);
  GVariant *sources = banger_vm1_get_settings_source (vm);

  info->name = banger_vm1_dup_name (vm);
  info->state = banger_vm1_dup_state (vm);
  info->vcpus = banger_vm1_get_vcpus (vm);
  info->memory_mib = banger_vm1_get_memory_mib (vm);
  info->disk_bytes = banger_vm1_get_disk_bytes (vm);
  info->created_at_usec = banger_vm1_get_created_at (vm);
  info->vcpus_source = lookup_source (sources, "VCPUs");
  info->memory_source = lookup_source (sources, "MemoryMiB");
  info->disk_source = lookup_source (sources, "DiskBytes");
  /* An older daemon lacks these properties; say "" rather than NULL. */
  info->vmm = dup_or_empty (banger_vm1_get_vmm (vm));
  info->vmm_reason = dup_or_empty (banger_vm1_get_vmmreason (vm));
  info->ipv4 = dup_or_empty (banger_vm1_get_ipv4 (vm));
  info->mac = dup_or_empty (banger_vm1_get_mac (vm));
  info->tap = dup_or_empty (banger_vm1_get_tap (vm));
  info->nat = banger_vm1_get_nat (vm);
  info->image = dup_or_empty (banger_vm1_get_image (vm));
  info->kernel = dup_or_empty (banger_vm1_get_kernel (vm));
  info->disk_strategy = dup_or_empty (banger_vm1_get_disk_strategy (vm));
  info->started_at_usec = banger_vm1_get_started_at (vm);
  info->last_error = dup_or_empty (banger_vm1_get_last_error (vm));
  return info;
}

GPtrArray *
banger_daemon_list_vms (BangerDaemon *daemon)
{
  g_autoptr(GPtrArray) vms = g_ptr_array_new_with_free_func ((GDestroyNotify) banger_vm_info_free);
  GList *objects = g_dbus_object_manager_get_objects (daemon->objects);

  for (GList *l = objects; l != NULL; l = l->next)
    {
      BangerVM1 *vm = banger_object_peek_vm1 (BANGER_OBJECT (l->data));

      if (vm != NULL)
        g_ptr_array_add (vms, banger_vm_info_from_proxy (vm));
    }
  g_list_free_full (objects, g_object_unref);

  g_ptr_array_sort (vms, banger_vm_info_compare);
  return g_steal_pointer (&vms);
}

/* The daemon is the authority on names and existence: ask it (GetVM),
 * then use the proxy the ObjectManager already filled in. */
BangerVM1 *
banger_daemon_find_vm (BangerDaemon  *daemon,
                       const char    *name,
                       GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *path = NULL;
  GDBusInterface *vm;

  if (!banger_manager1_call_get_vm_sync (daemon->manager, name, &path, NULL, &local_error))
    {
      banger_error_explain (local_error);
      if (g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
        banger_error_add_hint (local_error, _("see 'banger vm list'"));
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  vm = g_dbus_object_manager_get_interface (daemon->objects, path, "dev.banger.VM1");
  if (vm != NULL)
    return BANGER_VM1 (vm);
  /* Created after we listed the objects: read it directly. */
  return banger_daemon_load_vm (daemon, path, error);
}

BangerVM1 *
banger_daemon_load_vm (BangerDaemon  *daemon,
                       const char    *object_path,
                       GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(BangerVM1) vm = banger_vm1_proxy_new_sync (daemon->bus,
                                                       G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START |
                                                       G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                                       daemon->owner, object_path, NULL, &local_error);

  if (vm == NULL)
    {
      banger_error_explain (local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  /* GDBusProxy ignores a failed GetAll and just has no properties. */
  if (banger_vm1_get_name (vm) == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Could not read the VM at %s from the banger daemon"), object_path);
      return NULL;
    }
  return g_steal_pointer (&vm);
}
