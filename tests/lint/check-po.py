#!/usr/bin/env python3
# check-po.py: po/LINGUAS and po/*.po agree, and every translation passes
# `msgfmt --check` (TAP output).
#
# msgfmt --check catches what breaks users at run time: a translated format
# string whose directives differ from the msgid (a crash in g_strdup_printf),
# a bad header (wrong charset, no plural forms).  A language missing from
# LINGUAS is silently not built; one listed without a .po breaks the build.
#
# Usage: check-po.py PO_DIR

import glob
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lintlib import Tap, find_tool, read_linguas, skip_all  # noqa: E402


def main(argv):
    if len(argv) != 2:
        print('usage: check-po.py PO_DIR', file=sys.stderr)
        return 2
    po_dir = argv[1]
    if not find_tool('msgfmt'):
        return skip_all('msgfmt not found (Debian: apt install gettext)')
    langs = read_linguas(po_dir)
    files = {os.path.basename(p)[:-3] for p in glob.glob(os.path.join(po_dir, '*.po'))}
    if not langs and not files:
        return skip_all('no translations yet (po/LINGUAS is empty)')

    tap = Tap()
    problems = [f'po/LINGUAS lists {lang} but po/{lang}.po does not exist'
                for lang in langs if lang not in files]
    problems += [f'po/{lang}.po exists but po/LINGUAS does not list {lang}; add it or it is never built'
                 for lang in sorted(files) if lang not in langs]
    tap.result(not problems, 'po/LINGUAS lists exactly the languages in po/', problems)

    for lang in sorted(files):
        path = os.path.join(po_dir, f'{lang}.po')
        proc = subprocess.run(['msgfmt', '--check', '--statistics', '-o', os.devnull, path],
                              capture_output=True, text=True, env=dict(os.environ, LC_ALL='C'))
        out = (proc.stdout + proc.stderr).splitlines()
        ok = proc.returncode == 0
        tap.result(ok, f'po/{lang}.po passes msgfmt --check',
                   out if not ok else [])
        if ok:
            for line in out:
                print(f'# {lang}: {line}')
    return tap.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv))
