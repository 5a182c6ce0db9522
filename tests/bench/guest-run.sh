#!/bin/bash
# tests/bench/guest-run.sh: where the time of `banger vm run --rm -- true`
# goes with a real guest (the built image, qemu; TCG on hosts without KVM),
# the round trip of an Exec in a running VM, and, measured in the same run
# for comparison, a plain qemu boot of the same kernel to a static init
# that powers off at once (the floor any VM run pays). Root; the private
# buses and network namespace of tests/vm/vm-fixture.sh. Prints the numbers;
# exits 0 whatever they are, 1 if something fails.
set -euo pipefail
export HARNESS_PROTOCOL=${HARNESS_PROTOCOL:-exitcode}
source "$(dirname -- "$0")/../vm/vm-fixture.sh"
source "$(dirname -- "$0")/../guest/guest-assets.sh"
: "${EXEC_RTT:?set by meson}" "${STUB_AGENT:?set by meson}"
guest_assets_fetch || harness_skip "the Debian packages of tests/guest/guest-assets.sh are not available"
N=${BANGER_BENCH_N:-5}

cat >"$XDG_CONFIG_HOME/banger/config" <<CONF
[vm-defaults]
vmm=qemu
memory=256M
vcpus=1
disk=8G

[images]
debs=$(guest_assets_cache_dir)/debs
CONF
banger image build >/dev/null

kernel=$(banger image show default --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["kernel_path"])')
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Plain qemu: the same kernel, an initramfs holding only a static init that
# powers off; the same machine options as the qemu driver, and the kernel
# arguments of banger's that change the boot's length (cryptomgr.notests),
# so the difference is banger's own.
work=$HARNESS_DIR/bench
install -d "$work/root"
install -m 0755 "$STUB_AGENT" "$work/root/init"
(cd "$work/root" && printf 'init\n' | cpio -o -H newc --quiet >"$work/plain.cpio")
tsc=$(guest_tsc_khz)
plain_boot() {
    timeout 60 qemu-system-x86_64 -M microvm -accel tcg -m 256M -smp 1 -nodefaults \
        -no-user-config -display none -no-reboot -serial null -kernel "$kernel" \
        -initrd "$work/plain.cpio" -append "console=ttyS0 panic=-1 cryptomgr.notests tsc_early_khz=$tsc -- --pid1"
}
seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

# A plain boot and a `vm run --rm -- true` (with its own split of the time)
# in turns, so that both see the same load of the machine; the overhead is
# taken pair by pair.
plain=()
wall=()
overhead=()
: >"$work/timings"
for ((i = 0; i < N; i++)); do
    t0=$EPOCHREALTIME
    plain_boot
    plain+=("$(seconds_since "$t0")")
    t0=$EPOCHREALTIME
    banger vm run --rm --timings -- true 2>>"$work/timings"
    wall+=("$(seconds_since "$t0")")
    overhead+=("$(awk -v w="${wall[i]}" -v p="${plain[i]}" 'BEGIN { printf "%.3f %.1f", w - p, (w - p) * 100 / w }')")
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

echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), KVM: $([[ -w /dev/kvm ]] && echo yes || echo no)"
echo "plain qemu boot to power-off (s), median of $N: $(printf '%s\n' "${plain[@]}" | median)"
for phase in "host setup" "vmm start" "boot to agent" "command" "teardown" "total"; do
    printf 'vm run --rm -- true, %-13s (s), median of %d: %s\n' "$phase" "$N" \
        "$(grep "^  $phase " "$work/timings" | awk '{ print $(NF - 1) }' | median)"
done
printf 'vm run --rm -- true, wall incl. the CLI (s), median of %d: %s\n' "$N" \
    "$(printf '%s\n' "${wall[@]}" | median)"
printf "banger's overhead (wall minus the plain boot before it, s and %% of the wall), median of %d pairs: %s\n" \
    "$N" "$(printf '%s\n' "${overhead[@]}" | sort -n | awk '{ v[NR] = $0 } END { split(v[int((NR + 1) / 2)], m, " "); printf "%s s, %s %%", m[1], m[2] }')"
echo "$rtt"
echo "banger vm exec -- true, whole CLI process (ms), median of 20: $(printf '%s\n' "${cli[@]}" | median)"
