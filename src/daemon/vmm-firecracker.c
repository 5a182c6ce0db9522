/* vmm-firecracker.c: the firecracker driver. Launches `firecracker
 * --api-sock … --id …` by argv as the user and drives the boot sequence of
 * the v1.14 API over its socket, in the order the spec and SDKs use. */
#define G_LOG_DOMAIN "bangerd-firecracker"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "banger-error.h"
#include "firecracker-client.h"
#include "firecracker-config.h"
#include "firecracker-version.h"
#include "helper-jail.h"
#include "kvm.h"
#include "vmm-driver.h"

/* Relative to the runtime dir, which is the VMM's working directory: the
 * paths stay short whatever $XDG_RUNTIME_DIR is. */
#define API_SOCKET    "firecracker.sock"
#define VSOCK_SOCKET  "vsock.sock"
#define GUEST_CID     3
#define READY_TIMEOUT_MS 5000

typedef struct {
  FirecrackerClient *client;
  gboolean           has_serial;   /* PUT /serial exists (1.14+) */
} Firecracker;

static void
firecracker_free_priv (gpointer priv)
{
  Firecracker *fc = priv;

  g_clear_pointer (&fc->client, firecracker_client_free);
  g_free (fc);
}

static FirecrackerClient *
client_for (const char *runtime_dir)
{
  g_autofree char *socket = g_build_filename (runtime_dir, API_SOCKET, NULL);

  return firecracker_client_new (socket);
}

/* ---- check ---------------------------------------------------------------- */

/* The last binary that passed `firecracker --version` (vmm_binary_set_checked). */
static char *checked_identity;

static void
on_version_checked (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  FirecrackerVersion version;
  gboolean tested = FALSE;

  if (!firecracker_version_check_finish (result, &version, &tested, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  vmm_binary_set_checked (&checked_identity, g_task_get_task_data (task));
  if (!tested)
    g_message ("Firecracker %u.%u.%u at %s is supported but untested; banger is tested "
               "with %d.%d.x", version.major, version.minor, version.patch,
               (const char *) g_task_get_task_data (task),
               FIRECRACKER_VERSION_TESTED_MAJOR, FIRECRACKER_VERSION_TESTED_MINOR);
  g_task_return_pointer (task, g_strdup (g_task_get_task_data (task)), g_free);
}

static void
firecracker_check_async (const char          *binary,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  char *path = vmm_binary_find (binary);

  if (path == NULL)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                               _("Firecracker (“%s”) was not found or is not executable; "
                                 "install it or set [firecracker] binary in the config file"),
                               binary);
      return;
    }
  g_task_set_task_data (task, path, g_free);
  if (vmm_binary_was_checked (&checked_identity, path))
    {
      g_task_return_pointer (task, g_strdup (path), g_free);
      return;
    }
  firecracker_version_check_async (path, FIRECRACKER_VERSION_DEFAULT_TIMEOUT_MS, cancellable,
                                   on_version_checked, g_steal_pointer (&task));
}

static char *
firecracker_check_finish (GAsyncResult  *result,
                          GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- launch ----------------------------------------------------------------- */

typedef struct {
  VmmInstance *instance;
  char        *vm_name;
  char        *runtime_dir;
  GError      *error;
} LaunchData;

static void
launch_data_free (LaunchData *data)
{
  vmm_instance_free (data->instance);
  g_free (data->vm_name);
  g_free (data->runtime_dir);
  g_clear_error (&data->error);
  g_free (data);
}

static void
on_failed_launch_released (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LaunchData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!helper_jail_release_finish (result, &error))
    g_warning ("Giving back the jail of a failed launch: %s", error->message);
  g_task_return_error (task, g_steal_pointer (&data->error));
}

static void
on_failed_launch_reaped (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LaunchData *data = g_task_get_task_data (task);

  vmm_process_end_finish (data->instance->process, result, NULL);
  if (data->instance->jailed)
    {
      helper_jail_release_async (data->vm_name, on_failed_launch_released,
                                 g_steal_pointer (&task));
      return;
    }
  g_task_return_error (task, g_steal_pointer (&data->error));
}

/* Nothing outlives a failed launch: ends the process and reaps it (and
 * gives back its jail) before reporting @error. */
static void
launch_abort (GTask  *task,
              GError *error)
{
  LaunchData *data = g_task_get_task_data (task);

  data->error = error;
  vmm_process_end_async (data->instance->process, 0, on_failed_launch_reaped, task);
}

/* The helper's Firecracker is checked by what it answers, as `--version`
 * is for a direct launch. */
static void
on_jailed_version (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  LaunchData *data = g_task_get_task_data (task);
  Firecracker *fc = data->instance->priv;
  g_autoptr(JsonNode) reply = NULL;
  g_autofree char *text = NULL;
  FirecrackerVersion version = { 0 };
  GError *error = NULL;
  const char *number = NULL;

  if (firecracker_client_request_finish (fc->client, result, &reply, &error))
    {
      if (reply != NULL && JSON_NODE_HOLDS_OBJECT (reply))
        number = json_object_get_string_member_with_default (json_node_get_object (reply),
                                                             "firecracker_version", NULL);
      text = g_strdup_printf ("Firecracker v%s", number != NULL ? number : "?");
      if (firecracker_version_parse (text, &version.major, &version.minor, &version.patch,
                                     &error))
        firecracker_version_check_supported (_("the helper's Firecracker"), &version, NULL,
                                             &error);
    }
  if (error != NULL)
    return launch_abort (task, error);
  fc->has_serial = version.major > 1 || (version.major == 1 && version.minor >= 14);
  g_task_return_pointer (task, g_steal_pointer (&data->instance),
                         (GDestroyNotify) vmm_instance_free);
  g_object_unref (task);
}

static gboolean
process_alive (gpointer user_data)
{
  return !vmm_process_has_exited (user_data);
}

static void
on_ready (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LaunchData *data = g_task_get_task_data (task);
  Firecracker *fc = data->instance->priv;
  GError *error = NULL;

  if (!firecracker_client_wait_ready_finish (fc->client, result, &error))
    {
      g_prefix_error (&error, _("Firecracker did not come up: "));
      return launch_abort (g_steal_pointer (&task), error);
    }
  if (data->instance->jailed)
    {
      GCancellable *cancellable = g_task_get_cancellable (task);

      firecracker_client_request_async (fc->client, "GET", "/version", NULL, cancellable,
                                        on_jailed_version, g_steal_pointer (&task));
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&data->instance),
                         (GDestroyNotify) vmm_instance_free);
}

/* Waits until the API answers; @task's data is a LaunchData. */
static void
wait_until_ready (GTask       *task,
                  VmmProcess  *process,
                  const char  *runtime_dir,
                  gboolean     jailed)
{
  LaunchData *data = g_task_get_task_data (task);
  Firecracker *fc = g_new0 (Firecracker, 1);

  fc->client = client_for (runtime_dir);
  /* A direct launch checked `firecracker --version` before; the helper's
   * binary is only known by what it answers. */
  fc->has_serial = !jailed;
  data->instance = vmm_instance_new (&vmm_driver_firecracker, process, runtime_dir, fc);
  data->instance->jailed = jailed;
  firecracker_client_wait_ready_async (fc->client, READY_TIMEOUT_MS, process_alive, process,
                                       g_task_get_cancellable (task), on_ready, task);
}

static void
on_jail_launched (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  LaunchData *data = g_task_get_task_data (task);
  GError *error = NULL;
  VmmProcess *process = helper_jail_launch_finish (result, &error);

  if (process == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  wait_until_ready (task, process, data->runtime_dir, TRUE);
}

/* The VMM's sockets live in the jail; links in the runtime dir keep every
 * other path the same as for a direct launch. Made before the launch, so
 * they dangle only until the VMM creates its sockets. */
static gboolean
link_jail_sockets (const char  *runtime_dir,
                   GError     **error)
{
  static const char *const links[][2] = {
    { API_SOCKET, HELPER_JAIL_LINK "/api.sock" },
    { VSOCK_SOCKET, HELPER_JAIL_LINK "/" VSOCK_SOCKET },
  };

  for (guint i = 0; i < G_N_ELEMENTS (links); i++)
    {
      g_autofree char *path = g_build_filename (runtime_dir, links[i][0], NULL);

      if (symlink (links[i][1], path) != 0)
        {
          int saved = errno;
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, _("Cannot create %s: %s"),
                       path, g_strerror (saved));
          return FALSE;
        }
    }
  return TRUE;
}

/* A fresh, empty file of the user's, for the jail to link in. */
static gboolean
create_fresh_file (const char  *path,
                   GError     **error)
{
  int fd;

  g_unlink (path);
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, _("Cannot create %s: %s"),
                   path, g_strerror (saved));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* Through Helper1.Launch: the kernel, drives and log files are linked into
 * the jail under their base names, and the API calls use those names. */
static void
launch_jailed (GTask             *task,
               const VmmBootSpec *spec)
{
  g_autofree char *console = g_build_filename (spec->state_dir, "console.log", NULL);
  g_autofree char *vmm_log = g_build_filename (spec->state_dir, "vmm.log", NULL);
  g_autofree char *metrics = g_build_filename (spec->state_dir, "metrics.json", NULL);
  const HelperJailDrive files[] = {
    { spec->image_path, spec->image_read_only },
    { spec->disk_path, FALSE },
    { console, FALSE },
    { vmm_log, FALSE },
    { metrics, FALSE },
  };
  GError *error = NULL;

  if (!create_fresh_file (vmm_log, &error) || !create_fresh_file (metrics, &error) ||
      !link_jail_sockets (spec->runtime_dir, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  helper_jail_launch_async (spec->vm_name, spec->runtime_dir, spec->kernel_path,
                            spec->initrd_path, files, G_N_ELEMENTS (files),
                            g_task_get_cancellable (task), on_jail_launched, task);
}

static void
firecracker_launch_async (const VmmBootSpec   *spec,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autofree char *log_path = g_build_filename (spec->state_dir, "console.log", NULL);
  const char *argv[] = { spec->binary, "--api-sock", API_SOCKET, "--id", spec->vm_name, NULL };
  LaunchData *data = g_new0 (LaunchData, 1);
  GError *error = NULL;
  VmmProcess *process;
  int log_fd;

  g_task_set_task_data (task, data, (GDestroyNotify) launch_data_free);
  data->vm_name = g_strdup (spec->vm_name);
  data->runtime_dir = g_strdup (spec->runtime_dir);
  if (spec->jailed)
    return launch_jailed (g_steal_pointer (&task), spec);

  /* Until PUT /logger, Firecracker logs to stdout, beside the serial
   * console: both go to console.log. */
  log_fd = open (log_path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
  if (log_fd < 0)
    {
      int saved = errno;
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("Cannot open %s: %s"), log_path, g_strerror (saved));
      return;
    }
  process = vmm_process_spawn (argv, spec->runtime_dir, log_fd, &error);
  close (log_fd);
  if (process == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_info ("VM %s: started %s as pid %d", spec->vm_name, spec->binary,
          vmm_process_get_pid (process));
  wait_until_ready (g_steal_pointer (&task), process, spec->runtime_dir, FALSE);
}

static VmmInstance *
firecracker_launch_finish (GAsyncResult  *result,
                           GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- configure and boot: a list of requests, sent one after another ------- */

typedef struct {
  char     *method;
  char     *path;
  JsonNode *body;
} Request;

static void
request_free (Request *request)
{
  g_free (request->method);
  g_free (request->path);
  if (request->body != NULL)
    json_node_unref (request->body);
  g_free (request);
}

typedef struct {
  FirecrackerClient *client;
  GPtrArray         *requests;
  guint              next;
  JsonNode          *last_reply;
} Sequence;

static void
sequence_free (Sequence *seq)
{
  g_ptr_array_unref (seq->requests);
  if (seq->last_reply != NULL)
    json_node_unref (seq->last_reply);
  g_free (seq);
}

static void
add_request (Sequence   *seq,
             const char *method,
             const char *path,
             JsonNode   *body)
{
  Request *request = g_new0 (Request, 1);

  request->method = g_strdup (method);
  request->path = g_strdup (path);
  request->body = body;
  g_ptr_array_add (seq->requests, request);
}

static void send_next (GTask *task);

static void
on_request_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Sequence *seq = g_task_get_task_data (task);
  GError *error = NULL;

  g_clear_pointer (&seq->last_reply, json_node_unref);
  if (!firecracker_client_request_finish (seq->client, result, &seq->last_reply, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  send_next (g_steal_pointer (&task));
}

static void
send_next (GTask *task)
{
  Sequence *seq = g_task_get_task_data (task);
  Request *request;

  if (seq->next == seq->requests->len)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  request = seq->requests->pdata[seq->next++];
  firecracker_client_request_async (seq->client, request->method, request->path, request->body,
                                    g_task_get_cancellable (task), on_request_done, task);
}

static GTask *
sequence_new (VmmInstance         *instance,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data,
              Sequence           **out_seq)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Sequence *seq = g_new0 (Sequence, 1);

  seq->client = ((Firecracker *) instance->priv)->client;
  seq->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) request_free);
  g_task_set_task_data (task, seq, (GDestroyNotify) sequence_free);
  *out_seq = seq;
  return task;
}

static void
firecracker_configure_async (VmmInstance         *instance,
                             const VmmBootSpec   *spec,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  Sequence *seq;
  GTask *task = sequence_new (instance, cancellable, callback, user_data, &seq);
  Firecracker *fc = instance->priv;
  g_autofree char *vmm_log = g_build_filename (spec->state_dir, "vmm.log", NULL);
  g_autofree char *metrics = g_build_filename (spec->state_dir, "metrics.json", NULL);
  g_autofree char *console = g_build_filename (spec->state_dir, "console.log", NULL);
  g_autofree char *kernel = g_strdup (spec->kernel_path);
  g_autofree char *initrd = g_strdup (spec->initrd_path);
  g_autofree char *image = g_strdup (spec->image_path);
  g_autofree char *disk = g_strdup (spec->disk_path);
  g_autofree char *vsock = g_strdup (VSOCK_SOCKET);
  g_autofree char *rootfs_path = firecracker_config_drive_path ("rootfs");
  g_autofree char *disk_path = firecracker_config_drive_path ("disk");
  g_autofree char *net_path = firecracker_config_network_path ("eth0");

  if (instance->jailed)
    {
      /* Everything was linked into the jail under its base name. */
      char **paths[] = { &vmm_log, &metrics, &console, &kernel, &initrd, &image, &disk, &vsock };

      for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
        if (*paths[i] != NULL)
          {
            char *jailed = helper_jail_path (*paths[i]);
            g_free (*paths[i]);
            *paths[i] = jailed;
          }
    }
  else
    {
      /* Fresh files each boot: Firecracker appends to what it finds. (A
       * jailed launch made them fresh before linking them in.) */
      g_unlink (vmm_log);
      g_unlink (metrics);
    }
  add_request (seq, "PUT", "/logger", firecracker_config_logger (vmm_log, TRUE, FALSE));
  add_request (seq, "PUT", "/metrics", firecracker_config_metrics (metrics));
  /* A jailed Firecracker's stdout is /dev/null: the serial console goes to
   * a file instead, where the API allows it. */
  if (instance->jailed && fc->has_serial)
    add_request (seq, "PUT", "/serial", firecracker_config_serial (console));
  add_request (seq, "PUT", "/machine-config",
               firecracker_config_machine (spec->vcpus, (guint) spec->memory_mib));
  add_request (seq, "PUT", "/boot-source",
               firecracker_config_boot_source (kernel, spec->boot_args, initrd));
  /* The shared image read-only; the VM's own disk writable. */
  add_request (seq, "PUT", rootfs_path,
               firecracker_config_drive ("rootfs", image, TRUE, spec->image_read_only));
  add_request (seq, "PUT", disk_path, firecracker_config_drive ("disk", disk, FALSE, FALSE));
  add_request (seq, "PUT", net_path,
               firecracker_config_network_interface ("eth0", spec->tap, spec->mac));
  add_request (seq, "PUT", "/vsock", firecracker_config_vsock (GUEST_CID, vsock));
  send_next (task);
}

static gboolean
sequence_finish (GAsyncResult  *result,
                 GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_boot_state (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Sequence *seq = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;
  const char *state = NULL;

  if (!sequence_finish (result, &error))
    {
      g_autoptr(GError) kvm_error = NULL;

      /* The usual reason on a new host; Firecracker's own words for it
       * ("Error creating KVM object") do not say what to do. */
      if (!kvm_usable (&kvm_error))
        g_prefix_error (&error, "%s: ", kvm_error->message);
      g_task_return_error (task, error);
      return;
    }
  if (seq->last_reply != NULL && JSON_NODE_HOLDS_OBJECT (seq->last_reply))
    state = json_object_get_string_member_with_default (json_node_get_object (seq->last_reply),
                                                        "state", NULL);
  if (g_strcmp0 (state, "Running") != 0)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("Firecracker accepted InstanceStart but reports state “%s”"),
                               state != NULL ? state : "?");
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
firecracker_boot_async (VmmInstance         *instance,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *outer = g_task_new (NULL, cancellable, callback, user_data);
  Sequence *seq;
  GTask *task = sequence_new (instance, cancellable, on_boot_state, outer, &seq);

  add_request (seq, "PUT", "/actions", firecracker_config_action ("InstanceStart"));
  /* Running is what the VMM says after the start, not what we assume. */
  add_request (seq, "GET", "/", NULL);
  send_next (task);
}

static gboolean
firecracker_boot_finish (GAsyncResult  *result,
                         GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- shutdown --------------------------------------------------------------- */

typedef struct {
  VmmInstance *instance;    /* not owned */
  guint        timeout_ms;
  gboolean     asked;       /* the guest was asked to power off */
} Shutdown;

static void
on_ended (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Shutdown *sd = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!vmm_process_end_finish (sd->instance->process, result, &error))
    {
      if (error != NULL)
        g_warning ("Waiting for the VMM to end: %s", error->message);
      else if (sd->asked)
        g_message ("The guest did not power off within %u ms; killed its VMM", sd->timeout_ms);
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_ctrl_alt_del (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  Shutdown *sd = g_task_get_task_data (task);
  Firecracker *fc = sd->instance->priv;
  g_autoptr(GError) error = NULL;

  if (!firecracker_client_request_finish (fc->client, result, NULL, &error))
    {
      g_message ("%s", error->message);   /* it is killed instead; that is no failure */
      vmm_process_end_async (sd->instance->process, 0, on_ended, task);
      return;
    }
  sd->asked = TRUE;
  vmm_process_end_async (sd->instance->process, sd->timeout_ms, on_ended, task);
}

static void
firecracker_shutdown_async (VmmInstance         *instance,
                            guint                timeout_ms,
                            gboolean             force,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  Shutdown *sd = g_new0 (Shutdown, 1);
  Firecracker *fc = instance->priv;
  g_autoptr(JsonNode) body = NULL;

  sd->instance = instance;
  sd->timeout_ms = timeout_ms;
  g_task_set_task_data (task, sd, g_free);
  if (force || timeout_ms == 0 || fc == NULL || fc->client == NULL ||
      vmm_process_has_exited (instance->process))
    {
      vmm_process_end_async (instance->process, 0, on_ended, task);
      return;
    }
  /* With reboot=k in the guest's command line, Ctrl-Alt-Del makes the
   * guest reboot, which makes Firecracker exit. */
  /* The client serialises the body at once; the reference stays ours. */
  body = firecracker_config_action ("SendCtrlAltDel");
  firecracker_client_request_async (fc->client, "PUT", "/actions", body,
                                    NULL, on_ctrl_alt_del, task);
}

static gboolean
firecracker_shutdown_finish (GAsyncResult  *result,
                             GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- adopt after a restart -------------------------------------------------- */

static void
on_adopt_state (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LaunchData *data = g_task_get_task_data (task);
  Firecracker *fc = data->instance->priv;
  g_autoptr(JsonNode) reply = NULL;
  GError *error = NULL;
  const char *state = NULL;

  if (!firecracker_client_request_finish (fc->client, result, &reply, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (reply != NULL && JSON_NODE_HOLDS_OBJECT (reply))
    state = json_object_get_string_member_with_default (json_node_get_object (reply), "state", NULL);
  if (g_strcmp0 (state, "Running") != 0)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_FAILED,
                               _("Firecracker answers but reports state “%s”"),
                               state != NULL ? state : "?");
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&data->instance),
                         (GDestroyNotify) vmm_instance_free);
}

static void
firecracker_adopt_async (VmmProcess          *process,
                         const char          *runtime_dir,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, callback, user_data);
  Firecracker *fc = g_new0 (Firecracker, 1);
  LaunchData *data = g_new0 (LaunchData, 1);

  fc->client = client_for (runtime_dir);
  data->instance = vmm_instance_new (&vmm_driver_firecracker, process, runtime_dir, fc);
  g_task_set_task_data (task, data, (GDestroyNotify) launch_data_free);
  firecracker_client_request_async (fc->client, "GET", "/", NULL, NULL, on_adopt_state,
                                    g_steal_pointer (&task));
}

static VmmInstance *
firecracker_adopt_finish (GAsyncResult  *result,
                          GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Firecracker never unlinks its sockets; the vsock ones include the
 * per-port listeners (vsock.sock_PORT) a guest connection creates. */
static void
firecracker_cleanup (const char *runtime_dir)
{
  g_autoptr(GDir) dir = g_dir_open (runtime_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_equal (name, API_SOCKET) || g_str_has_prefix (name, VSOCK_SOCKET))
      {
        g_autofree char *path = g_build_filename (runtime_dir, name, NULL);

        if (g_unlink (path) != 0 && errno != ENOENT)
          g_warning ("Cannot remove %s: %s", path, g_strerror (errno));
      }
}

const VmmDriver vmm_driver_firecracker = {
  .name = "firecracker",
  .supports_jail = TRUE,
  .check_async = firecracker_check_async,
  .check_finish = firecracker_check_finish,
  .launch_async = firecracker_launch_async,
  .launch_finish = firecracker_launch_finish,
  .configure_async = firecracker_configure_async,
  .configure_finish = sequence_finish,
  .boot_async = firecracker_boot_async,
  .boot_finish = firecracker_boot_finish,
  .shutdown_async = firecracker_shutdown_async,
  .shutdown_finish = firecracker_shutdown_finish,
  .adopt_async = firecracker_adopt_async,
  .adopt_finish = firecracker_adopt_finish,
  .cleanup = firecracker_cleanup,
  .free_priv = firecracker_free_priv,
  .kernel_args = VMM_FIRECRACKER_AGENT_KERNEL_ARGS,
  .agent_connect_async = vmm_firecracker_agent_connect_async,
  .agent_connect_finish = vmm_firecracker_agent_connect_finish,
};
