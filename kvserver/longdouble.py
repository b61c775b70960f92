"""C `long double` arithmetic as Redis on x86-64 does it, exactly.

INCRBYFLOAT (and HINCRBYFLOAT) parse with strtold, add in `long double`
and print with "%.17Lf" minus trailing zeros (util.c string2ld/ld2string
in LD_STR_HUMAN mode).  On x86-64 `long double` is the x87 80-bit format:
a 64-bit significand and an exponent range reaching about 1.19e4932, far
beyond a Python float.  A double would print "10.6" for 10.5+0.1 too, but
it diverges on many other inputs (17 fractional digits expose the extra
precision: 12345678.123456789 prints as 12345678.12345678899964696), so
the values are modelled exactly with Python integers instead.

A finite value is a pair `(m, e)` meaning m * 2**e, with m a signed int of
at most 64 bits; infinities are `INF` / `NINF`, whose exponent is None.
Every result is rounded to nearest, ties to even, onto the x87 grid
(normal significands in [2**63, 2**64), subnormals at exponent EMIN), as
glibc's strtold and the FPU's fadd do.  The sign of zero is not kept: the
only place it could show, "%.17Lf" of -0, is turned into "0" by Redis.
"""

import re

P = 64                      # significand bits
EMIN = -16382 - (P - 1)     # exponent of the subnormal grid (m * 2**EMIN)
EMAX = 16383 - (P - 1)      # largest exponent with a normalised m
MAX_CHARS = 5 * 1024        # MAX_LONG_DOUBLE_CHARS: longer input is rejected

INF = (1, None)
NINF = (-1, None)

_DEC = re.compile(rb"([+-]?)(?:([0-9]+)\.?([0-9]*)|\.([0-9]+))(?:[eE]([+-]?[0-9]+))?\Z")
_HEX = re.compile(rb"([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))"
                  rb"(?:[pP]([+-]?[0-9]+))?\Z")
_INF = re.compile(rb"([+-]?)(?:inf|infinity)\Z", re.IGNORECASE)

# Decimal exponents beyond these certainly overflow or round to zero
# (the range is about 3.6e-4951 .. 1.19e4932); inside them we compute exactly.
_DEC_HI = 4935
_DEC_LO = -4975


def _round(neg: bool, num: int, den: int, e2: int):
    """num/den * 2**e2 (num, den > 0) rounded onto the grid; None on overflow.

    Returns (0, 0) when the value is too small even for a subnormal."""
    # floor(log2(num/den)) exactly, then the exponent that leaves P bits
    lg = num.bit_length() - den.bit_length()
    if (num < (den << lg)) if lg >= 0 else ((num << -lg) < den):
        lg -= 1
    t = lg + e2 - (P - 1)
    if t < EMIN:
        t = EMIN
    shift = e2 - t
    if shift >= 0:
        q, r = divmod(num << shift, den)
        d = den
    else:
        d = den << -shift
        q, r = divmod(num, d)
    r2 = r << 1
    if r2 > d or (r2 == d and q & 1):
        q += 1
        if q >> P:
            q >>= 1
            t += 1
    if t > EMAX:
        return None
    if q == 0:
        return (0, 0)
    return (-q if neg else q, t)


# Python refuses int<->decimal conversions of more than 4300 digits by
# default; inputs reach 5119 digits and outputs 4933, so go in chunks.
_CHUNK = 4000
_TEN_CHUNK = 10 ** _CHUNK


def _int10(digits: bytes) -> int:
    if len(digits) <= _CHUNK:
        return int(digits)
    v = 0
    for i in range(0, len(digits), _CHUNK):
        part = digits[i:i + _CHUNK]
        v = v * 10 ** len(part) + int(part)
    return v


def _str10(n: int) -> bytes:
    if n < _TEN_CHUNK:
        return b"%d" % n
    hi, lo = divmod(n, _TEN_CHUNK)
    return _str10(hi) + b"%0*d" % (_CHUNK, lo)


def _exponent(exp: bytes | None) -> int:
    """The exponent field; absurdly long ones only matter by their sign."""
    if not exp:
        return 0
    sign = -1 if exp[0] == 45 else 1
    digits = exp.lstrip(b"+-").lstrip(b"0")
    if len(digits) > 18:
        return sign * 10 ** 18
    return sign * int(digits or b"0")


def from_int(n: int):
    """An int64 value: always exact in 64 significand bits."""
    return (n, 0)


def parse(s) -> tuple | None:
    """string2ld: strtold over the whole argument, or None if Redis rejects it.

    Rejected: empty or too long input, leading space, trailing garbage
    (an embedded NUL included), NaN, overflow to infinity and nonzero input
    that underflows to zero.  "inf"/"infinity" are accepted and return
    INF/NINF, as strtold gives them without an error."""
    n = len(s)
    if n == 0 or n >= MAX_CHARS:
        return None
    m = _DEC.match(s)
    if m is not None:
        sign, ip, fp, only_fp, exp = m.groups()
        if only_fp is not None:
            ip, fp = b"", only_fp
        digits = (ip + fp).lstrip(b"0")
        if not digits:
            return (0, 0)
        mant = _int10(digits)
        e10 = _exponent(exp) - len(fp)
        magnitude = e10 + len(digits) - 1      # mant*10**e10 is in [10**magnitude, 10**(magnitude+1))
        if magnitude > _DEC_HI:
            return None
        if magnitude < _DEC_LO:
            return None
        if e10 >= 0:
            v = _round(sign == b"-", mant * 10 ** e10, 1, 0)
        else:
            v = _round(sign == b"-", mant, 10 ** -e10, 0)
        if v is None or v[0] == 0:
            return None
        return v
    m = _HEX.match(s)
    if m is not None:
        sign, ip, fp, only_fp, exp = m.groups()
        if only_fp is not None:
            ip, fp = b"", only_fp
        digits = ip + fp
        mant = int(digits, 16)
        if mant == 0:
            return (0, 0)
        e2 = _exponent(exp) - 4 * len(fp)
        top = e2 + mant.bit_length()
        if top > 16384 + 1:
            return None
        if top < EMIN - 2:
            return None
        v = _round(sign == b"-", mant, 1, e2)
        if v is None or v[0] == 0:
            return None
        return v
    m = _INF.match(s)
    if m is not None:
        return NINF if m.group(1) == b"-" else INF
    return None


def add(a, b):
    """a + b rounded as the FPU does; None if the sum is infinite or NaN."""
    ma, ea = a
    mb, eb = b
    if ea is None or eb is None:
        return None
    if ea > eb:
        n = (ma << (ea - eb)) + mb
        e = eb
    else:
        n = ma + (mb << (eb - ea))
        e = ea
    if n == 0:
        return (0, 0)
    return _round(n < 0, abs(n), 1, e)


_TEN17 = 10 ** 17


def format_human(v) -> bytes:
    """ld2string(LD_STR_HUMAN): "%.17Lf", trailing zeros and '.' removed,
    and "-0" turned into "0"."""
    m, e = v
    if e is None:
        return b"inf" if m > 0 else b"-inf"
    neg = m < 0
    if neg:
        m = -m
    if e >= 0:
        text = _str10(m << e)
    else:
        # round m * 10**17 / 2**-e to an integer, ties to even, as glibc does
        d = 1 << -e
        q, r = divmod(m * _TEN17, d)
        r2 = r << 1
        if r2 > d or (r2 == d and q & 1):
            q += 1
        ip, fp = divmod(q, _TEN17)
        if fp:
            text = (b"%d.%017d" % (ip, fp)).rstrip(b"0")
        else:
            text = b"%d" % ip
    if neg and text != b"0":
        return b"-" + text
    return text
