#!/usr/bin/env python3
"""The gdbstub (issue 11), driven by Debian's gdb: each case starts shrike
with --gdb tcp::0 (a free port, read back from shrike's log), runs a gdb
script against the test kernel's 64-bit ELF (with its symbols) and checks
gdb's transcript and the guest's exit status.  Prints PASS/FAIL/SKIP lines.

usage: gdb_test.py SHRIKE GUEST_DIR TMPDIR
"""
import json
import os
import re
import select
import signal
import subprocess
import sys
import time

SHRIKE, GUEST, TMP = sys.argv[1], sys.argv[2], sys.argv[3]
KERNEL = os.path.join(GUEST, 'gdbtarget.elf')
SYMBOLS = KERNEL + '.64'
SANITIZER = re.compile(r'AddressSanitizer|runtime error:|LeakSanitizer|ThreadSanitizer')


def result(kind, name, why=''):
    print('%s %s%s' % (kind, name, ': ' + why if why else ''), flush=True)


class Failure(Exception):
    pass


class Shrike:
    """shrike with a gdb server on a port it chose itself."""

    def __init__(self, name, args, wait=True):
        self.err_path = os.path.join(TMP, name + '.err')
        self.out_path = os.path.join(TMP, name + '.out')
        argv = [SHRIKE, 'run', '--kernel', KERNEL, '--gdb', 'tcp::0', '--serial',
                'file:' + self.out_path] + (['--gdb-wait'] if wait else []) + args
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.err_path, 'w'))
        self.port = self._port()

    def _port(self):
        deadline = time.time() + 20
        while time.time() < deadline:
            m = re.search(r'gdb: listening on [^ ]*:(\d+)', self.err())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise Failure('shrike ended at start: ' + self.err().strip()[-300:])
            time.sleep(0.02)
        raise Failure('shrike did not report its gdb port')

    def err(self):
        try:
            return open(self.err_path, errors='replace').read()
        except OSError:
            return ''

    def out(self):
        try:
            return open(self.out_path, errors='replace').read()
        except OSError:
            return ''

    def wait(self, timeout=60):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure('shrike did not end in time')

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def healthy(self):
        m = SANITIZER.search(self.err())
        if m:
            raise Failure('sanitizer report: ' + self.err()[m.start():m.start() + 200])


def gdb_batch(port, script, timeout=120, extra=()):
    path = os.path.join(TMP, 'script.gdb')
    with open(path, 'w') as f:
        f.write(script)
    argv = ['gdb', '-q', '-nx', '-batch', '-ex', 'set pagination off', '-ex', 'set confirm off',
            '-ex', 'set width 0'] + list(extra) + \
        ['-ex', 'target remote 127.0.0.1:%d' % port, '-x', path, SYMBOLS]
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure('gdb did not finish in time')
    return p.stdout + p.stderr


class GdbSession:
    """An interactive gdb fed line by line (commands that resume in the
    background, then `interrupt`, need gdb's event loop between them)."""

    def __init__(self, port):
        self.p = subprocess.Popen(['gdb', '-q', '-nx', SYMBOLS], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.buf = b''
        self.marks = 0
        self.cmd('set pagination off')
        self.cmd('set confirm off')
        self.cmd('target remote 127.0.0.1:%d' % port)

    def send(self, line):
        self.p.stdin.write((line + '\n').encode())
        self.p.stdin.flush()

    def expect(self, text, timeout=30):
        deadline = time.time() + timeout
        while text.encode() not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise Failure('gdb never printed %r; got: %s' %
                              (text, self.buf.decode(errors='replace')[-400:]))
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    raise Failure('gdb ended; got: ' + self.buf.decode(errors='replace')[-400:])
                self.buf += chunk
        i = self.buf.index(text.encode()) + len(text)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out.decode(errors='replace')

    def cmd(self, line, timeout=30):
        """Runs a command and returns its output."""
        self.marks += 1
        mark = '@@mark%d@@' % self.marks
        self.send(line)
        self.send('echo %s\\n' % mark)
        return self.expect(mark, timeout)

    def close(self):
        try:
            self.send('quit')
            self.p.wait(10)
        except Exception:
            self.p.kill()
            self.p.wait()


def need(text, fragment, what):
    if fragment not in text:
        raise Failure('%s: %r not in gdb output: %s' % (what, fragment, text[-600:]))


def value_of(text, name):
    """The hex number gdb printed after `name` (e.g. 'rip  0x100020 ...')."""
    m = re.search(r'%s\s+(0x[0-9a-f]+)' % re.escape(name), text)
    if not m:
        raise Failure('no %s in: %s' % (name, text[-400:]))
    return int(m.group(1), 16)


def symbol(name):
    out = subprocess.run(['nm', SYMBOLS], capture_output=True, text=True).stdout
    m = re.search(r'^([0-9a-f]+) \w %s$' % re.escape(name), out, re.M)
    if not m:
        raise Failure('no symbol ' + name)
    return int(m.group(1), 16)


# ---- the cases ----

def case_break_bt_print():
    vm = Shrike('bt', [])
    try:
        out = gdb_batch(vm.port, '\n'.join([
            'break *leaf', 'continue', 'bt', 'info registers rip', 'p answer',
            'delete', 'continue', '']))
        need(out, 'Breakpoint 1, ', 'break *leaf')
        for f in ('leaf (', 'middle (', 'outer (', 'test_main ('):
            need(out, f, 'bt')
        if value_of(out, 'rip') != symbol('leaf'):
            raise Failure('rip 0x%x, leaf at 0x%x' % (value_of(out, 'rip'), symbol('leaf')))
        need(out, '$1 = 42', 'p answer')
        status = vm.wait()
        if status != 0:
            raise Failure('exit status %d after continue' % status)
        vm.healthy()
    finally:
        vm.stop()


def case_set_var():
    vm = Shrike('setvar', [])
    try:
        out = gdb_batch(vm.port, 'break leaf\ncontinue\nset var verdict = 5\ndelete\ncontinue\n')
        need(out, 'exited with code 013', 'the W packet carries the status')
        status = vm.wait()
        if status != 11:
            raise Failure('exit status %d, expected 11 ((5 << 1) | 1)' % status)
        vm.healthy()
    finally:
        vm.stop()


def case_watch_stepi_finish():
    vm = Shrike('watch', [])
    try:
        out = gdb_batch(vm.port, '\n'.join([
            'break leaf', 'continue',
            'p/x $pc', 'python print("next=0x%x" % (gdb.selected_frame().pc() + '
            'gdb.selected_frame().architecture().disassemble(gdb.selected_frame().pc())[0]["length"]))',
            'stepi', 'p/x $pc',
            'finish',
            'delete',
            'watch watched', 'continue',
            'python f = gdb.selected_frame(); arch = f.architecture(); '
            'ins = [i for i in arch.disassemble(gdb.parse_and_eval("(long)&bump"), count=16) '
            'if i["addr"] + i["length"] == f.pc()]; '
            'print("writer=" + (ins[0]["asm"] if ins else "none"))',
            'delete', 'continue', '']))
        nxt = int(re.search(r'next=(0x[0-9a-f]+)', out).group(1), 16)
        pcs = [int(x, 16) for x in re.findall(r'\$\d+ = (0x[0-9a-f]+)', out)]
        if len(pcs) < 2 or pcs[1] != nxt:
            raise Failure('stepi went from %s to %s, expected 0x%x' %
                          (hex(pcs[0]) if pcs else '?', hex(pcs[1]) if len(pcs) > 1 else '?', nxt))
        need(out, 'Value returned is', 'finish')
        need(out, 'middle (', 'finish returns to the caller')
        need(out, 'Hardware watchpoint 2: watched', 'watch')
        need(out, 'Old value = 0', 'watch')
        need(out, 'New value = 1', 'watch')
        m = re.search(r'writer=(.*)', out)
        if not m or 'watched' not in m.group(1):
            raise Failure('the watchpoint did not stop right after the write: %s' %
                          (m.group(1) if m else out[-300:]))
        if vm.wait() != 0:
            raise Failure('guest did not end normally')
        vm.healthy()
    finally:
        vm.stop()


def case_two_vcpus():
    vm = Shrike('smp', ['--cpus', '2', '--cmdline', 'case=smp'])
    try:
        out = gdb_batch(vm.port, 'break smp_ready\ncontinue\ninfo threads\nthread 2\nbt\n'
                        'thread 1\ndelete\ncontinue\n')
        need(out, 'Thread 1 (CPU 0/KVM)', 'info threads')
        need(out, 'Thread 2 (CPU 1/KVM)', 'info threads')
        tail = out[out.index('Switching to thread 2'):]
        need(tail, 'ap_inner', "thread 2's bt")
        need(tail, 'ap_outer', "thread 2's bt")
        if vm.wait() != 0:
            raise Failure('guest did not end normally')
        vm.healthy()
    finally:
        vm.stop()


def case_step_with_timer():
    vm = Shrike('timer', ['--cmdline', 'case=timer'])
    try:
        out = gdb_batch(vm.port, 'break *step_nops\ncontinue\n' +
                        'stepi\np/x $pc - (long)&step_nops\n' * 3 + 'delete\ncontinue\n')
        got = [int(x, 16) for x in re.findall(r'\$\d+ = (0x[0-9a-f]+)', out)]
        if got != [1, 2, 3]:
            raise Failure('steps landed at step_nops + %s, expected 1, 2, 3 (the timer '
                          'handler must not be stepped into)' % got)
        if vm.wait() != 0:
            raise Failure('guest did not end normally: ' + vm.out()[-200:])
        need(vm.out(), 'timer interrupts', 'guest output')
        vm.healthy()
    finally:
        vm.stop()


def case_interrupt_detach():
    vm = Shrike('interrupt', ['--cmdline', 'case=spin,ms=3000'])
    g = None
    try:
        g = GdbSession(vm.port)
        g.send('continue &')
        time.sleep(1.0)
        g.send('interrupt')
        g.expect('Program received signal SIGINT', 30)
        bt = g.cmd('bt')
        need(bt, 'spin_loop', 'bt after interrupt')
        g.cmd('detach')
        g.close()
        g = None
        status = vm.wait(60)
        if status != 0 or 'PASS' not in vm.out():
            raise Failure('after detach the guest ended with %d: %s' % (status, vm.out()[-200:]))
        vm.healthy()
    finally:
        if g:
            g.close()
        vm.stop()


def case_trace_classes():
    trace = os.path.join(TMP, 'gdb.trace')
    vm = Shrike('trace', ['--trace-sync', trace])
    try:
        gdb_batch(vm.port, 'break leaf\ncontinue\ninfo registers rip\np $xmm0\np/x $k_gs_base\n'
                  'p/x $cr3\ndelete\ncontinue\n')
        vm.wait()
        gets = []
        for line in open(trace):
            rec = json.loads(line)
            if rec.get('op') == 'get' and rec.get('cause') == 'debug' and rec.get('origin') == 'gdb':
                gets.append(rec['classes'])
        if not gets:
            raise Failure('no get with cause debug in the trace')
        allowed = {'regs', 'sregs', 'fpu', 'msrs'}
        for c in gets:
            if not set(c) <= allowed or len(c) > 2:
                raise Failure('a debug get fetched %s' % c)
        for want in (['fpu'], ['msrs']):
            if want not in gets:
                raise Failure('no get of %s alone (gets: %s)' % (want, gets))
        vm.healthy()
    finally:
        vm.stop()


def case_hbreak_kill():
    vm = Shrike('hbreak', [])
    try:
        out = gdb_batch(vm.port, 'hbreak middle\ncontinue\nbt 1\nkill\n')
        need(out, 'Breakpoint 1, middle', 'hbreak')
        status = vm.wait(30)
        if status != 0:
            raise Failure('kill: shrike ended with %d' % status)
        vm.healthy()
    finally:
        vm.stop()


def case_dropped_connection():
    vm = Shrike('dropped', [])
    g = None
    try:
        g = GdbSession(vm.port)
        g.cmd('break leaf')
        g.send('continue')
        g.expect('Breakpoint 1, leaf', 30)
        g.p.kill()             # the debugger vanishes, breakpoints inserted
        g.p.wait()
        g = None
        status = vm.wait(60)
        if status != 0 or 'outer(1) = 54' not in vm.out():
            raise Failure('the guest did not run on: status %d, %s' % (status, vm.out()[-200:]))
        vm.healthy()
    finally:
        if g:
            g.p.kill()
        vm.stop()


CASES = [
    ('gdb_break_bt_print', case_break_bt_print),
    ('gdb_set_var_changes_exit', case_set_var),
    ('gdb_stepi_finish_watch', case_watch_stepi_finish),
    ('gdb_two_vcpus_threads', case_two_vcpus),
    ('gdb_stepi_not_into_timer_handler', case_step_with_timer),
    ('gdb_interrupt_then_detach', case_interrupt_detach),
    ('gdb_trace_debug_gets', case_trace_classes),
    ('gdb_hbreak_and_kill', case_hbreak_kill),
    ('gdb_dropped_connection_runs_on', case_dropped_connection),
]


# The cases that need no breakpoint, watchpoint or step to stop the guest.
WITHOUT_DEBUG_EXITS = ('gdb_interrupt_then_detach',)


def host_without_debug_exits():
    """shrike's probe (src/gdb/probe.c) says whether this KVM stops a guest
    at a breakpoint or a step at all; where it does not, shrike warns, and
    the cases that need it are skipped with that reason."""
    s = Shrike('probe', [])
    try:
        m = re.search(r"gdb: warning: (this host's KVM reports no debug exits)", s.err())
        return m.group(1) + ' (probed by shrike)' if m else None
    finally:
        s.stop()


def main():
    if subprocess.run(['which', 'gdb'], capture_output=True).returncode != 0:
        result('SKIP', 'gdb_tests', 'gdb is not installed')
        return
    only = os.environ.get('GDB_CASES')
    no_stops = host_without_debug_exits()
    for name, fn in CASES:
        if only and name not in only.split(','):
            continue
        if no_stops and name not in WITHOUT_DEBUG_EXITS:
            result('SKIP', name, no_stops)
            continue
        try:
            fn()
            result('PASS', name)
        except Failure as e:
            result('FAIL', name, str(e).replace('\n', ' ')[:600])
        except Exception as e:  # a bug in the test itself is a failure too
            result('FAIL', name, '%s: %s' % (type(e).__name__, e))


if __name__ == '__main__':
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
