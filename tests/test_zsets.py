"""Sorted sets: the structure against a plain model, and every zset command
against the real redis-server 7.0, byte for byte.

- Property tests (hypothesis) drive `kvserver.datastructs.zset.ZSet` in both
  encodings (thresholds small enough to convert mid-way) through ZADD with
  every flag, removals, pops and range deletions, checking the contents,
  the order, the sign of zero each encoding keeps, the encoding decision
  and rank / score / lex queries against a dict + sorted() model.
- Differential tests send the same commands to kvserver and redis-server
  (`diff` fixture) and compare raw replies, error paths included, in RESP2
  and RESP3 (HELLO 3 on both connections); random command sequences cover
  the combinations, and end with DEBUG DIGEST-VALUE of every key.  Orders
  Redis leaves unspecified (ZSCAN of a skiplist, ZRANDMEMBER) are compared
  as multisets or by shape only.
- OBJECT ENCODING at the conversion boundaries, with CONFIG SET of the
  thresholds (restored afterwards: the servers are shared by the session).
- Blocking pops with several clients: each scenario runs on both servers
  and the transcripts must be equal; a client is known to be blocked from
  INFO's blocked_clients (an event, not a timing).
"""

import math
import os
import random
import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import RawConn, encode_command
from kvserver.commands.args import strtod
from kvserver.commands.zsets import parse_double, parse_lex_range, parse_score_range
from kvserver.datastructs.zset import (GT, INCR, LT, MAXSTR, MINSTR, NX, XX, NanScore,
                                       ZSet, blob_len, code_of, d2string, lp_score, pack,
                                       unpack)
from kvserver.errors import CommandError

INF = math.inf
THRESHOLDS = (("zset-max-listpack-entries", "128"), ("zset-max-listpack-value", "64"))
# more random sequences on demand: ZSET_SEEDS=300 python -m pytest tests/test_zsets.py
SEEDS = int(os.environ.get("ZSET_SEEDS", "8"))


def resp3(diff):
    """HELLO 3 on both connections (the replies differ in the client id)."""
    assert diff.kv.call("hello", "3")[:1] == b"%"
    assert diff.real.call("hello", "3")[:1] == b"%"


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def d(request, diff):
    """The differ, in RESP2 or RESP3."""
    if request.param == 3:
        resp3(diff)
    diff.resp = request.param
    return diff


@pytest.fixture
def thresholds(diff):
    """Restore the zset thresholds on both servers after the test."""
    yield
    for conn in (diff.kv, diff.real):
        for name, v in THRESHOLDS:
            conn.call("CONFIG", "SET", name, v)


# ---------------------------------------------------------------------------
# The structure against a model
# ---------------------------------------------------------------------------

def same_float(a, b) -> bool:
    """Equal, with the sign of zero."""
    return a == b and math.copysign(1, a) == math.copysign(1, b)


class Model:
    """What a sorted set holds and which encoding Redis would give it."""

    def __init__(self, first, max_entries, max_value):
        self.d = {}
        self.max_entries = max_entries
        self.max_value = max_value
        self.skiplist = max_entries == 0 or len(first) > max_value

    def order(self):
        return sorted(self.d.items(), key=lambda kv: (kv[1], kv[0]))

    def store(self, m, s):
        # a listpack loses the sign of zero (d2string gives "0")
        self.d[m] = s if self.skiplist or s != 0 else 0.0

    def add(self, s, m, flags):
        """zsetAdd; returns 'added', 'updated', 'same' or None (no-op)."""
        cur = self.d.get(m)
        if cur is not None:
            if flags & NX:
                return None
            if flags & INCR:
                s += cur
                if s != s:
                    raise NanScore()
            if (flags & LT and s >= cur) or (flags & GT and s <= cur):
                return None
            if s != cur:
                self.store(m, s)
                return "updated"
            return "same"
        if flags & XX:
            return None
        if not self.skiplist and (len(self.d) + 1 > self.max_entries
                                  or len(m) > self.max_value):
            self.skiplist = True
        self.store(m, s)
        return "added"


def in_score_range(s, lo, loex, hi, hiex):
    return (s > lo if loex else s >= lo) and (s < hi if hiex else s <= hi)


def window(items, offset, limit):
    if offset < 0:
        return []
    return items[offset:] if limit < 0 else items[offset:offset + limit]


MEMBERS = st.sampled_from([b"a", b"b", b"c", b"d", b"e", b"f", b"aa", b"ab", b"",
                           b"10", b"-1", b"x" * 5, b"y" * 70])
SCORES = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, 2.5, -2.5, 0.1, 1e300, -1e300,
                          INF, -INF, 3.0, 7.0, 4294967296.0, 1e-310])
FLAGS = st.sampled_from([0, NX, XX, GT, LT, XX | GT, XX | LT, INCR, INCR | XX,
                         INCR | NX, INCR | GT, INCR | LT])
BOUNDS = st.tuples(SCORES, st.booleans(), SCORES, st.booleans())

OPS = st.one_of(
    st.tuples(st.just("add"), FLAGS, st.lists(st.tuples(SCORES, MEMBERS), min_size=1,
                                              max_size=6)),
    st.tuples(st.just("del"), st.lists(MEMBERS, min_size=1, max_size=4)),
    st.tuples(st.just("pop"), st.booleans(), st.integers(1, 5)),
    st.tuples(st.just("delrank"), st.integers(0, 8), st.integers(1, 4)),
    st.tuples(st.just("delscore"), BOUNDS),
)


def check(z: ZSet, model: Model):
    ms, ss = z.pairs()
    order = model.order()
    assert list(ms) == [m for m, _ in order]
    assert len(ss) == len(order)
    for s, (_, ms_) in zip(ss, order):
        assert same_float(float(s), ms_)
    assert len(z) == len(order)
    assert z.encoding() == ("skiplist" if model.skiplist else "listpack")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([(128, 64), (3, 64), (0, 64), (5, 1), (1, 3)]),
       st.lists(OPS, max_size=25), MEMBERS, st.data())
def test_zset_matches_model(limits, ops, first, data):
    max_entries, max_value = limits
    z = ZSet.new(first, max_entries, max_value)
    model = Model(first, max_entries, max_value)
    for op in ops:
        kind = op[0]
        if kind == "add":
            flags, pairs = op[1], op[2]
            if flags & INCR:
                pairs = pairs[:1]
            mcopy = dict(model.d)
            skip = model.skiplist
            try:
                expect = [model.add(s, m, flags) for s, m in pairs]
            except NanScore:
                model.d, model.skiplist = mcopy, skip
                with pytest.raises(NanScore):
                    z.add([s for s, _ in pairs], [m for _, m in pairs], flags,
                          max_entries, max_value)
                check(z, model)
                continue
            if not flags and len(pairs) == 1 and data.draw(st.booleans()):
                # the one-pair fast path gives the same result
                r = z.add1(pairs[0][0], pairs[0][1], max_entries, max_value)
                assert r == {"added": 1, "updated": 2, "same": 0}[expect[0]]
                check(z, model)
                continue
            added, updated, processed, last = z.add(
                [s for s, _ in pairs], [m for _, m in pairs], flags, max_entries, max_value)
            assert added == expect.count("added")
            assert updated == expect.count("updated")
            assert processed == len(expect) - expect.count(None)
            if processed and flags & INCR:
                assert last == model.d[pairs[0][1]]
        elif kind == "del":
            gone = {m for m in op[1] if m in model.d}
            assert z.delete(op[1]) == len(gone)
            for m in gone:
                del model.d[m]
        elif kind == "pop":
            maximum, count = op[1], op[2]
            order = model.order()
            take = order[::-1][:count] if maximum else order[:count]
            ms, ss = z.pop(maximum, count)
            assert list(ms) == [m for m, _ in take]
            assert [float(s) for s in ss] == [s for _, s in take]
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
            lo, loex, hi, hiex = op[1]
            gone = [m for m, s in model.d.items() if in_score_range(s, lo, loex, hi, hiex)]
            assert z.delete_score_range(lo, loex, hi, hiex) == len(gone)
            for m in gone:
                del model.d[m]
        check(z, model)
        if not model.d:
            continue
        # queries on the current state
        order = model.order()
        for i, (m, s) in enumerate(order):
            assert z.rank(m, False) == i
            assert z.rank(m, True) == len(order) - 1 - i
            assert same_float(float(z.score(m)), s)
        assert z.rank(b"nope", False) is None and z.score(b"nope") is None
        n = len(order)
        start = data.draw(st.integers(0, n - 1))
        end = data.draw(st.integers(start, n - 1))
        rev = data.draw(st.booleans())
        seq = order[::-1] if rev else order
        ms, ss = z.rank_range(start, end, rev)
        assert list(ms) == [m for m, _ in seq[start:end + 1]]
        lo, loex, hi, hiex = data.draw(BOUNDS)
        offset = data.draw(st.integers(-1, 4))
        limit = data.draw(st.integers(-1, 4))
        inr = [x for x in order if in_score_range(x[1], lo, loex, hi, hiex)]
        assert z.count_score(lo, loex, hi, hiex) == len(inr)
        want = window(inr[::-1] if rev else inr, offset, limit)
        ms, ss = z.score_range(lo, loex, hi, hiex, rev, offset, limit)
        assert list(ms) == [m for m, _ in want]
        assert [float(s) for s in ss] == [s for _, s in want]
        # copies keep contents and encoding
        c = z.copy()
        check(c, model)


LEX_MEMBERS = st.sampled_from([b"", b"a", b"aa", b"ab", b"b", b"ba", b"c", b"\x00",
                               b"\xff", b"z" * 70, b"m", b"mm"])
LEX_BOUND = st.one_of(st.just(MINSTR), st.just(MAXSTR), LEX_MEMBERS)


def lex_in(m, lo, loex, hi, hiex):
    if lo is MAXSTR or hi is MINSTR:
        return False
    ok_lo = lo is MINSTR or (m > lo if loex else m >= lo)
    ok_hi = hi is MAXSTR or (m < hi if hiex else m <= hi)
    return ok_lo and ok_hi


@settings(max_examples=300, deadline=None)
@given(st.sets(LEX_MEMBERS, min_size=1), st.sampled_from([(128, 64), (2, 64), (0, 64)]),
       LEX_BOUND, st.booleans(), LEX_BOUND, st.booleans(), st.booleans(),
       st.integers(-1, 3), st.integers(-1, 3), st.sampled_from([0.0, 5.0, -INF]))
def test_lex_ranges_with_one_score(members, limits, lo, loex, hi, hiex, rev, offset,
                                   limit, score):
    if lo is MINSTR or lo is MAXSTR:
        loex = True
    if hi is MINSTR or hi is MAXSTR:
        hiex = True
    members = sorted(members)
    z = ZSet.new(members[0], *limits)
    z.add([score] * len(members), members, 0, *limits)
    inr = [m for m in members if lex_in(m, lo, loex, hi, hiex)]
    assert z.count_lex(lo, loex, hi, hiex) == len(inr)
    ms, ss = z.lex_range(lo, loex, hi, hiex, rev, offset, limit)
    assert list(ms) == window(inr[::-1] if rev else inr, offset, limit)
    assert all(s == score for s in ss)
    assert z.delete_lex_range(lo, loex, hi, hiex) == len(inr)
    assert list(z.pairs()[0]) == [m for m in members if m not in inr]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=300), unique=True, max_size=40),
       st.lists(st.one_of(st.integers(-2**31, 2**31 - 1),
                          st.floats(allow_nan=False)), min_size=40, max_size=40),
       st.integers(0, 3))
def test_blob_round_trip(members, scores, hint):
    scores = sorted(lp_score(s) for s in scores[:len(members)])
    t = (*members, *scores)
    blob = pack(t, hint)
    assert blob_len(blob) == len(members)
    back = unpack(blob)
    assert back[:len(members)] == tuple(members)
    assert all(same_float(float(a), float(b)) for a, b in zip(back[len(members):], scores))
    if all(b"\0" not in m for m in members):
        # the compact form, with the smallest code from the hint upwards
        assert blob[0] == 1
        code = code_of(blob)
        assert code >= hint
        if code > hint:
            # the next narrower code could not hold these scores
            with pytest.raises(struct.error):
                struct.pack("<%d%s" % (len(scores), "bhid"[code - 1]), *scores)
    else:
        assert code_of(blob) == 0 and blob[0] != 1


def test_blob_codes():
    assert code_of(pack((b"a", b"b", -128, 127))) == 0
    assert code_of(pack((b"a", b"b", -129, 127))) == 1
    assert code_of(pack((b"a", 32768))) == 2
    assert code_of(pack((b"a", 2.5))) == 3
    assert code_of(pack((b"a", 1), 2)) == 2        # never narrower than the hint
    assert unpack(pack(())) == () and blob_len(pack(())) == 0
    assert unpack(pack((b"", 5))) == (b"", 5)
    assert unpack(pack((b"", b"\x00", 1, 2))) == (b"", b"\x00", 1, 2)


def test_lp_score_and_d2string():
    assert lp_score(-0.0) == 0 and type(lp_score(-0.0)) is int
    assert type(lp_score(2.5)) is float and type(lp_score(3.0)) is int
    assert type(lp_score(4294967296.0)) is float       # beyond int32: a double
    assert d2string(1e17) == b"100000000000000000"
    assert d2string(5e18) == b"5e+18"
    assert d2string(4611686018427387904.0) == b"4611686018427387904"
    assert d2string(0.1) == b"0.10000000000000001"
    assert d2string(-INF) == b"-inf" and d2string(3) == b"3"


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(MEMBERS, SCORES, min_size=1), st.randoms(),
       st.sampled_from([(128, 64), (2, 64), (0, 64)]))
def test_from_pairs_sorts_any_order(d, rnd, limits):
    items = list(d.items())
    rnd.shuffle(items)
    z = ZSet.from_pairs([m for m, _ in items], [s for _, s in items], *limits)
    model = sorted(d.items(), key=lambda kv: (kv[1], kv[0]))
    ms, ss = z.pairs()
    assert list(ms) == [m for m, _ in model]
    assert [float(s) for s in ss] == [s for _, s in model]
    for i, (m, _) in enumerate(model):
        assert z.rank(m, False) == i


def test_from_pairs_chooses_encoding():
    assert ZSet.from_pairs([b"a"] * 0, [], 128, 64).encoding() == "listpack"
    assert ZSet.from_pairs([b"a", b"b"], [1.0, 2.0], 2, 64).encoding() == "listpack"
    assert ZSet.from_pairs([b"a", b"b"], [1.0, 2.0], 1, 64).encoding() == "skiplist"
    assert ZSet.from_pairs([b"abc"], [1.0], 5, 2).encoding() == "skiplist"
    z = ZSet.from_pairs([b"a"], [-0.0], 0, 64)
    assert same_float(z.score(b"a"), -0.0)


def test_number_parsers():
    assert parse_double(b"1e400") is None and parse_double(b"1e-400") is None
    assert parse_double(b"0x10") == 16 and parse_double(b"-0x1p3") == -8
    assert parse_double(b"infinity") == INF and parse_double(b"-inf") == -INF
    for bad in (b"", b" 1", b"1 ", b"nan", b"1_0", b"1\x00", b"0x", b"1e", b"--1"):
        assert parse_double(bad) is None, bad
    assert parse_double(b"0e-400") == 0 and parse_double(b"1e-310") > 0
    assert parse_score_range(b"(1", b"+inf") == [1.0, True, INF, False]
    assert parse_score_range(b"", b"( 2") == [0.0, False, 2.0, True]
    assert parse_score_range(b"1e400", b"1\x00junk") == [INF, False, 1.0, False]
    for bad in (b"x", b"1 ", b"nan", b"(x", b" "):
        with pytest.raises(CommandError):
            parse_score_range(bad, b"1")
    assert parse_lex_range(b"-", b"+") == (MINSTR, True, MAXSTR, True)
    assert parse_lex_range(b"+\x00x", b"[a\x00") == (MAXSTR, True, b"a\x00", False)
    for bad in (b"", b"a", b"-x", b"++"):
        with pytest.raises(CommandError):
            parse_lex_range(bad, b"+")


def string2d_reference(arg: bytes):
    """string2d as its definition reads: glibc strtod (args.strtod) over the
    whole argument, no leading space, no NaN, no ERANGE to 0 or inf."""
    if not arg or arg[0] in b" \t\n\r\v\f":
        return None
    v, end, erange = strtod(arg)
    if end != len(arg) or v != v or (erange and (v == 0 or v in (INF, -INF))):
        return None
    return v


NUMBER_TEXT = st.one_of(
    st.binary(max_size=8),
    st.lists(st.sampled_from([b"0", b"1", b"9", b".", b"e", b"E", b"-", b"+", b"_", b" ",
                              b"\t", b"x", b"p", b"inf", b"inity", b"nan", b"0x", b"\x00",
                              b"5", b"00000", b"e-400", b"e400", b"\x0b"]),
             max_size=6).map(b"".join),
    st.integers(0, 10**30).map(lambda n: b"%d" % n),
    st.integers(1, 400).map(lambda n: b"9" * n),
    st.floats(allow_nan=True).map(lambda f: repr(f).encode()),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f.hex().encode()),
)


@settings(max_examples=3000, deadline=None)
@given(NUMBER_TEXT)
def test_parse_double_is_string2d(arg):
    got = parse_double(arg)
    want = string2d_reference(arg)
    if want is None:
        assert got is None, arg
    else:
        assert got == want and math.copysign(1, got) == math.copysign(1, want), arg
        assert type(got) is float


# ---------------------------------------------------------------------------
# Differential: commands and their errors
# ---------------------------------------------------------------------------

def test_zadd_options_and_errors(d):
    d.run([
        ("zadd", "z", "1", "a", "2", "b", "3", "c"),
        ("zadd", "z", "nx", "xx", "1", "a"),
        ("zadd", "z", "NX", "GT", "1", "a"),
        ("zadd", "z", "lt", "nx", "1", "a"),
        ("zadd", "z", "gt", "lt", "1", "a"),
        ("zadd", "z", "incr", "1", "a", "2", "b"),
        ("zadd", "z", "1", "a", "2"),
        ("zadd", "z", "nx"),
        ("zadd", "z", "ch", "incr"),
        ("zadd", "z", "x", "a"),
        ("zadd", "z", "1", "a", "nan", "b"),
        ("zadd", "z", "xx", "ch", "5", "a", "6", "new"),
        ("zadd", "z", "nx", "ch", "5", "a", "6", "new"),
        ("zadd", "z", "gt", "ch", "1", "a", "9", "b", "0", "newer"),
        ("zadd", "z", "lt", "ch", "100", "a", "-1", "b"),
        ("zadd", "z", "xx", "gt", "ch", "100", "a", "-1", "b", "1", "nokey"),
        ("zadd", "z", "incr", "2.5", "a"),
        ("zadd", "z", "incr", "nx", "2.5", "a"),
        ("zadd", "z", "incr", "xx", "2.5", "nope"),
        ("zadd", "z", "incr", "gt", "-1", "a"),
        ("zadd", "z", "incr", "lt", "-1", "a"),
        ("zadd", "z", "ch", "ch", "nx", "nx", "1", "q"),
        ("zadd", "z", "n\x00x", "1", "r"),
        ("zadd", "z", "inf", "a"),
        ("zadd", "z", "incr", "-inf", "a"),
        ("zadd", "z", "-inf", "a"),
        ("zadd", "z", "incr", "+inf", "a"),
        ("zscore", "z", "a"),
        ("zadd", "nokey", "xx", "1", "a"),
        ("zadd", "nokey", "xx", "incr", "1", "a"),
        ("exists", "nokey"),
        ("set", "str", "v"),
        ("zadd", "str", "1", "a"),
        ("zadd", "str", "x", "a"),
        ("zrange", "z", "0", "-1", "withscores"),
        ("zincrby", "z", "1", "b"),
        ("zincrby", "z", "nx", "b"),
        ("zincrby", "z", "incr", "b"),
        ("zincrby", "z", "x", "b"),
        ("zincrby", "newkey", "-0", "m"),
        ("zscore", "newkey", "m"),
        ("zincrby", "str", "1", "b"),
        ("zincrby", "z", "inf", "c"),
        ("zincrby", "z", "-inf", "c"),
        ("zadd", "z"), ("zincrby", "z", "1"),
    ])


@pytest.mark.parametrize("text", [
    "1", "-1", "+1", "1.5", ".5", "5.", "1e5", "1E-5", "0x10", "0X1p-2", "-0x.8",
    "inf", "-inf", "+inf", "Infinity", "-INFINITY", "nan", "-nan", "NaN(1)", "1e400",
    "-1e400", "1e-400", "1e-310", "0e-400", "0x1p-1080", "0x1p2000", "", " 1", "1 ",
    "\t1", "1_0", "1\x00", "0x", "1e", "1e+", "--1", "+-1", "-0", "0.000", "00012",
    "4.9406564584124654e-324", "1.7976931348623157e308", "1.7976931348623159e308",
    "0", "000", "123456789012345", "1234567890123456", "9007199254740993",
    "99999999999999999999", "9" * 309, "9" * 400, "0" * 400])
def test_score_parsing(diff, text):
    diff.call("zadd", "z", text, "m")
    diff.call("zscore", "z", "m")
    diff.call("zunion", "1", "z", "weights", text, "withscores")
    diff.call("zcount", "z", text, "+inf")
    diff.call("zcount", "z", "(" + text, "+inf")
    diff.call("zrangebyscore", "z", "-inf", text, "withscores")


@pytest.mark.parametrize("item", ["-", "+", "[a", "(a", "[", "(", "", "a", "-a", "+a",
                                  "+\x00a", "-\x00", "[a\x00b", "1"])
def test_lex_item_parsing(diff, item):
    diff.call("zadd", "l", "0", "a", "0", "a\x00b", "0", "b", "0", "")
    diff.call("zlexcount", "l", item, "+")
    diff.call("zlexcount", "l", "-", item)
    diff.call("zrangebylex", "l", item, "+")
    diff.call("zrevrangebylex", "l", "+", item)


def test_point_reads(d):
    d.run([
        ("zadd", "z", "1", "a", "0.1", "b", "1e100", "c", "-0", "d", "inf", "e",
         "-inf", "f", "3", "g", "123456789012345678", "h", "1.5e-7", "i"),
        ("zscore", "z", "b"), ("zscore", "z", "c"), ("zscore", "z", "d"),
        ("zscore", "z", "e"), ("zscore", "z", "f"), ("zscore", "z", "h"),
        ("zscore", "z", "i"), ("zscore", "z", "nope"), ("zscore", "nokey", "a"),
        ("zmscore", "z", "a", "nope", "e", "f"), ("zmscore", "nokey", "a", "b"),
        ("zrank", "z", "a"), ("zrevrank", "z", "a"), ("zrank", "z", "nope"),
        ("zrank", "nokey", "a"), ("zrevrank", "z", "f"), ("zcard", "z"),
        ("zcard", "nokey"),
        ("set", "str", "x"), ("zscore", "str", "a"), ("zmscore", "str", "a"),
        ("zrank", "str", "a"), ("zcard", "str"), ("zcount", "str", "0", "1"),
        ("zmscore", "z"), ("zscore", "z"), ("zrank", "z", "a", "b"),
    ])


def test_skiplist_point_reads_keep_negative_zero(d, thresholds):
    d.run([
        ("config", "set", "zset-max-listpack-entries", "0"),
        ("zadd", "z", "-0", "a", "0", "b", "-inf", "c", "0.1", "d"),
        ("object", "encoding", "z"),
        ("zscore", "z", "a"), ("zrange", "z", "0", "-1", "withscores"),
        ("zrank", "z", "b"), ("zrevrank", "z", "c"),
        ("zincrby", "z", "0", "a"), ("zadd", "z", "incr", "-0", "b"),
        ("zrange", "z", "0", "-1", "withscores"), ("zpopmin", "z", "2"),
        ("zmscore", "z", "a", "d"),
    ])


def test_zcount_and_score_ranges(d):
    d.call("zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "-inf", "n",
           "inf", "p", "2", "bb")
    for lo, hi in [("-inf", "+inf"), ("(1", "3"), ("1", "(3"), ("(1", "(2"), ("2", "2"),
                   ("(2", "2"), ("3", "1"), ("inf", "inf"), ("(inf", "inf"),
                   ("-inf", "-inf"), ("-inf", "(-inf"), ("x", "1"), ("1", "x"),
                   ("", ""), ("(", "+inf"), (" 2", "4"), ("2 ", "4"), ("0x2", "0x4"),
                   ("1e400", "+inf"), ("-1e400", "0"), ("2\x00junk", "4")]:
        d.call("zcount", "z", lo, hi)
        d.call("zrangebyscore", "z", lo, hi, "withscores")
        d.call("zrevrangebyscore", "z", hi, lo, "withscores")
        d.call("zrange", "z", lo, hi, "byscore")
        d.call("zrange", "z", hi, lo, "byscore", "rev", "withscores")
    d.call("zcount", "nokey", "0", "1")
    d.call("zcount", "nokey", "x", "1")


@pytest.mark.parametrize("entries", ["128", "1"])
def test_zrange_options(d, thresholds, entries):
    d.call("config", "set", "zset-max-listpack-entries", entries)
    d.call("zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "5", "f")
    d.call("zadd", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e")
    d.call("object", "encoding", "z")
    for cmd in [
        ("zrange", "z", "0", "-1"), ("zrange", "z", "0", "-1", "withscores"),
        ("zrange", "z", "-3", "-2", "withscores"), ("zrange", "z", "2", "1"),
        ("zrange", "z", "-100", "100"), ("zrange", "z", "6", "10"),
        ("zrange", "z", "0", "0", "rev", "withscores"), ("zrange", "z", "1", "3", "rev"),
        ("zrange", "z", "a", "1"), ("zrange", "z", "0", "b"),
        ("zrange", "z", "0", "1", "limit", "0", "1"),
        ("zrange", "z", "0", "1", "limit", "0", "-1"),
        ("zrange", "z", "0", "1", "limit", "0"),
        ("zrange", "z", "0", "1", "limit", "x", "1"),
        ("zrange", "z", "0", "1", "bylex", "byscore"),
        ("zrange", "z", "0", "1", "rev", "rev"),
        ("zrange", "z", "0", "1", "withscores", "withscores"),
        ("zrange", "z", "0", "1", "foo"),
        ("zrange", "z", "(1", "5", "byscore", "limit", "1", "2", "withscores"),
        ("zrange", "z", "5", "(1", "byscore", "rev", "limit", "1", "2", "withscores"),
        ("zrange", "z", "-inf", "inf", "byscore", "limit", "-1", "2"),
        ("zrange", "z", "-inf", "inf", "byscore", "limit", "2", "-5"),
        ("zrange", "z", "-inf", "inf", "byscore", "limit", "6", "1"),
        ("zrange", "z", "-inf", "inf", "byscore", "limit", "5", "1"),
        ("zrange", "z", "-inf", "inf", "byscore", "limit", "0", "0"),
        ("zrangebyscore", "z", "-inf", "inf", "limit", "1", "2", "withscores"),
        ("zrangebyscore", "z", "-inf", "inf", "rev"),
        ("zrangebyscore", "z", "-inf", "inf", "byscore"),
        ("zrevrangebyscore", "z", "inf", "-inf", "withscores", "limit", "1", "1"),
        ("zrevrange", "z", "0", "2", "withscores"), ("zrevrange", "z", "0", "2", "rev"),
        ("zrevrange", "z", "0", "2", "limit", "0", "1"),
        ("zrevrange", "z", "0", "2", "limit", "0", "-1"),
        ("zrange", "l", "-", "+", "bylex"), ("zrange", "l", "[b", "(d", "bylex"),
        ("zrange", "l", "[d", "(b", "bylex", "rev"),
        ("zrange", "l", "-", "+", "bylex", "limit", "1", "2"),
        ("zrange", "l", "+", "-", "bylex", "rev", "limit", "1", "2"),
        ("zrange", "l", "-", "+", "bylex", "limit", "-1", "2"),
        ("zrange", "l", "-", "+", "bylex", "limit", "1", "-1"),
        ("zrange", "l", "-", "+", "bylex", "limit", "9", "2"),
        ("zrange", "l", "-", "+", "bylex", "withscores"),
        ("zrange", "l", "a", "+", "bylex"), ("zrange", "l", "+", "-", "bylex"),
        ("zrange", "l", "(a", "(a", "bylex"), ("zrange", "l", "[a", "[a", "bylex"),
        ("zrangebylex", "l", "(a", "[c"), ("zrevrangebylex", "l", "[c", "(a"),
        ("zrangebylex", "l", "-", "+", "limit", "2", "10"),
        ("zrangebylex", "l", "-", "+", "withscores"),
        ("zrevrangebylex", "l", "+", "-", "limit", "0", "2"),
        ("zlexcount", "l", "(a", "[c"), ("zlexcount", "l", "+", "-"),
        ("zlexcount", "l", "-", "+"), ("zlexcount", "l", "[c", "[a"),
        ("zrange", "nokey", "0", "-1"), ("zrange", "nokey", "x", "-1"),
        ("zrange", "nokey", "(1", "2", "byscore"), ("zrange", "nokey", "x", "2", "byscore"),
        ("zrangebylex", "nokey", "-", "+"), ("zlexcount", "nokey", "x", "+"),
        ("set", "str", "v"), ("zrange", "str", "0", "1"),
        ("zrange", "str", "0", "1", "foo"), ("zrangebyscore", "str", "x", "1"),
        ("zrange", "z", "0"), ("zrangebyscore", "z", "0"),
    ]:
        d.call(*cmd)


def test_lex_with_mixed_scores_in_a_listpack(d):
    # Redis's listpack scans give a definite answer even when scores differ
    d.call("zadd", "z", "1", "d", "2", "a", "3", "c", "4", "b", "5", "e")
    for lo, hi in [("-", "+"), ("[b", "[d"), ("(a", "(e"), ("[c", "+"), ("-", "[b"),
                   ("[e", "+"), ("[z", "+"), ("-", "(a")]:
        d.call("zlexcount", "z", lo, hi)
        d.call("zrangebylex", "z", lo, hi)
        d.call("zrevrangebylex", "z", hi, lo)
        d.call("zrangebylex", "z", lo, hi, "limit", "1", "2")
    for lo, hi in [("[b", "[d"), ("[c", "+"), ("-", "[b")]:
        d.call("zadd", "y", "1", "d", "2", "a", "3", "c", "4", "b", "5", "e")
        d.call("zremrangebylex", "y", lo, hi)
        d.call("zrange", "y", "0", "-1")


def test_zrangestore(d, thresholds):
    d.run([
        ("zadd", "z", "1", "a", "2", "b", "3", "c", "-0", "n"),
        ("zrangestore", "dst", "z", "0", "-1"),
        ("zrange", "dst", "0", "-1", "withscores"), ("object", "encoding", "dst"),
        ("zrangestore", "dst", "z", "(1", "+inf", "byscore", "limit", "0", "1"),
        ("zrange", "dst", "0", "-1", "withscores"),
        ("zrangestore", "dst", "z", "[c", "-", "bylex", "rev"),
        ("zrange", "dst", "0", "-1", "withscores"),
        ("zrangestore", "dst", "z", "+inf", "-inf", "byscore", "rev"),
        ("zrange", "dst", "0", "-1", "withscores"),
        ("zrangestore", "dst", "z", "0", "-1", "rev"),
        ("zrange", "dst", "0", "-1", "withscores"),
        ("zadd", "lex", "0", "a", "0", "b", "0", "c"),
        ("zrangestore", "dst", "lex", "+", "-", "bylex", "rev", "limit", "0", "2"),
        ("zrange", "dst", "0", "-1", "withscores"),
        ("zrangestore", "dst", "z", "0", "-1", "withscores"),
        ("zrangestore", "dst", "z", "5", "10"), ("exists", "dst"),
        ("zrangestore", "dst", "z", "0", "0"), ("set", "str", "x"),
        ("zrangestore", "str", "z", "0", "0"), ("type", "str"),
        ("zrangestore", "dst", "str", "0", "0"),
        ("zrangestore", "dst", "nokey", "0", "-1"), ("exists", "dst"),
        ("zrangestore", "z", "z", "1", "2"), ("zrange", "z", "0", "-1", "withscores"),
        ("config", "set", "zset-max-listpack-entries", "0"),
        ("zadd", "s", "-0", "a", "1", "b"), ("zrangestore", "dst", "s", "0", "-1"),
        ("object", "encoding", "dst"), ("zrange", "dst", "0", "-1", "withscores"),
        ("config", "set", "zset-max-listpack-entries", "128"),
        ("zrangestore", "dst", "s", "0", "-1"), ("object", "encoding", "dst"),
        ("zrange", "dst", "0", "-1", "withscores"),
        ("zrangestore", "dst", "z"),
    ])


def test_zrem_and_remrange(d):
    def fill():
        d.call("del", "z")
        d.call("zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
    fill()
    d.run([("zrem", "z", "a", "x", "a"), ("zrem", "z", "b", "c", "d", "e", "f"),
           ("exists", "z"), ("zrem", "nokey", "a"), ("set", "str", "v"),
           ("zrem", "str", "a"), ("zrem", "z")])
    for start, stop in [("0", "0"), ("-2", "-1"), ("1", "100"), ("3", "1"), ("-100", "1"),
                        ("5", "6"), ("0", "-1"), ("x", "1"), ("1", "y")]:
        fill()
        d.call("zremrangebyrank", "z", start, stop)
        d.call("zrange", "z", "0", "-1")
    for lo, hi in [("-inf", "+inf"), ("(1", "3"), ("2", "(4"), ("x", "1"), ("5", "1"),
                   ("(5", "+inf")]:
        fill()
        d.call("zremrangebyscore", "z", lo, hi)
        d.call("zrange", "z", "0", "-1")
    for lo, hi in [("-", "+"), ("(a", "[c"), ("[c", "+"), ("x", "+"), ("+", "-"),
                   ("[e", "[e")]:
        fill()
        d.call("zremrangebylex", "z", lo, hi)
        d.call("zrange", "z", "0", "-1")
    d.run([("zremrangebyrank", "nokey", "0", "1"), ("zremrangebyscore", "nokey", "x", "1"),
           ("zremrangebylex", "nokey", "-", "+"), ("zremrangebyrank", "str", "0", "1"),
           ("zremrangebyscore", "str", "0", "1"), ("zremrangebylex", "str", "x", "+"),
           ("zremrangebylex", "str", "-", "+")])


def test_algebra(d):
    d.run([
        ("zadd", "a", "1", "x", "2", "y", "3", "z"),
        ("zadd", "b", "10", "y", "20", "z", "30", "w"),
        ("zadd", "c", "0.1", "y", "0.2", "z", "0.7", "x", "5", "q"),
        ("sadd", "s", "x", "w", "q"), ("sadd", "i", "1", "2", "3"),
        ("zadd", "n", "5", "1", "6", "2", "7", "4"), ("set", "str", "v"),
    ])
    for op in ("zunion", "zinter", "zdiff"):
        for keys in (["a", "b"], ["a", "b", "c"], ["c", "a", "b"], ["a", "s"], ["n", "i"],
                     ["i", "n"], ["a", "nokey"], ["nokey", "a"], ["a", "a"], ["s", "a"],
                     ["a"]):
            d.call(op, len(keys), *keys, "withscores")
            d.call(op, len(keys), *keys)
            if op != "zdiff":
                w = [str(x) for x in (2, -1, 0.5)[:len(keys)]]
                for agg in ("sum", "min", "max", "MAX"):
                    d.call(op, len(keys), *keys, "weights", *w, "aggregate", agg,
                           "withscores")
            d.call(op + "store", "dst", len(keys), *keys)
            d.call("zrange", "dst", "0", "-1", "withscores")
            d.call("object", "encoding", "dst")
        d.call("zintercard", 2, "a", "b")
    d.run([
        ("zunion", "2", "a", "b", "weights", "inf", "-inf", "withscores"),
        ("zunion", "2", "a", "b", "weights", "0", "inf", "withscores"),
        ("zinter", "2", "a", "b", "weights", "0", "inf", "withscores"),
        ("zinter", "2", "a", "b", "weights", "0", "inf", "aggregate", "min", "withscores"),
        ("zinter", "2", "a", "b", "weights", "0", "inf", "aggregate", "max", "withscores"),
        ("zunion", "2", "a", "b", "weights", "0", "inf", "aggregate", "max", "withscores"),
        ("zunion", "1", "a", "weights", "-1", "withscores"),
        ("zadd", "zero", "0", "m"), ("zunion", "1", "zero", "weights", "-1", "withscores"),
        ("zunionstore", "d2", "1", "zero", "weights", "-1"), ("zscore", "d2", "m"),
        ("zunion", "0", "a"), ("zunion", "-1", "a"), ("zunion", "x", "a"),
        ("zunion", "3", "a", "b"), ("zunionstore", "d", "0", "a"),
        ("zinterstore", "d", "3", "a"), ("zdiffstore", "d", "0", "a"),
        ("zintercard", "0", "a"), ("zintercard", "3", "a"), ("zinter", "0", "a"),
        ("zdiff", "0", "a"),
        ("zunion", "2", "a", "str"), ("zunion", "2", "a", "str", "foo"),
        ("zunionstore", "d", "2", "a", "str"),
        ("zunion", "2", "a", "b", "weights", "1"),
        ("zunion", "2", "a", "b", "weights", "1", "x"),
        ("zunion", "2", "a", "b", "weights", "1", "nan"),
        ("zunion", "2", "a", "b", "aggregate"), ("zunion", "2", "a", "b", "aggregate", "avg"),
        ("zunion", "2", "a", "b", "foo"), ("zunionstore", "d", "2", "a", "b", "withscores"),
        ("zunion", "2", "a", "b", "withscores", "withscores"),
        ("zdiff", "2", "a", "b", "weights", "1", "1"),
        ("zdiff", "2", "a", "b", "aggregate", "sum"),
        ("zintercard", "2", "a", "b", "limit", "1"), ("zintercard", "2", "a", "b", "limit", "0"),
        ("zintercard", "2", "a", "b", "limit", "-1"), ("zintercard", "2", "a", "b", "limit", "x"),
        ("zintercard", "2", "a", "b", "limit"), ("zintercard", "2", "a", "b", "withscores"),
        ("zintercard", "2", "a", "b", "weights", "1", "1"),
        ("zintercard", "2", "a", "nokey"), ("zintercard", "2", "a", "str"),
        ("zinterstore", "dst", "2", "a", "nokey"), ("exists", "dst"),
        ("set", "dst", "x"), ("expire", "dst", "100"),
        ("zunionstore", "dst", "1", "a"), ("ttl", "dst"), ("type", "dst"),
        ("zunionstore", "a", "2", "a", "b"), ("zrange", "a", "0", "-1", "withscores"),
    ])


def test_algebra_float_sum_order(d):
    # three-way sums are not associative: Redis adds in cardinality order
    d.run([
        ("zadd", "p", "0.1", "m", "1", "x1", "2", "x2"),
        ("zadd", "q", "0.2", "m"),
        ("zadd", "r", "0.3", "m", "5", "x1"),
        ("zunion", "3", "p", "q", "r", "withscores"),
        ("zinter", "3", "p", "q", "r", "withscores"),
        ("zinter", "3", "r", "p", "q", "weights", "3", "0.7", "1.1", "withscores"),
        ("zunion", "3", "r", "q", "p", "weights", "1e308", "1e308", "-1e308", "withscores"),
    ])


def test_algebra_encodings(d, thresholds):
    d.run([
        ("zadd", "a", *[x for i in range(100) for x in (str(i), "m%d" % i)]),
        ("zadd", "b", *[x for i in range(100) for x in (str(i), "n%d" % i)]),
        ("zunionstore", "u", "2", "a", "b"), ("object", "encoding", "u"),
        ("zinterstore", "i", "2", "a", "a"), ("object", "encoding", "i"),
        ("zadd", "long", "1", "x" * 65), ("zunionstore", "u", "2", "a", "long"),
        ("object", "encoding", "u"), ("zdiffstore", "u", "2", "long", "a"),
        ("object", "encoding", "u"),
        ("config", "set", "zset-max-listpack-value", "100"),
        ("zunionstore", "u", "2", "a", "long"), ("object", "encoding", "u"),
        ("zrangestore", "r", "u", "0", "-1"), ("object", "encoding", "r"),
        ("config", "set", "zset-max-listpack-entries", "200"),
        ("zunionstore", "u", "2", "a", "b"), ("object", "encoding", "u"),
        ("zrangestore", "r", "u", "0", "199"), ("object", "encoding", "r"),
    ])


def test_pops(d):
    def fill():
        d.call("del", "z")
        d.call("zadd", "z", "1", "a", "2", "b", "3", "c", "-0", "d", "inf", "e")
    fill()
    for cmd in [("zpopmin", "z"), ("zpopmax", "z"), ("zpopmin", "z", "2"),
                ("zpopmax", "z", "1"), ("zpopmin", "z", "0"), ("zpopmin", "z", "100")]:
        d.call(*cmd)
    d.call("exists", "z")
    fill()
    d.run([
        ("zpopmin", "z", "-1"), ("zpopmin", "z", "x"), ("zpopmin", "z", "1", "2"),
        ("zpopmin", "nokey"), ("zpopmin", "nokey", "0"), ("zpopmax", "nokey", "3"),
        ("set", "str", "v"), ("zpopmin", "str"), ("zpopmin", "str", "0"),
        ("zmpop", "1", "z", "min"), ("zmpop", "2", "nokey", "z", "max", "count", "2"),
        ("zmpop", "2", "z", "nokey", "MAX", "COUNT", "10"), ("exists", "z"),
        ("zmpop", "1", "z", "min"), ("zmpop", "1", "nokey", "max", "count", "1"),
        ("zmpop", "0", "z", "min"), ("zmpop", "-1", "z", "min"), ("zmpop", "x", "z", "min"),
        ("zmpop", "1", "z", "foo"), ("zmpop", "2", "z", "min"), ("zmpop", "1", "z"),
        ("zmpop", "1", "z", "min", "count", "0"), ("zmpop", "1", "z", "min", "count", "x"),
        ("zmpop", "1", "z", "min", "count", "1", "count", "1"),
        ("zmpop", "1", "z", "min", "count"), ("zmpop", "1", "z", "min", "foo"),
        ("zmpop", "2", "nokey", "str", "min"), ("zmpop", "2", "str", "nokey", "min"),
        ("zadd", "z", "1", "a"), ("zmpop", "2", "z", "str", "min"),
    ])


def test_blocking_pops_serve_at_once(d):
    d.run([
        ("zadd", "z", "1", "a", "2", "b", "3", "c"),
        ("bzpopmin", "nokey", "z", "0"), ("bzpopmax", "z", "0"),
        ("bzmpop", "0", "2", "nokey", "z", "min", "count", "5"), ("exists", "z"),
        ("zadd", "z", "1", "a"), ("bzmpop", "0.5", "1", "z", "max"),
        ("bzpopmin", "z", "-1"), ("bzpopmin", "z", "x"), ("bzpopmin", "z", "1e400"),
        ("bzmpop", "-1", "1", "z", "min"), ("bzmpop", "x", "1", "z", "min"),
        ("bzmpop", "0", "0", "z", "min"), ("bzmpop", "x", "0", "z", "min"),
        ("bzmpop", "0", "1", "z", "min", "count", "0"),
        ("bzmpop", "x", "1", "z", "min", "count", "0"),
        ("bzmpop", "x", "1", "z", "foo"),
        ("set", "str", "v"), ("bzpopmin", "str", "0"), ("bzpopmin", "nokey", "str", "0"),
        ("bzmpop", "0", "1", "str", "min"),
        ("multi",), ("bzpopmin", "nokey", "0"), ("bzmpop", "0", "1", "nokey", "min"),
        ("exec",),
    ])


def test_zrandmember(d):
    d.run([("zrandmember", "nokey"), ("zrandmember", "nokey", "5"),
           ("zrandmember", "nokey", "5", "withscores"), ("zrandmember", "nokey", "x"),
           ("set", "str", "v"), ("zrandmember", "str"), ("zrandmember", "str", "1"),
           ("zadd", "z", "1", "a", "2.5", "b", "-0", "c", "inf", "d"),
           ("zrandmember", "z", "0"), ("zrandmember", "z", "0", "withscores"),
           ("zrandmember", "z", "4", "withscores"), ("zrandmember", "z", "40"),
           ("zrandmember", "z", "1", "foo"), ("zrandmember", "z", "1", "withscores", "x"),
           ("zrandmember", "z", "x"), ("zrandmember", "z", "-9223372036854775808"),
           ("zrandmember", "z", "-4611686018427387904", "withscores"),
           ("zrandmember", "z", "4611686018427387904", "withscores")])


def _parse(data: bytes, pos=0):
    """One reply into nested Python values (aggregates as lists)."""
    t = data[pos:pos + 1]
    nl = data.index(b"\r\n", pos)
    head = data[pos + 1:nl]
    if t in b"$":
        n = int(head)
        if n < 0:
            return None, nl + 2
        return data[nl + 2:nl + 2 + n], nl + 4 + n
    if t in b"*":
        n = int(head)
        out = []
        p = nl + 2
        for _ in range(max(n, 0)):
            v, p = _parse(data, p)
            out.append(v)
        return out, p
    if t == b",":
        return ("double", head), nl + 2
    return head, nl + 2


@pytest.mark.parametrize("encoding", ["listpack", "skiplist"])
def test_zrandmember_shapes(d, thresholds, encoding):
    if encoding == "skiplist":
        d.call("config", "set", "zset-max-listpack-entries", "0")
    members = {b"m%d" % i: i for i in range(20)}
    d.call("zadd", "z", *[x for m, s in members.items() for x in (s, m)])
    d.call("object", "encoding", "z")
    resp = d.resp
    for args in [(), ("5",), ("-5",), ("1",), ("-30",), ("15",), ("30",), ("5", "withscores"),
                 ("-30", "withscores"), ("15", "withscores"), ("30", "withscores")]:
        kv, _ = _parse(d.kv.call("zrandmember", "z", *args))
        real, _ = _parse(d.real.call("zrandmember", "z", *args))
        if not args:
            assert kv in members and real in members
            continue
        assert len(kv) == len(real), args
        withscores = len(args) == 2
        if withscores and resp == 2:
            pairs = list(zip(kv[::2], kv[1::2]))
        elif withscores:
            pairs = [tuple(p) for p in kv]
        else:
            pairs = [(m, None) for m in kv]
        for m, s in pairs:
            assert m in members
            if s is not None:
                text = s[1] if isinstance(s, tuple) else s
                assert float(text) == members[m]
        n = int(args[0])
        if n > 0:
            assert len({m for m, _ in pairs}) == len(pairs)   # distinct
        if n >= 20:
            assert kv == real       # the whole set, from the top


@pytest.mark.parametrize("encoding", ["listpack", "skiplist"])
def test_zscan(d, thresholds, encoding):
    if encoding == "skiplist":
        d.call("config", "set", "zset-max-listpack-entries", "0")
    d.call("zadd", "z", "1e17", "a", "0.1", "b", "-0", "c", "inf", "d", "3", "e",
           "5e18", "f", "12", "x1", "13", "x2")
    d.run([("zscan", "nokey", "0"), ("zscan", "z", "x"), ("zscan", "z", "-1", "count", "0"),
           ("zscan", "z", "0", "count", "0"), ("zscan", "z", "0", "foo"),
           ("set", "str", "v"), ("zscan", "str", "0")])
    if encoding == "listpack":
        d.call("zscan", "z", "0")
        d.call("zscan", "z", "0", "match", "x*")
        d.call("zscan", "z", "0", "count", "1", "match", "*")
        return
    for extra in ((), ("match", "x*"), ("count", "2")):
        got = {}
        for conn, name in ((d.kv, "kv"), (d.real, "real")):
            cursor = b"0"
            pairs = set()
            while True:
                (cursor, items), _ = _parse(conn.call("zscan", "z", cursor, *extra))
                pairs |= set(zip(items[::2], items[1::2]))
                if cursor == b"0":
                    break
            got[name] = pairs
        assert got["kv"] == got["real"]


# ---------------------------------------------------------------------------
# Encodings at the boundaries
# ---------------------------------------------------------------------------

def test_encoding_boundaries(diff, thresholds):
    d = diff
    for i in range(130):
        d.call("zadd", "z", i % 7, "m%d" % i)
        if i in (0, 126, 127, 128, 129):
            d.call("object", "encoding", "z")
    d.run([
        ("zadd", "v", "1", "x" * 64), ("object", "encoding", "v"),
        ("zadd", "v", "1", "x" * 65), ("object", "encoding", "v"),
        ("zadd", "w", "1", "x" * 65, "2", "b"), ("object", "encoding", "w"),
        ("zadd", "w2", "1", "b", "2", "x" * 65), ("object", "encoding", "w2"),
        ("zadd", "n", "1", "1" * 65), ("object", "encoding", "n"),
        ("zadd", "n2", "1", "1" * 64), ("object", "encoding", "n2"),
        ("zremrangebyrank", "z", "0", "100"), ("object", "encoding", "z"),
        ("config", "set", "zset-max-listpack-entries", "0"),
        ("zadd", "e", "1", "a"), ("object", "encoding", "e"),
        ("config", "set", "zset-max-ziplist-entries", "3"),
        ("config", "get", "zset-max-listpack-entries"),
        ("config", "set", "zset-max-ziplist-value", "2"),
        ("zadd", "f", "1", "a", "2", "b", "3", "c"), ("object", "encoding", "f"),
        ("zadd", "f", "3", "c"), ("object", "encoding", "f"),
        ("zadd", "f", "4", "d"), ("object", "encoding", "f"),
        ("zadd", "g", "1", "abc"), ("object", "encoding", "g"),
        ("zadd", "h", "1", "ab", "2", "abc"), ("object", "encoding", "h"),
        ("zadd", "h2", "1", "ab"), ("zadd", "h2", "xx", "1", "ab", "2", "abc"),
        ("object", "encoding", "h2"),
        ("zincrby", "h3", "1", "abc"), ("object", "encoding", "h3"),
        ("zadd", "h4", "1", "a", "2", "b"), ("zadd", "h4", "nx", "5", "a", "6", "b"),
        ("zadd", "h4", "9", "zz"), ("object", "encoding", "h4"),
        ("zadd", "h5", "1", "a", "2", "b"), ("zpopmin", "h5"),
        ("zadd", "h5", "2", "c", "3", "d"), ("object", "encoding", "h5"),
        ("copy", "h", "hc"), ("object", "encoding", "hc"),
        ("copy", "f", "fc"), ("object", "encoding", "fc"),
        ("zrange", "fc", "0", "-1", "withscores"),
    ])


# ---------------------------------------------------------------------------
# Random sequences
# ---------------------------------------------------------------------------

SCORE_KEYS = ["z1", "z2", "z3"]
LEX_KEYS = ["l1", "l2"]
OTHER = ["s", "str", "nokey"]
SCORE_TEXT = ["0", "-0", "1", "2", "-1", "2.5", "0.1", "1e300", "-1e300", "inf", "-inf",
              "3", "7", "100", "nan", "x", "0x10", "1e-320"]
RANGE_TEXT = ["-inf", "+inf", "0", "(0", "1", "(1", "2.5", "(2.5", "3", "(inf", "100",
              "x", ""]
LEX_TEXT = ["-", "+", "[a", "(a", "[b", "(bb", "[c", "(c", "[", "(", "x", "[zz"]


def _member(rng):
    if rng.random() < 0.03:
        return "L" * 70
    return rng.choice(["a", "b", "bb", "c", "d", "e", "1", "10", "-3", ""])


def _range_opts(rng, store=False):
    opts = []
    if rng.random() < 0.3:
        opts.append("rev")
    if rng.random() < 0.3:
        opts += ["limit", rng.choice([0, 1, 2, -1]), rng.choice([0, 1, 3, -1])]
    if not store and rng.random() < 0.4:
        opts.append("withscores")
    return opts


def _random_command(rng):
    zk = rng.choice(SCORE_KEYS + SCORE_KEYS + OTHER)
    lk = rng.choice(LEX_KEYS + LEX_KEYS + OTHER)
    pick = rng.random()
    r = rng.choice
    if pick < 0.25:
        flags = rng.sample(["nx", "xx", "gt", "lt", "ch", "incr"], rng.choice([0, 0, 1, 2]))
        pairs = [x for _ in range(rng.choice([1, 1, 2, 4])) for x in (r(SCORE_TEXT),
                                                                       _member(rng))]
        # "nokey" stays absent, so lex commands never meet mixed scores there
        return ("zadd", zk if zk != "nokey" else "z1", *flags, *pairs)
    if pick < 0.32:
        return ("zadd", lk if lk != "nokey" else "l1", *[x for _ in range(rng.randint(1, 4))
                              for x in ("0", _member(rng))])
    cmd = r(["zincrby", "zrem", "zcard", "zscore", "zmscore", "zrank", "zrevrank",
             "zcount", "zrange", "zrangebyscore", "zrevrangebyscore", "zrevrange",
             "zremrangebyrank", "zremrangebyscore", "zpopmin", "zpopmax", "zmpop",
             "zunion", "zinter", "zdiff", "zunionstore", "zinterstore", "zdiffstore",
             "zintercard", "zrangestore", "lex", "lex", "lex", "bzpop", "del",
             "encoding"])
    if cmd == "zincrby":
        return (cmd, zk if zk != "nokey" else "z2", r(SCORE_TEXT), _member(rng))
    if cmd == "zrem":
        return (cmd, r([zk, lk]), *[_member(rng) for _ in range(rng.randint(1, 3))])
    if cmd in ("zcard", "zpopmin", "zpopmax"):
        extra = (r(["0", "1", "2", "10", "-1"]),) if cmd != "zcard" and rng.random() < .5 else ()
        return (cmd, r([zk, lk]), *extra)
    if cmd in ("zscore", "zrank", "zrevrank"):
        return (cmd, r([zk, lk]), _member(rng))
    if cmd == "zmscore":
        return (cmd, zk, _member(rng), _member(rng))
    if cmd in ("zcount", "zremrangebyscore"):
        return (cmd, zk, r(RANGE_TEXT), r(RANGE_TEXT))
    if cmd == "zrange":
        if rng.random() < 0.5:
            opts = [o for o in ("rev", "withscores") if rng.random() < .3]
            return (cmd, zk, r(["0", "1", "-1", "-3", "5"]), r(["0", "-1", "2", "100"]),
                    *opts)
        return (cmd, zk, r(RANGE_TEXT), r(RANGE_TEXT), "byscore", *_range_opts(rng))
    if cmd in ("zrangebyscore", "zrevrangebyscore"):
        opts = [o for o in _range_opts(rng) if o != "rev"]
        return (cmd, zk, r(RANGE_TEXT), r(RANGE_TEXT), *opts)
    if cmd == "zrevrange":
        return (cmd, zk, r(["0", "1", "-2"]), r(["-1", "3"]),
                *(["withscores"] if rng.random() < .5 else []))
    if cmd == "zremrangebyrank":
        return (cmd, zk, r(["0", "1", "-2", "5"]), r(["0", "-1", "2"]))
    if cmd == "zmpop":
        keys = rng.sample(SCORE_KEYS + OTHER, rng.randint(1, 3))
        return (cmd, len(keys), *keys, r(["min", "max"]),
                *(["count", r(["1", "3"])] if rng.random() < .5 else []))
    if cmd in ("zunion", "zinter", "zdiff", "zintercard", "zunionstore", "zinterstore",
               "zdiffstore"):
        keys = rng.sample(SCORE_KEYS + ["s", "nokey"], rng.randint(1, 3))
        opts = []
        if cmd in ("zunion", "zinter", "zunionstore", "zinterstore"):
            if rng.random() < .5:
                opts += ["weights", *[r(["1", "2", "-1", "0.5", "0", "inf"]) for _ in keys]]
            if rng.random() < .5:
                opts += ["aggregate", r(["sum", "min", "max"])]
        if cmd in ("zunion", "zinter", "zdiff") and rng.random() < .6:
            opts.append("withscores")
        if cmd == "zintercard" and rng.random() < .5:
            opts += ["limit", r(["0", "1", "2"])]
        if cmd.endswith("store"):
            return (cmd, r(SCORE_KEYS), len(keys), *keys, *opts)
        return (cmd, len(keys), *keys, *opts)
    if cmd == "zrangestore":
        if rng.random() < .5:
            return (cmd, r(SCORE_KEYS), r(SCORE_KEYS + LEX_KEYS), r(["0", "1", "-2"]),
                    r(["-1", "2"]))
        if rng.random() < .5:
            return (cmd, r(SCORE_KEYS), zk, r(RANGE_TEXT), r(RANGE_TEXT), "byscore",
                    *_range_opts(rng, True))
        return (cmd, r(SCORE_KEYS), lk, r(LEX_TEXT), r(LEX_TEXT), "bylex",
                *_range_opts(rng, True))
    if cmd == "lex":
        sub = r(["zrangebylex", "zrevrangebylex", "zlexcount", "zremrangebylex", "zrange"])
        if sub == "zrange":
            return (sub, lk, r(LEX_TEXT), r(LEX_TEXT), "bylex",
                    *[o for o in _range_opts(rng) if o != "withscores"])
        if sub in ("zrangebylex", "zrevrangebylex"):
            opts = ["limit", r(["0", "1", "-1"]), r(["1", "2", "-1"])] if rng.random() < .4 else []
            return (sub, lk, r(LEX_TEXT), r(LEX_TEXT), *opts)
        return (sub, lk, r(LEX_TEXT), r(LEX_TEXT))
    if cmd == "bzpop":
        # the first key is made non-empty first: nothing ever blocks
        return ("bzpop",)
    if cmd == "del":
        return (cmd, r(SCORE_KEYS + LEX_KEYS))
    return ("object", "encoding", r(SCORE_KEYS + LEX_KEYS))


@pytest.mark.parametrize("seed", range(SEEDS))
def test_random_sequences(diff, thresholds, seed):
    rng = random.Random(seed)
    d = diff
    if seed % 2:
        resp3(d)
    d.call("config", "set", "zset-max-listpack-entries", str(rng.choice([128, 4, 1])))
    d.call("config", "set", "zset-max-listpack-value", str(rng.choice([64, 2])))
    d.call("sadd", "s", "a", "b", "1", "zz")
    d.call("set", "str", "v")
    for _ in range(400):
        cmd = _random_command(rng)
        if cmd == ("bzpop",):
            key = rng.choice(SCORE_KEYS)
            d.call("zadd", key, "5", "bz")
            cmd = rng.choice([("bzpopmin", key, "nokey", "0"), ("bzpopmax", key, "0.01"),
                              ("bzmpop", "0", "2", key, "z2", "max", "count", "2")])
        d.call(*cmd)
    for key in SCORE_KEYS + LEX_KEYS:
        d.call("zrange", key, "0", "-1", "withscores")
        d.call("object", "encoding", key)
        d.call("debug", "digest-value", key)


# ---------------------------------------------------------------------------
# Transactions, WATCH, COMMAND
# ---------------------------------------------------------------------------

def test_watch_sees_zset_writes(diff):
    other_kv = RawConn(diff.kv.sock.getpeername()[1])
    other_real = RawConn(diff.real.sock.getpeername()[1])
    try:
        for cmd in [("zadd", "w", "1", "a"), ("zincrby", "w", "1", "a"), ("zrem", "w", "a"),
                    ("zpopmin", "w"), ("zremrangebyrank", "w", "0", "-1"),
                    ("zunionstore", "w", "1", "src"), ("zrangestore", "w", "src", "0", "-1")]:
            diff.call("del", "w")
            diff.call("zadd", "w", "1", "a", "2", "b")
            diff.call("zadd", "src", "1", "q")
            diff.call("watch", "w")
            assert other_kv.call(*cmd) == other_real.call(*cmd)
            diff.call("multi")
            diff.call("zcard", "w")
            diff.call("exec")
        # a no-op write does not touch the key
        diff.call("watch", "w")
        assert other_kv.call("zadd", "w", "nx", "1", "b") == other_real.call(
            "zadd", "w", "nx", "1", "b")
        diff.call("multi")
        diff.call("zcard", "w")
        diff.call("exec")
    finally:
        other_kv.close()
        other_real.close()


ALL = ("bzmpop", "bzpopmax", "bzpopmin", "zadd", "zcard", "zcount", "zdiff", "zdiffstore",
       "zincrby", "zinter", "zintercard", "zinterstore", "zlexcount", "zmpop", "zmscore",
       "zpopmax", "zpopmin", "zrandmember", "zrange", "zrangebylex", "zrangebyscore",
       "zrangestore", "zrank", "zrem", "zremrangebylex", "zremrangebyrank",
       "zremrangebyscore", "zrevrange", "zrevrangebylex", "zrevrangebyscore", "zrevrank",
       "zscan", "zscore", "zunion", "zunionstore")


def test_command_info_docs_getkeys(d):
    for name in ALL:
        d.call("command", "info", name)
        d.call("command", "docs", name)
    d.run([
        ("command", "getkeys", "zunionstore", "d", "2", "a", "b", "weights", "1", "2"),
        ("command", "getkeys", "zunion", "2", "a", "b"),
        ("command", "getkeys", "zintercard", "1", "a", "limit", "1"),
        ("command", "getkeys", "zmpop", "2", "a", "b", "min"),
        ("command", "getkeys", "bzmpop", "0", "2", "a", "b", "min"),
        ("command", "getkeys", "bzpopmin", "a", "b", "0"),
        ("command", "getkeys", "zrangestore", "d", "s", "0", "1"),
        ("command", "getkeys", "zunion", "5", "a"),
    ])
    if d.resp == 2:
        # (kvserver's GETKEYSANDFLAGS sends its flags as an array in RESP3)
        d.call("command", "getkeysandflags", "zdiffstore", "d", "1", "a")
        d.call("command", "getkeysandflags", "bzmpop", "0", "1", "a", "max")
    for name in ALL:
        d.call(name)    # arity errors


# ---------------------------------------------------------------------------
# Blocking pops with several clients
# ---------------------------------------------------------------------------

class Conn(RawConn):
    def send_cmd(self, *args):
        self.send(encode_command(*args))


class Scenario:
    """Connections on one server; `block` waits until INFO says the client
    is blocked (an event the scenario needs before acting)."""

    def __init__(self, port):
        self.port = port
        self.conns = []
        self.ctl = self.conn()
        self.ctl.call("flushall")

    def conn(self, resp=2) -> Conn:
        c = Conn(self.port)
        self.conns.append(c)
        if resp == 3:
            c.call("hello", "3")
        return c

    def blocked(self) -> int:
        for line in self.ctl.call("info", "clients").split(b"\r\n"):
            if line.startswith(b"blocked_clients:"):
                return int(line.split(b":")[1])
        raise AssertionError("no blocked_clients in INFO")

    def wait_blocked(self, n):
        deadline = time.monotonic() + 20     # bounds a hang; not a timing assert
        while self.blocked() != n:
            assert time.monotonic() < deadline, f"never reached {n} blocked clients"
            time.sleep(0.005)

    def block(self, conn, *args):
        n = self.blocked()
        conn.send_cmd(*args)
        self.wait_blocked(n + 1)

    def close(self):
        for c in self.conns:
            c.close()


@pytest.fixture
def both(kv_port, real_port):
    def go(scenario):
        out = []
        for port in (real_port, kv_port):
            s = Scenario(port)
            try:
                out.append(scenario(s))
            finally:
                s.close()
                _wait_unblocked(port)
        real, kv = out
        assert kv == real, f"kvserver {kv!r}\n!= redis {real!r}"
        return kv
    return go


def _wait_unblocked(port):
    s = Scenario.__new__(Scenario)
    s.conns = []
    s.ctl = Conn(port)
    try:
        s.wait_blocked(0)
    finally:
        s.ctl.close()


def fifo_min_max(s):
    a, b, c = s.conn(), s.conn(), s.conn()
    s.block(a, "bzpopmin", "k", "0")
    s.block(b, "bzpopmax", "k", "0")
    s.block(c, "bzpopmin", "other", "k", "0")
    out = [s.ctl.call("zadd", "k", "1", "x", "2", "y", "3", "z", "4", "w")]
    out += [a.read_reply(), b.read_reply(), c.read_reply()]
    out.append(s.ctl.call("zrange", "k", "0", "-1", "withscores"))
    return out


def test_fifo_min_max(both):
    out = both(fifo_min_max)
    assert out[1] == b"*3\r\n$1\r\nk\r\n$1\r\nx\r\n$1\r\n1\r\n"
    assert out[2] == b"*3\r\n$1\r\nk\r\n$1\r\nw\r\n$1\r\n4\r\n"


def several_keys(s):
    a, b = s.conn(), s.conn(3)
    s.block(a, "bzpopmin", "k1", "k2", "0")
    s.block(b, "bzmpop", "0", "2", "k2", "k1", "max", "count", "5")
    out = [s.ctl.call("zadd", "k2", "1.5", "m", "-0", "n")]
    out.append(a.read_reply())
    out.append(s.ctl.call("zadd", "k1", "7", "p"))
    out.append(b.read_reply())
    out.append(s.ctl.call("exists", "k1", "k2"))
    return out


def test_several_keys_and_resp3(both):
    both(several_keys)


def bzmpop_count(s):
    a, b = s.conn(), s.conn(3)
    s.block(a, "bzmpop", "0", "1", "k", "min", "count", "2")
    s.block(b, "bzmpop", "0", "1", "k", "max")
    out = [s.ctl.call("zadd", "k", "1", "a", "2", "b", "3", "c", "4", "d")]
    out += [a.read_reply(), b.read_reply(), s.ctl.call("zrange", "k", "0", "-1")]
    return out


def test_bzmpop_served_with_counts(both):
    both(bzmpop_count)


def timeouts(s):
    a, b = s.conn(), s.conn(3)
    a.send_cmd("bzpopmin", "k", "0.05")
    b.send_cmd("bzmpop", "0.05", "1", "k", "min")
    return [a.read_reply(), b.read_reply()]


def test_timeouts_reply_null(both):
    assert both(timeouts) == [b"*-1\r\n", b"_\r\n"]


def multi_wakes_after_exec(s):
    a = s.conn()
    s.block(a, "bzpopmin", "k", "0")
    out = [s.ctl.call("multi"), s.ctl.call("zadd", "k", "1", "a"),
           s.ctl.call("zadd", "k", "2", "b"), s.ctl.call("zrem", "k", "a"),
           s.ctl.call("exec")]
    out.append(a.read_reply())
    out.append(s.ctl.call("exists", "k"))
    return out


def test_multi_exec_wakes_after_exec(both):
    assert both(multi_wakes_after_exec)[5] == b"*3\r\n$1\r\nk\r\n$1\r\nb\r\n$1\r\n2\r\n"


def wrong_type_keeps_waiting(s):
    a = s.conn()
    s.block(a, "bzpopmin", "k", "0")
    out = [s.ctl.call("rpush", "k", "x"), s.ctl.call("del", "k"),
           s.ctl.call("set", "k", "v"), s.ctl.call("del", "k")]
    out.append(s.blocked())
    out.append(s.ctl.call("zadd", "k", "3", "z"))
    out.append(a.read_reply())
    return out


def test_other_types_do_not_serve(both):
    out = both(wrong_type_keeps_waiting)
    assert out[4] == 1


def store_wakes(s):
    a, b = s.conn(), s.conn()
    s.ctl.call("zadd", "src", "1", "a", "2", "b")
    s.block(a, "bzpopmax", "dst", "0")
    s.block(b, "bzpopmax", "dst2", "0")
    out = [s.ctl.call("zunionstore", "dst", "1", "src"), a.read_reply(),
           s.ctl.call("zrangestore", "dst2", "src", "0", "0"), b.read_reply()]
    return out


def test_store_commands_wake_waiters(both):
    both(store_wakes)


def pipeline_after_serve(s):
    a = s.conn()
    a.send(encode_command("bzpopmin", "k", "0") + encode_command("zcard", "k")
           + encode_command("ping"))
    s.wait_blocked(1)
    out = [s.ctl.call("zadd", "k", "1", "a", "2", "b")]
    out += [a.read_reply(), a.read_reply(), a.read_reply()]
    return out


def test_pipeline_continues_after_serve(both):
    both(pipeline_after_serve)
