/* test-idle.c: pins banger-helper's idle exit: the name goes first, then
 * the process, and never while a call is in flight. Calls are GObjects. */
#include "config.h"

#include "banger-helper-dbus.h"

#include "idle.h"

#define MS (G_TIME_SPAN_MILLISECOND)
/* GLib may fire a timer up to a millisecond or so before a measurement
 * taken just before arming it; allow for that. */
#define SLACK (5 * MS)

typedef struct {
  GMainLoop  *loop;
  HelperIdle *idle;
  gint64      started_at;
  gint64      released_at;
  gint64      quit_at;
  GObject    *call;          /* an in-flight call the test controls */
  gint64      call_ended_at;
  guint       test_timeout_id;
} Fixture;

static void
on_release (gpointer user_data)
{
  Fixture *f = user_data;

  g_assert_cmpint (f->released_at, ==, 0);
  g_assert_cmpint (f->quit_at, ==, 0);
  f->released_at = g_get_monotonic_time ();
}

static void
on_quit (gpointer user_data)
{
  Fixture *f = user_data;

  f->quit_at = g_get_monotonic_time ();
  g_main_loop_quit (f->loop);
}

static gboolean
on_test_timeout (gpointer user_data)
{
  g_error ("test timed out");
  return G_SOURCE_REMOVE;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->loop = g_main_loop_new (NULL, FALSE);
  f->test_timeout_id = g_timeout_add_seconds (10, on_test_timeout, NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->call);
  g_clear_pointer (&f->idle, helper_idle_unref);
  g_clear_handle_id (&f->test_timeout_id, g_source_remove);
  /* Run what is still pending (a "call ended" source) before the next test. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_main_loop_unref (f->loop);
}

static void
start (Fixture *f,
       guint    timeout_ms,
       guint    grace_ms)
{
  f->idle = helper_idle_new (timeout_ms, grace_ms, on_release, on_quit, f);
  f->started_at = g_get_monotonic_time ();
  helper_idle_start (f->idle);
}

static void
end_call (Fixture *f)
{
  f->call_ended_at = g_get_monotonic_time ();
  g_clear_object (&f->call);
}

static gboolean
end_call_cb (gpointer user_data)
{
  end_call (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_exits_after_timeout_releasing_name_first (Fixture       *f,
                                               gconstpointer  data)
{
  start (f, 100, 50);
  g_main_loop_run (f->loop);

  g_assert_cmpint (f->released_at - f->started_at, >=, 100 * MS - SLACK);
  g_assert_cmpint (f->quit_at - f->released_at, >=, 50 * MS - SLACK);
  g_assert_true (helper_idle_is_released (f->idle));
}

static gboolean
check_still_serving (gpointer user_data)
{
  Fixture *f = user_data;

  g_assert_cmpint (f->released_at, ==, 0);
  g_assert_cmpuint (helper_idle_get_in_flight (f->idle), ==, 1);
  end_call (f);
  return G_SOURCE_REMOVE;
}

static void
test_never_exits_while_a_call_is_in_flight (Fixture       *f,
                                            gconstpointer  data)
{
  start (f, 50, 20);
  f->call = g_object_new (G_TYPE_OBJECT, NULL);
  helper_idle_hold (f->idle, f->call);
  g_timeout_add (300, check_still_serving, f);
  g_main_loop_run (f->loop);

  /* The timeout counts from the end of the call, not from the start. */
  g_assert_cmpint (f->released_at - f->call_ended_at, >=, 50 * MS - SLACK);
  g_assert_cmpuint (helper_idle_get_in_flight (f->idle), ==, 0);
}

static void
on_release_then_call (gpointer user_data)
{
  Fixture *f = user_data;

  on_release (f);
  /* A call that was already on its way when the name was released. */
  f->call = g_object_new (G_TYPE_OBJECT, NULL);
  helper_idle_hold (f->idle, f->call);
  g_timeout_add (100, end_call_cb, f);
}

static void
test_call_during_grace_rearms_grace (Fixture       *f,
                                     gconstpointer  data)
{
  f->idle = helper_idle_new (50, 150, on_release_then_call, on_quit, f);
  helper_idle_start (f->idle);
  g_main_loop_run (f->loop);

  g_assert_cmpint (f->call_ended_at, >, 0);
  g_assert_cmpint (f->quit_at - f->call_ended_at, >=, 150 * MS - SLACK);
}

static gboolean
quit_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_zero_timeout_never_exits (Fixture       *f,
                               gconstpointer  data)
{
  start (f, 0, 10);
  g_timeout_add (300, quit_loop, f->loop);
  g_main_loop_run (f->loop);

  g_assert_cmpint (f->released_at, ==, 0);
  g_assert_false (helper_idle_is_released (f->idle));
}

static gpointer
drop_after_100ms (gpointer object)
{
  g_usleep (100 * MS);
  g_object_unref (object);
  return NULL;
}

static void
test_call_answered_on_another_thread_is_counted (Fixture       *f,
                                                 gconstpointer  data)
{
  g_autoptr(GThread) thread = NULL;
  GObject *call = g_object_new (G_TYPE_OBJECT, NULL);

  start (f, 50, 20);
  helper_idle_hold (f->idle, call);
  thread = g_thread_new ("answer", drop_after_100ms, call);
  g_main_loop_run (f->loop);
  g_thread_join (g_steal_pointer (&thread));

  g_assert_cmpint (f->released_at - f->started_at, >=, 150 * MS - SLACK);
  g_assert_cmpuint (helper_idle_get_in_flight (f->idle), ==, 0);
}

static void
test_drain_waits_for_calls_in_flight (Fixture       *f,
                                      gconstpointer  data)
{
  g_autoptr(GThread) thread = NULL;
  GObject *call = g_object_new (G_TYPE_OBJECT, NULL);
  gint64 before = 0;

  start (f, 0, 10);
  helper_idle_hold (f->idle, call);
  thread = g_thread_new ("answer", drop_after_100ms, call);
  before = g_get_monotonic_time ();
  helper_idle_drain (f->idle, NULL);

  g_assert_cmpint (g_get_monotonic_time () - before, >=, 100 * MS - SLACK);
  g_assert_cmpuint (helper_idle_get_in_flight (f->idle), ==, 0);
  g_thread_join (g_steal_pointer (&thread));
}

/* A call GDBus dispatched but whose worker thread has not reached
 * g-authorize-method yet is only visible as a reference on the skeleton. */
static void
test_drain_waits_for_dispatched_calls (Fixture       *f,
                                       gconstpointer  data)
{
  g_autoptr(GThread) thread = NULL;
  BangerHelper1 *skeleton = banger_helper1_skeleton_new ();
  gint64 before = 0;

  start (f, 0, 10);
  thread = g_thread_new ("dispatch", drop_after_100ms, g_object_ref (skeleton));
  before = g_get_monotonic_time ();
  helper_idle_drain (f->idle, G_DBUS_INTERFACE_SKELETON (skeleton));

  g_assert_cmpint (g_get_monotonic_time () - before, >=, 100 * MS - SLACK);
  g_thread_join (g_steal_pointer (&thread));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/helper/idle/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("exits-after-timeout-releasing-name-first", test_exits_after_timeout_releasing_name_first);
  ADD ("never-exits-while-a-call-is-in-flight", test_never_exits_while_a_call_is_in_flight);
  ADD ("call-during-grace-rearms-grace", test_call_during_grace_rearms_grace);
  ADD ("zero-timeout-never-exits", test_zero_timeout_never_exits);
  ADD ("call-answered-on-another-thread-is-counted", test_call_answered_on_another_thread_is_counted);
  ADD ("drain-waits-for-calls-in-flight", test_drain_waits_for_calls_in_flight);
  ADD ("drain-waits-for-dispatched-calls", test_drain_waits_for_dispatched_calls);
#undef ADD

  return g_test_run ();
}
