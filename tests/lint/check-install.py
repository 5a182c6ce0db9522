#!/usr/bin/env python3
# check-install.py: `meson install` puts every file where the packages that
# own the directory say it goes, and nothing points back into the build tree
# (TAP output).
#
# dbus-daemon, polkitd and systemd only look in their own directories, which
# distributions move (/lib vs /usr/lib, /usr vs /usr/local); banger asks
# their pkg-config files (the project's rule: no literal /usr/... in meson files).
# The expectations below are computed independently of the meson files:
# a meson option when set, else the pkg-config variable, else meson's
# fallback under the prefix.
#
# Installs into a private temporary DESTDIR with --no-rebuild, so it never
# races a build or another test; fails (does not build) when something to be
# installed has not been built.
#
# Usage: check-install.py MESON SOURCE_ROOT BUILD_ROOT
#   BANGER_KEEP_DESTDIR=1 keeps the temporary DESTDIR for inspection.

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lintlib import Tap, pkg_config_variable, read_linguas  # noqa: E402

# file -> (meson option, pkg-config module, variable, subfolder, fallback under prefix)
# The fallbacks mirror what a distribution's .pc file says for prefix=/usr.
DBUS_INTERFACES = ('dbus_interfaces_dir', 'dbus-1', 'interfaces_dir', '', '{datadir}/dbus-1/interfaces')
DATA_FILES = {
    'dev.banger.Daemon1.service': ('dbus_session_services_dir', 'dbus-1', 'session_bus_services_dir', '',
                                   '{datadir}/dbus-1/services'),
    'dev.banger.Helper1.service': ('dbus_system_services_dir', 'dbus-1', 'system_bus_services_dir', '',
                                   '{datadir}/dbus-1/system-services'),
    'dev.banger.Helper1.conf': ('dbus_system_policy_dir', 'dbus-1', 'datadir', 'dbus-1/system.d',
                                '{datadir}/dbus-1/system.d'),
    'dev.banger.helper.policy': ('polkit_actions_dir', 'polkit-gobject-1', 'policydir', '',
                                 '{datadir}/polkit-1/actions'),
    '50-banger.rules': ('polkit_rules_dir', 'polkit-gobject-1', 'datadir', 'polkit-1/rules.d',
                        '{datadir}/polkit-1/rules.d'),
    'banger-helper.service': ('systemd_system_unit_dir', 'systemd', 'systemdsystemunitdir', '',
                              '{prefix}/lib/systemd/system'),
    'bangerd.service': ('systemd_user_unit_dir', 'systemd', 'systemduserunitdir', '',
                        '{prefix}/lib/systemd/user'),
    'banger.conf': ('sysusers_dir', 'systemd', 'sysusersdir', '', '{prefix}/lib/sysusers.d'),
}
# Programs: the CLI on $PATH, the daemon and the helper are only started by
# D-Bus activation, so they live in libexecdir.
PROGRAMS = {'banger': 'bindir', 'bangerd': 'libexecdir', 'banger-helper': 'libexecdir',
            # packed into guests' initramfs by bangerd
            'banger-agent': 'libexecdir', 'banger-init': 'libexecdir'}
# Installed files that start a program; their Exec lines must name it.
LAUNCHERS = {'dev.banger.Daemon1.service': 'Exec', 'dev.banger.Helper1.service': 'Exec',
             'banger-helper.service': 'ExecStart', 'bangerd.service': 'ExecStart'}


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def meson_strings(text):
    """String literals of a meson file, comments skipped."""
    out = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '#':
            end = text.find('\n', i)
            i = n if end < 0 else end
        elif text.startswith("'''", i):
            end = text.find("'''", i + 3)
            end = n if end < 0 else end
            out.append(text[i + 3:end])
            i = end + 3
        elif text[i] == "'":
            j = i + 1
            while j < n and text[j] != "'" and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            out.append(text[i + 1:j])
            i = j + 1
        else:
            i += 1
    return out


def literal_usr_paths(source_root):
    """(file, literal) for each string in a meson.build naming a path under /usr."""
    hits = []
    for dirpath, dirnames, filenames in os.walk(source_root):
        # Skip VCS data, build directories inside the tree and subprojects.
        dirnames[:] = [d for d in dirnames
                       if d not in ('.git', 'subprojects')
                       and not os.path.exists(os.path.join(dirpath, d, 'meson-private'))]
        if 'meson.build' in filenames:
            path = os.path.join(dirpath, 'meson.build')
            with open(path, encoding='utf-8', errors='replace') as f:
                for s in meson_strings(f.read()):
                    if re.search(r'(^|[^\w.])/usr(/|$)', s):
                        hits.append((os.path.relpath(path, source_root), s))
    return hits


def build_options(meson, build_root):
    proc = run([meson, 'introspect', '--buildoptions', build_root])
    proc.check_returncode()
    return {o['name']: o['value'] for o in json.loads(proc.stdout)}


def under_prefix(opts, name):
    value = opts[name]
    return value if os.path.isabs(value) else os.path.join(opts['prefix'], value)


def expected_dir(opts, spec):
    option, module, variable, sub, fallback = spec
    if opts.get(option):
        return opts[option], f'meson option {option}'
    value = pkg_config_variable(module, variable)
    if value:
        return os.path.join(value, sub) if sub else value, \
            f'pkg-config {module} {variable}' + (f' + {sub}' if sub else '')
    fmt = {'prefix': opts['prefix'], 'datadir': under_prefix(opts, 'datadir')}
    return fallback.format(**fmt), f'default ({module}.pc not found)'


def in_destdir(destdir, path):
    return os.path.join(destdir, path.lstrip('/'))


def main(argv):
    if len(argv) != 4:
        print('usage: check-install.py MESON SOURCE_ROOT BUILD_ROOT', file=sys.stderr)
        return 2
    meson, source_root, build_root = argv[1], os.path.abspath(argv[2]), os.path.abspath(argv[3])
    tap = Tap()

    hits = literal_usr_paths(source_root)
    tap.result(not hits, 'meson.build files name no literal /usr path',
               [f"{f}: '{s}' (take it from a pkg-config variable or get_option())" for f, s in hits])

    # Everything to be installed must already exist: this test installs, it
    # does not build (a build here would race `meson compile`).
    proc = run([meson, 'introspect', '--installed', build_root])
    if proc.returncode != 0:
        tap.result(False, 'installable files are built', [proc.stderr.strip()])
        return tap.done()
    installed_map = json.loads(proc.stdout)
    missing = sorted(src for src in installed_map if not os.path.exists(src))
    if not tap.result(not missing, 'installable files are built',
                      [f'not built: {m}' for m in missing]
                      + ([f'run `meson compile -C {build_root}` first'] if missing else [])):
        return tap.done()

    opts = build_options(meson, build_root)
    destdir = tempfile.mkdtemp(prefix='banger-install-')
    try:
        proc = run([meson, 'install', '-C', build_root, '--no-rebuild', '--quiet',
                    '--destdir', destdir])
        if not tap.result(proc.returncode == 0, 'meson install --destdir succeeds',
                          (proc.stdout + proc.stderr).splitlines()):
            return tap.done()
        check_tree(tap, opts, source_root, build_root, destdir)
    finally:
        if os.environ.get('BANGER_KEEP_DESTDIR'):
            print(f'# DESTDIR kept at {destdir}')
        else:
            shutil.rmtree(destdir, ignore_errors=True)
    return tap.done()


def check_tree(tap, opts, source_root, build_root, destdir):
    expected = {}   # absolute install path -> why it belongs there
    for xml in sorted(glob.glob(os.path.join(source_root, 'data', 'dbus', '*.xml'))):
        d, why = expected_dir(opts, DBUS_INTERFACES)
        expected[os.path.join(d, os.path.basename(xml))] = why
    for name, spec in DATA_FILES.items():
        d, why = expected_dir(opts, spec)
        expected[os.path.join(d, name)] = why
    for lang in read_linguas(os.path.join(source_root, 'po')):
        path = os.path.join(under_prefix(opts, 'localedir'), lang, 'LC_MESSAGES', 'banger.mo')
        expected[path] = 'meson localedir'

    actual = set()
    for dirpath, _, filenames in os.walk(destdir):
        for f in filenames:
            actual.add('/' + os.path.relpath(os.path.join(dirpath, f), destdir))

    # Programs are checked by name (the helper may not be built by every
    # configuration); unknown installed programs must still be in bin or libexec.
    for path in sorted(actual):
        name = os.path.basename(path)
        if name in PROGRAMS:
            expected[os.path.join(under_prefix(opts, PROGRAMS[name]), name)] = f'meson {PROGRAMS[name]}'

    for path, why in sorted(expected.items()):
        tap.result(path in actual, f'{os.path.basename(path)} installed to {os.path.dirname(path)} ({why})',
                   [] if path in actual else
                   [f'not found at {path}; installed: '
                    + (', '.join(p for p in sorted(actual) if os.path.basename(p) == os.path.basename(path))
                       or 'nowhere')])
    stray = sorted(actual - set(expected))
    tap.result(not stray, 'nothing installed anywhere else',
               [f'unexpected: {p}' for p in stray]
               + (['a new installed file? add it to DATA_FILES in tests/lint/check-install.py '
                   'with the pkg-config variable that names its directory'] if stray else []))

    # Installed text must not point into the build or source tree, and each
    # activation file and unit must start a program that is installed.
    tree_refs = []
    for path in sorted(actual):
        full = in_destdir(destdir, path)
        try:
            with open(full, encoding='utf-8') as f:
                text = f.read()
        except (UnicodeDecodeError, OSError):
            continue   # binaries, .mo files
        for root in {build_root, source_root, os.path.realpath(build_root), os.path.realpath(source_root)}:
            if root in text:
                tree_refs.append(f'{path} mentions {root}')
    tap.result(not tree_refs, 'installed files contain no build-tree or source-tree paths', tree_refs)

    for name, key in LAUNCHERS.items():
        paths = [p for p in actual if os.path.basename(p) == name]
        if not paths:
            continue          # reported above
        with open(in_destdir(destdir, paths[0]), encoding='utf-8') as f:
            lines = [line.split('=', 1)[1].strip() for line in f
                     if line.startswith(key + '=')]
        problems = []
        if len(lines) != 1:
            problems.append(f'{len(lines)} {key}= lines, expected 1')
        for cmd in lines:
            program = cmd.lstrip('@-:+!').split()[0] if cmd else ''
            if not os.path.isabs(program):
                problems.append(f'{key}={cmd}: not an absolute path')
            elif not os.access(in_destdir(destdir, program), os.X_OK):
                problems.append(f'{key}={cmd}: {program} is not installed (or not executable)')
        tap.result(not problems, f'{name}: {key}= names an installed program', problems)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
