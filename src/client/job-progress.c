/* job-progress.c: draws a Job1's progress as one line on a terminal and
 * turns Ctrl-C into Job1.Cancel, while the call that made the job runs. */
#define G_LOG_DOMAIN "banger-client-job"

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gi18n.h>

#include "banger-error.h"
#include "command.h"
#include "daemon-connection.h"
#include "job-progress.h"
#include "output.h"

/* Reference-counted because the method call and our Job1.Cancel may
 * answer after banger_job_progress_wait() returned (after a second
 * Ctrl-C, or when the job ended first): their callbacks hold a ref. */
struct _BangerJobProgress {
  char              *label;
  char              *cancelling;
  char              *abandoning;
  char              *finished_anyway;
  GMainLoop         *loop;
  BangerJobWatch    *watch;          /* NULL once we stopped watching */
  guint              sigint_id;      /* 0 once we stopped watching */
  GCancellable      *cancel_call;    /* of our Job1.Cancel */
  BangerJobWatchFunc observer;       /* may be NULL */
  gpointer           observer_data;
  gboolean           show_progress;  /* stderr is a terminal */
  gboolean           line_shown;
  gboolean           cancel_requested;
  gboolean           cancel_sent;
  gboolean           abandoned;      /* a second Ctrl-C: stop waiting */
  gboolean           done;           /* the call returned */
  GObject           *source;
  GAsyncResult      *result;
};

static guint
terminal_columns (void)
{
  struct winsize size;

  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    return size.ws_col;
  return 80;
}

static void
clear_progress (BangerJobProgress *progress)
{
  if (!progress->line_shown)
    return;
  /* Back to the start of the line, then erase to its end. */
  fputs ("\r\033[K", stderr);
  fflush (stderr);
  progress->line_shown = FALSE;
}

static void
on_cancel_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(BangerJobProgress) progress = user_data;
  g_autoptr(GError) error = NULL;

  if (banger_job1_call_cancel_finish (BANGER_JOB1 (source), result, &error))
    return;
  /* Cancelled when banger_job_progress_wait() returned: nobody waits. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  /* The job ended just before the Cancel reached it: the call's reply
   * says how it went, so there is nothing to add. */
  if (progress->done || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
    return;
  banger_error_explain (error);
  if (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_NOT_SUPPORTED))
    fprintf (stderr, "%s\n", _("banger: This step cannot be cancelled; waiting for it to finish."));
  else
    fprintf (stderr, _("banger: Could not cancel: %s\n"), error->message);
}

static void
send_cancel (BangerJobProgress *progress)
{
  BangerJob1 *job = banger_job_watch_get_job (progress->watch);

  if (progress->cancel_sent || job == NULL)
    return;
  progress->cancel_sent = TRUE;
  banger_job1_call_cancel (job, progress->cancel_call, on_cancel_done,
                           banger_job_progress_ref (progress));
}

static void
on_job_changed (BangerJob1 *job,
                gpointer    user_data)
{
  BangerJobProgress *progress = user_data;
  g_autofree char *line = NULL;

  if (progress->observer != NULL)
    progress->observer (job, progress->observer_data);
  /* Ctrl-C came before the job was announced. */
  if (progress->cancel_requested)
    {
      send_cancel (progress);
      return;
    }
  if (!progress->show_progress)
    return;

  line = banger_format_progress (progress->label, banger_job1_get_progress (job),
                                 banger_job1_get_step_description (job),
                                 terminal_columns () - 1);
  fprintf (stderr, "\r%s\033[K", line);
  fflush (stderr);
  progress->line_shown = TRUE;
}

static gboolean
on_sigint (gpointer user_data)
{
  BangerJobProgress *progress = user_data;

  clear_progress (progress);
  if (progress->cancel_requested)
    {
      /* bangerd cancels a job whose caller leaves the bus, so leaving
       * still undoes the work; we just do not wait to see it. */
      fputs (progress->abandoning, stderr);
      progress->abandoned = TRUE;
      g_main_loop_quit (progress->loop);
      return G_SOURCE_CONTINUE;
    }

  progress->cancel_requested = TRUE;
  fputs (progress->cancelling, stderr);
  send_cancel (progress);
  return G_SOURCE_CONTINUE;
}

BangerJobProgress *
banger_job_progress_new (GDBusObjectManager          *objects,
                         const char                  *object_path,
                         const BangerJobProgressText *text,
                         BangerJobWatchFunc           observer,
                         gpointer                     observer_data)
{
  BangerJobProgress *progress = g_rc_box_new0 (BangerJobProgress);

  progress->label = g_strdup (text->label);
  progress->cancelling = g_strdup (text->cancelling);
  progress->abandoning = g_strdup (text->abandoning);
  progress->finished_anyway = g_strdup (text->finished_anyway);
  progress->loop = g_main_loop_new (NULL, FALSE);
  progress->cancel_call = g_cancellable_new ();
  progress->observer = observer;
  progress->observer_data = observer_data;
  progress->show_progress = isatty (STDERR_FILENO);
  progress->watch = banger_job_watch_new (objects, object_path, on_job_changed, progress);
  progress->sigint_id = g_unix_signal_add (SIGINT, on_sigint, progress);
  return progress;
}

BangerJobProgress *
banger_job_progress_ref (BangerJobProgress *progress)
{
  return g_rc_box_acquire (progress);
}

/* Ends what only makes sense while someone waits: the job's signals,
 * Ctrl-C, our pending Cancel and the line on the terminal. */
static void
stop_watching (BangerJobProgress *progress)
{
  g_clear_handle_id (&progress->sigint_id, g_source_remove);
  g_clear_pointer (&progress->watch, banger_job_watch_free);
  g_cancellable_cancel (progress->cancel_call);
  clear_progress (progress);
}

static void
progress_clear (gpointer data)
{
  BangerJobProgress *progress = data;

  stop_watching (progress);
  g_free (progress->label);
  g_free (progress->cancelling);
  g_free (progress->abandoning);
  g_free (progress->finished_anyway);
  g_main_loop_unref (progress->loop);
  g_object_unref (progress->cancel_call);
  g_clear_object (&progress->source);
  g_clear_object (&progress->result);
}

void
banger_job_progress_unref (BangerJobProgress *progress)
{
  g_rc_box_release_full (progress, progress_clear);
}

void
banger_job_progress_call_done (GObject      *source,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  g_autoptr(BangerJobProgress) progress = user_data;

  progress->source = g_object_ref (source);
  progress->result = g_object_ref (result);
  progress->done = TRUE;
  g_main_loop_quit (progress->loop);
}

int
banger_job_progress_wait (BangerJobProgress    *progress,
                          BangerJobFinishFunc   finish,
                          gpointer              finish_data,
                          GError              **error)
{
  g_autoptr(GError) failed = NULL;

  if (!progress->done)
    g_main_loop_run (progress->loop);
  stop_watching (progress);

  if (progress->abandoned)
    return BANGER_EXIT_INTERRUPTED;

  if (!finish (progress->source, progress->result, finish_data, &failed))
    {
      /* After Ctrl-C a failure is the cancellation itself (or what ended
       * the job first): say it as it is, with the exit status of Ctrl-C. */
      if (progress->cancel_requested)
        {
          banger_error_explain (failed);
          fprintf (stderr, "banger: %s\n", failed->message);
          return BANGER_EXIT_INTERRUPTED;
        }
      g_propagate_error (error, g_steal_pointer (&failed));
      return BANGER_EXIT_FAILED;
    }

  if (progress->cancel_requested && progress->finished_anyway != NULL)
    fputs (progress->finished_anyway, stderr);
  return BANGER_EXIT_OK;
}
