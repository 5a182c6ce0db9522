/* main.c: bangerd's entry point: options, state paths, the session bus
 * name, and the main loop. Started by D-Bus activation or by hand. */
#define G_LOG_DOMAIN "bangerd"

#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <locale.h>
#include <sys/stat.h>

#include "banger-error.h"
#include "banger-log.h"
#include "daemon.h"
#include "degraded.h"

typedef struct {
  GMainLoop *loop;
  Daemon    *daemon;      /* NULL when the store could not be opened */
  GError    *store_error; /* why, served by degraded mode */
  Degraded  *degraded;
  gboolean   name_acquired;
  int        exit_status;
} Main;

static void
on_bus_acquired (GDBusConnection *connection,
                 const char      *name,
                 gpointer         user_data)
{
  Main *m = user_data;
  g_autoptr(GError) error = NULL;

  if (m->daemon != NULL && !daemon_export (m->daemon, connection, &error))
    {
      /* Serve the reason rather than vanish, like an unreadable store. */
      m->store_error = g_steal_pointer (&error);
      g_clear_pointer (&m->daemon, daemon_free);
    }

  if (m->daemon == NULL)
    m->degraded = degraded_serve (connection, m->loop, m->store_error, &error);

  if (m->daemon == NULL && m->degraded == NULL)
    {
      g_critical ("Cannot export objects: %s", error->message);
      m->exit_status = 1;
      g_main_loop_quit (m->loop);
    }
}

static void
on_name_acquired (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  Main *m = user_data;

  m->name_acquired = TRUE;
  g_info ("Owning %s", name);
}

static void
on_name_lost (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  Main *m = user_data;

  if (connection == NULL && m->name_acquired)
    g_message ("The session bus went away; exiting");
  else if (connection == NULL)
    g_warning ("Cannot connect to the session bus; is DBUS_SESSION_BUS_ADDRESS set?");
  else if (m->name_acquired)
    g_message ("Lost the name %s (replaced?); exiting", name);
  else
    g_warning ("Cannot own %s: another bangerd is running (use --replace to take over)", name);
  m->exit_status = m->name_acquired ? 0 : 1;
  g_main_loop_quit (m->loop);
}

static gboolean
on_signal (gpointer user_data)
{
  Main *m = user_data;

  g_info ("Exiting on signal");
  g_main_loop_quit (m->loop);
  return G_SOURCE_CONTINUE;
}

/* state.db lives in $XDG_STATE_HOME/banger, private to the user. */
static Store *
open_store (const char  *state_dir,
            GError     **error)
{
  g_autofree char *db_path = g_build_filename (state_dir, "state.db", NULL);

  if (g_mkdir_with_parents (state_dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Cannot create the state directory %s: %s"),
                   state_dir, g_strerror (saved));
      return NULL;
    }
  return store_open (db_path, error);
}

int
main (int argc, char **argv)
{
  gboolean replace = FALSE, verbose = FALSE, version = FALSE;
  const GOptionEntry entries[] = {
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &replace, N_("Replace a running bangerd"), NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Log debug messages"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *state_dir = NULL;
  Store *store;
  Main m = { 0 };
  guint owner_id;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("bangerd");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, _("banger's per-user daemon on the session bus. "
                                           "It is normally started by D-Bus activation."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bangerd: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("bangerd %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (verbose)
    g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);

  /* Everything bangerd creates is the user's alone. */
  umask (077);
  banger_log_init ();
  banger_error_quark ();

  loop = g_main_loop_new (NULL, FALSE);
  config_path = g_build_filename (g_get_user_config_dir (), "banger", "config", NULL);
  state_dir = g_build_filename (g_get_user_state_dir (), "banger", NULL);

  m.loop = loop;
  store = open_store (state_dir, &m.store_error);
  if (store != NULL)
    m.daemon = daemon_new (store, config_path, state_dir, loop);

  g_unix_signal_add (SIGTERM, on_signal, &m);
  g_unix_signal_add (SIGINT, on_signal, &m);

  owner_id = g_bus_own_name (G_BUS_TYPE_SESSION, DAEMON_BUS_NAME,
                             G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
                             (replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : 0),
                             on_bus_acquired, on_name_acquired, on_name_lost,
                             &m, NULL);
  g_main_loop_run (loop);

  g_bus_unown_name (owner_id);
  if (m.daemon != NULL && m.daemon->connection != NULL)
    g_dbus_connection_flush_sync (m.daemon->connection, NULL, NULL);
  g_clear_pointer (&m.degraded, degraded_free);
  g_clear_pointer (&m.daemon, daemon_free);
  g_clear_error (&m.store_error);
  return m.exit_status;
}
