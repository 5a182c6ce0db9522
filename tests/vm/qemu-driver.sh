#!/bin/bash
# tests/vm/qemu-driver.sh: boots real guests through bangerd's qemu driver
# under TCG. Builds a tiny initramfs from the Debian kernel's modules and
# static busybox (tests/guest/guest-assets.sh), whose /init answers on the
# agent's virtio-serial port and powers off on an ACPI power-button press
# unless the command line says test.noacpid, then runs the GTest binary
# given as $1 with GUEST_KERNEL and GUEST_INITRD set.
set -euo pipefail
here=$(dirname -- "${BASH_SOURCE[0]}")
test_binary=${1:?usage: qemu-driver.sh TEST-BINARY [ARGS]}
shift

skip() {
    if [[ ${CI:-} == true ]]; then
        echo "Bail out! CI=true, so not skipping: $*"
        exit 1
    fi
    echo "1..0 # SKIP $*"
    exit 0
}

command -v qemu-system-x86_64 >/dev/null || skip "needs qemu-system-x86_64 (qemu-system-x86)"
command -v cpio >/dev/null || skip "needs cpio"
source "$here/../guest/guest-assets.sh"
guest_assets_fetch >&2 || skip "the guest kernel and busybox are not available"

work=$(mktemp -d "${TMPDIR:-/tmp}/banger-qemu-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,etc/acpi/PWRF,lib/modules}
cp "$GUEST_BUSYBOX" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"

# Some of these may be built into another kernel: modules.builtin says.
moddir=$GUEST_MODULES/lib/modules/$GUEST_KERNEL_VERSION
: >"$root/lib/modules/order"
for m in virtio_ring virtio virtio_mmio virtio_blk virtio_console evdev button; do
    if path=$(modinfo -b "$GUEST_MODULES" -k "$GUEST_KERNEL_VERSION" -n "$m" 2>/dev/null) &&
        [[ $path == /* ]]; then
        cp "$path" "$root/lib/modules/$m.ko"
        echo "$m" >>"$root/lib/modules/order"
    elif ! grep -q "/$m.ko\$" "$moddir/modules.builtin"; then
        skip "the guest kernel has no $m module"
    fi
done

# busybox acpid runs /etc/acpi/PWRF/00000080 for the power button.
cat >"$root/etc/acpi/PWRF/00000080" <<'SH'
#!/bin/sh
echo "guest: power button" >/dev/console
exec /bin/busybox poweroff -f
SH
cat >"$root/init" <<'SH'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do insmod "/lib/modules/$m.ko"; done </lib/modules/order
# The driver gives the image first, the disk second; say what the guest sees.
for i in $(seq 50); do [ -e /sys/block/vdb ] && break; sleep 0.1; done
disks=
for d in /sys/block/vd*; do disks="$disks ${d##*/}=ro:$(cat "$d/ro")"; done
echo "guest: disks$disks"
case " $(cat /proc/cmdline) " in
*" test.noacpid "*) echo "guest: ignoring the power button" ;;
*)
    acpid -f -c /etc/acpi -l /dev/null &
    # Ready once it holds the power button's event device open.
    for i in $(seq 100); do
        if for fd in /proc/$!/fd/*; do readlink "$fd"; done 2>/dev/null | grep -q /dev/input/event; then
            echo "guest: acpid ready"
            break
        fi
        sleep 0.05
    done
    ;;
esac
port=
for i in $(seq 100); do
    for p in /sys/class/virtio-ports/*; do
        [ "$(cat "$p/name" 2>/dev/null)" = dev.banger.agent ] && port=/dev/${p##*/}
    done
    [ -n "$port" ] && [ -e "$port" ] && break
    sleep 0.1
done
echo "guest: agent port ${port:-missing}"
exec 3<>"$port"
# read returns at once while no host is connected: poll until one is.
while :; do
    if read -r line <&3; then
        case $line in
        ping) echo guest-up >&3 ;;
        poweroff) echo "guest: powering off"; poweroff -f ;;
        esac
    else
        sleep 0.1
    fi
done
SH
chmod 0755 "$root/init" "$root/etc/acpi/PWRF/00000080"
(cd "$root" && find . | cpio -o -H newc --quiet) >"$work/initrd"

export GUEST_KERNEL GUEST_INITRD=$work/initrd
"$test_binary" "$@"
