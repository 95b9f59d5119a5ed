#!/usr/bin/env python3
"""The host side of bench/vsock.sh: waits for the guest's READY line in its
console file, streams MB MiB into guest port 5000 and times it until the
guest's sink closes; then lets the guest start (closes the connection the
guest made to port P) and times the guest's MB MiB arriving on P+1.  Prints
'VSOCKBENCH h2g X MB/s' and 'VSOCKBENCH g2h Y MB/s'.

  vsockpeer.py uds:PATH|cid:N PORT MB CONSOLE_FILE TIMEOUT"""
import os
import socket
import sys
import time

target, port, mb, console, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    sys.argv[4], float(sys.argv[5])
hybrid = target.startswith('uds:')
CHUNK = bytes(1 << 16)


def listen(p):
    if hybrid:
        path = '%s_%d' % (target[4:], p)
        if os.path.exists(path):
            os.unlink(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
    else:
        s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
        s.bind((socket.VMADDR_CID_ANY, p))
    s.listen(4)
    s.settimeout(limit)
    return s


def connect(guest_port):
    if hybrid:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(limit)
        c.connect(target[4:])
        c.sendall(b'CONNECT %d\n' % guest_port)
        line = b''
        while not line.endswith(b'\n'):
            b = c.recv(1)
            if not b:
                sys.exit('refused')
            line += b
        return c
    c = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    c.settimeout(limit)
    c.connect((int(target[4:]), guest_port))
    return c


go, sink = listen(port), listen(port + 1)
deadline = time.time() + limit
while b'SHRIKE-VSOCK-READY' not in open(console, 'rb').read():
    if time.time() > deadline:
        sys.exit('no READY')
    time.sleep(0.1)
c = connect(5000)
t0 = time.time()
for _ in range(mb * 16):
    c.sendall(CHUNK)
c.shutdown(socket.SHUT_WR)
while c.recv(1 << 16):
    pass
print('VSOCKBENCH h2g %.1f MB/s' % (mb * 1.048576 / (time.time() - t0)), flush=True)
c.close()
g, _ = go.accept()
g.close()
d, _ = sink.accept()
d.settimeout(limit)
t0, got = time.time(), 0
while True:
    b = d.recv(1 << 16)
    if not b:
        break
    got += len(b)
print('VSOCKBENCH g2h %.1f MB/s' % (got / 1e6 / (time.time() - t0)), flush=True)
