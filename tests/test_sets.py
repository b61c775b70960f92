"""Set type: the intset and the set API against plain models, and every
set command against the real redis-server 7.0, byte for byte.

- Property tests (hypothesis) check kvserver.datastructs.intset against a
  sorted list and `Set` against a Python set, including exactly when the
  encoding is (and stops being) an intset.
- Differential tests compare raw replies with the `diff` fixture.  Intset
  replies come in ascending order in Redis and must match byte for byte;
  where Redis's order is unspecified (hashtable iteration) the replies are
  compared as multisets.  Random commands (SPOP, SRANDMEMBER) are checked
  for their invariants, and the two servers' contents are re-synchronised
  after each pop.
- Encodings are compared through OBJECT ENCODING at the boundaries: the
  entry limit, non-integer and non-canonical members, CONFIG SET of the
  limit, and the results of SMOVE, SPOP and the *STORE commands.
"""

import random

import pytest
from hypothesis import given, settings, strategies as st

from kvserver.datastructs import intset
from kvserver.datastructs.set import Set, build, from_ints
from kvserver.net.resp import strict_int
from test_hashes import THRESHOLDS, call_both, resp3, unordered, value


@pytest.fixture
def d(diff):
    yield diff
    for conn in (diff.kv, diff.real):
        for name, v in THRESHOLDS:
            conn.call("CONFIG", "SET", name, v)


def members_of(diff, key) -> set:
    v = value(diff.real.call("SMEMBERS", key))
    return set(v[1])


# ---------------------------------------------------------------------------
# The data structures against models
# ---------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(-2**63, 2**63 - 1)
                          | st.integers(-5, 5)), max_size=60))
def test_intset_against_sorted_list(ops):
    arr = intset.new()
    model = set()
    for add, v in ops:
        if add:
            assert intset.add(arr, v) == (v not in model)
            model.add(v)
        else:
            assert intset.remove(arr, v) == (v in model)
            model.discard(v)
        assert list(arr) == sorted(model)
        assert intset.contains(arr, v) == (v in model)
    assert intset.as_bytes(arr) == [b"%d" % v for v in sorted(model)]


_members = (st.integers(-20, 20).map(lambda n: b"%d" % n)
            | st.sampled_from([b"x", b"", b"01", b"+1", b"-0", b" 1", b"1 ",
                               b"9223372036854775807", b"-9223372036854775808",
                               b"9223372036854775808", b"1.0"]))


@settings(max_examples=400, deadline=None)
@given(first=_members,
       ops=st.lists(st.tuples(st.sampled_from(["add", "rem", "pop"]), _members), max_size=50),
       limit=st.integers(0, 8))
def test_set_against_model(first, ops, limit):
    s = Set.create_for(first)
    model = set()
    intset_now = strict_int(first) is not None
    for op, m in ops:
        if op == "add":
            new = m not in model
            assert s.add(m, limit) == new
            model.add(m)
            if strict_int(m) is None or len(model) > limit:
                intset_now = False
        elif op == "rem":
            assert s.remove(m) == (m in model)
            model.discard(m)
        elif model:
            popped = s.pop_random()
            assert popped in model
            model.remove(popped)
        assert len(s) == len(model)
        assert s.encoding() == ("intset" if intset_now else "hashtable")
        assert s.contains(m) == (m in model)
        got = s.members()
        assert sorted(got) == sorted(model) and len(got) == len(set(got))
        if intset_now:
            assert got == [b"%d" % n for n in sorted(int(x) for x in model)]
        if model:
            assert s.random_member() in model
    c = s.copy()
    assert c.encoding() == s.encoding() and sorted(c.members()) == sorted(s.members())


@settings(max_examples=200, deadline=None)
@given(st.lists(_members, unique=True, max_size=12), st.integers(0, 10))
def test_build_rule(members, limit):
    s = build(list(members), limit)
    fits = len(members) <= limit and all(strict_int(m) is not None for m in members)
    assert s.encoding() == ("intset" if fits else "hashtable")
    assert sorted(s.members()) == sorted(members)
    ints = [strict_int(m) for m in members if strict_int(m) is not None]
    t = from_ints(set(ints), limit)
    assert t.encoding() == ("intset" if len(set(ints)) <= limit else "hashtable")


# ---------------------------------------------------------------------------
# Differential: replies and errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("proto", [2, 3])
def test_basic_replies(d, proto):
    if proto == 3:
        resp3(d)
    d.run([
        ("SADD", "a", "5", "3", "1", "3", "-7", "100"), ("SADD", "a", "3"),
        ("SADD", "b", "3", "4", "5", "6"), ("SADD", "c", "5", "1000"),
        ("SMEMBERS", "a"), ("SMEMBERS", "nokey"), ("SCARD", "a"), ("SCARD", "nokey"),
        ("SISMEMBER", "a", "3"), ("SISMEMBER", "a", "03"), ("SISMEMBER", "a", "x"),
        ("SISMEMBER", "nokey", "1"),
        ("SMISMEMBER", "a", "1", "2", "3", "x"), ("SMISMEMBER", "nokey", "1", "2"),
        ("SINTER", "a", "b"), ("SINTER", "a", "b", "c"), ("SINTER", "a", "nokey"),
        ("SINTER", "a"), ("SINTER", "a", "a"),
        ("SUNION", "a", "b", "c"), ("SUNION", "nokey"), ("SUNION", "nokey", "a"),
        ("SDIFF", "a", "b"), ("SDIFF", "a", "b", "c"), ("SDIFF", "a", "a"),
        ("SDIFF", "nokey", "a"), ("SDIFF", "a", "nokey"), ("SDIFF", "b", "a", "b"),
        ("SINTERCARD", "2", "a", "b"), ("SINTERCARD", "1", "nokey"),
        ("SINTERCARD", "3", "a", "b", "c", "LIMIT", "1"),
        ("SINTERCARD", "2", "a", "b", "limit", "0"),
        ("SINTERCARD", "2", "a", "b", "LIMIT", "5", "LIMIT", "1"),
        ("SINTERSTORE", "dst", "a", "b"), ("SMEMBERS", "dst"),
        ("SUNIONSTORE", "dst", "a", "b"), ("SMEMBERS", "dst"),
        ("SDIFFSTORE", "dst", "a", "b"), ("SMEMBERS", "dst"),
        ("SINTERSTORE", "dst", "a", "nokey"), ("EXISTS", "dst"),
        ("SUNIONSTORE", "dst", "nokey"), ("SDIFFSTORE", "dst", "a", "a"),
        ("SSCAN", "a", "0"), ("SSCAN", "a", "123"), ("SSCAN", "a", "0", "MATCH", "1*"),
        ("SSCAN", "a", "0", "COUNT", "1"), ("SSCAN", "nokey", "0"),
        ("SMOVE", "a", "b", "100"), ("SMOVE", "a", "b", "100"), ("SMOVE", "a", "a", "1"),
        ("SMEMBERS", "b"),
        ("SREM", "a", "1", "x", "1"), ("SREM", "nokey", "1"), ("SMEMBERS", "a"),
        ("SPOP", "nokey"), ("SPOP", "nokey", "2"), ("SPOP", "a", "0"),
        ("SRANDMEMBER", "nokey"), ("SRANDMEMBER", "nokey", "2"), ("SRANDMEMBER", "a", "0"),
        ("SRANDMEMBER", "a", "100"), ("SRANDMEMBER", "a", "4"),
        ("SADD", "one", "x"), ("SRANDMEMBER", "one"), ("SRANDMEMBER", "one", "-3"),
        ("SRANDMEMBER", "one", "1"), ("SPOP", "one"), ("EXISTS", "one"),
        ("SADD", "two", "7", "8"), ("SPOP", "two", "10"), ("EXISTS", "two"),
        ("SADD", "e", ""), ("SMEMBERS", "e"), ("SSCAN", "e", "0", "MATCH", "*"),
        ("SSCAN", "e", "0", "MATCH", "?"),
    ])


def test_errors(d):
    d.call("SET", "str", "x")
    d.call("SADD", "s", "1", "2", "3")
    for name, argc in (("SADD", 3), ("SREM", 3), ("SISMEMBER", 3), ("SMISMEMBER", 3),
                       ("SCARD", 2), ("SMEMBERS", 2), ("SRANDMEMBER", 2), ("SPOP", 2),
                       ("SMOVE", 4), ("SINTER", 2), ("SINTERSTORE", 3), ("SUNION", 2),
                       ("SUNIONSTORE", 3), ("SDIFF", 2), ("SDIFFSTORE", 3), ("SSCAN", 3),
                       ("SINTERCARD", 3)):
        d.call(name, *(["str"] + ["x"] * (argc - 3)))
        d.call(name, *(["str"] + ["1"] * (argc - 2)))
    d.run([
        ("SISMEMBER", "s", "1", "2"), ("SCARD", "s", "x"), ("SMEMBERS", "s", "x"),
        ("SMOVE", "s", "d"), ("SMOVE", "s", "d", "1", "2"),
        ("SPOP", "s", "x"), ("SPOP", "s", "-1"), ("SPOP", "s", "1.5"),
        ("SPOP", "s", "9223372036854775808"), ("SPOP", "s", "1", "2"),
        ("SPOP", "nokey", "x"), ("SPOP", "str", "x"), ("SPOP", "str", "1"),
        ("SPOP", "str", "1", "2"),
        ("SRANDMEMBER", "s", "x"), ("SRANDMEMBER", "s", "1", "2"),
        ("SRANDMEMBER", "s", "-9223372036854775808"),
        ("SRANDMEMBER", "s", "9223372036854775808"), ("SRANDMEMBER", "nokey", "x"),
        ("SRANDMEMBER", "str", "x"), ("SRANDMEMBER", "str", "1", "2"),
        ("SMOVE", "str", "s", "1"), ("SMOVE", "s", "str", "1"), ("SMOVE", "nokey", "str", "1"),
        ("SMOVE", "s", "str", "99"), ("SMOVE", "str", "nokey", "1"),
        ("SINTER", "s", "str"), ("SINTER", "nokey", "str"), ("SINTER", "str", "nokey"),
        ("SUNION", "s", "str"), ("SUNION", "nokey", "str"),
        ("SDIFF", "s", "str"), ("SDIFF", "nokey", "str"), ("SDIFF", "str", "s"),
        ("SINTERSTORE", "dst", "s", "str"), ("SUNIONSTORE", "dst", "str"),
        ("SDIFFSTORE", "dst", "nokey", "str"), ("EXISTS", "dst"),
        ("SINTERCARD", "0", "s"), ("SINTERCARD", "-1", "s"), ("SINTERCARD", "x", "s"),
        ("SINTERCARD", "2", "s"), ("SINTERCARD", "1", "s", "LIMIT"),
        ("SINTERCARD", "1", "s", "LIMIT", "-1"), ("SINTERCARD", "1", "s", "LIMIT", "x"),
        ("SINTERCARD", "1", "s", "LIMIT", "1", "x"), ("SINTERCARD", "1", "s", "FOO", "1"),
        ("SINTERCARD", "1", "s", "limit\0", "1"), ("SINTERCARD", "2", "s", "str"),
        ("SINTERCARD", "2", "nokey", "str"), ("SINTERCARD", "1", "str", "LIMIT", "x"),
        ("SINTERCARD", "9223372036854775808", "s"),
        ("SSCAN", "s", "x"), ("SSCAN", "s", "-1"), ("SSCAN", "s", "0", "COUNT", "0"),
        ("SSCAN", "s", "0", "COUNT", "x"), ("SSCAN", "s", "0", "MATCH"),
        ("SSCAN", "s", "0", "TYPE", "set"), ("SSCAN", "nokey", "x"),
        ("SSCAN", "nokey", "0", "COUNT", "0"), ("SSCAN", "str", "0"), ("SSCAN", "str", "x"),
        ("SMEMBERS", "s"), ("TYPE", "str"),
    ])


def test_store_overwrites_destination(d):
    d.call("SADD", "a", "1", "2")
    d.call("SET", "dst", "string")
    d.call("EXPIRE", "dst", "1000")
    d.call("SUNIONSTORE", "dst", "a")
    d.call("TYPE", "dst")
    d.call("TTL", "dst")
    d.call("HSET", "h", "f", "v")
    d.call("SINTERSTORE", "h", "a", "a")
    d.call("TYPE", "h")
    d.call("SDIFFSTORE", "a", "a", "nokey")         # dst is also a source
    d.call("SMEMBERS", "a")
    d.call("SINTERSTORE", "a", "a", "nokey")        # empty result deletes
    d.call("EXISTS", "a")
    d.call("SET", "str", "x")
    d.call("SDIFFSTORE", "str", "nokey")
    d.call("EXISTS", "str")


# ---------------------------------------------------------------------------
# Differential: encodings
# ---------------------------------------------------------------------------

def test_encoding_entries_boundary(d):
    for i in range(515):
        d.call("SADD", "s", str(i * 7 - 1000))
        if i >= 508:
            d.call("OBJECT", "ENCODING", "s")
    d.call("SREM", "s", *[str(i * 7 - 1000) for i in range(500)])
    d.call("OBJECT", "ENCODING", "s")           # never back to intset
    for n in (511, 512, 513):
        d.call("SADD", "b%d" % n, *[str(i) for i in range(n)])
        d.call("OBJECT", "ENCODING", "b%d" % n)
    d.call("SMEMBERS", "b512")                  # ascending, byte for byte


@pytest.mark.parametrize("member", ["x", "", "01", "+1", "-0", " 1", "1 ", "1.0",
                                    "9223372036854775807", "-9223372036854775808",
                                    "9223372036854775808", "-9223372036854775809",
                                    "0x10", "1e3"])
def test_encoding_member_kinds(d, member):
    d.call("SADD", "s", "1", "2")
    d.call("SADD", "s", member)
    d.call("OBJECT", "ENCODING", "s")
    d.call("SADD", "new", member)
    d.call("OBJECT", "ENCODING", "new")
    d.call("SISMEMBER", "s", member)
    d.call("SREM", "new", member)
    d.call("SADD", "ints", "5", "-1")
    d.call("SISMEMBER", "ints", member)
    d.call("SREM", "ints", member)
    d.call("SMOVE", "ints", "moved", member)
    d.call("OBJECT", "ENCODING", "ints")


def test_encoding_config_set(d):
    d.call("CONFIG", "SET", "set-max-intset-entries", "3")
    d.call("CONFIG", "GET", "set-max-intset-entries")
    for i in range(5):
        d.call("SADD", "s", str(i))
        d.call("OBJECT", "ENCODING", "s")
    d.call("CONFIG", "SET", "set-max-intset-entries", "0")
    d.call("SADD", "z", "1")
    d.call("OBJECT", "ENCODING", "z")
    d.call("SMOVE", "s", "zz", "1")
    d.call("OBJECT", "ENCODING", "zz")
    d.call("CONFIG", "SET", "set-max-intset-entries", "512")
    d.call("SADD", "lp", *[str(i) for i in range(10)])
    d.call("CONFIG", "SET", "set-max-intset-entries", "5")
    d.call("OBJECT", "ENCODING", "lp")          # unchanged until an insertion
    d.call("SREM", "lp", "1")
    d.call("SADD", "lp", "2")                   # not an insertion
    d.call("OBJECT", "ENCODING", "lp")
    d.call("SADD", "lp", "1")
    d.call("OBJECT", "ENCODING", "lp")
    d.call("SADD", "lp2", *[str(i) for i in range(3)])
    d.call("SUNIONSTORE", "u", "lp2", "lp2")
    d.call("OBJECT", "ENCODING", "u")
    d.call("SADD", "lp3", *[str(i) for i in range(4)])
    d.call("CONFIG", "SET", "set-max-intset-entries", "3")
    d.call("SDIFFSTORE", "u", "lp3", "nokey")   # 4 members > 3
    d.call("OBJECT", "ENCODING", "u")
    d.call("CONFIG", "SET", "set-max-intset-entries", "1k")
    d.call("CONFIG", "SET", "set-max-intset-entries", "-1")
    d.call("CONFIG", "GET", "set-max-intset-entries")


def _store_cases():
    big = [str(i) for i in range(600)]
    return {
        "ints": ["SADD", "ints", "1", "2", "3", "4", "5"],
        "ints2": ["SADD", "ints2", "4", "5", "6"],
        "mixed": ["SADD", "mixed", "4", "5", "x"],
        "mixed2": ["SADD", "mixed2", "1", "x", "y", "z", "w", "v", "u"],
        "big": ["SADD", "big"] + big,
        "bigtail": ["SADD", "bigtail"] + big[10:],
        # a hashtable made only of integers: converted by size, then shrunk
        "htints": ["SADD", "htints"] + big,
        "strs": ["SADD", "strs", "a", "b", "c"],
        "m4": ["SADD", "m4", "1", "2", "3", "x"],
        "sx": ["SADD", "sx", "x"], "sy": ["SADD", "sy", "y"], "sz": ["SADD", "sz", "z"],
    }


_STORE_EXPRS = [
    ["SINTERSTORE", "ints", "ints2"], ["SINTERSTORE", "ints", "mixed"],
    ["SINTERSTORE", "mixed", "mixed2"], ["SINTERSTORE", "big", "htints"],
    ["SINTERSTORE", "htints", "ints"], ["SINTERSTORE", "strs", "mixed2"],
    ["SINTERSTORE", "strs", "ints"], ["SINTERSTORE", "big", "bigtail", "ints2"],
    ["SUNIONSTORE", "ints", "ints2"], ["SUNIONSTORE", "ints", "mixed"],
    ["SUNIONSTORE", "htints"], ["SUNIONSTORE", "ints", "big"],
    ["SUNIONSTORE", "strs", "nokey"], ["SUNIONSTORE", "nokey", "nokey2"],
    ["SDIFFSTORE", "ints", "ints2"], ["SDIFFSTORE", "mixed", "ints2"],
    ["SDIFFSTORE", "mixed", "strs"], ["SDIFFSTORE", "mixed2", "strs"],
    ["SDIFFSTORE", "htints"], ["SDIFFSTORE", "big", "bigtail"],
    ["SDIFFSTORE", "htints", "big"], ["SDIFFSTORE", "ints", "mixed", "ints2"],
    # algorithm 1 (4*2/2 <= 4+1) adds only the survivors: an intset
    ["SDIFFSTORE", "m4", "sx"],
    # algorithm 2 (4*4/2 > 4+1+1+1) adds all of m4 first, "x" included, then
    # removes: integers left in a hashtable
    ["SDIFFSTORE", "m4", "sx", "sy", "sz"], ["SDIFFSTORE", "m4", "sx", "sy", "nokey", "sz"],
    ["SDIFFSTORE", "big", "ints", "ints2", "mixed"],
    ["SDIFFSTORE", "mixed", "strs", "mixed2", "big"],
    ["SDIFFSTORE", "ints", "big", "bigtail"], ["SDIFFSTORE", "mixed", "nokey", "big"],
    ["SDIFFSTORE", "mixed2", "mixed", "bigtail", "big"],
]


@pytest.mark.parametrize("proto", [2, 3])
def test_store_result_encodings(d, proto):
    if proto == 3:
        resp3(d)
    for cmd in _store_cases().values():
        d.call(*cmd)
    d.call("SREM", "htints", *[str(i) for i in range(10, 600)])
    d.call("OBJECT", "ENCODING", "htints")
    for expr in _STORE_EXPRS:
        store, srcs = expr[0], expr[1:]
        d.call(store, "dst", *srcs)
        enc = d.call("OBJECT", "ENCODING", "dst")
        # the non-store form: identical bytes when the result is an intset
        # (ascending) or empty, same members otherwise
        plain = [store[:-5], *srcs]
        a, b = call_both(d, *plain)
        if enc == b"$6\r\nintset\r\n" and store != "SINTERSTORE":
            assert a == b, plain
        else:
            assert unordered(value(a)) == unordered(value(b)), plain
        a, b = call_both(d, "SMEMBERS", "dst")
        if enc == b"$6\r\nintset\r\n":
            assert a == b
        else:
            assert unordered(value(a)) == unordered(value(b))
        d.call("SINTERCARD", str(len(srcs)), *srcs)
        d.call("SINTERCARD", str(len(srcs)), *srcs, "LIMIT", "3")


def test_sinter_order_follows_smallest_set(d):
    d.call("SADD", "small", "9", "3", "1")
    d.call("SADD", "large", "1", "3", "9", "x", "y", "z")
    d.call("SINTER", "large", "small")          # iterates the intset: ascending
    d.call("SADD", "small2", "3", "1", "x")
    d.call("SADD", "ints", *[str(i) for i in range(20)])
    a, b = call_both(d, "SINTER", "ints", "small2")
    assert unordered(value(a)) == unordered(value(b))
    d.call("SINTERSTORE", "dst", "ints", "small2")
    d.call("OBJECT", "ENCODING", "dst")         # intset though the reply was not
    d.call("SMEMBERS", "dst")


def test_smove_encodings(d):
    d.call("SADD", "src", "1", "x", "2")
    d.call("SMOVE", "src", "d1", "1")
    d.call("OBJECT", "ENCODING", "d1")
    d.call("SMOVE", "src", "d2", "x")
    d.call("OBJECT", "ENCODING", "d2")
    d.call("SMOVE", "src", "d1", "2")
    d.call("EXISTS", "src")
    d.call("SMEMBERS", "d1")
    d.call("SADD", "src2", "y")
    d.call("SMOVE", "src2", "d1", "y")
    d.call("OBJECT", "ENCODING", "d1")


@pytest.mark.parametrize("kind", ["ints", "strs"])
def test_spop_count_rebuild_encoding(d, kind):
    # CASE 3 (few survivors) rebuilds the set: 600 integers in a hashtable
    # leave 10 survivors, which Redis stores as an intset again
    members = [str(i) if kind == "ints" else "m%d" % i for i in range(600)]
    d.call("SADD", "s", *members)
    d.call("OBJECT", "ENCODING", "s")
    a, b = call_both(d, "SPOP", "s", "590")
    va, vb = value(a), value(b)
    assert va[0] == vb[0] == "*" and len(va[1]) == len(vb[1]) == 590
    assert len(set(va[1])) == 590 and set(va[1]) <= {m.encode() for m in members}
    d.call("SCARD", "s")
    d.call("OBJECT", "ENCODING", "s")
    # CASE 2 keeps the encoding
    d.call("SADD", "t", *members)
    call_both(d, "SPOP", "t", "100")
    d.call("SCARD", "t")
    d.call("OBJECT", "ENCODING", "t")


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("kind", ["intset", "hashtable"])
def test_random_members_invariants(d, proto, kind):
    if proto == 3:
        resp3(d)
    members = [str(i * 3) for i in range(40)] if kind == "intset" else \
        ["m%d" % i for i in range(40)]
    d.call("SADD", "s", *members)
    d.call("OBJECT", "ENCODING", "s")
    content = {m.encode() for m in members}
    for count in (1, 2, 13, 39, 40, 41, 1000, -1, -5, -100):
        a, b = call_both(d, "SRANDMEMBER", "s", str(count))
        va, vb = value(a), value(b)
        assert va[0] == vb[0] == "*"
        n = -count if count < 0 else min(count, 40)
        assert len(va[1]) == len(vb[1]) == n
        assert set(va[1]) <= content
        if count > 0:
            assert len(set(va[1])) == n
        if count >= 40 and kind == "intset":
            assert a == b                       # the whole intset, ascending
    for _ in range(10):
        a, b = call_both(d, "SRANDMEMBER", "s")
        assert value(a) in content
    # SPOP: each pops different members; make kvserver hold what Redis holds
    for count in (None, 1, 3, 15):
        args = ["SPOP", "s"] + ([] if count is None else [str(count)])
        a, b = call_both(d, *args)
        va, vb = value(a), value(b)
        if count is None:
            assert va in content and vb in content
            popped_a, popped_b = {va}, {vb}
        else:
            assert va[0] == vb[0] == ("~" if proto == 3 else "*")
            assert len(va[1]) == len(vb[1]) == count
            popped_a, popped_b = set(va[1]), set(vb[1])
        assert popped_a <= content
        content -= popped_b
        _sync_set(d, "s", content)
    # the rest, then the key is gone; an intset comes back ascending
    a, b = call_both(d, "SPOP", "s", "1000")
    if kind == "intset":
        assert a == b
    assert unordered(value(a)) == unordered(value(b))
    d.call("EXISTS", "s")


def _sync_set(diff, key, content):
    """Make kvserver's `key` hold `content` (what redis-server holds)."""
    have = set(value(diff.kv.call("SMEMBERS", key))[1])
    if have != content:
        if content - have:
            diff.kv.call("SADD", key, *sorted(content - have))
        if have - content:
            diff.kv.call("SREM", key, *sorted(have - content))
    a, b = call_both(diff, "OBJECT", "ENCODING", key)
    if a != b:
        # a rebuilt set (SPOP's CASE 3) chose from different survivors
        diff.kv.call("DEL", key)
        if content:
            diff.kv.call("SADD", key, *sorted(content))
    diff.call("OBJECT", "ENCODING", key)
    diff.call("SCARD", key)


@pytest.mark.parametrize("count", [1, 7, 50, 1000])
def test_sscan_hashtable_full_iteration(d, count):
    members = ["m%d" % i for i in range(700)]
    d.call("SADD", "s", *members)
    for conn in (d.kv, d.real):
        seen = []
        cursor = b"0"
        while True:
            v = value(conn.call("SSCAN", "s", cursor, "COUNT", str(count), "MATCH", "m1*"))
            cursor, items = v[1][0], v[1][1][1]
            seen += items
            if cursor == b"0":
                break
        want = {m.encode() for m in members if m.startswith("m1")}
        assert set(seen) == want
        if conn is d.kv:
            assert len(seen) == len(want)       # no repeats without changes


def test_sscan_intset_whole(d):
    d.call("SADD", "s", *[str(i) for i in range(300)])
    d.call("SSCAN", "s", "0")
    d.call("SSCAN", "s", "77", "COUNT", "2", "MATCH", "2?")


# ---------------------------------------------------------------------------
# Differential: random command sequences
# ---------------------------------------------------------------------------

def _random_command(rng, keys, members):
    k = rng.choice(keys)
    m = lambda: rng.choice(members)
    ks = lambda: rng.sample(keys, rng.randint(1, 3))
    choice = rng.randrange(16)
    if choice < 4:
        return ["SADD", k] + [m() for _ in range(rng.randint(1, 6))]
    return [
        lambda: ["SREM", k] + [m() for _ in range(rng.randint(1, 3))],
        lambda: ["SISMEMBER", k, m()],
        lambda: ["SMISMEMBER", k, m(), m()],
        lambda: ["SCARD", k],
        lambda: ["SMOVE", k, rng.choice(keys), m()],
        lambda: ["SINTERCARD", "2", k, rng.choice(keys)] + rng.choice([[], ["LIMIT", "2"]]),
        lambda: [rng.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]),
                 rng.choice(keys)] + ks(),
        lambda: [rng.choice(["SINTER", "SUNION", "SDIFF"])] + ks(),
        lambda: ["SMEMBERS", k],
        lambda: ["SSCAN", k, "0", "COUNT", "1000"] + rng.choice([[], ["MATCH", "*1*"]]),
        lambda: ["OBJECT", "ENCODING", k],
        lambda: ["SPOP", k] + rng.choice([[], ["2"], ["5"]]),
    ][choice - 4]()


def _ordered_for_sure(diff, cmd) -> bool:
    """Whether Redis's reply order is defined (ascending): the set iterated
    is an intset.  SINTER iterates its smallest input; SUNION and SDIFF
    their result, whose encoding the STORE form reveals."""
    real = diff.real
    if cmd[0] in ("SMEMBERS", "SSCAN"):
        return real.call("OBJECT", "ENCODING", cmd[1]) == b"$6\r\nintset\r\n"
    keys = cmd[1:]
    if cmd[0] == "SINTER":
        sizes = [value(real.call("SCARD", k)) for k in keys]
        if 0 in sizes or not all(isinstance(n, int) for n in sizes):
            return True             # empty, or an error (WRONGTYPE)
        smallest = keys[sizes.index(min(sizes))]
        return real.call("OBJECT", "ENCODING", smallest) == b"$6\r\nintset\r\n"
    a, b = call_both(diff, cmd[0] + "STORE", "__tmp", *keys)
    assert a == b
    enc = call_both(diff, "OBJECT", "ENCODING", "__tmp")
    assert enc[0] == enc[1]
    call_both(diff, "DEL", "__tmp")
    return enc[1] in (b"$6\r\nintset\r\n", b"_\r\n", b"$-1\r\n")


@pytest.mark.parametrize("seed", range(16))
def test_random_sequences(d, seed):
    rng = random.Random(seed)
    if seed % 2:
        resp3(d)
    if seed >= 4:
        d.call("CONFIG", "SET", "set-max-intset-entries", str(rng.choice([0, 1, 3, 6])))
    keys = ["s1", "s2", "s3", "s4"]
    members = [str(i) for i in range(-3, 12)] + ["x", "y", "", "01", "-0",
                                                 "9223372036854775807"]
    d.call("SET", "s4", "string")
    for _ in range(400):
        cmd = _random_command(rng, keys, members)
        if cmd[0] == "SPOP":
            typ = value(d.real.call("TYPE", cmd[1]))
            if typ != ("+", b"set"):
                d.call(*cmd)
                continue
            a, b = call_both(d, *cmd)
            va, vb = value(a), value(b)
            if isinstance(va, tuple):
                assert va[0] == vb[0] and len(va[1]) == len(vb[1])
            else:
                assert type(va) is type(vb)
            d.call("EXISTS", cmd[1])
            if value(d.real.call("EXISTS", cmd[1])):
                _sync_set(d, cmd[1], members_of(d, cmd[1]))
        elif cmd[0] in ("SMEMBERS", "SSCAN", "SINTER", "SUNION", "SDIFF"):
            if _ordered_for_sure(d, cmd):
                d.call(*cmd)
            else:
                a, b = call_both(d, *cmd)
                assert unordered(value(a)) == unordered(value(b)), cmd
        else:
            d.call(*cmd)
    for k in keys:
        d.call("OBJECT", "ENCODING", k)
        a, b = call_both(d, "SMEMBERS", k)
        assert unordered(value(a)) == unordered(value(b))


# ---------------------------------------------------------------------------
# Through redis-py
# ---------------------------------------------------------------------------

def test_redis_py(r, real):
    for c in (r, real):
        c.sadd("s", 1, 2, "three")
        c.sadd("t", 2, 3)
    assert r.smembers("s") == real.smembers("s") == {b"1", b"2", b"three"}
    assert r.sinter("s", "t") == real.sinter("s", "t") == {b"2"}
    assert r.sunion("s", "t") == real.sunion("s", "t")
    assert r.sdiff("s", "t") == real.sdiff("s", "t")
    assert r.smismember("s", [1, 5]) == real.smismember("s", [1, 5])
    assert r.sintercard(2, ["s", "t"]) == 1
    assert sorted(r.sscan_iter("s")) == sorted(real.sscan_iter("s"))
    assert r.spop("t", 5) and not r.exists("t")


# ---------------------------------------------------------------------------
# Declarations: COMMAND INFO / DOCS / GETKEYS come from the command table
# ---------------------------------------------------------------------------

SET_COMMANDS = ("sadd", "srem", "sismember", "smismember", "scard", "smembers",
                "srandmember", "spop", "smove", "sinter", "sintercard", "sinterstore",
                "sunion", "sunionstore", "sdiff", "sdiffstore", "sscan")


@pytest.mark.parametrize("proto", [2, 3])
def test_command_info_and_docs(d, proto):
    if proto == 3:
        resp3(d)
    for name in SET_COMMANDS:
        d.call("COMMAND", "INFO", name)
        d.call("COMMAND", "DOCS", name)
    d.run([
        ("COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "1"),
        ("COMMAND", "GETKEYS", "SINTERCARD", "0", "a"),
        ("COMMAND", "GETKEYS", "SINTERCARD", "3", "a", "b"),
        ("COMMAND", "GETKEYS", "SINTERSTORE", "d", "a", "b"),
        ("COMMAND", "GETKEYS", "SMOVE", "a", "b", "m"),
        ("COMMAND", "GETKEYS", "SDIFF", "a", "b", "c"),
    ])


def test_copy_keeps_encoding_and_detaches(d):
    d.call("SADD", "is", "1", "2")
    d.call("SADD", "ht", "a", "b")
    for k, m in (("is", "3"), ("ht", "c")):
        d.call("COPY", k, k + "2")
        d.call("OBJECT", "ENCODING", k + "2")
        d.call("SADD", k + "2", m)
        d.call("SCARD", k)
        d.call("SISMEMBER", k, m)
        d.call("SCARD", k + "2")


def test_counters(d):
    from test_hashes import check_counters
    check_counters(d, [c.split() for c in (
        "SADD s 1 2 3", "SADD s 1 x", "SREM s x y", "SREM nokey x", "SISMEMBER s 1",
        "SMISMEMBER s 1 2", "SMISMEMBER nokey 1", "SCARD s", "SMEMBERS s",
        "SMEMBERS nokey", "SRANDMEMBER s", "SRANDMEMBER s 2", "SPOP s",
        "SADD s 5 6 7 8 9 10", "SPOP s 2", "SPOP s 100", "SPOP nokey 1",
        "SADD a 1 2", "SADD b 2 3", "SMOVE a b 1", "SMOVE a b 2", "SMOVE nokey b 1",
        "SADD a 7", "SMOVE a a 7", "SINTER a b", "SINTER a nokey b", "SINTERSTORE d a b",
        "SINTERSTORE d nokey", "SINTERSTORE d nokey", "SUNION a b nokey",
        "SUNIONSTORE d a b", "SDIFF a b", "SDIFFSTORE d a b", "SDIFFSTORE d nokey a",
        "SINTERCARD 2 a b", "SSCAN b 0", "SSCAN nokey 0")])
