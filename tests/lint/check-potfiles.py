#!/usr/bin/env python3
# check-potfiles.py: po/POTFILES.in names every source file with strings
# marked for translation, only files that exist, each once, sorted (TAP
# output).
#
# A file missing from POTFILES.in is silently left out of banger.pot, so its
# messages are never translated; a listed file that no longer exists breaks
# `meson compile banger-pot`.
#
# Scanned: src/**/*.c and *.h (comments and the contents of string literals
# are ignored, so "N_()" in a comment does not count) and
# data/polkit/*.policy.in (translatable through gettext's polkit ITS rules:
# <description> and <message>).
#
# Usage: check-potfiles.py SOURCE_ROOT

import glob
import os
import re
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lintlib import Tap, c_code, translatable_calls  # noqa: E402

def has_c_strings(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        return bool(translatable_calls(c_code(f.read())))


def has_policy_strings(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    return bool(re.search(r'<(description|message)[\s>]', text))


def read_potfiles(path):
    """Listed paths in order; comments, blank lines and [type: ...] prefixes skipped."""
    entries = []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            line = re.sub(r'^\[[^]]*\]\s*', '', line)
            entries.append((lineno, line))
    return entries


def main(argv):
    if len(argv) != 2:
        print('usage: check-potfiles.py SOURCE_ROOT', file=sys.stderr)
        return 2
    root = os.path.abspath(argv[1])
    potfiles = os.path.join(root, 'po', 'POTFILES.in')
    tap = Tap()
    if not os.path.exists(potfiles):
        tap.result(False, 'po/POTFILES.in exists', [f'{potfiles} is missing'])
        return tap.done()

    entries = read_potfiles(potfiles)
    listed = {os.path.normpath(p) for _, p in entries}

    wanted = []
    for pattern in ('src/**/*.c', 'src/**/*.h'):
        for path in sorted(glob.glob(os.path.join(root, pattern), recursive=True)):
            if has_c_strings(path):
                wanted.append(os.path.relpath(path, root))
    for path in sorted(glob.glob(os.path.join(root, 'data', 'polkit', '*.policy.in'))):
        if has_policy_strings(path):
            wanted.append(os.path.relpath(path, root))

    to_add = [p for p in sorted(wanted) if p not in listed]
    tap.result(not to_add, 'po/POTFILES.in lists every file with translatable strings',
               [f'add to po/POTFILES.in: {p}' for p in to_add])

    to_remove = [f'remove from po/POTFILES.in (line {lineno}, no such file): {p}'
                 for lineno, p in entries if not os.path.isfile(os.path.join(root, p))]
    tap.result(not to_remove, 'po/POTFILES.in lists only files that exist', to_remove)

    seen = set()
    dupes = []
    for lineno, p in entries:
        key = os.path.normpath(p)
        if key in seen:
            dupes.append(f'remove the duplicate on line {lineno}: {p}')
        seen.add(key)
    tap.result(not dupes, 'po/POTFILES.in lists each file once', dupes)

    # Sorted (byte order), so a new file has one right place and merges of
    # two additions do not conflict or hide a duplicate.
    paths = [p for _, p in entries]
    unsorted = [f'line {lineno}: {p} sorts before {prev}'
                for (_, prev), (lineno, p) in zip(entries, entries[1:]) if p < prev]
    tap.result(paths == sorted(paths), 'po/POTFILES.in is sorted', unsorted)

    # Harmless but worth a look: listed files without any marked string.
    for p in sorted(listed - set(wanted)):
        if os.path.isfile(os.path.join(root, p)):
            print(f'# note: {p} is listed but has no translatable strings')

    return tap.done('Edit po/POTFILES.in as listed above (paths relative to the source root).')


if __name__ == '__main__':
    sys.exit(main(sys.argv))
