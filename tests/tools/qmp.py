"""A small QMP client for the tests (standard library only).  Works with
shrike's control socket and with qemu-system-x86_64's."""
import json
import socket
import time


class QMPError(Exception):
    pass


class QMP:
    def __init__(self, path, timeout=30.0):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.buf = b''
        self.events = []
        self.greeting = self.read()

    def read(self):
        """The next message (event or reply), parsed."""
        while b'\n' not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise QMPError('connection closed')
            self.buf += data
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def reply(self):
        """The next reply; events on the way are kept."""
        while True:
            m = self.read()
            if 'event' in m:
                self.events.append(m)
                continue
            return m

    def send_raw(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def cmd(self, name, args=None, ident=None):
        m = {'execute': name}
        if args is not None:
            m['arguments'] = args
        if ident is not None:
            m['id'] = ident
        self.send_raw(json.dumps(m) + '\n')
        return self.reply()

    def ok(self, name, args=None):
        r = self.cmd(name, args)
        if 'return' not in r:
            raise QMPError('%s: %r' % (name, r))
        return r['return']

    def wait_event(self, name, timeout=30.0):
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e['event'] == name:
                    return self.events.pop(i)
            if time.time() > deadline:
                raise QMPError('no %s event' % name)
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                m = self.read()
            except socket.timeout:
                continue
            if 'event' in m:
                self.events.append(m)

    def migrate(self, path, timeout=60.0):
        """migrate to file:path and wait until it is done; the status."""
        self.ok('migrate', {'uri': 'file:' + path})
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.ok('query-migrate')
            if r.get('status') in ('completed', 'failed'):
                return r
            time.sleep(0.01)
        raise QMPError('migration did not end')

    def close(self):
        self.sock.close()
