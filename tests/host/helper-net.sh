#!/bin/bash
# /helper/net: the network methods through the bus, with the real polkitd
# and the activated helper, as root and as a member of group banger: each
# uid's taps are its own (owner read back from the kernel), a member is
# refused root's, a non-member is refused everything. The whole test, the
# buses and the helper they start included, runs in a network namespace
# of its own that vanishes with it, taps and nftables tables included.
set -euo pipefail
if [[ -z ${BANGER_IN_NETNS:-} ]]; then
    BANGER_IN_NETNS=1 exec unshare --net -- "$0" "$@"
fi
source "$(dirname -- "${BASH_SOURCE[0]}")/../harness/harness.sh"

harness_require_root
harness_require_cmd ip nft
harness_require_file "$HARNESS_HELPER_EXE" banger-helper
: "${OPEN_TAP_CLIENT:=$BANGER_BUILD_DIR/tests/host/open-tap-client}"
harness_require_file "$OPEN_TAP_CLIENT" open-tap-client
# A short idle timeout, so the helper exits between the steps below and
# the ownership it enforces is seen to come from the kernel, not memory.
export BANGER_HELPER_IDLE_TIMEOUT=${BANGER_HELPER_IDLE_TIMEOUT:-2}
harness_start
harness_ensure_users

member=bangertest-member
other=bangertest-other
not_owner=dev.banger.Error.NotOwner
not_authorized=dev.banger.Error.NotAuthorized
invalid=dev.banger.Error.InvalidArgument

# The member runs the client from a place it can reach.
install -m 0755 "$OPEN_TAP_CLIENT" "$HARNESS_DIR/open-tap-client"
open_tap=$HARNESS_DIR/open-tap-client

# "OWNER MASTER UP" of a link, from the kernel through ip(8): OWNER as ip
# prints it (a user name, or the uid if it has none).
link_facts() {
    ip -d -j link show dev "$1" | /usr/bin/python3 -c '
import json, sys
link = json.load(sys.stdin)[0]
data = link.get("linkinfo", {}).get("info_data", {})
print(data.get("user", "-"), link.get("master", "-"), "UP" in link["flags"])'
}

# TAP is a tap of USER (name or uid), on BRIDGE, up.
tap_is_owned() {
    local facts
    facts=$(link_facts "$1") || return 1
    printf '%s\n' "$facts"
    [[ $facts == "$2 $4 True" || $facts == "$3 $4 True" ]]
}

nat_rule() {
    printf 'ip saddr %s oifname != "%s" masquerade comment "banger uid=%s tap=%s"' "$@"
}

# Captured first: grep -q closing the pipe early would SIGPIPE nft, and
# pipefail would turn a found rule into a failure.
has_rule() {
    local rules
    rules=$(nft list table ip banger 2>/dev/null) || return 1
    grep -qF -- "$1" <<<"$rules"
}

# --- the bridge

tap_check "root: EnsureBridge" harness_helper_call EnsureBridge
read -r bridge address < <(sed -E "s/^\('([^']*)', '([^']*)'\)$/\1 \2/" <<<"$TAP_OUT")
tap_is "$address" "172.30.0.1/24" "EnsureBridge answers the configured address"
tap_check "the bridge exists and is up" \
    bash -c "ip -d -j link show dev '$bridge' | grep -q '\"info_kind\":\"bridge\"' &&
             ip -o link show dev '$bridge' | grep -q '[<,]UP[,>]'"
tap_check "the bridge has the address" \
    bash -c "ip -4 -o address show dev '$bridge' | grep -qF 'inet $address '"
tap_check "member: EnsureBridge again does nothing" \
    harness_as "$member" harness_helper_call EnsureBridge
tap_is "$(ip -4 -o address show dev "$bridge" | grep -c inet)" 1 \
    "the bridge still has one address"

# --- taps: each uid's own

tap_check "root: CreateTap" harness_helper_call CreateTap bg-root
tap_check "root's tap is owned by uid 0, on the bridge, up" \
    tap_is_owned bg-root root 0 "$bridge"
tap_check "member: CreateTap" harness_as "$member" harness_helper_call CreateTap bg-member
tap_check "the member's tap is owned by the member's uid, on the bridge, up" \
    tap_is_owned bg-member "$member" "$BANGERTEST_MEMBER_UID" "$bridge"
index=$(ip -o link show bg-member | cut -d: -f1)
tap_check "member: CreateTap again does nothing" \
    harness_as "$member" harness_helper_call CreateTap bg-member
tap_is "$(ip -o link show bg-member | cut -d: -f1)" "$index" "the member's tap is the same device"

tap_check "member: OpenTap passes a writable fd of the member's tap (IFF_TAP|IFF_NO_PI)" \
    harness_as "$member" "$open_tap" bg-member
tap_is "$TAP_OUT" "bg-member tap no_pi writable" "the fd is attached to bg-member"
tap_check "root: OpenTap of root's tap" "$open_tap" bg-root
tap_is "$TAP_OUT" "bg-root tap no_pi writable" "the fd is attached to bg-root"

tap_expect_fail_with "$not_owner" "member: OpenTap of root's tap is refused" \
    harness_as "$member" "$open_tap" bg-root
tap_expect_fail_with "$not_owner" "member: DeleteTap of root's tap is refused" \
    harness_as "$member" harness_helper_call DeleteTap bg-root
tap_expect_fail_with "$not_owner" "member: CreateTap over root's tap is refused" \
    harness_as "$member" harness_helper_call CreateTap bg-root
tap_expect_fail_with "$not_owner" "root: OpenTap of the member's tap is refused too" \
    "$open_tap" bg-member
tap_check "root's tap is still root's" tap_is_owned bg-root root 0 "$bridge"

# The helper keeps no record of who made what: after it exits and is
# started again, the kernel's tap owner still decides.
if harness_wait_gone "$HARNESS_HELPER_NAME" 15; then
    tap_ok "the helper exited when idle"
else
    tap_fail "the helper exited when idle"
fi
tap_expect_fail_with "$not_owner" "after a restart the member is still refused root's tap" \
    harness_as "$member" harness_helper_call DeleteTap bg-root
tap_check "after a restart the member still opens its own tap" \
    harness_as "$member" "$open_tap" bg-member

tap_expect_fail_with "$invalid" "CreateTap refuses a name without banger's prefix" \
    harness_as "$member" harness_helper_call CreateTap "$bridge"
tap_expect_fail_with "$invalid" "CreateTap refuses a name with a slash" \
    harness_as "$member" harness_helper_call CreateTap bg-a/b

# --- NAT

tap_check "root: EnableNat for root's tap" harness_helper_call EnableNat bg-root 172.30.0.9
tap_check "member: EnableNat for the member's tap" \
    harness_as "$member" harness_helper_call EnableNat bg-member 172.30.0.5
tap_check "the member's rule is in ip banger, tagged with the member's uid" \
    has_rule "$(nat_rule 172.30.0.5 "$bridge" "$BANGERTEST_MEMBER_UID" bg-member)"
tap_is "$(cat /proc/sys/net/ipv4/ip_forward)" 1 "EnableNat turned on IPv4 forwarding"
tap_check "member: EnableNat again does nothing" \
    harness_as "$member" harness_helper_call EnableNat bg-member 172.30.0.5
tap_is "$(nft list table ip banger | grep -c masquerade)" 2 "one rule per tap"

tap_expect_fail_with "$not_owner" "member: EnableNat on root's tap is refused" \
    harness_as "$member" harness_helper_call EnableNat bg-root 172.30.0.7
tap_expect_fail_with "$not_owner" "member: DisableNat of root's rule is refused" \
    harness_as "$member" harness_helper_call DisableNat bg-root
tap_expect_fail_with dev.banger.Error.AlreadyExists \
    "member: EnableNat with the address of root's VM is refused" \
    harness_as "$member" harness_helper_call EnableNat bg-member 172.30.0.9
tap_expect_fail_with "$invalid" "EnableNat refuses an address outside the bridge's subnet" \
    harness_as "$member" harness_helper_call EnableNat bg-member 10.1.2.3
tap_expect_fail_with "$invalid" "EnableNat refuses the bridge's own address" \
    harness_as "$member" harness_helper_call EnableNat bg-member 172.30.0.1
tap_check "root's rule is untouched" has_rule "$(nat_rule 172.30.0.9 "$bridge" 0 bg-root)"

tap_check "member: DisableNat" harness_as "$member" harness_helper_call DisableNat bg-member
tap_run has_rule "banger uid=$BANGERTEST_MEMBER_UID "
tap_is "$TAP_STATUS" 1 "the member's rule is gone"
tap_check "member: DisableNat again does nothing" \
    harness_as "$member" harness_helper_call DisableNat bg-member

# --- delete

tap_check "member: EnableNat before deleting" \
    harness_as "$member" harness_helper_call EnableNat bg-member 172.30.0.5
tap_check "member: DeleteTap" harness_as "$member" harness_helper_call DeleteTap bg-member
tap_run ip link show bg-member
tap_is "$TAP_STATUS" 1 "the member's tap is gone"
tap_run has_rule "tap=bg-member"
tap_is "$TAP_STATUS" 1 "and so is its rule"
tap_expect_fail_with dev.banger.Error.NotFound "member: DeleteTap again: NotFound" \
    harness_as "$member" harness_helper_call DeleteTap bg-member

tap_check "root: DeleteTap" harness_helper_call DeleteTap bg-root
tap_run nft list table ip banger
tap_is "$TAP_STATUS" 1 "no rule left, so no table ip banger left"

# --- a user outside group banger: polkit refuses every network method

links_before=$(ip -o link show | cut -d: -f2)
harness_helper_call CreateTap bg-root >/dev/null
for call in "EnsureBridge" "CreateTap bg-other" "OpenTap bg-root" "DeleteTap bg-root" \
    "EnableNat bg-root 172.30.0.9" "DisableNat bg-root"; do
    read -r -a argv <<<"$call"
    tap_expect_fail_with "$not_authorized" "$other: ${argv[0]} is refused by polkit" \
        harness_as "$other" harness_helper_call "${argv[@]}"
done
tap_expect_fail_with "$not_authorized" "$other: OpenTap through the fd client is refused" \
    harness_as "$other" "$open_tap" bg-root
tap_check "root's tap survived $other" tap_is_owned bg-root root 0 "$bridge"
tap_run ip link show bg-other
tap_is "$TAP_STATUS" 1 "$other's CreateTap made nothing"
tap_run nft list table ip banger
tap_is "$TAP_STATUS" 1 "$other's EnableNat made no rule"
harness_helper_call DeleteTap bg-root >/dev/null
tap_is "$(ip -o link show | cut -d: -f2)" "$links_before" \
    "nothing but the bridge is left"

# --- ReleaseAll: everything of the caller's uid, nothing of anyone else's

harness_helper_call CreateTap bg-root >/dev/null
harness_as "$member" harness_helper_call CreateTap bg-rel1 >/dev/null
harness_as "$member" harness_helper_call CreateTap bg-rel2 >/dev/null
harness_as "$member" harness_helper_call EnableNat bg-rel1 172.30.0.11 >/dev/null
tap_expect_fail_with "$not_authorized" "$other: ReleaseAll is refused by polkit" \
    harness_as "$other" harness_helper_call ReleaseAll
tap_check "member: ReleaseAll" harness_as "$member" harness_helper_call ReleaseAll
[[ $TAP_OUT == *"'nat:bg-rel1'"* && $TAP_OUT == *"'tap:bg-rel1'"* &&
    $TAP_OUT == *"'tap:bg-rel2'"* && $TAP_OUT != *bg-root* ]] &&
    tap_ok "ReleaseAll lists the member's taps and rule, nothing of root's" ||
    tap_fail "ReleaseAll lists the member's taps and rule, nothing of root's" "$TAP_OUT"
tap_run ip link show bg-rel1
tap_is "$TAP_STATUS" 1 "the member's first tap is gone"
tap_run ip link show bg-rel2
tap_is "$TAP_STATUS" 1 "the member's second tap is gone"
tap_run nft list table ip banger
tap_is "$TAP_STATUS" 1 "the member's NAT rule (and the table) is gone"
tap_check "root's tap survived the member's ReleaseAll" tap_is_owned bg-root root 0 "$bridge"
tap_check "member: ReleaseAll again is a no-op" harness_as "$member" harness_helper_call ReleaseAll
tap_is "$TAP_OUT" "(@as [],)" "and releases nothing"
tap_check "root: ReleaseAll" harness_helper_call ReleaseAll
tap_is "$TAP_OUT" "(['tap:bg-root'],)" "root's ReleaseAll removes root's tap"
tap_is "$(ip -o link show | cut -d: -f2)" "$links_before" \
    "after ReleaseAll nothing but the bridge is left"

tap_done
