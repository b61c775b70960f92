"""SORT and SORT_RO against the real redis-server 7.0, byte for byte.

- Errors and their order: syntax, LIMIT integers, SORT_RO with STORE,
  WRONGTYPE, scores that strtod cannot convert (glibc's rules: hex,
  infinities, ERANGE on overflow and inexact underflow, text after a NUL).
- Lists, sets (intset and hashtable) and sorted sets with every option:
  BY (string keys, hash fields, missing keys, other types, `nosort`,
  constant patterns), GET (`#`, keys, hash fields, several, missing),
  LIMIT (negative, huge, past the end), ASC/DESC, ALPHA, STORE.
- Random option combinations (hypothesis) on lists, on intsets and on
  sorted sets; on hashtable sets only where Redis's order is defined
  (Redis loads them in hash table order, which no two Redis processes
  share).  Ties under ALPHA with BY come out in the order of Redis's
  sorts: glibc's stable merge sort, or Redis's pqsort with a LIMIT.
- STORE: the stored list, overwriting other types and TTLs, deleting the
  destination on empty results, waking BLPOP, touching WATCHed keys.
- The listpack sorted set SORT reads becomes a skiplist, as in Redis.
- RESP3 replies, COMMAND GETKEYS / GETKEYSANDFLAGS.
"""

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import RawConn, encode_command
from kvserver.commands.args import strtod
from kvserver.commands.sort import pqsort
from test_hashes import call_both, resp3, unordered, value

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def same_unordered(diff, *cmd):
    a, b = call_both(diff, *cmd)
    assert unordered(value(a)) == unordered(value(b)), (cmd, a, b)


# ---------------------------------------------------------------------------
# pqsort and strtod by themselves
# ---------------------------------------------------------------------------

def _cmp(x, y):
    return (x[0] > y[0]) - (x[0] < y[0])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=120), st.data())
def test_pqsort_sorts_the_range(keys, data):
    n = len(keys)
    lo = data.draw(st.integers(0, max(n - 1, 0)))
    hi = data.draw(st.integers(lo, max(n - 1, 0)))
    a = [(k, i) for i, k in enumerate(keys)]
    pqsort(a, _cmp, lo, hi)
    assert sorted(a) == sorted((k, i) for i, k in enumerate(keys))
    want = sorted(keys)
    if n:
        assert [k for k, _ in a[lo:hi + 1]] == want[lo:hi + 1]


def test_pqsort_tie_order_is_redis():
    # Captured from GEOSEARCH ... COUNT on redis-server 7.0.15: eleven points,
    # the two nearest at one spot (ASC, COUNT 2), listed in visiting order.
    dists = [0.3, 0.3, 1095.5, 2190.8, 3286.1, 4381.4, 5476.7, 7667.8, 15335.4,
             28479.4, 35051.7]
    a = [(d, i) for i, d in enumerate(dists)]
    pqsort(a, _cmp, 0, 1)
    assert [i for _, i in a[:2]] == [0, 1]


def test_strtod_consumes_like_glibc():
    assert strtod(b" \t12abc") == (12.0, 4, False)
    assert strtod(b"-0x1.8p1") == (-3.0, 8, False)
    assert strtod(b"+.5e-0") == (0.5, 6, False)
    assert strtod(b"INF") == (float("inf"), 3, False)
    assert strtod(b"1e+") == (1.0, 1, False)
    assert strtod(b"2.2250738585072011e-308")[2] is True
    assert strtod(b"2.2250738585072014e-308")[2] is False
    v, end, erange = strtod(b"nan(123)")
    assert v != v and end == 8 and not erange
    # underflow to zero is decided without exact arithmetic on the exponent
    assert strtod(b"1e-999999999") == (0.0, 12, True)
    assert strtod(b"0x1p-999999999") == (0.0, 14, True)
    assert strtod(b"0.000e-999999999") == (0.0, 16, False)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("cmd", [
    "SORT l foo", "SORT l LIMIT 1", "SORT l LIMIT a b", "SORT l LIMIT 0 x",
    "SORT l LIMIT 0 1.5", "SORT l LIMIT 99999999999999999999 1", "SORT l GET",
    "SORT l BY", "SORT l STORE", "SORT_RO l STORE x", "SORT_RO l store",
    "SORT str", "SORT str foo", "SORT str LIMIT x 1", "SORT hash", "SORT hash BY nosort",
    "SORT str STORE d", "SORT_RO str", "SORT nokey", "SORT nokey STORE d",
    "SORT nokey LIMIT 0 x", "SORT l ALPHA foo", "SORT l asc DESC desc ASC",
    "SORT l limit 0 1 LIMIT 1 1", "SORT l LIMIT -1 -1", "SORT bad", "SORT bad DESC",
    "SORT bad BY nosort", "SORT bad ALPHA", "SORT l BY w_*", "SORT l BY bad_*",
    "SORT bad STORE d", "SORT_RO bad", "SORT l BY bad_* LIMIT 0 1",
    "SORT l BY bad_* ALPHA", "SORT l get # get",
])
def test_errors(diff, cmd):
    diff.call("RPUSH", "l", "3", "1", "2")
    diff.call("SET", "str", "x")
    diff.call("HSET", "hash", "f", "v")
    diff.call("RPUSH", "bad", "1", "x", "2")
    diff.call("SET", "bad_1", "one")
    diff.call("SET", "d", "keep")
    diff.call(*cmd.split(" "))
    diff.call("GET", "d")
    diff.call("OBJECT", "ENCODING", "d")


@pytest.mark.parametrize("v", [
    "0x10", " 3", "3 ", "", " ", "inf", "-inf", "infinity", "-INF", "nan", "nan(1)",
    "1e308", "1e309", "-1e309", "1e-310", "1e-400", "0e-999", "0x1p-1074",
    "0x1.8p-1073", "0x1p-1080", "0x1p2000", "2.2250738585072011e-308", "+4", ".5",
    "5.", "1e", "1e+", "0x", "0x.8", "- 5", "+-1", "1_000", "١", "12\x00abc",
    "\x0012", "\t5", "5\n", "\v5", "0X1P3", "00012", "-0", "9007199254740993",
    "99999999999999999999999", "1e-999999999", "0x1p-99999999", "1e999999999",
])
def test_score_conversion(diff, v):
    diff.call("RPUSH", "l", "10", v, "-3")
    diff.call("SORT", "l")
    diff.call("SORT", "l", "DESC")
    diff.call("MSET", "w_a", v, "w_b", "2")
    diff.call("RPUSH", "m", "a", "b")
    diff.call("SORT", "m", "BY", "w_*")
    diff.call("HSET", "h_a", "f", v)
    diff.call("SORT", "m", "BY", "h_*->f", "GET", "h_*->f", "GET", "#")


# ---------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------

LIMITS = [None, ("0", "-1"), ("0", "0"), ("0", "1"), ("1", "2"), ("-5", "3"), ("2", "0"),
          ("100", "5"), ("1", "100"), ("3", "-7"), ("0", "9223372036854775807"),
          ("-9223372036854775808", "2"), ("9223372036854775807", "1"), ("5", "1")]


def _limit(lim):
    return [] if lim is None else ["LIMIT", *lim]


@pytest.mark.parametrize("lim", LIMITS, ids=str)
def test_list_orders(diff, lim):
    diff.call("RPUSH", "l", "10", "2", "-1", "2", "3.5", "1e2", "-inf", "0x10", "7", "0",
              "-0", "00", "+2")
    diff.call("RPUSH", "s", "banana", "apple", "Apple", "cherry", "", "apple", "b\x00z",
              "b", "\xff", "a\x00a", "a\x00b")
    for opts in ([], ["DESC"], ["ALPHA"], ["ALPHA", "DESC"], ["BY", "nosort"],
                 ["BY", "nosort", "DESC"], ["BY", "const"], ["BY", "const", "DESC"]):
        diff.call("SORT", "l", *opts, *_limit(lim))
        diff.call("SORT_RO", "l", *opts, *_limit(lim))
        if "ALPHA" in opts or "BY" in opts:
            diff.call("SORT", "s", *opts, *_limit(lim))
            diff.call("SORT", "s", *opts, *_limit(lim), "STORE", "dst")
            diff.call("LRANGE", "dst", "0", "-1")
        diff.call("SORT", "l", *opts, *_limit(lim), "STORE", "dst")
        diff.call("LRANGE", "dst", "0", "-1")
        diff.call("EXISTS", "dst")


def test_by_and_get_patterns(diff):
    diff.call("RPUSH", "l", "a", "b", "c", "d", "e", "f")
    diff.call("MSET", "w_a", "3", "w_b", "1", "w_c", "2", "w_d", "1", "w_e", "x1",
              "name_a", "Ann", "name_c", "Cid", "name_f", "Fay")
    diff.call("INCR", "w_f")
    diff.call("HSET", "h_a", "age", "30", "nm", "A")
    diff.call("HSET", "h_b", "age", "20")
    diff.call("HSET", "h_c", "age", "20", "nm", "C")
    diff.call("HSET", "h_d", "age", "5")
    diff.call("HSET", "h_e", "age", "25")
    diff.call("HSET", "h_f", "age", "-3")
    diff.call("RPUSH", "w_zz", "notastring")
    diff.call("RPUSH", "lz", "zz", "a")
    for cmd in [
        ("SORT", "l", "BY", "w_*"),
        ("SORT", "l", "BY", "w_*", "ALPHA"),
        ("SORT", "l", "BY", "w_*", "ALPHA", "DESC"),
        ("SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "1", "3"),
        ("SORT", "l", "BY", "h_*->age"),
        ("SORT", "l", "BY", "h_*->age", "DESC", "LIMIT", "0", "3"),
        ("SORT", "l", "BY", "h_*->nm", "ALPHA"),
        ("SORT", "l", "BY", "h_*->nm", "ALPHA", "LIMIT", "0", "2"),
        ("SORT", "l", "BY", "h_*->nm", "ALPHA", "DESC", "LIMIT", "2", "2"),
        ("SORT", "l", "BY", "h_*->", "ALPHA"),
        ("SORT", "l", "BY", "h_*->age->x"),
        ("SORT", "l", "BY", "nosort", "GET", "#", "GET", "name_*", "GET", "h_*->age",
         "GET", "h_*->nm", "GET", "missing_*", "GET", "const", "GET", "w_*"),
        ("SORT", "l", "BY", "h_*->age", "GET", "name_*", "GET", "#"),
        ("SORT", "l", "BY", "h_*->age", "GET", "name_*", "LIMIT", "1", "2"),
        ("SORT", "l", "BY", "h_*->age", "GET", "name_*", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"),
        ("SORT", "l", "BY", "h_*->age", "GET", "nope", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"),
        ("SORT", "lz", "BY", "w_*"),
        ("SORT", "lz", "BY", "w_*", "ALPHA"),
        ("SORT", "lz", "GET", "w_*"),
        ("SORT", "lz", "GET", "h_*->age"),
        ("SORT", "l", "BY", "h_*", "ALPHA"),
        ("SORT", "l", "BY", "*", "ALPHA"),
        ("SORT", "l", "BY", "nosort*"),
        ("SORT", "l", "BY", "w_\x00*"),
        ("SORT", "l", "GET", "#\x00x"),
        ("SORT", "l", "GET", "h_*->age\x00x"),
        ("SORT", "l", "GET", "name_*", "BY", "w_*", "BY", "nosort"),
        ("SORT", "l", "BY", "nosort", "BY", "w_*"),
        ("SORT", "l", "BY", "w_*", "LIMIT", "0", "2", "BY", "nosort", "DESC"),
        ("SORT_RO", "l", "BY", "h_*->age", "GET", "#", "GET", "h_*->age"),
    ]:
        diff.call(*cmd)


def test_alpha_ties_with_by(diff):
    """Equal BY values: a full sort keeps list order (merge sort), a LIMIT
    goes through pqsort, whose order Redis's replies show."""
    rng = random.Random(3)
    elems = ["e%02d" % i for i in range(70)]
    diff.call("RPUSH", "l", *elems)
    for e in elems:
        if rng.random() < 0.85:
            diff.call("SET", "w_" + e, rng.choice(["a", "b", "c", "1", "2"]))
    for desc in ([], ["DESC"]):
        diff.call("SORT", "l", "BY", "w_*", "ALPHA", *desc)
        for start, count in ((0, 1), (0, 5), (3, 10), (20, 30), (60, 20), (0, 69)):
            diff.call("SORT", "l", "BY", "w_*", "ALPHA", *desc, "LIMIT", str(start),
                      str(count))
            diff.call("SORT", "l", "BY", "w_*", *desc, "LIMIT", str(start), str(count))
            diff.call("SORT", "l", "BY", "w_*", "ALPHA", *desc, "LIMIT", str(start),
                      str(count), "STORE", "dst")
            diff.call("LRANGE", "dst", "0", "-1")


# ---------------------------------------------------------------------------
# Sets and sorted sets
# ---------------------------------------------------------------------------

def test_sets(diff):
    diff.call("SADD", "ints", "5", "-2", "10", "3", "0", "7")
    diff.call("SADD", "words", "pear", "apple", "fig", "kiwi", "3", "20", "100")
    diff.call("MSET", "w_5", "1", "w_-2", "2", "w_10", "0", "w_apple", "9", "w_fig", "1")
    for opts in ([], ["DESC"], ["ALPHA"], ["LIMIT", "1", "3"], ["BY", "w_*"],
                 ["BY", "w_*", "DESC", "LIMIT", "0", "2"], ["BY", "nosort"],
                 ["BY", "nosort", "DESC"], ["BY", "nosort", "LIMIT", "2", "3"],
                 ["BY", "const", "GET", "#", "GET", "w_*"]):
        diff.call("SORT", "ints", *opts)
        diff.call("SORT", "ints", *opts, "STORE", "dst")
        diff.call("LRANGE", "dst", "0", "-1")
    for opts in (["ALPHA"], ["ALPHA", "DESC", "LIMIT", "2", "3"],
                 ["ALPHA", "GET", "w_*", "GET", "#"],
                 ["BY", "nosort", "STORE", "dst"], ["BY", "nosort", "DESC", "STORE", "dst"],
                 ["BY", "const", "LIMIT", "1", "2", "STORE", "dst"],
                 ["BY", "const", "GET", "#", "GET", "w_*", "STORE", "dst"]):
        diff.call("SORT", "words", *opts)
        diff.call("LRANGE", "dst", "0", "-1")
    diff.call("SORT", "words")          # non-numeric members
    # a hashtable set without sorting comes in hash table order
    same_unordered(diff, "SORT", "words", "BY", "nosort")
    same_unordered(diff, "SORT", "words", "BY", "nosort", "GET", "#", "GET", "w_*")
    diff.call("SADD", "nums", *[str(i * 7 % 101) for i in range(200)])
    diff.call("OBJECT", "ENCODING", "nums")
    diff.call("SORT", "nums", "LIMIT", "10", "20")
    diff.call("SORT", "nums", "DESC", "ALPHA", "LIMIT", "10", "20")
    diff.call("SORT", "nums", "BY", "nosort", "STORE", "dst")
    diff.call("LRANGE", "dst", "0", "-1")


def test_sorted_sets(diff):
    diff.call("ZADD", "z", "3", "c", "1", "a", "2", "b", "2", "bb", "-1", "10", "5", "2.5")
    diff.call("MSET", "w_a", "30", "w_b", "10", "w_c", "20", "w_10", "5")
    diff.call("OBJECT", "ENCODING", "z")
    for opts in ([], ["BY", "nosort"], ["BY", "nosort", "DESC"],
                 ["BY", "nosort", "LIMIT", "1", "2"], ["BY", "nosort", "DESC", "LIMIT", "1", "3"],
                 ["BY", "nosort", "LIMIT", "10", "3"], ["BY", "nosort", "LIMIT", "5", "-1"],
                 ["ALPHA"], ["ALPHA", "DESC", "LIMIT", "0", "3"], ["BY", "w_*"],
                 ["BY", "w_*", "DESC", "LIMIT", "1", "2"], ["BY", "const", "GET", "#", "GET", "w_*"]):
        diff.call("SORT", "z", *opts)
        diff.call("SORT", "z", *opts, "STORE", "dst")
        diff.call("LRANGE", "dst", "0", "-1")
    # SORT converts a listpack sorted set to a skiplist, even read-only
    diff.call("ZADD", "small", "1", "x", "2", "y")
    diff.call("OBJECT", "ENCODING", "small")
    diff.call("SORT_RO", "small", "ALPHA")
    diff.call("OBJECT", "ENCODING", "small")
    diff.call("ZADD", "small2", "1", "x", "2", "y")
    diff.call("SORT", "small2", "LIMIT", "0", "x")
    diff.call("OBJECT", "ENCODING", "small2")
    diff.call("SORT", "small2")
    diff.call("OBJECT", "ENCODING", "small2")


# ---------------------------------------------------------------------------
# Random option combinations
# ---------------------------------------------------------------------------

WORDS = ["a", "b", "ab", "B", "10", "9", "-1", "2.5", "x y", "", "zz", "é", "1e1"]
NUMS = ["0", "1", "-1", "2", "10", "2.5", "-0.5", "3", "1e3", "7", "0x10", "-inf"]


@st.composite
def sort_options(draw, tie_free: bool, allow_nosort: bool):
    opts = []
    alpha = draw(st.booleans())
    by = draw(st.sampled_from(["", "w_*", "h_*->f", "nosort", "const", "x_*"]
                              if allow_nosort else ["", "w_*", "h_*->f", "x_*"]))
    if tie_free and alpha and by:
        by = ""
    groups = []
    if by:
        groups.append(["BY", by])
    if alpha:
        groups.append(["ALPHA"])
    order = draw(st.sampled_from([None, "ASC", "DESC"]))
    if order:
        groups.append([order])
    if draw(st.booleans()):
        groups.append(["LIMIT", str(draw(st.integers(-2, 12))), str(draw(st.integers(-2, 12)))])
    for _ in range(draw(st.integers(0, 3))):
        groups.append(["GET", draw(st.sampled_from(["#", "w_*", "h_*->f", "h_*->g", "const",
                                                     "x_*"]))])
    if draw(st.integers(0, 3)) == 0:
        groups.append(["STORE", "dst"])
    return [a for g in draw(st.permutations(groups)) for a in g]


def _weights(diff, data, elems):
    for e in set(elems):
        if data.draw(st.booleans()):
            diff.call("SET", "w_" + e, data.draw(st.sampled_from(NUMS + ["a", "b"])))
        if data.draw(st.booleans()):
            diff.call("HSET", "h_" + e, "f", data.draw(st.sampled_from(NUMS + ["c", "d"])))
    diff.call("RPUSH", "x_" + elems[0], "a list")     # a weight of the wrong type


def _run(diff, key, opts, exact=True):
    cmd = ["SORT", key, *opts]
    if exact:
        reply = diff.call(*cmd)
    else:
        same_unordered(diff, *cmd)
        reply = b""
    if "STORE" in opts:
        if exact:
            diff.call("LRANGE", "dst", "0", "-1")
        else:
            same_unordered(diff, "LRANGE", "dst", "0", "-1")
        diff.call("EXISTS", "dst")
    elif not exact:
        same_unordered(diff, "SORT_RO", key, *opts)
    elif not reply.startswith(b"-"):
        diff.call("SORT_RO", key, *opts)


@settings(max_examples=150, **SETTINGS)
@given(st.lists(st.sampled_from(WORDS + NUMS), max_size=25), st.data())
def test_random_lists(diff, elems, data):
    diff.call("FLUSHALL")
    if elems:
        diff.call("RPUSH", "k", *elems)
    _weights(diff, data, elems or ["none"])
    for _ in range(4):
        _run(diff, "k", data.draw(sort_options(False, True)))


@settings(max_examples=80, **SETTINGS)
@given(st.sets(st.integers(-20, 20).map(str), min_size=1, max_size=25), st.data())
def test_random_intsets(diff, elems, data):
    diff.call("FLUSHALL")
    diff.call("SADD", "k", *elems)
    assert diff.call("OBJECT", "ENCODING", "k") == b"$6\r\nintset\r\n"
    _weights(diff, data, sorted(elems))
    for _ in range(4):
        _run(diff, "k", data.draw(sort_options(False, True)))


@settings(max_examples=80, **SETTINGS)
@given(st.sets(st.sampled_from(WORDS + NUMS), min_size=1, max_size=25), st.data())
def test_random_hashtable_sets(diff, elems, data):
    diff.call("FLUSHALL")
    diff.call("SADD", "k", *elems, "word")
    _weights(diff, data, sorted(elems))
    for _ in range(4):
        opts = data.draw(sort_options(True, True))
        by = opts[opts.index("BY") + 1] if "BY" in opts else ""
        # unsorted, a hashtable set comes in hash table order: only the
        # whole of it can be compared, as a multiset
        unsorted = by in ("nosort", "const") and "STORE" not in opts
        if unsorted and "LIMIT" in opts:
            continue
        _run(diff, "k", opts, exact=not unsorted)


@settings(max_examples=80, **SETTINGS)
@given(st.dictionaries(st.sampled_from(WORDS + NUMS), st.integers(-3, 3), min_size=1,
                       max_size=20), st.data())
def test_random_sorted_sets(diff, members, data):
    diff.call("FLUSHALL")
    args = [x for m, s in members.items() for x in (str(s), m)]
    diff.call("ZADD", "k", *args)
    _weights(diff, data, sorted(members))
    for _ in range(4):
        _run(diff, "k", data.draw(sort_options(True, True)))


# ---------------------------------------------------------------------------
# STORE
# ---------------------------------------------------------------------------

def test_store_destination(diff):
    diff.call("RPUSH", "l", "3", "1", "2")
    for kind in (("SET", "dst", "x"), ("HSET", "dst", "f", "v"), ("SADD", "dst", "m"),
                 ("ZADD", "dst", "1", "m"), ("RPUSH", "dst", "old", "older")):
        diff.call("DEL", "dst")
        diff.call(*kind)
        diff.call("EXPIRE", "dst", "1000")
        diff.call("SORT", "l", "STORE", "dst")
        diff.call("TYPE", "dst")
        diff.call("TTL", "dst")
        diff.call("LRANGE", "dst", "0", "-1")
        diff.call("OBJECT", "ENCODING", "dst")
    diff.call("SORT", "l", "LIMIT", "5", "1", "STORE", "dst")
    diff.call("EXISTS", "dst")
    diff.call("SORT", "l", "LIMIT", "5", "1", "STORE", "dst")
    diff.call("SORT", "nokey", "STORE", "l2")
    diff.call("SORT", "l", "STORE", "l")
    diff.call("LRANGE", "l", "0", "-1")
    diff.call("SORT", "l", "GET", "nope_*", "GET", "#", "STORE", "dst")
    diff.call("LRANGE", "dst", "0", "-1")
    diff.call("SORT", "l", "STORE", "a", "STORE", "b")
    diff.call("EXISTS", "a", "b")
    # a long result: quicklist nodes as Redis packs them
    diff.call("RPUSH", "big", *[str(i * 37 % 1000) for i in range(1000)])
    diff.call("SORT", "big", "STORE", "dst")
    diff.call("DEBUG", "DIGEST-VALUE", "dst")
    diff.call("LRANGE", "dst", "0", "-1")


def test_store_wakes_blpop(kv_port, real_port, r, real):
    for port in (kv_port, real_port):
        waiter = RawConn(port)
        other = RawConn(port)
        other.call("RPUSH", "src", "b", "a", "c")
        waiter.send(encode_command("BLPOP", "dst", "0"))
        deadline = time.time() + 5
        while b"blocked_clients:1" not in other.call("INFO", "clients"):
            assert time.time() < deadline
            time.sleep(0.01)
        assert other.call("SORT", "src", "ALPHA", "STORE", "dst") == b":3\r\n"
        assert waiter.read_reply() == b"*2\r\n$3\r\ndst\r\n$1\r\na\r\n"
        assert other.call("LRANGE", "dst", "0", "-1") == b"*2\r\n$1\r\nb\r\n$1\r\nc\r\n"
        waiter.close()
        other.close()


def test_store_touches_watched_key(r):
    r.rpush("src", 2, 1)
    r.set("dst", "x")
    for args in ({}, {"start": 5, "num": 1}):
        p = r.pipeline()
        p.watch("dst")
        r.sort("src", store="dst", **args)
        p.multi()
        p.get("x")
        with pytest.raises(Exception):
            p.execute()
        p.reset()
    # nothing to delete: nothing touched
    p = r.pipeline()
    p.watch("dst")
    r.sort("src", start=5, num=1, store="dst")
    p.multi()
    p.get("x")
    assert p.execute() == [None]


# ---------------------------------------------------------------------------
# Protocol forms and key extraction
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("proto", [2, 3])
def test_resp3(diff, proto):
    if proto == 3:
        resp3(diff)
    diff.call("RPUSH", "l", "2", "1")
    diff.call("SET", "w_1", "x")
    diff.call("SORT", "l")
    diff.call("SORT", "l", "GET", "#", "GET", "w_*", "GET", "nope")
    diff.call("SORT", "l", "STORE", "d")
    diff.call("SORT", "nokey")
    diff.call("SORT_RO", "l", "BY", "nosort", "GET", "w_*")


@pytest.mark.parametrize("cmd", [
    ("sort", "k"), ("sort", "k", "STORE", "d"), ("sort", "k", "limit", "0", "1", "STORE", "d",
                                                   "store", "e"),
    ("sort", "k", "store"), ("sort", "k", "get", "store", "x"), ("sort", "k", "by", "store", "x"),
    ("sort", "k", "STORE", "store", "x"), ("sort", "k", "limit", "store", "x", "y"),
    ("sort_ro", "k"), ("sort_ro", "k", "store", "x"), ("sort_ro", "k", "by", "w_*"),
])
def test_getkeys(diff, cmd):
    diff.call("COMMAND", "GETKEYS", *cmd)
    diff.call("COMMAND", "GETKEYSANDFLAGS", *cmd)


def test_redis_py(r, real):
    for c in (r, real):
        c.rpush("l", 3, 1, 2)
        c.mset({"w_1": 3, "w_2": 2, "w_3": 1, "n_1": "one", "n_2": "two"})
    for kw in ({}, {"desc": True}, {"by": "w_*"}, {"by": "w_*", "get": ["#", "n_*"]},
               {"start": 1, "num": 1}, {"alpha": True}, {"by": "nosort", "groups": False}):
        assert r.sort("l", **kw) == real.sort("l", **kw)
    assert r.sort_ro("l", by="w_*") == real.sort_ro("l", by="w_*")


def _hits_misses(conn) -> list:
    info = conn.call("INFO", "stats")
    return [line for line in info.split(b"\r\n")
            if line.startswith((b"keyspace_hits:", b"keyspace_misses:"))]


@pytest.mark.parametrize("cmd", [
    ("SORT", "l"), ("SORT", "l", "BY", "w_*"), ("SORT", "l", "BY", "w_*", "GET", "g_*"),
    ("SORT", "l", "BY", "w_*", "GET", "g_*", "STORE", "d"), ("SORT", "nokey"),
    ("SORT", "nokey", "STORE", "d"), ("SORT", "l", "BY", "nosort", "GET", "#"),
    ("SORT", "l", "BY", "h_*->f", "ALPHA", "GET", "h_*->f"),
])
def test_keyspace_hits_and_misses(diff, cmd):
    diff.call("RPUSH", "l", "1", "2", "3")
    diff.call("SET", "w_1", "5")
    diff.call("SET", "g_2", "x")
    diff.call("HSET", "h_3", "f", "v")
    diff.call("CONFIG", "RESETSTAT")
    diff.call(*cmd)
    assert _hits_misses(diff.kv) == _hits_misses(diff.real)
