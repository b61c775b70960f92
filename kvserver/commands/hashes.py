"""Hash commands (t_hash.c): HSET and friends, counters, HRANDFIELD, HSCAN.

The value is a `kvserver.datastructs.hash.Hash`; its encoding (listpack
or hashtable) is decided there, from `hash-max-listpack-entries` and
`hash-max-listpack-value` read off the config at each write.

Lookups follow Redis's flavours: writes use lookupKeyWrite (`read=False`,
no hit/miss counting), reads lookupKeyRead.  Every in-place change calls
`db.touch` (signalModifiedKey) so WATCH sees it, bumps `keyspace.dirty` as
Redis bumps server.dirty, and a hash emptied by HDEL is deleted.

`scan_options` and `scan_reply` are shared with SSCAN (commands/sets.py):
they are scanGenericCommand's option loop and reply for a key's collection.
"""

from random import random as _random, sample as _sample

from kvserver import errors, longdouble
from kvserver.commands.args import c_word as _opt, random_count
from kvserver.commands.table import KeySpec, command, key_run, run_handler
from kvserver.datastructs.hash import Hash
from kvserver.errors import WRONGTYPE as _WRONGTYPE, CommandError
from kvserver.glob import compile_glob
from kvserver.net.resp import (EMPTY_ARRAY, NULL2, NULL3, OK, ONE, ZERO,
                               array, array_header, bulk, integer, strict_int)
from kvserver.scan import parse_cursor, scan as scan_step

LLONG_MAX = 2**63 - 1
LLONG_MIN = -2**63
LONG_MAX = LLONG_MAX

_HASH = (Hash,)
_EMPTY_SCAN = b"*2\r\n$1\r\n0\r\n*0\r\n"
_EMPTY_MAP3 = b"%0\r\n"


_BULK_HDR = [b"$%d\r\n" % i for i in range(1024)]


def bulks(items, head: bytes = b"") -> bytes:
    """`head` (an aggregate header) followed by the bulk strings of `items`."""
    parts = [head]
    append = parts.append
    hdr = _BULK_HDR
    for b in items:
        n = len(b)
        append(hdr[n] if n < 1024 else b"$%d\r\n" % n)
        append(b)
        append(b"\r\n")
    return b"".join(parts)


def _dirty(c, n: int = 1):
    c.server.keyspace.dirty += n


# ---------------------------------------------------------------------------
# SCAN-family helpers (shared with SSCAN)
# ---------------------------------------------------------------------------

def scan_options(argv, i: int):
    """scanGenericCommand's options for a key's collection: (count, match)
    where match is None or a compiled glob.  TYPE is SCAN's alone."""
    count = 10
    match = None
    argc = len(argv)
    while i < argc:
        opt = _opt(argv[i])
        if opt == b"count" and argc - i >= 2:
            n = strict_int(argv[i + 1])
            if n is None:
                raise CommandError(errors.NOT_INTEGER)
            if n < 1:
                raise CommandError(errors.SYNTAX)
            count = n
            i += 2
        elif opt == b"match" and argc - i >= 2:
            pat = argv[i + 1]
            # the lone "*" is not matched at all, so even "" passes
            match = None if pat == b"*" else compile_glob(pat)
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    return count, match


def scan_reply(cursor: int, items) -> bytes:
    c = b"%d" % cursor
    return bulks(items, b"*2\r\n$%d\r\n%s\r\n%s" % (len(c), c, array_header(len(items))))


# ---------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------

def _write_lookup(c, key):
    """hashTypeLookupWriteOrCreate without the create: (hash or None)."""
    return c.db.lookup_typed(key, _HASH, False)


@command("hset", -4, "write denyoom fast", keys=(1, 1, 1),
         acl="@write @hash @fast", key_specs=[KeySpec("RW UPDATE", index=1)],
         summary="Set the string value of a hash field", since="2.0.0",
         group="hash",
         complexity="O(1) for each field/value pair added, so O(N) to add N "
                    "field/value pairs when the command is called with multiple "
                    "field/value pairs.",
         history=(("4.0.0", "Accepts multiple `field` and `value` arguments."),),
         args="key field value [field value ...]")
def hset(c, argv):
    # one pair: _hset inlined (a pipeline of these is the common shape)
    try:
        _, key, field, value = argv
    except ValueError:
        return _hset(c, argv, "hset")
    db = c.db
    h = db.lookup(key)
    if type(h) is not Hash:
        if h is not None:
            raise CommandError(_WRONGTYPE)
        h = Hash()
        db.set(key, h)
    cfg = c.server.config
    max_value = cfg.hash_max_listpack_value
    t = h._v
    # Hash.set inlined for a thawed listpack (datastructs/hash.py) that
    # stays one: both strings within the value limit, and the count
    # within the entry limit after the update in place or the new field
    # at the tail.  Anything else (a blob to thaw, a dict, a conversion)
    # is Hash.set's.
    if type(t) is tuple and len(field) <= max_value >= len(value):
        room = cfg.hash_max_listpack_entries << 1
        try:
            i = t.index(field)
        except ValueError:
            if len(t) < room:
                h._v = t + (field, value)
                if db.watched:
                    db.touch(key)
                db.keyspace.dirty += 1
                return ONE
        else:
            if not i & 1 and len(t) <= room:
                if t[i + 1] != value:
                    lst = list(t)
                    lst[i + 1] = value
                    h._v = tuple(lst)
                if db.watched:
                    db.touch(key)
                db.keyspace.dirty += 1
                return ZERO
    created = h.set(field, value, cfg.hash_max_listpack_entries, max_value)
    if db.watched:
        db.touch(key)
    db.keyspace.dirty += 1
    return ONE if created else ZERO


@command("hmset", -4, "write denyoom fast", keys=(1, 1, 1),
         acl="@write @hash @fast", key_specs=[KeySpec("RW UPDATE", index=1)],
         summary="Set multiple hash fields to multiple values", since="2.0.0",
         group="hash",
         complexity="O(N) where N is the number of fields being set.",
         doc_flags="deprecated", deprecated_since="4.0.0",
         replaced_by="`HSET` with multiple field-value pairs",
         args="key field value [field value ...]")
def hmset(c, argv):
    _hset(c, argv, "hmset")
    return OK


def _hset(c, argv, name):
    if len(argv) & 1:
        raise errors.wrong_arity(name)
    db = c.db
    key = argv[1]
    h = db.lookup(key)
    if type(h) is not Hash:
        if h is not None:
            raise CommandError(_WRONGTYPE)
        h = Hash()
        db.set(key, h)
    cfg = c.server.config
    created = h.set_pairs(argv, 2, cfg.hash_max_listpack_entries,
                          cfg.hash_max_listpack_value)
    if db.watched:
        db.touch(key)
    db.keyspace.dirty += (len(argv) - 2) >> 1
    return integer(created)


@command("hsetnx", 4, "write denyoom fast", keys=(1, 1, 1),
         acl="@write @hash @fast", key_specs=[KeySpec("RW INSERT", index=1)],
         summary="Set the value of a hash field, only if the field does not exist",
         since="2.0.0", group="hash", complexity="O(1)", args="key field value")
def hsetnx(c, argv):
    _, key, field, value = argv
    db = c.db
    h = db.lookup(key)
    if type(h) is Hash:
        if h.exists(field):
            return ZERO
    elif h is None:
        h = Hash()
        db.set(key, h)
    else:
        raise CommandError(_WRONGTYPE)
    cfg = c.server.config
    h.set(field, value, cfg.hash_max_listpack_entries, cfg.hash_max_listpack_value)
    if db.watched:
        db.touch(key)
    db.keyspace.dirty += 1
    return ONE


@command("hincrby", 4, "write denyoom fast", keys=(1, 1, 1),
         acl="@write @hash @fast", key_specs=[KeySpec("RW ACCESS UPDATE", index=1)],
         summary="Increment the integer value of a hash field by the given number",
         since="2.0.0", group="hash", complexity="O(1)",
         args="key field increment")
def hincrby(c, argv):
    _, key, field, incr = argv
    incr = strict_int(incr)
    if incr is None:
        raise CommandError(errors.NOT_INTEGER)
    db = c.db
    h = db.lookup(key)
    if type(h) is Hash:
        cur = h.get(field)
        if cur is None:
            value = 0
        else:
            value = strict_int(cur)
            if value is None:
                raise CommandError(errors.HASH_NOT_INTEGER)
    elif h is None:
        h = Hash()
        db.set(key, h)
        value = 0
    else:
        raise CommandError(_WRONGTYPE)
    value += incr
    if value > LLONG_MAX or value < LLONG_MIN:
        raise CommandError(errors.OVERFLOW)
    text = b"%d" % value
    cfg = c.server.config
    h.set(field, text, cfg.hash_max_listpack_entries, cfg.hash_max_listpack_value)
    if db.watched:
        db.touch(key)
    db.keyspace.dirty += 1
    return b":" + text + b"\r\n"


@command("hincrbyfloat", 4, "write denyoom fast", keys=(1, 1, 1),
         acl="@write @hash @fast", key_specs=[KeySpec("RW ACCESS UPDATE", index=1)],
         summary="Increment the float value of a hash field by the given amount",
         since="2.6.0", group="hash", complexity="O(1)",
         args="key field increment:double")
def hincrbyfloat(c, argv):
    incr = longdouble.parse(argv[3])
    if incr is None:
        raise CommandError(errors.NOT_FLOAT)
    if incr[1] is None:
        raise CommandError(errors.NAN_OR_INFINITY)
    db = c.db
    key = argv[1]
    field = argv[2]
    h = _write_lookup(c, key)
    cur = None
    if h is not None:
        cur = h.get(field)
    if cur is None:
        value = (0, 0)
    else:
        value = longdouble.parse(cur)
        if value is None:
            raise CommandError(errors.HASH_NOT_FLOAT)
    total = longdouble.add(value, incr)
    if total is None:
        raise CommandError(errors.INCR_NAN)
    text = longdouble.format_human(total)
    if h is None:
        h = Hash()
        db.set(key, h)
    cfg = c.server.config
    h.set(field, text, cfg.hash_max_listpack_entries, cfg.hash_max_listpack_value)
    db.touch(key)
    _dirty(c)
    return bulk(text)


@command("hdel", -3, "write fast", keys=(1, 1, 1),
         acl="@write @hash @fast", key_specs=[KeySpec("RW DELETE", index=1)],
         summary="Delete one or more hash fields", since="2.0.0", group="hash",
         complexity="O(N) where N is the number of fields to be removed.",
         history=(("2.4.0", "Accepts multiple `field` arguments."),),
         args="key field [field ...]")
def hdel(c, argv):
    db = c.db
    key = argv[1]
    h = db.lookup(key)
    if type(h) is not Hash:
        if h is None:
            return ZERO
        raise CommandError(_WRONGTYPE)
    deleted = h.delete(argv[2:])
    if deleted:
        if not len(h):
            db.delete(key)
        elif db.watched:
            db.touch(key)
        db.keyspace.dirty += deleted
        return ONE if deleted == 1 else integer(deleted)
    return ZERO


# ---------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------

@command("hget", 3, "readonly fast", keys=(1, 1, 1),
         acl="@read @hash @fast", key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Get the value of a hash field", since="2.0.0", group="hash",
         complexity="O(1)", args="key field")
def hget(c, argv):
    _, key, field = argv
    h = c.db.lookup_read(key)
    if type(h) is Hash:
        t = h._v
        if type(t) is tuple:
            # Hash.get inlined for a thawed listpack (datastructs/hash.py)
            try:
                i = t.index(field)
            except ValueError:
                return NULL3 if c.resp == 3 else NULL2
            v = h.get(field) if i & 1 else t[i + 1]
        else:
            v = h.get(field)
        if v is not None:
            n = len(v)
            if n < 1024:
                return _BULK_HDR[n] + v + b"\r\n"
            return bulk(v)
    elif h is not None:
        raise CommandError(_WRONGTYPE)
    return NULL3 if c.resp == 3 else NULL2


@command("hmget", -3, "readonly fast", keys=(1, 1, 1),
         acl="@read @hash @fast", key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Get the values of all the given hash fields", since="2.0.0",
         group="hash", complexity="O(N) where N is the number of fields being requested.",
         args="key field [field ...]")
def hmget(c, argv):
    h = c.db.lookup_typed(argv[1], _HASH)
    null = NULL3 if c.resp == 3 else NULL2
    parts = [array_header(len(argv) - 2)]
    if h is None:
        parts += [null] * (len(argv) - 2)
    else:
        d = h.as_dict() if len(argv) > 3 else None
        get = d.get if d is not None else h.get
        for f in argv[2:]:
            v = get(f)
            parts.append(null if v is None else b"$%d\r\n%s\r\n" % (len(v), v))
    return b"".join(parts)


@command("hlen", 2, "readonly fast", keys=(1, 1, 1),
         acl="@read @hash @fast", key_specs=[KeySpec("RO", index=1)],
         summary="Get the number of fields in a hash", since="2.0.0",
         group="hash", complexity="O(1)", args="key")
def hlen(c, argv):
    h = c.db.lookup_typed(argv[1], _HASH)
    return ZERO if h is None else integer(len(h))


@command("hstrlen", 3, "readonly fast", keys=(1, 1, 1),
         acl="@read @hash @fast", key_specs=[KeySpec("RO", index=1)],
         summary="Get the length of the value of a hash field", since="3.2.0",
         group="hash", complexity="O(1)", args="key field")
def hstrlen(c, argv):
    h = c.db.lookup_typed(argv[1], _HASH)
    if h is None:
        return ZERO
    v = h.get(argv[2])
    return ZERO if v is None else integer(len(v))


@command("hexists", 3, "readonly fast", keys=(1, 1, 1),
         acl="@read @hash @fast", key_specs=[KeySpec("RO", index=1)],
         summary="Determine if a hash field exists", since="2.0.0",
         group="hash", complexity="O(1)", args="key field")
def hexists(c, argv):
    _, key, field = argv
    h = c.db.lookup_read(key)
    if type(h) is Hash:
        return ONE if h.exists(field) else ZERO
    if h is None:
        return ZERO
    raise CommandError(_WRONGTYPE)


_ALL = dict(keys=(1, 1, 1), acl="@read @hash @slow",
            key_specs=[KeySpec("RO ACCESS", index=1)],
            tips=("nondeterministic_output_order",), since="2.0.0", group="hash",
            complexity="O(N) where N is the size of the hash.", args="key")


@command("hkeys", 2, "readonly", summary="Get all the fields in a hash", **_ALL)
def hkeys(c, argv):
    h = c.db.lookup_typed(argv[1], _HASH)
    if h is None:
        return EMPTY_ARRAY
    return array(h.fields())


@command("hvals", 2, "readonly", summary="Get all the values in a hash", **_ALL)
def hvals(c, argv):
    h = c.db.lookup_typed(argv[1], _HASH)
    if h is None:
        return EMPTY_ARRAY
    return array(h.values())


@command("hgetall", 2, "readonly", summary="Get all the fields and values in a hash",
         **_ALL)
def hgetall(c, argv):
    h = c.db.lookup_typed(argv[1], _HASH)
    resp3 = c.resp == 3
    if h is None:
        return _EMPTY_MAP3 if resp3 else EMPTY_ARRAY
    flat = h.flat()
    n = len(flat)
    return bulks(flat, b"%%%d\r\n" % (n >> 1) if resp3 else array_header(n))


# ---------------------------------------------------------------------------
# HRANDFIELD
# ---------------------------------------------------------------------------

@command("hrandfield", -2, "readonly", keys=(1, 1, 1),
         acl="@read @hash @slow", key_specs=[KeySpec("RO ACCESS", index=1)],
         tips=("nondeterministic_output",),
         summary="Get one or multiple random fields from a hash", since="6.2.0",
         group="hash", complexity="O(N) where N is the number of fields returned",
         args="key options:[count [WITHVALUES]]")
def hrandfield(c, argv):
    if len(argv) >= 3:
        n, withvalues = random_count(argv, b"withvalues")
        return _hrandfield_count(c, argv[1], n, withvalues)
    h = c.db.lookup_typed(argv[1], _HASH)
    if h is None:
        return NULL3 if c.resp == 3 else NULL2
    return bulk(h.random_pair()[0])


def _hrandfield_count(c, key, n: int, withvalues: bool) -> bytes:
    h = c.db.lookup_typed(key, _HASH)
    if h is None or n == 0:
        return EMPTY_ARRAY
    resp3 = c.resp == 3
    flat = h.flat()
    size = len(flat) >> 1
    if n < 0 or n == 1:
        # CASE 1: sampling with repetition (count 1 too), in random order
        count = -n if n < 0 else 1
        picks = [int(_random() * size) << 1 for _ in range(count)]
    elif n >= size:
        # CASE 2: the whole hash, in its iteration order
        count = size
        picks = range(0, size << 1, 2)
    else:
        # CASE 3/4: distinct fields
        count = n
        picks = [i << 1 for i in _sample(range(size), n)]
    if not withvalues:
        return bulks([flat[i] for i in picks], array_header(count))
    if resp3:
        parts = [array_header(count)]
        for i in picks:
            f = flat[i]
            v = flat[i + 1]
            parts.append(b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(f), f, len(v), v))
        return b"".join(parts)
    items = []
    for i in picks:
        items.append(flat[i])
        items.append(flat[i + 1])
    return bulks(items, array_header(count * 2))


# ---------------------------------------------------------------------------
# HSCAN
# ---------------------------------------------------------------------------

@command("hscan", -3, "readonly", keys=(1, 1, 1),
         acl="@read @hash @slow", key_specs=[KeySpec("RO ACCESS", index=1)],
         tips=("nondeterministic_output",),
         summary="Incrementally iterate hash fields and associated values",
         since="2.8.0", group="hash",
         complexity="O(1) for every call. O(N) for a complete iteration, including "
                    "enough command calls for the cursor to return back to 0. N is "
                    "the number of elements inside the collection..",
         args="key cursor [MATCH pattern] [COUNT count]")
def hscan(c, argv):
    cursor = parse_cursor(argv[2])
    if cursor is None:
        raise CommandError(errors.INVALID_CURSOR)
    h = c.db.lookup_typed(argv[1], _HASH)
    if h is None:
        return _EMPTY_SCAN
    count, match = scan_options(argv, 3)
    d = h.table()
    if d is None:
        # a listpack is returned whole, as Redis does
        flat = h.flat()
        cursor = 0
    else:
        cursor, fields = scan_step(d, cursor, count)
        flat = []
        for f in fields:
            flat.append(f)
            flat.append(d[f])
    if match is not None:
        out = []
        for i in range(0, len(flat), 2):
            if match(flat[i]):
                out.append(flat[i])
                out.append(flat[i + 1])
        flat = out
    return scan_reply(cursor, flat)


@run_handler("hset")
def hset_run(c, pending, i, append):
    """Consecutive single-pair HSETs of one existing hash: the sets in
    turn without a lookup and a handler call each.  A pipeline repeating
    one HSET sets once: the others find the field holding their value."""
    found = key_run(c, pending, i, 4, Hash)
    if found is None:
        return 0
    h, end = found
    cfg = c.server.config
    max_entries = cfg.hash_max_listpack_entries
    max_value = cfg.hash_max_listpack_value
    first = pending[i]
    m = end - i
    if pending[i + 1:end] == [first] * (m - 1):
        created = h.set(first[2], first[3], max_entries, max_value)
        append((ONE if created else ZERO) + ZERO * (m - 1))
    else:
        hset1 = h.set
        for j in range(i, end):
            a = pending[j]
            append(ONE if hset1(a[2], a[3], max_entries, max_value) else ZERO)
    db = c.db
    if db.watched:
        db.touch(first[1])
    c.server.keyspace.dirty += m
    return m
