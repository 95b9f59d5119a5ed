#!/usr/bin/env python3
"""The gdbstub at the protocol level (issue 11): replies to well-formed
packets gdb does not normally send in a given order, then a few thousand
malformed and random packets.  shrike must answer or ignore each, stay up,
and let the guest finish normally afterwards.  Prints PASS/FAIL lines.

usage: gdb_proto_test.py SHRIKE GUEST_DIR TMPDIR [PACKETS]
"""
import os
import random
import re
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

SHRIKE, GUEST, TMP = sys.argv[1], sys.argv[2], sys.argv[3]
PACKETS = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
KERNEL = os.path.join(GUEST, 'gdbtarget.elf')
SANITIZER = re.compile(r'AddressSanitizer|runtime error:|LeakSanitizer|ThreadSanitizer')


def result(kind, name, why=''):
    print('%s %s%s' % (kind, name, ': ' + why if why else ''), flush=True)


class Failure(Exception):
    pass


def checksum(payload):
    return sum(payload) & 0xff


def frame(payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return b'$' + payload + b'#%02x' % checksum(payload)


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(('127.0.0.1', port), timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b''
        self.noack = False

    def raw(self, data):
        self.s.sendall(data)

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise Failure('shrike closed the connection')
        self.buf += chunk

    def reply(self):
        """The next packet's payload (acks skipped, sent back as needed)."""
        while True:
            while self.buf[:1] in (b'+', b'-'):
                self.buf = self.buf[1:]
            i = self.buf.find(b'#')
            if self.buf[:1] == b'$' and i > 0 and len(self.buf) >= i + 3:
                payload, self.buf = self.buf[1:i], self.buf[i + 3:]
                if not self.noack:
                    self.raw(b'+')
                if payload[:1] == b'O' and payload != b'OK':
                    continue       # console output (monitor commands)
                return payload
            self._fill()

    def ack(self):
        """The acknowledgement of the last packet sent."""
        while not self.buf:
            self._fill()
        c, self.buf = self.buf[:1], self.buf[1:]
        return c

    def cmd(self, payload):
        self.raw(frame(payload))
        if not self.noack:
            a = self.ack()
            if a != b'+':
                raise Failure('packet %r got %r' % (payload, a))
        return self.reply()


def unescape(data):
    out, i = bytearray(), 0
    while i < len(data):
        if data[i] == 0x7d and i + 1 < len(data):
            out.append(data[i + 1] ^ 0x20)
            i += 2
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


def start(name, args):
    err = os.path.join(TMP, name + '.err')
    out = os.path.join(TMP, name + '.out')
    proc = subprocess.Popen([SHRIKE, 'run', '--kernel', KERNEL, '--gdb', 'tcp::0',
                             '--serial', 'file:' + out] + args,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(err, 'w'))
    deadline = time.time() + 20
    while time.time() < deadline:
        m = re.search(r'gdb: listening on [^ ]*:(\d+)', open(err).read())
        if m:
            return proc, int(m.group(1)), err, out
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    raise Failure('shrike did not report its gdb port: ' + open(err).read()[-300:])


def symbol(name):
    out = subprocess.run(['nm', KERNEL + '.64'], capture_output=True, text=True).stdout
    return int(re.search(r'^([0-9a-f]+) \w %s$' % name, out, re.M).group(1), 16)


def check(cond, what):
    if not cond:
        raise Failure(what)


def protocol_checks(c, ncpus):
    feats = c.cmd('qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386').decode()
    for f in ('PacketSize=', 'qXfer:features:read+', 'vContSupported+', 'QStartNoAckMode+',
              'swbreak+', 'hwbreak+'):
        check(f in feats, 'qSupported lacks ' + f)
    check(c.cmd('vMustReplyEmpty') == b'', 'vMustReplyEmpty')
    check(c.cmd('?').startswith(b'T05thread:'), 'stop reason at attach')
    # The target description, read in small pieces.
    xml, off = b'', 0
    while True:
        r = unescape(c.cmd('qXfer:features:read:target.xml:%x,%x' % (off, 200)))
        xml += r[1:]
        off += len(r) - 1
        if r[:1] == b'l':
            break
        check(r[:1] == b'm' and len(r) > 1, 'qXfer reply %r' % r[:20])
    root = ET.fromstring(xml)
    check(root.findtext('architecture') == 'i386:x86-64', 'architecture')
    names = [r.get('name') for r in root.iter('reg')]
    for n in ('rax', 'rip', 'eflags', 'cs', 'gs', 'st0', 'fop', 'xmm15', 'mxcsr', 'fs_base',
              'gs_base', 'k_gs_base', 'cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer'):
        check(n in names, 'target.xml lacks ' + n)
    check(c.cmd('qfThreadInfo') == ('m' + ','.join('%x' % (i + 1) for i in range(ncpus))).encode(),
          'qfThreadInfo')
    check(c.cmd('qsThreadInfo') == b'l', 'qsThreadInfo')
    check(bytes.fromhex(c.cmd('qThreadExtraInfo,1').decode()) == b'CPU 0/KVM', 'extra info')
    check(c.cmd('T%x' % (ncpus + 1)).startswith(b'E'), 'T of a thread that does not exist')
    check(c.cmd('Hg%x' % (ncpus + 5)).startswith(b'E'), 'Hg of a thread that does not exist')
    g = c.cmd('g')
    check(len(g) == 2 * (16 * 8 + 8 + 4 + 6 * 4), 'g packet is %d hex digits' % len(g))
    rip = int.from_bytes(bytes.fromhex(g[256:272].decode()), 'little')
    p = c.cmd('p10')
    check(int.from_bytes(bytes.fromhex(p.decode()), 'little') == rip, 'p of rip equals g')
    check(len(c.cmd('p18')) == 20, 'st0 is 10 bytes')
    check(c.cmd('p%x' % 1000).startswith(b'E'), 'p of a register that does not exist')
    # Memory: breakpoint bytes are invisible; unmapped reads fail.
    leaf = symbol('leaf')
    before = c.cmd('m%x,4' % leaf)
    check(c.cmd('Z0,%x,1' % leaf) == b'OK', 'Z0')
    check(c.cmd('m%x,4' % leaf) == before, 'a breakpoint byte shows through a read')
    check(c.cmd('z0,%x,1' % leaf) == b'OK', 'z0')
    check(c.cmd('m%x,4' % leaf) == before, 'original byte restored')
    check(c.cmd('mdead00000000,10').startswith(b'E'), 'unmapped read')
    big = c.cmd('m%x,fffffff' % leaf)
    check(0 < len(big) <= 16384, 'huge m length gives a bounded reply (%d)' % len(big))
    check(c.cmd('mffffffffffffffff,10').startswith(b'E'), 'read at the top of memory')
    # Writes: M and X round trip at a scratch variable.
    watched = symbol('watched')
    check(c.cmd('M%x,4:00000000' % watched) == b'OK', 'M')
    x = b'X%x,4:' % watched + bytes([0x7d, 0x23 ^ 0x20, 0x7d, 0x24 ^ 0x20, 0x7d, 0x2a ^ 0x20,
                                     0x7d, 0x7d ^ 0x20])
    check(c.cmd(x) == b'OK', 'X with escapes')
    check(c.cmd('m%x,4' % watched) == b'23242a7d', 'X wrote the unescaped bytes')
    check(c.cmd('M%x,4:00000000' % watched) == b'OK', 'M back')
    # Framing: a bad checksum is NAKed, an oversized packet refused.
    c.raw(b'$m0,4#00')
    check(c.ack() == b'-', 'bad checksum NAKed')
    c.raw(frame(b'q' + b'A' * 20000))
    check(c.ack() == b'+', 'oversized packet ack')
    check(c.reply().startswith(b'E'), 'oversized packet refused')
    check(c.cmd('QStartNoAckMode') == b'OK', 'no-ack mode')
    c.noack = True
    check(c.cmd('qC') == b'QC1', 'qC in no-ack mode')


EDGES = (0, 1, 8191, 8192, 8193, 16383, 16384, 16385, 1 << 31, 1 << 32, 1 << 63, (1 << 64) - 1)


def length_edges(c):
    """Every packet that carries a length or a number, with the lengths at
    the edges (security review 2, N1: M with 2^63 wrapped 2 * len and
    copied host stack into guest RAM).  Each gets an error or a bounded,
    right answer, and guest memory changes only where a write was valid."""
    watched = symbol('watched')
    before = c.cmd('m%x,40' % watched)
    for n in EDGES:
        r = c.cmd('m%x,%x' % (watched, n))
        check(r.startswith(b'E') or (len(r) % 2 == 0 and len(r) <= 2 * min(n, 16384)),
              'm with length %#x: %r' % (n, r[:40]))
        for payload in ('M%x,%x:' % (watched, n), 'M%x,%x:%s' % (watched, n, '00' * min(n, 3)),
                        'X%x,%x:' % (watched, n)):
            r = c.cmd(payload)
            want_ok = n == 0 or (n <= 3 and payload.endswith(':' + '00' * n))
            check(r == b'OK' if want_ok else r.startswith(b'E'), '%s: %r' % (payload[:40], r))
        r = c.cmd('qXfer:features:read:target.xml:%x,%x' % (n, n))
        check(r[:1] in (b'm', b'l') or r.startswith(b'E'), 'qXfer %#x: %r' % (n, r[:20]))
        for payload in ('p%x' % n, 'P%x=00' % n, 'T%x' % n, 'Hg%x' % n, 'Z1,%x,%x' % (n, n),
                        'z1,%x,%x' % (n, n), 'Z2,%x,%x' % (watched, n), 'z2,%x,%x' % (watched, n),
                        'qRcmd,%x' % n):
            c.cmd(payload)        # any reply will do; the VM must live on
    check(c.cmd('H').startswith(b'E'), 'a bare H')
    check(c.cmd('Hg0') == b'OK', 'Hg0 after the edges')
    check(c.cmd('m%x,40' % watched) == before, 'guest memory changed by refused writes')


def ack_flood(port):
    """A client that sends bad checksums and never reads its '-' acks is
    dropped once the acks it left unread pass the output limit (security
    review 2, N2: they grew without bound)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(('127.0.0.1', port))
    s.settimeout(60)
    chunk = b'$#01' * 16384
    sent = 0
    try:
        while sent < (64 << 20):
            s.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    # Drain what was acknowledged; shrike must have closed its end.
    try:
        while s.recv(1 << 20):
            pass
        closed = True
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        closed = False
    s.close()
    check(closed, 'a client that never read %d MiB of acks was kept' % (sent >> 20))


def fuzz(c, rng, count, scratch):
    """Random and malformed packets; each must get a reply (or, for a
    resume, a stop that Ctrl-C forces)."""
    verbs = ['g', 'G', 'p', 'P', 'm', 'M', 'X', 'Z', 'z', 'H', 'T', 'q', 'Q', 'v', '?', 's',
             'vCont;', 'vCont?', 'qXfer:features:read:', 'qRcmd,', 'qThreadExtraInfo,', 'D']
    for i in range(count):
        kind = rng.random()
        if kind < 0.1:
            # Raw noise outside packets (no 0x03: that interrupts).
            c.raw(bytes(rng.choice(b'abc+-#}*\x00\xff') for _ in range(rng.randint(1, 40))))
            continue
        verb = rng.choice(verbs)
        tail = rng.choice([
            '', '0', '-1', 'ffffffffffffffff,ffffffff', '%x,%x' % (rng.getrandbits(64), rng.getrandbits(32)),
            ''.join(rng.choice('0123456789abcdefxyz,:;=-') for _ in range(rng.randint(1, 60))),
            'c:1;s:2', 'g1', 'c-1', '0,%x,1' % rng.getrandbits(48), 'target.xml:0,ffffffff',
            '%x,4:%s' % (scratch, ''.join(rng.choice('0123456789abcdef') for _ in range(8))),
            '%x=%s' % (rng.randint(0, 80), 'ab' * rng.randint(0, 20))])
        if verb in ('M', 'X', 'G', 'P') and not tail.startswith('%x,' % scratch):
            # Writes go only where the guest does not mind.
            tail = '%x,4:%s' % (scratch, '00' * 4) if verb in ('M', 'X') else 'zz'
        if verb in ('s', 'vCont;') or (verb == 'v' and 'Cont' in tail):
            # A resume: keep it valid (no address argument), then interrupt.
            c.raw(frame('vCont;c' if verb == 'v' else (verb if verb == 's' else 'vCont;s:1')))
            time.sleep(0.001)
            c.raw(b'\x03')
            r = c.reply()
            if not r.startswith(b'T'):
                raise Failure('resume then Ctrl-C gave %r' % r[:40])
            continue
        payload = (verb + tail).encode()
        if rng.random() < 0.05:
            c.raw(b'$' + payload + b'#zz')      # a broken checksum: no reply
            continue
        c.raw(frame(payload))
        c.reply()


def main():
    name = 'gdb_protocol_and_fuzz'
    proc, port, err, out = start('proto', ['--cpus', '2', '--cmdline', 'case=spin,ms=600000'])
    try:
        c = Client(port)
        protocol_checks(c, 2)
        result('PASS', 'gdb_protocol_replies')
        length_edges(c)
        result('PASS', 'gdb_lengths_at_the_edges')
        fuzz(c, random.Random(int(os.environ.get('SEED', '11'))), PACKETS, symbol('watched'))
        c.s.close()            # dropped: breakpoints go, the guest runs on
        time.sleep(0.2)
        check(proc.poll() is None, 'shrike ended during the fuzzing')
        ack_flood(port)
        check(proc.poll() is None, 'shrike ended during the ack flood')
        result('PASS', 'gdb_ack_flood_dropped')
        # A second debugger lets the spinning guest finish.
        c = Client(port)
        check(c.cmd('M%x,4:01000000' % symbol('release')) == b'OK', 'M release')
        check(c.cmd('D') == b'OK', 'D')
        c.s.close()
        status = proc.wait(120)
        text = open(err).read()
        m = SANITIZER.search(text)
        if m:
            raise Failure('sanitizer report: ' + text[m.start():m.start() + 200])
        if status != 0 or 'PASS' not in open(out).read():
            raise Failure('after the fuzzing the guest ended with %d: %s' % (status, text[-300:]))
        result('PASS', name)
    except Failure as e:
        result('FAIL', name, '%s; shrike: %s' % (str(e)[:600], open(err).read()[-300:]))
    except (OSError, subprocess.TimeoutExpired) as e:
        result('FAIL', name, '%s: %s; shrike: %s' % (type(e).__name__, e, open(err).read()[-300:]))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == '__main__':
    main()
