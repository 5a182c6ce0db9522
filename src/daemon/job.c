/* job.c: Job1 objects. Steps are coarse (a handful per operation), so each
 * change is published as it happens; the skeleton batches them per turn. */
#define G_LOG_DOMAIN "bangerd-job"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-daemon-dbus.h"
#include "banger-error.h"
#include "job.h"

#define JOB_PATH_PREFIX "/dev/banger/Daemon1/job/"

struct _Job {
  GDBusObjectManagerServer *manager;
  BangerObjectSkeleton     *object;
  BangerJob1               *iface;
  GCancellable             *cancellable;
  GDBusConnection          *connection;
  guint                     caller_watch;
  GSList                   *pending_cancels;   /* CancelCall, answered after we are gone */
};

static guint next_job_id = 1;

static void
on_caller_vanished (GDBusConnection *connection,
                    const char      *name,
                    gpointer         user_data)
{
  Job *job = user_data;

  g_info ("Caller %s of %s left the bus; cancelling", name, job_get_path (job));
  g_cancellable_cancel (job->cancellable);
}

typedef struct {
  Job                   *job;
  GDBusMethodInvocation *invocation;
} CancelCall;

static void
on_caller_uid_done (CancelCall *call);

static void
on_caller_uid (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autofree CancelCall *call = user_data;
  g_autoptr(GDBusMethodInvocation) invocation = call->invocation;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);
  g_autoptr(GError) error = NULL;
  guint32 uid = G_MAXUINT32;

  if (reply != NULL)
    g_variant_get (reply, "(u)", &uid);
  on_caller_uid_done (call);
  if (call->job == NULL)
    g_set_error (&error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, _("The job has already ended"));
  else if (uid != banger_job1_get_started_by_uid (call->job->iface))
    g_set_error (&error, BANGER_ERROR, BANGER_ERROR_NOT_AUTHORIZED,
                 _("Only the user who started the job may cancel it"));
  if (error != NULL)
    {
      banger_error_to_invocation (invocation, error);
      return;
    }
  g_cancellable_cancel (call->job->cancellable);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
on_caller_uid_done (CancelCall *call)
{
  if (call->job != NULL)
    call->job->pending_cancels = g_slist_remove (call->job->pending_cancels, call);
}

static gboolean
handle_cancel (BangerJob1            *iface,
               GDBusMethodInvocation *invocation,
               Job                   *job)
{
  CancelCall *call;

  if (!banger_job1_get_cancelable (iface))
    {
      g_dbus_method_invocation_return_error (invocation, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED,
                                             _("This job cannot be cancelled"));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  /* On the session bus every peer normally is the same user; check the
   * caller's uid anyway, as udisks does for its jobs. */
  call = g_new0 (CancelCall, 1);
  call->job = job;
  call->invocation = g_object_ref (invocation);
  job->pending_cancels = g_slist_prepend (job->pending_cancels, call);
  g_dbus_connection_call (job->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixUser",
                          g_variant_new ("(s)", g_dbus_method_invocation_get_sender (invocation)),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                          on_caller_uid, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

Job *
job_new (GDBusObjectManagerServer *manager,
         const char               *operation,
         const char               *object_path,
         GDBusMethodInvocation    *invocation)
{
  Job *job = g_new0 (Job, 1);
  g_autofree char *path = g_strdup_printf (JOB_PATH_PREFIX "%u", next_job_id++);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);

  job->manager = g_object_ref (manager);
  job->connection = g_object_ref (g_dbus_method_invocation_get_connection (invocation));
  job->cancellable = g_cancellable_new ();
  job->object = banger_object_skeleton_new (path);
  job->iface = banger_job1_skeleton_new ();
  banger_job1_set_operation (job->iface, operation);
  banger_job1_set_object (job->iface, object_path);
  banger_job1_set_cancelable (job->iface, TRUE);
  banger_job1_set_started_by_uid (job->iface, getuid ());
  banger_job1_set_started_at (job->iface, g_get_real_time ());
  g_signal_connect (job->iface, "handle-cancel", G_CALLBACK (handle_cancel), job);
  banger_object_skeleton_set_job1 (job->object, job->iface);
  g_dbus_object_manager_server_export (manager, G_DBUS_OBJECT_SKELETON (job->object));

  if (sender != NULL)
    job->caller_watch = g_bus_watch_name_on_connection (job->connection, sender,
                                                        G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                        NULL, on_caller_vanished, job, NULL);
  return job;
}

GCancellable *
job_get_cancellable (Job *job)
{
  return job->cancellable;
}

const char *
job_get_path (Job *job)
{
  return g_dbus_object_get_object_path (G_DBUS_OBJECT (job->object));
}

void
job_set_step (Job        *job,
              const char *step,
              const char *description,
              double      progress)
{
  banger_job1_set_step (job->iface, step);
  banger_job1_set_step_description (job->iface, description);
  banger_job1_set_progress (job->iface, CLAMP (progress, 0.0, 1.0));
  g_debug ("%s: %s (%.0f%%)", job_get_path (job), step, progress * 100);
}

void
job_complete (Job          *job,
              const GError *error)
{
  if (job->caller_watch != 0)
    g_bus_unwatch_name (job->caller_watch);
  for (GSList *l = job->pending_cancels; l != NULL; l = l->next)
    ((CancelCall *) l->data)->job = NULL;
  g_slist_free (job->pending_cancels);
  if (error == NULL)
    banger_job1_set_progress (job->iface, 1.0);
  /* Flush the last property values before the signal and the removal. */
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (job->iface));
  banger_job1_emit_completed (job->iface, error == NULL, error != NULL ? error->message : "");
  g_signal_handlers_disconnect_by_data (job->iface, job);
  g_dbus_object_manager_server_unexport (job->manager, job_get_path (job));
  g_object_unref (job->iface);
  g_object_unref (job->object);
  g_object_unref (job->cancellable);
  g_object_unref (job->connection);
  g_object_unref (job->manager);
  g_free (job);
}
