"""String commands against the real redis-server 7.0, byte for byte.

Most tests go through `diff` (kvserver and redis-server over TCP).  Where a
check needs a command another module provides (TTL, HELLO, OBJECT, LPUSH...)
and kvserver lacks it, the TCP test is skipped, and an in-process test still
covers the behaviour: `Hybrid` runs the same commands on an in-process
kvserver (a Server and a socketless Client, so a test can reach into the
keyspace or put a non-string value there) and on the real server.
"""

import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver import clock, dispatch
from kvserver.commands.strings import string_encoding
from kvserver.net.client import Client
from kvserver.server import Server

FAR_S = 4102444800              # 2100-01-01: an EXAT that stays in the future
FAR_MS = FAR_S * 1000
LLONG_MAX = 2**63 - 1
LLONG_MIN = -2**63


def _bytes(a) -> bytes:
    if isinstance(a, bytes):
        return a
    if isinstance(a, str):
        return a.encode()
    return b"%d" % a


def needs(raw, *names):
    """Skip unless kvserver has every command in `names`."""
    for name in names:
        reply = raw.call(name)
        if reply.startswith(b"-ERR unknown command"):
            pytest.skip(f"kvserver has no {name.upper()} yet")


class InProc:
    """A kvserver in this process: one client, replies as raw bytes."""

    def __init__(self):
        self.server = Server()
        self.c = Client(self.server, None, "127.0.0.1:1", "127.0.0.1:6379")

    @property
    def db(self):
        return self.c.db

    def call(self, *args) -> bytes:
        dispatch.execute(self.c, [_bytes(a) for a in args])
        out = b"".join(self.c.reply)
        self.c.reply.clear()
        return out


class FakeList:
    """A non-string value, as the lists module would store one."""
    TYPE = "list"


class Hybrid:
    """The same commands on an in-process kvserver and the real server."""

    def __init__(self, inproc: InProc, real):
        self.kv = inproc
        self.real = real

    def call(self, *args) -> bytes:
        a = self.kv.call(*args)
        b = self.real.call(*args)
        assert a == b, f"{args!r}: kvserver {a!r} != redis {b!r}"
        return a

    def run(self, commands):
        for cmd in commands:
            self.call(*cmd)

    def make_list(self, key):
        self.kv.db.data[_bytes(key)] = FakeList()
        assert self.real.call("rpush", key, "x") == b":1\r\n"

    def resp3(self):
        self.kv.c.resp = 3
        assert self.real.call("hello", "3").startswith(b"%")


@pytest.fixture
def inproc():
    return InProc()


@pytest.fixture
def hybrid(inproc, raw_real):
    return Hybrid(inproc, raw_real)


@pytest.fixture
def frozen():
    now = clock.now_ms()
    clock.freeze(now)
    yield now
    clock.freeze(None)


# ---------------------------------------------------------------------------
# GET / SET
# ---------------------------------------------------------------------------

def test_get_set_basic(diff):
    diff.run([
        ("get", "k"), ("set", "k", "v"), ("get", "k"), ("set", "k", ""), ("get", "k"),
        ("set", "k", "x" * 5000), ("get", "k"), ("set", "k", "\x00\r\n\xff"), ("get", "k"),
        ("set", "k", "123"), ("get", "k"), ("set", "k", "-9223372036854775808"), ("get", "k"),
        ("set",), ("set", "k"), ("get",), ("get", "a", "b"), ("SET", "K", "V"), ("GeT", "K"),
    ])


SET_OPTIONS = [("NX",), ("XX",), ("GET",), ("KEEPTTL",), ("EX", "100"), ("PX", "100000"),
               ("EXAT", str(FAR_S)), ("PXAT", str(FAR_MS)), ("PERSIST",), ("nx",), ("ex", "5")]


@pytest.mark.parametrize("exists", [False, True])
def test_set_option_pairs(diff, exists):
    """Every ordered pair of options: conflicts are syntax errors, others work."""
    for a, b in itertools.product(SET_OPTIONS, repeat=2):
        diff.call("flushall")
        if exists:
            diff.call("set", "k", "old")
        diff.call("set", "k", "new", *a, *b)
        diff.call("get", "k")


def test_set_option_syntax(diff):
    diff.run([
        ("set", "k", "v", "ex"), ("set", "k", "v", "px"), ("set", "k", "v", "exat"),
        ("set", "k", "v", "pxat"), ("set", "k", "v", "foo"), ("set", "k", "v", "nx", "foo"),
        ("set", "k", "v", "ex", "10", "px"), ("set", "k", "v", "nxx"), ("set", "k", "v", "n"),
        ("set", "k", "v", ""), ("set", "k", "v", "get", "get", "nx", "nx"),
        ("set", "k", "v", "ex", "10", "ex", "20"), ("set", "k", "v", "keepttl", "keepttl"),
        ("set", "k", "v", "nx\x00junk"), ("set", "k", "v", "xx\x00"), ("set", "k", "v", "ex\x00", "5"),
        ("set", "k", "v", "KeepTTL\x00x"), ("set", "k", "v", "\x00nx"),
        ("get", "k"),
    ])


@pytest.mark.parametrize("cmd", ["set", "setex", "psetex", "getex"])
def test_expire_argument_errors(diff, cmd):
    diff.call("set", "k", "v")
    values = ["0", "-1", "abc", "1.5", " 1", "", "9223372036854775807", "9223372036854775808",
              "-9223372036854775808", "9223372036854775", "9223372036854776",
              "9223372036854775806", str(LLONG_MAX - 1000)]
    for v in values:
        if cmd == "set":
            for opt in ("ex", "px", "exat", "pxat"):
                diff.call("set", "k", "v", opt, v)
        elif cmd == "getex":
            for opt in ("ex", "px", "exat", "pxat"):
                diff.call("set", "k", "v")
                diff.call("getex", "k", opt, v)
                diff.call("getex", "missing", opt, v)   # no key: no validation
        else:
            diff.call(cmd, "k", v, "v")
        diff.call("get", "k")


def test_set_nx_xx_get(diff):
    diff.run([
        ("set", "k", "v1", "nx"), ("set", "k", "v2", "nx"), ("get", "k"),
        ("set", "k", "v3", "xx"), ("get", "k"), ("set", "k2", "v", "xx"), ("get", "k2"),
        ("set", "k", "v4", "get"), ("set", "k3", "v", "get"), ("get", "k3"),
        ("set", "k", "v5", "nx", "get"), ("get", "k"), ("set", "k4", "v", "nx", "get"),
        ("get", "k4"), ("set", "k5", "v", "xx", "get"), ("get", "k5"),
        ("set", "k", "v6", "xx", "get"), ("get", "k"),
        ("set", "k", "v7", "get", "ex", "0"),    # expire validated before GET
        ("get", "k"),
        ("incr", "n"), ("set", "n", "x", "get"),
    ])


def test_setnx_setex_psetex(diff):
    diff.run([
        ("setnx", "k", "a"), ("setnx", "k", "b"), ("get", "k"), ("setnx", "k"),
        ("setex", "s", "100", "v"), ("get", "s"), ("setex", "s", "100"),
        ("psetex", "p", "100000", "v"), ("get", "p"), ("psetex", "p", "1"),
        ("setex", "s", "0", "v"), ("psetex", "p", "-3", "v"), ("setex", "s", "x", "v"),
    ])


def test_getset_getdel(diff):
    diff.run([
        ("getset", "k", "a"), ("getset", "k", "b"), ("get", "k"), ("getdel", "k"),
        ("getdel", "k"), ("get", "k"), ("getset", "k"), ("getdel", "k", "x"),
        ("incr", "n"), ("getset", "n", "5"), ("incr", "n"), ("getdel", "n"), ("incr", "n"),
    ])


def test_getex(diff):
    diff.run([
        ("getex", "k"), ("set", "k", "v"), ("getex", "k"), ("getex", "k", "ex", "100"),
        ("getex", "k", "persist"), ("getex", "k", "px", "100000"), ("getex", "k", "exat", FAR_S),
        ("getex", "k", "pxat", FAR_MS), ("getex", "k", "persist", "persist"),
        ("getex", "k", "nx"), ("getex", "k", "xx"), ("getex", "k", "get"), ("getex", "k", "keepttl"),
        ("getex", "k", "ex"), ("getex", "k", "ex", "10", "persist"), ("getex", "k", "persist", "ex", "10"),
        ("getex", "k", "ex", "10", "px", "10"), ("getex", "k", "foo"), ("getex", "missing", "foo"),
        ("getex", "k", "persist\x00z"), ("getex", "k", "exat", "1"), ("get", "k"),
        ("set", "k", "v"), ("getex", "k", "pxat", "1"), ("get", "k"),
        ("set", "k", "v"), ("getex", "k", "ex", "1", "ex", "2"), ("get", "k"),
        ("incr", "n"), ("getex", "n", "ex", "10"),
    ])


def test_ttl_effects(diff, raw):
    needs(raw, "ttl", "pttl", "exists", "dbsize")

    def ttl_both():
        a, b = diff.kv.call("ttl", "k"), diff.real.call("ttl", "k")
        return int(a[1:-2]), int(b[1:-2])

    diff.call("set", "k", "v", "ex", "100")
    a, b = ttl_both()
    assert 99 <= a <= 100 and 99 <= b <= 100
    diff.call("set", "k", "w", "keepttl")
    assert 99 <= ttl_both()[0] <= 100
    diff.call("set", "k", "w")
    diff.call("ttl", "k")
    diff.call("set", "k", "v", "exat", "1")     # in the past: kept until accessed
    diff.call("dbsize")
    diff.call("exists", "k")
    diff.call("dbsize")
    diff.call("setex", "k", "100", "v")
    diff.call("getset", "k", "v2")
    diff.call("ttl", "k")
    diff.call("setex", "k", "100", "v")
    diff.call("append", "k", "x")
    assert 99 <= ttl_both()[0] <= 100          # APPEND keeps the TTL
    diff.call("setrange", "k", "0", "y")
    assert 99 <= ttl_both()[0] <= 100
    diff.call("getex", "k", "persist")
    diff.call("ttl", "k")
    diff.call("getex", "k", "exat", FAR_S)
    diff.call("getex", "k", "pxat", "1")
    diff.call("exists", "k")
    diff.call("dbsize")
    diff.call("set", "n", "1", "px", "100000")
    diff.call("incrby", "n", "5")
    assert diff.kv.call("pttl", "n") != b":-1\r\n"   # INCR keeps the TTL
    diff.call("incrbyfloat", "n", "0.5")
    assert diff.kv.call("pttl", "n") != b":-1\r\n"
    diff.call("mset", "n", "1")
    diff.call("ttl", "n")


def test_expiry_in_process(inproc, frozen):
    kv = inproc
    db = kv.db
    assert kv.call("set", "k", "v", "ex", "10") == b"+OK\r\n"
    assert db.expires[b"k"] == frozen + 10_000
    kv.call("set", "k", "v", "px", "1500")
    assert db.expires[b"k"] == frozen + 1500
    kv.call("set", "k", "v", "exat", FAR_S)
    assert db.expires[b"k"] == FAR_MS
    kv.call("set", "k", "v", "pxat", FAR_MS + 7)
    assert db.expires[b"k"] == FAR_MS + 7
    kv.call("set", "k", "w", "keepttl")
    assert db.expires[b"k"] == FAR_MS + 7
    kv.call("set", "k", "w", "nx", "ex", "5")          # not set: TTL unchanged
    assert db.expires[b"k"] == FAR_MS + 7
    kv.call("set", "k", "w", "xx", "ex", "5")
    assert db.expires[b"k"] == frozen + 5000
    kv.call("set", "k", "w")
    assert b"k" not in db.expires
    kv.call("setex", "k", "3", "v")
    assert db.expires[b"k"] == frozen + 3000
    kv.call("psetex", "k", "3", "v")
    assert db.expires[b"k"] == frozen + 3
    kv.call("getset", "k", "v")
    assert b"k" not in db.expires
    kv.call("setex", "k", "3", "v")
    kv.call("append", "k", "x")
    kv.call("setrange", "k", "0", "y")
    kv.call("set", "n", "1", "ex", "9")
    kv.call("incr", "n")
    kv.call("incrbyfloat", "n", "1.5")
    assert db.expires == {b"k": frozen + 3000, b"n": frozen + 9000}
    kv.call("mset", "n", "1")
    assert b"n" not in db.expires
    # GETEX
    kv.call("getex", "k", "ex", "20")
    assert db.expires[b"k"] == frozen + 20_000
    kv.call("getex", "k", "pxat", FAR_MS)
    assert db.expires[b"k"] == FAR_MS
    kv.call("getex", "k")
    assert db.expires[b"k"] == FAR_MS
    kv.call("getex", "k", "persist")
    assert b"k" not in db.expires
    assert kv.call("getex", "k", "exat", frozen // 1000) == b"$2\r\nyx\r\n"
    assert b"k" not in db.data                          # deleted at once
    # an EXAT in the past on SET is kept: the key goes on next access
    kv.call("set", "k", "v", "exat", "1")
    assert db.expires[b"k"] == 1000 and b"k" in db.data
    stats = kv.server.keyspace.stats
    before = stats.expired
    assert kv.call("get", "k") == b"$-1\r\n"
    assert stats.expired == before + 1
    # expiry by the clock
    kv.call("set", "t", "v", "px", "10")
    clock.freeze(frozen + 9)
    assert kv.call("get", "t") == b"$1\r\nv\r\n"
    clock.freeze(frozen + 11)
    assert kv.call("get", "t") == b"$-1\r\n"
    # SET over a stale key counts it as expired, as lookupKeyWrite does
    kv.call("set", "t", "v", "px", "10")
    clock.freeze(frozen + 100)
    before = stats.expired
    kv.call("set", "t", "new")
    assert stats.expired == before + 1


def test_relative_expire_overflow(inproc, frozen):
    # now + EX/PX past LLONG_MAX wraps negative in C: invalid expire time
    assert inproc.call("set", "k", "v", "px", LLONG_MAX - frozen) == b"+OK\r\n"
    assert inproc.call("set", "k", "v", "px", LLONG_MAX - frozen + 1) == \
        b"-ERR invalid expire time in 'set' command\r\n"
    assert inproc.call("psetex", "k", LLONG_MAX - frozen + 1, "v") == \
        b"-ERR invalid expire time in 'psetex' command\r\n"
    assert inproc.call("getex", "k", "px", LLONG_MAX) == \
        b"-ERR invalid expire time in 'getex' command\r\n"
    assert inproc.call("set", "k", "v", "pxat", LLONG_MAX) == b"+OK\r\n"


# ---------------------------------------------------------------------------
# MGET / MSET / MSETNX
# ---------------------------------------------------------------------------

def test_mget_mset(diff):
    diff.run([
        ("mget", "a"), ("mset", "a", "1", "b", "2", "c", "3"), ("mget", "a", "b", "c", "d"),
        ("mset", "a"), ("mset", "a", "1", "b"), ("mget",), ("mset", "a", "x", "a", "y"),
        ("mget", "a", "a"), ("msetnx", "a", "1", "z", "2"), ("mget", "z"),
        ("msetnx", "y", "1", "z", "2"), ("mget", "y", "z"), ("msetnx", "q", "1", "q", "2"),
        ("get", "q"), ("msetnx", "y"), ("msetnx", "y", "1", "w"), ("incr", "i"),
        ("mget", "i", "a", "nope", "y"),
    ])


# ---------------------------------------------------------------------------
# APPEND, STRLEN, GETRANGE, SUBSTR, SETRANGE
# ---------------------------------------------------------------------------

def test_append_strlen(diff):
    diff.run([
        ("append", "k", "hello"), ("append", "k", " world"), ("get", "k"), ("strlen", "k"),
        ("append", "k", ""), ("strlen", "k"), ("strlen", "nokey"), ("append", "e", ""),
        ("get", "e"), ("strlen", "e"), ("set", "n", "12345"), ("append", "n", "6"),
        ("get", "n"), ("incr", "n"), ("strlen", "n"), ("append", "n", "x"), ("get", "n"),
        ("set", "neg", "-17"), ("strlen", "neg"), ("incrby", "neg", "-1000000"),
        ("strlen", "neg"), ("append", "neg", "0"), ("get", "neg"), ("append",), ("strlen",),
        ("append", "k", "a", "b"),
    ])


def test_append_many(diff):
    for i in range(300):
        diff.kv.call("append", "k", "%d," % i)
        diff.real.call("append", "k", "%d," % i)
    diff.call("get", "k")
    diff.call("strlen", "k")


def test_append_pipelined_replies_are_snapshots(raw):
    """A bytearray value grows in place: replies must not see later appends."""
    from conftest import encode_command
    raw.call("set", "k", "a")
    raw.call("append", "k", "b")        # now a bytearray
    raw.send(encode_command("get", "k") + encode_command("mget", "k", "k")
             + encode_command("append", "k", "cd") + encode_command("getrange", "k", "0", "-1")
             + encode_command("append", "k", "e") + encode_command("getdel", "k"))
    assert [raw.read_reply() for _ in range(6)] == [
        b"$2\r\nab\r\n", b"*2\r\n$2\r\nab\r\n$2\r\nab\r\n", b":4\r\n", b"$4\r\nabcd\r\n",
        b":5\r\n", b"$5\r\nabcde\r\n"]


def test_getrange_grid(diff):
    diff.call("set", "s", "Hello")
    diff.call("set", "i", "-12345")
    diff.call("set", "e", "")
    diff.call("append", "r", "rawstr")
    idx = [-100, -7, -6, -5, -2, -1, 0, 1, 2, 4, 5, 6, 100,
           LLONG_MIN, LLONG_MAX, LLONG_MIN + 1]
    for key in ("s", "i", "e", "r", "missing"):
        for start, end in itertools.product(idx, repeat=2):
            diff.call("getrange", key, start, end)
    diff.call("incrby", "i2", "-12345")
    for start, end in [(0, -1), (1, 3), (-3, -1), (5, 0)]:
        diff.call("getrange", "i2", start, end)
        diff.call("substr", "i2", start, end)


def test_getrange_errors(diff):
    diff.run([
        ("set", "s", "Hello"), ("getrange", "s", "a", "1"), ("getrange", "s", "0", "b"),
        ("getrange", "s", "0"), ("getrange", "s", "1.5", "2"), ("getrange", "s", "0", "9223372036854775808"),
        ("getrange", "missing", "x", "1"), ("substr", "s", "0", "x"), ("substr", "s"),
        ("getrange", "s", "0", "1", "2"),
    ])


def test_setrange(diff):
    diff.run([
        ("setrange", "k", "5", "abc"), ("get", "k"), ("setrange", "k", "0", "XY"), ("get", "k"),
        ("setrange", "k", "7", "long tail"), ("get", "k"), ("setrange", "k", "100", ""),
        ("get", "k"), ("setrange", "nokey", "0", ""), ("get", "nokey"), ("setrange", "nokey", "5", ""),
        ("setrange", "new", "0", "a"), ("get", "new"), ("setrange", "k", "-1", "x"),
        ("setrange", "nokey", "-1", ""), ("setrange", "k", "x", "y"), ("setrange", "k", "1.0", "y"),
        ("setrange", "k", "9223372036854775807", "ab"), ("setrange", "k", "9223372036854775807", ""),
        ("setrange", "nokey", "9223372036854775807", "ab"),
        ("setrange", "k", "536870911", "ab"), ("setrange", "k", "536870912", "a"),
        ("set", "n", "12345"), ("setrange", "n", "1", "0"), ("get", "n"), ("incr", "n"),
        ("set", "n", "9"), ("setrange", "n", "0", ""), ("incr", "n"), ("setrange", "n", "3", "7"),
        ("get", "n"), ("setrange",), ("setrange", "k", "1"),
    ])


def test_string_length_limit(inproc):
    """proto-max-bulk-len caps APPEND/SETRANGE growth (checked in process:
    CONFIG SET may not exist yet and 512MB is too big to try)."""
    inproc.server.config.proto_max_bulk_len = 10
    err = b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    assert inproc.call("setrange", "k", "5", "abcde") == b":10\r\n"
    assert inproc.call("setrange", "k", "5", "abcdef") == err
    assert inproc.call("setrange", "k2", "10", "a") == err
    assert inproc.call("setrange", "k2", "10", "") == b":0\r\n"
    assert inproc.call("append", "k", "x") == err
    assert inproc.call("append", "k", "") == b":10\r\n"
    assert inproc.call("set", "n", "12345") == b"+OK\r\n"
    assert inproc.call("append", "n", "678901") == err
    assert inproc.call("append", "n", "67890") == b":10\r\n"
    assert inproc.call("append", "big", "01234567890123") == b":14\r\n"   # a new key: no check
    assert inproc.call("lcs", "k", "n") == \
        b"-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"


def test_string_length_limit_real(diff, raw):
    needs(raw, "config")
    diff.call("config", "set", "proto-max-bulk-len", "1mb")
    try:
        diff.run([
            ("setrange", "k", "1048575", "a"), ("setrange", "k", "1048575", "ab"),
            ("setrange", "k", "1048576", "a"), ("append", "k", "x"), ("strlen", "k"),
            ("set", "a", "x" * 600), ("set", "b", "y" * 600), ("lcs", "a", "b", "len"),
        ])
    finally:
        diff.call("config", "set", "proto-max-bulk-len", "512mb")


# ---------------------------------------------------------------------------
# Counters
# ---------------------------------------------------------------------------

def test_incr_decr(diff):
    diff.run([
        ("incr", "n"), ("incr", "n"), ("decr", "n"), ("decr", "m"), ("incrby", "n", "100"),
        ("decrby", "n", "7"), ("incrby", "n", "-5"), ("decrby", "n", "-5"), ("get", "n"),
        ("incrby", "n", "x"), ("incrby", "n", "1.5"), ("incrby", "n", ""), ("incrby", "n", " 1"),
        ("incrby", "n", "+1"), ("incrby", "n", "01"), ("incrby", "n", "-0"),
        ("incrby", "n", "9223372036854775808"), ("decrby", "n", "-9223372036854775809"),
        ("incr",), ("incr", "a", "b"), ("incrby", "n"), ("decrby", "n"),
    ])


def test_incr_bad_values(diff):
    for v in ["abc", "", " 1", "1 ", "01", "-0", "+1", "1.0", "1e3", "0x10",
              "9223372036854775808", "-9223372036854775809", "123456789012345678901",
              "\x001", "1\x00"]:
        diff.call("set", "k", v)
        for cmd in (("incr", "k"), ("decr", "k"), ("incrby", "k", "2"), ("decrby", "k", "2")):
            diff.call(*cmd)
        diff.call("get", "k")


def test_incr_overflow(diff):
    diff.run([
        ("set", "k", LLONG_MAX), ("incr", "k"), ("incrby", "k", "0"), ("decr", "k"), ("incr", "k"),
        ("incr", "k"), ("set", "k", LLONG_MIN), ("decr", "k"), ("incrby", "k", LLONG_MAX),
        ("incrby", "k", LLONG_MIN), ("set", "k", "-1"), ("incrby", "k", LLONG_MIN),
        ("decrby", "k", LLONG_MAX), ("set", "k", "0"), ("decrby", "k", LLONG_MIN),
        ("decrby", "missing", LLONG_MIN), ("incrby", "k", LLONG_MIN), ("decrby", "k", "1"),
        ("set", "k", "1"), ("incrby", "k", LLONG_MAX), ("get", "k"),
    ])


def test_incrbyfloat(diff):
    diff.run([
        ("incrbyfloat", "f", "10.5"), ("incrbyfloat", "f", "0.1"), ("incrbyfloat", "f", "-10.6"),
        ("incrbyfloat", "f", "3.0e3"), ("incrbyfloat", "f", "1e308"), ("incrbyfloat", "f", "-1e308"),
        ("incrbyfloat", "f", "abc"), ("incrbyfloat", "f", ""), ("incrbyfloat", "f", "nan"),
        ("incrbyfloat", "f", "inf"), ("incrbyfloat", "f", "-inf"), ("incrbyfloat", "f", " 1"),
        ("incrbyfloat", "f", "1 "), ("incrbyfloat", "f", "0x10"), ("incrbyfloat", "f", "1e4000"),
        ("incrbyfloat", "f", "1e5000"), ("incrbyfloat", "f", "1e-5000"), ("incrbyfloat", "f", "1e-4940"),
        ("get", "f"), ("set", "f", "1.5"), ("incrbyfloat", "f", "1.5"), ("set", "f", "abc"),
        ("incrbyfloat", "f", "1"), ("set", "f", "inf"), ("incrbyfloat", "f", "1"),
        ("set", "f", "5"), ("incrbyfloat", "f", "0"), ("incr", "i"), ("incrbyfloat", "i", "0.25"),
        ("set", "f", LLONG_MAX), ("incrbyfloat", "f", "1"), ("incrbyfloat", "f", "1e-30"),
        ("set", "f", "1.7976931348623157e308"), ("incrbyfloat", "f", "1e308"),
        ("set", "f", "1.18e4932"), ("incrbyfloat", "f", "1e4932"), ("incrbyfloat", "f", "-1e4932"),
        ("incrbyfloat", "f"), ("incrbyfloat", "f", "1", "2"),
        ("incrbyfloat", "g", "1\x00"), ("incrbyfloat", "g", "\x001"),
    ])


TRICKY_FLOATS = [
    "0.1", "0.2", "0.3", "-0.1", "1e-17", "-1e-17", "5e-18", "-5e-18", "1.5e-17", "2.5e-17",
    "12345678.123456789", "0.30000000000000004", "1e17", "1e20", "123456789012345678901234567890",
    "1.7976931348623157e308", "4.9406564645841247e-324", "2.2250738585072014e-308",
    "3.3621031431120935063e-4932", "1.18973149535723176502e4932", "0x1p-16445", "0x1p-16446",
    "0x1.fffffffffffffffep16383", "0x1.ffffffffffffffffp16383", ".5", "5.", "+5", "-.5e1",
    "1E+2", "0.000001", "99999999999999999.5", "0e999999", "1e-0000000000000000000000001",
]


def test_incrbyfloat_tricky_values(diff):
    for v in TRICKY_FLOATS:
        diff.call("flushall")
        diff.call("incrbyfloat", "f", v)
        diff.call("incrbyfloat", "f", "0.1")
        diff.call("incrbyfloat", "f", v)


_float_text = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda f: "%.9g" % f),
    st.builds(lambda m, p: str(Decimal(m).scaleb(-p)), st.integers(-10**30, 10**30),
              st.integers(0, 25)),
    st.integers(-2**70, 2**70).map(str),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-10**20, 10**20), st.integers(-5000, 5000)),
    st.text("0123456789.-+eE", min_size=1, max_size=12),
)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=_float_text, steps=st.lists(_float_text, min_size=1, max_size=3))
def test_incrbyfloat_differential(diff, start, steps):
    diff.call("set", "f", start)
    for s in steps:
        diff.call("incrbyfloat", "f", s)
    diff.call("get", "f")


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.one_of(st.integers(LLONG_MIN, LLONG_MAX), st.integers(-1000, 1000)),
       steps=st.lists(st.one_of(st.integers(LLONG_MIN, LLONG_MAX), st.integers(-1000, 1000),
                                st.integers(-2**65, 2**65)), min_size=1, max_size=4))
def test_incrby_differential(diff, start, steps):
    diff.call("set", "n", start)
    for s in steps:
        diff.call("incrby", "n", s)
        diff.call("decrby", "n", s)
        diff.call("incrby", "n", s)
    diff.call("get", "n")
    diff.call("strlen", "n")


# ---------------------------------------------------------------------------
# LCS
# ---------------------------------------------------------------------------

def test_lcs(diff):
    diff.run([
        ("set", "a", "ohmytext"), ("set", "b", "mynewtext"), ("lcs", "a", "b"),
        ("lcs", "a", "b", "len"), ("lcs", "a", "b", "idx"), ("lcs", "a", "b", "IDX", "minmatchlen", "4"),
        ("lcs", "a", "b", "idx", "withmatchlen"), ("lcs", "a", "b", "idx", "minmatchlen", "4", "withmatchlen"),
        ("lcs", "a", "b", "idx", "minmatchlen", "-5"), ("lcs", "a", "b", "minmatchlen", "2"),
        ("lcs", "a", "b", "len", "withmatchlen"), ("lcs", "a", "b", "withmatchlen"),
        ("lcs", "a", "b", "len", "idx"), ("lcs", "a", "b", "idx", "len"), ("lcs", "a", "b", "foo"),
        ("lcs", "a", "b", "minmatchlen"), ("lcs", "a", "b", "minmatchlen", "x"),
        ("lcs", "a", "b", "idx\x00x"), ("lcs", "a", "missing"), ("lcs", "missing", "a", "idx"),
        ("lcs", "m1", "m2", "len"), ("lcs", "m1", "m2", "idx", "withmatchlen"), ("lcs", "a", "a"),
        ("lcs", "a", "a", "idx", "withmatchlen"), ("lcs", "a"), ("incr", "n"), ("set", "n2", "2157"),
        ("lcs", "n", "n2", "idx"), ("set", "a", "x" * 50), ("lcs", "a", "a", "len"),
    ])


def _lcs_reference(a: bytes, b: bytes):
    """Redis's table walk, on a plain DP table: (string, ranges)."""
    n, m = len(a), len(b)
    t = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            t[i][j] = t[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(t[i - 1][j], t[i][j - 1])
    out = []
    ranges = []
    i, j = n, m
    cur = None
    while i > 0 and j > 0:
        if a[i - 1] == b[j - 1]:
            out.append(a[i - 1])
            if cur is None:
                cur = [i - 1, i - 1, j - 1, j - 1]
            else:
                cur[0] -= 1
                cur[2] -= 1
            i -= 1
            j -= 1
            if cur[0] == 0 or cur[2] == 0:
                ranges.append(tuple(cur))
                cur = None
        else:
            if t[i - 1][j] > t[i][j - 1]:
                i -= 1
            else:
                j -= 1
            if cur is not None:
                ranges.append(tuple(cur))
                cur = None
    return bytes(reversed(out)), ranges


@settings(max_examples=300, deadline=None)
@given(a=st.binary(max_size=40), b=st.binary(max_size=40), alphabet=st.integers(1, 4))
def test_lcs_against_reference(a, b, alphabet):
    a = bytes(x % alphabet + 97 for x in a)
    b = bytes(x % alphabet + 97 for x in b)
    kv = InProc()
    kv.call("set", "a", a)
    kv.call("set", "b", b)
    s, ranges = _lcs_reference(a, b)
    assert kv.call("lcs", "a", "b") == b"$%d\r\n%s\r\n" % (len(s), s)
    assert kv.call("lcs", "a", "b", "len") == b":%d\r\n" % len(s)
    parts = [b"*4\r\n$7\r\nmatches\r\n*%d\r\n" % len(ranges)]
    for a0, a1, b0, b1 in ranges:
        parts.append(b"*3\r\n*2\r\n:%d\r\n:%d\r\n*2\r\n:%d\r\n:%d\r\n:%d\r\n"
                     % (a0, a1, b0, b1, a1 - a0 + 1))
    parts.append(b"$3\r\nlen\r\n:%d\r\n" % len(s))
    assert kv.call("lcs", "a", "b", "idx", "withmatchlen") == b"".join(parts)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.text("abc", max_size=30), b=st.text("abc", max_size=30),
       minlen=st.integers(-1, 4))
def test_lcs_differential(diff, a, b, minlen):
    diff.call("set", "a", a)
    diff.call("set", "b", b)
    diff.call("lcs", "a", "b")
    diff.call("lcs", "a", "b", "len")
    diff.call("lcs", "a", "b", "idx", "minmatchlen", minlen, "withmatchlen")
    diff.call("lcs", "b", "a", "idx")


def test_lcs_long(diff):
    a = "".join("abcdefgh"[(i * 7 + i // 3) % 8] for i in range(700))
    b = "".join("abcdefgh"[(i * 5 + i // 7) % 8] for i in range(600))
    diff.call("set", "a", a)
    diff.call("set", "b", b)
    diff.call("lcs", "a", "b")
    diff.call("lcs", "a", "b", "len")
    diff.call("lcs", "a", "b", "idx", "minmatchlen", "3", "withmatchlen")


# ---------------------------------------------------------------------------
# RESP3, wrong types, hits and misses, encodings (hybrid where needed)
# ---------------------------------------------------------------------------

RESP3_COMMANDS = [
    ("get", "nokey"), ("set", "k", "v"), ("set", "k", "v", "nx"), ("set", "k2", "v", "xx"),
    ("set", "k", "w", "get"), ("set", "k3", "w", "get"), ("set", "k", "z", "nx", "get"),
    ("getex", "nokey"), ("getex", "nokey", "ex", "10"), ("getdel", "nokey"), ("getset", "k4", "v"),
    ("mget", "k", "nokey", "k4"), ("set", "a", "ohmytext"), ("set", "b", "mynewtext"),
    ("lcs", "a", "b", "idx"), ("lcs", "a", "b", "idx", "withmatchlen"), ("lcs", "a", "b", "len"),
    ("lcs", "a", "b"), ("incrbyfloat", "f", "1.5"), ("getrange", "nokey", "0", "1"),
    ("strlen", "nokey"), ("setnx", "k", "1"), ("msetnx", "k", "1"),
]


def test_resp3(hybrid):
    hybrid.resp3()
    hybrid.run(RESP3_COMMANDS)


def test_resp3_tcp(diff, raw):
    needs(raw, "hello")
    a, b = diff.kv.call("hello", "3"), diff.real.call("hello", "3")
    assert a.startswith(b"%") and b.startswith(b"%")
    diff.run(RESP3_COMMANDS)


WRONGTYPE_COMMANDS = [
    ("get", "l"), ("set", "l", "v", "get"), ("set", "l", "v", "nx"), ("set", "l", "v", "xx", "get"),
    ("getset", "l", "v"), ("getdel", "l"), ("getex", "l"), ("getex", "l", "ex", "0"),
    ("getex", "l", "foo"), ("mget", "l", "s"), ("append", "l", "x"), ("strlen", "l"),
    ("getrange", "l", "0", "1"), ("getrange", "l", "x", "1"), ("substr", "l", "0", "1"),
    ("setrange", "l", "0", "x"), ("setrange", "l", "0", ""), ("setrange", "l", "-1", "x"),
    ("incr", "l"), ("decr", "l"), ("incrby", "l", "1"), ("incrby", "l", "x"), ("decrby", "l", "1"),
    ("decrby", "l", LLONG_MIN), ("incrbyfloat", "l", "1"), ("incrbyfloat", "l", "x"),
    ("lcs", "l", "s"), ("lcs", "s", "l", "foo"), ("lcs", "s", "s", "foo"),
    ("setnx", "l", "v"), ("msetnx", "l", "v"), ("set", "l", "v", "ex", "10", "get"),
]


def test_wrongtype(hybrid):
    hybrid.make_list("l")
    hybrid.call("set", "s", "str")
    hybrid.run(WRONGTYPE_COMMANDS)
    hybrid.call("set", "l", "v")            # plain SET overwrites any type
    hybrid.call("get", "l")


def test_wrongtype_tcp(diff, raw):
    needs(raw, "rpush")
    diff.call("rpush", "l", "x")
    diff.call("set", "s", "str")
    diff.run(WRONGTYPE_COMMANDS)
    diff.call("set", "l", "v")
    diff.call("get", "l")


def _real_hits(real):
    info = real.call("info", "stats").decode()
    fields = dict(line.split(":", 1) for line in info.split("\r\n") if ":" in line)
    return int(fields["keyspace_hits"]), int(fields["keyspace_misses"])


def test_keyspace_hits_and_misses(hybrid):
    """Reads count hits/misses (lookupKeyRead); writes don't (lookupKeyWrite)."""
    commands = [
        ("set", "a", "1"), ("get", "a"), ("get", "x"), ("mget", "a", "x", "a"), ("strlen", "a"),
        ("strlen", "x"), ("getrange", "a", "0", "1"), ("getrange", "x", "0", "1"),
        ("lcs", "a", "x"), ("getex", "a"), ("getex", "x"), ("set", "a", "2", "get"),
        ("set", "x", "2", "get"), ("getset", "a", "3"), ("getdel", "x"), ("incr", "a"),
        ("incrbyfloat", "a", "1"), ("append", "a", "x"), ("setrange", "a", "0", "y"),
        ("set", "a", "5", "nx"), ("setnx", "a", "1"), ("msetnx", "a", "1"), ("mset", "a", "1"),
        ("setex", "a", "10", "v"), ("getex", "a", "persist"),
    ]
    hybrid.real.call("config", "resetstat")
    stats = hybrid.kv.server.keyspace.stats
    stats.reset()
    for cmd in commands:
        hybrid.call(*cmd)
        assert (stats.hits, stats.misses) == _real_hits(hybrid.real), cmd


# Values, commands, and the encoding redis-server 7.0 reports for them.
ENCODING_CASES = [
    ([("set", "k", "123")], "int"),
    ([("set", "k", "0")], "int"),
    ([("set", "k", "-9223372036854775808")], "int"),
    ([("set", "k", "9223372036854775807")], "int"),
    ([("set", "k", "9223372036854775808")], "embstr"),
    ([("set", "k", "00123")], "embstr"),
    ([("set", "k", "-0")], "embstr"),
    ([("set", "k", "+1")], "embstr"),
    ([("set", "k", " 1")], "embstr"),
    ([("set", "k", "")], "embstr"),
    ([("set", "k", "x" * 44)], "embstr"),
    ([("set", "k", "x" * 45)], "raw"),
    ([("set", "k", "1" * 21)], "embstr"),
    ([("set", "k", "1.5")], "embstr"),
    ([("mset", "k", "77")], "int"),
    ([("setnx", "k", "77")], "int"),
    ([("setex", "k", "100", "77")], "int"),
    ([("getset", "k", "x" * 50)], "raw"),
    ([("append", "k", "12")], "int"),
    ([("append", "k", "ab")], "embstr"),
    ([("append", "k", "a" * 45)], "raw"),
    ([("set", "k", "ab"), ("append", "k", "c")], "raw"),
    ([("set", "k", "12"), ("append", "k", "3")], "raw"),
    ([("set", "k", "12"), ("append", "k", "")], "raw"),
    ([("set", "k", "ab"), ("setrange", "k", "0", "x")], "raw"),
    ([("setrange", "k", "0", "5")], "raw"),
    ([("set", "k", "5"), ("setrange", "k", "0", "")], "int"),
    ([("incr", "k")], "int"),
    ([("set", "k", "abc"), ("append", "k", "d"), ("set", "k", "10"), ("incrby", "k", "-20")], "int"),
    ([("append", "k", "10"), ("append", "k", "1"), ("incr", "k")], "int"),
    ([("incrbyfloat", "k", "1.5")], "embstr"),
    ([("incrbyfloat", "k", "1e100")], "raw"),
    ([("set", "k", "1"), ("append", "k", "2"), ("incrbyfloat", "k", "0.5")], "embstr"),
]


def _apply_encoding_case(conn, commands):
    conn.call("flushall")
    for cmd in commands:
        reply = conn.call(*cmd)
        assert not reply.startswith(b"-"), (cmd, reply)


@pytest.mark.parametrize("commands,expected", ENCODING_CASES)
def test_string_encoding(hybrid, commands, expected):
    _apply_encoding_case(hybrid.real, commands)
    assert hybrid.real.call("object", "encoding", "k") == b"$%d\r\n%s\r\n" % (
        len(expected), expected.encode())
    _apply_encoding_case(hybrid.kv, commands)
    assert string_encoding(hybrid.kv.db.value_of(b"k")) == expected


@pytest.mark.parametrize("commands,expected", ENCODING_CASES)
def test_object_encoding_tcp(diff, raw, commands, expected):
    needs(raw, "object")
    _apply_encoding_case(diff.kv, commands)
    _apply_encoding_case(diff.real, commands)
    assert diff.call("object", "encoding", "k") == b"$%d\r\n%s\r\n" % (
        len(expected), expected.encode())


def test_incrbyfloat_integer_result_is_embstr(diff):
    # Redis keeps INCRBYFLOAT's "11" as the embstr it created
    diff.call("set", "k", "10.5")
    diff.call("incrbyfloat", "k", "0.5")
    diff.call("object", "encoding", "k")
    diff.call("incr", "k")
    diff.call("object", "encoding", "k")
    diff.call("incrbyfloat", "f", "3")
    diff.call("object", "encoding", "f")
    diff.call("set", "f", "3")
    diff.call("object", "encoding", "f")


# ---------------------------------------------------------------------------
# Declarations
# ---------------------------------------------------------------------------

STRING_COMMANDS = ["get", "set", "setnx", "setex", "psetex", "getset", "getdel", "getex",
                   "mget", "mset", "msetnx", "append", "strlen", "getrange", "substr",
                   "setrange", "incr", "decr", "incrby", "decrby", "incrbyfloat", "lcs"]


def _parse_resp(data: bytes, pos=0):
    t = data[pos:pos + 1]
    nl = data.index(b"\r\n", pos)
    head = data[pos + 1:nl]
    if t in b"+-":
        return head, nl + 2
    if t == b":":
        return int(head), nl + 2
    if t == b"$":
        n = int(head)
        return data[nl + 2:nl + 2 + n], nl + 4 + n
    if t in b"*~":
        out, p = [], nl + 2
        for _ in range(int(head)):
            v, p = _parse_resp(data, p)
            out.append(v)
        return out, p
    if t == b"%":
        out, p = {}, nl + 2
        for _ in range(int(head)):
            k, p = _parse_resp(data, p)
            v, p = _parse_resp(data, p)
            out[k] = v
        return out, p
    raise ValueError(t)


@pytest.mark.parametrize("name", STRING_COMMANDS)
def test_declarations_match_command_info(raw_real, name):
    from kvserver.commands import table
    table.load()
    spec = table.by_name(name)
    info, _ = _parse_resp(raw_real.call("command", "info", name))
    rname, arity, flags, first, last, step, acl, tips, key_specs, subs = info[0]
    assert spec.arity == arity
    want = {f.decode().upper() for f in flags}
    have = {f.name for f in table.Flag if f and f in spec.flags and f.name}
    assert have == want
    assert (spec.first_key, spec.last_key, spec.key_step) == (first, last, step)
    assert sorted(spec.acl) == sorted(a.decode() for a in acl)
    assert sorted(spec.tips) == sorted(t.decode() for t in tips)
    assert len(spec.key_specs) == len(key_specs)
    for mine, theirs in zip(spec.key_specs, key_specs):
        d = dict(zip(theirs[::2], theirs[1::2]))
        # the JSON files spell them upper-case; the reply lower-cases access, update...
        assert sorted(mine["flags"]) == sorted(f.decode().upper() for f in d[b"flags"])
        assert mine.get("notes", "").encode() == d.get(b"notes", b"")
        bs = dict(zip(d[b"begin_search"][::2], d[b"begin_search"][1::2]))
        assert mine["begin_search"]["index"]["pos"] == bs[b"spec"][1]
        fk = dict(zip(d[b"find_keys"][::2], d[b"find_keys"][1::2]))
        rng = dict(zip(fk[b"spec"][::2], fk[b"spec"][1::2]))
        assert mine["find_keys"]["range"] == {"lastkey": rng[b"lastkey"], "step": rng[b"keystep"],
                                              "limit": rng[b"limit"]}


@pytest.mark.parametrize("name", STRING_COMMANDS)
def test_declarations_match_command_docs(raw_real, name):
    from kvserver.commands import table
    table.load()
    spec = table.by_name(name)
    docs, _ = _parse_resp(raw_real.call("command", "docs", name))
    d = dict(zip(docs[1][::2], docs[1][1::2]))
    doc = spec.doc
    assert doc["summary"].encode() == d[b"summary"]
    assert doc["since"].encode() == d[b"since"]
    assert doc["group"].encode() == d[b"group"]
    assert doc["complexity"].encode() == d[b"complexity"]
    if b"history" in d:
        assert [tuple(x.encode() for x in h) for h in doc["history"]] == \
            [tuple(h) for h in d[b"history"]]
    else:
        assert "history" not in doc
    if b"doc_flags" in d:
        assert [doc["doc_flags"].encode()] == d[b"doc_flags"]
        assert doc["deprecated_since"].encode() == d[b"deprecated_since"]
        assert doc["replaced_by"].encode() == d[b"replaced_by"]
    docs_mod = pytest.importorskip("kvserver.commands.docs")

    def norm(arg):
        a = dict(zip(arg[::2], arg[1::2]))
        out = {k.decode(): (v.decode() if isinstance(v, bytes) else v) for k, v in a.items()
               if k not in (b"arguments", b"flags")}
        if b"flags" in a:
            out["flags"] = [f.decode() for f in a[b"flags"]]
        if b"arguments" in a:
            out["arguments"] = [norm(x) for x in a[b"arguments"]]
        return out

    want = [norm(x) for x in d.get(b"arguments", [])]
    assert [x.as_dict() for x in docs_mod.parse_args(doc["args"])] == want
