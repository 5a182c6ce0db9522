#!/usr/bin/env python3
# check-xml.py: the XML banger ships is well-formed and valid (TAP output).
#
# xmllint --noout --nonet on data/dbus/*.xml, data/dbus/*.conf,
# data/polkit/*.policy.in and the built (gettext-merged) polkit policy; each
# is validated against the DTD its consumer uses when that DTD is installed
# (D-Bus: introspect.dtd, busconfig.dtd; polkit: policyconfig-1.dtd), and
# structurally checked in Python regardless, because the DTDs do not check
# values (polkit's <allow_active> is #PCDATA, but polkitd ignores an action
# whose default is misspelt).
#
# The busconfig.dtd that dbus ships (1.14) predates the send_destination /
# send_interface / own_prefix... rule attributes every current policy uses,
# so "No declaration for attribute" errors for attributes dbus-daemon's
# config parser accepts are not failures; those attributes are checked
# against dbus-daemon's list instead.
#
# Usage: check-xml.py SOURCE_ROOT BUILT_POLICY...

import glob
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lintlib import (Tap, find_dtd, find_tool, polkit_structure_problems,  # noqa: E402
                     rel, share_dirs, skip_all)

BUSCONFIG_POLICY_ATTRS = {'user', 'group', 'context', 'at_console'}
BUSCONFIG_RULE_ATTRS = {
    'send_interface', 'send_member', 'send_error', 'send_destination',
    'send_path', 'send_type', 'send_requested_reply', 'send_broadcast',
    'send_destination_prefix',
    'receive_interface', 'receive_member', 'receive_error', 'receive_sender',
    'receive_path', 'receive_type', 'receive_requested_reply',
    'eavesdrop', 'own', 'own_prefix', 'user', 'group', 'log',
    'max_fds', 'min_fds',
}


UNDECLARED_RULE_ATTR = re.compile(
    r'element (allow|deny): validity error : No declaration for attribute (\w+) of element')


def xmllint(path, dtd=None, tolerate=None):
    """(ok, output lines) of xmllint on @path, validating against @dtd if
    given; validity errors matching @tolerate(line) do not count."""
    argv = ['xmllint', '--noout', '--nonet']
    if dtd:
        argv += ['--dtdvalid', dtd]
    argv.append(path)
    proc = subprocess.run(argv, capture_output=True, text=True)
    lines = (proc.stdout + proc.stderr).splitlines()
    if proc.returncode == 0 or not tolerate:
        return proc.returncode == 0, lines
    errors = [line for line in lines
              if 'error' in line and not tolerate(line)
              and not line.startswith('Document ')]
    return not errors, errors


def busconfig_attr_known(line):
    m = UNDECLARED_RULE_ATTR.search(line)
    return bool(m) and m.group(2) in BUSCONFIG_RULE_ATTRS


def busconfig_problems(path):
    """Structural check of a bus policy: <policy> selectors and the rule
    attributes dbus-daemon's config-parser.c accepts."""
    root = ET.parse(path).getroot()
    problems = []
    if root.tag != 'busconfig':
        return [f'root element is <{root.tag}>, expected <busconfig>']
    for policy in root.findall('policy'):
        keys = set(policy.attrib) & BUSCONFIG_POLICY_ATTRS
        if len(keys) != 1 or set(policy.attrib) - BUSCONFIG_POLICY_ATTRS:
            problems.append(f'<policy {policy.attrib}>: needs exactly one of '
                            + ', '.join(sorted(BUSCONFIG_POLICY_ATTRS)))
        for rule in policy:
            if rule.tag not in ('allow', 'deny'):
                problems.append(f'<{rule.tag}> inside <policy>; only <allow>/<deny>')
                continue
            unknown = set(rule.attrib) - BUSCONFIG_RULE_ATTRS
            if unknown or not rule.attrib:
                problems.append(f'<{rule.tag} {rule.attrib}>: unknown or missing attributes')
    return problems


def check(tap, root, path, kind, dtd, dtd_name, structure, tolerate=None):
    name = rel(path, root)
    ok, out = xmllint(path)
    tap.result(ok, f'{name}: well-formed', out)
    if not ok:
        return
    if dtd:
        ok, out = xmllint(path, dtd, tolerate)
        tap.result(ok, f'{name}: valid against {dtd_name}', out)
    else:
        tap.skip(f'{name}: valid against {dtd_name}', f'{dtd_name} not installed')
    if structure:
        try:
            problems = structure(path)
        except ET.ParseError as e:
            problems = [str(e)]
        tap.result(not problems, f'{name}: {kind} structure', problems)


def main(argv):
    if len(argv) < 2:
        print('usage: check-xml.py SOURCE_ROOT BUILT_POLICY...', file=sys.stderr)
        return 2
    root = os.path.abspath(argv[1])
    built = argv[2:]
    if not find_tool('xmllint'):
        return skip_all('xmllint not found (Debian: apt install libxml2-utils)')

    dbus_share = share_dirs('dbus-1')
    polkit_share = share_dirs('polkit-gobject-1')
    introspect_dtd = find_dtd([os.path.join(d, 'xml', 'dbus-1', 'introspect.dtd') for d in dbus_share])
    busconfig_dtd = find_dtd([os.path.join(d, 'xml', 'dbus-1', 'busconfig.dtd') for d in dbus_share])
    polkit_dtd = find_dtd([os.path.join(d, 'polkit-1', 'policyconfig-1.dtd') for d in polkit_share])

    tap = Tap()
    for path in sorted(glob.glob(os.path.join(root, 'data', 'dbus', '*.xml'))):
        # Documentation annotations are check-dbus-docs.py's business.
        check(tap, root, path, 'introspection', introspect_dtd, 'D-Bus introspect.dtd', None)
    for path in sorted(glob.glob(os.path.join(root, 'data', 'dbus', '*.conf'))):
        check(tap, root, path, 'bus policy', busconfig_dtd, 'D-Bus busconfig.dtd',
              busconfig_problems, tolerate=busconfig_attr_known)
    policies = sorted(glob.glob(os.path.join(root, 'data', 'polkit', '*.policy.in')))
    for path in built:
        if not os.path.isfile(path):
            tap.result(False, f'{os.path.basename(path)}: built',
                       [f'{path} does not exist; build it first (meson compile)'])
        else:
            policies.append(path)
    for path in policies:
        check(tap, root, path, 'polkit action', polkit_dtd, 'polkit policyconfig-1.dtd',
              polkit_structure_problems)
    return tap.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv))
