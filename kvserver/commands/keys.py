"""Keyspace commands: the generic family of db.c, expire.c and object.c.

DEL UNLINK EXISTS TYPE TOUCH RENAME RENAMENX MOVE COPY SWAPDB KEYS SCAN
RANDOMKEY DBSIZE FLUSHDB FLUSHALL OBJECT, and the TTL family: EXPIRE
PEXPIRE EXPIREAT PEXPIREAT (NX XX GT LT), TTL PTTL EXPIRETIME PEXPIRETIME
PERSIST.

Lookups follow Redis's flavours, since INFO's keyspace_hits/misses and
OBJECT IDLETIME tell them apart: lookupKeyRead (`lookup_read`: counts,
touches), lookupKeyWrite (`lookup`: touches, no count) and the NOTOUCH
reads of TYPE, EXISTS, TTL and OBJECT (`peek_read`: counts, no touch).
Every write bumps `keyspace.dirty` by what Redis adds to server.dirty.

Not modelled: keyspace notifications, replication/AOF propagation, cluster
mode refusals, and FLUSHALL's RDB save when save points are configured.
"""

import copy as _copy
import random

from kvserver import clock, errors
from kvserver.commands.strings import key_string_encoding
from kvserver.commands.table import (KeySpec, command, container,
                                     subcommand)
from kvserver.errors import CommandError
from kvserver.glob import compile_glob
from kvserver.keyspace import STRING_TYPES, type_name
from kvserver.net import resp
from kvserver.net.resp import (NULL2, NULL3, OK, ONE, ZERO, array,
                               array_header, bulk, integer, strict_int)
from kvserver.scan import (c_word, parse_cursor, parse_options, scan as scan_step,
                           scan_reply)

try:
    from kvserver.blocking import scan_ready
except ImportError:     # no blocking commands built: nobody can be waiting
    scan_ready = None

LLONG_MAX = 2**63 - 1
INT_MIN, INT_MAX = -2**31, 2**31 - 1
OBJ_SHARED_INTEGERS = 10000
OBJ_SHARED_REFCOUNT = INT_MAX

_MINUS_ONE = b":-1\r\n"
_MINUS_TWO = b":-2\r\n"
_TYPE_REPLY = {name: b"+%s\r\n" % name.encode()
               for name in ("string", "list", "set", "zset", "hash", "stream")}
_NONE = b"+none\r\n"
_G = dict(group="generic")
_MULTI_SUM = ("request_policy:multi_shard", "response_policy:agg_sum")


def _get_db_index(arg: bytes, msg: bytes | None = None) -> int:
    """getIntFromObjectOrReply: a C int, with Redis's two failure texts."""
    v = strict_int(arg)
    if v is None:
        raise CommandError(msg or errors.NOT_INTEGER)
    if not INT_MIN <= v <= INT_MAX:
        raise CommandError(msg or errors.INT_RANGE)
    return v


# --- DEL, UNLINK, EXISTS, TYPE, TOUCH -----------------------------------------

def _del(c, argv):
    db = c.db
    delete = db.delete
    n = 0
    for i in range(1, len(argv)):
        if delete(argv[i]):
            n += 1
    if n:
        c.server.keyspace.dirty += n
    return integer(n)


command("del", -2, "write", keys=(1, -1, 1), acl="@keyspace @write @slow",
        key_specs="RM DELETE", tips=_MULTI_SUM,
        summary="Delete a key", since="1.0.0",
        complexity="O(N) where N is the number of keys that will be removed. "
                   "When a key to remove holds a value other than a string, the "
                   "individual complexity for this key is O(M) where M is the "
                   "number of elements in the list, set, sorted set or hash. "
                   "Removing a single key that holds a string value is O(1).",
        args="key [key ...]", **_G)(_del)

# Values are freed by reference counting as they go; there is no
# background thread to hand them to, so UNLINK is DEL.
command("unlink", -2, "write fast", keys=(1, -1, 1),
        acl="@keyspace @write @fast", key_specs="RM DELETE", tips=_MULTI_SUM,
        summary="Delete a key asynchronously in another thread. Otherwise it "
                "is just as DEL, but non blocking.",
        since="4.0.0",
        complexity="O(1) for each key removed regardless of its size. Then the "
                   "command does O(N) work in a different thread in order to "
                   "reclaim memory, where N is the number of allocations the "
                   "deleted objects where composed of.",
        args="key [key ...]", **_G)(_del)


@command("exists", -2, "readonly fast", keys=(1, -1, 1),
         acl="@keyspace @read @fast", key_specs="RO", tips=_MULTI_SUM,
         summary="Determine if a key exists", since="1.0.0",
         complexity="O(N) where N is the number of keys to check.",
         history=(("3.0.3", "Accepts multiple `key` arguments."),),
         args="key [key ...]", **_G)
def exists(c, argv):
    peek = c.db.peek_read
    n = 0
    for i in range(1, len(argv)):
        if peek(argv[i]) is not None:
            n += 1
    return integer(n)


@command("type", 2, "readonly fast", keys=(1, 1, 1),
         acl="@keyspace @read @fast", key_specs="RO",
         summary="Determine the type stored at key", since="1.0.0",
         complexity="O(1)", args="key", **_G)
def type_(c, argv):
    v = c.db.peek_read(argv[1])
    if v is None:
        return _NONE
    name = type_name(v)
    r = _TYPE_REPLY.get(name)
    return r if r is not None else resp.simple(name.encode())


@command("touch", -2, "readonly fast", keys=(1, -1, 1),
         acl="@keyspace @read @fast", key_specs="RO", tips=_MULTI_SUM,
         summary="Alters the last access time of a key(s). Returns the number "
                 "of existing keys specified.",
         since="3.2.1",
         complexity="O(N) where N is the number of keys that will be touched.",
         args="key [key ...]", **_G)
def touch(c, argv):
    lookup = c.db.lookup_read
    n = 0
    for i in range(1, len(argv)):
        if lookup(argv[i]) is not None:
            n += 1
    return integer(n)


# --- RENAME, RENAMENX, MOVE, COPY, SWAPDB ---------------------------------------

def _rename(c, argv, nx: bool):
    db = c.db
    src, dst = argv[1], argv[2]
    v = db.lookup(src)
    if v is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if src == dst:
        return ZERO if nx else OK
    if db.lookup(dst) is not None:
        if nx:
            return ZERO
        db.delete(dst)
    db.move_to(src, db, dst)
    c.server.keyspace.dirty += 1
    return ONE if nx else OK


@command("rename", 3, "write", keys=(1, 2, 1), acl="@keyspace @write @slow",
         key_specs=(KeySpec("RW ACCESS DELETE", index=1),
                    KeySpec("OW UPDATE", index=2)),
         summary="Rename a key", since="1.0.0", complexity="O(1)",
         args="key newkey", **_G)
def rename(c, argv):
    return _rename(c, argv, False)


@command("renamenx", 3, "write fast", keys=(1, 2, 1),
         acl="@keyspace @write @fast",
         key_specs=(KeySpec("RW ACCESS DELETE", index=1),
                    KeySpec("OW INSERT", index=2)),
         summary="Rename a key, only if the new key does not exist",
         since="1.0.0", complexity="O(1)",
         history=(("3.2.0", "The command no longer returns an error when "
                            "source and destination names are the same."),),
         args="key newkey", **_G)
def renamenx(c, argv):
    return _rename(c, argv, True)


def _target_db(c, arg: bytes):
    idx = _get_db_index(arg)
    dbs = c.server.keyspace.dbs
    if idx < 0 or idx >= len(dbs):
        raise CommandError(errors.DB_OUT_OF_RANGE)
    return dbs[idx]


@command("move", 3, "write fast", keys=(1, 1, 1), acl="@keyspace @write @fast",
         key_specs="RW ACCESS UPDATE",
         summary="Move a key to another database", since="1.0.0",
         complexity="O(1)", args="key db", **_G)
def move(c, argv):
    src = c.db
    dst = _target_db(c, argv[2])
    if src is dst:
        raise CommandError(errors.SAME_OBJECT)
    key = argv[1]
    v = src.lookup(key)
    if v is None:
        return ZERO
    if dst.lookup(key) is not None:
        return ZERO
    src.move_to(key, dst, key)
    c.server.keyspace.dirty += 1
    return ONE


def _dup(v):
    """The copy COPY stores: strings keep their encoding (a bytearray stays
    raw and must not be shared, being mutable); other types copy
    themselves, or are deep-copied."""
    t = type(v)
    if t is bytes or t is int:
        return v
    if t is bytearray:
        return bytearray(v)
    dup = getattr(t, "copy", None)
    return dup(v) if dup is not None else _copy.deepcopy(v)


@command("copy", -3, "write denyoom", keys=(1, 2, 1),
         acl="@keyspace @write @slow",
         key_specs=(KeySpec("RO ACCESS", index=1), KeySpec("OW UPDATE", index=2)),
         summary="Copy a key", since="6.2.0",
         complexity="O(N) worst case for collections, where N is the number of "
                    "nested items. O(1) for string values.",
         args="source destination [DB destination-db] [REPLACE]", **_G)
def copy(c, argv):
    src = dst = c.db
    replace = False
    j, argc = 3, len(argv)
    while j < argc:
        opt = c_word(argv[j])
        if opt == b"replace":
            replace = True
        elif opt == b"db" and j + 1 < argc:
            dst = _target_db(c, argv[j + 1])
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    key, newkey = argv[1], argv[2]
    if src is dst and key == newkey:
        raise CommandError(errors.SAME_OBJECT)
    v = src.lookup_read(key)
    if v is None:
        return ZERO
    when = src.get_expire(key)
    if dst.lookup(newkey) is not None:
        if not replace:
            return ZERO
        dst.delete(newkey)
    dst.set(newkey, _dup(v))
    if when is not None:
        dst.set_expire(newkey, when)
    if key in src.floatstr:     # the duplicate keeps the embstr encoding
        dst.floatstr.add(newkey)
    c.server.keyspace.dirty += 1
    return ONE


@command("swapdb", 3, "write fast", acl="@keyspace @write @fast @dangerous",
         summary="Swaps two Redis databases", since="4.0.0", group="server",
         complexity="O(N) where N is the count of clients watching or blocking "
                    "on keys from both databases.",
         args="index1 index2")
def swapdb(c, argv):
    a = _get_db_index(argv[1], errors.INVALID_FIRST_DB)
    b = _get_db_index(argv[2], errors.INVALID_SECOND_DB)
    ks = c.server.keyspace
    n = len(ks.dbs)
    if not (0 <= a < n and 0 <= b < n):
        raise CommandError(errors.DB_OUT_OF_RANGE)
    if a != b:
        ks.swap(a, b)
        if scan_ready is not None:
            # scanDatabaseForReadyKeys: a key someone blocks on may have
            # arrived with the other db's contents
            scan_ready(ks.dbs[a])
            scan_ready(ks.dbs[b])
    ks.dirty += 1
    return OK


# --- KEYS, SCAN, RANDOMKEY, DBSIZE ---------------------------------------------

def _live_keys(db, keys):
    """Drop logically expired keys without deleting them (keyIsExpired)."""
    exp = db.expires
    if not exp:
        return keys if type(keys) is list else list(keys)
    now = clock.now_ms()
    get = exp.get
    out = []
    for k in keys:
        when = get(k)
        if when is None or when >= now:
            out.append(k)
    return out


@command("keys", 2, "readonly", acl="@keyspace @read @slow @dangerous",
         tips=("request_policy:all_shards", "nondeterministic_output_order"),
         summary="Find all keys matching the given pattern", since="1.0.0",
         complexity="O(N) with N being the number of keys in the database, "
                    "under the assumption that the key names in the database "
                    "and the given pattern have limited length.",
         args="pattern", **_G)
def keys(c, argv):
    db = c.db
    pat = argv[1]
    if pat == b"*":
        found = db.data
    else:
        found = list(filter(compile_glob(pat), db.data))
    return array(_live_keys(db, found))


@command("scan", -2, "readonly", acl="@keyspace @read @slow",
         tips=("nondeterministic_output", "request_policy:special"),
         summary="Incrementally iterate the keys space", since="2.8.0",
         complexity="O(1) for every call. O(N) for a complete iteration, "
                    "including enough command calls for the cursor to return "
                    "back to 0. N is the number of elements inside the "
                    "collection.",
         history=(("6.0.0", "Added the `TYPE` subcommand."),),
         args="cursor [MATCH pattern] [COUNT count] [TYPE type@6.0.0]", **_G)
def scan(c, argv):
    cursor = parse_cursor(argv[1])
    if cursor is None:
        raise CommandError(errors.INVALID_CURSOR)
    count, match, typename = parse_options(argv, 2, True)
    db = c.db
    cursor, found = scan_step(db.data, cursor, count)
    if match is not None:
        found = list(filter(match, found))
    if typename is not None:
        peek = db.peek_read
        kept = []
        for k in found:
            v = peek(k)
            if (b"none" if v is None else type_name(v).encode()) == typename:
                kept.append(k)
        found = kept
    if db.expires:
        expire = db.expire_if_needed
        found = [k for k in found if not expire(k)]
    return scan_reply(cursor, found)


# RANDOMKEY draws from a snapshot of the key list per db, rebuilt when it
# goes stale, because a dict cannot pick a random entry in O(1).  The
# snapshot is trusted while the db has grown by less than a tenth since it
# was taken (so a new key may wait a little before it can be drawn); a
# drawn key that has gone since rebuilds it.  Entries: id(db) -> (id of the
# dict it was taken from, keys).
_random_snapshots: dict = {}


def random_key(db):
    """dbRandomKey: a random live key or None, deleting expired ones met."""
    data = db.data
    entry = _random_snapshots.get(id(db))
    keys = None
    if entry is not None and entry[0] == id(data) and len(entry[1]) * 11 >= len(data) * 10:
        keys = entry[1]
    randbelow = random.randrange
    while data:
        if keys is None:
            keys = list(data)
            _random_snapshots[id(db)] = (id(data), keys)
        k = keys[randbelow(len(keys))]
        if k not in data:
            keys = None
            continue
        if db.expires and db.expire_if_needed(k):
            continue
        return k
    return None


@command("randomkey", 1, "readonly", acl="@keyspace @read @slow",
         tips=("request_policy:all_shards", "nondeterministic_output"),
         summary="Return a random key from the keyspace", since="1.0.0",
         complexity="O(1)", args="", **_G)
def randomkey(c, argv):
    k = random_key(c.db)
    if k is None:
        return NULL3 if c.resp == 3 else NULL2
    return bulk(k)


@command("dbsize", 1, "readonly fast", acl="@keyspace @read @fast",
         tips=("request_policy:all_shards", "response_policy:agg_sum"),
         summary="Return the number of keys in the selected database",
         since="1.0.0", group="server", complexity="O(1)", args="")
def dbsize(c, argv):
    return integer(len(c.db.data))


# --- FLUSHDB, FLUSHALL ---------------------------------------------------------

_FLUSH_HISTORY = (("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                  ("6.2.0", "Added the `SYNC` flushing mode modifier."))
_FLUSH_TIPS = ("request_policy:all_shards", "response_policy:all_succeeded")


def _check_flush_args(argv):
    """getFlushCommandFlags: nothing, or exactly one of SYNC and ASYNC.  An
    asynchronous flush frees on this thread anyway: the old dicts are
    dropped at once and reclaimed by reference counting."""
    if len(argv) == 1:
        return
    if len(argv) == 2 and c_word(argv[1]) in (b"sync", b"async"):
        return
    raise CommandError(errors.SYNTAX)


@command("flushdb", -1, "write", acl="@keyspace @write @slow @dangerous",
         tips=_FLUSH_TIPS,
         summary="Remove all keys from the current database", since="1.0.0",
         group="server",
         complexity="O(N) where N is the number of keys in the selected database",
         history=_FLUSH_HISTORY, args="async:[ASYNC@4.0.0|SYNC@6.2.0]")
def flushdb(c, argv):
    _check_flush_args(argv)
    db = c.db
    n = len(db.data)
    db.flush()
    c.server.keyspace.dirty += n
    return OK


@command("flushall", -1, "write", acl="@keyspace @write @slow @dangerous",
         tips=_FLUSH_TIPS,
         summary="Remove all keys from all databases", since="1.0.0",
         group="server",
         complexity="O(N) where N is the total number of keys in all databases",
         history=_FLUSH_HISTORY, args="async:[ASYNC@4.0.0|SYNC@6.2.0]")
def flushall(c, argv):
    _check_flush_args(argv)
    ks = c.server.keyspace
    n = 0
    for db in ks.dbs:
        n += len(db.data)
        db.flush()
    ks.dirty += n + 1
    return OK


# --- OBJECT ------------------------------------------------------------------------

container("object", -2, "", acl="@slow",
          summary="A container for object introspection commands",
          since="2.2.3", complexity="Depends on subcommand.", **_G)

_OBJ = dict(keys=(2, 2, 1), acl="@keyspace @read @slow", key_specs="RO",
            tips=("nondeterministic_output",), args="key", **_G)


def _lfu_policy(c) -> bool:
    return "lfu" in getattr(c.server.config, "maxmemory_policy", "noeviction")


def _object_value(c, key):
    """objectCommandLookup: a NOTOUCH read (it counts as a hit or miss)."""
    return c.db.peek_read(key)


def _null(c):
    return NULL3 if c.resp == 3 else NULL2


# The subcommands are declared in the order Redis's subcommand dict yields
# them, which is the order COMMAND INFO and COMMAND DOCS list them in.

@subcommand("object", "freq", 3, "readonly",
            summary="Get the logarithmic access frequency counter of a Redis "
                    "object",
            since="4.0.0", complexity="O(1)", **_OBJ)
def object_freq(c, argv):
    key = argv[2]
    v = _object_value(c, key)
    if v is None:
        return _null(c)
    if not _lfu_policy(c):
        raise CommandError(errors.LFU_NOT_SELECTED)
    return integer(c.db.lfu_counter(key))


@subcommand("object", "refcount", 3, "readonly",
            summary="Get the number of references to the value of the key",
            since="2.2.3", complexity="O(1)", **_OBJ)
def object_refcount(c, argv):
    v = _object_value(c, argv[2])
    if v is None:
        return _null(c)
    return integer(OBJ_SHARED_REFCOUNT if _shared_integer(c, v) else 1)


def _shared_integer(c, v) -> bool:
    """Would Redis hold this value as one of its shared integers 0..9999?
    It does for int-encoded strings in that range unless maxmemory is set
    with an LRU or LFU policy (those need a per-object access time).  One
    case is not told apart: a COPY of such a value is a private object
    (refcount 1) in Redis, but reports as shared here."""
    t = type(v)
    if t is int:
        n = v
    elif t is bytes and len(v) <= 20:
        n = strict_int(v)
        if n is None:
            return False
    else:
        return False
    if not 0 <= n < OBJ_SHARED_INTEGERS:
        return False
    cfg = c.server.config
    if getattr(cfg, "maxmemory", 0):
        policy = getattr(cfg, "maxmemory_policy", "noeviction")
        if "lru" in policy or "lfu" in policy:
            return False
    return True


@subcommand("object", "idletime", 3, "readonly",
            summary="Get the time since a Redis object was last accessed",
            since="2.2.3", complexity="O(1)", **_OBJ)
def object_idletime(c, argv):
    key = argv[2]
    v = _object_value(c, key)
    if v is None:
        return _null(c)
    if _lfu_policy(c):
        raise CommandError(errors.LFU_SELECTED)
    return integer(c.db.idle_seconds(key))


_OBJECT_HELP = (
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
)
_OBJECT_HELP_REPLY = array_header(len(_OBJECT_HELP)) + b"".join(
    b"+" + line.encode() + b"\r\n" for line in _OBJECT_HELP)


@subcommand("object", "help", 2, "loading stale", acl="@keyspace @slow",
            summary="Show helpful text about the different subcommands",
            since="6.2.0", complexity="O(1)", args="", **_G)
def object_help(c, argv):
    return _OBJECT_HELP_REPLY


@subcommand("object", "encoding", 3, "readonly",
            summary="Inspect the internal encoding of a Redis object",
            since="2.2.3", complexity="O(1)", **_OBJ)
def object_encoding(c, argv):
    v = _object_value(c, argv[2])
    if v is None:
        return _null(c)
    if type(v) in STRING_TYPES:
        return bulk(key_string_encoding(c.db, argv[2], v).encode())
    return bulk(v.encoding().encode())


# --- EXPIRE family, TTL family, PERSIST ---------------------------------------------

_EXPIRE_HISTORY = (("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),)
_EXPIRE_DOC = dict(keys=(1, 1, 1), acl="@keyspace @write @fast",
                   key_specs="RW UPDATE", complexity="O(1)",
                   history=_EXPIRE_HISTORY, **_G)
_NX, _XX, _GT, _LT = 1, 2, 4, 8
_EXPIRE_FLAGS = {b"nx": _NX, b"xx": _XX, b"gt": _GT, b"lt": _LT}


def _expire_generic(c, argv, basetime: int, seconds: bool, name: str):
    """expireGenericCommand.  Options are checked first, then the number,
    then overflow, and only then the key."""
    flags = 0
    if len(argv) > 3:
        for j in range(3, len(argv)):
            f = _EXPIRE_FLAGS.get(c_word(argv[j]))
            if f is None:
                raise errors.unsupported_option(argv[j])
            flags |= f
        if flags & _NX and flags & (_XX | _GT | _LT):
            raise CommandError(errors.EXPIRE_NX_COMPAT)
        if flags & _GT and flags & _LT:
            raise CommandError(errors.EXPIRE_GT_LT_COMPAT)
    when = strict_int(argv[2])
    if when is None:
        raise CommandError(errors.NOT_INTEGER)
    if seconds:
        # C's LLONG_MAX/1000 and LLONG_MIN/1000 truncate toward zero
        if when > 9223372036854775 or when < -9223372036854775:
            raise errors.invalid_expire(name)
        when *= 1000
    if when > LLONG_MAX - basetime:
        raise errors.invalid_expire(name)
    when += basetime
    db = c.db
    key = argv[1]
    if db.lookup(key) is None:
        return ZERO
    if flags:
        current = db.get_expire(key)
        if flags & _NX and current is not None:
            return ZERO
        if flags & _XX and current is None:
            return ZERO
        # no TTL counts as infinite: never less than `when`, never greater
        if flags & _GT and (current is None or when <= current):
            return ZERO
        if flags & _LT and current is not None and when >= current:
            return ZERO
    # EXPIRE's own clock read serves checkAlreadyExpired too
    if when <= (basetime or clock.now_ms()):
        db.delete(key)
    else:
        db.set_expire(key, when)
    c.server.keyspace.dirty += 1
    return ONE


@command("expire", -3, "write fast", summary="Set a key's time to live in seconds",
         since="1.0.0", args="key seconds condition:[NX|XX|GT|LT]@7.0.0",
         **_EXPIRE_DOC)
def expire(c, argv):
    return _expire_generic(c, argv, clock.now_ms(), True, "expire")


@command("pexpire", -3, "write fast",
         summary="Set a key's time to live in milliseconds", since="2.6.0",
         args="key milliseconds condition:[NX|XX|GT|LT]@7.0.0", **_EXPIRE_DOC)
def pexpire(c, argv):
    return _expire_generic(c, argv, clock.now_ms(), False, "pexpire")


@command("expireat", -3, "write fast",
         summary="Set the expiration for a key as a UNIX timestamp",
         since="1.2.0",
         args="key unix-time-seconds condition:[NX|XX|GT|LT]@7.0.0",
         **_EXPIRE_DOC)
def expireat(c, argv):
    return _expire_generic(c, argv, 0, True, "expireat")


@command("pexpireat", -3, "write fast",
         summary="Set the expiration for a key as a UNIX timestamp specified "
                 "in milliseconds",
         since="2.6.0",
         args="key unix-time-milliseconds condition:[NX|XX|GT|LT]@7.0.0",
         **_EXPIRE_DOC)
def pexpireat(c, argv):
    return _expire_generic(c, argv, 0, False, "pexpireat")


def _ttl_generic(c, key, ms: bool, absolute: bool) -> bytes:
    """ttlGenericCommand: -2 no key, -1 no TTL, else the (rounded) TTL."""
    db = c.db
    if db.peek_read(key) is None:
        return _MINUS_TWO
    when = db.get_expire(key)
    if when is None:
        return _MINUS_ONE
    t = when if absolute else when - clock.now_ms()
    if t < 0:
        t = 0
    return integer(t if ms else (t + 500) // 1000)


_TTL_DOC = dict(keys=(1, 1, 1), acl="@keyspace @read @fast",
                key_specs="RO ACCESS", complexity="O(1)", args="key", **_G)


@command("ttl", 2, "readonly fast", tips=("nondeterministic_output",),
         summary="Get the time to live for a key in seconds", since="1.0.0",
         history=(("2.8.0", "Added the -2 reply."),), **_TTL_DOC)
def ttl(c, argv):
    return _ttl_generic(c, argv[1], False, False)


@command("pttl", 2, "readonly fast", tips=("nondeterministic_output",),
         summary="Get the time to live for a key in milliseconds",
         since="2.6.0", history=(("2.8.0", "Added the -2 reply."),),
         **_TTL_DOC)
def pttl(c, argv):
    return _ttl_generic(c, argv[1], True, False)


@command("expiretime", 2, "readonly fast",
         summary="Get the expiration Unix timestamp for a key", since="7.0.0",
         **_TTL_DOC)
def expiretime(c, argv):
    return _ttl_generic(c, argv[1], False, True)


@command("pexpiretime", 2, "readonly fast",
         summary="Get the expiration Unix timestamp for a key in milliseconds",
         since="7.0.0", **_TTL_DOC)
def pexpiretime(c, argv):
    return _ttl_generic(c, argv[1], True, True)


@command("persist", 2, "write fast", keys=(1, 1, 1),
         acl="@keyspace @write @fast", key_specs="RW UPDATE",
         summary="Remove the expiration from a key", since="2.2.0",
         complexity="O(1)", args="key", **_G)
def persist(c, argv):
    db = c.db
    key = argv[1]
    if db.lookup(key) is None or not db.persist(key):
        return ZERO
    c.server.keyspace.dirty += 1
    return ONE
