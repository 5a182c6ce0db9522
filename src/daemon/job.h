/* job.h: a long operation on the bus (dev.banger.Job1): progress, the
 * current step, Cancel, and Completed before it disappears. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _Job Job;

/* Exports a job at /dev/banger/Daemon1/job/N through @manager. The job is
 * cancelled when @invocation's sender leaves the bus or calls Cancel. */
Job          *job_new          (GDBusObjectManagerServer *manager,
                                const char               *operation,
                                const char               *object_path,
                                GDBusMethodInvocation    *invocation);
GCancellable *job_get_cancellable (Job        *job);
const char   *job_get_path     (Job        *job);
void          job_set_step     (Job        *job,
                                const char *step,
                                const char *description,
                                double      progress);
/* Emits Completed, unexports and frees the job. */
void          job_complete     (Job        *job,
                                const GError *error);

G_END_DECLS
