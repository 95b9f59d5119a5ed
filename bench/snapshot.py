#!/usr/bin/env python3
"""Save and restore: shrike against QEMU, side by side in one run.

The guest (build/guest/snapbench.elf) touches 16 MiB, then prints '.' in a
loop.  For each candidate and RAM size, RUNS rounds, alternated:
  save     QMP migrate (shrike: file:F; QEMU: exec:cat > F), wall time from
           the command to "completed"; the file's size
  restore  process start (shrike --incoming file:F; QEMU -incoming
           "exec:cat F") to the first '.' the restored guest prints, i.e.
           its first instructions
  faults   the guest reads one byte of each touched page and reports the
           TSC cycles: first pass after the restore against the next one
Medians are reported.  usage: RUNS=5 bench/snapshot.py [BUILD]
"""
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'tools'))
from qmp import QMP  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else 'build'
SHRIKE = os.path.join(BUILD, 'shrike')
KERNEL = os.path.join(BUILD, 'guest', 'snapbench.elf')
RUNS = int(os.environ.get('RUNS', '5'))
TOUCH_MIB = 16
TMP = tempfile.mkdtemp(prefix='shrike-bench-')


def qemu_argv(mem, sock, incoming=None):
    a = ['qemu-system-x86_64', '-M', 'microvm', '-accel', 'kvm', '-m', str(mem), '-nodefaults',
         '-no-user-config', '-display', 'none', '-serial', 'stdio', '-kernel', KERNEL,
         '-append', 'mib=%d' % TOUCH_MIB, '-qmp', 'unix:%s,server=on,wait=off' % sock]
    if incoming:
        a += ['-incoming', 'exec:cat %s' % incoming]
    return a


def shrike_argv(mem, sock, incoming=None):
    if incoming:
        return [SHRIKE, 'run', '--incoming', 'file:' + incoming, '--qmp',
                'unix:%s,server=on,wait=off' % sock]
    return [SHRIKE, 'run', '--kernel', KERNEL, '--memory', '%dM' % mem, '--cmdline',
            'mib=%d' % TOUCH_MIB, '--qmp', 'unix:%s,server=on,wait=off' % sock]


def read_until(proc, needle, timeout=120.0, start=None):
    """Reads the guest's output until needle; returns (time it arrived,
    everything read)."""
    buf = b''
    deadline = time.time() + timeout
    fd = proc.stdout.fileno()
    while needle not in buf:
        left = deadline - time.time()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise RuntimeError('no %r from the guest' % needle)
        data = os.read(fd, 65536)
        if not data:
            raise RuntimeError('the VM ended')
        buf += data
    return time.monotonic(), buf


def drain(proc):
    fd = proc.stdout.fileno()
    while select.select([fd], [], [], 0)[0]:
        if not os.read(fd, 1 << 20):
            return


def measure_pass(proc):
    drain(proc)
    proc.stdin.write(b'p')
    proc.stdin.flush()
    _, buf = read_until(proc, b'\n', 60)
    while b'pass ' not in buf or not buf.split(b'pass ', 1)[1].strip(b'.').count(b'\n'):
        _, more = read_until(proc, b'\n', 60)
        buf += more
    return int(buf.split(b'pass ', 1)[1].split(b'\n')[0])


def one(kind, mem, results):
    sock = os.path.join(TMP, '%s.sock' % kind)
    f = os.path.join(TMP, '%s-%d.snap' % (kind, mem))
    argv = shrike_argv if kind == 'shrike' else qemu_argv
    for p in (sock, f):
        if os.path.exists(p):
            os.unlink(p)
    src = subprocess.Popen(argv(mem, sock), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    read_until(src, b'ready')
    q = QMP(sock)
    q.ok('qmp_capabilities')
    t0 = time.monotonic()
    q.ok('migrate', {'uri': ('file:' if kind == 'shrike' else 'exec:cat > ') + f})
    while q.ok('query-migrate').get('status') not in ('completed', 'failed'):
        time.sleep(0.002)
    save = time.monotonic() - t0
    q.cmd('quit')
    src.kill()
    src.wait()
    size = os.path.getsize(f)
    os.sync()
    t0 = time.monotonic()
    dst = subprocess.Popen(argv(mem, sock + '2', incoming=f), stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    t1, _ = read_until(dst, b'.', 60)
    restore = t1 - t0
    first = measure_pass(dst)
    second = measure_pass(dst)
    dst.kill()
    dst.wait()
    os.unlink(f)
    results.setdefault((kind, mem), []).append((save, size, restore, first, second))


def main():
    have_qemu = subprocess.run(['sh', '-c', 'command -v qemu-system-x86_64'],
                               stdout=subprocess.DEVNULL).returncode == 0
    kinds = ['shrike'] + (['qemu'] if have_qemu else [])
    print('machine: %d CPUs, %s; load %s' % (os.cpu_count(), os.uname().release,
                                             open('/proc/loadavg').read().split()[0]))
    print('method: %d rounds per candidate and RAM size, alternated; medians; guest touched '
          '%d MiB' % (RUNS, TOUCH_MIB))
    results = {}
    for _ in range(RUNS):
        for mem in (256, 2048):
            for kind in kinds:
                one(kind, mem, results)
    print('%-8s %6s %10s %12s %12s %14s %14s' % ('', 'RAM', 'save ms', 'file MiB', 'restore ms',
                                             'pass 1 Mcyc', 'pass 2 Mcyc'))
    med = {}
    for (kind, mem), rows in sorted(results.items()):
        m = [statistics.median(r[i] for r in rows) for i in range(5)]
        med[(kind, mem)] = m
        print('%-8s %5dM %10.2f %12.2f %12.2f %14.2f %14.2f' % (kind, mem, m[0] * 1000,
                                                                m[1] / 2**20, m[2] * 1000,
                                                                m[3] / 1e6, m[4] / 1e6))
    if have_qemu:
        for mem in (256, 2048):
            s, q = med[('shrike', mem)], med[('qemu', mem)]
            print('%dM: QEMU/shrike save %.1fx, restore %.1fx, file %.2fx' %
                  (mem, q[0] / s[0], q[2] / s[2], q[1] / s[1]))


main()
