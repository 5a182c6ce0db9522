#!/usr/bin/env python3
# check-potfiles.py: po/POTFILES.in names every source file with strings
# marked for translation, and only files that exist (TAP output).
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lintlib import Tap  # noqa: E402

# Keywords whose msgid is the first argument: they count only when that
# argument is a string literal (`_(entry->summary)` extracts nothing).
FIRST_ARG_KEYWORDS = ['_', 'N_', 'Q_', 'gettext', 'ngettext', 'gettext_noop']
# Keywords with a domain or context first (meson's glib preset and
# xgettext's defaults): any call counts.
OTHER_KEYWORDS = ['C_', 'NC_', 'g_dgettext', 'g_dcgettext', 'g_dngettext',
                  'g_dpgettext', 'g_dpgettext2', 'dgettext', 'dcgettext',
                  'dngettext', 'dcngettext', 'pgettext', 'npgettext']

FIRST_ARG_RE = re.compile(r'(?<![\w$])(%s)\s*\(\s*"' % '|'.join(map(re.escape, FIRST_ARG_KEYWORDS)))
OTHER_RE = re.compile(r'(?<![\w$])(%s)\s*\(' % '|'.join(map(re.escape, OTHER_KEYWORDS)))


def strip_c(text):
    """@text without comments, string/char literal contents emptied ("" and ''),
    and without preprocessor lines (so `#define _(s) gettext (s)` is no hit)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            end = text.find('*/', i + 2)
            i = n if end < 0 else end + 2
            out.append(' ')
        elif text.startswith('//', i):
            end = text.find('\n', i)
            i = n if end < 0 else end
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    code = ''.join(out)
    # Drop preprocessor directives, including continued lines.
    code = re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*', '', code, flags=re.M)
    return code


def has_c_strings(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        code = strip_c(f.read())
    return bool(FIRST_ARG_RE.search(code) or OTHER_RE.search(code))


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

    # Harmless but worth a look: listed files without any marked string.
    for p in sorted(listed - set(wanted)):
        if os.path.isfile(os.path.join(root, p)):
            print(f'# note: {p} is listed but has no translatable strings')

    return tap.done('Edit po/POTFILES.in as listed above (paths relative to the source root).')


if __name__ == '__main__':
    sys.exit(main(sys.argv))
