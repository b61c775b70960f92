"""Lists: a quicklist, Redis 7.0's sequence of bounded nodes (quicklist.c).

A list is a Python list of nodes; each node is a Python list of entries
and holds what one Redis listpack node would hold.  The node boundaries are
Redis's exactly, because they are observable (DEBUG OBJECT's ql_nodes and
ql_uncompressed_size, and the RDB file, which stores one listpack per node):

- `sizes[i]` is the byte size the node's listpack would have: 7 bytes of
  header and end marker plus each entry's encoded size (`entry_size`:
  integers in 1..9 bytes, strings with a 1/2/5 byte header, plus the
  back-length).
- A push may join the end node only as _quicklistNodeAllowInsert allows:
  with a negative fill (-1..-5) the node's size plus the element's length
  plus 8 must stay within 4/8/16/32/64 KB; with a positive fill the node
  holds at most `fill` entries and the estimate stays within 8 KB.
  Otherwise a new node is started.  fill is clamped to -5..32767 and taken
  from `list-max-listpack-size` when the list is created, as in Redis.
- LINSERT into a full node splits it and merges neighbours back as
  _quicklistInsert/_quicklistMergeNodes do; deletions drop nodes that
  become empty and never merge; LSET replaces in place.

Entries are stored already encoded as RESP bulk strings (`$3\\r\\nfoo\\r\\n`):
LRANGE's reply is then one join over node slices, LPOP/LINDEX replies are
the stored entry itself, and searching (LREM, LPOS, LINSERT) compares an
encoded needle with C-speed list methods.  Encoding is injective, so
equality of entries is equality of elements.  `__iter__` and `from_values`
speak plain element bytes for everyone else (SORT, RDB, DUMP); a new
list takes its settings from the config when created, as Redis's do:
`Quicklist.from_values(values, cfg.list_max_listpack_size,
cfg.list_compress_depth)`; `iter_nodes`/`from_nodes` keep node boundaries
for RDB.

Invariants: no node is empty; `count` is the total number of entries; a
list stored in the keyspace is never empty (Redis deletes empty lists).

Not modelled: plain nodes for elements of 1 GB and more (the
packed_threshold), and node compression (`list-compress-depth` is kept and
reported, as Redis's DEBUG OBJECT reports it, but nodes stay uncompressed).
"""

from kvserver.net.resp import strict_int

LP_EMPTY = 7                    # an empty listpack: 6 header bytes + end marker
SIZE_SAFETY_LIMIT = 8192
SIZE_ESTIMATE_OVERHEAD = 8
OPTIMIZATION_LEVEL = (4096, 8192, 16384, 32768, 65536)
FILL_MAX = 32767
COMPRESS_MAX = 65535

_CRLF = b"\r\n"
_BULK_HDR = [b"$%d\r\n" % i for i in range(1024)]
_ARRAY_HDR = [b"*%d\r\n" % i for i in range(1024)]
_INT_START = frozenset(b"-0123456789")
_NO_LIMIT = 1 << 62


def encode(v: bytes) -> bytes:
    """An element as stored: its RESP bulk string."""
    n = len(v)
    if n < 1024:
        return _BULK_HDR[n] + v + _CRLF
    return b"$%d\r\n%b\r\n" % (n, v)


def decode(e: bytes) -> bytes:
    return e[e.index(b"\n") + 1:-2]


def _backlen(n: int) -> int:
    if n <= 127:
        return 1
    if n < 16383:
        return 2
    if n < 2097151:
        return 3
    if n < 268435455:
        return 4
    return 5


def _int_size(v: int) -> int:
    """Encoded size of an integer entry, back-length included."""
    if 0 <= v <= 127:
        return 2
    if -4096 <= v <= 4095:
        return 3
    if -32768 <= v <= 32767:
        return 4
    if -8388608 <= v <= 8388607:
        return 5
    if -2147483648 <= v <= 2147483647:
        return 6
    return 10


def entry_size(v: bytes) -> int:
    """Bytes the element takes in a listpack (lpEncodeGetType + backlen)."""
    n = len(v)
    if n <= 20 and n and v[0] in _INT_START:
        i = strict_int(v)
        if i is not None:
            return _int_size(i)
    if n < 64:
        return n + 2
    if n < 4096:
        return n + 2 + _backlen(n + 2)
    return n + 5 + _backlen(n + 5)


def encoded_size(e: bytes) -> int:
    """entry_size of an encoded entry, without decoding the common cases."""
    h = e.index(b"\n") + 1
    n = len(e) - h - 2
    if n <= 20 and n and e[h] in _INT_START:
        i = strict_int(e[h:-2])
        if i is not None:
            return _int_size(i)
    if n < 64:
        return n + 2
    if n < 4096:
        return n + 2 + _backlen(n + 2)
    return n + 5 + _backlen(n + 5)


def _limits(fill: int):
    """(max listpack bytes, max entries) a node may reach under `fill`."""
    if fill < 0:
        return OPTIMIZATION_LEVEL[-fill - 1], _NO_LIMIT
    return SIZE_SAFETY_LIMIT, fill


class Quicklist:
    TYPE = "list"
    __slots__ = ("nodes", "sizes", "count", "fill", "compress", "max_sz", "max_cnt",
                 "lru")

    def __init__(self, fill: int = -2, compress: int = 0):
        if fill > FILL_MAX:
            fill = FILL_MAX
        elif fill < -5:
            fill = -5
        self.fill = fill
        self.compress = min(max(compress, 0), COMPRESS_MAX)
        self.max_sz, self.max_cnt = _limits(fill)
        self.nodes = []
        self.sizes = []
        self.count = 0
        self.lru = 0            # the LRU clock, stamped by the keyspace

    @classmethod
    def from_values(cls, values, fill: int = -2, compress: int = 0) -> "Quicklist":
        ql = cls(fill, compress)
        ql.push_tail(values)
        return ql

    @classmethod
    def from_nodes(cls, nodes, fill: int = -2, compress: int = 0) -> "Quicklist":
        """A list with exactly these nodes (lists of plain elements), as
        RDB loading appends each stored listpack as one node; empty ones
        are skipped."""
        ql = cls(fill, compress)
        for values in nodes:
            if values:
                node = [encode(v) for v in values]
                ql.nodes.append(node)
                ql.sizes.append(LP_EMPTY + sum(map(entry_size, values)))
                ql.count += len(node)
        return ql

    def encoding(self) -> str:
        return "quicklist"

    def __len__(self):
        return self.count

    def __iter__(self):
        """The elements, head to tail, as plain bytes."""
        for node in self.nodes:
            for e in node:
                yield e[e.index(b"\n") + 1:-2]

    def entries(self):
        """The encoded entries, head to tail."""
        for node in self.nodes:
            yield from node

    def iter_nodes(self):
        """Each node's elements as a list of plain bytes (RDB: one listpack each)."""
        for node in self.nodes:
            yield [e[e.index(b"\n") + 1:-2] for e in node]

    def node_count(self) -> int:
        return len(self.nodes)

    def listpack_bytes(self) -> int:
        return sum(self.sizes)

    def debug_fields(self) -> str:
        """The quicklist part of DEBUG OBJECT's line."""
        n = len(self.nodes)
        avg = self.count / n if n else float("nan")
        return (f" ql_nodes:{n} ql_avg_node:{avg:.2f} ql_listpack_max:{self.fill}"
                f" ql_compressed:{1 if self.compress else 0}"
                f" ql_uncompressed_size:{sum(self.sizes)}")

    def copy(self) -> "Quicklist":
        ql = Quicklist.__new__(Quicklist)
        ql.nodes = [node[:] for node in self.nodes]
        ql.sizes = self.sizes[:]
        ql.count = self.count
        ql.fill = self.fill
        ql.compress = self.compress
        ql.max_sz = self.max_sz
        ql.max_cnt = self.max_cnt
        ql.lru = 0
        return ql

    # ---- pushes (quicklistPushHead / quicklistPushTail) ------------------------
    def push_tail(self, values):
        """RPUSH the plain elements `values`, in order."""
        nodes = self.nodes
        sizes = self.sizes
        limit = self.max_sz - SIZE_ESTIMATE_OVERHEAD
        cnt = self.max_cnt
        hdr = _BULK_HDR
        crlf = _CRLF
        ints = _INT_START
        k = 0
        node = nodes[-1] if nodes else None
        sz = sizes[-1] if nodes else 0
        for v in values:
            n = len(v)
            if n < 64 and (not n or v[0] not in ints):
                es = n + 2
            else:
                es = entry_size(v)
            e = hdr[n] + v + crlf if n < 1024 else b"$%d\r\n%b\r\n" % (n, v)
            if node is not None and sz + n <= limit and len(node) < cnt:
                node.append(e)
                sz += es
            else:
                if node is not None:
                    sizes[-1] = sz
                node = [e]
                nodes.append(node)
                sz = LP_EMPTY + es
                sizes.append(sz)
            k += 1
        self.count += k
        if node is not None:
            sizes[-1] = sz

    def push_head(self, values):
        """LPUSH the plain elements `values`, one after the other.  The
        entries bound for one node are prepended with one slice
        assignment, in reverse, instead of one insert(0) each."""
        nodes = self.nodes
        sizes = self.sizes
        limit = self.max_sz - SIZE_ESTIMATE_OVERHEAD
        cnt = self.max_cnt
        hdr = _BULK_HDR
        crlf = _CRLF
        ints = _INT_START
        k = 0
        node = nodes[0] if nodes else None
        sz = sizes[0] if nodes else 0
        ln = len(node) if nodes else 0     # the node's length with `front`
        front = []                          # entries for the node, pushed order
        for v in values:
            n = len(v)
            if n < 64 and (not n or v[0] not in ints):
                es = n + 2
            else:
                es = entry_size(v)
            e = hdr[n] + v + crlf if n < 1024 else b"$%d\r\n%b\r\n" % (n, v)
            if node is not None and sz + n <= limit and ln < cnt:
                front.append(e)
                ln += 1
                sz += es
            else:
                if node is not None:
                    if front:
                        front.reverse()
                        node[:0] = front
                        front = []
                    sizes[0] = sz
                node = [e]
                nodes.insert(0, node)
                ln = 1
                sz = LP_EMPTY + es
                sizes.insert(0, sz)
            k += 1
        self.count += k
        if node is not None:
            if front:
                front.reverse()
                node[:0] = front
            sizes[0] = sz

    def push_repeated(self, v: bytes, m: int, head: bool):
        """`m` pushes of the same element at one end (a pipeline repeating
        one LPUSH or RPUSH).  The entries share one bytes object, and the
        node boundaries each push would meet are computed per node: a node
        of size sz and length L takes k more pushes while
        sz + (k-1)*es + len(v) <= max - 8 and L + k <= max entries."""
        n = len(v)
        if n < 64 and (not n or v[0] not in _INT_START):
            es = n + 2
        else:
            es = entry_size(v)
        e = encode(v)
        limit = self.max_sz - SIZE_ESTIMATE_OVERHEAD
        cnt = self.max_cnt
        nodes = self.nodes
        sizes = self.sizes
        i = 0 if head else -1
        left = m
        if nodes:
            sz = sizes[i]
            k = min(left, (limit - n - sz) // es + 1, cnt - len(nodes[i])) if sz + n <= limit else 0
            if k > 0:
                if head:
                    nodes[0][:0] = [e] * k
                else:
                    nodes[-1] += [e] * k
                sizes[i] = sz + k * es
                left -= k
        while left:
            sz = LP_EMPTY + es
            k = 1
            if sz + n <= limit:
                k += min(left - 1, (limit - n - sz) // es + 1, cnt - 1)
            if head:
                nodes.insert(0, [e] * k)
                sizes.insert(0, sz + (k - 1) * es)
            else:
                nodes.append([e] * k)
                sizes.append(sz + (k - 1) * es)
            left -= k
        self.count += m

    def push1_head(self, v: bytes):
        """LPUSH of one plain element (the common case, kept call-free)."""
        n = len(v)
        if n < 64 and (not n or v[0] not in _INT_START):
            es = n + 2
        else:
            es = entry_size(v)
        e = _BULK_HDR[n] + v + _CRLF if n < 1024 else b"$%d\r\n%b\r\n" % (n, v)
        nodes = self.nodes
        sizes = self.sizes
        if nodes and sizes[0] + n + 8 <= self.max_sz and len(nodes[0]) < self.max_cnt:
            nodes[0].insert(0, e)
            sizes[0] += es
        else:
            nodes.insert(0, [e])
            sizes.insert(0, LP_EMPTY + es)
        self.count += 1

    def push1_tail(self, v: bytes):
        """RPUSH of one plain element: push1_head's mirror image."""
        n = len(v)
        if n < 64 and (not n or v[0] not in _INT_START):
            es = n + 2
        else:
            es = entry_size(v)
        e = _BULK_HDR[n] + v + _CRLF if n < 1024 else b"$%d\r\n%b\r\n" % (n, v)
        nodes = self.nodes
        sizes = self.sizes
        if nodes and sizes[-1] + n + 8 <= self.max_sz and len(nodes[-1]) < self.max_cnt:
            nodes[-1].append(e)
            sizes[-1] += es
        else:
            nodes.append([e])
            sizes.append(LP_EMPTY + es)
        self.count += 1

    def push_entry(self, e: bytes, head: bool):
        """Push one encoded entry (LMOVE moves entries between lists)."""
        n = len(e) - e.index(b"\n") - 3
        es = encoded_size(e)
        nodes = self.nodes
        i = 0 if head else -1
        if (nodes and self.sizes[i] + n + 8 <= self.max_sz
                and len(nodes[i]) < self.max_cnt):
            if head:
                nodes[0].insert(0, e)
            else:
                nodes[-1].append(e)
            self.sizes[i] += es
        elif head:
            nodes.insert(0, [e])
            self.sizes.insert(0, LP_EMPTY + es)
        else:
            nodes.append([e])
            self.sizes.append(LP_EMPTY + es)
        self.count += 1

    # ---- pops ---------------------------------------------------------------------
    def pop_head(self) -> bytes:
        """Remove and return the first entry (encoded); the list must not be empty."""
        node = self.nodes[0]
        e = node.pop(0)
        if node:
            n = len(e)
            # short entries have a one-digit header: "$n\r\n" + data + "\r\n"
            if n < 16 and e[4] not in _INT_START:
                self.sizes[0] -= n - 4
            else:
                self.sizes[0] -= encoded_size(e)
        else:
            del self.nodes[0]
            del self.sizes[0]
        self.count -= 1
        return e

    def pop_tail(self) -> bytes:
        node = self.nodes[-1]
        e = node.pop()
        if node:
            n = len(e)
            if n < 16 and e[4] not in _INT_START:
                self.sizes[-1] -= n - 4
            else:
                self.sizes[-1] -= encoded_size(e)
        else:
            self.nodes.pop()
            self.sizes.pop()
        self.count -= 1
        return e

    def pop_range(self, head: bool, count: int) -> list:
        """Remove up to `count` entries from one end; returned in pop order."""
        if count > self.count:
            count = self.count
        if head:
            out = self.range(0, count - 1)
            self.del_range(0, count)
        else:
            out = self.range(self.count - count, self.count - 1)
            out.reverse()
            self.del_range(self.count - count, count)
        return out

    # ---- positions ----------------------------------------------------------------
    def _locate(self, index: int):
        """(node number, offset) of entry `index` (0 <= index < count),
        walking from the nearer end as quicklistGetIteratorAtIdx does."""
        nodes = self.nodes
        if index <= (self.count - 1) >> 1:
            i = 0
            for node in nodes:
                n = len(node)
                if index < n:
                    return i, index
                index -= n
                i += 1
        else:
            back = self.count - 1 - index
            i = len(nodes) - 1
            while True:
                n = len(nodes[i])
                if back < n:
                    return i, n - 1 - back
                back -= n
                i -= 1
        raise IndexError(index)

    def index(self, index: int):
        """The encoded entry at `index` (negative counts from the tail), or None."""
        if index < 0:
            index += self.count
            if index < 0:
                return None
        elif index >= self.count:
            return None
        nodes = self.nodes
        if index < len(nodes[0]):
            return nodes[0][index]
        i, off = self._locate(index)
        return nodes[i][off]

    def range(self, start: int, end: int) -> list:
        """Entries start..end inclusive (0 <= start <= end < count)."""
        nodes = self.nodes
        first = nodes[0]
        if end < len(first):
            return first[start:end + 1]
        i, off = self._locate(start)
        want = end - start + 1
        node = nodes[i]
        out = node[off:off + want]
        while len(out) < want:
            i += 1
            node = nodes[i]
            out += node[:want - len(out)]
        return out

    def range_reply(self, start: int, end: int) -> bytes:
        """LRANGE's reply for start..end inclusive (0 <= start <= end < count)."""
        n = end - start + 1
        hdr = _ARRAY_HDR[n] if n < 1024 else b"*%d\r\n" % n
        first = self.nodes[0]
        if end < len(first):
            parts = first[start:end + 1]
        else:
            parts = self.range(start, end)
        parts.insert(0, hdr)
        return b"".join(parts)

    def replace(self, index: int, value: bytes) -> bool:
        """LSET: replace the element at `index` in place (its node may grow
        past the fill limit, as with lpReplace); False when out of range."""
        if index < 0:
            index += self.count
            if index < 0:
                return False
        elif index >= self.count:
            return False
        i, off = self._locate(index)
        node = self.nodes[i]
        old = node[off]
        node[off] = encode(value)
        self.sizes[i] += entry_size(value) - encoded_size(old)
        return True

    # ---- range deletion (quicklistDelRange) -------------------------------------
    def del_range(self, start: int, count: int):
        """Delete `count` entries from absolute position `start` onward
        (clipped to the list); emptied nodes are dropped, nothing merges."""
        if count <= 0 or start >= self.count:
            return
        if count > self.count - start:
            count = self.count - start
        nodes = self.nodes
        sizes = self.sizes
        i, off = self._locate(start)
        self.count -= count
        while count:
            node = nodes[i]
            n = len(node)
            if off == 0 and count >= n:
                del nodes[i]
                del sizes[i]
                count -= n
                continue
            d = n - off if off + count >= n else count
            gone = node[off:off + d]
            del node[off:off + d]
            sizes[i] -= sum(map(encoded_size, gone))
            count -= d
            i += 1
            off = 0

    def trim(self, ltrim: int, rtrim: int):
        """LTRIM: drop `ltrim` entries from the head and `rtrim` from the tail."""
        self.del_range(0, ltrim)
        if rtrim:
            self.del_range(self.count - rtrim, rtrim)

    # ---- search -------------------------------------------------------------------
    def find(self, e: bytes):
        """(node number, offset) of the first entry equal to `e`, or None."""
        for i, node in enumerate(self.nodes):
            if e in node:
                return i, node.index(e)
        return None

    def remove(self, e: bytes, count: int) -> int:
        """LREM: remove up to |count| entries equal to `e` (all when 0),
        from the head when count >= 0, else from the tail; the number removed."""
        nodes = self.nodes
        sizes = self.sizes
        removed = 0
        limit = abs(count) or _NO_LIMIT
        es = None
        order = range(len(nodes)) if count >= 0 else range(len(nodes) - 1, -1, -1)
        emptied = []
        for i in order:
            node = nodes[i]
            if e not in node:
                continue
            k = node.count(e)
            if k > limit - removed:
                k = limit - removed
                if count >= 0:
                    pos = -1
                    for _ in range(k):
                        pos = node.index(e, pos + 1)
                        node[pos] = None
                else:
                    left = k
                    for pos in range(len(node) - 1, -1, -1):
                        if node[pos] == e:
                            node[pos] = None
                            left -= 1
                            if not left:
                                break
                node[:] = [x for x in node if x is not None]
            else:
                node[:] = [x for x in node if x != e]
            if es is None:
                es = encoded_size(e)
            sizes[i] -= es * k
            removed += k
            if not node:
                emptied.append(i)
            if removed >= limit:
                break
        for i in sorted(emptied, reverse=True):
            del nodes[i]
            del sizes[i]
        self.count -= removed
        return removed

    def positions(self, e: bytes, from_tail: bool, maxlen: int):
        """Indexes of entries equal to `e`, scanning from one end and looking
        at no more than `maxlen` entries (0: all), in scan order."""
        nodes = self.nodes
        count = self.count
        if not from_tail:
            base = 0
            for node in nodes:
                n = len(node)
                stop = n
                if maxlen and base + n > maxlen:
                    stop = maxlen - base
                if e in node:
                    pos = -1
                    while True:
                        try:
                            pos = node.index(e, pos + 1, stop)
                        except ValueError:
                            break
                        yield base + pos
                base += n
                if maxlen and base >= maxlen:
                    return
        else:
            seen = 0
            end = count
            for node in reversed(nodes):
                n = len(node)
                first = 0
                if maxlen and seen + n > maxlen:
                    first = n - (maxlen - seen)
                end -= n
                if e in node:
                    for pos in range(n - 1, first - 1, -1):
                        if node[pos] == e:
                            yield end + pos
                seen += n
                if maxlen and seen >= maxlen:
                    return

    # ---- insertion (_quicklistInsert) ---------------------------------------------
    def _allow_insert(self, i: int, n: int) -> bool:
        if i < 0 or i >= len(self.nodes):
            return False
        return (self.sizes[i] + n + SIZE_ESTIMATE_OVERHEAD <= self.max_sz
                and len(self.nodes[i]) < self.max_cnt)

    def _allow_merge(self, a: int, b: int) -> bool:
        nodes = self.nodes
        if a < 0 or b < 0 or a >= len(nodes) or b >= len(nodes):
            return False
        merged = self.sizes[a] + self.sizes[b] - 11
        if self.fill < 0:
            return merged <= self.max_sz
        return merged <= SIZE_SAFETY_LIMIT and len(nodes[a]) + len(nodes[b]) <= self.fill

    def _merge(self, a: int):
        """Merge node a+1 into node a."""
        self.nodes[a] += self.nodes[a + 1]
        self.sizes[a] += self.sizes[a + 1] - LP_EMPTY
        del self.nodes[a + 1]
        del self.sizes[a + 1]

    def _merge_around(self, i: int):
        """_quicklistMergeNodes around the node just split at `i`."""
        if self._allow_merge(i - 1, i - 2):
            self._merge(i - 2)
            i -= 1
        if self._allow_merge(i + 1, i + 2):
            self._merge(i + 1)
        if self._allow_merge(i, i - 1):
            self._merge(i - 1)
            i -= 1
        if self._allow_merge(i, i + 1):
            self._merge(i)

    def insert_at(self, i: int, off: int, value: bytes, after: bool):
        """Insert `value` before or after entry `off` of node `i`."""
        nodes = self.nodes
        sizes = self.sizes
        node = nodes[i]
        n = len(value)
        e = encode(value)
        es = entry_size(value)
        full = not self._allow_insert(i, n)
        at_tail = after and off == len(node) - 1
        at_head = not after and off == 0
        avail_next = at_tail and self._allow_insert(i + 1, n)
        avail_prev = at_head and self._allow_insert(i - 1, n)
        self.count += 1
        if not full:
            node.insert(off + 1 if after else off, e)
            sizes[i] += es
        elif avail_next:
            nodes[i + 1].insert(0, e)
            sizes[i + 1] += es
        elif avail_prev:
            nodes[i - 1].append(e)
            sizes[i - 1] += es
        elif at_tail or at_head:
            nodes.insert(i + 1 if after else i, [e])
            sizes.insert(i + 1 if after else i, LP_EMPTY + es)
        else:
            # split: the new node takes the entries past the insertion point
            # (after) or before it (before), then gets the element
            if after:
                moved = node[off + 1:]
                del node[off + 1:]
                moved_sz = sum(map(encoded_size, moved))
                sizes[i] -= moved_sz
                moved.insert(0, e)
                nodes.insert(i + 1, moved)
                sizes.insert(i + 1, LP_EMPTY + moved_sz + es)
            else:
                moved = node[:off]
                del node[:off]
                moved_sz = sum(map(encoded_size, moved))
                sizes[i] -= moved_sz
                moved.append(e)
                nodes.insert(i, moved)
                sizes.insert(i, LP_EMPTY + moved_sz + es)
                i += 1
            self._merge_around(i)

    def insert(self, pivot: bytes, value: bytes, after: bool) -> bool:
        """LINSERT: insert next to the first entry equal to encoded `pivot`."""
        at = self.find(pivot)
        if at is None:
            return False
        self.insert_at(at[0], at[1], value, after)
        return True

    def check(self):
        """Assert the invariants (tests)."""
        assert len(self.nodes) == len(self.sizes)
        assert self.count == sum(map(len, self.nodes))
        for node, sz in zip(self.nodes, self.sizes):
            assert node, "empty node"
            assert sz == LP_EMPTY + sum(map(encoded_size, node)), (sz, node)

    def __repr__(self):
        return f"<Quicklist count={self.count} nodes={len(self.nodes)}>"
