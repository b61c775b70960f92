"""Argument decoding shared by command handlers, with Redis's error texts.

Integers follow string2ll (strict: no spaces, no '+', no leading zeros);
floats follow strtod as Redis's getDoubleFromObject uses it (no spaces,
'inf'/'-inf' accepted, NaN rejected).
"""

import re
from fractions import Fraction

from kvserver import errors
from kvserver.errors import CommandError
from kvserver.net.resp import strict_int

LONG_MAX = 2**63 - 1
_WS = b" \t\n\r\v\f"
_DBL_MIN = 2.2250738585072014e-308
_INF = float("inf")


def get_int(arg: bytes, msg: bytes = errors.NOT_INTEGER) -> int:
    """getLongLongFromObjectOrReply."""
    v = strict_int(arg)
    if v is None:
        raise CommandError(msg)
    return v


def get_range_int(arg: bytes, lo: int, hi: int, msg: bytes = errors.NOT_INTEGER) -> int:
    v = strict_int(arg)
    if v is None or v < lo or v > hi:
        raise CommandError(msg)
    return v


def get_positive(arg: bytes) -> int:
    v = get_int(arg)
    if v < 0:
        raise CommandError(errors.NOT_POSITIVE)
    return v


def parse_float(arg: bytes) -> float | None:
    """getDoubleFromObject: strtod over the whole argument, no leading
    space, no NaN, no overflow or underflow to zero; None if bad.

    float() is the fast path; its wider grammar (spaces, '_') and its
    silence on overflow and underflow are checked after, and what it
    refuses (hex floats) goes to the exact strtod.  Plain digits (a score
    of 0, a count) need none of those checks but overflow, and up to 15 of
    them are exact through int(), which parses faster than float()."""
    if arg.isdigit():
        if len(arg) < 16:
            return float(int(arg))
        v = float(arg)
        return v if v != _INF else None
    try:
        v = float(arg)
    except ValueError:
        if not arg or arg[0] in _WS:
            return None
        v, end, erange = strtod(arg)
        if end != len(arg) or v != v or (erange and (v == 0 or v == _INF or v == -_INF)):
            return None
        return v
    # bytes.strip() returns the argument itself when there is no space
    # around it; 95 is '_', which float() takes between digits
    if arg.strip() is not arg or 95 in arg:
        return None
    if v - v == 0:
        # a zero from nothing but zeros, dots and a sign is exact
        if v or not arg.strip(b"+-.0") or not _inexact(v, arg, False):
            return v
        return None         # underflow to zero
    if v != v or arg.lstrip(b"+-").lower() not in (b"inf", b"infinity"):
        return None         # NaN, or overflow: strtod says ERANGE
    return v


# ---------------------------------------------------------------------------
# strtod
# ---------------------------------------------------------------------------

_STRTOD = re.compile(rb"""[ \t\n\v\f\r]*(?P<num>[+-]?(?:
      (?P<hex>0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)
    | (?P<dec>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    | (?P<inf>[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)
    | (?P<nan>[nN][aA][nN](?:\([0-9A-Za-z_]*\))?)
    ))""", re.X)


def _hex_exact(text: bytes) -> Fraction:
    neg = text[:1] == b"-"
    body = text.lstrip(b"+-")[2:].lower()
    mant, _, exp = body.partition(b"p")
    ip, _, fp = mant.partition(b".")
    v = Fraction(int((ip + fp) or b"0", 16), 16 ** len(fp)) * Fraction(2) ** int(exp or b"0")
    return -v if neg else v


def strtod(s) -> tuple:
    """glibc strtod over `s` (bytes without NULs): (value, end, erange),
    `end` being how many bytes it consumed (0 when nothing converts, even
    after leading spaces) and `erange` whether it set errno to ERANGE
    (overflow, or a result below DBL_MIN that is not exact)."""
    m = _STRTOD.match(s)
    if m is None:
        return 0.0, 0, False
    num = m.group("num")
    if m.group("inf") is not None:
        return (-_INF if num[:1] == b"-" else _INF), m.end(), False
    if m.group("nan") is not None:
        return float("nan"), m.end(), False
    if m.group("hex") is not None:
        try:
            v = float.fromhex(num.decode())
        except OverflowError:
            return (-_INF if num[:1] == b"-" else _INF), m.end(), True
        if -_DBL_MIN < v < _DBL_MIN and _inexact(v, num, True):
            return v, m.end(), True
        return v, m.end(), False
    v = float(num)
    if v == _INF or v == -_INF:
        return v, m.end(), True
    if -_DBL_MIN < v < _DBL_MIN and _inexact(v, num, False):
        return v, m.end(), True
    return v, m.end(), False


def _inexact(v: float, num: bytes, hexa: bool) -> bool:
    """Whether a result below DBL_MIN differs from the number written.  A
    zero result is inexact exactly when the mantissa has a non-zero digit
    (no exact arithmetic then: the exponent may be huge); a subnormal one
    bounds the exponent, so the exact comparison stays cheap."""
    mant = num.lower().lstrip(b"+-")
    if hexa:
        mant = mant[2:].partition(b"p")[0]
    else:
        mant = mant.partition(b"e")[0]
    if v == 0:
        return mant.strip(b"0.") != b""
    return Fraction(v) != (_hex_exact(num) if hexa else Fraction(num.decode()))


def get_float(arg: bytes, msg: bytes = errors.NOT_FLOAT) -> float:
    v = parse_float(arg)
    if v is None:
        raise CommandError(msg)
    return v


def c_word(arg: bytes) -> bytes:
    """An option name as strcasecmp sees it: lower-cased, ending at a NUL
    (Redis compares C strings, so an embedded NUL ends the word)."""
    nul = arg.find(b"\0")
    return (arg if nul < 0 else arg[:nul]).lower()


def c_word_upper(arg: bytes) -> bytes:
    """`c_word`, upper-cased, for tables keyed by upper-case names."""
    nul = arg.find(b"\0")
    return (arg if nul < 0 else arg[:nul]).upper()


def random_count(argv: list, flag: bytes) -> tuple[int, bool]:
    """HRANDFIELD/ZRANDMEMBER key count [flag]: (count, flag given), with
    the range checks Redis applies (a doubled reply must fit a long)."""
    n = strict_int(argv[2])
    if n is None:
        raise CommandError(errors.NOT_INTEGER)
    if n < -LONG_MAX:
        raise CommandError(errors.LONG_RANGE)
    argc = len(argv)
    if argc > 4 or (argc == 4 and c_word(argv[3]) != flag):
        raise CommandError(errors.SYNTAX)
    with_flag = argc == 4
    if with_flag and (n < -(LONG_MAX // 2) or n > LONG_MAX // 2):
        raise CommandError(errors.VALUE_OUT_OF_RANGE)
    return n, with_flag


def upper(arg: bytes) -> bytes:
    return arg.upper()
