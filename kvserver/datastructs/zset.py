"""The sorted set type, layered as t_zset.c is: listpack, skiplist, then the API.

A `ZSet` holds its contents in one slot, `_v`, in one of three states:

- `bytes` while the set is a frozen "listpack": one packed blob (see
  `pack`) of the flat tuple `t = (m0, ..., m[n-1], s0, ..., s[n-1])`,
  members first, then their scores, both in the set's order: ascending
  score, ties broken by member bytes (memcmp order), as zzlInsert keeps a
  listpack.  The blob costs a byte or two per entry where Python objects
  would cost ~60, which is what keeps many small sorted sets within 2x of
  Redis's memory (bench/memory_types.py), and packs and unpacks with a few
  C calls.
- `tuple` while the listpack is thawed (kvserver.datastructs.thaw): that
  flat tuple, as `unpack` returns it.  The first access in a loop turn,
  read or write, unpacks the blob once and registers the set; the commands
  that follow in the turn search and rebuild the tuple (O(N), N bounded by
  `zset-max-listpack-entries`, as Redis's listpack scans are) and
  `thaw.freeze_all` packs it back, starting from the blob's score code, or
  restores the original blob when nothing changed.  Bytes and tuple are
  one encoding, "listpack", to every caller; only registered sets hold a
  tuple, so a ZSet built fresh (`from_pairs`, `copy`) holds a blob.
  A score is kept as Redis's listpack keeps it (d2string): an integral
  score as an `int` (so -0.0 becomes 0, exactly the sign Redis loses), any
  other score as a `float`; a blob that had to store floats gives back
  every score as a float, which compares and prints the same, so a tuple
  mixing the two replies exactly as its frozen blob does.
- a `SkipList` once converted: a dict member -> score (float) plus a
  `SortedList` of (score, member) tuples, the skiplist's order; rank, range
  and insertion are O(log N).  Conversion happens when an insertion takes
  the count past `zset-max-listpack-entries` or brings a member longer than
  `zset-max-listpack-value`, and is one-way, as in Redis.  Only new sets
  built from a result (ZRANGESTORE, Z*STORE) choose their encoding from
  their final size (`from_pairs`).

Invariants: members are distinct `bytes`; scores are never NaN; a set in
the keyspace is never empty (commands delete emptied sets).  Freezing may
happen between any two calls (freeze_all also runs when a turn thaws more
than thaw.THAWED_MAX objects), so every method looks at `_v` afresh.
Commands pass the thresholds from the config on every write, so CONFIG
SET takes effect at the next write, as in Redis.

Lexicographic ranges assume, as Redis does, that the members they look at
share one score.  Where they do not, a listpack gives Redis's exact answer
(the same linear scans as zzlFirstInLexRange & co.), a skiplist the answer
of a binary search, which for such input is as arbitrary as Redis's own.
"""

import marshal
import struct
from bisect import bisect_left, bisect_right
from math import inf, nextafter
from random import random as _random

from sortedcontainers import SortedList

from kvserver.datastructs.thaw import thawed as _thawed
from kvserver.native import ffi as _ffi, lib as _native

# ZADD flags (zsetAdd's in_flags)
NX = 1
XX = 2
GT = 4
LT = 8
INCR = 16



def _updated_score(cur: float, s: float, flags: int):
    """zsetAdd's rules for a member already present with score `cur`: the
    score to store (it may equal `cur`), or None to leave the member as is
    (NX, or GT/LT refusing the change)."""
    if flags & NX:
        return None
    if flags & INCR:
        s += cur
        if s != s:
            raise NanScore()
    if (flags & LT and s >= cur) or (flags & GT and s <= cur):
        return None
    return s

class _Bound:
    """The "-" or "+" of a lexicographic range (shared.minstring and
    maxstring): a unique object, compared by identity, below or above
    every string."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


MINSTR = _Bound("-")
MAXSTR = _Bound("+")


class NanScore(Exception):
    """An increment produced NaN (inf + -inf); nothing was changed."""


def lp_score(s):
    """The score as a listpack stores it: d2string turns integral values
    into integers (so -0.0 reads back as 0); those in int32 range are kept
    as `int`, which the blob packs in 1, 2 or 4 bytes instead of 8."""
    if -2147483648.0 <= s <= 2147483647.0:
        i = int(s)
        if i == s:
            return i
    return s


_LLHALF = 4611686018427387904.0   # (double)(LLONG_MAX / 2)


def d2string(s) -> bytes:
    """How a listpack spells a score (ZSCAN shows it): integers within
    LLONG_MAX/2 in decimal, anything else as %.17g."""
    if s == inf:
        return b"inf"
    if s == -inf:
        return b"-inf"
    if -_LLHALF <= s <= _LLHALF:
        i = int(s)
        if i == s:
            return b"%d" % i
    return b"%.17g" % s


# ---------------------------------------------------------------------------
# The packed blob
# ---------------------------------------------------------------------------

# TAG, the scores' code (0-3: struct b, h, i or d), the member count n (2
# bytes, little-endian), the n scores, then the members joined by NUL
# bytes: unpacking is one cached `Struct("<nX").unpack_from` and one
# `split`, whatever the members' lengths.  The code is the smallest that
# took every score when the set was packed, starting from the code the
# previous blob had (so it only grows: b for the usual small integers,
# d once a non-integral score came).  A member holding a NUL byte, or
# more than 65535 members, fall back to marshal of the flat tuple, whose
# data never starts with TAG.
TAG = 1
_CODES = "bhid"
_HEADER = struct.Struct("<BBH").pack
_SCORES = {}            # code << 16 | n -> Struct of n scores
_loads = marshal.loads
_dumps = marshal.dumps


def _scores(code: int, n: int):
    st = _SCORES.get(code << 16 | n)
    if st is None:
        st = _SCORES[code << 16 | n] = struct.Struct("<%d%s" % (n, _CODES[code]))
    return st


def _score_code(ls) -> int:
    """The narrowest code that holds the lp_score `ls` (pack tries codes
    in turn, which costs an exception per code too narrow)."""
    if type(ls) is not int:
        return 3
    if -128 <= ls <= 127:
        return 0
    if -32768 <= ls <= 32767:
        return 1
    return 2


def pack(t: tuple, code: int = 0) -> bytes:
    """The blob for the flat tuple (members..., scores...); `code` is the
    scores' code to try first (`code_of` the blob being replaced)."""
    n = len(t) >> 1
    if n < 0x10000:
        joined = b"\0".join(t[:n])
        if joined.count(0) == n - 1 or not n:
            st = _SCORES.get(code << 16 | n)
            if st is None:
                st = _scores(code, n)
            try:
                return _HEADER(TAG, code, n) + st.pack(*t[n:]) + joined
            except struct.error:        # out of range, or not an integer:
                return pack(t, code + 1)    # d, the last code, takes any score
    return _dumps(t, 2)


def unpack(blob: bytes) -> tuple:
    if blob[0] != TAG:
        return _loads(blob)
    n = blob[2] | blob[3] << 8
    if not n:
        return ()
    st = _SCORES.get(blob[1] << 16 | n)
    if st is None:
        st = _scores(blob[1], n)
    return (*blob[4 + st.size:].split(b"\0"), *st.unpack_from(blob, 4))


def code_of(blob: bytes) -> int:
    return blob[1] if blob[0] == TAG else 0


def blob_len(blob: bytes) -> int:
    """Members in a blob, read from its header without unpacking (marshal's
    is '(' and a 4-byte count: version 2 has no small-tuple form)."""
    if blob[0] == TAG:
        return blob[2] | blob[3] << 8
    return int.from_bytes(blob[1:5], "little") >> 1


_EMPTY = pack(())

# One score in each code, for edits of a blob in place (ZSet._add1_in_blob),
# which the native helper locates; without it a blob is thawed instead.
_ONE_SCORE = [struct.Struct("<" + c).pack for c in _CODES]
_ONE_SCORE_SIZE = [struct.calcsize("<" + c) for c in _CODES]
if _native is not None:
    _locate = _native.zset_blob_locate
    _LOCATED = _ffi.new("long long[4]")
    _CUR = _ffi.new("double[1]")
else:
    _locate = None


# ---------------------------------------------------------------------------
# Lexicographic range predicates (zslLexValueGteMin / LteMax, sdscmplex)
# ---------------------------------------------------------------------------

def lex_gte_min(v: bytes, lo, loex: bool) -> bool:
    if lo is MINSTR:
        return True
    if lo is MAXSTR:
        return False
    return v > lo if loex else v >= lo


def lex_lte_max(v: bytes, hi, hiex: bool) -> bool:
    if hi is MAXSTR:
        return True
    if hi is MINSTR:
        return False
    return v < hi if hiex else v <= hi


def lex_empty(lo, loex, hi, hiex) -> bool:
    """A range that can hold nothing (the test zslIsInLexRange starts with)."""
    if lo is hi and (lo is MINSTR or lo is MAXSTR):
        cmp = 0
    elif lo is MINSTR or hi is MAXSTR:
        cmp = -1
    elif lo is MAXSTR or hi is MINSTR:
        cmp = 1
    else:
        cmp = (lo > hi) - (lo < hi)
    return cmp > 0 or (cmp == 0 and (loex or hiex))


def _lp_first_in_lex(ms, lo, loex, hi, hiex) -> int:
    """zzlFirstInLexRange: index of the first member in range, or -1."""
    n = len(ms)
    if (not n or lex_empty(lo, loex, hi, hiex)
            or not lex_gte_min(ms[-1], lo, loex) or not lex_lte_max(ms[0], hi, hiex)):
        return -1
    for i in range(n):
        if lex_gte_min(ms[i], lo, loex):
            return i if lex_lte_max(ms[i], hi, hiex) else -1
    return -1


def _lp_last_in_lex(ms, lo, loex, hi, hiex) -> int:
    """zzlLastInLexRange: index of the last member in range, or -1."""
    n = len(ms)
    if (not n or lex_empty(lo, loex, hi, hiex)
            or not lex_gte_min(ms[-1], lo, loex) or not lex_lte_max(ms[0], hi, hiex)):
        return -1
    for i in range(n - 1, -1, -1):
        if lex_lte_max(ms[i], hi, hiex):
            return i if lex_gte_min(ms[i], lo, loex) else -1
    return -1


# ---------------------------------------------------------------------------
# Listpack layer: the flat tuple and working lists
# ---------------------------------------------------------------------------

def _lp_insert(ms: list, ss: list, m: bytes, s) -> None:
    """zzlInsert: before the first entry with a greater score, or an equal
    score and a greater member."""
    lo = bisect_left(ss, s)
    hi = bisect_right(ss, s, lo)
    pos = bisect_left(ms, m, lo, hi) if hi > lo else lo
    ms.insert(pos, m)
    ss.insert(pos, s)


def _lp_pos(t: tuple, n: int, ls, m: bytes) -> int:
    """Where zzlInsert puts (ls, m) among the n entries of tuple `t`,
    counted in `t` (m may be there already, with another score)."""
    end = n + n
    lo = bisect_left(t, ls, n, end)
    if lo == end or t[lo] != ls:
        return lo - n               # no other member has this score
    hi = bisect_right(t, ls, lo, end)
    return bisect_left(t, m, lo - n, hi - n)


# The edits below copy the tuple into a list and back: two C copies, which
# beat concatenating slices once an edit needs more than one cut.

def _lp_inserted(t: tuple, n: int, m: bytes, ls) -> tuple:
    """`t` with the new member `m` at score `ls` (an lp_score)."""
    pos = _lp_pos(t, n, ls, m)
    x = list(t)
    x.insert(n + pos, ls)
    x.insert(pos, m)
    return tuple(x)


def lp_update(t: tuple, n: int, i: int, m: bytes, s: float) -> tuple:
    """The listpack tuple `t` (n entries) with member i, `m`, given the
    score `s` (a float), which is not its score: deleted and inserted again, as
    zsetAdd does, unless it stays put.  ZADD's handler calls this on a
    thawed set directly."""
    # lp_score, for the float a command parsed
    if s.is_integer() and -2147483648.0 <= s <= 2147483647.0:
        s = int(s)
    end = n + n
    pos = bisect_left(t, s, n, end)
    if pos < end and t[pos] == s:
        pos = bisect_left(t, m, pos - n, bisect_right(t, s, pos, end) - n)
    else:
        pos -= n
    x = list(t)
    # entry i's score is not s, so pos is at most i or past it
    if pos == i or pos == i + 1:
        x[n + i] = s
    else:
        if pos > i:
            pos -= 1
        del x[n + i]
        x.insert(n + pos, s)
        del x[i]
        x.insert(pos, m)
    return tuple(x)


def _lp_deleted(t: tuple, n: int, i: int) -> tuple:
    x = list(t)
    del x[n + i]
    del x[i]
    return tuple(x)


def _score_bounds_tuple(t, n, lo, loex, hi, hiex):
    """[a, b) of the entries of listpack tuple `t` with scores in range."""
    a = (bisect_right if loex else bisect_left)(t, lo, n, n + n) - n
    b = (bisect_left if hiex else bisect_right)(t, hi, n, n + n) - n
    return a, b


# ---------------------------------------------------------------------------
# Skiplist layer
# ---------------------------------------------------------------------------

class SkipList:
    """dict member -> score, and the (score, member) order."""

    __slots__ = ("dict", "sl")

    def __init__(self, pairs=()):
        # `pairs`: (score, member) with float scores and distinct members
        self.sl = SortedList(pairs)
        self.dict = {m: s for s, m in self.sl}

    def __len__(self):
        return len(self.dict)

    def score_bounds(self, lo, loex, hi, hiex):
        """[a, b) of the ranks with scores in range.  (x,) sorts before
        every (x, member), so bisecting it counts the scores below x; the
        scores above x start at nextafter(x)."""
        sl = self.sl
        if loex:
            a = len(sl) if lo == inf else sl.bisect_left((nextafter(lo, inf),))
        else:
            a = sl.bisect_left((lo,))
        if hiex:
            b = sl.bisect_left((hi,))
        else:
            b = len(sl) if hi == inf else sl.bisect_left((nextafter(hi, inf),))
        return a, b

    def lex_first(self, lo, loex) -> int:
        """Rank of the first member >= lo (> lo when exclusive)."""
        sl = self.sl
        n = len(sl)
        if lo is MINSTR:
            return 0
        if lo is MAXSTR or not n:
            return n
        s0 = sl[0][0]
        if s0 == sl[-1][0]:
            # one score throughout: bisect on (score, member) directly
            return (sl.bisect_right if loex else sl.bisect_left)((s0, lo))
        a, b = 0, n
        while a < b:
            mid = (a + b) >> 1
            if lex_gte_min(sl[mid][1], lo, loex):
                b = mid
            else:
                a = mid + 1
        return a

    def lex_end(self, hi, hiex) -> int:
        """One past the rank of the last member <= hi (< hi when exclusive)."""
        sl = self.sl
        n = len(sl)
        if hi is MAXSTR:
            return n
        if hi is MINSTR or not n:
            return 0
        s0 = sl[0][0]
        if s0 == sl[-1][0]:
            return (sl.bisect_left if hiex else sl.bisect_right)((s0, hi))
        a, b = 0, n
        while a < b:
            mid = (a + b) >> 1
            if lex_lte_max(sl[mid][1], hi, hiex):
                a = mid + 1
            else:
                b = mid
        return a

    def lex_bounds(self, lo, loex, hi, hiex):
        if lex_empty(lo, loex, hi, hiex):
            return 0, 0
        return self.lex_first(lo, loex), self.lex_end(hi, hiex)

    def delete_ranks(self, a: int, b: int) -> int:
        sl = self.sl
        d = self.dict
        for _, m in sl.islice(a, b):
            del d[m]
        del sl[a:b]
        return b - a


# ---------------------------------------------------------------------------
# Encoding-agnostic API
# ---------------------------------------------------------------------------

class ZSet:
    TYPE = "zset"
    __slots__ = ("_v", "lru")

    def __init__(self, v=_EMPTY):
        self._v = v
        self.lru = 0            # the LRU clock, stamped by the keyspace

    @classmethod
    def new(cls, first_member: bytes, max_entries: int, max_value: int) -> "ZSet":
        """The empty set ZADD creates: a skiplist from the start when the
        listpack is disabled or its first member is already too long."""
        if max_entries == 0 or len(first_member) > max_value:
            return cls(SkipList())
        return cls()

    @classmethod
    def from_pairs(cls, ms, ss, max_entries: int, max_value: int) -> "ZSet":
        """A new set from distinct members and their scores, in any order
        (a reversed range, GEO results): a listpack if it fits, as
        ZRANGESTORE's listpack with conversions and
        zsetConvertToListpackIfNeeded decide."""
        if len(ms) <= max_entries and (not ms or max(map(len, ms)) <= max_value):
            # sorted() is linear on the usual already-ordered input
            items = sorted(zip([lp_score(s) for s in ss], ms))
            return cls(pack((*[x[1] for x in items], *[x[0] for x in items])))
        return cls(SkipList(zip(map(float, ss), ms)))

    # --- the thawed state (kvserver.datastructs.thaw) -------------------------
    def _thaw(self, blob: bytes) -> tuple:
        """Unpack `blob` into `_v` until the next thaw.freeze_all."""
        t = self._v = unpack(blob)
        return _thawed(self, blob, t)

    def _freeze(self, blob: bytes, t: tuple):
        v = self._v
        if v is t:
            self._v = blob
        elif type(v) is tuple:
            # the blob's code, not the narrowest: scores a blob gave back
            # as floats stay floats
            self._v = pack(v, code_of(blob))
        # else converted to a skiplist meanwhile: nothing to pack

    def _lp(self):
        """The listpack's tuple (thawing a blob), or None for a skiplist."""
        v = self._v
        tv = type(v)
        if tv is tuple:
            return v
        if tv is bytes:
            return self._thaw(v)
        return None

    def encoding(self) -> str:
        return "skiplist" if type(self._v) is SkipList else "listpack"

    def is_listpack(self) -> bool:
        return type(self._v) is not SkipList

    def __len__(self):
        v = self._v
        tv = type(v)
        if tv is tuple:
            return len(v) >> 1
        if tv is bytes:
            return blob_len(v)
        return len(v.dict)

    def convert(self):
        """zsetConvert: listpack to skiplist."""
        v = self._v
        tv = type(v)
        if tv is not SkipList:
            t = v if tv is tuple else unpack(v)
            n = len(t) >> 1
            self._v = SkipList(zip(map(float, t[n:]), t[:n]))

    def copy(self) -> "ZSet":
        """zsetDup: same encoding, same contents (COPY); a blob, whatever
        state this one is in."""
        v = self._v
        tv = type(v)
        if tv is bytes:
            return ZSet(v)
        if tv is tuple:
            return ZSet(pack(v))
        return ZSet(SkipList(v.sl))

    # --- whole-set views -----------------------------------------------------
    def pairs(self):
        """(members, scores) in order, as two sequences."""
        t = self._lp()
        if t is not None:
            n = len(t) >> 1
            return t[:n], t[n:]
        sl = self._v.sl
        return [x[1] for x in sl], [x[0] for x in sl]

    def items(self):
        """(member, score) pairs in order (DEBUG DIGEST)."""
        ms, ss = self.pairs()
        return zip(ms, ss)

    def as_dict(self) -> dict:
        """member -> score; the live dict for a skiplist (do not modify)."""
        t = self._lp()
        if t is not None:
            n = len(t) >> 1
            return dict(zip(t[:n], t[n:]))
        return self._v.dict

    def table(self):
        """The member -> score dict while skiplist-encoded (ZSCAN), else None."""
        v = self._v
        return v.dict if type(v) is SkipList else None

    # --- point reads ---------------------------------------------------------
    def score(self, m):
        t = self._v
        tt = type(t)
        if tt is not tuple:
            if tt is SkipList:
                return t.dict.get(m)
            t = self._thaw(t)
        n = len(t) >> 1
        try:
            return t[n + t.index(m, 0, n)]
        except ValueError:
            return None

    def rank(self, m, reverse: bool):
        """zsetRank: 0-based rank, or None if `m` is not a member."""
        t = self._lp()
        if t is not None:
            n = len(t) >> 1
            try:
                i = t.index(m, 0, n)
            except ValueError:
                return None
        else:
            v = self._v
            s = v.dict.get(m)
            if s is None:
                return None
            n = len(v.dict)
            i = v.sl.bisect_left((s, m))
        return n - 1 - i if reverse else i

    # --- ZADD ----------------------------------------------------------------
    def add1(self, s, m, max_entries: int, max_value: int) -> int:
        """zsetAdd of one pair without flags (the plain ZADD, ZADD CH):
        0 if nothing changed, 1 if added, 2 if the score was updated.
        `s` is a float, as commands parse scores (add1 and add_one rely on
        float methods)."""
        t = self._v
        tt = type(t)
        if tt is not tuple:
            if tt is SkipList:
                return _sl_add1(t, s, m)
            if t is _EMPTY and max_entries and len(m) <= max_value:
                # a new key's first pair goes straight into a blob
                ls = lp_score(s)
                self._v = pack((m, ls), _score_code(ls))
                return 1
            if _locate is not None:
                r = self._add1_in_blob(t, s, m, max_entries, max_value)
                if r is not None:
                    return r
            t = self._thaw(t)
        n = len(t) >> 1
        # `in` rather than catching index's ValueError, which costs more
        # than a second scan; a member never equals a score, so the first
        # match is among the members
        if m not in t:
            if n >= max_entries or len(m) > max_value:
                self.convert()
                return _sl_add1(self._v, s, m)
            self._v = _lp_inserted(t, n, m, lp_score(s))
            return 1
        i = t.index(m)
        if s == t[n + i]:
            return 0
        self._v = lp_update(t, n, i, m, s)
        return 2

    def _add1_in_blob(self, blob: bytes, s, m, max_entries: int, max_value: int):
        """`add1` on a frozen blob, edited in place of thawing it: the
        native scan locates the member and the pair's place, and a join
        of slices moves them, so a write to a set not touched earlier in
        the loop turn (random keys) costs no unpack and no pack.  None
        when the blob cannot take it that way (not in the tagged form, a
        score its code cannot hold, a conversion due): add1 thaws then."""
        out = _LOCATED
        if _locate(blob, len(blob), m, len(m), s, out, _CUR) < 0:
            return None
        i, q = out[0], out[1]
        if i >= 0 and _CUR[0] == s:
            return 0
        code = blob[1]
        ls = lp_score(s)
        if _score_code(ls) > code:
            return None
        enc = _ONE_SCORE[code](ls)
        sz = _ONE_SCORE_SIZE[code]
        n = blob[2] | blob[3] << 8
        ms = 4 + n * sz             # where the members start
        qs = 4 + q * sz             # where score q starts
        mq = out[3]                 # where member q starts (n: the end)
        if i < 0:
            if n >= max_entries or len(m) > max_value or n >= 0xffff or 0 in m:
                return None
            if q < n:
                tail = (blob[ms:mq], m, b"\0", blob[mq:])
            else:
                tail = (blob[ms:], b"\0", m) if n else (m,)
            self._v = b"".join((_HEADER(TAG, code, n + 1), blob[4:qs], enc,
                                blob[qs:ms], *tail))
            return 1
        si = 4 + i * sz
        if q == i or q == i + 1:        # it stays put: only its score changes
            self._v = b"".join((blob[:si], enc, blob[si + sz:]))
            return 2
        mi = out[2]
        after = mi + len(m) + 1         # past member i and its separator
        if q < i:
            members = (blob[ms:mq], m, b"\0",
                       blob[mq:mi] + blob[after:] if i < n - 1 else blob[mq:mi - 1])
            self._v = b"".join((blob[:qs], enc, blob[qs:si], blob[si + sz:ms],
                                *members))
        else:
            members = ((blob[ms:mi], blob[after:mq], m, b"\0", blob[mq:]) if q < n
                       else (blob[ms:mi], blob[after:], b"\0", m))
            self._v = b"".join((blob[:si], blob[si + sz:qs], enc, blob[qs:ms],
                                *members))
        return 2

    def add_one(self, s, m, flags: int, max_entries: int, max_value: int):
        """zsetAdd of one pair with `flags`: (r, score), r being -1 if the
        pair was not processed (NX on a member, XX on a non-member, GT/LT
        refusing), 0 if processed without a change, 1 if added, 2 if the
        score was updated; `score` the member's score after (what ZADD
        INCR and ZINCRBY reply).  Raises NanScore if an increment gives
        NaN, nothing changed."""
        t = self._v
        tt = type(t)
        if tt is not tuple:
            if tt is SkipList:
                return _sl_add_one(t, s, m, flags)
            t = self._thaw(t)
        n = len(t) >> 1
        if m not in t:
            if flags & XX:
                return -1, None
            if n >= max_entries or len(m) > max_value:
                self.convert()
                return _sl_add_one(self._v, s, m, flags)
            self._v = _lp_inserted(t, n, m, lp_score(s))
            return 1, s
        i = t.index(m)
        cur = t[n + i]
        # _updated_score inlined
        if flags & NX:
            return -1, None
        if flags & INCR:
            s += cur
            if s != s:
                raise NanScore()
        if (flags & LT and s >= cur) or (flags & GT and s <= cur):
            return -1, None
        if s == cur:
            return 0, s
        self._v = lp_update(t, n, i, m, s)
        return 2, s

    def add(self, scores, members, flags: int, max_entries: int, max_value: int):
        """zsetAdd for each (score, member) pair in turn.

        Returns (added, updated, processed, last_score): the counters
        zaddGenericCommand keeps, and the final score of the last processed
        element (what ZADD INCR replies).  Raises NanScore if an increment
        gives NaN; INCR takes a single pair, so nothing has changed then."""
        added = updated = processed = 0
        newscore = None
        k = len(members)
        j = 0
        t = self._lp()
        if t is not None:
            n = len(t) >> 1
            ms = list(t[:n])
            ss = list(t[n:])
            dirty = False
            while j < k:
                m = members[j]
                s = scores[j]
                j += 1
                try:
                    i = ms.index(m)
                except ValueError:
                    i = -1
                if i >= 0:
                    cur = ss[i]
                    s = _updated_score(cur, s, flags)
                    if s is None:
                        continue
                    processed += 1
                    newscore = s
                    if s != cur:
                        del ms[i]
                        del ss[i]
                        _lp_insert(ms, ss, m, lp_score(s))
                        updated += 1
                        dirty = True
                elif not flags & XX:
                    if len(ms) >= max_entries or len(m) > max_value:
                        # convert, then this pair and the rest go to the skiplist
                        self._v = SkipList(zip(map(float, ss), ms))
                        j -= 1
                        break
                    _lp_insert(ms, ss, m, lp_score(s))
                    added += 1
                    processed += 1
                    newscore = s
                    dirty = True
            else:
                if dirty:
                    self._v = (*ms, *ss)
                return added, updated, processed, newscore
        v = self._v
        d = v.dict
        sl = v.sl
        while j < k:
            m = members[j]
            s = scores[j]
            j += 1
            cur = d.get(m)
            if cur is not None:
                s = _updated_score(cur, s, flags)
                if s is None:
                    continue
                processed += 1
                newscore = s
                if s != cur:
                    sl.remove((cur, m))
                    sl.add((s, m))
                    d[m] = s
                    updated += 1
            elif not flags & XX:
                s = float(s)
                d[m] = s
                sl.add((s, m))
                added += 1
                processed += 1
                newscore = s
        return added, updated, processed, newscore

    # --- removal -------------------------------------------------------------
    def delete(self, members) -> int:
        """ZREM: remove `members`; returns how many were there."""
        t = self._lp()
        deleted = 0
        if t is not None:
            n = len(t) >> 1
            if len(members) == 1:
                try:
                    i = t.index(members[0], 0, n)
                except ValueError:
                    return 0
                self._v = _lp_deleted(t, n, i)
                return 1
            ms = list(t[:n])
            ss = None
            for m in members:
                try:
                    i = ms.index(m)
                except ValueError:
                    continue
                if ss is None:
                    ss = list(t[n:])
                del ms[i]
                del ss[i]
                deleted += 1
                if not ms:
                    break
            if deleted:
                self._v = (*ms, *ss)
            return deleted
        v = self._v
        d = v.dict
        sl = v.sl
        for m in members:
            s = d.pop(m, None)
            if s is not None:
                sl.remove((s, m))
                deleted += 1
                if not d:
                    break
        return deleted

    def delete_rank_range(self, a: int, b: int) -> int:
        """Remove ranks [a, b) (0 <= a < b <= len)."""
        t = self._lp()
        if t is not None:
            n = len(t) >> 1
            self._v = t[:a] + t[b:n + a] + t[n + b:]
            return b - a
        return self._v.delete_ranks(a, b)

    def delete_score_range(self, lo, loex, hi, hiex) -> int:
        a, b = self.score_bounds(lo, loex, hi, hiex)
        if a >= b:
            return 0
        return self.delete_rank_range(a, b)

    def delete_lex_range(self, lo, loex, hi, hiex) -> int:
        """zzlDeleteRangeByLex / zslDeleteRangeByLex: from the first member
        in range, delete while members stay <= max."""
        t = self._lp()
        if t is not None:
            n = len(t) >> 1
            ms = t[:n]
            a = _lp_first_in_lex(ms, lo, loex, hi, hiex)
            if a < 0:
                return 0
            b = a
            while b < n and lex_lte_max(ms[b], hi, hiex):
                b += 1
        else:
            v = self._v
            a = v.lex_first(lo, loex)
            b = max(a, v.lex_end(hi, hiex))
            if a >= b:
                return 0
        return self.delete_rank_range(a, b)

    def pop1(self, maximum: bool):
        """ZPOPMIN/ZPOPMAX of one member of a non-empty set: (member, score)."""
        t = self._v
        tt = type(t)
        if tt is not tuple:
            if tt is SkipList:
                s, m = t.sl.pop(-1 if maximum else 0)
                del t.dict[m]
                return m, s
            if blob_len(t) == 1:
                # emptied: the key goes, nothing to thaw
                self._v = _EMPTY
                return unpack(t)
            t = self._thaw(t)
        n = len(t) >> 1
        if maximum:
            self._v = t[:n - 1] + t[n:-1]
            return t[n - 1], t[-1]
        self._v = t[1:n] + t[n + 1:]
        return t[0], t[n]

    def pop(self, maximum: bool, count: int):
        """ZPOPMIN/ZPOPMAX: remove up to `count` members from one end;
        returns (members, scores) in popping order."""
        t = self._lp()
        if t is not None:
            n = len(t) >> 1
            if count > n:
                count = n
            if maximum:
                ms = t[n - 1:n - 1 - count:-1] if count < n else t[n - 1::-1]
                ss = t[n + n - 1:n + n - 1 - count:-1]
                self._v = t[:n - count] + t[n:n + n - count]
            else:
                ms = t[:count]
                ss = t[n:n + count]
                self._v = t[count:n] + t[n + count:]
            return ms, ss
        v = self._v
        d = v.dict
        sl = v.sl
        if count == 1 and sl:
            s, m = sl.pop(-1 if maximum else 0)
            del d[m]
            return (m,), (s,)
        n = len(sl)
        if count > n:
            count = n
        if maximum:
            items = list(sl.islice(n - count, n, reverse=True))
            del sl[n - count:]
        else:
            items = list(sl.islice(0, count))
            del sl[:count]
        ms = [x[1] for x in items]
        for m in ms:
            del d[m]
        return ms, [x[0] for x in items]

    # --- ranges --------------------------------------------------------------
    def rank_range(self, start: int, end: int, reverse: bool):
        """Ranks start..end inclusive (sanitised by the caller), counted
        from the top when `reverse`; (members, scores) in reply order."""
        t = self._lp()
        if t is not None:
            n = len(t) >> 1
            if reverse:
                a = n - 1 - end
                b = n - start
                return t[a:b][::-1], t[n + a:n + b][::-1]
            return t[start:end + 1], t[n + start:n + end + 1]
        sl = self._v.sl
        if reverse:
            n = len(sl)
            items = list(sl.islice(n - 1 - end, n - start, reverse=True))
        else:
            items = list(sl.islice(start, end + 1))
        return [x[1] for x in items], [x[0] for x in items]

    def score_bounds(self, lo, loex, hi, hiex):
        """[a, b) of the ranks whose scores are in range (a >= b: none)."""
        t = self._lp()
        if t is not None:
            return _score_bounds_tuple(t, len(t) >> 1, lo, loex, hi, hiex)
        return self._v.score_bounds(lo, loex, hi, hiex)

    def count_score(self, lo, loex, hi, hiex) -> int:
        a, b = self.score_bounds(lo, loex, hi, hiex)
        return b - a if b > a else 0

    def score_range(self, lo, loex, hi, hiex, reverse: bool, offset: int, limit: int):
        """genericZrangebyscoreCommand: (members, scores) in reply order.
        A negative offset walks off the end (nothing), a negative limit
        means no limit, as Redis's loops make them."""
        if offset < 0:
            return (), ()
        t = self._lp()
        if t is not None:
            n = len(t) >> 1
            a, b = _score_bounds_tuple(t, n, lo, loex, hi, hiex)
            if a >= b:
                return (), ()
            if reverse:
                hi_i = b - offset
                lo_i = a if limit < 0 else max(a, hi_i - limit)
                if hi_i <= lo_i:
                    return (), ()
                return t[lo_i:hi_i][::-1], t[n + lo_i:n + hi_i][::-1]
            lo_i = a + offset
            hi_i = b if limit < 0 else min(b, lo_i + limit)
            if hi_i <= lo_i:
                return (), ()
            return t[lo_i:hi_i], t[n + lo_i:n + hi_i]
        v = self._v
        a, b = v.score_bounds(lo, loex, hi, hiex)
        return _sl_slice(v.sl, a, b, reverse, offset, limit)

    def count_lex(self, lo, loex, hi, hiex) -> int:
        t = self._lp()
        if t is not None:
            n = len(t) >> 1
            ms = t[:n]
            i = _lp_first_in_lex(ms, lo, loex, hi, hiex)
            if i < 0:
                return 0
            count = 0
            while i < n and lex_lte_max(ms[i], hi, hiex):
                count += 1
                i += 1
            return count
        a, b = self._v.lex_bounds(lo, loex, hi, hiex)
        return b - a if b > a else 0

    def lex_range(self, lo, loex, hi, hiex, reverse: bool, offset: int, limit: int):
        """genericZrangebylexCommand: (members, scores) in reply order."""
        t = self._lp()
        if t is not None:
            n = len(t) >> 1
            ms = t[:n]
            out = []
            if offset < 0:
                return out, out
            if reverse:
                i = _lp_last_in_lex(ms, lo, loex, hi, hiex)
                if i < 0:
                    return out, out
                i -= offset
                while i >= 0 and limit and lex_gte_min(ms[i], lo, loex):
                    out.append(i)
                    i -= 1
                    limit -= 1
            else:
                i = _lp_first_in_lex(ms, lo, loex, hi, hiex)
                if i < 0:
                    return out, out
                i += offset
                while i < n and limit and lex_lte_max(ms[i], hi, hiex):
                    out.append(i)
                    i += 1
                    limit -= 1
            return [ms[i] for i in out], [t[n + i] for i in out]
        if offset < 0:
            return (), ()
        v = self._v
        a, b = v.lex_bounds(lo, loex, hi, hiex)
        return _sl_slice(v.sl, a, b, reverse, offset, limit)

    # --- random access -------------------------------------------------------
    def random_pair(self):
        """One (member, score), uniformly."""
        t = self._lp()
        if t is not None:
            n = len(t) >> 1
            i = int(_random() * n)
            return t[i], t[n + i]
        sl = self._v.sl
        s, m = sl[int(_random() * len(sl))]
        return m, s

    def picks(self, ranks):
        """(members, scores) at the given ranks, in that order: O(1) each in
        a listpack once unpacked, O(log N) each in a skiplist."""
        t = self._lp()
        if t is not None:
            n = len(t) >> 1
            return [t[i] for i in ranks], [t[n + i] for i in ranks]
        sl = self._v.sl
        items = [sl[i] for i in ranks]
        return [x[1] for x in items], [x[0] for x in items]

    def __repr__(self):
        ms, ss = self.pairs()
        return f"<ZSet {self.encoding()} {list(zip(ms, ss))!r}>"


def _sl_add1(v: SkipList, s, m) -> int:
    """add1 on a skiplist."""
    d = v.dict
    cur = d.get(m)
    if cur is None:
        s = float(s)
        d[m] = s
        v.sl.add((s, m))
        return 1
    if s == cur:
        return 0
    sl = v.sl
    sl.remove((cur, m))
    sl.add((s, m))
    d[m] = s
    return 2


def _sl_add_one(v: SkipList, s, m, flags: int):
    """add_one on a skiplist."""
    d = v.dict
    cur = d.get(m)
    if cur is None:
        if flags & XX:
            return -1, None
        s = float(s)
        d[m] = s
        v.sl.add((s, m))
        return 1, s
    s = _updated_score(cur, s, flags)
    if s is None:
        return -1, None
    if s == cur:
        return 0, s
    sl = v.sl
    sl.remove((cur, m))
    sl.add((s, m))
    d[m] = s
    return 2, s


def _sl_slice(sl, a: int, b: int, reverse: bool, offset: int, limit: int):
    """Ranks [a, b) after skipping `offset` from the start of the walk and
    taking at most `limit` (negative: all)."""
    if reverse:
        hi = b - offset
        lo = a if limit < 0 else max(a, hi - limit)
        if hi <= lo:
            return (), ()
        items = list(sl.islice(lo, hi, reverse=True))
    else:
        lo = a + offset
        hi = b if limit < 0 else min(b, lo + limit)
        if hi <= lo:
            return (), ()
        items = list(sl.islice(lo, hi))
    return [x[1] for x in items], [x[0] for x in items]
