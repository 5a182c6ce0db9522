/* helper-client.h: bangerd's calls to banger-helper on the system bus, the
 * only way it changes the host's network. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Calls dev.banger.Helper1.@method with @parameters (floating refs are
 * sunk) and completes with the reply, or with the helper's error (already
 * a BANGER_ERROR) prefixed by what was being done. Interactive polkit
 * authorization is allowed: the user's desktop agent may ask. */
void      helper_call_async  (const char          *method,
                              GVariant            *parameters,
                              const GVariantType  *reply_type,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data);
GVariant *helper_call_finish (GAsyncResult        *result,
                              GError             **error);

G_END_DECLS
