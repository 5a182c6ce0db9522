/* methods.c: connects each dev.banger.Helper1 method to its handler, and
 * holds what handlers share: who the caller is, according to the bus. */
#define G_LOG_DOMAIN "banger-helper-methods"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"

#include "helper-methods.h"

/* A method without a handler here is answered with UnknownMethod by the
 * generated code, after authorization; one without an authz.c row is
 * refused before that. */
void
helper_methods_connect (BangerHelper1 *skeleton)
{
  g_signal_connect (skeleton, "handle-ping",
                    G_CALLBACK (helper_handle_ping), NULL);
  g_signal_connect (skeleton, "handle-ensure-bridge",
                    G_CALLBACK (helper_handle_ensure_bridge), NULL);
  g_signal_connect (skeleton, "handle-create-tap",
                    G_CALLBACK (helper_handle_create_tap), NULL);
  g_signal_connect (skeleton, "handle-open-tap",
                    G_CALLBACK (helper_handle_open_tap), NULL);
  g_signal_connect (skeleton, "handle-delete-tap",
                    G_CALLBACK (helper_handle_delete_tap), NULL);
  g_signal_connect (skeleton, "handle-enable-nat",
                    G_CALLBACK (helper_handle_enable_nat), NULL);
  g_signal_connect (skeleton, "handle-disable-nat",
                    G_CALLBACK (helper_handle_disable_nat), NULL);
  g_signal_connect (skeleton, "handle-launch",
                    G_CALLBACK (helper_handle_launch), NULL);
  g_signal_connect (skeleton, "handle-signal",
                    G_CALLBACK (helper_handle_signal), NULL);
  g_signal_connect (skeleton, "handle-kill",
                    G_CALLBACK (helper_handle_kill), NULL);
  g_signal_connect (skeleton, "handle-cleanup-jail",
                    G_CALLBACK (helper_handle_cleanup_jail), NULL);
  g_signal_connect (skeleton, "handle-release-all",
                    G_CALLBACK (helper_handle_release_all), NULL);
}

/* Answers @invocation with @error (banger's error names only) and logs
 * why at debug level; returns what a handle-* handler returns. */
gboolean
helper_reply_error (GDBusMethodInvocation *invocation,
                    const GError          *error)
{
  g_debug ("%s failed: %s", g_dbus_method_invocation_get_method_name (invocation),
           error->message);
  banger_error_to_invocation (invocation, error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The caller's uid as the bus daemon knows it from the socket credentials.
 * Handlers take uids from here, never from an argument. Blocks on the bus:
 * worker threads only. */
gboolean
helper_caller_get_uid (GDBusMethodInvocation  *invocation,
                       guint32                *out_uid,
                       GError                **error)
{
  GDBusConnection *connection = g_dbus_method_invocation_get_connection (invocation);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) local_error = NULL;

  if (sender == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_AUTHORIZED,
                   _("The call has no bus sender, so its uid is unknown; call "
                     "the helper through the system bus."));
      return FALSE;
    }

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus",
                                       "GetConnectionUnixUser",
                                       g_variant_new ("(s)", sender),
                                       G_VARIANT_TYPE ("(u)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       &local_error);
  if (reply == NULL)
    {
      g_dbus_error_strip_remote_error (local_error);
      g_warning ("cannot read the uid of %s: %s", sender, local_error->message);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   _("Could not find out which user is calling (%s). If the "
                     "calling program exited, run it again."),
                   local_error->message);
      return FALSE;
    }

  g_variant_get (reply, "(u)", out_uid);
  return TRUE;
}
