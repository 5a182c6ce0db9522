/* cmd-vm-power.c: 'banger vm start|stop|restart': VM1.Start/Stop/Restart,
 * with the start's Job1 shown as a progress bar and Ctrl-C as Cancel. */
#define G_LOG_DOMAIN "banger-client-vm-power"

#include "config.h"

#include <stdio.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "cmd-vm.h"
#include "command.h"
#include "daemon-connection.h"
#include "job-progress.h"
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

/* Start or Restart: how to call it and how to finish the call. */
typedef struct {
  PowerCall       call;
  PowerCallFinish finish;
} PowerMethod;

static gboolean
finish_power_call (GObject       *source,
                   GAsyncResult  *result,
                   gpointer       user_data,
                   GError       **error)
{
  PowerMethod *method = user_data;

  return method->finish (BANGER_VM1 (source), result, error);
}

/* Calls Start or Restart and shows its job until it returns (see
 * job-progress.h). Returns the exit status; on success the caller prints
 * the result. */
static int
run_power_call (BangerDaemon *daemon,
                BangerVM1    *vm,
                const char   *name,
                const char   *label,
                PowerMethod  *method,
                GVariant     *options,
                BangerJobWatchFunc observer,
                gpointer      observer_data)
{
  g_autofree char *cancelling =
    g_strdup_printf (_("banger: Cancelling the start of VM “%s”; waiting for bangerd to undo it "
                       "(press Ctrl-C again to stop waiting)…\n"), name);
  g_autofree char *abandoning =
    g_strdup_printf (_("banger: Not waiting any longer; bangerd goes on undoing the start of “%s”.\n"),
                     name);
  g_autofree char *finished_anyway =
    g_strdup_printf (_("banger: The start of “%s” finished before it could be cancelled.\n"), name);
  const BangerJobProgressText text = { label, cancelling, abandoning, finished_anyway };
  g_autoptr(BangerJobProgress) progress = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  progress = banger_job_progress_new (daemon->objects,
                                      g_dbus_proxy_get_object_path (G_DBUS_PROXY (vm)),
                                      &text, observer, observer_data);
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (vm), POWER_CALL_TIMEOUT_MSEC);
  method->call (vm, options, NULL, banger_job_progress_call_done, banger_job_progress_ref (progress));
  status = banger_job_progress_wait (progress, finish_power_call, method, &error);
  if (error != NULL)
    return banger_vm_fail (error, name);
  return status;
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
  const char *name;
  int status;

  if (!banger_command_parse (group, command, options, &argc, &argv, 1, 1, &status))
    return status;
  name = argv[1];
  vm = banger_vm_lookup (name, &daemon, &status);
  if (vm == NULL)
    return status;

  status = banger_vm_start_call (daemon, vm, name, NULL, NULL);
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
  /* Translators: before the progress bar of 'banger vm start', e.g. "Starting web". */
  g_autofree char *label = g_strdup_printf (_("Starting %s"), name);
  PowerMethod start = { banger_vm1_call_start, banger_vm1_call_start_finish };

  return run_power_call (daemon, vm, name, label, &start, g_variant_new ("a{sv}", NULL),
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

  vm = banger_vm_lookup (name, &daemon, &status);
  if (vm == NULL)
    return status;

  if (restart)
    {
      /* Translators: before the progress bar of 'banger vm restart', e.g. "Restarting web". */
      g_autofree char *label = g_strdup_printf (_("Restarting %s"), name);
      PowerMethod restart_method = { banger_vm1_call_restart, banger_vm1_call_restart_finish };

      status = run_power_call (daemon, vm, name, label, &restart_method, call_options, NULL, NULL);
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
