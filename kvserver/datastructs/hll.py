"""HyperLogLog in Redis's exact representation (hyperloglog.c).

An HLL is a plain string value, so what is stored must be byte for byte
what Redis stores (GET, DUMP, replication and RDB expose it):

    "HYLL" | encoding (0 dense, 1 sparse) | 3 unused | cached cardinality

then the registers.  The cardinality is 8 bytes little endian; bit 7 of
its last byte set means "stale, recompute".  There are 16384 registers
(P = 14 index bits of the hash, Q = 50 bits left for the run of zeros).

- Dense: 12288 bytes, register i in bits 6i..6i+5 counted from the least
  significant bit of byte 6i/8 upwards.
- Sparse: run-length opcodes ZERO `00xxxxxx` (1..64 zero registers),
  XZERO `01xxxxxx yyyyyyyy` (1..16384 zeros), VAL `1vvvvvxx` (1..4
  registers of value 1..32).  It becomes dense when a value above 32
  arrives or it would grow past hll-sparse-max-bytes.

The hash is MurmurHash64A with seed 0xadc83b19; the estimator is the one
Redis uses since 5.0 (Ertl's, from the register histogram via hllSigma
and hllTau), evaluated in the same IEEE double operations so results
match to the unit.

Speed without C: whole-register work is vectorised.  `dense_to_raw`
unpacks the 6-bit registers to one byte each with strided slices,
`bytes.translate` and big-integer ORs; `raw_to_dense` packs them back;
`raw_max` is a SWAR maximum over 16384 byte lanes in one big integer;
`histogram` counts bytes with `bytes.count`.  A sparse HLL being edited
is a `Sparse`: its opcodes as a list of 1- or 2-byte tokens with the
first register of each (sorted), so finding the opcode of a register is
a bisection and a split is a list splice; it serialises with one join.
Edits follow hllSparseSet step by step (split, then the merge scan of at
most five opcodes from the previous one), so the bytes equal Redis's,
corrupted inputs included.
"""

import math
import re
import struct
from bisect import bisect_right
from collections import Counter

P = 14
Q = 64 - P
REGISTERS = 1 << P
P_MASK = REGISTERS - 1
HDR_SIZE = 16
DENSE_SIZE = HDR_SIZE + (REGISTERS * 6 + 7) // 8
DENSE = 0
SPARSE = 1
MAGIC = b"HYLL"
SEED = 0xADC83B19
VAL_MAX_VALUE = 32
VAL_MAX_LEN = 4
ZERO_MAX_LEN = 64
XZERO_MAX_LEN = 16384
STALE_BIT = 0x80            # in byte 15: the cached cardinality is stale

# createHLLObject: one XZERO covering every register, cache valid (0).
EMPTY_SPARSE = MAGIC + bytes((SPARSE, 0, 0, 0)) + bytes(8) + b"\x7f\xff"

PROMOTE = 2                 # Sparse.set: the HLL must become dense

_M = 0xC6A4A7935BD1E995
_MASK64 = (1 << 64) - 1
_ALPHA_INF = 0.721347520444481703680     # 0.5 / ln(2)


# ---------------------------------------------------------------------------
# Hashing
# ---------------------------------------------------------------------------

_BLOCKS = [struct.Struct("<%dQ" % n) for n in range(64)]


def murmur64a(key, seed: int = SEED) -> int:
    """MurmurHash64A as Redis computes it (little-endian blocks)."""
    n = len(key)
    h = (seed ^ (n * _M)) & _MASK64
    nblocks = n >> 3
    if nblocks:
        st = _BLOCKS[nblocks] if nblocks < 64 else struct.Struct("<%dQ" % nblocks)
        for k in st.unpack_from(key):
            k = (k * _M) & _MASK64
            k ^= k >> 47
            h ^= (k * _M) & _MASK64
            h = (h * _M) & _MASK64
    tail = n & 7
    if tail:
        h ^= int.from_bytes(key[n - tail:], "little")
        h = (h * _M) & _MASK64
    h ^= h >> 47
    h = (h * _M) & _MASK64
    return h ^ (h >> 47)


def pat_len(ele) -> tuple:
    """hllPatLen: (register index, length of the 0..01 run + 1) of `ele`.
    The run is counted from bit P upwards; bit 64 stops it at Q + 1."""
    h = murmur64a(ele)
    rest = (h >> P) | (1 << Q)
    return h & P_MASK, (rest & -rest).bit_length()


# ---------------------------------------------------------------------------
# Header
# ---------------------------------------------------------------------------

def valid_encoding(v):
    """isHLLObjectOrReply: the encoding of string value `v` if it is a
    well-formed HLL header (and dense length), else None.  An int value is
    never an HLL (Redis's int-encoded strings are rejected)."""
    if type(v) is int or len(v) < HDR_SIZE or v[:4] != MAGIC:
        return None
    enc = v[4]
    if enc > SPARSE or (enc == DENSE and len(v) != DENSE_SIZE):
        return None
    return enc


def cached_card(v):
    """The cached cardinality, or None when stale."""
    if v[15] & STALE_BIT:
        return None
    return int.from_bytes(v[8:16], "little")


# ---------------------------------------------------------------------------
# Dense registers and the raw (one byte per register) form
# ---------------------------------------------------------------------------

def _table(f) -> bytes:
    return bytes(f(b) & 0xFF for b in range(256))


_AND63 = _table(lambda b: b & 63)
_SHR6 = _table(lambda b: b >> 6)
_LO4_SHL2 = _table(lambda b: (b & 15) << 2)
_SHR4 = _table(lambda b: b >> 4)
_LO2_SHL4 = _table(lambda b: (b & 3) << 4)
_SHR2 = _table(lambda b: b >> 2)
_SHL6 = _table(lambda b: b << 6)
_SHL4 = _table(lambda b: b << 4)
_SHL2 = _table(lambda b: b << 2)
_QUARTER = REGISTERS // 4           # registers per 3-byte group lane


def dense_get(v, index: int, base: int = HDR_SIZE) -> int:
    """HLL_DENSE_GET_REGISTER on registers starting at v[base]."""
    bit = index * 6
    pos = base + (bit >> 3)
    fb = bit & 7
    if fb <= 2:
        return (v[pos] >> fb) & 63
    return ((v[pos] >> fb) | (v[pos + 1] << (8 - fb))) & 63


def dense_set(v, index: int, val: int, base: int = HDR_SIZE):
    """HLL_DENSE_SET_REGISTER.  A register whose bits end inside its first
    byte leaves the next byte alone (Redis writes the sds terminator there
    for the last register, with no effect)."""
    bit = index * 6
    pos = base + (bit >> 3)
    fb = bit & 7
    v[pos] = (v[pos] & ~(63 << fb) & 0xFF) | ((val << fb) & 0xFF)
    if fb > 2:
        fb8 = 8 - fb
        v[pos + 1] = (v[pos + 1] & ~(63 >> fb8)) | (val >> fb8)


def dense_add(v, ele) -> int:
    """hllDenseAdd: 1 if the element raised its register."""
    index, count = pat_len(ele)
    if count > dense_get(v, index):
        dense_set(v, index, count)
        return 1
    return 0


def dense_to_raw(regs) -> bytearray:
    """The 16384 registers of 12288 dense bytes, one byte each.  Four
    registers live in every three bytes; each of the four lanes is built
    for all groups at once."""
    b0 = regs[0::3]
    b1 = regs[1::3]
    b2 = regs[2::3]
    frm = int.from_bytes
    out = bytearray(REGISTERS)
    out[0::4] = b0.translate(_AND63)
    out[1::4] = (frm(b0.translate(_SHR6), "little")
                 | frm(b1.translate(_LO4_SHL2), "little")).to_bytes(_QUARTER, "little")
    out[2::4] = (frm(b1.translate(_SHR4), "little")
                 | frm(b2.translate(_LO2_SHL4), "little")).to_bytes(_QUARTER, "little")
    out[3::4] = b2.translate(_SHR2)
    return out


def raw_to_dense(raw) -> bytearray:
    """Inverse of dense_to_raw (register values must be below 64)."""
    r0 = raw[0::4]
    r1 = raw[1::4]
    r2 = raw[2::4]
    r3 = raw[3::4]
    frm = int.from_bytes
    out = bytearray(DENSE_SIZE - HDR_SIZE)
    out[0::3] = (frm(r0, "little")
                 | frm(r1.translate(_SHL6), "little")).to_bytes(_QUARTER, "little")
    out[1::3] = (frm(r1.translate(_SHR2), "little")
                 | frm(r2.translate(_SHL4), "little")).to_bytes(_QUARTER, "little")
    out[2::3] = (frm(r2.translate(_SHR4), "little")
                 | frm(r3.translate(_SHL2), "little")).to_bytes(_QUARTER, "little")
    return out


_HIGH = int.from_bytes(b"\x80" * REGISTERS, "little")
_ALL = (1 << (8 * REGISTERS)) - 1


def raw_max(a, b) -> bytes:
    """Register-wise maximum of two raw arrays (values below 128): in each
    byte lane (0x80 + a - b) keeps its high bit exactly when a >= b, and
    never borrows from the next lane."""
    x = int.from_bytes(a, "little")
    y = int.from_bytes(b, "little")
    ge = ((((x | _HIGH) - y) & _HIGH) >> 7) * 0xFF
    return ((x & ge) | (y & (_ALL ^ ge))).to_bytes(REGISTERS, "little")


def histogram(raw) -> list:
    """hllRawRegHisto: how many registers hold each value 0..63.  Counting
    stops once every register is accounted for (values are mostly small)."""
    hist = [0] * 64
    left = len(raw)
    count = raw.count
    for v in range(64):
        if not left:
            break
        n = count(v)
        hist[v] = n
        left -= n
    return hist


# ---------------------------------------------------------------------------
# The estimator (hllCount)
# ---------------------------------------------------------------------------

def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        zp = z
        z += x * y
        y += y
        if zp == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    sqrt = math.sqrt
    while True:
        x = sqrt(x)
        zp = z
        y *= 0.5
        t = 1 - x
        z -= t * t * y      # pow(1 - x, 2) * y; pow(t, 2) is t * t in C too
        if zp == z:
            return z / 3


def estimate(hist) -> int:
    """hllCount's estimate from the register histogram, rounded as
    llroundl rounds (half away from zero)."""
    m = float(REGISTERS)
    z = m * _tau((m - hist[Q + 1]) / m)
    for j in range(Q, 0, -1):
        z += hist[j]
        z *= 0.5
    z += m * _sigma(hist[0] / m)
    e = _ALPHA_INF * m * m / z
    f = math.floor(e)
    return int(f) + (1 if e - f >= 0.5 else 0)


# ---------------------------------------------------------------------------
# Sparse representation
# ---------------------------------------------------------------------------

# One opcode: XZERO is two bytes, except cut short by the end of the string
# (Redis then reads the terminating NUL as its second byte).
_TOKEN = re.compile(rb"[\x40-\x7f][\x00-\xff]?|[\x00-\x3f\x80-\xff]")
_ONE = [bytes((b,)) for b in range(256)]


def _zero_token(n: int) -> bytes:
    """ZERO or XZERO for n (>= 1) zero registers, as hllSparseSet picks."""
    if n > ZERO_MAX_LEN:
        n -= 1
        return bytes((0x40 | (n >> 8), n & 0xFF))
    return _ONE[n - 1]


def _val_token(val: int, n: int) -> bytes:
    return _ONE[0x80 | ((val - 1) << 2) | (n - 1)]


class _Expansions(dict):
    """Opcode token -> the registers it stands for, one byte each.  The
    256 one-byte opcodes are kept; XZERO expansions are made on demand."""

    def __missing__(self, tok):
        return bytes(_span(tok))


def _span(tok: bytes) -> int:
    b = tok[0]
    if b < 0x40:
        return b + 1
    if b >= 0x80:
        return (b & 3) + 1
    return (((b & 63) << 8) | (tok[1] if len(tok) > 1 else 0)) + 1


_EXPAND = _Expansions()
for _b in range(256):
    _EXPAND[_ONE[_b]] = (_ONE[((_b >> 2) & 31) + 1] * ((_b & 3) + 1) if _b >= 0x80
                         else bytes(_span(_ONE[_b])))


def _parse(body, first: int = 0):
    """Tokens and first registers of sparse opcodes in `body`."""
    toks = _TOKEN.findall(body)
    starts = []
    append = starts.append
    reg = first
    for t in toks:
        append(reg)
        b = t[0]
        if b < 0x40:
            reg += b + 1
        elif b >= 0x80:
            reg += (b & 3) + 1
        else:
            reg += (((b & 63) << 8) | (t[1] if len(t) > 1 else 0)) + 1
    return toks, starts


class Sparse:
    """The registers of a sparse HLL while a command edits them.

    `ops` holds the opcode tokens in order and `starts` the first register
    each covers (strictly increasing); `nbytes` is the length of the whole
    string (header included), as sdslen is for Redis's promotion test.
    `touched` records that a set succeeded, which invalidates the cached
    cardinality in the header (hllSparseSet does it every time)."""

    __slots__ = ("ops", "starts", "nbytes", "touched")

    def __init__(self, body):
        self.ops, self.starts = _parse(body)
        self.nbytes = HDR_SIZE + len(body)
        self.touched = False

    def body(self) -> bytes:
        return b"".join(self.ops)

    def set(self, index: int, count: int, max_bytes: int) -> int:
        """hllSparseSet: 1 if register `index` rose to `count`, 0 if it was
        already as high, -1 if the opcodes do not reach it (corrupted),
        PROMOTE if the HLL must go dense first (the caller converts and
        sets the register there)."""
        if count > VAL_MAX_VALUE:
            return PROMOTE
        ops = self.ops
        if not ops:
            return -1
        starts = self.starts
        i = bisect_right(starts, index) - 1
        tok = ops[i]
        first = starts[i]
        runlen = _span(tok)
        if index > first + runlen - 1:
            return -1
        b = tok[0]
        if b >= 0x80:                                   # VAL
            val = ((b >> 2) & 31) + 1
            if val >= count:
                return 0
            if runlen == 1:
                ops[i] = _val_token(count, 1)
                return self._merge(i)
        elif b < 0x40 and runlen == 1:                  # ZERO of one
            ops[i] = _val_token(count, 1)
            return self._merge(i)

        # Split the opcode around the register.
        last = first + runlen - 1
        seq = []
        seqstarts = []
        if b < 0x80:
            make = _zero_token
            if index != first:
                seq.append(_zero_token(index - first))
                seqstarts.append(first)
        else:
            make = None
            if index != first:
                seq.append(_val_token(val, index - first))
                seqstarts.append(first)
        seq.append(_val_token(count, 1))
        seqstarts.append(index)
        if index != last:
            seq.append(make(last - index) if make else _val_token(val, last - index))
            seqstarts.append(index + 1)
        seqlen = sum(map(len, seq))
        oldlen = 2 if 0x40 <= b < 0x80 else 1
        delta = seqlen - oldlen
        if delta > 0 and self.nbytes + delta > max_bytes:
            return PROMOTE
        if oldlen == 2 and len(tok) == 1:
            # A cut-short XZERO ends the string: Redis writes the sequence
            # from its byte on but the string grows by seqlen - 2 only.
            tail, tailstarts = _parse(b"".join(seq)[:-1], first)
            ops[i:] = tail
            starts[i:] = tailstarts
        else:
            ops[i:i + 1] = seq
            starts[i:i + 1] = seqstarts
        self.nbytes += delta
        return self._merge(i)

    def _merge(self, i: int) -> int:
        """Step 4 of hllSparseSet: from the opcode before the edit, scan up
        to five opcodes and fuse adjacent VALs of equal value."""
        ops = self.ops
        starts = self.starts
        j = i - 1 if i > 0 else 0
        n = len(ops)
        scan = 5
        while j < n and scan:
            scan -= 1
            b = ops[j][0]
            if b < 0x80:
                j += 1
                continue
            if j + 1 < n:
                b2 = ops[j + 1][0]
                if b2 >= 0x80 and (b >> 2) == (b2 >> 2):
                    ln = (b & 3) + (b2 & 3) + 2
                    if ln <= VAL_MAX_LEN:
                        ops[j:j + 2] = [_val_token(((b >> 2) & 31) + 1, ln)]
                        del starts[j + 1]
                        n -= 1
                        self.nbytes -= 1
                        continue
            j += 1
        self.touched = True
        return 1

    # --- whole-HLL views ---------------------------------------------------
    def to_raw(self):
        """The registers one byte each, as hllSparseToDense and hllMerge
        walk them, or None when the opcodes do not cover exactly 16384
        registers.  (Since the fix for CVE-2025-32023, which the reference
        7.0.15 carries, an opcode running past the last register fails the
        walk whatever its kind, so extra opcodes at the end are errors.)"""
        ops = self.ops
        if not ops or self.starts[-1] + _span(ops[-1]) != REGISTERS:
            return None
        return bytearray(b"".join(map(_EXPAND.__getitem__, ops)))

    def merge_into(self, raw) -> bool:
        """hllMerge for a sparse HLL: raw[i] = max(raw[i], register i);
        False if corrupted (see to_raw)."""
        regs = self.to_raw()
        if regs is None:
            return False
        raw[:] = raw_max(raw, regs)
        return True

    def histogram(self):
        """hllSparseRegHisto: the histogram, or None when the opcodes do
        not cover exactly 16384 registers.  The order of the opcodes does
        not matter here, so equal ones are counted together."""
        hist = [0] * 64
        total = 0
        for t, n in Counter(self.ops).items():
            b = t[0]
            if b >= 0x80:
                runlen = ((b & 3) + 1) * n
                hist[((b >> 2) & 31) + 1] += runlen
            else:
                runlen = _span(t) * n
                hist[0] += runlen
            total += runlen
        return hist if total == REGISTERS else None

    def decode(self) -> bytes:
        """PFDEBUG DECODE's text: z:len Z:len v:value,len."""
        out = []
        for t in self.ops:
            b = t[0]
            if b < 0x40:
                out.append(b"z:%d" % (b + 1))
            elif b < 0x80:
                out.append(b"Z:%d" % _span(t))
            else:
                out.append(b"v:%d,%d" % (((b >> 2) & 31) + 1, (b & 3) + 1))
        return b" ".join(out)


# ---------------------------------------------------------------------------
# Whole values
# ---------------------------------------------------------------------------

def cardinality(v) -> int | None:
    """hllCount of a valid HLL string (dense or sparse); None if a sparse
    one is corrupted."""
    if v[4] == DENSE:
        return estimate(histogram(dense_to_raw(v[HDR_SIZE:])))
    hist = Sparse(v[HDR_SIZE:]).histogram()
    return None if hist is None else estimate(hist)


def merge_into(raw, v) -> bool:
    """hllMerge: fold HLL string `v` into the raw maxima `raw` (a
    bytearray, updated in place).  False if `v` is a corrupted sparse."""
    if v[4] == DENSE:
        raw[:] = raw_max(raw, dense_to_raw(v[HDR_SIZE:]))
        return True
    return Sparse(v[HDR_SIZE:]).merge_into(raw)


def sparse_to_dense(v: bytearray) -> bool:
    """hllSparseToDense in place on the value `v`: the header is kept
    (cached cardinality included) with the encoding set to dense.  False,
    and `v` untouched, if the sparse opcodes are corrupted."""
    if v[4] == DENSE:
        return True
    raw = Sparse(v[HDR_SIZE:]).to_raw()
    if raw is None:
        return False
    hdr = bytearray(v[:HDR_SIZE])
    hdr[4] = DENSE
    v[:] = hdr + raw_to_dense(raw)
    return True


# ---------------------------------------------------------------------------
# PFSELFTEST
# ---------------------------------------------------------------------------

SELFTEST_CYCLES = 1000          # register access rounds, as Redis
SELFTEST_SCALAR_CYCLES = 2      # of which register by register
SELFTEST_ELEMENTS = 100_000     # Redis adds 10M; see selftest()


def selftest(sparse_max_bytes: int, rnd) -> bytes | None:
    """pfselftestCommand's two tests; None when they pass, else the error.

    1. Register access: random values written and read back through
       dense_set/dense_get (a couple of rounds, register by register) and
       through raw_to_dense/dense_to_raw (the other rounds), checking
       that both agree byte for byte.
    2. Approximation: elements j ^ seed (8 bytes, little endian) go into a
       dense and a sparse HLL at once; at each power of ten the sparse
       one must still be sparse while small, both must estimate the same,
       and the error must stay within six standard errors.  Redis goes up
       to 10M elements; in Python that would block the server for a
       minute, so this stops at SELFTEST_ELEMENTS (checkpoint 100000).
    """
    regs = bytearray(DENSE_SIZE)
    for cycle in range(SELFTEST_CYCLES):
        raw = rnd.randbytes(REGISTERS).translate(_AND63)
        if cycle < SELFTEST_SCALAR_CYCLES:
            for i in range(REGISTERS):
                dense_set(regs, i, raw[i])
            got = bytes(dense_get(regs, i) for i in range(REGISTERS))
            if regs[HDR_SIZE:] != raw_to_dense(raw):
                return b"ERR TESTFAILED dense packing disagrees with the register macros"
        else:
            got = dense_to_raw(raw_to_dense(raw))
        if got != raw:
            i = next(i for i in range(REGISTERS) if got[i] != raw[i])
            return (b"ERR TESTFAILED Register %d should be %d but is %d"
                    % (i, raw[i], got[i]))

    dense = bytearray(DENSE_SIZE)
    sparse = Sparse(EMPTY_SPARSE[HDR_SIZE:])
    promoted = None             # the sparse HLL's registers once dense
    relerr = 1.04 / math.sqrt(REGISTERS)
    checkpoint = 1
    seed = rnd.getrandbits(64)
    for j in range(1, SELFTEST_ELEMENTS + 1):
        ele = (j ^ seed).to_bytes(8, "little")
        index, count = pat_len(ele)
        if count > dense_get(dense, index):
            dense_set(dense, index, count)
        if promoted is None:
            if sparse.set(index, count, sparse_max_bytes) == PROMOTE:
                raw = sparse.to_raw()
                raw[index] = count
                promoted = bytearray(HDR_SIZE) + raw_to_dense(raw)
        elif count > dense_get(promoted, index):
            dense_set(promoted, index, count)
        if j != checkpoint:
            continue
        if j < sparse_max_bytes // 2 and promoted is not None:
            return b"ERR TESTFAILED sparse encoding not used"
        card = estimate(histogram(dense_to_raw(dense[HDR_SIZE:])))
        other = (estimate(sparse.histogram()) if promoted is None
                 else estimate(histogram(dense_to_raw(promoted[HDR_SIZE:]))))
        if card != other:
            return b"ERR TESTFAILED dense/sparse disagree"
        maxerr = 1 if j == 10 else math.ceil(relerr * 6 * checkpoint)
        abserr = abs(checkpoint - card)
        if abserr > maxerr:
            return (b"ERR TESTFAILED Too big error. card:%d abserr:%d"
                    % (checkpoint, abserr))
        checkpoint *= 10
    return None
