#!/usr/bin/env python3
"""Snapshot and restore (issue 10), end to end.  Prints PASS/FAIL/SKIP lines.

usage: snap_test.py SHRIKE GUEST_DIR TMPDIR
"""
import hashlib
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP, QMPError  # noqa: E402

SHRIKE, GUEST, TMP = sys.argv[1], sys.argv[2], sys.argv[3]
SNAPCHECK = os.path.join(GUEST, 'snapcheck.elf')
ROUNDS = 12000
SNAPSHOTS = 20
rng = random.Random(int(os.environ.get('SNAP_SEED', '7')))

# format.h
HEADER = struct.Struct('<8sII16sQIIQ32s32s')
ENTRY = struct.Struct('<IIQQ48s')
T_VCPU, T_DEVICE, T_RAM = 6, 7, 9


def result(kind, name, why=''):
    print('%s %s%s' % (kind, name, ': ' + why if why else ''), flush=True)


def sanitizer_report(text):
    return 'Sanitizer' in text or 'runtime error' in text


def run(argv, timeout=120, stdin=None):
    p = subprocess.run(argv, stdin=stdin or subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors='replace'), p.stderr.decode(errors='replace')


def result_line(text):
    m = re.search(r'snapcheck: result .*', text)
    return m.group(0).strip() if m else None


def progress(text):
    return [int(x) for x in re.findall(r'snapcheck: progress (\d+)', text)]


def vm(argv_extra, out, sock, stdin_path=None):
    for p in (out, sock):
        if p and os.path.exists(p):
            os.unlink(p)
    argv = [SHRIKE, 'run', '--serial', 'file:' + out] + argv_extra
    if sock:
        argv += ['--qmp', 'unix:%s,server=on,wait=off' % sock]
    stdin = open(stdin_path, 'rb') if stdin_path else subprocess.DEVNULL
    return subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc, timeout=120):
    try:
        status = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None, 'timeout'
    return status, proc.stderr.read().decode(errors='replace')


def expected():
    out = os.path.join(TMP, 'plain.out')
    p = vm(['--kernel', SNAPCHECK, '--cpus', '2', '--cmdline', 'rounds=%d' % ROUNDS], out, None,
           os.path.join(TMP, 'input'))
    status, err = finish(p)
    text = open(out, errors='replace').read()
    if status != 0 or not result_line(text):
        raise RuntimeError('uninterrupted run: status %s, %s' % (status, err[-300:]))
    return result_line(text)


def take_snapshots(want):
    """One source VM, SNAPSHOTS saves at random moments, continued after each."""
    out, sock = os.path.join(TMP, 'src.out'), os.path.join(TMP, 'src.sock')
    p = vm(['--kernel', SNAPCHECK, '--cpus', '2', '--cmdline', 'rounds=%d' % ROUNDS], out, sock,
           os.path.join(TMP, 'input'))
    taken = []
    q = QMP(sock)
    q.ok('qmp_capabilities')
    q.ok('migrate-set-capabilities', {'capabilities': [{'capability': 'events', 'state': True}]})
    gaps = sorted(rng.uniform(0.0, 1.6) for _ in range(SNAPSHOTS))
    t0, prev = time.time(), 0.0
    for i, g in enumerate(gaps):
        time.sleep(max(0.0, g - prev))
        prev = g
        path = os.path.join(TMP, 'snap-%02d' % i)
        try:
            r = q.migrate(path)
        except (QMPError, BrokenPipeError, ConnectionResetError):
            try:
                p.wait(10)                     # the guest ended first: fine
            except subprocess.TimeoutExpired:
                raise RuntimeError('the QMP connection broke with the guest running')
            break
        if r['status'] != 'completed':
            raise RuntimeError('migrate: %r' % r)
        if q.ok('query-status')['status'] != 'postmigrate':
            raise RuntimeError('source not in postmigrate after the save')
        time.sleep(0.05)                       # let the console drain
        taken.append((path, open(out, errors='replace').read(), r))
        q.ok('cont')
    events = [e['data']['status'] for e in q.events if e['event'] == 'MIGRATION']
    q.close()
    status, err = finish(p)
    text = open(out, errors='replace').read()
    if status != 0 or result_line(text) != want:
        raise RuntimeError('source after %d saves: status %s, result %r (want %r) %s' %
                           (len(taken), status, result_line(text), want, err[-300:]))
    if events[:3] != ['setup', 'active', 'completed']:
        raise RuntimeError('MIGRATION events: %r' % events[:6])
    return taken, time.time() - t0


def restore_check(path, before, want, tag):
    out = os.path.join(TMP, 'restored-%s.out' % tag)
    p = vm(['--incoming', 'file:' + path], out, None)
    return p, out, before, want


def restore_verdict(job):
    """The restored guest went on: the source's output up to the save and
    the restored output make one run, every progress line once, one banner
    (a line cut by the save is completed by the restored guest)."""
    p, out, before, want = job
    status, err = finish(p)
    text = open(out, errors='replace').read() if os.path.exists(out) else ''
    whole = before + text
    if status != 0:
        return 'status %s: %s; guest: %s' % (status, err[-300:], text[-200:])
    if sanitizer_report(err):
        return 'sanitizer: ' + err[-300:]
    # A save taken after the result line (the guest was powering off) has
    # it in the source's part: the run as a whole is what must hold it.
    if result_line(whole) != want:
        return 'result %r, want %r' % (result_line(whole), want)
    if 'banner' in text or whole.count('banner') != 1:
        return 'the banner appeared again (rebooted?)'
    if progress(whole) != list(range(0, ROUNDS, 100)):
        return 'progress does not carry on: %r' % progress(whole)[:40]
    return None


def restores(taken, want):
    failures = []
    # Two at a time: the machine has two cores, and the guest gives its AP
    # 5 s to come up (under TSan twenty restores at once starved it).
    pending = [(path, before, str(i)) for i, (path, before, _) in enumerate(taken)]
    running = []
    while pending or running:
        while pending and len(running) < 2:
            path, before, tag = pending.pop(0)
            running.append(restore_check(path, before, want, tag))
        job = running.pop(0)
        why = restore_verdict(job)
        if why:
            failures.append('%s: %s' % (job[1], why))
    return failures


def clones(taken, want):
    path, before, _ = taken[len(taken) // 2]
    jobs = [restore_check(path, before, want, 'clone%d' % i) for i in range(2)]
    return [w for w in (restore_verdict(j) for j in jobs) if w]


# ---- state identity ----

def sections(path):
    data = open(path, 'rb').read()
    h = HEADER.unpack_from(data, 0)
    table_off, n = h[4], h[5]
    out = []
    for i in range(n):
        t, idx, off, length, name = ENTRY.unpack_from(data, table_off + i * ENTRY.size)
        out.append((t, idx, data[off:off + length]))
    return out


def vcpu_fields(record):
    """Splits a VCPU record (snapshot/sections.c) into named parts."""
    regs, sregs = 144, 320
    pos = 4
    f = {'regs': record[pos:pos + regs]}
    pos += regs
    f['sregs'] = record[pos:pos + sregs]
    pos += sregs
    xsize = struct.unpack_from('<I', record, pos)[0]
    pos += 4
    f['xsave'] = record[pos:pos + xsize]
    pos += xsize
    f['xcrs'] = record[pos:pos + 392]
    pos += 392
    n = struct.unpack_from('<I', record, pos)[0]
    pos += 4
    f['msrs'] = {}
    for i in range(n):
        idx, val = struct.unpack_from('<IQ', record, pos + 12 * i)
        f['msrs'][idx] = val
    pos += 12 * n
    f['events'] = record[pos:pos + 64]
    pos += 64
    f['mp_state'] = record[pos:pos + 4]
    pos += 4
    lapic = bytearray(record[pos:pos + 1024])
    lapic[0x390:0x394] = b'\0\0\0\0'      # current count: time, not state
    f['lapic'] = bytes(lapic)
    pos += 1024
    f['debugregs'] = record[pos:]
    return f


def trace_snapshot_msrs(path):
    got = {}
    for line in open(path):
        e = json.loads(line)
        if e['op'] == 'get' and e['cause'] == 'snapshot':
            got[e['vcpu']] = e.get('msrs', {})
    return got


def identity():
    out, sock = os.path.join(TMP, 'id-src.out'), os.path.join(TMP, 'id-src.sock')
    t1, t2 = os.path.join(TMP, 'id1.jsonl'), os.path.join(TMP, 'id2.jsonl')
    a, b = os.path.join(TMP, 'id-a.snap'), os.path.join(TMP, 'id-b.snap')
    p = vm(['--kernel', SNAPCHECK, '--cpus', '2', '--cmdline', 'identity', '--trace-sync', t1,
            '--trace-msrs'], out, sock)
    q = QMP(sock)
    q.ok('qmp_capabilities')
    deadline = time.time() + 60
    while 'identity ready' not in open(out, errors='replace').read():
        if time.time() > deadline:
            raise RuntimeError('the guest did not get ready')
        time.sleep(0.05)
    time.sleep(0.2)
    if q.migrate(a)['status'] != 'completed':
        raise RuntimeError('first save failed')
    q.ok('quit')
    q.close()
    finish(p)
    # A second between the save and the restore: a TSC that was not
    # restored would be a second ahead.
    time.sleep(1)
    out2, sock2 = os.path.join(TMP, 'id-dst.out'), os.path.join(TMP, 'id-dst.sock')
    p = vm(['--incoming', 'file:' + a, '--paused', '--trace-sync', t2, '--trace-msrs'], out2, sock2)
    q = QMP(sock2)
    q.ok('qmp_capabilities')
    if q.ok('query-status')['status'] != 'prelaunch':
        raise RuntimeError('restored with --paused but not in prelaunch')
    if q.migrate(b)['status'] != 'completed':
        raise RuntimeError('second save failed')
    q.ok('quit')
    q.close()
    finish(p)
    diffs, tsc = [], []
    va = {i: vcpu_fields(d) for t, i, d in sections(a) if t == T_VCPU}
    vb = {i: vcpu_fields(d) for t, i, d in sections(b) if t == T_VCPU}
    for i in va:
        for k in va[i]:
            if k == 'msrs':
                for idx, val in va[i]['msrs'].items():
                    other = vb[i]['msrs'].get(idx)
                    if idx == 0x10:
                        tsc.append((val, other))
                    elif other != val:
                        diffs.append('vCPU %d MSR 0x%x: 0x%x then 0x%x' % (i, idx, val, other or 0))
            elif va[i][k] != vb[i][k]:
                diffs.append('vCPU %d %s differs: %s then %s' % (i, k, va[i][k].hex()[:160],
                                                              vb[i][k].hex()[:160]))
    ma, mb = trace_snapshot_msrs(t1), trace_snapshot_msrs(t2)
    for v in ma:
        for idx, val in ma[v].items():
            if idx != '0x10' and mb.get(v, {}).get(idx) != val:
                diffs.append('trace vCPU %d MSR %s: %s then %s' % (v, idx, val, mb.get(v, {}).get(idx)))
    restored_puts = sum(1 for line in open(t2) if '"cause":"restore"' in line)
    if restored_puts != 2:
        diffs.append('%d restore puts in the trace, want 2' % restored_puts)
    return diffs, tsc


# ---- reset after restore, the kernel file gone ----

def reset_after_restore():
    k = os.path.join(TMP, 'reboot-copy.elf')
    shutil.copy(os.path.join(GUEST, 'reboot.elf'), k)
    out, sock = os.path.join(TMP, 'rb.out'), os.path.join(TMP, 'rb.sock')
    snap = os.path.join(TMP, 'rb.snap')
    p = vm(['--kernel', k, '--cmdline', 'source=host boots=2'], out, sock)
    q = QMP(sock)
    q.ok('qmp_capabilities')
    deadline = time.time() + 60
    while 'waiting for a host reset' not in open(out, errors='replace').read():
        if time.time() > deadline:
            raise RuntimeError('the guest did not wait')
        time.sleep(0.05)
    if q.migrate(snap)['status'] != 'completed':
        raise RuntimeError('save failed')
    q.ok('quit')
    q.close()
    finish(p)
    os.unlink(k)
    return reset_restored(snap, 'rb2')


def reset_restored(snap, name):
    """Restores snap, resets the restored VM from its boot plan: the reboot
    kernel must count its second boot.  None, or what went wrong."""
    out, sock = os.path.join(TMP, name + '.out'), os.path.join(TMP, name + '.sock')
    p = vm(['--incoming', 'file:' + snap], out, sock)
    q = QMP(sock)
    q.ok('qmp_capabilities')
    q.ok('system_reset')
    status, err = finish(p, 60)
    text = open(out, errors='replace').read()
    if status != 0 or 'reboot: 2 boots counted' not in text:
        return 'status %s, output %r, %s' % (status, text[-200:], err[-200:])
    return None


def many_segments():
    """Security review 2, N11: a multiboot kernel with three modules makes a
    boot plan of 8 segments, more than a restore once took; saved, restored,
    and reset from the restored plan."""
    k = os.path.join(TMP, 'reboot-seg.elf')
    shutil.copy(os.path.join(GUEST, 'reboot.elf'), k)
    mods = []
    for i in range(3):
        m = os.path.join(TMP, 'module%d' % i)
        with open(m, 'wb') as f:
            f.write(bytes([0x41 + i]) * (4096 * (i + 1)))
        mods.append(m)
    out, sock = os.path.join(TMP, 'seg.out'), os.path.join(TMP, 'seg.sock')
    snap = os.path.join(TMP, 'seg.snap')
    argv = ['--kernel', k, '--cmdline', 'source=host boots=2']
    for m in mods:
        argv += ['--module', m]
    p = vm(argv, out, sock)
    q = QMP(sock)
    q.ok('qmp_capabilities')
    deadline = time.time() + 60
    while 'waiting for a host reset' not in open(out, errors='replace').read():
        if time.time() > deadline:
            raise RuntimeError('the guest did not wait')
        time.sleep(0.05)
    r = q.migrate(snap)
    if r['status'] != 'completed':
        raise RuntimeError('save failed: %r' % r)
    q.ok('quit')
    q.close()
    finish(p)
    return reset_restored(snap, 'seg2')


# ---- bad snapshot files through the command line ----

def full_rehash(data):
    """Both digests recomputed: what an attacker who edits a snapshot does
    (the digests find accidents, not attacks)."""
    data = bytearray(data)
    h = list(HEADER.unpack_from(data, 0))
    table_off, n = h[4], h[5]
    md = hashlib.sha256(bytes(data[table_off:table_off + n * ENTRY.size]))
    for i in range(n):
        t, idx, off, length, name = ENTRY.unpack_from(data, table_off + i * ENTRY.size)
        if t != 9:   # RAM is not in the metadata digest
            md.update(bytes(data[off:off + length]))
    h[7] = len(data)
    h[8] = md.digest()
    h[9] = b'\0' * 32
    HEADER.pack_into(data, 0, *h)
    h[9] = hashlib.sha256(bytes(data[:4096])).digest()
    HEADER.pack_into(data, 0, *h)
    return bytes(data)


def entry_of(data, table_off, n, want_type):
    for i in range(n):
        e = ENTRY.unpack_from(data, table_off + i * ENTRY.size)
        if e[0] == want_type:
            return i, e
    raise RuntimeError('no section of type %d' % want_type)


def validly_hashed_cases(good, table_off, n):
    """Security review 2, N3 and N4: files whose digests are right."""
    cases = []
    # N3: the CPUID section named 1 GiB long (a sparse file costs nothing).
    i, (t, idx, off, length, name) = entry_of(good, table_off, n, 2)
    big = bytearray(good)
    ENTRY.pack_into(big, table_off + i * ENTRY.size, t, idx, len(good), 1 << 30, name)
    cases.append(('CPUID section of 1 GiB', (bytes(big), 1 << 30)))
    # N3: two sections sharing bytes (CONFIG moved onto CPUID).
    j, (t2, idx2, off2, length2, name2) = entry_of(good, table_off, n, 1)
    ov = bytearray(good)
    ENTRY.pack_into(ov, table_off + j * ENTRY.size, t2, idx2, off, length2, name2)
    cases.append(('CONFIG overlapping CPUID', full_rehash(bytes(ov))))
    # N4: the first boot segment moved outside guest RAM.
    i, (t, idx, off, length, name) = entry_of(good, table_off, n, 4)
    sec = good[off:off + length]
    k = sec.index(b'multiboot') - 2                      # format: u16 length, bytes
    k += 2 + struct.unpack_from('<H', sec, k)[0]
    k += 2 + struct.unpack_from('<H', sec, k)[0]          # note
    k += 8 + 4                                            # rsdp, segment count
    oob = bytearray(good)
    struct.pack_into('<Q', oob, off + k, 0xfff00000)
    cases.append(('boot segment outside RAM', full_rehash(bytes(oob))))
    return cases


def bad_files():
    good = open(os.path.join(TMP, 'rb.snap'), 'rb').read()
    h = list(HEADER.unpack_from(good, 0))
    table_off, n = h[4], h[5]
    cases = []

    def rehash(data):
        page = bytearray(data[:4096])
        page[HEADER.size - 32:HEADER.size] = b'\0' * 32
        digest = hashlib.sha256(bytes(page)).digest()
        data = bytearray(data)
        data[HEADER.size - 32:HEADER.size] = digest
        return bytes(data)

    cases.append(('magic', b'NOTASNAP' + good[8:]))
    v = bytearray(good)
    struct.pack_into('<I', v, 8, 99)
    cases.append(('version', rehash(bytes(v))))
    ends = sorted({ENTRY.unpack_from(good, table_off + i * ENTRY.size)[2] for i in range(n)} |
                  {table_off, 4096, 100, len(good) - 1})
    for cut in ends:
        cases.append(('truncated at %d' % cut, good[:cut]))
    for i in range(n):
        e = bytearray(good)
        t, idx, off, length, name = ENTRY.unpack_from(good, table_off + i * ENTRY.size)
        ENTRY.pack_into(e, table_off + i * ENTRY.size, t, idx, off, len(good), name)
        cases.append(('section %d past the end' % i, rehash(bytes(e))))
    for k in range(40):
        pos = rng.randrange(0, 4096) if k % 2 else rng.randrange(table_off, table_off + n * ENTRY.size)
        f = bytearray(good)
        f[pos] ^= 1 << rng.randrange(8)
        cases.append(('byte %d flipped' % pos, bytes(f)))
    cases += validly_hashed_cases(good, table_off, n)
    failures = []
    path = os.path.join(TMP, 'bad.snap')
    for name, data in cases:
        hole = 0
        if isinstance(data, tuple):            # (bytes, a hole to append)
            data, hole = data
        with open(path, 'wb') as f:
            f.write(data)
            if hole:
                f.truncate(len(data) + hole)
        if hole:
            v = bytearray(data)
            h = list(HEADER.unpack_from(v, 0))
            h[7] = len(data) + hole
            h[9] = b'\0' * 32
            HEADER.pack_into(v, 0, *h)
            h[9] = hashlib.sha256(bytes(v[:4096])).digest()
            HEADER.pack_into(v, 0, *h)
            with open(path, 'r+b') as f:
                f.write(bytes(v[:4096]))
        t0 = time.time()
        try:
            status, _, err = run([SHRIKE, 'run', '--incoming', 'file:' + path, '--serial', 'none'],
                                 30)
        except subprocess.TimeoutExpired:
            failures.append('%s: accepted (the restored VM ran)' % name)
            continue
        if hole and time.time() - t0 > 3:
            failures.append('%s: refused only after %.1f s' % (name, time.time() - t0))
        lines = [x for x in err.splitlines() if x.strip()]
        if status != 2 or len(lines) != 1 or sanitizer_report(err):
            failures.append('%s: status %s, stderr %r' % (name, status, err[-200:]))
    return failures, len(cases)


def main():
    open(os.path.join(TMP, 'input'), 'w').write('SNAPIN\n')
    try:
        want = expected()
        taken, secs = take_snapshots(want)
    except (RuntimeError, QMPError, OSError) as e:
        result('FAIL', 'snapshot_source_continues', str(e)[:500])
        return
    result('PASS', 'snapshot_source_continues',
           '' if len(taken) == SNAPSHOTS else '%d of %d saves before the guest ended' %
           (len(taken), SNAPSHOTS))
    sizes = [os.path.getsize(p) for p, _, _ in taken]
    print('  %d snapshots in %.1f s, %d-%d KiB each' % (len(taken), secs, min(sizes) // 1024,
                                                        max(sizes) // 1024))
    f = restores(taken, want)
    result('FAIL' if f else 'PASS', 'snapshot_restores_continue', '; '.join(f)[:1500])
    f = clones(taken, want)
    result('FAIL' if f else 'PASS', 'snapshot_restored_twice', '; '.join(f)[:800])
    try:
        diffs, tsc = identity()
        result('FAIL' if diffs else 'PASS', 'snapshot_state_identity', '; '.join(diffs)[:1500])
        far = [abs((b or 0) - a) > (1 << 29) for a, b in tsc]
        if not any(far):
            result('PASS', 'snapshot_tsc_identity')
        elif os.path.exists('/sys/module/kvm_pvm'):
            result('SKIP', 'snapshot_tsc_identity', "this host's KVM (kvm_pvm) ignores host "
                   'writes to the TSC; the restore put writes it (trace)')
        else:
            result('FAIL', 'snapshot_tsc_identity', repr(tsc))
    except (RuntimeError, QMPError, OSError) as e:
        result('FAIL', 'snapshot_state_identity', str(e)[:500])
    try:
        why = reset_after_restore()
        result('FAIL' if why else 'PASS', 'snapshot_reset_after_restore', why or '')
        why = many_segments()
        result('FAIL' if why else 'PASS', 'snapshot_boot_plan_of_8_segments', why or '')
        f, n = bad_files()
        result('FAIL' if f else 'PASS', 'snapshot_bad_files_refused', '; '.join(f)[:1500])
        print('  %d bad snapshot files refused' % n)
    except (RuntimeError, QMPError, OSError) as e:
        result('FAIL', 'snapshot_reset_after_restore', str(e)[:500])


if __name__ == '__main__':
    main()
