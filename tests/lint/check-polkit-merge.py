#!/usr/bin/env python3
# check-polkit-merge.py: the built polkit policy is the .policy.in with the
# translations merged in, nothing lost (TAP output).
#
# i18n.merge_file runs `msgfmt --xml` over the .policy.in; a broken ITS rule,
# a wrong po_dir or a stale build would drop actions or messages, or ship
# the policy without the translations po/ has.  polkitd and the
# authentication dialog show <message> in the user's language, so each
# translated msgid must reach the built file as an xml:lang element.
#
# Usage: check-polkit-merge.py POLICY_IN BUILT_POLICY PO_DIR

import os
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lintlib import Tap, polkit_actions, read_linguas, read_po  # noqa: E402


def main(argv):
    if len(argv) != 4:
        print('usage: check-polkit-merge.py POLICY_IN BUILT_POLICY PO_DIR', file=sys.stderr)
        return 2
    policy_in, built, po_dir = argv[1:]
    name = os.path.basename(built)
    tap = Tap()
    try:
        _, source_actions = polkit_actions(policy_in)
        _, built_actions = polkit_actions(built)
    except (ET.ParseError, OSError) as e:
        tap.result(False, f'{name}: source and built policy parse', [str(e)])
        return tap.done()
    source = dict(source_actions)
    merged = dict(built_actions)

    only_in = [f'only in {os.path.basename(policy_in)}: {a}' for a in sorted(set(source) - set(merged), key=str)]
    only_in += [f'only in {name}: {a}' for a in sorted(set(merged) - set(source), key=str)]
    tap.result(not only_in, f'{name}: same action ids as the .policy.in', only_in)

    lost = []
    for action_id, a in source.items():
        b = merged.get(action_id)
        if b is None:
            continue
        for kind in ('description', 'message'):
            want, got = a[kind].get(''), b[kind].get('')
            if not got:
                lost.append(f'{action_id}: untranslated <{kind}> missing or empty')
            elif want and got != want:
                lost.append(f'{action_id}: <{kind}> is "{got}", the .policy.in says "{want}"')
    tap.result(not lost, f'{name}: every description and message survived the merge', lost)

    langs = read_linguas(po_dir)
    if not langs:
        tap.skip(f'{name}: carries the translations from po/', 'po/LINGUAS lists no language')
    for lang in langs:
        po = os.path.join(po_dir, f'{lang}.po')
        try:
            catalog = read_po(po)
        except (OSError, ValueError) as e:
            tap.result(False, f'{name}: carries the {lang} translations', [f'cannot read {po}: {e}'])
            continue
        problems, translated, untranslated = [], 0, []
        for action_id, a in source.items():
            b = merged.get(action_id, {'description': {}, 'message': {}})
            for kind in ('description', 'message'):
                msgid = a[kind].get('')
                msgstr, fuzzy = catalog.get((None, msgid), ('', False))
                msgstr = ' '.join(msgstr.split())
                if not msgstr or fuzzy:
                    untranslated.append(f'note: {lang}.po has no translation of "{msgid}"')
                    continue
                translated += 1
                got = b[kind].get(lang)
                if got is None:
                    problems.append(f'{action_id}: no <{kind} xml:lang="{lang}">')
                elif got != msgstr:
                    problems.append(f'{action_id}: <{kind} xml:lang="{lang}"> is "{got}", '
                                    f'{lang}.po says "{msgstr}"')
        for note in untranslated:
            print(f'# {note}')
        if problems:
            # i18n.merge_file does not depend on po/, so a stale build is
            # the usual cause.
            problems.append(f'if {lang}.po changed after the last build: delete {built} '
                            'and build again (the merge does not track po/ files)')
        tap.result(not problems,
                   f'{name}: carries the {lang} translations ({translated} in {lang}.po)',
                   problems)
    return tap.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv))
