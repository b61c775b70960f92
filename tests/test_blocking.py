"""Blocking commands with several clients, kvserver beside redis-server 7.0.

Each scenario is a function of a port: it opens raw connections, sends
blocking commands without reading, waits until the server reports the
client as blocked (INFO blocked_clients: an event, not a timing), acts
from another connection, then reads what every client received.  It runs
on the real server and on kvserver and the two transcripts must be equal
byte for byte; each scenario also asserts the replies it expects, so a
wrong behaviour shared by both would still fail.

Covered: FIFO service per key, several keys, fractional timeouts and 0 as
forever, replies and null forms (RESP2 and RESP3), pushes inside
MULTI/EXEC and pipelines waking waiters only after the command, BLMOVE /
BRPOPLPUSH chains and a wrong-type destination, CLIENT UNBLOCK TIMEOUT and
ERROR, disconnects and CLIENT KILL while blocked, a blocked client's
pipeline running only once it is served, and keys deleted or changing type
while clients wait (they keep waiting, as in 7.0).
"""

import time

import pytest

from conftest import RawConn, encode_command

NULL_ARRAY = b"*-1\r\n"


class Conn(RawConn):
    def send_cmd(self, *args):
        self.send(encode_command(*args))

    def info_field(self, name: str) -> bytes:
        text = self.call("info", "clients")
        for line in text.split(b"\r\n"):
            if line.startswith(name.encode() + b":"):
                return line.split(b":", 1)[1]
        raise AssertionError(f"no {name} in INFO: {text!r}")


class Scenario:
    """Connections on one server; closes them all at the end."""

    def __init__(self, port):
        self.port = port
        self.conns = []
        self.ctl = self.conn()
        self.ctl.call("flushall")

    def conn(self) -> Conn:
        c = Conn(self.port)
        self.conns.append(c)
        return c

    def blocked(self) -> int:
        return int(self.ctl.info_field("blocked_clients"))

    def wait_blocked(self, n: int):
        """Wait for the server to have exactly n blocked clients (an event
        the test needs before acting; the deadline only bounds a hang)."""
        deadline = time.monotonic() + 20
        while self.blocked() != n:
            if time.monotonic() > deadline:
                raise AssertionError(f"never reached {n} blocked clients")
            time.sleep(0.005)

    def block(self, conn, *args):
        n = self.blocked()
        conn.send_cmd(*args)
        self.wait_blocked(n + 1)

    def close(self):
        for c in self.conns:
            c.close()


def run_both(kv_port, real_port, scenario, **kw):
    """Run `scenario(Scenario) -> transcript` on both servers; compare."""
    out = []
    for port in (real_port, kv_port):
        s = Scenario(port)
        try:
            out.append(scenario(s, **kw))
        finally:
            s.close()
            wait_unblocked(port)
    real, kv = out
    assert kv == real, f"kvserver {kv!r}\n!= redis {real!r}"
    return kv


def wait_unblocked(port):
    """Closing the connections frees their blocked state: wait for it so
    the next test starts clean."""
    c = Conn(port)
    try:
        deadline = time.monotonic() + 20
        while c.info_field("blocked_clients") != b"0":
            if time.monotonic() > deadline:
                raise AssertionError("clients still blocked after close")
            time.sleep(0.005)
    finally:
        c.close()


def has_command(port, name) -> bool:
    c = Conn(port)
    try:
        return not c.call(name).startswith(b"-ERR unknown command")
    finally:
        c.close()


@pytest.fixture
def both(kv_port, real_port):
    def go(scenario, **kw):
        return run_both(kv_port, real_port, scenario, **kw)
    return go


@pytest.fixture
def with_multi(kv_port, both):
    if not has_command(kv_port, "multi"):
        pytest.skip("kvserver has no MULTI yet")
    return both


# ---------------------------------------------------------------------------
# Service order and replies
# ---------------------------------------------------------------------------

def fifo(s):
    cs = [s.conn() for _ in range(3)]
    for c in cs:
        s.block(c, "blpop", "k", "0")
    push = s.ctl.call("rpush", "k", "a", "b", "c", "d")
    got = [c.read_reply() for c in cs]
    assert got == [b"*2\r\n$1\r\nk\r\n$1\r\na\r\n", b"*2\r\n$1\r\nk\r\n$1\r\nb\r\n",
                   b"*2\r\n$1\r\nk\r\n$1\r\nc\r\n"]
    assert s.blocked() == 0
    return [push, *got, s.ctl.call("lrange", "k", 0, -1)]


def test_fifo_per_key(both):
    both(fifo)


def several_keys(s):
    c1, c2, c3 = s.conn(), s.conn(), s.conn()
    s.block(c1, "blpop", "k1", "k2", "0")
    s.block(c2, "brpop", "k2", "0")
    s.block(c3, "blpop", "k3", "k3", "k2", "k3", "0")   # duplicates count once
    out = [s.ctl.call("rpush", "k2", "x", "y", "z")]
    out += [c1.read_reply(), c2.read_reply(), c3.read_reply()]
    assert out[1:] == [b"*2\r\n$2\r\nk2\r\n$1\r\nx\r\n", b"*2\r\n$2\r\nk2\r\n$1\r\nz\r\n",
                       b"*2\r\n$2\r\nk2\r\n$1\r\ny\r\n"]
    out.append(s.ctl.call("exists", "k2"))
    return out


def test_several_keys_and_directions(both):
    both(several_keys)


def lpush_head(s):
    c = s.conn()
    s.block(c, "blpop", "k", "0")
    out = [s.ctl.call("lpush", "k", "a", "b", "c"), c.read_reply(),
           s.ctl.call("lrange", "k", 0, -1)]
    assert out[1] == b"*2\r\n$1\r\nk\r\n$1\r\nc\r\n"
    return out


def test_lpush_serves_the_head(both):
    both(lpush_head)


def mixed_waiters(s):
    c1, c2, c3 = s.conn(), s.conn(), s.conn()
    s.block(c1, "brpop", "k", "0")
    s.block(c2, "blmpop", "0", "2", "other", "k", "left", "count", "2")
    s.block(c3, "blmpop", "0", "1", "k", "right", "count", "10")
    out = [s.ctl.call("rpush", "k", "1", "2", "3", "4", "5")]
    out += [c1.read_reply(), c2.read_reply(), c3.read_reply()]
    assert out[1] == b"*2\r\n$1\r\nk\r\n$1\r\n5\r\n"
    assert out[2] == b"*2\r\n$1\r\nk\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert out[3] == b"*2\r\n$1\r\nk\r\n*2\r\n$1\r\n4\r\n$1\r\n3\r\n"
    out.append(s.ctl.call("exists", "k"))
    return out


def test_brpop_and_blmpop_waiters(both):
    both(mixed_waiters)


def resp3_replies(s):
    c1, c2 = s.conn(), s.conn()
    for c in (c1, c2):
        assert c.call("hello", "3")[:1] == b"%"
    s.block(c1, "blpop", "k", "0")
    s.block(c2, "blmpop", "0", "1", "k", "left")
    out = [s.ctl.call("rpush", "k", "a", "b"), c1.read_reply(), c2.read_reply()]
    out += [c1.call("blpop", "k", "0.01"), c2.call("blmpop", "0.01", "1", "k", "left"),
            c1.call("blmove", "k", "d", "left", "left", "0.01"),
            c1.call("brpoplpush", "k", "d", "0.01")]
    assert out[3:] == [b"_\r\n"] * 4
    return out


def test_resp3_served_and_timed_out(both):
    both(resp3_replies)


# ---------------------------------------------------------------------------
# Timeouts
# ---------------------------------------------------------------------------

def timeouts(s):
    c = s.conn()
    out = [c.call("blpop", "k", "0.02"), c.call("brpop", "k", "j", ".01"),
           c.call("blmove", "k", "d", "left", "right", "0.001"),
           c.call("brpoplpush", "k", "d", "0.0009"),
           c.call("blmpop", "0.03", "2", "k", "j", "right", "count", "3"),
           c.call("blpop", "k", "1e-2"), c.call("blpop", "k", "0x1p-7")]
    assert out == [NULL_ARRAY] * 7
    assert s.blocked() == 0
    # data arriving after a timeout stays there
    out += [s.ctl.call("rpush", "k", "x"), s.ctl.call("llen", "k")]
    return out


def test_fractional_timeouts_give_null(both):
    both(timeouts)


def forever(s):
    c = s.conn()
    s.block(c, "blpop", "k", "0")
    # several cron periods pass: a zero timeout never fires
    time.sleep(0.35)
    assert s.blocked() == 1
    c2 = s.conn()
    s.block(c2, "blpop", "k", "-0.0001")     # ceil(-0.1 ms) = 0: forever too
    time.sleep(0.25)
    assert s.blocked() == 2
    out = [s.ctl.call("rpush", "k", "a", "b"), c.read_reply(), c2.read_reply()]
    return out


def test_zero_timeout_blocks_until_served(both):
    both(forever)


def timeout_then_other_served(s):
    c1, c2 = s.conn(), s.conn()
    s.block(c1, "blpop", "k", "0.05")
    s.block(c2, "blpop", "k", "0")
    out = [c1.read_reply()]
    assert out[0] == NULL_ARRAY
    assert s.blocked() == 1
    out += [s.ctl.call("rpush", "k", "v"), c2.read_reply()]
    return out


def test_timed_out_client_leaves_the_queue(both):
    both(timeout_then_other_served)


# ---------------------------------------------------------------------------
# Wake-up only after the whole command
# ---------------------------------------------------------------------------

def pusher_pipeline(s):
    c = s.conn()
    s.block(c, "blpop", "k", "0")
    # served right after RPUSH, before the pusher's next command runs
    s.ctl.send(encode_command("rpush", "k", "a", "b") + encode_command("llen", "k")
               + encode_command("lrange", "k", 0, -1))
    out = [s.ctl.read_reply() for _ in range(3)] + [c.read_reply()]
    assert out[:2] == [b":2\r\n", b":1\r\n"]
    return out


def test_served_between_the_pushers_pipelined_commands(both):
    both(pusher_pipeline)


def multi_exec(s):
    c1, c2 = s.conn(), s.conn()
    s.block(c1, "blpop", "k", "0")
    s.block(c2, "blpop", "k2", "k", "0")
    ctl = s.ctl
    out = [ctl.call("multi"), ctl.call("rpush", "k", "a", "b", "c"), ctl.call("lpop", "k"),
           ctl.call("rpush", "k2", "z"), ctl.call("exec"), c1.read_reply(), c2.read_reply()]
    # both waited while the transaction ran: 'a' was already gone; k was
    # made ready before k2, so c2 (waiting on both) is served from k
    assert out[5] == b"*2\r\n$1\r\nk\r\n$1\r\nb\r\n"
    assert out[6] == b"*2\r\n$1\r\nk\r\n$1\r\nc\r\n"
    out += [ctl.call("exists", "k"), ctl.call("lrange", "k2", 0, -1)]
    # a key created and deleted inside one transaction wakes nobody
    s.block(c1, "blpop", "k3", "0")
    out += [ctl.call("multi"), ctl.call("rpush", "k3", "x"), ctl.call("del", "k3"),
            ctl.call("exec")]
    assert s.blocked() == 1
    out += [ctl.call("rpush", "k3", "y"), c1.read_reply()]
    return out


def test_multi_exec_wakes_after_exec(with_multi):
    with_multi(multi_exec)


def multi_no_block(s):
    ctl = s.ctl
    ctl.call("set", "str", "v")
    out = [ctl.call("multi"), ctl.call("blpop", "none", "0"), ctl.call("brpop", "none", "0"),
           ctl.call("blmove", "none", "d", "left", "left", "0"),
           ctl.call("brpoplpush", "none", "d", "0"),
           ctl.call("blmpop", "0", "1", "none", "left"), ctl.call("blpop", "str", "0"),
           ctl.call("exec")]
    assert out[-1].startswith(b"*6\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n-WRONGTYPE")
    return out


def test_blocking_inside_multi_returns_null(with_multi):
    with_multi(multi_no_block)


# ---------------------------------------------------------------------------
# BLMOVE / BRPOPLPUSH chains
# ---------------------------------------------------------------------------

def blmove_chain(s):
    c1, c2, c3 = s.conn(), s.conn(), s.conn()
    s.block(c1, "blmove", "k1", "k2", "left", "left", "0")
    s.block(c2, "brpoplpush", "k2", "k3", "0")
    s.block(c3, "blpop", "k3", "0")
    out = [s.ctl.call("rpush", "k1", "x"), c1.read_reply(), c2.read_reply(), c3.read_reply()]
    assert out[1:] == [b"$1\r\nx\r\n", b"$1\r\nx\r\n", b"*2\r\n$2\r\nk3\r\n$1\r\nx\r\n"]
    out.append(s.ctl.call("exists", "k1", "k2", "k3"))
    assert out[-1] == b":0\r\n"
    return out


def test_blmove_chain(both):
    both(blmove_chain)


def rotation(s):
    c1, c2 = s.conn(), s.conn()
    s.block(c1, "brpoplpush", "k", "k", "0")
    s.block(c2, "blpop", "k", "0")
    out = [s.ctl.call("rpush", "k", "x"), c1.read_reply(), c2.read_reply(),
           s.ctl.call("exists", "k")]
    return out


def test_rotation_onto_itself_then_next_waiter(both):
    both(rotation)


def wrongtype_destination(s):
    c1, c2 = s.conn(), s.conn()
    s.ctl.call("set", "d", "str")
    s.block(c1, "blmove", "k", "d", "left", "left", "0")
    s.block(c2, "blpop", "k", "0")
    out = [s.ctl.call("rpush", "k", "x", "y"), c1.read_reply(), c2.read_reply(),
           s.ctl.call("lrange", "k", 0, -1)]
    assert out[1].startswith(b"-WRONGTYPE")
    assert out[2] == b"*2\r\n$1\r\nk\r\n$1\r\nx\r\n"
    out.append(c1.call("ping"))
    return out


def test_blmove_to_wrong_type_destination(both):
    both(wrongtype_destination)


def rpoplpush_wakes(s):
    c1 = s.conn()
    s.block(c1, "blpop", "dst", "0")
    out = [s.ctl.call("rpush", "src", "1", "2"), s.ctl.call("rpoplpush", "src", "dst"),
           c1.read_reply(), s.ctl.call("lmove", "src", "dst", "left", "right"),
           s.ctl.call("lrange", "dst", 0, -1)]
    assert out[2] == b"*2\r\n$3\r\ndst\r\n$1\r\n2\r\n"
    return out


def test_rpoplpush_into_a_waited_key(both):
    both(rpoplpush_wakes)


# ---------------------------------------------------------------------------
# CLIENT UNBLOCK, disconnects, CLIENT KILL
# ---------------------------------------------------------------------------

def client_unblock(s):
    c1, c2 = s.conn(), s.conn()
    id1 = c1.call("client", "id")[1:-2].decode()
    id2 = c2.call("client", "id")[1:-2].decode()
    out = [s.ctl.call("client", "unblock", id1)]
    s.block(c1, "blpop", "k", "0")
    out += [s.ctl.call("client", "unblock", id1, "timeout"), c1.read_reply()]
    s.block(c1, "blmove", "k", "d", "left", "left", "0")
    out += [s.ctl.call("client", "unblock", id1), c1.read_reply()]
    s.block(c2, "brpop", "k", "100")
    out += [s.ctl.call("client", "unblock", id2, "ERROR"), c2.read_reply(),
            s.ctl.call("client", "unblock", id2, "error")]
    assert c2.call("hello", "3")[:1] == b"%"
    s.block(c2, "blmpop", "0", "1", "k", "left")
    out += [s.ctl.call("client", "unblock", id2, "TIMEOUT"), c2.read_reply()]
    assert out == [b":0\r\n", b":1\r\n", NULL_ARRAY, b":1\r\n", NULL_ARRAY, b":1\r\n",
                   b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n", b":0\r\n",
                   b":1\r\n", b"_\r\n"]
    s.block(c1, "blpop", "k", "0")
    out += [s.ctl.call("client", "unblock", id1, "bogus"),
            s.ctl.call("client", "unblock", "nan"),
            s.ctl.call("client", "unblock", id1, "timeout", "x")]
    assert s.blocked() == 1
    # data after an unblock is not consumed by the unblocked clients
    out += [s.ctl.call("rpush", "k", "v", "w"), c1.read_reply(), s.ctl.call("llen", "k"),
            c1.call("ping"), c2.call("ping")]
    return out


def test_client_unblock(both):
    both(client_unblock)


def disconnect(s):
    c1, c2 = s.conn(), s.conn()
    s.block(c1, "blpop", "k", "0")
    s.block(c2, "blpop", "k", "0")
    c1.close()
    s.wait_blocked(1)
    out = [s.ctl.call("rpush", "k", "a", "b"), c2.read_reply(), s.ctl.call("lrange", "k", 0, -1)]
    assert out[1] == b"*2\r\n$1\r\nk\r\n$1\r\na\r\n"
    c3 = s.conn()
    cid = c3.call("client", "id")[1:-2].decode()
    s.block(c3, "blmove", "k2", "d", "left", "left", "10")
    out.append(s.ctl.call("client", "kill", "id", cid))
    s.wait_blocked(0)
    out += [s.ctl.call("rpush", "k2", "c"), s.ctl.call("lrange", "k2", 0, -1),
            s.ctl.call("exists", "d")]
    return out


def test_disconnect_and_kill_while_blocked(both):
    both(disconnect)


# ---------------------------------------------------------------------------
# The blocked client's own pipeline
# ---------------------------------------------------------------------------

def own_pipeline(s):
    c = s.conn()
    n = s.blocked()
    c.send(encode_command("blpop", "k", "0") + encode_command("ping")
           + encode_command("llen", "k") + encode_command("blpop", "k", "0")
           + encode_command("rpush", "k", "mine") + encode_command("lrange", "k", 0, -1))
    s.wait_blocked(n + 1)
    first = s.ctl.call("rpush", "k", "a", "b")
    # PING, LLEN and the second BLPOP ran after the first was served; the
    # second was served from 'b' at once; then RPUSH and LRANGE
    out = [first] + [c.read_reply() for _ in range(6)]
    assert out[1:] == [b"*2\r\n$1\r\nk\r\n$1\r\na\r\n", b"+PONG\r\n", b":1\r\n",
                       b"*2\r\n$1\r\nk\r\n$1\r\nb\r\n", b":1\r\n", b"*1\r\n$4\r\nmine\r\n"]
    # blocked again in the middle of a pipeline, then served
    c.send(encode_command("blpop", "q", "0") + encode_command("get", "after"))
    s.wait_blocked(n + 1)
    out += [s.ctl.call("set", "after", "1"), s.ctl.call("rpush", "q", "z"),
            c.read_reply(), c.read_reply()]
    assert out[-1] == b"$1\r\n1\r\n"
    return out


def test_pipeline_after_blocking_command_waits(both):
    both(own_pipeline)


# ---------------------------------------------------------------------------
# Keys deleted or changing type while clients wait
# ---------------------------------------------------------------------------

def type_change(s):
    c = s.conn()
    s.block(c, "blpop", "k", "0")
    out = [s.ctl.call("set", "k", "str"), s.ctl.call("rpush", "k", "x")]
    assert s.blocked() == 1
    out += [s.ctl.call("del", "k")]
    assert s.blocked() == 1
    out += [s.ctl.call("hset", "k", "f", "v"), s.ctl.call("del", "k")]
    assert s.blocked() == 1
    out += [s.ctl.call("rpush", "k", "y"), c.read_reply()]
    assert out[-1] == b"*2\r\n$1\r\nk\r\n$1\r\ny\r\n"
    return out


def test_waiters_ignore_other_types_and_deletion(both):
    both(type_change)


def stats(s):
    c1, c2 = s.conn(), s.conn()
    s.block(c1, "blpop", "k", "0")
    s.block(c2, "blpop", "k", "5")
    out = [s.ctl.info_field("blocked_clients"), s.ctl.info_field("clients_in_timeout_table")]
    assert out == [b"2", b"1"]
    s.ctl.call("rpush", "k", "a", "b")
    c1.read_reply()
    c2.read_reply()
    out += [s.ctl.info_field("blocked_clients"), s.ctl.info_field("clients_in_timeout_table")]
    assert out[2:] == [b"0", b"0"]
    return out


def test_blocked_clients_in_info(both):
    both(stats)


def keyspace_commands(s):
    """A list arriving by RENAME, COPY or MOVE wakes waiters (dbAdd)."""
    c1, c2, c3 = s.conn(), s.conn(), s.conn()
    s.block(c1, "blpop", "k1", "0")
    s.block(c2, "brpop", "k2", "0")
    assert c3.call("select", "1") == b"+OK\r\n"
    s.block(c3, "blpop", "k3", "0")
    ctl = s.ctl
    out = [ctl.call("rpush", "src", "a", "b", "c"), ctl.call("rename", "src", "k1"),
           c1.read_reply(), ctl.call("copy", "k1", "k2"), c2.read_reply(),
           ctl.call("rename", "k1", "k3"), ctl.call("move", "k3", "1"), c3.read_reply(),
           ctl.call("lrange", "k2", 0, -1)]
    assert out[2] == b"*2\r\n$2\r\nk1\r\n$1\r\na\r\n"
    assert out[4] == b"*2\r\n$2\r\nk2\r\n$1\r\nc\r\n"
    assert out[7] == b"*2\r\n$2\r\nk3\r\n$1\r\nb\r\n"
    return out


def test_keys_arriving_by_rename_copy_move(both, kv_port):
    for name in ("rename", "copy", "move"):
        if not has_command(kv_port, name):
            pytest.skip(f"kvserver has no {name.upper()} yet")
    both(keyspace_commands)


def _stat_fields(conn, section: str, prefixes) -> list:
    text = conn.call("info", section)
    out = []
    for line in text.split(b"\r\n"):
        if line.startswith(prefixes):
            # drop timings: usec=...,usec_per_call=...
            out.append(b",".join(f for f in line.split(b",") if b"usec" not in f))
    return out


def error_stats(s):
    c1, c2 = s.conn(), s.conn()
    cid = c1.call("client", "id")[1:-2].decode()
    assert s.ctl.call("config", "resetstat") == b"+OK\r\n"
    s.block(c1, "blpop", "k", "0")
    out = [s.ctl.call("client", "unblock", cid, "error"), c1.read_reply()]
    s.ctl.call("set", "d", "str")
    s.block(c2, "blmove", "k", "d", "left", "left", "0")
    out += [s.ctl.call("rpush", "k", "x"), c2.read_reply()]
    s.block(c1, "brpop", "k2", "0.01")
    out.append(c1.read_reply())
    out += _stat_fields(s.ctl, "errorstats", (b"errorstat_",))
    # (Redis lists commands in its dict's order: compare them sorted)
    out += sorted(_stat_fields(s.ctl, "commandstats", (b"cmdstat_blpop", b"cmdstat_blmove",
                                                       b"cmdstat_brpop")))
    out += _stat_fields(s.ctl, "stats", (b"total_error_replies",))
    return out


def test_error_stats_of_served_and_unblocked_clients(both):
    both(error_stats)


def swapdb(s):
    c1, c2 = s.conn(), s.conn()
    assert c2.call("select", "1") == b"+OK\r\n"
    s.block(c1, "blpop", "k", "0")
    s.block(c2, "blpop", "j", "0")
    ctl = s.ctl
    out = [ctl.call("select", "1"), ctl.call("rpush", "k", "from1"), ctl.call("select", "0"),
           ctl.call("rpush", "j", "from0"), ctl.call("swapdb", "0", "1"), c1.read_reply(),
           c2.read_reply(), ctl.call("exists", "j")]
    assert out[5] == b"*2\r\n$1\r\nk\r\n$5\r\nfrom1\r\n"
    assert out[6] == b"*2\r\n$1\r\nj\r\n$5\r\nfrom0\r\n"
    return out


def test_swapdb_serves_keys_that_now_exist(both, kv_port):
    if not has_command(kv_port, "swapdb"):
        pytest.skip("kvserver has no SWAPDB yet")
    both(swapdb)


def overwrite(s):
    """Only creating a key wakes waiters (dbAdd): a waiter on a key that
    became a string is not woken when the string is overwritten, nor by a
    push to a list that replaced it in place; RENAME deletes the target
    first, so it does wake."""
    c1 = s.conn()
    ctl = s.ctl
    s.block(c1, "blpop", "k", "0")
    out = [ctl.call("set", "k", "str"), ctl.call("set", "k", "str2"),
           ctl.call("rpush", "src", "a", "b"), ctl.call("rename", "src", "k"), c1.read_reply(),
           ctl.call("lrange", "k", 0, -1)]
    assert out[4] == b"*2\r\n$1\r\nk\r\n$1\r\na\r\n"
    return out


def test_only_key_creation_wakes(both):
    both(overwrite)


# ---------------------------------------------------------------------------
# Timeout parsing in-process: (long long) ceill(strtold(arg) * 1000.0)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("arg, ms", [
    # -0.001 * 1000 rounds to just above -1 in long double: ceil gives 0
    (b"0", 0), (b"-0", 0), (b"0.0", 0), (b"-0.0001", 0), (b"-0.0009", 0), (b"-0.001", 0),
    (b"0.0009", 1), (b"0.001", 1), (b"0.0011", 2), (b"1", 1000), (b"1.5", 1500),
    (b"+2", 2000), (b"1e-3", 1), (b"0x1p-10", 1), (b"0x10", 16000), (b".5", 500),
    (b"5.", 5000), (b"1e-4000", 1), (b"9223372036854775", 9223372036854775000),
    (b"9223372036854775.807", 9223372036854775807), (b"10e0", 10000),
])
def test_parse_timeout_values(arg, ms):
    from kvserver import blocking, clock
    clock.freeze(1_000_000)
    try:
        assert blocking.parse_timeout(arg) == (0 if ms == 0 else 1_000_000 + ms)
    finally:
        clock.freeze(None)


@pytest.mark.parametrize("arg, msg", [
    (b"-1", b"ERR timeout is negative"), (b"-0.002", b"ERR timeout is negative"),
    (b"inf", b"ERR timeout is negative"), (b"-inf", b"ERR timeout is negative"),
    (b"9223372036854776", b"ERR timeout is negative"), (b"1e300", b"ERR timeout is negative"),
    (b"abc", b"ERR timeout is not a float or out of range"),
    (b"", b"ERR timeout is not a float or out of range"),
    (b" 1", b"ERR timeout is not a float or out of range"),
    (b"1 ", b"ERR timeout is not a float or out of range"),
    (b"nan", b"ERR timeout is not a float or out of range"),
    (b"1e-5000", b"ERR timeout is not a float or out of range"),
    (b"1e5000", b"ERR timeout is not a float or out of range"),
])
def test_parse_timeout_errors(arg, msg):
    from kvserver import blocking
    from kvserver.errors import CommandError
    with pytest.raises(CommandError) as e:
        blocking.parse_timeout(arg)
    assert e.value.msg == msg
