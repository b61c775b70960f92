"""Cursor iteration with Redis's SCAN guarantees over Python containers.

Redis walks its hash table with a reverse-binary cursor; a Python dict (or
set) cannot resume an iteration once it has been modified.  Instead, the
first call of a scan over a container too big for one reply takes a
snapshot of its members (a list) and files it in a table of live scans
under a token; the cursor handed to the client is `position << TOKEN_BITS |
token`, and later calls continue from that position in the snapshot,
skipping members that are gone.  That gives Redis's contract:

- cursor 0 starts a scan, and a reply with cursor 0 ends it;
- every member present for the whole scan is returned at least once (it
  was in the snapshot, and it is still there when its position comes);
  members added meanwhile may or may not be returned; none is returned
  twice unless the scan had to restart (below);
- a container that fits in one reply (len <= COUNT) is returned whole
  with cursor 0 and no snapshot, so small scans cost nothing;
- cursors are unsigned 64-bit integers and any value is accepted: one
  whose token is not live (finished, evicted, forged, or taken on another
  container) restarts the scan from the beginning of a fresh snapshot,
  which can repeat members but never loses one.

Memory is bounded: at most MAX_SCANS live scans and MAX_ELEMENTS snapshot
entries in all, the least recently used scan being dropped first; the
consumed front of a snapshot is released as a scan advances.  A snapshot
holds references to member names (not values), so a member deleted during
a scan is freed when the scan moves past it.

The scanner is generic: SCAN passes `db.data`, HSCAN/SSCAN/ZSCAN pass the
dict or set holding the members; filtering (MATCH, TYPE, expired keys) is
the caller's, applied after fetching as Redis does.  `parse_cursor`,
`parse_options` and `scan_reply` are the argument and reply halves of
Redis's scanGenericCommand, shared by all four commands.
"""

from collections import OrderedDict

from kvserver.commands.args import c_word
from kvserver import errors
from kvserver.errors import CommandError
from kvserver.glob import compile_glob
from kvserver.net.resp import array, bulk, strict_int

TOKEN_BITS = 24
TOKEN_MASK = (1 << TOKEN_BITS) - 1
MAX_SCANS = 1024
MAX_ELEMENTS = 16 * 1024 * 1024


class _Scan:
    __slots__ = ("owner", "keys", "base")

    def __init__(self, owner: int, keys: list):
        self.owner = owner      # id() of the scanned container
        self.keys = keys        # the snapshot, from absolute position `base`
        self.base = 0


class Scanner:
    """The table of live scans; one per process is enough (see `scan`)."""

    def __init__(self, max_scans: int = MAX_SCANS,
                 max_elements: int = MAX_ELEMENTS):
        self.live = OrderedDict()   # token -> _Scan, least recently used first
        self.max_scans = max_scans
        self.max_elements = max_elements
        self.elements = 0
        self._next_token = 1

    def scan(self, coll, cursor: int, count: int):
        """(next_cursor, members) for one SCAN step over `coll`.

        `coll` supports len(), iteration and `in`; `count` >= 1 is the
        number of present members to fetch (a hint, as in Redis); at most
        10 * count snapshot entries are examined per call, as Redis bounds
        the buckets it visits."""
        entry = None
        pos = 0
        if cursor:
            token = cursor & TOKEN_MASK
            entry = self.live.get(token)
            if entry is not None and entry.owner == id(coll):
                pos = (cursor >> TOKEN_BITS) - entry.base
                if pos < 0:
                    entry = None    # behind the released front: restart
                else:
                    self.live.move_to_end(token)
            else:
                entry = None
        if entry is None:
            if len(coll) <= count:
                return 0, list(coll)
            token = self._new_token()
            entry = _Scan(id(coll), list(coll))
            self.live[token] = entry
            self.elements += len(entry.keys)
            self._evict(token)
        keys = entry.keys
        n = len(keys)
        out = []
        budget = count * 10
        while pos < n and budget:
            k = keys[pos]
            pos += 1
            budget -= 1
            if k in coll:
                out.append(k)
                if len(out) >= count:
                    break
        if pos >= n:
            self._drop(token)
            return 0, out
        if pos > 4096 and pos * 2 > n:
            # release the consumed half; amortised O(1) per member
            del keys[:pos]
            self.elements -= pos
            entry.base += pos
            pos = 0
        return ((entry.base + pos) << TOKEN_BITS) | token, out

    def _new_token(self) -> int:
        live = self.live
        t = self._next_token
        while True:
            if t > TOKEN_MASK:
                t = 1
            if t not in live:
                break
            t += 1
        self._next_token = t + 1
        return t

    def _drop(self, token: int):
        entry = self.live.pop(token, None)
        if entry is not None:
            self.elements -= len(entry.keys)

    def _evict(self, keep: int):
        live = self.live
        while len(live) > self.max_scans or (self.elements > self.max_elements
                                             and len(live) > 1):
            token = next(iter(live))
            if token == keep:
                live.move_to_end(token)
                continue
            self._drop(token)

    def __len__(self):
        return len(self.live)


# The process-wide table: tokens are checked against the container's
# identity, so servers, databases and keys can share it.
SCANNER = Scanner()
scan = SCANNER.scan


def parse_cursor(arg: bytes) -> int | None:
    """parseScanCursorOrReply's strtoul: the cursor, or None if invalid.

    strtoul accepts what string2ll rejects: a leading '+' or '-' (negative
    values wrap modulo 2**64), leading zeros, and the empty string (0); it
    stops at a NUL byte, as the C string does.  Leading whitespace,
    trailing garbage and values past 2**64-1 are errors."""
    nul = arg.find(b"\0")
    if nul >= 0:
        arg = arg[:nul]
    if not arg:
        return 0
    if arg[0] in b" \t\n\v\f\r":
        return None
    neg = False
    digits = arg
    if arg[0] in b"+-":
        neg = arg[0] == 45
        digits = arg[1:]
    if not digits.isdigit():     # a bare sign converts nothing: invalid
        return None
    v = int(digits)
    if v > 0xFFFFFFFFFFFFFFFF:
        return None
    return (-v) & 0xFFFFFFFFFFFFFFFF if neg else v


def parse_options(argv, i: int, allow_type: bool):
    """scanGenericCommand's options: (count, matcher or None, type or None).

    COUNT below 1 is a syntax error; MATCH "*" is no filter; TYPE (SCAN
    only) is compared case-insensitively, an unknown name matching nothing.
    Shared with HSCAN, SSCAN and ZSCAN (allow_type False)."""
    count = 10
    match = None
    typename = None
    argc = len(argv)
    while i < argc:
        opt = c_word(argv[i])
        if argc - i < 2:
            raise CommandError(errors.SYNTAX)
        if opt == b"count":
            count = strict_int(argv[i + 1])
            if count is None:
                raise CommandError(errors.NOT_INTEGER)
            if count < 1:
                raise CommandError(errors.SYNTAX)
        elif opt == b"match":
            pat = argv[i + 1]
            match = None if pat == b"*" else compile_glob(pat)
        elif opt == b"type" and allow_type:
            typename = c_word(argv[i + 1])
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    return count, match, typename


def scan_reply(cursor: int, items: list) -> bytes:
    """The two-element reply: the cursor as a bulk string, then the items
    (already flattened, e.g. field, value, field, value for HSCAN)."""
    return b"".join((b"*2\r\n", bulk(b"%d" % cursor), array(items)))
