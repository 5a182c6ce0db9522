#!/usr/bin/env python3
# check-dbus-docs.py: every introspection file in data/dbus/ holds one
# interface, is named after it, and documents every member (TAP output).
#
# The API reference (docs/) and the gdbus-codegen comments come from the
# org.gtk.GDBus.DocString annotations, so a member without one is an
# undocumented part of the public API.  Other annotations (e.g.
# org.gtk.GDBus.C.Name) are allowed and ignored.
#
# Usage: check-dbus-docs.py SOURCE_ROOT [XML...]
#   With no XML files, checks SOURCE_ROOT/data/dbus/*.xml, so a new file is
#   covered without touching the build files.

import glob
import os
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lintlib import Tap, rel, skip_all  # noqa: E402

DOC = 'org.gtk.GDBus.DocString'


def doc_of(element):
    """The element's own DocString value; None when it has none."""
    for child in element.findall('annotation'):
        if child.get('name') == DOC:
            return child.get('value', '')
    return None


def undocumented(iface):
    """(member, problem) for the interface and each member and arg lacking docs."""
    missing = []

    def need(element, what):
        value = doc_of(element)
        if value is None:
            missing.append((what, 'no DocString annotation'))
        elif not value.strip():
            missing.append((what, 'empty DocString annotation'))

    need(iface, 'interface')
    for kind in ('method', 'signal', 'property'):
        for member in iface.findall(kind):
            name = member.get('name', '?')
            need(member, f'{kind} {name}')
            # Signal args are documented too: the reference lists them.
            for index, arg in enumerate(member.findall('arg')):
                need(arg, f'{kind} {name} arg {arg.get("name") or "#" + str(index)}')
    return missing


def main(argv):
    if len(argv) < 2:
        print('usage: check-dbus-docs.py SOURCE_ROOT [XML...]', file=sys.stderr)
        return 2
    root_dir = argv[1]
    paths = argv[2:] or sorted(glob.glob(os.path.join(root_dir, 'data', 'dbus', '*.xml')))
    if not paths:
        return skip_all('no data/dbus/*.xml found')

    tap = Tap()
    for path in paths:
        name = rel(path, root_dir)
        base = os.path.basename(path)
        try:
            node = ET.parse(path).getroot()
        except (ET.ParseError, OSError) as e:
            tap.result(False, f'{name}: parses', [str(e)])
            continue

        # One interface per file, the file named <interface>.xml: the build
        # and the docs name their outputs after the interface.
        interfaces = node.findall('interface')
        problems = []
        if node.tag != 'node':
            problems.append(f'root element is <{node.tag}>, expected <node>')
        if len(interfaces) != 1:
            names = ', '.join(i.get('name', '?') for i in interfaces) or 'none'
            problems.append(f'{len(interfaces)} interfaces ({names}); '
                            'put exactly one interface in each file')
        elif base != interfaces[0].get('name', '') + '.xml':
            problems.append(f'rename the file to {interfaces[0].get("name")}.xml '
                            '(file name = interface name + .xml)')
        tap.result(not problems, f'{name}: one interface, file named after it', problems)

        missing = [f'{name}: {iface.get("name", "?")}: {member}: {problem}'
                   for iface in interfaces
                   for member, problem in undocumented(iface)]
        tap.result(not missing, f'{name}: interface, members and args documented', missing)

    return tap.done(f'Add <annotation name="{DOC}" value="..."/> inside '
                    'each element listed.')


if __name__ == '__main__':
    sys.exit(main(sys.argv))
