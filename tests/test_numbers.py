"""Number parsing and formatting: x87 long double (INCRBYFLOAT) and string2ll.

The literal expectations below were read from redis-server 7.0.15 on
x86-64; the hypothesis tests check the arithmetic against exact rational
references and, through `raw_real`, against the real server itself.
"""

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvserver import errors, longdouble as ld
from kvserver.commands.args import get_int
from kvserver.errors import CommandError
from kvserver.net.resp import strict_int

ZERO = (0, 0)


def human(text: str) -> str:
    """INCRBYFLOAT on a missing key: 0 + text, printed as Redis prints it."""
    v = ld.parse(text.encode())
    assert v is not None and v[1] is not None, text
    return ld.format_human(ld.add(ZERO, v)).decode()


def value(v) -> Fraction:
    m, e = v
    return Fraction(m) * Fraction(2) ** e


# --- literal values from the real server --------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("0.1", "0.1"),
    ("-1e-30", "0"),
    ("-0", "0"),
    ("10", "10"),
    ("12345678.123456789", "12345678.12345678899964696"),
    ("123456789012345678901234567890", "123456789012345678899921813504"),
    ("1.5e-3", "0.0015"),
    ("3.0e3", "3000"),
    ("-1e-17", "-0.00000000000000001"),
    ("-5e-18", "0"),
    ("5e-18", "0"),
    ("1.5e-17", "0.00000000000000002"),
    ("2.5e-17", "0.00000000000000002"),
    ("0.1e-16", "0.00000000000000001"),
    ("1e-4940", "0"),
    ("0x1p-3", "0.125"),
    ("0X1.8P1", "3"),
    ("0x.8", "0.5"),
    (".5", "0.5"),
    ("5.", "5"),
    ("+5", "5"),
    ("0e-99999", "0"),
    ("1e308", "99999999999999999996685879655845645660560099847415567207797047994921734868838"
              "061872100126921888539320446747225054013223152134749593960583597420814430196418"
              "767959100019603190778663109604507106667939153395788938914560543563061268364901"
              "618630217086589253444881623791300855757318142424510452728255046343928578048"),
])
def test_known_values(text, expected):
    assert human(text) == expected


def test_huge_values():
    # 1e4932 is within long double range: Redis prints all 4933 digits
    s = human("1e4932")
    assert len(s) == 4933
    assert s.startswith("1000000000000000000006018949387963891323837774254533114773785041")
    assert s.endswith("6622720")
    with localcontext() as ctx:
        ctx.prec = 6000
        assert human("0x1p16383") == str(Decimal(2) ** 16383)


def test_sums():
    def incr(a, b):
        return ld.format_human(ld.add(ld.parse(a), ld.parse(b)))

    assert incr(b"10.5", b"0.1") == b"10.6"
    assert incr(b"1.5", b"-1.5") == b"0"
    assert incr(b"-0", b"-0") == b"0"
    assert incr(b"3.0e3", b"1.5") == b"3001.5"
    assert ld.add(ld.parse(b"1.18e4932"), ld.parse(b"1e4932")) is None     # overflow
    assert ld.add(ld.parse(b"inf"), ZERO) is None
    assert ld.add(ld.parse(b"-inf"), ld.parse(b"inf")) is None
    assert ld.add(ld.from_int(2**63 - 1), ld.parse(b"1")) == (2**63, 0)


@pytest.mark.parametrize("text", [
    b"", b" 1", b"1 ", b"\t1", b"nan", b"NaN", b"-nan", b"nan(1)", b"1e", b"1e+", b"e5", b".",
    b"0x", b"0xg", b"0x1p", b"1_0", b"\x001", b"1\x00abc", b"1.2e4932", b"-1.2e4932",
    b"1e-99999", b"1e-4960", b"0x1p16384", b"0x1p-16447", b"infin", b"in", b"--1", b"1..2",
    b"1" * 5120, b"0.5" + b"0" * 5117, b"1e99999999999999999999999999",
])
def test_rejected(text):
    assert ld.parse(text) is None


@pytest.mark.parametrize("text,expected", [
    (b"inf", ld.INF), (b"INF", ld.INF), (b"+Infinity", ld.INF), (b"-inf", ld.NINF),
    (b"-INFINITY", ld.NINF), (b"0", ZERO), (b"-0.0", ZERO), (b"0x0p99999", ZERO),
])
def test_accepted_special(text, expected):
    assert ld.parse(text) == expected


@pytest.mark.parametrize("text,expected", [
    (b"0" * 5118 + b"1", 1),                     # the longest input accepted
    (b"1" + b"0" * 4000 + b"e-4000", 1),
    (b"0." + b"0" * 4000 + b"1e4001", 1),
    (b"-0x10", -16), (b"0x1P-1", Fraction(1, 2)), (b"1e0", 1), (b"25e-2", Fraction(1, 4)),
])
def test_accepted_values(text, expected):
    assert value(ld.parse(text)) == expected


def test_range_limits():
    # smallest subnormal and largest finite value of the x87 format
    assert ld.parse(b"0x1p-16445") == (1, ld.EMIN)
    assert ld.parse(b"0x1p-16446") is None                 # a tie: rounds to even zero
    assert ld.parse(b"0x1.8p-16446") == (1, ld.EMIN)      # above the tie: rounds up
    top = ld.parse(b"0x1.fffffffffffffffep16383")
    assert top == (2**64 - 1, ld.EMAX)
    assert ld.parse(b"0x1.ffffffffffffffffp16383") is None  # rounds up to infinity


# --- exact rational references ----------------------------------------------

def round_reference(q: Fraction):
    """Nearest x87 value to q (ties to even) or None on overflow."""
    if q == 0:
        return Fraction(0)
    sign = -1 if q < 0 else 1
    a = abs(q)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    ulp = Fraction(2) ** (max(e, -16382) - 63)
    n = a / ulp
    f = n.numerator // n.denominator
    rem = n - f
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and f % 2):
        f += 1
    r = f * ulp
    if r >= Fraction(2) ** 16384:
        return None
    return sign * r


def format_reference(q: Fraction) -> str:
    with localcontext() as ctx:
        ctx.prec = 1000
        # exact: q's denominator is a power of two, so its decimal expansion ends
        k = q.denominator.bit_length() - 1
        d = Decimal(q.numerator * 5 ** k).scaleb(-k)
        s = format(d.quantize(Decimal("1e-17"), rounding=ROUND_HALF_EVEN), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if s in ("-0", "0"):
        return "0"
    return s


_finite = st.builds(lambda m, e: (m, e), st.integers(-(2**64 - 1), 2**64 - 1),
                    st.integers(ld.EMIN, ld.EMAX))
_modest = st.builds(lambda m, e: (m, e), st.integers(-(2**64 - 1), 2**64 - 1),
                    st.integers(-130, 64))


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_doubles_parse_exactly_from_hex(x):
    v = ld.parse(float.hex(x).encode())
    assert value(v) == Fraction(x)


@settings(max_examples=500, deadline=None)
@given(st.integers(-10**30, 10**30), st.integers(-5000, 5000))
def test_decimal_parse_is_correctly_rounded(mant, exp):
    text = b"%de%d" % (mant, exp)
    q = Fraction(mant) * Fraction(10) ** exp
    want = round_reference(q)
    got = ld.parse(text)
    if want is None or (want == 0 and mant != 0):
        assert got is None
    else:
        assert value(got) == want


@settings(max_examples=500, deadline=None)
@given(_finite, _finite)
def test_add_is_correctly_rounded(a, b):
    want = round_reference(value(a) + value(b))
    got = ld.add(a, b)
    if want is None:
        assert got is None
    else:
        assert value(got) == want


@settings(max_examples=500, deadline=None)
@given(_modest)
def test_format_matches_decimal_reference(v):
    assert ld.format_human(v).decode() == format_reference(value(v))


@settings(max_examples=300, deadline=None)
@given(st.integers(-2**63, 2**63 - 1))
def test_integers_are_exact(n):
    v = ld.from_int(n)
    assert value(v) == n
    assert ld.format_human(ld.add(v, ZERO)) == b"%d" % n
    assert ld.format_human(ld.parse(b"%d" % n)) == b"%d" % n


# --- against the real server --------------------------------------------------

_text = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(float.hex),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-10**25, 10**25), st.integers(-4960, 4940)),
    st.builds(lambda m, p: str(Decimal(m).scaleb(-p)), st.integers(-10**30, 10**30),
              st.integers(0, 30)),
)


def _expected_reply(a: bytes, b: bytes) -> bytes:
    x = ld.parse(a)
    if x is None:
        return b"-" + errors.NOT_FLOAT + b"\r\n"
    y = ld.parse(b)
    if y is None:
        return b"-" + errors.NOT_FLOAT + b"\r\n"
    s = ld.add(x, y)
    if s is None:
        return b"-" + errors.INCR_NAN + b"\r\n"
    t = ld.format_human(s)
    return b"$%d\r\n%s\r\n" % (len(t), t)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=_text, b=_text)
def test_incrbyfloat_against_redis(raw_real, a, b):
    a, b = a.encode(), b.encode()
    raw_real.call("set", "f", a)
    assert raw_real.call("incrbyfloat", "f", b) == _expected_reply(a, b)


# --- string2ll ---------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    (b"0", 0), (b"-1", -1), (b"9223372036854775807", 2**63 - 1),
    (b"-9223372036854775808", -2**63), (b"9223372036854775808", None),
    (b"-9223372036854775809", None), (b"-0", None), (b"01", None), (b"+1", None),
    (b"", None), (b" 1", None), (b"1 ", None), (b"1.0", None), (b"1e3", None),
    (b"-", None), (b"00", None), (b"123456789012345678901", None), (b"\x001", None),
    (b"\xd9\xa1", None),   # an Arabic-Indic digit: not ASCII
])
def test_string2ll(text, expected):
    assert strict_int(text) == expected
    if expected is None:
        with pytest.raises(CommandError) as e:
            get_int(text)
        assert e.value.msg == errors.NOT_INTEGER
    else:
        assert get_int(text) == expected
