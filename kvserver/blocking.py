"""Clients blocked on keys (blocked.c): the machinery behind BLPOP & co.

A blocked client costs nothing while it waits: it sits in a per-key FIFO
(`Db.blocking[key]`, a deque of Waiters) and, with a timeout, in one heap.
Nothing polls.  A key is signalled ready by `Db.set` when it is created
while clients wait on it (Redis's dbAdd -> signalKeyAsReady); the server
calls `serve_blocked()` after every top-level command when
`server.ready_keys` is non-empty, so a push inside MULTI/EXEC, a script or
a multi-key command wakes waiters only once the whole command is done.

API for commands that may block (lists here; sorted sets, streams, WAIT):

    deadline = blocking.parse_timeout(argv[i])   # ms since epoch, 0: forever
    ... serve at once if the data is there, else:
    if not blocking.may_block(c):                # MULTI/EXEC, scripts
        return resp.null_array(c.resp)           # Redis treats it as a timeout
    return blocking.block(c, keys, deadline, types, serve, data, name)

- `keys`: what to wait on, in the client's db (duplicates ignored); may be
  empty for a client that only waits for a timeout or an explicit `unblock`.
- `types`: tuple of value classes that can serve the client.  A waiter is
  offered a ready key only if its value's class is in `types`, so waiters
  of different types share one FIFO per key, as in Redis (a list waiter on
  a key that became a zset keeps waiting, and so on).
- `serve(c, key, value, data) -> bytes | None`: does the pop (deleting an
  emptied key, touching it for WATCH) and returns the client's complete
  reply; None keeps the client waiting.  A CommandError it raises becomes
  the client's reply (counted in errorstats) and unblocks it.
- `timeout_reply`: bytes, or a callable(c) -> bytes, sent on timeout and on
  CLIENT UNBLOCK ... TIMEOUT; default the null array (*-1 / _), as
  replyToBlockedClientTimedOut sends for lists, zsets and streams.
- `name`: the command's name (stats for a failed serve).
- `unblock(c, reply)` wakes a waiter from elsewhere (e.g. WAIT's acks).
- `signal(db, key)`: for code that creates keys without Db.set.

Serving a client appends its reply, unblocks it and queues it; its
pipelined commands (left in `c.pending` by process_pending) run from
before_sleep, never re-entrantly from inside another client's command.
Timeouts are checked at each before_sleep (the loop wakes at least every
1/hz s), with Redis's rule: a client times out once its deadline < now.

Counters for INFO: `server.blocked_clients` (clients blocked on keys or
timeouts through this module) and `server.clients_in_timeout_table` (those
of them with a timeout).

Requirement on other modules: EXEC must run its queued commands with
`c.multi` still set or `cl.MULTI` in c.flags (Redis keeps CLIENT_MULTI
during EXEC); fake clients (scripts, AOF loading) have `sock` None.
"""

import heapq
from collections import deque

from kvserver import clock, errors, longdouble
from kvserver.commands import table
from kvserver.dispatch import count_error
from kvserver.errors import CommandError
from kvserver.net import client as cl
from kvserver.net.resp import NULL3, NULL_ARRAY2, strict_int

_BLOCKED = cl.BLOCKED
_NOT_BLOCKED = ~cl.BLOCKED
_MULTI = cl.MULTI
LLONG_MAX = 2**63 - 1
LLONG_MIN = -2**63


class Waiter:
    """One blocked client (c.blocked)."""

    __slots__ = ("client", "db", "keys", "deadline", "types", "serve", "data",
                 "name", "timeout_reply", "active", "in_heap")

    def __init__(self, client, db, keys, deadline, types, serve, data, name,
                 timeout_reply):
        self.client = client
        self.db = db
        self.keys = keys
        self.deadline = deadline
        self.types = types
        self.serve = serve
        self.data = data
        self.name = name
        self.timeout_reply = timeout_reply
        self.active = True
        self.in_heap = False

    def __lt__(self, other):      # heap ties on equal deadlines: FIFO by id
        return self.client.id < other.client.id


# ---------------------------------------------------------------------------
# Timeout parsing (getTimeoutFromObjectOrReply, UNIT_SECONDS)
# ---------------------------------------------------------------------------

def parse_timeout(arg: bytes) -> int:
    """The absolute deadline in ms for a timeout in seconds; 0 means forever.

    Redis computes (long long) ceill(strtold(arg) * 1000.0) in x87 long
    double: the product is rounded to a 64-bit significand first, then
    rounded up; anything past the long long range (inf included) converts
    to LLONG_MIN and so reads as negative.  So 0.0009 waits 1 ms while
    -0.0001 waits forever, exactly as in Redis."""
    n = strict_int(arg)
    if n is not None and -9223372036854775 <= n <= 9223372036854775:
        ms = n * 1000
    else:
        v = longdouble.parse(arg)
        if v is None:
            raise CommandError(errors.TIMEOUT_NOT_FLOAT)
        m, e = v
        if e is None:
            ms = LLONG_MIN
        elif m == 0:
            ms = 0
        else:
            # longdouble rounds m * 1000 * 2**e onto the x87 grid exactly
            p = longdouble._round(m < 0, abs(m) * 1000, 1, e)
            if p is None:
                ms = LLONG_MIN
            else:
                pm, pe = p
                ms = pm << pe if pe >= 0 else -((-pm) >> -pe)
                if not LLONG_MIN <= ms <= LLONG_MAX:
                    ms = LLONG_MIN
    if ms < 0:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    if ms == 0:
        return 0
    return clock.now_ms() + ms


def may_block(c) -> bool:
    """False where Redis denies blocking (CLIENT_DENY_BLOCKING): inside
    MULTI/EXEC and for fake clients (scripts, AOF loading)."""
    return c.multi is None and not c.flags & _MULTI and c.sock is not None


def null_array(c) -> bytes:
    return NULL3 if c.resp == 3 else NULL_ARRAY2


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------

class Blocking:
    """Per-server state: the timeout heap and the unblocked-clients queue."""

    def __init__(self, server):
        self.server = server
        self.ready = server.ready_keys
        self.timeouts = []          # heap of (deadline, Waiter)
        self.dead = 0               # heap entries whose waiter is gone
        self.unblocked = deque()    # served clients whose pipeline must go on
        self.serving = False
        server.blocked_clients = 0
        server.clients_in_timeout_table = 0

    # ---- blocking -----------------------------------------------------------
    def block(self, c, keys, deadline, types, serve, data=None, name=None,
              timeout_reply=None):
        db = c.db
        uniq = list(dict.fromkeys(keys))
        w = Waiter(c, db, uniq, deadline, types, serve, data, name, timeout_reply)
        waiting = db.blocking
        for key in uniq:
            q = waiting.get(key)
            if q is None:
                waiting[key] = q = deque()
            q.append(w)
        c.blocked = w
        c.flags |= _BLOCKED
        srv = self.server
        srv.blocked_clients += 1
        if deadline:
            heapq.heappush(self.timeouts, (deadline, w))
            w.in_heap = True
            srv.clients_in_timeout_table += 1
        return None

    def _detach(self, w):
        w.active = False
        waiting = w.db.blocking
        for key in w.keys:
            q = waiting.get(key)
            if q is not None:
                try:
                    q.remove(w)
                except ValueError:
                    pass
                if not q:
                    del waiting[key]
        c = w.client
        c.blocked = None
        c.flags &= _NOT_BLOCKED
        srv = self.server
        srv.blocked_clients -= 1
        if w.deadline:
            srv.clients_in_timeout_table -= 1
            if w.in_heap:
                self.dead += 1

    def finish(self, w, reply: bytes):
        """Unblock `w` with `reply`; its pipeline continues at before_sleep."""
        if not w.active:
            return
        self._detach(w)
        c = w.client
        c.push(reply)
        self.unblocked.append(c)

    def timeout_reply(self, w) -> bytes:
        r = w.timeout_reply
        if r is None:
            return null_array(w.client)
        return r(w.client) if callable(r) else r

    # ---- serving ready keys (handleClientsBlockedOnKeys) --------------------
    def serve_ready(self):
        ready = self.ready
        if self.serving:
            # re-entered from inside a serve callback (which should not run
            # commands): the loop below drains whatever it queued, in order
            return
        self.serving = True
        try:
            while ready:
                batch = ready[:]
                ready.clear()
                done = set()
                for db, key in batch:
                    ident = (db.id, key)
                    if ident in done:
                        continue
                    done.add(ident)
                    q = db.blocking.get(key)
                    if q:
                        self._serve_key(db, key, q)
        finally:
            self.serving = False

    def _serve_key(self, db, key, q):
        value = db.lookup(key)
        if value is None:
            return
        vtype = type(value)
        for w in list(q):
            if not w.active or vtype not in w.types:
                continue
            c = w.client
            try:
                r = w.serve(c, key, value, w.data)
            except CommandError as e:
                r = b"-" + e.msg + b"\r\n"
                self._count_failure(w, e.msg)
            if r is not None:
                self.finish(w, r)
            value = db.data.get(key)
            if value is None:
                return
            vtype = type(value)

    def _count_failure(self, w, msg):
        count_error(self.server, msg)
        spec = table.by_name(w.name) if w.name else None
        if spec is not None:
            spec.failed_calls += 1

    # ---- before_sleep: timeouts, then the served clients' pipelines --------
    def before_sleep(self):
        if self.ready:
            self.serve_ready()
        h = self.timeouts
        if self.dead > 64 and self.dead * 2 > len(h):
            # waiters served long before their deadline: drop their entries
            h = self.timeouts = [x for x in h if x[1].active]
            heapq.heapify(h)
            self.dead = 0
        if h and h[0][0] < clock.now_ms():
            now = clock.now_ms()
            while h and h[0][0] < now:
                _, w = heapq.heappop(h)
                w.in_heap = False
                if w.active:
                    self.finish(w, self.timeout_reply(w))
                else:
                    self.dead -= 1
        u = self.unblocked
        if u:
            srv = self.server
            while u:
                c = u.popleft()
                if c.pending and not c.closed and c.blocked is None:
                    srv.process_pending(c)
                if self.ready:
                    self.serve_ready()

    def client_freed(self, c):
        w = c.blocked
        if type(w) is Waiter and w.active:
            self._detach(w)


# ---------------------------------------------------------------------------
# Module-level entry points (the server owns the registry)
# ---------------------------------------------------------------------------

def install(server):
    """Called once from Server.__init__."""
    b = Blocking(server)
    server.blocking = b
    # Db.set signals ready keys into the list the server drains
    server.keyspace.ready_keys = server.ready_keys
    server.serve_blocked = b.serve_ready
    server.hooks_before_sleep.append(b.before_sleep)
    server.hooks_client_freed.append(b.client_freed)


def block(c, keys, deadline, types, serve, data=None, name=None, timeout_reply=None):
    """Block `c`; returns None, which is what the handler must return."""
    return c.server.blocking.block(c, keys, deadline, types, serve, data, name,
                                   timeout_reply)


def unblock(c, reply: bytes) -> bool:
    """Wake blocked client `c` with `reply`; False if it was not blocked here."""
    w = c.blocked
    if type(w) is not Waiter or not w.active:
        return False
    c.server.blocking.finish(w, reply)
    return True


def unblock_error(c, msg: bytes) -> bool:
    """Wake `c` with the error `msg`, counted as the blocked command failing."""
    w = c.blocked
    if type(w) is not Waiter or not w.active:
        return False
    b = c.server.blocking
    b._count_failure(w, msg)
    b.finish(w, b"-" + msg + b"\r\n")
    return True


def unblock_timeout(c) -> bool:
    """CLIENT UNBLOCK ... TIMEOUT: as if the timeout had expired."""
    w = c.blocked
    if type(w) is not Waiter or not w.active:
        return False
    b = c.server.blocking
    b.finish(w, b.timeout_reply(w))
    return True


def signal(db, key):
    """signalKeyAsReady, for code that makes a key without Db.set."""
    if db.blocking and key in db.blocking:
        db.keyspace.ready_keys.append((db, key))


def scan_ready(db):
    """scanDatabaseForReadyLists (SWAPDB): signal every waited key that exists."""
    for key in list(db.blocking):
        if key in db.data:
            db.keyspace.ready_keys.append((db, key))
