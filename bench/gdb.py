#!/usr/bin/env python3
"""The debugger's speed: shrike against qemu-system-x86_64 -s -S (KVM), on
the same test kernel (build/guest/gdbtarget.elf), side by side in one run.

  step rate   10,000 single steps (vCont;s on thread 1) sent by a minimal
              remote-protocol client, each waiting for its stop reply:
              steps per second
  bp hit      a breakpoint on a function the guest calls in a loop:
              continue -> stop round trips, microseconds per hit; with a
              hardware breakpoint (Z1) on both, and with shrike's software
              breakpoint (Z0; QEMU's int3 breakpoints end in a KVM emulation
              failure on hosts where KVM emulates kernel code, so QEMU gets
              only Z1 there)
  gdb stepi   Debian's gdb, batch mode: `stepi 1000` inside the guest loop,
              wall time per step (what a user waits for)

ROUNDS rounds, shrike and QEMU alternated; medians.
usage: ROUNDS=5 bench/gdb.py [BUILD]
"""
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else 'build'
SHRIKE = os.path.join(BUILD, 'shrike')
KERNEL = os.path.join(BUILD, 'guest', 'gdbtarget.elf')
ROUNDS = int(os.environ.get('ROUNDS', '5'))
STEPS = int(os.environ.get('STEPS', '10000'))
HITS = int(os.environ.get('HITS', '300'))
GDB_STEPS = int(os.environ.get('GDB_STEPS', '1000'))
TMP = tempfile.mkdtemp(prefix='shrike-gdb-bench-')


def symbol(name):
    out = subprocess.run(['nm', KERNEL + '.64'], capture_output=True, text=True).stdout
    return int(re.search(r'^([0-9a-f]+) \w %s$' % name, out, re.M).group(1), 16)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(kind, case):
    port = free_port()
    err = open(os.path.join(TMP, kind + '.err'), 'w')
    if kind == 'shrike':
        argv = [SHRIKE, 'run', '--kernel', KERNEL, '--cmdline', case, '--serial', 'none',
                '--gdb', 'tcp::%d' % port, '--gdb-wait']
    else:
        argv = ['qemu-system-x86_64', '-M', 'pc', '-accel', 'kvm', '-m', '256', '-display',
                'none', '-nodefaults', '-no-user-config', '-serial', 'null', '-kernel', KERNEL,
                '-append', case, '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
                '-gdb', 'tcp:127.0.0.1:%d' % port, '-S']
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + 20
    while time.time() < deadline:
        if listening(port):
            return proc, port
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError('%s did not listen' % kind)


def listening(port):
    """Is a socket listening on 127.0.0.1:port?  (Without connecting: a
    connection would be a debugger attaching.)"""
    for line in open('/proc/net/tcp').read().splitlines()[1:]:
        f = line.split()
        if f[1] == '0100007F:%04X' % port and f[3] == '0A':
            return True
    return False


def connect(port):
    return socket.create_connection(('127.0.0.1', port), timeout=5)


class Client:
    def __init__(self, sock):
        self.s = sock
        self.s.settimeout(60)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b''
        self.noack = False

    def send(self, payload):
        p = payload.encode()
        self.s.sendall(b'$' + p + b'#%02x' % (sum(p) & 0xff))

    def reply(self):
        while True:
            self.buf = self.buf.lstrip(b'+')
            i = self.buf.find(b'#')
            if self.buf[:1] == b'$' and i > 0 and len(self.buf) >= i + 3:
                r, self.buf = self.buf[1:i], self.buf[i + 3:]
                if not self.noack:
                    self.s.sendall(b'+')
                if r[:1] == b'O' and r != b'OK':
                    continue
                return r
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError('connection closed')
            self.buf += chunk

    def cmd(self, payload):
        self.send(payload)
        return self.reply()

    def setup(self):
        self.cmd('qSupported:swbreak+;hwbreak+')
        if self.cmd('QStartNoAckMode') == b'OK':
            self.noack = True
        self.cmd('?')

    def run_to(self, func, bp='1'):
        addr = symbol(func)
        assert self.cmd('Z%s,%x,1' % (bp, addr)) == b'OK', 'Z%s refused' % bp
        r = self.cmd('vCont;c')
        assert r.startswith(b'T') or r.startswith(b'S'), r
        assert self.cmd('z%s,%x,1' % (bp, addr)) == b'OK'

    def release(self):
        self.cmd('M%x,4:01000000' % symbol('release'))


def finish(proc, c):
    try:
        c.s.close()
    except OSError:
        pass
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def step_rate(kind):
    proc, port = start(kind, 'case=steps')
    c = Client(connect(port))
    try:
        c.setup()
        c.run_to('step_loop')
        t0 = time.perf_counter()
        for _ in range(STEPS):
            r = c.cmd('vCont;s:1')
            if not r.startswith(b'T'):
                raise RuntimeError('step reply %r' % r[:30])
        return STEPS / (time.perf_counter() - t0)
    finally:
        finish(proc, c)


def bp_cost(kind, bp):
    proc, port = start(kind, 'case=hits')
    c = Client(connect(port))
    addr = symbol('bp_target')
    try:
        c.setup()
        assert c.cmd('Z%s,%x,1' % (bp, addr)) == b'OK'
        c.cmd('vCont;c')
        t0 = time.perf_counter()
        for _ in range(HITS):
            # Step off the breakpoint as gdb does (remove, step, insert).
            c.cmd('z%s,%x,1' % (bp, addr))
            c.cmd('vCont;s:1')
            c.cmd('Z%s,%x,1' % (bp, addr))
            r = c.cmd('vCont;c')
            if not r.startswith(b'T'):
                raise RuntimeError('hit reply %r' % r[:30])
        return (time.perf_counter() - t0) / HITS * 1e6
    finally:
        finish(proc, c)


def gdb_stepi(kind):
    proc, port = start(kind, 'case=steps')
    try:
        argv = ['gdb', '-q', '-nx', '-batch', '-ex', 'set pagination off',
                '-ex', 'target remote 127.0.0.1:%d' % port, '-ex', 'hbreak step_loop',
                '-ex', 'continue', '-ex', 'delete', '-ex', 'python import time; t=time.time()',
                '-ex', 'stepi %d' % GDB_STEPS,
                '-ex', 'python print("elapsed=%.6f" % (time.time() - t))', KERNEL + '.64']
        out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout
        m = re.search(r'elapsed=([0-9.]+)', out)
        if not m:
            raise RuntimeError('gdb: ' + out[-300:])
        return float(m.group(1)) / GDB_STEPS * 1e6
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def main():
    have_qemu = subprocess.run(['sh', '-c', 'command -v qemu-system-x86_64'],
                               capture_output=True).returncode == 0
    kinds = ['shrike'] + (['qemu'] if have_qemu else [])
    tests = [('steps/s', 'step', lambda k: step_rate(k)),
             ('us/hit Z1', 'hw', lambda k: bp_cost(k, '1')),
             ('us/hit Z0', 'sw', lambda k: bp_cost(k, '0')),
             ('us/gdb stepi', 'gdb', lambda k: gdb_stepi(k))]
    res = {}
    load = open('/proc/loadavg').read().split()[:3]
    print('machine: %d CPUs, %s; load %s; rounds %d, %d steps, %d hits' %
          (os.cpu_count(), os.uname().release, ' '.join(load), ROUNDS, STEPS, HITS))
    for r in range(ROUNDS):
        for kind in (kinds if r % 2 == 0 else kinds[::-1]):
            for unit, key, fn in tests:
                if kind == 'qemu' and key == 'sw':
                    continue
                try:
                    res.setdefault((kind, key), []).append(fn(kind))
                except Exception as e:  # noqa: BLE001 (report and go on)
                    print('  %s %s failed: %s' % (kind, key, e))
    print('%-14s %12s %12s %10s' % ('', 'shrike', 'qemu', 'ratio'))
    for unit, key, _ in tests:
        s = statistics.median(res[('shrike', key)]) if res.get(('shrike', key)) else None
        q = statistics.median(res[('qemu', key)]) if res.get(('qemu', key)) else None
        ratio = ''
        if s and q:
            # >1: shrike better (more steps per second, fewer microseconds)
            ratio = '%.2fx' % ((s / q) if key == 'step' else (q / s))
        print('%-14s %12s %12s %10s' % (unit, '%.1f' % s if s else '-', '%.1f' % q if q else '-',
                                         ratio))


if __name__ == '__main__':
    main()
