#!/usr/bin/env python3
"""The host end of the virtio-net test (linux_userspace.py), run inside the
test's own network namespace: an HTTP server on ADDR:PORT that serves BLOB
at /blob, and on PORT+1 a plain TCP server that reads as many bytes as BLOB
has (busybox's wget cannot post binary data; the guest sends it with
vsockt's tcp mode, guest/linux/vsockt.c) and
answers with their SHA-256 and the count still missing.  Prints "ready"
once both listen; serves until killed.

  netpeer.py ADDR PORT BLOB"""
import hashlib
import http.server
import os
import socket
import sys
import threading

ADDR, PORT, BLOB = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != '/blob':
            self.send_error(404)
            return
        with open(BLOB, 'rb') as f:
            data = f.read()
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def receive_blobs(listener):
    while True:
        conn, _ = listener.accept()
        with conn:
            h, left = hashlib.sha256(), os.path.getsize(BLOB)
            while left > 0:
                chunk = conn.recv(min(left, 1 << 20))
                if not chunk:
                    break
                h.update(chunk)
                left -= len(chunk)
            conn.sendall(('%s %d\n' % (h.hexdigest(), left)).encode())


raw = socket.socket()
raw.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
raw.bind((ADDR, PORT + 1))
raw.listen(4)
threading.Thread(target=receive_blobs, args=(raw,), daemon=True).start()
class Server(http.server.HTTPServer):
    def handle_error(self, request, client_address):
        pass      # a guest that reboots mid-transfer resets its connection


server = Server((ADDR, PORT), Handler)
print('ready', flush=True)
server.serve_forever()
