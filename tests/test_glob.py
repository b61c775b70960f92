"""kvserver.glob against Redis 7.0's stringmatchlen.

Three references: a literal Python transcription of util.c's recursive
matcher (fast, for many hypothesis examples), the real redis-server via
KEYS (case-sensitive matching) and via CONFIG GET (nocase matching over
the configuration names), and kvserver's own KEYS through the differ.
"""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kvserver.glob import NESTING_LIMIT, compile_glob, stringmatch


# --- a transcription of util.c (7.0.15) as the model ------------------------

def _c_lower(c: int) -> int:
    return c + 32 if 65 <= c <= 90 else c


def _sc(c: int) -> int:      # C's signed char
    return c - 256 if c >= 128 else c


def model_match(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    p = pattern + b"\0"
    skip = [False]

    def impl(pi, plen, si, slen, nesting):
        if nesting > NESTING_LIMIT:
            return False
        while plen and slen:
            c = p[pi]
            if c == 42:
                while plen and p[pi + 1] == 42:
                    pi += 1
                    plen -= 1
                if plen == 1:
                    return True
                while slen:
                    if impl(pi + 1, plen - 1, si, slen, nesting + 1):
                        return True
                    if skip[0]:
                        return False
                    si += 1
                    slen -= 1
                skip[0] = True
                return False
            elif c == 63:
                si += 1
                slen -= 1
            elif c == 91:
                pi += 1
                plen -= 1
                neg = p[pi] == 94
                if neg:
                    pi += 1
                    plen -= 1
                match = False
                s0 = string[si]
                while True:
                    if p[pi] == 92 and plen >= 2:
                        pi += 1
                        plen -= 1
                        if p[pi] == s0:
                            match = True
                    elif p[pi] == 93:
                        break
                    elif plen == 0:
                        pi -= 1
                        plen += 1
                        break
                    elif plen >= 3 and p[pi + 1] == 45:
                        start, end, ch = _sc(p[pi]), _sc(p[pi + 2]), _sc(s0)
                        if start > end:
                            start, end = end, start
                        if nocase:
                            start, end, ch = _c_lower(start), _c_lower(end), _c_lower(ch)
                        pi += 2
                        plen -= 2
                        if start <= ch <= end:
                            match = True
                    elif (_c_lower(p[pi]) == _c_lower(s0)) if nocase else p[pi] == s0:
                        match = True
                    pi += 1
                    plen -= 1
                if neg:
                    match = not match
                if not match:
                    return False
                si += 1
                slen -= 1
            else:
                if c == 92 and plen >= 2:
                    pi += 1
                    plen -= 1
                a, b = p[pi], string[si]
                if (_c_lower(a) != _c_lower(b)) if nocase else a != b:
                    return False
                si += 1
                slen -= 1
            pi += 1
            plen -= 1
            if slen == 0:
                while p[pi] == 42:
                    pi += 1
                    plen -= 1
                break
        return plen == 0 and slen == 0

    return impl(0, len(pattern), 0, len(string), 0)


# --- strategies ----------------------------------------------------------------

SPECIAL = b"*?[]^-\\"
_alphabet = st.sampled_from(list(b"abcAB-^]\\[*?\x00\xe9\xff") + list(SPECIAL))
patterns = st.lists(_alphabet, max_size=12).map(bytes)
subjects = st.lists(st.sampled_from(list(b"abcAB-^]\\[*?\x00\xe9\xff \n")),
                    max_size=10).map(bytes)


@settings(max_examples=3000, deadline=None)
@given(patterns, subjects, st.booleans())
def test_matches_model(pattern, subject, nocase):
    assert bool(compile_glob(pattern, nocase)(subject)) == model_match(pattern, subject, nocase)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=8), st.binary(max_size=8), st.booleans())
def test_matches_model_any_bytes(pattern, subject, nocase):
    assert bool(compile_glob(pattern, nocase)(subject)) == model_match(pattern, subject, nocase)


@pytest.mark.parametrize("pattern,subject,expected", [
    (b"*", b"", False),          # an empty subject matches only ""
    (b"", b"", True),
    (b"**", b"x", True),
    (b"h?llo", b"hello", True),
    (b"h*llo", b"heeeello", True),
    (b"h[ae]llo", b"hallo", True),
    (b"h[^e]llo", b"hello", False),
    (b"h[a-b]llo", b"hbllo", True),
    (b"h[b-a]llo", b"hbllo", True),     # reversed range
    (b"[]a]", b"a", False),             # ']' first closes an empty class
    (b"[^]a]", b"xa]", True),          # "[^]" is any byte, then "a]"
    (b"[^]", b"x", True),
    (b"[", b"a", False),
    (b"[^", b"a", True),
    (b"[\\", b"\\", True),
    (b"\\", b"\\", True),
    (b"a\\*b", b"a*b", True),
    (b"a\\*b", b"axb", False),
    (b"[a-\xff]", b"b", False),         # signed chars: 0xff is -1 < 'a'
    (b"[a-\xff]", b"\x00", True),
])
def test_corner_cases(pattern, subject, expected):
    assert bool(compile_glob(pattern)(subject)) is expected
    assert model_match(pattern, subject) is expected


def test_nocase():
    assert stringmatch(b"MAX*", b"maxmemory", nocase=True)
    assert not stringmatch(b"MAX*", b"maxmemory")
    assert stringmatch(b"[A-C]x", b"bx", nocase=True)
    # escaped bytes in a class compare case-sensitively even with nocase
    assert not stringmatch(b"[\\A]", b"a", nocase=True)


def test_nesting_limit():
    s = b"a" * 1500
    assert compile_glob(b"*a" * NESTING_LIMIT)(s)
    assert not compile_glob(b"*a" * (NESTING_LIMIT + 1))(s)
    # a final star does not recurse
    assert compile_glob(b"a*" * (NESTING_LIMIT + 1))(s)


def test_pathological_patterns_are_fast():
    # exponential for naive backtracking; linear-ish here
    s = b"a" * 5000
    assert not compile_glob(b"*a*a*a*a*a*a*a*a*a*a*a*b")(s)
    assert not compile_glob(b"a*a*a*a*a*a*a*a*a*a*b")(s)
    # a long tail is tried at the end only, not at every position
    n = 50_000
    m = compile_glob(b"a" * n + b"*" + b"b" * n)
    assert m(b"a" * n + b"x" * 100 + b"b" * n)
    assert not m(b"a" * n + b"b" * (3 * n) + b"c")


# --- against the real server ------------------------------------------------------

@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=patterns, keys=st.lists(subjects, min_size=1, max_size=6, unique=True))
def test_keys_on_real_server(real, pattern, keys):
    real.flushdb()
    for k in keys:
        real.set(k, b"1")
    got = set(real.keys(pattern))
    m = compile_glob(pattern)
    want = set(keys) if pattern == b"*" else {k for k in keys if m(k)}
    assert got == want, (pattern, keys)


def test_nesting_limit_on_real_server(real):
    real.set(b"a" * 1500, b"1")
    assert real.keys(b"*a" * NESTING_LIMIT) == [b"a" * 1500]
    assert real.keys(b"*a" * (NESTING_LIMIT + 1)) == []


_CONFIG_CHARS = st.sampled_from(list(b"maxMAXlru-*?[]^e\\zy"))


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=st.lists(_CONFIG_CHARS, max_size=10).map(bytes)
       .filter(lambda p: any(ch in p for ch in b"*?[")))
def test_nocase_on_real_server_config_get(real, pattern):
    # CONFIG GET matches names with nocase stringmatch when the argument
    # holds a glob character
    names = {n if isinstance(n, bytes) else n.encode()
             for n in real.config_get("*")}
    got = set(real.execute_command("CONFIG", "GET", pattern)[::2])
    m = compile_glob(pattern, True)
    want = {n for n in names if m(n)}
    assert got == want, pattern


# --- kvserver's KEYS against redis-server's --------------------------------------

@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=patterns, keys=st.lists(subjects, min_size=1, max_size=5, unique=True))
def test_keys_differential(diff, pattern, keys):
    diff.call("FLUSHDB")
    for k in keys:
        diff.call("SET", k, b"v")
    a = diff.kv.call("KEYS", pattern)
    b = diff.real.call("KEYS", pattern)
    # same count and the same elements, in either server's order
    assert a.split(b"\r\n", 1)[0] == b.split(b"\r\n", 1)[0]
    assert sorted(_bulks(a)) == sorted(_bulks(b)), (pattern, keys)


def _bulks(reply: bytes) -> list:
    out = []
    i = reply.index(b"\r\n") + 2
    while i < len(reply):
        j = reply.index(b"\r\n", i)
        n = int(reply[i + 1:j])
        out.append(reply[j + 2:j + 2 + n])
        i = j + 2 + n + 2
    return out
