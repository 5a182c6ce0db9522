#!/bin/bash
# /helper/activation: banger-helper is started by D-Bus activation on the
# first call, answers Ping with its version and the caller's uid, exits by
# itself after --idle-timeout seconds without calls, and is started again by
# the next call.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/../harness/harness.sh"

# Short enough to watch it happen, long enough that two calls in a row do
# not race the timer.
export BANGER_HELPER_IDLE_TIMEOUT=2

harness_require_root
harness_require_file "$HARNESS_HELPER_EXE" banger-helper
harness_start
harness_ensure_users

version=$(harness_project_version)
helper=$HARNESS_HELPER_NAME

helper_absent() {
    local rc=0
    harness_name_has_owner "$helper" || rc=$?
    ((rc == 1))
}

tap_check "helper is not running before the first call" helper_absent

# Any caller's call activates it; the uid comes from the bus credentials.
tap_check "Ping as a member of group banger activates the helper" \
    harness_as bangertest-member harness_helper_call Ping
tap_is "$TAP_OUT" "('$version', uint32 $BANGERTEST_MEMBER_UID)" \
    "Ping returns the version and the member's own uid"

tap_check "Ping as root succeeds" harness_helper_call Ping
tap_is "$TAP_OUT" "('$version', uint32 0)" "Ping returns uid 0 to root"
# Right after a call, well within the idle timeout even on a loaded machine.
pid=$(harness_name_pid "$helper") || pid=
tap_check "dev.banger.Helper1 is owned after the call" test -n "$pid"
exe=$(readlink "/proc/${pid:-0}/exe" 2>/dev/null) || exe=
tap_is "$exe" "$(readlink -f -- "$HARNESS_HELPER_EXE")" \
    "the name's owner is the built banger-helper"

# Idle exit: the name goes first (so no call is lost to a dying process),
# then the process. Both bounded polls, generous for a loaded machine.
if harness_wait_gone "$helper" $((BANGER_HELPER_IDLE_TIMEOUT + 15)); then
    tap_ok "the helper releases its name after ${BANGER_HELPER_IDLE_TIMEOUT}s idle"
else
    tap_fail "the helper releases its name after ${BANGER_HELPER_IDLE_TIMEOUT}s idle"
fi
if [[ -n $pid ]] && harness_wait_gone "$pid" 10; then
    tap_ok "the idle helper process exits"
else
    tap_fail "the idle helper process exits" "pid: ${pid:-unknown}"
fi

tap_check "the next Ping activates the helper again" harness_helper_call Ping
tap_is "$TAP_OUT" "('$version', uint32 0)" \
    "the re-activated helper answers Ping"
new_pid=$(harness_name_pid "$helper") || new_pid=
if [[ -n $new_pid && $new_pid != "$pid" ]]; then
    tap_ok "a new helper process serves it"
else
    tap_fail "a new helper process serves it" "old: $pid new: $new_pid"
fi

tap_done
