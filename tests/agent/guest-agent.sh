#!/bin/bash
# tests/agent/guest-agent.sh: the static banger-agent as PID 1 of a real
# guest (Debian cloud kernel under qemu TCG, busybox), reached over a
# virtio-serial port, driven by the same client tests as on the host
# (test-agent in guest mode); then POWEROFF must stop the VM.
set -euo pipefail
here=$(dirname -- "${BASH_SOURCE[0]}")
: "${BANGER_AGENT_STATIC:?}" "${TEST_AGENT:?}"

skip() {
    if [[ ${CI:-} == true ]]; then
        echo "Bail out! CI=true, so not skipping: $*"
        exit 1
    fi
    echo "1..0 # SKIP $*"
    exit 0
}

for tool in qemu-system-x86_64 cpio gzip timeout; do
    command -v "$tool" >/dev/null || skip "needs $tool"
done
source "$here/../guest/guest-assets.sh"
guest_assets_fetch >&2 || skip "the guest kernel and busybox are not available"
tsc=$(guest_tsc_khz) || skip "cannot tell the host TSC rate (tsc_early_khz)"

work=$(mktemp -d "${TMPDIR:-/tmp}/banger-agent-guest.XXXXXX")
qemu_pid=
cleanup() {
    [[ -z $qemu_pid ]] || kill "$qemu_pid" 2>/dev/null || true
    [[ -n ${KEEP_WORK:-} ]] || rm -rf "$work"
}
trap cleanup EXIT

# --- initramfs: busybox, the virtio modules, the agent as PID 1 ---
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
cp "$GUEST_BUSYBOX" "$root/bin/busybox"
cp "$BANGER_AGENT_STATIC" "$root/banger-agent"
mods=$GUEST_MODULES/lib/modules/$GUEST_KERNEL_VERSION/kernel
for m in virtio/virtio_ring virtio/virtio virtio/virtio_mmio char/virtio_console; do
    cp "$mods/drivers/$m.ko" "$root/lib/modules/"
done
cat >"$root/init" <<'SH'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_mmio virtio_console; do insmod /lib/modules/$m.ko; done
exec /banger-agent --vport dev.banger.agent --pid1
SH
chmod 0755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$work/initrd"

# --- the guest ---
sock=$work/agent.sock
timeout 280 qemu-system-x86_64 -M microvm -m 256M -smp 1 -nodefaults -no-user-config \
    -nographic -serial stdio -no-reboot \
    -kernel "$GUEST_KERNEL" -initrd "$work/initrd" \
    -append "console=ttyS0 panic=-1 tsc_early_khz=$tsc quiet" \
    -device virtio-serial-device \
    -chardev "socket,id=a,path=$sock,server=on,wait=off" \
    -device virtserialport,chardev=a,name=dev.banger.agent \
    </dev/null >"$work/console.log" 2>&1 &
qemu_pid=$!
for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.1; done

# The client tests' TAP, renumbered into ours, plus the power-off check.
n=0 failed=0
while IFS= read -r line; do
    case $line in
        "ok "*|"not ok "*)
            n=$((n + 1))
            [[ $line == "not ok "* ]] && failed=$((failed + 1))
            echo "$line" ;;
        1..*) ;;
        *) echo "# $line" ;;
    esac
done < <(GUEST_KERNEL_VERSION=$GUEST_KERNEL_VERSION BANGER_AGENT_SOCKET=$sock \
         "$TEST_AGENT" --tap 2>&1 || true)

n=$((n + 1))
rc=0
for _ in $(seq 300); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$qemu_pid" 2>/dev/null; then
    echo "not ok $n - the guest powered off after POWEROFF"
    failed=$((failed + 1))
else
    wait "$qemu_pid" || rc=$?
    qemu_pid=
    if ((rc == 0)); then
        echo "ok $n - the guest powered off after POWEROFF"
    else
        echo "not ok $n - qemu exited $rc"
        failed=$((failed + 1))
    fi
fi
if ((failed > 0 || n < 10)); then
    tr -d '\r' <"$work/console.log" | tail -n 40 | sed 's/^/# console: /'
fi
echo "1..$n"
((failed == 0 && n >= 10))
