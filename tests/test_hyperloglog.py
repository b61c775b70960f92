"""HyperLogLog against the real redis-server 7.0: the stored string byte for
byte, the estimates exactly, and kvserver.datastructs.hll against models.

- Differential: after every PFADD/PFCOUNT/PFMERGE/PFDEBUG the key's bytes
  (GET) must equal Redis's: sparse, at and after the promotion to dense
  (for several hll-sparse-max-bytes), dense, merged; PFCOUNT replies equal.
- Hash and registers: pat_len (MurmurHash64A, index/run split) against
  the registers Redis reports with PFDEBUG GETREG.
- Corruption: values damaged with SETRANGE/APPEND (header, opcodes, tails)
  get the same replies and the same bytes afterwards, on a redis-server of
  their own.
- Model tests: the vectorised register packing, maxima and histograms
  against per-register loops; Sparse editing against a register array.
- Side effects: WATCH, the dirty counter, OBJECT ENCODING.
"""

import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import Differ, RawConn, start_redis
from kvserver.datastructs import hll

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def resp3(d):
    # HELLO's reply carries the connection id, so it is not compared
    for conn in (d.kv, d.real):
        assert conn.call("HELLO", "3").startswith(b"%7\r\n")


def set_both(d, *args):
    for conn in (d.kv, d.real):
        conn.call(*args)


@pytest.fixture
def d(diff):
    yield diff
    set_both(diff, "CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def elements(prefix, n, start=0):
    return [b"%s%d" % (prefix.encode(), i) for i in range(start, start + n)]


def bulk_value(reply: bytes) -> bytes:
    assert reply.startswith(b"$")
    head, _, rest = reply.partition(b"\r\n")
    return rest[:int(head[1:])]


# ---------------------------------------------------------------------------
# The structure against models
# ---------------------------------------------------------------------------

def _random_raw(seed_and_top):
    seed, top = seed_and_top
    rnd = random.Random(seed)
    return bytes(rnd.randrange(top + 1) for _ in range(hll.REGISTERS))


# register arrays: random seeds, values up to a random maximum
_raw = st.tuples(st.integers(0, 2**32), st.sampled_from([0, 1, 5, 32, 63])).map(_random_raw)


@settings(max_examples=40, deadline=None)
@given(_raw, _raw)
def test_register_packing_against_loops(a, b):
    dense = hll.raw_to_dense(a)
    regs = bytearray(hll.HDR_SIZE) + dense
    assert bytes(hll.dense_get(regs, i) for i in range(hll.REGISTERS)) == a
    built = bytearray(hll.DENSE_SIZE)
    for i in (0, 1, 2, 3, 4, 5, 16381, 16382, 16383):
        hll.dense_set(built, i, a[i])
        assert hll.dense_get(built, i) == a[i]
    assert hll.dense_to_raw(dense) == a
    assert hll.raw_max(a, b) == bytes(map(max, a, b))
    hist = hll.histogram(a)
    assert hist == [Counter(a)[v] for v in range(64)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, hll.REGISTERS - 1), st.integers(1, 32)),
                max_size=300))
def test_sparse_set_against_register_array(sets):
    sp = hll.Sparse(hll.EMPTY_SPARSE[hll.HDR_SIZE:])
    model = bytearray(hll.REGISTERS)
    for index, count in sets:
        r = sp.set(index, count, 1 << 30)
        assert r == (1 if count > model[index] else 0)
        model[index] = max(model[index], count)
        # the opcodes stay canonical enough: contiguous, starts consistent
        assert sp.nbytes == hll.HDR_SIZE + len(sp.body())
    assert sp.to_raw() == model
    hist = sp.histogram()
    assert hist == [Counter(model)[v] for v in range(64)]
    assert hll.Sparse(sp.body()).to_raw() == model


def test_estimator_edges():
    empty = [hll.REGISTERS] + [0] * 63
    assert hll.estimate(empty) == 0
    assert hll.cardinality(bytearray(hll.EMPTY_SPARSE)) == 0
    dense = bytearray(hll.MAGIC + bytes(12)) + hll.raw_to_dense(bytes(hll.REGISTERS))
    assert hll.valid_encoding(dense) == hll.DENSE
    assert hll.cardinality(dense) == 0
    assert hll.valid_encoding(dense[:-1]) is None
    assert hll.valid_encoding(12345) is None
    assert hll.valid_encoding(b"HYLL\x02" + bytes(11)) is None


def test_pat_len_matches_redis_registers(real):
    """Each element alone in an HLL sets exactly the register pat_len says."""
    rnd = random.Random(3)
    samples = [b"", b"a", b"foo", b"12345678", b"123456789abcdef0",
               bytes(range(256)), b"x" * 1000]
    samples += [rnd.randbytes(rnd.randrange(0, 40)) for _ in range(40)]
    for ele in samples:
        real.delete("h")
        real.pfadd("h", ele)
        regs = real.execute_command("PFDEBUG", "GETREG", "h")
        index, count = hll.pat_len(ele)
        assert regs[index] == count
        assert sum(1 for r in regs if r) == 1


# ---------------------------------------------------------------------------
# Differential: the bytes of the value
# ---------------------------------------------------------------------------

def test_basic_replies(d):
    d.run([
        ("PFADD", "h"), ("GET", "h"), ("EXISTS", "h"), ("PFCOUNT", "h"), ("GET", "h"),
        ("PFADD", "h"), ("PFADD", "h", "a", "b", "c", "d", "e", "f", "g"), ("GET", "h"),
        ("PFCOUNT", "h"), ("GET", "h"), ("GETRANGE", "h", "15", "15"),
        ("PFADD", "h", "a"), ("GETRANGE", "h", "15", "15"), ("PFADD", "h", ""),
        ("GET", "h"), ("PFCOUNT", "h"), ("PFCOUNT", "h"),
        ("PFCOUNT", "nokey"), ("PFCOUNT", "nokey", "nokey2"), ("PFCOUNT", "h", "nokey"),
        ("OBJECT", "ENCODING", "h"), ("STRLEN", "h"), ("TYPE", "h"),
    ])


def test_type_errors(d):
    d.run([
        ("SET", "s", "foo"), ("SET", "n", "12345"), ("LPUSH", "l", "x"),
        ("SET", "long", "x" * 20), ("SET", "magic", b"HYLL\x02" + bytes(20)),
        ("SET", "dense_short", b"HYLL\x00" + bytes(20)), ("SET", "hdr", b"HYLL\x01"),
        ("SET", "exact", hll.EMPTY_SPARSE), ("PFCOUNT", "exact"), ("OBJECT", "ENCODING", "exact"),
    ] + [(cmd, key, *extra)
         for key in ("s", "n", "l", "long", "magic", "dense_short", "hdr")
         for cmd, *extra in (("PFADD", "x"), ("PFCOUNT",), ("PFDEBUG", "GETREG"),
                             ("PFDEBUG", "DECODE"))] + [
        ("PFCOUNT", "exact", "s"), ("PFCOUNT", "l", "exact"), ("PFMERGE", "exact", "n"),
        ("PFMERGE", "l", "exact"), ("PFMERGE", "newdest", "s"), ("EXISTS", "newdest"),
        ("PFADD",), ("PFCOUNT",), ("PFMERGE",), ("PFDEBUG", "GETREG"),
        ("PFDEBUG", "GETREG", "exact", "extra"), ("PFSELFTEST", "x"),
    ])


@pytest.mark.parametrize("max_bytes", [3000, 0, 1, 20, 100, 700, 5000])
def test_sparse_to_dense_sequences(d, max_bytes):
    set_both(d, "CONFIG", "SET", "hll-sparse-max-bytes", str(max_bytes))
    rnd = random.Random(max_bytes)
    added = 0
    while added < 4000:
        n = rnd.choice([1, 1, 1, 3, 10, 60])
        d.call("PFADD", "h", *elements("e", n, rnd.randrange(10**6)))
        added += n
        d.call("GET", "h")
        if rnd.random() < 0.1:
            d.call("PFCOUNT", "h")
            d.call("GET", "h")
    d.call("PFDEBUG", "ENCODING", "h")
    d.call("PFCOUNT", "h")


# An element whose run of zeros is 34 long (found by brute force over
# "long-run-N": one element in 2**32 has a run above 32).
LONG_RUN = b"long-run-4122089656"


def test_promotion_by_register_value(d):
    """A register above 32 cannot be sparse: the HLL turns dense however
    small it is."""
    assert hll.pat_len(LONG_RUN) == (7610, 34)
    d.run([
        ("PFADD", "h", "a", "b"), ("PFADD", "h", "c", LONG_RUN, "d"), ("GET", "h"),
        ("PFDEBUG", "ENCODING", "h"), ("PFCOUNT", "h"),
        ("PFADD", "fresh", LONG_RUN), ("GET", "fresh"),
        ("PFADD", "s", "x"), ("PFCOUNT", "s"), ("PFADD", "s", LONG_RUN), ("GET", "s"),
        ("PFMERGE", "m", "s"), ("GET", "m"), ("PFADD", "t", "y"),
        ("PFCOUNT", "t", "fresh"), ("PFDEBUG", "GETREG", "fresh"),
    ])


def test_large_adds_and_counts(d):
    d.call("PFADD", "big", *elements("x", 20000))
    d.run([("GET", "big"), ("PFCOUNT", "big"), ("GET", "big"),
           ("PFADD", "big", *elements("x", 10, 19995)), ("PFADD", "big", "new"),
           ("GET", "big"), ("PFCOUNT", "big")])
    for step in range(5):
        d.call("PFADD", "many", *elements("m%d-" % step, 50000))
        d.call("PFCOUNT", "many")
    d.call("GET", "many")


@pytest.mark.parametrize("seed", range(6))
def test_pfmerge(d, seed):
    rnd = random.Random(seed)
    if seed >= 3:
        set_both(d, "CONFIG", "SET", "hll-sparse-max-bytes", str(rnd.choice([50, 400, 1500])))
    sizes = {"s1": 30, "s2": 200, "s3": 900, "d1": 6000}
    for key, n in sizes.items():
        d.call("PFADD", key, *elements(key + "-" + str(seed), n))
    keys = list(sizes) + ["missing"]
    for _ in range(8):
        dest = rnd.choice(["m1", "m2"] + keys[:3])
        srcs = rnd.sample(keys, rnd.randrange(0, 4))
        d.call("PFMERGE", dest, *srcs)
        d.call("GET", dest)
        d.call("PFCOUNT", dest)
        d.call("PFCOUNT", dest, *srcs)
    d.run([("PFMERGE", "only"), ("GET", "only"), ("PFMERGE", "s1", "s1"), ("GET", "s1"),
           ("PFMERGE", "s1", "s2", "s3"), ("GET", "s1"), ("PFMERGE", "dd", "d1", "s1"),
           ("GET", "dd"), ("PFCOUNT", "s1", "s2", "s3", "d1", "missing")])


def test_pfmerge_promotes_midway(d):
    """Many sparse sources whose union outgrows the sparse limit."""
    for i in range(8):
        d.call("PFADD", "src%d" % i, *elements("u%d-" % i, 250))
    d.call("PFMERGE", "all", *["src%d" % i for i in range(8)])
    d.call("GET", "all")
    d.call("PFDEBUG", "ENCODING", "all")
    set_both(d, "CONFIG", "SET", "hll-sparse-max-bytes", "200")
    d.call("PFMERGE", "partial", "src0", "src1")
    d.call("GET", "partial")


def test_pfdebug(d):
    d.run([
        ("PFADD", "h", *elements("p", 40)), ("PFDEBUG", "DECODE", "h"),
        ("PFDEBUG", "decode", "h"), ("PFDEBUG", "ENCODING", "h"), ("PFDEBUG", "GETREG", "h"),
        ("GET", "h"), ("PFDEBUG", "ENCODING", "h"), ("PFDEBUG", "DECODE", "h"),
        ("PFDEBUG", "TODENSE", "h"),
        ("PFADD", "h2", "a", "b"), ("PFCOUNT", "h2"), ("PFDEBUG", "TODENSE", "h2"),
        ("GET", "h2"), ("PFCOUNT", "h2"), ("PFDEBUG", "TODENSE", "h2"),
        ("PFADD", "e"), ("PFDEBUG", "DECODE", "e"),
        ("PFDEBUG", "FOO", "h"), ("PFDEBUG", "FOO", "missing"),
        ("PFDEBUG", b"getreg\x00x", "h2"), ("PFDEBUG", "bad\r\nname", "h2"),
        ("PFDEBUG", "GETREG", "missing"), ("PFDEBUG", "ENCODING", "missing"),
    ])


@pytest.mark.parametrize("proto", [2, 3])
def test_resp3_replies(d, proto):
    if proto == 3:
        resp3(d)
    d.run([("PFADD", "h", "a", "b"), ("PFCOUNT", "h"), ("PFDEBUG", "ENCODING", "h"),
           ("PFDEBUG", "DECODE", "h"), ("PFMERGE", "m", "h"), ("PFDEBUG", "GETREG", "m"),
           ("PFCOUNT", "nokey")])


def test_selftest_passes(d):
    assert d.call("PFSELFTEST") == b"+OK\r\n"
    # with a tiny sparse limit the first element already promotes, which
    # the test reports on both servers
    set_both(d, "CONFIG", "SET", "hll-sparse-max-bytes", "10")
    assert d.call("PFSELFTEST") == b"-ERR TESTFAILED sparse encoding not used\r\n"


def test_selftest_detects_a_broken_estimator(monkeypatch):
    monkeypatch.setattr(hll, "estimate", lambda hist: 12345)
    err = hll.selftest(3000, random.Random(1))
    assert err.startswith(b"ERR TESTFAILED ")


@SETTINGS
@given(st.lists(st.lists(st.binary(max_size=6), max_size=40), min_size=1, max_size=6),
       st.sampled_from([3000, 30, 300]))
def test_random_adds(pair, batches, max_bytes):
    pair.call("FLUSHALL")
    pair.call("CONFIG", "SET", "hll-sparse-max-bytes", str(max_bytes))
    try:
        for batch in batches:
            pair.call("PFADD", "h", *batch)
            pair.call("GET", "h")
        pair.call("PFCOUNT", "h")
        pair.call("GET", "h")
    finally:
        pair.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


@pytest.fixture(scope="module")
def pair(kv_port, real_port):
    kv, real = RawConn(kv_port), RawConn(real_port)
    yield Differ(kv, real)
    kv.close()
    real.close()


# ---------------------------------------------------------------------------
# Values from elsewhere and corrupted values
# ---------------------------------------------------------------------------

def test_values_copied_from_redis(d):
    """An HLL built by Redis, stored with SET, behaves the same."""
    for n in (5, 1500, 9000):
        d.real.call("DEL", "src")
        d.real.call("PFADD", "src", *elements("c", n))
        blob = bulk_value(d.real.call("GET", "src"))
        d.call("SET", "h%d" % n, blob)
        d.run([("OBJECT", "ENCODING", "h%d" % n), ("PFCOUNT", "h%d" % n),
               ("OBJECT", "ENCODING", "h%d" % n), ("GET", "h%d" % n),
               ("PFADD", "h%d" % n, *elements("more", 30)), ("GET", "h%d" % n)])


@pytest.fixture(scope="module")
def fuzz_pair(kv_port):
    """Corrupted values go to a redis-server of their own."""
    with start_redis() as (_, port):
        kv, real = RawConn(kv_port), RawConn(port)
        yield Differ(kv, real)
        kv.close()
        real.close()


CORRUPTIONS = [
    ("APPEND", "h", "hello"),               # opcodes past the last register
    ("APPEND", "h", b"\x80"),               # one VAL past the end (tolerated by merges)
    ("APPEND", "h", b"\x00"),               # one ZERO past the end
    ("APPEND", "h", b"\x7f"),               # a cut-short XZERO
    ("SETRANGE", "h", "0", "0123"),         # magic
    ("SETRANGE", "h", "4", "x"),            # encoding
    ("SETRANGE", "h", "4", b"\x00"),        # dense of the wrong length
    ("SETRANGE", "h", "16", b"\x7f\xf0"),   # XZERO too short
    ("SETRANGE", "h", "16", b"\x00"),       # ZERO instead of XZERO
    ("SETRANGE", "h", "17", b"\x01"),
    ("SETRANGE", "h", "5", "abc"),          # the unused bytes are kept
    ("SETRANGE", "h", "8", b"\x07\x00\x00\x00\x00\x00\x00\x00"),   # a valid-looking cache
]


@pytest.mark.parametrize("corruption", CORRUPTIONS, ids=range(len(CORRUPTIONS)))
@pytest.mark.parametrize("size", [3, 200])
def test_corrupted_values(fuzz_pair, corruption, size):
    p = fuzz_pair
    p.call("FLUSHALL")
    p.call("PFADD", "h", *elements("z", size))
    p.call("PFADD", "ok", *elements("y", 20))
    p.call(*corruption)
    for cmd in (("PFCOUNT", "h"), ("GET", "h"), ("PFCOUNT", "h", "ok"),
                ("PFMERGE", "m", "ok", "h"), ("GET", "m"), ("PFDEBUG", "DECODE", "h"),
                ("PFADD", "h", *elements("w", 30)), ("GET", "h"),
                ("PFADD", "h", *elements("v", 3000)), ("GET", "h"),
                ("PFMERGE", "h", "ok"), ("GET", "h"), ("PFDEBUG", "GETREG", "h"),
                ("GET", "h"), ("PFCOUNT", "h")):
        p.call(*cmd)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 120), st.lists(st.tuples(st.integers(16, 80), st.binary(min_size=1,
                                                                          max_size=3)),
                                     min_size=1, max_size=3),
       st.binary(max_size=4))
def test_fuzzed_sparse_values(fuzz_pair, size, patches, tail):
    p = fuzz_pair
    p.call("FLUSHALL")
    p.call("PFADD", "h", *elements("f", size))
    p.call("PFADD", "ok", "a", "b", "c")
    for offset, data in patches:
        p.call("SETRANGE", "h", str(offset), data)
    if tail:
        p.call("APPEND", "h", tail)
    for cmd in (("PFDEBUG", "DECODE", "h"), ("PFCOUNT", "h", "ok"), ("PFCOUNT", "h"),
                ("PFADD", "h", *elements("g", 40)), ("GET", "h"),
                ("PFMERGE", "ok", "h"), ("GET", "ok"), ("PFDEBUG", "TODENSE", "h"),
                ("GET", "h")):
        p.call(*cmd)


# ---------------------------------------------------------------------------
# Side effects
# ---------------------------------------------------------------------------

def _watch_reply(port, setup, cmd) -> bytes:
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
    ([("PFADD", "k", "a")], ("PFADD", "k", "a")),
    ([("PFADD", "k", "a")], ("PFADD", "k", "b")),
    ([("PFADD", "k", "a")], ("PFADD", "k")),
    ([("PFADD", "k", "a")], ("PFCOUNT", "k")),
    ([("PFADD", "k", "a"), ("PFCOUNT", "k")], ("PFCOUNT", "k")),
    ([("PFADD", "k", "a")], ("PFCOUNT", "k", "k")),
    ([("PFADD", "k", "a")], ("PFDEBUG", "TODENSE", "k")),
    ([("PFADD", "k", "a")], ("PFDEBUG", "GETREG", "k")),
    ([("PFADD", "k", "a")], ("PFMERGE", "k")),
    ([("PFADD", "k", "a"), ("PFADD", "o", "b")], ("PFMERGE", "o", "k")),
]


@pytest.mark.parametrize("setup,cmd", WATCH_CASES, ids=range(len(WATCH_CASES)))
def test_watch_sees_what_redis_signals(kv_port, real_port, setup, cmd):
    a = _watch_reply(kv_port, setup, cmd)
    b = _watch_reply(real_port, setup, cmd)
    if cmd[:2] == ("PFDEBUG", "GETREG"):
        a, b = a[-20:], b[-20:]
    assert a == b


def _changes(c) -> int:
    info = c.call("INFO", "persistence").decode()
    for line in info.split("\r\n"):
        if line.startswith("rdb_changes_since_last_save:"):
            return int(line.split(":")[1])
    raise AssertionError(info)


def test_dirty_counter_matches(kv_port, real_port):
    cmds = [("PFADD", "h"), ("PFADD", "h", "a", "b", "c"), ("PFADD", "h", "a"),
            ("PFCOUNT", "h"), ("PFCOUNT", "h"), ("PFCOUNT", "h", "h"),
            ("PFDEBUG", "TODENSE", "h"), ("PFDEBUG", "TODENSE", "h"),
            ("PFADD", "s", "x"), ("PFDEBUG", "GETREG", "s"), ("PFDEBUG", "DECODE", "h"),
            ("PFMERGE", "m", "h", "s"), ("PFMERGE", "m")]
    results = []
    for port in (kv_port, real_port):
        c = RawConn(port)
        try:
            c.call("FLUSHALL")
            out = []
            for cmd in cmds:
                before = _changes(c)
                reply = c.call(*cmd)
                out.append((reply[:40], _changes(c) - before))
            results.append(out)
        finally:
            c.close()
    assert results[0] == results[1]


HLL_COMMANDS = ("pfadd", "pfcount", "pfmerge", "pfdebug", "pfselftest")


@pytest.mark.parametrize("proto", [2, 3])
def test_command_info_and_docs(d, proto):
    if proto == 3:
        resp3(d)
    for name in HLL_COMMANDS:
        d.call("COMMAND", "INFO", name)
        d.call("COMMAND", "DOCS", name)
    d.run([("COMMAND", "GETKEYS", "PFMERGE", "d", "a", "b"),
           ("COMMAND", "GETKEYS", "PFCOUNT", "a", "b"),
           ("COMMAND", "GETKEYS", "PFDEBUG", "GETREG", "k")])


def test_redis_py(r, real):
    for c in (r, real):
        c.pfadd("a", *range(100))
        c.pfadd("b", *range(50, 300))
    assert r.pfcount("a") == real.pfcount("a")
    assert r.pfcount("a", "b") == real.pfcount("a", "b")
    assert r.pfmerge("m", "a", "b") and real.pfmerge("m", "a", "b")
    assert r.get("m") == real.get("m")
