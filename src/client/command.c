/* command.c: dispatch from a group's table to a command's handler, and the
 * help, option parsing and error reporting that all commands share. */
#define G_LOG_DOMAIN "banger-client-command"

#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "command.h"

const BangerCommand *
banger_group_find (const BangerCommandGroup *group,
                   const char               *name)
{
  for (const BangerCommand *c = group->commands; c->name != NULL; c++)
    if (g_strcmp0 (c->name, name) == 0)
      return c;
  return NULL;
}

void
banger_group_print_help (const BangerCommandGroup *group,
                         FILE                     *stream)
{
  int width = 0;

  for (const BangerCommand *c = group->commands; c->name != NULL; c++)
    width = MAX (width, (int) strlen (c->name));

  fprintf (stream, _("Usage: banger %s COMMAND [OPTION…]\n"), group->name);
  fputc ('\n', stream);
  /* Descriptions carry their own line breaks. */
  fprintf (stream, "%s\n", _(group->description));
  fputc ('\n', stream);
  fprintf (stream, "%s\n", _("Commands:"));
  for (const BangerCommand *c = group->commands; c->name != NULL; c++)
    fprintf (stream, "  %-*s  %s\n", width, c->name, _(c->summary));
  fputc ('\n', stream);
  fprintf (stream, _("Run 'banger %s COMMAND --help' for a command's options.\n"),
           group->name);
}

static char *
option_label (const GOptionEntry *entry)
{
  g_autoptr(GString) label = g_string_new (NULL);

  if (entry->short_name != '\0')
    g_string_append_printf (label, "-%c, ", entry->short_name);
  else
    g_string_append (label, "    ");
  g_string_append_printf (label, "--%s", entry->long_name);
  if (entry->arg != G_OPTION_ARG_NONE && entry->arg_description != NULL)
    g_string_append_printf (label, "=%s", _(entry->arg_description));
  return g_string_free (g_steal_pointer (&label), FALSE);
}

static void
print_options (FILE               *stream,
               const GOptionEntry *options)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();
  int width = 0;

  for (const GOptionEntry *e = options; e != NULL && e->long_name != NULL; e++)
    {
      g_ptr_array_add (labels, option_label (e));
      g_ptr_array_add (texts, (gpointer) _(e->description));
    }
  g_ptr_array_add (labels, g_strdup ("-h, --help"));
  g_ptr_array_add (texts, (gpointer) _("Show this help and exit"));

  for (guint i = 0; i < labels->len; i++)
    width = MAX (width, (int) g_utf8_strlen (labels->pdata[i], -1));

  fprintf (stream, "%s\n", _("Options:"));
  for (guint i = 0; i < labels->len; i++)
    {
      const char *label = labels->pdata[i];
      int pad = width - (int) g_utf8_strlen (label, -1);

      fprintf (stream, "  %s%*s  %s\n", label, pad, "", (const char *) texts->pdata[i]);
    }
}

static void
command_print_help (const BangerCommandGroup *group,
                    const BangerCommand      *command,
                    const GOptionEntry       *options,
                    FILE                     *stream)
{
  /* Options first: after a "--" in the arguments nothing is an option. */
  fprintf (stream, _("Usage: banger %s %s [OPTION…]%s%s\n"),
           group->name, command->name,
           command->arguments ? " " : "",
           command->arguments ? _(command->arguments) : "");
  fputc ('\n', stream);
  fprintf (stream, "%s\n", _(command->description));
  fputc ('\n', stream);
  print_options (stream, options);
}

int
banger_group_dispatch (const BangerCommandGroup *group,
                       int                       argc,
                       char                    **argv)
{
  const BangerCommand *command;

  /* argv[0] is the group's name. */
  if (argc < 2)
    return banger_usage_error (group, NULL, _("'banger %s' needs a command"), group->name);

  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      banger_group_print_help (group, stdout);
      return BANGER_EXIT_OK;
    }
  if (argv[1][0] == '-')
    return banger_usage_error (group, NULL, _("Unknown option “%s” for 'banger %s'"),
                               argv[1], group->name);

  command = banger_group_find (group, argv[1]);
  if (command == NULL)
    return banger_usage_error (group, NULL, _("Unknown command “%s” for 'banger %s'"),
                               argv[1], group->name);

  return command->run (group, command, argc - 1, argv + 1);
}

gboolean
banger_command_parse (const BangerCommandGroup *group,
                      const BangerCommand      *command,
                      const GOptionEntry       *options,
                      int                      *argc,
                      char                   ***argv,
                      guint                     min_args,
                      guint                     max_args,
                      int                      *exit_status)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GArray) entries = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));
  g_autoptr(GError) error = NULL;
  gboolean help = FALSE;
  const GOptionEntry help_entry = { "help", 'h', 0, G_OPTION_ARG_NONE, &help, NULL, NULL };
  guint n_args;

  for (const GOptionEntry *e = options; e != NULL && e->long_name != NULL; e++)
    g_array_append_val (entries, *e);
  g_array_append_val (entries, help_entry);

  /* Help and errors are ours so they look the same at every level. */
  g_option_context_set_help_enabled (context, FALSE);
  g_option_context_add_main_entries (context, (const GOptionEntry *) entries->data, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *exit_status = banger_usage_error (group, command, "%s", error->message);
      return FALSE;
    }

  if (help)
    {
      command_print_help (group, command, options, stdout);
      *exit_status = BANGER_EXIT_OK;
      return FALSE;
    }

  /* Drop a "--" separator if GOption left it; operands never start with
   * '-' (VM names cannot), so anything else that does is a typo. */
  n_args = 0;
  for (int i = 1; i < *argc; i++)
    {
      char *arg = (*argv)[i];

      if (g_str_equal (arg, "--"))
        continue;
      if (arg[0] == '-' && arg[1] != '\0')
        {
          *exit_status = banger_usage_error (group, command, _("Unknown option “%s”"), arg);
          return FALSE;
        }
      (*argv)[++n_args] = arg;
    }
  *argc = (int) n_args + 1;

  if (n_args < min_args)
    {
      *exit_status = banger_usage_error (group, command, _("'banger %s %s' needs %s"),
                                         group->name, command->name, _(command->arguments));
      return FALSE;
    }
  if (n_args > max_args)
    {
      *exit_status = banger_usage_error (group, command, _("Unexpected argument “%s”"),
                                         (*argv)[1 + max_args]);
      return FALSE;
    }

  *exit_status = BANGER_EXIT_OK;
  return TRUE;
}

int
banger_usage_error (const BangerCommandGroup *group,
                    const BangerCommand      *command,
                    const char               *format,
                    ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  fprintf (stderr, "banger: %s\n", message);
  if (group != NULL && command != NULL)
    fprintf (stderr, _("Try 'banger %s %s --help'.\n"), group->name, command->name);
  else if (group != NULL)
    fprintf (stderr, _("Try 'banger %s --help'.\n"), group->name);
  else
    fprintf (stderr, "%s\n", _("Try 'banger --help'."));
  return BANGER_EXIT_USAGE;
}

int
banger_fail (const GError *error)
{
  fprintf (stderr, "banger: %s\n", error->message);
  return BANGER_EXIT_FAILED;
}
