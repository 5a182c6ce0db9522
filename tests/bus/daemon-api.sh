#!/usr/bin/env bash
# tests/bus/daemon-api.sh: bangerd's D-Bus API driven with plain gdbus and
# busctl, as any script would: activation, CreateVM/GetVM/Set/Delete, the
# named errors, ObjectManager signals, and persistence across restarts.
set -euo pipefail
source "$(dirname -- "$0")/../harness/harness.sh"

# bangerd runs with --verbose: its debug lines show the op ids.
export BANGER_DAEMON_VERBOSE=1
harness_start

NAME=dev.banger.Daemon1
ROOT=/dev/banger/Daemon1
call() { gdbus call --session --dest "$NAME" "$@"; }
manager() { call --object-path "$ROOT" --method "dev.banger.Manager1.$1" "${@:2}"; }
vm_call() { call --object-path "$ROOT/vm/$1" --method "dev.banger.VM1.$2" "${@:3}"; }
vm_prop() {
    busctl --user get-property "$NAME" "$ROOT/vm/$1" dev.banger.VM1 "$2"
}

# --- activation --------------------------------------------------------------
if harness_name_has_owner --session "$NAME"; then
    tap_fail "bangerd is not running before the first call"
else
    tap_ok "bangerd is not running before the first call"
fi
tap_check "CreateVM activates bangerd and returns the VM's path" \
    manager CreateVM web '{}'
tap_is "$TAP_OUT" "(objectpath '$ROOT/vm/web',)" "CreateVM's path is the escaped name"
harness_name_has_owner --session "$NAME" && tap_ok "bangerd owns $NAME" ||
    tap_fail "bangerd owns $NAME"

# --- monitor signals from here on ------------------------------------------
monitor_log=$HARNESS_DIR/monitor.log
gdbus monitor --session --dest "$NAME" >"$monitor_log" 2>&1 &
monitor_pid=$!
harness_on_exit "kill $monitor_pid 2>/dev/null; wait $monitor_pid 2>/dev/null"
harness_poll 10 grep -q "is owned by" "$monitor_log" ||
    tap_fail "gdbus monitor attached" "$(cat "$monitor_log")"

# --- create -------------------------------------------------------------------
tap_check "CreateVM with typed options" \
    manager CreateVM db-1 "{'VCPUs': <uint32 4>, 'MemoryMiB': <uint64 2048>, 'DiskBytes': <uint64 2147483648>}"
tap_is "$TAP_OUT" "(objectpath '$ROOT/vm/db_2d1',)" "a '-' in a name is escaped as _2d"
tap_is "$(vm_prop db_2d1 VCPUs)" "u 4" "VCPUs as given"
tap_is "$(vm_prop db_2d1 MemoryMiB)" "t 2048" "MemoryMiB as given"
tap_is "$(vm_prop db_2d1 DiskBytes)" "t 2147483648" "DiskBytes as given"
tap_is "$(vm_prop db_2d1 State)" 's "stopped"' "a new VM is stopped"
tap_is "$(vm_prop db_2d1 SettingsSource)" \
    'a{ss} 3 "VCPUs" "user" "MemoryMiB" "user" "DiskBytes" "user"' \
    "settings given to CreateVM are marked user"
tap_is "$(vm_prop web SettingsSource)" \
    'a{ss} 3 "VCPUs" "auto" "MemoryMiB" "auto" "DiskBytes" "builtin"' \
    "defaults without a config file are auto and builtin"

mkdir -p "$XDG_CONFIG_HOME/banger"
printf '[vm-defaults]\nvcpus = 3\nmemory = 768M\n' >"$XDG_CONFIG_HOME/banger/config"
tap_check "CreateVM reads the config file" manager CreateVM cfg '{}'
tap_is "$(vm_prop cfg VCPUs) $(vm_prop cfg MemoryMiB)" "u 3 t 768" "config values used"
tap_is "$(vm_prop cfg SettingsSource)" \
    'a{ss} 3 "VCPUs" "config" "MemoryMiB" "config" "DiskBytes" "builtin"' \
    "config values are marked config"
printf '[vm-defaults]\nmemory = plenty\n' >"$XDG_CONFIG_HOME/banger/config"
tap_expect_fail_with "dev.banger.Error.InvalidArgument" \
    "a bad config value fails CreateVM" manager CreateVM bad-cfg '{}'
[[ $TAP_ERR == *"$XDG_CONFIG_HOME/banger/config"*"memory"* ]] &&
    tap_ok "the error names the config file and key" ||
    tap_fail "the error names the config file and key" "$TAP_ERR"
rm "$XDG_CONFIG_HOME/banger/config"

# --- errors -------------------------------------------------------------------
tap_expect_fail_with "dev.banger.Error.AlreadyExists" \
    "a second CreateVM with the same name" manager CreateVM web '{}'
for bad in Web -web web- "a b" "a.b" "../x" ""; do
    # Quoted as a GVariant string so gdbus never takes "-web" for an option.
    tap_expect_fail_with "dev.banger.Error.InvalidArgument" \
        "CreateVM rejects the name '$bad'" manager CreateVM "'$bad'" '{}'
done
tap_expect_fail_with "dev.banger.Error.InvalidArgument" \
    "CreateVM rejects a 64-character name" manager CreateVM "$(printf 'a%.0s' {1..64})" '{}'
tap_expect_fail_with "dev.banger.Error.InvalidArgument" \
    "CreateVM rejects an unknown option" manager CreateVM x "{'Colour': <'red'>}"
tap_expect_fail_with "dev.banger.Error.InvalidArgument" \
    "CreateVM rejects a wrongly typed option" manager CreateVM x "{'VCPUs': <int32 2>}"
tap_expect_fail_with "dev.banger.Error.InvalidArgument" \
    "CreateVM rejects out-of-range vCPUs" manager CreateVM x "{'VCPUs': <uint32 0>}"
tap_expect_fail_with "dev.banger.Error.NotFound" \
    "GetVM of an unknown VM is NotFound" manager GetVM nope
tap_check "GetVM of a known VM" manager GetVM db-1
tap_is "$TAP_OUT" "(objectpath '$ROOT/vm/db_2d1',)" "GetVM returns the VM's path"
tap_expect_fail_with "dev.banger.Error.InvalidArgument" \
    "Delete rejects unknown options" vm_call web Delete "{'force': <true>}"
tap_expect_fail_with "dev.banger.Error.InvalidArgument" \
    "Set refuses DiskBytes" vm_call web Set "{'DiskBytes': <uint64 1073741824>}"
tap_expect_fail_with "dev.banger.Error.NotFound" \
    "no failed CreateVM left a VM behind" manager GetVM x

# --- set, delete, signals -----------------------------------------------------
tap_check "Set changes vCPUs and memory" \
    vm_call web Set "{'VCPUs': <uint32 1>, 'MemoryMiB': <uint64 512>}"
tap_is "$(vm_prop web VCPUs) $(vm_prop web MemoryMiB)" "u 1 t 512" "Set took effect"
tap_is "$(vm_prop web SettingsSource)" \
    'a{ss} 3 "VCPUs" "user" "MemoryMiB" "user" "DiskBytes" "builtin"' \
    "Set marks the changed settings user"
tap_check "Delete removes a VM" vm_call cfg Delete '{}'
tap_expect_fail_with "dev.banger.Error.NotFound" "a deleted VM is gone" manager GetVM cfg

harness_poll 10 grep -q "InterfacesRemoved.*$ROOT/vm/cfg" "$monitor_log" || true
grep -q "InterfacesAdded.*'$ROOT/vm/db_2d1'.*dev.banger.VM1" "$monitor_log" &&
    tap_ok "InterfacesAdded announced the new VM" ||
    tap_fail "InterfacesAdded announced the new VM" "$(cat "$monitor_log")"
changed=$(grep "$ROOT/vm/web: org.freedesktop.DBus.Properties.PropertiesChanged ('dev.banger.VM1'" "$monitor_log" || true)
[[ $(wc -l <<<"$changed") == 1 && $changed == *"'VCPUs': <uint32 1>"* &&
    $changed == *"'MemoryMiB': <uint64 512>"* ]] &&
    tap_ok "one PropertiesChanged carried both changes" ||
    tap_fail "one PropertiesChanged carried both changes" "$(cat "$monitor_log")"
grep -q "InterfacesRemoved (objectpath '$ROOT/vm/cfg', \['dev.banger.VM1'\])" "$monitor_log" &&
    tap_ok "InterfacesRemoved announced the deleted VM" ||
    tap_fail "InterfacesRemoved announced the deleted VM" "$(cat "$monitor_log")"

# --- op ids in the log --------------------------------------------------------
if grep -E "bangerd\[[0-9]+\]: .*\[op[0-9]+\].*dev.banger.Manager1.CreateVM from" \
    "$HARNESS_DIR/session.log" >/dev/null; then
    tap_ok "each call's log lines carry an operation id"
else
    tap_fail "each call's log lines carry an operation id" "$(tail -20 "$HARNESS_DIR/session.log")"
fi

# --- persistence --------------------------------------------------------------
created=$(vm_prop web CreatedAt)
tap_check "Shutdown stops bangerd" manager Shutdown
harness_wait_gone --session "$NAME" 10 && tap_ok "the name is released" ||
    tap_fail "the name is released"
tap_is "$(vm_prop web CreatedAt)" "$created" "after a restart the VM is back unchanged"
tap_is "$(vm_prop web VCPUs)" "u 1" "and keeps its changed settings"
tap_expect_fail_with "dev.banger.Error.NotFound" "and deleted VMs stay deleted" manager GetVM cfg

harness_kill_owner --session "$NAME"
tap_is "$(vm_prop db_2d1 MemoryMiB)" "t 2048" "after kill -9 the VMs are still there"
tap_check "the database is consistent after kill -9" \
    sqlite3 "$XDG_STATE_HOME/banger/state.db" "PRAGMA integrity_check"
tap_is "$TAP_OUT" "ok" "integrity_check says ok"
tap_is "$(stat -c %a "$XDG_STATE_HOME/banger") $(stat -c %a "$XDG_STATE_HOME/banger/state.db")" \
    "700 600" "the state directory and database are private"

tap_done
