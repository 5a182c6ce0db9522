/* idle.h: keeps banger-helper alive while calls are in flight, and makes it
 * exit once idle: bus name released first, queued calls still answered. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _HelperIdle HelperIdle;

/* Called on the main thread: @release_name when the helper has been idle
 * for the timeout, @quit when the grace period after that ran out. */
typedef void (*HelperIdleFunc) (gpointer user_data);

HelperIdle *helper_idle_new          (guint           timeout_ms,
                                      guint           grace_ms,
                                      HelperIdleFunc  release_name,
                                      HelperIdleFunc  quit,
                                      gpointer        user_data);
HelperIdle *helper_idle_ref          (HelperIdle     *idle);
void        helper_idle_unref        (HelperIdle     *idle);

void        helper_idle_start        (HelperIdle     *idle);
void        helper_idle_hold         (HelperIdle     *idle,
                                      GObject        *call);
guint       helper_idle_get_in_flight (HelperIdle    *idle);
gboolean    helper_idle_is_released  (HelperIdle     *idle);
void        helper_idle_drain        (HelperIdle     *idle,
                                      GDBusInterfaceSkeleton *skeleton);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HelperIdle, helper_idle_unref)

G_END_DECLS
