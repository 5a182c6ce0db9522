/* banger-error.c: registers the dev.banger.Error.* names so that errors
 * survive a D-Bus round trip as the same domain and code. */
#define G_LOG_DOMAIN "banger-error"

#include "config.h"

#include "banger-error.h"

static const GDBusErrorEntry banger_error_entries[] = {
  { BANGER_ERROR_FAILED, "dev.banger.Error.Failed" },
  { BANGER_ERROR_NOT_FOUND, "dev.banger.Error.NotFound" },
  { BANGER_ERROR_ALREADY_EXISTS, "dev.banger.Error.AlreadyExists" },
  { BANGER_ERROR_INVALID_ARGUMENT, "dev.banger.Error.InvalidArgument" },
  { BANGER_ERROR_NOT_AUTHORIZED, "dev.banger.Error.NotAuthorized" },
  /* The freedesktop name, so generic clients (busctl) recognise it. */
  { BANGER_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" },
  { BANGER_ERROR_BUSY, "dev.banger.Error.Busy" },
  { BANGER_ERROR_NOT_SUPPORTED, "dev.banger.Error.NotSupported" },
  { BANGER_ERROR_CORRUPT, "dev.banger.Error.Corrupt" },
  /* polkit allowed the call, but the resource is another uid's. */
  { BANGER_ERROR_NOT_OWNER, "dev.banger.Error.NotOwner" },
  /* The VM (or its guest agent) is not up for what was asked. */
  { BANGER_ERROR_NOT_RUNNING, "dev.banger.Error.NotRunning" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (banger_error_entries) == BANGER_ERROR_N_CODES);

GQuark
banger_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("banger-error-quark", &quark,
                                      banger_error_entries,
                                      G_N_ELEMENTS (banger_error_entries));
  return (GQuark) quark;
}

const char *
banger_error_dbus_name (BangerError code)
{
  g_return_val_if_fail (code < BANGER_ERROR_N_CODES, NULL);
  return banger_error_entries[code].dbus_error_name;
}

/* Replies with @error; errors of other domains become Failed so a caller
 * only ever sees dev.banger.Error.* (plus the bus's own errors). */
void
banger_error_to_invocation (GDBusMethodInvocation *invocation,
                            const GError          *error)
{
  if (error->domain == BANGER_ERROR)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return;
    }
  g_dbus_method_invocation_return_error_literal (invocation, BANGER_ERROR,
                                                 BANGER_ERROR_FAILED,
                                                 error->message);
}
