/* degraded.c: when the state database cannot be opened, the daemon still
 * answers on the bus, so every client sees the reason instead of a failed
 * activation. It exits when idle, so a repaired file is picked up next time. */
#define G_LOG_DOMAIN "bangerd-degraded"

#include "config.h"

#include "banger-error.h"
#include "banger-log.h"
#include "degraded.h"

#define DEGRADED_IDLE_SECONDS 5

struct _Degraded {
  GDBusConnection *connection;
  GError          *reason;
  GMainLoop       *loop;
  guint            idle_id;
  guint            registration_ids[2];
};

static const char introspection_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.DBus.ObjectManager'>"
  "    <method name='GetManagedObjects'>"
  "      <arg type='a{oa{sa{sv}}}' name='objects' direction='out'/>"
  "    </method>"
  "  </interface>"
  "</node>";

static gboolean
idle_quit (gpointer data)
{
  Degraded *degraded = data;

  g_message ("Exiting: the state database is still unusable");
  degraded->idle_id = 0;
  g_main_loop_quit (degraded->loop);
  return G_SOURCE_REMOVE;
}

static void
rearm_idle (Degraded *degraded)
{
  g_clear_handle_id (&degraded->idle_id, g_source_remove);
  degraded->idle_id = g_timeout_add_seconds (DEGRADED_IDLE_SECONDS, idle_quit, degraded);
}

static void
method_call (GDBusConnection       *connection,
             const char            *sender,
             const char            *object_path,
             const char            *interface_name,
             const char            *method_name,
             GVariant              *parameters,
             GDBusMethodInvocation *invocation,
             gpointer               user_data)
{
  Degraded *degraded = user_data;
  g_autoptr(BangerOp) op = banger_op_begin (invocation);

  rearm_idle (degraded);

  /* Shutdown still works, so `banger daemon stop` behaves as usual. */
  if (g_str_equal (interface_name, "dev.banger.Manager1") &&
      g_str_equal (method_name, "Shutdown"))
    {
      g_dbus_method_invocation_return_value (invocation, NULL);
      g_idle_add_once ((GSourceOnceFunc) g_main_loop_quit, degraded->loop);
      return;
    }

  banger_error_to_invocation (invocation, degraded->reason);
}

static GVariant *
get_property (GDBusConnection  *connection,
              const char       *sender,
              const char       *object_path,
              const char       *interface_name,
              const char       *property_name,
              GError          **error,
              gpointer          user_data)
{
  Degraded *degraded = user_data;

  rearm_idle (degraded);
  g_set_error_literal (error, degraded->reason->domain, degraded->reason->code,
                       degraded->reason->message);
  return NULL;
}

static const GDBusInterfaceVTable vtable = { method_call, get_property, NULL, { 0 } };

Degraded *
degraded_serve (GDBusConnection  *connection,
                GMainLoop        *loop,
                const GError     *reason,
                GError          **error)
{
  g_autoptr(Degraded) degraded = g_new0 (Degraded, 1);
  g_autoptr(GDBusNodeInfo) om_info = g_dbus_node_info_new_for_xml (introspection_xml, error);
  GDBusInterfaceInfo *interfaces[2];

  if (om_info == NULL)
    return NULL;

  degraded->connection = g_object_ref (connection);
  degraded->reason = g_error_copy (reason);
  degraded->loop = g_main_loop_ref (loop);

  interfaces[0] = banger_manager1_interface_info ();
  interfaces[1] = om_info->interfaces[0];
  for (guint i = 0; i < G_N_ELEMENTS (interfaces); i++)
    {
      degraded->registration_ids[i] =
        g_dbus_connection_register_object (connection, "/dev/banger/Daemon1",
                                           interfaces[i], &vtable, degraded, NULL, error);
      if (degraded->registration_ids[i] == 0)
        return NULL;
    }

  rearm_idle (degraded);
  g_warning ("Serving errors only: %s", reason->message);
  return g_steal_pointer (&degraded);
}

void
degraded_free (Degraded *degraded)
{
  if (degraded == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (degraded->registration_ids); i++)
    if (degraded->registration_ids[i] != 0)
      g_dbus_connection_unregister_object (degraded->connection, degraded->registration_ids[i]);
  g_clear_handle_id (&degraded->idle_id, g_source_remove);
  g_clear_object (&degraded->connection);
  g_clear_error (&degraded->reason);
  g_clear_pointer (&degraded->loop, g_main_loop_unref);
  g_free (degraded);
}
