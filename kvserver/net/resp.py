"""Sans-I/O RESP: the request parser and the reply encoders.

Requests are parsed the way Redis's `processMultibulkBuffer` and
`processInlineBuffer` parse them (networking.c), including their limits and
their exact protocol-error texts; a protocol error is reported after the
commands that preceded it in the same buffer, and the caller must then close
the connection once the error is written.

The parser is resumable: a multibulk command whose arguments arrive over many
reads keeps the arguments already parsed (`RequestParser.argv`), so one huge
command costs time linear in its size, and a pending bulk of known length is
not rescanned until enough bytes are there (`need`).

Replies are plain `bytes`.  Functions taking `resp` choose between the
RESP2 and RESP3 forms; the common replies are pre-encoded once.
"""

import re
from itertools import chain

try:
    import hiredis
except ImportError:      # the pure-Python parser alone is complete
    hiredis = None

from kvserver.native import ffi as _ffi, lib as _native

# The native scanner finds the prefix of a chunk that hiredis may parse
# (kvserver/native/build_native.py); without it hiredis parses first and
# its result is checked afterwards, which costs about twice as much.
_scan = _native.scan_requests if _native is not None else None

INLINE_MAX = 64 * 1024          # PROTO_INLINE_MAX_SIZE
MBULK_BIG_ARG = 32 * 1024       # PROTO_MBULK_BIG_ARG
INT_MAX = 2**31 - 1
LLONG_MAX = 2**63 - 1


# The canonical spellings of small integers, the usual counts, scores,
# TTLs and set members: one dict probe instead of the checks below.
_SMALL_INTS = {b"%d" % i: i for i in range(-1000, 10000)}


def strict_int(b) -> int | None:
    """Redis's string2ll: optional '-', digits, no leading zeros, no spaces."""
    if type(b) is bytes:
        v = _SMALL_INTS.get(b)
        if v is not None:
            return v
    n = len(b)
    if n == 0 or n > 20:
        return None
    if b[0] == 45:  # '-'
        digits = b[1:]
        if not digits.isdigit() or (digits[0] == 48) or len(digits) > 19:
            return None
        v = -int(digits)
        return v if v >= -LLONG_MAX - 1 else None
    if not b.isdigit() or (b[0] == 48 and n > 1):
        return None
    v = int(b)
    return v if v <= LLONG_MAX else None


# A multibulk count hiredis would preallocate a huge list for before any
# element arrives; such chunks go to the exact parser, which rejects them.
_BIG_COUNT = re.compile(rb"\*[0-9]{6}")
UNAUTH_MAX_ARGS = 10            # processMultibulkBuffer before AUTH
UNAUTH_MAX_BULK = 16384


def _bulk_arrays(cmds: list) -> bool:
    """True if every argument is bytes (joining fails on the integers,
    errors, nulls and nested arrays hiredis may return, and on a top-level
    item that is not an array) and no argument starts with or holds a
    "\\r\\n$" or "\\r\\n*" that the header counts in feed_parse could
    mistake for a header.  A top-level map or set passes here; the count
    of top-level "*" headers rejects it."""
    try:
        joined = b"\r\n".join(chain.from_iterable(cmds))
    except TypeError:
        return False
    if b"$" not in joined and b"*" not in joined:   # memchr: the usual case
        return True
    return (b"\r\n$" not in joined and b"\r\n*" not in joined
            and joined[:1] not in (b"$", b"*"))


def _encode_request(cmd: list) -> bytes:
    parts = [b"*%d\r\n" % len(cmd)]
    for a in cmd:
        parts.append(b"$%d\r\n" % len(a))
        parts.append(a)
        parts.append(b"\r\n")
    return b"".join(parts)


_NOT_PLAIN_INLINE = re.compile(rb"[\"'\x00\x0b\x0c]|\n\*")


def _plain_inline(data: bytes) -> bool:
    """No quotes, NULs, \\v or \\f, and no line starting a multibulk."""
    return _NOT_PLAIN_INLINE.search(data) is None


class RequestParser:
    """Turns the bytes of one connection into argument vectors.

    `feed_parse(data, out, max_bulk, authenticated)` appends every complete
    command to `out` and returns None or a protocol error text.

    Two parsers cooperate.  A chunk that starts at a command boundary and
    holds plain multibulk requests goes through hiredis (C, about ten times
    faster).  The native scanner, when built, measures the prefix of plain
    requests before hiredis sees it.  Without it, hiredis rejects malformed
    lengths itself, a type check rejects whatever it returns that is not a
    list of bulk strings, and counting the "$" and "*" headers in the chunk
    catches the frames it would turn into the same Python objects but
    Redis would not accept (status lines, RESP3 aggregates).  Anything else - inline commands, protocol errors,
    unauthenticated clients, and the tail of a command that straddles reads
    - goes through `parse`, the exact port of Redis's rules, which keeps the
    connection until it is back at a command boundary.

    An unauthenticated client's input is parsed one command at a time
    (`held` is set while more is buffered), as Redis does: an AUTH lifts
    the limits for the very next command in the same write.
    """

    __slots__ = ("buf", "pos", "argv", "left", "need", "_reader", "held")

    def __init__(self):
        self.buf = b""
        self.pos = 0
        self.argv = None   # arguments of a multibulk command still arriving
        self.left = 0      # arguments it still lacks
        self.need = 0      # don't try again until this many bytes follow pos
        self._reader = None  # the hiredis.Reader, made by the first read that wants it
        self.held = False  # stopped after one command with input left

    # A hiredis.Reader costs about 1 KB of C buffers, more than the rest of
    # a connection's state together: an idle connection never pays for it.
    # None only when hiredis is not installed.
    @property
    def reader(self):
        r = self._reader
        if r is None and hiredis is not None:
            r = self._reader = hiredis.Reader()
        return r

    @reader.setter
    def reader(self, r):
        self._reader = r

    def feed_parse(self, data: bytes, out: list, max_bulk: int, authenticated: bool):
        reader = self.reader
        start = 0
        if reader is not None and authenticated:
            if self.argv is not None or self.pos < len(self.buf):
                # A command straddles reads (a stream cut anywhere, as
                # `redis-cli --pipe` and big pipelines cut it): the exact
                # parser finishes that one command, then the rest of the
                # buffer takes the fast path again.  Handing everything
                # after a straddle to the exact parser would make a
                # streaming client pay the pure-Python price for good.
                self.feed(data)
                err = self.parse(out, max_bulk, True, True)
                if err is not None or self.argv is not None or self.pos >= len(self.buf):
                    return err
                data = self.buf
                start = self.pos
                self.buf = b""
                self.pos = 0
            if data[start] == 42:
                if _scan is not None:
                    return self._feed_scanned(reader, data, start, out, max_bulk)
                if start:
                    data = bytes(data[start:])
                    start = 0
                if _BIG_COUNT.search(data) is None:
                    err = self._feed_checked(reader, data, out, max_bulk, authenticated)
                    if err is not False:
                        return err
        if start:
            data = bytes(data[start:])
        if (data[0] != 42 and authenticated and self.argv is None
              and self.pos >= len(self.buf) and data[-1] == 10
              and len(data) <= INLINE_MAX and _plain_inline(data)):
            # whole inline lines without quotes: bytes.split does all of
            # sdssplitargs' work (redis-benchmark's PING_INLINE, telnet)
            out += [args for args in map(bytes.split, data.split(b"\n")) if args]
            return None
        self.feed(data)
        return self.parse(out, max_bulk, authenticated)

    def at_boundary(self) -> bool:
        """True when the next byte read starts a request: an I/O thread may
        then scan a read's bytes from their start (feed_prescanned)."""
        return hiredis is not None and self.argv is None and self.pos >= len(self.buf)

    def feed_prescanned(self, data: bytes, end: int, out: list, max_bulk: int):
        """feed_parse for an authenticated client's chunk read at a request
        boundary, which an I/O thread already scanned from 0 (`end` is
        scan_requests' answer)."""
        if end == -1:     # not plain from its first byte: inline, odd framing
            return self.feed_parse(data, out, max_bulk, True)
        return self._feed_scanned(self.reader, data, 0, out, max_bulk, end)

    def _feed_scanned(self, reader, data, start, out, max_bulk, end=None):
        """The fast path: the native scanner measures the plain requests
        from `start` (a command boundary) and hiredis parses exactly those,
        which it reads as Redis would; only lists of bulks come out.  An
        incomplete tail waits in `buf` for the next read; what is not
        plain goes to the exact parser."""
        n = len(data)
        if end is None:
            end = _scan(data if type(data) is bytes else _ffi.from_buffer(data),
                        start, n, max_bulk)
        plain = end >= 0
        if not plain:
            end = -end - 1
        if end > start:
            reader.feed(data, start, end - start)
            out += iter(reader.gets, False)
        if end < n:
            self.buf = data
            self.pos = end
            if not plain:
                return self.parse(out, max_bulk, True)
        return None

    def _feed_checked(self, reader, data, out, max_bulk, authenticated):
        """The fast path without the native scanner: hiredis parses the
        chunk first and its result is checked afterwards.  False when the
        chunk must go to the exact parser after all."""
        reader.feed(data)
        try:
            cmds = list(iter(reader.gets, False))
            partial = reader.has_data()
            if cmds and not _bulk_arrays(cmds):
                cmds = None
        except hiredis.ProtocolError:
            cmds = None
        if cmds is not None:
            if partial:
                # the complete commands must be exactly their canonical
                # encoding, which also locates where the tail starts
                head = b"".join(map(_encode_request, cmds))
                ok = data.startswith(head)
                end = len(head)
            else:
                # Every argument must have come from a "$" bulk and every
                # command from a top-level "*" (not a status line or a
                # RESP3 aggregate hiredis turns into the same objects).
                end = len(data)
                ok = (data.count(b"\r\n$") == sum(map(len, cmds))
                      and data.count(b"\r\n*") == len(cmds) - 1)
            if ok:
                if partial:
                    self.reader = hiredis.Reader()
                    self.buf = data[end:]
                    self.pos = 0
                if [] in cmds:
                    cmds = [c for c in cmds if c]
                out += cmds
                if not partial:
                    return None
                return self.parse(out, max_bulk, authenticated)
        self.reader = hiredis.Reader()
        return False

    def pending(self) -> int:
        return len(self.buf) - self.pos

    def feed(self, data: bytes) -> None:
        buf = self.buf
        if self.pos >= len(buf):
            self.buf = data
            self.pos = 0
        elif type(buf) is bytes:
            nb = bytearray(memoryview(buf)[self.pos:])
            nb += data
            self.buf = nb
            self.pos = 0
        else:
            if self.pos:
                del buf[:self.pos]
                self.pos = 0
            buf += data

    def parse(self, out: list, max_bulk: int, authenticated: bool = True,
              one: bool = False):
        """Append complete commands to `out`; return a protocol error text
        (str, one byte per character) or None.  Header lines are found the
        way Redis's strchr() finds them: a NUL before the line's end hides it.
        With `one`, stop at the first command boundary after a command."""
        buf = self.buf
        n = len(buf)
        self.held = False
        if n - self.pos < self.need:
            return None
        self.need = 0
        pos = self.pos
        argv = self.argv
        left = self.left
        find = buf.find
        err = None
        got = len(out)
        while True:
            if argv is None:
                if pos >= n:
                    break
                if not authenticated and out:
                    self.held = True
                    break
                if one and len(out) > got:
                    break
                if buf[pos] != 42:  # not '*': an inline command
                    nl = find(b"\n", pos)
                    if nl >= 0 and find(b"\0", pos, nl) >= 0:
                        nl = -1
                    if nl < 0:
                        if n - pos > INLINE_MAX:
                            err = "Protocol error: too big inline request"
                        break
                    end = nl - 1 if nl > pos and buf[nl - 1] == 13 else nl
                    args = split_args(bytes(buf[pos:end]))
                    pos = nl + 1
                    if args is None:
                        err = "Protocol error: unbalanced quotes in request"
                        break
                    if args:
                        out.append(args)
                    continue
                nl = find(b"\r", pos)
                if nl >= 0 and find(b"\0", pos, nl) >= 0:
                    nl = -1
                if nl < 0 or nl + 1 >= n:
                    if nl < 0 and n - pos > INLINE_MAX:
                        err = "Protocol error: too big mbulk count string"
                    break
                count = strict_int(buf[pos + 1:nl])
                if count is None or count > INT_MAX:
                    err = "Protocol error: invalid multibulk length"
                    break
                if count > UNAUTH_MAX_ARGS and not authenticated:
                    err = "Protocol error: unauthenticated multibulk length"
                    break
                pos = nl + 2
                if count <= 0:
                    continue
                argv = []
                left = count
            # the arguments of a multibulk command
            while left:
                if pos >= n:
                    break
                nl = find(b"\r", pos)
                if nl >= 0 and find(b"\0", pos, nl) >= 0:
                    nl = -1
                if nl < 0 or nl + 1 >= n:
                    if nl < 0 and n - pos > INLINE_MAX:
                        err = "Protocol error: too big bulk count string"
                    break
                if buf[pos] != 36:  # '$'
                    got = buf[pos]
                    # error replies carry CR and LF as spaces, other bytes raw
                    err = "Protocol error: expected '$', got '%s'" % (
                        " " if got in (10, 13) else chr(got))
                    break
                blen = strict_int(buf[pos + 1:nl])
                if blen is None or blen < 0 or blen > max_bulk:
                    err = "Protocol error: invalid bulk length"
                    break
                if blen > UNAUTH_MAX_BULK and not authenticated:
                    err = "Protocol error: unauthenticated bulk length"
                    break
                end = nl + 2 + blen
                if end + 2 > n:
                    self.need = end + 2 - pos  # measured from the bulk header
                    break
                argv.append(bytes(buf[nl + 2:end]))
                pos = end + 2
                left -= 1
            if err is not None or left:
                break
            out.append(argv)
            argv = None
        self.pos = pos
        self.argv = argv
        self.left = left
        if pos >= n:
            self.buf = b""
            self.pos = 0
        return err


_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t",
            ord("b"): b"\b", ord("a"): b"\a"}
_HEX = b"0123456789abcdefABCDEF"
_SPACE = b" \t\n\v\f\r"     # isspace(): skipped between arguments
_TERM = b" \n\r\t\0"        # what ends an unquoted argument


def split_args(line: bytes) -> list | None:
    """sdssplitargs(): split an inline command, honouring quotes; None if unbalanced."""
    if (b'"' not in line and b"'" not in line
            and b"\x0b" not in line and b"\x0c" not in line):
        return line.split()
    args = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return args
        cur = bytearray()
        inq = insq = False
        while True:
            if inq:
                if i >= n:
                    return None
                c = line[i]
                if (c == 92 and i + 3 < n and line[i + 1] == 120
                        and line[i + 2] in _HEX and line[i + 3] in _HEX):
                    cur.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif c == 92 and i + 1 < n:
                    i += 1
                    cur += _ESCAPES.get(line[i], bytes((line[i],)))
                elif c == 34:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                else:
                    cur.append(c)
            elif insq:
                if i >= n:
                    return None
                c = line[i]
                if c == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    cur.append(39)
                elif c == 39:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                else:
                    cur.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in _TERM:
                    break
                if c == 34:
                    inq = True
                elif c == 39:
                    insq = True
                else:
                    cur.append(c)
            i += 1
        args.append(bytes(cur))


# ---------------------------------------------------------------------------
# Reply encoding
# ---------------------------------------------------------------------------

OK = b"+OK\r\n"
PONG = b"+PONG\r\n"
QUEUED = b"+QUEUED\r\n"
NULL2 = b"$-1\r\n"
NULL_ARRAY2 = b"*-1\r\n"
NULL3 = b"_\r\n"
EMPTY_ARRAY = b"*0\r\n"
EMPTY_BULK = b"$0\r\n\r\n"
_INTS = [b":%d\r\n" % i for i in range(10000)]
_ARRAY_HDR = [b"*%d\r\n" % i for i in range(1024)]
_BULK_HDR = [b"$%d\r\n" % i for i in range(1024)]
ZERO = _INTS[0]
ONE = _INTS[1]


def integer(n: int) -> bytes:
    if 0 <= n < 10000:
        return _INTS[n]
    return b":%d\r\n" % n


_TWO_DIGITS = [b"%02d\r\n" % i for i in range(100)]


def integer_run(first: int, m: int) -> bytes:
    """The integer replies first, first + 1, ... first + m - 1, joined.
    Numbers sharing everything but their last two digits are written as
    one join over a table of two-digit endings (a run of pushes replies
    with consecutive lengths)."""
    if first < 10000 and first + m <= 10000:
        return b"".join(_INTS[first:first + m]) if first >= 0 else (
            (b":%d\r\n" * m) % tuple(range(first, first + m)))
    if first < 100:
        return (b":%d\r\n" * m) % tuple(range(first, first + m))
    lo = first % 100
    if lo + m <= 100:
        p = b":%d" % (first // 100)
        return p + p.join(_TWO_DIGITS[lo:lo + m])
    out = []
    while m:
        lo = first % 100
        k = min(m, 100 - lo)
        p = b":%d" % (first // 100)
        out.append(p + p.join(_TWO_DIGITS[lo:lo + k]))
        first += k
        m -= k
    return b"".join(out)


def bulk(b) -> bytes:
    n = len(b)
    if n < 1024:
        return _BULK_HDR[n] + b + b"\r\n"
    return b"".join((b"$%d\r\n" % n, b, b"\r\n"))


def bulk_or_null(b, resp: int) -> bytes:
    if b is None:
        return NULL3 if resp == 3 else NULL2
    return bulk(b)


def null(resp: int) -> bytes:
    return NULL3 if resp == 3 else NULL2


def null_array(resp: int) -> bytes:
    return NULL3 if resp == 3 else NULL_ARRAY2


def simple(s: bytes) -> bytes:
    return b"+" + s + b"\r\n"


def error(msg: bytes) -> bytes:
    return b"-" + msg + b"\r\n"


def array_header(n: int) -> bytes:
    return _ARRAY_HDR[n] if n < 1024 else b"*%d\r\n" % n


def array(items) -> bytes:
    """An array of bulk strings (None items become null bulks, RESP2 form)."""
    parts = [array_header(len(items))]
    hdr = _BULK_HDR
    for b in items:
        if b is None:
            parts.append(NULL2)
            continue
        n = len(b)
        parts.append(hdr[n] if n < 1024 else b"$%d\r\n" % n)
        parts.append(b)
        parts.append(b"\r\n")
    return b"".join(parts)


def bulk_array(items, resp: int) -> bytes:
    """Array of bulks where None is the protocol's null (MGET and friends)."""
    if resp == 2 or None not in items:
        return array(items)
    return b"".join([array_header(len(items))]
                    + [NULL3 if b is None else bulk(b) for b in items])


def map_header(n: int, resp: int) -> bytes:
    return b"%%%d\r\n" % n if resp == 3 else array_header(2 * n)


def set_header(n: int, resp: int) -> bytes:
    return b"~%d\r\n" % n if resp == 3 else array_header(n)


def push_header(n: int, resp: int) -> bytes:
    return b">%d\r\n" % n if resp == 3 else array_header(n)


def attribute_header(n: int) -> bytes:
    return b"|%d\r\n" % n


def boolean(v: bool, resp: int) -> bytes:
    if resp == 3:
        return b"#t\r\n" if v else b"#f\r\n"
    return ONE if v else ZERO


def double(d: float, resp: int) -> bytes:
    s = format_double(d)
    if resp == 3:
        return b"," + s + b"\r\n"
    return bulk(s)


def big_number(n: int, resp: int) -> bytes:
    if resp == 3:
        return b"(%d\r\n" % n
    return bulk(b"%d" % n)


def verbatim(text: bytes, resp: int, fmt: bytes = b"txt") -> bytes:
    if resp == 3:
        return b"=%d\r\n%s:%s\r\n" % (len(text) + 4, fmt, text)
    return bulk(text)


def format_double(d: float) -> bytes:
    """addReplyDouble's text: %.17g, with inf/-inf/nan spelled Redis's way."""
    if d != d:
        return b"nan"
    if d == float("inf"):
        return b"inf"
    if d == float("-inf"):
        return b"-inf"
    return b"%.17g" % d
