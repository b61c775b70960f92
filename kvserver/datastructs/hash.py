"""The hash type, layered as t_hash.c is: listpack, hashtable, then the API.

A `Hash` holds its contents in one slot, `_v`, in one of three states:

- `bytes` while the hash is a frozen "listpack": the fields and values
  packed in one immutable blob (see `pack`), in listpack order (a new
  field goes to the tail, an update keeps its place, a delete closes the
  gap).  A blob costs one byte of overhead per string against ~40 for a
  `bytes` object; that is what keeps 100k small hashes within 2x of
  Redis's memory (bench/memory_types.py).
- `tuple` while the listpack is thawed (kvserver.datastructs.thaw): the
  flat f0, v0, f1, v1... that `unpack` returns.  The first access in a
  loop turn, read or write, unpacks the blob once and registers the hash;
  later commands in the turn scan and rebuild the tuple (O(N), N bounded
  by `hash-max-listpack-entries`, as Redis's listpack scans are) and
  `thaw.freeze_all` packs it back, or restores the original blob when
  nothing changed.  Where the native helper is built, a single field read
  or written on a blob needs no thaw: `get`, `exists` and `set` search
  the blob in C and a write joins a new blob around the changed item, so
  traffic spread over many hashes pays neither unpack nor pack.  Bytes and tuple are one encoding, "listpack", to
  every caller; only registered objects hold a tuple, so a Hash built
  fresh (`Hash()`, `copy`) holds a blob.
- a `dict` field -> value once converted to a "hashtable": when a field or
  value longer than `hash-max-listpack-value` is written, or the count goes
  past `hash-max-listpack-entries`.  Conversions are one-way, as in Redis.
  The dict keeps the listpack's order at conversion time and insertion
  order after; Redis's dict order is unspecified, so clients cannot rely on
  either.

Invariants: fields are distinct; fields and values are `bytes`; a listpack
is never empty for a key in the keyspace (commands delete emptied hashes).
Freezing may happen between any two calls (freeze_all also runs when a
turn thaws more than thaw.THAWED_MAX objects), so every method looks at
`_v` afresh: none keeps a tuple across calls.  HSET and HGET in
commands/hashes.py inline `set`'s and `get`'s thawed-tuple cases (reading
`_v`, and for HSET replacing the tuple of a hash already registered):
keep them in step with the methods here.
Commands pass the thresholds from the config on every write, so CONFIG SET
takes effect at the next write, as in Redis.
"""

import marshal
import struct
from itertools import chain
from random import random as _random

from kvserver.datastructs.thaw import thawed as _thawed
from kvserver.native import lib as _native

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
_LEN_BYTE = [bytes((i,)) for i in range(256)]
# Searches a tagged blob in C (kvserver/native); without it a blob is
# thawed for every access, as the module docstring describes.
_find_in_blob = _native.hash_blob_find if _native is not None else None


def _find(t, field, i: int) -> int:
    """Index of `field` among the even (field) slots of the tuple or list
    `t` from index `i` on, or -1."""
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

# set_pairs edits a listpack pair by pair, O(N) a pair, up to this many
# pairs; more go through a dict, O(N + pairs), as one big HMSET should.
_PAIRWISE_MAX = 8


class Hash:
    TYPE = "hash"
    __slots__ = ("_v", "lru")

    def __init__(self, v=_EMPTY):
        self._v = v
        self.lru = 0            # the LRU clock, stamped by the keyspace

    def _thaw(self, blob: bytes) -> tuple:
        """Unpack `blob` into `_v` until the next thaw.freeze_all."""
        t = self._v = unpack(blob)
        return _thawed(self, blob, t)

    def _freeze(self, blob: bytes, t: tuple):
        v = self._v
        if v is t:
            self._v = blob
        elif type(v) is tuple:
            self._v = pack(v)
        # else converted to a dict meanwhile: nothing to pack

    def _listpack(self) -> tuple:
        """The listpack's tuple (thawing a blob); the caller checked that
        `_v` is not a dict."""
        v = self._v
        return v if type(v) is tuple else self._thaw(v)

    def encoding(self) -> str:
        return "hashtable" if type(self._v) is dict else "listpack"

    def is_listpack(self) -> bool:
        return type(self._v) is not dict

    def __len__(self):
        v = self._v
        t = type(v)
        if t is tuple:
            return len(v) >> 1
        if t is bytes:
            return blob_len(v)
        return len(v)

    def convert(self):
        """hashTypeConvert: listpack to hashtable."""
        v = self._v
        t = type(v)
        if t is tuple:
            self._v = _to_dict(v)
        elif t is bytes:
            self._v = _to_dict(unpack(v))

    # --- reads ---------------------------------------------------------------
    def get(self, field):
        t = self._v
        tt = type(t)
        if tt is not tuple:
            if tt is dict:
                return t.get(field)
            if _find_in_blob is not None:
                r = _find_in_blob(t, len(t), field, len(field))
                if r >= 0:
                    off = r >> 16
                    return t[off:off + t[4 + (r & 0xffff)]]
                if r == -1:
                    return None
            t = self._thaw(t)
        try:
            i = t.index(field)
        except ValueError:
            return None
        if i & 1:
            i = _find(t, field, i + 1)
            if i < 0:
                return None
        return t[i + 1]

    def exists(self, field) -> bool:
        t = self._v
        tt = type(t)
        if tt is not tuple:
            if tt is dict:
                return field in t
            if _find_in_blob is not None:
                r = _find_in_blob(t, len(t), field, len(field))
                if r != -2:
                    return r >= 0
            t = self._thaw(t)
        try:
            i = t.index(field)
        except ValueError:
            return False
        return not i & 1 or _find(t, field, i + 1) >= 0

    def flat(self):
        """f0, v0, f1, v1... in iteration order (a tuple or a list)."""
        v = self._v
        t = type(v)
        if t is tuple:
            return v
        if t is bytes:
            return self._thaw(v)
        return list(chain.from_iterable(v.items()))

    def fields(self):
        v = self._v
        if type(v) is dict:
            return list(v)
        return self._listpack()[::2]

    def values(self):
        v = self._v
        if type(v) is dict:
            return list(v.values())
        return self._listpack()[1::2]

    def table(self):
        """The dict while hashtable-encoded (what HSCAN walks), else None."""
        v = self._v
        return v if type(v) is dict else None

    def as_dict(self) -> dict:
        v = self._v
        if type(v) is dict:
            return v
        return _to_dict(self._listpack())

    def random_pair(self):
        """One (field, value) pair, uniformly."""
        v = self._v
        if type(v) is not dict:
            t = self._listpack()
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
        t = self._v
        tt = type(t)
        if tt is not tuple:
            if tt is dict:
                created = field not in t
                t[field] = value
                return created
            if len(field) > max_value or len(value) > max_value:
                self._v = d = _to_dict(unpack(t))
                created = field not in d
                d[field] = value
                return created
            if t is _EMPTY:
                # a new key: its first pair goes straight into a blob,
                # which a second write in the same turn thaws
                if max_entries < 1:
                    self._v = {field: value}
                else:
                    self._v = pack((field, value))
                return True
            if _find_in_blob is not None and len(field) < 256 > len(value):
                created = self._set_in_blob(t, field, value, max_entries)
                if created is not None:
                    return created
            t = self._thaw(t)
        elif len(field) > max_value or len(value) > max_value:
            self._v = d = _to_dict(t)
            created = field not in d
            d[field] = value
            return created
        try:
            i = t.index(field)
        except ValueError:
            i = -1
        else:
            if i & 1:
                i = _find(t, field, i + 1)
        if i >= 0:
            # the count is checked after updates too: a limit lowered by
            # CONFIG SET converts at the next write
            if len(t) > max_entries << 1:
                d = self._v = _to_dict(t)
                d[field] = value
            elif t[i + 1] != value:
                lst = list(t)       # cheaper than slicing and joining
                lst[i + 1] = value
                self._v = tuple(lst)
            return False
        t += (field, value)
        self._v = _to_dict(t) if len(t) > max_entries << 1 else t
        return True

    def _set_in_blob(self, blob: bytes, field, value, max_entries: int):
        """`set` on a frozen blob, edited in place of thawing it: a write
        to a hash not touched earlier in the loop turn (random keys) costs
        a native search and one join instead of an unpack and a pack.
        None when the blob is not in the tagged form."""
        r = _find_in_blob(blob, len(blob), field, len(field))
        if r == -2:
            return None
        n = blob[1] | blob[2] << 8
        if r >= 0:
            if n > max_entries << 1:
                d = self._v = _to_dict(unpack(blob))
                d[field] = value
                return False
            i = r & 0xffff
            off = r >> 16
            end = off + blob[4 + i]
            if blob[off:end] != value:
                self._v = b"".join((blob[:4 + i], _LEN_BYTE[len(value)],
                                    blob[5 + i:off], value, blob[end:]))
            return False
        if n + 2 > 0xffff:
            return None                 # past the tagged form: marshal's
        if n + 2 > max_entries << 1:
            self._v = _to_dict(unpack(blob) + (field, value))
            return True
        self._v = b"".join((_HEADER(TAG, n + 2), blob[3:3 + n],
                            _LEN_BYTE[len(field)], _LEN_BYTE[len(value)],
                            blob[3 + n:], field, value))
        return True

    def set_pairs(self, argv, start: int, max_entries: int, max_value: int) -> int:
        """HSET/HMSET: argv[start:] are field, value pairs; returns how many
        fields were new.  hashTypeTryConversion first: any argument longer
        than the value limit converts the listpack before anything is set."""
        v = self._v
        end = len(argv)
        if type(v) is not dict:
            for a in argv[start:]:
                if len(a) > max_value:
                    self.convert()
                    v = self._v
                    break
            else:
                if end - start == 2:
                    return int(self.set(argv[start], argv[start + 1],
                                        max_entries, max_value))
                return self._set_pairs_listpack(argv, start, end, max_entries)
        n = len(v)
        for i in range(start, end, 2):
            v[argv[i]] = argv[i + 1]
        return len(v) - n

    def _set_pairs_listpack(self, argv, start, end, max_entries) -> int:
        v = self._v
        fresh = v is _EMPTY
        if (end - start) >> 1 > _PAIRWISE_MAX:
            # dict order is listpack order: updates keep their place,
            # new fields go to the tail
            d = _to_dict(unpack(v) if type(v) is bytes else v)
            n = len(d)
            for i in range(start, end, 2):
                d[argv[i]] = argv[i + 1]
            created = len(d) - n
            if len(d) > max_entries:
                self._v = d
                return created
            t = tuple(chain.from_iterable(d.items()))
        else:
            # `seq` is the tuple until a pair changes something, then a
            # list: updates to the values already there allocate nothing
            t = seq = () if fresh else (v if type(v) is tuple else self._thaw(v))
            created = 0
            for i in range(start, end, 2):
                f = argv[i]
                try:
                    j = seq.index(f)
                except ValueError:
                    j = -1
                else:
                    if j & 1:
                        j = _find(seq, f, j + 1)
                if j >= 0:
                    value = argv[i + 1]
                    if seq[j + 1] != value:
                        if seq is t:
                            seq = list(t)
                        seq[j + 1] = value
                else:
                    if seq is t:
                        seq = list(t)
                    seq.append(f)
                    seq.append(argv[i + 1])
                    created += 1
            if len(seq) > max_entries << 1:
                self._v = _to_dict(seq)
                return created
            if seq is t:
                return 0
            t = tuple(seq)
        # a new key is packed at once, a thawed hash keeps its tuple; an
        # unthawed blob is replaced by a new blob without registering
        self._v = pack(t) if type(self._v) is bytes else t
        return created

    def delete(self, fields) -> int:
        """Remove `fields`; returns how many were there."""
        v = self._v
        deleted = 0
        if type(v) is not dict:
            seq = self._listpack()
            for f in fields:
                i = _find(seq, f, 0)
                if i >= 0:
                    if not deleted:
                        seq = list(seq)
                    del seq[i:i + 2]
                    deleted += 1
            if deleted:
                self._v = tuple(seq)
            return deleted
        for f in fields:
            if v.pop(f, None) is not None:
                deleted += 1
        return deleted

    def copy(self) -> "Hash":
        """A copy with the same encoding (COPY, hashTypeDup).  The copy is
        never thawed: only registered objects may hold a tuple."""
        v = self._v
        t = type(v)
        if t is bytes:
            return Hash(v)
        if t is tuple:
            return Hash(pack(v))
        return Hash(dict(v))

    def __repr__(self):
        return f"<Hash {self.encoding()} {self.as_dict()!r}>"
