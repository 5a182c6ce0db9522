#!/bin/bash
# tests/vm/guest-smoke.sh: the smoke tier with real guests. Inside the dev
# environment (private buses, real polkitd, the helper, a network
# namespace) bangerd builds the image from the Debian packages
# guest-assets.sh caches and boots it with qemu (TCG here): vm run, exit
# codes, stdin, 50 MB of output, a file surviving a restart, host <->
# guest TCP, kill -9 of qemu and of bangerd, two VMs at once; after each,
# nothing is left behind. A guest that hangs fails with its console shown.
set -euo pipefail
source "$(dirname -- "$0")/vm-fixture.sh"
source "$(dirname -- "$0")/../guest/guest-assets.sh"

harness_require_cmd qemu-system-x86_64 sha256sum
: "${BANGER_INIT_PATH:?set by meson: banger-init}"
: "${BANGER_AGENT_PATH:?set by meson: banger-agent}"
guest_assets_fetch || harness_skip "the Debian packages of tests/guest/guest-assets.sh are not available"

cat >"$XDG_CONFIG_HOME/banger/config" <<CONF
[vm-defaults]
vmm=qemu
memory=256M
vcpus=1
disk=1G

[images]
debs=$(guest_assets_cache_dir)/debs
CONF

DAEMON=dev.banger.Daemon1
# Every banger call gets a deadline: a hung guest fails the test, never CI.
b() { timeout 180 banger "$@"; }
consoles() {
    local f
    for f in "$XDG_STATE_HOME"/banger/vms/*/console.log; do
        [[ -f $f ]] || continue
        printf '==> %s\n' "$f"
        tail -n 40 "$f"
    done
}
harness_on_exit consoles_on_failure
consoles_on_failure() { ((_tap_failed == 0)) || consoles >&2; }

tap_check "image build" b image build

# --- 1. vm run ------------------------------------------------------------------
tap_check "vm run --rm -- echo smoke-ok" b vm run --rm -- echo smoke-ok
tap_is "$TAP_OUT" smoke-ok "the guest's output, and only that, on stdout"
tap_run b vm run --rm -- sh -c 'exit 7'
tap_is "$TAP_STATUS" 7 "the command's exit code passes through"
tap_is "$(printf 'to the guest' | b vm run --rm -- cat)" "to the guest" "stdin reaches the guest"
tap_is "$(b vm list --json)" "[]" "vm run --rm leaves no VM"
vm_expect_clean "after vm run --rm"

# --- 2. a file survives a restart ---------------------------------------------------
tap_check "create" b vm create keep
tap_check "start" b vm start keep
tap_check "exec writes a file" b vm exec keep -- sh -c 'echo kept > /root/marker && sync'
tap_is "$(b vm exec keep -- dmesg | grep -c 'alg: self-tests disabled')" 1 \
    "the guest kernel skips its crypto self-tests (cryptomgr.notests)"
# loglevel=5: the kernel's boot information is in dmesg, not on the console.
tap_is "$(b vm exec keep -- dmesg | grep -c 'Linux version')" 1 "dmesg has the kernel's banner"
console=$(b vm logs keep)
[[ $console == *"banger-init: starting"* && $console != *"Linux version"* ]] &&
    tap_ok "the console has banger-init's lines, not the kernel's boot information" ||
    tap_fail "the console has banger-init's lines, not the kernel's boot information" "$console"
want=$(b vm exec keep -- sh -c 'head -c 50000000 /dev/urandom > /root/big && sha256sum /root/big' | cut -d' ' -f1)
got=$(b vm exec keep -- cat /root/big | sha256sum | cut -d' ' -f1)
[[ -n $want && $want == "$got" ]] && tap_ok "50 MB of output arrive intact" ||
    tap_fail "50 MB of output arrive intact" "guest $want, host $got"

# --- 3. host <-> guest over the bridge ---------------------------------------------------
ip=$(vm_prop keep IPv4)
ip=${ip%/*}
b vm exec keep -- sh -c 'echo from-the-guest | nc -l -p 8080' >/dev/null 2>&1 &
listener=$!
reply=
for _ in $(seq 1 50); do
    reply=$(timeout 5 bash -c "exec 3<>/dev/tcp/$ip/8080 && cat <&3" 2>/dev/null) && [[ -n $reply ]] && break
    sleep 0.2
done
tap_is "$reply" from-the-guest "the host reaches a TCP port in the guest"
wait "$listener" || true

# --- 3b. NAT: "the outside" (a namespace behind a veth, with no route back
# to the VMs' subnet) answers the guest only through NAT --------------------------
unshare --net sleep 900 &
outside=$!
harness_on_exit kill "$outside"
# Until unshare has made its namespace, $outside is still in this one.
outside_apart() { [[ $(readlink "/proc/$outside/ns/net") != "$(readlink /proc/self/ns/net)" ]]; }
harness_poll 10 outside_apart || harness_die "the outside namespace did not appear"
ip link add vx-host type veth peer name vx-out
ip link set vx-out netns "$outside"
ip addr add 198.51.100.1/24 dev vx-host
ip link set vx-host up
nsenter -t "$outside" -n sh -c 'ip link set lo up && ip addr add 198.51.100.2/24 dev vx-out && ip link set vx-out up'
nsenter -t "$outside" -n /usr/bin/python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.2", 9000))
s.listen(8)
while True:
    c, _ = s.accept()
    c.sendall(b"outside-ok\n")
    c.close()' &
server=$!
harness_on_exit kill "$server"
outside_says() { b vm exec keep -- sh -c 'nc -w 3 198.51.100.2 9000 </dev/null' 2>/dev/null || true; }
harness_poll 10 bash -c 'exec 3<>/dev/tcp/198.51.100.2/9000' || tap_fail "the outside server listens"
tap_is "$(outside_says)" "" "without NAT the guest does not reach the outside"
tap_check "vm set --nat on, live" b vm set keep --nat on
tap_is "$(outside_says)" outside-ok "with NAT the guest reaches the outside"
tap_check "vm set --nat off, live" b vm set keep --nat off
tap_is "$(outside_says)" "" "and without it again, not"

tap_check "stop" b vm stop keep
tap_is "$(vm_state keep)" stopped "stopped"
tap_check "start again" b vm start keep
tap_is "$(b vm exec keep -- cat /root/marker)" kept "the file is still there after a restart"

# --- 4. kill -9 of bangerd: re-adopted; of qemu: released ------------------------------------
# The next call must activate a new bangerd.
harness_kill_owner --session "$DAEMON"
tap_is "$(vm_state keep)" running "after kill -9 of bangerd the VM is re-adopted"
tap_is "$(b vm exec keep -- echo still-here)" still-here "and vm exec works"
vmm=$(vm_vmm_pids)
[[ -n $vmm ]] && kill -9 $vmm
harness_poll 20 bash -c "[[ \$(busctl --user get-property $DAEMON /dev/banger/Daemon1/vm/keep dev.banger.VM1 State) != *running* ]]" || true
state=$(vm_state keep)
[[ $state == failed || $state == stopped ]] && tap_ok "kill -9 of qemu: the VM is $state" ||
    tap_fail "kill -9 of qemu ends the VM" "$state"
vm_expect_clean "qemu killed"
tap_check "delete" b vm delete keep

# --- 5. two VMs at once ----------------------------------------------------------------------
tap_check "create two" bash -c 'timeout 180 banger vm create one && timeout 180 banger vm create two'
b vm start one >/dev/null 2>&1 & s1=$!
b vm start two >/dev/null 2>&1 & s2=$!
wait "$s1" && wait "$s2" && tap_ok "both start at once" || tap_fail "both start at once"
tap_is "$(b vm exec one -- hostname) $(b vm exec two -- hostname)" "one two" "both answer"
tap_check "delete both" bash -c 'timeout 180 banger vm delete --force one && timeout 180 banger vm delete --force two'
vm_expect_clean "two VMs deleted"
tap_is "$(vm_vmm_pids)" "" "no qemu left"
tap_is "$(b vm list --json)" "[]" "no VM row left"
[[ -z $(find "$XDG_STATE_HOME/banger/vms" -mindepth 1 2>/dev/null) ]] &&
    tap_ok "no VM files left" || tap_fail "no VM files left" "$(find "$XDG_STATE_HOME/banger/vms" -mindepth 1)"
tap_done
