#!/usr/bin/python3
# test-fake-firecracker.py: the fake Firecracker accepts what v1.14.4
# accepts and rejects what it rejects, the way it rejects it (TAP output).
#
# Starts the fake on a temporary socket and talks raw HTTP/1.1 to it over
# the unix socket, so the exact status line and headers are what is checked.
#
# Usage: test-fake-firecracker.py FAKE SPEC

import json
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True

FAKE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), 'fake-firecracker')
SPEC = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared',
    'specs', 'firecracker-api.yaml')
DESER = 'An error occurred when deserializing the json body of a request: '
AFTER = 'The requested operation is not supported after starting the microVM.'

results = []


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Fake:
    def __init__(self, tmp, env=None, args=()):
        self.tmp = tmp
        self.sock = os.path.join(tmp, 'api.sock')
        self.record = os.path.join(tmp, 'record.jsonl')
        for p in (self.sock, self.record):
            if os.path.exists(p):
                os.unlink(p)
        full = dict(os.environ, BANGER_FIRECRACKER_SPEC=SPEC,
                    FAKE_FC_RECORD=self.record,
                    FAKE_FC_SYSFS_NET=os.path.join(tmp, 'net'), **(env or {}))
        self.proc = subprocess.Popen(
            [FAKE, '--api-sock', self.sock, '--id', 'test-vm', *args],
            env=full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 5
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None:
                raise AssertionError('fake exited at startup: ' +
                                     self.proc.stderr.read().decode())
            check(time.monotonic() < deadline, 'no API socket after 5 s')
            time.sleep(0.01)
        # Like the real one, the fake binds before it listens: a connect in
        # between is refused, so retry until the deadline.
        while True:
            self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.conn.settimeout(5)
            try:
                self.conn.connect(self.sock)
                break
            except ConnectionRefusedError:
                self.conn.close()
                check(time.monotonic() < deadline, 'API socket refused connections for 5 s')
                time.sleep(0.01)
        self.buf = b''

    def send(self, method, path, body=None, raw=None):
        """One request on the kept-alive connection → (status line, headers,
        parsed body or None)."""
        data = raw if raw is not None else (
            b'' if body is None else json.dumps(body).encode())
        req = f'{method} {path} HTTP/1.1\r\nHost: localhost\r\n'
        if data:
            req += ('Content-Type: application/json\r\n'
                    f'Content-Length: {len(data)}\r\n')
        self.conn.sendall(req.encode() + b'\r\n' + data)
        while b'\r\n\r\n' not in self.buf:
            chunk = self.conn.recv(65536)
            check(chunk, 'connection closed before a reply')
            self.buf += chunk
        head, self.buf = self.buf.split(b'\r\n\r\n', 1)
        lines = head.decode().split('\r\n')
        headers = dict(line.split(': ', 1) for line in lines[1:])
        length = int(headers.get('Content-Length', 0))
        while len(self.buf) < length:
            self.buf += self.conn.recv(65536)
        payload, self.buf = self.buf[:length], self.buf[length:]
        return lines[0], headers, json.loads(payload) if payload else None

    def ok(self, method, path, body=None):
        status, headers, reply = self.send(method, path, body)
        check(status == 'HTTP/1.1 204 ',
              f'{method} {path}: {status!r} {reply}')
        check(headers == {'Server': 'Firecracker API',
                          'Connection': 'keep-alive'}, f'headers {headers}')

    def fault(self, method, path, body=None, raw=None):
        status, headers, reply = self.send(method, path, body, raw)
        check(status == 'HTTP/1.1 400 ', f'{method} {path}: {status!r}')
        check(headers['Content-Type'] == 'application/json', 'content type')
        check(list(reply) == ['fault_message'], f'reply {reply}')
        return reply['fault_message']

    def recorded(self):
        """The accepted calls the fake recorded, GETs left out."""
        if not os.path.exists(self.record):
            return []
        with open(self.record) as f:
            calls = [json.loads(line) for line in f]
        return [c for c in calls if c['method'] != 'GET']

    def close(self):
        self.conn.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stderr.close()


def boot_sequence(tmp):
    # The fake opens what the PUTs name, as the real one does.
    for name in ('vmlinux', 'root.ext4'):
        with open(os.path.join(tmp, name), 'w') as f:
            f.write('x')
    os.makedirs(os.path.join(tmp, 'net', 'tap0'), exist_ok=True)
    with open(os.path.join(tmp, 'net', 'tap0', 'tun_flags'), 'w') as f:
        f.write('0x1002\n')
    return [
        ('PUT', '/logger', {'log_path': os.path.join(tmp, 'fc.log'),
                            'level': 'Info'}),
        ('PUT', '/machine-config', {'vcpu_count': 2, 'mem_size_mib': 256}),
        ('PUT', '/boot-source', {'kernel_image_path': os.path.join(tmp, 'vmlinux'),
                                 'boot_args': 'console=ttyS0 reboot=k'}),
        ('PUT', '/drives/rootfs', {'drive_id': 'rootfs',
                                   'path_on_host': os.path.join(tmp, 'root.ext4'),
                                   'is_root_device': True,
                                   'is_read_only': False}),
        ('PUT', '/network-interfaces/eth0', {'iface_id': 'eth0',
                                             'host_dev_name': 'tap0',
                                             'guest_mac': '06:00:0a:00:00:02'}),
        ('PUT', '/vsock', {'guest_cid': 3,
                           'uds_path': os.path.join(tmp, 'v.sock')}),
        ('PUT', '/actions', {'action_type': 'InstanceStart'}),
    ]


def t_boot_sequence(tmp):
    fc = Fake(tmp)
    try:
        status, _, info = fc.send('GET', '/')
        check(status == 'HTTP/1.1 200 ', status)
        check(info == {'id': 'test-vm', 'state': 'Not started',
                       'vmm_version': '1.14.4', 'app_name': 'Firecracker'},
              f'GET / {info}')
        check(list(info) == ['id', 'state', 'vmm_version', 'app_name'],
              'key order')
        seq = boot_sequence(tmp)
        for method, path, body in seq:
            fc.ok(method, path, body)
            if path == '/vsock':
                check(os.path.exists(body['uds_path']), 'vsock not bound')
        check(fc.recorded() == [{'method': m, 'path': p, 'body': b}
                                for m, p, b in seq], 'record differs')
        _, _, info = fc.send('GET', '/')
        check(info['state'] == 'Running', f'after start {info}')
        _, _, mc = fc.send('GET', '/machine-config')
        check(mc == {'vcpu_count': 2, 'mem_size_mib': 256, 'smt': False,
                     'track_dirty_pages': False, 'huge_pages': 'None'},
              f'machine-config {mc}')
        msg = fc.fault('PUT', '/boot-source', {'kernel_image_path': '/k'})
        check(msg == AFTER, msg)
        msg = fc.fault('PUT', '/actions', {'action_type': 'InstanceStart'})
        check(msg == AFTER, msg)
        check(len(fc.recorded()) == len(seq), 'refused calls recorded')
        fc.ok('PUT', '/actions', {'action_type': 'SendCtrlAltDel'})
        check(fc.proc.wait(timeout=5) == 0, 'exit code after CtrlAltDel')
        check(os.path.exists(fc.sock), 'API socket removed on exit')
    finally:
        fc.close()


def t_bad_requests(tmp):
    fc = Fake(tmp)
    try:
        cases = [
            ('missing required field', 'PUT', '/machine-config',
             {'vcpu_count': 2}, DESER + 'missing field `mem_size_mib`'),
            ('wrong type', 'PUT', '/machine-config',
             {'vcpu_count': 'two', 'mem_size_mib': 128},
             DESER + 'invalid type: string "two", expected an integer'),
            ('unknown field', 'PUT', '/boot-source',
             {'kernel_image_path': '/k', 'kernel': '/k'},
             DESER + 'unknown field `kernel`, expected one of '
             '`boot_args`, `initrd_path`, `kernel_image_path`'),
            ('nested unknown field', 'PUT', '/drives/d1',
             {'drive_id': 'd1', 'is_root_device': False,
              'rate_limiter': {'bandwidth': {'size': 1, 'refill_time': 1,
                                             'bogus': 1}}},
             DESER + 'unknown field `bogus`'),
            ('vcpu_count out of range', 'PUT', '/machine-config',
             {'vcpu_count': 33, 'mem_size_mib': 128},
             'The number of vCPUs must be greater than 0, less than 32 and '
             'must be 1 or an even number if SMT is enabled.'),
            ('bad enum', 'PUT', '/actions', {'action_type': 'Reboot'},
             DESER + 'unknown variant `Reboot`, expected one of '
             '`FlushMetrics`, `InstanceStart`, `SendCtrlAltDel`'),
            ('unknown path', 'GET', '/foo/bar', None,
             'Invalid request method and/or path: GET foo.'),
            ('wrong method', 'GET', '/boot-source', None,
             'Invalid request method and/or path: GET boot-source.'),
            ('path id differs from body id', 'PUT', '/drives/a',
             {'drive_id': 'b', 'is_root_device': False},
             'The id from the path does not match the id from the body!'),
            ('net path id differs', 'PUT', '/network-interfaces/a',
             {'iface_id': 'b', 'host_dev_name': 't'},
             'The id from the path [a] does not match the id from the '
             'body [b]!'),
            ('empty PUT', 'PUT', '/logger', None, 'Empty PUT request.'),
            ('post-boot action before boot', 'PUT', '/actions',
             {'action_type': 'SendCtrlAltDel'},
             'The requested operation is not supported before starting '
             'the microVM.'),
            ('start without boot-source', 'PUT', '/actions',
             {'action_type': 'InstanceStart'},
             'Start microvm error: Cannot start microvm without kernel '
             'configuration.'),
        ]
        for what, method, path, body, want in cases:
            msg = fc.fault(method, path, body)
            check(msg.startswith(want), f'{what}: {msg!r}')
        msg = fc.fault('PUT', '/machine-config', raw=b'{"vcpu_count": 2,')
        check(msg.startswith(DESER) and ' at line 1 column ' in msg,
              f'malformed JSON: {msg!r}')
        check(fc.recorded() == [], 'refused calls recorded')
        check(fc.proc.poll() is None, 'fake died on bad input')
    finally:
        fc.close()


def t_fail_at(tmp):
    fc = Fake(tmp, {'FAKE_FC_FAIL_AT': 'PUT /boot-source'})
    try:
        seq = boot_sequence(tmp)
        for method, path, body in seq[:2]:
            fc.ok(method, path, body)
        msg = fc.fault(*seq[2])
        check(msg, 'empty fault_message')
        check(len(fc.recorded()) == 2, 'failed call recorded')
    finally:
        fc.close()


def t_hang_at(tmp):
    fc = Fake(tmp, {'FAKE_FC_HANG_AT': 'PUT /machine-config'})
    try:
        seq = boot_sequence(tmp)
        fc.ok(*seq[0])
        fc.conn.settimeout(0.5)
        try:
            fc.send(*seq[1])
            check(False, 'hung request was answered')
        except socket.timeout:
            pass
        check(fc.proc.poll() is None, 'fake exited instead of hanging')
    finally:
        fc.close()


def t_crash_at(tmp):
    fc = Fake(tmp, {'FAKE_FC_CRASH_AT': 'PUT /actions'})
    try:
        seq = boot_sequence(tmp)
        for call in seq[:-1]:
            fc.ok(*call)
        try:
            fc.send(*seq[-1])
            check(False, 'crashing request was answered')
        except (AssertionError, OSError):
            pass
        check(fc.proc.wait(timeout=5) == 134, 'crash exit code')
    finally:
        fc.close()


def t_command_line(tmp):
    out = subprocess.run([FAKE, '--api-sock', 'x', '--version'],
                         capture_output=True, text=True, timeout=10)
    check(out.returncode == 0, f'--version exit {out.returncode}')
    check(out.stdout.startswith('Firecracker v1.14.4\n\n'),
          f'--version printed {out.stdout!r}')
    for argv in (['--api-sock=x'], ['--bogus', '1'], ['--id'],
                 ['--id', 'a', '--id', 'b']):
        out = subprocess.run([FAKE, *argv], capture_output=True, timeout=10)
        check(out.returncode == 153, f'{argv}: exit {out.returncode}')
    sock = os.path.join(tmp, 'taken.sock')
    open(sock, 'w').close()
    out = subprocess.run([FAKE, '--api-sock', sock], capture_output=True,
                         text=True, timeout=10,
                         env=dict(os.environ, BANGER_FIRECRACKER_SPEC=SPEC))
    check(out.returncode == 1 and 'Failed to open the API socket' in
          out.stderr, f'existing socket: {out.returncode} {out.stderr!r}')


TESTS = [
    ('boot sequence accepted, recorded, then post-boot rules and '
     'CtrlAltDel exit', t_boot_sequence),
    ('bad requests refused with the real fault_message', t_bad_requests),
    ('FAKE_FC_FAIL_AT', t_fail_at),
    ('FAKE_FC_HANG_AT', t_hang_at),
    ('FAKE_FC_CRASH_AT', t_crash_at),
    ('command line: --version, bad arguments, existing socket',
     t_command_line),
]


def main():
    try:
        import yaml  # noqa: F401
    except ImportError:
        print('1..0 # SKIP python3-yaml is not installed')
        return 0
    if not os.path.exists(SPEC):
        print(f'1..0 # SKIP no Firecracker spec at {SPEC}')
        return 0
    print(f'1..{len(TESTS)}')
    failed = 0
    for n, (name, fn) in enumerate(TESTS, 1):
        with tempfile.TemporaryDirectory(prefix='fake-fc-') as tmp:
            try:
                fn(tmp)
                print(f'ok {n} - {name}')
            except Exception as e:
                failed += 1
                print(f'not ok {n} - {name}')
                print(f'# {type(e).__name__}: {e}')
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
