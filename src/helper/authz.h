/* authz.h: who may call which helper method. One table maps each method to
 * the polkit action guarding it; a method missing from it is denied. */
#pragma once

#include <gio/gio.h>
#include <polkit/polkit.h>

#include "idle.h"

G_BEGIN_DECLS

typedef struct {
  const char *method;             /* method name on dev.banger.Helper1 */
  const char *action_id;          /* polkit action the caller must be granted */
  gboolean    allow_interaction;  /* may polkit ask the caller to authenticate */
} HelperAuthzRule;

const HelperAuthzRule *helper_authz_lookup (const char *method);
const HelperAuthzRule *helper_authz_rules  (gsize      *n_rules);

gboolean helper_authz_decide (const HelperAuthzRule     *rule,
                              PolkitAuthorizationResult *result,
                              gboolean                   message_allows_interaction,
                              GError                   **error);

typedef struct _HelperAuthz HelperAuthz;

HelperAuthz *helper_authz_new    (HelperIdle             *idle);
void         helper_authz_free   (HelperAuthz            *authz);
void         helper_authz_attach (HelperAuthz            *authz,
                                  GDBusInterfaceSkeleton *skeleton);
gboolean     helper_authz_check  (HelperAuthz            *authz,
                                  GDBusMethodInvocation  *invocation,
                                  GError                **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HelperAuthz, helper_authz_free)

G_END_DECLS
