#!/usr/bin/env python3
"""Seed corpora for the libFuzzer targets (fuzz/*.c), made from what the
build has: the test kernels, small compressed streams of each format the
host-side decompressor reads, realistic command lines, QMP sessions, gdb
packets, and (where /dev/kvm works) a real snapshot file.

usage: fuzz_seeds.py BUILD OUT_DIR
"""
import bz2
import gzip
import hashlib
import lzma
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

BUILD, OUT = sys.argv[1], sys.argv[2]
GUEST = os.path.join(BUILD, 'guest')


def seed(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def loader_seeds():
    for name in sorted(os.listdir(GUEST)):
        path = os.path.join(GUEST, name)
        if not (name.endswith('.elf') or name.endswith('.bin')) or os.path.getsize(path) > 256 << 10:
            continue
        data = open(path, 'rb').read()
        flat = 1 if name.startswith('flat') else 0
        seed('loader', name, bytes([flat]) + data)
    # A bzImage header around a gzip payload (the loader's decompression path).
    kernel = open(os.path.join(GUEST, 'hello.elf'), 'rb').read()
    payload = gzip.compress(kernel) + len(kernel).to_bytes(4, 'little')
    hdr = bytearray(1024)
    hdr[0x1f1] = 1
    hdr[0x1fe:0x200] = b'\x55\xaa'
    hdr[0x202:0x206] = b'HdrS'
    hdr[0x206:0x208] = (0x020f).to_bytes(2, 'little')
    hdr[0x211] = 0x01                      # loaded high
    hdr[0x248:0x24c] = (0).to_bytes(4, 'little')
    hdr[0x24c:0x250] = len(payload).to_bytes(4, 'little')
    seed('loader', 'bzimage-gzip', bytes([0]) + bytes(hdr) + payload)


def tool(args, data):
    try:
        return subprocess.run(args, input=data, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def decompress_seeds():
    plain = open(os.path.join(GUEST, 'hello.elf'), 'rb').read()[:32768]
    size = len(plain).to_bytes(3, 'little')
    streams = {
        0: tool(['lz4', '-l', '-c'], plain),
        1: gzip.compress(plain),
        2: lzma.compress(plain, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32),
        3: tool(['zstd', '-c', '-q'], plain),
        4: bz2.compress(plain),
        5: lzma.compress(plain, format=lzma.FORMAT_ALONE),
    }
    magic_len = {0: 4, 1: 2, 2: 6, 3: 4, 4: 3, 5: 3}
    for fmt, s in streams.items():
        if s:
            seed('decompress', 'format-%d' % fmt, bytes([fmt]) + size + s[magic_len[fmt]:])


def cmdline_seeds():
    lines = [
        (0, ['--kernel', 'k.elf', '--cpus', '4', '--memory', '512M', '--serial', 'file:/tmp/x',
             '--cpu', 'host,-x2apic,vendor=AuthenticAMD', '--irqchip', 'kernel', '--stats']),
        (0, ['--kernel', 'bzImage', '--initrd', 'i', '--cmdline', 'console=ttyS0', '--gdb',
             'tcp::1234', '--gdb-wait', '--qmp', 'unix:/tmp/q,server=on,wait=off']),
        (1, ['-nodefaults', '-no-reboot', '-display', 'none', '-serial', 'stdio', '-device',
             'isa-debug-exit,iobase=0xf4,iosize=0x4', '-kernel', 'k', '-smp', '2,sockets=1,cores=2',
             '-append', 'x', '-initrd', 'e', '-m', '256M,slots=2,maxmem=1G']),
        (1, ['-M', 'q35,accel=kvm,kernel-irqchip=split', '-chardev', 'stdio,id=c0', '-serial',
             'chardev:c0', '-cpu', 'max,+pdpe1gb', '-rtc', 'base=2006-06-17T16:01:21', '-s', '-S']),
        (2, ['host,+x2apic,-cx16,popcnt=off,vendor=GenuineIntel']),
        (3, ['unix:/tmp/qmp.sock,server=on,wait=off']),
        (4, ['tcp:[::1]:1234']),
    ]
    for i, (sel, args) in enumerate(lines):
        seed('cmdline', 'line-%d' % i, bytes([sel]) + b'\0'.join(a.encode() for a in args) + b'\0')


def qmp_seeds():
    msgs = [
        b'{"execute": "qmp_capabilities"}\r\n{"execute": "query-status"}\r\n',
        b'{"execute": "human-monitor-command", "arguments": {"command-line": "info registers"}}',
        b'{"execute": "migrate", "arguments": {"uri": "file:/tmp/s", "detach": true}}\n'
        b'{"execute":"query-migrate","id":[1,2.5e3,{"a":null,"b":true,"c":"\\u00e9\\n"}]}',
    ]
    for i, m in enumerate(msgs):
        seed('qmp_json', 'msg-%d' % i, bytes([7]) + m)
    # A session as the tests' clients and libvirt open one, every command
    # the command target dispatches, with wrong argument types too.
    session = [
        '{"execute": "qmp_capabilities"}', '{"execute": "query-status", "id": "a"}',
        '{"execute": "query-version"}', '{"execute": "query-commands"}',
        '{"execute": "query-name"}', '{"execute": "query-uuid"}',
        '{"execute": "query-cpus-fast", "id": 7}',
        '{"execute": "human-monitor-command", "arguments": {"command-line": "info registers"}}',
        '{"execute": "human-monitor-command", "arguments": {"command-line": "info cpus"}}',
        '{"execute": "migrate-set-capabilities", "arguments": {"capabilities": '
        '[{"capability": "events", "state": true}]}}',
        '{"execute": "migrate-set-parameters", "arguments": {"max-bandwidth": 32768}}',
        '{"execute": "query-migrate-parameters"}', '{"execute": "query-migrate"}',
        '{"execute": "set_link", "arguments": {"name": "net0", "up": false}}',
        '{"execute": "query-status", "arguments": {"x": 1}}', '{"execute": 5}',
        '{"execute": "nope"}', '[1]',
    ]
    seed('qmp_commands', 'session', '\r\n'.join(session).encode() + b'\r\n')


def frame(p):
    return b'$' + p + b'#%02x' % (sum(p) & 0xff)


def gdb_seeds():
    pkts = [b'qSupported:multiprocess+;swbreak+;hwbreak+', b'QStartNoAckMode', b'?', b'g',
            b'm100000,40', b'M103004,4:01000000', b'X103004,4:}\x03}\x04ab', b'Z0,100020,1',
            b'vCont;s:1;c', b'qXfer:features:read:target.xml:0,ffb', b'p10', b'P10=0000100000000000',
            b'qThreadExtraInfo,1', b'Hg2', b'T1', b'D']
    seed('gdb_packet', 'session', b'+'.join(frame(p) for p in pkts) + b'\x03')
    # The command table's target takes payloads, NUL between them; the
    # lengths at the edges of issue 19 and a monitor command too.
    edges = [b'm100000,0', b'm100000,1', b'm100000,fff', b'm100000,1001', b'm0,80000000',
             b'm0,100000000', b'm0,8000000000000000', b'm0,ffffffffffffffff',
             b'M100000,8000000000000000:', b'X100000,ffffffffffffffff:',
             b'qRcmd,' + b'info registers'.hex().encode(), b'Z2,200000,4', b'z2,200000,4']
    seed('gdb_commands', 'session', b'\0'.join(pkts + edges))


def snapshot_structure_seed():
    """A snapshot with every required section, tiny ones, built here: where
    /dev/kvm is missing there is no real one, and the fuzz target fixes the
    digests itself, so this reaches the section parsers."""
    header = struct.Struct('<8sII16sQIIQ32s32s')
    entry = struct.Struct('<IIQQ48s')
    # A configuration that parses (1 vCPU, 2 MiB, split irqchip) and one
    # RAM run of a page, so that the RAM loader is reached too.
    config = struct.pack('<IQBBBHH16sHHBB', 1, 2 << 20, 0, 0, 0, 0, 0, bytes(16), 0, 0, 1, 0)
    rammap = struct.pack('<QQQ', 0x1000, 1, 8192)
    # Records the restore reads before its first ioctl (fuzz/snapshot.c
    # runs it on a fake VM): split irqchip and kvmclock (48 bytes); a boot
    # plan of no segments (entry state 80 bytes, two empty strings, RSDP,
    # count); one vCPU record (version 1: regs 144, sregs2 320, no XSAVE,
    # FPU 416, XCRs 392, no MSRs, events 64, MP state 4, LAPIC 1024,
    # debug registers 128).
    irqchip = bytes(1 + 48)
    boot = bytes(80) + struct.pack('<HHQI', 0, 0, 0, 0)
    vcpu = (struct.pack('<I', 1) + bytes(144 + 320) + struct.pack('<I', 0) + bytes(416 + 392)
            + struct.pack('<I', 0) + bytes(64 + 4 + 1024 + 128))
    # CPUID: one leaf (count, then kvm_cpuid_entry2s of 40 bytes).
    cpuid = struct.pack('<I', 1) + struct.pack('<7I12x', 0, 0, 0, 0xd, 0x68747541, 0x444d4163,
                                               0x69746e65)
    contents = {1: config, 2: cpuid, 3: irqchip, 4: boot, 6: vcpu, 8: rammap}
    sections = [(1, len(config)), (2, len(cpuid)), (3, len(irqchip)), (4, len(boot)), (5, 0),
                (6, len(vcpu)), (8, len(rammap)), (9, 4096)]
    table, body, off = b'', b'', 4096 + 1024
    for t, length in sections:
        at = 8192 if t in (5, 9) else off      # BOOTDATA and RAM: page aligned
        table += entry.pack(t, 0, at, length, b'')
        if t not in (5, 9):
            body += contents.get(t, bytes(length))
            off += length
    page = bytearray(header.pack(b'SHRKSNAP', 1, 4096, b'seed', 4096, len(sections), 0, 8192,
                                 bytes(32), bytes(32)))
    data = bytes(page) + bytes(4096 - len(page)) + table
    data += bytes(1024 - len(table)) + body
    data += bytes(8192 - len(data)) + b'\xa5' * 4096     # the RAM page
    seed('snapshot', 'structure', data)


def snapshot_seed():
    shrike = os.path.join(BUILD, 'shrike')
    if not os.access('/dev/kvm', os.R_OK | os.W_OK) or not os.path.exists(shrike):
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from qmp import QMP
    tmp = tempfile.mkdtemp(prefix='shrike-seed-')
    sock, snap = os.path.join(tmp, 'q'), os.path.join(tmp, 's')
    p = subprocess.Popen([shrike, 'run', '--kernel', os.path.join(GUEST, 'spin.elf'), '--memory',
                          '16M', '--cmdline', 'ms=100000', '--serial', 'none', '--qmp',
                          'unix:%s,server=on,wait=off' % sock], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        q = QMP(sock)
        q.ok('qmp_capabilities')
        time.sleep(0.2)
        q.migrate(snap)
        q.close()
        if os.path.getsize(snap) < (8 << 20):
            shutil.copy(snap, os.path.join(OUT, 'snapshot', 'spin.snap')) if os.path.isdir(
                os.path.join(OUT, 'snapshot')) else seed('snapshot', 'spin.snap', open(snap, 'rb').read())
    except Exception:  # noqa: BLE001 (a seed is a nicety)
        pass
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def virtqueue_seed():
    """A queue of 8 at desc 0x1000, avail 0x2000, used 0x8000: one chain of
    a readable header, a writable buffer and a status byte, and one
    indirect table of two."""
    import struct
    ram = bytearray(0x9000)
    desc = [(0x4000, 16, 1, 1), (0x4100, 512, 3, 2), (0x4300, 1, 2, 0),
            (0x5000, 32, 4, 0)]
    for i, (a, l, f, n) in enumerate(desc):
        struct.pack_into('<QIHH', ram, 0x1000 + 16 * i, a, l, f, n)
    struct.pack_into('<QIHHQIHH', ram, 0x5000, 0x4000, 16, 1, 1, 0x4100, 64, 2, 0)
    struct.pack_into('<HHHH', ram, 0x2000, 0, 2, 0, 3)
    seed('virtqueue', 'two-chains', bytes([3, 0x1000 >> 10, 0x2000 >> 10, 0x40]) + bytes(ram))


def main():
    virtqueue_seed()
    loader_seeds()
    decompress_seeds()
    cmdline_seeds()
    qmp_seeds()
    gdb_seeds()
    seed('snapshot', 'header-only', b'SHRKSNAP' + bytes(4088))
    snapshot_structure_seed()
    snapshot_seed()


main()
