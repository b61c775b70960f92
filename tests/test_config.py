"""CONFIG GET/SET/RESETSTAT/REWRITE/HELP, differential against redis-server 7.0.

These tests change configuration, so they run against a kvserver and a
redis-server of their own (module scope), started with the same options,
and every SET is sent to both: their states stay in step, and replies are
compared byte for byte.  CONFIG GET with patterns answers in Redis's hash
table order, which is not reproducible, so those replies are compared as
maps.
"""

import socket
import time

import pytest
import redis

from conftest import Differ, RawConn, free_port, start_kvserver, start_redis

COMMON = ("--save", "", "--appendonly", "no", "--daemonize", "no",
          "--enable-debug-command", "yes")


@pytest.fixture(scope="module")
def pair():
    with start_kvserver(*COMMON) as (_, kp):
        with start_redis() as (_, rp):
            yield kp, rp


@pytest.fixture
def cd(pair):
    kp, rp = pair
    a, b = RawConn(kp), RawConn(rp)
    yield Differ(a, b)
    a.close()
    b.close()


def pairs_of(reply: bytes) -> dict:
    """A flat RESP2 array or RESP3 map of bulk strings -> dict."""
    lines = reply.split(b"\r\n")
    assert lines[0][:1] in (b"*", b"%")
    n = int(lines[0][1:])
    items = [lines[i] for i in range(2, len(lines), 2)][: (2 * n if lines[0][:1] == b"%" else n)]
    return dict(zip(items[0::2], items[1::2]))


def both_get(cd, *patterns) -> dict:
    """Same directives and values; the listening port and cwd differ by design."""
    a = cd.kv.call("config", "get", *patterns)
    b = cd.real.call("config", "get", *patterns)
    da, db = pairs_of(a), pairs_of(b)
    assert da.keys() == db.keys()
    for d in (da, db):
        d.pop(b"port", None)
        d.pop(b"dir", None)
    assert da == db
    return da


# --- CONFIG GET -------------------------------------------------------------------

def test_get_all_matches_redis(pair):
    kp, rp = pair
    mine = redis.Redis(port=kp).config_get("*")
    theirs = redis.Redis(port=rp).config_get("*")
    for d in (mine, theirs):
        d.pop("port")
        d.pop("dir")
    assert mine == theirs


@pytest.mark.parametrize("name", [
    "maxmemory", "MAXMEMORY", "MaxMemory-Policy", "timeout", "bind", "save", "appendonly",
    "client-output-buffer-limit", "notify-keyspace-events", "list-max-ziplist-size",
    "list-max-listpack-size", "hash-max-ziplist-entries", "zset-max-ziplist-value",
    "slave-read-only", "lua-time-limit", "busy-reply-threshold", "unixsocketperm",
    "maxmemory-clients", "oom-score-adj-values", "latency-tracking-info-percentiles",
    "replicaof", "slaveof", "requirepass", "databases", "hz", "loglevel", "logfile",
    "proto-max-bulk-len", "client-query-buffer-limit", "io-threads", "protected-mode",
    # hidden: only an exact name finds them
    "rdb-key-save-delay", "key-load-delay", "use-exit-on-panic", "watchdog-period",
    "loading-process-events-interval-bytes", "lua-enable-deprecated-api",
    "nosuchconfig", "list-max-ziplist-entries", "",
])
def test_get_one_name(cd, name):
    cd.call("config", "get", name)


def test_get_several_names_and_duplicates(cd):
    # one entry per directive, named as first asked for; the order of several
    # is Redis's hash table order, so compare them as maps
    cd.call("config", "get", "maxmemory", "MAXMEMORY", "maxmemory")
    cd.call("config", "get", "TIMEOUT", "timeout")
    assert both_get(cd, "timeout", "nosuch", "hz") == {b"timeout": b"0", b"hz": b"10"}


@pytest.mark.parametrize("patterns", [
    ("*max-*-entries*",), ("maxmemory*",), ("*ziplist*",), ("LIST-MAX-*",), ("*",),
    ("time[o]ut",), ("t?meout",), ("[a-c]*",), ("*rdb-key*",), ("maxmemory*", "maxmemory"),
    ("maxmemory", "maxmemory*"), ("*slave*", "*replica*"), ("[",), ("\\*",), ("*io-backend*",),
])
def test_get_patterns(cd, patterns):
    both_get(cd, *patterns)


def test_get_arity(cd):
    cd.call("config", "get")
    cd.call("config")
    cd.call("config", "nosuch")
    cd.call("config", "help", "x")


def test_get_resp3_is_a_map(cd):
    cd.kv.call("hello", "3")
    cd.real.call("hello", "3")
    assert cd.call("config", "get", "maxmemory").startswith(b"%1\r\n")
    cd.call("config", "get", "nosuch")
    both_get(cd, "maxmemory*")
    cd.kv.call("hello", "2")
    cd.real.call("hello", "2")


# --- CONFIG SET ---------------------------------------------------------------------

SET_CASES = [
    # numbers: integers, bounds, memory units, percent, octal
    ("timeout", "5"), ("timeout", "0"), ("timeout", "-1"), ("timeout", "abc"),
    ("timeout", "05"), ("timeout", "+5"), ("timeout", " 5"), ("timeout", ""),
    ("timeout", "-0"), ("timeout", "2147483648"), ("timeout", "99999999999999999999"),
    ("maxmemory", "10mb"), ("maxmemory", "1GB"), ("maxmemory", "1Kb"), ("maxmemory", "5k"),
    ("maxmemory", "1xb"), ("maxmemory", "-1"), ("maxmemory", "1.5mb"), ("maxmemory", ""),
    ("maxmemory", "kb"), ("maxmemory", "18446744073709551615"),
    ("maxmemory", "99999999999999999999"), ("maxmemory", "17179869184gb"), ("maxmemory", "0"),
    ("proto-max-bulk-len", "1"), ("proto-max-bulk-len", "9223372036854775808"),
    ("proto-max-bulk-len", "1gb"), ("proto-max-bulk-len", "512mb"),
    ("client-query-buffer-limit", "1mb"), ("client-query-buffer-limit", "1gb"),
    ("maxmemory-clients", "10%"), ("maxmemory-clients", "101%"), ("maxmemory-clients", "-5"),
    ("maxmemory-clients", "1mb"), ("maxmemory-clients", "%"), ("maxmemory-clients", "0"),
    ("maxclients", "0"), ("maxclients", "-1"), ("maxclients", "4294967296"),
    ("hash-max-listpack-entries", "-1"), ("hash-max-ziplist-entries", "100"),
    ("hash-max-listpack-entries", "512"), ("list-max-ziplist-size", "-3"),
    ("list-max-listpack-size", "-2"), ("list-max-ziplist-size", "abc"),
    ("zset-max-ziplist-value", "1kb"), ("zset-max-listpack-value", "64"),
    ("set-max-intset-entries", "1000"), ("set-max-intset-entries", "512"),
    ("slowlog-log-slower-than", "-1"), ("slowlog-log-slower-than", "-2"),
    ("slowlog-log-slower-than", "10000"), ("slowlog-max-len", "1000"),
    ("slowlog-max-len", "128"), ("latency-monitor-threshold", "100"),
    ("latency-monitor-threshold", "0"), ("lua-time-limit", "1000"),
    ("busy-reply-threshold", "5000"), ("active-expire-effort", "11"),
    ("active-expire-effort", "10"), ("active-expire-effort", "1"),
    ("hz", "1000"), ("hz", "0"), ("hz", "-1"), ("hz", "10"), ("hll-sparse-max-bytes", "3k"),
    ("hll-sparse-max-bytes", "3000"), ("stream-node-max-bytes", "8kb"),
    ("stream-node-max-bytes", "4096"), ("stream-node-max-entries", "200"),
    ("stream-node-max-entries", "100"), ("repl-backlog-size", "0"),
    ("repl-backlog-size", "2mb"), ("repl-backlog-size", "1mb"),
    ("tracking-table-max-keys", "10"), ("tracking-table-max-keys", "1000000"),
    ("maxmemory-samples", "0"), ("maxmemory-samples", "10"), ("maxmemory-samples", "5"),
    # bools and enums
    ("protected-mode", "maybe"), ("protected-mode", "YES"), ("activerehashing", "No"),
    ("activerehashing", "yes"), ("lazyfree-lazy-user-del", "yes"),
    ("lazyfree-lazy-user-del", "no"), ("slave-read-only", "no"), ("replica-read-only", "yes"),
    ("loglevel", "FOO"), ("loglevel", "WARNING"), ("loglevel", "notice"),
    ("maxmemory-policy", "allkeys-lru"), ("maxmemory-policy", "Volatile-TTL"),
    ("maxmemory-policy", "lru"), ("maxmemory-policy", "noeviction"),
    ("appendfsync", "always"), ("appendfsync", "sometimes"), ("appendfsync", "everysec"),
    ("oom-score-adj", "maybe"), ("acl-pubsub-default", "allchannels"),
    ("acl-pubsub-default", "resetchannels"), ("sanitize-dump-payload", "clients"),
    ("sanitize-dump-payload", "no"), ("repl-diskless-load", "swapdb"),
    ("repl-diskless-load", "disabled"), ("shutdown-on-sigint", "nosave now"),
    ("shutdown-on-sigint", "now nosave force"), ("shutdown-on-sigint", "save nosave"),
    ("shutdown-on-sigint", "default now"), ("shutdown-on-sigint", ""),
    ("shutdown-on-sigint", "foo"), ("shutdown-on-sigint", "default"),
    ("propagation-error-behavior", "panic"), ("propagation-error-behavior", "ignore"),
    ("cluster-preferred-endpoint-type", "hostname"),
    ("cluster-preferred-endpoint-type", "ip"),
    # strings
    ("dbfilename", "x.rdb"), ("masterauth", "secret"), ("masterauth", ""),
    ("ignore-warnings", "ARM64-COW-BUG"), ("ignore-warnings", ""),
    ("proc-title-template", "{foo}"), ("proc-title-template", ""),
    ("proc-title-template", "{title"), ("proc-title-template", "x}"),
    ("proc-title-template", "{title} {port}"),
    ("proc-title-template", "{title} {listen-addr} {server-mode}"),
    ("cluster-announce-hostname", "a_b"), ("cluster-announce-hostname", "host-1.example"),
    ("cluster-announce-hostname", ""), ("replica-announce-ip", "10.0.0.1"),
    ("slave-announce-ip", ""), ("bind-source-addr", ""),
    # special types
    ("save", ""), ("save", "abc"), ("save", "100"), ("save", "10  5"), ("save", "0 1"),
    ("save", "10 -1"), ("notify-keyspace-events", "KEA"), ("notify-keyspace-events", "Z"),
    ("notify-keyspace-events", "Kgx$"), ("notify-keyspace-events", "AKEn"),
    ("notify-keyspace-events", "mEKndtexzhsl$g"), ("notify-keyspace-events", "ne"),
    ("notify-keyspace-events", ""),
    ("client-output-buffer-limit", "replica 1mb 2mb 3"),
    ("client-output-buffer-limit", "master 1 1 1"),
    ("client-output-buffer-limit", "normal 1mb 2mb -1"),
    ("client-output-buffer-limit", "normal 1 2"),
    ("client-output-buffer-limit", "normal 1  2 3"),
    ("client-output-buffer-limit", "pubsub 1x 2 3"),
    ("client-output-buffer-limit", "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60"),
    ("oom-score-adj-values", "0 200"), ("oom-score-adj-values", "0 200 x"),
    ("oom-score-adj-values", "0 200 3000"), ("oom-score-adj-values", "0 200 800"),
    ("latency-tracking-info-percentiles", "50 99.99 100"),
    ("latency-tracking-info-percentiles", "101"),
    ("latency-tracking-info-percentiles", "x"),
    ("latency-tracking-info-percentiles", ""),
    ("latency-tracking-info-percentiles", "50 99 99.9"),
    # refused wholesale
    ("daemonize", "yes"), ("databases", "1"), ("unixsocket", "/tmp/x"), ("port", "abc"),
    ("PORT", "99999"), ("logfile", "x"), ("replicaof", "no one"), ("slaveof", "a b"),
    ("dir", "/tmp"), ("enable-debug-command", "no"), ("io-threads", "2"),
    ("lua-enable-deprecated-api", "yes"), ("socket-mark-id", "0"), ("tcp-backlog", "1"),
    ("appendfilename", "x"), ("nosuch", "1"),
]


@pytest.mark.parametrize("name,value", SET_CASES)
def test_set_and_get_back(cd, name, value):
    cd.call("config", "set", name, value)
    if name.lower() != "port":
        cd.call("config", "get", name)


def test_set_several_pairs(cd):
    cd.call("config", "set", "timeout", "7", "maxmemory", "3mb", "hz", "20")
    cd.call("config", "get", "timeout")
    cd.call("config", "get", "maxmemory")
    cd.call("config", "get", "hz")
    cd.call("config", "set", "timeout", "0", "maxmemory", "0", "hz", "10")


def test_set_is_all_or_nothing(cd):
    cd.call("config", "set", "timeout", "9", "maxmemory", "nonsense")
    cd.call("config", "get", "timeout")
    cd.call("config", "set", "maxmemory", "1mb", "port", "abc")
    cd.call("config", "get", "maxmemory")
    cd.call("config", "set", "maxmemory", "1mb", "hash-max-ziplist-entries", "-1")
    cd.call("config", "get", "maxmemory")


@pytest.mark.parametrize("args", [
    ("maxmemory", "10mb", "maxmemory", "20mb"),
    ("maxmemory", "10mb", "MAXMEMORY", "20mb"),
    ("hash-max-ziplist-entries", "1", "hash-max-listpack-entries", "2"),
    ("daemonize", "yes", "nosuch", "1"),
    ("nosuch", "1", "daemonize", "yes"),
    ("port", "abc", "nosuch", "1"),
    ("timeout", "1", "daemonize", "yes", "timeout", "2"),
    ("maxmemory", "10mb", "dir", "/tmp", "nosuch", "1"),
    ("port",),
    ("port", "1", "2"),
    ("a\nb", "1"),
])
def test_set_errors(cd, args):
    cd.call("config", "set", *args)
    cd.call("config", "get", "maxmemory")
    cd.call("config", "get", "timeout")


def test_set_resp3(cd):
    cd.kv.call("hello", "3")
    cd.real.call("hello", "3")
    cd.call("config", "set", "timeout", "0")
    cd.call("config", "set", "timeout", "x")
    cd.kv.call("hello", "2")
    cd.real.call("hello", "2")


# --- what kvserver refuses instead of ignoring ------------------------------------

@pytest.mark.parametrize("name,value,why", [
    ("save", "900 1", "RDB snapshots"),
    ("save", "3600 1 300 100", "RDB snapshots"),
    ("appendonly", "yes", "append-only file"),
    ("tls-port", "6380", "TLS"),
    ("tls-replication", "yes", "TLS"),
    ("activedefrag", "yes", "Active defragmentation cannot be enabled"),
])
def test_refused_settings(pair, name, value, why):
    c = RawConn(pair[0])
    try:
        reply = c.call("config", "set", name, value)
        assert reply.startswith(b"-ERR CONFIG SET failed (possibly related to argument '"
                                + name.encode() + b"') - ")
        assert why.encode() in reply
        # refused means not stored
        got = pairs_of(c.call("config", "get", name))
        assert got[name.encode()] in (b"", b"no", b"0")
    finally:
        c.close()


def test_io_backend_is_hidden_but_readable(pair):
    c = redis.Redis(port=pair[0])
    assert "io-backend" not in c.config_get("*")
    assert c.config_get("io-backend")["io-backend"] in ("auto", "epoll", "poll", "select")
    with pytest.raises(redis.ResponseError, match="can't set immutable config"):
        c.config_set("io-backend", "poll")


# --- RESETSTAT, REWRITE, HELP ---------------------------------------------------------

def _info(conn, section) -> dict:
    body = conn.call("info", section).split(b"\r\n", 1)[1]
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def _calls(conn) -> dict:
    return {k: v.split(",")[0] for k, v in _info(conn, "commandstats").items()}


def test_resetstat(pair):
    conns = [RawConn(port) for port in pair]
    try:
        for c in conns:
            c.call("set", "k", "v")
            c.call("get", "k")
            c.call("get", "missing")
            assert c.call("nosuchcommand").startswith(b"-ERR")
            assert c.call("incr", "k").startswith(b"-ERR")
            assert c.call("config", "resetstat") == b"+OK\r\n"
        mine, theirs = conns
        assert _calls(mine) == _calls(theirs) == {"cmdstat_config|resetstat": "calls=1"}
        assert _info(mine, "errorstats") == _info(theirs, "errorstats") == {}
        for key in ("total_error_replies", "keyspace_hits", "keyspace_misses",
                    "rejected_connections", "expired_keys", "evicted_keys"):
            assert _info(mine, "stats")[key] == _info(theirs, "stats")[key] == "0"
    finally:
        for c in conns:
            c.close()


def test_resetstat_arity(cd):
    cd.call("config", "resetstat", "x")
    cd.call("config", "rewrite", "x")


def test_rewrite_without_config_file(cd):
    cd.call("config", "rewrite")


def test_help(cd):
    cd.call("config", "help")


def test_command_docs_and_info(cd):
    for sub in ("get", "set", "resetstat", "rewrite", "help"):
        cd.call("command", "info", "config|" + sub)
        cd.call("command", "docs", "config|" + sub)


# --- effects -------------------------------------------------------------------------

def _conn(port, host="127.0.0.1"):
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(b"PING\r\n")
    data = s.recv(100)
    s.close()
    return data


def test_set_port_rebinds_listener():
    port, other = free_port(), free_port()
    with start_kvserver(port=port) as (proc, _):
        c = redis.Redis(port=port)
        assert c.config_set("port", other)
        assert _conn(other) == b"+PONG\r\n"
        with pytest.raises(OSError):
            _conn(port)
        c2 = redis.Redis(port=other)
        assert c2.config_get("port") == {"port": str(other)}
        # a port that is taken: refused, and the server stays where it was
        with socket.socket() as busy:
            busy.bind(("0.0.0.0", 0))
            busy.listen(1)
            taken = busy.getsockname()[1]
            with pytest.raises(redis.ResponseError) as e:
                c2.config_set("port", taken)
            assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'port') - "
                                    "Unable to listen on this port. Check server logs.")
        assert c2.config_get("port") == {"port": str(other)}
        assert _conn(other) == b"+PONG\r\n"


def test_set_bind_rebinds_listener():
    port = free_port()
    with start_kvserver(port=port) as (proc, _):
        c = redis.Redis(port=port)
        assert c.config_set("bind", "127.0.0.1")
        assert c.config_get("bind") == {"bind": "127.0.0.1"}
        assert _conn(port) == b"+PONG\r\n"
        with pytest.raises(redis.ResponseError, match="Too many bind addresses"):
            c.config_set("bind", " ".join(["127.0.0.1"] * 17))


def test_protected_configs_when_enabled(tmp_path):
    with start_kvserver("--enable-protected-configs", "yes") as (proc, port):
        c = redis.Redis(port=port)
        assert c.config_set("dir", str(tmp_path))
        assert c.config_get("dir") == {"dir": str(tmp_path)}
        with pytest.raises(redis.ResponseError) as e:
            c.config_set("dir", str(tmp_path / "nonexistent"))
        assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'dir') - "
                                "No such file or directory")
        assert c.config_set("dbfilename", "other.rdb")
        with pytest.raises(redis.ResponseError, match="dbfilename can't be a path"):
            c.config_set("dbfilename", "a/b.rdb")
    with start_kvserver("--enable-protected-configs", "local") as (proc, port):
        assert redis.Redis(port=port).config_set("dir", str(tmp_path))


def test_loglevel_change_applies(tmp_path):
    log = tmp_path / "kv.log"
    with start_kvserver("--logfile", str(log)) as (proc, port):
        c = redis.Redis(port=port)
        _conn(port)
        time.sleep(0.2)
        assert "Client closed connection" not in log.read_text()
        assert c.config_set("loglevel", "verbose")
        _conn(port)
        deadline = time.time() + 5
        while "Client closed connection" not in log.read_text() and time.time() < deadline:
            time.sleep(0.05)
        assert " - Client closed connection" in log.read_text()


def test_hz_is_capped(cd):
    cd.call("config", "set", "hz", "100000")
    cd.call("config", "get", "hz")
    cd.call("config", "set", "hz", "10")


def test_maxclients_change(pair):
    c = redis.Redis(port=pair[0])
    assert c.config_set("maxclients", 20)
    assert c.config_get("maxclients") == {"maxclients": "20"}
    assert c.config_set("maxclients", 10000)


def test_requirepass_set_and_clear(pair):
    kp, _ = pair
    c = redis.Redis(port=kp)
    assert c.config_set("requirepass", "s3cret")
    try:
        fresh = RawConn(kp)
        assert fresh.call("get", "x").startswith(b"-NOAUTH")
        assert fresh.call("auth", "s3cret") == b"+OK\r\n"
        assert pairs_of(fresh.call("config", "get", "requirepass")) == {b"requirepass": b"s3cret"}
        fresh.close()
    finally:
        c.config_set("requirepass", "")
