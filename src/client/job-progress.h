/* job-progress.h: one bangerd call that works through a dev.banger.Job1
 * ('vm start', 'vm restart', 'image build'), as the user sees and stops it. */
#pragma once

#include <gio/gio.h>

#include "job-watch.h"

G_BEGIN_DECLS

typedef struct _BangerJobProgress BangerJobProgress;

/* What the user is told, formatted by the caller (it knows the object's
 * name and the wording); copied. */
typedef struct {
  const char *label;            /* before the bar: "Starting web" */
  const char *cancelling;       /* on the first Ctrl-C, a whole line */
  const char *abandoning;       /* on the second Ctrl-C, a whole line */
  const char *finished_anyway;  /* a whole line when the call succeeded after
                                 * Ctrl-C; NULL to say nothing */
} BangerJobProgressText;

/* Finishes the call with the caller's _finish() (@source is the proxy). */
typedef gboolean (*BangerJobFinishFunc) (GObject       *source,
                                         GAsyncResult  *result,
                                         gpointer       user_data,
                                         GError       **error);

/* Watches @objects for the job working on @object_path and takes Ctrl-C
 * over. Create it before making the call, so the job cannot be missed;
 * @observer (may be NULL) sees every change of the job. */
BangerJobProgress *banger_job_progress_new       (GDBusObjectManager          *objects,
                                                  const char                  *object_path,
                                                  const BangerJobProgressText *text,
                                                  BangerJobWatchFunc           observer,
                                                  gpointer                     observer_data);
BangerJobProgress *banger_job_progress_ref       (BangerJobProgress           *progress);
void               banger_job_progress_unref     (BangerJobProgress           *progress);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerJobProgress, banger_job_progress_unref)

/* The callback of the method call that makes the job; its user data is
 * a banger_job_progress_ref() of the progress, which it drops. */
void               banger_job_progress_call_done (GObject                     *source,
                                                  GAsyncResult                *result,
                                                  gpointer                     user_data);

/* Shows the job on a terminal until the call returns (Ctrl-C: Job1.Cancel
 * once; a second Ctrl-C: stop waiting), then finishes the call with
 * @finish. Returns BANGER_EXIT_OK; BANGER_EXIT_INTERRUPTED after Ctrl-C,
 * having printed why; or BANGER_EXIT_FAILED with the call's error in
 * @error, for the caller to explain as it knows best. */
int                banger_job_progress_wait      (BangerJobProgress           *progress,
                                                  BangerJobFinishFunc          finish,
                                                  gpointer                     finish_data,
                                                  GError                     **error);

G_END_DECLS
