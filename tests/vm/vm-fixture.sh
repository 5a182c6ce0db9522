# shellcheck shell=bash
# tests/vm/vm-fixture.sh: what the VM lifecycle tests share: the harness in
# a network namespace of its own, the real helper, the fake Firecracker
# behind a wrapper that each launch reads its instructions from, a kernel
# and an image, and the leak checks run after every step.
#
# Source it from a test after `set -euo pipefail`; it re-executes the test
# in a fresh network namespace first. Needs root, ip, nft, mkfs.ext4.
#
#   vm_fc_env 'FAKE_FC_FAIL_AT="PUT /vsock"'   instructions for the next launches
#                                              (FAKE_FC_EXIT_EARLY=1: exit 1 at once)
#   vm_fc_env                                  back to a plain fake
#   vm_calls NAME                              "METHOD PATH" per accepted call
#   vm_state NAME / vm_prop NAME PROP          read a VM's properties
#   vm_vmm_pids                                pids of every VMM of this test
#   vm_expect_clean LABEL                      no VMM, tap, NAT rule, socket
#                                              or runtime file is left
# VM_FIXTURE_MOUNT_NS=1 adds a private mount namespace, for tests that
# mount file systems: they vanish with the test.
if [[ -z ${BANGER_IN_NETNS:-} ]]; then
    unshare_args=(--net)
    [[ ${VM_FIXTURE_MOUNT_NS:-} == 1 ]] && unshare_args+=(--mount --propagation private)
    BANGER_IN_NETNS=1 exec unshare "${unshare_args[@]}" -- "$BASH" "$0" "$@"
fi
source "$(dirname -- "${BASH_SOURCE[0]}")/../harness/harness.sh"

harness_require_root
harness_require_cmd ip nft mkfs.ext4 busctl
: "${FAKE_FIRECRACKER:?set by meson: the fake firecracker}"
: "${BANGER_FIRECRACKER_SPEC:?set by meson: the Firecracker API spec}"
[[ -r $BANGER_FIRECRACKER_SPEC ]] ||
    harness_skip "needs the Firecracker spec at $BANGER_FIRECRACKER_SPEC (../shared beside the checkout)"
# bangerd inherits the session bus' environment, so this is set first.
export BANGER_FIRECRACKER_SPEC
harness_start
ip link set lo up

VM_ASSETS=$XDG_DATA_HOME/banger/test
install -d -m 0700 "$VM_ASSETS"
head -c 4096 /dev/urandom >"$VM_ASSETS/vmlinux"
truncate -s 64M "$VM_ASSETS/rootfs.ext4"
mkfs.ext4 -q -F "$VM_ASSETS/rootfs.ext4"

# Each launch sources fc.env, so a test can make the next start fail at a
# step; calls are recorded per VM (the --id argument).
# FAKE_FC_AGENT (the host build of the agent, from meson) is exported
# before fc.env is read, so a test's instructions can override it.
VM_FC=$HARNESS_DIR/firecracker
VM_CALLS=$HARNESS_DIR/calls
install -d -m 0755 "$VM_CALLS"
: >"$HARNESS_DIR/fc.env"
cat >"$VM_FC" <<EOF
#!/bin/bash
export FAKE_FC_AGENT="${FAKE_FC_AGENT:-}"
set -a
source "$HARNESS_DIR/fc.env"
set +a
id=
for ((i = 1; i < \$#; i++)); do
    [[ \${!i} == --id ]] && { j=\$((i + 1)); id=\${!j}; }
done
export FAKE_FC_RECORD="$VM_CALLS/\$id.jsonl"
if [[ -n \${FAKE_FC_EXIT_EARLY:-} && " \$* " != *" --version "* ]]; then
    echo "firecracker: told to fail before listening" >&2
    exit 1
fi
exec "$FAKE_FIRECRACKER" "\$@"
EOF
chmod 0755 "$VM_FC"

install -d -m 0700 "$XDG_CONFIG_HOME/banger"
cat >"$XDG_CONFIG_HOME/banger/config" <<EOF
[vm-defaults]
vmm=firecracker
kernel=$VM_ASSETS/vmlinux
image=$VM_ASSETS/rootfs.ext4
disk=256M
memory=256M
vcpus=1

[firecracker]
binary=$VM_FC
EOF

vm_fc_env() {
    printf '%s\n' "$@" >"$HARNESS_DIR/fc.env"
}

vm_calls() {
    [[ -f $VM_CALLS/$1.jsonl ]] || return 0
    /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    c = json.loads(line)
    print(c["method"], c["path"])' "$VM_CALLS/$1.jsonl"
}

vm_call_body() {
    /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    c = json.loads(line)
    if c["method"] + " " + c["path"] == sys.argv[2]:
        print(json.dumps(c["body"], sort_keys=True))' "$VM_CALLS/$1.jsonl" "$2"
}

vm_prop() {
    busctl --user --json=short get-property dev.banger.Daemon1 \
        "/dev/banger/Daemon1/vm/$(vm_path_name "$1")" dev.banger.VM1 "$2" |
        /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["data"])'
}

vm_state() { vm_prop "$1" State; }

# g_dbus_escape_object_path: '-' becomes _2d.
vm_path_name() { printf '%s\n' "${1//-/_2d}"; }

# Processes whose working directory is one of our VMs' runtime dirs: the
# VMMs bangerd started for this test, and nothing of a parallel test.
vm_vmm_pids() {
    local p cwd
    for p in /proc/[0-9]*; do
        cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
        [[ $cwd == "$XDG_RUNTIME_DIR/banger/"* ]] && printf '%s\n' "${p#/proc/}"
    done
    return 0
}

vm_leftovers() {
    local pids taps rules files
    pids=$(vm_vmm_pids)
    taps=$(ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^bg-/ {print $2}')
    rules=$(nft -a list table ip banger 2>/dev/null | grep -c 'comment "banger' || true)
    files=$(find "$XDG_RUNTIME_DIR/banger" -mindepth 1 2>/dev/null || true)
    [[ -n $pids ]] && printf 'VMM processes: %s\n' "$pids"
    [[ -n $taps ]] && printf 'taps: %s\n' "$taps"
    [[ $rules != 0 ]] && printf 'NAT rules: %s\n' "$rules"
    [[ -n $files ]] && printf 'runtime files: %s\n' "$files"
    return 0
}

vm_is_clean() { [[ -z $(vm_leftovers) ]]; }

vm_expect_clean() {
    local left
    # A VMM killed a moment ago may still be in its last exit steps.
    harness_poll 5 vm_is_clean || true
    left=$(vm_leftovers)
    if [[ -z $left ]]; then
        tap_ok "$1: nothing left behind"
    else
        tap_fail "$1: nothing left behind" "$left"
    fi
}

# The calls a successful start makes, in order.
VM_BOOT_SEQUENCE="GET /machine-config
PUT /logger
PUT /metrics
PUT /machine-config
PUT /boot-source
PUT /drives/rootfs
PUT /drives/disk
PUT /network-interfaces/eth0
PUT /vsock
PUT /actions
GET /"
