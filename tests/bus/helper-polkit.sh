#!/bin/bash
# /helper/polkit: who may use banger-helper, decided by the real polkitd with
# banger's shipped actions and rules, and by the system bus policy
# (data/dbus/dev.banger.Helper1.conf) before the helper sees anything.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/../harness/harness.sh"

harness_require_root
harness_require_file "$HARNESS_HELPER_EXE" banger-helper
harness_start
harness_ensure_users

version=$(harness_project_version)
member=bangertest-member
other=bangertest-other
not_authorized=dev.banger.Error.NotAuthorized
interaction_required=org.freedesktop.DBus.Error.InteractiveAuthorizationRequired
access_denied=org.freedesktop.DBus.Error.AccessDenied

# --- polkit: the shipped defaults and rules

tap_check "root is allowed" harness_helper_call Ping
tap_is "$TAP_OUT" "('$version', uint32 0)" "root's Ping returns uid 0"

tap_check "a member of group banger is allowed (50-banger.rules)" \
    harness_as "$member" harness_helper_call Ping
tap_is "$TAP_OUT" "('$version', uint32 $BANGERTEST_MEMBER_UID)" \
    "the member's Ping returns the member's uid"

# Without a rule, what polkitd answers for a non-member depends on the
# caller's login session: no session (as here: no logind) falls under
# allow_any=no, an active local one under allow_active=auth_admin_keep.
# Either way: denied, and the helper says which.
tap_expect_fail_with "$not_authorized|$interaction_required" \
    "a user outside group banger is denied by default" \
    harness_as "$other" harness_helper_call Ping

# --- polkit: the helper maps each answer of polkitd to its own error

# What allow_active=auth_admin_keep gives an active local session: polkitd
# answers "challenge". A call that does not allow interactive authorization
# must then say so instead of a plain refusal (the CLI retries with it).
harness_polkit_rule 40-other-admin "
polkit.addRule(function(action, subject) {
    if (action.id.indexOf('dev.banger.helper.') == 0 && subject.user == '$other')
        return polkit.Result.AUTH_ADMIN_KEEP;
});"
tap_expect_fail_with "$interaction_required" \
    "auth_admin_keep without interaction allowed: InteractiveAuthorizationRequired" \
    harness_as "$other" harness_helper_call Ping
# With the flag, polkitd would ask an authentication agent; there is none,
# so the call must fail at once (a hang would end in gdbus's 20 s timeout,
# a different error) rather than hang or succeed.
tap_expect_fail_with "$not_authorized|$interaction_required" \
    "auth_admin_keep with interaction allowed but no agent: denied at once" \
    harness_as "$other" harness_helper_call --interactive Ping

harness_polkit_rule 40-other-admin "
polkit.addRule(function(action, subject) {
    if (action.id.indexOf('dev.banger.helper.') == 0 && subject.user == '$other')
        return polkit.Result.NO;
});"
tap_expect_fail_with "$not_authorized" \
    "a rule saying NO: dev.banger.Error.NotAuthorized" \
    harness_as "$other" harness_helper_call Ping
tap_expect_fail_with "$not_authorized" \
    "a rule saying NO: also when interaction is allowed" \
    harness_as "$other" harness_helper_call --interactive Ping

harness_polkit_rule 40-other-admin "
polkit.addRule(function(action, subject) {
    if (action.id.indexOf('dev.banger.helper.') == 0 && subject.user == '$other')
        return polkit.Result.YES;
});"
tap_check "a rule saying YES lets the same user in" \
    harness_as "$other" harness_helper_call Ping
tap_is "$TAP_OUT" "('$version', uint32 $BANGERTEST_OTHER_UID)" \
    "and Ping returns that user's uid"

harness_polkit_rule 40-other-admin ""
tap_expect_fail_with "$not_authorized|$interaction_required" \
    "removing the rule denies the user again" \
    harness_as "$other" harness_helper_call Ping

# --- the bus policy, enforced by dbus-daemon before the helper runs

request_helper_name() {
    gdbus call --system --dest org.freedesktop.DBus \
        --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.RequestName "$HARNESS_HELPER_NAME" 0
}
tap_expect_fail_with "$access_denied" \
    "a member of group banger cannot own dev.banger.Helper1" \
    harness_as "$member" request_helper_name
tap_expect_fail_with "$access_denied" \
    "another user cannot own dev.banger.Helper1" \
    harness_as "$other" request_helper_name

# Make sure the helper owns its name, so the refusals below come from the
# bus policy and not from a failed activation.
tap_check "the helper is running" harness_helper_call Ping

call_helper_iface() {
    gdbus call --system --timeout 10 --dest "$HARNESS_HELPER_NAME" \
        --object-path "$HARNESS_HELPER_PATH" --method "$1"
}
tap_expect_fail_with "$access_denied" \
    "the bus refuses a non-root call to another interface on the helper" \
    harness_as "$member" call_helper_iface dev.banger.NotHelper1.Ping
tap_expect_fail_with "$access_denied" \
    "the bus refuses a non-root call to the ObjectManager interface" \
    harness_as "$member" call_helper_iface \
    org.freedesktop.DBus.ObjectManager.GetManagedObjects
tap_check "a non-root user may introspect the helper" \
    harness_as "$other" call_helper_iface \
    org.freedesktop.DBus.Introspectable.Introspect
tap_check "a non-root user may ping the helper's peer interface" \
    harness_as "$other" call_helper_iface org.freedesktop.DBus.Peer.Ping

tap_done
