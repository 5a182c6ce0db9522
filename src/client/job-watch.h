/* job-watch.h: finds the dev.banger.Job1 object bangerd creates for an
 * operation on one object (a VM) and reports its progress as it changes. */
#pragma once

#include <gio/gio.h>

#include "banger-daemon-dbus.h"

G_BEGIN_DECLS

typedef struct _BangerJobWatch BangerJobWatch;

/* Called when the job first appears and on every change of its
 * properties. */
typedef void (*BangerJobWatchFunc) (BangerJob1 *job,
                                    gpointer    user_data);

/* Starts watching @objects for a job whose Object property is
 * @object_path. Create it before calling the method that makes the job:
 * only jobs added afterwards are taken, so a job of an earlier operation
 * is never mistaken for ours. */
BangerJobWatch *banger_job_watch_new     (GDBusObjectManager *objects,
                                          const char         *object_path,
                                          BangerJobWatchFunc  changed,
                                          gpointer            user_data);
/* The job, or NULL before it appeared or after it was removed. */
BangerJob1     *banger_job_watch_get_job (BangerJobWatch     *watch);
void            banger_job_watch_free    (BangerJobWatch     *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerJobWatch, banger_job_watch_free)

G_END_DECLS
