/* ping.c: dev.banger.Helper1.Ping, the "may I, and which helper is this?"
 * call bangerd makes before its first change to the host. */
#define G_LOG_DOMAIN "banger-helper-ping"

#include "config.h"

#include "banger-error.h"

#include "helper-methods.h"

/* Authorized by authz.c (dev.banger.helper.network) before it runs, on a
 * worker thread, inside the call's op. Touches nothing on the host. */
gboolean
helper_handle_ping (BangerHelper1         *skeleton,
                    GDBusMethodInvocation *invocation,
                    gpointer               user_data)
{
  g_autoptr(GError) error = NULL;
  guint32 uid = 0;

  /* Validate: Ping has no arguments; the uid comes from the bus. */
  if (!helper_caller_get_uid (invocation, &uid, &error))
    return helper_reply_error (invocation, error);

  g_debug ("ping from uid %u", uid);
  banger_helper1_complete_ping (skeleton, invocation, PACKAGE_VERSION, uid);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}
