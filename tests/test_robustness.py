"""Hostile and careless clients must not hurt the server or anyone else.

Each test abuses a connection (junk, absurd lengths, half-sent commands,
vanishing readers, connection storms, slow readers) against a kvserver of
this module's own, then checks that the process is still running and that
another connection still gets PING and GET answered.  The rest covers
listeners and limits: maxclients, idle timeout, IPv6, unix sockets, and a
large value round trip.
"""

import contextlib
import os
import random
import socket
import struct
import tempfile
import threading
import time

import pytest
import redis

from conftest import RawConn, encode_command, read_until_closed, start_kvserver, start_redis


class Server:
    def __init__(self, proc, port):
        self.proc = proc
        self.port = port

    def rss(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def assert_healthy(self):
        assert self.proc.poll() is None, "kvserver died"
        c = RawConn(self.port)
        try:
            assert c.call("PING") == b"+PONG\r\n"
            assert c.call("GET", "witness") == b"$5\r\nalive\r\n"
        finally:
            c.close()


class Restarter:
    """This module's kvserver; a test that kills it fails, later ones get a new one."""

    def __init__(self, stack):
        self.stack = stack
        self.server = None

    def get(self) -> Server:
        if self.server is None or self.server.proc.poll() is not None:
            proc, port = self.stack.enter_context(start_kvserver())
            self.server = Server(proc, port)
            c = RawConn(port)
            assert c.call("SET", "witness", "alive") == b"+OK\r\n"
            c.close()
        return self.server


@pytest.fixture(scope="module")
def restarter():
    with contextlib.ExitStack() as stack:
        yield Restarter(stack)


@pytest.fixture
def srv(restarter):
    return restarter.get()


@pytest.fixture
def watcher(srv):
    """A connection opened before the abuse that must still work after it."""
    c = RawConn(srv.port)
    assert c.call("PING") == b"+PONG\r\n"
    yield c
    assert c.call("GET", "witness") == b"$5\r\nalive\r\n"
    c.close()
    srv.assert_healthy()


def send_and_drop(port, data: bytes, rst: bool = False, read: bool = False):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        try:
            s.sendall(data)
            if read:
                s.recv(4096)
        except OSError:
            pass
        if rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close()


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------

def test_binary_junk(srv, watcher):
    rng = random.Random(1234)
    for size in (1, 7, 100, 4096, 65536, 300_000, 1_000_000):
        for _ in range(3):
            send_and_drop(srv.port, rng.randbytes(size), rst=rng.random() < 0.5)
        assert watcher.call("PING") == b"+PONG\r\n"


def test_junk_after_valid_commands_in_one_write(srv, watcher):
    rng = random.Random(99)
    for _ in range(20):
        data = encode_command("SET", "junk-prefix", "1") + rng.randbytes(rng.randrange(1, 5000))
        send_and_drop(srv.port, data, read=True)
    assert watcher.call("PING") == b"+PONG\r\n"


@pytest.mark.parametrize("data", [
    # frames a fast multibulk parser might mistake for valid commands
    b"*3\r\n:1\r\n$0\r\n\r\n$3\r\n\r\n$\r\n",
    b"*4\r\n$1\r\nx\r\n$5\r\n$%d\r\n\r\n$1\r\n,\r\n-ERR\r\n",
    b"*1\r\n$1\r\n$\r\n$12\r\nabcdefghijkl\r\n*1\r\n$1\r\n$\r\n",
    b"*3\r\n_\r\n$4\r\nabcd\r\n$6\r\n\r\n*1\r\n\r\n",
    b"*2\r\n,1.5\r\n$1\r\n*\r\n*1\r\n$4\r\nPING\r\n",
    b"*0\r\n$1\r\n*\r\n",
    b"*1\r\n*1\r\n$4\r\nPING\r\n",
    b"*2\r\n$4\r\nECHO\r\n$-1\r\n",
    b"*1\r\n%1\r\n$1\r\na\r\n$1\r\nb\r\n",
    b"*1\r\n~1\r\n$1\r\na\r\n",
    b">1\r\n$4\r\nPING\r\n",
    b"*1\r\n$4\r\nPING\r\n-ERR x\r\n",
    b"*1\r\n$0\r\n\r\n-\r\n",
], ids=lambda d: repr(d[:24]))
def test_crafted_frames(srv, watcher, data):
    for rst in (False, True):
        send_and_drop(srv.port, data, rst=rst, read=not rst)
    c = RawConn(srv.port)
    c.send(data)
    c.closed_by_peer(timeout=1.0)   # whatever it answers, it must not die
    c.close()
    assert watcher.call("PING") == b"+PONG\r\n"


@pytest.mark.parametrize("data", [
    b"*999999999\r\n",
    b"*2147483647\r\n",
    b"*2147483647\r\n$4\r\nPING\r\n",
    b"*1\r\n$2147483648\r\n",
    b"*1\r\n$9223372036854775807\r\n",
    b"*1\r\n$536870912\r\n" + b"x" * 1000,
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\nabc",
    b"*1\r\n" + b"$" + b"9" * 100_000,
    b"*" + b"9" * 100_000,
    b"x" * 200_000,
], ids=lambda d: repr(d[:28]))
def test_absurd_lengths(srv, watcher, data):
    before = srv.rss()
    for rst in (False, True):
        send_and_drop(srv.port, data, rst=rst)
    # a declared length is not an allocation: nothing near 512 MB may appear
    assert srv.rss() - before < 200 * 1024 * 1024
    assert watcher.call("PING") == b"+PONG\r\n"


def test_half_sent_commands_then_disconnect(srv, watcher):
    full = encode_command("SET", "half", "x" * 100)
    for cut in list(range(1, 40)) + [len(full) - 2, len(full) - 1]:
        send_and_drop(srv.port, full[:cut], rst=cut % 2 == 0)
    assert watcher.call("EXISTS", "half") == b":0\r\n"
    # a complete command before the cut still runs
    send_and_drop(srv.port, encode_command("SET", "half", "done") + full[:30], read=True)
    assert watcher.call("GET", "half") == b"$4\r\ndone\r\n"


def test_big_half_sent_bulk_then_disconnect(srv, watcher):
    head = b"*3\r\n$3\r\nSET\r\n$5\r\nhalf2\r\n$10000000\r\n"
    send_and_drop(srv.port, head + b"y" * 6_000_000)
    send_and_drop(srv.port, head + b"y" * 10_000_000 + b"\r", rst=True)
    assert watcher.call("EXISTS", "half2") == b":0\r\n"


# ---------------------------------------------------------------------------
# clients that go away or read slowly
# ---------------------------------------------------------------------------

BIG = 8 * 1024 * 1024


@pytest.fixture
def big_value(srv):
    value = bytes(range(256)) * (BIG // 256)
    c = RawConn(srv.port)
    assert c.call("SET", "big", value) == b"+OK\r\n"
    c.close()
    return value


def test_client_vanishes_with_multi_megabyte_reply_pending(srv, watcher, big_value):
    for i in range(6):
        data = encode_command("GET", "big") * 10      # ~80 MB of replies
        send_and_drop(srv.port, data, rst=i % 2 == 0, read=i % 3 == 0)
        assert watcher.call("PING") == b"+PONG\r\n"
    # once those replies are dropped the memory they held goes too
    deadline = time.monotonic() + 20
    while srv.rss() > 600 * 1024 * 1024 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert srv.rss() < 600 * 1024 * 1024


def test_slow_reader_does_not_block_others(srv, watcher, big_value):
    slow = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    slow.sendall(encode_command("GET", "big") * 2)
    expected = (b"$%d\r\n" % BIG + big_value + b"\r\n") * 2
    got = bytearray()

    def read_slowly():
        while len(got) < len(expected):
            chunk = slow.recv(64 * 1024)
            if not chunk:
                break
            got.extend(chunk)
            time.sleep(0.002)

    t = threading.Thread(target=read_slowly)
    t.start()
    try:
        i = 0
        while t.is_alive() or i < 50:
            msg = b"m%d" % i
            assert watcher.call("ECHO", msg) == b"$%d\r\n%s\r\n" % (len(msg), msg)
            i += 1
    finally:
        t.join(60)
        slow.close()
    assert len(got) == len(expected) and bytes(got) == expected


def test_thousands_of_connections_opened_and_dropped(srv, watcher):
    rng = random.Random(7)
    for _ in range(8):
        socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=10)
                 for _ in range(250)]
        for s in socks:
            what = rng.random()
            if what < 0.3:
                s.sendall(b"PING\r\n")
            elif what < 0.5:
                s.sendall(b"*2\r\n$3\r\nGET\r\n$3\r\nk")
            if rng.random() < 0.5:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        assert watcher.call("PING") == b"+PONG\r\n"
    # the server lets go of every one of them
    deadline = time.monotonic() + 20
    while True:
        info = watcher.call("INFO", "clients")
        n = int(info.split(b"connected_clients:")[1].split(b"\r\n")[0])
        if n <= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert n <= 3


def test_many_concurrent_connections(srv, watcher):
    socks = [RawConn(srv.port) for _ in range(500)]
    try:
        for s in socks:
            s.send(b"PING\r\n")
        for s in socks:
            assert s.read_reply() == b"+PONG\r\n"
    finally:
        for s in socks:
            s.close()


# ---------------------------------------------------------------------------
# large values
# ---------------------------------------------------------------------------

def test_large_value_round_trip(srv):
    size = 64 * 1024 * 1024
    value = os.urandom(1024 * 1024) * 64
    c = redis.Redis(port=srv.port, socket_timeout=120)
    try:
        assert c.set("huge", value)
        assert c.strlen("huge") == size
        assert c.get("huge") == value
        assert c.delete("huge") == 1
    finally:
        c.close()
    srv.assert_healthy()


def test_large_value_in_small_writes(srv):
    value = os.urandom(1024 * 1024) * 16
    data = encode_command("SET", "chunked", value)
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=60)
    try:
        for i in range(0, len(data), 1500):
            s.sendall(data[i:i + 1500])
        assert s.recv(16) == b"+OK\r\n"
    finally:
        s.close()
    c = RawConn(srv.port)
    assert c.call("GET", "chunked") == b"$%d\r\n" % len(value) + value + b"\r\n"
    c.call("DEL", "chunked")
    c.close()


# ---------------------------------------------------------------------------
# limits and listeners
# ---------------------------------------------------------------------------

def maxclients_exchange(port) -> bytes:
    a, b = RawConn(port), RawConn(port)
    try:
        assert a.call("PING") == b"+PONG\r\n"
        assert b.call("PING") == b"+PONG\r\n"
        third = socket.create_connection(("127.0.0.1", port), timeout=10)
        reply = read_until_closed(third)
        third.close()
        assert a.call("PING") == b"+PONG\r\n"
    finally:
        a.close()
        b.close()
    # once a slot is free, a new client gets in
    deadline = time.monotonic() + 10
    while True:
        c = RawConn(port)
        try:
            if c.call("PING") == b"+PONG\r\n":
                break
        except (ConnectionError, ValueError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        finally:
            c.close()
    return reply


def test_maxclients():
    with start_kvserver("--maxclients", "2") as (_, kp), \
            start_redis("--maxclients", "2") as (_, rp):
        kv = maxclients_exchange(kp)
        assert kv == b"-ERR max number of clients reached\r\n"
        assert kv == maxclients_exchange(rp)


def test_idle_timeout_closes_idle_clients_only():
    with start_kvserver("--timeout", "1") as (_, port):
        idle = socket.create_connection(("127.0.0.1", port), timeout=15)
        busy = RawConn(port)
        closed = threading.Event()

        def wait_close():
            read_until_closed(idle, limit=15)
            closed.set()

        t = threading.Thread(target=wait_close)
        t.start()
        # the busy client talks more often than the timeout: it stays
        while not closed.is_set():
            assert busy.call("PING") == b"+PONG\r\n"
            closed.wait(0.2)
        t.join()
        assert closed.is_set()
        for _ in range(8):
            assert busy.call("PING") == b"+PONG\r\n"
            time.sleep(0.2)
        busy.close()
        idle.close()


def ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback on this machine")
def test_ipv6_loopback(srv):
    c = RawConn(srv.port, host="::1")
    try:
        assert c.call("PING") == b"+PONG\r\n"
        assert c.call("GET", "witness") == b"$5\r\nalive\r\n"
        assert c.call("SET", "v6", "yes") == b"+OK\r\n"
    finally:
        c.close()
    v4 = RawConn(srv.port)
    assert v4.call("GET", "v6") == b"$3\r\nyes\r\n"
    v4.close()


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback on this machine")
def test_bind_ipv6_only():
    with start_kvserver("--bind", "::1", wait=False) as (proc, port):
        deadline = time.monotonic() + 10
        while True:
            try:
                c = RawConn(port, host="::1")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        assert c.call("PING") == b"+PONG\r\n"
        c.close()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_unix_socket():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "kv.sock")
        with start_kvserver("--unixsocket", path, "--unixsocketperm", "700") as (_, port):
            assert os.stat(path).st_mode & 0o777 == 0o700
            c = redis.Redis(unix_socket_path=path)
            try:
                assert c.ping()
                assert c.set("u", "via-unix")
                assert c.echo(b"x" * 100_000) == b"x" * 100_000
            finally:
                c.close()
            tcp = redis.Redis(port=port)
            assert tcp.get("u") == b"via-unix"
            tcp.close()
        assert not os.path.exists(path), "the socket file is removed at shutdown"


def test_unix_socket_only():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "only.sock")
        with start_kvserver("--unixsocket", path, "--port", "0", wait=False) as (proc, _):
            deadline = time.monotonic() + 10
            while not os.path.exists(path):
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            c = redis.Redis(unix_socket_path=path)
            assert c.ping()
            c.close()
