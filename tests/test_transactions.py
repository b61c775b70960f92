"""MULTI/EXEC/DISCARD/WATCH/UNWATCH against the real redis-server."""


from conftest import RawConn


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
