"""Whatever shape the request bytes arrive in, the replies are Redis's.

The request parser is unit-tested on its own (test_resp_codec.py); these
tests hold the shape end to end, over TCP, against the real redis-server:

- One seeded sequence of a few thousand varied commands (binary and
  40-300 KB values, commands with thousands of arguments, inline commands,
  errors) goes to both servers split at random and at the places hardest on
  a parser (inside "*N" and "$N" headers, between \\r and \\n, inside bulk
  bodies), as aligned pipelines of 16, and in one write; a shorter one goes
  one byte per write.  Every reply must match Redis's byte for byte.  No
  command in it has a time-dependent reply or one whose order Redis leaves
  unspecified, and each has exactly one reply.
- A client that reads slowly, long after asking for ~100 MB of replies,
  gets them all whole and in order, and others are answered meanwhile.
- A client that writes ~4 MB of SETs before reading a thing is not left
  blocked: its replies all come and every key is there.

Sleeps here only shape how bytes arrive; nothing is timed.
"""

import math
import random
import socket
import threading
import time

import pytest

from conftest import RawConn, encode_command

TIMEOUT = 30.0
FIELDS = [b"f%d" % i for i in range(20)]
INLINE = [b"PING\r\n", b"SET a b\r\n", b"GET a\r\n", b"ECHO hello\n", b"INCR n0\r\n",
          b"EXISTS a s0 s1\r\n", b'SET q "x\\r\\ny\\x00z"\r\n', b"GET q\r\n",
          b"LRANGE l0 0 -1\r\n", b"NOSUCH a b\r\n", b"get\r\n"]
ERRORS = [[b"GET"], [b"SET", b"k"], [b"NOSUCHCMD", b"x", b"y"], [b"HSET", b"h0", b"f0"],
          [b"INCR", b"s0"], [b"LPUSH", b"s1", b"v"], [b"GET", b"l0"], [b"HGETALL", b"z0"]]


def command_sequence(seed: int, n: int, large: bool = True) -> list:
    """n commands (argument lists, or bytes for an inline line), one reply each.

    Keys come in per-type pools ("s0" strings, "l0" lists ...) with now and
    then a key of another pool, which gives WRONGTYPE errors.  Hash values
    stay short and fields few, so hashes are listpacks and HGETALL's order
    is insertion order on both servers.
    """
    rng = random.Random(seed)
    pools = {t: [b"%s%d" % (t, i) for i in range(6)] for t in (b"s", b"n", b"l", b"h", b"z", b"t")}

    def key(t):
        return rng.choice(pools[rng.choice(list(pools)) if rng.random() < 0.04 else t])

    def value(small=False):
        p = rng.random()
        if p < 0.03 and large and not small:
            return rng.randbytes(rng.randint(40_000, 300_000))
        if p < 0.25:
            return bytes(rng.choices(b"\r\n\x00ab\xff", k=rng.randint(1, 40)))
        if p < 0.35:
            return b"%d" % rng.randint(-1000, 1000)
        return b"v%d" % rng.randint(0, 999)

    def some(make, lo=1, hi=4):
        return [x for _ in range(rng.randint(lo, hi)) for x in make()]

    def score():
        return rng.choice([b"%d" % rng.randint(-50, 50), repr(rng.uniform(-9, 9)).encode(),
                           b"inf", b"-inf", b"1e3"])

    makers = [
        (8, lambda: [b"SET", key(b"s"), value()]),
        (8, lambda: [b"GET", key(b"s")]),
        (3, lambda: [b"INCR", key(b"n")]),
        (3, lambda: [b"INCRBY", key(b"n"),
                     b"%d" % (2**63 - 1 if rng.random() < 0.05 else rng.randint(-500, 500))]),
        (3, lambda: [b"APPEND", key(b"s"), value()]),
        (4, lambda: [rng.choice([b"LPUSH", b"RPUSH"]), key(b"l"), *some(lambda: [value()])]),
        (4, lambda: [b"LRANGE", key(b"l"), b"%d" % rng.randint(-8, 8), b"%d" % rng.randint(-8, 8)]),
        (4, lambda: [b"HSET", key(b"h"), *some(lambda: [rng.choice(FIELDS), value(small=True)])]),
        (3, lambda: [b"HGET", key(b"h"), rng.choice(FIELDS)]),
        (2, lambda: [b"HGETALL", key(b"h")]),
        (3, lambda: [b"ZADD", key(b"z"), *some(lambda: [score(), b"m%d" % rng.randint(0, 30)])]),
        (2, lambda: [b"ZRANGE", key(b"z"), b"0", b"-1", b"WITHSCORES"]),
        (3, lambda: [b"SADD", key(b"t"), *some(lambda: [rng.choice([b"%d" % rng.randint(0, 99),
                                                                    value(small=True)])])]),
        (2, lambda: [b"SCARD", key(b"t")]),
        (1, lambda: [b"SISMEMBER", key(b"t"), b"%d" % rng.randint(0, 99)]),
        (1, lambda: [b"EXPIRE", key(b"s"), b"100000"]),
        (2, lambda: [b"MGET", *some(lambda: [key(b"s")], 1, 10)]),
        (1, lambda: [b"MSET", *some(lambda: [key(b"s"), value()])]),
        (1, lambda: [b"DEL", *some(lambda: [key(rng.choice(list(pools)))])]),
        (2, lambda: [b"EXISTS", *some(lambda: [key(b"s")], 1, 8)]),
        (2, lambda: rng.choice([[b"PING"], [b"PING", value()]])),
        (2, lambda: [b"ECHO", value()]),
        (3, lambda: rng.choice(INLINE)),
        (2, lambda: rng.choice(ERRORS)),
    ]
    weights, funcs = zip(*makers)
    seq = [rng.choices(funcs, weights)[0]() for _ in range(n)]
    if large:
        heavy = [
            [b"MSET", *[x for i in range(2000) for x in (b"m%d" % i, value(small=True))]],
            [b"RPUSH", b"biglist", *[b"e%d" % i for i in range(5000)]],
            [b"SADD", b"bigset", *[b"%d" % i for i in range(0, 3000, 3)]],
            [b"ZADD", b"bigz", *[x for i in range(500) for x in (score(), b"m%d" % i)]],
            [b"MGET", *[b"m%d" % i for i in range(0, 4000, 2)]],
            [b"LRANGE", b"biglist", b"0", b"-1"],
            [b"SCARD", b"bigset"],
            [b"ZRANGE", b"bigz", b"0", b"-1", b"WITHSCORES"],
            [b"DEL", *[b"m%d" % i for i in range(0, 2000, 3)]],
        ]
        for pos, cmd in zip(sorted(rng.sample(range(n), len(heavy)), reverse=True), heavy[::-1]):
            seq.insert(pos, cmd)
    return seq + [[b"DBSIZE"], [b"DEBUG", b"DIGEST"]]


def encode(item) -> bytes:
    return item if isinstance(item, bytes) else encode_command(*item)


def awkward_cuts(item) -> list:
    """Offsets in one encoded command where a read boundary is hardest on a
    parser: inside the "*N" and "$N" headers, between \\r and \\n, mid-body."""
    if isinstance(item, bytes):
        return [len(item) // 2, len(item) - 1]
    head = len(b"*%d\r\n" % len(item))
    cuts, pos = [1, head - 2, head - 1], head
    for arg in item:
        h = len(b"$%d\r\n" % len(arg))
        body = pos + h
        cuts += [pos + 1, body - 2, body - 1, body + len(arg) // 2, body + len(arg) + 1]
        pos = body + len(arg) + 2
    return cuts


def random_chunks(items, rng) -> list:
    """The encoded stream cut at log-uniform distances (1 B to 1 MB) and, in
    about a third of the commands, at one awkward place."""
    cuts, pos = set(), 0
    for item in items:
        if rng.random() < 0.3:
            cuts.add(pos + rng.choice(awkward_cuts(item)))
        pos += len(encode(item))
    total, pos = pos, 0
    while pos < total:
        pos += int(math.exp(rng.uniform(0, math.log(1 << 20))))
        cuts.add(pos)
    bounds = sorted(c for c in cuts if 0 < c < total)
    data = b"".join(map(encode, items))
    return [data[a:b] for a, b in zip([0] + bounds, bounds + [total])]


def exchange(port: int, rounds, pause: float = 0.0) -> list:
    """For each (chunks, n) round: a writer thread sends the chunks one write
    each (pausing after each, so they tend to arrive as separate reads)
    while n replies are read.  Returns the replies; a failure to read ends
    the list with a marker saying why."""
    c = RawConn(port, timeout=TIMEOUT)
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    replies = []

    def write(chunks):
        for chunk in chunks:
            c.sock.sendall(chunk)
            if pause:
                time.sleep(pause)

    try:
        for chunks, n in rounds:
            writer = threading.Thread(target=write, args=(chunks,), daemon=True)
            writer.start()
            for _ in range(n):
                replies.append(c.read_reply())
            writer.join(TIMEOUT)
    except (OSError, ValueError) as e:
        replies.append(b"<no reply: %r>" % e)
    finally:
        c.close()
    return replies


def show(x, limit=200) -> str:
    r = repr(x)
    return r if len(r) <= limit else f"{r[:limit]}... ({len(x)} long)"


def check_same(ports, items, rounds, pause=0.0) -> list:
    """Run the same exchange on both servers; compare reply by reply."""
    kv, real = (exchange(p, rounds, pause) for p in ports)
    assert len(real) == len(items), f"redis-server: {show(real[-1])}"
    for i, (item, a, b) in enumerate(zip(items, kv + [None] * len(items), real)):
        if a != b:
            pytest.fail(f"reply {i} of {len(items)}, to {show(item)}:\n"
                        f" kvserver {show(a)}\n redis    {show(b)}")
    return real


@pytest.fixture(scope="module")
def sequence():
    return command_sequence(2024, 3000)


@pytest.fixture
def both(kv_port, real_port, r, real):
    return kv_port, real_port


def test_random_chunks(both, sequence):
    chunks = random_chunks(sequence, random.Random(7))
    check_same(both, sequence, [(chunks, len(sequence))], pause=0.0002)


def test_aligned_pipelines_of_16(both, sequence):
    rounds = [([b"".join(map(encode, sequence[i:i + 16]))], len(sequence[i:i + 16]))
              for i in range(0, len(sequence), 16)]
    check_same(both, sequence, rounds)


def test_one_write(both, sequence):
    replies = check_same(both, sequence, [([b"".join(map(encode, sequence))], len(sequence))])
    # the sequence holds what the docstring says it does
    for start in (b"-WRONGTYPE", b"-ERR unknown command", b"-ERR wrong number",
                  b"-ERR increment or decrement would overflow", b"*5000\r\n"):
        assert any(r.startswith(start) for r in replies), start
    assert any(len(r) > 40_000 for r in replies)


def test_byte_at_a_time(both):
    items = command_sequence(99, 300, large=False)
    data = b"".join(map(encode, items))
    chunks = [data[i:i + 1] for i in range(len(data))]
    check_same(both, items, [(chunks, len(items))], pause=0.00002)


def bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def assert_same_bytes(got: bytes, want: bytes, what: str):
    if got != want:
        i = next(i for i, (x, y) in enumerate(zip(got + b"\0", want + b"\1")) if x != y)
        pytest.fail(f"{what}: first difference at byte {i} of {len(want)} (got {len(got)}):"
                    f" {got[i - 20:i + 40]!r} != {want[i - 20:i + 40]!r}")


def connect_small_window(port: int, rcvbuf: int) -> socket.socket:
    """A client socket whose small receive buffer leaves replies it has not
    read queued in the server."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(TIMEOUT)
    s.connect(("127.0.0.1", port))
    return s


def read_into(got: bytearray, s: socket.socket, n: int, size: int = 1 << 20, pause: float = 0.0):
    """recv() into got until it holds n bytes or the server closes; a small
    size and a pause make a slow reader."""
    while len(got) < n:
        chunk = s.recv(size)
        if not chunk:
            return
        got.extend(chunk)
        time.sleep(pause)


def test_slow_reader_gets_a_big_backlog_whole_and_in_order(r, kv_port):
    value = random.Random(3).randbytes(1 << 20)
    elements = [b"element:%d:" % i + b"x" * 90 for i in range(10_000)]
    setup = RawConn(kv_port)
    assert setup.call("SET", "big", value) == b"+OK\r\n"
    assert setup.call("RPUSH", "list", *elements) == b":10000\r\n"
    setup.close()

    request, want = [], []
    for i in range(100):
        request.append(encode_command("GET", "big"))
        want.append(bulk(value))
        if i % 10 == 0:
            request.append(encode_command("LRANGE", "list", 0, -1))
            want.append(b"*%d\r\n" % len(elements) + b"".join(map(bulk, elements)))
        request.append(encode_command("ECHO", b"mark:%d" % i))
        want.append(bulk(b"mark:%d" % i))
    want = b"".join(want)

    slow = connect_small_window(kv_port, 16 * 1024)
    other = RawConn(kv_port, timeout=TIMEOUT)
    got = bytearray()
    try:
        slow.sendall(b"".join(request))
        time.sleep(0.3)
        # nothing of the backlog has been read yet
        for i in range(20):
            assert other.call("PING") == b"+PONG\r\n"
            assert other.call("SET", f"other:{i}", i) == b"+OK\r\n"
        reader = threading.Thread(target=read_into, daemon=True,
                                  args=(got, slow, len(want), 16 * 1024, 0.0001))
        reader.start()
        while reader.is_alive():
            assert other.call("PING") == b"+PONG\r\n"
        reader.join()
        assert other.call("GET", "other:19") == b"$2\r\n19\r\n"
    finally:
        slow.close()
        other.close()
    assert_same_bytes(bytes(got), want, "slow reader's replies")


def test_long_stream_written_before_reading_any_reply(r, kv_port):
    n = 100_000
    data = b"".join(encode_command("SET", b"key:%d" % i, b"value:%d" % i) for i in range(n))
    s = connect_small_window(kv_port, 4096)
    got, failed = bytearray(), []

    def write():
        try:
            s.sendall(data)
        except OSError as e:
            failed.append(e)

    try:
        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        writer.join(2 * TIMEOUT)
        assert not writer.is_alive() and not failed, \
            f"kvserver stopped reading a client whose replies were unread: {failed}"
        read_into(got, s, 5 * n)
    finally:
        s.close()
    assert_same_bytes(bytes(got), b"+OK\r\n" * n, "replies to the SETs")
    check = RawConn(kv_port)
    assert check.call("DBSIZE") == b":%d\r\n" % n
    assert check.call("GET", b"key:%d" % (n - 1)) == bulk(b"value:%d" % (n - 1))
    check.close()
