#!/bin/bash
# tests/vm/root-copy.sh: --copy-image gives a VM a private copy of its image:
# a reflink where the VM's directory is on a file system that shares
# blocks (a loop-mounted xfs here), a hole-keeping copy elsewhere. The
# strategy is recorded and shown, the copy is the VM's writable root drive,
# and it goes with the VM.
set -euo pipefail
VM_FIXTURE_MOUNT_NS=1
source "$(dirname -- "$0")/vm-fixture.sh"
harness_require_cmd mkfs.xfs losetup

json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# A sparse copy: the image on the harness' file system, the VM on another.
tap_check "create with --copy-image" banger vm create plain --copy-image
tap_is "$(vm_prop plain DiskStrategy)" copy-sparse "no reflink across file systems: a sparse copy"
copy=$XDG_STATE_HOME/banger/vms/plain/root.ext4
cmp -s "$copy" "$VM_ASSETS/rootfs.ext4" && tap_ok "the copy has the image's bytes" ||
    tap_fail "the copy has the image's bytes"
(($(stat -c %b "$copy") <= $(stat -c %b "$VM_ASSETS/rootfs.ext4") + 64)) &&
    tap_ok "and its holes" || tap_fail "and its holes" "$(stat -c '%b' "$copy" "$VM_ASSETS/rootfs.ext4")"
tap_check "start plain" banger vm start plain
tap_is "$(vm_call_body plain 'PUT /drives/rootfs')" \
    "{\"drive_id\": \"rootfs\", \"is_read_only\": false, \"is_root_device\": true, \"path_on_host\": \"$copy\"}" \
    "the private copy is the writable root drive"
tap_check "show --json" banger vm show plain --json
tap_is "$(json 'd["disk_strategy"]' <<<"$TAP_OUT")" copy-sparse "vm show says so"
tap_check "delete plain" banger vm delete plain --force
[[ ! -e $copy ]] && tap_ok "the copy goes with the VM" || tap_fail "the copy goes with the VM"

# A reflink: the VMs' directory is a loop-mounted xfs (in this test's own
# mount namespace), and the image lies on the same mount, as FICLONE needs.
vms=$XDG_STATE_HOME/banger/vms
truncate -s 512M "$HARNESS_DIR/xfs.img"
mkfs.xfs -q -f -m reflink=1 "$HARNESS_DIR/xfs.img"
mount -o loop "$HARNESS_DIR/xfs.img" "$vms"
harness_on_exit umount -l "$vms"
chmod 0700 "$vms"
install -d -m 0700 "$vms/.test-images"
cp --sparse=always "$VM_ASSETS/rootfs.ext4" "$vms/.test-images/rootfs.ext4"
tap_check "create on xfs with --copy-image" \
    banger vm create shared --copy-image --image "$vms/.test-images/rootfs.ext4"
tap_is "$(vm_prop shared DiskStrategy)" copy-reflink "on xfs the copy is a reflink"
cmp -s "$vms/shared/root.ext4" "$vms/.test-images/rootfs.ext4" && tap_ok "with the image's bytes" ||
    tap_fail "with the image's bytes"
tap_check "start shared" banger vm start shared
tap_is "$(vm_state shared)" running "it runs from its copy"
tap_check "delete shared" banger vm delete shared --force
tap_is "$(ls -A "$vms" | grep -v '^.test-images$' || true)" "" "nothing of it is left"
vm_expect_clean "after the copies"
tap_done
