"""The databases: a main dict and an expires dict each, and key lookup.

Invariants:
- `Db.data` maps key bytes to the value itself.  Strings are stored as
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
"""

from kvserver import clock
from kvserver.errors import WRONGTYPE, CommandError

STRING_TYPES = (bytes, bytearray, int)


def type_name(value) -> str:
    if type(value) in STRING_TYPES:
        return "string"
    return value.TYPE


class Stats:
    """Key-related counters INFO stats reports."""

    __slots__ = ("hits", "misses", "expired", "expired_stale_perc",
                 "expired_time_cap_reached", "expire_cycle_cpu_ms", "evicted")

    def __init__(self):
        self.reset()

    def reset(self):
        self.hits = self.misses = self.expired = 0
        self.expired_stale_perc = 0.0
        self.expired_time_cap_reached = 0
        self.expire_cycle_cpu_ms = 0
        self.evicted = 0


class Db:
    __slots__ = ("id", "data", "expires", "watched", "keyspace", "avg_ttl")

    def __init__(self, id: int, keyspace: "Keyspace"):
        self.id = id
        self.data = {}
        self.expires = {}
        self.watched = {}       # key -> set of clients WATCHing it
        self.keyspace = keyspace
        self.avg_ttl = 0

    # --- lookups ---------------------------------------------------------
    def _expire_if_needed(self, key) -> bool:
        """Delete `key` if its TTL has passed; True if it was deleted."""
        when = self.expires.get(key)
        if when is None or when > clock.now_ms():
            return False
        self._evict_expired(key)
        return True

    def _evict_expired(self, key):
        del self.data[key]
        del self.expires[key]
        self.keyspace.stats.expired += 1
        self.touch(key)

    def lookup(self, key):
        """The live value of `key` or None, without touching hit/miss stats."""
        if self.expires and key in self.expires:
            self._expire_if_needed(key)
        return self.data.get(key)

    def lookup_read(self, key):
        """lookupKeyRead: like `lookup`, counting keyspace hits and misses."""
        if self.expires and key in self.expires:
            self._expire_if_needed(key)
        v = self.data.get(key)
        if v is None:
            self.keyspace.stats.misses += 1
        else:
            self.keyspace.stats.hits += 1
        return v

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
        """setKey: store `value`, dropping any TTL unless `keepttl`."""
        self.data[key] = value
        if not keepttl and self.expires:
            self.expires.pop(key, None)
        if self.watched:
            self.touch(key)

    def replace(self, key, value):
        """Store a new value for an existing key, keeping its TTL (INCR...)."""
        self.data[key] = value
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
        if self.watched:
            self.touch(key)
        return True

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
        """signalModifiedKey: invalidate WATCHes on `key`."""
        clients = self.watched.get(key)
        if clients:
            for c in clients:
                c.dirty_cas = True

    def flush(self):
        if self.watched:
            for key in list(self.data):
                self.touch(key)
        self.data = {}
        self.expires = {}

    def size(self) -> int:
        return len(self.data)


class Keyspace:
    """All databases plus the expiry machinery shared by them."""

    def __init__(self, ndbs: int = 16):
        self.stats = Stats()
        self.dbs = [Db(i, self) for i in range(ndbs)]
        self.active_expire_enabled = True
        self.dirty = 0          # changes since the last save (INFO rdb_changes...)

    def __getitem__(self, i) -> Db:
        return self.dbs[i]

    def __len__(self):
        return len(self.dbs)
