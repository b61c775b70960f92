"""HyperLogLog commands (hyperloglog.c): PFADD, PFCOUNT, PFMERGE, PFDEBUG,
PFSELFTEST.

An HLL is a string value holding Redis's exact representation (see
datastructs/hll.py), so GET shows the same bytes as on Redis.  Commands
that write, and PFCOUNT/PFDEBUG (which may rewrite the cached cardinality
or the encoding), first unshare the value into a `bytearray` edited in
place: encoding "raw", as after Redis's dbUnshareStringValue, which is
not itself a modification (no WATCH is touched).

Side effects follow Redis 7.0: PFADD creates the key even with no
elements; PFCOUNT of one key stores the cardinality it computes and
touches the key only then; PFMERGE merges the destination's own
registers too; PFDEBUG GETREG/TODENSE store the dense form without
touching the key.  `keyspace.dirty` moves as server.dirty does.
"""

import random

from kvserver import errors
from kvserver.commands.bitmaps import unshare
from kvserver.commands.table import KeySpec, command
from kvserver.datastructs import hll
from kvserver.datastructs.hll import (DENSE, HDR_SIZE, PROMOTE, REGISTERS,
                                      SPARSE, STALE_BIT, Sparse)
from kvserver.errors import CommandError
from kvserver.net.resp import (ONE, OK, ZERO, array_header, bulk, integer)

_CORRUPTED = errors.HLL_CORRUPTED
_STRINGS = (bytes, bytearray, int)
_DENSE_STATUS = b"+dense\r\n"
_SPARSE_STATUS = b"+sparse\r\n"
_REG_REPLIES = [integer(v) for v in range(64)]


def _encoding_of(v) -> int:
    """isHLLObjectOrReply: the HLL encoding of value `v`, or the error."""
    if type(v) not in _STRINGS:
        raise CommandError(errors.WRONGTYPE)
    enc = hll.valid_encoding(v)
    if enc is None:
        raise CommandError(errors.HLL_WRONGTYPE)
    return enc


def _cstr(arg: bytes) -> bytes:
    i = arg.find(b"\0")
    return (arg if i < 0 else arg[:i]).lower()


def _dirty(c, n: int = 1):
    c.server.keyspace.dirty += n


def _dense_add_all(v: bytearray, elements) -> int:
    """hllDenseAdd for each element; how many raised a register."""
    pat_len = hll.pat_len
    get = hll.dense_get
    put = hll.dense_set
    updated = 0
    for ele in elements:
        index, count = pat_len(ele)
        if count > get(v, index):
            put(v, index, count)
            updated += 1
    return updated


def _promote(v: bytearray, sp: Sparse, index: int, count: int) -> bool:
    """The promote step of hllSparseSet: `v` becomes dense with the
    registers of `sp` plus register `index` raised to `count`.  The
    header is Redis's: copied, stale if a sparse set already marked it."""
    raw = sp.to_raw()
    if raw is None:
        return False
    raw[index] = count
    hdr = bytearray(v[:HDR_SIZE])
    hdr[4] = DENSE
    if sp.touched:
        hdr[15] |= STALE_BIT
    v[:] = hdr + hll.raw_to_dense(raw)
    return True


# Parsed sparse HLLs of recently edited keys, so a stream of PFADDs to a
# sparse key costs a bisection each instead of a parse of up to
# hll-sparse-max-bytes opcodes.  An entry is used only if the value still
# holds exactly the bytes it was parsed from (anything may have rewritten
# the string since), which makes stale entries harmless.
_CACHE_SIZE = 16
_cache: dict = {}


def _sparse_of(db, key, v) -> Sparse:
    body = bytes(v[HDR_SIZE:])
    hit = _cache.get((db.id, key))
    if hit is not None and hit[0] == body:
        sp = hit[1]
        sp.touched = False
        return sp
    return Sparse(body)


def _remember(db, key, sp: Sparse, body: bytes):
    ck = (db.id, key)
    if ck not in _cache and len(_cache) >= _CACHE_SIZE:
        del _cache[next(iter(_cache))]
    _cache[ck] = (body, sp)


def _sparse_add_all(c, key, v: bytearray, elements) -> int:
    """hllSparseAdd for each element, promoting to dense on the way if
    needed; raises INVALIDOBJ (keeping what was already added, as Redis
    does) when the opcodes are corrupted."""
    db = c.db
    sp = _sparse_of(db, key, v)
    _cache.pop((db.id, key), None)      # mutated from here on
    max_bytes = c.server.config.hll_sparse_max_bytes
    pat_len = hll.pat_len
    updated = 0
    for k, ele in enumerate(elements):
        index, count = pat_len(ele)
        r = sp.set(index, count, max_bytes)
        if r == PROMOTE:
            if not _promote(v, sp, index, count):
                break
            return updated + 1 + _dense_add_all(v, elements[k + 1:])
        if r < 0:
            break
        updated += r
    else:
        body = sp.body()
        if sp.touched:
            v[HDR_SIZE:] = body
        _remember(db, key, sp, body)
        return updated
    # corrupted: keep the registers set so far, then fail
    if sp.touched:
        v[HDR_SIZE:] = sp.body()
        v[15] |= STALE_BIT
    raise CommandError(_CORRUPTED)


@command("pfadd", -2, "write denyoom fast", keys=(1, 1, 1),
         acl="@write @hyperloglog @fast", key_specs=[KeySpec("RW INSERT", index=1)],
         summary="Adds the specified elements to the specified HyperLogLog.",
         since="2.8.9", group="hyperloglog", complexity="O(1) to add every element.",
         args="key [element [element ...]]")
def pfadd(c, argv):
    db = c.db
    key = argv[1]
    v = db.lookup(key)
    if v is None:
        v = bytearray(hll.EMPTY_SPARSE)
        db.set(key, v)
        updated = 1
        enc = SPARSE
    else:
        enc = _encoding_of(v)
        v = unshare(db, key, v)
        updated = 0
    if len(argv) > 2:
        if enc == SPARSE:
            updated += _sparse_add_all(c, key, v, argv[2:])
        else:
            updated += _dense_add_all(v, argv[2:])
    if not updated:
        return ZERO
    v[15] |= STALE_BIT
    db.touch(key)
    _dirty(c, updated)
    return ONE


@command("pfcount", -2, "readonly", keys=(1, -1, 1), acl="@read @hyperloglog @slow",
         key_specs=[KeySpec("RW ACCESS", index=1, range=(-1, 1, 0),
                            notes="RW because it may change the internal "
                                  "representation of the key, and propagate "
                                  "to replicas")],
         summary="Return the approximated cardinality of the set(s) observed by "
                 "the HyperLogLog at key(s).",
         since="2.8.9", group="hyperloglog",
         complexity="O(1) with a very small average constant time when called "
                    "with a single key. O(N) with N being the number of keys, and "
                    "much bigger constant times, when called with multiple keys.",
         args="key [key ...]")
def pfcount(c, argv):
    db = c.db
    if len(argv) > 2:
        # the cardinality of the union, from the registers' maxima
        raw = None
        for key in argv[1:]:
            v = db.lookup_read(key)
            if v is None:
                continue
            enc = _encoding_of(v)
            if raw is None and enc == DENSE:
                raw = hll.dense_to_raw(v[HDR_SIZE:])
                continue
            if raw is None:
                raw = bytearray(REGISTERS)
            if not hll.merge_into(raw, v):
                raise CommandError(_CORRUPTED)
        if raw is None:
            return ZERO
        return integer(hll.estimate(hll.histogram(raw)))
    key = argv[1]
    v = db.lookup_read(key)
    if v is None:
        return ZERO
    _encoding_of(v)
    v = unshare(db, key, v)
    card = hll.cached_card(v)
    if card is None:
        if v[4] == DENSE:
            card = hll.cardinality(v)
        else:
            hist = _sparse_of(db, key, v).histogram()
            card = None if hist is None else hll.estimate(hist)
        if card is None:
            raise CommandError(_CORRUPTED)
        v[8:16] = card.to_bytes(8, "little")
        db.touch(key)
        _dirty(c)
    return integer(card)


@command("pfmerge", -2, "write denyoom", keys=(1, -1, 1),
         acl="@write @hyperloglog @slow",
         key_specs=[KeySpec("RW ACCESS INSERT", index=1),
                    KeySpec("RO ACCESS", index=2, range=(-1, 1, 0))],
         summary="Merge N different HyperLogLogs into a single one.",
         since="2.8.9", group="hyperloglog",
         complexity="O(N) to merge N HyperLogLogs, but with high constant times.",
         args="destkey sourcekey [sourcekey ...]")
def pfmerge(c, argv):
    db = c.db
    raw = bytearray(REGISTERS)
    use_dense = False
    for key in argv[1:]:        # the destination's registers count too
        v = db.lookup_read(key)
        if v is None:
            continue
        if _encoding_of(v) == DENSE:
            use_dense = True
        if not hll.merge_into(raw, v):
            raise CommandError(_CORRUPTED)
    dest = argv[1]
    v = db.lookup(dest)
    if v is None:
        v = bytearray(hll.EMPTY_SPARSE)
        db.set(dest, v)
    else:
        v = unshare(db, dest, v)
    if use_dense and not hll.sparse_to_dense(v):
        raise CommandError(_CORRUPTED)
    if v[4] == DENSE:
        # every register ends at the maximum (the destination is included)
        v[HDR_SIZE:] = hll.raw_to_dense(raw)
    else:
        _merge_sparse(c, v, raw)
    v[15] |= STALE_BIT
    db.touch(dest)
    _dirty(c)
    return OK


def _merge_sparse(c, v: bytearray, raw):
    """PFMERGE into a sparse destination: hllSparseSet of each non-zero
    maximum in register order, which decides the exact opcodes and the
    point where it turns dense."""
    sp = Sparse(v[HDR_SIZE:])
    max_bytes = c.server.config.hll_sparse_max_bytes
    put = sp.set
    for j in [i for i, x in enumerate(raw) if x]:
        if put(j, raw[j], max_bytes) == PROMOTE and _promote(v, sp, j, raw[j]):
            # the remaining sets raise every register to its maximum
            v[HDR_SIZE:] = hll.raw_to_dense(raw)
            return
    v[HDR_SIZE:] = sp.body()


@command("pfdebug", 3, "write denyoom admin", keys=(2, 2, 1),
         acl="@write @hyperloglog @admin @slow @dangerous",
         key_specs=[KeySpec("RW ACCESS", index=2)],
         summary="Internal commands for debugging HyperLogLog values",
         since="2.8.9", group="hyperloglog", complexity="N/A", doc_flags="syscmd",
         args="subcommand key")
def pfdebug(c, argv):
    db = c.db
    key = argv[2]
    v = db.lookup(key)
    if v is None:
        raise CommandError(errors.PFDEBUG_NO_KEY)
    enc = _encoding_of(v)
    v = unshare(db, key, v)
    sub = _cstr(argv[1])
    if sub == b"getreg":
        if enc == SPARSE:
            if not hll.sparse_to_dense(v):
                raise CommandError(_CORRUPTED)
            _dirty(c)
        regs = _REG_REPLIES
        return array_header(REGISTERS) + b"".join(
            [regs[r] for r in hll.dense_to_raw(v[HDR_SIZE:])])
    if sub == b"decode":
        if enc != SPARSE:
            raise CommandError(errors.PFDEBUG_NOT_SPARSE)
        return bulk(Sparse(v[HDR_SIZE:]).decode())
    if sub == b"encoding":
        return _DENSE_STATUS if enc == DENSE else _SPARSE_STATUS
    if sub == b"todense":
        if enc != SPARSE:
            return ZERO
        if not hll.sparse_to_dense(v):
            raise CommandError(_CORRUPTED)
        _dirty(c)
        return ONE
    raise errors.pfdebug_unknown(argv[1])


_rnd = random.Random()


@command("pfselftest", 1, "admin", acl="@hyperloglog @admin @slow @dangerous",
         summary="An internal command for testing HyperLogLog values",
         since="2.8.9", group="hyperloglog", complexity="N/A", doc_flags="syscmd",
         args="")
def pfselftest(c, argv):
    err = hll.selftest(c.server.config.hll_sparse_max_bytes, _rnd)
    if err is not None:
        raise CommandError(err)
    return OK
