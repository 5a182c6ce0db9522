#!/usr/bin/env bash
# tests/bus/cli.sh: the banger command against a real, D-Bus-activated
# bangerd: every verb, its JSON, its errors and exit codes, --help on every
# level, and the same as an unprivileged user on their own session bus.
set -euo pipefail
source "$(dirname -- "$0")/../harness/harness.sh"
harness_start
harness_ensure_users

NAME=dev.banger.Daemon1
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
running() { harness_name_has_owner --session "$NAME"; }

# --- what must not start the daemon -------------------------------------------
tap_check "--version works without a daemon" banger --version
[[ $TAP_OUT == "banger 0.1.0"* ]] && tap_ok "--version names the version" ||
    tap_fail "--version names the version" "$TAP_OUT"
tap_check "daemon status works without a daemon" banger daemon status
tap_check "daemon status --json works without a daemon" banger daemon status --json
tap_is "$(json 'd["running"]' <<<"$TAP_OUT")" "False" "status --json says not running"
tap_check "daemon stop without a daemon is fine" banger daemon stop
running && tap_fail "none of these started bangerd" || tap_ok "none of these started bangerd"

# --- the VM verbs --------------------------------------------------------------
tap_check "vm list starts bangerd by activation" banger vm list
running && tap_ok "bangerd is running now" || tap_fail "bangerd is running now"
tap_check "vm list --json on no VMs" banger vm list --json
tap_is "$(json 'len(d)' <<<"$TAP_OUT")" "0" "an empty JSON array"

tap_check "vm create with defaults" banger vm create web
tap_is "$TAP_OUT" "Created VM “web” at 172.30.0.2 (2 vCPUs, 1 GiB memory, 8 GiB disk)." "create says what it made"
tap_check "vm create with options and --json" \
    banger vm create db-1 --vcpus 4 --memory 2G --disk 20G --json
tap_is "$(json '[d["name"], d["state"], d["vcpus"], d["memory_mib"], d["disk_bytes"]]' <<<"$TAP_OUT")" \
    "['db-1', 'stopped', 4, 2048, 21474836480]" "create --json describes the VM"
tap_is "$(json 'd["settings_source"]' <<<"$TAP_OUT")" \
    "{'vcpus': 'user', 'memory_mib': 'user', 'disk_bytes': 'user'}" "create --json has the sources"

tap_check "vm list" banger vm list
[[ $(sed -n 1p <<<"$TAP_OUT") == NAME*STATE*IP*VCPUS*MEMORY*DISK* &&
    $(sed -n 2p <<<"$TAP_OUT") == db-1*stopped*172.30.0.3*4*"2 GiB"*"20 GiB"* &&
    $(sed -n 3p <<<"$TAP_OUT") == web*stopped*172.30.0.2*2*"1 GiB"*"8 GiB"* ]] &&
    tap_ok "vm list is a table sorted by name" || tap_fail "vm list is a table sorted by name" "$TAP_OUT"
tap_check "vm list --json" banger vm list --json
tap_is "$(json '[v["name"] for v in d]' <<<"$TAP_OUT")" "['db-1', 'web']" "list --json sorted by name"
json '[v["created_at"] for v in d]' <<<"$TAP_OUT" |
    grep -qE "^\['[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z', '" &&
    tap_ok "created_at is ISO 8601 UTC" || tap_fail "created_at is ISO 8601 UTC" "$TAP_OUT"

# auto: firecracker only where it is installed and /dev/kvm is usable.
auto_vmm=qemu
if command -v firecracker >/dev/null && harness_kvm_usable; then
    auto_vmm=firecracker
fi
tap_is "$(json '[[v["ipv4"], v["nat"], v["started_at"], v["last_error"], v["vmm"]] for v in d]' <<<"$TAP_OUT")" \
    "[['172.30.0.3/24', False, None, None, '$auto_vmm'], ['172.30.0.2/24', False, None, None, '$auto_vmm']]" \
    "list --json has the network, VMM and run-time fields"
tap_check "vm show" banger vm show web
[[ $TAP_OUT == *"vcpus:"*"2 (auto"* && $TAP_OUT == *"disk:"*"8 GiB (builtin)"* ]] &&
    tap_ok "vm show explains where values came from" || tap_fail "vm show explains where values came from" "$TAP_OUT"
[[ $TAP_OUT == *"vmm:"*"$auto_vmm (auto: "*"so $auto_vmm)"* ]] &&
    tap_ok "vm show says which VMM and why" || tap_fail "vm show says which VMM and why" "$TAP_OUT"
tap_check "create --vmm qemu" banger vm create picked --vmm qemu --json
tap_is "$(json '[d["vmm"], d["vmm_reason"]]' <<<"$TAP_OUT")" "['qemu', 'qemu, as requested']" \
    "an explicit --vmm is recorded as requested"
tap_check "delete it" banger vm delete picked
tap_expect_fail_with "Unknown VMM" "an unknown VMM is refused" \
    banger vm create bogus --vmm bochs
tap_check "vm set" banger vm set web --vcpus 1 --memory 512M
tap_check "vm set --nat" banger vm set web --nat on
tap_is "$TAP_OUT" "Changed VM “web” (1 vCPU, 512 MiB memory, 8 GiB disk, NAT)." "set --nat says NAT"
tap_check "vm show --json after set" banger vm show web --json
tap_is "$(json '[d["vcpus"], d["memory_mib"], d["settings_source"]["memory_mib"], d["nat"]]' <<<"$TAP_OUT")" \
    "[1, 512, 'user', True]" "set took effect and is marked user"
tap_is "$(busctl --user get-property "$NAME" /dev/banger/Daemon1/vm/web dev.banger.VM1 VCPUs)" \
    "u 1" "busctl sees what the CLI did"

# --- errors: one line, exit 1; usage errors exit 2 -----------------------------
expect_error() {
    local status=$1 pattern=$2 desc=$3
    shift 3
    tap_run "$@"
    if ((TAP_STATUS == status)) && [[ -z $TAP_OUT && $(wc -l <<<"$TAP_ERR") -le 2 &&
        $TAP_ERR == "banger: "* && $TAP_ERR == *$pattern* ]]; then
        tap_ok "$desc"
    else
        tap_fail "$desc" "want exit $status and *$pattern*" "$(tap_show_run "$@")"
    fi
}
expect_error 1 "already exists" "a duplicate name" banger vm create web
expect_error 1 "try “web”" "an upper-case name" banger vm create Web
expect_error 1 "no VM named “nope”" "show of an unknown VM" banger vm show nope
expect_error 1 "no VM named “nope”" "delete of an unknown VM" banger vm delete nope
expect_error 1 "not a size" "a size that is not one" banger vm create x --memory lots
expect_error 1 "out of range" "vCPUs out of range" banger vm create x --vcpus 99
expect_error 2 "banger vm --help" "an unknown verb" banger vm frob
expect_error 2 "" "an unknown option" banger vm list --frob
expect_error 2 "" "a missing VM name" banger vm create
expect_error 1 "on or off" "set --nat wants on or off" banger vm set web --nat maybe
expect_error 1 "--timeout" "stop --timeout wants seconds" banger vm stop web --timeout soon
expect_error 1 "no console log yet" "logs of a VM that never ran" banger vm logs web
running && tap_ok "bangerd survived all of that" || tap_fail "bangerd survived all of that"

for cmd in "" "vm" "vm create" "vm list" "vm show" "vm start" "vm stop" "vm restart" \
    "vm logs" "vm delete" "vm set" "daemon" "daemon status" "daemon stop"; do
    # shellcheck disable=SC2086
    tap_check "banger $cmd --help" banger $cmd --help
    [[ $TAP_OUT == Usage:* ]] || tap_fail "banger $cmd --help starts with Usage:" "$TAP_OUT"
done
# Options go before a "--": after it everything is the command's.
tap_check "banger vm run --help" banger vm run --help
tap_is "$(head -n 1 <<<"$TAP_OUT")" "Usage: banger vm run [OPTION…] -- COMMAND [ARG…]" \
    "vm run's usage puts the options before the command"

tap_check "vm stop of a stopped VM" banger vm stop web
tap_is "$TAP_OUT" "Stopped VM “web”." "stop says so"
tap_check "vm delete" banger vm delete web --force
tap_is "$TAP_OUT" "Deleted VM “web”." "delete says so"
tap_check "daemon status --json while running" banger daemon status --json
tap_is "$(json '[d["running"], d["vm_count"], d["version"]]' <<<"$TAP_OUT")" \
    "[True, 1, '0.1.0']" "status --json reports the daemon"
tap_check "daemon stop" banger daemon stop
running && tap_fail "daemon stop stopped it" || tap_ok "daemon stop stopped it"
tap_check "VMs survive the restart" banger vm show db-1

# --- an unprivileged user, own session bus, own daemon --------------------------
user_run() {
    harness_as_session bangertest-other sh -c '
        banger vm create mine --memory 256M &&
        banger vm list --json &&
        stat -c "%U %a" "$XDG_STATE_HOME/banger/state.db" &&
        ps -o user= -p "$(busctl --user call org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus GetConnectionUnixProcessID s dev.banger.Daemon1 | cut -d" " -f2)"'
}
tap_check "an unprivileged user creates and lists VMs" user_run
[[ $TAP_OUT == *'"name" : "mine"'* && $TAP_OUT == *"bangertest-other 600"* &&
    $(tail -n 1 <<<"$TAP_OUT") == bangertest-other ]] &&
    tap_ok "their VM, database and daemon are theirs" ||
    tap_fail "their VM, database and daemon are theirs" "$TAP_OUT"
tap_check "root's VMs are not affected" banger vm list --json
tap_is "$(json '[v["name"] for v in d]' <<<"$TAP_OUT")" "['db-1']" "root still sees only its own VM"

tap_done
