# lintlib.py: TAP output and small helpers shared by the lint scripts.
# Each script prints one TAP line per check and diagnostics as "# " lines.

import os
import re
import shutil
import subprocess
import sys


class Tap:
    """Prints TAP results; the plan goes last, so checks need not be counted."""

    def __init__(self):
        self.count = 0
        self.failures = []

    def result(self, ok, description, diagnostics=()):
        self.count += 1
        print(f'{"ok" if ok else "not ok"} {self.count} - {description}')
        for line in diagnostics:
            print(f'# {line}')
        if not ok:
            self.failures.append((description, list(diagnostics)))
        sys.stdout.flush()
        return ok

    def skip(self, description, reason):
        self.count += 1
        print(f'ok {self.count} - {description} # SKIP {reason}')

    def done(self, hint=None):
        """Ends the output; failures are summarised on stderr as well."""
        print(f'1..{self.count}')
        if self.failures:
            print(f'{len(self.failures)} check(s) failed:', file=sys.stderr)
            for description, diagnostics in self.failures:
                print(f'  {description}', file=sys.stderr)
                for line in diagnostics:
                    print(f'    {line}', file=sys.stderr)
            if hint:
                print(hint, file=sys.stderr)
        # TAP carries the verdict; a non-zero status would turn a plain
        # failure into a harness error in meson.
        return 0


def skip_all(reason):
    """Skips the whole test: an empty plan with a reason."""
    print(f'1..0 # SKIP {reason}')
    return 0


def find_tool(name):
    return shutil.which(name)


def pkg_config_variable(module, variable):
    """A pkg-config variable, or None if pkg-config or the module is missing."""
    if not find_tool('pkg-config'):
        return None
    try:
        out = subprocess.run(['pkg-config', f'--variable={variable}', module],
                             check=True, capture_output=True, text=True).stdout.strip()
    except subprocess.CalledProcessError:
        return None
    return out or None


def rel(path, root):
    """@path relative to @root when it lies inside it, for shorter messages."""
    try:
        r = os.path.relpath(path, root)
    except ValueError:
        return path
    return path if r.startswith('..') else r


XML_LANG = '{http://www.w3.org/XML/1998/namespace}lang'
POLKIT_DEFAULT_VALUES = ('no', 'yes', 'auth_self', 'auth_self_keep',
                         'auth_admin', 'auth_admin_keep')
POLKIT_DEFAULT_KEYS = ('allow_any', 'allow_inactive', 'allow_active')


def polkit_actions(path):
    """Parses a polkit policy into [(id or None, action)] where action is
    {'description': {lang: text}, 'message': {...}, 'defaults': {key: [values]},
    'problems': [...]}; lang '' is the untranslated text.  Raises
    xml.etree.ElementTree.ParseError."""
    import xml.etree.ElementTree as ET
    root = ET.parse(path).getroot()
    actions = []
    for action in root.findall('action'):
        entry = {'description': {}, 'message': {}, 'defaults': {}, 'problems': []}
        for kind in ('description', 'message'):
            for el in action.findall(kind):
                lang = el.get(XML_LANG, '')
                if lang in entry[kind]:
                    entry['problems'].append(f'more than one <{kind}> for language "{lang}"')
                entry[kind][lang] = ' '.join((el.text or '').split())
        defaults = action.findall('defaults')
        if len(defaults) != 1:
            entry['problems'].append(f'{len(defaults)} <defaults> elements, expected 1')
        for d in defaults:
            for child in d:
                entry['defaults'].setdefault(child.tag, []).append((child.text or '').strip())
        actions.append((action.get('id'), entry))
    return root, actions


def polkit_structure_problems(path):
    """What is wrong with the policy at @path beyond what the DTD checks."""
    root, actions = polkit_actions(path)
    problems = []
    if root.tag != 'policyconfig':
        problems.append(f'root element is <{root.tag}>, expected <policyconfig>')
    if not actions:
        problems.append('no <action>')
    seen = set()
    for action_id, a in actions:
        where = f'action {action_id or "(no id)"}'
        if not action_id:
            problems.append(f'{where}: missing id attribute')
        elif action_id in seen:
            problems.append(f'{where}: duplicate id')
        seen.add(action_id)
        problems += [f'{where}: {p}' for p in a['problems']]
        for kind in ('description', 'message'):
            if not a[kind].get(''):
                problems.append(f'{where}: missing or empty untranslated <{kind}>')
        for key in POLKIT_DEFAULT_KEYS:
            values = a['defaults'].get(key, [])
            if len(values) != 1:
                problems.append(f'{where}: <defaults> has {len(values)} <{key}>, expected 1')
            for v in values:
                if v not in POLKIT_DEFAULT_VALUES:
                    problems.append(f'{where}: <{key}>{v}</{key}> is not one of '
                                    + ', '.join(POLKIT_DEFAULT_VALUES))
        for key in a['defaults']:
            if key not in POLKIT_DEFAULT_KEYS:
                problems.append(f'{where}: unknown <defaults> child <{key}>')
    return problems


def find_dtd(candidates):
    """The first existing file among @candidates (None entries skipped)."""
    for c in candidates:
        if c and os.path.isfile(c):
            return c
    return None


def share_dirs(*modules):
    """datadir of each pkg-config module that exists, then the usual prefixes."""
    dirs = [pkg_config_variable(m, 'datadir') for m in modules]
    dirs += ['/usr/share', '/usr/local/share']
    out = []
    for d in dirs:
        if d and d not in out:
            out.append(d)
    return out


def read_linguas(po_dir):
    """Languages listed in @po_dir/LINGUAS (whitespace-separated, # comments)."""
    path = os.path.join(po_dir, 'LINGUAS')
    langs = []
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            for line in f:
                langs += line.split('#', 1)[0].split()
    return langs


def _po_unquote(s):
    s = s.strip()
    if not (len(s) >= 2 and s[0] == '"' and s[-1] == '"'):
        raise ValueError(f'not a quoted string: {s}')
    escapes = {'n': '\n', 't': '\t', '"': '"', '\\': '\\', 'r': '\r', 'a': '\a',
               'b': '\b', 'f': '\f', 'v': '\v'}
    out, i, body = [], 0, s[1:-1]
    while i < len(body):
        if body[i] == '\\' and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return ''.join(out)


def read_po(path):
    """{(msgctxt or None, msgid): (msgstr, fuzzy)} for the active entries of
    the PO file at @path; plural entries map to msgstr[0]."""
    entries = {}
    cur = {}
    field = None
    fuzzy = False

    def flush():
        nonlocal cur, fuzzy, field
        if 'msgid' in cur:
            msgstr = cur.get('msgstr', cur.get('msgstr[0]', ''))
            entries[(cur.get('msgctxt'), cur['msgid'])] = (msgstr, fuzzy)
        cur, fuzzy, field = {}, False, None

    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            stripped = line.strip()
            if not stripped:
                flush()
            elif stripped.startswith('#~'):
                continue                      # obsolete entry
            elif stripped.startswith('#'):
                if field is not None and field.startswith('msgstr'):
                    flush()
                if stripped.startswith('#,') and 'fuzzy' in stripped[2:].replace(',', ' ').split():
                    fuzzy = True
            elif stripped.startswith('"'):
                if field is None:
                    raise ValueError(f'{path}: string outside an entry: {stripped}')
                cur[field] += _po_unquote(stripped)
            else:
                keyword, _, rest = stripped.partition(' ')
                if keyword in ('msgctxt', 'msgid') and field is not None and field.startswith('msgstr'):
                    flush()               # next entry without a blank line
                field = keyword
                cur[field] = _po_unquote(rest)
    flush()
    return entries


# Translatable-string keywords: meson's glib preset plus xgettext's defaults.
# Those whose msgid is the first argument count only when that argument is
# a string literal (`_(entry->summary)` extracts nothing).
FIRST_ARG_KEYWORDS = ('_', 'N_', 'Q_', 'gettext', 'ngettext', 'gettext_noop')
# Those with a domain or context first: any call counts.
OTHER_KEYWORDS = ('C_', 'NC_', 'g_dgettext', 'g_dcgettext', 'g_dngettext',
                  'g_dpgettext', 'g_dpgettext2', 'dgettext', 'dcgettext',
                  'dngettext', 'dcngettext', 'pgettext', 'npgettext')
_KW = r'(?<![\w$])(%s)\s*\('
FIRST_ARG_RE = re.compile(_KW % '|'.join(map(re.escape, FIRST_ARG_KEYWORDS)) + r'\s*"')
OTHER_RE = re.compile(_KW % '|'.join(map(re.escape, OTHER_KEYWORDS)))


def c_code(text):
    """C source @text reduced to code: comments and preprocessor lines
    blanked (so "N_()" in a comment or `#define _(s) gettext (s)` is no hit),
    each string literal replaced by "s", or "" when empty, char literals by
    'c'.  Newlines are kept, so offsets map to the same line numbers."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            end = text.find('*/', i + 2)
            end = n if end < 0 else end + 2
            out.append(' ' + '\n' * text.count('\n', i, end))
            i = end
        elif text.startswith('//', i):
            end = text.find('\n', i)
            i = n if end < 0 else end
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            if c == "'":
                out.append("'c'")
            else:
                out.append('""' if j == i + 1 else '"s"')
            i = j + 1
        else:
            out.append(c)
            i += 1
    code = ''.join(out)
    # Blank preprocessor directives, including continued lines.
    return re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*',
                  lambda m: '\n' * m.group(0).count('\n'), code, flags=re.M)


def translatable_calls(code):
    """Match objects of the translatable-string calls in c_code() output."""
    return list(FIRST_ARG_RE.finditer(code)) + list(OTHER_RE.finditer(code))


def line_of(code, offset):
    return code.count('\n', 0, offset) + 1
