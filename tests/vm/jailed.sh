#!/bin/bash
# tests/vm/jailed.sh: a VM whose Firecracker runs through the helper's
# jailer ([firecracker] jailer=always), as a real non-root user (the helper
# never launches for uid 0): the launch, jail-relative API paths, the VMM
# found in its cgroup, stop, kill -9 of bangerd and re-adoption, a forced
# delete; after each, no process, cgroup, jail, tap or runtime file is left.
# The stand-in jailer chroots for real; the fake Firecracker (a script)
# gets /usr and its own files bound into the jail (fake-jailer.binds).
set -euo pipefail
if [[ -z ${BANGER_IN_NETNS:-} ]]; then
    # The helper reads its config when first activated, inside the fixture:
    # everything it names sits in dirs only root can write, so not in /tmp.
    JAILED_WORK=$(mktemp -d /run/banger-jailed.XXXXXX)
    chmod 0755 "$JAILED_WORK"
    export JAILED_WORK BANGER_HELPER_CONFIG=$JAILED_WORK/helper.conf
    cat >"$BANGER_HELPER_CONFIG" <<CONF
[launch]
jailer=$JAILED_WORK/bin/jailer
firecracker=$JAILED_WORK/bin/firecracker
jail-base=$JAILED_WORK/jail
CONF
fi
source "$(dirname -- "$0")/vm-fixture.sh"

work=$JAILED_WORK
fake_jailer=$BANGER_BUILD_DIR/tests/harness/fake-jailer
harness_require_file "$fake_jailer" "the fake jailer"
cgroot=
for dir in /sys/fs/cgroup /sys/fs/cgroup/unified; do
    if [[ $(stat -f -c %T "$dir" 2>/dev/null) == cgroup2fs ]]; then
        cgroot=$dir
        break
    fi
done
[[ -n $cgroot ]] || harness_skip "needs a cgroup2 hierarchy"
harness_ensure_launch_user
user=bangertest-launch
uid=$BANGERTEST_LAUNCH_UID
home=$BANGERTEST_LAUNCH_HOME
vm=jw$$
assets=$home/.local/share/banger/jailed-test-$$

cleanup_jailed() {
    local cg=$cgroot/banger/$uid/$vm
    if [[ -d $cg ]]; then
        echo 1 >"$cg/cgroup.kill" 2>/dev/null || true
        harness_poll 5 grep -qx 'populated 0' "$cg/cgroup.events" || true
        rmdir "$cg" 2>/dev/null || true
    fi
    rm -rf --one-file-system -- "$work" "$assets" "$home/.local/state/banger/vms/$vm" \
        "$home/.local/state/banger/state.db"*
}
harness_on_exit cleanup_jailed

# The user's files, where Launch takes them from.
install -d -m 0700 -o "$user" -g "$user" "$assets"
install -m 0600 -o "$user" -g "$user" "$VM_ASSETS/vmlinux" "$assets/vmlinux"
install -m 0600 -o "$user" -g "$user" "$VM_ASSETS/rootfs.ext4" "$assets/rootfs.ext4"

# The helper's programs: the stand-in jailer and a Firecracker that runs
# the fake from inside the jail with the jailer's empty environment.
install -d -m 0755 "$work/bin" "$work/jail"
install -m 0755 "$fake_jailer" "$work/bin/jailer"
chmod 1777 "$VM_CALLS"
cat >"$work/bin/firecracker" <<EOF
#!/bin/bash
id=
for ((i = 1; i < \$#; i++)); do
    [[ \${!i} == --id ]] && { j=\$((i + 1)); id=\${!j}; }
done
export BANGER_FIRECRACKER_SPEC="$(readlink -f "$BANGER_FIRECRACKER_SPEC")"
export FAKE_FC_RECORD="$VM_CALLS/\$id.jsonl"
export FAKE_FC_AGENT="$(readlink -f "$FAKE_FC_AGENT")"
set -a
source "$HARNESS_DIR/fc.env"
set +a
exec /usr/bin/python3 "$(readlink -f "$FAKE_FIRECRACKER")" "\$@"
EOF
chmod 0755 "$work/bin/firecracker"
{
    echo "bind /usr"
    for link in bin lib lib64 sbin; do
        [[ -L /$link ]] && echo "link /$link $(readlink "/$link")"
    done
    echo "bind $(dirname -- "$(readlink -f "$FAKE_FIRECRACKER")")"
    echo "bind $(dirname -- "$(readlink -f "$FAKE_FC_AGENT")")"
    echo "bind $(dirname -- "$(readlink -f "$BANGER_FIRECRACKER_SPEC")")"
    echo "bind $HARNESS_DIR"
    echo "bind-rw $VM_CALLS"
} >"$work/bin/fake-jailer.binds"
: >"$work/bin/fake-jailer.log"

# The user's config: always jailed.
user_config=$HARNESS_DIR/users/$user/home/.config/banger
harness_as "$user" true   # makes the user's harness dirs
install -d -m 0700 -o "$user" -g "$user" "$user_config"
cat >"$user_config/config" <<EOF
[vm-defaults]
vmm=firecracker
disk=256M
memory=256M
vcpus=1

[firecracker]
jailer=always
EOF
chown "$user:$user" "$user_config/config"

jail_root=$work/jail/$uid/firecracker/$vm/root
cg=$cgroot/banger/$uid/$vm

# Runs as the user inside its own session bus, where bangerd is activated
# with XDG dirs in the home Launch accepts; prints KEY=VALUE observations
# that the checks below read.
cat >"$work/as-user.sh" <<EOF
set -u
banger=$HARNESS_BANGER_EXE
r() { printf '%s=%s\n' "\$1" "\$2"; }
state() { "\$banger" vm show "$vm" --json 2>/dev/null |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])'; }
vmm_pids() { cat "$cg/cgroup.procs" 2>/dev/null | tr '\n' ' ' | sed 's/ \$//'; }
# The fake's guest agent (FAKE_FC_AGENT) is a process beside the VMM in the
# cgroup, where a real guest's agent runs inside it: it is not counted.
vmm_pids() { local p out=; for p in \$(cat "$cg/cgroup.procs" 2>/dev/null); do [[ \$(cat /proc/\$p/comm 2>/dev/null) == banger-agent* ]] || out+="\$p "; done; printf '%s\n' "\${out% }"; }
leftovers() {
    local left=
    [[ -e "$cg" ]] && left+="cgroup "
    [[ -e "$jail_root" ]] && left+="jail "
    [[ -n \$(find "\$XDG_RUNTIME_DIR/banger" -mindepth 1 2>/dev/null) ]] && left+="runtime-files "
    ip -o link show 2>/dev/null | grep -q ': bg-' && left+="tap "
    printf '%s\n' "\${left:-none}"
}
daemon_pid() {
    gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.GetConnectionUnixProcessID dev.banger.Daemon1 |
        sed 's/^(uint32 \([0-9]*\),)$/\1/'
}
gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.UpdateActivationEnvironment \
    "{'XDG_STATE_HOME': '$home/.local/state', 'XDG_DATA_HOME': '$home/.local/share'}" >/dev/null

"\$banger" vm create "$vm" --image "$assets/rootfs.ext4" --kernel "$assets/vmlinux" >/dev/null
r create \$?
# The fake is told to refuse InstanceStart: the jail must be given back.
printf 'fail-output=%s\n' "\$("\$banger" vm start "$vm" 2>&1 | tr '\n' ' ')"
r fail-state "\$(state)"
r fail-left "\$(leftovers)"
: >"$HARNESS_DIR/fc.env"
printf 'start-output=%s\n' "\$("\$banger" vm start "$vm" 2>&1 | tr '\n' ' ')"
r start-state "\$(state)"
pids=\$(vmm_pids)
r vmm-count "\$(wc -w <<<"\$pids")"
pid=\${pids%% *}
r vmm-uid "\$(stat -c %u /proc/\$pid 2>/dev/null)"
r jail-link "\$(readlink "\$XDG_RUNTIME_DIR"/banger/*/jail)"
r console-linked "\$(stat -c %h "$home/.local/state/banger/vms/$vm/console.log")"
"\$banger" vm stop "$vm" >/dev/null 2>&1
r stop \$?
r stop-state "\$(state)"
r stop-left "\$(leftovers)"

"\$banger" vm start "$vm" >/dev/null 2>&1
r restart \$?
pid=\$(vmm_pids)
d=\$(daemon_pid)
kill -9 "\$d"
while kill -0 "\$d" 2>/dev/null; do sleep 0.05; done
# Also until the bus has seen the connection close (else a call can still
# be routed to it instead of activating a new bangerd).
while [[ \$(gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.NameHasOwner dev.banger.Daemon1) == "(true,)" ]]; do
    sleep 0.05
done
r readopt-state "\$(state)"
r readopt-same-vmm "\$( [[ -n \$pid && \$(vmm_pids) == "\$pid" ]] && echo yes || echo "no: \$pid vs \$(vmm_pids)")"
"\$banger" vm stop "$vm" >/dev/null 2>&1
r readopt-stop \$?
r readopt-left "\$(leftovers)"

"\$banger" vm start "$vm" >/dev/null 2>&1
r start3 \$?
"\$banger" vm delete --force "$vm" >/dev/null 2>&1
r delete \$?
r delete-left "\$(leftovers)"
EOF
chmod 0644 "$work/as-user.sh"

vm_fc_env 'FAKE_FC_FAIL_AT="PUT /actions"'
chmod 0666 "$HARNESS_DIR/fc.env"
out=$(harness_as_session "$user" bash "$work/as-user.sh" 2>&1) || true
[[ ! -s $work/bin/fake-jailer.log ]] || tap_diag "the jailer said: $(cat "$work/bin/fake-jailer.log")"
get() { sed -n "s/^$1=//p" <<<"$out" | head -n 1; }

tap_is "$(get create)" 0 "the user creates a VM"
tap_is "$(get fail-state)" failed "a jailed start refused by the VMM fails"
[[ $(get fail-output) == *'step “boot”'* ]] && tap_ok "and names the step" ||
    tap_fail "and names the step" "$(get fail-output)"
tap_is "$(get fail-left)" none "the failed jailed start leaves no cgroup, jail, tap or runtime file"
tap_is "$(get start-state)" running "a jailed start reaches running"
[[ $(get start-state) == running ]] || tap_diag "$out"
tap_is "$(get vmm-count)" 1 "one VMM in the VM's cgroup banger/UID/VM"
tap_is "$(get vmm-uid)" "$uid" "the VMM runs as the user"
tap_is "$(get jail-link)" "$jail_root" "the runtime dir links the helper's jail"
tap_is "$(get console-linked)" 2 "the console log is linked into the jail"
bodies=$(for call in "PUT /boot-source" "PUT /drives/rootfs" "PUT /drives/disk" \
    "PUT /logger" "PUT /serial" "PUT /vsock"; do vm_call_body "$vm" "$call"; done)
for want in '"kernel_image_path": "/vmlinux"' '"path_on_host": "/rootfs.ext4"' \
    '"path_on_host": "/disk.ext4"' '"log_path": "/vmm.log"' \
    '"serial_out_path": "/console.log"' '"uds_path": "/vsock.sock"'; do
    if [[ $bodies == *"$want"* ]]; then
        tap_ok "jail-relative: $want"
    else
        tap_fail "jail-relative: $want" "$bodies"
    fi
done
tap_is "$(get stop)" 0 "the jailed VM stops"
tap_is "$(get stop-state)" stopped "and is stopped"
tap_is "$(get stop-left)" none "stop leaves no cgroup, jail, tap or runtime file"
tap_is "$(get restart)" 0 "it starts again"
tap_is "$(get readopt-state)" running "after kill -9 of bangerd, the jailed VM is re-adopted"
tap_is "$(get readopt-same-vmm)" yes "the same VMM"
tap_is "$(get readopt-stop)" 0 "the re-adopted VM stops"
tap_is "$(get readopt-left)" none "and leaves nothing behind"
tap_is "$(get start3)" 0 "a third start"
tap_is "$(get delete)" 0 "delete --force of the running jailed VM"
tap_is "$(get delete-left)" none "delete leaves nothing behind"
tap_done
