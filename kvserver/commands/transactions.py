"""Transactions (multi.c): MULTI, EXEC, DISCARD, WATCH, UNWATCH.

While a client is in MULTI, dispatch queues its commands in `c.multi` as
(spec, argv) pairs and replies +QUEUED; a command rejected while queueing
(unknown, wrong arity, not allowed) flags the transaction DIRTY_EXEC so
EXEC aborts it.  WATCHed keys live in `db.watched` (key -> {client:
expired}) and `c.watching` ((db, key) pairs); any write to such a key sets
the watchers' `dirty_cas` through Db.touch, and EXEC then returns the null
array.  WATCH deletes nothing: a key already past its TTL is only flagged,
so that neither its deletion nor its expiry counts as a change (Db.touch,
`_watched_key_expired`).  EXEC runs the queue with the MULTI flag still
set, so blocking commands inside it return at once instead of blocking,
and clients blocked on keys it fills are served only after the whole EXEC.
"""

from kvserver.commands.table import by_name, command
from kvserver.dispatch import call
from kvserver.errors import EXECABORT, CommandError, err
from kvserver.keyspace import unwatch_all
from kvserver.net import client as cl
from kvserver.net.resp import NULL3, NULL_ARRAY2, OK, array_header

MULTI_NESTED = err("MULTI calls can not be nested")
EXEC_WITHOUT_MULTI = err("EXEC without MULTI")
DISCARD_WITHOUT_MULTI = err("DISCARD without MULTI")
WATCH_IN_MULTI = err("WATCH inside MULTI is not allowed")


def discard_transaction(c):
    c.multi = None
    c.flags &= ~(cl.MULTI | cl.DIRTY_EXEC)
    c.dirty_cas = False
    unwatch_all(c)


@command("multi", 1, "noscript loading stale fast allow_busy",
         acl="@fast @transaction", summary="Mark the start of a transaction block",
         since="1.2.0", group="transactions", complexity="O(1)", args="")
def multi(c, argv):
    if c.multi is not None:
        raise MULTI_NESTED
    c.multi = []
    c.flags |= cl.MULTI
    return OK


# After MULTI the rest of a pipelined batch must be queued: the execute
# loop's inline path decides that once per batch, so MULTI takes the full
# dispatch path, after which the loop looks again.
by_name("multi").full_dispatch_only()


@command("exec", 1, "noscript loading stale skip_slowlog",
         acl="@slow @transaction",
         summary="Execute all commands issued after MULTI", since="1.2.0",
         group="transactions", complexity="Depends on commands in the transaction",
         args="")
def exec_(c, argv):
    queue = c.multi
    if queue is None:
        raise EXEC_WITHOUT_MULTI
    if c.flags & cl.DIRTY_EXEC:
        discard_transaction(c)
        raise CommandError(EXECABORT)
    if c.dirty_cas or _watched_key_expired(c):
        discard_transaction(c)
        return NULL3 if c.resp == 3 else NULL_ARRAY2
    # Unwatch first: the transaction's own writes must not dirty it.
    unwatch_all(c)
    c.dirty_cas = False
    c.multi = None
    c.reply.append(array_header(len(queue)))
    try:
        for spec, qargv in queue:
            call(c, spec, qargv)
    finally:
        c.flags &= ~(cl.MULTI | cl.DIRTY_EXEC)
    return None     # the replies went straight into c.reply


def _watched_key_expired(c) -> bool:
    """isWatchedKeyExpired: a WATCHed key whose TTL passed since WATCH
    counts as modified even before anything deletes it; one that had
    passed it already at WATCH does not."""
    if not c.watching:
        return False
    for db, key in c.watching:
        if not db.watched[key][c] and db.is_expired(key):
            return True
    return False


@command("discard", 1, "noscript loading stale fast allow_busy",
         acl="@fast @transaction",
         summary="Discard all commands issued after MULTI", since="2.0.0",
         group="transactions", complexity="O(N), when N is the number of queued commands",
         args="")
def discard(c, argv):
    if c.multi is None:
        raise DISCARD_WITHOUT_MULTI
    discard_transaction(c)
    return OK


@command("watch", -2, "noscript loading stale fast allow_busy", keys=(1, -1, 1),
         acl="@fast @transaction",
         key_specs=[{"flags": ["RO"], "begin_search": {"index": {"pos": 1}},
                     "find_keys": {"range": {"lastkey": -1, "step": 1, "limit": 0}}}],
         summary="Watch the given keys to determine execution of the MULTI/EXEC block",
         since="2.2.0", group="transactions",
         complexity="O(1) for every key.", args="key [key ...]")
def watch(c, argv):
    if c.multi is not None:
        raise WATCH_IN_MULTI
    if c.dirty_cas:
        return OK       # no point: EXEC fails anyway
    db = c.db
    if c.watching is None:
        c.watching = []
    watching = c.watching
    for key in argv[1:]:
        if (db, key) in watching:
            continue
        clients = db.watched.get(key)
        if clients is None:
            db.watched[key] = clients = {}
        # Flagged, not deleted: WATCH writes nothing (Db.touch)
        clients[c] = db.is_expired(key)
        watching.append((db, key))
    return OK


@command("unwatch", 1, "noscript loading stale fast allow_busy",
         acl="@fast @transaction", summary="Forget about all watched keys",
         since="2.2.0", group="transactions", complexity="O(1)", args="")
def unwatch(c, argv):
    unwatch_all(c)
    c.dirty_cas = False
    return OK
