/* banger-error.h: banger's one error domain and its D-Bus names.
 * Every error a banger process returns over D-Bus is dev.banger.Error.<Name>. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BANGER_ERROR (banger_error_quark ())

typedef enum {
  BANGER_ERROR_FAILED,
  BANGER_ERROR_NOT_FOUND,
  BANGER_ERROR_ALREADY_EXISTS,
  BANGER_ERROR_INVALID_ARGUMENT,
  BANGER_ERROR_NOT_AUTHORIZED,
  BANGER_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
  BANGER_ERROR_BUSY,
  BANGER_ERROR_NOT_SUPPORTED,
  BANGER_ERROR_CORRUPT,
  BANGER_ERROR_NOT_OWNER,
  BANGER_ERROR_NOT_RUNNING,
} BangerError;

#define BANGER_ERROR_N_CODES (BANGER_ERROR_NOT_RUNNING + 1)

GQuark       banger_error_quark   (void);
const char  *banger_error_dbus_name (BangerError code);
void         banger_error_to_invocation (GDBusMethodInvocation *invocation,
                                         const GError          *error);

G_END_DECLS
