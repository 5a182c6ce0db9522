#!/bin/bash
# tests/guest/init-boot.sh: boots real guests (Debian cloud kernel under
# qemu TCG, microvm) with the initramfs bangerd builds around banger-init,
# an ext4 image made of static busybox, and a writable disk made exactly as
# docs/boot-config.md says, then checks what the guest reports on its
# serial console and what it left on the disks.
set -euo pipefail
here=$(dirname -- "${BASH_SOURCE[0]}")
: "${BANGER_INIT:?}" "${STUB_AGENT:?}" "${MAKE_INITRAMFS:?}"

skip() {
    if [[ ${CI:-} == true ]]; then
        echo "Bail out! CI=true, so not skipping: $*"
        exit 1
    fi
    echo "1..0 # SKIP $*"
    exit 0
}

PATH=$PATH:/usr/sbin:/sbin
for tool in qemu-system-x86_64 mkfs.ext4 debugfs timeout python3; do
    command -v "$tool" >/dev/null || skip "needs $tool"
done
# shellcheck source=tests/guest/guest-assets.sh
source "$here/guest-assets.sh"
guest_assets_fetch >&2 || skip "the guest kernel and busybox are not available"
tsc=$(guest_tsc_khz) || skip "cannot tell the host TSC rate (tsc_early_khz)"

work=$(mktemp -d "${TMPDIR:-/tmp}/banger-init-test.XXXXXX")
trap '[[ -n ${KEEP_WORK:-} ]] || rm -rf "$work"' EXIT

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)) failed=$((failed + 1))
    echo "not ok $n - $1"
    [[ -z ${2:-} || ! -e $2 ]] || sed 's/^/# /' "$2"
}
# check DESCRIPTION LOG PATTERN: the serial log has a line matching PATTERN
# (an extended regex).
check() {
    if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1 (no /$3/)" "$2"; fi
}
check_not() {
    if grep -Eq -- "$3" "$2"; then not_ok "$1 (found /$3/)" "$2"; else ok "$1"; fi
}

MAC=02:bd:00:1e:00:02
KEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBanGerTestKeyBanGerTestKeyBanGerTestKey0 test@host'

# --- the initramfs, built by bangerd's builder ---
"$MAKE_INITRAMFS" "$GUEST_MODULES" "$GUEST_KERNEL_VERSION" "$BANGER_INIT" "$STUB_AGENT" \
    "$work/initrd" || { echo "Bail out! make-initramfs failed"; exit 1; }

# --- images: busybox with its applets, with or without /sbin/init ---
stage=$work/image-stage
mkdir -p "$stage"/{bin,dev,proc,sys,etc,root,tmp}
cp "$GUEST_BUSYBOX" "$stage/bin/busybox"
# One process for ~400 links: forking per applet is slow on a busy host.
"$GUEST_BUSYBOX" --list-full | python3 -c '
import os, sys
root = sys.argv[1]
for line in sys.stdin:
    applet = line.strip()
    if not applet or applet == "bin/busybox":
        continue
    path = os.path.join(root, applet)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.lexists(path):
        os.symlink("/bin/busybox", path)
' "$stage"
rm -f "$stage/sbin/init" "$stage/linuxrc"
printf '127.0.0.1\tlocalhost\n' >"$stage/etc/hosts"
# A planted symlink must be replaced, not followed out of the image.
ln -s /proc/self/nonexistent "$stage/etc/resolv.conf"
mkfs.ext4 -q -F -t ext4 -L image -d "$stage" "$work/noinit.ext4" 32M >&2
cat >"$stage/sbin/init" <<'SH'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
echo "check: pid=$$"
echo "check: modules= $(awk '{ printf "%s ", $1 }' /proc/modules)"
echo "check: hostname=$(hostname)"
echo "check: etc-hostname=$(cat /etc/hostname)"
echo "check: hosts=$(grep '^127.0.1.1' /etc/hosts)"
ip -4 addr show | sed -n 's/^ *inet \([^ ]*\) .* \([a-z0-9]*\)$/check: addr \1 \2/p'
ip route | sed 's/^/check: route /'
echo "check: rootfs=$(awk '$2 == "/" { t = $3 } END { print t }' /proc/mounts)"
echo "check: key=$(stat -c '%a %u:%g' /root/.ssh/authorized_keys) dir=$(stat -c '%a %u:%g' /root/.ssh)"
echo "check: key-text=$(cat /root/.ssh/authorized_keys)"
echo "check: resolv=$(tr '\n' ' ' </etc/resolv.conf)"
echo "check: resolv-type=$(stat -c %F /etc/resolv.conf)"
if [ -e /init ] || [ -e /banger ]; then echo "check: initramfs-gone=no"; else echo "check: initramfs-gone=yes"; fi
echo "written by the guest" >/guest-wrote-this
i=0
while [ ! -e /stub-agent.ran ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "check: agent-mark=$(cat /stub-agent.ran 2>/dev/null)"
sync
poweroff -f
SH
chmod 0755 "$stage/sbin/init"
mkfs.ext4 -q -F -t ext4 -L image -d "$stage" "$work/image.ext4" 32M >&2

# --- the writable disk, as bangerd makes it (docs/boot-config.md) ---
make_disk() { # OUT VM_CONF_TEXT
    local stage=$work/disk-stage
    rm -rf "$stage"
    mkdir -p "$stage/banger" "$stage/overlay/upper" "$stage/overlay/work"
    printf '%s' "$2" >"$stage/banger/vm.conf"
    printf '%s\n' "$KEY" >"$stage/banger/authorized_keys"
    chmod 0644 "$stage/banger/vm.conf" "$stage/banger/authorized_keys"
    # Owned by the host user, as bangerd's staging dir is; init must fix it.
    chown -R 1000:1000 "$stage/banger" "$stage/overlay" 2>/dev/null || true
    chmod 0700 "$stage/overlay/upper"
    rm -f "$1"
    truncate -s 64M "$1"
    mkfs.ext4 -q -F -t ext4 -L banger-disk -m 0 \
        -E lazy_itable_init=1,lazy_journal_init=1,root_owner=0:0 -d "$stage" "$1" >&2
}

GOOD_CONF='version=1
hostname=web-1
ipv4=10.0.2.15/24
gateway=10.0.2.2
mac=02:bd:00:1e:00:02
resolver=10.0.2.3
resolver=9.9.9.9
agent_vsock_port=52
'

# boot NAME ORDER(image-first|disk-first) ROOT(overlay|direct) IMAGE DISK:
# the serial log is $work/NAME.log, the agent port's output $work/NAME.port.
# AGENT (default vport:dev.banger.agent) is the banger.agent= value.
boot() {
    local name=$1 order=$2 root=$3 image=$4 disk=$5 image_ro=on agent=${AGENT:-vport:dev.banger.agent}
    [[ $root == direct ]] && image_ro=off
    # shellcheck disable=SC2054 # commas belong to qemu option values
    local -a img=(-drive "id=img,file=$image,format=raw,if=none,readonly=$image_ro"
        -device virtio-blk-device,drive=img)
    # shellcheck disable=SC2054
    local -a dsk=(-drive "id=dsk,file=$disk,format=raw,if=none"
        -device virtio-blk-device,drive=dsk)
    local -a drives
    if [[ $order == image-first ]]; then drives=("${img[@]}" "${dsk[@]}"); else drives=("${dsk[@]}" "${img[@]}"); fi
    local rc=0
    timeout 90 qemu-system-x86_64 -M microvm -m 256M -smp 1 -nodefaults -no-user-config \
        -nographic -serial stdio -no-reboot \
        -kernel "$GUEST_KERNEL" -initrd "$work/initrd" \
        -append "console=ttyS0 panic=-1 tsc_early_khz=$tsc banger.root=$root banger.agent=$agent quiet" \
        "${drives[@]}" \
        -netdev user,id=n0 -device "virtio-net-device,netdev=n0,mac=$MAC" \
        -device virtio-serial-device -chardev "file,id=a,path=$work/$name.port" \
        -device virtserialport,chardev=a,name=dev.banger.agent \
        </dev/null >"$work/$name.log" 2>&1 || rc=$?
    tr -d '\r' <"$work/$name.log" >"$work/$name.log.tmp" && mv "$work/$name.log.tmp" "$work/$name.log"
    if ((rc == 0)); then ok "$name: qemu exited by itself"; else not_ok "$name: qemu exited $rc (124: hung)" "$work/$name.log"; fi
}

# 1. overlay root, image given first; the image's init runs beside the agent.
make_disk "$work/disk.ext4" "$GOOD_CONF"
image_sum=$(sha256sum <"$work/image.ext4")
boot overlay image-first overlay "$work/image.ext4" "$work/disk.ext4"
log=$work/overlay.log
check "overlay: the base modules loaded" "$log" '^banger-init: loaded [0-9]+ modules of /banger/modules$'
check "overlay: the virtio-serial channel's module loaded" "$log" '^banger-init: loaded 1 module of /banger/modules\.vport$'
check "overlay: virtio_console is loaded" "$log" '^check: modules= (.* )?virtio_console '
check_not "overlay: no vsock module is loaded" "$log" '^check: modules=.* (vsock|vmw_vsock_virtio_transport) '
check "overlay: disks found by label" "$log" '^banger-init: writable disk /dev/vdb, image /dev/vda$'
check "overlay: image's init is PID 1" "$log" '^check: pid=1$'
check "overlay: hostname set" "$log" '^check: hostname=web-1$'
check "overlay: /etc/hostname written" "$log" '^check: etc-hostname=web-1$'
check "overlay: /etc/hosts names the VM" "$log" '^check: hosts=127\.0\.1\.1.web-1$'
check "overlay: NIC found by MAC and addressed" "$log" '^check: addr 10\.0\.2\.15/24 eth0$'
check "overlay: default route via the gateway" "$log" '^check: route default via 10\.0\.2\.2 dev eth0'
check "overlay: root is an overlay" "$log" '^check: rootfs=overlay$'
check "overlay: SSH key 0600 and its dir 0700, owned by root" "$log" '^check: key=600 0:0 dir=700 0:0$'
check "overlay: SSH key is the disk's" "$log" "^check: key-text=${KEY}\$"
check "overlay: resolvers written" "$log" '^check: resolv=nameserver 10\.0\.2\.3 nameserver 9\.9\.9\.9 $'
check "overlay: resolv.conf symlink replaced by a file" "$log" '^check: resolv-type=regular file$'
check "overlay: initramfs contents not visible" "$log" '^check: initramfs-gone=yes$'
check "overlay: the image's shell is read ahead" "$log" '^banger-init: reading /bin/sh ahead \([0-9]+ bytes\)$'
check "overlay: agent started with the port" "$log" '^stub-agent: banger-agent --vport dev\.banger\.agent$'
check "overlay: agent runs from a memfd" "$log" '^stub-agent: pid=[0-9]+ exe=/memfd:banger-agent'
check "overlay: agent answered on its virtio-serial port" "$work/overlay.port" '^stub-agent: banger-agent --vport dev\.banger\.agent$'
check "overlay: image's init saw the agent run" "$log" '^check: agent-mark=stub-agent: banger-agent --vport'
check_not "overlay: no error" "$log" 'banger-init: error'
if debugfs -R 'cat /overlay/upper/guest-wrote-this' "$work/disk.ext4" 2>/dev/null | grep -q 'written by the guest'; then
    ok "overlay: the guest's write landed in the disk's overlay/upper"
else
    not_ok "overlay: the guest's write landed in the disk's overlay/upper"
fi
if [[ $(sha256sum <"$work/image.ext4") == "$image_sum" ]]; then ok "overlay: image unchanged"; else not_ok "overlay: image unchanged"; fi
owners=$(debugfs -R 'stat /overlay/upper' "$work/disk.ext4" 2>/dev/null | sed -n 's/.*User: *\([0-9]*\) *Group: *\([0-9]*\).*/\1:\2/p')
mode=$(debugfs -R 'stat /overlay/upper' "$work/disk.ext4" 2>/dev/null | sed -n 's/.*Mode: *\(0[0-7]*\).*/\1/p')
if [[ $owners == 0:0 && $mode == 0755 ]]; then ok "overlay: overlay/upper reset to 0:0 0755"; else not_ok "overlay: overlay/upper reset to 0:0 0755 (got $owners $mode)"; fi

# 2. direct root (the VM's private copy), disk given first.
make_disk "$work/disk.ext4" "$GOOD_CONF"
boot direct disk-first direct "$work/image.ext4" "$work/disk.ext4"
log=$work/direct.log
check "direct: disks found by label in the other order" "$log" '^banger-init: writable disk /dev/vda, image /dev/vdb$'
check "direct: root is the image itself" "$log" '^check: rootfs=ext4$'
check "direct: hostname set" "$log" '^check: hostname=web-1$'
check "direct: agent started" "$log" '^stub-agent: banger-agent --vport dev\.banger\.agent$'
if debugfs -R 'cat /guest-wrote-this' "$work/image.ext4" 2>/dev/null | grep -q 'written by the guest'; then
    ok "direct: the guest's write landed in the image"
else
    not_ok "direct: the guest's write landed in the image"
fi

# 3. an image without an init: the agent is PID 1 and powers off.
make_disk "$work/disk.ext4" "$GOOD_CONF"
boot noinit disk-first overlay "$work/noinit.ext4" "$work/disk.ext4"
log=$work/noinit.log
check "noinit: init says the agent runs as PID 1" "$log" '^banger-init: no executable /sbin/init in the image'
check "noinit: agent got --pid1" "$log" '^stub-agent: banger-agent --vport dev\.banger\.agent --pid1$'
check "noinit: agent is PID 1" "$log" '^stub-agent: pid=1 exe=/memfd:banger-agent'

# 4. the agent on vsock (qemu here has no vsock device; the agent is only
# started): the vsock channel's modules instead of virtio_console.
make_disk "$work/disk.ext4" "$GOOD_CONF"
AGENT=vsock:52 boot vsock image-first overlay "$work/image.ext4" "$work/disk.ext4"
log=$work/vsock.log
check "vsock: the vsock channel's modules loaded" "$log" '^banger-init: loaded [1-9][0-9]* modules? of /banger/modules\.vsock$'
check "vsock: vmw_vsock_virtio_transport is loaded" "$log" '^check: modules= (.* )?vmw_vsock_virtio_transport '
check_not "vsock: virtio_console is not loaded" "$log" '^check: modules=.* virtio_console '
check "vsock: agent started with the port" "$log" '^stub-agent: banger-agent --vsock 52$'

# 5. a vm.conf of another version: refused, the VM powers off.
make_disk "$work/disk.ext4" "${GOOD_CONF/version=1/version=2}"
boot badversion image-first overlay "$work/image.ext4" "$work/disk.ext4"
check "badversion: refused with a reason" "$work/badversion.log" '^banger-init: error: vm.conf: unsupported version "2"'
check_not "badversion: the image's init never ran" "$work/badversion.log" '^check: '

# 6. a hostile value in vm.conf: refused too.
make_disk "$work/disk.ext4" "${GOOD_CONF/hostname=web-1/hostname=web;reboot}"
boot badhost image-first overlay "$work/image.ext4" "$work/disk.ext4"
check "badhost: refused with a reason" "$work/badhost.log" '^banger-init: error: vm.conf: hostname "web;reboot" is not a DNS label'
check_not "badhost: the image's init never ran" "$work/badhost.log" '^check: '

# 7. a malformed banger.* word on the command line: refused.
make_disk "$work/disk.ext4" "$GOOD_CONF"
boot badroot image-first bogus "$work/image.ext4" "$work/disk.ext4"
check "badroot: refused with a reason" "$work/badroot.log" '^banger-init: error: banger.root must be overlay or direct: "banger.root=bogus"'
check_not "badroot: the image's init never ran" "$work/badroot.log" '^check: '

echo "1..$n"
((failed == 0))
