/* helper-methods.h: banger-helper's D-Bus method handlers, one file each,
 * and what they share. Each runs on a worker thread after authz.c allowed it. */
#pragma once

#include <gio/gio.h>

#include "banger-helper-dbus.h"

G_BEGIN_DECLS

/* Wiring: connects every handle-* signal of @skeleton to its handler. */
void     helper_methods_connect (BangerHelper1          *skeleton);

/* Shared by handlers. */
gboolean helper_reply_error     (GDBusMethodInvocation  *invocation,
                                 const GError           *error);
gboolean helper_caller_get_uid  (GDBusMethodInvocation  *invocation,
                                 guint32                *out_uid,
                                 GError                **error);

/* One per method of dev.banger.Helper1 (see docs/privileges.md). */
gboolean helper_handle_ping     (BangerHelper1          *skeleton,
                                 GDBusMethodInvocation  *invocation,
                                 gpointer                user_data);

/* Network methods, net-methods.c. */
gboolean helper_handle_ensure_bridge (BangerHelper1         *skeleton,
                                      GDBusMethodInvocation *invocation,
                                      gpointer               user_data);
gboolean helper_handle_create_tap    (BangerHelper1         *skeleton,
                                      GDBusMethodInvocation *invocation,
                                      const char            *name,
                                      gpointer               user_data);
gboolean helper_handle_open_tap      (BangerHelper1         *skeleton,
                                      GDBusMethodInvocation *invocation,
                                      const char            *name,
                                      gpointer               user_data);
gboolean helper_handle_delete_tap    (BangerHelper1         *skeleton,
                                      GDBusMethodInvocation *invocation,
                                      const char            *name,
                                      gpointer               user_data);
gboolean helper_handle_enable_nat    (BangerHelper1         *skeleton,
                                      GDBusMethodInvocation *invocation,
                                      const char            *tap,
                                      const char            *address,
                                      gpointer               user_data);
gboolean helper_handle_disable_nat   (BangerHelper1         *skeleton,
                                      GDBusMethodInvocation *invocation,
                                      const char            *tap,
                                      gpointer               user_data);

/* Crash recovery, release.c. */
gboolean helper_handle_release_all   (BangerHelper1         *skeleton,
                                      GDBusMethodInvocation *invocation,
                                      gpointer               user_data);

/* Launch methods, launch-methods.c. */
gboolean helper_handle_launch        (BangerHelper1         *skeleton,
                                      GDBusMethodInvocation *invocation,
                                      const char            *vm,
                                      GVariant              *spec,
                                      gpointer               user_data);
gboolean helper_handle_signal        (BangerHelper1         *skeleton,
                                      GDBusMethodInvocation *invocation,
                                      const char            *vm,
                                      const char            *signal_name,
                                      gpointer               user_data);
gboolean helper_handle_kill          (BangerHelper1         *skeleton,
                                      GDBusMethodInvocation *invocation,
                                      const char            *vm,
                                      gpointer               user_data);
gboolean helper_handle_cleanup_jail  (BangerHelper1         *skeleton,
                                      GDBusMethodInvocation *invocation,
                                      const char            *vm,
                                      gpointer               user_data);

G_END_DECLS
