"""Connection commands: PING, ECHO, SELECT, QUIT, HELLO, AUTH, RESET, CLIENT.

Most cases run the same bytes against kvserver and redis-server 7.0 and
compare the replies byte for byte; where a reply holds values that differ
by nature (client ids, addresses, ages), those are masked first and the
rest is still compared exactly.
"""

import re
import socket
import time

import pytest
import redis

from conftest import RawConn, encode_command, start_kvserver, start_redis


def mask_id(reply: bytes) -> bytes:
    """HELLO's id field differs between servers; everything else must not."""
    return re.sub(rb"\$2\r\nid\r\n:\d+\r\n", b"$2\r\nid\r\n:ID\r\n", reply)


class PairDiffer:
    """Two RawConns (kvserver, redis) compared reply by reply, HELLO ids masked."""

    def __init__(self, kv_port, real_port):
        self.kv = RawConn(kv_port)
        self.real = RawConn(real_port)

    def call(self, *args) -> bytes:
        a = mask_id(self.kv.call(*args))
        b = mask_id(self.real.call(*args))
        assert a == b, f"{args!r}: kvserver {a!r} != redis {b!r}"
        return a

    def pipeline(self, *commands, replies: int) -> list:
        data = b"".join(encode_command(*cmd) for cmd in commands)
        self.kv.send(data)
        self.real.send(data)
        out = []
        for _ in range(replies):
            a, b = self.kv.read_reply(), self.real.read_reply()
            assert a == b, f"{commands!r}: kvserver {a!r} != redis {b!r}"
            out.append(a)
        return out

    def close(self):
        self.kv.close()
        self.real.close()


@pytest.fixture
def pair(r, real, kv_port, real_port):
    p = PairDiffer(kv_port, real_port)
    yield p
    p.close()


def client_fields(line: bytes) -> list:
    return [kv.split(b"=", 1)[0] for kv in line.split()]


def client_line(conn: RawConn, cid: int) -> dict:
    reply = conn.call("client", "list", "id", str(cid))
    line = reply.split(b"\r\n", 1)[1].rstrip(b"\r\n").split(b"\n")[0]
    return dict(kv.split(b"=", 1) for kv in line.split())


def client_id(conn: RawConn) -> int:
    return int(conn.call("client", "id")[1:-2])


# --- PING, ECHO, SELECT, QUIT --------------------------------------------------

def test_ping_echo_select(diff):
    for cmd in (("ping",), ("ping", "hello"), ("PING", ""), ("ping", "a", "b"),
                ("echo", "x y"), ("echo",), ("echo", "a", "b"),
                ("select", "0"), ("select", "15"), ("select", "16"), ("select", "-1"),
                ("select", "abc"), ("select", "1.5"), ("select", "99999999999"),
                ("select", "0"), ("select",)):
        diff.call(*cmd)


def test_quit_closes_after_reply(kv_port, real_port, r):
    for port in (kv_port, real_port):
        c = RawConn(port)
        c.send(encode_command("quit") + encode_command("ping"))
        assert c.read_reply() == b"+OK\r\n"
        assert c.closed_by_peer()
        assert c.buf == b""
        c.close()


# --- HELLO -------------------------------------------------------------------------

def test_hello_replies(pair):
    for cmd in (("hello",), ("hello", "2"), ("hello", "3"), ("hello",), ("hello", "2"),
                ("hello", "4"), ("hello", "1"), ("hello", "0"), ("hello", "-3"),
                ("hello", "abc"), ("hello", "3.0"), ("hello", "3", "foo"),
                ("hello", "3", "setname"), ("hello", "3", "auth"),
                ("hello", "3", "auth", "default"),
                ("hello", "3", "auth", "default", "anything"),
                ("hello", "3", "AUTH", "nobody", "x"),
                ("hello", "3", "setname", "a b"), ("hello", "3", "setname", "a\nb"),
                ("hello", "2", "setname", "conn-1"), ("client", "getname"),
                ("hello", "3", "SETNAME", "x", "foo"), ("client", "getname"),
                ("hello", "2", "setname", ""), ("client", "getname")):
        pair.call(*cmd)


def test_hello_switches_protocol(pair):
    pair.call("hello", "3")
    pair.call("client", "getname")          # RESP3 null
    pair.call("hello", "4")                 # a failed HELLO keeps RESP3
    pair.call("client", "getname")
    pair.call("hello", "2")
    pair.call("client", "getname")


def test_hello_reports_own_id(r, kv_port):
    c = RawConn(kv_port)
    cid = client_id(c)
    reply = c.call("hello", "3")
    assert b"$2\r\nid\r\n:%d\r\n" % cid in reply
    assert reply.startswith(b"%7\r\n")
    c.close()


# --- AUTH and HELLO with requirepass --------------------------------------------------

@pytest.fixture(scope="module")
def protected_pair():
    with start_kvserver("--requirepass", "secret") as (_, kv), \
            start_redis("--requirepass", "secret") as (_, rd):
        yield kv, rd


@pytest.fixture
def ppair(protected_pair):
    p = PairDiffer(*protected_pair)
    yield p
    p.close()


def test_auth_without_requirepass(diff):
    for cmd in (("auth",), ("auth", "x"), ("auth", "default", "x"), ("auth", "nobody", "x"),
                ("auth", "a", "b", "c"), ("ping",)):
        diff.call(*cmd)


def test_requirepass_gates_commands(ppair):
    for cmd in (("ping",), ("get", "k"), ("client", "id"), ("nosuchcommand",),
                ("hello",), ("hello", "3"), ("hello", "2", "setname", "x"),
                ("auth",), ("auth", "wrong"), ("auth", "bob", "secret"),
                ("auth", "default", "wrong"), ("auth", "a", "b", "c"),
                ("hello", "3", "auth", "default", "wrong"),
                ("hello", "3", "auth", "default"),
                ("ping",), ("auth", "secret"), ("ping",), ("auth", "wrong"),
                ("ping",), ("auth", "default", "secret"), ("client", "getname")):
        ppair.call(*cmd)


def test_hello_auth_order(ppair):
    # 7.0 acts on AUTH and SETNAME as it meets them, before later errors
    for cmd in (("hello", "3", "setname", "early"), ("auth", "secret"),
                ("client", "getname"), ("reset",),
                ("hello", "3", "auth", "default", "secret", "foo"), ("client", "getname"),
                ("reset",),
                ("hello", "3", "auth", "default", "secret", "setname", "x",
                 "auth", "default", "wrong"),
                ("client", "getname"), ("reset",),
                ("hello", "3", "setname", "bad name", "auth", "default", "secret"),
                ("client", "getname"),
                ("hello", "3", "auth", "default", "secret", "setname", "bad name"),
                ("client", "getname"),
                ("hello", "2", "auth", "default", "secret", "auth", "default", "secret"),
                ("reset",), ("ping",)):
        ppair.call(*cmd)


def test_reset_logs_out_with_requirepass(ppair):
    for cmd in (("auth", "secret"), ("select", "3"), ("set", "k", "v"),
                ("client", "setname", "n"), ("hello", "3"), ("reset",), ("get", "k"),
                ("auth", "secret"), ("get", "k"), ("client", "getname"),
                ("select", "3"), ("del", "k")):
        ppair.call(*cmd)


def test_redis_py_with_password(protected_pair):
    kv, _ = protected_pair
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=kv, password="wrong", protocol=3).ping()
    c = redis.Redis(port=kv, password="secret", protocol=3)
    assert c.ping()
    assert c.client_info()["resp"] == "3"
    c.close()
    c = redis.Redis(port=kv, password="secret", protocol=2)
    assert c.ping()
    c.close()


# --- RESET --------------------------------------------------------------------------

def test_reset(pair):
    for cmd in (("select", "4"), ("set", "k", "v"), ("client", "setname", "me"),
                ("hello", "3"), ("client", "getname"), ("reset",), ("reset",),
                ("client", "getname"), ("get", "k"), ("hello",), ("select", "4"),
                ("get", "k"), ("del", "k"), ("reset", "x")):
        pair.call(*cmd)


def test_reset_turns_replies_back_on(pair):
    pair.pipeline(("client", "reply", "off"), ("ping",), ("reset",), ("ping",), replies=2)


def test_reset_clears_no_evict_not(r, kv_port):
    # RESET leaves CLIENT NO-EVICT alone, as Redis's does
    c = RawConn(kv_port)
    c.call("client", "no-evict", "on")
    assert c.call("reset") == b"+RESET\r\n"
    assert b"flags=e " in c.call("client", "info")
    c.close()


# --- CLIENT --------------------------------------------------------------------------

def test_client_errors(diff):
    for cmd in (("client",), ("client", "foo"), ("client", "help", "x"),
                ("client", "setinfo", "lib-name", "x"), ("client", "id", "x"),
                ("client", "setname"), ("client", "setname", "a", "b"),
                ("client", "setname", "a b"), ("client", "setname", "a\x01"),
                ("client", "setname", "caf\xe9"), ("client", "getname", "x"),
                ("client", "list", "type"), ("client", "list", "type", "foo"),
                ("client", "list", "foo"), ("client", "list", "id"),
                ("client", "list", "id", "abc"), ("client", "list", "id", "1", "type", "normal"),
                ("client", "list", "type", "normal", "id", "1"),
                ("client", "list", "id", "999999"), ("client", "list", "id", "-1", "0"),
                ("client", "list", "type", "master"), ("client", "list", "type", "replica"),
                ("client", "list", "type", "SLAVE"), ("client", "list", "type", "pubsub"),
                ("client", "kill"), ("client", "kill", "1.2.3.4:5"),
                ("client", "kill", "nonexist"), ("client", "kill", "id"),
                ("client", "kill", "id", "abc"), ("client", "kill", "id", "0"),
                ("client", "kill", "id", "-5"), ("client", "kill", "id", "999999"),
                ("client", "kill", "id", "1", "id"), ("client", "kill", "type", "foo"),
                ("client", "kill", "type", "master"), ("client", "kill", "type", "slave"),
                ("client", "kill", "type", "pubsub"), ("client", "kill", "user", "nobody"),
                ("client", "kill", "addr", "1.2.3.4:5"), ("client", "kill", "laddr", "1.2.3.4:5"),
                ("client", "kill", "skipme", "maybe"), ("client", "kill", "skipme", "yes"),
                ("client", "kill", "foo", "bar"), ("client", "kill", "maxage", "1"),
                ("client", "reply"), ("client", "reply", "foo"), ("client", "reply", "on", "x"),
                ("client", "no-evict"), ("client", "no-evict", "maybe"),
                ("client", "no-evict", "on"), ("client", "no-evict", "OFF"),
                ("client", "caching", "yes"), ("client", "caching", "maybe"),
                ("client", "caching"), ("client", "getredir"), ("client", "trackinginfo"),
                ("client", "getredir", "x")):
        diff.call(*cmd)


def test_client_help(diff):
    diff.call("client", "help")
    diff.call("CLIENT", "HELP")


def test_client_setname_getname(diff):
    for cmd in (("client", "getname"), ("client", "setname", "conn-1"),
                ("client", "getname"), ("client", "setname", "!~"), ("client", "getname"),
                ("client", "setname", ""), ("client", "getname")):
        diff.call(*cmd)


def test_client_id_is_hello_id(r, kv_port):
    c = RawConn(kv_port)
    cid = client_id(c)
    assert client_line(c, cid)[b"id"] == b"%d" % cid
    c.close()


def test_client_list_fields_match_redis(raw, raw_real):
    kv = raw.call("client", "list").split(b"\r\n", 1)[1].split(b"\n")[0]
    rd = raw_real.call("client", "list").split(b"\r\n", 1)[1].split(b"\n")[0]
    assert client_fields(kv) == client_fields(rd)
    kv = raw.call("client", "info").split(b"\r\n", 1)[1].split(b"\n")[0]
    rd = raw_real.call("client", "info").split(b"\r\n", 1)[1].split(b"\n")[0]
    assert client_fields(kv) == client_fields(rd)


def _masked_info(line: bytes) -> bytes:
    # the fields whose values differ by nature between the two servers
    return re.sub(rb"\b(id|addr|laddr|fd|age|idle|qbuf|qbuf-free|rbs|rbp|tot-mem)=\S*",
                  rb"\1=*", line)


def test_client_info_values(pair):
    for cmd in (("client", "info"), ("client", "setname", "me"), ("select", "2"),
                ("client", "no-evict", "on"), ("client", "info"), ("hello", "3"),
                ("client", "info"), ("client", "no-evict", "off"), ("client", "reply", "on"),
                ("client", "info")):
        a, b = pair.kv.call(*cmd), pair.real.call(*cmd)
        if cmd == ("client", "info"):
            # drop the length header: it counts the masked values
            a = _masked_info(a.split(b"\r\n", 1)[1])
            b = _masked_info(b.split(b"\r\n", 1)[1])
        else:
            a, b = mask_id(a), mask_id(b)
        assert a == b, cmd


def test_client_list_sees_other_clients(r, kv_port):
    a, b = RawConn(kv_port), RawConn(kv_port)
    aid, bid = client_id(a), client_id(b)
    b.call("client", "setname", "second")
    b.call("select", "5")
    b.call("ping")
    line = client_line(a, bid)
    assert line[b"name"] == b"second"
    assert line[b"db"] == b"5"
    assert line[b"cmd"] == b"ping"
    assert line[b"flags"] == b"N"
    assert line[b"multi"] == b"-1"
    assert line[b"resp"] == b"2"
    assert client_line(a, aid)[b"cmd"] == b"client|list"
    listing = a.call("client", "list", "type", "normal")
    assert b"id=%d " % aid in listing and b"id=%d " % bid in listing
    assert a.call("client", "list", "type", "pubsub").endswith(b"$0\r\n\r\n")
    both = a.call("client", "list", "id", str(bid), "999999", str(aid))
    lines = both.split(b"\r\n", 1)[1].rstrip(b"\r\n").split(b"\n")
    assert [dict(kv.split(b"=", 1) for kv in l.split())[b"id"] for l in lines if l] == \
        [b"%d" % bid, b"%d" % aid]
    a.close()
    b.close()


def test_client_list_unix_socket(tmp_path):
    path = str(tmp_path / "kv.sock")
    with start_kvserver("--unixsocket", path) as (_, port):
        s = socket.socket(socket.AF_UNIX)
        # the TCP port the fixture waited for opens before the unix socket
        for _ in range(100):
            try:
                s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.05)
        s.sendall(encode_command("client", "info"))
        data = b""
        while not data.endswith(b"\n\r\n"):
            data += s.recv(65536)
        s.close()
        fields = dict(kv.split(b"=", 1) for kv in data.split(b"\r\n", 1)[1].split())
        assert fields[b"flags"] == b"U"
        assert fields[b"addr"] == path.encode() + b":0"
        assert fields[b"laddr"] == path.encode() + b":0"


def _connected(port) -> RawConn:
    """A connection the server has surely accepted (a kill must not race it)."""
    c = RawConn(port)
    assert c.call("ping") == b"+PONG\r\n"
    return c


def _kill_flow(port):
    """CLIENT KILL in its forms; the replies and who got disconnected.
    Runs on a server of its own, so that no other connection is counted."""
    out = []
    a, b = _connected(port), _connected(port)
    b_addr = client_line(a, client_id(b))[b"addr"]
    out.append(a.call("client", "kill", b_addr))
    out.append(b.closed_by_peer())
    b = _connected(port)
    bid = client_id(b)
    out.append(a.call("client", "kill", "id", str(bid), "skipme", "yes"))
    out.append(b.closed_by_peer())
    b = _connected(port)
    out.append(a.call("client", "kill", "type", "normal"))      # skips the caller
    out.append(b.closed_by_peer())
    aid = client_id(a)
    out.append(a.call("client", "kill", "id", str(aid)))        # SKIPME yes by default
    out.append(a.call("client", "kill", "user", "default"))
    out.append(a.call("client", "kill", "skipme", "yes"))
    b = _connected(port)
    out.append(a.call("client", "kill", "laddr", client_line(a, aid)[b"laddr"],
                      "skipme", "no"))                          # both, caller last
    out.append(a.closed_by_peer())
    out.append(b.closed_by_peer())
    a = _connected(port)
    me = client_line(a, client_id(a))[b"addr"]
    out.append(a.call("client", "kill", me))                    # the old form kills itself
    out.append(a.closed_by_peer())
    return out


def test_client_kill():
    with start_kvserver() as (_, kv), start_redis() as (_, rd):
        assert _kill_flow(kv) == _kill_flow(rd)


def test_client_kill_addr_filter(r, kv_port):
    a, b, c = RawConn(kv_port), RawConn(kv_port), RawConn(kv_port)
    b_addr = client_line(a, client_id(b))[b"addr"]
    assert a.call("client", "kill", "addr", b_addr, "type", "pubsub") == b":0\r\n"
    assert a.call("client", "kill", "addr", b_addr, "type", "normal") == b":1\r\n"
    assert b.closed_by_peer()
    assert c.call("ping") == b"+PONG\r\n"
    for x in (a, b, c):
        x.close()


def test_client_reply_off_skip_on(pair):
    pair.pipeline(("client", "reply", "off"), ("ping",), ("get", "x"), ("nosuch",),
                  ("client", "reply", "skip"), ("client", "reply", "on"), ("echo", "a"),
                  replies=2)
    pair.pipeline(("client", "reply", "skip"), ("echo", "b"), ("echo", "c"), replies=1)
    pair.pipeline(("client", "reply", "skip"), ("client", "reply", "skip"), ("echo", "d"),
                  ("echo", "e"), replies=1)
    pair.pipeline(("client", "reply", "skip"), ("nosuch",), ("ping",), replies=1)
    pair.pipeline(("ping",), ("client", "reply", "off"), ("echo", "lost"),
                  ("client", "reply", "on"), replies=2)
    pair.call("echo", "after")


def test_client_reply_skip_across_reads(pair):
    # the skip holds for the next command even when it comes in a later read
    pair.pipeline(("client", "reply", "skip"), replies=0)
    time.sleep(0.05)
    pair.pipeline(("ping",), ("echo", "x"), replies=1)
    pair.call("ping")


def test_client_reply_off_keeps_earlier_replies(r, kv_port):
    c = RawConn(kv_port)
    c.send(encode_command("echo", "kept") + encode_command("client", "reply", "off")
           + encode_command("echo", "dropped"))
    assert c.read_reply() == b"$4\r\nkept\r\n"
    c.send(encode_command("client", "reply", "on"))
    assert c.read_reply() == b"+OK\r\n"
    c.close()


def test_client_no_evict_flag(r, kv_port):
    c = RawConn(kv_port)
    assert c.call("client", "no-evict", "on") == b"+OK\r\n"
    assert b" flags=e " in c.call("client", "info")
    assert c.call("client", "no-evict", "off") == b"+OK\r\n"
    assert b" flags=N " in c.call("client", "info")
    c.close()


def test_client_commands_docs_match_redis(diff):
    for name in ("hello", "auth", "reset", "ping", "echo", "quit", "select"):
        diff.call("command", "info", name)
        diff.call("command", "docs", name)
    for sub in ("help", "id", "setname", "getname", "reply", "no-evict", "getredir",
                "trackinginfo", "caching", "info", "list", "kill"):
        diff.call("command", "info", "client|" + sub)
        diff.call("command", "docs", "client|" + sub)
