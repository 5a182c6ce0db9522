/* cmd-daemon.c: 'banger daemon status|stop'. Neither may start bangerd, so
 * both look the name up first and talk only to the instance they found. */
#define G_LOG_DOMAIN "banger-client-daemon"

#include "config.h"

#include <stdio.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "command.h"
#include "daemon-connection.h"
#include "output.h"

/* How long 'daemon stop' waits for bangerd to leave the bus. */
#define STOP_TIMEOUT_SECONDS 30

static gboolean
get_pid (GDBusConnection *bus,
         const char      *owner,
         guint32         *out_pid)
{
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                       g_variant_new ("(s)", owner), G_VARIANT_TYPE ("(u)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(u)", out_pid);
  return TRUE;
}

/* What 'daemon status' found out. */
typedef struct {
  gboolean      running;
  BangerDaemon *daemon;    /* NULL when not running or not answering */
  gboolean      have_pid;
  guint32       pid;
  guint         vm_count;
  GError       *problem;   /* why a running bangerd did not answer */
} Status;

/* The documented 'daemon status --json' object (docs/cli.md); every key is
 * always present, null when unknown. */
static JsonNode *
status_to_json (const Status *st)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  BangerManager1 *m = st->daemon ? st->daemon->manager : NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "running");
  json_builder_add_boolean_value (b, st->running);
  banger_json_add_string_or_null (b, "version", m ? banger_manager1_get_version (m) : NULL);
  json_builder_set_member_name (b, "pid");
  if (st->have_pid)
    json_builder_add_int_value (b, st->pid);
  else
    json_builder_add_null_value (b);
  banger_json_add_string_or_null (b, "config_file", m ? banger_manager1_get_config_file (m) : NULL);
  banger_json_add_string_or_null (b, "state_directory", m ? banger_manager1_get_state_directory (m) : NULL);
  json_builder_set_member_name (b, "vm_count");
  if (st->daemon != NULL)
    json_builder_add_int_value (b, st->vm_count);
  else
    json_builder_add_null_value (b);
  banger_json_add_string_or_null (b, "error", st->problem ? st->problem->message : NULL);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
print_status (const Status *st)
{
  g_autofree char *pid_text = st->have_pid ? g_strdup_printf ("%u", st->pid) : g_strdup ("-");
  g_autofree char *count = g_strdup_printf ("%u", st->vm_count);
  g_autofree char *fields = NULL;
  BangerManager1 *m;

  if (!st->running)
    {
      printf ("%s\n", _("bangerd is not running; the next command that needs it starts it."));
      return;
    }
  if (st->daemon == NULL)
    {
      /* Translators: labels of 'banger daemon status'; they are aligned for you. */
      fields = banger_render_fields (_("pid"), pid_text, _("error"), st->problem->message, NULL);
      printf ("%s\n%s", _("bangerd is running but does not answer requests."), fields);
      return;
    }

  m = st->daemon->manager;
  fields = banger_render_fields (_("version"), banger_manager1_get_version (m),
                                 _("pid"), pid_text,
                                 _("config file"), banger_manager1_get_config_file (m),
                                 _("state directory"), banger_manager1_get_state_directory (m),
                                 _("VMs"), count,
                                 NULL);
  printf ("%s\n%s", _("bangerd is running."), fields);
}

static int
daemon_status (const BangerCommandGroup *group,
               const BangerCommand      *command,
               int                       argc,
               char                    **argv)
{
  gboolean json = FALSE;
  const GOptionEntry options[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the status as a JSON object"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(GPtrArray) vms = NULL;
  g_autofree char *owner = NULL;
  Status st = { 0 };
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 0, 0, &status))
    return status;

  bus = banger_session_bus (&error);
  if (bus == NULL)
    return banger_fail (error);
  owner = banger_daemon_get_owner (bus, &error);
  if (owner == NULL && error != NULL)
    return banger_fail (error);

  if (owner != NULL)
    {
      st.running = TRUE;
      st.have_pid = get_pid (bus, owner, &st.pid);
      /* A bangerd that cannot open its state still owns the name and
       * answers every call with the reason: show it, don't just fail. */
      daemon = banger_daemon_connect_to_owner (bus, owner, &error);
      if (daemon != NULL)
        {
          vms = banger_daemon_list_vms (daemon);
          st.vm_count = vms->len;
        }
      st.daemon = daemon;
      st.problem = error;
    }

  if (json)
    {
      g_autoptr(JsonNode) node = status_to_json (&st);
      banger_json_print (node);
    }
  else
    print_status (&st);
  return st.problem != NULL ? BANGER_EXIT_FAILED : BANGER_EXIT_OK;
}

typedef struct {
  GMainLoop *loop;
  gboolean   gone;
} StopWait;

/* NameOwnerChanged(owner, owner, "") is bangerd leaving the bus, which
 * also releases dev.banger.Daemon1. */
static void
on_name_owner_changed (GDBusConnection *bus,
                       const char      *sender,
                       const char      *path,
                       const char      *interface,
                       const char      *signal,
                       GVariant        *parameters,
                       gpointer         user_data)
{
  StopWait *wait = user_data;
  const char *new_owner = NULL;

  g_variant_get (parameters, "(&s&s&s)", NULL, NULL, &new_owner);
  if (*new_owner == '\0')
    {
      wait->gone = TRUE;
      g_main_loop_quit (wait->loop);
    }
}

static gboolean
on_stop_timeout (gpointer user_data)
{
  StopWait *wait = user_data;

  g_main_loop_quit (wait->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
has_owner (GDBusConnection *bus,
           const char      *name)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                           "org.freedesktop.DBus", "NameHasOwner",
                                                           g_variant_new ("(s)", name), G_VARIANT_TYPE ("(b)"),
                                                           G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean owned = TRUE;   /* if in doubt, keep waiting */

  if (reply != NULL)
    g_variant_get (reply, "(b)", &owned);
  return owned;
}

static int
daemon_stop (const BangerCommandGroup *group,
             const BangerCommand      *command,
             int                       argc,
             char                    **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *owner = NULL;
  StopWait wait = { NULL, FALSE };
  guint subscription, timeout;
  guint32 pid = 0;
  int status;

  if (!banger_command_parse (group, command, NULL, &argc, &argv, 0, 0, &status))
    return status;

  bus = banger_session_bus (&error);
  if (bus == NULL)
    return banger_fail (error);
  owner = banger_daemon_get_owner (bus, &error);
  if (owner == NULL && error != NULL)
    return banger_fail (error);
  if (owner == NULL)
    {
      printf ("%s\n", _("bangerd is not running."));
      return BANGER_EXIT_OK;
    }
  (void) get_pid (bus, owner, &pid);

  /* Subscribe before asking, so the departure cannot be missed. */
  loop = g_main_loop_new (NULL, FALSE);
  wait.loop = loop;
  subscription = g_dbus_connection_signal_subscribe (bus, "org.freedesktop.DBus", "org.freedesktop.DBus",
                                                     "NameOwnerChanged", "/org/freedesktop/DBus", owner,
                                                     G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed,
                                                     &wait, NULL);

  /* Sent to the unique name: if bangerd is already gone this fails
   * instead of starting a new one. */
  reply = g_dbus_connection_call_sync (bus, owner, BANGER_DAEMON_PATH, "dev.banger.Manager1", "Shutdown",
                                       NULL, G_VARIANT_TYPE_UNIT, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       -1, NULL, &error);
  /* Leaving before the reply arrives (NoReply) or before the call did
   * (ServiceUnknown) both mean it is on its way out. */
  if (reply == NULL &&
      !g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) &&
      !g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) &&
      !g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    {
      g_dbus_connection_signal_unsubscribe (bus, subscription);
      banger_error_explain (error);
      return banger_fail (error);
    }

  if (has_owner (bus, owner))
    {
      timeout = g_timeout_add_seconds (STOP_TIMEOUT_SECONDS, on_stop_timeout, &wait);
      g_main_loop_run (loop);
      if (!wait.gone)
        wait.gone = !has_owner (bus, owner);
      else
        g_source_remove (timeout);
    }
  else
    wait.gone = TRUE;
  g_dbus_connection_signal_unsubscribe (bus, subscription);

  if (!wait.gone)
    {
      fprintf (stderr, _("banger: bangerd (pid %u) is still running %d seconds after it was asked to stop; "
                         "see its log with 'journalctl --user -u bangerd'\n"),
               pid, STOP_TIMEOUT_SECONDS);
      return BANGER_EXIT_FAILED;
    }
  printf (_("Stopped bangerd (pid %u).\n"), pid);
  return BANGER_EXIT_OK;
}

static const BangerCommand daemon_commands[] = {
  { "status", NULL, N_("Show whether bangerd is running, and its details"),
    N_("Show whether the banger daemon (bangerd) is running and, if it is, its\n"
       "version, process id, config file, state directory and number of VMs.\n"
       "This never starts bangerd."),
    daemon_status },
  { "stop", NULL, N_("Stop bangerd"),
    N_("Ask the banger daemon (bangerd) to exit and wait until it has left the\n"
       "bus. VMs are kept; bangerd starts again on demand. If bangerd is not\n"
       "running, this does nothing."),
    daemon_stop },
  { NULL }
};

const BangerCommandGroup banger_daemon_group = {
  "daemon",
  N_("Check on or stop the banger daemon"),
  N_("Check on or stop bangerd, the per-user daemon that does banger's work.\n"
     "D-Bus starts it on demand; these commands never start it."),
  daemon_commands,
};
