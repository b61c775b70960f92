"""Argument decoding shared by command handlers, with Redis's error texts.

Integers follow string2ll (strict: no spaces, no '+', no leading zeros);
floats follow strtod as Redis's getDoubleFromObject uses it (no spaces,
'inf'/'-inf' accepted, NaN rejected).
"""

import math

from kvserver import errors
from kvserver.errors import CommandError
from kvserver.net.resp import strict_int


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
    """strtod over the whole argument, as getDoubleFromObject does; None if bad."""
    if not arg or arg[0] in b" \t\n\r\v\f" or arg[-1] in b" \t\n\r\v\f":
        return None
    try:
        v = float(arg)
    except ValueError:
        return None
    if math.isnan(v):
        return None
    # Python accepts '1_000' and 'infinity'/'nan' spellings strtod may not; reject '_'
    if b"_" in arg:
        return None
    return v


def get_float(arg: bytes, msg: bytes = errors.NOT_FLOAT) -> float:
    v = parse_float(arg)
    if v is None:
        raise CommandError(msg)
    return v


def upper(arg: bytes) -> bytes:
    return arg.upper()
