"""Sorted set commands (t_zset.c): ZADD and friends, ranges, algebra, pops.

The value is a `kvserver.datastructs.zset.ZSet`; its encoding (listpack or
skiplist) is decided there, from `zset-max-listpack-entries` and
`zset-max-listpack-value` read off the config at each write.

Arguments are checked in Redis's order, so the same bad command gets the
same error: options and ranges are parsed before the key is looked up
(ZADD scores, ranges, LIMIT), except for the Z*STORE/ZUNION family, which
looks up (and type-checks) its sources before parsing WEIGHTS/AGGREGATE.

Numbers are read as Redis reads them: scores and weights with string2d
(strtod over the whole argument; no leading space, no overflow or
underflow to zero, no NaN; hex floats and "inf"/"infinity" accepted), score
ranges with zslParseRange's bare strtod on the C string (it stops at a NUL,
accepts leading spaces, "" is 0, and overflow gives +/-inf).  Scores are
replied with addReplyDouble: "%.17g" as a bulk string in RESP2, a ","
double in RESP3; ZSCAN shows a listpack's stored spelling (d2string).

Writes use lookupKeyWrite (`read=False`), reads lookupKeyRead.  Every
change touches the key (WATCH), bumps `keyspace.dirty` as Redis bumps
server.dirty, and an emptied set is deleted.  Keys created through
`Db.set` wake clients blocked in BZPOPMIN & co. (kvserver/blocking.py).
Keyspace notifications are not emitted (the server has none yet).
"""

from itertools import repeat
from random import random as _random, sample as _sample

from kvserver import blocking, errors
from kvserver.commands.args import c_word as _opt
from kvserver.commands.args import get_float, parse_float, random_count, strtod
from kvserver.commands.hashes import bulks, scan_options, scan_reply
from kvserver.commands.table import KeySpec, command, key_run, missing_key_run, run_handler
from kvserver.datastructs.set import Set
from kvserver.datastructs.zset import (INCR, GT, LT, MAXSTR, MINSTR, NX, XX,
                                       NanScore, ZSet, d2string, lp_update)
from kvserver.errors import WRONGTYPE as _WRONGTYPE, CommandError
from kvserver.net.resp import (EMPTY_ARRAY, NULL2, NULL3, NULL_ARRAY2, ONE, ZERO,
                               array_header, bulk, format_double, integer,
                               strict_int)
from kvserver.scan import parse_cursor, scan as scan_step

LONG_MAX = 2**63 - 1
_INF = float("inf")

_Z = (ZSet,)
_EMPTY_SCAN = b"*2\r\n$1\r\n0\r\n*0\r\n"
_ZADD_OPTS = {b"nx": NX, b"xx": XX, b"ch": 0, b"incr": INCR, b"gt": GT, b"lt": LT}
# the usual spellings match at once; others go through c_word
_ZADD_OPTS.update({k.upper(): v for k, v in _ZADD_OPTS.items()})

RANK, SCORE, LEX = 1, 2, 3          # zrange_type
UNION, INTER, DIFF = 1, 2, 3        # SET_OP_*
SUM, MIN, MAX = 1, 2, 3             # REDIS_AGGR_*


def _get_long(arg: bytes) -> int:
    v = strict_int(arg)
    if v is None:
        raise CommandError(errors.NOT_INTEGER)
    return v


# ---------------------------------------------------------------------------
# Numbers: string2d and zslParseRange's strtod
# ---------------------------------------------------------------------------

# string2d is args.parse_float; zslParseRange calls strtod bare, so a range
# bound may have leading spaces, overflow to inf, or be empty (0).
parse_double = parse_float
get_double = get_float

# Small integer scores, spelled as string2d reads them, looked up before
# parsing: a dict probe costs a third of parse_float's call (ZADD's and
# ZINCRBY's score, the plainest and commonest spellings).
_SMALL_SCORES = {b"%d" % i: float(i) for i in range(-256, 1025)}


def _range_double(a: bytes):
    """strtod(s, &eptr) with *eptr == '\\0' required, NaN refused."""
    if not a:
        return 0.0
    v, end, _ = strtod(a)
    if end != len(a) or v != v:
        return None
    return v


def parse_score_range(amin: bytes, amax: bytes):
    """zslParseRange: (min, minex, max, maxex)."""
    out = []
    for a in (amin, amax):
        z = a.find(b"\0")
        if z >= 0:
            a = a[:z]
        ex = a[:1] == b"("
        v = _range_double(a[1:] if ex else a)
        if v is None:
            raise CommandError(errors.ZRANGE_NOT_FLOAT)
        out.append(v)
        out.append(ex)
    return out


def _lex_item(a: bytes):
    c = a[:1]
    if c == b"(" or c == b"[":
        return a[1:], c == b"("
    if (c == b"+" or c == b"-") and (len(a) == 1 or a[1] == 0):
        return (MAXSTR if c == b"+" else MINSTR), True
    raise CommandError(errors.ZRANGE_NOT_LEX)


def parse_lex_range(amin: bytes, amax: bytes):
    """zslParseLexRange: (min, minex, max, maxex)."""
    lo, loex = _lex_item(amin)
    hi, hiex = _lex_item(amax)
    return lo, loex, hi, hiex


# ---------------------------------------------------------------------------
# Replies
# ---------------------------------------------------------------------------

def _fmt(s) -> bytes:
    if s - s == 0:
        return b"%.17g" % s
    return format_double(s)


def double(s, resp: int) -> bytes:
    """addReplyDouble."""
    t = b"%.17g" % s if s - s == 0 else format_double(s)
    if resp == 3:
        return b"," + t + b"\r\n"
    return b"$%d\r\n%s\r\n" % (len(t), t)


def _with_scores(ms, ss, resp: int) -> bytes:
    """Members and scores: one flat array in RESP2, pairs in RESP3 (the
    order matters, so never a map)."""
    n = len(ms)
    parts = []
    if resp == 3:
        parts.append(array_header(n))
        for m, s in zip(ms, ss):
            t = b"%.17g" % s if s - s == 0 else format_double(s)
            parts.append(b"*2\r\n$%d\r\n%s\r\n,%s\r\n" % (len(m), m, t))
    else:
        parts.append(array_header(n + n))
        for m, s in zip(ms, ss):
            t = b"%.17g" % s if s - s == 0 else format_double(s)
            parts.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(m), m, len(t), t))
    return b"".join(parts)


def _members_reply(c, ms, ss, withscores: bool) -> bytes:
    if withscores:
        return _with_scores(ms, ss, c.resp)
    return array_header(len(ms)) + bulks(ms)


def _null(c) -> bytes:
    return NULL3 if c.resp == 3 else NULL2


def _null_array(c) -> bytes:
    return NULL3 if c.resp == 3 else NULL_ARRAY2


# ---------------------------------------------------------------------------
# Writing helpers
# ---------------------------------------------------------------------------

def _changed(c, db, key, zs, n: int):
    """After removing `n` members: delete an emptied set, or touch it."""
    if not len(zs):
        db.delete(key)
    elif db.watched:
        db.touch(key)
    c.server.keyspace.dirty += n


def _store(c, dst, ms, ss) -> bytes:
    """Store a result at `dst` (deleting it when empty), reply its size."""
    db = c.db
    n = len(ms)
    if n:
        cfg = c.server.config
        db.set(dst, ZSet.from_pairs(ms, ss, cfg.zset_max_listpack_entries,
                                    cfg.zset_max_listpack_value))
        c.server.keyspace.dirty += 1
        return integer(n)
    if db.delete(dst):
        c.server.keyspace.dirty += 1
    return ZERO


# ---------------------------------------------------------------------------
# ZADD, ZINCRBY, ZREM
# ---------------------------------------------------------------------------

_WRITE = dict(keys=(1, 1, 1), group="sorted-set")


@command("zadd", -4, "write denyoom fast", acl="@write @sortedset @fast",
         key_specs=[KeySpec("RW UPDATE", index=1)],
         summary="Add one or more members to a sorted set, or update its score if it "
                 "already exists",
         since="1.2.0",
         complexity="O(log(N)) for each item added, where N is the number of elements "
                    "in the sorted set.",
         history=(("2.4.0", "Accepts multiple elements."),
                  ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
                  ("6.2.0", "Added the `GT` and `LT` options.")),
         args="key condition:[NX|XX]@3.0.2 comparison:[GT|LT]@6.2.0 "
              "[change:CH]@3.0.2 [increment:INCR]@3.0.2 score member [score member ...]",
         **_WRITE)
def zadd(c, argv):
    if len(argv) == 4:
        # ZADD key score member (redis-benchmark's), _zadd and add1's
        # commonest case inlined; an argument that parses as a score is no
        # option, the rest goes through _zadd's parsing
        s = _SMALL_SCORES.get(argv[2])
        if s is None:
            s = parse_double(argv[2])
        if s is not None:
            db = c.db
            key = argv[1]
            m = argv[3]
            zs = db.lookup(key)
            if type(zs) is not ZSet:
                if zs is not None:
                    raise CommandError(_WRONGTYPE)
                cfg = c.server.config
                zs = ZSet.new(m, cfg.zset_max_listpack_entries,
                              cfg.zset_max_listpack_value)
                db.set(key, zs)
            else:
                t = zs._v
                # a thawed listpack (datastructs/zset.py) already holding
                # the member: its score, if it changes, is all to update
                if type(t) is tuple and m in t:
                    n = len(t) >> 1
                    i = t.index(m)
                    if s == t[n + i]:
                        return ZERO
                    zs._v = lp_update(t, n, i, m, s)
                    db.keyspace.dirty += 1
                    if db.watched:
                        db.touch(key)
                    return ZERO
            cfg = c.server.config
            r = zs.add1(s, m, cfg.zset_max_listpack_entries, cfg.zset_max_listpack_value)
            if r:
                db.keyspace.dirty += 1
                if db.watched:
                    db.touch(key)
                if r == 1:
                    return ONE
            return ZERO
    return _zadd(c, argv, 0)


@command("zincrby", 4, "write denyoom fast", acl="@write @sortedset @fast",
         key_specs=[KeySpec("RW ACCESS UPDATE", index=1)],
         summary="Increment the score of a member in a sorted set", since="1.2.0",
         complexity="O(log(N)) where N is the number of elements in the sorted set.",
         args="key increment member", **_WRITE)
def zincrby(c, argv):
    s = _SMALL_SCORES.get(argv[2])
    if s is None:
        s = parse_double(argv[2])
    if s is None:
        # maybe an option (ZINCRBY key NX m is ZADD's syntax error)
        return _zadd(c, argv, INCR)
    db = c.db
    key = argv[1]
    m = argv[3]
    zs = db.lookup(key)
    if type(zs) is ZSet:
        t = zs._v
        # a member of a thawed listpack (datastructs/zset.py): add_one's
        # INCR inlined
        if type(t) is tuple and m in t:
            n = len(t) >> 1
            i = t.index(m)
            cur = t[n + i]
            s += cur
            if s != s:
                raise CommandError(errors.ZADD_NAN)
            if s != cur:
                zs._v = lp_update(t, n, i, m, s)
                db.keyspace.dirty += 1
                if db.watched:
                    db.touch(key)
            return double(s, c.resp)
    return _zadd_flags1(c, db, key, zs, s, m, INCR, False)


def _zadd(c, argv, flags: int) -> bytes:
    """zaddGenericCommand."""
    argc = len(argv)
    i = 2
    ch = False
    opts = _ZADD_OPTS
    while i < argc:
        o = argv[i]
        if o and o[0] < 65:
            break       # digits, signs, '.': a score, never an option
        f = opts.get(o)
        if f is None:
            f = opts.get(_opt(o))
            if f is None:
                break
        if f:
            flags |= f
        else:
            ch = True
        i += 1
    elements = argc - i
    if elements & 1 or not elements:
        raise CommandError(errors.SYNTAX)
    if flags & NX:
        if flags & XX:
            raise CommandError(errors.ZADD_XX_NX)
        if flags & (GT | LT):
            raise CommandError(errors.ZADD_GT_LT_NX)
    elif flags & GT and flags & LT:
        raise CommandError(errors.ZADD_GT_LT_NX)
    incr = flags & INCR
    if elements == 2:
        s = _SMALL_SCORES.get(argv[i])
        if s is None:
            s = parse_double(argv[i])
            if s is None:
                raise CommandError(errors.NOT_FLOAT)
        if not flags:
            return _zadd1(c, argv[1], s, argv[i + 1], ch)
        db = c.db
        key = argv[1]
        return _zadd_flags1(c, db, key, db.lookup(key), s, argv[i + 1], flags, ch)
    if incr:
        raise CommandError(errors.ZADD_INCR_PAIRS)
    scores = []
    for j in range(i, argc, 2):
        s = parse_double(argv[j])
        if s is None:
            raise CommandError(errors.NOT_FLOAT)
        scores.append(s)
    members = argv[i + 1::2]
    db = c.db
    key = argv[1]
    cfg = c.server.config
    zs = db.lookup(key)
    if type(zs) is not ZSet:
        if zs is not None:
            raise CommandError(_WRONGTYPE)
        if flags & XX:
            return ZERO
        zs = ZSet.new(members[0], cfg.zset_max_listpack_entries,
                      cfg.zset_max_listpack_value)
        db.set(key, zs)
    # no NaN without INCR, which takes one pair
    added, updated, _, _ = zs.add(scores, members, flags, cfg.zset_max_listpack_entries,
                                  cfg.zset_max_listpack_value)
    if added or updated:
        db.keyspace.dirty += added + updated
        if db.watched:
            db.touch(key)
    return integer(added + updated if ch else added)


def _zadd_flags1(c, db, key, zs, s, m, flags: int, ch: bool) -> bytes:
    """One pair with options (ZINCRBY is ZADD INCR); `zs` is what
    db.lookup(key) found (one lookup per command, as LFU counts them)."""
    cfg = c.server.config
    if type(zs) is not ZSet:
        if zs is not None:
            raise CommandError(_WRONGTYPE)
        if flags & XX:
            if flags & INCR:
                return NULL3 if c.resp == 3 else NULL2
            return ZERO
        zs = ZSet.new(m, cfg.zset_max_listpack_entries, cfg.zset_max_listpack_value)
        db.set(key, zs)
    try:
        r, score = zs.add_one(s, m, flags, cfg.zset_max_listpack_entries,
                              cfg.zset_max_listpack_value)
    except NanScore:
        raise CommandError(errors.ZADD_NAN) from None
    if r > 0:
        db.keyspace.dirty += 1
        if db.watched:
            db.touch(key)
    if flags & INCR:
        if r < 0:
            return NULL3 if c.resp == 3 else NULL2
        return double(score, c.resp)
    return ONE if r == 1 or (ch and r == 2) else ZERO


def _zadd1(c, key, s, m, ch: bool) -> bytes:
    """ZADD [CH] key score member."""
    db = c.db
    cfg = c.server.config
    zs = db.lookup(key)
    if type(zs) is not ZSet:
        if zs is not None:
            raise CommandError(_WRONGTYPE)
        zs = ZSet.new(m, cfg.zset_max_listpack_entries, cfg.zset_max_listpack_value)
        db.set(key, zs)
    r = zs.add1(s, m, cfg.zset_max_listpack_entries, cfg.zset_max_listpack_value)
    if r:
        db.keyspace.dirty += 1
        if db.watched:
            db.touch(key)
        if r == 1 or ch:
            return ONE
    return ZERO


@command("zrem", -3, "write fast", acl="@write @sortedset @fast",
         key_specs=[KeySpec("RW DELETE", index=1)],
         summary="Remove one or more members from a sorted set", since="1.2.0",
         complexity="O(M*log(N)) with N being the number of elements in the sorted set "
                    "and M the number of elements to be removed.",
         history=(("2.4.0", "Accepts multiple elements."),),
         args="key member [member ...]", **_WRITE)
def zrem(c, argv):
    db = c.db
    key = argv[1]
    zs = db.lookup(key)
    if type(zs) is not ZSet:
        if zs is None:
            return ZERO
        raise CommandError(_WRONGTYPE)
    deleted = zs.delete(argv[2:])
    if deleted:
        _changed(c, db, key, zs, deleted)
    return integer(deleted)


# ---------------------------------------------------------------------------
# ZREMRANGEBYRANK / BYSCORE / BYLEX
# ---------------------------------------------------------------------------

_REMRANGE = dict(acl="@write @sortedset @slow",
                 key_specs=[KeySpec("RW DELETE", index=1)], **_WRITE)


@command("zremrangebyrank", 4, "write",
         summary="Remove all members in a sorted set within the given indexes",
         since="2.0.0",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set "
                    "and M the number of elements removed by the operation.",
         args="key start stop", **_REMRANGE)
def zremrangebyrank(c, argv):
    start = _get_long(argv[2])
    end = _get_long(argv[3])
    db = c.db
    key = argv[1]
    zs = db.lookup_typed(key, _Z, False)
    if zs is None:
        return ZERO
    n = len(zs)
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        return ZERO
    if end >= n:
        end = n - 1
    deleted = zs.delete_rank_range(start, end + 1)
    _changed(c, db, key, zs, deleted)
    return integer(deleted)


@command("zremrangebyscore", 4, "write",
         summary="Remove all members in a sorted set within the given scores",
         since="1.2.0",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set "
                    "and M the number of elements removed by the operation.",
         args="key min:double max:double", **_REMRANGE)
def zremrangebyscore(c, argv):
    lo, loex, hi, hiex = parse_score_range(argv[2], argv[3])
    return _remrange(c, argv[1], ZSet.delete_score_range, lo, loex, hi, hiex)


@command("zremrangebylex", 4, "write",
         summary="Remove all members in a sorted set between the given lexicographical "
                 "range",
         since="2.8.9",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set "
                    "and M the number of elements removed by the operation.",
         args="key min max", **_REMRANGE)
def zremrangebylex(c, argv):
    lo, loex, hi, hiex = parse_lex_range(argv[2], argv[3])
    return _remrange(c, argv[1], ZSet.delete_lex_range, lo, loex, hi, hiex)


def _remrange(c, key, method, lo, loex, hi, hiex) -> bytes:
    db = c.db
    zs = db.lookup_typed(key, _Z, False)
    if zs is None:
        return ZERO
    deleted = method(zs, lo, loex, hi, hiex)
    if deleted:
        _changed(c, db, key, zs, deleted)
    return integer(deleted)


# ---------------------------------------------------------------------------
# Point reads
# ---------------------------------------------------------------------------

_READ = dict(keys=(1, 1, 1), group="sorted-set")
_FAST_READ = dict(acl="@read @sortedset @fast",
                  key_specs=[KeySpec("RO ACCESS", index=1)], **_READ)


@command("zcard", 2, "readonly fast", acl="@read @sortedset @fast",
         key_specs=[KeySpec("RO", index=1)],
         summary="Get the number of members in a sorted set", since="1.2.0",
         complexity="O(1)", args="key", **_READ)
def zcard(c, argv):
    zs = c.db.lookup_typed(argv[1], _Z)
    return ZERO if zs is None else integer(len(zs))


@command("zscore", 3, "readonly fast",
         summary="Get the score associated with the given member in a sorted set",
         since="1.2.0", complexity="O(1)", args="key member", **_FAST_READ)
def zscore(c, argv):
    zs = c.db.lookup_read(argv[1])
    if type(zs) is ZSet:
        s = zs.score(argv[2])
        if s is not None:
            t = b"%.17g" % s if s - s == 0 else format_double(s)
            if c.resp == 3:
                return b"," + t + b"\r\n"
            return b"$%d\r\n%s\r\n" % (len(t), t)
    elif zs is not None:
        raise CommandError(_WRONGTYPE)
    return NULL3 if c.resp == 3 else NULL2


@command("zmscore", -3, "readonly fast",
         summary="Get the score associated with the given members in a sorted set",
         since="6.2.0",
         complexity="O(N) where N is the number of members being requested.",
         args="key member [member ...]", **_FAST_READ)
def zmscore(c, argv):
    zs = c.db.lookup_typed(argv[1], _Z)
    null = NULL3 if c.resp == 3 else NULL2
    resp = c.resp
    parts = [array_header(len(argv) - 2)]
    if zs is None:
        parts += [null] * (len(argv) - 2)
    else:
        get = zs.as_dict().get
        for m in argv[2:]:
            s = get(m)
            parts.append(null if s is None else double(s, resp))
    return b"".join(parts)


@command("zrank", 3, "readonly fast",
         summary="Determine the index of a member in a sorted set", since="2.0.0",
         complexity="O(log(N))", args="key member", **_FAST_READ)
def zrank(c, argv):
    return _zrank(c, argv, False)


@command("zrevrank", 3, "readonly fast",
         summary="Determine the index of a member in a sorted set, with scores ordered "
                 "from high to low",
         since="2.0.0", complexity="O(log(N))", args="key member", **_FAST_READ)
def zrevrank(c, argv):
    return _zrank(c, argv, True)


def _zrank(c, argv, reverse: bool) -> bytes:
    zs = c.db.lookup_typed(argv[1], _Z)
    if zs is not None:
        r = zs.rank(argv[2], reverse)
        if r is not None:
            return integer(r)
    return NULL3 if c.resp == 3 else NULL2


@command("zcount", 4, "readonly fast",
         summary="Count the members in a sorted set with scores within the given values",
         since="2.0.0",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         args="key min:double max:double", **_FAST_READ)
def zcount(c, argv):
    lo, loex, hi, hiex = parse_score_range(argv[2], argv[3])
    zs = c.db.lookup_typed(argv[1], _Z)
    if zs is None:
        return ZERO
    return integer(zs.count_score(lo, loex, hi, hiex))


@command("zlexcount", 4, "readonly fast",
         summary="Count the number of members in a sorted set between a given "
                 "lexicographical range",
         since="2.8.9",
         complexity="O(log(N)) with N being the number of elements in the sorted set.",
         args="key min max", **_FAST_READ)
def zlexcount(c, argv):
    lo, loex, hi, hiex = parse_lex_range(argv[2], argv[3])
    zs = c.db.lookup_typed(argv[1], _Z)
    if zs is None:
        return ZERO
    return integer(zs.count_lex(lo, loex, hi, hiex))


# ---------------------------------------------------------------------------
# ZRANGE and its older forms, ZRANGESTORE
# ---------------------------------------------------------------------------

def _zrange(c, argv, start: int, store: bool, rangetype, reverse) -> bytes:
    """zrangeGenericCommand: argv[start] is the source key; `rangetype`
    and `reverse` are None where the options may choose them."""
    argc = len(argv)
    minidx = start + 1
    maxidx = start + 2
    withscores = False
    offset = 0
    limit = -1
    j = start + 3
    while j < argc:
        opt = _opt(argv[j])
        if not store and opt == b"withscores":
            withscores = True
        elif opt == b"limit" and argc - j - 1 >= 2:
            offset = _get_long(argv[j + 1])
            limit = _get_long(argv[j + 2])
            j += 2
        elif reverse is None and opt == b"rev":
            reverse = True
        elif rangetype is None and opt == b"bylex":
            rangetype = LEX
        elif rangetype is None and opt == b"byscore":
            rangetype = SCORE
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    if reverse is None:
        reverse = False
    if rangetype is None:
        rangetype = RANK
    if limit != -1 and rangetype == RANK:
        raise CommandError(errors.ZRANGE_LIMIT_RANK)
    if withscores and rangetype == LEX:
        raise CommandError(errors.ZRANGE_LEX_WITHSCORES)
    if reverse and rangetype != RANK:
        minidx, maxidx = maxidx, minidx
    if rangetype == RANK:
        rstart = _get_long(argv[minidx])
        rend = _get_long(argv[maxidx])
    elif rangetype == SCORE:
        lo, loex, hi, hiex = parse_score_range(argv[minidx], argv[maxidx])
    else:
        lo, loex, hi, hiex = parse_lex_range(argv[minidx], argv[maxidx])
    zs = c.db.lookup_typed(argv[start], _Z)
    if zs is None:
        if store:
            return _store(c, argv[1], (), ())
        return EMPTY_ARRAY
    if rangetype == RANK:
        n = len(zs)
        if rstart < 0:
            rstart += n
        if rend < 0:
            rend += n
        if rstart < 0:
            rstart = 0
        if rstart > rend or rstart >= n:
            ms = ss = ()
        else:
            if rend >= n:
                rend = n - 1
            ms, ss = zs.rank_range(rstart, rend, reverse)
    elif rangetype == SCORE:
        if 0 < offset >= len(zs):
            ms = ss = ()
        else:
            ms, ss = zs.score_range(lo, loex, hi, hiex, reverse, offset, limit)
    else:
        ms, ss = zs.lex_range(lo, loex, hi, hiex, reverse, offset, limit)
    if store:
        return _store(c, argv[1], ms, ss)
    return _members_reply(c, ms, ss, withscores)


_RANGE = dict(acl="@read @sortedset @slow", key_specs=[KeySpec("RO ACCESS", index=1)],
              **_READ)
_RANGE_CPLX = ("O(log(N)+M) with N being the number of elements in the sorted set and "
               "M the number of elements being returned. If M is constant (e.g. always "
               "asking for the first 10 elements with LIMIT), you can consider it "
               "O(log(N)).")


@command("zrange", -4, "readonly", summary="Return a range of members in a sorted set",
         since="1.2.0",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set "
                    "and M the number of elements returned.",
         history=(("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."),),
         args="key start:string stop:string sortby:[BYSCORE|BYLEX]@6.2.0 [REV]@6.2.0 "
              "[LIMIT offset count]@6.2.0 [WITHSCORES]", **_RANGE)
def zrange(c, argv):
    return _zrange(c, argv, 1, False, None, None)


@command("zrevrange", -4, "readonly",
         summary="Return a range of members in a sorted set, by index, with scores "
                 "ordered from high to low",
         since="1.2.0",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set "
                    "and M the number of elements returned.",
         doc_flags="deprecated", deprecated_since="6.2.0",
         replaced_by="`ZRANGE` with the `REV` argument",
         args="key start stop [WITHSCORES]", **_RANGE)
def zrevrange(c, argv):
    return _zrange(c, argv, 1, False, RANK, True)


@command("zrangebyscore", -4, "readonly",
         summary="Return a range of members in a sorted set, by score", since="1.0.5",
         complexity=_RANGE_CPLX, doc_flags="deprecated", deprecated_since="6.2.0",
         replaced_by="`ZRANGE` with the `BYSCORE` argument",
         history=(("2.0.0", "Added the `WITHSCORES` modifier."),),
         args="key min:double max:double [WITHSCORES]@2.0.0 [LIMIT offset count]",
         **_RANGE)
def zrangebyscore(c, argv):
    return _zrange(c, argv, 1, False, SCORE, False)


@command("zrevrangebyscore", -4, "readonly",
         summary="Return a range of members in a sorted set, by score, with scores "
                 "ordered from high to low",
         since="2.2.0", complexity=_RANGE_CPLX, doc_flags="deprecated",
         deprecated_since="6.2.0",
         replaced_by="`ZRANGE` with the `REV` and `BYSCORE` arguments",
         history=(("2.1.6", "`min` and `max` can be exclusive."),),
         args="key max:double min:double [WITHSCORES] [LIMIT offset count]", **_RANGE)
def zrevrangebyscore(c, argv):
    return _zrange(c, argv, 1, False, SCORE, True)


@command("zrangebylex", -4, "readonly",
         summary="Return a range of members in a sorted set, by lexicographical range",
         since="2.8.9", complexity=_RANGE_CPLX, doc_flags="deprecated",
         deprecated_since="6.2.0", replaced_by="`ZRANGE` with the `BYLEX` argument",
         args="key min max [LIMIT offset count]", **_RANGE)
def zrangebylex(c, argv):
    return _zrange(c, argv, 1, False, LEX, False)


@command("zrevrangebylex", -4, "readonly",
         summary="Return a range of members in a sorted set, by lexicographical range, "
                 "ordered from higher to lower strings.",
         since="2.8.9", complexity=_RANGE_CPLX, doc_flags="deprecated",
         deprecated_since="6.2.0",
         replaced_by="`ZRANGE` with the `REV` and `BYLEX` arguments",
         args="key max min [LIMIT offset count]", **_RANGE)
def zrevrangebylex(c, argv):
    return _zrange(c, argv, 1, False, LEX, True)


@command("zrangestore", -5, "write denyoom", keys=(1, 2, 1),
         acl="@write @sortedset @slow",
         key_specs=[KeySpec("OW UPDATE", index=1), KeySpec("RO ACCESS", index=2)],
         summary="Store a range of members from sorted set into another key",
         since="6.2.0", group="sorted-set",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set "
                    "and M the number of elements stored into the destination key.",
         args="dst src min:string max:string sortby:[BYSCORE|BYLEX] [REV] "
              "[LIMIT offset count]")
def zrangestore(c, argv):
    return _zrange(c, argv, 2, True, None, None)


# ---------------------------------------------------------------------------
# ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD
# ---------------------------------------------------------------------------

def _pairs(v):
    """(members, scores) of a source; a plain set's members score 1."""
    if type(v) is ZSet:
        return v.pairs()
    return v.members(), repeat(1.0)


def _getter(v):
    """member -> score or None, for a source."""
    if type(v) is ZSet:
        return v.as_dict().get
    contains = v.contains
    return lambda m: 1.0 if contains(m) else None


def _by_score(item):
    return item[1], item[0]


def _setop(c, argv, dst, numkeys_idx: int, op: int, card_only: bool, name: str) -> bytes:
    """zunionInterDiffGenericCommand."""
    argc = len(argv)
    setnum = _get_long(argv[numkeys_idx])
    if setnum < 1:
        raise errors.zset_no_keys(name)
    if setnum > argc - (numkeys_idx + 1):
        raise CommandError(errors.SYNTAX)
    db = c.db
    srcs = []
    j = numkeys_idx + 1
    for j in range(j, j + setnum):
        v = db.lookup_read(argv[j])
        if v is not None and type(v) is not ZSet and type(v) is not Set:
            raise CommandError(errors.WRONGTYPE)
        srcs.append(v)
    j = numkeys_idx + 1 + setnum
    weights = [1.0] * setnum
    aggregate = SUM
    withscores = False
    limit = 0
    while j < argc:
        remaining = argc - j
        opt = _opt(argv[j])
        if (op != DIFF and not card_only and remaining >= setnum + 1
                and opt == b"weights"):
            j += 1
            for i in range(setnum):
                weights[i] = get_double(argv[j], errors.WEIGHT_NOT_FLOAT)
                j += 1
        elif op != DIFF and not card_only and remaining >= 2 and opt == b"aggregate":
            a = _opt(argv[j + 1])
            if a == b"sum":
                aggregate = SUM
            elif a == b"min":
                aggregate = MIN
            elif a == b"max":
                aggregate = MAX
            else:
                raise CommandError(errors.SYNTAX)
            j += 2
        elif dst is None and not card_only and opt == b"withscores":
            withscores = True
            j += 1
        elif card_only and remaining >= 2 and opt == b"limit":
            limit = strict_int(argv[j + 1])
            if limit is None or limit < 0:
                raise CommandError(errors.LIMIT_NEGATIVE)
            j += 2
        else:
            raise CommandError(errors.SYNTAX)

    def card(i):
        v = srcs[i]
        return 0 if v is None else len(v)

    res = {}
    count = 0
    if op == DIFF:
        v0 = srcs[0]
        others = [v for v in srcs[1:] if v is not None]
        if v0 is not None and not any(v is v0 for v in others):
            gets = [_getter(v) for v in others]
            for m, s in zip(*_pairs(v0)):
                for get in gets:
                    if get(m) is not None:
                        break
                else:
                    res[m] = s
    else:
        # smallest first, as Redis's qsort (a stable merge sort in glibc)
        order = sorted(range(setnum), key=card)
        if op == INTER:
            first = order[0]
            if card(first):
                w0 = weights[first]
                rest = [(_getter(srcs[i]), weights[i]) for i in order[1:]]
                for m, s in zip(*_pairs(srcs[first])):
                    score = w0 * s
                    if score != score:
                        score = 0.0
                    for get, w in rest:
                        value = get(m)
                        if value is None:
                            break
                        value *= w
                        if aggregate == SUM:
                            score += value
                            if score != score:
                                score = 0.0
                        elif aggregate == MIN:
                            if value < score:
                                score = value
                        elif value > score:
                            score = value
                    else:
                        if card_only:
                            count += 1
                            if limit and count >= limit:
                                break
                        else:
                            res[m] = score
        else:
            for i in order:
                v = srcs[i]
                if v is None or not len(v):
                    continue
                w = weights[i]
                get = res.get
                for m, s in zip(*_pairs(v)):
                    score = w * s
                    if score != score:
                        score = 0.0
                    cur = get(m)
                    if cur is None:
                        res[m] = score
                    elif aggregate == SUM:
                        cur += score
                        res[m] = 0.0 if cur != cur else cur
                    elif aggregate == MIN:
                        if score < cur:
                            res[m] = score
                    elif score > cur:
                        res[m] = score
    if card_only:
        return integer(count)
    items = sorted(res.items(), key=_by_score)
    ms = [x[0] for x in items]
    ss = [x[1] for x in items]
    if dst is not None:
        return _store(c, dst, ms, ss)
    return _members_reply(c, ms, ss, withscores)


def _numkeys_keys(idx: int, dst: bool):
    def getkeys(argv):
        n = strict_int(argv[idx]) if len(argv) > idx else None
        if n is None or n < 1 or n > len(argv) - idx - 1:
            return []
        keys = argv[idx + 1:idx + 1 + n]
        return [argv[1]] + keys if dst else keys
    return getkeys


_ALGEBRA = dict(keys=(0, 0, 0), acl="@read @sortedset @slow", group="sorted-set",
                getkeys=_numkeys_keys(1, False),
                key_specs=[KeySpec("RO ACCESS", index=1, keynum=(0, 1, 1))])
_ALGEBRA_STORE = dict(keys=(1, 1, 1), acl="@write @sortedset @slow", group="sorted-set",
                      getkeys=_numkeys_keys(2, True),
                      key_specs=[KeySpec("OW UPDATE", index=1),
                                 KeySpec("RO ACCESS", index=2, keynum=(0, 1, 1))])
_UNION_CPLX = ("O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted "
               "sets, and M being the number of elements in the resulting sorted set.")
_INTER_CPLX = ("O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted "
               "set, K being the number of input sorted sets and M being the number of "
               "elements in the resulting sorted set.")
_DIFF_CPLX = ("O(L + (N-K)log(N)) worst case where L is the total number of elements in "
              "all the sets, N is the size of the first set, and K is the size of the "
              "result set.")
_WEIGHTS = "[WEIGHTS weight [weight ...]] [AGGREGATE aggregate:(SUM|MIN|MAX)]"


@command("zunion", -3, "readonly", summary="Add multiple sorted sets", since="6.2.0",
         complexity=_UNION_CPLX,
         args=f"numkeys key [key ...] {_WEIGHTS} [WITHSCORES]", **_ALGEBRA)
def zunion(c, argv):
    return _setop(c, argv, None, 1, UNION, False, "zunion")


@command("zinter", -3, "readonly", summary="Intersect multiple sorted sets",
         since="6.2.0", complexity=_INTER_CPLX,
         args=f"numkeys key [key ...] {_WEIGHTS} [WITHSCORES]", **_ALGEBRA)
def zinter(c, argv):
    return _setop(c, argv, None, 1, INTER, False, "zinter")


@command("zdiff", -3, "readonly", summary="Subtract multiple sorted sets",
         since="6.2.0", complexity=_DIFF_CPLX,
         args="numkeys key [key ...] [WITHSCORES]", **_ALGEBRA)
def zdiff(c, argv):
    return _setop(c, argv, None, 1, DIFF, False, "zdiff")


@command("zintercard", -3, "readonly",
         summary="Intersect multiple sorted sets and return the cardinality of the result",
         since="7.0.0",
         complexity="O(N*K) worst case with N being the smallest input sorted set, K "
                    "being the number of input sorted sets.",
         args="numkeys key [key ...] [LIMIT limit]", **_ALGEBRA)
def zintercard(c, argv):
    return _setop(c, argv, None, 1, INTER, True, "zintercard")


@command("zunionstore", -4, "write denyoom",
         summary="Add multiple sorted sets and store the resulting sorted set in a new key",
         since="2.0.0",
         complexity="O(N)+O(M log(M)) with N being the sum of the sizes of the input "
                    "sorted sets, and M being the number of elements in the resulting "
                    "sorted set.",
         args=f"destination numkeys key [key ...] {_WEIGHTS}", **_ALGEBRA_STORE)
def zunionstore(c, argv):
    return _setop(c, argv, argv[1], 2, UNION, False, "zunionstore")


@command("zinterstore", -4, "write denyoom",
         summary="Intersect multiple sorted sets and store the resulting sorted set in a "
                 "new key",
         since="2.0.0", complexity=_INTER_CPLX,
         args=f"destination numkeys key [key ...] {_WEIGHTS}", **_ALGEBRA_STORE)
def zinterstore(c, argv):
    return _setop(c, argv, argv[1], 2, INTER, False, "zinterstore")


@command("zdiffstore", -4, "write denyoom",
         summary="Subtract multiple sorted sets and store the resulting sorted set in a "
                 "new key",
         since="6.2.0", complexity=_DIFF_CPLX,
         args="destination numkeys key [key ...]", **_ALGEBRA_STORE)
def zdiffstore(c, argv):
    return _setop(c, argv, argv[1], 2, DIFF, False, "zdiffstore")


# ---------------------------------------------------------------------------
# ZPOPMIN, ZPOPMAX, ZMPOP and the blocking forms
# ---------------------------------------------------------------------------

def _pop_reply(c, key, zs, maximum: bool, count: int, emitkey: bool,
               nested: bool) -> bytes:
    """genericZpopCommand once the key is found: pop, reply, clean up."""
    ms, ss = zs.pop(maximum, count)
    n = len(ms)
    resp = c.resp
    if emitkey:
        if nested:
            parts = [b"*2\r\n" + bulk(key) + array_header(n)]
        else:
            parts = [array_header(n + n + 1) + bulk(key)]
    else:
        parts = [array_header(n if nested else n + n)]
    for m, s in zip(ms, ss):
        t = b"%.17g" % s if s - s == 0 else format_double(s)
        if resp == 3:
            parts.append(b"%s$%d\r\n%s\r\n,%s\r\n"
                         % (b"*2\r\n" if nested else b"", len(m), m, t))
        else:
            parts.append(b"%s$%d\r\n%s\r\n$%d\r\n%s\r\n"
                         % (b"*2\r\n" if nested else b"", len(m), m, len(t), t))
    _changed(c, c.db, key, zs, n)
    return b"".join(parts)


def _zpop(c, keys, maximum: bool, emitkey: bool, count: int, nested: bool,
          nil_when_empty: bool) -> bytes:
    db = c.db
    for key in keys:
        zs = db.lookup_typed(key, _Z, False)
        if zs is not None:
            break
    else:
        return _null_array(c) if nil_when_empty else EMPTY_ARRAY
    if count == 0:
        return EMPTY_ARRAY
    return _pop_reply(c, key, zs, maximum, 1 if count == -1 else count, emitkey, nested)


_POP = dict(acl="@write @sortedset @fast", key_specs=[KeySpec("RW ACCESS DELETE", index=1)],
            since="5.0.0",
            complexity="O(log(N)*M) with N being the number of elements in the sorted "
                       "set, and M being the number of elements popped.",
            args="key [count]", **_WRITE)


@command("zpopmin", -2, "write fast",
         summary="Remove and return members with the lowest scores in a sorted set",
         **_POP)
def zpopmin(c, argv):
    return _zpop_cmd(c, argv, False)


@command("zpopmax", -2, "write fast",
         summary="Remove and return members with the highest scores in a sorted set",
         **_POP)
def zpopmax(c, argv):
    return _zpop_cmd(c, argv, True)


def _zpop_cmd(c, argv, maximum: bool) -> bytes:
    argc = len(argv)
    if argc == 2:
        # the common case first: ZPOPMIN key, _pop_reply inlined
        db = c.db
        key = argv[1]
        zs = db.lookup(key)
        if type(zs) is not ZSet:
            if zs is None:
                return EMPTY_ARRAY
            raise CommandError(_WRONGTYPE)
        m, s = zs.pop1(maximum)
        t = b"%.17g" % s if s - s == 0 else format_double(s)
        if not len(zs):
            db.delete(key)
        elif db.watched:
            db.touch(key)
        db.keyspace.dirty += 1
        if c.resp == 3:
            return b"*2\r\n$%d\r\n%s\r\n,%s\r\n" % (len(m), m, t)
        return b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(m), m, len(t), t)
    if argc > 3:
        raise CommandError(errors.SYNTAX)
    count = strict_int(argv[2])
    if count is None or count < 0:
        raise CommandError(errors.NOT_POSITIVE)
    # RESP3 nests the pairs when a count is given (even 1)
    return _zpop(c, argv[1:2], maximum, False, count, c.resp == 3, False)


def _parse_mpop(argv, numkeys_idx: int):
    """zmpopGenericCommand's parsing: (keys, maximum, count)."""
    argc = len(argv)
    numkeys = strict_int(argv[numkeys_idx])
    if numkeys is None or numkeys < 1:
        raise CommandError(errors.NUMKEYS_NOT_POSITIVE)
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= argc:
        raise CommandError(errors.SYNTAX)
    where = _opt(argv[where_idx])
    if where == b"min":
        maximum = False
    elif where == b"max":
        maximum = True
    else:
        raise CommandError(errors.SYNTAX)
    count = -1
    j = where_idx + 1
    while j < argc:
        if count == -1 and _opt(argv[j]) == b"count" and j < argc - 1:
            j += 1
            count = strict_int(argv[j])
            if count is None or count < 1:
                raise CommandError(errors.COUNT_NOT_POSITIVE)
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    return argv[numkeys_idx + 1:where_idx], maximum, 1 if count == -1 else count


@command("zmpop", -4, "write", keys=(0, 0, 0), acl="@write @sortedset @slow",
         getkeys=_numkeys_keys(1, False),
         key_specs=[KeySpec("RW ACCESS DELETE", index=1, keynum=(0, 1, 1))],
         summary="Remove and return members with scores in a sorted set",
         since="7.0.0", group="sorted-set",
         complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being "
                    "the number of elements in the sorted set, and M being the number of "
                    "elements popped.",
         args="numkeys key [key ...] where:(MIN|MAX) [COUNT count]")
def zmpop(c, argv):
    keys, maximum, count = _parse_mpop(argv, 1)
    return _zpop(c, keys, maximum, True, count, True, True)


def _serve_zpop(c, key, zs, data) -> bytes:
    maximum, count, nested = data
    return _pop_reply(c, key, zs, maximum, count, True, nested)


def _bzpop(c, keys, maximum: bool, deadline: int, count: int, nested: bool,
           name: str) -> bytes:
    """blockingGenericZpopCommand: pop from the first non-empty key, or block."""
    db = c.db
    for key in keys:
        zs = db.lookup_typed(key, _Z, False)
        if zs is not None:
            return _pop_reply(c, key, zs, maximum, count, True, nested)
    if not blocking.may_block(c):
        return _null_array(c)
    return blocking.block(c, keys, deadline, _Z, _serve_zpop, (maximum, count, nested),
                          name)


_BPOP = dict(keys=(1, -2, 1), acl="@write @sortedset @fast @blocking",
             key_specs=[KeySpec("RW ACCESS DELETE", index=1, range=(-2, 1, 0))],
             since="5.0.0", group="sorted-set",
             complexity="O(log(N)) with N being the number of elements in the sorted set.",
             history=(("6.0.0", "`timeout` is interpreted as a double instead of an "
                                "integer."),),
             args="key [key ...] timeout")


@command("bzpopmin", -3, "write noscript blocking fast",
         summary="Remove and return the member with the lowest score from one or more "
                 "sorted sets, or block until one is available",
         **_BPOP)
def bzpopmin(c, argv):
    deadline = blocking.parse_timeout(argv[-1])
    return _bzpop(c, argv[1:-1], False, deadline, 1, False, "bzpopmin")


@command("bzpopmax", -3, "write noscript blocking fast",
         summary="Remove and return the member with the highest score from one or more "
                 "sorted sets, or block until one is available",
         **_BPOP)
def bzpopmax(c, argv):
    deadline = blocking.parse_timeout(argv[-1])
    return _bzpop(c, argv[1:-1], True, deadline, 1, False, "bzpopmax")


@command("bzmpop", -5, "write blocking", keys=(0, 0, 0),
         acl="@write @sortedset @slow @blocking", getkeys=_numkeys_keys(2, False),
         key_specs=[KeySpec("RW ACCESS DELETE", index=2, keynum=(0, 1, 1))],
         summary="Remove and return members with scores in a sorted set or block until "
                 "one is available",
         since="7.0.0", group="sorted-set",
         complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being "
                    "the number of elements in the sorted set, and M being the number of "
                    "elements popped.",
         args="timeout numkeys key [key ...] where:(MIN|MAX) [COUNT count]")
def bzmpop(c, argv):
    keys, maximum, count = _parse_mpop(argv, 2)
    deadline = blocking.parse_timeout(argv[1])
    return _bzpop(c, keys, maximum, deadline, count, True, "bzmpop")


# ---------------------------------------------------------------------------
# ZRANDMEMBER
# ---------------------------------------------------------------------------

@command("zrandmember", -2, "readonly", keys=(1, 1, 1), acl="@read @sortedset @slow",
         key_specs=[KeySpec("RO ACCESS", index=1)], tips=("nondeterministic_output",),
         summary="Get one or multiple random elements from a sorted set", since="6.2.0",
         group="sorted-set", complexity="O(N) where N is the number of elements returned",
         args="key options:[count [WITHSCORES]]")
def zrandmember(c, argv):
    if len(argv) >= 3:
        n, withscores = random_count(argv, b"withscores")
        return _zrandmember_count(c, argv[1], n, withscores)
    zs = c.db.lookup_typed(argv[1], _Z)
    if zs is None:
        return _null(c)
    return bulk(zs.random_pair()[0])


def _zrandmember_count(c, key, n: int, withscores: bool) -> bytes:
    zs = c.db.lookup_typed(key, _Z)
    if zs is None or n == 0:
        return EMPTY_ARRAY
    size = len(zs)
    if n < 0 or n == 1:
        # CASE 1: sampling with repetition, in random order
        ranks = [int(_random() * size) for _ in range(-n if n < 0 else 1)]
    elif n >= size:
        # CASE 2: the whole set, walked from the top as zuiNext does
        ranks = range(size - 1, -1, -1)
    else:
        # CASE 3/4: distinct members
        ranks = _sample(range(size), n)
    ms, ss = zs.picks(ranks)
    if withscores:
        return _with_scores(ms, ss, c.resp)
    return array_header(len(ms)) + bulks(ms)


# ---------------------------------------------------------------------------
# ZSCAN
# ---------------------------------------------------------------------------

@command("zscan", -3, "readonly", keys=(1, 1, 1), acl="@read @sortedset @slow",
         key_specs=[KeySpec("RO ACCESS", index=1)], tips=("nondeterministic_output",),
         summary="Incrementally iterate sorted sets elements and associated scores",
         since="2.8.0", group="sorted-set",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough "
                    "command calls for the cursor to return back to 0. N is the number of "
                    "elements inside the collection..",
         args="key cursor [MATCH pattern] [COUNT count]")
def zscan(c, argv):
    cursor = parse_cursor(argv[2])
    if cursor is None:
        raise CommandError(errors.INVALID_CURSOR)
    zs = c.db.lookup_typed(argv[1], _Z)
    if zs is None:
        return _EMPTY_SCAN
    count, match = scan_options(argv, 3)
    d = zs.table()
    flat = []
    if d is None:
        # a listpack is returned whole, scores as it spells them
        cursor = 0
        for m, s in zip(*zs.pairs()):
            if match is None or match(m):
                flat.append(m)
                flat.append(d2string(s))
    else:
        cursor, members = scan_step(d, cursor, count)
        for m in members:
            if match is None or match(m):
                flat.append(m)
                flat.append(_fmt(d[m]))
    return scan_reply(cursor, flat)



@run_handler("zadd")
def zadd_run(c, pending, i, append):
    """Consecutive plain ZADDs (key score member, no options) of one
    existing sorted set: the adds in turn without a lookup and a handler
    call each; a pipeline repeating one ZADD adds once (the others find
    the member with its score).  Stops before a score that does not
    parse (that ZADD replies the error)."""
    found = key_run(c, pending, i, 4, ZSet)
    if found is None:
        return 0
    zs, end = found
    first = pending[i]
    s = parse_double(first[2])
    if s is None:
        return 0
    cfg = c.server.config
    max_entries = cfg.zset_max_listpack_entries
    max_value = cfg.zset_max_listpack_value
    m = end - i
    if pending[i + 1:end] == [first] * (m - 1):
        r = zs.add1(s, first[3], max_entries, max_value)
        append((ONE if r == 1 else ZERO) + ZERO * (m - 1))
        changed = 1 if r else 0
    else:
        changed = 0
        add1 = zs.add1
        for j in range(i, end):
            a = pending[j]
            s = parse_double(a[2])
            if s is None:
                end = j
                break
            r = add1(s, a[3], max_entries, max_value)
            if r:
                changed += 1
            append(ONE if r == 1 else ZERO)
    if changed:
        c.server.keyspace.dirty += changed
        db = c.db
        if db.watched:
            db.touch(first[1])
    return end - i


def _zpop_missing_run(c, pending, i, append):
    """Pops of a sorted set that does not exist: empty arrays at once."""
    return missing_key_run(c, pending, i, 2, append, EMPTY_ARRAY)


run_handler("zpopmin")(_zpop_missing_run)
run_handler("zpopmax")(_zpop_missing_run)
