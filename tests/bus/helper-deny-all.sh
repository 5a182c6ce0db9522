#!/bin/bash
# /helper/deny-all: every method of dev.banger.Helper1, as read from the
# introspection XML (so a new method cannot escape this test), is refused
# by the real polkitd for a user outside group banger, and the refusal
# comes before the handler: no host change happens. Runs in its own
# network namespace so even a broken check could not touch the host.
set -euo pipefail
if [[ -z ${BANGER_IN_NETNS:-} ]]; then
    BANGER_IN_NETNS=1 exec unshare --net -- "$0" "$@"
fi
source "$(dirname -- "${BASH_SOURCE[0]}")/../harness/harness.sh"

harness_require_root
harness_require_file "$HARNESS_HELPER_EXE" banger-helper
harness_start
harness_ensure_users

# One line per method: NAME and gdbus arguments made from its in-args. A
# type this table does not know fails the test: teach it, don't skip it.
methods=$(/usr/bin/python3 - "$BANGER_SOURCE_DIR/data/dbus/dev.banger.Helper1.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
samples = {'s': "'bg-denied'", 'u': '4242', 'b': 'false',
           'a{sv}': '@a{sv} {}', 'as': '@as []', 'a(sb)': '@a(sb) []'}
for m in ET.parse(sys.argv[1]).getroot().iter('method'):
    args = []
    for a in m.findall('arg'):
        if a.get('direction', 'in') != 'in':
            continue
        t = a.get('type')
        if t not in samples:
            sys.exit('helper-deny-all: no sample value for D-Bus type %s (method %s)' % (t, m.get('name')))
        args.append(samples[t])
    print(m.get('name'), '\t'.join(args), sep='\t')
PY
)
[[ -n $methods ]] || harness_die "no methods read from the XML"

links_before=$(ip -o link show | cut -d: -f2)
while IFS=$'\t' read -r method args; do
    argv=()
    [[ -z $args ]] || IFS=$'\t' read -r -a argv <<<"$args"
    tap_expect_fail_with dev.banger.Error.NotAuthorized \
        "$method is refused for a user outside group banger" \
        harness_as bangertest-other harness_helper_call "$method" "${argv[@]}"
    tap_expect_fail_with dev.banger.Error.NotAuthorized \
        "$method is refused for uid 65534 with interaction allowed" \
        harness_as nobody harness_helper_call --interactive "$method" "${argv[@]}"
done <<<"$methods"

tap_is "$(ip -o link show | cut -d: -f2)" "$links_before" "no network device appeared"
if nft list table ip banger >/dev/null 2>&1; then
    tap_fail "no nftables table was created"
else
    tap_ok "no nftables table was created"
fi
tap_done
