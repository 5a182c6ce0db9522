#!/usr/bin/env python3
# check-translatable.py: every string marked for translation is one that
# xgettext can extract and gettext can find again (TAP output).
#
# xgettext does not expand macros: _("%" G_GUINT64_FORMAT " vCPUs") puts the
# msgid "%" into banger.pot, and at run time the full string is looked up,
# found in no catalog and never translated.  xgettext does understand
# <inttypes.h>'s PRI* macros ("%" PRIu64 becomes "%<PRIu64>" in the catalog
# and is expanded again by gettext), so those are allowed.  An
# empty msgid is reserved for the catalog header: _("") returns the header
# text in every translated locale.
#
# Usage: check-translatable.py SOURCE_ROOT

import glob
import os
import re
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lintlib import Tap, c_code, line_of, translatable_calls  # noqa: E402

# 0-based positions of the msgid (and plural) arguments of each keyword.
MSGID_ARGS = {
    '_': (0,), 'N_': (0,), 'Q_': (0,), 'gettext': (0,), 'gettext_noop': (0,),
    'ngettext': (0, 1), 'C_': (1,), 'NC_': (1,), 'g_dgettext': (1,),
    'g_dcgettext': (1,), 'g_dngettext': (1, 2), 'g_dpgettext': (1,),
    'g_dpgettext2': (2,), 'dgettext': (1,), 'dcgettext': (1,),
    'dngettext': (1, 2), 'dcngettext': (1, 2), 'pgettext': (1,),
    'npgettext': (1, 2),
}
LITERAL = re.compile(r'"s?"')
# <inttypes.h> format macros, which xgettext and gettext handle.
INTTYPES = re.compile(r'\bPRI[diouxX](?:8|16|32|64|LEAST(?:8|16|32|64)|FAST(?:8|16|32|64)|MAX|PTR)\b')


def call_args(code, open_paren):
    """The top-level arguments of the call whose '(' is at @open_paren."""
    depth, start, args = 0, open_paren + 1, []
    for i in range(open_paren, len(code)):
        c = code[i]
        if c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
            if depth == 0:
                args.append(code[start:i])
                return args
        elif c == ',' and depth == 1:
            args.append(code[start:i])
            start = i + 1
    return args


def problems_in(path, rel):
    with open(path, encoding='utf-8', errors='replace') as f:
        code = c_code(f.read())
    problems = []
    for m in sorted(translatable_calls(code), key=lambda m: m.start()):
        keyword = m.group(1)
        args = call_args(code, code.index('(', m.start()))
        for index in MSGID_ARGS.get(keyword, ()):
            if index >= len(args):
                continue
            arg = args[index].strip()
            literals = LITERAL.findall(arg)
            if not literals:
                continue          # _(variable): translated at run time
            rest = INTTYPES.sub('', LITERAL.sub('', arg)).strip()
            where = f'{rel}:{line_of(code, m.start())}: {keyword}()'
            if rest:
                problems.append(f'{where}: the string is pasted together with '
                                f'"{" ".join(rest.split())}"; xgettext sees only the literal '
                                'part, so it is never translated')
            elif all(lit == '""' for lit in literals):
                problems.append(f'{where}: empty msgid; _("") returns the catalog header')
    return problems


def main(argv):
    if len(argv) != 2:
        print('usage: check-translatable.py SOURCE_ROOT', file=sys.stderr)
        return 2
    root = os.path.abspath(argv[1])
    tap = Tap()
    problems = []
    for pattern in ('src/**/*.c', 'src/**/*.h'):
        for path in sorted(glob.glob(os.path.join(root, pattern), recursive=True)):
            problems += problems_in(path, os.path.relpath(path, root))
    tap.result(not problems, 'translatable strings are plain literals xgettext can extract',
               problems)
    return tap.done('Use <inttypes.h> instead of GLib format macros inside _() '
                    '(_("%" PRIu64 " vCPUs"), which xgettext understands), or format the '
                    'value first and pass it as %s.')


if __name__ == '__main__':
    sys.exit(main(sys.argv))
