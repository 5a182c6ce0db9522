#!/usr/bin/env bash
# tests/bus/daemon-store.sh: an unusable state.db is reported on the bus by
# name, never overwritten, and picked up again once it is repaired.
set -euo pipefail
source "$(dirname -- "$0")/../harness/harness.sh"
harness_start

NAME=dev.banger.Daemon1
ROOT=/dev/banger/Daemon1
DB=$XDG_STATE_HOME/banger/state.db
manager() {
    gdbus call --session --dest "$NAME" --object-path "$ROOT" \
        --method "dev.banger.Manager1.$1" "${@:2}"
}
stop_daemon() {
    manager Shutdown >/dev/null
    harness_wait_gone --session "$NAME" 10
}

tap_check "a fresh daemon creates its database" manager CreateVM keep '{}'
stop_daemon
cp -- "$DB" "$HARNESS_DIR/good.db"

# Random bytes where the database should be.
head -c 65536 /dev/urandom >"$DB"
before=$(sha256sum <"$DB")
tap_expect_fail_with "dev.banger.Error.Corrupt" "a corrupt database is a named error" \
    manager GetVM keep
[[ $TAP_ERR == *"$DB"* && $TAP_ERR == *"Move it aside"* ]] &&
    tap_ok "the error names the file and says what to do" ||
    tap_fail "the error names the file and says what to do" "$TAP_ERR"
tap_expect_fail_with "dev.banger.Error.Corrupt" "CreateVM is refused too" \
    manager CreateVM other '{}'
tap_expect_fail_with "dev.banger.Error.Corrupt" "listing is refused rather than empty" \
    gdbus call --session --dest "$NAME" --object-path "$ROOT" \
    --method org.freedesktop.DBus.ObjectManager.GetManagedObjects
tap_expect_fail_with "dev.banger.Error.Corrupt" "properties are refused too" \
    gdbus call --session --dest "$NAME" --object-path "$ROOT" \
    --method org.freedesktop.DBus.Properties.Get dev.banger.Manager1 Version
tap_is "$(sha256sum <"$DB")" "$before" "the corrupt file is byte-for-byte unchanged"
# vms/ holds the VM created above; only database files matter here.
tap_is "$(ls -- "$XDG_STATE_HOME/banger" | grep -vx vms)" "state.db" "no journal or WAL file was created beside it"
harness_wait_gone --session "$NAME" 15 &&
    tap_ok "the daemon exits by itself when idle" ||
    tap_fail "the daemon exits by itself when idle"

# A database from a newer banger.
cp -- "$HARNESS_DIR/good.db" "$DB"
sqlite3 "$DB" "PRAGMA user_version = 99"
before=$(sha256sum <"$DB")
tap_expect_fail_with "dev.banger.Error.NotSupported" "a newer schema is a named error" \
    manager GetVM keep
[[ $TAP_ERR == *"$DB"*"newer banger"* ]] &&
    tap_ok "the error names the file and the reason" ||
    tap_fail "the error names the file and the reason" "$TAP_ERR"
tap_is "$(sha256sum <"$DB")" "$before" "the newer file is unchanged"
stop_daemon
tap_ok "Shutdown works while degraded"

# Repaired: the next call starts a daemon that serves the VMs again.
cp -- "$HARNESS_DIR/good.db" "$DB"
tap_check "a repaired database is used again" manager GetVM keep

tap_done
