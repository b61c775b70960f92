"""String commands (t_string.c): GET/SET and friends, counters, ranges, LCS.

A string value is one of (see keyspace.py):
- `bytes`: what SET and friends store, untouched, so SET and GET cost a
  dict operation each.  Its encoding follows from its content, as Redis's
  tryObjectEncoding decides it: "int" for a canonical 64-bit integer of at
  most 20 characters, "embstr" up to 44 bytes, "raw" beyond.
- `bytearray`: the result of APPEND to an existing key and of SETRANGE,
  always "raw" as in Redis.  Later APPENDs grow it in place, so building a
  string by repeated APPEND is linear, not quadratic.  Because it is
  mutated in place, nothing may keep a reference to it beyond the current
  command: replies are encoded (copied) immediately, and whatever copies a
  value to another key (COPY) must copy a bytearray.
- `int`: the result of INCR/DECR/INCRBY/DECRBY, encoding "int".

`string_encoding(value)` is what OBJECT ENCODING reports for these, except
for an INCRBYFLOAT result that reads as an integer ("11"): Redis keeps that
object an embstr, so the key is listed in `Db.floatstr` and
`key_string_encoding` says so.

Writes go through Db.set/replace/delete/set_expire/persist so WATCH sees
them, and every write first expires a stale key through a lookup, as
lookupKeyWrite does, so INFO's expired_keys counts what Redis counts.
"""

from kvserver.commands.args import c_word_upper as _opt
from kvserver import clock, errors, keyspace, longdouble
from kvserver.commands.table import (command, identical_run, key_run, run_handler,
                                     same_command_run)
from kvserver.errors import CommandError
from kvserver.keyspace import STRING_TYPES
from kvserver.net.resp import (EMPTY_BULK, NULL2, NULL3, OK, ONE, ZERO,
                               array_header, bulk, integer, integer_run,
                               map_header, strict_int)

LLONG_MAX = 2**63 - 1
LLONG_MIN = -2**63
EMBSTR_SIZE_LIMIT = 44      # OBJ_ENCODING_EMBSTR_SIZE_LIMIT

_WRONGTYPE = errors.WRONGTYPE
_BULK_HDR = [b"$%d\r\n" % i for i in range(1024)]
_NOT_INTEGER = errors.NOT_INTEGER


def string_encoding(value) -> str:
    """OBJECT ENCODING of a string value (tryObjectEncoding's verdict)."""
    t = type(value)
    if t is int:
        return "int"
    if t is bytearray:
        return "raw"
    n = len(value)
    if n <= 20 and strict_int(value) is not None:
        return "int"
    return "embstr" if n <= EMBSTR_SIZE_LIMIT else "raw"


def key_string_encoding(db, key, value) -> str:
    """OBJECT ENCODING of the string value stored at `key`."""
    if type(value) is bytes and key in db.floatstr:
        return "embstr" if len(value) <= EMBSTR_SIZE_LIMIT else "raw"
    return string_encoding(value)


def _as_bytes(v) -> bytes:
    """The string form of a string value; WRONGTYPE for anything else."""
    t = type(v)
    if t is bytes or t is bytearray:
        return v
    if t is int:
        return b"%d" % v
    raise CommandError(_WRONGTYPE)


def _get_reply(c, key) -> bytes:
    """getGenericCommand: the GET reply for `key`, counting hits/misses."""
    v = c.db.lookup_read(key)
    if v is None:
        return NULL3 if c.resp == 3 else NULL2
    return bulk(_as_bytes(v))


def _check_length(c, size: int, append: int):
    """checkStringLength: a string may not grow past proto-max-bulk-len."""
    if size + append > c.server.config.proto_max_bulk_len:
        raise CommandError(errors.STRING_TOO_LONG)


# ---------------------------------------------------------------------------
# SET / GETEX option parsing (parseExtendedStringArgumentsOrReply)
# ---------------------------------------------------------------------------

_NX = 1
_XX = 2
_EX = 4
_PX = 8
_KEEPTTL = 16
_GET = 32
_EXAT = 64
_PXAT = 128
_PERSIST = 256
_SECONDS = _EX | _EXAT          # the expire argument is in seconds
_RELATIVE = _EX | _PX           # the expire argument is relative to now


def _parse_options(argv, start: int, is_set: bool):
    """(flags, expire argument or None); conflicting options are a syntax error.

    Each option excludes the ones it conflicts with that came before it,
    exactly as Redis checks them, so e.g. "EX 1 EX 2" is accepted (the last
    wins) while "EX 1 PX 2" and "KEEPTTL EX 1" are not."""
    flags = 0
    expire = None
    j = start
    last = len(argv) - 1
    while j <= last:
        opt = _opt(argv[j])
        has_next = j < last
        if opt == b"NX" and is_set and not flags & _XX:
            flags |= _NX
        elif opt == b"XX" and is_set and not flags & _NX:
            flags |= _XX
        elif opt == b"GET" and is_set:
            flags |= _GET
        elif (opt == b"KEEPTTL" and is_set
              and not flags & (_PERSIST | _EX | _EXAT | _PX | _PXAT)):
            flags |= _KEEPTTL
        elif (opt == b"PERSIST" and not is_set
              and not flags & (_EX | _EXAT | _PX | _PXAT | _KEEPTTL)):
            flags |= _PERSIST
        elif (opt == b"EX" and has_next
              and not flags & (_KEEPTTL | _PERSIST | _EXAT | _PX | _PXAT)):
            flags |= _EX
            j += 1
            expire = argv[j]
        elif (opt == b"PX" and has_next
              and not flags & (_KEEPTTL | _PERSIST | _EX | _EXAT | _PXAT)):
            flags |= _PX
            j += 1
            expire = argv[j]
        elif (opt == b"EXAT" and has_next
              and not flags & (_KEEPTTL | _PERSIST | _EX | _PX | _PXAT)):
            flags |= _EXAT
            j += 1
            expire = argv[j]
        elif (opt == b"PXAT" and has_next
              and not flags & (_KEEPTTL | _PERSIST | _EX | _EXAT | _PX)):
            flags |= _PXAT
            j += 1
            expire = argv[j]
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    return flags, expire


def _expire_ms(arg: bytes, flags: int, cmdname: str) -> int:
    """getExpireMillisecondsOrReply: the absolute unix time in ms."""
    ms = strict_int(arg)
    if ms is None:
        raise CommandError(_NOT_INTEGER)
    seconds = flags & _SECONDS
    if ms <= 0 or (seconds and ms > LLONG_MAX // 1000):
        raise errors.invalid_expire(cmdname)
    if seconds:
        ms *= 1000
    if flags & _RELATIVE:
        ms += clock.now_ms()
        # in C the sum wraps negative; Redis reports that as invalid too
        if ms > LLONG_MAX:
            raise errors.invalid_expire(cmdname)
    return ms


# ---------------------------------------------------------------------------
# GET, SET and their variants
# ---------------------------------------------------------------------------

@command("get", 2, "readonly fast", keys=(1, 1, 1), acl="@read @string @fast",
         key_specs=[{"flags": ["RO", "ACCESS"], "begin_search": {"index": {"pos": 1}},
                     "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}],
         summary="Get the value of a key", since="1.0.0", group="string",
         complexity="O(1)", args="key")
def get(c, argv):
    v = c.db.lookup_read(argv[1])
    t = type(v)
    if t is bytes:              # the common case first, with bulk() inlined
        n = len(v)
        if n < 1024:
            return _BULK_HDR[n] + v + b"\r\n"
        return bulk(v)
    if v is None:
        return NULL3 if c.resp == 3 else NULL2
    if t is bytearray:
        return bulk(v)
    if t is int:
        return bulk(b"%d" % v)
    raise CommandError(_WRONGTYPE)


@command("set", -3, "write denyoom", keys=(1, 1, 1), acl="@write @string @slow",
         key_specs=[{"notes": "RW and ACCESS due to the optional `GET` argument",
                     "flags": ["RW", "ACCESS", "UPDATE", "VARIABLE_FLAGS"],
                     "begin_search": {"index": {"pos": 1}},
                     "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}],
         summary="Set the string value of a key", since="1.0.0", group="string",
         complexity="O(1)",
         history=(("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
                  ("6.0.0", "Added the `KEEPTTL` option."),
                  ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
                  ("7.0.0", "Allowed the `NX` and `GET` options to be used together.")),
         args="key value condition:[NX|XX]@2.6.12 [GET]@6.2.0 "
              "expiration:[EX seconds@2.6.12|PX milliseconds@2.6.12|"
              "EXAT unix-time-seconds@6.2.0|PXAT unix-time-milliseconds@6.2.0|"
              "KEEPTTL@6.0.0]")
def set_(c, argv):
    if len(argv) == 3:
        c.db.set(argv[1], argv[2])     # a stale key expires first, in Db.set
        return OK
    flags, expire = _parse_options(argv, 3, True)
    return _set_generic(c, flags, argv[1], argv[2], expire, "set", OK, None)


@run_handler("get", same_key=False)
def get_run(c, pending, i, append):
    """Consecutive GETs: the lookups without a handler call each; stops
    before a key holding another type (its GET replies the error).  The
    same key read again and again is looked up once."""
    end = identical_run(pending, i)
    m = end - i
    if m >= 2:
        db = c.db
        v = db.lookup_for_run(pending[i][1])
        if type(v) is bytes:
            db.hits += m
            append(bulk(v) * m)
            return m
    end = same_command_run(pending, i, 2)
    if end - i < 2:
        return 0
    lookup = c.db.lookup_read
    hdr = _BULK_HDR
    null = NULL3 if c.resp == 3 else NULL2
    for j in range(i, end):
        v = lookup(pending[j][1])
        t = type(v)
        if t is bytes and len(v) < 1024:
            append(hdr[len(v)] + v + b"\r\n")
        elif v is None:
            append(null)
        elif t is bytes or t is bytearray:
            append(bulk(v))
        elif t is int:
            append(bulk(b"%d" % v))
        else:
            return j - i
    return end - i


@run_handler("set", same_key=False)
def set_run(c, pending, i, append):
    """Consecutive plain SETs (key value, no options) are an MSET."""
    if len(pending[i]) != 3:
        return 0
    end = same_command_run(pending, i, 3)
    m = end - i
    if m < 2:
        return 0
    run = pending[i:end]
    c.db.set_pairs([a[1] for a in run], [a[2] for a in run])
    append(OK * m)
    return m


def _set_generic(c, flags, key, value, expire, cmdname, ok_reply, abort_reply):
    """setGenericCommand: SET with options, SETNX, SETEX, PSETEX."""
    when = _expire_ms(expire, flags, cmdname) if expire is not None else None
    reply = _get_reply(c, key) if flags & _GET else None
    db = c.db
    found = db.lookup(key) is not None
    if (flags & _NX and found) or (flags & _XX and not found):
        if reply is not None:
            return reply
        return abort_reply or (NULL3 if c.resp == 3 else NULL2)
    db.set(key, value, keepttl=bool(flags & _KEEPTTL))
    if when is not None:
        # A time already past is kept as is: the key expires on its next
        # access, as in Redis 7.0 (DBSIZE still counts it until then).
        db.set_expire(key, when)
    return reply if reply is not None else ok_reply


_KEY1 = [{"flags": ["OW", "UPDATE"], "begin_search": {"index": {"pos": 1}},
          "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}]


@command("setnx", 3, "write denyoom fast", keys=(1, 1, 1), acl="@write @string @fast",
         key_specs=[{"flags": ["OW", "INSERT"], "begin_search": {"index": {"pos": 1}},
                     "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}],
         summary="Set the value of a key, only if the key does not exist",
         since="1.0.0", group="string", complexity="O(1)", args="key value")
def setnx(c, argv):
    return _set_generic(c, _NX, argv[1], argv[2], None, "setnx", ONE, ZERO)


@command("setex", 4, "write denyoom", keys=(1, 1, 1), acl="@write @string @slow",
         key_specs=_KEY1,
         summary="Set the value and expiration of a key", since="2.0.0",
         group="string", complexity="O(1)", args="key seconds value")
def setex(c, argv):
    return _set_generic(c, _EX, argv[1], argv[3], argv[2], "setex", OK, None)


@command("psetex", 4, "write denyoom", keys=(1, 1, 1), acl="@write @string @slow",
         key_specs=_KEY1,
         summary="Set the value and expiration in milliseconds of a key",
         since="2.6.0", group="string", complexity="O(1)",
         args="key milliseconds value")
def psetex(c, argv):
    return _set_generic(c, _PX, argv[1], argv[3], argv[2], "psetex", OK, None)


_RW_ACCESS_UPDATE = [{"flags": ["RW", "ACCESS", "UPDATE"],
                      "begin_search": {"index": {"pos": 1}},
                      "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}]


@command("getset", 3, "write denyoom fast", keys=(1, 1, 1), acl="@write @string @fast",
         key_specs=_RW_ACCESS_UPDATE,
         summary="Set the string value of a key and return its old value",
         since="1.0.0", group="string", complexity="O(1)", doc_flags="deprecated",
         deprecated_since="6.2.0", replaced_by="`SET` with the `!GET` argument",
         args="key value")
def getset(c, argv):
    reply = _get_reply(c, argv[1])
    c.db.set(argv[1], argv[2])
    return reply


@command("getdel", 2, "write fast", keys=(1, 1, 1), acl="@write @string @fast",
         key_specs=[{"flags": ["RW", "ACCESS", "DELETE"], "begin_search": {"index": {"pos": 1}},
                     "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}],
         summary="Get the value of a key and delete the key", since="6.2.0",
         group="string", complexity="O(1)", args="key")
def getdel(c, argv):
    reply = _get_reply(c, argv[1])
    c.db.delete(argv[1])
    return reply


@command("getex", -2, "write fast", keys=(1, 1, 1), acl="@write @string @fast",
         key_specs=[{"notes": "RW and UPDATE because it changes the TTL",
                     "flags": ["RW", "ACCESS", "UPDATE"], "begin_search": {"index": {"pos": 1}},
                     "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}],
         summary="Get the value of a key and optionally set its expiration",
         since="6.2.0", group="string", complexity="O(1)",
         args="key expiration:[EX seconds|PX milliseconds|EXAT unix-time-seconds|"
              "PXAT unix-time-milliseconds|PERSIST]")
def getex(c, argv):
    flags, expire = _parse_options(argv, 2, False)
    db = c.db
    key = argv[1]
    v = db.lookup_read(key)
    if v is None:
        return NULL3 if c.resp == 3 else NULL2
    reply = bulk(_as_bytes(v))
    # the expire argument is only validated once the key is known to exist
    if expire is not None:
        when = _expire_ms(expire, flags, "getex")
        if flags & (_EXAT | _PXAT) and when <= clock.now_ms():
            db.delete(key)      # an absolute time already past deletes now
        else:
            db.set_expire(key, when)
    elif flags & _PERSIST:
        db.persist(key)
    return reply


@command("mget", -2, "readonly fast", keys=(1, -1, 1), acl="@read @string @fast",
         tips=("request_policy:multi_shard",),
         key_specs=[{"flags": ["RO", "ACCESS"], "begin_search": {"index": {"pos": 1}},
                     "find_keys": {"range": {"lastkey": -1, "step": 1, "limit": 0}}}],
         summary="Get the values of all the given keys", since="1.0.0",
         group="string", complexity="O(N) where N is the number of keys to retrieve.",
         args="key [key ...]")
def mget(c, argv):
    hdr = _BULK_HDR
    null = NULL3 if c.resp == 3 else NULL2
    out = [array_header(len(argv) - 1)]
    append = out.append
    for v in c.db.lookup_read_many(argv[1:]):
        t = type(v)
        if t is bytes and len(v) < 1024:
            append(hdr[len(v)] + v + b"\r\n")
        elif t is bytes or t is bytearray:
            append(bulk(v))
        elif t is int:
            append(bulk(b"%d" % v))
        else:
            append(null)        # missing, or not a string
    return b"".join(out)


def _mset_generic(c, argv, nx: bool):
    argc = len(argv)
    if argc % 2 == 0:
        raise errors.wrong_arity("msetnx" if nx else "mset")
    db = c.db
    if nx:
        lookup = db.lookup
        for i in range(1, argc, 2):
            if lookup(argv[i]) is not None:
                return ZERO
    db.set_pairs(argv[1::2], argv[2::2])
    return ONE if nx else OK


@command("mset", -3, "write denyoom", keys=(1, -1, 2), acl="@write @string @slow",
         tips=("request_policy:multi_shard", "response_policy:all_succeeded"),
         key_specs=[{"flags": ["OW", "UPDATE"], "begin_search": {"index": {"pos": 1}},
                     "find_keys": {"range": {"lastkey": -1, "step": 2, "limit": 0}}}],
         summary="Set multiple keys to multiple values", since="1.0.1",
         group="string", complexity="O(N) where N is the number of keys to set.",
         args="key value [key value ...]")
def mset(c, argv):
    return _mset_generic(c, argv, False)


@command("msetnx", -3, "write denyoom", keys=(1, -1, 2), acl="@write @string @slow",
         tips=("request_policy:multi_shard", "response_policy:agg_min"),
         key_specs=[{"flags": ["OW", "INSERT"], "begin_search": {"index": {"pos": 1}},
                     "find_keys": {"range": {"lastkey": -1, "step": 2, "limit": 0}}}],
         summary="Set multiple keys to multiple values, only if none of the keys exist",
         since="1.0.1", group="string",
         complexity="O(N) where N is the number of keys to set.",
         args="key value [key value ...]")
def msetnx(c, argv):
    return _mset_generic(c, argv, True)


# ---------------------------------------------------------------------------
# APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE
# ---------------------------------------------------------------------------

@command("append", 3, "write denyoom fast", keys=(1, 1, 1), acl="@write @string @fast",
         key_specs=[{"flags": ["RW", "INSERT"], "begin_search": {"index": {"pos": 1}},
                     "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}],
         summary="Append a value to a key", since="2.0.0", group="string",
         complexity="O(1). The amortized time complexity is O(1) assuming the "
                    "appended value is small and the already present value is of any "
                    "size, since the dynamic string library used by Redis will double "
                    "the free space available on every reallocation.",
         args="key value")
def append(c, argv):
    db = c.db
    key = argv[1]
    tail = argv[2]
    v = db.lookup(key)
    if v is None:
        db.set(key, tail)       # a new key is stored like SET would store it
        return integer(len(tail))
    t = type(v)
    if t is bytearray:
        _check_length(c, len(v), len(tail))
        v += tail
        db.replace(key, v)
        return integer(len(v))
    if t is int:
        v = b"%d" % v
    elif t is not bytes:
        raise CommandError(_WRONGTYPE)
    _check_length(c, len(v), len(tail))
    # from now on the value is raw and grows in place
    new = bytearray(v)
    new += tail
    db.replace(key, new)
    return integer(len(new))


@command("strlen", 2, "readonly fast", keys=(1, 1, 1), acl="@read @string @fast",
         key_specs=[{"flags": ["RO"], "begin_search": {"index": {"pos": 1}},
                     "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}],
         summary="Get the length of the value stored in a key", since="2.2.0",
         group="string", complexity="O(1)", args="key")
def strlen(c, argv):
    v = c.db.lookup_read(argv[1])
    if v is None:
        return ZERO
    return integer(len(_as_bytes(v)))


_GETRANGE_DOC = dict(
    summary="Get a substring of the string stored at a key", group="string",
    complexity="O(N) where N is the length of the returned string. The complexity "
               "is ultimately determined by the returned length, but because creating "
               "a substring from an existing string is very cheap, it can be "
               "considered O(1) for small strings.",
    args="key start end")
_RO_ACCESS = [{"flags": ["RO", "ACCESS"], "begin_search": {"index": {"pos": 1}},
               "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}]


@command("getrange", 4, "readonly", keys=(1, 1, 1), acl="@read @string @slow",
         key_specs=_RO_ACCESS, since="2.4.0", **_GETRANGE_DOC)
def getrange(c, argv):
    start = strict_int(argv[2])
    end = strict_int(argv[3])
    if start is None or end is None:
        raise CommandError(_NOT_INTEGER)
    v = c.db.lookup_read(argv[1])
    if v is None:
        return EMPTY_BULK
    s = _as_bytes(v)
    n = len(s)
    if start < 0 and end < 0 and start > end:
        return EMPTY_BULK
    if start < 0:
        start = max(n + start, 0)
    if end < 0:
        end = max(n + end, 0)
    if end >= n:
        end = n - 1
    if start > end or n == 0:
        return EMPTY_BULK
    return bulk(s[start:end + 1])


@command("substr", 4, "readonly", keys=(1, 1, 1), acl="@read @string @slow",
         key_specs=_RO_ACCESS, since="1.0.0", doc_flags="deprecated",
         deprecated_since="2.0.0", replaced_by="`GETRANGE`", **_GETRANGE_DOC)
def substr(c, argv):
    return getrange(c, argv)


@command("setrange", 4, "write denyoom", keys=(1, 1, 1), acl="@write @string @slow",
         key_specs=[{"flags": ["RW", "UPDATE"], "begin_search": {"index": {"pos": 1}},
                     "find_keys": {"range": {"lastkey": 0, "step": 1, "limit": 0}}}],
         summary="Overwrite part of a string at key starting at the specified offset",
         since="2.2.0", group="string",
         complexity="O(1), not counting the time taken to copy the new string in "
                    "place. Usually, this string is very small so the amortized "
                    "complexity is O(1). Otherwise, complexity is O(M) with M being the "
                    "length of the value argument.",
         args="key offset value")
def setrange(c, argv):
    offset = strict_int(argv[2])
    if offset is None:
        raise CommandError(_NOT_INTEGER)
    if offset < 0:
        raise CommandError(errors.OFFSET_OUT_OF_RANGE)
    db = c.db
    key = argv[1]
    value = argv[3]
    v = db.lookup(key)
    if v is None:
        if not value:
            return ZERO
        _check_length(c, offset, len(value))
        new = bytearray(offset)
        new += value
        db.set(key, new)
        return integer(len(new))
    t = type(v)
    if t is int:
        v = b"%d" % v
    elif t is not bytes and t is not bytearray:
        raise CommandError(_WRONGTYPE)
    if not value:
        return integer(len(v))
    _check_length(c, offset, len(value))
    if t is not bytearray:
        v = bytearray(v)
    if offset > len(v):
        v += bytes(offset - len(v))
    v[offset:offset + len(value)] = value
    db.replace(key, v)
    return integer(len(v))


# ---------------------------------------------------------------------------
# Counters
# ---------------------------------------------------------------------------

def _incr(c, key, delta: int) -> bytes:
    """incrDecrCommand: the value as an int64, plus delta, stored as an int."""
    db = c.db
    v = db.lookup(key)
    t = type(v)
    if t is int:
        new = v + delta
    elif v is None:
        db.set(key, delta)
        return integer(delta)
    elif t is bytes or t is bytearray:
        cur = strict_int(v)
        if cur is None:
            raise CommandError(_NOT_INTEGER)
        new = cur + delta
    else:
        raise CommandError(_WRONGTYPE)
    if new > LLONG_MAX or new < LLONG_MIN:
        raise CommandError(errors.OVERFLOW)
    # Db.replace inlined: INCR is one of the hottest commands
    db.data[key] = (new, keyspace.LRU_CLOCK)
    if db.floatstr:
        db.floatstr.discard(key)
    if db.watched:
        db.touch(key)
    return integer(new)


_COUNTER = dict(keys=(1, 1, 1), acl="@write @string @fast", key_specs=_RW_ACCESS_UPDATE,
                since="1.0.0", group="string", complexity="O(1)")


@command("incr", 2, "write denyoom fast", summary="Increment the integer value of a key by one",
         args="key", **_COUNTER)
def incr(c, argv):
    return _incr(c, argv[1], 1)


@command("decr", 2, "write denyoom fast", summary="Decrement the integer value of a key by one",
         args="key", **_COUNTER)
def decr(c, argv):
    return _incr(c, argv[1], -1)


@run_handler("incr")
def incr_run(c, pending, i, append):
    """Consecutive INCRs of one integer key: one addition, each command's
    own value as its reply."""
    found = key_run(c, pending, i, 2, int)
    if found is None:
        return 0
    v, end = found
    m = end - i
    if v + m > LLONG_MAX:
        return 0
    db = c.db
    key = pending[i][1]
    db.data[key] = (v + m, keyspace.LRU_CLOCK)
    if db.floatstr:
        db.floatstr.discard(key)
    if db.watched:
        db.touch(key)
    append(integer_run(v + 1, m))
    return m


@command("incrby", 3, "write denyoom fast",
         summary="Increment the integer value of a key by the given amount",
         args="key increment", **_COUNTER)
def incrby(c, argv):
    delta = strict_int(argv[2])
    if delta is None:
        raise CommandError(_NOT_INTEGER)
    return _incr(c, argv[1], delta)


@command("decrby", 3, "write denyoom fast",
         summary="Decrement the integer value of a key by the given number",
         args="key decrement", **_COUNTER)
def decrby(c, argv):
    delta = strict_int(argv[2])
    if delta is None:
        raise CommandError(_NOT_INTEGER)
    if delta == LLONG_MIN:      # its negation does not fit in an int64
        raise CommandError(errors.DECR_OVERFLOW)
    return _incr(c, argv[1], -delta)


@command("incrbyfloat", 3, "write denyoom fast", keys=(1, 1, 1),
         acl="@write @string @fast", key_specs=_RW_ACCESS_UPDATE,
         summary="Increment the float value of a key by the given amount",
         since="2.6.0", group="string", complexity="O(1)", args="key increment:double")
def incrbyfloat(c, argv):
    db = c.db
    key = argv[1]
    v = db.lookup(key)
    if v is None:
        cur = (0, 0)
    else:
        t = type(v)
        if t is int:
            cur = longdouble.from_int(v)
        elif t is bytes or t is bytearray:
            cur = longdouble.parse(v)
            if cur is None:
                raise CommandError(errors.NOT_FLOAT)
        else:
            raise CommandError(_WRONGTYPE)
    inc = longdouble.parse(argv[2])
    if inc is None:
        raise CommandError(errors.NOT_FLOAT)
    total = longdouble.add(cur, inc)
    if total is None:
        raise CommandError(errors.INCR_NAN)
    text = longdouble.format_human(total)
    if v is None:
        db.set(key, text)
    else:
        db.replace(key, text)
    if len(text) <= 20 and strict_int(text) is not None:
        db.floatstr.add(key)
    return bulk(text)


# ---------------------------------------------------------------------------
# LCS
# ---------------------------------------------------------------------------

def _lcs_rows(a: bytes, b: bytes, keep: bool):
    """The bit-parallel LCS table (Allison-Dix / Hyyro) of a against b.

    After i bytes of `a`, bit j of row i is 0 exactly when
    LCS(a[:i], b[:j+1]) = LCS(a[:i], b[:j]) + 1, so a row is one big int
    and the whole table costs len(a) big-int operations instead of
    len(a) * len(b) Python steps.  Returns all rows (keep) or the last."""
    full = (1 << len(b)) - 1
    where = {}
    for j, ch in enumerate(b):
        where[ch] = where.get(ch, 0) | (1 << j)
    row = full
    rows = [row] if keep else None
    get = where.get
    for ch in a:
        u = row & get(ch, 0)
        row = ((row + u) | (row - u)) & full
        if keep:
            rows.append(row)
    return rows if keep else row


@command("lcs", -3, "readonly", keys=(1, 2, 1), acl="@read @string @slow",
         key_specs=[{"flags": ["RO", "ACCESS"], "begin_search": {"index": {"pos": 1}},
                     "find_keys": {"range": {"lastkey": 1, "step": 1, "limit": 0}}}],
         summary="Find longest common substring", since="7.0.0", group="string",
         complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively",
         args="key1 key2{key_spec_index=0} [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]")
def lcs(c, argv):
    db = c.db
    va = db.lookup_read(argv[1])
    vb = db.lookup_read(argv[2])
    if ((va is not None and type(va) not in STRING_TYPES)
            or (vb is not None and type(vb) not in STRING_TYPES)):
        raise CommandError(errors.LCS_NOT_STRINGS)
    a = b"" if va is None else bytes(_as_bytes(va))
    b = b"" if vb is None else bytes(_as_bytes(vb))
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    j = 3
    argc = len(argv)
    while j < argc:
        opt = _opt(argv[j])
        if opt == b"IDX":
            getidx = True
        elif opt == b"LEN":
            getlen = True
        elif opt == b"WITHMATCHLEN":
            withmatchlen = True
        elif opt == b"MINMATCHLEN" and j < argc - 1:
            minmatchlen = strict_int(argv[j + 1])
            if minmatchlen is None:
                raise CommandError(_NOT_INTEGER)
            if minmatchlen < 0:
                minmatchlen = 0
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    if getidx and getlen:
        raise CommandError(errors.LCS_LEN_AND_IDX)
    alen, blen = len(a), len(b)
    if alen >= 2**32 - 2 or blen >= 2**32 - 2:
        raise CommandError(errors.LCS_TOO_LONG)
    # Redis refuses when its (alen+1)*(blen+1) uint32 table would be too big
    if (alen + 1) * (blen + 1) * 4 > c.server.config.proto_max_bulk_len:
        raise CommandError(errors.LCS_TABLE_TOO_BIG)

    if getlen:
        return integer(blen - _lcs_rows(a, b, False).bit_count())

    rows = _lcs_rows(a, b, True)
    total = blen - rows[alen].bit_count()
    # Walk back from (alen, blen) as Redis does, collecting the LCS and,
    # for IDX, the matching ranges from the end of the strings backwards.
    # At a mismatch LCS(i, j) = max(LCS(i-1, j), LCS(i, j-1)) and Redis
    # steps i only when LCS(i-1, j) is the larger; LCS(i, j-1) is either
    # LCS(i, j) (bit j-1 of row i set: step j) or one less (step i).
    result = bytearray(total)
    idx = total
    ranges = []
    a_start = alen      # alen: no range open
    a_end = b_start = b_end = 0
    i, j = alen, blen
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result[idx - 1] = a[i - 1]
            if a_start == alen:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            elif a_start == i and b_start == j:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            idx -= 1
            i -= 1
            j -= 1
        else:
            if (rows[i] >> (j - 1)) & 1:
                j -= 1
            else:
                i -= 1
            if a_start != alen:
                emit = True
        if emit:
            match_len = a_end - a_start + 1
            if getidx and (minmatchlen == 0 or match_len >= minmatchlen):
                ranges.append((a_start, a_end, b_start, b_end, match_len))
            a_start = alen
    if not getidx:
        return bulk(bytes(result))
    resp = c.resp
    parts = [map_header(2, resp), b"$7\r\nmatches\r\n", array_header(len(ranges))]
    item = array_header(3 if withmatchlen else 2)
    pair = array_header(2)
    for a0, a1, b0, b1, mlen in ranges:
        parts += (item, pair, integer(a0), integer(a1), pair, integer(b0), integer(b1))
        if withmatchlen:
            parts.append(integer(mlen))
    parts += (b"$3\r\nlen\r\n", integer(total))
    return b"".join(parts)
