/* cmd-vm-power.c: 'banger vm start|stop|restart': VM1.Start/Stop/Restart,
 * with the start's Job1 shown as a progress bar and Ctrl-C as Cancel. */
#define G_LOG_DOMAIN "banger-client-vm-power"

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-names.h"
#include "cmd-vm.h"
#include "command.h"
#include "daemon-connection.h"
#include "job-watch.h"
#include "output.h"
#include "values.h"

/* Start and stop wait for the guest (a boot, a shutdown of up to an hour
 * when asked); Ctrl-C is the way out, not a call timeout. */
#define POWER_CALL_TIMEOUT_MSEC G_MAXINT

typedef void     (*PowerCall)       (BangerVM1           *proxy,
                                     GVariant            *options,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);
typedef gboolean (*PowerCallFinish) (BangerVM1           *proxy,
                                     GAsyncResult        *result,
                                     GError             **error);

/* One Start or Restart call in flight, and what the user sees of it. */
typedef struct {
  const char     *name;
  char           *label;          /* "Starting web" */
  PowerCallFinish finish;
  GMainLoop      *loop;
  BangerJobWatch *watch;
  gboolean        show_progress;  /* stderr is a terminal */
  gboolean        line_shown;
  gboolean        cancel_requested;
  gboolean        cancel_sent;
  gboolean        abandoned;      /* a second Ctrl-C: stop waiting */
  gboolean        done;
  GError         *error;
  GCancellable   *cancel_call;    /* of our Job1.Cancel, when it outlives us */
  BangerJobWatchFunc observer;    /* may be NULL */
  gpointer        observer_data;
} PowerRun;

static guint
terminal_columns (void)
{
  struct winsize size;

  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    return size.ws_col;
  return 80;
}

static void
clear_progress (PowerRun *run)
{
  if (!run->line_shown)
    return;
  /* Back to the start of the line, then erase to its end. */
  fputs ("\r\033[K", stderr);
  fflush (stderr);
  run->line_shown = FALSE;
}

static void
on_cancel_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  PowerRun *run;
  g_autoptr(GError) error = NULL;

  if (banger_job1_call_cancel_finish (BANGER_JOB1 (source), result, &error))
    return;
  /* Cancelled when run_power_call() returned: @user_data is gone. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  run = user_data;
  /* The job ended just before the Cancel reached it: the call's reply
   * says how it went, so there is nothing to add. */
  if (run->done || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
    return;
  banger_error_explain (error);
  if (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED))
    fprintf (stderr, "%s\n", _("banger: This step cannot be cancelled; waiting for it to finish."));
  else
    fprintf (stderr, _("banger: Could not cancel: %s\n"), error->message);
}

static void
send_cancel (PowerRun *run)
{
  BangerJob1 *job = banger_job_watch_get_job (run->watch);

  if (run->cancel_sent || job == NULL)
    return;
  run->cancel_sent = TRUE;
  banger_job1_call_cancel (job, run->cancel_call, on_cancel_done, run);
}

static void
on_job_changed (BangerJob1 *job,
                gpointer    user_data)
{
  PowerRun *run = user_data;
  g_autofree char *line = NULL;

  if (run->observer != NULL)
    run->observer (job, run->observer_data);
  /* Ctrl-C came before the job was announced. */
  if (run->cancel_requested)
    {
      send_cancel (run);
      return;
    }
  if (!run->show_progress)
    return;

  line = banger_format_progress (run->label, banger_job1_get_progress (job),
                                 banger_job1_get_step_description (job),
                                 terminal_columns () - 1);
  fprintf (stderr, "\r%s\033[K", line);
  fflush (stderr);
  run->line_shown = TRUE;
}

static gboolean
on_sigint (gpointer user_data)
{
  PowerRun *run = user_data;

  clear_progress (run);
  if (run->cancel_requested)
    {
      /* bangerd cancels a job whose caller leaves the bus, so leaving
       * still rolls the start back; we just do not wait to see it. */
      fprintf (stderr, _("banger: Not waiting any longer; bangerd goes on undoing the start of “%s”.\n"),
               run->name);
      run->abandoned = TRUE;
      g_main_loop_quit (run->loop);
      return G_SOURCE_CONTINUE;
    }

  run->cancel_requested = TRUE;
  fprintf (stderr, _("banger: Cancelling the start of VM “%s”; waiting for bangerd to undo it "
                     "(press Ctrl-C again to stop waiting)…\n"), run->name);
  send_cancel (run);
  return G_SOURCE_CONTINUE;
}

static void
on_call_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  PowerRun *run = user_data;

  run->finish (BANGER_VM1 (source), result, &run->error);
  run->done = TRUE;
  g_main_loop_quit (run->loop);
}

/* Calls Start or Restart and runs the main loop until it returns, so the
 * job's signals and Ctrl-C are handled meanwhile. Returns the exit
 * status; on success the caller prints the result. */
static int
run_power_call (BangerDaemon *daemon,
                BangerVM1    *vm,
                const char   *name,
                const char   *label,
                PowerCall     call,
                PowerCallFinish finish,
                GVariant     *options,
                BangerJobWatchFunc observer,
                gpointer      observer_data)
{
  PowerRun run = { 0 };
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(BangerJobWatch) watch = NULL;
  g_autoptr(GCancellable) cancel_call = g_cancellable_new ();
  guint sigint_id;

  run.name = name;
  run.label = g_strdup (label);
  run.finish = finish;
  run.loop = loop;
  run.show_progress = isatty (STDERR_FILENO);
  run.cancel_call = cancel_call;
  run.observer = observer;
  run.observer_data = observer_data;

  /* Watch before calling, so the job's InterfacesAdded cannot be missed. */
  watch = banger_job_watch_new (daemon->objects,
                                g_dbus_proxy_get_object_path (G_DBUS_PROXY (vm)),
                                on_job_changed, &run);
  run.watch = watch;
  sigint_id = g_unix_signal_add (SIGINT, on_sigint, &run);

  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (vm), POWER_CALL_TIMEOUT_MSEC);
  call (vm, options, NULL, on_call_done, &run);
  g_main_loop_run (loop);

  g_source_remove (sigint_id);
  g_cancellable_cancel (cancel_call);
  clear_progress (&run);
  g_free (run.label);

  if (run.abandoned)
    return BANGER_EXIT_INTERRUPTED;

  if (run.error != NULL)
    {
      g_autoptr(GError) error = g_steal_pointer (&run.error);

      if (run.cancel_requested)
        {
          banger_error_explain (error);
          fprintf (stderr, "banger: %s\n", error->message);
          return BANGER_EXIT_INTERRUPTED;
        }
      return banger_vm_fail (error, name);
    }

  if (run.cancel_requested)
    fprintf (stderr, _("banger: The start of “%s” finished before it could be cancelled.\n"), name);
  return BANGER_EXIT_OK;
}

/* Looks the VM up; NULL after printing the error. */
static BangerVM1 *
find_vm (BangerDaemon **out_daemon,
         const char    *name,
         int           *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  BangerVM1 *vm;

  if (!banger_vm_name_validate (name, &error))
    {
      *status = banger_fail (error);
      return NULL;
    }
  daemon = banger_daemon_connect (&error);
  if (daemon == NULL)
    {
      *status = banger_fail (error);
      return NULL;
    }
  vm = banger_daemon_find_vm (daemon, name, &error);
  if (vm == NULL)
    {
      *status = banger_fail (error);
      return NULL;
    }
  *out_daemon = g_steal_pointer (&daemon);
  return vm;
}

int
banger_vm_start_run (const BangerCommandGroup *group,
                     const BangerCommand      *command,
                     int                       argc,
                     char                    **argv)
{
  gboolean json = FALSE;
  const GOptionEntry options[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the running VM as JSON"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerVM1) vm = NULL;
  g_autoptr(BangerVM1) updated = NULL;
  g_autoptr(BangerVmInfo) info = NULL;
  g_autofree char *label = NULL;
  const char *name;
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 1, 1, &status))
    return status;
  name = argv[1];
  vm = find_vm (&daemon, name, &status);
  if (vm == NULL)
    return status;

  /* Translators: before the progress bar of 'banger vm start', e.g. "Starting web". */
  label = g_strdup_printf (_("Starting %s"), name);
  status = run_power_call (daemon, vm, name, label, banger_vm1_call_start,
                           banger_vm1_call_start_finish, g_variant_new ("a{sv}", NULL),
                           NULL, NULL);
  if (status != BANGER_EXIT_OK)
    return status;

  /* Read the VM afresh: its address and state as they are now. */
  updated = banger_daemon_load_vm (daemon, g_dbus_proxy_get_object_path (G_DBUS_PROXY (vm)), &error);
  if (updated == NULL)
    return banger_fail (error);
  info = banger_vm_info_from_proxy (updated);

  if (json)
    {
      g_autoptr(JsonNode) node = banger_vm_info_to_json (info);
      banger_json_print (node);
    }
  else
    {
      g_autofree char *address = banger_ipv4_address (info->ipv4);

      if (*address != '\0')
        printf (_("Started VM “%s” (%s).\n"), info->name, address);
      else
        printf (_("Started VM “%s”.\n"), info->name);
    }
  return BANGER_EXIT_OK;
}

int
banger_vm_start_call (BangerDaemon       *daemon,
                      BangerVM1          *vm,
                      const char         *name,
                      BangerJobWatchFunc  step_changed,
                      gpointer            user_data)
{
  g_autofree char *label = g_strdup_printf (_("Starting %s"), name);

  return run_power_call (daemon, vm, name, label, banger_vm1_call_start,
                         banger_vm1_call_start_finish, g_variant_new ("a{sv}", NULL),
                         step_changed, user_data);
}

/* Stop and Restart take the same options. */
typedef struct {
  char     *timeout_text;
  gboolean  force;
} StopOptions;

static GVariant *
stop_options_build (const StopOptions  *options,
                    GError            **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  guint timeout;

  if (options->timeout_text != NULL)
    {
      if (!banger_parse_timeout (options->timeout_text, &timeout, error))
        return NULL;
      g_variant_builder_add (&builder, "{sv}", "Timeout", g_variant_new_uint32 (timeout));
    }
  if (options->force)
    g_variant_builder_add (&builder, "{sv}", "Force", g_variant_new_boolean (TRUE));
  return g_variant_builder_end (&builder);
}

static int
stop_or_restart (const BangerCommandGroup *group,
                 const BangerCommand      *command,
                 int                       argc,
                 char                    **argv,
                 gboolean                  restart)
{
  StopOptions stop = { NULL, FALSE };
  const GOptionEntry options[] = {
    { "timeout", 0, 0, G_OPTION_ARG_STRING, &stop.timeout_text,
      N_("Seconds the guest gets to power off (default 10)"), N_("SECONDS") },
    { "force", 0, 0, G_OPTION_ARG_NONE, &stop.force, N_("Kill the VMM at once, without asking the guest"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(BangerDaemon) daemon = NULL;
  g_autoptr(BangerVM1) vm = NULL;
  g_autoptr(GVariant) call_options = NULL;
  g_autofree char *timeout_text = NULL;
  const char *name;
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 1, 1, &status))
    return status;
  timeout_text = stop.timeout_text;
  name = argv[1];

  call_options = stop_options_build (&stop, &error);
  if (call_options == NULL)
    return banger_fail (error);
  g_variant_ref_sink (call_options);

  vm = find_vm (&daemon, name, &status);
  if (vm == NULL)
    return status;

  if (restart)
    {
      /* Translators: before the progress bar of 'banger vm restart', e.g. "Restarting web". */
      g_autofree char *label = g_strdup_printf (_("Restarting %s"), name);

      status = run_power_call (daemon, vm, name, label, banger_vm1_call_restart,
                               banger_vm1_call_restart_finish, call_options,
                               NULL, NULL);
      if (status != BANGER_EXIT_OK)
        return status;
      printf (_("Restarted VM “%s”.\n"), name);
      return BANGER_EXIT_OK;
    }

  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (vm), POWER_CALL_TIMEOUT_MSEC);
  if (!banger_vm1_call_stop_sync (vm, call_options, NULL, &error))
    return banger_vm_fail (error, name);
  printf (_("Stopped VM “%s”.\n"), name);
  return BANGER_EXIT_OK;
}

int
banger_vm_stop_run (const BangerCommandGroup *group,
                    const BangerCommand      *command,
                    int                       argc,
                    char                    **argv)
{
  return stop_or_restart (group, command, argc, argv, FALSE);
}

int
banger_vm_restart_run (const BangerCommandGroup *group,
                       const BangerCommand      *command,
                       int                       argc,
                       char                    **argv)
{
  return stop_or_restart (group, command, argc, argv, TRUE);
}
