"""Unit tests of the sans-I/O request parser (kvserver.net.resp).

The parser must give the same commands and the same protocol error however
the bytes are split across reads: whole, byte by byte, or in random chunks
(hypothesis).  Expected texts and splits are Redis 7.0's (networking.c
processInlineBuffer / processMultibulkBuffer, sds.c sdssplitargs); the same
inputs are checked against a real redis-server end to end in
test_protocol.py.
"""

import os

import pytest
from hypothesis import assume, given, settings, strategies as st

from kvserver.net import resp
from kvserver.net.resp import INLINE_MAX, RequestParser, split_args

MAX_BULK = 512 * 1024 * 1024


def mbulk(*args) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def run(chunks, max_bulk=MAX_BULK, authenticated=True):
    """Feed chunks one by one, parsing after each; (commands, error or None).

    Every entry point is run and all must agree: `feed_parse`, which the
    server calls for every read (with its hiredis fast path, guarded by the
    native scanner when it is built and by checks of hiredis's result when
    not), and the pure-Python `feed` + `parse`.
    """
    chunks = [c for c in chunks if c]    # a read never returns b""
    pure = _run(chunks, max_bulk, authenticated, False)
    fast = _run(chunks, max_bulk, authenticated, True)
    assert fast == pure, f"feed_parse {fast!r} != parse {pure!r}"
    saved, resp._scan = resp._scan, None
    try:
        checked = _run(chunks, max_bulk, authenticated, True)
    finally:
        resp._scan = saved
    assert checked == pure, f"feed_parse without scanner {checked!r} != parse {pure!r}"
    return pure


def _run(chunks, max_bulk, authenticated, fast):
    p = RequestParser()
    out = []
    for chunk in chunks:
        if fast:
            err = p.feed_parse(chunk, out, max_bulk, authenticated)
        else:
            p.feed(chunk)
            err = p.parse(out, max_bulk, authenticated)
        if err is not None:
            return out, err
    return out, None


@pytest.mark.skipif(bool(os.environ.get("KVSERVER_NO_NATIVE")), reason="native off")
def test_native_scanner_is_built():
    """The fast path's scanner is compiled at install time; the server
    works without it, but it should be there wherever a compiler was."""
    assert resp._scan is not None


@pytest.mark.skipif(resp._scan is None, reason="native scanner not built")
@pytest.mark.parametrize("data,end", [
    (b"*1\r\n$4\r\nPING\r\n", 14),
    (b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI", 14),      # tail left over
    (b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n", 19),            # empty bulk
    (b"*1\r\n$4\r\nPING", 0),                           # nothing complete
    (b"*1\r", 0), (b"*", 0), (b"*1\r\n$", 0), (b"*1\r\n$4\r", 0),
    # not plain: -1 - the offset where the request that is not plain starts
    (b"*0\r\n", -1), (b"*-1\r\n", -1), (b"*01\r\n", -1),
    (b"*1\rX$4\r\nPING\r\n", -1), (b"*1\r\n$04\r\nPING\r\n", -1),
    (b"*1\r\n$+4\r\nPING\r\n", -1), (b"*1\r\n+PING\r\n", -1),
    (b"*1\r\n$4\r\nPINGxx", -1), (b"*1\r\n$4\r\nPING\r\nPING\r\n", -15),
    (b"*100000\r\n", -1), (b"*1\r\n$1234567890123456\r\n", -1),
    (b"*1\r\n$11\r\nhello world\r\n", -1),             # over max_bulk
    (b"*1\r\n$4\r\nPING\r\n*1\r\n$2\r\nPIX\r\n", -15),
])
def test_native_scanner_prefix(data, end):
    assert resp._scan(data, 0, len(data), 10) == end


@pytest.mark.skipif(resp._scan is None, reason="native scanner not built")
def test_native_scanner_starts_where_told():
    data = b"junk*1\r\n$4\r\nPING\r\n*1\r\n$4"
    assert resp._scan(data, 4, len(data), 10) == 18
    assert resp._scan(data, 0, len(data), 10) == -1


def bytewise(data: bytes):
    return [data[i:i + 1] for i in range(len(data))]


def every_way(data: bytes, **kw):
    """Parse `data` whole and byte by byte; both must agree; return one result."""
    whole = run([data], **kw)
    assert run(bytewise(data), **kw) == whole
    return whole


# ---------------------------------------------------------------------------
# framing
# ---------------------------------------------------------------------------

def test_multibulk_whole_and_bytewise():
    data = mbulk(b"SET", b"key", b"value") + mbulk(b"GET", b"key")
    assert every_way(data) == ([[b"SET", b"key", b"value"], [b"GET", b"key"]], None)


def test_binary_safe_bulks():
    arg = bytes(range(256)) * 3 + b"\r\n*1\r\n$3\r\n"
    assert every_way(mbulk(b"SET", b"\x00\r\n", arg)) == ([[b"SET", b"\x00\r\n", arg]], None)


def test_empty_bulk_argument():
    assert every_way(mbulk(b"SET", b"k", b"")) == ([[b"SET", b"k", b""]], None)


def test_inline_commands():
    data = b"PING\r\nSET a b\nECHO  x\t y\r\n"
    assert every_way(data) == ([[b"PING"], [b"SET", b"a", b"b"], [b"ECHO", b"x", b"y"]], None)


def test_empty_lines_and_empty_multibulks_produce_nothing():
    data = b"\r\n\n   \r\n*0\r\n*-1\r\n*-5\r\nPING\r\n"
    assert every_way(data) == ([[b"PING"]], None)


def test_incomplete_input_waits():
    for frag in (b"*", b"*2", b"*2\r", b"*2\r\n$3", b"*2\r\n$3\r\nGE", b"*2\r\n$3\r\nGET\r",
                 b"*2\r\n$3\r\nGET\r\n", b"PING", b"PING\r"):
        p = RequestParser()
        out = []
        p.feed(frag)
        assert p.parse(out, MAX_BULK) is None
        assert out == []
        assert p.pending() > 0 or p.argv


def test_header_cr_is_enough_for_the_count():
    # Redis only looks for '\r' and skips the byte after it, whatever it is
    assert every_way(b"*1\rx$4\r\nPING\r\n") == ([[b"PING"]], None)


def test_bulk_trailer_is_skipped_not_checked():
    # as Redis: the two bytes after a bulk are skipped; here "b\r" goes, and
    # the lone "\n" left is an empty inline line
    assert every_way(b"*2\r\n$4\r\nECHO\r\n$1\r\nab\r\n") == ([[b"ECHO", b"a"]], None)


def test_resumable_multibulk_keeps_parsed_arguments():
    p = RequestParser()
    out = []
    p.feed(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva")
    assert p.parse(out, MAX_BULK) is None
    assert out == []
    assert p.argv == [b"SET", b"k"]
    p.feed(b"lue\r\n")
    assert p.parse(out, MAX_BULK) is None
    assert out == [[b"SET", b"k", b"value"]]
    assert p.argv is None
    assert p.pending() == 0


def test_need_defers_parsing_until_the_bulk_is_complete():
    value = b"x" * 100_000
    data = mbulk(b"SET", b"k", value)
    head = data.index(b"$100000")
    p = RequestParser()
    out = []
    p.feed(data[:head + 20])
    assert p.parse(out, MAX_BULK) is None
    # the bulk header, the bulk and its CRLF, counted from the header
    assert p.need == len(b"$100000\r\n") + len(value) + 2
    assert p.need > p.pending()
    # feeding less than `need` must not produce anything
    p.feed(data[head + 20:-3])
    assert p.parse(out, MAX_BULK) is None and out == []
    p.feed(data[-3:])
    assert p.parse(out, MAX_BULK) is None
    assert out == [[b"SET", b"k", value]]
    assert p.need == 0 and p.pending() == 0


def test_big_bulk_in_many_feeds():
    value = bytes(range(256)) * 40_000          # ~10 MB
    data = mbulk(b"SET", b"big", value) + mbulk(b"PING")
    step = 16 * 1024 + 7
    chunks = [data[i:i + step] for i in range(0, len(data), step)]
    assert run(chunks) == ([[b"SET", b"big", value], [b"PING"]], None)


def test_many_pipelined_commands_in_one_feed():
    data = b"".join(mbulk(b"INCR", b"k%d" % i) for i in range(10_000))
    out, err = run([data])
    assert err is None
    assert len(out) == 10_000 and out[-1] == [b"INCR", b"k9999"]


def test_buffer_released_after_full_consumption():
    p = RequestParser()
    out = []
    p.feed(mbulk(b"PING") + b"*1\r\n$4\r\nPI")
    p.parse(out, MAX_BULK)
    p.feed(b"NG\r\n")
    p.parse(out, MAX_BULK)
    assert out == [[b"PING"], [b"PING"]]
    assert p.pending() == 0


# ---------------------------------------------------------------------------
# protocol errors: exact texts, commands before the error still come out
# ---------------------------------------------------------------------------

ERROR_CASES = [
    (b"*x\r\n", "Protocol error: invalid multibulk length"),
    (b"* 1\r\n", "Protocol error: invalid multibulk length"),
    (b"*+1\r\n", "Protocol error: invalid multibulk length"),
    (b"*01\r\n", "Protocol error: invalid multibulk length"),
    (b"*\r\n", "Protocol error: invalid multibulk length"),
    (b"*2147483648\r\n", "Protocol error: invalid multibulk length"),
    (b"*99999999999999999999\r\n", "Protocol error: invalid multibulk length"),
    (b"*1\r\nx\r\n", "Protocol error: expected '$', got 'x'"),
    (b"*2\r\n$4\r\nECHO\r\n:1\r\n", "Protocol error: expected '$', got ':'"),
    (b"*1\r\n$x\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$04\r\nPING\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$2147483648\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$536870913\r\n", "Protocol error: invalid bulk length"),
    (b'ECHO "a\r\n', "Protocol error: unbalanced quotes in request"),
    (b"ECHO 'a'b\r\n", "Protocol error: unbalanced quotes in request"),
    (b'ECHO "a"b\r\n', "Protocol error: unbalanced quotes in request"),
    (b"a" * (INLINE_MAX + 1), "Protocol error: too big inline request"),
    (b"*" + b"1" * INLINE_MAX, "Protocol error: too big mbulk count string"),
    (b"*1\r\n$" + b"1" * INLINE_MAX, "Protocol error: too big bulk count string"),
]


@pytest.mark.parametrize("data,text", ERROR_CASES, ids=[repr(c[0][:24]) for c in ERROR_CASES])
def test_protocol_errors(data, text):
    assert every_way(data) == ([], text)


@pytest.mark.parametrize("data,text", ERROR_CASES, ids=[repr(c[0][:24]) for c in ERROR_CASES])
def test_commands_before_an_error_still_run(data, text):
    prefix = mbulk(b"SET", b"a", b"1") + b"PING\r\n"
    assert every_way(prefix + data) == ([[b"SET", b"a", b"1"], [b"PING"]], text)


def test_inline_limit_is_exclusive():
    # exactly 64 KB without a newline is still waited on; one more byte is not
    assert every_way(b"a" * INLINE_MAX) == ([], None)
    line = b"a" * INLINE_MAX + b" b\n"
    assert run([line]) == ([[b"a" * INLINE_MAX, b"b"]], None)
    # what counts is what is buffered when a read arrives without a newline
    assert run([line[:INLINE_MAX + 1], line[INLINE_MAX + 1:]]) == (
        [], "Protocol error: too big inline request")


def test_max_bulk_is_the_configured_limit():
    assert run([b"*1\r\n$1048577\r\n"], max_bulk=1024 * 1024) == (
        [], "Protocol error: invalid bulk length")
    assert run([b"*1\r\n$1048576\r\n"], max_bulk=1024 * 1024) == ([], None)


def test_unauthenticated_limits():
    # Redis 7.0 allows an unauthenticated client at most 10 arguments
    assert run([b"*11\r\n"], authenticated=False) == (
        [], "Protocol error: unauthenticated multibulk length")
    assert run([mbulk(*[b"a"] * 10)], authenticated=False) == ([[b"a"] * 10], None)
    assert run([b"*1\r\n$16385\r\n"], authenticated=False) == (
        [], "Protocol error: unauthenticated bulk length")
    assert run([mbulk(b"x" * 16384)], authenticated=False) == ([[b"x" * 16384]], None)
    # authenticated clients get the ordinary limits
    assert run([b"*11\r\n"]) == ([], None)
    assert run([b"*1\r\n$16385\r\n"]) == ([], None)


# ---------------------------------------------------------------------------
# inline splitting: sdssplitargs
# ---------------------------------------------------------------------------

SPLIT_CASES = [
    (b"", []),
    (b"   ", []),
    (b"a", [b"a"]),
    (b"  a  b\tc  ", [b"a", b"b", b"c"]),
    (b'"a b" c', [b"a b", b"c"]),
    (b"'a b' c", [b"a b", b"c"]),
    (b'""', [b""]),
    (b"''", [b""]),
    (b'"" x', [b"", b"x"]),
    (b'a"b c"', [b"ab c"]),
    (b"a'b c'", [b"ab c"]),
    (b'"\\x41\\x4g\\n"', [b"Ax4g\n"]),
    (b'"\\x00\\xff\\xFf"', [b"\x00\xff\xff"]),
    (b'"\\n\\r\\t\\b\\a\\\\\\"\\q"', [b"\n\r\t\b\a\\\"q"]),
    (b"'\\n'", [b"\\n"]),
    (b"'\\''", [b"'"]),
    (b"'a\\'b'", [b"a'b"]),
    (b"'\"'", [b'"']),
    (b"\"'\"", [b"'"]),
    # vertical tab and form feed separate arguments only between them,
    # not inside an unquoted one (isspace() vs. the token switch)
    (b"\x0ba", [b"a"]),
    (b"a\x0bb", [b"a\x0bb"]),
    (b"a\x0cb c", [b"a\x0cb", b"c"]),
    (b'"a"\x0bb', [b"a", b"b"]),
    (b"\x80\xff", [b"\x80\xff"]),
]


@pytest.mark.parametrize("line,args", SPLIT_CASES, ids=[repr(c[0]) for c in SPLIT_CASES])
def test_split_args(line, args):
    assert split_args(line) == args


@pytest.mark.parametrize("line", [b'"a', b"'a", b'"a"b', b"'a'b", b'"\\"', b"'\\'", b'"a\\x4'])
def test_split_args_unbalanced(line):
    assert split_args(line) is None


# ---------------------------------------------------------------------------
# property tests
# ---------------------------------------------------------------------------

def dquote(arg: bytes) -> bytes:
    out = bytearray(b'"')
    for c in arg:
        if c in b'"\\' or c < 32 or c > 126:
            out += b"\\x%02x" % c
        else:
            out.append(c)
    return bytes(out + b'"')


def squote(arg: bytes) -> bytes:
    return b"'" + arg.replace(b"'", b"\\'") + b"'"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=20), min_size=1, max_size=6), st.data())
def test_split_args_quoting_round_trip(args, data):
    parts = []
    for a in args:
        if b"\\" not in a and data.draw(st.booleans()):
            parts.append(squote(a))
        else:
            parts.append(dquote(a))
    seps = data.draw(st.lists(st.sampled_from([b" ", b"\t", b"  "]),
                              min_size=len(parts), max_size=len(parts)))
    line = b"".join(s + p for s, p in zip(seps, parts))
    assert split_args(line) == args


PLAIN = st.binary(min_size=1, max_size=12).filter(
    lambda b: not any(c in b" \t\r\n\x0b\x0c\x00\"'" for c in b))


@st.composite
def frames(draw):
    """One request frame and the commands it must yield."""
    kind = draw(st.sampled_from(["mbulk", "mbulk", "mbulk", "inline", "empty", "big"]))
    if kind == "mbulk":
        args = draw(st.lists(st.binary(max_size=40), min_size=1, max_size=6))
        return mbulk(*args), [args]
    if kind == "big":
        n = draw(st.integers(32 * 1024 - 4, 70 * 1024))
        fill = draw(st.integers(0, 255))
        args = [b"SET", b"k", bytes([fill]) * n]
        return mbulk(*args), [args]
    if kind == "inline":
        args = draw(st.lists(PLAIN, min_size=1, max_size=5))
        quoted = [dquote(a) if draw(st.booleans()) else a for a in args]
        end = draw(st.sampled_from([b"\r\n", b"\n"]))
        line = b" ".join(quoted)
        assume(line[:1] != b"*")    # a line starting with '*' is multibulk
        return line + end, [args]
    return draw(st.sampled_from([b"\r\n", b"\n", b"*0\r\n", b"*-1\r\n", b"  \r\n"])), []


@st.composite
def chunked(draw, data: bytes):
    cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=30))))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


@settings(max_examples=150, deadline=None)
@given(st.lists(frames(), min_size=1, max_size=12), st.data())
def test_any_chunking_gives_the_same_commands(fr, data):
    stream = b"".join(f for f, _ in fr)
    expected = [cmd for _, cmds in fr for cmd in cmds]
    assert run([stream]) == (expected, None)
    assert run(data.draw(chunked(stream))) == (expected, None)


@settings(max_examples=40, deadline=None)
@given(st.lists(frames(), min_size=1, max_size=4))
def test_byte_by_byte_gives_the_same_commands(fr):
    stream = b"".join(f for f, _ in fr)
    if len(stream) > 20_000:
        stream = stream[:0]
        fr = []
    expected = [cmd for _, cmds in fr for cmd in cmds]
    assert run(bytewise(stream)) == (expected, None)


@settings(max_examples=100, deadline=None)
@given(st.lists(frames(), max_size=5), st.sampled_from(ERROR_CASES), st.data())
def test_errors_after_valid_frames_any_chunking(fr, case, data):
    bad, text = case
    stream = b"".join(f for f, _ in fr) + bad
    expected = [cmd for _, cmds in fr for cmd in cmds]
    assert run(data.draw(chunked(stream))) == (expected, text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.data())
def test_junk_never_raises_and_chunking_does_not_matter(junk, data):
    whole = run([junk])
    assert run(data.draw(chunked(junk))) == whole


TRICKY_ARG = st.one_of(
    st.binary(max_size=12),
    st.sampled_from([b"\r\n$", b"\r\n*", b"$-1", b"\r\n$3\r\n", b"\r\n*1\r\n", b"*", b"$"]),
)


@st.composite
def resp_pieces(draw):
    """Multibulk-looking input, valid or not, that a fast path might misjudge."""
    kind = draw(st.integers(0, 9))
    if kind <= 3:
        return mbulk(*draw(st.lists(TRICKY_ARG, min_size=1, max_size=5)))
    if kind == 4:   # a nested array
        return b"*1\r\n" + mbulk(*draw(st.lists(TRICKY_ARG, min_size=1, max_size=3)))
    if kind == 5:   # non-bulk elements inside a command
        elem = draw(st.sampled_from([b":1\r\n", b"+OK\r\n", b"-ERR\r\n", b"$-1\r\n",
                                     b"*-1\r\n", b"*0\r\n", b"_\r\n", b",1.5\r\n"]))
        args = draw(st.lists(TRICKY_ARG, min_size=1, max_size=3))
        i = draw(st.integers(0, len(args)))
        body = [b"$%d\r\n%s\r\n" % (len(a), a) for a in args]
        body.insert(i, elem)
        return b"*%d\r\n" % len(body) + b"".join(body)
    if kind == 6:   # a count that disagrees with what follows
        args = draw(st.lists(TRICKY_ARG, min_size=1, max_size=3))
        n = len(args) + draw(st.sampled_from([-1, 1, 2]))
        return b"*%d\r\n" % max(n, 0) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    if kind == 7:   # a bulk length that disagrees with its data
        a = draw(TRICKY_ARG)
        d = draw(st.sampled_from([-1, 1, 2]))
        return b"*1\r\n$%d\r\n%s\r\n" % (max(len(a) + d, 0), a)
    if kind == 8:
        return draw(st.sampled_from([b"*0\r\n", b"*-1\r\n", b"\r\n", b"PING\r\n"]))
    return b"*1\r\n$%s\r\nPING\r\n" % draw(st.sampled_from([b"04", b"+4", b" 4", b"4 "]))


@settings(max_examples=500, deadline=None)
@given(st.lists(resp_pieces(), min_size=1, max_size=6), st.data())
def test_fast_path_agrees_with_the_exact_parser(pieces, data):
    """`run` asserts feed_parse == feed + parse for the same chunks."""
    stream = b"".join(pieces)
    run([stream])
    run(data.draw(chunked(stream)))
