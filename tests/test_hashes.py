"""Hash type: the compact encoding against a dict model, and every hash
command against the real redis-server 7.0, byte for byte.

- Property tests (hypothesis) drive `kvserver.datastructs.hash.Hash`
  through random writes and check contents, listpack order and the
  encoding decision against a plain model.
- Differential tests send the same commands to kvserver and redis-server
  (`diff` fixture) and compare the raw replies; orders that Redis leaves
  unspecified (hashtable-encoded hashes) are compared as multisets, but
  only there: listpack hashes must come back in identical order.
- Encodings are compared through OBJECT ENCODING at the conversion
  boundaries (entry count, field and value length, CONFIG SET of the
  thresholds and their ziplist aliases).
- RESP3 replies are checked after HELLO 3 on both connections.

`parse` and `call_both` are reused by test_sets.py.
"""

import random

import pytest
from hypothesis import given, settings, strategies as st

from kvserver.datastructs.hash import Hash, blob_len, pack, unpack

THRESHOLDS = (("hash-max-listpack-entries", "512"), ("hash-max-listpack-value", "64"),
              ("set-max-intset-entries", "512"))


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def parse(data: bytes, pos: int = 0):
    """One RESP2/RESP3 reply -> (value, end).  Aggregates become (type, list)
    with type one of '*' '~' '%' '>'; a map's list holds (key, value) pairs;
    errors become ('-', text); simple strings ('+', text)."""
    t = data[pos:pos + 1]
    nl = data.index(b"\r\n", pos)
    line = data[pos + 1:nl]
    pos = nl + 2
    if t == b"+":
        return ("+", line), pos
    if t == b"-":
        return ("-", line), pos
    if t == b":":
        return int(line), pos
    if t == b"_":
        return None, pos
    if t == b",":
        return (",", line), pos
    if t == b"#":
        return line == b"t", pos
    if t in (b"$", b"="):
        n = int(line)
        if n < 0:
            return None, pos
        return data[pos:pos + n], pos + n + 2
    if t in (b"*", b"~", b">", b"%"):
        n = int(line)
        if n < 0:
            return None, pos
        items = []
        for _ in range(n * 2 if t == b"%" else n):
            v, pos = parse(data, pos)
            items.append(v)
        if t == b"%":
            items = list(zip(items[::2], items[1::2]))
        return (t.decode(), items), pos
    raise ValueError(f"bad reply {data[pos - len(line) - 3:]!r}")


def value(data: bytes):
    v, end = parse(data)
    assert end == len(data)
    return v


def _key(x):
    return repr(x)


def unordered(v):
    """A reply with the order of every aggregate's items forgotten."""
    if isinstance(v, tuple) and v and v[0] in ("*", "~", "%", ">") and isinstance(v[1], list):
        return (v[0], sorted((unordered(i) for i in v[1]), key=_key))
    if isinstance(v, tuple) and len(v) == 2 and not isinstance(v[0], str):
        return tuple(unordered(i) for i in v)
    return v


def call_both(diff, *args):
    """Send to both servers without comparing: (kvserver reply, redis reply)."""
    return diff.kv.call(*args), diff.real.call(*args)


def resp3(diff):
    # HELLO's reply carries the connection id, so it is not compared
    a, b = call_both(diff, "HELLO", "3")
    assert a.startswith(b"%7\r\n") and b.startswith(b"%7\r\n")


def encoding_same(diff, key):
    return diff.call("OBJECT", "ENCODING", key)


@pytest.fixture
def d(diff):
    yield diff
    for conn in (diff.kv, diff.real):
        for name, v in THRESHOLDS:
            conn.call("CONFIG", "SET", name, v)


# ---------------------------------------------------------------------------
# The data structure against a model
# ---------------------------------------------------------------------------

_fields = st.binary(max_size=6) | st.sampled_from([b"a", b"b", b"1", b"-1", b"0"])
_values = st.binary(max_size=10) | st.integers(-10**20, 10**20).map(lambda n: b"%d" % n)

_ops = st.lists(st.one_of(
    st.tuples(st.just("set"), _fields, _values),
    st.tuples(st.just("pairs"), st.lists(st.tuples(_fields, _values), min_size=1, max_size=6)),
    st.tuples(st.just("del"), st.lists(_fields, min_size=1, max_size=4)),
), max_size=40)


@settings(max_examples=400, deadline=None)
@given(ops=_ops, max_entries=st.integers(0, 12), max_value=st.integers(0, 12))
def test_hash_against_model(ops, max_entries, max_value):
    h = Hash()
    model = {}              # insertion-ordered, as a listpack is
    converted = False
    for op in ops:
        if op[0] == "set":
            _, f, v = op
            if len(f) > max_value or len(v) > max_value:
                converted = True
            new = f not in model
            model[f] = v
            if len(model) > max_entries:
                converted = True
            assert h.set(f, v, max_entries, max_value) == new
        elif op[0] == "pairs":
            argv = [b"hset", b"k"] + [x for p in op[1] for x in p]
            if any(len(x) > max_value for x in argv[2:]):
                converted = True
            before = len(model)
            for f, v in op[1]:
                model[f] = v
            if len(model) > max_entries:
                converted = True
            assert h.set_pairs(argv, 2, max_entries, max_value) == len(model) - before
        else:
            gone = 0
            for f in op[1]:
                if model.pop(f, None) is not None:
                    gone += 1
            assert h.delete(op[1]) == gone
        assert len(h) == len(model)
        assert h.encoding() == ("hashtable" if converted else "listpack")
        assert h.as_dict() == model
        if not converted:
            # listpack order is the model's insertion order
            flat = [x for kv in model.items() for x in kv]
            assert list(h.flat()) == flat
            assert list(h.fields()) == list(model)
            assert list(h.values()) == list(model.values())
        for f in list(model)[:3] + [b"missing"]:
            assert h.get(f) == model.get(f)
            assert h.exists(f) == (f in model)
    c = h.copy()
    assert c.encoding() == h.encoding() and c.as_dict() == h.as_dict()


@given(st.lists(st.binary(max_size=3) | st.binary(min_size=250, max_size=300),
                max_size=300))
@settings(max_examples=150, deadline=None)
def test_pack_roundtrip_and_len(items):
    import marshal
    t = tuple(items[:len(items) // 2 * 2])
    blob = pack(t)
    assert unpack(blob) == t
    assert blob_len(blob) == len(t) // 2
    # items of 256 bytes or more take the marshal form
    assert (blob[0] == 1) == all(len(x) < 256 for x in t)
    assert blob_len(marshal.dumps(t)) == len(t) // 2


def test_pack_many_items_falls_back():
    t = tuple(b"%d" % i for i in range(70000))
    assert unpack(pack(t)) == t and blob_len(pack(t)) == 35000


# ---------------------------------------------------------------------------
# Differential: replies and errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("proto", [2, 3])
def test_basic_replies(d, proto):
    if proto == 3:
        resp3(d)
    d.run([
        ("HSET", "h", "a", "1", "b", "2", "c", ""),
        ("HSET", "h", "a", "10", "d", "4"),
        ("HGET", "h", "a"), ("HGET", "h", "zz"), ("HGET", "nokey", "a"),
        ("HMGET", "h", "a", "zz", "d"), ("HMGET", "nokey", "a", "b"),
        ("HGETALL", "h"), ("HGETALL", "nokey"),
        ("HKEYS", "h"), ("HKEYS", "nokey"), ("HVALS", "h"), ("HVALS", "nokey"),
        ("HLEN", "h"), ("HLEN", "nokey"),
        ("HSTRLEN", "h", "a"), ("HSTRLEN", "h", "c"), ("HSTRLEN", "h", "zz"),
        ("HSTRLEN", "nokey", "a"),
        ("HEXISTS", "h", "a"), ("HEXISTS", "h", "zz"), ("HEXISTS", "nokey", "a"),
        ("HSETNX", "h", "a", "x"), ("HSETNX", "h", "e", "5"), ("HSETNX", "new", "f", "v"),
        ("HMSET", "h", "f", "6", "g", "7"),
        ("HDEL", "h", "zz"), ("HDEL", "h", "a", "a", "zz", "b"), ("HDEL", "nokey", "a"),
        ("HGETALL", "h"),
        ("HDEL", "new", "f"), ("EXISTS", "new"),
        ("HSCAN", "h", "0"), ("HSCAN", "h", "0", "MATCH", "[de]"),
        ("HSCAN", "h", "0", "COUNT", "1"), ("HSCAN", "nokey", "0"),
        ("HRANDFIELD", "nokey"), ("HRANDFIELD", "nokey", "3"),
        ("HRANDFIELD", "nokey", "-3", "WITHVALUES"), ("HRANDFIELD", "h", "0"),
        ("HRANDFIELD", "h", "100"), ("HRANDFIELD", "h", "100", "WITHVALUES"),
        ("HRANDFIELD", "h", "100", "withvalues"),
        ("HSET", "one", "f", "v"), ("HRANDFIELD", "one"), ("HRANDFIELD", "one", "-3"),
        ("HRANDFIELD", "one", "-2", "WITHVALUES"), ("HRANDFIELD", "one", "1", "WITHVALUES"),
        ("HSET", "e", "", ""), ("HGETALL", "e"), ("HSCAN", "e", "0", "MATCH", "*"),
        ("HSCAN", "e", "0", "MATCH", "?"),
    ])


def test_errors(d):
    d.call("SET", "str", "x")
    d.call("HSET", "h", "n", "10", "f", "1.5", "s", "abc", "big", "9223372036854775807",
           "neg", "-9223372036854775808", "sp", " 1", "inf", "inf", "huge", "1e4932")
    for name, argc in (("HSET", 4), ("HSETNX", 4), ("HGET", 3), ("HMGET", 3),
                       ("HMSET", 4), ("HDEL", 3), ("HLEN", 2), ("HSTRLEN", 3),
                       ("HEXISTS", 3), ("HKEYS", 2), ("HVALS", 2), ("HGETALL", 2),
                       ("HINCRBY", 4), ("HINCRBYFLOAT", 4), ("HRANDFIELD", 2),
                       ("HSCAN", 3)):
        # too few arguments, and WRONGTYPE with the minimal form
        d.call(name, *(["str"] + ["x"] * (argc - 3)))
        args = ["str"] + ["1"] * (argc - 2)
        d.call(name, *args)
    d.run([
        ("HSET", "h", "a"), ("HSET", "h", "a", "1", "b"), ("HMSET", "h", "a", "1", "b"),
        ("HSETNX", "h", "a"), ("HSETNX", "h", "a", "b", "c"),
        ("HINCRBY", "h", "n", "x"), ("HINCRBY", "h", "n", "1.5"), ("HINCRBY", "h", "n", " 1"),
        ("HINCRBY", "h", "n", "01"), ("HINCRBY", "h", "n", "9223372036854775808"),
        ("HINCRBY", "h", "f", "1"), ("HINCRBY", "h", "s", "1"), ("HINCRBY", "h", "sp", "1"),
        ("HINCRBY", "h", "big", "1"), ("HINCRBY", "h", "neg", "-1"),
        ("HINCRBY", "h", "big", "-1"), ("HINCRBY", "h", "neg", "1"),
        ("HINCRBY", "h", "big", "0"), ("HINCRBY", "str", "x", "y"),
        ("HINCRBY", "nokey", "a", "-9223372036854775808"),
        ("HINCRBYFLOAT", "h", "n", "x"), ("HINCRBYFLOAT", "h", "n", "inf"),
        ("HINCRBYFLOAT", "h", "n", "-inf"), ("HINCRBYFLOAT", "h", "n", "nan"),
        ("HINCRBYFLOAT", "h", "n", "1e5000"), ("HINCRBYFLOAT", "h", "n", " 1"),
        ("HINCRBYFLOAT", "h", "s", "1"), ("HINCRBYFLOAT", "h", "sp", "1"),
        ("HINCRBYFLOAT", "h", "inf", "1"), ("HINCRBYFLOAT", "h", "huge", "1e4932"),
        ("HINCRBYFLOAT", "h", "huge", "-1e4932"), ("HINCRBYFLOAT", "str", "x", "y"),
        ("HINCRBYFLOAT", "str", "x", "1"),
        ("HRANDFIELD", "h", "x"), ("HRANDFIELD", "h", "1", "x"),
        ("HRANDFIELD", "h", "1", "WITHVALUES", "x"), ("HRANDFIELD", "h", "1.5"),
        ("HRANDFIELD", "h", "-9223372036854775808"),
        ("HRANDFIELD", "h", "9223372036854775808"),
        ("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"),
        ("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"),
        ("HRANDFIELD", "h", "4611686018427387903", "WITHVALUE"),
        ("HRANDFIELD", "nokey", "x"), ("HRANDFIELD", "str", "1", "x"),
        ("HRANDFIELD", "str", "x"),
        ("HSCAN", "h", "x"), ("HSCAN", "h", "-1"), ("HSCAN", "h", "+5"),
        ("HSCAN", "h", "18446744073709551616"), ("HSCAN", "h", " 0"),
        ("HSCAN", "h", "0 "), ("HSCAN", "h", ""), ("HSCAN", "h", "0", "COUNT"),
        ("HSCAN", "h", "0", "COUNT", "0"), ("HSCAN", "h", "0", "COUNT", "-1"),
        ("HSCAN", "h", "0", "COUNT", "x"), ("HSCAN", "h", "0", "MATCH"),
        ("HSCAN", "h", "0", "TYPE", "string"), ("HSCAN", "h", "0", "foo", "bar"),
        ("HSCAN", "nokey", "x"), ("HSCAN", "nokey", "0", "COUNT", "0"),
        ("HSCAN", "str", "0"), ("HSCAN", "str", "x"), ("HSCAN", "str", "0", "COUNT", "0"),
        ("HSCAN", "h", "0", "count\0x", "5", "MATCH", "n"),
        ("HGETALL", "h"),
    ])


def test_hincrbyfloat_formatting(d):
    cases = [("0", "0.1"), ("10.5", "0.1"), ("1", "1e-17"), ("3.0e3", "1"),
             ("12345678.123456789", "0"), ("-0", "0"), ("0", "-0.0"),
             ("1.23456789012345678901234567890", "0"), ("0x10", "1"), ("1", "0x1p-3"),
             ("5", "-5"), ("1e-300", "1e-300"), ("1e300", "1e300"), ("17", "1E2"),
             ("0", "123456789012345678901234567890"), ("0", ".5"), ("0", "5."),
             ("0", "+3"), ("1", "1e4000"), ("9223372036854775807", "1")]
    for i, (start, inc) in enumerate(cases):
        d.call("HSET", "f", "x%d" % i, start)
        d.call("HINCRBYFLOAT", "f", "x%d" % i, inc)
        d.call("HGET", "f", "x%d" % i)
    d.call("HINCRBYFLOAT", "new", "fld", "2.5")
    d.call("HGETALL", "new")
    d.call("HINCRBY", "new", "i", "-7")
    d.call("HINCRBYFLOAT", "new", "i", "7")
    d.call("HINCRBY", "new", "i", "7")
    d.call("HGETALL", "new")


# ---------------------------------------------------------------------------
# Differential: encodings at the conversion boundaries
# ---------------------------------------------------------------------------

def test_encoding_entries_boundary(d):
    # the default limit is 512 in Redis 7.0 (zsets: 128)
    for i in range(515):
        d.call("HSET", "h", "f%d" % i, "v")
        if i >= 508:
            d.call("OBJECT", "ENCODING", "h")
    d.call("HDEL", "h", *["f%d" % i for i in range(510)])
    d.call("OBJECT", "ENCODING", "h")       # never back to listpack
    pairs = [x for i in range(512) for x in ("f%d" % i, "v")]
    d.call("HSET", "bulk512", *pairs)
    d.call("OBJECT", "ENCODING", "bulk512")
    d.call("HGETALL", "bulk512")            # listpack: order must match
    d.call("HSET", "bulk512", *pairs)       # updates only
    d.call("OBJECT", "ENCODING", "bulk512")
    d.call("HSET", "bulk513", *(pairs + ["x", "y"]))
    d.call("OBJECT", "ENCODING", "bulk513")
    d.call("HMSET", "m", *pairs[:20])
    d.call("HSETNX", "m", "new", "1")
    d.call("OBJECT", "ENCODING", "m")


@pytest.mark.parametrize("cmd", ["HSET", "HSETNX", "HMSET"])
@pytest.mark.parametrize("where", ["field", "value"])
@pytest.mark.parametrize("n", [63, 64, 65])
def test_encoding_length_boundary(d, cmd, where, n):
    long = "x" * n
    args = (long, "v") if where == "field" else ("f", long)
    d.call(cmd, "h", *args)
    d.call("OBJECT", "ENCODING", "h")
    d.call(cmd, "h2", "a", "1")
    d.call(cmd, "h2", *args)
    d.call("OBJECT", "ENCODING", "h2")
    d.call("HGETALL", "h2" if n <= 64 else "h")


def test_encoding_length_applies_to_all_arguments(d):
    d.call("HSET", "h", "a", "1")
    # a long value for a field that exists: still converts (tryConversion
    # looks at every argument before anything is set)
    d.call("HSET", "h", "a", "1", "a", "x" * 65)
    d.call("OBJECT", "ENCODING", "h")
    d.call("HSET", "h2", "a", "1")
    d.call("HSETNX", "h2", "a", "x" * 65)   # the field exists: no change at all
    d.call("OBJECT", "ENCODING", "h2")
    d.call("HSET", "h3", "n", "1")
    # integers are checked by their string length too
    d.call("CONFIG", "SET", "hash-max-listpack-value", "3")
    d.call("HSET", "h3", "m", "1234")
    d.call("OBJECT", "ENCODING", "h3")


@pytest.mark.parametrize("cmd", ["HINCRBY", "HINCRBYFLOAT"])
def test_encoding_incr_converts_in_set(d, cmd):
    d.call("HSET", "h", "a", "1")
    d.call(cmd, "h", "y" * 65, "1")
    d.call("OBJECT", "ENCODING", "h")
    d.call(cmd, "new", "y" * 65, "1")
    d.call("OBJECT", "ENCODING", "new")
    d.call("CONFIG", "SET", "hash-max-listpack-value", "2")
    d.call("HSET", "h2", "a", "99")
    d.call(cmd, "h2", "a", "1")             # result "100" is 3 bytes
    d.call("OBJECT", "ENCODING", "h2")
    d.call("HSET", "h3", "a", "1")
    d.call(cmd, "h3", "a", "1")
    d.call("OBJECT", "ENCODING", "h3")


@pytest.mark.parametrize("names", [("hash-max-listpack-entries", "hash-max-listpack-value"),
                                   ("hash-max-ziplist-entries", "hash-max-ziplist-value")])
def test_encoding_config_set(d, names):
    entries, val = names
    d.call("CONFIG", "SET", entries, "3")
    d.call("CONFIG", "GET", entries)
    for i in range(5):
        d.call("HSET", "h", "f%d" % i, "v")
        d.call("OBJECT", "ENCODING", "h")
    d.call("CONFIG", "SET", entries, "0")
    d.call("HSET", "z", "f", "v")
    d.call("OBJECT", "ENCODING", "z")
    d.call("CONFIG", "SET", entries, "512")
    d.call("CONFIG", "SET", val, "0")
    d.call("HSET", "e", "", "")
    d.call("OBJECT", "ENCODING", "e")
    d.call("HSET", "e1", "a", "")
    d.call("OBJECT", "ENCODING", "e1")
    d.call("CONFIG", "SET", val, "1k")
    d.call("CONFIG", "GET", val)
    d.call("HSET", "k", "f", "x" * 1000)
    d.call("OBJECT", "ENCODING", "k")
    d.call("HSET", "k2", "f", "x" * 1001)
    d.call("OBJECT", "ENCODING", "k2")
    # a listpack beyond a lowered limit stays one until the next write
    d.call("HSET", "lp", *[x for i in range(10) for x in ("f%d" % i, "v")])
    d.call("CONFIG", "SET", entries, "5")
    d.call("OBJECT", "ENCODING", "lp")
    d.call("HGET", "lp", "f1")
    d.call("HDEL", "lp", "f1")
    d.call("OBJECT", "ENCODING", "lp")
    d.call("HSET", "lp", "f2", "w")
    d.call("OBJECT", "ENCODING", "lp")


# ---------------------------------------------------------------------------
# Differential: nondeterministic and unordered replies
# ---------------------------------------------------------------------------

def _contents(diff, key):
    """The hash as a dict, read from redis-server."""
    v = value(diff.real.call("HGETALL", key))
    items = v[1]
    if v[0] == "%":
        return dict(items)
    return dict(zip(items[::2], items[1::2]))


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("size", [5, 200, 600])
def test_hrandfield_invariants(d, proto, size):
    if proto == 3:
        resp3(d)
    pairs = [x for i in range(size) for x in ("f%d" % i, "v%d" % i)]
    d.call("HSET", "h", *pairs)
    d.call("OBJECT", "ENCODING", "h")
    content = _contents(d, "h")
    for count in (1, 2, 3, size - 1, size, size + 3, -1, -3, -(size + 5)):
        for withvalues in (False, True):
            args = ["HRANDFIELD", "h", str(count)] + (["WITHVALUES"] if withvalues else [])
            a, b = call_both(d, *args)
            va, vb = value(a), value(b)
            assert va[0] == vb[0] == "*"
            assert len(va[1]) == len(vb[1]), args
            n = abs(count) if count < 0 else min(count, size)
            items = va[1]
            if withvalues:
                if proto == 3:
                    assert all(p[0] == "*" and len(p[1]) == 2 for p in items)
                    pairs_ = [tuple(p[1]) for p in items]
                else:
                    pairs_ = list(zip(items[::2], items[1::2]))
            else:
                pairs_ = [(f, content[f]) for f in items]
            assert len(pairs_) == n
            for f, v in pairs_:
                assert content[f] == v
            if count > 0:
                assert len({f for f, _ in pairs_}) == n
    for _ in range(20):
        a, b = call_both(d, "HRANDFIELD", "h")
        assert value(a) in content


def test_hashtable_order_unspecified_but_same_contents(d):
    pairs = [x for i in range(600) for x in ("f%d" % i, str(i))]
    d.call("HSET", "h", *pairs)
    assert d.call("OBJECT", "ENCODING", "h") == b"$9\r\nhashtable\r\n"
    for cmd in ("HGETALL", "HKEYS", "HVALS"):
        a, b = call_both(d, cmd, "h")
        assert unordered(value(a)) == unordered(value(b))
    resp3(d)
    a, b = call_both(d, "HGETALL", "h")
    assert unordered(value(a)) == unordered(value(b))


@pytest.mark.parametrize("count", [1, 7, 50, 1000])
def test_hscan_hashtable_full_iteration(d, count):
    pairs = [x for i in range(700) for x in ("f%d" % i, "v%d" % i)]
    d.call("HSET", "h", *pairs)
    assert d.call("OBJECT", "ENCODING", "h") == b"$9\r\nhashtable\r\n"
    for conn in (d.kv, d.real):
        seen = {}
        cursor = b"0"
        calls = 0
        while True:
            v = value(conn.call("HSCAN", "h", cursor, "COUNT", str(count), "MATCH", "f1*"))
            cursor, items = v[1][0], v[1][1][1]
            for f, val in zip(items[::2], items[1::2]):
                seen[f] = val
            calls += 1
            if cursor == b"0":
                break
        assert seen == {b"f%d" % i: b"v%d" % i for i in range(700)
                        if str(i).startswith("1")}
        if count >= 1000:
            assert calls == 1


def test_hscan_sees_survivors_across_changes(d):
    pairs = [x for i in range(600) for x in ("f%d" % i, "v")]
    d.call("HSET", "h", *pairs)
    assert d.call("OBJECT", "ENCODING", "h") == b"$9\r\nhashtable\r\n"
    seen = set()
    v = value(d.kv.call("HSCAN", "h", "0", "COUNT", "20"))
    cursor = v[1][0]
    seen.update(v[1][1][1][::2])
    d.kv.call("HDEL", "h", *["f%d" % i for i in range(0, 600, 3)])
    d.kv.call("HSET", "h", "new1", "x", "new2", "y")
    while cursor != b"0":
        v = value(d.kv.call("HSCAN", "h", cursor, "COUNT", "20"))
        cursor = v[1][0]
        seen.update(v[1][1][1][::2])
    survivors = {b"f%d" % i for i in range(600) if i % 3}
    assert survivors <= seen


# ---------------------------------------------------------------------------
# Differential: random command sequences
# ---------------------------------------------------------------------------

ORDERED_READS = ("HGETALL", "HKEYS", "HVALS", "HSCAN")


def _random_command(rng, keys, fields):
    k = rng.choice(keys)
    f = lambda: rng.choice(fields)
    v = lambda: rng.choice(["1", "-5", "abc", "", "x" * rng.choice([1, 10, 64, 65]),
                            "9223372036854775806", "3.5", "1e3", str(rng.randint(-99, 99))])
    choice = rng.randrange(19)
    if choice < 5:
        n = rng.randint(1, 4)
        return ["HSET", k] + [x for _ in range(n) for x in (f(), v())]
    return [
        lambda: ["HSETNX", k, f(), v()],
        lambda: ["HGET", k, f()],
        lambda: ["HMGET", k, f(), f(), f()],
        lambda: ["HDEL", k] + [f() for _ in range(rng.randint(1, 3))],
        lambda: ["HLEN", k],
        lambda: ["HSTRLEN", k, f()],
        lambda: ["HEXISTS", k, f()],
        lambda: ["HINCRBY", k, f(), rng.choice(["1", "-3", "100", "9223372036854775807"])],
        lambda: ["HINCRBYFLOAT", k, f(), rng.choice(["0.5", "-1.25", "1e2", "3"])],
        lambda: ["HMSET", k, f(), v()],
        lambda: [rng.choice(ORDERED_READS[:3]), k],
        # COUNT covers the whole hash, so a hashtable comes back whole too
        lambda: ["HSCAN", k, "0", "COUNT", "1000"] + rng.choice([[], ["MATCH", "f*1"]]),
        lambda: ["OBJECT", "ENCODING", k],
        lambda: ["TYPE", k],
    ][choice - 5]()


@pytest.mark.parametrize("seed", range(16))
def test_random_sequences(d, seed):
    rng = random.Random(seed)
    if seed % 2:
        resp3(d)
    if seed >= 3:
        d.call("CONFIG", "SET", "hash-max-listpack-entries", str(rng.choice([0, 2, 5])))
        d.call("CONFIG", "SET", "hash-max-listpack-value", str(rng.choice([0, 3, 10])))
    keys = ["h1", "h2", "h3"]
    fields = ["a", "b", "c", "1", "22", "", "f" * 65, "e"] + ["g%d" % i for i in range(6)]
    d.call("SET", "h3", "string")
    for _ in range(400):
        cmd = _random_command(rng, keys, fields)
        if cmd[0] in ORDERED_READS:
            enc = d.real.call("OBJECT", "ENCODING", cmd[1])
            if enc != b"$9\r\nhashtable\r\n":
                d.call(*cmd)
                continue
            a, b = call_both(d, *cmd)
            assert unordered(value(a)) == unordered(value(b)), cmd
        else:
            d.call(*cmd)
    for k in keys:
        d.call("OBJECT", "ENCODING", k)
        a, b = call_both(d, "HGETALL", k)
        assert unordered(value(a)) == unordered(value(b))


# ---------------------------------------------------------------------------
# Through redis-py
# ---------------------------------------------------------------------------

def test_redis_py_roundtrip(r, real):
    for c in (r, real):
        c.hset("h", mapping={"a": 1, "b": "two"})
        c.hincrby("h", "a", 41)
        c.hincrbyfloat("h", "f", 0.5)
    assert r.hgetall("h") == real.hgetall("h") == {b"a": b"42", b"b": b"two", b"f": b"0.5"}
    assert r.hrandfield("h", 3, withvalues=True) is not None
    assert sorted(r.hscan_iter("h")) == sorted(real.hscan_iter("h"))


def test_watch_sees_hash_changes(r):
    import redis
    try:
        r.execute_command("WATCH", "x")
        r.execute_command("UNWATCH")
    except redis.ResponseError:
        pytest.skip("WATCH is not implemented yet")
    r.hset("h", "a", "1")
    with r.pipeline() as p:
        p.watch("h")
        r.hincrby("h", "a", 1)
        p.multi()
        p.hget("h", "a")
        with pytest.raises(redis.WatchError):
            p.execute()
    with r.pipeline() as p:
        p.watch("h")
        r.hdel("h", "missing")          # no change: the transaction runs
        p.multi()
        p.hget("h", "a")
        assert p.execute() == [b"2"]


# ---------------------------------------------------------------------------
# Declarations: COMMAND INFO / DOCS / GETKEYS come from the command table
# ---------------------------------------------------------------------------

HASH_COMMANDS = ("hset", "hsetnx", "hget", "hmget", "hmset", "hdel", "hlen", "hstrlen",
                 "hexists", "hkeys", "hvals", "hgetall", "hincrby", "hincrbyfloat",
                 "hrandfield", "hscan")


@pytest.mark.parametrize("proto", [2, 3])
def test_command_info_and_docs(d, proto):
    if proto == 3:
        resp3(d)
    for name in HASH_COMMANDS:
        d.call("COMMAND", "INFO", name)
        d.call("COMMAND", "DOCS", name)
    d.call("COMMAND", "GETKEYS", "HSET", "h", "f", "v")
    d.call("COMMAND", "GETKEYS", "HRANDFIELD", "h", "1", "WITHVALUES")


def test_copy_keeps_encoding_and_detaches(d):
    d.call("HSET", "lp", "a", "1", "b", "2")
    d.call("HSET", "ht", "a", "x" * 100)
    for k in ("lp", "ht"):
        d.call("COPY", k, k + "2")
        d.call("OBJECT", "ENCODING", k + "2")
        d.call("HSET", k + "2", "a", "changed")
        d.call("HGET", k, "a")
        d.call("HGET", k + "2", "a")


# ---------------------------------------------------------------------------
# Counters: keyspace hits/misses (lookupKeyRead vs Write) and dirty
# ---------------------------------------------------------------------------

_COUNTERS = (b"keyspace_hits", b"keyspace_misses", b"rdb_changes_since_last_save")


def counters(conn) -> dict:
    info = conn.call("INFO", "all")
    out = {}
    for line in info.split(b"\r\n"):
        name, _, v = line.partition(b":")
        if name in _COUNTERS:
            out[name] = int(v)
    assert len(out) == len(_COUNTERS)
    return out


def check_counters(diff, commands):
    """Each command changes the counters by the same amounts on both."""
    for cmd in commands:
        before = counters(diff.kv), counters(diff.real)
        diff.kv.call(*cmd)
        diff.real.call(*cmd)
        after = counters(diff.kv), counters(diff.real)
        deltas = [{k: after[i][k] - before[i][k] for k in _COUNTERS} for i in (0, 1)]
        assert deltas[0] == deltas[1], cmd


def test_counters(d):
    check_counters(d, [c.split() for c in (
        "HSET h a 1 b 2", "HSET h a 1 b 2", "HMSET h a 1", "HSETNX h a 1", "HSETNX h c 1",
        "HSETNX h2 c 1", "HGET h a", "HGET nokey a", "HMGET h a b", "HMGET nokey a",
        "HDEL h c x", "HDEL nokey x", "HDEL h2 c", "HLEN h", "HSTRLEN h a",
        "HEXISTS h a", "HKEYS h", "HVALS h", "HGETALL h", "HGETALL nokey",
        "HINCRBY h a 1", "HINCRBYFLOAT h a 1", "HINCRBY nokey2 a 1", "HINCRBY h b x",
        "HRANDFIELD h", "HRANDFIELD h 2", "HRANDFIELD nokey", "HSCAN h 0",
        "HSCAN nokey 0")])


def test_threshold_defaults_on_fresh_servers():
    """The defaults, seen before any test changed them (the `d` fixture
    resets the session servers to these values after each test)."""
    from conftest import RawConn, start_kvserver, start_redis
    names = ("hash-max-listpack-entries", "hash-max-listpack-value",
             "hash-max-ziplist-entries", "hash-max-ziplist-value",
             "set-max-intset-entries")
    with start_kvserver() as (_, kp), start_redis() as (_, rp):
        kv, real = RawConn(kp), RawConn(rp)
        try:
            for name in names:
                assert kv.call("CONFIG", "GET", name) == real.call("CONFIG", "GET", name)
            for name, v in THRESHOLDS:
                assert value(real.call("CONFIG", "GET", name))[1][1] == v.encode()
        finally:
            kv.close()
            real.close()
