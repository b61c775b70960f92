"""MULTI/EXEC/DISCARD/WATCH/UNWATCH against the real redis-server."""

import time

import pytest

from conftest import Differ, RawConn


def test_transaction_errors_and_replies(diff):
    script = [
        ("MULTI",), ("WATCH", "a"), ("MULTI",), ("SET", "a", "1"), ("GETX",),
        ("EXEC",), ("EXEC",), ("DISCARD",),
        ("MULTI",), ("SET", "a"), ("EXEC",),
        ("MULTI",), ("SET", "a", "1"), ("INCR", "a"), ("LPUSH", "a", "1"),
        ("GET", "a"), ("EXEC",),
        ("MULTI",), ("PING",), ("DISCARD",), ("GET", "a"),
        ("MULTI",), ("EXEC", "extra"), ("EXEC",),
        ("MULTI",), ("EXEC",),
    ]
    for cmd in script:
        diff.call(*cmd)


def test_exec_runs_queue_in_order(diff):
    diff.call("MULTI")
    for i in range(20):
        diff.call("RPUSH", "l", str(i))
    diff.call("LRANGE", "l", "0", "-1")
    diff.call("EXEC")


def test_watch_aborts_when_another_client_writes(diff, kv_port, real_port):
    diff.call("SET", "k", "1")
    diff.call("WATCH", "k")
    for port in (kv_port, real_port):
        other = RawConn(port)
        other.call("SET", "k", "2")
        other.close()
    diff.call("MULTI")
    diff.call("GET", "k")
    diff.call("EXEC")       # null array: the watched key changed
    diff.call("GET", "k")


def test_watch_survives_untouched_and_unwatch(diff, kv_port, real_port):
    diff.call("WATCH", "k", "other")
    diff.call("SET", "unrelated", "x")
    diff.call("MULTI")
    diff.call("SET", "k", "v")
    diff.call("EXEC")
    diff.call("WATCH", "k")
    for port in (kv_port, real_port):
        other = RawConn(port)
        other.call("DEL", "k")
        other.close()
    diff.call("UNWATCH")
    diff.call("MULTI")
    diff.call("GET", "k")
    diff.call("EXEC")


def test_own_writes_after_watch_dirty_it(diff):
    diff.call("WATCH", "k")
    diff.call("SET", "k", "mine")
    diff.call("MULTI")
    diff.call("GET", "k")
    diff.call("EXEC")


def test_watched_key_expiring_aborts(diff):
    diff.call("SET", "k", "v", "PX", "30")
    diff.call("WATCH", "k")
    import time
    time.sleep(0.1)
    diff.call("MULTI")
    diff.call("PING")
    diff.call("EXEC")


def test_blocking_command_inside_multi_does_not_block(diff):
    diff.call("MULTI")
    diff.call("BLPOP", "nolist", "0")
    diff.call("EXEC")


def test_pipelined_multi_queues_the_rest_of_the_batch(kv_port, real_port):
    payload = (b"MULTI\r\nSET a 1\r\nINCR a\r\nEXEC\r\nGET a\r\n")
    replies = []
    for port in (kv_port, real_port):
        c = RawConn(port)
        c.call("FLUSHALL")
        c.send(payload)
        replies.append([c.read_reply() for _ in range(5)])
        c.close()
    assert replies[0] == replies[1]


def test_redis_py_transaction_pipeline(r):
    with r.pipeline(transaction=True) as p:
        p.set("x", 1).incr("x").get("x")
        assert p.execute() == [True, 2, b"2"]


def test_disconnect_releases_watches(r, kv_port):
    c = RawConn(kv_port)
    c.call("WATCH", "w")
    c.close()
    r.set("w", "1")     # must not touch a freed client
    assert r.get("w") == b"1"


# --- WATCH of keys already past their TTL (multi.c's watchedKey.expired) ------------

@pytest.fixture
def peers(no_active_expire, kv_port, real_port):
    """new() -> one more Differ: another client of each server."""
    made = []

    def new():
        d = Differ(RawConn(kv_port), RawConn(real_port))
        made.append(d)
        return d
    yield new
    for d in made:
        d.kv.close()
        d.real.close()


def _exec(d):
    """A transaction of one PING: [PONG], or the null array if aborted."""
    return d.run([("MULTI",), ("PING",), ("EXEC",)])[-1]


# A TTL that outlasts a WATCH sent right after the SET, even on a loaded
# machine, and a sleep that outlasts the TTL.
SHORT_TTL = "150"
PAST_SHORT_TTL = 0.3


def _expired(d):
    d.call("SET", "k", "old", "PXAT", "1")


def test_watch_leaves_an_expired_key_in_place(no_active_expire):
    diff = no_active_expire
    diff.run([("SET", "num", "0", "PXAT", "1"), ("WATCH", "num"), ("DBSIZE",),
              ("EXISTS", "num"), ("DBSIZE",), ("TTL", "num")])
    _exec(diff)


def test_expired_watched_key_deleted_lazily_does_not_abort(no_active_expire):
    diff = no_active_expire
    _expired(diff)
    diff.run([("WATCH", "k"), ("GET", "k"), ("DBSIZE",)])
    assert _exec(diff) == b"*1\r\n+PONG\r\n"


def test_expired_watched_key_deleted_actively_does_not_abort(no_active_expire):
    diff = no_active_expire
    _expired(diff)
    diff.call("WATCH", "k")
    diff.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    for conn in (diff.kv, diff.real):
        end = time.time() + 10
        while conn.call("DBSIZE") != b":0\r\n" and time.time() < end:
            time.sleep(0.02)
    diff.call("DBSIZE")
    assert _exec(diff) == b"*1\r\n+PONG\r\n"


def test_key_expiring_after_watch_aborts_before_deletion(no_active_expire):
    diff = no_active_expire
    diff.run([("SET", "k", "v", "PX", SHORT_TTL), ("WATCH", "k")])
    time.sleep(PAST_SHORT_TTL)
    diff.call("DBSIZE")         # still there: only EXEC's check sees it
    assert _exec(diff) == b"*-1\r\n"


# Writes to a key (made by _CREATE) that was expired at WATCH: each first
# deletes it lazily, which alone leaves the watch clean, so only an actual
# write aborts EXEC.
_CREATE = {
    "string": ("SET", "k", "old"),
    "list": ("RPUSH", "k", "a", "b"),
    "set": ("SADD", "k", "a", "b"),
    "hash": ("HSET", "k", "f", "v"),
    "zset": ("ZADD", "k", "1", "a", "2", "b"),
}


@pytest.mark.parametrize("kind, write", [
    ("string", ("SET", "k", "x")),
    ("string", ("SET", "k", "x", "XX")),
    ("string", ("SET", "k", "x", "NX", "GET")),
    ("string", ("SETNX", "k", "x")),
    ("string", ("GETSET", "k", "x")),
    ("string", ("APPEND", "k", "x")),
    ("string", ("SETRANGE", "k", "1", "x")),
    ("string", ("INCR", "k")),
    ("string", ("INCRBYFLOAT", "k", "1.5")),
    ("string", ("MSET", "k", "x", "j", "y")),
    ("string", ("MSETNX", "k", "x")),
    ("string", ("SETEX", "k", "100", "x")),
    ("string", ("GETDEL", "k")),
    ("string", ("GETEX", "k", "PERSIST")),
    ("string", ("DEL", "k")),
    ("string", ("UNLINK", "k")),
    ("string", ("EXPIRE", "k", "100")),
    ("string", ("PERSIST", "k")),
    ("string", ("RENAME", "src", "k")),
    ("string", ("RENAMENX", "src", "k")),
    ("string", ("COPY", "src", "k")),
    ("string", ("COPY", "src", "k", "REPLACE")),
    ("string", ("SETBIT", "k", "3", "1")),
    ("string", ("BITFIELD", "k", "SET", "u8", "0", "7")),
    ("string", ("BITOP", "OR", "k", "src")),
    ("string", ("PFADD", "k", "a")),
    ("string", ("SORT", "srclist", "ALPHA", "STORE", "k")),
    ("string", ("SUNIONSTORE", "k", "srcset")),
    ("string", ("ZUNIONSTORE", "k", "1", "srcset")),
    ("string", ("SINTERSTORE", "k", "srcset")),
    ("string", ("SDIFFSTORE", "k", "srcset")),
    ("string", ("ZINTERSTORE", "k", "1", "srczset")),
    ("string", ("ZDIFFSTORE", "k", "1", "srczset")),
    ("string", ("PFMERGE", "k")),
    ("string", ("GEOSEARCHSTORE", "k", "srcgeo", "FROMLONLAT", "0", "0", "BYRADIUS",
                "10", "km")),
    ("string", ("BLMOVE", "srclist", "k", "LEFT", "LEFT", "0")),
    ("string", ("PSETEX", "k", "100000", "x")),
    ("string", ("DECRBY", "k", "2")),
    ("string", ("HSETNX", "k", "f", "v")),
    ("string", ("GEOADD", "k", "0", "0", "m")),
    ("list", ("LPUSH", "k", "x")),
    ("list", ("RPUSHX", "k", "x")),
    ("list", ("LPOP", "k")),
    ("list", ("LSET", "k", "0", "x")),
    ("list", ("LMOVE", "srclist", "k", "LEFT", "LEFT")),
    ("list", ("RPOPLPUSH", "k", "k")),
    ("set", ("SADD", "k", "x")),
    ("set", ("SREM", "k", "a")),
    ("set", ("SMOVE", "srcset", "k", "m")),
    ("set", ("SPOP", "k")),
    ("hash", ("HSET", "k", "f", "x")),
    ("hash", ("HDEL", "k", "f")),
    ("hash", ("HINCRBY", "k", "n", "1")),
    ("zset", ("ZADD", "k", "5", "x")),
    ("zset", ("ZINCRBY", "k", "1", "a")),
    ("zset", ("ZREM", "k", "a")),
    ("zset", ("ZRANGESTORE", "k", "srczset", "0", "-1")),
], ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_write_to_key_expired_at_watch(no_active_expire, kind, write):
    diff = no_active_expire
    diff.run([("SET", "src", "s"), ("RPUSH", "srclist", "p", "q"),
              ("SADD", "srcset", "m"), ("ZADD", "srczset", "1", "z"),
              ("GEOADD", "srcgeo", "0", "0", "g"),
              _CREATE[kind], ("PEXPIRE", "k", "1")])
    time.sleep(0.01)
    diff.run([("WATCH", "k"), write, ("DBSIZE",)])
    _exec(diff)


def test_move_onto_key_expired_at_watch(no_active_expire):
    diff = no_active_expire
    _expired(diff)
    diff.run([("WATCH", "k"), ("SELECT", "1"), ("SET", "k", "new"), ("MOVE", "k", "0"),
              ("SELECT", "0"), ("GET", "k")])
    _exec(diff)


def test_flush_dirties_only_watches_of_live_keys(peers):
    flagged, live, lapsed, other_db = peers(), peers(), peers(), peers()
    _expired(flagged)
    flagged.call("WATCH", "k")
    live.run([("SET", "j", "1"), ("WATCH", "j")])
    lapsed.run([("SET", "m", "1", "PX", SHORT_TTL), ("WATCH", "m")])
    other_db.run([("SELECT", "1"), ("SET", "k", "1"), ("WATCH", "k")])
    time.sleep(PAST_SHORT_TTL)
    flagged.call("FLUSHDB")
    for d in (flagged, live, lapsed, other_db):
        _exec(d)


def test_flushall_spares_watch_of_expired_key(peers):
    a, b = peers(), peers()
    _expired(a)
    a.run([("WATCH", "k"), ("SELECT", "2"), ("SET", "k", "1", "PXAT", "2"),
           ("WATCH", "k"), ("SELECT", "0")])
    b.run([("SET", "j", "1"), ("WATCH", "j")])
    b.call("FLUSHALL")
    _exec(a)
    _exec(b)


@pytest.mark.parametrize("here, there", [
    ("expired", None), ("expired", "expired"), ("expired", "live"),
    (None, "expired"), (None, "live"), (None, None), ("live", "expired"),
])
def test_swapdb_and_watch_of_expired_key(peers, here, there):
    a, b = peers(), peers()
    for db, state in (("0", here), ("1", there)):
        if state is not None:
            a.run([("SELECT", db),
                   ("SET", "k", "v", "PXAT", "1") if state == "expired" else ("SET", "k", "v")])
    a.run([("SELECT", "0"), ("WATCH", "k")])
    b.run([("WATCH", "k"), ("SWAPDB", "0", "1"), ("DBSIZE",)])
    _exec(a)
    # then the key is deleted lazily (a flag now set or cleared decides)
    a.run([("WATCH", "k"), ("GET", "k")])
    _exec(a)
    _exec(b)


def test_swapdb_brings_expired_key_then_written(peers):
    a, b = peers(), peers()
    a.run([("SELECT", "1"), ("SET", "k", "v", "PXAT", "1"), ("SELECT", "0")])
    a.call("WATCH", "k")
    b.call("WATCH", "k")
    a.run([("SWAPDB", "0", "1"), ("GET", "k")])
    _exec(a)
    a.call("SET", "k", "1")
    _exec(b)


@pytest.mark.parametrize("op", [("GET", "k"), ("SET", "k", "new")], ids=" ".join)
def test_two_watchers_one_flagged(peers, op):
    """a WATCHes k live, b once it has expired: deleting k dirties a only,
    a write dirties both."""
    a, b = peers(), peers()
    a.run([("SET", "k", "v", "PX", SHORT_TTL), ("WATCH", "k")])
    time.sleep(PAST_SHORT_TTL)
    b.run([("WATCH", "k"), op])
    assert _exec(a) == b"*-1\r\n"      # expired since its WATCH
    _exec(b)


_EXPIRED_K = ("w", ("SET", "k", "old", "PXAT", "1"))


@pytest.mark.parametrize("setup", [
    # a's watch of k, flagged, is what SWAPDB dirties (flag kept)
    [_EXPIRED_K, ("a", ("WATCH", "k"))],
    # a write that dirties a client unwatches all its keys
    [("w", ("SET", "k1", "1")), _EXPIRED_K, ("a", ("WATCH", "k1", "k")),
     ("w", ("SET", "k1", "2"))],
    # a dirty client's WATCH adds nothing
    [("a", ("WATCH", "j")), ("w", ("SET", "j", "1")), _EXPIRED_K, ("a", ("WATCH", "k"))],
    # FLUSHDB dirties a without unwatching it
    [_EXPIRED_K, ("a", ("WATCH", "k")), ("a", ("SELECT", "2")), ("a", ("SET", "k1", "1")),
     ("a", ("WATCH", "k1")), ("a", ("FLUSHDB",)), ("a", ("SELECT", "0"))],
], ids=["swapdb-keeps-watching", "write-unwatches", "dirty-watches-nothing",
        "flush-keeps-watching"])
def test_flagged_watch_of_live_key_shields_later_watchers(peers, setup):
    """SWAPDB brings a live k in.  A watch of k still flagged expired and
    still in place then stops the SET's walk of k's watchers (Redis 7.0's
    touchWatchedKey `break`), so b, watching after it, is not dirtied."""
    a, b, w = peers(), peers(), peers()
    for who, cmd in setup:
        (a if who == "a" else w).call(*cmd)
    w.run([("SELECT", "1"), ("SET", "k", "live"), ("SELECT", "0"), ("SWAPDB", "0", "1")])
    b.call("WATCH", "k")
    w.call("SET", "k", "new")
    _exec(a)
    _exec(b)


def test_unwatch_forgets_the_flag(peers):
    a, w = peers(), peers()
    _expired(w)
    a.run([("WATCH", "k"), ("UNWATCH",), ("SET", "k", "v", "PX", SHORT_TTL), ("WATCH", "k")])
    time.sleep(PAST_SHORT_TTL)
    w.call("GET", "k")
    assert _exec(a) == b"*-1\r\n"
