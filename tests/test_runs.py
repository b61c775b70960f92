"""Pipelined runs of one command (commands.table.run_handler).

A run handler executes a stretch of identical commands from one read as
a single operation; these tests send whole pipelines in one write to
kvserver and to the real redis-server and compare every reply byte for
byte, around the places where a run must stop or must not start: a key
that does not exist yet, changes type, expires, runs out, overflows, or
has blocked clients and WATCHers.
"""

import socket

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import RawConn, encode_command


def test_push_runs(diff):
    diff.pipeline([("LPUSH", "l", f"v{i}") for i in range(20)])
    diff.pipeline([("RPUSH", "l", f"w{i}") for i in range(20)])
    diff.check("LRANGE", "l", 0, -1)
    diff.check("DEBUG", "DIGEST")


def test_push_runs_fill_nodes_as_single_pushes(diff):
    diff.check("CONFIG", "SET", "list-max-listpack-size", "5")
    try:
        diff.pipeline([("RPUSH", "l", "x" * (i % 7)) for i in range(40)])
        diff.pipeline([("LPUSH", "l", str(i)) for i in range(40)])
        diff.pipeline([("LPUSH", "l", "y" * 30) for i in range(12)])
        diff.check("LRANGE", "l", 0, -1)
        # node boundaries are visible in DEBUG OBJECT's ql_nodes
        kv = diff.kv.call("DEBUG", "OBJECT", "l").split(b" ql_nodes:")[1].split()[0]
        real = diff.real.call("DEBUG", "OBJECT", "l").split(b" ql_nodes:")[1].split()[0]
        assert kv == real
    finally:
        diff.check("CONFIG", "SET", "list-max-listpack-size", "-2")


def test_pop_runs_past_the_end(diff):
    diff.check("RPUSH", "l", "a", "b", "c")
    diff.pipeline([("LPOP", "l")] * 5 + [("EXISTS", "l")])
    diff.check("RPUSH", "l", "a", "b", "c")
    diff.pipeline([("RPOP", "l")] * 4 + [("RPUSH", "l", "z"), ("RPOP", "l"), ("RPOP", "l")])


def test_runs_stop_at_type_changes(diff):
    diff.pipeline([("SET", "k", "1"), ("INCR", "k"), ("INCR", "k"), ("SET", "k", "x"),
                   ("INCR", "k"), ("INCR", "k"), ("GET", "k"), ("DEL", "k"),
                   ("INCR", "k"), ("INCR", "k")])
    diff.pipeline([("RPUSH", "k2", "a"), ("GET", "x"), ("GET", "k2"), ("GET", "k"),
                   ("LPUSH", "k", "a"), ("LPUSH", "k", "b"), ("SADD", "k2", "m"),
                   ("SADD", "k2", "m")])


def test_incr_run_overflow(diff):
    diff.check("SET", "n", str(2**63 - 3))
    diff.pipeline([("INCR", "n")] * 5 + [("GET", "n")])


def test_set_runs_drop_ttls_and_expire_stale_keys(diff):
    diff.check("SET", "a", "1", "EX", "100")
    diff.check("SET", "b", "1", "PX", "1")
    import time
    time.sleep(0.01)
    diff.pipeline([("SET", "a", "2"), ("SET", "b", "3"), ("SET", "a", "4"), ("TTL", "a"),
                   ("TTL", "b"), ("GET", "a")])


def test_sadd_runs_convert_the_intset(diff):
    diff.check("CONFIG", "SET", "set-max-intset-entries", "4")
    try:
        diff.check("SADD", "s", "1")
        diff.pipeline([("SADD", "s", str(i % 6)) for i in range(10)] +
                      [("OBJECT", "ENCODING", "s"), ("SCARD", "s")])
        diff.pipeline([("SADD", "s", "x"), ("SADD", "s", "x"), ("SCARD", "s")])
    finally:
        diff.check("CONFIG", "SET", "set-max-intset-entries", "512")


def test_runs_count_in_commandstats(r):
    r.config_resetstat()
    r.delete("l")
    r.rpush("l", "first")
    with socket.create_connection(("127.0.0.1", r.connection_pool.connection_kwargs["port"])) as s:
        s.sendall(b"".join(encode_command("RPUSH", "l", "x") for _ in range(10)))
        got = b""
        while got.count(b"\r\n") < 10:
            got += s.recv(4096)
    stats = r.info("commandstats")["cmdstat_rpush"]
    assert stats["calls"] == 11
    assert r.llen("l") == 11


def test_run_wakes_watchers_and_blocked_clients(r, kv_port):
    """A run on a key invalidates WATCH like single commands do; a push
    that creates a key BLPOP waits on serves the waiter before the next
    command of the same pipeline runs."""
    r.delete("q", "w")
    r.rpush("w", "0")
    watcher = RawConn(kv_port)
    blocked = RawConn(kv_port)
    pusher = RawConn(kv_port)
    try:
        assert watcher.call("WATCH", "w") == b"+OK\r\n"
        blocked.send(encode_command("BLPOP", "q", "0"))
        # wait until it is blocked
        for _ in range(200):
            if r.info("clients")["blocked_clients"] == 1:
                break
            import time
            time.sleep(0.01)
        pusher.send(b"".join(encode_command("RPUSH", "w", str(i)) for i in range(5)) +
                    b"".join(encode_command("LPUSH", "q", str(i)) for i in range(5)))
        replies = [pusher.read_reply() for _ in range(10)]
        assert replies[:5] == [b":2\r\n", b":3\r\n", b":4\r\n", b":5\r\n", b":6\r\n"]
        # the first LPUSH's element went to the waiter, so the list restarted
        assert replies[5:] == [b":1\r\n", b":1\r\n", b":2\r\n", b":3\r\n", b":4\r\n"]
        assert blocked.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\n0\r\n"
        watcher.send(encode_command("MULTI") + encode_command("GET", "w") +
                     encode_command("EXEC"))
        assert [watcher.read_reply() for _ in range(3)][2] == b"*-1\r\n"
    finally:
        for c in (watcher, blocked, pusher):
            c.close()


KEYS = st.sampled_from(["a", "b"])
VALUES = st.sampled_from(["1", "2", "-7", "x", "", "9223372036854775806", "y" * 70])
COMMAND = st.one_of(
    st.tuples(st.just("LPUSH"), KEYS, VALUES),
    st.tuples(st.just("RPUSH"), KEYS, VALUES),
    st.tuples(st.just("LPOP"), KEYS),
    st.tuples(st.just("RPOP"), KEYS),
    st.tuples(st.just("SET"), KEYS, VALUES),
    st.tuples(st.just("GET"), KEYS),
    st.tuples(st.just("INCR"), KEYS),
    st.tuples(st.just("SADD"), KEYS, VALUES),
    st.tuples(st.just("DEL"), KEYS),
    st.tuples(st.just("LPUSH"), KEYS, VALUES, VALUES),
    st.tuples(st.just("EXPIRE"), KEYS, st.just("100")),
    st.just(("PING",)),
    st.tuples(st.just("HSET"), KEYS, VALUES, VALUES),
    st.tuples(st.just("ZADD"), KEYS, st.sampled_from(["0", "1", "2.5", "x", "nan"]), VALUES),
    st.tuples(st.just("ZPOPMIN"), KEYS),
)
# runs of one command are what this is about: repeat each drawn command
PIPELINE = st.lists(st.tuples(COMMAND, st.integers(1, 6)), min_size=1, max_size=12).map(
    lambda pairs: [cmd for cmd, n in pairs for _ in range(n)])


def _pairs(reply: bytes) -> list:
    """The (field, value) pairs of an HGETALL reply of simple values."""
    parts = reply.split(b"\r\n")[2::2]
    return sorted(zip(parts[::2], parts[1::2]))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(PIPELINE)
def test_random_pipelines_match_redis(diff, commands):
    diff.check("FLUSHALL")
    diff.pipeline(commands)
    for key in ("a", "b"):
        diff.pipeline([("TYPE", key), ("TTL", key), ("OBJECT", "ENCODING", key)])
        t = diff.kv.call("TYPE", key)
        diff.real.call("TYPE", key)
        if t == b"+list\r\n":
            diff.check("LRANGE", key, 0, -1)
        elif t == b"+set\r\n":
            diff.check("SORT", key, "ALPHA")
        elif t == b"+string\r\n":
            diff.check("GET", key)
        elif t == b"+hash\r\n":
            # a hashtable's field order is its hash order: compare as pairs
            got = _pairs(diff.kv.call("HGETALL", key))
            assert got == _pairs(diff.real.call("HGETALL", key))
        elif t == b"+zset\r\n":
            diff.check("ZRANGE", key, 0, -1, "WITHSCORES")


def test_ping_and_repeated_get_runs(diff):
    diff.pipeline([("PING",)] * 10 + [("PING", "x")] * 3)
    diff.check("SET", "k", "v" * 2000)
    diff.check("SET", "i", "12")
    diff.pipeline([("GET", "k")] * 8 + [("GET", "i")] * 3 + [("GET", "nokey")] * 3)
    diff.check("INCR", "i")
    diff.pipeline([("GET", "i")] * 4)
    diff.check("LPUSH", "l", "a")
    diff.pipeline([("GET", "k")] * 3 + [("GET", "l")] * 3 + [("GET", "k")] * 2)
    diff.check("EXPIRE", "k", "100")
    diff.pipeline([("GET", "k")] * 5)


def test_repeated_get_counts_hits(r, kv_port):
    r.config_resetstat()
    r.set("k", "v")
    conn = RawConn(kv_port)
    try:
        conn.send(b"".join(encode_command("GET", "k") for _ in range(10)))
        assert [conn.read_reply() for _ in range(10)] == [b"$1\r\nv\r\n"] * 10
    finally:
        conn.close()
    assert r.info("stats")["keyspace_hits"] == 10


def test_spop_runs_empty_the_set(diff):
    """SPOP picks at random, so compare what can be compared: every
    member comes out once, then nils, and the key is gone."""
    members = [str(i) for i in range(6)] + ["a", "b"]
    for conn in (diff.kv, diff.real):
        conn.call("SADD", "s", *members)
    data = b"".join(encode_command("SPOP", "s") for _ in range(10)) + encode_command("EXISTS", "s")
    for conn in (diff.kv, diff.real):
        conn.send(data)
        replies = [conn.read_reply() for _ in range(11)]
        popped = sorted(rep.split(b"\r\n")[1] for rep in replies[:8])
        assert popped == sorted(m.encode() for m in members)
        assert replies[8:] == [b"$-1\r\n", b"$-1\r\n", b":0\r\n"]


def test_pops_of_a_missing_key(diff):
    diff.pipeline([("LPOP", "nol")] * 4 + [("RPOP", "nol")] * 3 + [("SPOP", "nos")] * 5 +
                  [("LPOP", "nol", "2")] * 2)


def test_runs_reply_resp3_nulls(diff):
    for conn in (diff.kv, diff.real):
        conn.call("HELLO", "3")
    diff.pipeline([("LPOP", "nol")] * 3 + [("SPOP", "nos")] * 3 + [("GET", "nok")] * 3)


def test_hset_runs(diff):
    diff.check("HSET", "h", "f0", "v")
    diff.pipeline([("HSET", "h", "f", "x")] * 6 + [("HGETALL", "h")])
    diff.pipeline([("HSET", "h", f"f{i % 5}", f"v{i}") for i in range(12)] +
                  [("HGETALL", "h"), ("OBJECT", "ENCODING", "h")])
    diff.check("CONFIG", "SET", "hash-max-listpack-entries", "4")
    try:
        diff.check("DEL", "h")
        diff.check("HSET", "h", "a", "1")
        diff.pipeline([("HSET", "h", f"k{i}", "v") for i in range(6)] +
                      [("OBJECT", "ENCODING", "h"), ("HLEN", "h")])
        diff.pipeline([("HSET", "h", "big", "v" * 100)] * 3 + [("HSTRLEN", "h", "big")])
    finally:
        diff.check("CONFIG", "SET", "hash-max-listpack-entries", "128")


def test_zadd_runs(diff):
    diff.check("ZADD", "z", "1", "a")
    diff.pipeline([("ZADD", "z", "0", "m")] * 6 + [("ZRANGE", "z", 0, -1, "WITHSCORES")])
    diff.pipeline([("ZADD", "z", str(i % 3), f"m{i % 4}") for i in range(12)] +
                  [("ZRANGE", "z", 0, -1, "WITHSCORES")])
    diff.pipeline([("ZADD", "z", "2", "a"), ("ZADD", "z", "nan", "a"), ("ZADD", "z", "x", "b"),
                   ("ZADD", "z", "3", "a"), ("ZADD", "z", "inf", "c"),
                   ("ZADD", "z", "-inf", "c"), ("ZADD", "z", "NX", "q"),
                   ("ZADD", "z", "1.5e3", "d"), ("ZRANGE", "z", 0, -1, "WITHSCORES")])
    diff.check("CONFIG", "SET", "zset-max-listpack-entries", "3")
    try:
        diff.pipeline([("ZADD", "z", str(i), f"n{i}") for i in range(5)] +
                      [("OBJECT", "ENCODING", "z"), ("ZCARD", "z")])
    finally:
        diff.check("CONFIG", "SET", "zset-max-listpack-entries", "128")
    diff.pipeline([("ZPOPMIN", "z")] * 20 + [("ZPOPMAX", "z")] * 3 + [("EXISTS", "z")])
    diff.pipeline([("ZPOPMIN", "noz")] * 4 + [("ZPOPMAX", "noz")] * 4)
