#!/bin/bash
# tests/vm/lifecycle.sh: a VM's whole life through the CLI on the private
# buses, with the real helper (and polkitd) in a network namespace and the
# fake Firecracker checking every API call against the spec: create, start
# (the exact call sequence), running, stop, start again, restart, logs,
# delete; afterwards no VMM, tap, NAT rule, socket or file is left.
set -euo pipefail
source "$(dirname -- "$0")/vm-fixture.sh"

json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

tap_check "create web" banger vm create web --nat
tap_is "$(vm_state web)" stopped "a new VM is stopped"
ip=$(vm_prop web IPv4)
mac=$(vm_prop web MAC)
tap=$(vm_prop web Tap)
tap_is "$ip" "172.30.0.2/24" "the first VM gets the first free address"
tap_is "$mac" "06:00:ac:1e:00:02" "the MAC is derived from the address"
[[ $tap =~ ^bg-[0-9a-z]+-2$ ]] && tap_ok "the tap name is banger's ($tap)" ||
    tap_fail "the tap name is banger's" "$tap"
disk=$XDG_STATE_HOME/banger/vms/web/disk.ext4
[[ -f $disk ]] && tap_ok "the writable disk exists" || tap_fail "the writable disk exists"
tap_is "$(stat -c %s "$disk")" $((256 << 20)) "the disk has the configured size"
(($(stat -c %b "$disk") * 512 < (64 << 20))) && tap_ok "the disk is sparse" ||
    tap_fail "the disk is sparse" "$(stat -c '%b blocks' "$disk")"
tap_run debugfs -R 'cat /banger/vm.conf' "$disk"
[[ $TAP_OUT == *"hostname=web"* && $TAP_OUT == *"ipv4=172.30.0.2/24"* &&
    $TAP_OUT == *"gateway=172.30.0.1"* && $TAP_OUT == *"mac=06:00:ac:1e:00:02"* ]] &&
    tap_ok "the boot config is on the disk" || tap_fail "the boot config is on the disk" "$TAP_OUT"
vm_expect_clean "after create"

# --- start ------------------------------------------------------------------
tap_check "start web" banger vm start web
tap_is "$(vm_state web)" running "web is running"
tap_is "$(vm_calls web)" "$VM_BOOT_SEQUENCE" "the exact API sequence, in order"
tap_is "$(vm_call_body web 'PUT /machine-config')" \
    '{"mem_size_mib": 256, "smt": false, "vcpu_count": 1}' "machine-config from the VM's settings"
tap_is "$(vm_call_body web 'PUT /boot-source' | json 'd["boot_args"]')" \
    "console=ttyS0 reboot=k panic=1 cryptomgr.notests loglevel=5 banger.agent=vsock:52" \
    "the kernel's command line: only its warnings and worse on the console"
tap_is "$(vm_call_body web 'PUT /drives/rootfs')" \
    "{\"drive_id\": \"rootfs\", \"is_read_only\": true, \"is_root_device\": true, \"path_on_host\": \"$VM_ASSETS/rootfs.ext4\"}" \
    "the image is the read-only root drive"
tap_is "$(vm_call_body web 'PUT /drives/disk')" \
    "{\"drive_id\": \"disk\", \"is_read_only\": false, \"is_root_device\": false, \"path_on_host\": \"$disk\"}" \
    "the VM's disk is writable"
tap_is "$(vm_call_body web 'PUT /network-interfaces/eth0')" \
    "{\"guest_mac\": \"$mac\", \"host_dev_name\": \"$tap\", \"iface_id\": \"eth0\"}" \
    "the network interface uses the VM's tap and MAC"
link=$(ip -j -d link show dev "$tap" | json 'd[0]["linkinfo"]["info_data"].get("user","-"), d[0].get("master","-")')
tap_is "$link" "root banger0" "the tap exists, is the user's and sits on banger0"
rules=$(nft list table ip banger)
[[ $rules == *"ip saddr 172.30.0.2 "*masquerade* ]] &&
    tap_ok "--nat made a masquerade rule" || tap_fail "--nat made a masquerade rule" "$rules"
pids=$(vm_vmm_pids)
[[ $(wc -w <<<"$pids") == 1 ]] && tap_ok "one VMM process" || tap_fail "one VMM process" "$pids"
tap_is "$(stat -c %a "$XDG_RUNTIME_DIR/banger")" 700 "the runtime dir is private"
tap_check "show --json" banger vm show web --json
tap_is "$(json '[d["state"], d["ipv4"], d["nat"], d["last_error"]]' <<<"$TAP_OUT")" \
    "['running', '172.30.0.2/24', True, None]" "show --json has the runtime facts"
tap_check "start of a running VM does nothing" banger vm start web
tap_is "$(vm_vmm_pids)" "$pids" "still the same VMM"
tap_expect_fail_with "stop it first" "delete of a running VM is refused" banger vm delete web
tap_is "$(vm_state web)" running "and web still runs"

tap_check "logs" banger vm logs web
[[ $TAP_OUT == *"Running Firecracker v1.14.4"* ]] && tap_ok "the console log has the VMM's startup" ||
    tap_fail "the console log has the VMM's startup" "$TAP_OUT"
tap_check "logs --vmm" banger vm logs web --vmm

# --- NAT live -----------------------------------------------------------------
tap_check "set --nat off on a running VM" banger vm set web --nat off
rules=$(nft list table ip banger 2>/dev/null || true)
[[ $rules == *172.30.0.2* ]] && tap_fail "the rule is gone at once" "$rules" ||
    tap_ok "the rule is gone at once"
tap_check "set --nat on again" banger vm set web --nat on
tap_expect_fail_with "stop it" "vcpus cannot change while running" banger vm set web --vcpus 2

# --- stop ----------------------------------------------------------------------
: >"$VM_CALLS/web.jsonl"
tap_check "stop web" banger vm stop web
tap_is "$(vm_state web)" stopped "web is stopped"
# The guest agent synced and powered the guest off; the VMM's API was not
# needed (the fake exits when its agent does, as Firecracker does when the
# guest powers off).
tap_is "$(vm_calls web | grep -v ^GET)" "" "the stop went through the guest agent"
vm_expect_clean "after stop"
tap_check "stop of a stopped VM does nothing" banger vm stop web

# --- without its agent, a stop asks the VMM ----------------------------------------
tap_check "start web for a stop without agent" banger vm start web
agent=$(pgrep -f "banger-agent-test --unix $XDG_RUNTIME_DIR/" || true)
[[ -n $agent ]] && kill -9 $agent
: >"$VM_CALLS/web.jsonl"
tap_check "stop web without its agent" banger vm stop web
tap_is "$(vm_calls web | grep -v ^GET)" "PUT /actions" "the stop asked the VMM"
tap_is "$(vm_call_body web 'PUT /actions')" '{"action_type": "SendCtrlAltDel"}' "with Ctrl-Alt-Del"
vm_expect_clean "after a stop without agent"

# --- start again, restart ----------------------------------------------------------
: >"$VM_CALLS/web.jsonl"
cp "$XDG_CONFIG_HOME/banger/config" "$HARNESS_DIR/config.saved"
printf '[guest]\nkernel-messages = all\n' >>"$XDG_CONFIG_HOME/banger/config"
tap_check "start web again" banger vm start web
tap_is "$(vm_calls web)" "$VM_BOOT_SEQUENCE" "the same sequence again"
[[ $(vm_call_body web 'PUT /boot-source' | json 'd["boot_args"]') != *loglevel=* ]] &&
    tap_ok "with [guest] kernel-messages = all the console gets all of them" ||
    tap_fail "with [guest] kernel-messages = all the console gets all of them"
cp "$HARNESS_DIR/config.saved" "$XDG_CONFIG_HOME/banger/config"
tap_is "$(vm_prop web IPv4)" "$ip" "the address stays the VM's"
old=$(vm_vmm_pids)
tap_check "restart web" banger vm restart web
tap_is "$(vm_state web)" running "running after restart"
new=$(vm_vmm_pids)
[[ -n $new && $new != "$old" ]] && tap_ok "restart made a new VMM" || tap_fail "restart made a new VMM" "$old / $new"
tap_check "stop --force" banger vm stop web --force
tap_is "$(vm_state web)" stopped "a forced stop stops"
vm_expect_clean "after a forced stop"

# --- delete --force of a running VM ------------------------------------------------
tap_check "start before a forced delete" banger vm start web
tap_check "delete --force" banger vm delete web --force
tap_expect_fail_with "no VM named" "web is gone" banger vm show web
[[ ! -e $XDG_STATE_HOME/banger/vms/web ]] && tap_ok "its directory is gone" ||
    tap_fail "its directory is gone" "$(ls -la "$XDG_STATE_HOME/banger/vms/web")"
vm_expect_clean "after delete"
tap_is "$(ls -A "$XDG_STATE_HOME/banger/vms")" "" "no VM files at all"
tap_done
