/* vmm-qemu.c: the qemu driver. Launches `qemu-system-x86_64 -M microvm`
 * paused, by argv as the user (vmm-qemu-args.c builds the command line),
 * then starts and stops the machine over QMP (qmp-client.c). */
#define G_LOG_DOMAIN "bangerd-qemu"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "banger-error.h"
#include "kvm.h"
#include "qmp-client.h"
#include "vhost-vsock.h"
#include "vmm-qemu.h"

#define READY_TIMEOUT_MS    10000
/* How often the QMP socket is tried until qemu listens on it. */
#define QMP_RETRY_MS        5
#define QUIT_TIMEOUT_MS     3000
#define CONSOLE_TAIL_BYTES  2048

typedef struct {
  QmpClient *qmp;
  guint32    vsock_cid;   /* the agent's vhost-vsock CID; 0: virtio-serial */
} Qemu;

static void
qemu_free_priv (gpointer priv)
{
  Qemu *qemu = priv;

  if (qemu->qmp != NULL)
    qmp_client_close (qemu->qmp);
  g_clear_object (&qemu->qmp);
  g_free (qemu);
}

static QmpClient *
qmp_of (VmmInstance *instance)
{
  Qemu *qemu = instance->priv;

  return qemu != NULL ? qemu->qmp : NULL;
}

/* The agent channel for @spec: a descriptor of /dev/vhost-vsock holding
 * the guest's CID, or -1 for the virtio-serial port. FALSE only when vsock
 * was asked for and cannot be had. */
static gboolean
open_agent_channel (const VmmBootSpec  *spec,
                    int                *vsock_fd,
                    guint32            *cid,
                    GError            **error)
{
  g_autoptr(GError) local = NULL;

  *vsock_fd = -1;
  *cid = 0;
  if (spec->agent_channel == VMM_AGENT_CHANNEL_SERIAL)
    return TRUE;
  *vsock_fd = vhost_vsock_open_claimed (VHOST_VSOCK_DEVICE, cid, &local);
  if (*vsock_fd >= 0)
    return TRUE;
  if (spec->agent_channel == VMM_AGENT_CHANNEL_VSOCK)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                   _("The agent channel is set to vsock ([qemu] agent-channel) but %s. "
                     "Load the vhost_vsock module and let the user open %s, or set "
                     "agent-channel to auto or serial"),
                   local->message, VHOST_VSOCK_DEVICE);
      return FALSE;
    }
  g_info ("VM %s: agent over virtio-serial: %s", spec->vm_name, local->message);
  return TRUE;
}

/* ---- launch ----------------------------------------------------------------- */

/* The last lines qemu and the guest wrote: why a launch failed. */
static char *
console_tail (const char *state_dir)
{
  g_autofree char *path = g_build_filename (state_dir, "console.log", NULL);
  g_autofree char *text = NULL;
  gsize length = 0;
  const char *start;

  if (!g_file_get_contents (path, &text, &length, NULL) || length == 0)
    return g_strdup (_("(console.log is empty)"));
  start = length > CONSOLE_TAIL_BYTES ? text + length - CONSOLE_TAIL_BYTES : text;
  return g_utf8_make_valid (g_strstrip ((char *) start), -1);
}

typedef struct {
  VmmInstance *instance;
  char        *state_dir;
  char        *qmp_path;
  gint64       deadline;
  GError      *error;
} LaunchData;

static void
launch_data_free (LaunchData *data)
{
  vmm_instance_free (data->instance);
  g_free (data->state_dir);
  g_free (data->qmp_path);
  g_clear_error (&data->error);
  g_free (data);
}

static void
on_failed_launch_reaped (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LaunchData *data = g_task_get_task_data (task);
  g_autofree char *tail = NULL;

  vmm_process_end_finish (data->instance->process, result, NULL);
  if (g_error_matches (data->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }
  tail = console_tail (data->state_dir);
  g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                           _("QEMU did not come up: %s; its console said:\n%s"),
                           data->error->message, tail);
}

/* Nothing outlives a failed launch: end the process and reap it first. */
static void
launch_fail (GTask  *task,
             GError *error)
{
  LaunchData *data = g_task_get_task_data (task);

  data->error = error;
  vmm_process_end_async (data->instance->process, 0, on_failed_launch_reaped, task);
}

static void try_connect (GTask *task);

static gboolean
on_retry (gpointer user_data)
{
  try_connect (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_qmp_connected (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  LaunchData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  QmpClient *qmp = qmp_client_connect_finish (result, &error);

  if (qmp != NULL)
    {
      ((Qemu *) data->instance->priv)->qmp = qmp;
      g_task_return_pointer (task, g_steal_pointer (&data->instance),
                             (GDestroyNotify) vmm_instance_free);
      g_object_unref (task);
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return launch_fail (task, g_steal_pointer (&error));
  if (vmm_process_has_exited (data->instance->process))
    return launch_fail (task, g_error_new_literal (BANGER_ERROR, BANGER_ERROR_FAILED,
                                                   _("it exited")));
  if (g_get_monotonic_time () > data->deadline)
    return launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                           _("its QMP socket did not answer within %u ms (%s)"),
                                           READY_TIMEOUT_MS, error->message));
  /* Not listening yet. A backoff cost a start up to half the time qemu
   * takes to create the socket (~0.1 s under TCG); a failed connect to a
   * unix socket costs next to nothing. */
  g_timeout_add (QMP_RETRY_MS, on_retry, task);
}

static void
try_connect (GTask *task)
{
  LaunchData *data = g_task_get_task_data (task);

  qmp_client_connect_async (data->qmp_path, g_task_get_cancellable (task), on_qmp_connected,
                            task);
}

static void
qemu_launch_async (const VmmBootSpec   *spec,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_autofree char *log_path = g_build_filename (spec->state_dir, "console.log", NULL);
  g_autoptr(GError) kvm_error = NULL;
  g_auto(GStrv) argv = NULL;
  LaunchData *data = g_new0 (LaunchData, 1);
  GError *error = NULL;
  VmmProcess *process;
  gboolean kvm;
  int log_fd;
  int vsock_fd;
  guint32 cid;
  Qemu *qemu;

  g_task_set_task_data (task, data, (GDestroyNotify) launch_data_free);
  /* A launched process is handed over even if the caller cancelled late:
   * dropping it would leave qemu running unseen. */
  g_task_set_check_cancellable (task, FALSE);
  data->state_dir = g_strdup (spec->state_dir);
  data->qmp_path = g_build_filename (spec->runtime_dir, QEMU_QMP_SOCKET, NULL);
  kvm = kvm_usable (&kvm_error);
  if (!kvm)
    g_info ("VM %s: %s; using TCG", spec->vm_name, kvm_error->message);
  if (!open_agent_channel (spec, &vsock_fd, &cid, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  argv = qemu_build_argv (spec, kvm, kvm ? 0 : qemu_host_tsc_khz (), cid);

  /* qemu's own messages go beside the serial console. */
  log_fd = open (log_path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (log_fd < 0)
    {
      int saved = errno;
      if (vsock_fd >= 0)
        close (vsock_fd);
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("Cannot open %s: %s"), log_path, g_strerror (saved));
      g_object_unref (task);
      return;
    }
  process = vmm_process_spawn_with_fd ((const char * const *) argv, spec->runtime_dir, log_fd,
                                       vsock_fd, QEMU_VHOST_VSOCK_FD, &error);
  close (log_fd);
  /* qemu holds the CID now; ours is only a copy. */
  if (vsock_fd >= 0)
    close (vsock_fd);
  if (process == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  g_info ("VM %s: started %s (%s, agent over %s) as pid %d", spec->vm_name, spec->binary,
          kvm ? "KVM" : "TCG", cid != 0 ? "vhost-vsock" : "virtio-serial",
          vmm_process_get_pid (process));
  qemu = g_new0 (Qemu, 1);
  qemu->vsock_cid = cid;
  data->instance = vmm_instance_new (&vmm_driver_qemu, process, spec->runtime_dir, qemu);
  data->deadline = g_get_monotonic_time () + READY_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  try_connect (task);
}

static VmmInstance *
qemu_launch_finish (GAsyncResult  *result,
                    GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- status, configure, boot -------------------------------------------------- */

/* Completes with the "status" of query-status. */
/* What a status check accepts, and how its error says when it ran. */
typedef struct {
  const char *const *wanted;
  const char        *when;
} StatusWanted;

static const char *const paused_states[] = { "prelaunch", "paused", NULL };
static const char *const running_states[] = { "running", NULL };

static void
on_status (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  StatusWanted *want = g_task_get_task_data (task);
  g_autoptr(JsonNode) reply = NULL;
  GError *error = NULL;
  const char *status = NULL;

  reply = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (JSON_NODE_HOLDS_OBJECT (reply))
    status = json_object_get_string_member_with_default (json_node_get_object (reply),
                                                         "status", NULL);
  if (status == NULL || !g_strv_contains (want->wanted, status))
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("QEMU reports status “%s” %s"),
                               status != NULL ? status : "?", _(want->when));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/* Asks qemu for its status; the result (a boolean task) is an error
 * unless the status is one of @wanted. @when is an N_() string. */
static void
expect_status_async (QmpClient           *qmp,
                     const char *const   *wanted,
                     const char          *when,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  StatusWanted *want = g_new (StatusWanted, 1);

  *want = (StatusWanted) { wanted, when };
  g_task_set_task_data (task, want, g_free);
  qmp_client_execute_async (qmp, "query-status", NULL, cancellable, on_status, task);
}

/* Hands a status check's outcome to the task in @user_data. */
static void
on_status_forward (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (g_task_propagate_boolean (G_TASK (result), &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
qemu_configure_async (VmmInstance         *instance,
                      const VmmBootSpec   *spec,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  /* Everything is on the command line already; only check it waits. */
  expect_status_async (qmp_of (instance), paused_states, N_("before the boot (expected it paused)"),
                       cancellable, callback, user_data);
}

static gboolean
qemu_bool_finish (GAsyncResult  *result,
                  GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_cont (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(JsonNode) reply = NULL;
  GError *error = NULL;

  reply = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  /* Running is what qemu says after the start, not what we assume. */
  expect_status_async (QMP_CLIENT (source), running_states, N_("instead of “running”"),
                       g_task_get_cancellable (task), on_status_forward, task);
}

static void
qemu_boot_async (VmmInstance         *instance,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  qmp_client_execute_async (qmp_of (instance), "cont", NULL, cancellable, on_cont, task);
}

/* ---- shutdown: power button, then quit, then SIGKILL ----------------------------- */

typedef struct {
  VmmInstance *instance;    /* not owned */
  guint        timeout_ms;
  gboolean     quit_sent;
} Shutdown;

static void
shutdown_done (GTask *task)
{
  Shutdown *sd = g_task_get_task_data (task);
  QmpClient *qmp = qmp_of (sd->instance);

  if (qmp != NULL)
    qmp_client_close (qmp);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
on_ended (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  Shutdown *sd = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!vmm_process_end_finish (sd->instance->process, result, &error))
    {
      if (error != NULL)
        g_warning ("Waiting for the VMM to end: %s", error->message);
      else if (sd->quit_sent)
        g_message ("QEMU did not quit within %u ms; killed it", QUIT_TIMEOUT_MS);
    }
  shutdown_done (task);
}

static void
on_quit (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  Shutdown *sd = g_task_get_task_data (task);
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;

  /* qemu may close the connection before its reply: the exit is the answer. */
  reply = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);
  if (reply == NULL)
    g_debug ("quit: %s", error->message);
  vmm_process_end_async (sd->instance->process, QUIT_TIMEOUT_MS, on_ended, task);
}

static void
on_graceful_exit (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  Shutdown *sd = g_task_get_task_data (task);

  if (vmm_process_wait_finish (sd->instance->process, result, NULL))
    return shutdown_done (task);
  g_message ("The guest did not power off within %u ms; telling QEMU to quit",
             sd->timeout_ms);
  sd->quit_sent = TRUE;
  qmp_client_execute_async (qmp_of (sd->instance), "quit", NULL, NULL, on_quit, task);
}

static void
on_powerdown (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  Shutdown *sd = g_task_get_task_data (task);
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);
  if (reply == NULL && !vmm_process_has_exited (sd->instance->process))
    {
      g_message ("%s", error->message);   /* it is killed instead: no failure */
      return vmm_process_end_async (sd->instance->process, 0, on_ended, task);
    }
  vmm_process_wait_async (sd->instance->process, sd->timeout_ms, on_graceful_exit, task);
}

static void
qemu_shutdown_async (VmmInstance         *instance,
                     guint                timeout_ms,
                     gboolean             force,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  Shutdown *sd = g_new0 (Shutdown, 1);
  QmpClient *qmp = qmp_of (instance);

  sd->instance = instance;
  sd->timeout_ms = timeout_ms;
  g_task_set_task_data (task, sd, g_free);
  if (force || timeout_ms == 0 || qmp == NULL || qmp_client_is_closed (qmp) ||
      vmm_process_has_exited (instance->process))
    return vmm_process_end_async (instance->process, 0, on_ended, task);
  /* The ACPI power button; the guest's acpid or agent powers off. */
  qmp_client_execute_async (qmp, "system_powerdown", NULL, NULL, on_powerdown, task);
}

/* ---- adopt after a restart -------------------------------------------------- */

static void
adopt_done (GTask *task)
{
  LaunchData *data = g_task_get_task_data (task);

  g_task_return_pointer (task, g_steal_pointer (&data->instance),
                         (GDestroyNotify) vmm_instance_free);
  g_object_unref (task);
}

static void
on_vsock_cid (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  LaunchData *data = g_task_get_task_data (task);
  g_autoptr(JsonNode) reply = NULL;
  GError *error = NULL;
  gint64 cid;

  reply = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  cid = JSON_NODE_HOLDS_VALUE (reply) ? json_node_get_int (reply) : 0;
  if (cid < 3 || cid > G_MAXUINT32)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("QEMU reports no usable guest CID for the agent"));
      g_object_unref (task);
      return;
    }
  ((Qemu *) data->instance->priv)->vsock_cid = (guint32) cid;
  adopt_done (task);
}

/* Whether the running qemu has the vhost-vsock agent device, by its qdev
 * id. Anything else is the serial port: a qemu started before the devices
 * had ids has neither, and no /machine/peripheral to list at all. */
static void
on_peripherals (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(JsonObject) arguments = NULL;
  g_autoptr(GError) error = NULL;
  gboolean vsock = FALSE;

  reply = qmp_client_execute_finish (QMP_CLIENT (source), result, &error);
  if (reply == NULL)
    g_debug ("qom-list /machine/peripheral: %s; the agent is on the serial port",
             error->message);
  else if (JSON_NODE_HOLDS_ARRAY (reply))
    {
      JsonArray *children = json_node_get_array (reply);

      for (guint i = 0; i < json_array_get_length (children); i++)
        {
          JsonObject *child = json_array_get_object_element (children, i);

          if (child != NULL &&
              g_strcmp0 (json_object_get_string_member_with_default (child, "name", NULL),
                         QEMU_AGENT_VSOCK_ID) == 0)
            vsock = TRUE;
        }
    }
  if (!vsock)
    return adopt_done (task);
  arguments = json_object_new ();
  json_object_set_string_member (arguments, "path", "/machine/peripheral/" QEMU_AGENT_VSOCK_ID);
  json_object_set_string_member (arguments, "property", "guest-cid");
  qmp_client_execute_async (QMP_CLIENT (source), "qom-get", arguments, NULL, on_vsock_cid, task);
}

static void
find_agent_channel (GTask *task)
{
  LaunchData *data = g_task_get_task_data (task);
  g_autoptr(JsonObject) arguments = json_object_new ();

  json_object_set_string_member (arguments, "path", "/machine/peripheral");
  qmp_client_execute_async (qmp_of (data->instance), "qom-list", arguments, NULL,
                            on_peripherals, task);
}

static void
on_adopt_status (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  find_agent_channel (g_steal_pointer (&task));
}

static void
on_adopt_connected (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  LaunchData *data = g_task_get_task_data (task);
  GError *error = NULL;
  QmpClient *qmp = qmp_client_connect_finish (result, &error);

  if (qmp == NULL)
    {
      g_prefix_error (&error, _("QEMU's QMP socket does not answer: "));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  ((Qemu *) data->instance->priv)->qmp = qmp;
  expect_status_async (qmp, running_states, N_("instead of “running”"), NULL, on_adopt_status, task);
}

static void
qemu_adopt_async (VmmProcess          *process,
                  const char          *runtime_dir,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  LaunchData *data = g_new0 (LaunchData, 1);
  g_autofree char *qmp_path = g_build_filename (runtime_dir, QEMU_QMP_SOCKET, NULL);

  data->instance = vmm_instance_new (&vmm_driver_qemu, process, runtime_dir, g_new0 (Qemu, 1));
  g_task_set_task_data (task, data, (GDestroyNotify) launch_data_free);
  qmp_client_connect_async (qmp_path, NULL, on_adopt_connected, task);
}

/* ---- the agent channel, cleanup ------------------------------------------------ */

static void
on_agent_connected (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  GSocketConnection *connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source),
                                                                  result, &error);

  if (connection == NULL)
    {
      g_prefix_error (&error, _("Cannot connect to the agent channel: "));
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, connection, g_object_unref);
}

/* qemu's chardev serves one connection at a time; a second one waits in
 * the backlog until the first closes. */
static void
qemu_agent_connect_async (VmmInstance         *instance,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autofree char *path = NULL;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  Qemu *qemu = instance->priv;

  if (qemu->vsock_cid != 0)
    return vhost_vsock_connect_async (qemu->vsock_cid, BANGER_AGENT_VSOCK_PORT, cancellable,
                                      callback, user_data);
  path = g_build_filename (instance->runtime_dir, QEMU_AGENT_SOCKET, NULL);
  client = g_socket_client_new ();
  address = g_unix_socket_address_new (path);
  g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (address), cancellable,
                                 on_agent_connected,
                                 g_task_new (NULL, cancellable, callback, user_data));
}

/* Both ways end in a GTask returning the stream. */
static GIOStream *
qemu_agent_connect_finish (GAsyncResult  *result,
                           GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* qemu unlinks its sockets on a clean exit, not when killed. */
static void
qemu_cleanup (const char *runtime_dir)
{
  const char *names[] = { QEMU_QMP_SOCKET, QEMU_AGENT_SOCKET };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (runtime_dir, names[i], NULL);

      if (g_unlink (path) != 0 && errno != ENOENT)
        g_warning ("Cannot remove %s: %s", path, g_strerror (errno));
    }
}

const VmmDriver vmm_driver_qemu = {
  .name = "qemu",
  .check_async = qemu_check_async,
  .check_finish = qemu_check_finish,
  .launch_async = qemu_launch_async,
  .launch_finish = qemu_launch_finish,
  .configure_async = qemu_configure_async,
  .configure_finish = qemu_bool_finish,
  .boot_async = qemu_boot_async,
  .boot_finish = qemu_bool_finish,
  .shutdown_async = qemu_shutdown_async,
  .shutdown_finish = qemu_bool_finish,
  .adopt_async = qemu_adopt_async,
  .adopt_finish = qemu_launch_finish,
  .cleanup = qemu_cleanup,
  .free_priv = qemu_free_priv,
  .kernel_args = NULL,   /* the launch adds the agent channel's */
  .agent_connect_async = qemu_agent_connect_async,
  .agent_connect_finish = qemu_agent_connect_finish,
};
