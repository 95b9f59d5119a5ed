#!/usr/bin/env python3
"""Start to exit, and the cost of a timer interrupt, with KVM's irqchip and
shrike's (split), side by side in one run.

  start to exit   wall time from spawning the process to its exit, of a
                  guest that ends at once (bench/guest/exit.S: a multiboot
                  kernel whose first instruction writes the debug-exit
                  port), 256 MiB of RAM:
                    spawn     /bin/true: what starting any process costs here
                    bare      a bare KVM program (bench/bare_pio.c
                              --no-irqchip: VM, one 1 MiB memory slot, one
                              vCPU) running the same one `out`, real mode
                    shrike    --irqchip kernel and --irqchip split
                    QEMU      -M microvm -accel kvm, and -M pc
  start-up parts  shrike --stats: ms from main() to the irqchip, the RAM
                  slot, the vCPUs, the first KVM_RUN; shrike's own memory
                  (RSS less guest pages)
  timer IRQ       guest/tests/timerbench.c: guest time each PIT interrupt
                  (1 kHz) takes, through the IOAPIC and through the 8259

ROUNDS rounds, candidates alternated; medians.
usage: ROUNDS=20 bench/startup.py [BUILD]
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else 'build'
SHRIKE = os.path.join(BUILD, 'shrike')
ROUNDS = int(os.environ.get('ROUNDS', '20'))
TMP = tempfile.mkdtemp(prefix='shrike-startup-')
HERE = os.path.dirname(os.path.abspath(__file__))


def build_guests():
    exit_elf = os.path.join(TMP, 'exit.elf')
    subprocess.run(['gcc', '-m32', '-c', '-o', exit_elf + '.o', os.path.join(HERE, 'guest', 'exit.S')],
                   check=True)
    subprocess.run(['ld', '-m', 'elf_i386', '-Ttext=0x100000', '-e', '_start', '-o', exit_elf,
                    exit_elf + '.o'], check=True)
    bare = os.path.join(TMP, 'bare_pio')
    subprocess.run(['gcc', '-O2', '-o', bare, os.path.join(HERE, 'bare_pio.c')], check=True)
    flat = os.path.join(TMP, 'loop.bin')
    subprocess.run(['gcc', '-c', '-o', flat + '.o', '-Wa,--defsym,MODE=0', '-Wa,--defsym,N=0',
                    os.path.join(HERE, 'guest', 'loop.S')], check=True)
    subprocess.run(['ld', '-Ttext=0', '--oformat=binary', '-o', flat, flat + '.o'], check=True)
    return exit_elf, bare, flat


def candidates(exit_elf, bare, flat):
    c = {
        'process spawn (/bin/true)': ['/bin/true'],
        'bare KVM program': [bare, flat, '--no-irqchip'],
        'shrike --irqchip kernel': [SHRIKE, 'run', '--kernel', exit_elf, '--irqchip', 'kernel',
                                    '--serial', 'none'],
        'shrike --irqchip split': [SHRIKE, 'run', '--kernel', exit_elf, '--irqchip', 'split',
                                   '--serial', 'none'],
    }
    if shutil.which('qemu-system-x86_64'):
        q = ['qemu-system-x86_64', '-accel', 'kvm', '-m', '256', '-nodefaults', '-no-user-config',
             '-display', 'none', '-serial', 'none', '-kernel', exit_elf, '-device',
             'isa-debug-exit,iobase=0xf4,iosize=4']
        c['QEMU -M microvm'] = q[:1] + ['-M', 'microvm'] + q[1:]
        c['QEMU -M pc'] = q[:1] + ['-M', 'pc'] + q[1:]
    return c


def wall(argv):
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    t = time.perf_counter() - t0
    if p.returncode != (0 if argv[0] == '/bin/true' else 33):
        raise RuntimeError('%s ended with %d: %s' % (argv[0], p.returncode, p.stderr[-200:]))
    return t * 1000


def stats_line(argv, key):
    p = subprocess.run(argv + ['--stats'], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    m = re.search(key + r'.*', p.stderr)
    return m.group(0) if m else ''


def timeline(exit_elf, mode, mem):
    """ms from main() of each start-up point, one run."""
    line = stats_line([SHRIKE, 'run', '--kernel', exit_elf, '--irqchip', mode, '--serial', 'none',
                       '--memory', mem], 'start-up')
    return dict((k.strip(), float(v)) for k, v in re.findall(r'([a-zA-Z_+ ]+?) ([0-9.]+)', line.split(':', 2)[-1]))


def own_memory(exit_elf, mode):
    line = stats_line([SHRIKE, 'run', '--kernel', exit_elf, '--irqchip', mode, '--serial', 'none'],
                      'memory')
    m = re.search(r"shrike's own \(RSS less guest pages\) (\d+) KiB", line)
    return int(m.group(1)) if m else None


def timer_cost(mode, path):
    p = subprocess.run([SHRIKE, 'run', '--kernel', os.path.join(BUILD, 'guest', 'timerbench.elf'),
                        '--irqchip', mode, '--cmdline', 'path=%s rounds=3' % path],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    m = re.search(r'(\d+) ns each', p.stdout)
    return int(m.group(1)) / 1000 if m else None


def main():
    exit_elf, bare, flat = build_guests()
    cands = candidates(exit_elf, bare, flat)
    print('machine: %d CPUs, %s; load %s; %d rounds, candidates alternated' %
          (os.cpu_count(), os.uname().release, ' '.join(open('/proc/loadavg').read().split()[:3]),
           ROUNDS))
    times = {k: [] for k in cands}
    names = list(cands)
    for r in range(ROUNDS):
        for k in (names if r % 2 == 0 else names[::-1]):
            times[k].append(wall(cands[k]))
    print('\nstart to exit (ms, median of %d)' % ROUNDS)
    base = statistics.median(times['bare KVM program'])
    for k in names:
        m = statistics.median(times[k])
        print('  %-26s %8.2f   %5.1fx bare' % (k, m, m / base))

    print('\nshrike start-up, ms from main() (median of %d runs)' % max(3, ROUNDS // 4))
    points = ['kvm open', 'vm+irqchip', 'ram', 'vcpus', 'first KVM_RUN']
    for mode in ('kernel', 'split'):
        for mem in ('256M', '4G'):
            runs = [timeline(exit_elf, mode, mem) for _ in range(max(3, ROUNDS // 4))]
            med = {p: statistics.median(r.get(p, 0) for r in runs) for p in points}
            slot = med['ram'] - med['vm+irqchip']
            print('  %-6s %-4s ' % (mode, mem) +
                  '  '.join('%s %.2f' % (p, med[p]) for p in points) + '   (RAM slot %.2f)' % slot)
    for mode in ('kernel', 'split'):
        print("  shrike's own memory, --irqchip %s: %s KiB" % (mode, own_memory(exit_elf, mode)))

    print('\ntimer interrupt, guest time each (us, median of %d runs)' % max(3, ROUNDS // 4))
    for mode, path in (('kernel', 'ioapic'), ('split', 'ioapic'), ('kernel', 'pic'), ('split', 'pic')):
        vals = [v for v in (timer_cost(mode, path) for _ in range(max(3, ROUNDS // 4))) if v is not None]
        print('  --irqchip %-6s via %-6s %8.1f' % (mode, path, statistics.median(vals) if vals else float('nan')))
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == '__main__':
    main()
