/* degraded.h: the daemon's answer-with-the-reason mode for an unusable store. */
#pragma once

#include "banger-daemon-dbus.h"

typedef struct _Degraded Degraded;

Degraded *degraded_serve (GDBusConnection  *connection,
                          GMainLoop        *loop,
                          const GError     *reason,
                          GError          **error);
void      degraded_free  (Degraded         *degraded);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Degraded, degraded_free)
