"""The set type, layered as t_set.c is: intset, hashtable, then the API.

A `Set` holds its members in one slot, `_v`:

- an `array('q')` while the set is an intset (see intset.py): every member
  is a canonical 64-bit integer string (string2ll accepts it) and the count
  is at most `set-max-intset-entries` (capped at 2**30 as Redis caps it);
- a `Table` once it was converted to a hashtable, which happens on the
  first non-integer member or when an insertion takes the count past the
  limit.  Conversions are one-way, as in Redis: deleting members never
  turns a hashtable back into an intset.  Only operations that build a new
  set (SPOP with a large count, the *STORE commands) may produce an intset
  from hashtable input, exactly when Redis's own rebuild would.

`Table` keeps the members in a list plus a dict from member to list index,
so that a uniformly random member (SPOP, SRANDMEMBER) costs O(1); removal
moves the last member into the hole.  Its iteration order is unspecified,
as a Redis dict's is; an intset iterates in ascending numeric order, which
Redis's replies expose and this module reproduces.

Encoding decisions live here (`Set.add`, `build`, `result_set`); commands
pass the current `set-max-intset-entries` in.
"""

from array import array
from random import random as _random

from kvserver.datastructs import intset
from kvserver.net.resp import strict_int

INTSET_HARD_LIMIT = 1 << 30     # Redis caps set-max-intset-entries there


def intset_limit(configured: int) -> int:
    return configured if configured < INTSET_HARD_LIMIT else INTSET_HARD_LIMIT


# ---------------------------------------------------------------------------
# Hashtable layer
# ---------------------------------------------------------------------------

class Table:
    """Members (bytes) in a list, with their positions in a dict."""

    __slots__ = ("items", "pos")

    def __init__(self, members=()):
        # callers pass distinct members
        self.items = items = list(members)
        self.pos = {m: i for i, m in enumerate(items)}

    def __len__(self):
        return len(self.items)

    def __contains__(self, m):
        return m in self.pos

    def __iter__(self):
        return iter(self.items)

    def add(self, m) -> bool:
        pos = self.pos
        if m in pos:
            return False
        pos[m] = len(self.items)
        self.items.append(m)
        return True

    def discard(self, m) -> bool:
        i = self.pos.pop(m, None)
        if i is None:
            return False
        items = self.items
        last = items.pop()
        if i < len(items):
            items[i] = last
            self.pos[last] = i
        return True

    def random(self):
        items = self.items
        return items[int(_random() * len(items))]

    def pop_random(self):
        items = self.items
        i = int(_random() * len(items))
        m = items[i]
        last = items.pop()
        del self.pos[m]
        if i < len(items):
            items[i] = last
            self.pos[last] = i
        return m


# ---------------------------------------------------------------------------
# Encoding-agnostic API
# ---------------------------------------------------------------------------

class Set:
    TYPE = "set"
    __slots__ = ("_v", "lru")

    def __init__(self, v):
        self._v = v
        self.lru = 0            # the LRU clock, stamped by the keyspace

    @classmethod
    def create_for(cls, member) -> "Set":
        """setTypeCreate: the empty set that can hold `member` compactly."""
        if strict_int(member) is not None:
            return cls(array(intset.TYPECODE))
        return cls(Table())

    def encoding(self) -> str:
        return "intset" if type(self._v) is array else "hashtable"

    def is_intset(self) -> bool:
        return type(self._v) is array

    def __len__(self):
        return len(self._v)

    def _convert(self):
        self._v = Table(intset.as_bytes(self._v))

    # --- single members ----------------------------------------------------
    def add(self, member, max_intset: int) -> bool:
        v = self._v
        if type(v) is array:
            n = strict_int(member)
            if n is not None:
                if not intset.add(v, n):
                    return False
                if len(v) > intset_limit(max_intset):
                    self._convert()
                return True
            self._convert()
            v = self._v
        pos = v.pos         # Table.add inlined: SADD's hot path
        if member in pos:
            return False
        pos[member] = len(v.items)
        v.items.append(member)
        return True

    def remove(self, member) -> bool:
        v = self._v
        if type(v) is array:
            n = strict_int(member)
            return n is not None and intset.remove(v, n)
        return v.discard(member)

    def contains(self, member) -> bool:
        v = self._v
        if type(v) is array:
            n = strict_int(member)
            return n is not None and intset.contains(v, n)
        return member in v.pos

    def contains_int(self, n: int) -> bool:
        v = self._v
        if type(v) is array:
            return intset.contains(v, n)
        return (b"%d" % n) in v.pos

    # --- whole set ---------------------------------------------------------
    def members(self) -> list:
        """Every member as bytes, in iteration order (ascending for intsets)."""
        v = self._v
        if type(v) is array:
            return intset.as_bytes(v)
        return list(v.items)

    def table(self):
        """The Table while hashtable-encoded (what SSCAN walks), else None."""
        v = self._v
        return None if type(v) is array else v

    def ints(self):
        """The intset's array itself (only valid while is_intset())."""
        return self._v

    def all_ints(self) -> bool:
        """Whether every member is a canonical integer string."""
        v = self._v
        if type(v) is array:
            return True
        for m in v.items:
            if strict_int(m) is None:
                return False
        return True

    def random_member(self):
        v = self._v
        if type(v) is array:
            return b"%d" % v[int(_random() * len(v))]
        return v.random()

    def pop_random(self):
        v = self._v
        if type(v) is array:
            i = int(_random() * len(v))
            n = v[i]
            del v[i]
            return b"%d" % n
        return v.pop_random()

    def copy(self) -> "Set":
        """A copy with the same encoding (COPY, setTypeDup)."""
        v = self._v
        if type(v) is array:
            return Set(array(intset.TYPECODE, v))
        return Set(Table(v.items))

    def __repr__(self):
        return f"<Set {self.encoding()} {self.members()!r}>"


def build(members: list, max_intset: int) -> Set:
    """The set Redis ends up with after adding the distinct `members`, in
    order, to a fresh intset (the *STORE commands, SPOP's rebuild): an
    intset exactly when all are integers and they fit the limit."""
    if len(members) <= intset_limit(max_intset):
        ints = []
        for m in members:
            n = strict_int(m)
            if n is None:
                break
            ints.append(n)
        else:
            ints.sort()
            return Set(array(intset.TYPECODE, ints))
    return Set(Table(members))


def from_ints(ints, max_intset: int) -> Set:
    """Like `build` for distinct integers."""
    ints = sorted(ints)
    if len(ints) <= intset_limit(max_intset):
        return Set(array(intset.TYPECODE, ints))
    return Set(Table([b"%d" % n for n in ints]))


def as_table(members: list) -> Set:
    """A hashtable-encoded set of the distinct `members`."""
    return Set(Table(members))
