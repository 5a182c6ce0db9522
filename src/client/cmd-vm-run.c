/* cmd-vm-run.c: 'banger vm run': create a VM, start it, run one command
 * in it and, with --rm, delete it again whatever happened on the way. */
#define G_LOG_DOMAIN "banger-client-vm-run"

#include "config.h"

#include <signal.h>
#include <stdio.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-names.h"
#include "cmd-vm.h"
#include "command.h"
#include "daemon-connection.h"

/* How much of the console a failed start under --rm shows. */
#define CONSOLE_TAIL_LINES 25

/* Deleting removes the VM's disk; as for 'banger vm delete'. */
#define DELETE_CALL_TIMEOUT_MSEC (5 * 60 * 1000)
#define NAME_ATTEMPTS            5

/* Monotonic times in µs of where a run is; 0 = not reached. */
typedef struct {
  gint64 create;
  gint64 start;
  gint64 agent;      /* the start's job reached its "agent" step */
  gint64 exec;
  gint64 teardown;
  gint64 end;
} RunTimes;

static void
on_step_changed (BangerJob1 *job,
                 gpointer    user_data)
{
  RunTimes *times = user_data;

  if (times->agent == 0 && g_strcmp0 (banger_job1_get_step (job), "agent") == 0)
    times->agent = g_get_monotonic_time ();
}

/* While a blocking call runs: remember Ctrl-C or SIGTERM for afterwards
 * rather than dying with a VM left behind. */
static gboolean
on_interrupt_noted (gpointer user_data)
{
  gboolean *interrupted = user_data;

  *interrupted = TRUE;
  return G_SOURCE_CONTINUE;
}

static void
print_phase (const char *label,
             gint64      from,
             gint64      to)
{
  if (from != 0 && to != 0)
    fprintf (stderr, "  %-14s %8.3f s\n", label, (to - from) / 1e6);
  else
    fprintf (stderr, "  %-14s %8s\n", label, "-");
}

static void
print_timings (const char     *name,
               const RunTimes *t)
{
  fprintf (stderr, _("banger: timings of VM “%s”:\n"), name);
  print_phase (_("host setup"), t->create, t->start);
  /* Without an "agent" step (an older bangerd) the whole start counts as
   * VMM start. */
  print_phase (_("vmm start"), t->start, t->agent != 0 ? t->agent : t->exec);
  print_phase (_("boot to agent"), t->agent, t->agent != 0 ? t->exec : 0);
  print_phase (_("command"), t->exec, t->teardown);
  print_phase (_("teardown"), t->teardown, t->end);
  print_phase (_("total"), t->create, t->end != 0 ? t->end : t->teardown);
}

static char *
random_name (void)
{
  static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  char suffix[7];

  for (guint i = 0; i < 6; i++)
    suffix[i] = chars[g_random_int_range (0, sizeof chars - 1)];
  suffix[6] = '\0';
  return g_strconcat ("run-", suffix, NULL);
}

/* CreateVM under a name we pick or were given; NULL after printing why. */
static char *
create_vm (BangerDaemon             *daemon,
           char                    **name,
           gboolean                  name_given,
           const BangerVmCreateArgs *args)
{
  for (guint attempt = 0; ; attempt++)
    {
      g_autoptr(GError) error = NULL;
      char *path = banger_vm_create_call (daemon, *name, args, &error);

      if (path != NULL)
        return path;
      if (name_given || attempt + 1 >= NAME_ATTEMPTS ||
          !g_error_matches (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS))
        {
          banger_vm_fail (error, *name);
          return NULL;
        }
      g_free (*name);
      *name = random_name ();
    }
}

static int
delete_vm (BangerVM1  *vm,
           const char *name)
{
  g_autoptr(GError) error = NULL;
  g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  g_variant_builder_add (&options, "{sv}", "Force", g_variant_new_boolean (TRUE));
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (vm), DELETE_CALL_TIMEOUT_MSEC);
  if (!banger_vm1_call_delete_sync (vm, g_variant_builder_end (&options), NULL, &error))
    {
      banger_error_explain (error);
      fprintf (stderr, _("banger: Could not delete VM “%s”: %s\n"), name, error->message);
      return BANGER_EXIT_FAILED;
    }
  return BANGER_EXIT_OK;
}

int
banger_vm_run_run (const BangerCommandGroup *group,
                   const BangerCommand      *command,
                   int                       argc,
                   char                    **argv)
{
  BangerVmCreateArgs create = { 0 };
  g_autofree char *name = NULL;
  g_auto(GStrv) env = NULL;
  g_autofree char *cwd = NULL;
  gboolean rm = FALSE;
  gboolean timings = FALSE;
  const GOptionEntry options[] = {
    { "rm", 0, 0, G_OPTION_ARG_NONE, &rm, N_("Delete the VM afterwards, also after a failure"), NULL },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_("Name of the VM (default run-XXXXXX)"), N_("NAME") },
    { "image", 0, 0, G_OPTION_ARG_FILENAME, &create.image, N_("Read-only ext4 root image to boot"), N_("PATH") },
    { "kernel", 0, 0, G_OPTION_ARG_FILENAME, &create.kernel, N_("Uncompressed vmlinux kernel to boot"), N_("PATH") },
    { "vmm", 0, 0, G_OPTION_ARG_STRING, &create.vmm, N_("VMM that runs the VM, as for 'banger vm create'"), N_("VMM") },
    { "vcpus", 0, 0, G_OPTION_ARG_STRING, &create.vcpus_text, N_("Number of virtual CPUs"), N_("N") },
    { "memory", 0, 0, G_OPTION_ARG_STRING, &create.memory_text, N_("Guest memory, whole MiB: 512M, 2G"), N_("SIZE") },
    { "disk", 0, 0, G_OPTION_ARG_STRING, &create.disk_text, N_("Size of the writable disk: 8G"), N_("SIZE") },
    { "nat", 0, 0, G_OPTION_ARG_NONE, &create.nat, N_("Let the VM reach the outside through the host (NAT)"), NULL },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env,
      N_("Set a variable in the command's environment (repeatable)"), N_("NAME=VALUE") },
    { "cwd", 0, 0, G_OPTION_ARG_STRING, &cwd, N_("Directory to run the command in (default /root)"), N_("DIR") },
    { "timings", 0, 0, G_OPTION_ARG_NONE, &timings, N_("Print how long each phase took to standard error"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerVM1) vm = NULL;
  g_autoptr(GPtrArray) words = g_ptr_array_new ();
  g_autofree char *path = NULL;
  RunTimes times = { 0 };
  gboolean interrupted = FALSE;
  guint sigint_id, sigterm_id;
  int split = banger_split_command (argc, argv);
  int status;

  if (split > 0)
    {
      for (int i = split; i < argc; i++)
        g_ptr_array_add (words, argv[i]);
      argc = split - 1;
      status = banger_command_parse (group, command, options, &argc, &argv, 0, 0, &status) ? -1 : status;
    }
  else
    {
      status = banger_command_parse (group, command, options, &argc, &argv, 0, G_MAXUINT, &status) ? -1 : status;
      for (int i = 1; status < 0 && i < argc; i++)
        g_ptr_array_add (words, argv[i]);
    }
  if (status < 0 && words->len == 0)
    status = banger_usage_error (group, command, "%s", _("No command given; put it after '--'"));
  if (status < 0 && name != NULL && !banger_vm_name_validate (name, &error))
    status = banger_fail (error);
  if (status >= 0)
    goto out;
  g_ptr_array_add (words, NULL);

  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    {
      status = banger_fail (error);
      goto out;
    }

  /* Until the start takes over Ctrl-C, and again for the teardown. */
  sigint_id = g_unix_signal_add (SIGINT, on_interrupt_noted, &interrupted);
  sigterm_id = g_unix_signal_add (SIGTERM, on_interrupt_noted, &interrupted);

  times.create = g_get_monotonic_time ();
  {
    gboolean name_given = name != NULL;

    if (name == NULL)
      name = random_name ();
    path = create_vm (daemon, &name, name_given, &create);
  }
  times.start = g_get_monotonic_time ();
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (path != NULL)
    vm = banger_daemon_load_vm (daemon, path, &error);
  if (path == NULL || vm == NULL)
    {
      status = path == NULL ? BANGER_EXIT_FAILED : banger_fail (error);
      goto teardown;
    }
  if (interrupted)
    {
      status = BANGER_EXIT_INTERRUPTED;
      goto teardown;
    }

  /* The start handles Ctrl-C itself (it cancels the job); ours still
   * notes it, so a start that finished regardless runs no command. */
  status = banger_vm_start_call (daemon, vm, name, on_step_changed, &times);
  if (status == BANGER_EXIT_OK && interrupted)
    status = BANGER_EXIT_INTERRUPTED;
  /* The error says to read the console log, which --rm is about to
   * delete: show its end now. */
  if (status == BANGER_EXIT_FAILED && rm)
    banger_vm_print_console_tail (vm, name, CONSOLE_TAIL_LINES);
  if (status == BANGER_EXIT_OK)
    {
      g_source_remove (sigint_id);
      g_source_remove (sigterm_id);
      times.exec = g_get_monotonic_time ();
      status = banger_vm_exec_command (vm, name, (const char *const *) words->pdata,
                                       (const char *const *) env, cwd);
      sigint_id = g_unix_signal_add (SIGINT, on_interrupt_noted, &interrupted);
      sigterm_id = g_unix_signal_add (SIGTERM, on_interrupt_noted, &interrupted);
    }

teardown:
  times.teardown = g_get_monotonic_time ();
  if (rm && vm != NULL)
    {
      if (delete_vm (vm, name) != BANGER_EXIT_OK && status == BANGER_EXIT_OK)
        status = BANGER_EXIT_FAILED;
      times.end = g_get_monotonic_time ();
    }
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  if (timings)
    print_timings (name, &times);

out:
  g_free (create.image);
  g_free (create.kernel);
  g_free (create.vmm);
  g_free (create.vcpus_text);
  g_free (create.memory_text);
  g_free (create.disk_text);
  return status;
}
