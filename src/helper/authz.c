/* authz.c: the one place that decides whether a call to banger-helper may
 * run: a table of method → polkit action, checked before any handler. */
#define G_LOG_DOMAIN "banger-helper-authz"

#include "config.h"

#include <glib/gi18n.h>

#include "banger-error.h"
#include "banger-log.h"

#include "authz.h"

#define HELPER_INTERFACE "dev.banger.Helper1"

/* Every method of dev.banger.Helper1, the polkit action that guards it, and
 * whether polkit may ask the caller to authenticate. A method missing here
 * is refused; tests/unit/helper/test-authz.c fails when the interface has a
 * method without a row, and docs/privileges.md shows the same table. */
static const HelperAuthzRule helper_authz_table[] = {
  /* bangerd pings before its first host change so a missing authorization
   * shows before any work starts: it needs what the network methods need.
   * Interactive: a desktop user may authenticate once (auth_admin_keep). */
  { "Ping", "dev.banger.helper.network", TRUE },

  /* Host networking: the bridge, the caller's taps, NAT for their VMs.
   * Every one changes the host's network; the action's defaults ask an
   * active local user to authenticate once. */
  { "EnsureBridge", "dev.banger.helper.network", TRUE },
  { "CreateTap", "dev.banger.helper.network", TRUE },
  { "OpenTap", "dev.banger.helper.network", TRUE },
  { "DeleteTap", "dev.banger.helper.network", TRUE },
  { "EnableNat", "dev.banger.helper.network", TRUE },
  { "DisableNat", "dev.banger.helper.network", TRUE },

  /* Jailed launch and control of what it launched for the caller. */
  { "Launch", "dev.banger.helper.launch", TRUE },
  { "Signal", "dev.banger.helper.launch", TRUE },
  { "Kill", "dev.banger.helper.launch", TRUE },
  { "CleanupJail", "dev.banger.helper.launch", TRUE },

  /* Crash recovery: removes only the caller's own resources, so the
   * network action (which every banger user needs) is enough.
   * Non-interactive: bangerd runs it at start-up with nobody to ask. */
  { "ReleaseAll", "dev.banger.helper.network", FALSE },
};

const HelperAuthzRule *
helper_authz_rules (gsize *n_rules)
{
  *n_rules = G_N_ELEMENTS (helper_authz_table);
  return helper_authz_table;
}

/* The rule for @method, or NULL: the method must then be refused. */
const HelperAuthzRule *
helper_authz_lookup (const char *method)
{
  if (method == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (helper_authz_table); i++)
    if (g_str_equal (helper_authz_table[i].method, method))
      return &helper_authz_table[i];
  return NULL;
}

/* Turns polkit's answer into allow (TRUE) or the error the caller sees. */
gboolean
helper_authz_decide (const HelperAuthzRule     *rule,
                     PolkitAuthorizationResult *result,
                     gboolean                   message_allows_interaction,
                     GError                   **error)
{
  if (polkit_authorization_result_get_is_authorized (result))
    return TRUE;

  if (polkit_authorization_result_get_dismissed (result))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_AUTHORIZED,
                   _("Authentication for %s (polkit action %s) was dismissed; "
                     "call again and complete the authentication dialog."),
                   rule->method, rule->action_id);
      return FALSE;
    }

  /* A challenge means "would be allowed after authenticating". */
  if (polkit_authorization_result_get_is_challenge (result))
    {
      if (!rule->allow_interaction)
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_AUTHORIZED,
                     _("%s needs authentication for polkit action %s, and it "
                       "never asks for it. Add yourself to the “banger” group "
                       "(sudo usermod -aG banger USER, then log in again)."),
                     rule->method, rule->action_id);
      else if (!message_allows_interaction)
        g_set_error (error, BANGER_ERROR,
                     BANGER_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                     _("%s needs authentication for polkit action %s, but the "
                       "call did not allow interactive authorization. Call "
                       "again allowing it, or add yourself to the “banger” "
                       "group (sudo usermod -aG banger USER, then log in "
                       "again)."),
                     rule->method, rule->action_id);
      else
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_AUTHORIZED,
                     _("%s needs authentication for polkit action %s, and no "
                       "authentication agent could ask for it. Run the command "
                       "in a desktop session or under pkttyagent, or add "
                       "yourself to the “banger” group (sudo usermod -aG "
                       "banger USER, then log in again)."),
                     rule->method, rule->action_id);
      return FALSE;
    }

  g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_AUTHORIZED,
               _("Not authorized to call %s: polkit denied action %s. Ask an "
                 "administrator to add you to the “banger” group (sudo "
                 "usermod -aG banger USER, then log in again)."),
               rule->method, rule->action_id);
  return FALSE;
}

struct _HelperAuthz {
  HelperIdle      *idle;
  GMutex           lock;        /* guards authority */
  PolkitAuthority *authority;   /* fetched once, by the first call */
};

HelperAuthz *
helper_authz_new (HelperIdle *idle)
{
  HelperAuthz *authz = g_new0 (HelperAuthz, 1);

  authz->idle = helper_idle_ref (idle);
  g_mutex_init (&authz->lock);
  return authz;
}

void
helper_authz_free (HelperAuthz *authz)
{
  if (authz == NULL)
    return;
  g_clear_object (&authz->authority);
  g_mutex_clear (&authz->lock);
  g_clear_pointer (&authz->idle, helper_idle_unref);
  g_free (authz);
}

/* Worker thread. A failure is not cached, so a later call can succeed
 * once polkitd is reachable. */
static PolkitAuthority *
get_authority (HelperAuthz  *authz,
               GError      **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&authz->lock);

  if (authz->authority == NULL)
    authz->authority = polkit_authority_get_sync (NULL, error);
  return authz->authority != NULL ? g_object_ref (authz->authority) : NULL;
}

static gboolean
polkit_failed (const HelperAuthzRule  *rule,
               GError                 *polkit_error,
               GError                **error)
{
  g_dbus_error_strip_remote_error (polkit_error);
  g_warning ("cannot check %s with polkit: %s", rule->action_id,
             polkit_error->message);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
               _("Could not check whether %s may be called: polkit is not "
                 "reachable (%s). Make sure polkitd is installed and running, "
                 "then call again."),
               rule->method, polkit_error->message);
  return FALSE;
}

/* Blocks on polkitd: only ever call it on a worker thread. */
gboolean
helper_authz_check (HelperAuthz            *authz,
                    GDBusMethodInvocation  *invocation,
                    GError                **error)
{
  const char *interface = g_dbus_method_invocation_get_interface_name (invocation);
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  GDBusMessage *message = g_dbus_method_invocation_get_message (invocation);
  gboolean interactive = (g_dbus_message_get_flags (message) &
                          G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
  PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;
  const HelperAuthzRule *rule = NULL;
  g_autoptr(PolkitAuthority) authority = NULL;
  g_autoptr(PolkitSubject) subject = NULL;
  g_autoptr(PolkitAuthorizationResult) result = NULL;
  g_autoptr(GError) local_error = NULL;

  /* Only the helper's own interface gets here: GDBus answers Peer and
   * Introspectable itself, and the interface has no properties (a test
   * pins that, since property access would bypass this check). */
  if (g_strcmp0 (interface, HELPER_INTERFACE) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_AUTHORIZED,
                   _("banger-helper only answers %s methods; %s.%s is refused."),
                   HELPER_INTERFACE, interface, method);
      return FALSE;
    }

  rule = helper_authz_lookup (method);
  if (rule == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_AUTHORIZED,
                   _("%s has no entry in banger-helper's authorization table, "
                     "so it is refused. This is a bug; please report it."),
                   method);
      return FALSE;
    }

  if (sender == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_AUTHORIZED,
                   _("%s was called without a bus sender; call it through the "
                     "system bus."), method);
      return FALSE;
    }

  if (interactive && rule->allow_interaction)
    flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;

  authority = get_authority (authz, &local_error);
  if (authority == NULL)
    return polkit_failed (rule, local_error, error);

  subject = polkit_system_bus_name_new (sender);
  result = polkit_authority_check_authorization_sync (authority, subject,
                                                      rule->action_id, NULL,
                                                      flags, NULL,
                                                      &local_error);
  if (result == NULL)
    return polkit_failed (rule, local_error, error);

  g_debug ("polkit %s for %s: authorized=%d challenge=%d interactive=%d",
           rule->action_id, sender,
           polkit_authorization_result_get_is_authorized (result),
           polkit_authorization_result_get_is_challenge (result),
           (flags & POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION) != 0);
  return helper_authz_decide (rule, result, interactive, error);
}

/* Every method call on the skeleton comes through here, on a worker
 * thread (HANDLE_METHOD_INVOCATIONS_IN_THREAD), so polkit never blocks the
 * main loop. It is also the helper's dispatcher: it holds the call for
 * idle exit, begins the call's op, and on success runs the method's
 * handle-* handler itself, inside that op, so every log line of the call
 * carries one OP_ID. Returning FALSE tells the skeleton the call has been
 * handled (answered, or handed to a handler that answers it). */
static gboolean
on_authorize_method (GDBusInterfaceSkeleton *skeleton,
                     GDBusMethodInvocation  *invocation,
                     gpointer                user_data)
{
  HelperAuthz *authz = user_data;
  GDBusInterfaceVTable *vtable = g_dbus_interface_skeleton_get_vtable (skeleton);
  g_autoptr(BangerOp) op = NULL;
  g_autoptr(GError) error = NULL;

  /* Until the invocation is answered; whatever a handler does, it ends. */
  helper_idle_hold (authz->idle, G_OBJECT (invocation));
  op = banger_op_begin (invocation);

  if (!helper_authz_check (authz, invocation, &error))
    {
      g_debug ("refused %s: %s",
               g_dbus_method_invocation_get_method_name (invocation),
               error->message);
      banger_error_to_invocation (invocation, error);
      return FALSE;
    }

  g_debug ("allowed %s: polkit granted %s",
           g_dbus_method_invocation_get_method_name (invocation),
           helper_authz_lookup (g_dbus_method_invocation_get_method_name (invocation))->action_id);

  /* The generated dispatcher: emits handle-<method>, or answers
   * UnknownMethod when no handler is connected. */
  vtable->method_call (g_dbus_method_invocation_get_connection (invocation),
                       g_dbus_method_invocation_get_sender (invocation),
                       g_dbus_method_invocation_get_object_path (invocation),
                       g_dbus_method_invocation_get_interface_name (invocation),
                       g_dbus_method_invocation_get_method_name (invocation),
                       g_dbus_method_invocation_get_parameters (invocation),
                       invocation,
                       skeleton);
  return FALSE;
}

/* Makes every method call on @skeleton go through the table. @authz must
 * outlive @skeleton. */
void
helper_authz_attach (HelperAuthz            *authz,
                     GDBusInterfaceSkeleton *skeleton)
{
  g_dbus_interface_skeleton_set_flags (skeleton,
                                       G_DBUS_INTERFACE_SKELETON_FLAGS_HANDLE_METHOD_INVOCATIONS_IN_THREAD);
  g_signal_connect (skeleton, "g-authorize-method",
                    G_CALLBACK (on_authorize_method), authz);
}
