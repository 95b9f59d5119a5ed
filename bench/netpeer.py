#!/usr/bin/env python3
"""The host side of bench/net.sh, at 10.0.2.2 in the bench's namespace:
times the guest's MB MiB arriving on port P (accept to end of file), then
sends MB MiB to whoever connects to P+1 and times it until the guest's line
on P+2 says it has them all.  Prints 'NETBENCH g2h X MB/s' and
'NETBENCH h2g Y MB/s'.

  netpeer.py PORT MB TIMEOUT"""
import socket
import sys
import time

port, mb, limit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
CHUNK = bytes(1 << 16)


def listen(p):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('10.0.2.2', p))
    s.listen(4)
    s.settimeout(limit)
    return s


sink, source, done = listen(port), listen(port + 1), listen(port + 2)
print('ready', flush=True)
c, _ = sink.accept()
c.settimeout(limit)
t0, got = time.time(), 0
while True:
    b = c.recv(1 << 16)
    if not b:
        break
    got += len(b)
print('NETBENCH g2h %.1f MB/s' % (got / 1e6 / (time.time() - t0)), flush=True)
c.close()
c, _ = source.accept()
t0 = time.time()
for _ in range(mb * 16):
    c.sendall(CHUNK)
c.close()
d, _ = done.accept()
d.close()
print('NETBENCH h2g %.1f MB/s' % (mb * 1.048576 / (time.time() - t0)), flush=True)
