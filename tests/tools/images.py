#!/usr/bin/env python3
"""Synthetic guest images for the hardening tests (standard library only).

  images.py pvh OUT EXIT              vmlinux (ELF64 with a PVH note) whose
                                      entry writes EXIT to port 0xf4
  images.py bzimage OUT EXIT          that vmlinux in a bzImage (gzip payload)
  images.py collide OUT_A OUT_B       two bzImages of the same size and the
                                      same FNV-1a 64 hash whose kernels exit
                                      with different values; prints both
                                      expected exit statuses
  images.py bomb OUT CLAIM_MIB REAL_MIB
                                      a bzImage whose gzip payload inflates
                                      to REAL_MIB MiB of zeros and claims
                                      CLAIM_MIB MiB
"""
import struct
import sys
import zlib

ENTRY = 0x1000000          # physical load address of the code segment
VBASE = 0xffffffff81000000
FNV_OFFSET, FNV_PRIME, M64 = 0xcbf29ce484222325, 0x100000001b3, 1 << 64

# Short vectors of the lattice {d : sum d_i P^(16-i) = 0 mod 2^64} (the
# security review's LLL-reduced basis): differences that FNV-1a forgets.
FNV_VECTORS = [
    [2, -2, -5, 8, 7, 7, -3, -6, 0, -2, -9, -1, 4, -8, -1, 3],
    [2, -5, -3, -5, 5, 1, -3, -6, 0, 6, 2, 6, -11, -4, 10, 1],
    [-2, 5, -6, -8, -2, -5, 5, -1, -1, 14, -4, -6, 1, -3, -2, -3],
    [9, -6, -1, -4, -7, 0, -7, -2, 9, 11, -4, 9, 0, 7, 4, 0],
    [2, -2, -2, -3, 7, 12, -1, -4, -7, -3, 3, -14, -3, -3, -12, 0],
    [1, -6, 6, 0, 5, 4, -6, -3, -1, -6, 5, 4, 6, -9, -4, -4],
]


def fnv1a(data, h=FNV_OFFSET):
    for b in data:
        h = ((h ^ b) * FNV_PRIME) % M64
    return h


def exit_code(value):
    """32-bit code: mov al, value; out 0xf4, al; hlt; jmp $."""
    return bytes([0xb0, value & 0xff, 0xe6, 0xf4, 0xf4, 0xeb, 0xfe])


def exit_from_memory(addr):
    """32-bit code: mov al, [addr]; out 0xf4, al; hlt; jmp $."""
    return b'\xa0' + struct.pack('<I', addr) + bytes([0xe6, 0xf4, 0xf4, 0xeb, 0xfe])


def vmlinux(code, entry_offset=0):
    """An ELF64 kernel: one PT_LOAD at ENTRY holding `code`, a PVH note."""
    note = struct.pack('<III', 4, 4, 18) + b'Xen\0' + struct.pack('<I', ENTRY + entry_offset)
    off_code = 0x1000
    off_note = off_code + len(code)
    eh = b'\x7fELF' + bytes([2, 1, 1, 0]) + b'\0' * 8
    eh += struct.pack('<HHIQQQIHHHHHH', 2, 62, 1, VBASE + entry_offset, 64, 0, 0, 64, 56, 2,
                      64, 0, 0)
    load = struct.pack('<IIQQQQQQ', 1, 7, off_code, VBASE, ENTRY, len(code), len(code) + 0x1000,
                       0x1000)
    pnote = struct.pack('<IIQQQQQQ', 4, 4, off_note, 0, 0, len(note), len(note), 4)
    img = bytearray(eh + load + pnote)
    img += b'\0' * (off_code - len(img))
    return bytes(img + code + note)


def bzimage(payload, plain_size):
    """Boot protocol 2.15 setup sectors, then the payload and its size word."""
    setup_sects = 1
    setup = bytearray(512 * (setup_sects + 1))
    setup[0x1f1] = setup_sects
    struct.pack_into('<H', setup, 0x1fe, 0xaa55)
    setup[0x200], setup[0x201] = 0xeb, 0x66
    setup[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', setup, 0x206, 0x020f)
    setup[0x211] = 0x01
    struct.pack_into('<I', setup, 0x22c, 0x7fffffff)
    struct.pack_into('<H', setup, 0x236, 0x3)
    struct.pack_into('<I', setup, 0x238, 2048)
    struct.pack_into('<I', setup, 0x248, 0)
    struct.pack_into('<I', setup, 0x24c, len(payload) + 4)
    struct.pack_into('<I', setup, 0x260, 0x400000)
    return bytes(setup) + payload + struct.pack('<I', plain_size)


def gzip_of(data):
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def lz4_literals(data):
    """An LZ4 legacy frame: one block made of literals only."""
    n = len(data)
    body = bytearray([0xf0])
    rest = n - 15
    while rest >= 255:
        body.append(255)
        rest -= 255
    body.append(rest)
    head = len(body)
    body += data
    return struct.pack('<II', 0x184c2102, len(body)) + bytes(body), 8 + head


def collision_blocks(state):
    """Two 16-byte blocks after which FNV-1a 64 is in the same state."""
    for v in FNV_VECTORS:
        for sign in (1, -1):
            sa = sb = state
            a, b = bytearray(), bytearray()
            for d in v:
                la, lb = sa & 0xff, sb & 0xff
                t = sign * d + la - lb
                if abs(t) > 255:
                    break
                x, xp = (t, 0) if t >= 0 else (0, -t)
                a.append(la ^ x)
                b.append(lb ^ xp)
                sa = ((sa ^ a[-1]) * FNV_PRIME) % M64
                sb = ((sb ^ b[-1]) * FNV_PRIME) % M64
            if len(a) == 16 and sa == sb and a != b:
                return bytes(a), bytes(b)
    return None


def collide():
    """Kernel = [16 colliding bytes][code reading one of them]; the code
    after the block is the same in both images, so it may depend on which
    byte differs."""
    for filler in range(256):
        code_len = 16 + len(exit_from_memory(0))
        pre = vmlinux(bytes([filler]) * code_len, entry_offset=16)
        frame, lit = lz4_literals(pre)
        image = bytearray(bzimage(frame, len(pre)))
        block_at = len(image) - 4 - len(frame) + lit + 0x1000
        blocks = collision_blocks(fnv1a(image[:block_at]))
        if not blocks:
            continue
        a, b = blocks
        idx = [i for i in range(16) if (a[i] ^ b[i]) & 0x7f]
        if not idx:
            continue
        code = exit_from_memory(ENTRY + idx[0])
        suffix = block_at + 16
        image_a, image_b = bytearray(image), bytearray(image)
        image_a[block_at:block_at + 16] = a
        image_b[block_at:block_at + 16] = b
        image_a[suffix:suffix + len(code)] = code
        image_b[suffix:suffix + len(code)] = code
        assert len(image_a) == len(image_b)
        assert fnv1a(image_a) == fnv1a(image_b) and image_a != image_b
        return bytes(image_a), bytes(image_b), ((a[idx[0]] << 1) | 1) & 0xff, \
            ((b[idx[0]] << 1) | 1) & 0xff
    raise SystemExit('no realizable collision')


def main():
    cmd = sys.argv[1]
    if cmd == 'pvh':
        open(sys.argv[2], 'wb').write(vmlinux(exit_code(int(sys.argv[3]))))
    elif cmd == 'bzimage':
        v = vmlinux(exit_code(int(sys.argv[3])))
        open(sys.argv[2], 'wb').write(bzimage(gzip_of(v), len(v)))
    elif cmd == 'collide':
        a, b, sa, sb = collide()
        open(sys.argv[2], 'wb').write(a)
        open(sys.argv[3], 'wb').write(b)
        print(sa, sb)
    elif cmd == 'bomb':
        claim, real = int(sys.argv[3]) << 20, int(sys.argv[4]) << 20
        c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        zeros = bytes(1 << 20)
        payload = b''.join(c.compress(zeros) for _ in range(real >> 20)) + c.flush()
        open(sys.argv[2], 'wb').write(bzimage(payload, claim))
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main()
