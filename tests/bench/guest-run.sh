#!/bin/bash
# tests/bench/guest-run.sh: where the time of `banger vm run --rm -- true`
# goes with a real guest (the built image, qemu; TCG on hosts without KVM),
# the round trip of an Exec in a running VM, and, measured in turns with
# the VM runs for comparison, plain qemu boots of the same kernel: to a
# static init that powers off at once, and to banger's initramfs as far as
# it goes without the VM's devices (the floors a VM run pays). Root; the private
# buses and network namespace of tests/vm/vm-fixture.sh. Prints the numbers;
# exits 0 whatever they are, 1 if something fails.
set -euo pipefail
export HARNESS_PROTOCOL=${HARNESS_PROTOCOL:-exitcode}
source "$(dirname -- "$0")/../vm/vm-fixture.sh"
source "$(dirname -- "$0")/../guest/guest-assets.sh"
: "${EXEC_RTT:?set by meson}" "${STUB_AGENT:?set by meson}"
guest_assets_fetch || harness_skip "the Debian packages of tests/guest/guest-assets.sh are not available"
N=${BANGER_BENCH_N:-5}
# The VMs' shape, which the plain boots copy: one vCPU and 256 MiB unless
# BANGER_BENCH_VCPUS / BANGER_BENCH_MEMORY_MIB say otherwise.
VCPUS=${BANGER_BENCH_VCPUS:-1}
MEMORY_MIB=${BANGER_BENCH_MEMORY_MIB:-256}

cat >"$XDG_CONFIG_HOME/banger/config" <<CONF
[vm-defaults]
vmm=qemu
memory=${MEMORY_MIB}M
vcpus=$VCPUS
disk=8G

[images]
debs=$(guest_assets_cache_dir)/debs
CONF
banger image build >/dev/null

kernel=$(banger image show default --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["kernel_path"])')
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Plain qemu: the same kernel, an initramfs holding only a static init that
# powers off; the same machine options as the qemu driver, and the kernel
# arguments of banger's that change the boot's length (loglevel=5,
# cryptomgr.notests), so the difference is banger's own.
work=$HARNESS_DIR/bench
install -d "$work/root"
install -m 0755 "$STUB_AGENT" "$work/root/init"
(cd "$work/root" && printf 'init\n' | cpio -o -H newc --quiet >"$work/plain.cpio")
tsc=$(guest_tsc_khz)
# plain_boot INITRD APPEND...: seconds from qemu's start to its exit.
plain_boot() {
    local t0=$EPOCHREALTIME initrd=$1
    shift
    timeout 60 qemu-system-x86_64 -M microvm -accel tcg -m "${MEMORY_MIB}M" -smp "$VCPUS" -nodefaults \
        -no-user-config -display none -no-reboot -serial null -kernel "$kernel" \
        -initrd "$initrd" -append "console=ttyS0 panic=-1 loglevel=5 cryptomgr.notests tsc_early_khz=$tsc $*" ||
        harness_die "the plain qemu boot with $initrd failed"
    seconds_since "$t0"
}
seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
# overhead_of WALL PLAIN: "seconds percent-of-the-wall"
overhead_of() { awk -v w="$1" -v p="$2" 'BEGIN { printf "%.3f %.1f", w - p, (w - p) * 100 / w }'; }
median_pair() {
    sort -n | awk '{ v[NR] = $0 } END { split(v[int((NR + 1) / 2)], m, " "); printf "%s s, %s %%", m[1], m[2] }'
}

# One VM run first: it builds banger's initramfs for the kernel, which the
# second plain boot uses.
banger vm run --rm -- true
initrd=$(echo "$XDG_DATA_HOME"/banger/initramfs/*.img)
[[ -f $initrd ]] || harness_die "no initramfs of banger's after a vm run"

# Two plain boots and a `vm run --rm -- true` (with its own split of the
# time) in turns, so that all see the same load of the machine; the
# overhead is taken against the plain boots right before each run. The
# plain boots: a static init that powers off at once (the kernel alone),
# and banger's own initramfs without banger.agent= on the command line, so
# banger-init loads its base modules, then stops and powers off (the kernel
# and initramfs, as far as they go without the VM's disks and devices; the
# agent channel's module is left out of this floor).
plain=()
plain_initrd=()
wall=()
overhead=()
overhead_initrd=()
: >"$work/timings"
for ((i = 0; i < N; i++)); do
    plain+=("$(plain_boot "$work/plain.cpio" -- --pid1)")
    plain_initrd+=("$(plain_boot "$initrd")")
    t0=$EPOCHREALTIME
    banger vm run --rm --timings -- true 2>>"$work/timings"
    wall+=("$(seconds_since "$t0")")
    overhead+=("$(overhead_of "${wall[i]}" "${plain[i]}")")
    overhead_initrd+=("$(overhead_of "${wall[i]}" "${plain_initrd[i]}")")
done

# Exec round trips in one running VM.
banger vm create rtt >/dev/null
banger vm start rtt >/dev/null
rtt=$("$EXEC_RTT" rtt 200)
cli=()
for ((i = 0; i < 20; i++)); do
    t0=$EPOCHREALTIME
    banger vm exec rtt -- true
    cli+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
done
banger vm delete --force rtt >/dev/null

echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), KVM: $(harness_kvm_usable && echo yes || echo no)"
echo "VMs and plain boots: $VCPUS vCPU(s), $MEMORY_MIB MiB"
echo "plain qemu boot to power-off (s), median of $N: $(printf '%s\n' "${plain[@]}" | median)"
echo "plain qemu boot of banger's initramfs to power-off (s), median of $N: $(printf '%s\n' "${plain_initrd[@]}" | median)"
for phase in "host setup" "vmm start" "boot to agent" "command" "teardown" "total"; do
    printf 'vm run --rm -- true, %-13s (s), median of %d: %s\n' "$phase" "$N" \
        "$(grep "^  $phase " "$work/timings" | awk '{ print $(NF - 1) }' | median)"
done
printf 'vm run --rm -- true, wall incl. the CLI (s), median of %d: %s\n' "$N" \
    "$(printf '%s\n' "${wall[@]}" | median)"
printf "banger's overhead over the plain boot (s, %% of the wall), median of %d: %s\n" \
    "$N" "$(printf '%s\n' "${overhead[@]}" | median_pair)"
printf "banger's overhead over the plain boot of its initramfs (s, %% of the wall), median of %d: %s\n" \
    "$N" "$(printf '%s\n' "${overhead_initrd[@]}" | median_pair)"
echo "$rtt"
echo "banger vm exec -- true, whole CLI process (ms), median of 20: $(printf '%s\n' "${cli[@]}" | median)"
