"""Set commands (t_set.c): membership, random members, algebra, SSCAN.

The value is a `kvserver.datastructs.set.Set`; its encoding (intset or
hashtable) is decided there from `set-max-intset-entries`.

Replies follow Redis 7.0 to the byte: SMEMBERS, SINTER, SUNION, SDIFF and
SPOP with a count are RESP3 sets (`~`), SRANDMEMBER with a count is a plain
array.  Member order is what Redis's iteration gives where that is defined
(ascending for intsets, including results Redis builds into a fresh intset)
and unspecified otherwise.

The algebra commands reproduce Redis's encoding of stored results (and
hence its reply order): SINTER/SUNION/SDIFF build into a fresh intset, so
the result is an intset exactly when all of its members are integers and
fit the limit, except that SDIFF's algorithm 2 first adds the whole first
set (a non-integer member or too many members there give a hashtable even
if they are subtracted later).  SPOP with a count close to the size keeps
the survivors in a new set, which may be an intset again.

Lookups: SINTER/SUNION/SDIFF and their STORE forms read every source with
lookupKeyRead (stats counted), as Redis 7.0 does; writes use
lookupKeyWrite.  Every change touches the key for WATCH and bumps
`keyspace.dirty` as Redis bumps server.dirty.
"""

from random import sample as _sample

from kvserver import errors
from kvserver.commands.hashes import bulks, scan_options, scan_reply
from kvserver.commands.table import KeySpec, command, key_run, missing_key_run, run_handler
from kvserver.datastructs import set as setmod
from kvserver.datastructs.set import Set, build, from_ints, intset_limit
from kvserver.errors import CommandError
from kvserver.net.resp import (EMPTY_ARRAY, NULL2, NULL3, ONE, ZERO,
                               array_header, bulk, integer, strict_int)
from kvserver.scan import parse_cursor, scan as scan_step

LONG_MAX = 2**63 - 1
SPOP_MOVE_STRATEGY_MUL = 5

_SET = (Set,)
_EMPTY_SET3 = b"~0\r\n"
_EMPTY_SCAN = b"*2\r\n$1\r\n0\r\n*0\r\n"


def _set_reply(members, resp: int) -> bytes:
    n = len(members)
    return bulks(members, b"~%d\r\n" % n if resp == 3 else array_header(n))


def _empty_set(resp: int) -> bytes:
    return _EMPTY_SET3 if resp == 3 else EMPTY_ARRAY


def _max_intset(c) -> int:
    return c.server.config.set_max_intset_entries


# ---------------------------------------------------------------------------
# Single-key writes
# ---------------------------------------------------------------------------

@command("sadd", -3, "write denyoom fast", keys=(1, 1, 1),
         acl="@write @set @fast", key_specs=[KeySpec("RW INSERT", index=1)],
         summary="Add one or more members to a set", since="1.0.0", group="set",
         complexity="O(1) for each element added, so O(N) to add N elements when "
                    "the command is called with multiple arguments.",
         history=(("2.4.0", "Accepts multiple `member` arguments."),),
         args="key member [member ...]")
def sadd(c, argv):
    db = c.db
    key = argv[1]
    s = db.lookup(key)
    if type(s) is not Set:
        if s is not None:
            raise CommandError(errors.WRONGTYPE)
        s = Set.create_for(argv[2])
        db.set(key, s)
    maxi = c.server.config.set_max_intset_entries
    if len(argv) == 3:      # the common single member, without the loop
        if not s.add(argv[2], maxi):
            return ZERO
        added = 1
    else:
        add = s.add
        added = 0
        for m in argv[2:]:
            if add(m, maxi):
                added += 1
        if not added:
            return ZERO
    if db.watched:
        db.touch(key)
    c.server.keyspace.dirty += added
    return integer(added)


@run_handler("sadd")
def sadd_run(c, pending, i, append):
    """Consecutive single-member SADDs to one existing set: the adds in
    turn without a lookup and a handler call each."""
    found = key_run(c, pending, i, 3, Set)
    if found is None:
        return 0
    s, end = found
    db = c.db
    key = pending[i][1]
    add = s.add
    maxi = c.server.config.set_max_intset_entries
    added = 0
    for j in range(i, end):
        if add(pending[j][2], maxi):
            added += 1
            append(ONE)
        else:
            append(ZERO)
    if added:
        if db.watched:
            db.touch(key)
        c.server.keyspace.dirty += added
    return end - i


@command("srem", -3, "write fast", keys=(1, 1, 1),
         acl="@write @set @fast", key_specs=[KeySpec("RW DELETE", index=1)],
         summary="Remove one or more members from a set", since="1.0.0",
         group="set", complexity="O(N) where N is the number of members to be removed.",
         history=(("2.4.0", "Accepts multiple `member` arguments."),),
         args="key member [member ...]")
def srem(c, argv):
    db = c.db
    key = argv[1]
    s = db.lookup_typed(key, _SET, False)
    if s is None:
        return ZERO
    deleted = 0
    remove = s.remove
    for m in argv[2:]:
        if remove(m):
            deleted += 1
            if not len(s):
                break
    if deleted:
        if not len(s):
            db.delete(key)
        else:
            db.touch(key)
        c.server.keyspace.dirty += deleted
    return integer(deleted)


@command("smove", 4, "write fast", keys=(1, 2, 1),
         acl="@write @set @fast",
         key_specs=[KeySpec("RW ACCESS DELETE", index=1), KeySpec("RW INSERT", index=2)],
         summary="Move a member from one set to another", since="1.0.0",
         group="set", complexity="O(1)", args="source destination member")
def smove(c, argv):
    db = c.db
    skey, dkey, member = argv[1], argv[2], argv[3]
    src = db.lookup(skey)
    dst = db.lookup(dkey)
    if src is None:
        return ZERO
    if type(src) is not Set or (dst is not None and type(dst) is not Set):
        raise CommandError(errors.WRONGTYPE)
    if src is dst:
        return ONE if src.contains(member) else ZERO
    if not src.remove(member):
        return ZERO
    if not len(src):
        db.delete(skey)
    else:
        db.touch(skey)
    if dst is None:
        dst = Set.create_for(member)
        db.set(dkey, dst)
    ks = c.server.keyspace
    ks.dirty += 1
    if dst.add(member, _max_intset(c)):
        ks.dirty += 1
        db.touch(dkey)
    return ONE


@command("spop", -2, "write fast", keys=(1, 1, 1),
         acl="@write @set @fast", key_specs=[KeySpec("RW ACCESS DELETE", index=1)],
         tips=("nondeterministic_output",),
         summary="Remove and return one or multiple random members from a set",
         since="1.0.0", group="set",
         complexity="Without the count argument O(1), otherwise O(N) where N is "
                    "the value of the passed count.",
         history=(("3.2.0", "Added the `count` argument."),),
         args="key [count]@3.2.0")
def spop(c, argv):
    argc = len(argv)
    if argc == 3:
        return _spop_count(c, argv)
    if argc > 3:
        raise CommandError(errors.SYNTAX)
    db = c.db
    key = argv[1]
    s = db.lookup_typed(key, _SET, False)
    if s is None:
        return NULL3 if c.resp == 3 else NULL2
    m = s.pop_random()
    if not len(s):
        db.delete(key)
    else:
        db.touch(key)
    c.server.keyspace.dirty += 1
    return b"$%d\r\n%s\r\n" % (len(m), m)


@run_handler("spop")
def spop_run(c, pending, i, append):
    """Consecutive SPOPs without count of one set: the pops without a
    lookup and a handler call each; stops where the set runs out."""
    found = key_run(c, pending, i, 2, Set)
    if found is None:
        return missing_key_run(c, pending, i, 2, append, NULL3 if c.resp == 3 else NULL2)
    s, end = found
    m = min(end - i, len(s))
    pop = s.pop_random
    for _ in range(m):
        e = pop()
        append(b"$%d\r\n%s\r\n" % (len(e), e))
    db = c.db
    key = pending[i][1]
    if not len(s):
        db.delete(key)
    else:
        db.touch(key)
    c.server.keyspace.dirty += m
    return m


def _spop_count(c, argv):
    count = strict_int(argv[2])
    if count is None or count < 0:
        # getPositiveLongFromObjectOrReply says this for both
        raise CommandError(errors.NOT_POSITIVE)
    db = c.db
    key = argv[1]
    s = db.lookup_typed(key, _SET, False)
    if s is None or count == 0:
        return _empty_set(c.resp)
    size = len(s)
    ks = c.server.keyspace
    ks.dirty += size if count >= size else count
    if count >= size:
        # CASE 1: the whole set, replied as SUNION of it would be (Redis
        # reuses that code, lookup included), then the key goes away
        db.lookup_read(key)
        result = build(s.members(), _max_intset(c))
        db.delete(key)
        return _set_reply(result.members(), c.resp)
    remaining = size - count
    if remaining * SPOP_MOVE_STRATEGY_MUL > count:
        # CASE 2: pop `count` random members one by one
        pop = s.pop_random
        out = [pop() for _ in range(count)]
    else:
        # CASE 3: draw the survivors into a new set, reply with the rest
        members = s.members()
        keep = _sample(members, remaining)
        gone = set(keep)
        out = [m for m in members if m not in gone]
        db.replace(key, build(keep, _max_intset(c)))
    db.touch(key)
    return _set_reply(out, c.resp)


# ---------------------------------------------------------------------------
# Single-key reads
# ---------------------------------------------------------------------------

@command("sismember", 3, "readonly fast", keys=(1, 1, 1),
         acl="@read @set @fast", key_specs=[KeySpec("RO", index=1)],
         summary="Determine if a given value is a member of a set",
         since="1.0.0", group="set", complexity="O(1)", args="key member")
def sismember(c, argv):
    s = c.db.lookup_typed(argv[1], _SET)
    return ONE if s is not None and s.contains(argv[2]) else ZERO


@command("smismember", -3, "readonly fast", keys=(1, 1, 1),
         acl="@read @set @fast", key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Returns the membership associated with the given elements for a set",
         since="6.2.0", group="set",
         complexity="O(N) where N is the number of elements being checked for membership",
         args="key member [member ...]")
def smismember(c, argv):
    s = c.db.lookup_typed(argv[1], _SET)
    n = len(argv) - 2
    if s is None:
        return array_header(n) + ZERO * n
    contains = s.contains
    return array_header(n) + b"".join([ONE if contains(m) else ZERO for m in argv[2:]])


@command("scard", 2, "readonly fast", keys=(1, 1, 1),
         acl="@read @set @fast", key_specs=[KeySpec("RO", index=1)],
         summary="Get the number of members in a set", since="1.0.0", group="set",
         complexity="O(1)", args="key")
def scard(c, argv):
    s = c.db.lookup_typed(argv[1], _SET)
    return ZERO if s is None else integer(len(s))


@command("smembers", 2, "readonly", keys=(1, 1, 1),
         acl="@read @set @slow", key_specs=[KeySpec("RO ACCESS", index=1)],
         tips=("nondeterministic_output_order",),
         summary="Get all the members in a set", since="1.0.0", group="set",
         complexity="O(N) where N is the set cardinality.", args="key")
def smembers(c, argv):
    # Redis 7.0 serves SMEMBERS with SINTER's code: same reply, same lookup
    s = c.db.lookup_typed(argv[1], _SET)
    if s is None:
        return _empty_set(c.resp)
    return _set_reply(s.members(), c.resp)


@command("srandmember", -2, "readonly", keys=(1, 1, 1),
         acl="@read @set @slow", key_specs=[KeySpec("RO ACCESS", index=1)],
         tips=("nondeterministic_output",),
         summary="Get one or multiple random members from a set", since="1.0.0",
         group="set",
         complexity="Without the count argument O(1), otherwise O(N) where N is "
                    "the absolute value of the passed count.",
         history=(("2.6.0", "Added the optional `count` argument."),),
         args="key [count]@2.6.0")
def srandmember(c, argv):
    argc = len(argv)
    if argc == 3:
        return _srandmember_count(c, argv)
    if argc > 3:
        raise CommandError(errors.SYNTAX)
    s = c.db.lookup_typed(argv[1], _SET)
    if s is None:
        return NULL3 if c.resp == 3 else NULL2
    return bulk(s.random_member())


def _srandmember_count(c, argv):
    n = strict_int(argv[2])
    if n is None:
        raise CommandError(errors.NOT_INTEGER)
    if n < -LONG_MAX:
        raise CommandError(errors.LONG_RANGE)
    s = c.db.lookup_typed(argv[1], _SET)
    if s is None or n == 0:
        return EMPTY_ARRAY
    if n < 0 or n == 1:
        # CASE 1: with repetition, in random order
        count = -n if n < 0 else 1
        pick = s.random_member
        out = [pick() for _ in range(count)]
    else:
        members = s.members()
        if n >= len(members):
            out = members           # CASE 2: the whole set, in its order
        else:
            out = _sample(members, n)
    return bulks(out, array_header(len(out)))


# ---------------------------------------------------------------------------
# Algebra: SINTER, SINTERCARD, SUNION, SDIFF and the STORE forms
# ---------------------------------------------------------------------------

def _sources(c, keys) -> list:
    """Every key's set or None (missing); WRONGTYPE if any is not a set."""
    lookup = c.db.lookup_typed
    return [lookup(k, _SET) for k in keys]


def _store(c, dst, result: Set) -> bytes:
    """Overwrite `dst` with `result`, or delete it if the result is empty."""
    db = c.db
    n = len(result)
    if n:
        db.set(dst, result)
        c.server.keyspace.dirty += 1
        return integer(n)
    if db.delete(dst):
        c.server.keyspace.dirty += 1
    return ZERO


def _inter(c, keys, dst=None, card_only=False, limit=0) -> bytes:
    sets = _sources(c, keys)
    if None in sets:
        if dst is not None:
            if c.db.delete(dst):
                c.server.keyspace.dirty += 1
            return ZERO
        if card_only:
            return ZERO
        return _empty_set(c.resp)
    sets.sort(key=len)      # stable, as glibc's merge-sort qsort
    first = sets[0]
    others = [s for s in sets[1:] if s is not first]
    if first.is_intset():
        ints = first.ints()
        if others:
            ints = [n for n in ints if all([o.contains_int(n) for o in others])]
        if card_only:
            n = len(ints)
            return integer(min(n, limit) if limit else n)
        if dst is not None:
            return _store(c, dst, from_ints(ints, _max_intset(c)))
        return _set_reply([b"%d" % n for n in ints], c.resp)
    members = first.members()
    if others:
        if card_only:
            n = 0
            for m in members:
                for o in others:
                    if not o.contains(m):
                        break
                else:
                    n += 1
                    if n == limit:
                        break
            return integer(n)
        members = [m for m in members if all([o.contains(m) for o in others])]
    if card_only:
        n = len(members)
        return integer(min(n, limit) if limit else n)
    if dst is not None:
        return _store(c, dst, build(members, _max_intset(c)))
    return _set_reply(members, c.resp)


def _intset_compatible(s: Set, limit: int) -> bool:
    """Would adding all of `s` to a fresh intset keep it an intset?"""
    return len(s) <= limit and s.all_ints()


def _union_diff(c, keys, dst, diff: bool) -> bytes:
    sets = _sources(c, keys)
    maxi = _max_intset(c)
    first = sets[0]
    if not diff:
        present = [s for s in sets if s is not None]
        if all([s.is_intset() for s in present]):
            ints = set()
            for s in present:
                ints.update(s.ints())
            result = from_ints(ints, maxi)
        else:
            seen = {}
            for s in present:
                seen.update(dict.fromkeys(s.members()))
            result = build(list(seen), maxi)
    elif first is None or any([s is first for s in sets[1:]]):
        result = setmod.as_table([])
    else:
        others = [s for s in sets[1:] if s is not None]
        one = len(first) * (len(others) + 1) // 2
        two = len(first) + sum([len(s) for s in others])
        members = first.members()
        if others:
            members = [m for m in members
                       if not any([o.contains(m) for o in others])]
        if one <= two:
            # algorithm 1 adds only the survivors to the intset
            result = build(members, maxi)
        elif _intset_compatible(first, intset_limit(maxi)):
            # algorithm 2 adds all of the first set, then removes
            result = build(members, maxi)
        else:
            result = setmod.as_table(members)
    if dst is not None:
        return _store(c, dst, result)
    return _set_reply(result.members(), c.resp)


_ALGEBRA = dict(acl="@read @set @slow", tips=("nondeterministic_output_order",),
                key_specs=[KeySpec("RO ACCESS", index=1, range=(-1, 1, 0))],
                since="1.0.0", group="set", args="key [key ...]")
_STORE = dict(acl="@write @set @slow", since="1.0.0", group="set",
              args="destination key [key ...]")


@command("sinter", -2, "readonly", keys=(1, -1, 1),
         summary="Intersect multiple sets",
         complexity="O(N*M) worst case where N is the cardinality of the smallest "
                    "set and M is the number of sets.", **_ALGEBRA)
def sinter(c, argv):
    return _inter(c, argv[1:])


@command("sinterstore", -3, "write denyoom", keys=(1, -1, 1),
         key_specs=[KeySpec("RW UPDATE", index=1),
                    KeySpec("RO ACCESS", index=2, range=(-1, 1, 0))],
         summary="Intersect multiple sets and store the resulting set in a key",
         complexity="O(N*M) worst case where N is the cardinality of the smallest "
                    "set and M is the number of sets.", **_STORE)
def sinterstore(c, argv):
    return _inter(c, argv[2:], dst=argv[1])


def _sintercard_keys(argv) -> list:
    n = strict_int(argv[1]) if len(argv) > 1 else None
    if n is None or n < 1 or n > len(argv) - 2:
        return []
    return argv[2:2 + n]


@command("sintercard", -3, "readonly", keys=(0, 0, 0),
         acl="@read @set @slow", getkeys=_sintercard_keys,
         key_specs=[KeySpec("RO ACCESS", index=1, keynum=(0, 1, 1))],
         summary="Intersect multiple sets and return the cardinality of the result",
         since="7.0.0", group="set",
         complexity="O(N*M) worst case where N is the cardinality of the smallest "
                    "set and M is the number of sets.",
         args="numkeys key [key ...] [LIMIT limit]")
def sintercard(c, argv):
    argc = len(argv)
    numkeys = strict_int(argv[1])
    if numkeys is None or numkeys < 1:
        raise CommandError(errors.NUMKEYS_NOT_POSITIVE)
    if numkeys > argc - 2:
        raise CommandError(errors.NUMKEYS_TOO_MANY)
    limit = 0
    j = 2 + numkeys
    while j < argc:
        opt = argv[j]
        z = opt.find(b"\0")
        if z >= 0:
            opt = opt[:z]
        if opt.lower() == b"limit" and j < argc - 1:
            j += 1
            limit = strict_int(argv[j])
            if limit is None or limit < 0:
                raise CommandError(errors.LIMIT_NEGATIVE)
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    return _inter(c, argv[2:2 + numkeys], card_only=True, limit=limit)


@command("sunion", -2, "readonly", keys=(1, -1, 1),
         summary="Add multiple sets",
         complexity="O(N) where N is the total number of elements in all given sets.",
         **_ALGEBRA)
def sunion(c, argv):
    return _union_diff(c, argv[1:], None, False)


@command("sunionstore", -3, "write denyoom", keys=(1, -1, 1),
         key_specs=[KeySpec("OW UPDATE", index=1),
                    KeySpec("RO ACCESS", index=2, range=(-1, 1, 0))],
         summary="Add multiple sets and store the resulting set in a key",
         complexity="O(N) where N is the total number of elements in all given sets.",
         **_STORE)
def sunionstore(c, argv):
    return _union_diff(c, argv[2:], argv[1], False)


@command("sdiff", -2, "readonly", keys=(1, -1, 1),
         summary="Subtract multiple sets",
         complexity="O(N) where N is the total number of elements in all given sets.",
         **_ALGEBRA)
def sdiff(c, argv):
    return _union_diff(c, argv[1:], None, True)


@command("sdiffstore", -3, "write denyoom", keys=(1, -1, 1),
         key_specs=[KeySpec("OW UPDATE", index=1),
                    KeySpec("RO ACCESS", index=2, range=(-1, 1, 0))],
         summary="Subtract multiple sets and store the resulting set in a key",
         complexity="O(N) where N is the total number of elements in all given sets.",
         **_STORE)
def sdiffstore(c, argv):
    return _union_diff(c, argv[2:], argv[1], True)


# ---------------------------------------------------------------------------
# SSCAN
# ---------------------------------------------------------------------------

@command("sscan", -3, "readonly", keys=(1, 1, 1),
         acl="@read @set @slow", key_specs=[KeySpec("RO ACCESS", index=1)],
         tips=("nondeterministic_output",),
         summary="Incrementally iterate Set elements", since="2.8.0", group="set",
         complexity="O(1) for every call. O(N) for a complete iteration, including "
                    "enough command calls for the cursor to return back to 0. N is "
                    "the number of elements inside the collection..",
         args="key cursor [MATCH pattern] [COUNT count]")
def sscan(c, argv):
    cursor = parse_cursor(argv[2])
    if cursor is None:
        raise CommandError(errors.INVALID_CURSOR)
    s = c.db.lookup_typed(argv[1], _SET)
    if s is None:
        return _EMPTY_SCAN
    count, match = scan_options(argv, 3)
    t = s.table()
    if t is None:
        # an intset is returned whole, as Redis does
        members = s.members()
        cursor = 0
    else:
        cursor, members = scan_step(t, cursor, count)
    if match is not None:
        members = [m for m in members if match(m)]
    return scan_reply(cursor, members)
