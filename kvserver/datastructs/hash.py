"""The hash type, layered as t_hash.c is: listpack, hashtable, then the API.

A `Hash` holds its contents in one slot, `_v`:

- `bytes` while the hash is a "listpack": the fields and values packed in
  one immutable blob, `marshal.dumps((f0, v0, f1, v1, ...))`, in listpack
  order (a new field goes to the tail, an update keeps its place, a delete
  closes the gap).  marshal packs and unpacks in C, and the blob costs about
  5 bytes of overhead per string against ~40 for a `bytes` object, which is
  what keeps 100k small hashes within 2x of Redis's memory.  Every read
  unpacks it and every write repacks it: O(N) per operation with N bounded
  by `hash-max-listpack-entries`, as Redis's listpack scans are.
- a `dict` field -> value once converted to a "hashtable": when a field or
  value longer than `hash-max-listpack-value` is written, or the count goes
  past `hash-max-listpack-entries`.  Conversions are one-way, as in Redis.
  The dict keeps the listpack's order at conversion time and insertion
  order after; Redis's dict order is unspecified, so clients cannot rely on
  either.

Invariants: fields are distinct; fields and values are `bytes`; a blob is
never empty for a key in the keyspace (commands delete emptied hashes).
Commands pass the thresholds from the config on every write, so CONFIG SET
takes effect at the next write, as in Redis.
"""

import marshal
from itertools import chain
from random import random as _random

_loads = marshal.loads
_dumps = marshal.dumps
_EMPTY = _dumps(())


# ---------------------------------------------------------------------------
# Listpack layer: functions over the packed tuple
# ---------------------------------------------------------------------------

def _find(t: tuple, field) -> int:
    """Index of `field` among the even (field) slots of `t`, or -1."""
    i = 0
    index = t.index
    try:
        while True:
            i = index(field, i)
            if not i & 1:
                return i
            i += 1
    except ValueError:
        return -1


def blob_len(blob: bytes) -> int:
    """Number of fields in a blob, read from marshal's tuple header without
    unpacking: TYPE_SMALL_TUPLE ')' with a 1-byte count or TYPE_TUPLE '('
    with a 4-byte little-endian count, either possibly with FLAG_REF (0x80)."""
    if blob[0] & 0x7f == 0x29:
        return blob[1] >> 1
    return int.from_bytes(blob[1:5], "little") >> 1


def pack(flat) -> bytes:
    return _dumps(flat if type(flat) is tuple else tuple(flat))


def _to_dict(t: tuple) -> dict:
    return dict(zip(t[::2], t[1::2]))


# ---------------------------------------------------------------------------
# Encoding-agnostic API
# ---------------------------------------------------------------------------

class Hash:
    TYPE = "hash"
    __slots__ = ("_v",)

    def __init__(self, v=_EMPTY):
        self._v = v

    def encoding(self) -> str:
        return "listpack" if type(self._v) is bytes else "hashtable"

    def is_listpack(self) -> bool:
        return type(self._v) is bytes

    def __len__(self):
        v = self._v
        if type(v) is bytes:
            return blob_len(v)
        return len(v)

    def convert(self):
        """hashTypeConvert: listpack to hashtable."""
        v = self._v
        if type(v) is bytes:
            self._v = _to_dict(_loads(v))

    # --- reads ---------------------------------------------------------------
    def get(self, field):
        v = self._v
        if type(v) is bytes:
            t = _loads(v)
            i = _find(t, field)
            return t[i + 1] if i >= 0 else None
        return v.get(field)

    def exists(self, field) -> bool:
        v = self._v
        if type(v) is bytes:
            return _find(_loads(v), field) >= 0
        return field in v

    def flat(self):
        """f0, v0, f1, v1... in iteration order (a tuple or a list)."""
        v = self._v
        if type(v) is bytes:
            return _loads(v)
        return list(chain.from_iterable(v.items()))

    def fields(self):
        v = self._v
        if type(v) is bytes:
            return _loads(v)[::2]
        return list(v)

    def values(self):
        v = self._v
        if type(v) is bytes:
            return _loads(v)[1::2]
        return list(v.values())

    def table(self):
        """The dict while hashtable-encoded (what HSCAN walks), else None."""
        v = self._v
        return None if type(v) is bytes else v

    def as_dict(self) -> dict:
        v = self._v
        if type(v) is bytes:
            return _to_dict(_loads(v))
        return v

    def random_pair(self):
        """One (field, value) pair, uniformly."""
        v = self._v
        if type(v) is bytes:
            t = _loads(v)
            i = int(_random() * (len(t) >> 1)) << 1
            return t[i], t[i + 1]
        # O(N): a dict has no random access; hashes this big are rare
        # targets of HRANDFIELD without a count.
        n = int(_random() * len(v))
        for i, f in enumerate(v):
            if i == n:
                return f, v[f]

    # --- writes --------------------------------------------------------------
    def set(self, field, value, max_entries: int, max_value: int) -> bool:
        """hashTypeSet for one pair: True if the field is new.  A field or
        value too long for the listpack converts first, as Redis checks
        in hashTypeSet itself (this is what HINCRBY* and HSETNX rely on)."""
        v = self._v
        if type(v) is bytes:
            if len(field) > max_value or len(value) > max_value:
                self._v = v = _to_dict(_loads(v))
            else:
                t = _loads(v)
                i = _find(t, field)
                if i >= 0:
                    # the count is checked after updates too: a limit
                    # lowered by CONFIG SET converts at the next write
                    if len(t) > max_entries << 1:
                        t = t[:i + 1] + (value,) + t[i + 2:]
                        self._v = _to_dict(t)
                    elif t[i + 1] != value:
                        self._v = _dumps(t[:i + 1] + (value,) + t[i + 2:])
                    return False
                t += (field, value)
                if len(t) > max_entries << 1:
                    self._v = _to_dict(t)
                else:
                    self._v = _dumps(t)
                return True
        created = field not in v
        v[field] = value
        return created

    def set_pairs(self, argv, start: int, max_entries: int, max_value: int) -> int:
        """HSET/HMSET: argv[start:] are field, value pairs; returns how many
        fields were new.  hashTypeTryConversion first: any argument longer
        than the value limit converts the listpack before anything is set."""
        v = self._v
        end = len(argv)
        if type(v) is bytes:
            for i in range(start, end):
                if len(argv[i]) > max_value:
                    self._v = v = _to_dict(_loads(v))
                    break
            else:
                if end - start == 2:
                    return int(self.set(argv[start], argv[start + 1],
                                        max_entries, max_value))
                d = _to_dict(_loads(v))
                n = len(d)
                for i in range(start, end, 2):
                    d[argv[i]] = argv[i + 1]
                created = len(d) - n
                if len(d) > max_entries:
                    self._v = d
                else:
                    self._v = _dumps(tuple(chain.from_iterable(d.items())))
                return created
        n = len(v)
        for i in range(start, end, 2):
            v[argv[i]] = argv[i + 1]
        return len(v) - n

    def delete(self, fields) -> int:
        """Remove `fields`; returns how many were there."""
        v = self._v
        deleted = 0
        if type(v) is bytes:
            t = _loads(v)
            for f in fields:
                i = _find(t, f)
                if i >= 0:
                    t = t[:i] + t[i + 2:]
                    deleted += 1
            if deleted:
                self._v = _dumps(t)
            return deleted
        for f in fields:
            if v.pop(f, None) is not None:
                deleted += 1
        return deleted

    def copy(self) -> "Hash":
        """A copy with the same encoding (COPY, hashTypeDup)."""
        v = self._v
        return Hash(v if type(v) is bytes else dict(v))

    def __repr__(self):
        return f"<Hash {self.encoding()} {self.as_dict()!r}>"
