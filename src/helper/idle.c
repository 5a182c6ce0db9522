/* idle.c: counts the calls in flight and makes banger-helper exit after it
 * has had none for the idle timeout, releasing its bus name first. */
#define G_LOG_DOMAIN "banger-helper-idle"

#include "config.h"

#include "idle.h"

/* SERVING: owns the name, waiting for the idle timeout.
 * RELEASED: name given up; still answers calls already sent to it until the
 *           grace period passes with none in flight.
 * DONE: quit was requested; no more timers. */
typedef enum {
  PHASE_SERVING,
  PHASE_RELEASED,
  PHASE_DONE,
} Phase;

struct _HelperIdle {
  guint           timeout_ms;     /* 0: never exit by itself */
  guint           grace_ms;
  HelperIdleFunc  release_name;
  HelperIdleFunc  quit;
  gpointer        user_data;
  GMainContext   *context;        /* the main thread's; all timers live there */

  gint            in_flight;      /* atomic: touched from worker threads */
  gint            skeleton_gone;  /* atomic: set by a weak ref, any thread */

  /* Main thread only. */
  Phase           phase;
  gboolean        started;
  GSource        *timer;
};

HelperIdle *
helper_idle_new (guint          timeout_ms,
                 guint          grace_ms,
                 HelperIdleFunc release_name,
                 HelperIdleFunc quit,
                 gpointer       user_data)
{
  /* Reference counted: "call ended" sources hold a reference, so one still
   * pending when the owner drops theirs finds the struct alive. */
  HelperIdle *idle = g_atomic_rc_box_new0 (HelperIdle);

  idle->timeout_ms = timeout_ms;
  idle->grace_ms = grace_ms;
  idle->release_name = release_name;
  idle->quit = quit;
  idle->user_data = user_data;
  idle->context = g_main_context_ref_thread_default ();
  idle->phase = PHASE_SERVING;
  return idle;
}

static void
clear_timer (HelperIdle *idle)
{
  if (idle->timer == NULL)
    return;
  g_source_destroy (idle->timer);
  g_clear_pointer (&idle->timer, g_source_unref);
}

static void
helper_idle_clear (gpointer data)
{
  HelperIdle *idle = data;

  clear_timer (idle);
  g_main_context_unref (idle->context);
}

HelperIdle *
helper_idle_ref (HelperIdle *idle)
{
  return g_atomic_rc_box_acquire (idle);
}

void
helper_idle_unref (HelperIdle *idle)
{
  if (idle == NULL)
    return;
  g_atomic_rc_box_release_full (idle, helper_idle_clear);
}

static gboolean on_timer (gpointer user_data);

/* (Re)starts the countdown for the current phase. Main thread only. It
 * never runs while a call is in flight: the last call to end re-arms it,
 * so the timeout always measures time with nothing in flight. */
static void
arm_timer (HelperIdle *idle)
{
  clear_timer (idle);
  if (!idle->started || idle->timeout_ms == 0 || idle->phase == PHASE_DONE)
    return;
  if (g_atomic_int_get (&idle->in_flight) > 0)
    return;

  idle->timer = g_timeout_source_new (idle->phase == PHASE_SERVING
                                      ? idle->timeout_ms : idle->grace_ms);
  g_source_set_callback (idle->timer, on_timer, idle, NULL);
  g_source_set_name (idle->timer, "[banger-helper] idle timer");
  g_source_attach (idle->timer, idle->context);
}

static gboolean
on_timer (gpointer user_data)
{
  HelperIdle *idle = user_data;

  g_clear_pointer (&idle->timer, g_source_unref);

  /* A call began since the timer was armed; its end re-arms the timer. */
  if (g_atomic_int_get (&idle->in_flight) > 0)
    return G_SOURCE_REMOVE;

  if (idle->phase == PHASE_SERVING)
    {
      g_message ("idle for %g s, exiting", idle->timeout_ms / 1000.0);
      /* Give the name up first: from now on new callers activate a fresh
       * helper, while calls already addressed to this one are answered. */
      idle->phase = PHASE_RELEASED;
      idle->release_name (idle->user_data);
      arm_timer (idle);
    }
  else if (idle->phase == PHASE_RELEASED)
    {
      g_debug ("no call for %u ms after releasing the name; quitting",
               idle->grace_ms);
      idle->phase = PHASE_DONE;
      idle->quit (idle->user_data);
    }
  return G_SOURCE_REMOVE;
}

/* Starts counting idle time; call once the bus name is owned. */
void
helper_idle_start (HelperIdle *idle)
{
  idle->started = TRUE;
  if (idle->timeout_ms == 0)
    g_debug ("idle exit disabled");
  arm_timer (idle);
}

static gboolean
rearm_in_main (gpointer user_data)
{
  HelperIdle *idle = user_data;

  if (g_atomic_int_get (&idle->in_flight) == 0)
    arm_timer (idle);
  return G_SOURCE_REMOVE;
}

/* Runs in whichever thread drops the call's last reference. */
static void
on_call_finalized (gpointer  user_data,
                   GObject  *where_the_call_was)
{
  g_autoptr(HelperIdle) idle = user_data;   /* the hold's reference */
  g_autoptr(GSource) source = NULL;

  if (!g_atomic_int_dec_and_test (&idle->in_flight))
    return;

  /* Always through a source: timers belong to the main thread, and
   * g_main_context_invoke() could run the callback right here. Attaching
   * also wakes helper_idle_drain(). */
  source = g_idle_source_new ();
  g_source_set_callback (source, rearm_in_main, g_atomic_rc_box_acquire (idle),
                         (GDestroyNotify) helper_idle_unref);
  g_source_set_name (source, "[banger-helper] call ended");
  g_source_attach (source, idle->context);
}

/* Counts @call as in flight until it is finalized. For a D-Bus call that
 * is the GDBusMethodInvocation: every g_dbus_method_invocation_return_*()
 * drops the last reference, so the hold ends exactly when the call has
 * been answered, whoever answers it and on whatever thread. Any thread. */
void
helper_idle_hold (HelperIdle *idle,
                  GObject    *call)
{
  g_return_if_fail (G_IS_OBJECT (call));

  /* The call keeps the counter alive: it may be answered after the owner
   * dropped its reference (a late reply during shutdown). */
  g_atomic_int_inc (&idle->in_flight);
  g_object_weak_ref (call, on_call_finalized, g_atomic_rc_box_acquire (idle));
}

guint
helper_idle_get_in_flight (HelperIdle *idle)
{
  return (guint) g_atomic_int_get (&idle->in_flight);
}

/* Whether the idle timeout has passed and the name was given up. */
gboolean
helper_idle_is_released (HelperIdle *idle)
{
  return idle->phase != PHASE_SERVING;
}

static void
on_skeleton_finalized (gpointer  user_data,
                       GObject  *where_the_skeleton_was)
{
  HelperIdle *idle = user_data;

  g_atomic_int_set (&idle->skeleton_gone, TRUE);
  g_main_context_wakeup (idle->context);
}

/* Stops taking calls and waits until the ones already taken are answered.
 * Takes ownership of @skeleton (may be NULL). Main thread, after the main
 * loop returned.
 *
 * The in-flight count alone is not enough: between GDBus dispatching a
 * call (main thread) and g-authorize-method holding it (worker thread)
 * there is a window. Each dispatched call's GTask holds a reference on
 * the skeleton until it is done, so "skeleton finalized" closes it. */
void
helper_idle_drain (HelperIdle             *idle,
                   GDBusInterfaceSkeleton *skeleton)
{
  idle->phase = PHASE_DONE;
  clear_timer (idle);

  if (skeleton != NULL)
    {
      /* Calls still queued in GDBus are now answered with UnknownMethod
       * instead of being lost when the process exits. */
      if (g_dbus_interface_skeleton_get_connection (skeleton) != NULL)
        g_dbus_interface_skeleton_unexport (skeleton);
      g_object_weak_ref (G_OBJECT (skeleton), on_skeleton_finalized, idle);
      g_object_unref (skeleton);
    }
  else
    {
      g_atomic_int_set (&idle->skeleton_gone, TRUE);
    }

  while (!g_atomic_int_get (&idle->skeleton_gone) ||
         g_atomic_int_get (&idle->in_flight) > 0)
    g_main_context_iteration (idle->context, TRUE);
}
