"""Server commands: INFO, TIME, LASTSAVE, SHUTDOWN, DEBUG.

INFO values differ between two servers by nature, so INFO is compared by
section and field names, in order; counters are compared as deltas over
the same command sequence.  DEBUG replies are compared byte for byte,
DEBUG DIGEST included: the same dataset must give the same digest on
kvserver and on redis-server 7.0.
"""

import re
import signal
import socket
import time

import pytest

from conftest import RawConn, encode_command, start_kvserver, start_redis

# What kvserver's INFO knowingly does differently: one field more, two
# counters it does not keep, and no latency histograms.
KV_ONLY_FIELDS = {"kvserver_version"}
REDIS_ONLY_FIELDS = {"total_reads_processed", "total_writes_processed"}
REDIS_ONLY_SECTIONS = {"Latencystats"}


def payload(reply: bytes) -> bytes:
    """The text of a bulk or verbatim reply."""
    head, rest = reply.split(b"\r\n", 1)
    body = rest[:-2]
    return body[4:] if head.startswith(b"=") else body


def parse_info(text: bytes) -> dict:
    """section title -> list of (field, value), in order."""
    sections = {}
    current = None
    for line in text.decode().split("\r\n"):
        if line.startswith("# "):
            current = sections.setdefault(line[2:], [])
        elif line:
            name, _, value = line.partition(":")
            current.append((name, value))
    return sections


def info(conn: RawConn, *args) -> dict:
    return parse_info(payload(conn.call("info", *args)))


def field(conn: RawConn, section: str, name: str) -> str:
    return dict(info(conn, section)[section.capitalize()
                                     if section != "cpu" else "CPU"])[name]


def names(section_fields) -> list:
    return [n for n, _ in section_fields]


# --- INFO: sections and fields -------------------------------------------------------

@pytest.mark.parametrize("args", [
    (), ("default",), ("all",), ("everything",), ("server", "clients"),
    ("cpu", "server"), ("SERVER",), ("default", "commandstats"), ("keyspace",),
    ("foo",), ("foo", "cluster"), ("errorstats", "stats"), ("modules",),
])
def test_info_selects_sections_like_redis(raw, raw_real, args):
    kv = list(info(raw, *args))
    rd = [s for s in info(raw_real, *args) if s not in REDIS_ONLY_SECTIONS]
    assert kv == rd


@pytest.mark.parametrize("section", [
    "server", "clients", "memory", "persistence", "stats", "replication", "cpu",
    "modules", "cluster",
])
def test_info_field_names_like_redis(raw, raw_real, section):
    (kv,) = info(raw, section).values()
    (rd,) = info(raw_real, section).values()
    assert [n for n in names(kv) if n not in KV_ONLY_FIELDS] == \
        [n for n in names(rd) if n not in REDIS_ONLY_FIELDS]


def test_info_exact_bytes(diff):
    for args in (("cluster",), ("modules",), ("cluster", "modules"), ("foo",),
                 ("foo", "cluster"), ("CLUSTER",)):
        diff.call("info", *args)


def test_info_server_values(raw, kv_port):
    fields = dict(info(raw, "server")["Server"])
    assert fields["redis_version"] == "7.0.15"
    assert fields["redis_mode"] == "standalone"
    assert fields["tcp_port"] == str(kv_port)
    assert re.fullmatch(r"[0-9a-f]{40}", fields["run_id"])
    assert int(fields["uptime_in_seconds"]) >= 0
    assert fields["multiplexing_api"] in ("io_uring", "epoll", "poll", "select")
    assert fields["kvserver_version"]
    assert int(fields["hz"]) == int(fields["configured_hz"])
    usec = int(fields["server_time_usec"])
    assert abs(usec / 1e6 - time.time()) < 60


def test_info_replication_and_cluster(raw):
    rep = dict(info(raw, "replication")["Replication"])
    assert rep["role"] == "master"
    assert rep["connected_slaves"] == "0"
    assert re.fullmatch(r"[0-9a-f]{40}", rep["master_replid"])
    assert rep["master_replid2"] == "0" * 40
    assert dict(info(raw, "cluster")["Cluster"]) == {"cluster_enabled": "0"}


def test_info_memory_is_consistent(raw):
    mem = dict(info(raw, "memory")["Memory"])
    used = int(mem["used_memory"])
    assert used > 0
    assert int(mem["used_memory_peak"]) >= used
    assert int(mem["used_memory_startup"]) > 0
    assert mem["maxmemory_policy"] == "noeviction"
    assert re.fullmatch(r"\d+(\.\d\d[KMGTP])?B?", mem["used_memory_human"])


def test_info_cpu_format(raw):
    for name, value in info(raw, "cpu")["CPU"]:
        assert re.fullmatch(r"\d+\.\d{6}", value), name


def test_info_keyspace(diff, raw, raw_real):
    for cmd in (("set", "a", "1"), ("set", "b", "2", "ex", "1000"), ("select", "3"),
                ("set", "c", "3"), ("select", "0")):
        diff.call(*cmd)
    strip = lambda fields: [(n, re.sub(r",avg_ttl=\d+", "", v)) for n, v in fields]
    assert strip(info(raw, "keyspace")["Keyspace"]) == \
        strip(info(raw_real, "keyspace")["Keyspace"]) == \
        [("db0", "keys=2,expires=1"), ("db3", "keys=1,expires=0")]
    assert re.fullmatch(r"keys=2,expires=1,avg_ttl=\d+",
                        dict(info(raw, "keyspace")["Keyspace"])["db0"])


@pytest.fixture
def fresh_pair():
    """Servers of their own, so that statistics start from zero."""
    with start_kvserver("--enable-debug-command", "yes") as (_, kv), \
            start_redis() as (_, rd):
        yield kv, rd


def test_info_stats_deltas_like_redis(fresh_pair):
    deltas = []
    for port in fresh_pair:
        c = RawConn(port)
        c.call("set", "k", "v")
        before = dict(info(c, "stats")["Stats"])
        for cmd in (("get", "k"), ("get", "nokey"), ("get", "k"), ("exists", "k"),
                    ("ping",), ("nosuch",), ("get",)):
            c.call(*cmd)
        after = dict(info(c, "stats")["Stats"])
        deltas.append({name: int(after[name]) - int(before[name]) for name in (
            "keyspace_hits", "keyspace_misses", "total_error_replies",
            "total_commands_processed")})
        c.call("del", "k")
        c.close()
    assert deltas[0] == deltas[1]


def test_info_errorstats_and_commandstats_like_redis(fresh_pair):
    outs = []
    for port in fresh_pair:
        c = RawConn(port)
        for cmd in (("ping",), ("ping",), ("get",), ("nosuch",), ("incr", "s"),
                    ("set", "s", "x"), ("incr", "s"), ("hello", "9"),
                    ("client", "id"), ("client", "nosuch"), ("del", "s"),
                    ("debug", "error", "CUSTOM not counted")):
            c.call(*cmd)
        es = info(c, "errorstats")["Errorstats"]
        cs = {n: re.sub(r"usec=\d+,usec_per_call=[\d.]+,", "", v)
              for n, v in info(c, "commandstats")["Commandstats"]}
        # the INFO calls themselves and the first connection's setup differ
        for n in ("cmdstat_info", "cmdstat_hello"):
            cs.pop(n, None)
        outs.append((es, cs))
        c.close()
    assert outs[0] == outs[1]
    assert ("errorstat_NOPROTO", "count=1") in outs[0][0]


def test_info_commandstats_format(raw):
    raw.call("ping")
    raw.call("client", "id")
    fields = dict(info(raw, "commandstats")["Commandstats"])
    for name in ("cmdstat_ping", "cmdstat_client|id"):
        assert re.fullmatch(r"calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,"
                            r"rejected_calls=\d+,failed_calls=\d+", fields[name])


def test_info_connected_clients_delta(raw, raw_real, kv_port, real_port):
    deltas = []
    for conn, port in ((raw, kv_port), (raw_real, real_port)):
        before = int(field(conn, "clients", "connected_clients"))
        extra = [RawConn(port) for _ in range(3)]
        for e in extra:
            e.call("ping")
        deltas.append(int(field(conn, "clients", "connected_clients")) - before)
        for e in extra:
            e.close()
    assert deltas == [3, 3]


def test_instantaneous_ops_per_sec_is_sampled(r, raw):
    deadline = time.time() + 20
    seen = 0
    while time.time() < deadline and not seen:
        pipe = r.pipeline(transaction=False)
        for _ in range(200):
            pipe.ping()
        pipe.execute()
        seen = int(field(raw, "stats", "instantaneous_ops_per_sec"))
    assert seen > 0
    assert float(field(raw, "stats", "instantaneous_input_kbps")) >= 0


def test_info_after_config_resetstat(fresh_pair):
    for port in fresh_pair:
        c = RawConn(port)
        c.call("nosuch")
        c.call("ping")
        assert c.call("config", "resetstat") == b"+OK\r\n"
        assert info(c, "errorstats")["Errorstats"] == []
        # only what ran since: RESETSTAT itself and the INFO above
        assert set(names(info(c, "commandstats")["Commandstats"])) == {
            "cmdstat_config|resetstat", "cmdstat_info"}
        mem = dict(info(c, "memory")["Memory"])
        assert int(mem["used_memory_peak"]) >= int(mem["used_memory"]) > 0
        c.close()


# --- TIME, LASTSAVE ---------------------------------------------------------------------

def test_time_and_lastsave(diff, raw):
    diff.call("time", "x")
    diff.call("lastsave", "x")
    reply = raw.call("time")
    m = re.fullmatch(rb"\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n", reply)
    assert m, reply
    secs, usecs = int(m.group(1)), int(m.group(2))
    assert 0 <= usecs < 1000000
    assert abs(secs - time.time()) < 60
    last = raw.call("lastsave")
    assert re.fullmatch(rb":\d+\r\n", last)
    assert int(last[1:-2]) <= secs


def test_server_commands_docs_match_redis(diff):
    for name in ("info", "time", "lastsave", "shutdown", "debug"):
        diff.call("command", "info", name)
        diff.call("command", "docs", name)


# --- SHUTDOWN --------------------------------------------------------------------------

def test_shutdown_argument_errors(diff):
    for cmd in (("shutdown", "foo"), ("shutdown", "abort"), ("shutdown", "nosave", "save"),
                ("shutdown", "abort", "now"), ("shutdown", "abort", "abort"),
                ("shutdown", "save", "nosave", "now"), ("shutdown", "now", "bogus"),
                ("ping",)):
        diff.call(*cmd)


def test_shutdown_closes_everything_and_exits_0():
    with start_kvserver() as (proc, port):
        a, b = RawConn(port), RawConn(port)
        assert b.call("ping") == b"+PONG\r\n"
        a.send(encode_command("shutdown") + encode_command("ping"))
        assert a.closed_by_peer(10)
        assert a.buf == b""             # no reply, not even to the PING after it
        assert b.closed_by_peer(10)
        assert proc.wait(10) == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


@pytest.mark.parametrize("args", [("nosave",), ("now", "force"), ("NOSAVE", "NOW")])
def test_shutdown_flags_exit_0(args):
    with start_kvserver() as (proc, port):
        a = RawConn(port)
        a.send(encode_command("shutdown", *args))
        assert a.closed_by_peer(10)
        assert proc.wait(10) == 0


def test_shutdown_save_needs_persistence():
    with start_kvserver() as (proc, port):
        a = RawConn(port)
        a.send(encode_command("shutdown", "save"))
        if not a.closed_by_peer(1):
            # no persistence layer to save with: Redis's failed-save answer,
            # and the server stays up
            assert a.read_reply() == b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
            assert a.call("ping") == b"+PONG\r\n"
            a.send(encode_command("shutdown", "save", "force"))
            assert a.closed_by_peer(10)
        assert proc.wait(10) == 0


def test_sigterm_exits_0():
    with start_kvserver() as (proc, port):
        a = RawConn(port)
        assert a.call("ping") == b"+PONG\r\n"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert a.closed_by_peer(10)


# --- DEBUG ------------------------------------------------------------------------------

def test_debug_help_and_errors(diff):
    for cmd in (("debug",), ("debug", "help"), ("DEBUG", "HELP"), ("debug", "help", "x"),
                ("debug", "nosuch"), ("debug", "nosuch", "x", "y"), ("debug", "OBJECT"),
                ("debug", "object"), ("debug", "object", "a", "b"), ("debug", "object", "nokey"),
                ("debug", "digest", "x"), ("debug", "sleep"), ("debug", "sleep", "0", "1"),
                ("debug", "set-active-expire"), ("debug", "protocol"),
                ("debug", "protocol", "a", "b"), ("debug", "protocol", "foo"),
                ("debug", "populate"), ("debug", "populate", "-1"),
                ("debug", "populate", "abc"), ("debug", "populate", "1", "p", "-1"),
                ("debug", "populate", "1", "p", "x"), ("debug", "populate", "1", "p", "1", "x"),
                ("debug", "error"), ("debug", "log"), ("debug", "leak"),
                ("debug", "change-repl-id", "x"), ("debug", "stringmatch-len")):
        diff.call(*cmd)


PROTOCOL_TYPES = ("string", "integer", "double", "bignum", "null", "array", "set", "map",
                  "attrib", "verbatim", "true", "false", "push", "STRING")


@pytest.mark.parametrize("proto", [2, 3])
def test_debug_protocol_bytes(diff, proto):
    diff.kv.call("hello", str(proto))
    diff.real.call("hello", str(proto))
    for name in PROTOCOL_TYPES:
        diff.call("debug", "protocol", name)
        if name == "push" and proto == 3:
            # a push, then the real reply that follows it
            a, b = diff.kv.read_reply(), diff.real.read_reply()
            assert a == b == b"$40\r\nSome real reply following the push reply\r\n"


def test_debug_error_and_log(diff, raw):
    before = info(raw, "errorstats")["Errorstats"]
    diff.call("debug", "error", "MYERR something bad")
    diff.call("debug", "error", "with\r\nnewlines")
    diff.call("debug", "log", "a line for the log")
    diff.call("debug", "leak", "some bytes")
    assert info(raw, "errorstats")["Errorstats"] == before


DATASET = [
    ("set", "s1", "hello"), ("set", "s2", "12345"), ("set", "s3", "-7"),
    ("set", "s4", "x" * 100), ("set", "vol", "v", "ex", "1000"),
    ("set", "vol2", "v", "px", "99999999"), ("set", "", "empty key"),
    ("set", "bin", "\x00\xff\r\n"), ("incr", "counter"), ("incrby", "counter", "41"),
    ("append", "app", "abc"), ("append", "app", "def"),
    ("select", "1"), ("set", "s1", "hello"), ("set", "other", "db1"),
    ("select", "9"), ("set", "vol", "v", "ex", "50"), ("select", "0"),
]


def test_debug_digest_like_redis(diff):
    diff.call("debug", "digest")                   # empty: forty zeros
    for cmd in DATASET:
        diff.call(*cmd)
    diff.call("debug", "digest")
    diff.call("debug", "digest-value", "s1", "s2", "s3", "s4", "vol", "counter", "app",
              "", "bin", "nokey")
    diff.call("debug", "digest-value")
    diff.call("persist", "vol")
    diff.call("debug", "digest")
    diff.call("expire", "s1", "100")
    diff.call("debug", "digest")
    diff.call("select", "9")
    diff.call("debug", "digest-value", "vol")
    diff.call("select", "0")


def test_debug_digest_aggregates_like_redis(diff):
    for cmd in (("hset", "h", "f", "v", "g", "7"), ("sadd", "s", "a", "b", "3"),
                ("sadd", "si", "1", "2", "300"), ("rpush", "l", "a", "b", "1")):
        diff.call(*cmd)
        diff.call("debug", "digest-value", cmd[1])
    diff.call("debug", "digest")


def test_debug_digest_ttl_value_is_not_part_of_it(diff, raw):
    diff.call("set", "k", "v", "ex", "100")
    d1 = raw.call("debug", "digest")
    diff.call("set", "k", "v", "ex", "5000")
    assert raw.call("debug", "digest") == d1
    diff.call("debug", "digest")


def test_debug_populate_like_redis(diff):
    for cmd in (("debug", "populate", "0"), ("debug", "populate", "5"),
                ("set", "key:7", "kept"), ("debug", "populate", "10"), ("get", "key:7"),
                ("get", "key:9"), ("debug", "populate", "3", "pfx"), ("get", "pfx:2"),
                ("debug", "populate", "3", "short", "3"), ("get", "short:1"),
                ("debug", "populate", "3", "long", "12"), ("get", "long:2"),
                ("debug", "populate", "2", "zero", "0"), ("get", "zero:1"),
                ("debug", "populate", "2", ""), ("get", ":1"),
                ("debug", "populate", "1", "p" * 200), ("dbsize",), ("debug", "digest")):
        diff.call(*cmd)


def _masked_object(reply: bytes) -> bytes:
    return re.sub(rb"at:0x[0-9a-f]+ (.*) lru:\d+ ", rb"at:ADDR \1 lru:LRU ", reply)


def test_debug_object_like_redis(raw, raw_real, diff):
    values = ["bar", "12345", "-1", "100000", "2147483648", "9223372036854775807",
              "9223372036854775808", "007", "abcdefghijklmnopqrstuvwxyz01234567890ABCDEFGH",
              "abcdefghijklmnopqrstuvwxyz01234567890ABCDEFGHIJKLMNOPQR", "", " 1"]
    for i, v in enumerate(values):
        diff.call("set", f"k{i}", v)
        a = raw.call("debug", "object", f"k{i}")
        b = raw_real.call("debug", "object", f"k{i}")
        assert re.fullmatch(rb"\+Value at:0x[0-9a-f]+ refcount:\d+ encoding:\w+ "
                            rb"serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+\r\n", a)
        # refcount: Redis shares small integers; everything else must agree
        a, b = _masked_object(a), _masked_object(b)
        a = re.sub(rb"refcount:\d+", b"refcount:N", a)
        b = re.sub(rb"refcount:\d+", b"refcount:N", b)
        assert a == b, v


def test_debug_object_aggregates_like_redis(raw, raw_real, diff):
    # small enough that Redis's RDB sizes involve no LZF compression
    for cmd in (("rpush", "l", "a", "b", "c", "1", "2", "-3000", "70000"),
                ("hset", "h", "a", "1", "b", "2"), ("sadd", "s", "1", "2", "3"),
                ("sadd", "s3", "1", "2", "100000"), ("sadd", "s4", "-40000", "5000000000"),
                ("sadd", "s2", "a", "b")):
        diff.call(*cmd)
        a = _masked_object(raw.call("debug", "object", cmd[1]))
        b = _masked_object(raw_real.call("debug", "object", cmd[1]))
        assert a == b, cmd


def test_debug_sleep_blocks(raw):
    t0 = _server_time(raw)
    raw.send(encode_command("debug", "sleep", "0.3") + encode_command("time"))
    assert raw.read_reply() == b"+OK\r\n"
    assert _time_of(raw.read_reply()) - t0 >= 0.3
    assert raw.call("debug", "sleep", "0") == b"+OK\r\n"
    assert raw.call("debug", "sleep", "-1") == b"+OK\r\n"
    assert raw.call("debug", "sleep", "nonsense") == b"+OK\r\n"


def _time_of(reply: bytes) -> float:
    m = re.fullmatch(rb"\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n", reply)
    return int(m.group(1)) + int(m.group(2)) / 1e6


def _server_time(conn) -> float:
    return _time_of(conn.call("time"))


def test_debug_set_active_expire(diff, raw, raw_real):
    try:
        for conn in (raw, raw_real):
            assert conn.call("debug", "set-active-expire", "0") == b"+OK\r\n"
            conn.call("set", "gone", "v", "px", "1")
        time.sleep(0.5)
        # nothing touched the key and nothing expired it in the background
        for conn in (raw, raw_real):
            assert dict(info(conn, "keyspace")["Keyspace"])["db0"].startswith("keys=1,")
        diff.call("get", "gone")
        diff.call("dbsize")
    finally:
        for conn in (raw, raw_real):
            conn.call("debug", "set-active-expire", "1")


def test_debug_change_repl_id(raw):
    before = field(raw, "replication", "master_replid")
    assert raw.call("debug", "change-repl-id") == b"+OK\r\n"
    after = field(raw, "replication", "master_replid")
    assert after != before and re.fullmatch(r"[0-9a-f]{40}", after)


# --- DEBUG is protected ----------------------------------------------------------------------

def test_debug_not_allowed_by_default():
    with start_kvserver() as (_, kv), start_redis("--enable-debug-command", "no") as (_, rd):
        a, b = RawConn(kv), RawConn(rd)
        for cmd in (("debug", "help"), ("debug",), ("debug", "nosuch"), ("DEBUG", "sleep", "0"),
                    ("ping",)):
            assert a.call(*cmd) == b.call(*cmd)
        assert a.call("info", "errorstats") == b.call("info", "errorstats")
        a.close()
        b.close()


def _non_loopback_ipv4():
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))      # no packet is sent
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") else ip


def test_debug_local(tmp_path):
    path = str(tmp_path / "kv.sock")
    with start_kvserver("--enable-debug-command", "local", "--unixsocket", path,
                        "--protected-mode", "no") as (_, port):
        assert RawConn(port).call("debug", "sleep", "0") == b"+OK\r\n"
        s = socket.socket(socket.AF_UNIX)
        for _ in range(100):
            try:
                s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.05)
        s.sendall(encode_command("debug", "sleep", "0"))
        assert s.recv(100) == b"+OK\r\n"
        s.close()
        ip = _non_loopback_ipv4()
        if ip is None:
            pytest.skip("no non-loopback IPv4 address to connect from")
        remote = RawConn(port, host=ip)
        assert remote.call("debug", "sleep", "0").startswith(
            b"-ERR DEBUG command not allowed. If the enable-debug-command option is "
            b'set to "local", you can run it from a local connection')
        assert remote.call("ping") == b"+PONG\r\n"
