"""Keyspace commands against redis-server 7.0, byte for byte where the
reply is deterministic, as sets where Redis's order is its hash order.

Covers DEL UNLINK EXISTS TYPE TOUCH RENAME RENAMENX MOVE COPY SWAPDB KEYS
SCAN RANDOMKEY DBSIZE FLUSHDB FLUSHALL OBJECT, their error paths, the SCAN
guarantee under concurrent modification (kvserver.scan in process and over
the wire), and the keyspace hit/miss accounting of each lookup flavour.
"""

import random
import time

import pytest
from hypothesis import given, settings, strategies as st

from conftest import RawConn
from kvserver.scan import TOKEN_BITS, Scanner, parse_cursor


def _bulks(reply: bytes) -> list:
    """The bulk strings of a flat array reply."""
    out = []
    i = reply.index(b"\r\n") + 2
    while i < len(reply):
        j = reply.index(b"\r\n", i)
        n = int(reply[i + 1:j])
        out.append(reply[j + 2:j + 2 + n])
        i = j + 2 + n + 2
    return out


def _scan_reply(reply: bytes):
    """(cursor, [keys]) of a SCAN reply."""
    assert reply.startswith(b"*2\r\n$")
    j = reply.index(b"\r\n", 4)
    n = int(reply[5:j])
    cursor = int(reply[j + 2:j + 2 + n])
    return cursor, _bulks(reply[j + 2 + n + 2:])


def same_set(diff, *args):
    """Both servers reply with the same elements, in any order."""
    a = diff.kv.call(*args)
    b = diff.real.call(*args)
    assert a.split(b"\r\n", 1)[0] == b.split(b"\r\n", 1)[0], (args, a, b)
    assert sorted(_bulks(a)) == sorted(_bulks(b)), (args, a, b)
    return a


def same_scan(diff, *args):
    """Both SCANs finish in one call (cursor 0) with the same keys."""
    a = diff.kv.call(*args)
    b = diff.real.call(*args)
    ca, ka = _scan_reply(a)
    cb, kb = _scan_reply(b)
    assert ca == cb == 0, (args, a, b)
    assert sorted(ka) == sorted(kb), (args, a, b)


def has_command(diff, name) -> bool:
    return diff.kv.call("COMMAND", "INFO", name) != b"*1\r\n$-1\r\n"


# --- DEL UNLINK EXISTS TYPE TOUCH DBSIZE -------------------------------------------

def test_del_unlink_exists(diff):
    diff.run([
        ("SET", "a", "1"), ("SET", "b", "2"), ("SET", "c", "3"),
        ("EXISTS", "a"), ("EXISTS", "a", "a", "nokey", "b"), ("EXISTS", "nokey"),
        ("DEL", "a", "a", "nokey"), ("EXISTS", "a"), ("DEL", "nokey"),
        ("UNLINK", "b", "c", "d"), ("DBSIZE",),
        ("DEL",), ("UNLINK",), ("EXISTS",),
    ])


def test_type_and_touch(diff):
    diff.run([
        ("SET", "s", "x"), ("TYPE", "s"), ("TYPE", "nokey"),
        ("INCR", "n"), ("TYPE", "n"), ("APPEND", "r", "x"), ("TYPE", "r"),
        ("TOUCH", "s", "n", "nokey", "s"), ("TOUCH", "nokey"),
        ("TYPE",), ("TYPE", "a", "b"), ("TOUCH",),
    ])


def test_type_of_other_types(diff):
    for cmd, name in (("HSET", "hash"), ("SADD", "set"), ("RPUSH", "list"),
                      ("ZADD", "zset")):
        if not has_command(diff, cmd):
            continue
        args = ("k" + name, "1", "x") if cmd in ("HSET", "ZADD") else ("k" + name, "x")
        diff.call(cmd, *args)
        diff.call("TYPE", "k" + name)


def test_dbsize_counts_per_db(diff):
    diff.run([("SET", "a", "1"), ("SET", "b", "1"), ("DBSIZE",), ("SELECT", "3"),
              ("DBSIZE",), ("SET", "a", "1"), ("DBSIZE",), ("SELECT", "0"),
              ("DBSIZE", "x")])


# --- RENAME RENAMENX ------------------------------------------------------------------

def test_rename(diff):
    diff.run([
        ("SET", "a", "1"), ("RENAME", "a", "b"), ("GET", "a"), ("GET", "b"),
        ("RENAME", "nokey", "b"), ("RENAME", "nokey", "nokey"),
        ("RENAME", "b", "b"), ("GET", "b"),
        ("SET", "c", "2"), ("RENAME", "b", "c"), ("GET", "c"), ("EXISTS", "b"),
        ("RENAMENX", "c", "c"), ("RENAMENX", "nokey", "x"),
        ("SET", "d", "3"), ("RENAMENX", "c", "d"), ("GET", "c"),
        ("RENAMENX", "c", "e"), ("GET", "e"), ("EXISTS", "c"),
        ("RENAME", "a"), ("RENAMENX", "a", "b", "c"),
    ])


def test_rename_keeps_and_drops_ttl(diff):
    diff.run([
        ("SET", "a", "1", "EX", "100"), ("SET", "b", "2", "EX", "200"),
        ("RENAME", "a", "x"), ("TTL", "x"),
        ("SET", "p", "3"), ("RENAME", "p", "b"), ("TTL", "b"),  # dest TTL dropped
        ("RENAMENX", "x", "y"), ("TTL", "y"),
    ])


# --- MOVE ----------------------------------------------------------------------------

def test_move(diff):
    diff.run([
        ("SET", "a", "1", "EX", "100"), ("MOVE", "a", "1"), ("EXISTS", "a"),
        ("SELECT", "1"), ("GET", "a"), ("TTL", "a"), ("SELECT", "0"),
        ("MOVE", "a", "1"), ("SET", "a", "2"), ("MOVE", "a", "1"), ("GET", "a"),
        ("MOVE", "a", "0"), ("MOVE", "nokey", "0"), ("MOVE", "nokey", "1"),
        ("MOVE", "a", "16"), ("MOVE", "a", "-1"), ("MOVE", "a", "x"),
        ("MOVE", "a", "4294967296"), ("MOVE", "a", "01"), ("MOVE", "a"),
    ])


# --- COPY ----------------------------------------------------------------------------

def test_copy(diff):
    diff.run([
        ("SET", "a", "hello", "PX", "100000"), ("COPY", "a", "b"), ("GET", "b"),
        ("TTL", "b"), ("COPY", "a", "b"), ("SET", "a", "other"),
        ("COPY", "a", "b", "REPLACE"), ("GET", "b"), ("TTL", "b"),
        ("COPY", "a", "a"), ("COPY", "a", "a", "DB", "0"), ("COPY", "a", "a", "DB", "2"),
        ("SELECT", "2"), ("GET", "a"), ("SELECT", "0"),
        ("COPY", "nokey", "x"), ("COPY", "a", "x", "DB"), ("COPY", "a", "x", "foo"),
        ("COPY", "a", "x", "DB", "99"), ("COPY", "a", "x", "DB", "x"),
        ("COPY", "a", "x", "DB", "4294967296"), ("COPY", "a", "x", "replace", "db", "3"),
        ("COPY", "a", "x", "REPLACE", "REPLACE"), ("COPY", "a"),
        ("SET", "n", "123"), ("COPY", "n", "n2"), ("OBJECT", "ENCODING", "n2"),
        ("APPEND", "raw", "x"), ("COPY", "raw", "raw2"), ("OBJECT", "ENCODING", "raw2"),
        ("APPEND", "raw2", "y"), ("GET", "raw"), ("GET", "raw2"),
    ])


def test_copy_is_independent_for_collections(diff):
    if not has_command(diff, "HSET"):
        pytest.skip("hashes not implemented yet")
    diff.run([("HSET", "h", "f", "v"), ("COPY", "h", "h2"), ("HSET", "h2", "g", "w"),
              ("HLEN", "h"), ("HLEN", "h2"), ("TYPE", "h2")])


# --- SWAPDB --------------------------------------------------------------------------

def test_swapdb(diff):
    diff.run([
        ("SET", "a", "0", "EX", "100"), ("SELECT", "1"), ("SET", "b", "1"),
        ("SWAPDB", "0", "1"), ("GET", "a"), ("GET", "b"), ("TTL", "a"),
        ("SELECT", "0"), ("GET", "b"), ("GET", "a"), ("DBSIZE",),
        ("SWAPDB", "1", "1"), ("SWAPDB", "x", "1"), ("SWAPDB", "1", "y"),
        ("SWAPDB", "x", "y"), ("SWAPDB", "0", "16"), ("SWAPDB", "-1", "0"),
        ("SWAPDB", "0", "4294967296"), ("SWAPDB", "0"),
    ])


def test_swapdb_invalidates_watch(kv_port):
    c = RawConn(kv_port)
    try:
        if c.call("COMMAND", "INFO", "watch") == b"*1\r\n$-1\r\n":
            pytest.skip("WATCH not implemented yet")
        other = RawConn(kv_port)
        c.call("FLUSHALL")
        other.call("SELECT", "1")
        other.call("SET", "w", "1")
        c.call("WATCH", "w")
        other.call("SWAPDB", "0", "1")
        c.call("MULTI")
        c.call("SET", "x", "1")
        assert c.call("EXEC") == b"*-1\r\n"
        other.close()
    finally:
        c.close()


def test_swapdb_serves_blocked_clients(diff):
    if not has_command(diff, "BLPOP"):
        pytest.skip("blocking commands not implemented yet")
    replies = []
    for conn in (diff.kv, diff.real):
        port = conn.sock.getpeername()[1]
        waiter = RawConn(port)
        try:
            conn.call("SELECT", "1")
            conn.call("RPUSH", "l", "x")
            waiter.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nl\r\n$2\r\n10\r\n")
            time.sleep(0.2)
            conn.call("SWAPDB", "0", "1")
            replies.append(waiter.read_reply())
        finally:
            waiter.close()
    assert replies[0] == replies[1] == b"*2\r\n$1\r\nl\r\n$1\r\nx\r\n"


# --- KEYS ----------------------------------------------------------------------------

def test_keys(diff):
    for k in ("foo", "foobar", "bar", "f", "", "a*b", "a\\b", "h[a]llo", "héllo"):
        diff.call("SET", k, "1")
    for pat in ("*", "f*", "*o*", "?", "", "a\\*b", "a[*]b", "[fb]*", "[^f]*",
                "h\\[a\\]llo", "h[a]llo", "*\\", "**", "[a-f]oo", "[z-a]oo", "h?llo"):
        same_set(diff, "KEYS", pat)
    diff.call("KEYS")
    diff.call("KEYS", "a", "b")


def test_keys_hides_expired_without_deleting(diff):
    diff.run([("DEBUG", "SET-ACTIVE-EXPIRE", "0"), ("SET", "a", "1"),
              ("SET", "b", "1", "PX", "1"), ("SET", "c", "1", "PX", "100000")])
    try:
        time.sleep(0.01)
        same_set(diff, "KEYS", "*")
        same_set(diff, "KEYS", "b")
        diff.call("DBSIZE")     # still counted: KEYS does not delete
    finally:
        diff.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# --- SCAN ----------------------------------------------------------------------------

def test_scan_small_db_returns_all_at_once(diff):
    for i in range(8):
        diff.call("SET", f"k{i}", "1")
    same_scan(diff, "SCAN", "0")
    same_scan(diff, "SCAN", "0", "MATCH", "k[1-3]")
    same_scan(diff, "SCAN", "0", "MATCH", "*", "COUNT", "100")
    same_scan(diff, "SCAN", "0", "TYPE", "string")
    same_scan(diff, "SCAN", "0", "TYPE", "STRING", "COUNT", "20")
    same_scan(diff, "SCAN", "0", "TYPE", "list")
    same_scan(diff, "SCAN", "0", "TYPE", "nosuchtype")
    same_scan(diff, "SCAN", "", "count", "10", "match", "k*")


def test_scan_errors(diff):
    for args in (("x",), (" 0",), ("0 ",), ("0x",), ("+",), ("-",),
                 ("18446744073709551616",), ("0", "COUNT", "0"), ("0", "COUNT", "-1"),
                 ("0", "COUNT", "x"), ("0", "COUNT"), ("0", "MATCH"), ("0", "TYPE"),
                 ("0", "FOO", "bar"), ("x", "COUNT"), ("0", "COUNT", "1", "MATCH"),
                 ("0", "count", "99999999999999999999")):
        diff.call("SCAN", *args)
    diff.call("SCAN")


def test_scan_cursor_parsing(diff):
    diff.call("SET", "only", "1")
    # strtoul accepts signs, leading zeros, the empty string and stops at NUL
    for cur in ("", "+0", "-0", "000", "0\x00junk"):
        diff.call("SCAN", cur)


def test_scan_arbitrary_cursor_is_not_an_error(r):
    for i in range(50):
        r.set(f"k{i}", 1)
    for cur in (1, 12345, 2**64 - 1, 2**63, 7 << TOKEN_BITS):
        seen = set()
        c = cur
        for _ in range(1000):
            c, ks = r.scan(c, count=10)
            seen.update(ks)
            if c == 0:
                break
        assert c == 0
    # a fresh scan still sees everything
    assert set(r.scan_iter(count=7)) == {f"k{i}".encode() for i in range(50)}


def test_scan_full_iteration_and_count(r):
    keys = {f"key:{i}".encode() for i in range(1000)}
    for k in keys:
        r.set(k, 1)
    seen = []
    cursor = 0
    calls = 0
    while True:
        cursor, batch = r.scan(cursor, count=50)
        assert len(batch) <= 50
        seen += batch
        calls += 1
        if cursor == 0:
            break
    assert set(seen) == keys and len(seen) == len(keys)
    assert calls >= 1000 // 50
    assert set(r.scan_iter(match="key:1*", count=100)) == {k for k in keys if k.startswith(b"key:1")}


def test_scan_guarantee_under_modification(r):
    """Keys present for the whole scan are all returned, whatever is added
    and deleted between the calls."""
    rng = random.Random(7)
    stable = {f"s{i}".encode() for i in range(600)}
    churn = [f"c{i}".encode() for i in range(600)]
    for k in stable:
        r.set(k, 1)
    for k in churn[:300]:
        r.set(k, 1)
    seen = set()
    cursor = 0
    n = 300
    while True:
        cursor, batch = r.scan(cursor, count=rng.randint(1, 40))
        seen.update(batch)
        # delete some churn keys, add some new ones
        for _ in range(rng.randint(0, 20)):
            r.delete(rng.choice(churn))
        for _ in range(rng.randint(0, 20)):
            if n < len(churn):
                r.set(churn[n], 1)
                n += 1
        if cursor == 0:
            break
    assert stable <= seen


def test_scan_skips_expired_keys(diff):
    diff.run([("DEBUG", "SET-ACTIVE-EXPIRE", "0"), ("SET", "a", "1"),
              ("SET", "b", "1", "PX", "1")])
    try:
        time.sleep(0.01)
        same_scan(diff, "SCAN", "0")
        diff.call("DBSIZE")     # SCAN deleted the expired key it met
        diff.call("SET", "c", "1", "PX", "1")
        time.sleep(0.01)
        same_scan(diff, "SCAN", "0", "TYPE", "none")
        diff.call("DBSIZE")
    finally:
        diff.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# --- kvserver.scan in process --------------------------------------------------------

def test_parse_cursor():
    assert parse_cursor(b"") == 0
    assert parse_cursor(b"-1") == 2**64 - 1
    assert parse_cursor(b"-18446744073709551615") == 1
    assert parse_cursor(b"18446744073709551615") == 2**64 - 1
    assert parse_cursor(b"18446744073709551616") is None
    assert parse_cursor(b"12\x00x") == 12
    for bad in (b" 1", b"1 ", b"+", b"-", b"1x", b"0x1", b"\t1"):
        assert parse_cursor(bad) is None


ops = st.lists(st.tuples(st.sampled_from("adc"), st.integers(0, 80)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(initial=st.sets(st.integers(0, 80), max_size=80),
       steps=st.lists(st.tuples(st.integers(1, 15), ops), min_size=1, max_size=60))
def test_scanner_guarantee(initial, steps):
    """Model test: members present throughout are returned; cursor 0 ends."""
    sc = Scanner(max_scans=4)
    d = {i: True for i in initial}
    present_throughout = set(d)
    seen = set()
    cursor = 0
    for count, mutations in steps:
        cursor, batch = sc.scan(d, cursor, count)
        assert all(k in d for k in batch)
        seen.update(batch)
        if cursor == 0:
            break
        for op, k in mutations:
            if op == "d":
                d.pop(k, None)
                present_throughout.discard(k)
            else:
                d[k] = True
    else:
        # finish the scan without further changes
        while cursor:
            cursor, batch = sc.scan(d, cursor, 10)
            seen.update(batch)
    assert present_throughout <= seen
    assert len(sc) == 0 or cursor != 0


def test_scanner_evicts_and_restarts():
    sc = Scanner(max_scans=2)
    ds = [{i: 1 for i in range(100)} for _ in range(3)]
    cursors = [sc.scan(d, 0, 10)[0] for d in ds]
    assert len(sc) == 2             # the first scan was evicted
    # its cursor restarts from the beginning: nothing lost
    seen = set()
    c = cursors[0]
    while True:
        c, batch = sc.scan(ds[0], c, 10)
        seen.update(batch)
        if c == 0:
            break
    assert seen == set(range(100))


def test_scanner_cursor_of_other_container_restarts():
    sc = Scanner()
    a = {i: 1 for i in range(50)}
    b = {i: 1 for i in range(100, 150)}
    c, _ = sc.scan(a, 0, 5)
    seen = set()
    while True:
        c, batch = sc.scan(b, c, 5)
        seen.update(batch)
        if c == 0:
            break
    assert seen == set(b)


def test_scanner_releases_consumed_front():
    sc = Scanner()
    d = {i: 1 for i in range(20000)}
    c, _ = sc.scan(d, 0, 1000)
    while c:
        c, _ = sc.scan(d, c, 1000)
        if c:
            assert sc.elements <= 20000
    assert sc.elements == 0 and len(sc) == 0


# --- RANDOMKEY -----------------------------------------------------------------------

def test_randomkey(diff):
    diff.run([("RANDOMKEY",), ("SET", "only", "1"), ("RANDOMKEY",),
              ("RANDOMKEY", "x")])


def test_randomkey_resp3_null(raw, raw_real):
    for c in (raw, raw_real):
        c.call("HELLO", "3")
    assert raw.call("RANDOMKEY") == raw_real.call("RANDOMKEY") == b"_\r\n"


def test_randomkey_covers_keys_and_skips_deleted(r):
    for i in range(20):
        r.set(f"k{i}", 1)
    got = {r.randomkey() for _ in range(400)}
    assert got == {f"k{i}".encode() for i in range(20)}
    for i in range(19):
        r.delete(f"k{i}")
    assert {r.randomkey() for _ in range(20)} == {b"k19"}
    r.set("new", 1)
    assert {r.randomkey() for _ in range(200)} == {b"k19", b"new"}


def test_randomkey_all_expired(diff):
    diff.run([("DEBUG", "SET-ACTIVE-EXPIRE", "0"), ("SET", "a", "1", "PX", "1"),
              ("SET", "b", "1", "PX", "1")])
    try:
        time.sleep(0.01)
        diff.run([("RANDOMKEY",), ("DBSIZE",)])
    finally:
        diff.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# --- FLUSHDB FLUSHALL ------------------------------------------------------------------

def test_flush(diff):
    diff.run([
        ("SET", "a", "1"), ("SELECT", "1"), ("SET", "b", "1"),
        ("FLUSHDB",), ("DBSIZE",), ("SELECT", "0"), ("DBSIZE",),
        ("FLUSHDB", "foo"), ("FLUSHDB", "ASYNC", "SYNC"), ("FLUSHDB", "sync"),
        ("SET", "a", "1"), ("FLUSHDB", "async"), ("DBSIZE",),
        ("SET", "a", "1"), ("SELECT", "5"), ("SET", "a", "1"),
        ("FLUSHALL", "foo"), ("FLUSHALL", "sync", "sync"), ("FLUSHALL", "ASYNC"),
        ("DBSIZE",), ("SELECT", "0"), ("DBSIZE",), ("FLUSHALL", "SYNC"),
    ])


# --- OBJECT --------------------------------------------------------------------------

def test_object(diff):
    diff.run([
        ("SET", "i", "123"), ("SET", "big", "10000"), ("SET", "neg", "-1"),
        ("SET", "s", "hello"), ("SET", "long", "x" * 45), ("APPEND", "raw", "x"),
        ("OBJECT", "ENCODING", "i"), ("OBJECT", "ENCODING", "s"),
        ("OBJECT", "ENCODING", "long"), ("OBJECT", "ENCODING", "raw"),
        ("OBJECT", "ENCODING", "nokey"),
        ("OBJECT", "REFCOUNT", "i"), ("OBJECT", "REFCOUNT", "big"),
        ("OBJECT", "REFCOUNT", "neg"), ("OBJECT", "REFCOUNT", "s"),
        ("OBJECT", "REFCOUNT", "nokey"),
        ("OBJECT", "IDLETIME", "s"), ("OBJECT", "IDLETIME", "nokey"),
        ("OBJECT", "FREQ", "s"), ("OBJECT", "FREQ", "nokey"),
        ("OBJECT", "HELP"), ("object", "help"),
        ("OBJECT",), ("OBJECT", "FOO"), ("OBJECT", "FOO", "s"),
        ("OBJECT", "ENCODING"), ("OBJECT", "ENCODING", "s", "x"),
        ("OBJECT", "HELP", "x"), ("OBJECT", "REFCOUNT"),
    ])


def test_object_resp3(raw, raw_real):
    for c in (raw, raw_real):
        c.call("HELLO", "3")
        c.call("SET", "s", "v")
    for args in (("OBJECT", "ENCODING", "nokey"), ("OBJECT", "IDLETIME", "nokey"),
                 ("OBJECT", "HELP"), ("OBJECT", "ENCODING", "s")):
        assert raw.call(*args) == raw_real.call(*args)


def test_object_idletime_advances_and_touch_resets(r):
    r.set("k", "v")
    time.sleep(2.3)
    idle = r.object("idletime", "k")
    assert idle >= 1
    r.type("k")                       # NOTOUCH: leaves it alone
    r.exists("k")
    r.ttl("k")
    assert r.object("idletime", "k") >= idle
    r.touch("k")
    assert r.object("idletime", "k") == 0


def test_object_freq_under_lfu(diff):
    try:
        diff.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
        time.sleep(0.3)     # kvserver picks the policy up at the next cron tick
        diff.run([("SET", "k", "v"), ("OBJECT", "FREQ", "k"), ("GET", "k"),
                  ("OBJECT", "FREQ", "k"), ("OBJECT", "IDLETIME", "k"),
                  ("OBJECT", "FREQ", "nokey")])
    finally:
        diff.call("CONFIG", "SET", "maxmemory-policy", "noeviction")


# --- keyspace hits and misses per lookup flavour ------------------------------------

def _hits_misses(conn):
    info = conn.call("INFO", "stats").decode()
    vals = dict(line.split(":", 1) for line in info.split("\r\n") if ":" in line)
    return int(vals["keyspace_hits"]), int(vals["keyspace_misses"])


@pytest.mark.parametrize("cmd", [
    ("EXISTS", "k", "nokey"), ("TYPE", "k"), ("TYPE", "nokey"), ("TOUCH", "k", "nokey"),
    ("TTL", "k"), ("PTTL", "nokey"), ("EXPIRETIME", "k"), ("OBJECT", "ENCODING", "k"),
    ("OBJECT", "REFCOUNT", "nokey"), ("COPY", "k", "k2"), ("COPY", "nokey", "k2"),
    ("DEL", "k"), ("RENAME", "k", "k3"), ("MOVE", "k", "2"), ("EXPIRE", "k", "100"),
    ("PERSIST", "k"), ("SCAN", "0", "TYPE", "string"), ("SCAN", "0"), ("KEYS", "*"),
    ("RANDOMKEY",),
])
def test_hit_miss_accounting(diff, cmd):
    diff.call("SET", "k", "v")
    diff.call("CONFIG", "RESETSTAT")
    diff.kv.call(*cmd)
    diff.real.call(*cmd)
    assert _hits_misses(diff.kv) == _hits_misses(diff.real)


def test_rename_and_move_keep_the_embstr_of_incrbyfloat(diff):
    diff.call("INCRBYFLOAT", "f", "3")
    diff.call("RENAME", "f", "g")
    diff.call("OBJECT", "ENCODING", "g")
    diff.call("MOVE", "g", "1")
    diff.call("SELECT", "1")
    diff.call("OBJECT", "ENCODING", "g")
    diff.call("FLUSHDB")


def test_copy_keeps_the_embstr_of_incrbyfloat(diff):
    diff.call("INCRBYFLOAT", "k1", "0")
    diff.call("COPY", "k1", "k2")
    diff.call("OBJECT", "ENCODING", "k2")
