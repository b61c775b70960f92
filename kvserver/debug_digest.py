"""DEBUG DIGEST and DIGEST-VALUE: Redis's dataset fingerprint (debug.c).

Two datasets get the same digest on kvserver and on redis-server exactly
when they hold the same keys, types, values and set of volatile keys, so
tests can compare whole datasets across the two.  The building blocks:

- xor(d, data):  d ^= SHA1(data); order-free, for set-like collections.
- mix(d, data):  d = SHA1(d ^ SHA1(data)); order-sensitive.

For each key: mix the key name, mix the type number (4 bytes, big endian),
then the value (strings: mix the bytes; lists: mix each element in order;
sets: xor each member; hashes: per field, xor the 20 bytes of
mix(mix(field), value); sorted sets: the same with the member and its
score as "%.17g"; streams: mix each "ms.seq" id, then each field and
value), then xor "!!expire!!" if the key has a TTL (the time itself is not
part of it).  Each key's digest is xored (as 20 bytes) into the result;
each non-empty db first mixes its index.

Digests are 160-bit ints here; values of the aggregate types are read
through the small iteration contract in `_VALUE_DIGESTS` (documented per
type there), so a type's module can register its own function if its
class iterates differently.
"""

import hashlib
import struct

from kvserver.net.resp import format_double

_sha1 = hashlib.sha1
_EXPIRE_MARK = b"!!expire!!"

# OBJ_STRING ... OBJ_STREAM, as the 4-byte aux word Redis mixes in
_TYPE_WORDS = {name: struct.pack(">I", n) for name, n in (
    ("string", 0), ("list", 1), ("set", 2), ("zset", 3), ("hash", 4),
    ("module", 5), ("stream", 6))}


def _h(data) -> int:
    return int.from_bytes(_sha1(data).digest(), "big")


def xor(d: int, data) -> int:
    return d ^ _h(data)


def xor_digest(d: int, other: int) -> int:
    """xorDigest(d, other, 20): folds in the SHA1 of a 20-byte digest."""
    return d ^ _h(other.to_bytes(20, "big"))


def mix(d: int, data) -> int:
    return _h((d ^ _h(data)).to_bytes(20, "big"))


def as_bytes(v) -> bytes:
    """An element as Redis would decode it (integers to their decimal text)."""
    t = type(v)
    if t is bytes:
        return v
    if t is int:
        return b"%d" % v
    return bytes(v)


def _list(d, value):
    # iterating a list yields its elements from head to tail
    for e in value:
        d = mix(d, as_bytes(e))
    return d


def _set(d, value):
    # Set.members(): every member as bytes
    for e in value.members():
        d = xor(d, e)
    return d


def _hash(d, value):
    # Hash.flat(): field, value, field, value...
    flat = value.flat()
    for i in range(0, len(flat), 2):
        d = xor_digest(d, mix(mix(0, flat[i]), flat[i + 1]))
    return d


def _zset(d, value):
    # .items() yields (member, score) pairs
    for member, score in value.items():
        d = xor_digest(d, mix(mix(0, as_bytes(member)), format_double(score)))
    return d


def _stream(d, value):
    # .entries() yields ((ms, seq), [field, value, ...]) in id order
    for (ms, seq), fields in value.entries():
        d = mix(d, b"%d.%d" % (ms, seq))
        for f in fields:
            d = mix(d, as_bytes(f))
    return d


_VALUE_DIGESTS = {"list": _list, "set": _set, "hash": _hash, "zset": _zset,
                  "stream": _stream}


def register(type_name: str, fn):
    """Let a type module supply fn(digest, value) -> digest for its values."""
    _VALUE_DIGESTS[type_name] = fn


def object_digest(db, key, value, d: int = 0) -> int:
    """xorObjectDigest: type, value and the TTL mark mixed into `d`."""
    t = type(value)
    if t is bytes or t is bytearray or t is int:
        d = mix(d, _TYPE_WORDS["string"])
        d = mix(d, as_bytes(value))
    else:
        name = value.TYPE
        d = mix(d, _TYPE_WORDS[name])
        d = _VALUE_DIGESTS[name](d, value)
    if db.expires and key in db.expires:
        d = xor(d, _EXPIRE_MARK)
    return d


def dataset_digest(keyspace) -> int:
    """computeDatasetDigest over every db, logically expired keys included
    (DEBUG looks at the dict, not through lookups)."""
    final = 0
    for db in keyspace.dbs:
        if not db.data:
            continue
        final = mix(final, struct.pack(">I", db.id))
        for key, value in db.data.items():
            if type(value) is tuple:    # a string with its LRU clock
                value = value[0]
            final = xor_digest(final, object_digest(db, key, value, mix(0, key)))
    return final


def hex_digest(d: int) -> bytes:
    return b"%040x" % d
