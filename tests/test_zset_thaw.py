"""Sorted sets and the thaw registry: freezing at any moment changes nothing.

A listpack-encoded ZSet is a frozen blob or, between its first access in a
loop turn and the next `thaw.freeze_all`, the thawed tuple the blob unpacks
to (kvserver/datastructs/zset.py).  These tests show that the state is
invisible:

- a property test drives ZSets through every write and read of the API,
  against a plain dict model, calling `freeze_all` at random points; at
  each point everything a reply could show (order, members, the scores as
  every reply formats them, length, encoding) is the same just before and
  just after freezing;
- the three states by name: a thawed set with no change gets its very
  blob back, a changed one is packed from the blob's score code, a set
  converted to a skiplist while thawed stays one;
- more than THAWED_MAX sets thawed in one turn (earlier ones freeze
  mid-turn, and thaw again at their next access);
- commands run in-process: OBJECT ENCODING, DEBUG OBJECT, DEBUG
  DIGEST-VALUE, ZSCAN, ZRANGE WITHSCORES, ZSCORE (RESP2 and RESP3) reply
  the same bytes on a thawed set as after freezing it;
- pipelines of writes and reads on one key, which run in one loop turn
  against a thawed set, against the real redis-server byte for byte.
"""

import math

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kvserver import dispatch
from kvserver.commands.zsets import double
from kvserver.datastructs import thaw
from kvserver.datastructs.thaw import freeze_all
from kvserver.datastructs.zset import (GT, INCR, LT, NX, XX, NanScore, SkipList, ZSet,
                                       code_of, d2string, pack, unpack)
from kvserver.net.client import Client
from kvserver.net.resp import format_double
from kvserver.server import Server

INF = math.inf


# ---------------------------------------------------------------------------
# What a reply can show of a set
# ---------------------------------------------------------------------------

def observe(z: ZSet):
    """Everything a client could see: order, members, each score as
    addReplyDouble (RESP2 and RESP3), d2string (ZSCAN of a listpack) and
    DEBUG DIGEST format it, the sign of zero, length and encoding."""
    ms, ss = z.pairs()
    return (z.encoding(), z.is_listpack(), len(z), z.table() is None, list(ms),
            [double(s, 2) for s in ss], [double(s, 3) for s in ss],
            [d2string(s) for s in ss], [format_double(s) for s in ss],
            [math.copysign(1.0, s) for s in ss],
            [z.rank(m, False) for m in ms], [double(z.score(m), 2) for m in ms])


class Model:
    """member -> score, and whether Redis would have converted."""

    def __init__(self, first, max_entries, max_value):
        self.d = {}
        self.max_entries = max_entries
        self.max_value = max_value
        self.skiplist = max_entries == 0 or len(first) > max_value

    def order(self):
        return sorted(self.d.items(), key=lambda kv: (kv[1], kv[0]))

    def add(self, s, m, flags):
        """zsetAdd: -1 not processed, 0 same, 1 added, 2 updated."""
        cur = self.d.get(m)
        if cur is not None:
            if flags & NX:
                return -1
            if flags & INCR:
                s += cur
                if s != s:
                    raise NanScore()
            if (flags & LT and s >= cur) or (flags & GT and s <= cur):
                return -1
            if s == cur:
                return 0
            self.store(m, s)
            return 2
        if flags & XX:
            return -1
        if not self.skiplist and (len(self.d) + 1 > self.max_entries
                                  or len(m) > self.max_value):
            self.skiplist = True
        self.store(m, s)
        return 1

    def store(self, m, s):
        # a listpack keeps no negative zero (d2string)
        self.d[m] = s if self.skiplist or s != 0 else 0.0


def check(z: ZSet, model: Model):
    ms, ss = z.pairs()
    order = model.order()
    assert list(ms) == [m for m, _ in order]
    for s, (_, want) in zip(ss, order):
        assert s == want and math.copysign(1.0, s) == math.copysign(1.0, want)
    assert len(z) == len(order)
    assert z.encoding() == ("skiplist" if model.skiplist else "listpack")


MEMBERS = st.sampled_from([b"a", b"b", b"c", b"d", b"aa", b"", b"10", b"x\x00y",
                           b"long" * 5])
SCORES = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, 2.5, -2.5, 0.1, 1e300, -INF, INF,
                          3.0, 4294967296.0, 127.0, 128.0, 40000.0, 1e-310])
FLAGS = st.sampled_from([NX, XX, GT, LT, XX | GT, XX | LT, INCR, INCR | XX, INCR | NX,
                         INCR | GT, INCR | LT])
OPS = st.one_of(
    st.tuples(st.just("add1"), SCORES, MEMBERS),
    st.tuples(st.just("add_one"), SCORES, MEMBERS, FLAGS),
    st.tuples(st.just("add"), st.sampled_from([0, NX, XX, GT, LT]),
              st.lists(st.tuples(SCORES, MEMBERS), min_size=1, max_size=5)),
    st.tuples(st.just("del"), st.lists(MEMBERS, min_size=1, max_size=3)),
    st.tuples(st.just("pop1"), st.booleans()),
    st.tuples(st.just("pop"), st.booleans(), st.integers(1, 4)),
    st.tuples(st.just("delrank"), st.integers(0, 5), st.integers(1, 3)),
    st.tuples(st.just("delscore"), SCORES, SCORES),
    st.tuples(st.just("copy")),
    st.tuples(st.just("freeze")),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([(128, 64), (4, 64), (0, 64), (6, 3)]), MEMBERS,
       st.lists(OPS, max_size=30), st.data())
def test_freezing_at_any_point_changes_nothing(limits, first, ops, data):
    freeze_all()
    max_entries, max_value = limits
    z = ZSet.new(first, max_entries, max_value)
    model = Model(first, max_entries, max_value)
    for op in ops:
        kind = op[0]
        if kind == "freeze":
            freeze_all()
        elif kind == "add1":
            _, s, m = op
            want = model.add(s, m, 0)
            assert z.add1(s, m, max_entries, max_value) == want
        elif kind == "add_one":
            _, s, m, flags = op
            saved = dict(model.d), model.skiplist
            try:
                want = model.add(s, m, flags)
            except NanScore:
                model.d, model.skiplist = saved
                with pytest.raises(NanScore):
                    z.add_one(s, m, flags, max_entries, max_value)
            else:
                r, score = z.add_one(s, m, flags, max_entries, max_value)
                assert r == want
                if r >= 0:
                    assert score == model.d[m]
        elif kind == "add":
            _, flags, pairs = op
            want = [model.add(s, m, flags) for s, m in pairs]
            added, updated, processed, _ = z.add([s for s, _ in pairs],
                                                 [m for _, m in pairs], flags,
                                                 max_entries, max_value)
            assert (added, updated, processed) == (
                want.count(1), want.count(2), len(want) - want.count(-1))
        elif kind == "del":
            gone = {m for m in op[1] if m in model.d}
            assert z.delete(op[1]) == len(gone)
            for m in gone:
                del model.d[m]
        elif kind == "pop1":
            if not model.d:
                continue
            order = model.order()
            m, s = order[-1] if op[1] else order[0]
            assert z.pop1(op[1]) == (m, s)
            del model.d[m]
        elif kind == "pop":
            order = model.order()
            take = (order[::-1] if op[1] else order)[:op[2]]
            ms, ss = z.pop(op[1], op[2])
            assert list(zip(ms, ss)) == take
            for m, _ in take:
                del model.d[m]
        elif kind == "delrank":
            n = len(model.d)
            a = min(op[1], n)
            b = min(a + op[2], n)
            if a < b:
                order = model.order()
                assert z.delete_rank_range(a, b) == b - a
                for m, _ in order[a:b]:
                    del model.d[m]
        elif kind == "delscore":
            lo, hi = sorted(op[1:])
            gone = [m for m, s in model.d.items() if lo <= s <= hi]
            assert z.delete_score_range(lo, False, hi, False) == len(gone)
            for m in gone:
                del model.d[m]
        elif kind == "copy":
            c = z.copy()
            assert type(c._v) is not tuple      # a fresh set holds a blob
            assert observe(c) == observe(z)
            z = c
        check(z, model)
        seen = observe(z)
        if data.draw(st.booleans()):
            freeze_all()
            assert type(z._v) is not tuple
        assert observe(z) == seen
    freeze_all()
    check(z, model)


# ---------------------------------------------------------------------------
# The three states
# ---------------------------------------------------------------------------

def test_untouched_thawed_set_gets_its_blob_back():
    freeze_all()
    blob = pack((b"a", b"b", 1, 2))
    z = ZSet(blob)
    assert z.score(b"b") == 2
    assert type(z._v) is tuple and len(z) == 2 and z.encoding() == "listpack"
    assert z.add1(2.0, b"b", 128, 64) == 0      # same score: no change
    freeze_all()
    assert z._v is blob


def test_changed_set_is_packed_from_the_blobs_code():
    freeze_all()
    # a float score made this blob store doubles: its scores come back as
    # floats, and stay floats after the float is gone
    z = ZSet(pack((b"a", b"b", 1, 2.5)))
    assert code_of(z._v) == 3
    assert z.delete([b"b"]) == 1
    assert z.add1(7.0, b"c", 128, 64) == 1
    thawed = observe(z)
    freeze_all()
    assert type(z._v) is bytes and code_of(z._v) == 3
    assert unpack(z._v) == (b"a", b"c", 1.0, 7.0)
    assert all(type(s) is float for s in unpack(z._v)[2:])
    assert observe(z) == thawed
    # a set of small integers keeps the narrowest code
    z = ZSet(pack((b"a", 1)))
    z.add1(300.0, b"b", 128, 64)
    freeze_all()
    assert code_of(z._v) == 1 and unpack(z._v) == (b"a", b"b", 1, 300)


def test_set_converted_while_thawed_stays_a_skiplist():
    freeze_all()
    z = ZSet(pack((b"a", b"b", 1, 2)))
    z.pairs()                                   # a whole-set read thaws
    z.add1(3.0, b"c", 3, 64)
    assert type(z._v) is tuple
    z.add1(4.0, b"d", 3, 64)                    # past the entries limit
    assert type(z._v) is SkipList
    freeze_all()
    assert type(z._v) is SkipList and z.encoding() == "skiplist"
    assert list(z.items()) == [(b"a", 1.0), (b"b", 2.0), (b"c", 3.0), (b"d", 4.0)]


def test_emptied_set_freezes_to_an_empty_blob():
    freeze_all()
    z = ZSet(pack((b"a", b"b", 1, 2)))
    assert z.pop1(False) == (b"a", 1)
    assert z.pop1(True) == (b"b", 2)
    assert len(z) == 0
    freeze_all()
    assert type(z._v) is bytes and len(z) == 0 and unpack(z._v) == ()
    z = ZSet(pack((b"a", 5)))                   # a blob of one: not thawed
    assert z.pop1(False) == (b"a", 5) and len(z) == 0


def test_more_sets_than_the_registry_holds():
    freeze_all()
    n = thaw.THAWED_MAX + 50
    sets = [ZSet(pack((b"m%d" % i, i % 100))) for i in range(n)]
    for i, z in enumerate(sets):
        assert z.add1(float(i + 1000), b"x", 128, 64) == 1
    # the registry froze the earlier ones mid-turn
    assert type(sets[0]._v) is bytes and type(sets[-1]._v) is tuple
    assert len(thaw.THAWED) <= thaw.THAWED_MAX
    for i, z in enumerate(sets):
        assert z.score(b"x") == i + 1000
        assert z.add1(float(i % 100) + 0.5, b"m%d" % i, 128, 64) == 2
        assert list(z.items()) == [(b"m%d" % i, i % 100 + 0.5), (b"x", i + 1000)]
    freeze_all()
    assert not thaw.THAWED
    assert all(type(z._v) is bytes for z in sets)
    assert list(sets[7].items()) == [(b"m7", 7.5), (b"x", 1007)]


# ---------------------------------------------------------------------------
# Commands in-process: a thawed set replies as its frozen blob does
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client():
    server = Server()
    return Client(server, None, "x", "y")


def call(c, *args) -> bytes:
    argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    return dispatch.resolve(argv).handler(c, argv)


def replies(c, key) -> list:
    out = []
    for resp in (2, 3):
        c.resp = resp
        out += [call(c, "OBJECT", "ENCODING", key),
                call(c, "DEBUG", "OBJECT", key).split(b" lru:")[0],
                call(c, "DEBUG", "DIGEST-VALUE", key),
                call(c, "ZSCAN", key, 0),
                call(c, "ZRANGE", key, 0, -1, "WITHSCORES"),
                call(c, "ZREVRANGEBYSCORE", key, "+inf", "-inf", "WITHSCORES"),
                call(c, "ZCARD", key),
                call(c, "ZSCORE", key, "m1"),
                call(c, "ZMSCORE", key, "m0", "m1", "nope"),
                call(c, "ZRANK", key, "m1"),
                call(c, "ZRANDMEMBER", key, -3, "WITHSCORES").count(b"\r\n")]
    c.resp = 2
    return out


@pytest.mark.parametrize("scores", [
    ["1", "2", "3"],                    # small integers: code b
    ["1.5", "-0", "1e300"],             # doubles
    ["0", "70000", "-3"],               # code i
    ["inf", "-inf", "0.1"],
])
def test_thawed_and_frozen_reply_alike(client, scores):
    c = client
    freeze_all()
    call(c, "DEL", "tz")
    call(c, "ZADD", "tz", scores[0], "m0", scores[1], "m1", scores[2], "m2")
    freeze_all()
    frozen = replies(c, "tz")
    # writes that end where they began, then reads, all in one "turn"
    assert call(c, "ZINCRBY", "tz", "2.5", "m1")[:1] == b"$"
    assert call(c, "ZADD", "tz", "5", "extra") == b":1\r\n"
    assert type(c.db.data[b"tz"]._v) is tuple
    assert call(c, "ZREM", "tz", "extra") == b":1\r\n"
    call(c, "ZINCRBY", "tz", "-2.5", "m1")
    assert type(c.db.data[b"tz"]._v) is tuple
    assert replies(c, "tz") == frozen
    freeze_all()
    assert type(c.db.data[b"tz"]._v) is bytes
    assert replies(c, "tz") == frozen
    # reads alone thaw too, and reply the same
    freeze_all()
    call(c, "ZSCORE", "tz", "m0")
    assert type(c.db.data[b"tz"]._v) is tuple
    assert replies(c, "tz") == frozen
    freeze_all()
    assert replies(c, "tz") == frozen


def test_thawed_sets_in_commands_that_build_new_ones(client):
    c = client
    freeze_all()
    call(c, "DEL", "src", "dst", "cp")
    call(c, "ZADD", "src", "1", "a", "2.5", "b", "3", "c")
    call(c, "ZADD", "src", "4", "d")                    # thawed from here on
    assert type(c.db.data[b"src"]._v) is tuple
    assert call(c, "ZRANGESTORE", "dst", "src", 0, -1) == b":4\r\n"
    assert call(c, "COPY", "src", "cp") == b":1\r\n"
    for key in (b"dst", b"cp"):
        assert type(c.db.data[key]._v) is bytes     # fresh sets hold blobs
    want = call(c, "ZRANGE", "src", 0, -1, "WITHSCORES")
    assert call(c, "ZRANGE", "dst", 0, -1, "WITHSCORES") == want
    assert call(c, "ZRANGE", "cp", 0, -1, "WITHSCORES") == want
    assert call(c, "ZUNION", 2, "src", "cp", "WITHSCORES") == call(
        c, "ZUNION", 2, "dst", "dst", "WITHSCORES")
    freeze_all()
    assert call(c, "ZRANGE", "src", 0, -1, "WITHSCORES") == want
    assert call(c, "DEBUG", "DIGEST-VALUE", "src") == call(c, "DEBUG", "DIGEST-VALUE", "cp")


def test_pop_of_the_last_member_deletes_a_thawed_key(client):
    c = client
    freeze_all()
    call(c, "DEL", "pz")
    call(c, "ZADD", "pz", "1", "a", "2", "b")
    call(c, "ZSCORE", "pz", "a")
    assert call(c, "ZPOPMIN", "pz") == b"*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert call(c, "ZPOPMAX", "pz") == b"*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert call(c, "EXISTS", "pz") == b":0\r\n"
    freeze_all()
    assert call(c, "ZPOPMIN", "pz") == b"*0\r\n"


# ---------------------------------------------------------------------------
# Against redis-server: one pipeline runs in one loop turn
# ---------------------------------------------------------------------------

KEYS = ["z", "w"]
P_MEMBERS = ["a", "b", "c", "m", "element:__rand_int__"]
P_SCORES = ["0", "1", "-1", "2.5", "100", "1e300", "-inf", "+inf", "0.1", "-0", "70000"]
P_CMD = st.one_of(
    st.tuples(st.just("ZADD"), st.sampled_from(KEYS), st.sampled_from(P_SCORES),
              st.sampled_from(P_MEMBERS)),
    st.builds(lambda k, opts, pairs: ("ZADD", k, *opts, *[x for p in pairs for x in p]),
              st.sampled_from(KEYS),
              st.lists(st.sampled_from(["NX", "XX", "GT", "LT", "CH", "INCR"]),
                       max_size=2, unique=True),
              st.lists(st.tuples(st.sampled_from(P_SCORES), st.sampled_from(P_MEMBERS)),
                       min_size=1, max_size=3)),
    st.tuples(st.just("ZINCRBY"), st.sampled_from(KEYS), st.sampled_from(P_SCORES),
              st.sampled_from(P_MEMBERS)),
    st.tuples(st.just("ZREM"), st.sampled_from(KEYS), st.sampled_from(P_MEMBERS)),
    st.tuples(st.sampled_from(["ZPOPMIN", "ZPOPMAX"]), st.sampled_from(KEYS)),
    st.tuples(st.sampled_from(["ZPOPMIN", "ZPOPMAX"]), st.sampled_from(KEYS),
              st.sampled_from(["1", "2"])),
    st.tuples(st.sampled_from(["ZSCORE", "ZRANK", "ZREVRANK"]), st.sampled_from(KEYS),
              st.sampled_from(P_MEMBERS)),
    st.tuples(st.just("ZRANGE"), st.sampled_from(KEYS), st.just("0"), st.just("-1"),
              st.just("WITHSCORES")),
    st.tuples(st.sampled_from(["ZCARD", "EXISTS"]), st.sampled_from(KEYS)),
    st.tuples(st.just("OBJECT"), st.just("ENCODING"), st.sampled_from(KEYS)),
    st.tuples(st.just("DEBUG"), st.just("DIGEST-VALUE"), st.sampled_from(KEYS)),
    st.tuples(st.just("ZRANGESTORE"), st.sampled_from(KEYS), st.sampled_from(KEYS),
              st.just("0"), st.just("-1")),
)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["128", "3"]), st.lists(P_CMD, min_size=1, max_size=40))
def test_pipelines_on_thawed_sets_match_redis(diff, entries, commands):
    diff.check("FLUSHALL")
    diff.check("CONFIG", "SET", "zset-max-listpack-entries", entries)
    try:
        diff.pipeline([("ZADD", "z", "1", "a", "2", "b")] + commands)
        diff.pipeline(commands[::-1] + [("ZRANGE", k, 0, -1, "WITHSCORES") for k in KEYS])
        for k in KEYS:
            # a skiplist's ZSCAN order is its hash table's
            if diff.check("OBJECT", "ENCODING", k) != b"$8\r\nskiplist\r\n":
                diff.check("ZSCAN", k, 0)
    finally:
        diff.check("CONFIG", "SET", "zset-max-listpack-entries", "128")


def test_benchmark_shapes_match_redis(diff):
    """redis-benchmark's ZADD and ZPOPMIN, then the same on a set of 100."""
    diff.check("FLUSHALL")
    diff.pipeline([("ZADD", "myzset", "0", "element:__rand_int__")] * 16 +
                  [("ZSCORE", "myzset", "element:__rand_int__")])
    diff.pipeline([("ZPOPMIN", "myzset")] * 4)
    diff.check("ZADD", "big", *[x for i in range(100) for x in (str(i), f"m{i}")])
    diff.pipeline([("ZADD", "big", str(i * 7 % 101) + ".5", f"m{i % 100}")
                   for i in range(40)] +
                  [("ZINCRBY", "big", "-3", f"m{i}") for i in range(10)] +
                  [("ZRANGE", "big", 0, -1, "WITHSCORES"), ("ZPOPMAX", "big"),
                   ("ZREM", "big", "m1", "m2", "nope"), ("OBJECT", "ENCODING", "big")])
    diff.check("ZRANGE", "big", 0, -1, "WITHSCORES")
    diff.check("DEBUG", "DIGEST-VALUE", "big")


@pytest.mark.parametrize("resp", [2, 3])
def test_increments_on_thawed_sets_match_redis(diff, resp):
    if resp == 3:
        for conn in (diff.kv, diff.real):
            assert conn.call("HELLO", "3")[:1] == b"%"
    diff.check("DEL", "z")
    diff.check("ZADD", "z", "1", "a", "2", "b", "inf", "c", "-inf", "d")
    diff.pipeline([("ZSCORE", "z", "a"), ("ZINCRBY", "z", "-inf", "c"),
                   ("ZINCRBY", "z", "inf", "d"), ("ZINCRBY", "z", "0", "a"),
                   ("ZINCRBY", "z", "-0", "a"), ("ZINCRBY", "z", "0.5", "a"),
                   ("ZINCRBY", "z", "1e308", "b"), ("ZINCRBY", "z", "1e308", "b"),
                   ("ZINCRBY", "z", "1", "new"), ("ZINCRBY", "z", "x", "a"),
                   ("ZINCRBY", "z", "nx", "a"), ("ZADD", "z", "INCR", "GT", "-1", "a"),
                   ("ZADD", "z", "INCR", "LT", "-1", "a"), ("ZADD", "z", "INCR", "NX", "1", "a"),
                   ("ZADD", "z", "INCR", "XX", "1", "nope"), ("ZADD", "z", "CH", "3", "a"),
                   ("ZADD", "z", "GT", "CH", "1", "a"), ("ZADD", "z", "-0", "a"),
                   ("ZRANGE", "z", 0, -1, "WITHSCORES"), ("ZSCAN", "z", 0),
                   ("OBJECT", "ENCODING", "z"), ("DEBUG", "DIGEST-VALUE", "z")])
    diff.check("ZRANGE", "z", 0, -1, "WITHSCORES")
