"""SORT and SORT_RO (sort.c), and the two C library routines whose exact
behaviour Redis's replies expose: strtod() and pqsort().

SORT reads a list, set or sorted set, orders its elements numerically (by
default, each parsed with strtod) or as strings (ALPHA), optionally by the
values of other keys (BY pattern, `nosort` or any pattern without '*'
meaning "don't sort"), and returns or STOREs (as a list) the elements or
the values of other keys (GET pattern, `#` being the element itself).

Where Redis's order is defined, it is reproduced exactly:
- Numeric ties are broken by comparing the elements' bytes, so the result
  is fully determined.
- A full sort uses glibc's qsort, which is a stable merge sort here (the
  elements are small): Python's stable sort with the same keys gives the
  same result.  A partial sort (BY with a LIMIT smaller than the input) uses
  Redis's pqsort, an unstable quicksort, ported step by step below since
  ties (ALPHA with BY) come out in its order.
- Without sorting, a list keeps its order (reversed by DESC), a sorted set
  its rank order (likewise), a set its iteration order; a set being STOREd
  is sorted ALPHA instead, as Redis forces it (Redis also does so inside
  scripts, which kvserver does not have).
- SORT converts a listpack sorted set to a skiplist first, as Redis's
  zsetConvert does (OBJECT ENCODING shows it).
- Strings compare as C strings (strcoll in the C locale: up to the first
  NUL) when replying, as binary strings when storing, as Redis does.

The elements Redis loads from a set's or a sorted set's hash table come in
that table's order, which depends on a random seed in Redis; where such an
order shows through (ALPHA ties with BY) no two Redis processes agree
either.
"""


from kvserver import errors
from kvserver.commands.table import KeySpec, command
from kvserver.datastructs.hash import Hash
from kvserver.datastructs.quicklist import Quicklist, decode
from kvserver.datastructs.set import Set
from kvserver.datastructs.zset import ZSet
from kvserver.commands.args import strtod
from kvserver.errors import CommandError
from kvserver.net.resp import NULL2, NULL3, array_header, bulk, integer, strict_int

_SORTABLE = (Quicklist, Set, ZSet)
_STRINGS = (bytes, bytearray, int)
_INF = float("inf")


def _sort_score(s) -> float | None:
    """SORT's numeric weight of a string value, or None when Redis reports
    it can't be converted (the C string must be consumed to its end)."""
    if type(s) is int:
        return float(s)
    nul = s.find(b"\0")
    if nul >= 0:
        s = s[:nul]
    v, end, erange = strtod(s)
    if (end != len(s) and s) or erange or v != v:
        return None
    return v


# ---------------------------------------------------------------------------
# pqsort: Redis's partial quicksort (NetBSD qsort with range pruning)
#
# Bentley & McIlroy's quicksort: median-of-three (ninther above 40
# elements) pivot, three-way partition keeping equal keys at both ends,
# insertion sort below 7 elements, and only the parts that overlap the
# wanted range are sorted further.  Redis's copy has no "no swaps, switch
# to insertion sort" shortcut (it is quadratic on some inputs); outputs of
# redis-server 7.0 agree only without it.
# ---------------------------------------------------------------------------

def _med3(a, i, j, k, cmp):
    if cmp(a[i], a[j]) < 0:
        if cmp(a[j], a[k]) < 0:
            return j
        return k if cmp(a[i], a[k]) < 0 else i
    if cmp(a[j], a[k]) > 0:
        return j
    return i if cmp(a[i], a[k]) < 0 else k


def _insertion(a, base, n, cmp):
    for m in range(base + 1, base + n):
        p = m
        while p > base and cmp(a[p - 1], a[p]) > 0:
            a[p], a[p - 1] = a[p - 1], a[p]
            p -= 1


def _vecswap(a, i, j, n):
    for k in range(n):
        a[i + k], a[j + k] = a[j + k], a[i + k]


def pqsort(a: list, cmp, lrange: int, rrange: int):
    """Sort `a` in place well enough that positions lrange..rrange hold
    what a full sort would put there, with Redis's exact element moves (so
    equal elements end up where Redis puts them)."""
    _pqsort(a, 0, len(a), cmp, lrange, rrange)


def _pqsort(a, base, n, cmp, lrange, rrange):
    while True:
        if n < 7:
            _insertion(a, base, n, cmp)
            return
        pm = base + n // 2
        if n > 7:
            pl = base
            pn = base + n - 1
            if n > 40:
                d = n // 8
                pl = _med3(a, pl, pl + d, pl + 2 * d, cmp)
                pm = _med3(a, pm - d, pm, pm + d, cmp)
                pn = _med3(a, pn - 2 * d, pn - d, pn, cmp)
            pm = _med3(a, pl, pm, pn, cmp)
        a[base], a[pm] = a[pm], a[base]
        pa = pb = base + 1
        pc = pd = base + n - 1
        while True:
            while pb <= pc:
                r = cmp(a[pb], a[base])
                if r > 0:
                    break
                if r == 0:
                    a[pa], a[pb] = a[pb], a[pa]
                    pa += 1
                pb += 1
            while pb <= pc:
                r = cmp(a[pc], a[base])
                if r < 0:
                    break
                if r == 0:
                    a[pc], a[pd] = a[pd], a[pc]
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            a[pb], a[pc] = a[pc], a[pb]
            pb += 1
            pc -= 1
        pn = base + n
        r = min(pa - base, pb - pa)
        _vecswap(a, base, pb - r, r)
        r = min(pd - pc, pn - pd - 1)
        _vecswap(a, pb, pn - r, r)
        r = pb - pa
        if r > 1:
            last = base + r - 1
            if not ((lrange < base and rrange < base) or (lrange > last and rrange > last)):
                _pqsort(a, base, r, cmp, lrange, rrange)
        r = pd - pc
        if r <= 1:
            return
        base = pn - r
        n = r
        last = base + r - 1
        if (lrange < base and rrange < base) or (lrange > last and rrange > last):
            return


def _three_way(x, y) -> int:
    return (x > y) - (x < y)


# ---------------------------------------------------------------------------
# SORT
# ---------------------------------------------------------------------------

def _cstr(b: bytes) -> bytes:
    """What C string functions see of an argument: up to its first NUL."""
    nul = b.find(b"\0")
    return b if nul < 0 else b[:nul]


def _option(arg: bytes) -> bytes:
    return _cstr(arg).lower()


def lookup_by_pattern(db, pattern: bytes, subst: bytes):
    """lookupKeyByPattern: `#` is the element itself; otherwise the first
    '*' is replaced by the element, and `key->field` reads a hash field.
    Returns the string value, or None (no '*', no key, wrong type).  Keys
    are read with lookupKeyRead (hits and misses counted), STORE or not."""
    cpat = _cstr(pattern)
    if cpat == b"#":
        return subst
    p = cpat.find(b"*")
    if p < 0:
        return None
    f = cpat.find(b"->", p + 1)
    if f >= 0 and f + 2 < len(cpat):
        keyname = pattern[:p] + subst + pattern[p + 1:f]
        field = pattern[f + 2:]
    else:
        keyname = pattern[:p] + subst + pattern[p + 1:]
        field = None
    v = db.lookup_read(keyname)
    if v is None:
        return None
    if field is not None:
        if type(v) is not Hash:
            return None
        return v.get(field)
    if type(v) not in _STRINGS:
        return None
    return v


def _as_bytes(v) -> bytes:
    t = type(v)
    if t is bytes:
        return v
    if t is int:
        return b"%d" % v
    return bytes(v)


def _sort_generic(c, argv, readonly: bool) -> bytes:
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    sortby = storekey = None
    gets = []
    argc = len(argv)
    j = 2
    while j < argc:
        left = argc - j - 1
        opt = _option(argv[j])
        if opt == b"asc":
            desc = False
        elif opt == b"desc":
            desc = True
        elif opt == b"alpha":
            alpha = True
        elif opt == b"limit" and left >= 2:
            limit_start = strict_int(argv[j + 1])
            limit_count = strict_int(argv[j + 2]) if limit_start is not None else None
            if limit_count is None:
                raise CommandError(errors.NOT_INTEGER)
            j += 2
        elif not readonly and opt == b"store" and left >= 1:
            storekey = argv[j + 1]
            j += 1
        elif opt == b"by" and left >= 1:
            sortby = argv[j + 1]
            # a constant pattern: nothing to sort by (the flag stays set)
            if b"*" not in _cstr(sortby):
                dontsort = True
            j += 1
        elif opt == b"get" and left >= 1:
            gets.append(argv[j + 1])
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1

    db = c.db
    sortval = db.lookup_read(argv[1])
    if sortval is not None and type(sortval) not in _SORTABLE:
        raise CommandError(errors.WRONGTYPE)
    kind = type(sortval)
    # A set has no order of its own: a result that outlives the command
    # (STORE) is sorted so that replicas agree.  Redis does the same for
    # SORT run from a script; kvserver runs no scripts.
    if dontsort and kind is Set and storekey is not None:
        dontsort = False
        alpha = True
        sortby = None
    if kind is ZSet:
        sortval.convert()

    n = len(sortval) if sortval is not None else 0
    start = min(max(limit_start, 0), n)
    limit_count = min(max(limit_count, -1), n)
    end = n - 1 if limit_count < 0 else start + limit_count - 1
    if start >= n:
        start = n - 1
        end = n - 2
    if end >= n:
        end = n - 1

    if sortval is None:
        vector = []
    elif kind is Quicklist:
        if dontsort:
            vector = []
            if end >= start:
                if desc:
                    vector = sortval.range(n - 1 - end, n - 1 - start)[::-1]
                else:
                    vector = sortval.range(start, end)
                vector = [decode(e) for e in vector]
                end -= start
                start = 0
        else:
            vector = list(sortval)
    elif kind is Set:
        vector = sortval.members()
    elif dontsort:
        vector = list(sortval.rank_range(start, end, desc)[0]) if end >= start else []
        end -= start
        start = 0
    else:
        vector = list(sortval.pairs()[0])

    if not dontsort:
        bad = False
        if alpha:
            if sortby is not None:
                keys = []
                for e in vector:
                    v = lookup_by_pattern(db, sortby, e)
                    if v is None:
                        keys.append((0, b""))
                    else:
                        v = _as_bytes(v)
                        keys.append((1, v if storekey is not None else _cstr(v)))
            elif storekey is not None:
                keys = vector
            else:
                keys = [_cstr(e) for e in vector]
        else:
            keys = []
            for e in vector:
                if sortby is not None:
                    v = lookup_by_pattern(db, sortby, e)
                    score = 0.0 if v is None else _sort_score(v)
                else:
                    score = _sort_score(e)
                if score is None:
                    bad = True
                    score = 0.0
                keys.append((score, e))
        if sortby is not None and (start != 0 or end != len(vector) - 1):
            pairs = list(zip(keys, vector))
            if desc:
                pqsort(pairs, lambda x, y: _three_way(y[0], x[0]), start, end)
            else:
                pqsort(pairs, lambda x, y: _three_way(x[0], y[0]), start, end)
            vector = [p[1] for p in pairs]
        else:
            order = sorted(range(len(vector)), key=keys.__getitem__, reverse=desc)
            vector = [vector[i] for i in order]
        if bad:
            raise CommandError(errors.SORT_NOT_DOUBLE)

    count = end - start + 1
    outputlen = len(gets) * count if gets else count
    if storekey is None:
        nil = NULL3 if c.resp == 3 else NULL2
        out = [array_header(outputlen)]
        for e in vector[start:end + 1]:
            if not gets:
                out.append(bulk(e))
            for pattern in gets:
                v = lookup_by_pattern(db, pattern, e)
                out.append(nil if v is None else bulk(_as_bytes(v)))
        return b"".join(out)

    if gets:
        values = []
        for e in vector[start:end + 1]:
            for pattern in gets:
                v = lookup_by_pattern(db, pattern, e)
                values.append(b"" if v is None else _as_bytes(v))
    else:
        values = vector[start:end + 1]
    ks = c.server.keyspace
    if outputlen:
        cfg = c.server.config
        db.set(storekey, Quicklist.from_values(values, cfg.list_max_listpack_size,
                                               cfg.list_compress_depth))
        ks.dirty += outputlen
    elif db.delete(storekey):
        ks.dirty += 1
    return integer(outputlen)


def sort_keys(argv) -> list:
    """sortGetKeys: the sorted key and the last STORE destination; options
    are skipped by their argument counts (LIMIT 2, GET and BY 1)."""
    keys = [(argv[1], ("RO", "ACCESS"))]
    store = None
    argc = len(argv)
    i = 2
    while i < argc:
        opt = _option(argv[i])
        if opt == b"limit":
            i += 2
        elif opt == b"store" and i + 1 < argc:
            store = argv[i + 1]
        elif opt in (b"get", b"by"):
            i += 1
        i += 1
    if store is not None:
        keys.append((store, ("OW", "UPDATE")))
    return keys


def _sort_key_names(argv) -> list:
    return [k for k, _ in sort_keys(argv)]


_sort_key_names.with_flags = sort_keys

_BY_GET_SPEC = KeySpec("RO ACCESS", notes=(
    "For the optional BY/GET keyword. It is marked 'unknown' because the key "
    "names derive from the content of the key we sort"))
_DOC = dict(
    since="1.0.0", group="generic",
    complexity="O(N+M*log(M)) where N is the number of elements in the list or set "
               "to sort, and M the number of returned elements. When the elements "
               "are not sorted, complexity is O(N).")
_ARGS = ("key [BY pattern{key_spec_index=1}] [LIMIT offset count] "
         "[GET pattern{key_spec_index=1} [GET pattern ...]] order:[ASC|DESC] "
         "[sorting:ALPHA]")


@command("sort", -2, "write denyoom", keys=(1, 1, 1),
         acl="@write @set @sortedset @list @slow @dangerous",
         getkeys=_sort_key_names,
         key_specs=[KeySpec("RO ACCESS", index=1), _BY_GET_SPEC,
                    KeySpec("OW UPDATE", notes=(
                        "For the optional STORE keyword. It is marked 'unknown' "
                        "because the keyword can appear anywhere in the argument "
                        "array"))],
         summary="Sort the elements in a list, set or sorted set",
         args=_ARGS + " [STORE destination]", **_DOC)
def sort(c, argv):
    return _sort_generic(c, argv, False)


@command("sort_ro", -2, "readonly", keys=(1, 1, 1),
         acl="@read @set @sortedset @list @slow @dangerous",
         getkeys=lambda argv: [argv[1]],
         key_specs=[KeySpec("RO ACCESS", index=1), _BY_GET_SPEC],
         summary="Sort the elements in a list, set or sorted set. Read-only variant "
                 "of SORT.",
         args=_ARGS, **dict(_DOC, since="7.0.0"))
def sort_ro(c, argv):
    return _sort_generic(c, argv, True)
