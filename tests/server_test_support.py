"""Helpers for server_integration_test.py: a learnkv-server process on a free loopback port
(Server) and a raw connection that sends bytes and decodes RESP2/RESP3 replies (Raw).
configure() names the binary and the scratch directory before any Server starts."""
import os
import shutil
import signal
import socket
import subprocess
import time

import redis

SERVER = None  # the learnkv-server binary
TMPDIR = None  # each server's data directory and log go here


def configure(server, tmpdir):
    global SERVER, TMPDIR
    SERVER = server
    TMPDIR = tmpdir


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One learnkv-server process."""

    def __init__(self, name, *flags, keep_dir=False):
        self.dir = os.path.join(TMPDIR, name)
        if not keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.port = free_port()
        self.flags = list(flags)
        self.proc = None
        self.log = None

    def start(self, wait=True):
        os.makedirs(TMPDIR, exist_ok=True)
        self.log = open(self.dir + ".log", "ab")
        self.proc = subprocess.Popen(
            [SERVER, "--port=%d" % self.port, "--dir=" + self.dir] + self.flags,
            stdout=self.log, stderr=subprocess.STDOUT)
        if not wait:
            return self
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %d" % self.proc.returncode)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=timeout)
        self.proc = None
        self.log.close()
        return rc

    def client(self, **kw):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=30, **kw)

    def cli(self, *args, stdin=None):
        r = subprocess.run(["redis-cli", "-p", str(self.port)] + list(args), input=stdin,
                           capture_output=True, timeout=60)
        return r.stdout.decode("latin-1")


class Raw:
    """A raw connection: sends bytes, reads and decodes RESP2/RESP3 replies."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return Exception(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._bytes(n)
        if t == b"=":
            return self._bytes(int(rest))
        if t == b"_":
            return None
        if t == b"#":
            return rest == b"t"
        if t == b",":
            return float(rest)
        if t in (b"*", b"~"):
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        if t == b"%":
            n = int(rest)
            return {"map": [(self.reply(), self.reply()) for _ in range(n)]}
        raise ValueError("bad reply type %r" % line)

    def command(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.send(out)
        return self.reply()

    def closed(self, timeout=5):
        """True if the server closes the connection (after any pending replies)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()
