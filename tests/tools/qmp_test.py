#!/usr/bin/env python3
"""The control socket (issue 10): the same QMP session against shrike and
against qemu-system-x86_64, compared by the keys and types of every reply;
then bad input against shrike.  Prints PASS/FAIL/SKIP lines.

usage: qmp_test.py SHRIKE GUEST_DIR TMPDIR [QEMU]
"""
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP, QMPError  # noqa: E402

SHRIKE, GUEST, TMP = sys.argv[1], sys.argv[2], sys.argv[3]
QEMU = sys.argv[4] if len(sys.argv) > 4 else None
KERNEL = os.path.join(GUEST, 'spin.elf')


def result(kind, name, why=''):
    print('%s %s%s' % (kind, name, ': ' + why if why else ''), flush=True)


def shape(v):
    """Keys and types of a JSON value, not its values."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in sorted(v.items())}
    if isinstance(v, list):
        return [shape(v[0])] if v else []
    return type(v).__name__


def same_shape(a, b):
    """Equal shapes; an empty list matches any list (QEMU offers the "oob"
    capability in its greeting, shrike none)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_shape(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return not a or not b or same_shape(a[0], b[0])
    return a == b


def wait_for(path, text, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if text in open(path, errors='replace').read():
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def start_vm(argv, sock, out):
    for p in (sock, out):
        if os.path.exists(p):
            os.unlink(p)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    return proc


def session(argv, sock, out):
    """The common session; returns {step: reply} and the process status."""
    proc = start_vm(argv, sock, out)
    replies = {}
    try:
        q = QMP(sock)
        replies['greeting'] = q.greeting
        replies['before_caps'] = q.cmd('query-status')
        replies['qmp_capabilities'] = q.cmd('qmp_capabilities')
        if not wait_for(out, 'spin:'):
            raise QMPError('the guest did not start')
        replies['query-status running'] = q.cmd('query-status')
        replies['query-version'] = q.cmd('query-version')
        replies['query-name'] = q.cmd('query-name')
        replies['query-uuid'] = q.cmd('query-uuid')
        replies['query-cpus-fast'] = q.cmd('query-cpus-fast')
        replies['stop'] = q.cmd('stop')
        replies['event STOP'] = q.wait_event('STOP')
        replies['query-status paused'] = q.cmd('query-status')
        replies['info registers'] = q.cmd('human-monitor-command',
                                          {'command-line': 'info registers'})
        replies['info cpus'] = q.cmd('human-monitor-command', {'command-line': 'info cpus'})
        replies['info status'] = q.cmd('human-monitor-command', {'command-line': 'info status'})
        replies['cont'] = q.cmd('cont')
        replies['event RESUME'] = q.wait_event('RESUME')
        replies['system_reset'] = q.cmd('system_reset')
        replies['event RESET'] = q.wait_event('RESET')
        replies['unknown'] = q.cmd('no-such-command')
        replies['extra arg'] = q.cmd('stop', {'x': 1})
        replies['missing arg'] = q.cmd('human-monitor-command', {})
        replies['mistyped arg'] = q.cmd('human-monitor-command', {'command-line': 5})
        replies['quit'] = q.cmd('quit')
        replies['event SHUTDOWN'] = q.wait_event('SHUTDOWN')
        q.close()
        status = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return replies, status


def register_names(text):
    return re.findall(r'([A-Z][A-Z0-9 ]{1,5})=', text)


def compare_with_qemu(mine):
    sock, out = os.path.join(TMP, 'qemu.sock'), os.path.join(TMP, 'qemu.out')
    argv = [QEMU, '-M', 'pc', '-accel', 'kvm', '-m', '64', '-smp', '2', '-nodefaults',
            '-no-user-config', '-display', 'none', '-serial', 'file:' + out, '-kernel', KERNEL,
            '-append', 'ms=600000', '-qmp', 'unix:%s,server=on,wait=off' % sock]
    theirs, status = session(argv, sock, out)
    diffs = []
    for step, r in mine.items():
        if step.startswith('event'):
            r, t = dict(r), dict(theirs[step])
            r.pop('timestamp'), t.pop('timestamp')
            if not same_shape(shape(r), shape(t)) or r.get('data') != t.get('data'):
                diffs.append('%s: %r vs QEMU %r' % (step, r, t))
            continue
        if not same_shape(shape(r), shape(theirs[step])):
            diffs.append('%s: %r vs QEMU %r' % (step, shape(r), shape(theirs[step])))
        if 'error' in r and r['error']['class'] != theirs[step]['error']['class']:
            diffs.append('%s: error class %s vs QEMU %s' % (step, r['error']['class'],
                                                            theirs[step]['error']['class']))
        if step.startswith('query-status') and r['return']['status'] != \
                theirs[step]['return']['status']:
            diffs.append('%s: status differs' % step)
    if register_names(mine['info registers']['return']) != \
            register_names(theirs['info registers']['return']):
        diffs.append('info registers: register names differ from QEMU\'s')
    if diffs:
        result('FAIL', 'qmp_same_replies_as_qemu', '; '.join(diffs)[:2000])
    else:
        result('PASS', 'qmp_same_replies_as_qemu')
    if status == 0:
        result('PASS', 'qmp_quit_status_like_qemu')
    else:
        result('FAIL', 'qmp_quit_status_like_qemu', 'QEMU ended with %d' % status)


def shrike_argv(sock, out, extra=()):
    return [SHRIKE, 'run', '--kernel', KERNEL, '--cpus', '2', '--cmdline', 'ms=600000',
            '--serial', 'file:' + out, '--qmp', 'unix:%s,server=on,wait=off' % sock] + list(extra)


def expect_error(q, raw, cls, desc_part, name):
    q.send_raw(raw)
    r = q.reply()
    if 'error' not in r or r['error']['class'] != cls or desc_part not in r['error']['desc']:
        raise QMPError('%s: got %r' % (name, r))


def hostile_json(q):
    """Security review 2, N7 and N8."""
    # A NUL inside a string would end a C string early: "a\u0000.snap" is "a".
    expect_error(q, '{"execute": "migrate", "arguments": {"uri": "file:%s/a\\u0000.snap"}}\n' % TMP,
                 'GenericError', 'u0000 is not supported', 'NUL in a string')
    if os.path.exists(os.path.join(TMP, 'a')):
        raise QMPError('a path with \\u0000 was cut short and written')
    result('PASS', 'qmp_nul_in_string_refused')
    # Two million values, each an allocation, refused at the cap, quickly.
    t0 = time.time()
    expect_error(q, '{"execute": "query-status", "id": [' + '0,' * (1 << 20) + '0]}\n',
                 'GenericError', 'token count limit', '2^20 values')
    if time.time() - t0 > 10:
        raise QMPError('2^20 values took %.1f s' % (time.time() - t0))
    result('PASS', 'qmp_value_count_capped')


def migrations_keep_no_fd(q, pid):
    """Each migrate used to leave an eventfd open (N7): 1000 exhausted the
    descriptor limit."""
    snap = os.path.join(TMP, 'fd.snap')
    fds = lambda: len(os.listdir('/proc/%d/fd' % pid))  # noqa: E731
    before = None
    for i in range(12):
        if q.migrate(snap).get('status') != 'completed':
            raise QMPError('migrate %d failed' % i)
        q.ok('cont')
        if i == 1:
            before = fds()
    after = fds()
    os.unlink(snap)
    # A file the user may not write is not replaced by the save (N7).
    ro = os.path.join(TMP, 'readonly.snap')
    with open(ro, 'w') as f:
        f.write('precious\n')
    os.chmod(ro, 0o444)
    r = q.migrate(ro)
    if r.get('status') != 'failed' or 'not replaced' not in r.get('error-desc', '') or \
            open(ro).read() != 'precious\n':
        raise QMPError('migrate over a read-only file: %r' % r)
    q.ok('cont')
    result('PASS', 'qmp_migrate_keeps_a_readonly_file')
    # Nor does a link another user planted on the way lead the save
    # elsewhere (issue 19: no link in the path the user did not make).
    if os.geteuid() == 0:
        elsewhere = os.path.join(TMP, 'elsewhere')
        planted = os.path.join(TMP, 'planted')
        os.mkdir(elsewhere)
        os.symlink(elsewhere, planted)
        os.lchown(planted, 65534, 65534)
        r = q.migrate(os.path.join(planted, 'x.snap'))
        if r.get('status') != 'failed' or 'link made by another user' not in \
                r.get('error-desc', '') or os.listdir(elsewhere):
            raise QMPError('migrate through another user\'s link: %r, %r' % (
                r, os.listdir(elsewhere)))
        q.ok('cont')
        result('PASS', 'qmp_migrate_follows_no_planted_link')
    else:
        result('SKIP', 'qmp_migrate_follows_no_planted_link', 'a link of another user needs root')
    if after > before:
        raise QMPError('descriptors %d after 2 migrations, %d after 12' % (before, after))
    result('PASS', 'qmp_migrations_leak_no_descriptor')


def bad_input():
    sock, out = os.path.join(TMP, 'bad.sock'), os.path.join(TMP, 'bad.out')
    proc = start_vm(shrike_argv(sock, out), sock, out)
    try:
        mode = os.stat(sock).st_mode & 0o777 if wait_sock(sock) else None
        if mode != 0o600:
            result('FAIL', 'qmp_socket_mode_0600', 'mode %o' % (mode or 0))
        else:
            result('PASS', 'qmp_socket_mode_0600')
        q = QMP(sock)
        expect_error(q, '{"execute": "query-status"}\n', 'CommandNotFound',
                     "Expecting capabilities negotiation", 'before capabilities')
        q.ok('qmp_capabilities')
        cases = [
            ('{"execute": \n', None, None),   # one object over two lines
            ('"nope"}\n', 'CommandNotFound', 'nope'),
            ('{bad json}\n', 'GenericError', 'JSON parse error'),
            ('[1, 2, 3]\n', 'GenericError', 'must be a JSON object'),
            ('"a string"\n', 'GenericError', 'must be a JSON object'),
            ('42\n', 'GenericError', 'must be a JSON object'),
            ('{"execute": "nonsense"}\n', 'CommandNotFound', 'nonsense'),
            ('{"arguments": {}}\n', 'GenericError', "lacks member 'execute'"),
            ('{"execute": "stop", "arguments": {"force": true}}\n', 'GenericError', "'force'"),
            ('{"execute": "human-monitor-command"}\n', 'GenericError', "'command-line'"),
            ('{"execute": "human-monitor-command", "arguments": {"command-line": []}}\n',
             'GenericError', "'command-line'"),
            ('{"execute": "query-status", "arguments": []}\n', 'GenericError', "'arguments'"),
            ('{"execute": "migrate", "arguments": {"uri": "tcp:1.2.3.4:5"}}\n', 'GenericError',
             'not supported'),
            ('{"execute": "qmp_capabilities"}\n', 'CommandNotFound', 'already complete'),
            ('[' * 100 + ']' * 100 + '\n', 'GenericError', 'JSON parse error'),
            ('{"execute": "query-status", "id": "\\ud800"}\n', 'GenericError', 'JSON parse error'),
        ]
        for raw, cls, part in cases:
            if cls is None:
                q.send_raw(raw)
                continue
            expect_error(q, raw, cls, part, raw.strip()[:40])
        # A megabyte line of garbage, then the connection still works.
        q.send_raw('x' * (1 << 20) + '\n')
        r = q.reply()
        if 'error' not in r:
            raise QMPError('1 MiB line: %r' % r)
        # The id comes back, whatever it is.
        r = q.cmd('query-status', ident={'n': [1, 'two', None]})
        if r.get('id') != {'n': [1, 'two', None]}:
            raise QMPError('id not echoed: %r' % r)
        result('PASS', 'qmp_bad_input_keeps_connection')
        hostile_json(q)
        migrations_keep_no_fd(q, proc.pid)
        # A client that vanishes in the middle of a big reply.
        q.send_raw('{"execute": "human-monitor-command", "arguments": '
                   '{"command-line": "info registers -a"}}\n' * 20)
        q.close()
        # A second client waits while the first is connected.
        a = QMP(sock)
        b = socket.socket(socket.AF_UNIX)
        b.connect(sock)
        b.settimeout(0.5)
        try:
            early = b.recv(100)
        except socket.timeout:
            early = b''
        a.ok('qmp_capabilities')
        a.close()
        b.settimeout(10)
        late = b.recv(100)
        if early or b'"QMP"' not in late:
            result('FAIL', 'qmp_one_client_at_a_time', 'early %r late %r' % (early, late))
        else:
            result('PASS', 'qmp_one_client_at_a_time')
        b.close()
        q = QMP(sock)
        q.ok('qmp_capabilities')
        if q.ok('query-status')['status'] != 'running' or proc.poll() is not None:
            raise QMPError('shrike did not survive')
        result('PASS', 'qmp_survives_vanishing_client')
        q.ok('quit')
        q.close()
        proc.wait(timeout=30)
    except (QMPError, OSError, ValueError) as e:
        result('FAIL', 'qmp_bad_input_keeps_connection', str(e)[:500])
    finally:
        if proc.poll() is None:
            proc.kill()
        err = proc.stderr.read().decode(errors='replace') if proc.stderr else ''
        proc.wait()
        if 'Sanitizer' in err or 'runtime error' in err:
            result('FAIL', 'qmp_sanitizers_clean', err[-500:])


def save_holds_the_vm():
    """Security review 2, N10: during a save, cont must not run the vCPUs
    under the writer, and a debugger cannot attach (its connection waits
    until the save ends).  max-bandwidth makes the save last seconds."""
    sock, out = os.path.join(TMP, 'slow.sock'), os.path.join(TMP, 'slow.out')
    gdb = os.path.join(TMP, 'slow.gdb')
    snap = os.path.join(TMP, 'slow.snap')
    proc = start_vm(shrike_argv(sock, out, ['--gdb', 'unix:' + gdb]), sock, out)
    g = None
    try:
        q = running_guest(sock, out)
        q.ok('migrate-set-parameters', {'max-bandwidth': 32768})
        if q.ok('query-migrate-parameters').get('max-bandwidth') != 32768:
            raise QMPError('query-migrate-parameters: %r' % q.ok('query-migrate-parameters'))
        t0 = time.time()
        q.ok('migrate', {'uri': 'file:' + snap})
        if q.ok('query-migrate').get('status') != 'active':
            raise QMPError('the save was not active: %r' % q.ok('query-migrate'))
        r = q.cmd('cont')
        if 'error' not in r:
            raise QMPError('cont during a save: %r' % r)
        g = socket.socket(socket.AF_UNIX)
        g.connect(gdb)
        g.sendall(b'$?#3f')
        g.settimeout(0.5)
        try:
            early = g.recv(100)
        except socket.timeout:
            early = b''
        still = q.ok('query-migrate').get('status')
        if early and still == 'active':
            raise QMPError('a debugger was served during the save: %r' % early)
        deadline = time.time() + 120
        while True:
            r = q.ok('query-migrate')
            if r.get('status') in ('completed', 'failed') or time.time() > deadline:
                break
            time.sleep(0.05)
        took = time.time() - t0
        if r.get('status') != 'completed':
            raise QMPError('the slow save: %r' % r)
        # The RAM is throttled (the boot images are not).
        ram = r['ram']['normal-bytes']
        if ram < 32768 or took < 0.5 * ram / 32768:
            raise QMPError('%d bytes of RAM in %.1f s at 32 KiB/s' % (ram, took))
        result('PASS', 'qmp_cont_refused_during_save')
        result('PASS', 'gdb_attach_waits_for_save')
        result('PASS', 'qmp_migrate_max_bandwidth')
        g.settimeout(10)
        if b'$' not in g.recv(100):
            raise QMPError('the debugger got no answer after the save')
        q.ok('quit')
        proc.wait(timeout=30)
    except (QMPError, OSError, ValueError, KeyError) as e:
        result('FAIL', 'qmp_cont_refused_during_save', str(e)[:500])
    finally:
        if g:
            g.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def virtio_snapshot_disks():
    """A VM with a disk and the entropy device saves; the snapshot does not
    name the disk's file, so a restore must be given it: without it, or
    with another size, the restore ends with status 2 naming the disk;
    with it, the guest goes on."""
    name = 'qmp_virtio_snapshot_disks'
    sock, out = os.path.join(TMP, 'vio.sock'), os.path.join(TMP, 'vio.out')
    img, other = os.path.join(TMP, 'vio.img'), os.path.join(TMP, 'vio-other.img')
    snap = os.path.join(TMP, 'vio.snap')
    for path, size in ((img, 1 << 20), (other, 2 << 20)):
        with open(path, 'wb') as f:
            f.truncate(size)
    proc = start_vm(shrike_argv(sock, out, ['--disk', img, '--rng']), sock, out)
    try:
        q = running_guest(sock, out)
        r = q.migrate(snap)
        if r.get('status') != 'completed':
            raise QMPError('migrate with virtio devices: %r' % r)
        q.ok('quit')
        proc.wait(timeout=30)
        for extra, want in (([], 'had 1 disk, this restore is given 0'),
                            (['--disk', other], 'sectors')):
            p = subprocess.run([SHRIKE, 'run', '--incoming', 'file:' + snap, '--serial', 'none']
                               + extra, capture_output=True, text=True, timeout=60)
            if p.returncode != 2 or want not in p.stderr:
                raise QMPError('restore with %r: status %d, %r' % (extra, p.returncode,
                                                                   p.stderr[-300:]))
        os.unlink(out)
        proc = start_vm([SHRIKE, 'run', '--incoming', 'file:' + snap, '--disk', img, '--serial',
                         'file:' + out, '--qmp', 'unix:%s,server=on,wait=off' % sock], sock, out)
        wait_sock(sock)
        q = QMP(sock)
        q.ok('qmp_capabilities')
        time.sleep(0.5)
        if q.ok('query-status')['status'] != 'running' or proc.poll() is not None:
            raise QMPError('the restored VM does not run')
        q.ok('quit')
        proc.wait(timeout=30)
        result('PASS', name)
    except (QMPError, OSError, ValueError, subprocess.TimeoutExpired) as e:
        result('FAIL', name, str(e)[:500])
    finally:
        stop_vm(proc)


def landlock_abi():
    """The kernel's Landlock ABI version, 0 without Landlock."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    r = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(0, r)


def snapshot_dirs_confine():
    """With --snapshot-dir D the main thread (Landlock) makes files beneath
    D only: a save into D completes, one elsewhere fails naming the option
    and leaves no file, and the VM goes on (security review 2, N9)."""
    name = 'qmp_snapshot_dir_confines_saves'
    if not landlock_abi():
        result('SKIP', name, 'this kernel has no Landlock')
        return
    sock, out = os.path.join(TMP, 'll.sock'), os.path.join(TMP, 'll.out')
    allowed, other = os.path.join(TMP, 'snaps'), os.path.join(TMP, 'elsewhere-ll')
    os.makedirs(allowed, exist_ok=True)
    os.makedirs(other, exist_ok=True)
    proc = start_vm(shrike_argv(sock, out, ['--snapshot-dir', allowed]), sock, out)
    try:
        q = running_guest(sock, out)
        r = q.migrate(os.path.join(allowed, 'in.snap'))
        if r.get('status') != 'completed':
            raise QMPError('a save beneath --snapshot-dir: %r' % r)
        q.ok('cont')
        r = q.migrate(os.path.join(other, 'out.snap'))
        if r.get('status') != 'failed' or '--snapshot-dir' not in r.get('error-desc', '') or \
                os.listdir(other):
            raise QMPError('a save elsewhere: %r, %r' % (r, os.listdir(other)))
        q.ok('cont')
        if q.ok('query-status')['status'] != 'running':
            raise QMPError('the VM does not run after the refused save')
        q.ok('quit')
        if proc.wait(timeout=30) != 0:
            raise QMPError('status %s' % proc.returncode)
        result('PASS', name)
    except (QMPError, OSError, ValueError, subprocess.TimeoutExpired) as e:
        result('FAIL', name, str(e)[:500])
    finally:
        stop_vm(proc)


def running_guest(sock, out):
    """A QMP session, negotiated, once the spin guest runs."""
    wait_sock(sock)
    q = QMP(sock)
    q.ok('qmp_capabilities')
    if not wait_for(out, 'spin:'):
        raise QMPError('the guest did not start')
    return q


def stop_vm(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def wait_sock(path, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.02)
    return False


def powerdown(no_shutdown):
    """system_powerdown presses the ACPI power button: the guest (SCI through
    the IOAPIC) powers off.  With --no-shutdown the VM then stays, stopped,
    until a reset brings it back."""
    name = 'qmp_powerdown_no_shutdown' if no_shutdown else 'qmp_system_powerdown'
    sock, out = os.path.join(TMP, 'pb.sock'), os.path.join(TMP, 'pb.out')
    argv = [SHRIKE, 'run', '--kernel', os.path.join(GUEST, 'powerbtn.elf'), '--serial',
            'file:' + out, '--qmp', 'unix:%s,server=on,wait=off' % sock]
    proc = start_vm(argv + (['--no-shutdown'] if no_shutdown else []), sock, out)
    try:
        q = QMP(sock)
        q.ok('qmp_capabilities')
        if not wait_for(out, 'waiting for the power button'):
            raise QMPError('the guest did not get ready')
        q.ok('system_powerdown')
        q.wait_event('POWERDOWN')
        e = q.wait_event('SHUTDOWN')
        if e['data'] != {'guest': True, 'reason': 'guest-shutdown'}:
            raise QMPError('SHUTDOWN %r' % e)
        if no_shutdown:
            time.sleep(0.2)
            st = q.ok('query-status')['status']
            if proc.poll() is not None or st != 'shutdown':
                raise QMPError('with --no-shutdown: process %s, state %s' % (proc.poll(), st))
            r = q.cmd('cont')
            if 'error' not in r:
                raise QMPError('cont after a shutdown: %r' % r)
            q.ok('system_reset')
            q.wait_event('RESET')
            if q.ok('query-status')['status'] != 'prelaunch':
                raise QMPError('not in prelaunch after the reset')
            q.ok('cont')
            deadline = time.time() + 30
            while open(out).read().count('waiting for the power button') != 2:
                if time.time() > deadline:
                    raise QMPError('the guest did not boot again')
                time.sleep(0.05)
            q.ok('quit')
        status = proc.wait(timeout=30)
        if status != 0 or 'power button pressed' not in open(out).read():
            raise QMPError('status %s' % status)
        result('PASS', name)
    except (QMPError, OSError, ValueError) as e:
        result('FAIL', name, str(e)[:300])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    sock, out = os.path.join(TMP, 'shrike.sock'), os.path.join(TMP, 'shrike.out')
    try:
        mine, status = session(shrike_argv(sock, out), sock, out)
    except (QMPError, OSError, ValueError) as e:
        result('FAIL', 'qmp_session', str(e))
        return
    ok = status == 0 and mine['query-status running']['return']['status'] == 'running' and \
        mine['query-status paused']['return']['status'] == 'paused' and \
        len(mine['query-cpus-fast']['return']) == 2 and \
        mine['event SHUTDOWN']['data'] == {'guest': False, 'reason': 'host-qmp-quit'}
    result('PASS' if ok else 'FAIL', 'qmp_session', '' if ok else json.dumps(mine)[:1000])
    if QEMU:
        compare_with_qemu(mine)
    else:
        result('SKIP', 'qmp_same_replies_as_qemu', 'qemu-system-x86_64 is not installed and '
               'could not be installed')
    bad_input()
    save_holds_the_vm()
    virtio_snapshot_disks()
    snapshot_dirs_confine()
    powerdown(False)
    powerdown(True)


main()
