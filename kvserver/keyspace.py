"""The databases: a main dict and an expires dict each, and key lookup.

Invariants:
- `Db.data` maps key bytes to the value itself (a string touched since its
  creation as a (value, lru) pair, see below).  Strings are stored as
  `bytes` (encoding int/embstr/raw decided by content and length), as
  `bytearray` once APPEND/SETRANGE made them mutable (encoding raw), or as
  `int` after INCR-style commands (encoding int).  Every other type is an
  object of a class from `kvserver.datastructs` with a `TYPE` name.
- `Db.expires` holds an absolute unix time in milliseconds for exactly the
  keys of `data` that have a TTL.  A key whose time has passed is logically
  gone: every lookup goes through `Db.lookup*`, which deletes it lazily.
- Expiry costs nothing when a db has no volatile keys: lookups test
  `self.expires` (empty dict is falsy) before anything else.
- Every write to a key calls `touch(key)` so WATCH and blocked clients see it.
- WATCHes are kept twice, as multi.c keeps them: `Db.watched` maps a key to
  {client: expired} in WATCH order, `expired` telling whether the key was
  already logically expired when the client WATCHed it, and each client's
  `watching` lists its (db, key) pairs.  A client is in `watched[key]`
  exactly when (db, key) is in its `watching`; `unwatch_all` undoes both.
- A key is expired once the clock is past its time (now > when), as in
  Redis's keyIsExpired.
- A key's last access on the LRU clock (seconds, `LRU_CLOCK`, advanced by
  the cron) is Redis's per-object lru field, kept where the value is so
  that recording it costs no memory access of its own.  Collections
  (every value that is not a string) carry it in their `lru` slot.
  Strings are bare `bytes`/`bytearray`/`int` in `data` until their first
  access or overwrite after creation; from then on `data` holds the pair
  `(value, lru)`, refreshed by each touching lookup (a new pair only when
  the clock moved).  Every lookup returns the bare value, so commands
  never see a pair; code reading `data` itself unwraps (`value_of`).  The
  clock of a string never touched since creation is its creation time:
  keys are appended to `Db.born`, a flat list in creation order whose
  `born_marks` (index, clock) record when the clock advanced, and
  `access_time` searches it.  Entries whose key is gone or was touched
  since are stale; the cron compacts them away once `born` outgrows the
  keyspace.
  Under an LFU maxmemory-policy (`LFU`), `Db.lfu` holds
  Redis's LFU word (minutes << 8 | log counter) per key.
"""

import bisect
import random

from kvserver import clock
from kvserver.errors import WRONGTYPE, CommandError

STRING_TYPES = (bytes, bytearray, int)

# Cached clocks and policy, refreshed by `tick` from the cron as Redis
# caches server.lruclock; reading a global is cheaper than reading time.
LRU_CLOCK = clock.now_ms() // 1000
LFU = False
LFU_LOG_FACTOR = 10
LFU_DECAY_TIME = 1
LFU_INIT_VAL = 5


def type_name(value) -> str:
    if type(value) in STRING_TYPES or type(value) is tuple:
        return "string"
    return value.TYPE


class Stats:
    """Key-related counters INFO stats reports.

    Keyspace hits and misses are counted per Db (one attribute store on the
    GET path instead of three loads) and summed here."""

    __slots__ = ("dbs", "expired", "expired_stale_perc",
                 "expired_time_cap_reached", "expire_cycle_cpu_ms", "evicted")

    def __init__(self):
        self.dbs = []
        self.reset()

    @property
    def hits(self) -> int:
        return sum(db.hits for db in self.dbs)

    @property
    def misses(self) -> int:
        return sum(db.misses for db in self.dbs)

    def reset(self):
        for db in self.dbs:
            db.hits = db.misses = 0
        self.expired = 0
        self.expired_stale_perc = 0.0
        self.expired_time_cap_reached = 0
        self.expire_cycle_cpu_ms = 0
        self.evicted = 0


def unwatch_all(c):
    """unwatchAllKeys: forget every key `c` WATCHes.  Clearing dirty_cas is
    up to the caller."""
    watching = c.watching
    if watching:
        for db, key in watching:
            clients = db.watched.get(key)
            if clients is not None:
                clients.pop(c, None)
                if not clients:
                    del db.watched[key]
    c.watching = None


class Db:
    __slots__ = ("id", "data", "expires", "watched", "keyspace", "avg_ttl",
                 "born", "born_marks", "lfu", "expire_cursor",
                 "blocking", "hits", "misses", "floatstr")

    def __init__(self, id: int, keyspace: "Keyspace"):
        self.id = id
        self.data = {}
        self.expires = {}
        self.watched = {}       # key -> {client: expired at WATCH}, WATCH order
        self.blocking = {}      # key -> deque of clients blocked on it (blocking.py)
        self.keyspace = keyspace
        self.avg_ttl = 0
        # Keys holding an INCRBYFLOAT result that reads as an integer: Redis
        # made that object an embstr and never int-encodes it, so OBJECT
        # ENCODING must not infer "int" from the text (`encoding_hint`).
        self.floatstr = set()
        self.hits = 0           # keyspace_hits / keyspace_misses share
        self.misses = 0
        self.born = []          # keys in creation order, see module docstring
        self.born_marks = []    # (index into born, LRU_CLOCK from there on)
        self.lfu = {}           # key -> LFU word, only while LFU
        self.expire_cursor = []  # active expiry's walk (expire_cycle.py)

    # --- lookups ---------------------------------------------------------
    def _expire_if_needed(self, key) -> bool:
        """Delete `key` if its TTL has passed; True if it was deleted."""
        when = self.expires.get(key)
        if when is None or when >= clock.now_ms():
            return False
        self._evict_expired(key)
        return True

    def _evict_expired(self, key):
        del self.data[key]
        del self.expires[key]
        if self.floatstr:
            self.floatstr.discard(key)
        if LFU:
            self.lfu.pop(key, None)
        self.keyspace.stats.expired += 1
        self.touch(key)

    def lookup(self, key):
        """The live value of `key` or None, without touching hit/miss stats."""
        expires = self.expires
        if expires:
            # _expire_if_needed inlined: lookups are the hottest path
            when = expires.get(key)
            if when is not None and when < clock.now_ms():
                self._evict_expired(key)
        data = self.data
        v = data.get(key)
        if v is not None:
            t = type(v)
            if t is tuple:
                if v[1] != LRU_CLOCK:
                    data[key] = (v[0], LRU_CLOCK)
                v = v[0]
            elif t is bytes or t is int or t is bytearray:
                data[key] = (v, LRU_CLOCK)
            else:
                v.lru = LRU_CLOCK
            if LFU:
                self._lfu_hit(key)
        return v

    def lookup_for_run(self, key):
        """`lookup` for a run handler (commands.table.run_handler), which
        looks the key up once for many commands: None unless the key
        exists with no TTL and no LFU policy is in force, the cases where
        each command's own lookup would have no effect the first lookup
        does not already have."""
        if LFU or (self.expires and key in self.expires):
            return None
        return self.lookup(key)

    def lookup_read(self, key):
        """lookupKeyRead: like `lookup`, counting keyspace hits and misses.
        (lookup's body is repeated here and in lookup_read_many rather than
        called: a call would cost GET and MGET a tenth of their time.)"""
        expires = self.expires
        if expires:
            # _expire_if_needed inlined: lookups are the hottest path
            when = expires.get(key)
            if when is not None and when < clock.now_ms():
                self._evict_expired(key)
        data = self.data
        v = data.get(key)
        if v is None:
            self.misses += 1
        else:
            self.hits += 1
            t = type(v)
            if t is tuple:
                if v[1] != LRU_CLOCK:
                    data[key] = (v[0], LRU_CLOCK)
                v = v[0]
            elif t is bytes or t is int or t is bytearray:
                data[key] = (v, LRU_CLOCK)
            else:
                v.lru = LRU_CLOCK
            if LFU:
                self._lfu_hit(key)
        return v

    def lookup_read_many(self, keys) -> list:
        """`lookup_read` of each key in turn (MGET), reading the clock once
        for the whole command as Redis's cached command time does."""
        expires = self.expires
        now = clock.now_ms() if expires else 0
        data = self.data
        clk = LRU_CLOCK
        hits = misses = 0
        out = []
        for key in keys:
            if expires:
                when = expires.get(key)
                if when is not None and when < now:
                    self._evict_expired(key)
            v = data.get(key)
            if v is None:
                misses += 1
            else:
                hits += 1
                t = type(v)
                if t is tuple:
                    if v[1] != clk:
                        data[key] = (v[0], clk)
                    v = v[0]
                elif t is bytes or t is int or t is bytearray:
                    data[key] = (v, clk)
                else:
                    v.lru = clk
                if LFU:
                    self._lfu_hit(key)
            out.append(v)
        self.hits += hits
        self.misses += misses
        return out

    def peek_read(self, key):
        """lookupKeyReadWithFlags(NOTOUCH): counts hits and misses but
        leaves the access time alone (TYPE, TTL, EXISTS, OBJECT)."""
        expires = self.expires
        if expires:
            # _expire_if_needed inlined: lookups are the hottest path
            when = expires.get(key)
            if when is not None and when < clock.now_ms():
                self._evict_expired(key)
        v = self.data.get(key)
        if v is None:
            self.misses += 1
        else:
            self.hits += 1
            if type(v) is tuple:
                v = v[0]
        return v

    def value_of(self, key):
        """The value stored under `key`, expired or not, touching nothing
        (DEBUG looks at the dict, not through lookups); None if absent."""
        v = self.data.get(key)
        return v[0] if type(v) is tuple else v

    def is_expired(self, key) -> bool:
        """keyIsExpired: past its TTL, whether or not it is deleted yet."""
        when = self.expires.get(key)
        return when is not None and when < clock.now_ms()

    def expire_if_needed(self, key) -> bool:
        """expireIfNeeded: delete `key` if logically expired; True if so."""
        if self.expires and key in self.expires:
            return self._expire_if_needed(key)
        return False

    def access_time(self, key) -> int | None:
        """The LRU clock of the key's last touching access (None if absent).
        Keys untouched since creation are searched in `born`: O(n), but
        only OBJECT IDLETIME, DEBUG OBJECT and key moves ask."""
        v = self.data.get(key)
        if v is None:
            return None
        if type(v) is tuple:
            return v[1]
        if type(v) not in STRING_TYPES:
            return v.lru
        born = self.born
        try:
            idx = len(born) - 1 - born[::-1].index(key)
        except ValueError:
            return LRU_CLOCK
        marks = self.born_marks
        i = bisect.bisect_right(marks, (idx, float("inf"))) - 1
        return marks[i][1] if i >= 0 else LRU_CLOCK

    def set_access_time(self, key, t: int):
        data = self.data
        v = data[key]
        if type(v) is tuple:
            data[key] = (v[0], t)
        elif type(v) in STRING_TYPES:
            data[key] = (v, t)
        else:
            v.lru = t

    def idle_seconds(self, key) -> int:
        """OBJECT IDLETIME: seconds since the last touching access."""
        t = self.access_time(key)
        return 0 if t is None else max(0, LRU_CLOCK - t)

    def compact_born(self):
        """Drop `born` entries for keys deleted or touched since; keep each
        live key's newest entry, with the clock marks renumbered.  Each
        stretch of one clock value is filtered by a comprehension, so a
        compaction costs tens of nanoseconds an entry."""
        born = self.born
        if len(born) <= len(self.data) + 1024:
            return
        data = self.data
        marks = self.born_marks
        bounds = [i for i, _ in marks[1:]] + [len(born)]
        kept = []
        new_marks = []
        for (start, t), end in zip(marks, bounds):
            # a key still a bare string was not touched since it was created
            part = [k for k in born[start:end] if type(data.get(k)) in STRING_TYPES]
            if part:
                new_marks.append((len(kept), t))
                kept += part
        if len(set(kept)) != len(kept):
            # a key deleted and created again is listed twice: keep the
            # newest entry, the one its creation time is read from
            seen = set()
            keep = [False] * len(kept)
            for i in range(len(kept) - 1, -1, -1):
                if kept[i] not in seen:
                    seen.add(kept[i])
                    keep[i] = True
            old_marks, new_marks, old_kept, kept = new_marks, [], kept, []
            bounds = [i for i, _ in old_marks[1:]] + [len(old_kept)]
            for (start, t), end in zip(old_marks, bounds):
                part = [old_kept[i] for i in range(start, end) if keep[i]]
                if part:
                    new_marks.append((len(kept), t))
                    kept += part
        self.born = kept
        self.born_marks = new_marks

    def _lfu_hit(self, key):
        """updateLFU: decay the counter by the idle periods, then bump it
        with probability 1/((counter - LFU_INIT_VAL) * factor + 1)."""
        counter = self.lfu_counter(key)
        if counter < 255:
            base = counter - LFU_INIT_VAL
            if base < 0:
                base = 0
            if random.random() < 1.0 / (base * LFU_LOG_FACTOR + 1):
                counter += 1
        self.lfu[key] = ((LRU_CLOCK // 60) & 65535) << 8 | counter

    def lfu_counter(self, key) -> int:
        """LFUDecrAndReturn: the counter after its decay (OBJECT FREQ).  A
        key never seen under LFU starts at LFU_INIT_VAL, as if new."""
        word = self.lfu.get(key)
        if word is None:
            return LFU_INIT_VAL
        counter = word & 255
        if LFU_DECAY_TIME:
            now = (LRU_CLOCK // 60) & 65535
            ldt = word >> 8
            elapsed = now - ldt if now >= ldt else 65535 - ldt + now
            periods = elapsed // LFU_DECAY_TIME
            counter = 0 if periods > counter else counter - periods
        return counter

    def lookup_typed(self, key, types, read=True):
        """The value if it is one of `types`, None if absent, else WRONGTYPE."""
        v = self.lookup_read(key) if read else self.lookup(key)
        if v is not None and type(v) not in types:
            raise CommandError(WRONGTYPE)
        return v

    def exists(self, key) -> bool:
        if self.expires and key in self.expires:
            self._expire_if_needed(key)
        return key in self.data

    # --- writes ----------------------------------------------------------
    def set(self, key, value, keepttl=False):
        """setKey: store `value`, dropping any TTL unless `keepttl`.  A key
        past its TTL is deleted first, as setKey's lookupKeyWrite does: its
        watchers see an expiry, then a write (`touch`)."""
        expires = self.expires
        if expires and key in expires and not self._expire_if_needed(key) \
                and not keepttl:
            del expires[key]
        data = self.data
        if key in data:
            t = type(value)
            if t is bytes or t is int or t is bytearray:
                data[key] = (value, LRU_CLOCK)      # an overwrite touches
            else:
                value.lru = LRU_CLOCK
                data[key] = value
        else:
            self._add(key, value)
        if self.floatstr:
            self.floatstr.discard(key)
        if LFU and key not in self.lfu:
            self.lfu[key] = ((LRU_CLOCK // 60) & 65535) << 8 | LFU_INIT_VAL
        if self.watched:
            self.touch(key)

    def _add(self, key, value):
        """dbAdd: a new string key goes into the creation log, a collection
        is stamped (see the module docstring); wakes clients blocked on it."""
        t = type(value)
        if t is bytes or t is int or t is bytearray:
            marks = self.born_marks
            if not marks or marks[-1][1] != LRU_CLOCK:
                marks.append((len(self.born), LRU_CLOCK))
            self.born.append(key)
        else:
            value.lru = LRU_CLOCK
        if self.blocking and key in self.blocking:
            # signalKeyAsReady (dbAdd): served after the current command
            self.keyspace.ready_keys.append((self, key))
        self.data[key] = value

    def set_pairs(self, keys, values):
        """MSET: `set` for each key in turn with its value; a stale key
        expires first, as lookupKeyWrite does."""
        data = self.data
        expires = self.expires
        clk = LRU_CLOCK
        for key, value in zip(keys, values):
            # a stale key expires first (expired_keys, its watchers), a
            # live one loses its TTL
            if expires and key in expires and not self._expire_if_needed(key):
                del expires[key]
            if key in data:
                data[key] = (value, clk)
            else:
                self._add(key, value)
        if self.floatstr or LFU or self.watched:
            for key in keys:
                if self.floatstr:
                    self.floatstr.discard(key)
                if LFU and key not in self.lfu:
                    self.lfu[key] = ((LRU_CLOCK // 60) & 65535) << 8 | LFU_INIT_VAL
                if self.watched:
                    self.touch(key)

    def replace(self, key, value):
        """Store a new value for an existing key, keeping its TTL (INCR...)."""
        t = type(value)
        if t is bytes or t is int or t is bytearray:
            self.data[key] = (value, LRU_CLOCK)
        else:
            value.lru = LRU_CLOCK
            self.data[key] = value
        if self.floatstr:
            self.floatstr.discard(key)
        if self.watched:
            self.touch(key)

    def delete(self, key) -> bool:
        if self.expires and key in self.expires:
            if self._expire_if_needed(key):
                return False
            del self.expires[key]
        try:
            del self.data[key]
        except KeyError:
            return False
        if self.floatstr:
            self.floatstr.discard(key)
        if LFU:
            self.lfu.pop(key, None)
        if self.watched:
            self.touch(key)
        return True

    def move_to(self, key, dst: "Db", dst_key):
        """RENAME/MOVE: the value object itself moves in Redis, so its TTL,
        access time, LFU counter and encoding go with it.  `key` must be
        live and `dst_key` free."""
        value = self.value_of(key)
        when = self.expires.get(key)
        atime = self.access_time(key)
        lfu = self.lfu.get(key)
        floaty = key in self.floatstr
        dst.set(dst_key, value)
        if when is not None:
            dst.set_expire(dst_key, when)
        self.delete(key)
        if atime is not None:
            dst.set_access_time(dst_key, atime)
        if lfu is not None:
            dst.lfu[dst_key] = lfu
        if floaty:
            dst.floatstr.add(dst_key)

    def set_expire(self, key, when_ms: int):
        self.expires[key] = when_ms
        if self.watched:
            self.touch(key)

    def persist(self, key) -> bool:
        if self.expires.pop(key, None) is None:
            return False
        if self.watched:
            self.touch(key)
        return True

    def get_expire(self, key) -> int | None:
        return self.expires.get(key) if self.expires else None

    def touch(self, key):
        """signalModifiedKey (touchWatchedKey): dirty the clients WATCHing
        `key`, in WATCH order, and unwatch them, as their EXEC can only
        fail now.  A watch taken while the key was already expired is not
        dirtied by the key's deletion, which changes nothing a client
        could see: its flag is cleared, so re-creating the key dirties it.
        A flagged watch whose key exists stops the walk, leaving the
        watchers after it untouched: Redis 7.0 `break`s there."""
        clients = self.watched.get(key)
        if clients:
            # unwatch_all removes entries from `clients`: walk a copy
            for c, expired in list(clients.items()):
                if expired:
                    if key in self.data:
                        break
                    clients[c] = False
                    continue
                c.dirty_cas = True
                unwatch_all(c)

    def touch_all_watched(self, replaced_with: "Db | None" = None):
        """touchAllWatchedKeysInDb: this db is emptied (FLUSHDB, FLUSHALL)
        or its contents replaced with `replaced_with`'s (SWAPDB); dirty the
        watches of keys that exist on either side.  Not a watch whose key
        stays logically absent: one flagged expired whose key goes away or
        is replaced with another expired one, or one of an absent key that
        an expired one replaces, which is flagged instead.  The dirtied
        clients stay watching, as in Redis 7.0.9 and later."""
        data = self.data
        other = replaced_with.data if replaced_with is not None else {}
        for key, clients in self.watched.items():
            here = key in data
            there = key in other
            if not (here or there):
                continue
            for c, expired in clients.items():
                if expired:
                    if not there:
                        clients[c] = False
                        continue
                    if replaced_with.is_expired(key):
                        continue
                elif not here and replaced_with.is_expired(key):
                    clients[c] = True
                    continue
                c.dirty_cas = True

    def flush(self):
        if self.watched:
            self.touch_all_watched()
        self.data = {}
        self.expires = {}
        self.born = []
        self.born_marks = []
        self.lfu = {}
        self.floatstr = set()
        self.avg_ttl = 0
        self.expire_cursor = []

    def size(self) -> int:
        return len(self.data)


class Keyspace:
    """All databases plus the expiry machinery shared by them."""

    def __init__(self, ndbs: int = 16):
        self.stats = Stats()
        self.dbs = [Db(i, self) for i in range(ndbs)]
        self.stats.dbs = self.dbs
        self.active_expire_enabled = True
        self.dirty = 0          # changes since the last save (INFO rdb_changes...)
        self.ready_keys = []    # (db, key) made ready for blocked clients

    def __getitem__(self, i) -> Db:
        return self.dbs[i]

    def swap(self, i: int, j: int):
        """dbSwapDatabases: exchange the contents of dbs i and j.  Clients,
        WATCHes and blocked keys stay with the db number; WATCHes of keys
        whose value changes are dirtied (Db.touch_all_watched)."""
        a, b = self.dbs[i], self.dbs[j]
        if a is b:
            return
        if a.watched:
            a.touch_all_watched(b)
        if b.watched:
            b.touch_all_watched(a)
        for attr in ("data", "expires", "born", "born_marks", "lfu",
                     "floatstr", "avg_ttl", "expire_cursor"):
            x = getattr(a, attr)
            setattr(a, attr, getattr(b, attr))
            setattr(b, attr, x)
        # scanDatabaseForReadyLists: waited keys that now exist are ready
        for db in (a, b):
            for key in db.blocking:
                if key in db.data:
                    self.ready_keys.append((db, key))

    def tick(self, config=None):
        """Refresh the cached LRU clock and LFU settings, and compact the
        creation logs (serverCron)."""
        global LRU_CLOCK, LFU, LFU_LOG_FACTOR, LFU_DECAY_TIME
        LRU_CLOCK = clock.now_ms() // 1000
        for db in self.dbs:
            db.compact_born()
        if config is not None:
            LFU = "lfu" in getattr(config, "maxmemory_policy", "noeviction")
            LFU_LOG_FACTOR = getattr(config, "lfu_log_factor", 10)
            LFU_DECAY_TIME = getattr(config, "lfu_decay_time", 1)

    def __len__(self):
        return len(self.dbs)
