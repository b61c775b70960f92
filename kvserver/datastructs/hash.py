"""The hash type, layered as t_hash.c is: listpack, hashtable, then the API.

A `Hash` holds its contents in one slot, `_v`:

- `bytes` while the hash is a "listpack": the fields and values packed in
  one immutable blob (see `pack`), in listpack order (a new field goes to
  the tail, an update keeps its place, a delete closes the gap).  Every
  read unpacks it and every write repacks it, both in C: O(N) per
  operation with N bounded by `hash-max-listpack-entries`, as Redis's
  listpack scans are.  A blob costs one byte of overhead per string
  against ~40 for a `bytes` object; that is what keeps 100k small hashes
  within 2x of Redis's memory (bench/memory_types.py).
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
import struct
from itertools import chain
from random import random as _random

_loads = marshal.loads
_dumps = marshal.dumps
_Struct = struct.Struct


# ---------------------------------------------------------------------------
# Listpack layer: functions over the packed tuple
# ---------------------------------------------------------------------------

# The packed form: TAG, the item count (2 bytes, little-endian), one length
# byte per item, then the items back to back.  Unpacking is one
# `Struct("<7s7s...").unpack_from` call; the Structs are cached by their
# length bytes, which hashes of the same shape share.  Items of 256 bytes
# or more (a raised hash-max-listpack-value) or more than 65535 items fall
# back to marshal, whose data never starts with TAG.
TAG = 1
_STRUCTS = {}
# A Struct costs ~35 bytes per item: the cache is emptied when the items of
# its Structs would pass this many (~2 MB), which bounds it whatever the
# variety of shapes; rebuilding one costs ~2 us for 20 items.
_STRUCT_ITEMS_MAX = 1 << 16
_struct_items = 0


def _struct_for(lens: bytes):
    global _struct_items
    if _struct_items + len(lens) > _STRUCT_ITEMS_MAX:
        _STRUCTS.clear()
        _struct_items = 0
    st = _Struct("<" + "".join(["%ds" % n for n in lens]))
    if len(lens) <= _STRUCT_ITEMS_MAX:
        _STRUCTS[lens] = st
        _struct_items += len(lens)
    return st


_HEADER = _Struct("<BH").pack


def pack(t: tuple) -> bytes:
    """The blob for the flat tuple f0, v0, f1, v1..."""
    n = len(t)
    if n < 0x10000:
        try:
            lens = bytes(map(len, t))
        except ValueError:          # an item of 256 bytes or more
            return _dumps(t)
        return b"".join((_HEADER(TAG, n), lens, b"".join(t)))
    return _dumps(t)


def unpack(blob: bytes) -> tuple:
    if blob[0] != TAG:
        return _loads(blob)
    end = 3 + (blob[1] | blob[2] << 8)
    lens = blob[3:end]
    st = _STRUCTS.get(lens)
    if st is None:
        st = _struct_for(lens)
    return st.unpack_from(blob, end)


_EMPTY = pack(())


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
    """Number of fields in a blob, from its header alone.  Marshal's tuple
    header is TYPE_SMALL_TUPLE ')' with a 1-byte count or TYPE_TUPLE '('
    with a 4-byte little-endian count, possibly with FLAG_REF (0x80)."""
    b0 = blob[0]
    if b0 == TAG:
        return (blob[1] | blob[2] << 8) >> 1
    if b0 & 0x7f == 0x29:
        return blob[1] >> 1
    return int.from_bytes(blob[1:5], "little") >> 1


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
            self._v = _to_dict(unpack(v))

    # --- reads ---------------------------------------------------------------
    def get(self, field):
        v = self._v
        if type(v) is bytes:
            t = unpack(v)
            i = _find(t, field)
            return t[i + 1] if i >= 0 else None
        return v.get(field)

    def exists(self, field) -> bool:
        v = self._v
        if type(v) is bytes:
            return _find(unpack(v), field) >= 0
        return field in v

    def flat(self):
        """f0, v0, f1, v1... in iteration order (a tuple or a list)."""
        v = self._v
        if type(v) is bytes:
            return unpack(v)
        return list(chain.from_iterable(v.items()))

    def fields(self):
        v = self._v
        if type(v) is bytes:
            return unpack(v)[::2]
        return list(v)

    def values(self):
        v = self._v
        if type(v) is bytes:
            return unpack(v)[1::2]
        return list(v.values())

    def table(self):
        """The dict while hashtable-encoded (what HSCAN walks), else None."""
        v = self._v
        return None if type(v) is bytes else v

    def as_dict(self) -> dict:
        v = self._v
        if type(v) is bytes:
            return _to_dict(unpack(v))
        return v

    def random_pair(self):
        """One (field, value) pair, uniformly."""
        v = self._v
        if type(v) is bytes:
            t = unpack(v)
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
                self._v = v = _to_dict(unpack(v))
            else:
                t = unpack(v)
                i = _find(t, field)
                if i >= 0:
                    # the count is checked after updates too: a limit
                    # lowered by CONFIG SET converts at the next write
                    if len(t) > max_entries << 1:
                        t = t[:i + 1] + (value,) + t[i + 2:]
                        self._v = _to_dict(t)
                    elif t[i + 1] != value:
                        self._v = pack(t[:i + 1] + (value,) + t[i + 2:])
                    return False
                t += (field, value)
                if len(t) > max_entries << 1:
                    self._v = _to_dict(t)
                else:
                    self._v = pack(t)
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
                    self._v = v = _to_dict(unpack(v))
                    break
            else:
                if end - start == 2:
                    return int(self.set(argv[start], argv[start + 1],
                                        max_entries, max_value))
                d = _to_dict(unpack(v))
                n = len(d)
                for i in range(start, end, 2):
                    d[argv[i]] = argv[i + 1]
                created = len(d) - n
                if len(d) > max_entries:
                    self._v = d
                else:
                    self._v = pack(tuple(chain.from_iterable(d.items())))
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
            t = unpack(v)
            for f in fields:
                i = _find(t, f)
                if i >= 0:
                    t = t[:i] + t[i + 2:]
                    deleted += 1
            if deleted:
                self._v = pack(t)
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
