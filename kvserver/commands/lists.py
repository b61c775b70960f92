"""List commands (t_list.c), blocking ones included.

A list value is a `Quicklist` (datastructs/quicklist.py) whose entries are
stored RESP-encoded, so replies are built from stored bytes: LRANGE is one
join, LPOP/LINDEX return the entry itself.  OBJECT ENCODING is always
"quicklist", as in Redis 7.0.

Order of checks follows Redis: each command parses its arguments and looks
its key up in the same order t_list.c does, because the order decides
which error a bad call gets.  Writes look keys up without counting
hits/misses (lookupKeyWrite); reads count them.  Every change touches the
key for WATCH; emptied lists are deleted; a list is created with Db.set,
which also wakes clients blocked on the key (see kvserver/blocking.py).

Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) serve at once
when a key has data, answer as a timeout inside MULTI, and otherwise block
through kvserver.blocking with a serve callback that does the same pop.
Keyspace notifications are not emitted (the server has no notification
machinery yet).
"""

from kvserver.commands.args import c_word_upper as _opt
from kvserver import blocking, errors
from kvserver.commands.table import KeySpec, command, key_run, missing_key_run, run_handler
from kvserver.datastructs.quicklist import Quicklist, encode
from kvserver.errors import CommandError
from kvserver.net.resp import (EMPTY_ARRAY, NULL2, NULL3, NULL_ARRAY2, OK, ZERO,
                               array_header, bulk, integer, integer_run, strict_int)

LLONG_MIN = -2**63
LLONG_MAX = 2**63 - 1
_WRONGTYPE = errors.WRONGTYPE
_QL = (Quicklist,)
_NEG_ONE = b":-1\r\n"
_INTS = [integer(i) for i in range(10000)]


def _get_long(arg: bytes) -> int:
    v = strict_int(arg)
    if v is None:
        raise CommandError(errors.NOT_INTEGER)
    return v


def _range_long(arg: bytes, lo: int, hi: int, msg: bytes) -> int:
    """getRangeLongFromObjectOrReply with a message for both failures."""
    v = strict_int(arg)
    if v is None or v < lo or v > hi:
        raise CommandError(msg)
    return v


def _where(arg: bytes) -> bool:
    """getListPositionFromObjectOrReply: True for LEFT (head)."""
    w = _opt(arg)
    if w == b"LEFT":
        return True
    if w == b"RIGHT":
        return False
    raise CommandError(errors.SYNTAX)


def _new_list(c) -> Quicklist:
    cfg = c.server.config
    return Quicklist(cfg.list_max_listpack_size, cfg.list_compress_depth)


def _write_list(db, key):
    """lookupKeyWrite + checkType(OBJ_LIST): the list, or None if absent."""
    v = db.lookup(key)
    if v is not None and type(v) is not Quicklist:
        raise CommandError(_WRONGTYPE)
    return v


def _after_pop(db, key, ql):
    """Delete the emptied list, or touch it for WATCH."""
    if not ql.count:
        db.delete(key)
    elif db.watched:
        db.touch(key)


# ---------------------------------------------------------------------------
# Pushes
# ---------------------------------------------------------------------------

_PUSH_DOC = dict(group="list", since="1.0.0",
                 complexity="O(1) for each element added, so O(N) to add N elements "
                            "when the command is called with multiple arguments.",
                 history=(("2.4.0", "Accepts multiple `element` arguments."),),
                 args="key element [element ...]")
_PUSHX_DOC = dict(_PUSH_DOC, since="2.2.0",
                  history=(("4.0.0", "Accepts multiple `element` arguments."),))
_KS_INSERT = [KeySpec("RW INSERT", index=1)]


def _push(c, argv, head: bool, xx: bool) -> bytes:
    db = c.db
    key = argv[1]
    ql = db.lookup(key)
    if ql is None:
        if xx:
            return ZERO
        ql = _new_list(c)
        db.set(key, ql)
    elif type(ql) is not Quicklist:
        raise CommandError(_WRONGTYPE)
    elif db.watched:
        db.touch(key)
    n = len(argv) - 2
    if head:
        ql.push_head(argv[2:])
    else:
        ql.push_tail(argv[2:])
    db.keyspace.dirty += n
    n = ql.count
    return _INTS[n] if n < 10000 else b":%d\r\n" % n


def _push1_target(c, db, key):
    """The list a single-element LPUSH/RPUSH goes to, created if absent."""
    ql = db.lookup(key)
    if type(ql) is Quicklist:
        if db.watched:
            db.touch(key)
        return ql
    if ql is not None:
        raise CommandError(_WRONGTYPE)
    ql = _new_list(c)
    db.set(key, ql)
    return ql


@command("lpush", -3, "write denyoom fast", keys=(1, 1, 1), acl="@write @list @fast",
         key_specs=_KS_INSERT, summary="Prepend one or multiple elements to a list",
         **_PUSH_DOC)
def lpush(c, argv):
    if len(argv) != 3:
        return _push(c, argv, True, False)
    db = c.db
    ql = _push1_target(c, db, argv[1])
    ql.push1_head(argv[2])
    db.keyspace.dirty += 1
    n = ql.count
    return _INTS[n] if n < 10000 else b":%d\r\n" % n


@command("rpush", -3, "write denyoom fast", keys=(1, 1, 1), acl="@write @list @fast",
         key_specs=_KS_INSERT, summary="Append one or multiple elements to a list",
         **_PUSH_DOC)
def rpush(c, argv):
    if len(argv) != 3:
        return _push(c, argv, False, False)
    db = c.db
    ql = _push1_target(c, db, argv[1])
    ql.push1_tail(argv[2])
    db.keyspace.dirty += 1
    n = ql.count
    return _INTS[n] if n < 10000 else b":%d\r\n" % n


def _push_run(c, pending, i, append, head: bool) -> int:
    """Consecutive single-element pushes to one existing list: one
    multi-element push, with each command's own length reply."""
    found = key_run(c, pending, i, 3, Quicklist)
    if found is None:
        return 0
    ql, end = found
    db = c.db
    key = pending[i][1]
    if db.watched:
        db.touch(key)
    values = [a[2] for a in pending[i:end]]
    n0 = ql.count
    m = end - i
    if values.count(values[0]) == m:
        ql.push_repeated(values[0], m, head)
    elif head:
        ql.push_head(values)
    else:
        ql.push_tail(values)
    db.keyspace.dirty += m
    append(integer_run(n0 + 1, m))
    return m


@run_handler("lpush")
def lpush_run(c, pending, i, append):
    return _push_run(c, pending, i, append, True)


@run_handler("rpush")
def rpush_run(c, pending, i, append):
    return _push_run(c, pending, i, append, False)


@command("lpushx", -3, "write denyoom fast", keys=(1, 1, 1), acl="@write @list @fast",
         key_specs=_KS_INSERT,
         summary="Prepend an element to a list, only if the list exists", **_PUSHX_DOC)
def lpushx(c, argv):
    return _push(c, argv, True, True)


@command("rpushx", -3, "write denyoom fast", keys=(1, 1, 1), acl="@write @list @fast",
         key_specs=_KS_INSERT,
         summary="Append an element to a list, only if the list exists", **_PUSHX_DOC)
def rpushx(c, argv):
    return _push(c, argv, False, True)


# ---------------------------------------------------------------------------
# Pops
# ---------------------------------------------------------------------------

_KS_POP = [KeySpec("RW ACCESS DELETE", index=1)]
_POP_DOC = dict(group="list", since="1.0.0",
                complexity="O(N) where N is the number of elements returned",
                history=(("6.2.0", "Added the `count` argument."),),
                args="key [count]@6.2.0")


def _pop(c, argv, head: bool, name: str) -> bytes:
    argc = len(argv)
    if argc > 3:
        raise errors.wrong_arity(name)
    count = None
    if argc == 3:
        count = _range_long(argv[2], 0, LLONG_MAX, errors.NOT_POSITIVE)
    db = c.db
    key = argv[1]
    ql = db.lookup(key)
    if ql is None:
        if count is None:
            return NULL3 if c.resp == 3 else NULL2
        return NULL3 if c.resp == 3 else NULL_ARRAY2
    if type(ql) is not Quicklist:
        raise CommandError(_WRONGTYPE)
    if count is None:
        r = ql.pop_head() if head else ql.pop_tail()
        n = 1
    elif count == 0:
        return EMPTY_ARRAY
    else:
        items = ql.pop_range(head, count)
        n = len(items)
        items.insert(0, array_header(n))
        r = b"".join(items)
    if not ql.count:
        db.delete(key)
    elif db.watched:
        db.touch(key)
    db.keyspace.dirty += n
    return r


@command("lpop", -2, "write fast", keys=(1, 1, 1), acl="@write @list @fast",
         key_specs=_KS_POP, summary="Remove and get the first elements in a list",
         **_POP_DOC)
def lpop(c, argv):
    return _pop(c, argv, True, "lpop")


@command("rpop", -2, "write fast", keys=(1, 1, 1), acl="@write @list @fast",
         key_specs=_KS_POP, summary="Remove and get the last elements in a list",
         **_POP_DOC)
def rpop(c, argv):
    return _pop(c, argv, False, "rpop")


# ---------------------------------------------------------------------------
# Reads: LLEN, LINDEX, LRANGE, LPOS
# ---------------------------------------------------------------------------

def _pop_run(c, pending, i, append, head: bool) -> int:
    """Consecutive LPOPs (or RPOPs) without count of one list: one range
    pop, whose entries are the replies already encoded; the run stops
    where the list runs out (the rest reply as usual)."""
    found = key_run(c, pending, i, 2, Quicklist)
    if found is None:
        return missing_key_run(c, pending, i, 2, append, NULL3 if c.resp == 3 else NULL2)
    ql, end = found
    db = c.db
    key = pending[i][1]
    m = min(end - i, ql.count)
    append(b"".join(ql.pop_range(head, m)))
    if not ql.count:
        db.delete(key)
    elif db.watched:
        db.touch(key)
    db.keyspace.dirty += m
    return m


@run_handler("lpop")
def lpop_run(c, pending, i, append):
    return _pop_run(c, pending, i, append, True)


@run_handler("rpop")
def rpop_run(c, pending, i, append):
    return _pop_run(c, pending, i, append, False)


@command("llen", 2, "readonly fast", keys=(1, 1, 1), acl="@read @list @fast",
         key_specs=[KeySpec("RO", index=1)], summary="Get the length of a list",
         since="1.0.0", group="list", complexity="O(1)", args="key")
def llen(c, argv):
    ql = c.db.lookup_read(argv[1])
    if ql is None:
        return ZERO
    if type(ql) is not Quicklist:
        raise CommandError(_WRONGTYPE)
    return integer(ql.count)


@command("lindex", 3, "readonly", keys=(1, 1, 1), acl="@read @list @slow",
         key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Get an element from a list by its index", since="1.0.0", group="list",
         complexity="O(N) where N is the number of elements to traverse to get to the "
                    "element at index. This makes asking for the first or the last "
                    "element of the list O(1).",
         args="key index")
def lindex(c, argv):
    ql = c.db.lookup_read(argv[1])
    if ql is None:
        return NULL3 if c.resp == 3 else NULL2
    if type(ql) is not Quicklist:
        raise CommandError(_WRONGTYPE)
    e = ql.index(_get_long(argv[2]))
    if e is None:
        return NULL3 if c.resp == 3 else NULL2
    return e


@command("lrange", 4, "readonly", keys=(1, 1, 1), acl="@read @list @slow",
         key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Get a range of elements from a list", since="1.0.0", group="list",
         complexity="O(S+N) where S is the distance of start offset from HEAD for small "
                    "lists, from nearest end (HEAD or TAIL) for large lists; and N is the "
                    "number of elements in the specified range.",
         args="key start stop")
def lrange(c, argv):
    start = strict_int(argv[2])
    end = strict_int(argv[3])
    if start is None or end is None:
        raise CommandError(errors.NOT_INTEGER)
    ql = c.db.lookup_read(argv[1])
    if ql is None:
        return EMPTY_ARRAY
    if type(ql) is not Quicklist:
        raise CommandError(_WRONGTYPE)
    n = ql.count
    if start < 0:
        start += n
        if start < 0:
            start = 0
    if end < 0:
        end += n
    if start > end or start >= n:
        return EMPTY_ARRAY
    if end >= n:
        end = n - 1
    return ql.range_reply(start, end)


@command("lpos", -3, "readonly", keys=(1, 1, 1), acl="@read @list @slow",
         key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Return the index of matching elements on a list", since="6.0.6",
         group="list",
         complexity="O(N) where N is the number of elements in the list, for the "
                    "average case. When searching for elements near the head or the "
                    "tail of the list, or when the MAXLEN option is provided, the "
                    "command may run in constant time.",
         args="key element [RANK rank] [COUNT num-matches] [MAXLEN len]")
def lpos(c, argv):
    rank = 1
    count = -1
    maxlen = 0
    argc = len(argv)
    j = 3
    while j < argc:
        opt = _opt(argv[j])
        more = j < argc - 1
        if opt == b"RANK" and more:
            j += 1
            rank = _get_long(argv[j])
            if rank == 0:
                raise CommandError(errors.LPOS_RANK_ZERO)
        elif opt == b"COUNT" and more:
            j += 1
            count = _range_long(argv[j], 0, LLONG_MAX, errors.LPOS_COUNT_NEGATIVE)
        elif opt == b"MAXLEN" and more:
            j += 1
            maxlen = _range_long(argv[j], 0, LLONG_MAX, errors.LPOS_MAXLEN_NEGATIVE)
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    ql = c.db.lookup_read(argv[1])
    if ql is None:
        if count != -1:
            return EMPTY_ARRAY
        return NULL3 if c.resp == 3 else NULL2
    if type(ql) is not Quicklist:
        raise CommandError(_WRONGTYPE)
    from_tail = rank < 0
    # -LLONG_MIN overflows back to LLONG_MIN in C: every match then counts
    # and the COUNT test (matches-rank+1 >= count) never passes.
    unbounded = rank == LLONG_MIN
    if from_tail and not unbounded:
        rank = -rank
    matches = 0
    found = []
    for pos in ql.positions(encode(argv[2]), from_tail, maxlen):
        matches += 1
        if unbounded or matches >= rank:
            found.append(pos)
            if count == -1:
                break
            if count and not unbounded and matches - rank + 1 >= count:
                break
    if count != -1:
        return b"".join([array_header(len(found))] + [integer(p) for p in found])
    if found:
        return integer(found[0])
    return NULL3 if c.resp == 3 else NULL2


# ---------------------------------------------------------------------------
# In-place writes: LSET, LINSERT, LTRIM, LREM
# ---------------------------------------------------------------------------

@command("lset", 4, "write denyoom", keys=(1, 1, 1), acl="@write @list @slow",
         key_specs=[KeySpec("RW UPDATE", index=1)],
         summary="Set the value of an element in a list by its index", since="1.0.0",
         group="list",
         complexity="O(N) where N is the length of the list. Setting either the first "
                    "or the last element of the list is O(1).",
         args="key index element")
def lset(c, argv):
    db = c.db
    key = argv[1]
    ql = _write_list(db, key)
    if ql is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if not ql.replace(_get_long(argv[2]), argv[3]):
        raise CommandError(errors.OUT_OF_RANGE)
    if db.watched:
        db.touch(key)
    db.keyspace.dirty += 1
    return OK


@command("linsert", 5, "write denyoom", keys=(1, 1, 1), acl="@write @list @slow",
         key_specs=[KeySpec("RW INSERT", index=1)],
         summary="Insert an element before or after another element in a list",
         since="2.2.0", group="list",
         complexity="O(N) where N is the number of elements to traverse before seeing "
                    "the value pivot. This means that inserting somewhere on the left "
                    "end on the list (head) can be considered O(1) and inserting "
                    "somewhere on the right end (tail) is O(N).",
         args="key where:(BEFORE|AFTER) pivot element")
def linsert(c, argv):
    w = _opt(argv[2])
    if w == b"AFTER":
        after = True
    elif w == b"BEFORE":
        after = False
    else:
        raise CommandError(errors.SYNTAX)
    db = c.db
    key = argv[1]
    ql = _write_list(db, key)
    if ql is None:
        return ZERO
    if not ql.insert(encode(argv[3]), argv[4], after):
        return _NEG_ONE
    if db.watched:
        db.touch(key)
    db.keyspace.dirty += 1
    return integer(ql.count)


@command("ltrim", 4, "write", keys=(1, 1, 1), acl="@write @list @slow",
         key_specs=[KeySpec("RW DELETE", index=1)],
         summary="Trim a list to the specified range", since="1.0.0", group="list",
         complexity="O(N) where N is the number of elements to be removed by the "
                    "operation.",
         args="key start stop")
def ltrim(c, argv):
    start = _get_long(argv[2])
    end = _get_long(argv[3])
    db = c.db
    key = argv[1]
    ql = _write_list(db, key)
    if ql is None:
        return OK
    n = ql.count
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        ltrim_, rtrim = n, 0
    else:
        if end >= n:
            end = n - 1
        ltrim_, rtrim = start, n - end - 1
    ql.trim(ltrim_, rtrim)
    _after_pop(db, key, ql)
    db.keyspace.dirty += ltrim_ + rtrim
    return OK


@command("lrem", 4, "write", keys=(1, 1, 1), acl="@write @list @slow",
         key_specs=[KeySpec("RW DELETE", index=1)], summary="Remove elements from a list",
         since="1.0.0", group="list",
         complexity="O(N+M) where N is the length of the list and M is the number of "
                    "elements removed.",
         args="key count element")
def lrem(c, argv):
    count = _get_long(argv[2])
    db = c.db
    key = argv[1]
    ql = _write_list(db, key)
    if ql is None:
        return ZERO
    removed = ql.remove(encode(argv[3]), count)
    if removed:
        _after_pop(db, key, ql)
        db.keyspace.dirty += removed
    return integer(removed)


# ---------------------------------------------------------------------------
# LMOVE, RPOPLPUSH, LMPOP
# ---------------------------------------------------------------------------

_KS_MOVE = [KeySpec("RW ACCESS DELETE", index=1), KeySpec("RW INSERT", index=2)]
_SIDE = "(LEFT|RIGHT)"


def _move(c, src, dst, from_head: bool, to_head: bool) -> bytes:
    """lmoveGenericCommand on a source known to exist: the moved entry."""
    db = c.db
    sobj = _write_list(db, src)
    if sobj is None:
        return NULL3 if c.resp == 3 else NULL2
    dobj = _write_list(db, dst)
    e = sobj.pop_head() if from_head else sobj.pop_tail()
    if dobj is None:
        dobj = _new_list(c)
        db.set(dst, dobj)
    elif db.watched:
        db.touch(dst)
    dobj.push_entry(e, to_head)
    _after_pop(db, src, sobj)
    db.keyspace.dirty += 1
    return e


@command("lmove", 5, "write denyoom", keys=(1, 2, 1), acl="@write @list @slow",
         key_specs=_KS_MOVE,
         summary="Pop an element from a list, push it to another list and return it",
         since="6.2.0", group="list", complexity="O(1)",
         args=f"source destination wherefrom:{_SIDE} whereto:{_SIDE}")
def lmove(c, argv):
    from_head = _where(argv[3])
    to_head = _where(argv[4])
    return _move(c, argv[1], argv[2], from_head, to_head)


@command("rpoplpush", 3, "write denyoom", keys=(1, 2, 1), acl="@write @list @slow",
         key_specs=_KS_MOVE,
         summary="Remove the last element in a list, prepend it to another list and "
                 "return it",
         since="1.2.0", group="list", complexity="O(1)", doc_flags="deprecated",
         deprecated_since="6.2.0", replaced_by="`LMOVE` with the `RIGHT` and `LEFT` arguments",
         args="source destination")
def rpoplpush(c, argv):
    return _move(c, argv[1], argv[2], False, True)


def _mpop_reply(db, key, ql, head: bool, count: int) -> bytes:
    """listPopRangeAndReplyWithKey: [key, [elements]]; deletes an emptied list."""
    items = ql.pop_range(head, count)
    n = len(items)
    items.insert(0, b"*2\r\n" + bulk(key) + array_header(n))
    _after_pop(db, key, ql)
    db.keyspace.dirty += n
    return b"".join(items)


def _parse_mpop(argv, numkeys_idx: int):
    """lmpopGenericCommand's parsing: (keys, head, count)."""
    argc = len(argv)
    numkeys = _range_long(argv[numkeys_idx], 1, LLONG_MAX, errors.NUMKEYS_NOT_POSITIVE)
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= argc:
        raise CommandError(errors.SYNTAX)
    head = _where(argv[where_idx])
    count = -1
    j = where_idx + 1
    while j < argc:
        if count == -1 and _opt(argv[j]) == b"COUNT" and j < argc - 1:
            j += 1
            count = _range_long(argv[j], 1, LLONG_MAX, errors.COUNT_NOT_POSITIVE)
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    if count == -1:
        count = 1
    return argv[numkeys_idx + 1:where_idx], head, count


def _mpop_keys(numkeys_idx):
    def getkeys(argv):
        n = strict_int(argv[numkeys_idx]) if len(argv) > numkeys_idx else None
        if n is None or n < 1 or n > len(argv) - numkeys_idx - 1:
            return []
        return argv[numkeys_idx + 1:numkeys_idx + 1 + n]
    return getkeys


_MPOP_DOC = dict(since="7.0.0", group="list",
                 complexity="O(N+M) where N is the number of provided keys and M is the "
                            "number of elements returned.")


@command("lmpop", -4, "write", keys=(0, 0, 0), acl="@write @list @slow",
         getkeys=_mpop_keys(1),
         key_specs=[KeySpec("RW ACCESS DELETE", index=1, keynum=(0, 1, 1))],
         summary="Pop elements from a list",
         args=f"numkeys key [key ...] where:{_SIDE} [COUNT count]", **_MPOP_DOC)
def lmpop(c, argv):
    keys, head, count = _parse_mpop(argv, 1)
    db = c.db
    for key in keys:
        ql = _write_list(db, key)
        if ql is not None:
            return _mpop_reply(db, key, ql, head, count)
    return NULL3 if c.resp == 3 else NULL_ARRAY2


# ---------------------------------------------------------------------------
# Blocking variants
# ---------------------------------------------------------------------------

def _serve_pop(c, key, ql, head):
    """BLPOP/BRPOP served: [key, element]."""
    e = ql.pop_head() if head else ql.pop_tail()
    _after_pop(c.db, key, ql)
    c.db.keyspace.dirty += 1
    return b"*2\r\n" + bulk(key) + e


def _serve_mpop(c, key, ql, data):
    head, count = data
    return _mpop_reply(c.db, key, ql, head, count)


def _serve_move(c, key, ql, data):
    dst, from_head, to_head = data
    return _move(c, key, dst, from_head, to_head)


def _blocking_pop(c, keys, head: bool, count: int, deadline: int, name: str):
    """blockingPopGenericCommand: serve from the first non-empty list, or block."""
    db = c.db
    for key in keys:
        ql = _write_list(db, key)
        if ql is None:
            continue
        if count:
            return _mpop_reply(db, key, ql, head, count)
        return _serve_pop(c, key, ql, head)
    if not blocking.may_block(c):
        return NULL3 if c.resp == 3 else NULL_ARRAY2
    if count:
        return blocking.block(c, keys, deadline, _QL, _serve_mpop, (head, count), name)
    return blocking.block(c, keys, deadline, _QL, _serve_pop, head, name)


_BPOP_DOC = dict(since="2.0.0", group="list",
                 complexity="O(N) where N is the number of provided keys.",
                 history=(("6.0.0", "`timeout` is interpreted as a double instead of an "
                                    "integer."),),
                 args="key [key ...] timeout")
_KS_BPOP = [KeySpec("RW ACCESS DELETE", index=1, range=(-2, 1, 0))]


@command("blpop", -3, "write noscript blocking", keys=(1, -2, 1),
         acl="@write @list @slow @blocking", key_specs=_KS_BPOP,
         summary="Remove and get the first element in a list, or block until one is "
                 "available",
         **_BPOP_DOC)
def blpop(c, argv):
    deadline = blocking.parse_timeout(argv[-1])
    return _blocking_pop(c, argv[1:-1], True, 0, deadline, "blpop")


@command("brpop", -3, "write noscript blocking", keys=(1, -2, 1),
         acl="@write @list @slow @blocking", key_specs=_KS_BPOP,
         summary="Remove and get the last element in a list, or block until one is "
                 "available",
         **_BPOP_DOC)
def brpop(c, argv):
    deadline = blocking.parse_timeout(argv[-1])
    return _blocking_pop(c, argv[1:-1], False, 0, deadline, "brpop")


def _blocking_move(c, src, dst, from_head, to_head, deadline, name):
    """blmoveGenericCommand."""
    if _write_list(c.db, src) is not None:
        return _move(c, src, dst, from_head, to_head)
    if not blocking.may_block(c):
        return NULL3 if c.resp == 3 else NULL2
    return blocking.block(c, (src,), deadline, _QL, _serve_move,
                          (dst, from_head, to_head), name)


@command("blmove", 6, "write denyoom noscript blocking", keys=(1, 2, 1),
         acl="@write @list @slow @blocking", key_specs=_KS_MOVE,
         summary="Pop an element from a list, push it to another list and return it; "
                 "or block until one is available",
         since="6.2.0", group="list", complexity="O(1)",
         args=f"source destination wherefrom:{_SIDE} whereto:{_SIDE} timeout")
def blmove(c, argv):
    from_head = _where(argv[3])
    to_head = _where(argv[4])
    deadline = blocking.parse_timeout(argv[5])
    return _blocking_move(c, argv[1], argv[2], from_head, to_head, deadline, "blmove")


@command("brpoplpush", 4, "write denyoom noscript blocking", keys=(1, 2, 1),
         acl="@write @list @slow @blocking", key_specs=_KS_MOVE,
         summary="Pop an element from a list, push it to another list and return it; "
                 "or block until one is available",
         since="2.2.0", group="list", complexity="O(1)", doc_flags="deprecated",
         deprecated_since="6.2.0", replaced_by="`BLMOVE` with the `RIGHT` and `LEFT` arguments",
         history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),),
         args="source destination timeout")
def brpoplpush(c, argv):
    deadline = blocking.parse_timeout(argv[3])
    return _blocking_move(c, argv[1], argv[2], False, True, deadline, "brpoplpush")


@command("blmpop", -5, "write blocking", keys=(0, 0, 0),
         acl="@write @list @slow @blocking", getkeys=_mpop_keys(2),
         key_specs=[KeySpec("RW ACCESS DELETE", index=2, keynum=(0, 1, 1))],
         summary="Pop elements from a list, or block until one is available",
         args=f"timeout numkeys key [key ...] where:{_SIDE} [COUNT count]", **_MPOP_DOC)
def blmpop(c, argv):
    # the timeout is parsed last, inside blockingPopGenericCommand
    keys, head, count = _parse_mpop(argv, 2)
    deadline = blocking.parse_timeout(argv[1])
    return _blocking_pop(c, keys, head, count, deadline, "blmpop")
