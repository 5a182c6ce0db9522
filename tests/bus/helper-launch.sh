#!/bin/bash
# /helper/launch: Launch, Signal, Kill and CleanupJail through the private
# system bus and the real polkitd, with the harness's stand-in jailer and
# VMM: a member launches and controls its own VM; another uid cannot reach
# it; a user outside group banger is refused everything.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/../harness/harness.sh"

harness_require_root
harness_require_file "$HARNESS_HELPER_EXE" banger-helper
fake_jailer=$BANGER_BUILD_DIR/tests/harness/fake-jailer
fake_vmm=$BANGER_BUILD_DIR/tests/harness/fake-vmm
harness_require_file "$fake_jailer" "the fake jailer"
harness_require_file "$fake_vmm" "the fake VMM"
cgroot=
for dir in /sys/fs/cgroup /sys/fs/cgroup/unified; do
    if [[ $(stat -f -c %T "$dir" 2>/dev/null) == cgroup2fs ]]; then
        cgroot=$dir
        break
    fi
done
[[ -n $cgroot ]] || harness_skip "needs a cgroup2 hierarchy"

# The programs and the jail base must sit in directories only root can
# write, all the way up from / (the helper refuses anything else), so not
# below /tmp: a private dir in /run. The helper reads its configuration
# once, when the first call activates it.
work=$(mktemp -d /run/banger-launch-bus.XXXXXX)
chmod 0755 "$work"
vm=bl-$$
state=

cleanup_launch() {
    local cg
    for cg in "$cgroot/banger/${BANGERTEST_LAUNCH_UID:-none}/$vm"*; do
        [[ -d $cg ]] || continue
        echo 1 >"$cg/cgroup.kill" 2>/dev/null || true
        harness_poll 5 grep -qx 'populated 0' "$cg/cgroup.events" || true
        rmdir "$cg" 2>/dev/null || true
    done
    rmdir "$cgroot/banger/${BANGERTEST_LAUNCH_UID:-none}" 2>/dev/null || true
    local mnt
    while read -r mnt; do
        umount -l "$mnt" 2>/dev/null || true
    done < <(awk -v p="$work/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    rm -rf --one-file-system -- "$work"
    [[ -z $state ]] || rm -rf --one-file-system -- "$state"
}

install -d -m 0755 "$work/bin"
install -m 0755 -o root -g root "$fake_jailer" "$work/bin/jailer"
install -m 0755 -o root -g root "$fake_vmm" "$work/bin/firecracker"
cat >"$work/helper.conf" <<EOF
[launch]
jailer=$work/bin/jailer
firecracker=$work/bin/firecracker
jail-base=$work/jail
EOF
export BANGER_HELPER_CONFIG=$work/helper.conf

harness_start
harness_on_exit cleanup_launch
harness_ensure_users
harness_ensure_launch_user

launcher=bangertest-launch
member=bangertest-member
other=bangertest-other
uid=$BANGERTEST_LAUNCH_UID
jail_root=$work/jail/$uid/firecracker/$vm/root
cg=$cgroot/banger/$uid/$vm

# The launcher's files, in its own banger state directory.
state=$BANGERTEST_LAUNCH_HOME/.local/state/banger/test-$$
install -d -m 0700 -o "$launcher" -g "$launcher" "$state"
printf 'kernel-bytes\n' >"$state/vmlinux"
printf 'rootfs-bytes\n' >"$state/rootfs.ext4"
chown "$launcher:$launcher" "$state/vmlinux" "$state/rootfs.ext4"
chmod 0600 "$state/vmlinux" "$state/rootfs.ext4"
ln -s "$state/vmlinux" "$state/link"
spec="{'kernel': <'$state/vmlinux'>, 'drives': <[('$state/rootfs.ext4', false)]>}"

# --- a member of group banger launches its VM

tap_check "a member launches its VM" \
    harness_as "$launcher" harness_helper_call Launch "$vm" "$spec"
pid=$(sed -n 's/^(uint32 \([0-9]*\), .*/\1/p' <<<"$TAP_OUT")
tap_is "$(sed -n "s/^(uint32 [0-9]*, '\(.*\)')$/\1/p" <<<"$TAP_OUT")" "$jail_root" \
    "Launch returns the jail root <base>/UID/firecracker/VM/root"
[[ -n $pid ]] && tap_ok "Launch returns the jailer's pid ($pid)" ||
    tap_fail "Launch returns the jailer's pid" "$TAP_OUT"

tap_check "the VMM reports from inside the jail" \
    harness_poll 10 test -e "$jail_root/vmm-info"
vmm=$(cat "$jail_root/firecracker.pid" 2>/dev/null || true)
tap_check "the VMM runs as the member's uid and gid, not root" \
    grep -q "uid=$uid gid=$BANGERTEST_LAUNCH_GID euid=$uid egid=$BANGERTEST_LAUNCH_GID groups=0 " \
    "$jail_root/vmm-info"
tap_is "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$vmm/status" 2>/dev/null)" \
    "$uid $uid $uid $uid" "the kernel agrees: the VMM's uids are the member's"
tap_is "$(sed -n 's/^0:://p' "/proc/$vmm/cgroup" 2>/dev/null)" "/banger/$uid/$vm" \
    "the VMM is in cgroup banger/UID/VM"
tap_check "the VMM read the member's kernel, linked into the jail" \
    grep -q "^file vmlinux rw kernel-bytes$" "$jail_root/vmm-info"
tap_check "the API socket is api.sock in the jail root" test -S "$jail_root/api.sock"
tap_check "the helper reaped the jailer (no zombie left)" harness_wait_gone "$pid" 5

tap_expect_fail_with dev.banger.Error.Busy "a second Launch of a running VM is Busy" \
    harness_as "$launcher" harness_helper_call Launch "$vm" "$spec"
tap_expect_fail_with dev.banger.Error.InvalidArgument "a symlinked kernel is refused" \
    harness_as "$launcher" harness_helper_call Launch "$vm-2" "{'kernel': <'$state/link'>}"
tap_expect_fail_with dev.banger.Error.InvalidArgument "a file outside the banger dirs is refused" \
    harness_as "$launcher" harness_helper_call Launch "$vm-2" "{'kernel': <'/etc/passwd'>}"
tap_expect_fail_with dev.banger.Error.InvalidArgument "an unknown spec key is refused" \
    harness_as "$launcher" harness_helper_call Launch "$vm-2" \
    "{'kernel': <'$state/vmlinux'>, 'exec-file': <'/bin/sh'>}"
tap_expect_fail_with dev.banger.Error.InvalidArgument "a bad VM name is refused" \
    harness_as "$launcher" harness_helper_call Launch "../x" "$spec"
tap_expect_fail_with dev.banger.Error.NotSupported "root's Launch is refused: never uid 0" \
    harness_helper_call Launch "$vm-root" "{'kernel': <'/root/.local/state/banger/k'>}"

# --- another member (another uid) cannot reach it

tap_expect_fail_with dev.banger.Error.NotFound "another uid's Signal finds no such VM" \
    harness_as "$member" harness_helper_call Signal "$vm" KILL
tap_expect_fail_with dev.banger.Error.NotFound "another uid's Kill finds no such VM" \
    harness_as "$member" harness_helper_call Kill "$vm"
tap_check "another uid's CleanupJail is a no-op on its own (empty) side" \
    harness_as "$member" harness_helper_call CleanupJail "$vm"
tap_expect_fail_with dev.banger.Error.InvalidArgument "another uid cannot launch the member's files" \
    harness_as "$member" harness_helper_call Launch "$vm" "$spec"
tap_check "the member's VM is still running" harness_pid_alive "$vmm"
tap_check "and its jail is still there" test -e "$jail_root/vmm-info"

# --- a user outside group banger is refused all four

tap_expect_fail_with dev.banger.Error.NotAuthorized "a non-member cannot Launch" \
    harness_as "$other" harness_helper_call Launch "$vm" "$spec"
tap_expect_fail_with dev.banger.Error.NotAuthorized "a non-member cannot Signal" \
    harness_as "$other" harness_helper_call Signal "$vm" KILL
tap_expect_fail_with dev.banger.Error.NotAuthorized "a non-member cannot Kill" \
    harness_as "$other" harness_helper_call Kill "$vm"
tap_expect_fail_with dev.banger.Error.NotAuthorized "a non-member cannot CleanupJail" \
    harness_as "$other" harness_helper_call CleanupJail "$vm"
tap_check "the VM survived all of it" harness_pid_alive "$vmm"

# --- the member signals, kills and cleans up its VM

tap_expect_fail_with dev.banger.Error.InvalidArgument "a signal number is refused" \
    harness_as "$launcher" harness_helper_call Signal "$vm" 9
tap_expect_fail_with dev.banger.Error.InvalidArgument "a signal outside the allowlist is refused" \
    harness_as "$launcher" harness_helper_call Signal "$vm" STOP
tap_check "the member signals its VM" \
    harness_as "$launcher" harness_helper_call Signal "$vm" USR1
tap_check "the VMM got SIGUSR1" harness_poll 5 grep -qx USR1 "$jail_root/signals"
tap_expect_fail_with dev.banger.Error.Busy "CleanupJail is Busy while the VM runs" \
    harness_as "$launcher" harness_helper_call CleanupJail "$vm"
tap_check "the member kills its VM" harness_as "$launcher" harness_helper_call Kill "$vm"
tap_check "its cgroup empties" harness_poll 10 grep -qx 'populated 0' "$cg/cgroup.events"
tap_check "the member cleans up the jail" \
    harness_as "$launcher" harness_helper_call CleanupJail "$vm"
tap_check "the jail is gone" test ! -e "$work/jail/$uid/firecracker/$vm"
tap_check "the cgroup is gone" test ! -e "$cg"
tap_check "the member's files are untouched" grep -qx kernel-bytes "$state/vmlinux"
tap_check "CleanupJail again does nothing" \
    harness_as "$launcher" harness_helper_call CleanupJail "$vm"
tap_expect_fail_with dev.banger.Error.NotFound "after cleanup there is nothing to kill" \
    harness_as "$launcher" harness_helper_call Kill "$vm"

tap_done
