"""Shared fixtures: a kvserver and a real redis-server, each started once.

- `kv_port` / `real_port`: session-wide servers on free loopback ports.
- `r` / `real`: redis-py clients (decode_responses off) on a flushed server.
- `raw` / `raw_real`: RawConn objects speaking raw RESP bytes.
- `diff`: sends the same commands to both servers and asserts the raw reply
  bytes are identical (error texts included).
- `no_active_expire`: `diff` with DEBUG SET-ACTIVE-EXPIRE 0 for the test.
- `start_kvserver(*args)`: context manager for a kvserver with its own
  command line, for tests that need special configuration.

`KV_SERVER_ARGS` in the environment adds arguments to every kvserver's
command line (a test's own arguments follow and win): scripts/test reruns the protocol, robustness and
command-family tests with `--io-threads 4` and `--io-backend uring` so.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest
import redis
from hypothesis import settings

# CI replays the same examples every run, so a landing never depends on
# the draw; run locally with --hypothesis-seed=N to explore further.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc, timeout: float = 10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def start_kvserver(*args, port=None, wait=True, **popen):
    """Run `python -m kvserver --port P *args`; yields (proc, port)."""
    port = port or free_port()
    extra = os.environ.get("KV_SERVER_ARGS", "").split()
    cmd = [sys.executable, "-m", "kvserver", "--port", str(port), *extra, *args]
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    proc = subprocess.Popen(cmd, cwd=ROOT, **popen)
    try:
        if wait:
            wait_port(port, proc)
        yield proc, port
    finally:
        stop(proc)


@contextlib.contextmanager
def start_redis(*args, port=None):
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    port = port or free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--save", "", "--appendonly", "no",
                             "--daemonize", "no", "--enable-debug-command", "yes", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        yield proc, port
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def kv_port():
    with start_kvserver("--enable-debug-command", "yes") as (_, port):
        yield port


@pytest.fixture(scope="session")
def real_port():
    with start_redis() as (_, port):
        yield port


@pytest.fixture
def r(kv_port):
    c = redis.Redis(port=kv_port, protocol=2)
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def real(real_port):
    c = redis.Redis(port=real_port, protocol=2)
    c.flushall()
    yield c
    c.close()


def encode_command(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)):
            a = repr(a).encode() if isinstance(a, float) else b"%d" % a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def read_until_closed(s, limit: float = 10.0) -> bytes:
    """Everything a socket gets until the peer closes (or resets) it."""
    s.settimeout(limit)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
    except ConnectionResetError:
        return out


class RawConn:
    """A socket speaking raw RESP; read_reply() returns one reply's exact bytes."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data: bytes):
        self.sock.sendall(data)

    def call(self, *args) -> bytes:
        self.send(encode_command(*args))
        return self.read_reply()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed")
        self.buf += chunk

    def _line(self, pos: int) -> int:
        while True:
            i = self.buf.find(b"\r\n", pos)
            if i >= 0:
                return i
            self._fill()

    def _skip(self, pos: int) -> int:
        """Return the end position of the reply starting at pos."""
        while len(self.buf) <= pos:
            self._fill()
        t = self.buf[pos:pos + 1]
        nl = self._line(pos)
        if t in b"+-:_,#(":
            return nl + 2
        n = int(self.buf[pos + 1:nl])
        if t in b"$=!":
            if n < 0:
                return nl + 2
            end = nl + 2 + n + 2
            while len(self.buf) < end:
                self._fill()
            return end
        if t in b"*~>%|":
            if n < 0:
                return nl + 2
            p = nl + 2
            count = n * 2 if t in b"%|" else n
            for _ in range(count):
                p = self._skip(p)
            if t == b"|":   # an attribute precedes the actual reply
                p = self._skip(p)
            return p
        raise ValueError(f"bad reply type {t!r} in {self.buf[pos:pos+50]!r}")

    def read_reply(self) -> bytes:
        end = self._skip(0)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def closed_by_peer(self, timeout: float = 2.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


@pytest.fixture
def raw(r, kv_port):
    c = RawConn(kv_port)
    yield c
    c.close()


@pytest.fixture
def raw_real(real, real_port):
    c = RawConn(real_port)
    yield c
    c.close()


class Differ:
    """Send identical commands to kvserver and redis-server; compare bytes."""

    def __init__(self, kv: RawConn, real: RawConn):
        self.kv = kv
        self.real = real

    def call(self, *args) -> bytes:
        a = self.kv.call(*args)
        b = self.real.call(*args)
        assert a == b, f"{args!r}: kvserver {a!r} != redis {b!r}"
        return a

    def check(self, *args) -> bytes:
        return self.call(*args)

    def run(self, commands):
        return [self.call(*cmd) for cmd in commands]

    def pipeline(self, commands) -> list:
        """Send all `commands` in one write to each server (so they are
        parsed and executed as one batch) and compare every reply."""
        data = b"".join(encode_command(*cmd) for cmd in commands)
        self.kv.send(data)
        self.real.send(data)
        got = [self.kv.read_reply() for _ in commands]
        want = [self.real.read_reply() for _ in commands]
        for cmd, a, b in zip(commands, got, want):
            assert a == b, f"{cmd!r} in pipeline: kvserver {a!r} != redis {b!r}"
        return got

    def raw(self, data: bytes) -> bytes:
        """Send raw bytes to both and compare one reply."""
        self.kv.send(data)
        self.real.send(data)
        a, b = self.kv.read_reply(), self.real.read_reply()
        assert a == b, f"{data!r}: kvserver {a!r} != redis {b!r}"
        return a


@pytest.fixture
def diff(raw, raw_real):
    return Differ(raw, raw_real)


@pytest.fixture
def no_active_expire(diff):
    """`diff` with active expiry off on both servers, so that a key past its
    TTL stays until something looks it up."""
    diff.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    yield diff
    diff.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
