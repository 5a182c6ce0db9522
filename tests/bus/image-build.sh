#!/usr/bin/env bash
# tests/bus/image-build.sh: `banger image build` as an unprivileged user,
# from the Debian packages guest-assets.sh caches (no network): the objects,
# the content-addressed files and their modes, a clean ext4 owned by root
# throughout, kernel reuse, cancellation without leftovers, VM create by
# image name, delete (refused while a VM uses the image), crash leftovers
# swept, and everything re-exported by a restarted bangerd. Builds are
# reproducible: the same packages give the same bytes, a different package
# or SOURCE_DATE_EPOCH a different digest.
set -euo pipefail
source "$(dirname -- "$0")/../harness/harness.sh"
source "$(dirname -- "$0")/../guest/guest-assets.sh"
harness_start
harness_ensure_users
harness_require_cmd e2fsck debugfs dumpe2fs dpkg-deb sha256sum python3 cmp
guest_assets_fetch || harness_skip "the Debian packages of tests/guest/guest-assets.sh are not available"
DEBS=$(guest_assets_cache_dir)/debs
# bangerd inherits the session's environment: the timestamp rule without it.
unset SOURCE_DATE_EPOCH

U=bangertest-member
UID_U=$(id -u "$U")
BASE=$HARNESS_DIR/users/$U/home
DATA=$BASE/.local/share/banger
CACHE=$BASE/.cache/banger/debs
# The harness makes the user's dirs on first use.
harness_as "$U" true
install -d -m 0755 -o "$U" -g "$(id -g "$U")" "$BASE/.config/banger"
printf '[images]\ndebs=%s\n' "$DEBS" >"$BASE/.config/banger/config"
chown "$U" "$BASE/.config/banger/config"

# Each call is a session of its own: bangerd starts afresh every time, so
# every check after the first also checks what a restarted bangerd exports.
as_user() { harness_as_session "$U" "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
objects() {
    gdbus call --session --dest dev.banger.Daemon1 --object-path /dev/banger/Daemon1 \
        --method org.freedesktop.DBus.ObjectManager.GetManagedObjects
}
n_entries() { find "$1" -mindepth 1 -maxdepth 1 | wc -l; }

# --- build ---------------------------------------------------------------------
tap_check "image build (no name: default) as an unprivileged user" as_user banger image build
tap_is "$TAP_OUT" "Built image “default” (kernel $GUEST_KERNEL_VERSION)." "build says what it made"

tap_check "the Image1 and Kernel1 objects are exported" as_user objects
OBJS=$TAP_OUT
[[ $OBJS == *"'/dev/banger/Daemon1/image/default': {'dev.banger.Image1': {'Name': <'default'>"* ]] &&
    tap_ok "Image1 at /dev/banger/Daemon1/image/default" || tap_fail "Image1 at /dev/banger/Daemon1/image/default" "$OBJS"
[[ $OBJS == *"'KernelRelease': <'$GUEST_KERNEL_VERSION'>"* && $OBJS == *"'OverlayCapable': <true>"* ]] &&
    tap_ok "Image1 has the kernel release and is overlay-capable" || tap_fail "Image1 properties" "$OBJS"
[[ $OBJS == *"'dev.banger.Kernel1': {'Release': <'$GUEST_KERNEL_VERSION'>"* ]] &&
    tap_ok "Kernel1 object with its release" || tap_fail "Kernel1 object with its release" "$OBJS"

tap_check "image show --json" as_user banger image show default --json
SHOW=$TAP_OUT
IMG=$(json 'd["path"]' <<<"$SHOW")
KDIR=$(dirname -- "$(json 'd["kernel_path"]' <<<"$SHOW")")
tap_is "$(json 'd["name"], d["kernel_release"], d["overlay_capable"]' <<<"$SHOW")" \
    "default $GUEST_KERNEL_VERSION True" "show --json describes the image"
tap_is "$(dirname -- "$IMG")" "$DATA/images" "the image lives in \$XDG_DATA_HOME/banger/images"
tap_is "$(stat -c '%a %u' -- "$IMG")" "444 $UID_U" "the image file is 0444 and the user's"
tap_is "sha256:$(sha256sum <"$IMG" | cut -d' ' -f1)" "$(json 'd["digest"]' <<<"$SHOW")" "Digest is the file's sha256"
tap_is "$(basename -- "$IMG")" "$(sha256sum <"$IMG" | cut -d' ' -f1).ext4" "the file is named by its sha256"
tap_is "$(basename -- "$KDIR")" "$(sha256sum <"$KDIR/vmlinuz" | cut -d' ' -f1)" "the kernel dir is named by the bzImage's sha256"
cmp -s "$KDIR/vmlinuz" "$GUEST_KERNEL" && tap_ok "vmlinuz is Debian's bzImage" || tap_fail "vmlinuz is Debian's bzImage"
tap_is "$(head -c 4 "$KDIR/vmlinux" | od -An -c | tr -d ' ')" '177ELF' "vmlinux is an ELF file"
[[ -s $KDIR/modules/lib/modules/$GUEST_KERNEL_VERSION/modules.dep ]] &&
    tap_ok "the modules tree has modules.dep" || tap_fail "the modules tree has modules.dep"
tap_is "$(find "$DATA" "$CACHE" -name '.building-*' -o -name '.download-*' | wc -l)" "0" "no work dirs are left"

tap_check "e2fsck -fn finds the image clean" e2fsck -fn "$IMG"
cp -- "$IMG" "$HARNESS_DIR/first-build.ext4"

# Every time in the image is the mtime bin/busybox has in its package.
BUSYBOX_DEB=$(ls "$DEBS"/busybox-static_*.deb | sort -V | tail -n 1)
deb_busybox_mtime() {
    dpkg-deb --fsys-tarfile "$1" | python3 -c 'import sys, tarfile
for m in tarfile.open(fileobj=sys.stdin.buffer, mode="r|"):
    if m.name.lstrip("./") == "bin/busybox": print(m.mtime)'
}
# "ctime atime mtime crtime" of PATH in IMAGE, as decimal seconds.
inode_times() {
    debugfs -R "stat $2" "$1" 2>/dev/null | python3 -c 'import re, sys
t = dict(re.findall(r"\b(c|a|m|cr)time: 0x([0-9a-f]+):", sys.stdin.read()))
print(*(int(t[k], 16) for k in ("c", "a", "m", "cr")))'
}
T=$(deb_busybox_mtime "$BUSYBOX_DEB")
tap_is "$(inode_times "$IMG" /etc/passwd)" "$T $T $T $T" "a file the build wrote has the package's time"
tap_is "$(inode_times "$IMG" /)" "$T $T $T $T" "so has the root directory"
tap_is "$(inode_times "$IMG" /bin/sh)" "$T $T $T $T" "and an applet link"
tap_is "$(TZ=UTC dumpe2fs -h "$IMG" 2>/dev/null | grep -E '^(Filesystem created|Last write time|Last checked):' | sed 's/.*:  *//' | sort -u)" \
    "$(TZ=UTC LC_ALL=C date -d "@$T" '+%a %b %e %H:%M:%S %Y')" "the superblock's times are the package's time too"
# Every inode reachable from / belongs to root, though a user built it.
owners() {
    local dir=$1 line ino mode uid gid name
    while IFS=/ read -r _ ino mode uid gid name _; do
        [[ -z $ino || $name == . || $name == .. ]] && continue
        printf '%s:%s %s\n' "$uid" "$gid" "$dir$name"
        [[ $mode == 04* ]] && owners "$dir$name/"
    done < <(debugfs -R "ls -p $dir" "$IMG" 2>/dev/null)
}
OWNERS=$(owners /)
tap_is "$(grep -vc '^0:0 ' <<<"$OWNERS" || true)" "0" "every file in the image is owned by 0:0"
grep -q ' /usr/bin/env$' <<<"$OWNERS" && grep -q ' /bin/sh$' <<<"$OWNERS" && grep -q ' /bin/busybox$' <<<"$OWNERS" &&
    tap_ok "busybox and its applets are there" || tap_fail "busybox and its applets are there" "$OWNERS"
grep -Eq ' /(sbin/init|linuxrc|init)$' <<<"$OWNERS" &&
    tap_fail "the image has no init" "$(grep -E 'init|linuxrc' <<<"$OWNERS")" || tap_ok "the image has no init"
[[ $(debugfs -R 'stat /bin/sh' "$IMG" 2>/dev/null) == *'Fast link dest: "/bin/busybox"'* ]] &&
    tap_ok "applets link to /bin/busybox" || tap_fail "applets link to /bin/busybox"
[[ $(debugfs -R 'stat /tmp' "$IMG" 2>/dev/null) == *"Mode:  01777"* && $(debugfs -R 'stat /root' "$IMG" 2>/dev/null) == *"Mode:  0700"* ]] &&
    tap_ok "/tmp is 1777 and /root 0700" || tap_fail "/tmp is 1777 and /root 0700"
# Parents too, though bangerd's umask is 077.
modes() { for d in "$@"; do debugfs -R "stat $d" "$IMG" 2>/dev/null | sed -n 's/.*Mode:  \([0-7]*\).*/\1/p'; done | tr '\n' ' '; }
tap_is "$(modes /usr /usr/lib /var /usr/bin /etc)" "0755 0755 0755 0755 0755 " "/usr, /usr/lib and /var are 0755"
[[ $(debugfs -R 'cat /etc/passwd' "$IMG" 2>/dev/null) == "root:x:0:0:root:/root:/bin/sh" ]] &&
    tap_ok "/etc/passwd has root" || tap_fail "/etc/passwd has root"

# --- a second image reuses the kernel ------------------------------------------
tap_expect_fail_with "dev.banger.Error.AlreadyExists|exists" "building an existing name is refused" \
    as_user banger image build default
tap_check "image build second --json" as_user banger image build second --json
tap_is "$(json 'd["kernel_digest"]' <<<"$TAP_OUT")" "$(json 'd["kernel_digest"]' <<<"$SHOW")" "second uses the same kernel"
tap_is "$(n_entries "$DATA/kernels")" "1" "the kernel is stored once"
tap_is "$(json 'd["digest"]' <<<"$TAP_OUT")" "$(json 'd["digest"]' <<<"$SHOW")" \
    "second, built from the same packages, has the same digest"
tap_is "$(n_entries "$DATA/images")" "1" "the image file is stored once"
tap_check "kernel list --json" as_user banger kernel list --json
tap_is "$(json 'len(d), d[0]["release"]' <<<"$TAP_OUT")" "1 $GUEST_KERNEL_VERSION" "kernel list shows one kernel"
tap_check "image list --json" as_user banger image list --json
tap_is "$(json '[i["name"] for i in d]' <<<"$TAP_OUT")" "['default', 'second']" "image list shows both, sorted"

# --- cancelling ------------------------------------------------------------------
before=$(cd "$DATA" && find . | sort)
cancel_build() {
    local pid out
    banger image build cancelme 2>/dev/null &
    pid=$!
    for _ in $(seq 1 400); do
        out=$(gdbus call --session --dest dev.banger.Daemon1 --object-path /dev/banger/Daemon1 \
            --method org.freedesktop.DBus.ObjectManager.GetManagedObjects 2>/dev/null) || true
        [[ $out == *"'Step': <'kernel'>"* || $out == *"'Step': <'rootfs'>"* || $out == *"'Step': <'ext4'>"* ]] && break
        sleep 0.02
    done
    kill -INT "$pid"
    wait "$pid" && echo "status=0" || echo "status=$?"
    # The rollback is done when the job is gone.
    for _ in $(seq 1 250); do
        out=$(gdbus call --session --dest dev.banger.Daemon1 --object-path /dev/banger/Daemon1 \
            --method org.freedesktop.DBus.ObjectManager.GetManagedObjects 2>/dev/null) || true
        [[ $out != *dev.banger.Job1* ]] && break
        sleep 0.02
    done
    banger image list --json
}
tap_check "a build interrupted by Ctrl-C" as_user cancel_build
tap_is "$(head -n 1 <<<"$TAP_OUT")" "status=130" "banger exits 130 after Ctrl-C"
tap_is "$(tail -n +2 <<<"$TAP_OUT" | json '[i["name"] for i in d]')" "['default', 'second']" "no row for the cancelled image"
tap_is "$(cd "$DATA" && find . | sort)" "$before" "no file is left by the cancelled build"

# --- VM create by image name, and delete -----------------------------------------
tap_check "CreateVM with Image as a name" as_user gdbus call --session --dest dev.banger.Daemon1 \
    --object-path /dev/banger/Daemon1 --method dev.banger.Manager1.CreateVM web "{'Image': <'second'>}"
vm_props() {
    gdbus call --session --dest dev.banger.Daemon1 --object-path /dev/banger/Daemon1/vm/web \
        --method org.freedesktop.DBus.Properties.GetAll dev.banger.VM1
}
tap_check "the VM's properties" as_user vm_props
SECOND=$(as_user banger image show second --json)
[[ $TAP_OUT == *"'Image': <'$(json 'd["path"]' <<<"$SECOND")'>"* && $TAP_OUT == *"'Kernel': <'$KDIR/vmlinux'>"* ]] &&
    tap_ok "the VM boots the image's file and its ELF kernel" || tap_fail "the VM boots the image's file and its ELF kernel" "$TAP_OUT"
tap_expect_fail_with "dev.banger.Error.NotFound|no image" "CreateVM with an unknown image name" \
    as_user gdbus call --session --dest dev.banger.Daemon1 --object-path /dev/banger/Daemon1 \
    --method dev.banger.Manager1.CreateVM other "{'Image': <'nosuch'>}"
# default and second share one file: only its last name is refused.
tap_check "image delete default, while second still has the file" as_user banger image delete default
[[ -f $IMG ]] && tap_ok "the shared file stays while second uses it" ||
    tap_fail "the shared file stays while second uses it"
tap_is "$(n_entries "$DATA/kernels")" "1" "the kernel stays while second uses it"
tap_expect_fail_with "boots from image" "deleting an image a VM uses is refused" as_user banger image delete second
tap_check "vm delete web" as_user banger vm delete web
tap_check "image delete second" as_user banger image delete second
tap_is "$(n_entries "$DATA/images"):$(n_entries "$DATA/kernels")" "0:0" "no image or kernel file is left"
tap_expect_fail_with "dev.banger.Error.NotFound|no image" "GetImage of a deleted image" \
    as_user gdbus call --session --dest dev.banger.Daemon1 --object-path /dev/banger/Daemon1 \
    --method dev.banger.Manager1.GetImage second

# --- reproducible builds ------------------------------------------------------------
tap_check "image build again, with nothing left to share" as_user banger image build again --json
AGAIN=$(json 'd["path"]' <<<"$TAP_OUT")
tap_is "$(basename -- "$AGAIN")" "$(basename -- "$IMG")" "a rebuild from the same packages has the same digest"
cmp -- "$HARNESS_DIR/first-build.ext4" "$AGAIN" && tap_ok "and the same bytes as the first build" ||
    tap_fail "and the same bytes as the first build" "$(cmp -l -- "$HARNESS_DIR/first-build.ext4" "$AGAIN" | head)"
SDE_OUT=$(SOURCE_DATE_EPOCH=1500000000 as_user banger image build epoch --json) &&
    tap_ok "image build epoch with SOURCE_DATE_EPOCH=1500000000" ||
    tap_fail "image build epoch with SOURCE_DATE_EPOCH=1500000000" "$SDE_OUT"
EPOCH_IMG=$(json 'd["path"]' <<<"$SDE_OUT")
[[ $EPOCH_IMG != "$AGAIN" ]] && tap_ok "another SOURCE_DATE_EPOCH gives another digest" ||
    tap_fail "another SOURCE_DATE_EPOCH gives another digest" "$EPOCH_IMG"
tap_is "$(inode_times "$EPOCH_IMG" /etc/passwd)" "1500000000 1500000000 1500000000 1500000000" \
    "SOURCE_DATE_EPOCH is every inode's time"
tap_check "e2fsck -fn finds that image clean" e2fsck -fn "$EPOCH_IMG"
BAD=$(SOURCE_DATE_EPOCH=yesterday as_user banger image build bad 2>&1) &&
    tap_fail "a SOURCE_DATE_EPOCH that is no number fails the build" "$BAD" ||
    tap_is "$(grep '^banger:' <<<"$BAD")" \
        "banger: SOURCE_DATE_EPOCH “yesterday” is not a number of seconds from 0 to 2147483647" \
        "a SOURCE_DATE_EPOCH that is no number fails the build"

# The same busybox repacked under a newer version: another package.
REPACK=$HARNESS_DIR/repacked
mkdir -p "$REPACK/debs"
dpkg-deb -R "$BUSYBOX_DEB" "$REPACK/tree"
sed -i 's/^Version: .*/&+rebuilt1/' "$REPACK/tree/DEBIAN/control"
dpkg-deb -b -Zxz "$REPACK/tree" "$REPACK/debs/" >/dev/null
ln -s "$(ls "$DEBS"/linux-image-*.deb | sort -V | tail -n 1)" "$REPACK/debs/"
chmod -R a+rX "$REPACK"
printf '[images]\ndebs=%s\n' "$REPACK/debs" >"$BASE/.config/banger/config"
tap_check "image build from a repacked busybox" as_user banger image build repacked --json
REPACKED_IMG=$(json 'd["path"]' <<<"$TAP_OUT")
[[ $REPACKED_IMG != "$AGAIN" && $REPACKED_IMG != "$EPOCH_IMG" ]] &&
    tap_ok "another package gives another digest" || tap_fail "another package gives another digest" "$REPACKED_IMG"
printf '[images]\ndebs=%s\n' "$DEBS" >"$BASE/.config/banger/config"
for name in again epoch repacked; do
    tap_check "image delete $name" as_user banger image delete "$name"
done
tap_is "$(n_entries "$DATA/images"):$(n_entries "$DATA/kernels")" "0:0" "no image or kernel file is left"

# --- crash leftovers ---------------------------------------------------------------
harness_as "$U" mkdir -p "$DATA/images/.building-x-ABC123/rootfs/bin" "$CACHE/.download-XYZ" \
    "$DATA/kernels/$(printf '%064d' 0)"
harness_as "$U" touch "$DATA/images/$(printf '%064d' 1).ext4" "$CACHE/.download-XYZ/partial.deb" \
    "$DATA/images/notes.txt"
tap_check "a restarted bangerd" as_user banger image list
tap_is "$(ls -A "$DATA/images"):$(n_entries "$DATA/kernels"):$(find "$CACHE" -name '.download-*' | wc -l)" "notes.txt:0:0" \
    "work dirs, downloads and unregistered image files are swept at start-up, nothing else"

tap_done
