#!/bin/bash
# tests/vm/start-interrupt.sh: what 'banger vm start' shows of its Job1 and
# how Ctrl-C stops it: a progress line on a terminal (a pty from script(1))
# that is erased at the end, nothing on a pipe; the first Ctrl-C cancels the
# job (exit 130, the VM stopped and clean), a second one stops waiting at
# once while bangerd still undoes the start.
set -euo pipefail
source "$(dirname -- "$0")/vm-fixture.sh"
harness_require_cmd script

ESC=$'\033'
ERASE=$'\r'"$ESC[K"

tap_check "create web" busctl --user call dev.banger.Daemon1 /dev/banger/Daemon1 \
    dev.banger.Manager1 CreateVM "sa{sv}" web 1 NAT b true

# start_on_pty OUT PIDFILE: 'banger vm start web' on a pty; everything it
# writes (stdout and stderr share the pty) goes to OUT as it comes (-f),
# its pid to PIDFILE.
start_on_pty() {
    script -qefc "echo \$\$ >'$2'; exec banger vm start web" "$1" </dev/null >/dev/null
}

# The start is past /vsock: FAKE_FC_HANG_AT holds it at InstanceStart.
start_hangs() { grep -qs '"path": "/vsock"' "$VM_CALLS/web.jsonl"; }

# --- progress on a terminal, nothing on a pipe -----------------------------------
tap_run start_on_pty "$HARNESS_DIR/pty.out" "$HARNESS_DIR/pty.pid"
pty=$(<"$HARNESS_DIR/pty.out")
tap_is "$TAP_STATUS" 0 "on a pty: the start succeeds"
[[ $pty == *"Starting web: ["*"%"* ]] && tap_ok "on a pty: a progress line is drawn" ||
    tap_fail "on a pty: a progress line is drawn" "$(cat -v <<<"$pty")"
[[ $pty == *"$ERASE"*"Started VM “web”"* && ${pty##*Starting web: } == *"$ERASE"* ]] &&
    tap_ok "on a pty: the line is erased before the result" ||
    tap_fail "on a pty: the line is erased before the result" "$(cat -v <<<"$pty")"
tap_check "stop web" banger vm stop web --force

tap_run banger vm start web
tap_is "$TAP_STATUS" 0 "on a pipe: the start succeeds"
[[ $TAP_ERR != *"Starting web"* && $TAP_ERR != *$'\r'* ]] && tap_ok "on a pipe: no progress is drawn" ||
    tap_fail "on a pipe: no progress is drawn" "$(cat -v <<<"$TAP_ERR")"
tap_check "stop web again" banger vm stop web --force

# --- Ctrl-C cancels the start -----------------------------------------------------
vm_fc_env 'FAKE_FC_HANG_AT="PUT /actions"'
: >"$VM_CALLS/web.jsonl"
rm -f "$HARNESS_DIR/pty.pid"
start_on_pty "$HARNESS_DIR/cancel.out" "$HARNESS_DIR/pty.pid" &
client=$!
harness_poll 20 start_hangs || tap_fail "the start reaches InstanceStart" "$(vm_calls web)"
shown() { [[ $(<"$HARNESS_DIR/cancel.out") == *"Starting web: ["* ]]; }
harness_poll 5 shown && tap_ok "a hung start shows its progress" ||
    tap_fail "a hung start shows its progress" "$(cat -v "$HARNESS_DIR/cancel.out")"
# (A banger already gone is what the checks below report.)
kill -INT "$(<"$HARNESS_DIR/pty.pid")" || true
status=0
wait "$client" || status=$?
out=$(<"$HARNESS_DIR/cancel.out")
tap_is "$status" 130 "Ctrl-C: banger vm start exits 130"
[[ $out == *"$ERASE"*"banger: Cancelling the start of VM “web”"* ]] &&
    tap_ok "Ctrl-C: the line is erased, the cancel announced" ||
    tap_fail "Ctrl-C: the line is erased, the cancel announced" "$(cat -v <<<"$out")"
[[ $out == *"banger: The start of VM “web” was cancelled"* ]] &&
    tap_ok "Ctrl-C: the cancelled start is reported" ||
    tap_fail "Ctrl-C: the cancelled start is reported" "$(cat -v <<<"$out")"
tap_is "$(vm_state web)" stopped "Ctrl-C: the VM is stopped"
vm_expect_clean "Ctrl-C"

# --- a second Ctrl-C stops waiting ------------------------------------------------
# bangerd is paused after the first Ctrl-C, so the cancel cannot finish
# before the second one: banger must leave without its answer.
: >"$VM_CALLS/web.jsonl"
banger vm start web >/dev/null 2>"$HARNESS_DIR/twice.err" &
client=$!
harness_poll 20 start_hangs || tap_fail "the start reaches InstanceStart again" "$(vm_calls web)"
bangerd=$(harness_name_pid --session dev.banger.Daemon1)
# Its job must be known to banger before bangerd pauses.
harness_poll 5 bash -c "busctl --user call dev.banger.Daemon1 /dev/banger/Daemon1 \
    org.freedesktop.DBus.ObjectManager GetManagedObjects | grep -q Job1" ||
    tap_fail "the start's job appears"
sleep 0.5
kill -STOP "$bangerd"
kill -INT "$client" || true
announced() { grep -qs "Cancelling the start" "$HARNESS_DIR/twice.err"; }
harness_poll 5 announced || tap_fail "the first Ctrl-C is announced" "$(cat "$HARNESS_DIR/twice.err")"
kill -INT "$client" || true
left() { ! harness_pid_alive "$client"; }
harness_poll 5 left && tap_ok "a second Ctrl-C: banger leaves with bangerd paused" ||
    tap_fail "a second Ctrl-C: banger leaves with bangerd paused"
kill -CONT "$bangerd"
status=0
wait "$client" || status=$?
tap_is "$status" 130 "a second Ctrl-C: exit 130"
grep -q "Not waiting any longer; bangerd goes on undoing the start of “web”" "$HARNESS_DIR/twice.err" &&
    tap_ok "a second Ctrl-C: says bangerd goes on undoing" ||
    tap_fail "a second Ctrl-C: says bangerd goes on undoing" "$(cat "$HARNESS_DIR/twice.err")"
stopped() { [[ $(vm_state web) == stopped ]]; }
harness_poll 20 stopped && tap_ok "bangerd still undoes the start" ||
    tap_fail "bangerd still undoes the start" "$(vm_state web)"
vm_expect_clean "second Ctrl-C"

vm_fc_env
tap_check "delete --force" banger vm delete web --force
tap_done
