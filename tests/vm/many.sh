#!/bin/bash
# tests/vm/many.sh: 20 VMs created and started at the same time get 20
# distinct addresses, MACs and taps, all run, and all are cleaned up.
set -euo pipefail
source "$(dirname -- "$0")/vm-fixture.sh"

N=20
names=()
for i in $(seq 1 $N); do names+=("vm$i"); done

# parallel CMD...: runs CMD NAME for every VM at once; fails if any did.
parallel() {
    local pids=() failed=0 name
    for name in "${names[@]}"; do
        "$@" "$name" >"$HARNESS_DIR/out.$name" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    if ((failed)); then
        for name in "${names[@]}"; do tap_diag "$name: $(cat "$HARNESS_DIR/out.$name")"; done
    fi
    return $failed
}

parallel banger vm create && tap_ok "$N VMs created at once" || tap_fail "$N VMs created at once"
parallel banger vm start && tap_ok "$N VMs started at once" || tap_fail "$N VMs started at once"

declare -A seen_ip seen_mac seen_tap
dups=0 running=0
for name in "${names[@]}"; do
    ip=$(vm_prop "$name" IPv4) mac=$(vm_prop "$name" MAC) tap=$(vm_prop "$name" Tap)
    [[ -n ${seen_ip[$ip]:-} || -n ${seen_mac[$mac]:-} || -n ${seen_tap[$tap]:-} ]] && dups=$((dups + 1))
    seen_ip[$ip]=1 seen_mac[$mac]=1 seen_tap[$tap]=1
    [[ $(vm_state "$name") == running ]] && running=$((running + 1))
    ip link show dev "$tap" >/dev/null 2>&1 || tap_diag "$name: no tap $tap"
done
tap_is "$dups" 0 "addresses, MACs and taps are all distinct"
tap_is "$running" $N "all $N are running"
tap_is "$(vm_vmm_pids | wc -l)" $N "one VMM each"
tap_is "$(ip -o link show | grep -c ': bg-')" $N "one tap each"

parallel banger vm delete --force && tap_ok "$N VMs deleted at once" || tap_fail "$N VMs deleted at once"
tap_check "none left" banger vm list --json
tap_is "$TAP_OUT" "[]" "the list is empty"
vm_expect_clean "after $N VMs"
tap_done
