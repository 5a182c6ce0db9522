#!/bin/bash
# tests/vm/start-failures.sh: a start that fails at any step (prepare,
# network, launch, each configure call, boot; refused, crashed or hung)
# leaves the VM failed with a LastError naming the step, and nothing else:
# no VMM, tap, NAT rule, socket or runtime file. A stop during a start
# cancels it. The VM starts fine afterwards. A forced delete during a start
# cancels it too, and deletes the VM.
set -euo pipefail
source "$(dirname -- "$0")/vm-fixture.sh"

# start_fails_at STEP LABEL: a start fails at STEP and leaves nothing.
start_fails_at() {
    local step=$1 label=$2
    tap_expect_fail_with "step “$step”" "$label: the start fails" banger vm start web
    tap_is "$(vm_state web)" failed "$label: web is failed"
    [[ $(vm_prop web LastError) == *"step “$step”"* ]] &&
        tap_ok "$label: LastError names the step" ||
        tap_fail "$label: LastError names the step" "$(vm_prop web LastError)"
    vm_expect_clean "$label"
}

tap_check "create web" busctl --user call dev.banger.Daemon1 /dev/banger/Daemon1 \
    dev.banger.Manager1 CreateVM "sa{sv}" web 1 NAT b true
tap=$(vm_prop web Tap)

# prepare: the kernel is gone.
mv "$VM_ASSETS/vmlinux" "$VM_ASSETS/vmlinux.away"
start_fails_at prepare "missing kernel"
mv "$VM_ASSETS/vmlinux.away" "$VM_ASSETS/vmlinux"

# network: something that is not banger's tap holds the name.
ip link add "$tap" type bridge
tap_expect_fail_with "step “network”" "tap name taken: the start fails" banger vm start web
tap_is "$(vm_state web)" failed "tap name taken: web is failed"
ip link show dev "$tap" >/dev/null 2>&1 && tap_ok "the foreign device is left alone" ||
    tap_fail "the foreign device is left alone"
ip link del "$tap"
vm_expect_clean "tap name taken"

# launch: the VMM exits before it listens.
vm_fc_env FAKE_FC_EXIT_EARLY=1
start_fails_at launch "VMM exits at once"

# configure and boot: each call refused in turn.
while read -r method path; do
    [[ $method == GET ]] && continue
    step=configure
    [[ $path == /actions ]] && step=boot
    vm_fc_env "FAKE_FC_FAIL_AT=\"$method $path\""
    start_fails_at "$step" "$method $path refused"
done <<<"$VM_BOOT_SEQUENCE"
# A refused boot on a host without a usable /dev/kvm (none, not ours, or a
# software KVM on a CPU without VMX or SVM) says so.
if ! harness_kvm_usable; then
    [[ $(vm_prop web LastError) == *"/dev/kvm is not usable"* ]] &&
        tap_ok "a refused boot names /dev/kvm where it is missing" ||
        tap_fail "a refused boot names /dev/kvm where it is missing" "$(vm_prop web LastError)"
fi

vm_fc_env 'FAKE_FC_CRASH_AT="PUT /drives/disk"'
start_fails_at configure "VMM crashes mid-configuration"

vm_fc_env 'FAKE_FC_HANG_AT="PUT /vsock"'
start_fails_at configure "VMM stops answering"

# A stop while the helper is creating the tap: the helper still creates it,
# so the undone start must remove it. strace holds the helper in its open()
# of /dev/net/tun for a while, so the stop lands while CreateTap is in
# flight. (polkit rules cannot slow the call: root is always authorized.)
vm_fc_env
harness_helper_call Ping >/dev/null
helper_pid=$(harness_name_pid dev.banger.Helper1)
strace -qq -f -o /dev/null -p "$helper_pid" -P /dev/net/tun \
    -e trace=open,openat -e inject=open,openat:delay_enter=2s &
strace_pid=$!
harness_poll 10 eval '[[ $(awk "/^TracerPid:/ { print \$2 }" /proc/$helper_pid/status) != 0 ]]' ||
    tap_fail "strace holds the helper"
# How many lines of the helper's log hold PATTERN so far.
helper_said() { grep -c -- "$1" "$HARNESS_DIR/system.log" || true; }
calls_before=$(helper_said 'Helper1.CreateTap from')
created_before=$(helper_said "created tap $tap ")
banger vm start web >"$HARNESS_DIR/start.out" 2>&1 &
start_pid=$!
harness_poll 20 eval '(($(helper_said "Helper1.CreateTap from") > calls_before))' ||
    tap_fail "the start reaches CreateTap" "$(tail -n 20 "$HARNESS_DIR/system.log")"
tap_check "stop while the tap is being created" banger vm stop web
wait "$start_pid" && tap_fail "the start stopped at the tap reports failure" \
    "$(cat "$HARNESS_DIR/start.out")" || tap_ok "the start stopped at the tap reports failure"
tap_is "$(vm_state web)" stopped "a start stopped at the tap leaves the VM stopped"
harness_poll 20 eval '(($(helper_said "created tap $tap ") > created_before))' ||
    tap_fail "the helper created the tap" "$(tail -n 20 "$HARNESS_DIR/system.log")"
kill "$strace_pid"
wait "$strace_pid" || true
vm_expect_clean "stop while the tap is being created"

# A stop while the start hangs cancels it; both calls return.
vm_fc_env 'FAKE_FC_HANG_AT="PUT /actions"'
: >"$VM_CALLS/web.jsonl"
banger vm start web >"$HARNESS_DIR/start.out" 2>&1 &
start_pid=$!
# Once /vsock is accepted, the start waits for InstanceStart's answer.
harness_poll 10 bash -c "grep -qs '\"path\": \"/vsock\"' '$VM_CALLS/web.jsonl'" ||
    tap_fail "the start reaches InstanceStart" "$(vm_calls web)"
tap_check "stop during a start" banger vm stop web
wait "$start_pid" && tap_fail "the cancelled start reports failure" "$(cat "$HARNESS_DIR/start.out")" ||
    tap_ok "the cancelled start reports failure"
grep -q cancelled "$HARNESS_DIR/start.out" && tap_ok "it says it was cancelled" ||
    tap_fail "it says it was cancelled" "$(cat "$HARNESS_DIR/start.out")"
tap_is "$(vm_state web)" stopped "a cancelled start leaves the VM stopped"
tap_is "$(vm_prop web LastError)" "" "with no error"
vm_expect_clean "cancelled start"

# The start is a Job1 object while it runs; Cancel on it undoes the start.
vm_fc_env 'FAKE_FC_HANG_AT="PUT /actions"'
: >"$VM_CALLS/web.jsonl"
banger vm start web >"$HARNESS_DIR/start.out" 2>&1 &
start_pid=$!
harness_poll 10 bash -c "grep -qs '\"path\": \"/vsock\"' '$VM_CALLS/web.jsonl'" ||
    tap_fail "the start reaches InstanceStart" "$(vm_calls web)"
jobs=$(busctl --user --json=short call dev.banger.Daemon1 /dev/banger/Daemon1 \
    org.freedesktop.DBus.ObjectManager GetManagedObjects | /usr/bin/python3 -c '
import json, sys
objects = json.load(sys.stdin)["data"][0]
for path, ifaces in objects.items():
    job = ifaces.get("dev.banger.Job1")
    if job:
        print(path, job["Operation"]["data"], job["Object"]["data"], job["Step"]["data"],
              job["Cancelable"]["data"])')
[[ $jobs =~ ^(/dev/banger/Daemon1/job/[0-9]+)\ vm-start\ /dev/banger/Daemon1/vm/web\ boot\ True$ ]] &&
    tap_ok "a vm-start job for web is at step boot" || tap_fail "a vm-start job for web is at step boot" "$jobs"
job=${jobs%% *}
tap_check "Job1.Cancel" busctl --user call dev.banger.Daemon1 "$job" dev.banger.Job1 Cancel
wait "$start_pid" && tap_fail "the cancelled start fails" || tap_ok "the cancelled start fails"
tap_is "$(vm_state web)" stopped "a cancelled job leaves the VM stopped"
jobs=$(busctl --user call dev.banger.Daemon1 /dev/banger/Daemon1 \
    org.freedesktop.DBus.ObjectManager GetManagedObjects | grep -c Job1 || true)
tap_is "$jobs" 0 "and the job is gone"
vm_expect_clean "cancelled job"

vm_fc_env
: >"$VM_CALLS/web.jsonl"
tap_check "after all that, web starts" banger vm start web
tap_is "$(vm_state web)" running "web is running"
tap_is "$(vm_prop web LastError)" "" "LastError is cleared"
tap_check "delete --force" banger vm delete web --force
vm_expect_clean "after delete"

# A forced delete while the start hangs cancels it, then deletes the VM; a
# plain delete during the start is refused.
tap_check "create late" busctl --user call dev.banger.Daemon1 /dev/banger/Daemon1 \
    dev.banger.Manager1 CreateVM "sa{sv}" late 0
vm_fc_env 'FAKE_FC_HANG_AT="PUT /actions"'
banger vm start late >"$HARNESS_DIR/start.out" 2>&1 &
start_pid=$!
harness_poll 10 bash -c "grep -qs '\"path\": \"/vsock\"' '$VM_CALLS/late.jsonl'" ||
    tap_fail "the start of late reaches InstanceStart" "$(vm_calls late)"
tap_expect_fail_with "try again" "a plain delete during a start is refused" banger vm delete late
tap_check "delete --force during a start" banger vm delete late --force
wait "$start_pid" && tap_fail "the start ended by the delete reports failure" "$(cat "$HARNESS_DIR/start.out")" ||
    tap_ok "the start ended by the delete reports failure"
tap_expect_fail_with "no VM named" "late is gone" banger vm show late
vm_expect_clean "delete during a start"
tap_done
