#!/usr/bin/python3
# test-fake-firecracker.py: the fake Firecracker accepts what v1.14.4
# accepts and rejects what it rejects, the way it rejects it (TAP output).
#
# Starts the fake on a temporary socket and talks raw HTTP/1.1 to it over
# the unix socket, so the exact status line and headers are what is checked.
#
# With FAKE_FC_AGENT set to the host build of the agent (banger-agent-test)
# it also checks the guest side of vsock: CONNECT through the vsock socket
# reaching the real agent, and the agent's lifetime tied to the fake's.
#
# Usage: test-fake-firecracker.py FAKE SPEC

import json
import os
import re
import signal
import socket
import struct
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
AGENT = os.environ.get('FAKE_FC_AGENT')
MSG_HELLO, MSG_POWEROFF, MSG_POWEROFF_ACK = 1, 5, 6

results = []


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Skip(Exception):
    pass


class Fake:
    def __init__(self, tmp, env=None, args=()):
        self.tmp = tmp
        self.sock = os.path.join(tmp, 'api.sock')
        self.record = os.path.join(tmp, 'record.jsonl')
        for p in (self.sock, self.record):
            if os.path.exists(p):
                os.unlink(p)
        # The agent only where a test asks for it.
        full = {k: v for k, v in os.environ.items() if k != 'FAKE_FC_AGENT'}
        full.update(BANGER_FIRECRACKER_SPEC=SPEC,
                    FAKE_FC_RECORD=self.record,
                    FAKE_FC_SYSFS_NET=os.path.join(tmp, 'net'), **(env or {}))
        # A file, not a pipe: the agent shares it and may outlive the fake
        # when a test fails; main() shows it then.
        with open(os.path.join(tmp, 'fake.stderr'), 'ab') as err:
            self.proc = subprocess.Popen(
                [FAKE, '--api-sock', self.sock, '--id', 'test-vm', *args],
                env=full, stdout=subprocess.DEVNULL, stderr=err)
        try:
            self.wait_for_api()
        except Exception:
            self.proc.kill()
            self.proc.wait()
            raise

    def wait_for_api(self):
        deadline = time.monotonic() + 5
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None:
                raise AssertionError('fake exited at startup')
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
        check(vsock_connect(seq[5][2]['uds_path'], 52)[1] is None,
              'CONNECT accepted without FAKE_FC_AGENT')
        fc.ok('PUT', '/actions', {'action_type': 'SendCtrlAltDel'})
        check(fc.proc.wait(timeout=10) == 0, 'exit code after CtrlAltDel')
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
        check(fc.proc.wait(timeout=10) == 134, 'crash exit code')
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


def vsock_connect(path, port):
    """Firecracker's host-initiated handshake → (socket, reply line or None
    when the fake closed without a reply)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(f'CONNECT {port}\n'.encode())
    line = b''
    while not line.endswith(b'\n'):
        byte = s.recv(1)   # what follows the line is the agent's
        if not byte:
            s.close()
            return None, None
        line += byte
    return s, line.decode()


def agent_connect(path, timeout=5):
    """CONNECT 52 until the agent listens → (socket, host port)."""
    deadline = time.monotonic() + timeout
    while True:
        s, line = vsock_connect(path, 52)
        if line is not None:
            m = re.fullmatch(r'OK ([0-9]+)\n', line)
            check(m, f'CONNECT reply {line!r}')
            return s, int(m.group(1))
        check(time.monotonic() < deadline,
              f'CONNECT still closed after {timeout} s')
        time.sleep(0.05)


def frame(msg_type, payload=b''):
    """docs/agent-protocol.md: u32 length, u8 version 1, u8 type, u16
    flags, u32 stream, little-endian."""
    return struct.pack('<IBBHI', len(payload), 1, msg_type, 0, 0) + payload


def read_exact(s, n):
    data = b''
    while len(data) < n:
        chunk = s.recv(n - len(data))
        check(chunk, f'connection closed after {len(data)} of {n} bytes')
        data += chunk
    return data


def read_frame(s):
    length, version, msg_type, flags, stream = struct.unpack(
        '<IBBHI', read_exact(s, 12))
    check(version == 1 and flags == 0 and stream == 0 and length <= 65536,
          f'bad header {version} {flags} {stream} {length}')
    return msg_type, read_exact(s, length)


def hello(s):
    """HELLO{1, "", "", 0} → the agent's answer, checked."""
    s.sendall(frame(MSG_HELLO, struct.pack('<IIIQ', 1, 0, 0, 0)))
    msg_type, payload = read_frame(s)
    check(msg_type == MSG_HELLO, f'answer to HELLO has type {msg_type}')
    version, = struct.unpack_from('<I', payload)
    check(version == 1, f'agent HELLO version {version}')
    release_len, = struct.unpack_from('<I', payload, 4)
    check(payload[8:8 + release_len] == os.uname().release.encode(),
          'HELLO kernel_release is not uname -r')


def agent_pids(parent):
    """The children of parent running the agent."""
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            with open(f'/proc/{entry}/cmdline', 'rb') as f:
                argv0 = f.read().split(b'\0')[0].decode(errors='replace')
        except OSError:
            continue
        if int(fields[1]) == parent and \
           os.path.realpath(argv0) == os.path.realpath(AGENT):
            pids.append(int(entry))
    return pids


def alive(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def check_gone(pid, what):
    deadline = time.monotonic() + 5
    while alive(pid):
        check(time.monotonic() < deadline, f'{what}: agent {pid} still runs')
        time.sleep(0.02)


def agent_fake(tmp, env=None):
    """A fake with the agent, booted → (Fake, vsock path, agent socket)."""
    if not AGENT:
        raise Skip('FAKE_FC_AGENT is not set')
    fc = Fake(tmp, dict({'FAKE_FC_AGENT': AGENT}, **(env or {})))
    seq = boot_sequence(tmp)
    vsock = seq[5][2]['uds_path']
    try:
        for call in seq[:-1]:
            fc.ok(*call)
        check(vsock_connect(vsock, 52)[1] is None,
              'CONNECT accepted before InstanceStart')
        fc.ok(*seq[-1])
    except Exception:
        fc.close()
        raise
    return fc, vsock, os.path.join(tmp, '.fake-agent.sock'), len(seq)


def t_agent_proxy(tmp):
    fc, vsock, agent_sock, n_calls = agent_fake(tmp)
    try:
        s, port = agent_connect(vsock)
        check(port >= 1073741824, f'host port {port}')
        pids = agent_pids(fc.proc.pid)
        check(len(pids) == 1, f'agent processes {pids}')
        check(os.path.exists(agent_sock), 'no agent socket beside the API')
        hello(s)
        # The API is served while a connection is open.
        _, _, info = fc.send('GET', '/')
        check(info['state'] == 'Running', f'GET / {info}')
        check(vsock_connect(vsock, 53)[1] is None, 'CONNECT 53 accepted')
        s.close()
        s, port2 = agent_connect(vsock, timeout=0)
        check(port2 != port, f'host port {port} reused')
        hello(s)
        check(len(fc.recorded()) == n_calls, 'agent traffic recorded')
        s.sendall(frame(MSG_POWEROFF))
        msg_type, _ = read_frame(s)
        check(msg_type == MSG_POWEROFF_ACK, f'answer to POWEROFF: {msg_type}')
        check(fc.proc.wait(timeout=10) == 0, 'exit code after POWEROFF')
        check_gone(pids[0], 'after POWEROFF')
        check(not os.path.exists(agent_sock), 'agent socket left behind')
        s.close()
    finally:
        fc.close()


def t_agent_killed(tmp):
    fc, vsock, _, _ = agent_fake(tmp)
    try:
        agent_connect(vsock)[0].close()
        pids = agent_pids(fc.proc.pid)
        check(len(pids) == 1, f'agent processes {pids}')
        fc.proc.kill()
        fc.proc.wait()
        check_gone(pids[0], 'after kill -9 of the fake')
    finally:
        fc.close()
    os.unlink(vsock)
    fc, vsock, agent_sock, _ = agent_fake(tmp)
    try:
        agent_connect(vsock)[0].close()
        pids = agent_pids(fc.proc.pid)
        fc.proc.terminate()
        check(fc.proc.wait(timeout=10) == -signal.SIGTERM,
              f'SIGTERM: exit {fc.proc.returncode}')
        check_gone(pids[0], 'after SIGTERM of the fake')
        check(not os.path.exists(agent_sock), 'agent socket left behind')
    finally:
        fc.close()
    os.unlink(vsock)
    fc, vsock, _, _ = agent_fake(tmp)
    try:
        agent_connect(vsock)[0].close()
        pids = agent_pids(fc.proc.pid)
        fc.ok('PUT', '/actions', {'action_type': 'SendCtrlAltDel'})
        check(fc.proc.wait(timeout=10) == 0, 'exit code after CtrlAltDel')
        check_gone(pids[0], 'after CtrlAltDel')
    finally:
        fc.close()


def t_agent_injected(tmp):
    fc, vsock, _, _ = agent_fake(tmp, {'FAKE_FC_NO_AGENT': '1'})
    try:
        deadline = time.monotonic() + 0.5
        while not agent_pids(fc.proc.pid):
            check(time.monotonic() < deadline, 'no agent process')
            time.sleep(0.02)
        time.sleep(0.3)   # time enough to listen
        check(vsock_connect(vsock, 52)[1] is None,
              'CONNECT accepted with FAKE_FC_NO_AGENT')
    finally:
        fc.close()
    os.unlink(vsock)
    started = time.monotonic()
    fc, vsock, _, _ = agent_fake(tmp, {'FAKE_FC_AGENT_DELAY_MS': '1000'})
    try:
        check(vsock_connect(vsock, 52)[1] is None,
              'CONNECT accepted before the delay')
        s, _ = agent_connect(vsock)
        check(time.monotonic() - started >= 1, 'CONNECT accepted too soon')
        hello(s)
        s.close()
    finally:
        fc.close()


TESTS = [
    ('boot sequence accepted, recorded, then post-boot rules and '
     'CtrlAltDel exit', t_boot_sequence),
    ('bad requests refused with the real fault_message', t_bad_requests),
    ('FAKE_FC_FAIL_AT', t_fail_at),
    ('FAKE_FC_HANG_AT', t_hang_at),
    ('FAKE_FC_CRASH_AT', t_crash_at),
    ('command line: --version, bad arguments, existing socket',
     t_command_line),
    ('FAKE_FC_AGENT: CONNECT refused before boot and on another port, '
     'HELLO through the proxy, reconnect, POWEROFF exits 0', t_agent_proxy),
    ('FAKE_FC_AGENT: the agent ends with the fake (kill -9, SIGTERM, '
     'CtrlAltDel)', t_agent_killed),
    ('FAKE_FC_NO_AGENT and FAKE_FC_AGENT_DELAY_MS', t_agent_injected),
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
            except Skip as e:
                print(f'ok {n} - {name} # SKIP {e}')
            except Exception as e:
                failed += 1
                print(f'not ok {n} - {name}')
                print(f'# {type(e).__name__}: {e}')
                err = os.path.join(tmp, 'fake.stderr')
                if os.path.exists(err):
                    with open(err, errors='replace') as f:
                        for line in f.read().splitlines()[-20:]:
                            print(f'#   {line}')
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
