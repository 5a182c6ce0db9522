/* main.c: banger-helper's entry point: options, the dev.banger.Helper1 name
 * on the system bus, the main loop, and a clean exit when idle. */
#define G_LOG_DOMAIN "banger-helper-main"

#include "config.h"

#include <locale.h>
#include <stdlib.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "banger-log.h"

#include "authz.h"
#include "helper-config.h"
#include "helper-methods.h"
#include "idle.h"

#define HELPER_BUS_NAME    "dev.banger.Helper1"
#define HELPER_OBJECT_PATH "/dev/banger/Helper1"

/* After releasing the name, how long to wait for calls already on their
 * way before exiting; re-armed by every call that arrives meanwhile. */
#define HELPER_GRACE_MS    1000

/* An idle timeout beyond a day is a typo, and keeps the ms count in range. */
#define HELPER_MAX_IDLE_S  86400

typedef struct {
  GMainLoop       *loop;
  BangerHelper1   *skeleton;
  GDBusConnection *connection;
  guint            owner_id;
  gboolean         name_acquired;
  int              exit_status;
} Helper;

static void
helper_quit (Helper *helper,
             int     exit_status)
{
  helper->exit_status = exit_status;
  g_main_loop_quit (helper->loop);
}

static void
on_idle_release_name (gpointer user_data)
{
  Helper *helper = user_data;

  g_clear_handle_id (&helper->owner_id, g_bus_unown_name);
}

static void
on_idle_quit (gpointer user_data)
{
  helper_quit (user_data, EXIT_SUCCESS);
}

static void
on_bus_acquired (GDBusConnection *connection,
                 const char      *name,
                 gpointer         user_data)
{
  Helper *helper = user_data;
  g_autoptr(GError) error = NULL;

  helper->connection = g_object_ref (connection);
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (helper->skeleton),
                                         connection, HELPER_OBJECT_PATH, &error))
    {
      g_warning ("cannot export %s: %s", HELPER_OBJECT_PATH, error->message);
      helper_quit (helper, EXIT_FAILURE);
    }
}

static void
on_name_acquired (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  Helper *helper = user_data;

  helper->name_acquired = TRUE;
  g_debug ("serving %s", name);
}

static void
on_name_lost (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  Helper *helper = user_data;

  if (connection == NULL)
    g_warning ("cannot connect to the system bus; is dbus-daemon running?");
  else if (helper->name_acquired)
    g_warning ("lost the name %s; exiting", name);
  else
    g_warning ("cannot own %s: another banger-helper owns it, or the bus "
               "policy (dev.banger.Helper1.conf) does not let this user "
               "own it (only root may)", name);
  helper_quit (helper, EXIT_FAILURE);
}

static gboolean
on_signal (gpointer user_data)
{
  Helper *helper = user_data;

  g_message ("asked to stop; finishing calls in flight");
  helper_quit (helper, EXIT_SUCCESS);
  return G_SOURCE_CONTINUE;
}

typedef struct {
  guint    idle_timeout;
  gboolean version;
  char    *config_path;
} Options;

static gboolean
parse_options (int       *argc,
               char    ***argv,
               Options   *options,
               GError   **error)
{
  gint idle_timeout = 30;
  gboolean verbose = FALSE;
  gboolean version = FALSE;
  g_autofree char *config_path = NULL;
  const GOptionEntry entries[] = {
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_path,
      N_("Read the configuration from FILE instead of /etc/banger/helper.conf"),
      N_("FILE") },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout,
      N_("Exit after SECONDS without calls (default 30; 0: never)"),
      N_("SECONDS") },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      N_("Log debug messages"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      N_("Print the version and exit"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _("banger’s privileged helper. Started by D-Bus "
                                  "activation on the system bus as "
                                  "dev.banger.Helper1; not meant to be run by hand."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (verbose)
    g_log_set_debug_enabled (TRUE);
  if (idle_timeout < 0 || idle_timeout > HELPER_MAX_IDLE_S)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--idle-timeout must be between 0 and %d seconds, not %d"),
                   HELPER_MAX_IDLE_S, idle_timeout);
      return FALSE;
    }
  options->idle_timeout = (guint) idle_timeout;
  options->version = version;
  options->config_path = config_path != NULL ? g_steal_pointer (&config_path)
                                             : g_strdup (HELPER_CONFIG_DEFAULT_PATH);
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  Helper helper = { 0 };
  g_autoptr(HelperIdle) idle = NULL;
  g_autoptr(HelperAuthz) authz = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HelperConfig) config = NULL;
  Options options = { 0 };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("banger-helper");
  banger_log_init ();

  if (!parse_options (&argc, &argv, &options, &error))
    {
      g_printerr ("banger-helper: %s\n", error->message);
      g_printerr (_("Run “%s --help” to see the options.\n"), argv[0]);
      return EXIT_FAILURE;
    }
  if (options.version)
    {
      g_print ("banger-helper %s\n", PACKAGE_VERSION);
      g_free (options.config_path);
      return EXIT_SUCCESS;
    }

  /* Read once, before the bus: a bad file fails activation loudly rather
   * than one call at a time. */
  config = helper_config_load (options.config_path, &error);
  g_free (options.config_path);
  if (config == NULL)
    {
      g_printerr ("banger-helper: %s\n", error->message);
      return EXIT_FAILURE;
    }
  helper_config_set_global (g_steal_pointer (&config));

  loop = g_main_loop_new (NULL, FALSE);
  helper.loop = loop;
  idle = helper_idle_new (options.idle_timeout * 1000, HELPER_GRACE_MS,
                          on_idle_release_name, on_idle_quit, &helper);
  authz = helper_authz_new (idle);

  helper.skeleton = banger_helper1_skeleton_new ();
  helper_authz_attach (authz, G_DBUS_INTERFACE_SKELETON (helper.skeleton));
  helper_methods_connect (helper.skeleton);

  g_unix_signal_add (SIGTERM, on_signal, &helper);
  g_unix_signal_add (SIGINT, on_signal, &helper);

  helper.owner_id = g_bus_own_name (G_BUS_TYPE_SYSTEM, HELPER_BUS_NAME,
                                    G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                    on_bus_acquired, on_name_acquired,
                                    on_name_lost, &helper, NULL);
  /* Idle time counts from start-up: the activating call, if any, arrives
   * right after the name is ours and holds the helper from then on. */
  helper_idle_start (idle);

  g_main_loop_run (loop);

  g_clear_handle_id (&helper.owner_id, g_bus_unown_name);
  helper_idle_drain (idle, G_DBUS_INTERFACE_SKELETON (g_steal_pointer (&helper.skeleton)));
  /* Replies are written by GDBus's own thread; make sure they left. */
  if (helper.connection != NULL &&
      !g_dbus_connection_flush_sync (helper.connection, NULL, &error))
    g_debug ("flushing the bus connection: %s", error->message);
  g_clear_object (&helper.connection);
  helper_config_set_global (NULL);

  return helper.exit_status;
}
