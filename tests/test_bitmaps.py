"""Bitmap commands against the real redis-server 7.0, byte for byte, and the
bulk bit helpers of kvserver.commands.bitmaps against plain models.

- Differential tests (`diff`): every command's replies and error paths,
  argument-order quirks of 7.0 (BITCOUNT looks the key up before parsing
  its range), int-encoded values, OBJECT ENCODING after writes, RESP3 nulls.
- Hypothesis drives random values and offsets/ranges through SETBIT,
  GETBIT, BITCOUNT, BITPOS, BITOP and BITFIELD on both servers.
- BITFIELD overflow: every value of every width up to 4 bits, signed and
  unsigned, under WRAP/SAT/FAIL, for SET and INCRBY over a range of
  increments (batched into few commands), plus the 63/64-bit edges.
- Side effects: which commands touch WATCHed keys and how much they add to
  rdb_changes_since_last_save, compared with Redis.
"""

import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import Differ, RawConn
from kvserver.commands import bitmaps

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def resp3(d):
    # HELLO's reply carries the connection id, so it is not compared
    for conn in (d.kv, d.real):
        assert conn.call("HELLO", "3").startswith(b"%7\r\n")


@pytest.fixture
def d(diff):
    yield diff
    for conn in (diff.kv, diff.real):
        conn.call("CONFIG", "SET", "proto-max-bulk-len", "536870912")


def setval(d, key, value: bytes):
    d.call("DEL", key)
    d.call("SET", key, value)


# ---------------------------------------------------------------------------
# Bulk helpers against naive models
# ---------------------------------------------------------------------------

def bits_of(buf) -> str:
    return "".join(format(b, "08b") for b in buf)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.data(), st.sampled_from([1, 3, 1 << 20]))
def test_count_and_find_against_model(buf, data, chunk):
    old = bitmaps._CHUNK
    bitmaps._CHUNK = chunk
    try:
        s = bits_of(buf)
        assert bitmaps.popcount(buf, 0, len(buf)) == s.count("1")
        if not buf:
            return
        first = data.draw(st.integers(0, len(s) - 1))
        last = data.draw(st.integers(first, len(s) - 1))
        assert bitmaps._count_bits(buf, first, last) == s[first:last + 1].count("1")
        for bit in (0, 1):
            i = s.find(str(bit), first, last + 1)
            assert bitmaps.find_bit(buf, bit, first, last) == i
    finally:
        bitmaps._CHUNK = old


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=12), st.integers(0, 90), st.integers(1, 64),
       st.integers(0, 2**64 - 1))
def test_fields_against_model(buf, offset, bits, value):
    s = bits_of(buf).ljust(offset + bits, "0")
    assert bitmaps._get_field(buf, offset, bits) == int(s[offset:offset + bits], 2)
    grown = bytearray(buf) + bytes(max(0, (offset + bits + 7) // 8 - len(buf)))
    before = bits_of(grown)
    bitmaps._set_field(grown, offset, bits, value)
    after = bits_of(grown)
    low = format(value & ((1 << bits) - 1), "0%db" % bits)
    assert after == before[:offset] + low + before[offset + bits:]


# ---------------------------------------------------------------------------
# Differential: replies and errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("proto", [2, 3])
def test_basic_replies(d, proto):
    if proto == 3:
        resp3(d)
    d.run([
        ("SETBIT", "k", "7", "1"), ("SETBIT", "k", "7", "1"), ("SETBIT", "k", "7", "0"),
        ("SETBIT", "k", "100", "1"), ("GET", "k"), ("STRLEN", "k"),
        ("GETBIT", "k", "100"), ("GETBIT", "k", "101"), ("GETBIT", "k", "100000"),
        ("GETBIT", "nokey", "0"), ("OBJECT", "ENCODING", "k"),
        ("SET", "s", "foobar"),
        ("BITCOUNT", "s"), ("BITCOUNT", "s", "0", "0"), ("BITCOUNT", "s", "1", "1"),
        ("BITCOUNT", "s", "1", "-1"), ("BITCOUNT", "s", "-2", "-1"),
        ("BITCOUNT", "s", "5", "30", "BIT"), ("BITCOUNT", "s", "0", "-1", "bit"),
        ("BITCOUNT", "s", "-10", "-20"), ("BITCOUNT", "s", "-20", "-10"),
        ("BITCOUNT", "s", "-1", "-3"), ("BITCOUNT", "s", "100", "200"),
        ("BITCOUNT", "s", "7", "7", "BYTE"), ("BITCOUNT", "nokey"),
        ("BITPOS", "s", "1"), ("BITPOS", "s", "0"), ("BITPOS", "s", "1", "2"),
        ("BITPOS", "s", "0", "2", "-1"), ("BITPOS", "s", "1", "2", "-1", "BIT"),
        ("BITPOS", "s", "0", "1", "3", "bit"), ("BITPOS", "s", "1", "-3"),
        ("BITPOS", "s", "1", "100"), ("BITPOS", "s", "0", "100"),
        ("BITPOS", "nokey", "1"), ("BITPOS", "nokey", "0"),
        ("SET", "ones", b"\xff\xff\xff"),
        ("BITPOS", "ones", "0"), ("BITPOS", "ones", "0", "1"),
        ("BITPOS", "ones", "0", "0", "-1"), ("BITPOS", "ones", "0", "0", "-1", "BIT"),
        ("BITPOS", "ones", "1", "3", "9", "bit"),
        ("SET", "zeros", b"\x00\x00\x00"),
        ("BITPOS", "zeros", "1"), ("BITPOS", "zeros", "0"),
        ("BITPOS", "zeros", "1", "0", "-1", "bit"),
        ("SET", "empty", ""), ("BITPOS", "empty", "0"), ("BITPOS", "empty", "1"),
        ("BITPOS", "empty", "0", "0"), ("BITCOUNT", "empty", "0", "-1"),
    ])


def test_int_encoded_values(d):
    d.run([
        ("SET", "n", "12345"), ("OBJECT", "ENCODING", "n"),
        ("GETBIT", "n", "2"), ("GETBIT", "n", "39"), ("GETBIT", "n", "40"),
        ("BITCOUNT", "n"), ("BITCOUNT", "n", "1", "2"), ("BITPOS", "n", "0"),
        ("BITFIELD_RO", "n", "GET", "u8", "0", "GET", "i16", "4"),
        ("BITOP", "AND", "dst", "n", "n"), ("GET", "dst"), ("OBJECT", "ENCODING", "dst"),
        ("OBJECT", "ENCODING", "n"),
        ("SETBIT", "n", "0", "0"), ("OBJECT", "ENCODING", "n"), ("GET", "n"),
        ("INCR", "m"), ("BITFIELD", "m", "SET", "u8", "0", "50"), ("GET", "m"),
        ("OBJECT", "ENCODING", "m"),
    ])


def test_writes_leave_raw_encoding(d):
    d.run([
        ("SET", "a", "x"), ("OBJECT", "ENCODING", "a"),
        ("SETBIT", "a", "1", "1"), ("OBJECT", "ENCODING", "a"),     # unchanged bit
        ("SET", "b", "x"), ("BITFIELD", "b", "GET", "u8", "0"),
        ("OBJECT", "ENCODING", "b"),
        ("BITFIELD", "b", "SET", "u8", "0", "120"), ("OBJECT", "ENCODING", "b"),
        ("SET", "c", "x"), ("BITFIELD", "c", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "500"),
        ("OBJECT", "ENCODING", "c"),
        ("SETBIT", "new", "3", "1"), ("OBJECT", "ENCODING", "new"),
        ("BITOP", "NOT", "nd", "new"), ("OBJECT", "ENCODING", "nd"),
        ("APPEND", "new", "zz"), ("SETBIT", "new", "30", "1"), ("GET", "new"),
    ])


def test_errors(d):
    d.run([
        ("SET", "s", "abc"), ("LPUSH", "l", "x"),
        ("SETBIT", "s", "-1", "1"), ("SETBIT", "s", "x", "1"), ("SETBIT", "s", "1.5", "1"),
        ("SETBIT", "s", "4294967296", "1"), ("SETBIT", "s", "1", "2"),
        ("SETBIT", "s", "1", "-1"), ("SETBIT", "s", "1", "x"), ("SETBIT", "s", "01", "1"),
        ("SETBIT", "l", "1", "1"), ("SETBIT", "l", "x", "1"), ("SETBIT", "s", "1"),
        ("GETBIT", "s", "-1"), ("GETBIT", "s", "4294967296"), ("GETBIT", "l", "0"),
        ("GETBIT", "l", "x"),
        ("BITCOUNT", "s", "a", "b"), ("BITCOUNT", "s", "0", "b"), ("BITCOUNT", "s", "0"),
        ("BITCOUNT", "s", "0", "1", "2"), ("BITCOUNT", "s", "0", "1", "BIT", "x"),
        ("BITCOUNT", "s", "a", "1", "foo"), ("BITCOUNT", "l"), ("BITCOUNT", "l", "a", "b"),
        ("BITCOUNT", "nokey", "a", "b"), ("BITCOUNT", "nokey", "0"),
        ("BITCOUNT", "nokey", "1", "2", "foo"),
        ("BITPOS", "s", "2"), ("BITPOS", "s", "x"), ("BITPOS", "s", "-1"),
        ("BITPOS", "s", "1", "x"), ("BITPOS", "s", "1", "0", "x"),
        ("BITPOS", "s", "1", "0", "1", "x"), ("BITPOS", "s", "1", "0", "x", "x"),
        ("BITPOS", "s", "1", "x", "1", "bit"), ("BITPOS", "s", "1", "0", "1", "bit", "x"),
        ("BITPOS", "nokey", "1", "x"), ("BITPOS", "nokey", "0", "0", "1", "foo"),
        ("BITPOS", "nokey", "2"), ("BITPOS", "l", "1"), ("BITPOS", "l", "5"),
        ("BITPOS", "l", "1", "x"),
        ("BITOP", "FOO", "d", "s"), ("BITOP", "NOT", "d", "s", "s"),
        ("BITOP", "NOT", "d", "l"), ("BITOP", "AND", "d", "s", "l"),
        ("BITOP", "AND", "d", "l", "nokey"), ("BITOP", "AND", "d"),
        ("BITOP", b"and\x00junk", "d", "s"), ("GET", "d"),
        ("BITOP", b"an", "d", "s"), ("BITOP", "notx", "d", "s"),
    ])


def test_bitfield_errors(d):
    d.run([
        ("SET", "s", "abc"), ("LPUSH", "l", "x"),
        ("BITFIELD", "s", "GET", "u64", "0"), ("BITFIELD", "s", "GET", "i65", "0"),
        ("BITFIELD", "s", "GET", "u0", "0"), ("BITFIELD", "s", "GET", "i0", "0"),
        ("BITFIELD", "s", "GET", "I8", "0"), ("BITFIELD", "s", "GET", "U8", "0"),
        ("BITFIELD", "s", "GET", "u", "0"), ("BITFIELD", "s", "GET", "u08", "0"),
        ("BITFIELD", "s", "GET", "u-1", "0"), ("BITFIELD", "s", "GET", "", "0"),
        ("BITFIELD", "s", "GET", b"u8\x00zz", "0"),
        ("BITFIELD", "s", "GET", "u8", "-1"), ("BITFIELD", "s", "GET", "u8", "x"),
        ("BITFIELD", "s", "GET", "u8", "#-1"), ("BITFIELD", "s", "GET", "u8", "#x"),
        ("BITFIELD", "s", "GET", "u8", "##1"), ("BITFIELD", "s", "GET", "u8", "#"),
        ("BITFIELD", "s", "GET", "u8", "4294967296"),
        ("BITFIELD", "s", "GET", "u8", "4294967295"),
        ("BITFIELD", "s", "GET", "u8", "#536870912"),
        ("BITFIELD", "s", "GET", "u8", "#536870911"),
        ("BITFIELD", "s", "GET", "i64", "#144115188075855872"),     # wraps negative
        ("BITFIELD", "s", "GET", "i64", "#288230376151711744"),     # wraps to 0
        ("BITFIELD", "s", "GET", "u8", "#9223372036854775807"),
        ("BITFIELD", "s", "SET", "u8", "0", "x"), ("BITFIELD", "s", "SET", "u8", "0"),
        ("BITFIELD", "s", "INCRBY", "u8", "0", "1.5"),
        ("BITFIELD", "s", "SET", "u8", "0", "99999999999999999999"),
        ("BITFIELD", "s", "OVERFLOW", "FOO"), ("BITFIELD", "s", "OVERFLOW"),
        ("BITFIELD", "s", "FOO"), ("BITFIELD", "s", "GET", "u8"),
        ("BITFIELD", "s", "GET", "u8", "0", "GET"),
        ("BITFIELD", "s", "GET", "u8", "0", "SET", "u8", "0"),
        ("BITFIELD", "s", b"get\x00x", "u8", "0"),
        ("BITFIELD", "s", "OVERFLOW", b"sat\x00x", "INCRBY", "u8", "0", "300"),
        ("BITFIELD", "l", "GET", "u8", "0"), ("BITFIELD", "l", "SET", "u8", "0", "1"),
        ("BITFIELD", "l", "GET", "u64", "0"),
        ("BITFIELD_RO", "s", "SET", "u8", "0", "1"),
        ("BITFIELD_RO", "s", "GET", "u8", "0", "INCRBY", "u8", "0", "1"),
        ("BITFIELD_RO", "s", "OVERFLOW", "SAT", "GET", "u8", "0"),
        ("BITFIELD_RO", "s", "OVERFLOW", "BAD", "GET", "u8", "0"),
        ("BITFIELD_RO", "s", "GET", "u64", "0", "SET", "u8", "0", "1"),
        ("BITFIELD_RO", "l", "GET", "u8", "0"), ("BITFIELD_RO", "l", "SET", "u8", "0", "1"),
        ("BITFIELD_RO", "nokey", "GET", "u8", "0"), ("BITFIELD_RO", "s"),
        ("BITFIELD", "s"), ("BITFIELD", "nokey"), ("EXISTS", "nokey"), ("GET", "s"),
    ])


def test_offset_limit_follows_proto_max_bulk_len(d):
    for conn in (d.kv, d.real):
        conn.call("CONFIG", "SET", "proto-max-bulk-len", "1048576")
    top = 1048576 * 8
    d.run([
        ("SETBIT", "k", str(top), "1"), ("SETBIT", "k", str(top - 1), "1"),
        ("STRLEN", "k"), ("GETBIT", "k", str(top)), ("GETBIT", "k", str(top - 1)),
        ("BITCOUNT", "k"), ("BITPOS", "k", "1"), ("BITPOS", "k", "0", "-1"),
        ("BITFIELD", "k", "GET", "u8", str(top)),
        ("BITFIELD", "k", "GET", "u8", str(top - 1), "GET", "i64", str(top - 1)),
        ("BITFIELD", "k", "SET", "u8", str(top - 1), "255"), ("STRLEN", "k"),
        ("BITFIELD", "k", "SET", "i64", "#131071", "-1"), ("STRLEN", "k"),
        ("BITFIELD", "k", "GET", "i64", "#131072"),
        ("BITOP", "NOT", "n", "k"), ("BITCOUNT", "n"), ("BITPOS", "n", "0"),
        ("BITCOUNT", "n", "-8", "-1", "BIT"), ("BITPOS", "n", "1", "-9", "-1", "BIT"),
    ])


@pytest.mark.parametrize("proto", [2, 3])
def test_bitfield_replies(d, proto):
    if proto == 3:
        resp3(d)
    d.run([
        ("BITFIELD", "k", "SET", "i8", "0", "100", "GET", "i8", "0", "GET", "u4", "0"),
        ("BITFIELD", "k", "INCRBY", "i8", "0", "100", "OVERFLOW", "SAT",
         "INCRBY", "i8", "0", "100", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "1",
         "OVERFLOW", "WRAP", "INCRBY", "i8", "0", "1"),
        ("BITFIELD", "k", "SET", "u8", "#1", "200", "INCRBY", "u8", "#1", "100",
         "GET", "u16", "0", "GET", "i64", "0", "GET", "u63", "1", "GET", "u1", "200"),
        ("BITFIELD", "k", "OVERFLOW", "fail", "SET", "u2", "0", "4"),
        ("BITFIELD", "k", "OVERFLOW", "sat", "SET", "u2", "0", "-1", "SET", "i2", "0", "-100",
         "SET", "i2", "0", "100", "SET", "u2", "0", "100"),
        ("BITFIELD", "k", "set", "i64", "5", "-9223372036854775808",
         "incrby", "i64", "5", "-1", "get", "i64", "5"),
        ("BITFIELD", "k", "overflow", "sat", "incrby", "i64", "5", "-1",
         "incrby", "i64", "5", "9223372036854775807", "incrby", "i64", "5", "1"),
        ("BITFIELD", "k", "overflow", "fail", "incrby", "i64", "5", "1",
         "incrby", "i64", "5", "-9223372036854775808"),
        ("BITFIELD", "k", "set", "u63", "3", "9223372036854775807",
         "incrby", "u63", "3", "1", "overflow", "sat", "incrby", "u63", "3", "-1",
         "incrby", "u63", "3", "9223372036854775807", "set", "u63", "3", "-5"),
        ("GET", "k"),
        ("BITFIELD", "new", "OVERFLOW", "FAIL", "SET", "u2", "40", "5"),
        ("EXISTS", "new"), ("GET", "new"),
        ("BITFIELD", "big", "SET", "u8", "1000", "1"), ("STRLEN", "big"),
        ("BITFIELD_RO", "big", "GET", "u8", "1000", "GET", "u8", "5000"),
    ])


# ---------------------------------------------------------------------------
# BITFIELD overflow, exhaustively for small widths
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("bits", [1, 2, 3, 4])
def test_bitfield_overflow_exhaustive(d, signed, bits):
    typ = ("i%d" if signed else "u%d") % bits
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    deltas = list(range(-20, 21)) + [2**62, -2**62, 2**63 - 1, -2**63]
    for mode in ("WRAP", "SAT", "FAIL"):
        for start in range(lo, hi + 1):
            ops = ["OVERFLOW", mode]
            for delta in deltas:
                ops += ["SET", typ, "3", str(start), "INCRBY", typ, "3", str(delta),
                        "SET", typ, "11", str(delta), "GET", typ, "11"]
            d.call("BITFIELD", "k", *ops)
        d.call("GET", "k")


def test_bitfield_overflow_wide(d):
    for typ in ("i63", "i64", "u62", "u63", "i32", "u32"):
        for mode in ("WRAP", "SAT", "FAIL"):
            ops = ["OVERFLOW", mode]
            for v in ("9223372036854775807", "-9223372036854775808", "4611686018427387904",
                      "-1", "0", "1", "2147483648", "-2147483649", "4294967295"):
                for delta in ("9223372036854775807", "-9223372036854775808", "1", "-1",
                              "4611686018427387904"):
                    ops += ["SET", typ, "7", v, "INCRBY", typ, "7", delta, "GET", typ, "7"]
            d.call("BITFIELD", "w", *ops)


# ---------------------------------------------------------------------------
# Random operations (hypothesis) on both servers
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pair(kv_port, real_port):
    kv, real = RawConn(kv_port), RawConn(real_port)
    yield Differ(kv, real)
    kv.close()
    real.close()


def _reset(pair):
    pair.call("FLUSHALL")


_values = st.binary(max_size=24) | st.integers(-10**18, 10**18).map(lambda n: b"%d" % n)
_index = st.integers(-250, 250)
_unit = st.sampled_from([[], ["BYTE"], ["BIT"], ["bit"]])


@SETTINGS
@given(_values, st.lists(st.tuples(_index, _index, _unit), max_size=8),
       st.lists(st.tuples(st.sampled_from([0, 1]), st.lists(_index, max_size=2),
                          _unit), max_size=8))
def test_bitcount_bitpos_random(pair, value, counts, positions):
    _reset(pair)
    pair.call("SET", "k", value)
    pair.call("BITCOUNT", "k")
    for start, end, unit in counts:
        pair.call("BITCOUNT", "k", str(start), str(end), *unit)
    for bit, rng, unit in positions:
        pair.call("BITPOS", "k", str(bit), *map(str, rng), *(unit if len(rng) == 2 else []))


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 300), st.sampled_from([0, 1])), max_size=30),
       st.lists(st.integers(0, 400), max_size=10))
def test_setbit_getbit_random(pair, sets, gets):
    _reset(pair)
    for off, bit in sets:
        pair.call("SETBIT", "k", str(off), str(bit))
    for off in gets:
        pair.call("GETBIT", "k", str(off))
    pair.call("GET", "k")
    pair.call("BITCOUNT", "k")


@SETTINGS
@given(st.sampled_from(["AND", "OR", "XOR", "NOT", "and", "Xor"]),
       st.lists(st.one_of(st.none(), _values), min_size=1, max_size=4))
def test_bitop_random(pair, op, values):
    _reset(pair)
    pair.call("SET", "dest", "old")
    keys = []
    for i, v in enumerate(values):
        key = "src%d" % i
        if v is not None:
            pair.call("SET", key, v)
        keys.append(key)
    if op.upper() == "NOT":
        keys = keys[:1]
    pair.call("BITOP", op, "dest", *keys)
    pair.call("GET", "dest")
    pair.call("EXISTS", "dest")
    pair.call("OBJECT", "ENCODING", "dest")
    pair.call("BITOP", op, keys[0], *keys)         # destination among the sources
    pair.call("GET", keys[0])


_types = st.sampled_from(["u1", "u3", "u8", "u13", "u31", "u32", "u33", "u63",
                          "i1", "i2", "i8", "i16", "i33", "i63", "i64"])
_field_op = st.one_of(
    st.tuples(st.just("GET"), _types, st.integers(0, 200)),
    st.tuples(st.sampled_from(["SET", "INCRBY"]), _types, st.integers(0, 200),
              st.integers(-2**63, 2**63 - 1) | st.integers(-300, 300)),
    st.tuples(st.just("OVERFLOW"), st.sampled_from(["WRAP", "SAT", "FAIL"])),
)


@SETTINGS
@given(st.none() | _values, st.lists(_field_op, max_size=10), st.booleans())
def test_bitfield_random(pair, value, ops, hashed):
    _reset(pair)
    if value is not None:
        pair.call("SET", "k", value)
    args = []
    for op in ops:
        op = list(op)
        if hashed and op[0] != "OVERFLOW":
            op[2] = "#%d" % (op[2] // 16)
        args += [str(a) for a in op]
    pair.call("BITFIELD", "k", *args)
    pair.call("GET", "k")
    gets = [a for op in ops if op[0] == "GET" for a in ("GET", op[1], str(op[2]))]
    pair.call("BITFIELD_RO", "k", *gets)


# ---------------------------------------------------------------------------
# Side effects: WATCH and the dirty counter
# ---------------------------------------------------------------------------

def _watch_aborts(port, setup, cmd) -> bytes:
    """Run `cmd` from a second connection while the first WATCHes "k";
    the EXEC reply tells whether Redis considered "k" modified."""
    a, b = RawConn(port), RawConn(port)
    try:
        a.call("FLUSHALL")
        for s in setup:
            a.call(*s)
        a.call("WATCH", "k")
        reply = b.call(*cmd)
        a.call("MULTI")
        a.call("PING")
        return reply + a.call("EXEC")
    finally:
        a.close()
        b.close()


WATCH_CASES = [
    ([("SET", "k", b"\x00")], ("SETBIT", "k", "0", "0")),
    ([("SET", "k", b"\x00")], ("SETBIT", "k", "0", "1")),
    ([("SET", "k", b"\x00")], ("SETBIT", "k", "100", "0")),
    ([], ("SETBIT", "k", "3", "0")),
    ([("SET", "k", "a")], ("SETBIT", "k", "1", "1")),
    ([("SET", "k", b"\x00")], ("BITFIELD", "k", "SET", "u8", "0", "0")),
    ([("SET", "k", b"\x00")], ("BITFIELD", "k", "INCRBY", "u8", "0", "0")),
    ([("SET", "k", b"\x00")], ("BITFIELD", "k", "INCRBY", "u8", "0", "1")),
    ([("SET", "k", b"\x00")], ("BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u2", "0", "5")),
    ([("SET", "k", b"\x00")], ("BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u2", "100", "5")),
    ([("SET", "k", b"\x00")], ("BITFIELD", "k", "SET", "u2", "100", "0")),
    ([("SET", "k", b"\x00")], ("BITFIELD", "k", "GET", "u2", "100")),
    ([], ("BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u2", "0", "5")),
    ([], ("BITFIELD", "k", "SET", "u2", "0", "0")),
    ([], ("BITFIELD", "k", "GET", "u2", "0")),
    ([("SET", "k", "a")], ("BITOP", "OR", "k", "k")),
    ([], ("BITOP", "OR", "k", "nokey")),
    ([("SET", "k", "a")], ("BITOP", "OR", "k", "nokey")),
    ([("SET", "k", "a")], ("BITCOUNT", "k")),
]


@pytest.mark.parametrize("setup,cmd", WATCH_CASES)
def test_watch_sees_what_redis_signals(kv_port, real_port, setup, cmd):
    assert _watch_aborts(kv_port, setup, cmd) == _watch_aborts(real_port, setup, cmd)


def _dirty_deltas(port, cmds) -> list:
    """Each reply, and for the commands of this family (other modules'
    dirty accounting is theirs) what it added to the dirty counter."""
    c = RawConn(port)
    try:
        c.call("FLUSHALL")
        out = []
        for cmd in cmds:
            before = _changes(c)
            reply = c.call(*cmd)
            mine = cmd[0].lower() in FAMILY
            out.append((reply, _changes(c) - before if mine else None))
        return out
    finally:
        c.close()


def _changes(c) -> int:
    info = c.call("INFO", "persistence").decode()
    for line in info.split("\r\n"):
        if line.startswith("rdb_changes_since_last_save:"):
            return int(line.split(":")[1])
    raise AssertionError(info)


FAMILY = ("setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield",
          "bitfield_ro")


def test_dirty_counter_matches(kv_port, real_port):
    cmds = [("BITOP", "OR", "d", "nokey"), ("SET", "k", "a"), ("BITOP", "OR", "d", "k"),
            ("BITOP", "AND", "d", "nokey"), ("BITOP", "AND", "d", "nokey"),
            ("SETBIT", "k", "0", "0"), ("SETBIT", "k", "1", "1"), ("SETBIT", "k", "0", "1"),
            ("SETBIT", "k", "64", "0"),
            ("BITFIELD", "k", "SET", "u8", "0", "0", "SET", "u8", "8", "1"),
            ("BITFIELD", "k", "SET", "u8", "0", "0", "GET", "u8", "0"),
            ("BITFIELD", "k", "INCRBY", "u4", "0", "3", "INCRBY", "u4", "0", "3",
             "OVERFLOW", "FAIL", "INCRBY", "u4", "0", "100"),
            ("BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u2", "400", "5"),
            ("BITFIELD", "nk", "SET", "u2", "0", "0")]
    assert _dirty_deltas(kv_port, cmds) == _dirty_deltas(real_port, cmds)


# ---------------------------------------------------------------------------
# Declarations and redis-py
# ---------------------------------------------------------------------------

BITMAP_COMMANDS = ("setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield",
                   "bitfield_ro")


@pytest.mark.parametrize("proto", [2, 3])
def test_command_info_and_docs(d, proto):
    if proto == 3:
        resp3(d)
    for name in BITMAP_COMMANDS:
        d.call("COMMAND", "INFO", name)
        d.call("COMMAND", "DOCS", name)
    d.run([
        ("COMMAND", "GETKEYS", "BITOP", "AND", "d", "a", "b"),
        ("COMMAND", "GETKEYS", "BITFIELD", "k", "GET", "u8", "0"),
        ("COMMAND", "GETKEYS", "BITCOUNT", "k", "0", "1"),
    ])


def test_redis_py(r, real):
    for c in (r, real):
        c.setbit("b", 5, 1)
        c.set("s", "foobar")
    assert r.getbit("b", 5) == real.getbit("b", 5) == 1
    assert r.bitcount("s") == real.bitcount("s") == 26
    assert r.bitcount("s", 1, 1) == real.bitcount("s", 1, 1)
    assert r.bitpos("s", 1, 1) == real.bitpos("s", 1, 1)
    assert r.bitop("XOR", "x", "s", "b") == real.bitop("XOR", "x", "s", "b") == 6
    assert r.get("x") == real.get("x")
    for c in (r, real):
        bf = c.bitfield("f")
        bf.set("i8", "#0", 100).incrby("i8", "#0", 100).overflow("SAT").incrby("u4", 20, 40)
        c._res = bf.execute()
    assert r._res == real._res
    assert r.bitfield_ro("f", "u8", 0, items=[("i4", 4)]) == \
        real.bitfield_ro("f", "u8", 0, items=[("i4", 4)])


def test_long_strings_stay_fast_paths(d):
    """Whole-range work on a few MB goes through the chunked helpers."""
    rnd = random.Random(7)
    blob = bytes(rnd.getrandbits(8) for _ in range(300_000)) * 8
    d.call("SET", "big", blob)
    d.run([
        ("BITCOUNT", "big"), ("BITCOUNT", "big", "1000", "-1000"),
        ("BITCOUNT", "big", "12345", "9999999", "BIT"),
        ("SETBIT", "zeros", "20000000", "1"), ("BITPOS", "zeros", "1"),
        ("BITPOS", "zeros", "0", "1"), ("BITPOS", "zeros", "1", "5", "-1", "BIT"),
        ("BITOP", "NOT", "ones", "zeros"), ("BITPOS", "ones", "0"),
        ("BITOP", "XOR", "x", "big", "zeros", "ones"), ("BITCOUNT", "x"),
        ("STRLEN", "x"),
    ])
