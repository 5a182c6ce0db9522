/* job-watch.c: follows the ObjectManager's signals to find the Job1 that
 * works on one object and to pass on its PropertiesChanged updates. */
#define G_LOG_DOMAIN "banger-client-job"

#include "config.h"

#include "job-watch.h"

struct _BangerJobWatch {
  GDBusObjectManager *objects;
  char               *object_path;
  BangerJobWatchFunc  changed;
  gpointer            user_data;
  BangerJob1         *job;         /* owned; NULL until seen */
  gulong              added_id;
  gulong              interface_added_id;
  gulong              removed_id;
  gulong              properties_id;
};

/* Adopts @job if it is the first one seen that works on our object. */
static void
consider_job (BangerJobWatch *watch,
              BangerJob1     *job)
{
  if (watch->job == NULL &&
      g_strcmp0 (banger_job1_get_object (job), watch->object_path) == 0)
    watch->job = g_object_ref (job);

  if (watch->job == job)
    watch->changed (job, watch->user_data);
}

static void
on_object_added (GDBusObjectManager *objects,
                 GDBusObject        *object,
                 gpointer            user_data)
{
  BangerJob1 *job = banger_object_peek_job1 (BANGER_OBJECT (object));

  if (job != NULL)
    consider_job (user_data, job);
}

static void
on_interface_added (GDBusObjectManager *objects,
                    GDBusObject        *object,
                    GDBusInterface     *interface,
                    gpointer            user_data)
{
  if (BANGER_IS_JOB1 (interface))
    consider_job (user_data, BANGER_JOB1 (interface));
}

static void
on_object_removed (GDBusObjectManager *objects,
                   GDBusObject        *object,
                   gpointer            user_data)
{
  BangerJobWatch *watch = user_data;
  BangerJob1 *job = banger_object_peek_job1 (BANGER_OBJECT (object));

  if (job != NULL && job == watch->job)
    g_clear_object (&watch->job);
}

static void
on_properties_changed (GDBusObjectManagerClient *objects,
                       GDBusObjectProxy         *object,
                       GDBusProxy               *interface,
                       GVariant                 *changed,
                       const char *const        *invalidated,
                       gpointer                  user_data)
{
  /* A job's Object could in principle be filled in after it appeared, so
   * unclaimed jobs are looked at again here. */
  if (BANGER_IS_JOB1 (interface))
    consider_job (user_data, BANGER_JOB1 (interface));
}

BangerJobWatch *
banger_job_watch_new (GDBusObjectManager *objects,
                      const char         *object_path,
                      BangerJobWatchFunc  changed,
                      gpointer            user_data)
{
  BangerJobWatch *watch = g_new0 (BangerJobWatch, 1);

  watch->objects = g_object_ref (objects);
  watch->object_path = g_strdup (object_path);
  watch->changed = changed;
  watch->user_data = user_data;
  watch->added_id = g_signal_connect (objects, "object-added",
                                      G_CALLBACK (on_object_added), watch);
  watch->interface_added_id = g_signal_connect (objects, "interface-added",
                                                G_CALLBACK (on_interface_added), watch);
  watch->removed_id = g_signal_connect (objects, "object-removed",
                                        G_CALLBACK (on_object_removed), watch);
  watch->properties_id = g_signal_connect (objects, "interface-proxy-properties-changed",
                                           G_CALLBACK (on_properties_changed), watch);
  return watch;
}

BangerJob1 *
banger_job_watch_get_job (BangerJobWatch *watch)
{
  return watch->job;
}

void
banger_job_watch_free (BangerJobWatch *watch)
{
  if (watch == NULL)
    return;
  g_signal_handler_disconnect (watch->objects, watch->added_id);
  g_signal_handler_disconnect (watch->objects, watch->interface_added_id);
  g_signal_handler_disconnect (watch->objects, watch->removed_id);
  g_signal_handler_disconnect (watch->objects, watch->properties_id);
  g_clear_object (&watch->job);
  g_object_unref (watch->objects);
  g_free (watch->object_path);
  g_free (watch);
}
