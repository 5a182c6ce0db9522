#!/bin/bash
# tests/vm/recovery.sh: kill -9 of bangerd mid-start and while a VM runs,
# and of the VMM while it runs. After bangerd is started again the state
# is what the processes say it is: a live VMM is re-adopted (and can be
# stopped), a dead or half-started one is cleaned up; nothing leaks.
set -euo pipefail
source "$(dirname -- "$0")/vm-fixture.sh"

DAEMON=dev.banger.Daemon1
kill_bangerd() { harness_kill_owner --session "$DAEMON"; }

tap_check "create web" banger vm create web

# --- bangerd dies in the middle of a start ----------------------------------------
vm_fc_env 'FAKE_FC_HANG_AT="PUT /actions"'
banger vm start web >/dev/null 2>&1 &
start_pid=$!
harness_poll 15 grep -q '"path": "/vsock"' "$VM_CALLS/web.jsonl" ||
    tap_fail "the start reaches InstanceStart" "$(vm_calls web)"
kill_bangerd
wait "$start_pid" && tap_fail "the interrupted start fails" || tap_ok "the interrupted start fails"
[[ -n $(vm_vmm_pids) ]] && tap_ok "the half-started VMM outlived bangerd" ||
    tap_fail "the half-started VMM outlived bangerd"
vm_fc_env
tap_is "$(vm_state web)" failed "after a restart, a VM caught mid-start is failed"
[[ $(vm_prop web LastError) == *starting* ]] && tap_ok "LastError says what happened" ||
    tap_fail "LastError says what happened" "$(vm_prop web LastError)"
vm_expect_clean "bangerd killed mid-start"

# --- the VMM dies while the VM runs ------------------------------------------------------
tap_check "start web" banger vm start web
vmm=$(vm_vmm_pids)
kill -9 $vmm
harness_poll 10 bash -c "[[ \$(busctl --user get-property $DAEMON /dev/banger/Daemon1/vm/web dev.banger.VM1 State) == *failed* ]]" ||
    tap_fail "a killed VMM makes the VM failed" "$(vm_state web)"
tap_is "$(vm_state web)" failed "a killed VMM makes the VM failed"
[[ $(vm_prop web LastError) == *"signal 9"* ]] && tap_ok "LastError says it was killed" ||
    tap_fail "LastError says it was killed" "$(vm_prop web LastError)"
vm_expect_clean "VMM killed"

# --- bangerd dies while the VM runs: re-adopted -------------------------------------------
tap_check "start web again" banger vm start web
vmm=$(vm_vmm_pids)
kill_bangerd
tap_is "$(vm_state web)" running "after a restart the VM is still running"
tap_is "$(vm_vmm_pids)" "$vmm" "the same VMM, re-adopted"
: >"$VM_CALLS/web.jsonl"
tap_check "a re-adopted VM stops" banger vm stop web
tap_is "$(vm_calls web | grep -v '^GET')" "" "through its guest agent, reconnected after the restart"
tap_is "$(vm_state web)" stopped "web is stopped"
vm_expect_clean "re-adopted and stopped"

# --- both die: the VM is cleaned up on restart ---------------------------------------------
tap_check "start web once more" banger vm start web
vmm=$(vm_vmm_pids)
kill_bangerd
kill -9 $vmm
harness_poll 5 bash -c "! kill -0 $vmm 2>/dev/null" || true
tap_is "$(vm_state web)" failed "a VMM gone while bangerd was down: failed"
vm_expect_clean "both killed"

# --- a re-adopted VM whose VMM dies later is noticed too ----------------------------------
tap_check "start for the last time" banger vm start web
kill_bangerd
tap_is "$(vm_state web)" running "re-adopted"
kill -9 $(vm_vmm_pids)
harness_poll 10 bash -c "[[ \$(busctl --user get-property $DAEMON /dev/banger/Daemon1/vm/web dev.banger.VM1 State) == *failed* ]]" || true
tap_is "$(vm_state web)" failed "the exit of an adopted VMM is seen through its pidfd"
vm_expect_clean "adopted VMM killed"

tap_check "delete web" banger vm delete web
vm_expect_clean "after delete"
tap_done
