/* main.c: the banger command's entry point: locale set-up, the top-level
 * table of command groups, --help, --version and 'banger help …'. */
#define G_LOG_DOMAIN "banger-client"

#include "config.h"

#include <locale.h>
#include <stdio.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "command.h"
#include "daemon-connection.h"

static const BangerCommandGroup *const groups[] = {
  &banger_vm_group,
  &banger_image_group,
  &banger_kernel_group,
  &banger_daemon_group,
};

static const BangerCommandGroup *
find_group (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (groups); i++)
    if (g_strcmp0 (groups[i]->name, name) == 0)
      return groups[i];
  return NULL;
}

static void
print_help (FILE *stream)
{
  fprintf (stream, "%s\n\n", _("Usage: banger [--version] [--help] COMMAND …"));
  fprintf (stream, "%s\n\n", _("banger makes throwaway Linux micro-VMs. It asks its daemon, bangerd,\n"
                               "to do the work; bangerd is started on demand over D-Bus."));
  fprintf (stream, "%s\n", _("Commands:"));
  for (gsize i = 0; i < G_N_ELEMENTS (groups); i++)
    fprintf (stream, "  %-8s %s\n", groups[i]->name, _(groups[i]->summary));
  fprintf (stream, "  %-8s %s\n", "help", _("Show help for a command, e.g. 'banger help vm create'"));
  fputc ('\n', stream);
  fprintf (stream, "%s\n", _("Options:"));
  fprintf (stream, "  %-12s %s\n", "--version", _("Show banger's version, and bangerd's if it is running"));
  fprintf (stream, "  %-12s %s\n", "-h, --help", _("Show this help and exit"));
  fputc ('\n', stream);
  fprintf (stream, "%s\n", _("Run 'banger COMMAND --help' for a command's own commands and options."));
}

/* Never starts bangerd: --version must be safe to run anywhere, even
 * without a session bus, so any failure just leaves the line out. Only
 * the Version property is read, so a bangerd that is otherwise unwell
 * still tells its version. */
static int
print_version (void)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *owner = NULL;

  printf ("banger %s\n", PACKAGE_VERSION);

  bus = banger_session_bus (NULL);
  if (bus != NULL)
    owner = banger_daemon_get_owner (bus, NULL);
  if (owner != NULL)
    reply = g_dbus_connection_call_sync (bus, owner, BANGER_DAEMON_PATH,
                                         "org.freedesktop.DBus.Properties", "Get",
                                         g_variant_new ("(ss)", "dev.banger.Manager1", "Version"),
                                         G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                         -1, NULL, NULL);
  if (reply != NULL)
    {
      g_autoptr(GVariant) version = NULL;

      g_variant_get (reply, "(v)", &version);
      if (g_variant_is_of_type (version, G_VARIANT_TYPE_STRING))
        /* Translators: shown by 'banger --version' under banger's own version. */
        printf (_("bangerd %s (running)\n"), g_variant_get_string (version, NULL));
    }
  return BANGER_EXIT_OK;
}

/* 'banger help [GROUP [COMMAND]]' is the same as adding --help. */
static int
run_help (int    argc,
          char **argv)
{
  const BangerCommandGroup *group;
  const BangerCommand *command;
  char *help_argv[] = { NULL, (char *) "--help", NULL };

  if (argc < 2)
    {
      print_help (stdout);
      return BANGER_EXIT_OK;
    }

  group = find_group (argv[1]);
  if (group == NULL)
    return banger_usage_error (NULL, NULL, _("No help for “%s”: there is no such command"), argv[1]);
  if (argc < 3)
    {
      banger_group_print_help (group, stdout);
      return BANGER_EXIT_OK;
    }
  if (argc > 3)
    return banger_usage_error (NULL, NULL, _("Unexpected argument “%s”"), argv[3]);

  command = banger_group_find (group, argv[2]);
  if (command == NULL)
    return banger_usage_error (group, NULL, _("No help for “%s %s”: there is no such command"),
                               argv[1], argv[2]);
  help_argv[0] = (char *) command->name;
  return command->run (group, command, 2, help_argv);
}

int
main (int    argc,
      char **argv)
{
  const BangerCommandGroup *group;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("banger");

  /* Before any D-Bus call, so remote dev.banger.Error.* names come back
   * as BANGER_ERROR codes. */
  (void) banger_error_quark ();

  if (argc < 2)
    return banger_usage_error (NULL, NULL, "%s", _("A command is needed, e.g. 'banger vm list'"));

  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      print_help (stdout);
      return BANGER_EXIT_OK;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      if (argc > 2)
        return banger_usage_error (NULL, NULL, _("Unexpected argument “%s”"), argv[2]);
      return print_version ();
    }
  if (g_str_equal (argv[1], "help"))
    return run_help (argc - 1, argv + 1);
  if (argv[1][0] == '-')
    return banger_usage_error (NULL, NULL, _("Unknown option “%s”"), argv[1]);

  group = find_group (argv[1]);
  if (group == NULL)
    return banger_usage_error (NULL, NULL, _("Unknown command “%s”"), argv[1]);

  return banger_group_dispatch (group, argc - 1, argv + 1);
}
