#!/usr/bin/python3
"""tests/bench/report.py SAMPLES SPAWNS STEPS CALLS_DIR: the table of
tests/bench/vm-start-stop.sh (p50/p95/max in ms per metric)."""

import datetime
import json
import os
import re
import sys

FAKE_GUEST_EXIT = 0.1  # fake-firecracker exits 0.1 s after SendCtrlAltDel
STEPS = ['prepare', 'network', 'launch', 'configure', 'boot']


def pct(values, p):
    v = sorted(values)
    if not v:
        return float('nan')
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def local_ts(text):
    # fake-firecracker's log time: local, microseconds + '000'
    return datetime.datetime.strptime(text[:26], '%Y-%m-%dT%H:%M:%S.%f').timestamp()


def main():
    samples_path, spawns_path, steps_path, calls_dir = sys.argv[1:5]
    samples = [json.loads(line) for line in open(samples_path)]
    versions, launches = [], {}
    for line in open(spawns_path):
        f = line.split()
        if f[0] == 'version':
            versions.append((float(f[1]), float(f[2])))
        else:
            launches[f[2]] = float(f[1])
    steps = {}
    step_re = re.compile(r'^(\S+) .*VM (\S+): start step (\w+)$')
    if os.path.exists(steps_path):
        for line in open(steps_path):
            m = step_re.match(line.strip())
            if m:
                steps.setdefault(m.group(2), {})[m.group(3)] = float(m.group(1))

    rows = {}  # metric -> {image -> [ms]}

    def add(metric, image, seconds):
        rows.setdefault(metric, {}).setdefault(image, []).append(seconds * 1000)

    ping = [s['t1'] - s['t0'] for s in samples if s['kind'] == 'ping']
    for s in samples:
        if s['kind'] == 'ping':
            add('client: busctl spawn + Ping', '-', s['t1'] - s['t0'])
        elif s['kind'] == 'alone':
            add('fake alone: spawn -> API socket accepts', '-', s['t1'] - s['t0'])
    client = 2 * pct(ping, 50)  # two busctl calls before InstanceStart

    for s in samples:
        if s['kind'] != 'vm':
            continue
        name, img = s['name'], s['image']
        calls = [json.loads(l) for l in open(os.path.join(calls_dir, name + '.jsonl'))]
        t_start = next(c['t'] for c in calls if c['path'] == '/actions' and
                       c['body']['action_type'] == 'InstanceStart')
        # A stop goes through the guest agent; Ctrl-Alt-Del only without one.
        t_cad = next((c['t'] for c in calls if c['path'] == '/actions' and
                      c['body']['action_type'] == 'SendCtrlAltDel'), None)
        version = sum(b - a for a, b in versions
                      if s['created'] <= a <= t_start)
        vmm_up = local_ts(s['listen']) - launches[name]
        total = t_start - s['create']
        add('CreateVM call (8 GiB disk)', img, s['created'] - s['create'])
        add('Start call -> InstanceStart accepted', img, t_start - s['created'])
        add('create -> InstanceStart (total)', img, total)
        add('  fake: `firecracker --version` run', img, version)
        add('  fake: spawn -> listening', img, vmm_up)
        add('HOST OVERHEAD create -> InstanceStart', img, total - version - vmm_up)
        add('  same, minus 2 busctl spawns', img,
            total - version - vmm_up - client)
        st = steps.get(name, {})
        if all(k in st for k in STEPS):
            marks = [s['created']] + [st[k] for k in STEPS] + [t_start]
            names = ['call -> prepare'] + \
                [f'step {k}' for k in STEPS]
            for n, a, b in zip(names, marks, marks[1:]):
                extra = ''
                sub = 0
                if n == 'step prepare':
                    extra, sub = ' (minus --version)', version
                elif n == 'step launch':
                    extra, sub = ' (minus fake startup)', vmm_up
                add(f'  {n}{extra}', img, b - a - sub)
        add('Start reply (agent answered) after InstanceStart', img, s['started'] - t_start)
        add('Stop call -> stopped (reply)', img, s['stopped'] - s['stop'])
        if t_cad is not None:
            add('  Stop: call -> SendCtrlAltDel accepted', img, t_cad - s['stop'])
            add('  Stop: fake exit (+0.1 s) -> reply', img,
                s['stopped'] - t_cad - FAKE_GUEST_EXIT)
        add('Delete call', img, s['deleted'] - s['delete'])

    images = sorted({i for r in rows.values() for i in r if i != '-'},
                    key=lambda x: int(x.rstrip('MG')) * (1024 if x.endswith('G') else 1))
    w = max(len(m) for m in rows) + 2
    head = f'{"metric (ms)":<{w}}{"n":>4}{"p50":>9}{"p95":>9}{"max":>9}'
    for i in images:
        head += f'{"p50 " + i:>12}'
    print(head)
    print('-' * len(head))
    for metric, by_image in rows.items():
        allv = [v for vs in by_image.values() for v in vs]
        line = (f'{metric:<{w}}{len(allv):>4}{pct(allv, 50):>9.1f}'
                f'{pct(allv, 95):>9.1f}{max(allv):>9.1f}')
        if '-' not in by_image:
            for i in images:
                line += f'{pct(by_image.get(i, []), 50):>12.1f}'
        print(line)


if __name__ == '__main__':
    main()
