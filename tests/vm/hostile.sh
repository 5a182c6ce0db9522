#!/bin/bash
# tests/vm/hostile.sh: hostile VM names, option values and config values
# are refused with InvalidArgument before anything is made, and values that
# are legal but look like commands are only ever data: they never reach a
# command line, a shell or a file outside the VM's directory.
set -euo pipefail
source "$(dirname -- "$0")/vm-fixture.sh"

DAEMON=dev.banger.Daemon1
invalid=dev.banger.Error.InvalidArgument
# create NAME [KEY TYPE VALUE]...: Manager1.CreateVM through gdbus, whose
# errors carry the D-Bus error name; values are quoted by Python, so any
# byte sequence arrives exactly as given.
create() {
    local args
    args=$(/usr/bin/python3 - "$@" <<'PY'
import sys
def text(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"
name, rest = sys.argv[1], sys.argv[2:]
items = []
for i in range(0, len(rest), 3):
    key, kind, value = rest[i:i + 3]
    v = ('true' if value == 'true' else 'false') if kind == 'b' else text(value)
    items.append(f"{text(key)}: <{v}>")
print(text(name))
print("@a{sv} {" + ", ".join(items) + "}")
PY
)
    local -a argv
    mapfile -t argv <<<"$args"
    gdbus call --session --dest "$DAEMON" --object-path /dev/banger/Daemon1 \
        --method dev.banger.Manager1.CreateVM -- "${argv[@]}"
}

for name in 'a;b' '../x' '$(touch pwned)' 'web name' '-web' 'Web' \
    "$(printf 'a%.0s' {1..64})" 'a/b' '.hidden' ''; do
    tap_expect_fail_with "$invalid" "name ${name@Q} is refused" create "$name"
done
tap_expect_fail_with "$invalid" "a newline in a name is refused" create $'web\nx'
for value in 'relative/vmlinux' '/a/../etc/shadow' '/a//b' $'/a\nb' '/a/./b'; do
    tap_expect_fail_with "$invalid" "kernel ${value@Q} is refused" create web Kernel s "$value"
    tap_expect_fail_with "$invalid" "image ${value@Q} is refused" create web Image s "$value"
done
tap_expect_fail_with "NotSupported" "an unknown VMM is refused" create web VMM s "qemu; id"
tap_expect_fail_with "$invalid" "a wrongly typed option is refused" create web NAT s yes
tap_expect_fail_with "$invalid" "an unknown option is refused" create web Shell s /bin/sh
tap_is "$(ls -A "$XDG_STATE_HOME/banger/vms" 2>/dev/null)" "" "none of that made a file"

# Hostile config values are refused with the key named.
cp "$XDG_CONFIG_HOME/banger/config" "$HARNESS_DIR/config.good"
for line in 'subnet=10.0.0.0/8; rm -rf /' 'subnet=10.0.0.1/24' 'resolvers=8.8.8.8;$(id)'; do
    printf '%s\n[network]\n%s\n' "$(cat "$HARNESS_DIR/config.good")" "$line" >"$XDG_CONFIG_HOME/banger/config"
    tap_expect_fail_with "[network]" "config [network] ${line@Q} is refused" create web
done
printf '%s\n' "$(sed 's|^binary=.*|binary=../../bin/sh|' "$HARNESS_DIR/config.good")" \
    >"$XDG_CONFIG_HOME/banger/config"
tap_expect_fail_with "[firecracker] binary" "config binary=../../bin/sh is refused" create web
cp "$HARNESS_DIR/config.good" "$XDG_CONFIG_HOME/banger/config"

# Legal but shell-looking paths are data: Firecracker gets them verbatim in
# JSON, nothing runs them.
weird="$VM_ASSETS/k \$(touch pwned); \`touch pwned\` 'q\""
cp "$VM_ASSETS/vmlinux" "$weird"
tap_check "a kernel path full of shell syntax is accepted" create web Kernel s "$weird"
tap_check "and the VM starts" banger vm start web
tap_is "$(vm_call_body web 'PUT /boot-source' | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["kernel_image_path"])')" \
    "$weird" "Firecracker got the path verbatim"
# Relative: a shell would have made it in its working directory, bangerd's
# (/ or $HOME), the VMM's (the runtime dir) or the test's.
[[ ! -e /pwned && ! -e $HOME/pwned && ! -e $PWD/pwned && ! -e $VM_ASSETS/pwned &&
    -z $(find "$XDG_RUNTIME_DIR" "$XDG_STATE_HOME" -name pwned) ]] && tap_ok "nothing was executed" ||
    tap_fail "nothing was executed"
tap_run debugfs -R 'cat /banger/vm.conf' "$XDG_STATE_HOME/banger/vms/web/disk.ext4"
[[ $TAP_OUT != *pwned* && $TAP_OUT == *"hostname=web"* ]] &&
    tap_ok "the boot config holds only validated values" || tap_fail "the boot config holds only validated values" "$TAP_OUT"
tap_is "$(ls -A "$XDG_STATE_HOME/banger/vms")" "web" "only web's directory exists"
tap_is "$(ls "$XDG_STATE_HOME/banger/vms/web" | sort | tr '\n' ' ')" \
    "console.log disk.ext4 metrics.json vmm.log " "and it holds only the disk and logs"
tap_check "delete --force" banger vm delete web --force
vm_expect_clean "after the hostile tests"
tap_done
