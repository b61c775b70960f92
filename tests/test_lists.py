"""Lists: the quicklist against a Python list model and against Redis's own
node layout, and every list command against the real redis-server 7.0,
byte for byte.

- Property tests (hypothesis) drive `Quicklist` through random operations
  at many fill values (entry counts and the -1..-5 byte limits) and check
  contents and the structural invariants after each step.
- Layout tests run the same commands on an in-process kvserver and on
  redis-server and compare the quicklist Redis reports in DEBUG OBJECT
  (ql_nodes, ql_uncompressed_size) with ours: node splits on push, LINSERT
  splits and merges, deletions, LSET, with CONFIG SET list-max-listpack-size.
- Differential tests (`diff`): every command, each error path in Redis's
  order of checks, RESP3 null forms, and random command sequences.
"""

import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver import dispatch
from kvserver.datastructs.quicklist import (Quicklist, decode, encode, encoded_size,
                                            entry_size)
from kvserver.net.client import Client
from kvserver.server import Server

LLONG_MAX = 2**63 - 1
LLONG_MIN = -2**63
FILLS = (-1, -2, -3, -4, -5, 1, 2, 3, 4, 5, 16, 128)


def _b(a) -> bytes:
    if isinstance(a, bytes):
        return a
    if isinstance(a, str):
        return a.encode()
    return b"%d" % a


# ---------------------------------------------------------------------------
# The quicklist against a plain list
# ---------------------------------------------------------------------------

ELEMENTS = st.one_of(
    st.integers(-2**63, 2**63 - 1).map(lambda i: b"%d" % i),
    st.integers(-200, 200).map(lambda i: b"%d" % i),
    st.binary(max_size=8),
    st.sampled_from([b"", b"a", b"-", b"-0", b"007", b"+1", b"9" * 20, b"1" * 21]),
    st.integers(60, 70).map(lambda n: b"x" * n),
    st.integers(120, 130).map(lambda n: b"y" * n),
    st.integers(4090, 4100).map(lambda n: b"z" * n),
)

OPS = st.one_of(
    st.tuples(st.just("push_tail"), st.lists(ELEMENTS, min_size=1, max_size=20)),
    st.tuples(st.just("push_head"), st.lists(ELEMENTS, min_size=1, max_size=20)),
    st.tuples(st.just("pop_head")),
    st.tuples(st.just("pop_tail")),
    st.tuples(st.just("pop_range"), st.booleans(), st.integers(1, 30)),
    st.tuples(st.just("replace"), st.integers(-60, 60), ELEMENTS),
    st.tuples(st.just("insert"), st.integers(0, 60), ELEMENTS, st.booleans()),
    st.tuples(st.just("remove"), st.integers(-3, 3), st.integers(0, 60)),
    st.tuples(st.just("trim"), st.integers(0, 10), st.integers(0, 10)),
    st.tuples(st.just("del_range"), st.integers(0, 60), st.integers(0, 20)),
    st.tuples(st.just("push_entry"), ELEMENTS, st.booleans()),
    st.tuples(st.just("push1"), ELEMENTS, st.booleans()),
)


def apply_op(ql: Quicklist, model: list, op):
    name = op[0]
    if name == "push_tail":
        ql.push_tail(op[1])
        model.extend(op[1])
    elif name == "push_head":
        ql.push_head(op[1])
        for v in op[1]:
            model.insert(0, v)
    elif name in ("push_entry", "push1"):
        if name == "push1":
            if op[2]:
                ql.push1_head(op[1])
            else:
                ql.push1_tail(op[1])
        else:
            ql.push_entry(encode(op[1]), op[2])
        if op[2]:
            model.insert(0, op[1])
        else:
            model.append(op[1])
    elif not model:
        return
    elif name == "pop_head":
        assert decode(ql.pop_head()) == model.pop(0)
    elif name == "pop_tail":
        assert decode(ql.pop_tail()) == model.pop()
    elif name == "pop_range":
        head, n = op[1], op[2]
        got = [decode(e) for e in ql.pop_range(head, n)]
        n = min(n, len(model))
        if head:
            want = model[:n]
            del model[:n]
        else:
            want = model[::-1][:n]
            del model[len(model) - n:]
        assert got == want
    elif name == "replace":
        i = op[1]
        ok = ql.replace(i, op[2])
        assert ok == (-len(model) <= i < len(model))
        if ok:
            model[i] = op[2]
    elif name == "insert":
        pivot = model[op[1] % len(model)]
        assert ql.insert(encode(pivot), op[2], op[3])
        i = model.index(pivot)
        model.insert(i + 1 if op[3] else i, op[2])
    elif name == "remove":
        count = op[1]
        target = model[op[2] % len(model)]
        n = ql.remove(encode(target), count)
        want = 0
        if count >= 0:
            keep = []
            for v in model:
                if v == target and (count == 0 or want < count):
                    want += 1
                else:
                    keep.append(v)
            model[:] = keep
        else:
            keep = []
            for v in reversed(model):
                if v == target and want < -count:
                    want += 1
                else:
                    keep.append(v)
            model[:] = keep[::-1]
        assert n == want
    elif name == "trim":
        lt, rt = min(op[1], len(model)), op[2]
        ql.trim(lt, min(rt, len(model) - lt))
        del model[:lt]
        del model[len(model) - min(rt, len(model)):]
    elif name == "del_range":
        start, n = op[1] % len(model), op[2]
        ql.del_range(start, n)
        del model[start:start + n]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FILLS + (0, 100000, -100)), st.lists(OPS, max_size=40))
def test_quicklist_matches_list_model(fill, ops):
    ql = Quicklist(fill)
    model = []
    for op in ops:
        apply_op(ql, model, op)
        ql.check()
        assert list(ql) == model
        assert len(ql) == len(model)
    # every read path agrees with the model
    n = len(model)
    for i in range(-n - 2, n + 2):
        e = ql.index(i)
        if -n <= i < n:
            assert decode(e) == model[i]
        else:
            assert e is None
    if n:
        for start in range(0, n, max(1, n // 7)):
            for end in range(start, n, max(1, n // 5)):
                assert [decode(e) for e in ql.range(start, end)] == model[start:end + 1]
        target = model[n // 2]
        pos = [i for i, v in enumerate(model) if v == target]
        assert list(ql.positions(encode(target), False, 0)) == pos
        assert list(ql.positions(encode(target), True, 0)) == pos[::-1]
        for maxlen in (1, 2, n // 2 or 1):
            assert list(ql.positions(encode(target), False, maxlen)) == \
                [p for p in pos if p < maxlen]
            assert list(ql.positions(encode(target), True, maxlen)) == \
                [p for p in pos[::-1] if p >= n - maxlen]
    assert [decode(e) for e in ql.entries()] == model
    assert [v for node in ql.iter_nodes() for v in node] == model
    cp = ql.copy()
    cp.check()
    assert list(cp) == model
    rt = Quicklist.from_nodes(list(ql.iter_nodes()) + [[]], fill)
    rt.check()
    assert (rt.nodes, rt.sizes) == (ql.nodes, ql.sizes)


@given(st.sampled_from(FILLS), st.lists(ELEMENTS, max_size=300))
@settings(max_examples=100, deadline=None)
def test_pushes_respect_node_limits(fill, values):
    """After pushes only, every node is within the fill limit as Redis
    measures it (each push checked the node's size before joining)."""
    for ql in (Quicklist.from_values(values, fill), Quicklist(fill)):
        if not len(ql):
            ql.push_head(values)
        ql.check()
        for node, sz in zip(ql.nodes, ql.sizes):
            if len(node) == 1:
                continue        # a lone element may exceed any limit
            if fill > 0:
                assert len(node) <= fill
                assert sz <= 8192     # the estimate (len + 8) bounds the entry
            else:
                limit = (4096, 8192, 16384, 32768, 65536)[-fill - 1]
                assert sz <= limit


def test_entry_sizes():
    # listpack encodings: 7-bit uint, 13/16/24/32/64-bit ints, 6/12/32-bit strings
    cases = {b"0": 2, b"127": 2, b"128": 3, b"-1": 3, b"4095": 3, b"-4096": 3,
             b"4096": 4, b"32767": 4, b"-32769": 5, b"8388607": 5, b"8388608": 6,
             b"2147483647": 6, b"2147483648": 10, b"-9223372036854775808": 10,
             b"9223372036854775808": 21, b"-0": 4, b"01": 4, b"+1": 4, b"": 2,
             b"a" * 63: 65, b"a" * 64: 67, b"a" * 125: 128, b"a" * 126: 130,
             b"a" * 4095: 4099, b"a" * 4096: 4103}
    for v, size in cases.items():
        assert entry_size(v) == size, v
        assert encoded_size(encode(v)) == size, v


def test_fill_clamped_like_redis():
    assert Quicklist(-7).fill == -5
    assert Quicklist(100000).fill == 32767
    assert Quicklist(0, -1).compress == 0
    assert "ql_listpack_max:-5" in Quicklist(-100).debug_fields()


# ---------------------------------------------------------------------------
# In-process kvserver beside the real server: node layout as Redis has it
# ---------------------------------------------------------------------------

class InProc:
    """A kvserver in this process with one socketless client."""

    def __init__(self):
        self.server = Server()
        self.c = Client(self.server, None, "127.0.0.1:1", "127.0.0.1:6379")

    def call(self, *args) -> bytes:
        dispatch.execute(self.c, [_b(a) for a in args])
        out = b"".join(self.c.reply)
        self.c.reply.clear()
        return out


_QL_RE = re.compile(rb"ql_nodes:(\d+) .*ql_uncompressed_size:(\d+)")


class Layout:
    """Same commands on both; compare replies and the quicklist layout."""

    def __init__(self, real):
        self.kv = InProc()
        self.real = real

    def call(self, *args) -> bytes:
        a = self.kv.call(*args)
        b = self.real.call(*args)
        assert a == b, f"{args!r}: kvserver {a!r} != redis {b!r}"
        return a

    def config(self, name, value):
        self.call("config", "set", name, value)

    def layout(self, key):
        ql = self.kv.c.db.data.get(_b(key))
        dbg = self.real.call("debug", "object", key)
        if ql is None:
            assert dbg.startswith(b"-ERR no such key")
            return None
        m = _QL_RE.search(dbg)
        assert m, dbg
        want = (int(m.group(1)), int(m.group(2)))
        got = (ql.node_count(), ql.listpack_bytes())
        assert got == want, f"{key}: kvserver (nodes, bytes) {got} != redis {want}"
        ql.check()
        return got


@pytest.fixture
def layout(raw_real):
    lay = Layout(raw_real)
    yield lay
    raw_real.call("config", "set", "list-max-listpack-size", "-2")


def _elem(rng: random.Random) -> bytes:
    k = rng.random()
    if k < 0.3:
        return b"%d" % rng.choice([rng.randint(-200, 200), rng.randint(-2**40, 2**40),
                                    rng.randint(-2**63, 2**63 - 1)])
    if k < 0.8:
        return bytes(rng.choice(b"abcdefgh") for _ in range(rng.randint(0, 12)))
    if k < 0.95:
        return b"m" * rng.randint(50, 300)
    return b"L" * rng.randint(4000, 9000)


@pytest.mark.parametrize("fill", FILLS)
def test_push_layout_matches_redis(layout, fill):
    layout.config("list-max-listpack-size", str(fill))
    rng = random.Random(fill)
    for _ in range(25):
        vals = [_elem(rng) for _ in range(rng.randint(1, 40))]
        layout.call(rng.choice(["rpush", "lpush"]), "k", *vals)
        layout.layout("k")
    # the setting is captured at creation: later lists use the new one
    layout.config("list-max-listpack-size", "-2")
    layout.call("rpush", "k", *[b"v%d" % i for i in range(3000)])
    layout.layout("k")
    layout.call("rpush", "k2", *[b"v%d" % i for i in range(3000)])
    layout.layout("k2")


def test_boundary_sizes(layout):
    # exactly at the 4 KB limit with SIZE_ESTIMATE_OVERHEAD = 8 (1360 vs 1361)
    layout.config("list-max-listpack-size", "-1")
    layout.call("rpush", "a", *["1000"] * 1360)
    assert layout.layout("a") == (1, 4087)
    layout.call("rpush", "a", "1000")
    assert layout.layout("a") == (2, 4097)
    layout.config("list-max-listpack-size", "3")
    layout.call("rpush", "b", "1", "2", "3", "4", "5", "6", "7")
    assert layout.layout("b")[0] == 3
    layout.call("rpush", "c", "x" * 9000, "y")
    layout.layout("c")


@pytest.mark.parametrize("fill", [-1, -2, 2, 3, 5, 8])
def test_mutation_layout_matches_redis(layout, fill):
    """LINSERT (splits and merges), LSET, LREM, LTRIM and pops in random
    order: node count and byte sizes stay identical to Redis's."""
    layout.config("list-max-listpack-size", str(fill))
    rng = random.Random(1000 + fill)
    pool = [b"p%d" % i for i in range(6)] + [b"1", b"2", b"300", b"q" * 100]
    keys = ["k", "j"]
    for step in range(350):
        key = rng.choice(keys)
        r = rng.random()
        if r < 0.25:
            vals = [rng.choice(pool) if rng.random() < .7 else _elem(rng)
                    for _ in range(rng.randint(1, 12))]
            layout.call(rng.choice(["rpush", "lpush"]), key, *vals)
        elif r < 0.45:
            layout.call("linsert", key, rng.choice(["before", "after"]),
                        rng.choice(pool), rng.choice(pool + [_elem(rng)]))
        elif r < 0.55:
            layout.call("lset", key, rng.randint(-30, 30), rng.choice(pool + [_elem(rng)]))
        elif r < 0.65:
            layout.call("lrem", key, rng.randint(-3, 3), rng.choice(pool))
        elif r < 0.7:
            layout.call("ltrim", key, rng.randint(-5, 5), rng.randint(-40, 60))
        elif r < 0.8:
            layout.call(rng.choice(["lpop", "rpop"]), key, *([rng.randint(0, 5)]
                                                             if rng.random() < .5 else []))
        elif r < 0.9:
            layout.call("lmove", key, rng.choice(keys), rng.choice(["left", "right"]),
                        rng.choice(["left", "right"]))
        else:
            layout.call("lmpop", 2, "k", "j", rng.choice(["left", "right"]),
                        "count", rng.randint(1, 4))
        for k in keys:
            layout.layout(k)


def test_inproc_blocking_commands_do_not_block_without_socket(layout):
    # a fake client (no socket) is treated like one inside MULTI
    kv = layout.kv
    assert kv.call("blpop", "nokey", "0") == b"*-1\r\n"
    assert kv.call("blmove", "nokey", "x", "left", "left", "0") == b"$-1\r\n"
    assert kv.call("blmpop", "0", "1", "nokey", "left") == b"*-1\r\n"


# ---------------------------------------------------------------------------
# Differential: every command against the real server
# ---------------------------------------------------------------------------

def test_push_and_len(diff):
    diff.run([
        ("lpush", "l", "a", "b", "c"), ("rpush", "l", "1", "2", "-3", "007"),
        ("llen", "l"), ("lrange", "l", 0, -1), ("lpushx", "l", "x", "y"),
        ("rpushx", "l", "z"), ("lpushx", "none", "x"), ("rpushx", "none", "x", "y"),
        ("exists", "none"), ("llen", "none"), ("lrange", "l", 0, -1),
        ("type", "l"), ("object", "encoding", "l"),
        ("set", "s", "v"), ("lpush", "s", "x"), ("rpush", "s", "x"),
        ("lpushx", "s", "x"), ("rpushx", "s", "x"), ("llen", "s"),
        ("lpush", "l"), ("rpushx", "l"),
        ("rpush", "e", ""), ("lrange", "e", 0, -1), ("lindex", "e", 0),
    ])


def test_pop_variants(diff):
    diff.run([
        ("rpush", "l", *"abcdefg"),
        ("lpop", "l"), ("rpop", "l"), ("lpop", "l", 2), ("rpop", "l", 2),
        ("lpop", "l", 0), ("rpop", "l", 0), ("lpop", "l", 10), ("exists", "l"),
        ("lpop", "l"), ("rpop", "l"), ("lpop", "l", 0), ("lpop", "l", 3),
        ("lpop", "l", "x"), ("lpop", "l", -1), ("lpop", "l", "1", "2"),
        ("rpop", "l", "1.5"), ("lpop", "l", LLONG_MAX), ("lpop", "l", "01"),
        ("rpush", "m", "a"), ("rpop", "m", LLONG_MAX), ("exists", "m"),
        ("set", "s", "v"), ("lpop", "s"), ("rpop", "s", 1), ("lpop", "s", 0),
        ("lpop", "s", "x"),
    ])


def resp3(diff):
    """HELLO 3 on both connections (the replies differ in the client id)."""
    assert diff.kv.call("hello", "3")[:1] == b"%"
    assert diff.real.call("hello", "3")[:1] == b"%"


def test_resp3_null_forms(diff):
    resp3(diff)
    diff.run([
        ("lpop", "none"), ("lpop", "none", 1), ("rpop", "none", 0), ("lindex", "none", 0),
        ("lpos", "none", "x"), ("lpos", "none", "x", "count", 0), ("lmpop", 1, "none", "left"),
        ("lmove", "none", "d", "left", "left"), ("rpoplpush", "none", "d"),
        ("rpush", "l", "a"), ("lindex", "l", 5), ("lpos", "l", "zz"),
        ("lpop", "l", 0), ("lrange", "l", 0, -1), ("lrange", "none", 0, -1),
    ])


def test_lindex_lset(diff):
    diff.run([("rpush", "l", *[str(i) for i in range(20)])])
    for i in (0, 1, 5, 19, 20, -1, -20, -21, LLONG_MAX, LLONG_MIN):
        diff.call("lindex", "l", i)
    diff.run([
        ("lindex", "l", "x"), ("lindex", "l", "1.0"), ("lindex", "none", "x"),
        ("lset", "l", 0, "first"), ("lset", "l", -1, "last"), ("lset", "l", 20, "x"),
        ("lset", "l", -21, "x"), ("lset", "l", "x", "y"), ("lset", "none", 0, "x"),
        ("lset", "none", "x", "y"), ("lrange", "l", 0, -1),
        ("set", "s", "v"), ("lindex", "s", 0), ("lindex", "s", "x"), ("lset", "s", 0, "x"),
        ("lset", "s", "x", "x"),
    ])


def test_lrange_indexes(diff):
    diff.run([("rpush", "l", *[str(i) for i in range(12)])])
    for a, b in [(0, -1), (0, 0), (-1, -1), (5, 3), (-100, 100), (3, -3), (11, 20),
                 (12, 20), (-12, -12), (-13, -13), (0, -13), (LLONG_MIN, LLONG_MAX),
                 (LLONG_MAX, LLONG_MIN), (2, 2)]:
        diff.call("lrange", "l", a, b)
    diff.run([("lrange", "l", "x", 0), ("lrange", "l", 0, "x"), ("lrange", "none", "x", 0),
              ("lrange", "none", 0, 1), ("set", "s", "v"), ("lrange", "s", 0, 1),
              ("lrange", "s", "x", 1)])


def test_lrange_large_reply(diff):
    vals = [b"e%d" % i for i in range(2000)] + [b"x" * 2000, b"-77", b""]
    diff.call("rpush", "l", *vals)
    for a, b in [(0, 99), (0, 299), (0, 499), (0, 599), (0, -1), (1500, 1800),
                 (-700, -1), (995, 1005)]:
        diff.call("lrange", "l", a, b)


def test_linsert(diff):
    diff.run([
        ("rpush", "l", "a", "b", "c", "b"),
        ("linsert", "l", "before", "b", "x"), ("linsert", "l", "AFTER", "b", "y"),
        ("linsert", "l", "after", "c", "z"), ("linsert", "l", "before", "a", "0"),
        ("linsert", "l", "after", "nope", "q"), ("linsert", "l", "middle", "a", "q"),
        ("linsert", "none", "middle", "a", "q"), ("linsert", "none", "before", "a", "q"),
        ("linsert", "l", "before\x00junk", "a", "n"), ("lrange", "l", 0, -1),
        ("set", "s", "v"), ("linsert", "s", "before", "a", "b"),
        ("linsert", "s", "sideways", "a", "b"), ("exists", "none"),
    ])


def test_ltrim(diff):
    for a, b in [(0, -1), (1, -2), (5, 3), (-3, -1), (0, 0), (100, 200), (-100, 2),
                 (2, 100), (0, -100), (LLONG_MIN, LLONG_MAX)]:
        diff.run([("del", "l"), ("rpush", "l", *"abcdefgh"), ("ltrim", "l", a, b),
                  ("lrange", "l", 0, -1), ("exists", "l")])
    diff.run([("ltrim", "none", 0, 1), ("ltrim", "none", "x", 1), ("ltrim", "l", 0, "x"),
              ("set", "s", "v"), ("ltrim", "s", 0, 1), ("ltrim", "s", "x", 1)])


def test_lrem(diff):
    base = ("rpush", "l", "a", "b", "a", "c", "a", "b", "a")
    for count in (0, 1, 2, -1, -2, 10, -10, LLONG_MAX, LLONG_MIN):
        diff.run([("del", "l"), base, ("lrem", "l", count, "a"), ("lrange", "l", 0, -1)])
    diff.run([("lrem", "l", 0, "zz"), ("lrem", "l", 0, "b"), ("lrem", "l", 0, "c"),
              ("lrem", "l", 0, "a"), ("exists", "l"), ("lrem", "none", 0, "a"),
              ("lrem", "none", "x", "a"), ("rpush", "l", "a"), ("lrem", "l", "x", "a"),
              ("set", "s", "v"), ("lrem", "s", 0, "a"), ("lrem", "s", "x", "a")])


def test_lpos(diff):
    diff.call("rpush", "l", "a", "b", "c", "1", "2", "3", "c", "c", "a", "b")
    for opts in [(), ("rank", 1), ("rank", 2), ("rank", -1), ("rank", -3), ("rank", 9),
                 ("count", 0), ("count", 1), ("count", 2), ("rank", 2, "count", 0),
                 ("rank", -1, "count", 2), ("maxlen", 3), ("maxlen", 7, "count", 0),
                 ("rank", -1, "maxlen", 2), ("rank", -1, "maxlen", 3, "count", 0),
                 ("rank", LLONG_MIN), ("rank", LLONG_MIN, "count", 1),
                 ("rank", LLONG_MIN + 1, "count", 1), ("rank", LLONG_MAX, "count", 0),
                 ("count", 2, "count", 1), ("rank", 1, "rank", -1), ("RANK", 0),
                 ("rank", 0, "count", -1), ("count", -1, "rank", 0), ("rank", "x"),
                 ("count", "x"), ("maxlen", "x"), ("maxlen", -1), ("rank",), ("count",),
                 ("maxlen",), ("foo", 1), ("rank", 1, "foo"), ("maxlen", 0, "count", 0)]:
        for elem in ("c", "a", "3", "zz"):
            diff.call("lpos", "l", elem, *opts)
    diff.run([("lpos", "none", "a"), ("lpos", "none", "a", "count", 1),
              ("lpos", "none", "a", "rank", 0), ("set", "s", "v"), ("lpos", "s", "a"),
              ("lpos", "s", "a", "rank", 0)])


def test_lmove_rpoplpush(diff):
    sides = ("left", "right")
    for a in sides:
        for b in sides:
            diff.run([("del", "s", "d"), ("rpush", "s", "1", "2", "3"), ("rpush", "d", "x"),
                      ("lmove", "s", "d", a, b), ("lmove", "s", "s", a, b),
                      ("lrange", "s", 0, -1), ("lrange", "d", 0, -1)])
    diff.run([
        ("del", "s", "d"), ("rpush", "s", "only"), ("lmove", "s", "s", "left", "right"),
        ("lrange", "s", 0, -1), ("lmove", "s", "d", "LEFT", "RIGHT"), ("exists", "s"),
        ("lrange", "d", 0, -1), ("rpoplpush", "d", "s"), ("rpoplpush", "none", "s"),
        ("lmove", "none", "d", "left", "left"), ("lmove", "none", "d", "up", "left"),
        ("lmove", "s", "d", "left", "down"), ("set", "str", "v"),
        ("lmove", "s", "str", "left", "left"), ("lrange", "s", 0, -1),
        ("lmove", "str", "s", "left", "left"), ("rpoplpush", "s", "str"),
        ("rpoplpush", "str", "s"), ("lmove", "none", "str", "left", "left"),
        ("lmove", "none", "str", "x", "left"),
    ])


def test_lmpop(diff):
    diff.run([
        ("rpush", "a", *"12345"), ("rpush", "b", *"xyz"),
        ("lmpop", 2, "none", "a", "left"), ("lmpop", 2, "none", "a", "right", "count", 2),
        ("lmpop", 1, "a", "left", "COUNT", 10), ("exists", "a"),
        ("lmpop", 3, "a", "none", "b", "right", "count", 1), ("lmpop", 2, "a", "none", "left"),
        ("lmpop", 0, "a", "left"), ("lmpop", -1, "a", "left"), ("lmpop", "x", "a", "left"),
        ("lmpop", 2, "a", "left"), ("lmpop", 5, "a", "b", "left"), ("lmpop", 1, "a", "up"),
        ("lmpop", 1, "a", "left", "count"), ("lmpop", 1, "a", "left", "count", 0),
        ("lmpop", 1, "a", "left", "count", -1), ("lmpop", 1, "a", "left", "count", "x"),
        ("lmpop", 1, "a", "left", "count", 1, "count", 1), ("lmpop", 1, "a", "left", "x"),
        ("lmpop", LLONG_MAX, "a", "left"), ("set", "s", "v"), ("lmpop", 2, "b", "s", "left"),
        ("lmpop", 2, "s", "b", "left"), ("lmpop", 1, "b", "left", "count", LLONG_MAX),
    ])


def test_blocking_commands_serve_immediately(diff):
    diff.run([
        ("rpush", "a", "1", "2", "3", "4", "5", "6"), ("rpush", "b", "x"),
        ("blpop", "none", "a", "0"), ("brpop", "none", "b", "a", "1"),
        ("blmove", "a", "b", "left", "right", "0"), ("brpoplpush", "b", "a", "0.5"),
        ("blmpop", "0", 2, "none", "a", "right", "count", 1), ("lrange", "a", 0, -1),
        ("exists", "b"), ("set", "s", "v"),
        ("blpop", "s", "0"), ("blpop", "none", "s", "0"), ("blpop", "a", "s", "0"),
        ("brpoplpush", "s", "a", "0"), ("brpoplpush", "a", "s", "0"),
        ("blmpop", "0", 1, "s", "left"), ("lrange", "a", 0, -1),
    ])


@pytest.mark.parametrize("timeout", ["-1", "abc", "inf", "-inf", "1e30", " 1", "1 ", "",
                                     "nan", "9223372036854776", "1e-5000", "0x", "--1",
                                     "1e309", "-0.5", "-9223372036854775809"])
def test_blocking_timeout_errors(diff, timeout):
    diff.run([("blpop", "k", timeout), ("brpop", "k", "j", timeout),
              ("blmove", "k", "d", "left", "left", timeout),
              ("brpoplpush", "k", "d", timeout), ("blmpop", timeout, 1, "k", "left"),
              ("blmpop", timeout, 0, "k", "left"),
              ("blmove", "k", "d", "up", "left", timeout)])


def test_blocking_argument_errors(diff):
    diff.run([
        ("blmpop", "0", "0", "k", "left"), ("blmpop", "1", "x", "k", "left"),
        ("blmpop", "1", "1", "k", "up"), ("blmpop", "1", "2", "k", "left"),
        ("blmpop", "1", "1", "k", "left", "count", "0"),
        ("blmpop", "1", "1", "k", "left", "count", "1", "count", "2"),
        ("blmove", "k", "d", "left", "up", "1"), ("blmove", "k", "d", "up", "left", "x"),
        ("blpop", "k"), ("blmove", "k", "d", "left", "left"), ("brpoplpush", "k", "d"),
        ("blmpop", "0", "1", "k"),
    ])


def test_arity_errors(diff):
    diff.run([("lpush", "k"), ("rpush",), ("llen",), ("llen", "a", "b"), ("lindex", "k"),
              ("lset", "k", 0), ("linsert", "k", "before", "x"), ("lrange", "k", 0),
              ("ltrim", "k", 0), ("lrem", "k", 0), ("lpos", "k"), ("lmove", "a", "b", "left"),
              ("rpoplpush", "a"), ("lmpop", 1, "a"), ("lpop",), ("rpop", "k", 1, 2)])


def test_encoding_always_quicklist(diff):
    diff.run([("config", "set", "list-max-listpack-size", "4"), ("rpush", "l", "a"),
              ("object", "encoding", "l"), ("rpush", "l", *"bcdefgh"),
              ("object", "encoding", "l"), ("config", "set", "list-max-listpack-size", "-2"),
              ("rpush", "big", "x" * 10000), ("object", "encoding", "big"),
              ("config", "get", "list-max-listpack-size"),
              ("config", "get", "list-max-ziplist-size"),
              ("config", "set", "list-max-ziplist-size", "-3"),
              ("config", "get", "list-max-listpack-size"),
              ("config", "set", "list-compress-depth", "1"), ("rpush", "c", *"abc"),
              ("object", "encoding", "c"), ("lrange", "c", 0, -1),
              ("config", "set", "list-compress-depth", "0"),
              ("config", "set", "list-max-listpack-size", "-2")])


def test_binary_and_integer_elements_round_trip(diff):
    vals = ["00", "-0", "+5", "1.0", " 7", "9223372036854775808", "-9223372036854775808",
            "\x00\r\n$3\r\n", "ünï", "12345678901234567890123"]
    diff.run([("rpush", "l", *vals), ("lrange", "l", 0, -1), ("lindex", "l", 6),
              ("lpos", "l", "\x00\r\n$3\r\n"), ("lrem", "l", 1, "-0"),
              ("linsert", "l", "after", "00", "0"), ("lrange", "l", 0, -1)])


COMMANDS = ("lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lindex", "lset",
            "linsert", "lrange", "ltrim", "lrem", "lpos", "lmove", "rpoplpush", "lmpop",
            "blpop", "brpop", "blmove", "brpoplpush", "blmpop", "del", "set")


def _random_command(rng: random.Random):
    keys = ["a", "b", "c", "s"]
    key = rng.choice(keys)
    vals = [rng.choice(["x", "y", "1", "2", "-3", "zz" * rng.randint(1, 40), ""])
            for _ in range(rng.randint(1, 4))]
    idx = lambda: rng.choice([0, 1, -1, 2, -2, 5, -7, 100])  # noqa: E731
    side = lambda: rng.choice(["left", "right", "LEFT", "Right"])  # noqa: E731
    cmd = rng.choice(COMMANDS)
    if cmd in ("lpush", "rpush", "lpushx", "rpushx"):
        return (cmd, key, *vals)
    if cmd in ("lpop", "rpop"):
        return (cmd, key) + ((rng.randint(0, 4),) if rng.random() < .5 else ())
    if cmd == "llen":
        return (cmd, key)
    if cmd == "lindex":
        return (cmd, key, idx())
    if cmd == "lset":
        return (cmd, key, idx(), vals[0])
    if cmd == "linsert":
        return (cmd, key, rng.choice(["before", "after"]), rng.choice(["x", "1", "y"]), vals[0])
    if cmd in ("lrange", "ltrim"):
        return (cmd, key, idx(), idx())
    if cmd == "lrem":
        return (cmd, key, rng.randint(-2, 2), rng.choice(["x", "1", "y"]))
    if cmd == "lpos":
        opts = []
        if rng.random() < .5:
            opts += ["rank", rng.choice([1, 2, -1, -2])]
        if rng.random() < .5:
            opts += ["count", rng.randint(0, 3)]
        if rng.random() < .3:
            opts += ["maxlen", rng.randint(0, 5)]
        return (cmd, key, rng.choice(["x", "1", "y"]), *opts)
    if cmd == "lmove":
        return (cmd, key, rng.choice(keys), side(), side())
    if cmd == "rpoplpush":
        return (cmd, key, rng.choice(keys))
    if cmd == "lmpop":
        ks = rng.sample(keys, rng.randint(1, 3))
        return (cmd, len(ks), *ks, side()) + (("count", rng.randint(1, 3))
                                               if rng.random() < .5 else ())
    # blocking commands with a key that may be empty would block: they are
    # only sent for keys this sequence keeps non-empty (see below)
    if cmd in ("blpop", "brpop"):
        return (cmd, "s", key, "0.01")
    if cmd == "blmove":
        return (cmd, "s", key, side(), side(), "0")
    if cmd == "brpoplpush":
        return (cmd, "s", key, "0")
    if cmd == "blmpop":
        return (cmd, "0", 2, "s", key, side(), "count", 2)
    if cmd == "del":
        return (cmd, key)
    return ("set", "s", "str") if rng.random() < .2 else ("rpush", "s", *vals)


@pytest.mark.parametrize("seed", range(6))
def test_random_sequences(diff, seed):
    rng = random.Random(seed)
    diff.call("rpush", "s", "seed")
    for _ in range(300):
        cmd = _random_command(rng)
        if cmd[0] in ("blpop", "brpop", "blmove", "brpoplpush", "blmpop"):
            # "s" comes first and is non-empty (or a string): nothing blocks
            if diff.call("type", "s") != b"+string\r\n":
                diff.call("rpush", "s", "keep")
        diff.call(*cmd)
    for key in ("a", "b", "c", "s"):
        diff.call("type", key)
        diff.call("lrange", key, 0, -1)


def test_command_info_and_docs(diff):
    diff.run([("command", "getkeys", "lmpop", 2, "a", "b", "left"),
              ("command", "getkeys", "blmpop", 0, 2, "a", "b", "left", "count", 3),
              ("command", "getkeys", "blpop", "a", "b", "0"),
              ("command", "getkeys", "lmove", "a", "b", "left", "left"),
              ("command", "getkeysandflags", "blmove", "a", "b", "left", "left", 0),
              ("command", "getkeysandflags", "lmpop", 1, "a", "left")])
    resp3(diff)
    for name in ("lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lindex",
                 "lset", "linsert", "lrange", "ltrim", "lrem", "lpos", "lmove", "rpoplpush",
                 "lmpop", "blpop", "brpop", "blmove", "brpoplpush", "blmpop"):
        diff.call("command", "info", name)
        diff.call("command", "docs", name)


@settings(max_examples=300, deadline=None)
@given(fill=st.sampled_from([-5, -2, -1, 1, 3, 128]),
       before=st.lists(ELEMENTS, max_size=40),
       v=ELEMENTS, m=st.integers(1, 300), head=st.booleans())
def test_push_repeated_is_m_single_pushes(fill, before, v, m, head):
    """A run of identical pushes lands on exactly the node boundaries and
    sizes that m separate pushes give (DEBUG OBJECT shows them)."""
    a = Quicklist.from_values(before, fill)
    b = Quicklist.from_values(before, fill)
    a.push_repeated(v, m, head)
    for _ in range(m):
        if head:
            b.push1_head(v)
        else:
            b.push1_tail(v)
    assert a.nodes == b.nodes
    assert a.sizes == b.sizes
    assert a.count == b.count
