"""Bitmap commands (bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
BITFIELD and BITFIELD_RO.

A bitmap is a plain string value (see commands/strings.py): bit 0 is the
most significant bit of byte 0.  Reads accept any string form (an `int`
value reads as its decimal digits, as Redis reads an int-encoded string).
Every command that may write leaves the value as a `bytearray`, mutated in
place, so repeated SETBIT/BITFIELD cost O(1) amortized and OBJECT ENCODING
says "raw", as it does once Redis has unshared the string
(dbUnshareStringValue).  Unsharing alone is not a modification: it does not
touch WATCHes, as dbOverwrite does not signal.

Whole-range work never walks bits in Python: counting uses
`int.bit_count` over big-endian chunks, searching uses `int.bit_length`,
BITOP combines the inputs as little-endian big integers (so shorter inputs
are zero-padded on the right for free).  Chunks bound the temporary memory
on 512MB strings.

Argument checks come in Redis 7.0's order, which shows through: BITCOUNT
looks the key up before parsing its range (a missing key answers 0 to any
arguments), BITPOS parses the bit, then looks up, then parses the range.
Writes bump `keyspace.dirty` and touch WATCHes exactly when Redis's
server.dirty / signalModifiedKey move: SETBIT and BITFIELD only when a bit
changed or the string grew.
"""

from kvserver import errors
from kvserver.commands.table import KeySpec, command
from kvserver.errors import CommandError
from kvserver.net.resp import (NULL2, NULL3, ONE, ZERO, array_header, integer,
                               strict_int)

_WRONGTYPE = errors.WRONGTYPE
_NOT_INTEGER = errors.NOT_INTEGER
_BIT_OFFSET = errors.BIT_OFFSET
_CHUNK = 1 << 20            # bytes per big-int conversion on long ranges
_MASK64 = (1 << 64) - 1


def _cstr(arg: bytes) -> bytes:
    # Redis compares option names with strcasecmp: an embedded NUL ends them.
    i = arg.find(b"\0")
    return (arg if i < 0 else arg[:i]).lower()


def _readable(v):
    """The bytes a string value reads as; WRONGTYPE for other types."""
    t = type(v)
    if t is bytes or t is bytearray:
        return v
    if t is int:
        return b"%d" % v
    raise CommandError(_WRONGTYPE)


def unshare(db, key, v) -> bytearray:
    """dbUnshareStringValue: the value as a mutable raw string, in place
    in the keyspace.  Not a modification: no WATCH is touched."""
    t = type(v)
    if t is bytearray:
        return v
    if t is int:
        ba = bytearray(b"%d" % v)
    elif t is bytes:
        ba = bytearray(v)
    else:
        raise CommandError(_WRONGTYPE)
    cur = db.data[key]      # keep the key's clock (keyspace.py)
    db.data[key] = (ba, cur[1]) if type(cur) is tuple else ba
    return ba


def _add_quietly(db, key, value):
    """dbAdd without signalModifiedKey: BITFIELD creates its key before
    knowing whether any operation will write (all may fail under OVERFLOW
    FAIL), and only signals once one did."""
    watchers = db.watched.pop(key, None)
    try:
        db.set(key, value)
    finally:
        if watchers is not None:
            db.watched[key] = watchers


def _bit_offset(c, arg: bytes, bits: int = 0) -> int:
    """getBitOffsetFromArgument: a bit offset below proto-max-bulk-len * 8.
    With `bits` (BITFIELD), "#N" means N * bits, multiplied in int64 as C
    does (an overflowing product wraps)."""
    usehash = bits > 0 and arg[:1] == b"#"
    off = strict_int(arg[1:] if usehash else arg)
    if off is None:
        raise CommandError(_BIT_OFFSET)
    if usehash:
        off = ((off * bits + (1 << 63)) & _MASK64) - (1 << 63)
    if off < 0 or (off >> 3) >= c.server.config.proto_max_bulk_len:
        raise CommandError(_BIT_OFFSET)
    return off


def _ll(arg: bytes) -> int:
    v = strict_int(arg)
    if v is None:
        raise CommandError(_NOT_INTEGER)
    return v


def _unit_is_bit(arg: bytes) -> bool:
    u = _cstr(arg)
    if u == b"bit":
        return True
    if u == b"byte":
        return False
    raise CommandError(errors.SYNTAX)


def _dirty(c, n: int = 1):
    c.server.keyspace.dirty += n


# ---------------------------------------------------------------------------
# Bulk bit arithmetic
# ---------------------------------------------------------------------------

def popcount(buf, start: int, end: int) -> int:
    """Set bits in buf[start:end] (byte indexes)."""
    if end - start <= _CHUNK:
        return int.from_bytes(buf[start:end], "little").bit_count()
    mv = memoryview(buf)
    n = 0
    frm = int.from_bytes
    for i in range(start, end, _CHUNK):
        n += frm(mv[i:min(i + _CHUNK, end)], "little").bit_count()
    return n


def _count_bits(buf, first: int, last: int) -> int:
    """Set bits between bit positions first..last inclusive (in range)."""
    b0 = first >> 3
    b1 = last >> 3
    n = popcount(buf, b0, b1 + 1)
    head = first & 7
    if head:
        n -= (buf[b0] >> (8 - head)).bit_count()
    tail = 7 - (last & 7)
    if tail:
        n -= (buf[b1] & ((1 << tail) - 1)).bit_count()
    return n


def find_bit(buf, bit: int, first: int, last: int) -> int:
    """The position of the first `bit` between bit positions first..last
    inclusive (in range), or -1.  Chunks grow from small, so a hit near the
    start of a long string is cheap."""
    b0 = first >> 3
    b1 = last >> 3
    frm = int.from_bytes
    mv = memoryview(buf)
    size = 64
    i = b0
    while i <= b1:
        j = min(i + size, b1 + 1)
        nbits = (j - i) << 3
        x = frm(mv[i:j], "big")
        if not bit:
            x ^= (1 << nbits) - 1
        if i == b0 and first & 7:
            x &= (1 << (nbits - (first & 7))) - 1
        if j == b1 + 1:
            tail = 7 - (last & 7)
            if tail:
                x &= ~((1 << tail) - 1)
        if x:
            return (i << 3) + nbits - x.bit_length()
        i = j
        if size < _CHUNK:
            size <<= 2
    return -1


def _bit_range(start: int, end: int, length: int, isbit: bool):
    """BITCOUNT/BITPOS range conversion: (first, last) bit positions, or
    None for an empty range.  Negative indexes count from the end."""
    total = length << 3 if isbit else length
    if start < 0:
        start += total
    if end < 0:
        end += total
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= total:
        end = total - 1
    if start > end:
        return None
    if isbit:
        return start, end
    return start << 3, (end << 3) | 7


# ---------------------------------------------------------------------------
# SETBIT / GETBIT
# ---------------------------------------------------------------------------

@command("setbit", 4, "write denyoom", keys=(1, 1, 1), acl="@write @bitmap @slow",
         key_specs=[KeySpec("RW ACCESS UPDATE", index=1)],
         summary="Sets or clears the bit at offset in the string value stored at key",
         since="2.2.0", group="bitmap", complexity="O(1)",
         args="key offset value:integer")
def setbit(c, argv):
    offset = _bit_offset(c, argv[2])
    on = strict_int(argv[3])
    if on is None or on & ~1:
        raise CommandError(errors.BIT_VALUE)
    db = c.db
    key = argv[1]
    byte = offset >> 3
    v = db.lookup(key)
    if v is None:
        v = bytearray(byte + 1)
        db.set(key, v)
        grew = True
    else:
        v = unshare(db, key, v)
        grew = byte >= len(v)
        if grew:
            v += bytes(byte + 1 - len(v))
    mask = 0x80 >> (offset & 7)
    old = v[byte]
    was = old & mask
    if grew or (was != 0) != on:
        v[byte] = (old | mask) if on else (old & ~mask)
        db.touch(key)
        _dirty(c)
    return ONE if was else ZERO


@command("getbit", 3, "readonly fast", keys=(1, 1, 1), acl="@read @bitmap @fast",
         key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Returns the bit value at offset in the string value stored at key",
         since="2.2.0", group="bitmap", complexity="O(1)", args="key offset")
def getbit(c, argv):
    offset = _bit_offset(c, argv[2])
    v = c.db.lookup_read(argv[1])
    if v is None:
        return ZERO
    s = _readable(v)
    byte = offset >> 3
    if byte < len(s) and s[byte] & (0x80 >> (offset & 7)):
        return ONE
    return ZERO


# ---------------------------------------------------------------------------
# BITCOUNT / BITPOS
# ---------------------------------------------------------------------------

_BYTE_BIT = (("7.0.0", "Added the `BYTE|BIT` option."),)


@command("bitcount", -2, "readonly", keys=(1, 1, 1), acl="@read @bitmap @slow",
         key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Count set bits in a string", since="2.6.0", group="bitmap",
         complexity="O(N)", history=_BYTE_BIT,
         args="key index:[start end index_unit:[BYTE|BIT]@7.0.0]")
def bitcount(c, argv):
    v = c.db.lookup_read(argv[1])
    if v is None:
        return ZERO
    s = _readable(v)
    argc = len(argv)
    if argc == 2:
        return integer(popcount(s, 0, len(s)))
    if argc != 4 and argc != 5:
        raise CommandError(errors.SYNTAX)
    start = _ll(argv[2])
    end = _ll(argv[3])
    isbit = argc == 5 and _unit_is_bit(argv[4])
    if start < 0 and end < 0 and start > end:
        return ZERO
    r = _bit_range(start, end, len(s), isbit)
    if r is None:
        return ZERO
    return integer(_count_bits(s, r[0], r[1]))


@command("bitpos", -3, "readonly", keys=(1, 1, 1), acl="@read @bitmap @slow",
         key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Find first bit set or clear in a string", since="2.8.7",
         group="bitmap", complexity="O(N)", history=_BYTE_BIT,
         args="key bit:integer index:[start end_index:[end "
              "index_unit:[BYTE|BIT]@7.0.0]]")
def bitpos(c, argv):
    bit = _ll(argv[2])
    if bit != 0 and bit != 1:
        raise CommandError(errors.BIT_ARGUMENT)
    v = c.db.lookup_read(argv[1])
    if v is None:
        # a missing key is an infinite run of zeros
        return integer(-1) if bit else ZERO
    s = _readable(v)
    n = len(s)
    argc = len(argv)
    end_given = False
    if argc == 3:
        if n == 0:
            return integer(-1)
        first, last = 0, (n << 3) - 1
    elif argc <= 6:
        start = _ll(argv[3])
        isbit = argc == 6 and _unit_is_bit(argv[5])
        if argc >= 5:
            end = _ll(argv[4])
            end_given = True
        else:
            end = n - 1
        r = _bit_range(start, end, n, isbit)
        if r is None:
            return integer(-1)
        first, last = r
    else:
        raise CommandError(errors.SYNTAX)
    pos = find_bit(s, bit, first, last)
    if pos < 0 and not bit and not end_given:
        # without an explicit end the string is taken as zero padded
        pos = last + 1
    return integer(pos)


# ---------------------------------------------------------------------------
# BITOP
# ---------------------------------------------------------------------------

@command("bitop", -4, "write denyoom", keys=(2, -1, 1), acl="@write @bitmap @slow",
         key_specs=[KeySpec("OW UPDATE", index=2),
                    KeySpec("RO ACCESS", index=3, range=(-1, 1, 0))],
         summary="Perform bitwise operations between strings", since="2.6.0",
         group="bitmap", complexity="O(N)", args="operation destkey key [key ...]")
def bitop(c, argv):
    op = _cstr(argv[1])
    if op not in (b"and", b"or", b"xor", b"not"):
        raise CommandError(errors.SYNTAX)
    if op == b"not" and len(argv) != 4:
        raise CommandError(errors.BITOP_NOT)
    db = c.db
    srcs = []
    maxlen = 0
    for key in argv[3:]:
        v = db.lookup_read(key)
        if v is None:
            srcs.append(b"")
            continue
        s = _readable(v)
        srcs.append(s)
        if len(s) > maxlen:
            maxlen = len(s)
    dest = argv[2]
    if not maxlen:
        if db.delete(dest):
            _dirty(c)
        return ZERO
    # Little-endian integers: the zero padding of shorter inputs (on the
    # right of the string) is their high end, which costs nothing.  Long
    # inputs go chunk by chunk to bound the temporary integers.
    res = bytearray(maxlen)
    frm = int.from_bytes
    views = [memoryview(s) for s in srcs]
    for i in range(0, maxlen, _CHUNK):
        j = min(i + _CHUNK, maxlen)
        if op == b"not":
            x = frm(views[0][i:j], "little") ^ ((1 << ((j - i) << 3)) - 1)
        else:
            it = iter(views)
            x = frm(next(it)[i:j], "little")
            if op == b"and":
                for m in it:
                    x &= frm(m[i:j], "little")
            elif op == b"or":
                for m in it:
                    x |= frm(m[i:j], "little")
            else:
                for m in it:
                    x ^= frm(m[i:j], "little")
        res[i:j] = x.to_bytes(j - i, "little")
    for m in views:
        m.release()
    # Redis creates the result as a raw string whatever its length.
    db.set(dest, res)
    _dirty(c)
    return integer(maxlen)


# ---------------------------------------------------------------------------
# BITFIELD / BITFIELD_RO
# ---------------------------------------------------------------------------

_GET = 0
_SET = 1
_INCRBY = 2
_WRAP = 0
_SAT = 1
_FAIL = 2
_OVERFLOW_TYPES = {b"wrap": _WRAP, b"sat": _SAT, b"fail": _FAIL}


def _bitfield_type(arg: bytes):
    """getBitfieldTypeFromArgument: (signed, bits) from "i<1..64>" or
    "u<1..63>"; the width is read as a C string (up to a NUL)."""
    sign = arg[:1]
    if sign != b"i" and sign != b"u":
        raise CommandError(errors.BITFIELD_TYPE)
    width = arg[1:]
    i = width.find(b"\0")
    if i >= 0:
        width = width[:i]
    bits = strict_int(width)
    signed = sign == b"i"
    if bits is None or bits < 1 or bits > (64 if signed else 63):
        raise CommandError(errors.BITFIELD_TYPE)
    return signed, bits


def _get_field(buf, offset: int, bits: int) -> int:
    """The unsigned integer in bits offset..offset+bits-1; bytes past the
    end of `buf` read as zeros."""
    b0 = offset >> 3
    need = ((offset + bits - 1) >> 3) - b0 + 1
    chunk = buf[b0:b0 + need]
    x = int.from_bytes(chunk, "big")
    if len(chunk) < need:
        x <<= (need - len(chunk)) << 3
    return (x >> ((need << 3) - (offset & 7) - bits)) & ((1 << bits) - 1)


def _set_field(buf: bytearray, offset: int, bits: int, value: int):
    """Store the low `bits` of `value` at offset (buf is long enough)."""
    b0 = offset >> 3
    need = ((offset + bits - 1) >> 3) - b0 + 1
    shift = (need << 3) - (offset & 7) - bits
    mask = ((1 << bits) - 1) << shift
    x = int.from_bytes(buf[b0:b0 + need], "big")
    x = (x & ~mask) | ((value << shift) & mask)
    buf[b0:b0 + need] = x.to_bytes(need, "big")


def _signed(u: int, bits: int) -> int:
    return u - (1 << bits) if u >> (bits - 1) else u


def _overflow_unsigned(value: int, bits: int, owtype: int):
    """checkUnsignedBitfieldOverflow on the exact result `value`: the value
    to store, or None when it overflows under FAIL.  A negative SET value
    is its uint64 reinterpretation, hence above the maximum."""
    top = (1 << bits) - 1
    if 0 <= value <= top:
        return value
    if owtype == _WRAP:
        return value & top
    if owtype == _SAT:
        return top if value > top else 0
    return None


def _int64(x: int) -> int:
    """x as a C int64 after two's complement wrap-around."""
    return ((x + (1 << 63)) & _MASK64) - (1 << 63)


def _overflow_signed(value: int, incr: int, bits: int, owtype: int):
    """checkSignedBitfieldOverflow, int64 arithmetic and all: the value to
    store for value + incr, or None when it overflows under FAIL.  Its
    bounds on the increment are computed with wrap-around, so a SET of a
    value far below the minimum counts as an overflow upwards (SAT then
    stores the maximum), exactly as in Redis."""
    top = (1 << 63) - 1 if bits == 64 else (1 << (bits - 1)) - 1
    bottom = -top - 1
    maxincr = _int64(top - value)
    minincr = _int64(bottom - value)
    if (value > top or (bits != 64 and incr > maxincr)
            or (value >= 0 and incr > 0 and incr > maxincr)):
        limit = top
    elif (value < bottom or (bits != 64 and incr < minincr)
            or (value < 0 and incr < 0 and incr < minincr)):
        limit = bottom
    else:
        return value + incr
    if owtype == _WRAP:
        return _signed((value + incr) & ((1 << bits) - 1), bits)
    if owtype == _SAT:
        return limit
    return None


def _bitfield(c, argv, readonly_cmd: bool) -> bytes:
    ops = []
    owtype = _WRAP
    readonly = True
    highest = 0
    argc = len(argv)
    j = 2
    while j < argc:
        remargs = argc - j - 1
        sub = _cstr(argv[j])
        if sub == b"get" and remargs >= 2:
            opcode = _GET
        elif sub == b"set" and remargs >= 3:
            opcode = _SET
        elif sub == b"incrby" and remargs >= 3:
            opcode = _INCRBY
        elif sub == b"overflow" and remargs >= 1:
            ow = _OVERFLOW_TYPES.get(_cstr(argv[j + 1]))
            if ow is None:
                raise CommandError(errors.BITFIELD_OVERFLOW)
            owtype = ow
            j += 2
            continue
        else:
            raise CommandError(errors.SYNTAX)
        signed, bits = _bitfield_type(argv[j + 1])
        offset = _bit_offset(c, argv[j + 2], bits)
        arg = 0
        if opcode != _GET:
            readonly = False
            if offset + bits - 1 > highest:
                highest = offset + bits - 1
            arg = _ll(argv[j + 3])
            j += 4
        else:
            j += 3
        ops.append((opcode, signed, bits, offset, arg, owtype))

    db = c.db
    key = argv[1]
    grew = False
    if readonly:
        v = db.lookup_read(key)
        buf = b"" if v is None else _readable(v)
    else:
        if readonly_cmd:
            raise CommandError(errors.BITFIELD_RO_WRITE)
        byte = highest >> 3
        v = db.lookup(key)
        if v is None:
            buf = bytearray(byte + 1)
            _add_quietly(db, key, buf)
            grew = True
        else:
            buf = unshare(db, key, v)
            if byte >= len(buf):
                buf += bytes(byte + 1 - len(buf))
                grew = True

    null = NULL3 if c.resp == 3 else NULL2
    out = [array_header(len(ops))]
    changes = 0
    for opcode, signed, bits, offset, arg, ow in ops:
        old = _get_field(buf, offset, bits)
        if signed:
            old = _signed(old, bits)
        if opcode == _GET:
            out.append(integer(old))
            continue
        if signed:
            if opcode == _INCRBY:
                new = _overflow_signed(old, arg, bits, ow)
            else:
                new = _overflow_signed(arg, 0, bits, ow)
        elif opcode == _INCRBY:
            new = _overflow_unsigned(old + arg, bits, ow)
        else:
            new = _overflow_unsigned(arg & _MASK64, bits, ow)   # C reads it as uint64
        if new is None:
            out.append(null)
            continue
        out.append(integer(new if opcode == _INCRBY else old))
        _set_field(buf, offset, bits, new)
        if grew or new != old:
            changes += 1
    if changes:
        db.touch(key)
        _dirty(c, changes)
    return b"".join(out)


@command("bitfield", -2, "write denyoom", keys=(1, 1, 1), acl="@write @bitmap @slow",
         key_specs=[KeySpec("RW ACCESS UPDATE VARIABLE_FLAGS", index=1,
                            notes="This command allows both access and "
                                  "modification of the key")],
         summary="Perform arbitrary bitfield integer operations on strings",
         since="3.2.0", group="bitmap",
         complexity="O(1) for each subcommand specified",
         args="key operation:[GET encoding offset|write:("
              "[OVERFLOW wrap_sat_fail:(WRAP|SAT|FAIL)] "
              "write_operation:(SET encoding offset value:integer|"
              "INCRBY encoding offset increment))]...")
def bitfield(c, argv):
    return _bitfield(c, argv, False)


@command("bitfield_ro", -2, "readonly fast", keys=(1, 1, 1),
         acl="@read @bitmap @fast", key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Perform arbitrary bitfield integer operations on strings. "
                 "Read-only variant of BITFIELD",
         since="6.0.0", group="bitmap",
         complexity="O(1) for each subcommand specified",
         args="key [GET encoding offset [GET encoding offset ...]]")
def bitfield_ro(c, argv):
    return _bitfield(c, argv, True)
