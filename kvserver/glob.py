"""Glob-style matching exactly as Redis 7.0's stringmatchlen (util.c).

`compile_glob(pattern, nocase)` turns a pattern into a matcher once, so a
command that tests many subjects (KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE,
CLIENT KILL...) parses the pattern a single time.  The matcher is a bound
regex method (or `bool`): call it with the subject bytes; the result is
truthy exactly when Redis's stringmatchlen would return 1.

What "exactly" covers, besides the usual * ? [abc] [^a] [a-z] and \\x:
- a subject is consumed one byte per non-star element, and an empty
  subject matches only the empty pattern: "*" does not match b"" (KEYS and
  SCAN special-case the lone "*" themselves, as Redis does);
- inside brackets: a backslash escapes the next byte (compared without
  nocase), a range is a-b with its ends swapped when reversed and compared
  as C's signed chars (so bytes >= 0x80 sort below NUL), `]` right after
  `[` or `[^` closes an empty class, a class left open runs to the end of
  the pattern, and a lone trailing `\\` is a literal backslash;
- nocase folds ASCII letters only (C locale tolower), range ends after the
  swap;
- the recursion guard Redis applies to abusive patterns: a star followed by
  more pattern recurses one level, and past 1000 levels the match fails,
  so a pattern with more than 1000 such stars matches nothing.

Why a regex is equivalent: every element but `*` consumes exactly one byte,
so stars split the pattern into fixed-length segments.  With two or more
stars, the middle segments are matched leftmost-first inside atomic groups
(`(?>.*?SEG)`), which is the greedy algorithm for globs and stays linear,
where plain backtracking regexes (and Redis before its skipLongerMatches
fix) are exponential.  Each bracket class is computed by evaluating Redis's
rules for all 256 byte values, so its odd corners come out right by
construction rather than by translation.
"""

import functools
import re

# stringmatchlen_impl gives up when nested deeper than this.
NESTING_LIMIT = 1000


def _lower(c: int) -> int:
    return c + 32 if 65 <= c <= 90 else c


def _signed(c: int) -> int:
    return c - 256 if c >= 128 else c


def _class_bytes(items, negate: bool, nocase: bool) -> list:
    """The bytes one bracket expression matches, by Redis's rules."""
    out = []
    for b in range(256):
        matched = False
        for kind, x, y in items:
            if kind == 0:       # escaped: exact compare even with nocase
                if x == b:
                    matched = True
            elif kind == 1:     # range, compared as signed chars
                lo, hi, c = _signed(x), _signed(y), _signed(b)
                if lo > hi:
                    lo, hi = hi, lo
                if nocase:
                    lo, hi, c = _lower(lo), _lower(hi), _lower(c)
                if lo <= c <= hi:
                    matched = True
            elif (_lower(x) == _lower(b)) if nocase else (x == b):
                matched = True
        if matched != negate:
            out.append(b)
    return out


def _regex_class(members: list) -> bytes:
    if not members:
        return b"(?!)"
    if len(members) == 256:
        return b"."
    if len(members) == 1:
        return b"\\x%02x" % members[0]
    parts = [b"["]
    i, n = 0, len(members)
    while i < n:
        j = i
        while j + 1 < n and members[j + 1] == members[j] + 1:
            j += 1
        if j == i:
            parts.append(b"\\x%02x" % members[i])
        else:
            parts.append(b"\\x%02x-\\x%02x" % (members[i], members[j]))
        i = j + 1
    parts.append(b"]")
    return b"".join(parts)


_ESCAPED = [re.escape(bytes((c,))) for c in range(256)]


def _literal(c: int, nocase: bool) -> bytes:
    if nocase and (65 <= c <= 90 or 97 <= c <= 122):
        lo = _lower(c)
        return b"[\\x%02x\\x%02x]" % (lo - 32, lo)
    return _ESCAPED[c]


def parse(pattern: bytes, nocase: bool = False) -> list:
    """The pattern as elements: None for a star run, else a regex piece
    matching exactly one byte."""
    p = pattern + b"\0"   # C reads the NUL terminator in a few places
    n = len(pattern)
    i = 0
    out = []
    while i < n:
        c = p[i]
        if c == 42:             # '*': a run of stars is one star
            while p[i + 1] == 42 and i + 1 < n:
                i += 1
            out.append(None)
        elif c == 63:           # '?'
            out.append(b".")
        elif c == 91:           # '['
            i += 1
            negate = p[i] == 94 and i < n
            if negate:
                i += 1
            items = []
            while True:
                left = n - i
                if p[i] == 92 and left >= 2:
                    i += 1
                    items.append((0, p[i], 0))
                elif p[i] == 93 and left > 0:
                    break
                elif left == 0:
                    i -= 1      # an open class ends with the pattern
                    break
                elif left >= 3 and p[i + 1] == 45:
                    items.append((1, p[i], p[i + 2]))
                    i += 2
                else:
                    items.append((2, p[i], 0))
                i += 1
            out.append(_regex_class(_class_bytes(items, negate, nocase)))
        elif c == 92 and n - i >= 2:
            i += 1
            out.append(_literal(p[i], nocase))
        else:
            out.append(_literal(c, nocase))
        i += 1
    return out


def _never(subject) -> bool:
    return False


@functools.lru_cache(maxsize=512)
def compile_glob(pattern: bytes, nocase: bool = False):
    """A callable(subject: bytes) that is truthy iff the glob matches."""
    if type(pattern) is not bytes:
        pattern = bytes(pattern)
    elems = parse(pattern, nocase)
    stars = [i for i, e in enumerate(elems) if e is None]
    # every star with pattern after it recurses one level deeper
    deep = len(stars) - (1 if elems and elems[-1] is None else 0)
    if deep > NESTING_LIMIT:
        return _never
    if elems and len(stars) == len(elems):
        return bool         # only stars: any non-empty subject
    # split into fixed-length segments between the stars
    segs, cur = [], []
    for e in elems:
        if e is None:
            segs.append(b"".join(cur))
            cur = []
        else:
            cur.append(e)
    segs.append(b"".join(cur))
    head, middle, tail = segs[0], segs[1:-1], segs[-1]
    rx = [b"(?s)", head]
    for seg in middle:
        rx.append(b"(?>.*?" + seg + b")")
    if len(segs) == 1:
        return re.compile(b"".join(rx)).fullmatch
    if not tail:
        # a trailing star accepts whatever is left: a prefix match suffices
        return re.compile(b"".join(rx)).match
    # The tail can only sit at the very end.  The lookahead (O(1): sre
    # skips a run of any-byte in one step) stops the greedy star backing
    # off more than the tail's length, so the tail is tried once, not at
    # every position of a long subject.
    ntail = len(elems) - stars[-1] - 1
    rx.append(b".*(?=.{%d}\\Z)" % ntail)
    rx.append(tail)
    return re.compile(b"".join(rx)).fullmatch


def stringmatch(pattern: bytes, subject: bytes, nocase: bool = False) -> bool:
    """One-off match; prefer compile_glob when testing many subjects."""
    return bool(compile_glob(pattern, nocase)(subject))
