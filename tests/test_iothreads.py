"""Threaded I/O (io-threads, io-threads-do-reads): configuration, INFO,
Redis's activation rule, and a stress run where hundreds of clients
pipeline, vanish mid-reply, send junk and get killed while the threads
carry the reads and writes - every surviving client checks every reply.

The threads are C workers (kvserver/native/iothreads.c); without the
native module `io-threads` > 1 refuses to start, and these tests skip.
"""

import os
import random
import socket
import threading
import time

import pytest
import redis

from conftest import RawConn, encode_command, start_kvserver
from kvserver.net import iothreads

pytestmark = pytest.mark.skipif(not iothreads.available(),
                                reason="kvserver's native module is not built")

THREADED = ("--io-threads", "4", "--io-threads-do-reads", "yes")


def info_fields(port) -> dict:
    c = redis.Redis(port=port)
    try:
        return c.info("everything")
    finally:
        c.close()


def test_config_is_shown_and_immutable():
    with start_kvserver(*THREADED) as (_, port):
        c = redis.Redis(port=port)
        try:
            assert c.config_get("io-threads") == {"io-threads": "4"}
            assert c.config_get("io-threads-do-reads") == {"io-threads-do-reads": "yes"}
            with pytest.raises(redis.ResponseError, match="can't set immutable config"):
                c.config_set("io-threads", 2)
        finally:
            c.close()


def test_lone_client_pays_no_thread_cost():
    """stopThreadedIOIfNeeded: one client never has 2*N pending writes."""
    with start_kvserver(*THREADED) as (_, port):
        c = RawConn(port)
        for i in range(200):
            assert c.call("SET", f"k{i}", "v") == b"+OK\r\n"
        c.close()
        info = info_fields(port)
        assert info["io_threads_active"] == 0
        assert info["io_threaded_reads_processed"] == 0
        assert info["io_threaded_writes_processed"] == 0


def _busy_clients(port, nclients, rounds):
    """nclients connections each sending `rounds` pipelines at once;
    returns the replies each got, in order."""
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(nclients)]
    try:
        got = []
        for r in range(rounds):
            for i, s in enumerate(socks):
                s.sendall(encode_command("INCR", f"c{i}") + encode_command("GET", f"c{i}"))
            for i, s in enumerate(socks):
                want = b":%d\r\n$%d\r\n%d\r\n" % (r + 1, len(str(r + 1)), r + 1)
                buf = b""
                while len(buf) < len(want):
                    chunk = s.recv(65536)
                    assert chunk, "connection closed"
                    buf += chunk
                got.append(buf == want)
        return got
    finally:
        for s in socks:
            s.close()


def test_many_clients_turn_the_threads_on():
    with start_kvserver(*THREADED) as (_, port):
        assert all(_busy_clients(port, 40, 30))
        info = info_fields(port)
        # io_threads_active follows the last write phase, which the
        # INFO call itself may have had alone: only the counters are sure
        assert info["io_threaded_reads_processed"] > 0
        assert info["io_threaded_writes_processed"] > 0


def test_writes_only_threads_leave_reads_on_the_main_thread():
    with start_kvserver("--io-threads", "3") as (_, port):
        assert all(_busy_clients(port, 40, 20))
        info = info_fields(port)
        assert info["io_threaded_reads_processed"] == 0
        assert info["io_threaded_writes_processed"] > 0


def test_big_replies_and_slow_readers_with_threads():
    """Replies bigger than a socket buffer leave a partial write behind;
    the rest goes through the reactor, interleaved with threaded batches."""
    big = os.urandom(3 * 1024 * 1024)
    with start_kvserver(*THREADED, env={**os.environ, "KVSERVER_IO_THREADS_ALWAYS": "1"}) \
            as (_, port):
        setter = RawConn(port)
        assert setter.call("SET", "big", big) == b"+OK\r\n"
        slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
        for s in slow:
            s.sendall(encode_command("GET", "big") * 3)
        # everyone else keeps working while the slow readers do not read
        assert all(_busy_clients(port, 20, 10))
        want = (b"$%d\r\n" % len(big) + big + b"\r\n") * 3
        for s in slow:
            buf = bytearray()
            while len(buf) < len(want):
                chunk = s.recv(1 << 20)
                assert chunk
                buf += chunk
            assert bytes(buf) == want
            s.close()
        assert setter.call("PING") == b"+PONG\r\n"
        setter.close()


def test_blocking_multi_and_client_reply_with_threads():
    env = {**os.environ, "KVSERVER_IO_THREADS_ALWAYS": "1"}
    with start_kvserver(*THREADED, env=env) as (_, port):
        blocked = RawConn(port)
        blocked.send(encode_command("BLPOP", "q", "5"))
        tx = RawConn(port)
        assert tx.call("MULTI") == b"+OK\r\n"
        assert tx.call("SET", "a", "1") == b"+QUEUED\r\n"
        assert tx.call("INCR", "a") == b"+QUEUED\r\n"
        assert tx.call("EXEC") == b"*2\r\n+OK\r\n:2\r\n"
        quiet = RawConn(port)
        quiet.send(encode_command("CLIENT", "REPLY", "OFF") + encode_command("SET", "b", "2")
                   + encode_command("CLIENT", "REPLY", "ON"))
        assert quiet.read_reply() == b"+OK\r\n"
        assert quiet.call("GET", "b") == b"$1\r\n2\r\n"
        pusher = RawConn(port)
        assert pusher.call("RPUSH", "q", "x") == b":1\r\n"
        assert blocked.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
        victim = RawConn(port)
        vid = int(victim.call("CLIENT", "ID")[1:-2])
        assert pusher.call("CLIENT", "KILL", "ID", str(vid)) == b":1\r\n"
        assert victim.closed_by_peer()
        for c in (blocked, tx, quiet, pusher):
            assert c.call("PING") == b"+PONG\r\n"
            c.close()


class Survivor(threading.Thread):
    """Pipelines INCRs on its own counter and checks every reply."""

    def __init__(self, port, idx, rounds):
        super().__init__(daemon=True)
        self.port, self.idx, self.rounds = port, idx, rounds
        self.error = None

    def run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            rng = random.Random(self.idx)
            n = 0
            buf = b""
            for _ in range(self.rounds):
                k = rng.randint(1, 40)
                s.sendall(encode_command("INCR", f"s{self.idx}") * k
                          + encode_command("ECHO", b"x" * rng.choice((1, 100, 70000))))
                want = b"".join(b":%d\r\n" % (n + j + 1) for j in range(k))
                n += k
                while len(buf) < len(want) + 5:
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        raise AssertionError("closed")
                    buf += chunk
                assert buf.startswith(want), (buf[:80], want[:80])
                buf = buf[len(want):]
                hdr_end = buf.index(b"\r\n")
                blen = int(buf[1:hdr_end])
                while len(buf) < hdr_end + 2 + blen + 2:
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        raise AssertionError("closed")
                    buf += chunk
                assert buf[hdr_end + 2:hdr_end + 2 + blen] == b"x" * blen
                buf = buf[hdr_end + 2 + blen + 2:]
            s.close()
        except BaseException as e:       # reported by the test
            self.error = e


def _vandal(port, rng, deadline):
    """Connections that misbehave: vanish mid-reply, send junk, half commands."""
    while time.time() < deadline:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            continue
        kind = rng.randrange(4)
        try:
            if kind == 0:     # ask for a big reply, then vanish
                s.sendall(encode_command("GET", "big") * 4)
                s.recv(1000)
            elif kind == 1:   # protocol junk
                s.sendall(b"*3\r\n$3\r\nSET\r\n$-7\r\n" + os.urandom(100))
            elif kind == 2:   # half a command
                s.sendall(encode_command("SET", "k", "v" * 5000)[:2000])
            else:             # reset while pipelining
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.sendall(encode_command("PING") * 500)
        except OSError:
            pass
        s.close()


@pytest.mark.parametrize("always", [False, True], ids=["activation-rule", "always"])
def test_stress_with_threads(always):
    env = dict(os.environ)
    if always:
        env["KVSERVER_IO_THREADS_ALWAYS"] = "1"
    with start_kvserver(*THREADED, env=env) as (proc, port):
        c = RawConn(port)
        assert c.call("SET", "big", b"z" * 2_000_000) == b"+OK\r\n"
        survivors = [Survivor(port, i, 25) for i in range(150)]
        for t in survivors:
            t.start()
        deadline = time.time() + 4
        vandals = [threading.Thread(target=_vandal, args=(port, random.Random(i), deadline),
                                    daemon=True) for i in range(4)]
        for t in vandals:
            t.start()
        # and a client killed by CLIENT KILL while the others work
        for _ in range(5):
            v = RawConn(port)
            vid = int(v.call("CLIENT", "ID")[1:-2])
            v.send(encode_command("GET", "big"))
            assert c.call("CLIENT", "KILL", "ID", str(vid)) == b":1\r\n"
            v.close()
        for t in vandals + survivors:
            t.join(60)
        errors = [t.error for t in survivors if t.error is not None]
        assert not errors, errors[:3]
        assert all(not t.is_alive() for t in survivors)
        assert proc.poll() is None
        for i in range(150):
            assert c.call("GET", f"s{i}") != b"$-1\r\n"
        assert c.call("PING") == b"+PONG\r\n"
        c.close()
