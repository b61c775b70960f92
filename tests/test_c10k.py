"""Many connections: C10K, the open files limit, and select's FD_SETSIZE.

- 10,000 concurrent loopback connections to a kvserver with the default
  maxclients (10000), on the default backend and on poll: every one
  answers a PING sent on all of them before any reply is read, INFO
  counts them, and the connections beyond get Redis's max-clients error
  (the text compared with redis-server's).  The test process raises its
  own soft RLIMIT_NOFILE to the hard limit for that, and skips when the
  hard limit is too low.  Connects are paced (a batch, then INFO until
  the server has accepted it) so that the listen backlog never overflows:
  a dropped SYN costs a client a second's retransmission.
- adjustOpenFilesLimit: kvserver and redis-server started under the same
  lower limits log the same lines, in the same place, and end with the
  same maxclients.
- io-backend select refuses at start-up a maxclients it cannot serve
  (maxclients + 32 > FD_SETSIZE), and refuses a client that arrives on a
  descriptor >= FD_SETSIZE anyway with the max-clients error, without
  falling over.
"""

import contextlib
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT, RawConn, free_port, read_until_closed, stop, wait_port

REDIS = shutil.which("redis-server")
needs_redis = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed")
KV = [sys.executable, "-m", "kvserver"]
LOG_LINE = re.compile(r"^\d+:[CMX] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} ([.*#-] .*)$")
MAX_CLIENTS_ERROR = b"-ERR max number of clients reached\r\n"
PING = b"*1\r\n$4\r\nPING\r\n"
C10K = 10_000
BATCH = 250          # connects between two waits: well under tcp-backlog 511


@contextlib.contextmanager
def nofile_raised(need: int):
    """This process's soft RLIMIT_NOFILE at its hard limit, for `need` sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        print(f"skipping: RLIMIT_NOFILE hard limit {hard} < {need} needed")
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is below the {need} this test needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def limits(soft, hard):
    """preexec_fn: start the child under RLIMIT_NOFILE (soft, hard)."""
    def apply():
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return apply


@contextlib.contextmanager
def server(exe, *args, log=None, wait=True, **popen):
    """kvserver or redis-server on a free port, logging to `log`; yields (proc, port)."""
    port = free_port()
    cmd = [*exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", *args]
    if log is not None:
        cmd += ["--logfile", str(log)]
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    proc = subprocess.Popen(cmd, cwd=ROOT, **popen)
    try:
        if wait:
            wait_port(port, proc, timeout=20)
        yield proc, port
    finally:
        stop(proc)


def messages(path) -> list:
    """'# text' for each log line, the pid/role/date prefix stripped."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LOG_LINE.match(line.rstrip("\n"))
            if m:
                out.append(m.group(1))
    return out


def info_field(conn: RawConn, section: str, field: str) -> int:
    text = conn.call("INFO", section).decode()
    m = re.search(rf"^{field}:(\d+)\r$", text, re.M)
    assert m, text
    return int(m.group(1))


def read_exactly(s, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


@pytest.fixture(scope="module")
def redis_max_clients_error():
    """What redis-server sends the client beyond maxclients."""
    if REDIS is None:
        return MAX_CLIENTS_ERROR
    with server([REDIS], "--maxclients", "1") as (_, port):
        deadline = time.monotonic() + 10
        while True:     # until wait_port's probe has been let go
            first = RawConn(port)
            if first.call("PING") == b"+PONG\r\n":
                break
            first.close()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        reply = read_until_closed(s)
        s.close()
        first.close()
    return reply


# --- C10K ---------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["default", "poll"])
def test_c10k(backend, redis_max_clients_error):
    """10,000 connections at once (the control connection is one of them:
    maxclients counts it), a PING answered on each, the 10,001st refused."""
    assert redis_max_clients_error == MAX_CLIENTS_ERROR
    extra = () if backend == "default" else ("--io-backend", backend)
    t0 = time.monotonic()
    with nofile_raised(C10K + 200), server(KV, *extra) as (_, port):
        ctl = RawConn(port, timeout=20)
        socks = []
        try:
            assert ctl.call("CONFIG", "GET", "maxclients") == \
                b"*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
            while len(socks) < C10K - 1:
                for _ in range(min(BATCH, C10K - 1 - len(socks))):
                    s = socket.socket()
                    s.settimeout(20)
                    s.connect(("127.0.0.1", port))
                    socks.append(s)
                # the server has accepted the batch before the next one
                deadline = time.monotonic() + 20
                while info_field(ctl, "clients", "connected_clients") < len(socks) + 1:
                    assert time.monotonic() < deadline, f"accepts stalled at {len(socks)}"
                    time.sleep(0.002)
            t_conn = time.monotonic() - t0
            # send on all, then read all
            for s in socks:
                s.sendall(PING)
            bad = [i for i, s in enumerate(socks) if read_exactly(s, 7) != b"+PONG\r\n"]
            assert not bad, f"{len(bad)} connections without a PONG, first {bad[:5]}"
            assert ctl.call("PING") == b"+PONG\r\n"
            assert info_field(ctl, "clients", "connected_clients") == C10K
            assert info_field(ctl, "stats", "rejected_connections") == 0
            # 10,001st and on: Redis's max-clients error, then closed
            for _ in range(3):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                assert read_until_closed(s) == redis_max_clients_error
                s.close()
            assert info_field(ctl, "stats", "rejected_connections") == 3
            assert info_field(ctl, "clients", "connected_clients") == C10K
            # a slot freed is a slot for the next client
            socks.pop().close()
            deadline = time.monotonic() + 10
            while info_field(ctl, "clients", "connected_clients") != C10K - 1:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            late = RawConn(port)
            assert late.call("PING") == b"+PONG\r\n"
            late.close()
        finally:
            for s in socks:
                s.close()
            ctl.close()
    print(f"{backend}: {C10K} connections in {t_conn:.1f} s, "
          f"whole test {time.monotonic() - t0:.1f} s")


# --- the open files limit ------------------------------------------------------------

LIMIT_WORDS = ("maxclients", "open file", "ulimit", "monotonic clock", "event loop")


@needs_redis
@pytest.mark.parametrize("soft,hard", [(1000, 5000), (1000, 1000), (20, 20), (1000, None)],
                         ids=["raise-to-hard", "no-room", "too-low", "raised"])
def test_open_files_limit_matches_redis(tmp_path, soft, hard):
    """adjustOpenFilesLimit: same log lines at the same place, same maxclients.
    `None` is this process's hard limit, which lets the limit be raised."""
    if hard is None:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard != resource.RLIM_INFINITY and hard < C10K + 32:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is below {C10K + 32}")
    got = {}
    for name, exe in (("kvserver", KV), ("redis", [REDIS])):
        log = tmp_path / f"{name}.log"
        with server(exe, log=log, wait=False, preexec_fn=limits(soft, hard)) as (proc, port):
            maxclients = None
            try:
                wait_port(port, proc, timeout=20)
            except RuntimeError:
                assert proc.wait(10) == 1
            else:
                c = RawConn(port)
                maxclients = c.call("CONFIG", "GET", "maxclients")
                c.close()
        lines = [m for m in messages(log) if any(w in m for w in LIMIT_WORDS)]
        got[name] = (maxclients, lines)
    assert got["kvserver"] == got["redis"]
    maxclients, lines = got["kvserver"]
    if soft == 20:
        assert maxclients is None
        assert lines == ["# Your current 'ulimit -n' of 20 is not enough for the server to "
                         "start. Please increase your open file limit to at least 10032. "
                         "Exiting."]
    elif soft == hard:
        assert maxclients.endswith(b"$3\r\n968\r\n")
        assert "# Server can't set maximum open files to 10032 because of OS error: " \
               "Operation not permitted." in lines
    elif hard == 5000:
        # 10032 down by 16 until the hard limit lets it: 4992
        assert maxclients.endswith(b"$4\r\n4960\r\n")
        assert lines[2].startswith("# Current maximum open files is 4992. maxclients has "
                                   "been reduced to 4960")
    else:
        assert maxclients.endswith(b"$5\r\n10000\r\n")
        assert lines[0] == ("* Increased maximum number of open files to 10032 (it was "
                            "originally set to 1000).")


# --- select and FD_SETSIZE -------------------------------------------------------

def test_reactor_set_size():
    from kvserver.net import reactor
    with pytest.raises(reactor.SetSizeError, match="FD_SETSIZE"):
        reactor.create("select", 10_000 + reactor.MIN_RESERVED_FDS)
    with pytest.raises(ValueError):
        reactor.create("select", 1025)
    b = reactor.create("select", 1024)
    assert not b.resize(1025) and b.resize(1024)
    b.close()
    for name in reactor.available():
        if name != "select":
            b = reactor.create(name, 100_000)
            assert b.resize(1_000_000)
            b.close()


@pytest.mark.parametrize("maxclients,ok", [(None, False), (993, False), (992, True)])
def test_select_refuses_maxclients_beyond_fd_setsize(tmp_path, maxclients, ok):
    log = tmp_path / "kv.log"
    extra = () if maxclients is None else ("--maxclients", str(maxclients))
    with server(KV, "--io-backend", "select", *extra, log=log, wait=ok) as (proc, port):
        if ok:
            c = RawConn(port)
            assert c.call("PING") == b"+PONG\r\n"
            c.close()
            return
        assert proc.wait(20) == 1
    want = maxclients or 10000
    assert (f"# Failed creating the event loop. Error message: 'io-backend select can only "
            f"watch file descriptors below FD_SETSIZE (1024), but maxclients {want} needs "
            f"{want + 32} ({want} + 32 reserved): set maxclients to 992 or less, or use "
            f"io-backend epoll or poll'") in messages(log)


def test_config_set_maxclients_beyond_the_event_loop(tmp_path):
    """updateMaxclients(): a set size the loop cannot watch is refused with
    Redis's text and the old value stays."""
    with server(KV, "--io-backend", "select", "--maxclients", "900") as (_, port):
        c = RawConn(port)
        assert c.call("CONFIG", "SET", "maxclients", "2000") == (
            b"-ERR CONFIG SET failed (possibly related to argument 'maxclients') - The event "
            b"loop API used by Redis is not able to handle the specified number of clients\r\n")
        assert c.call("CONFIG", "GET", "maxclients") == \
            b"*2\r\n$10\r\nmaxclients\r\n$3\r\n900\r\n"
        assert c.call("CONFIG", "SET", "maxclients", "992") == b"+OK\r\n"
        c.close()


def test_select_lowers_maxclients_to_the_ulimit_first(tmp_path):
    """As in Redis, the limit is adjusted before the event loop is made: a
    low ulimit brings maxclients under select's ceiling, and it starts."""
    with server(KV, "--io-backend", "select", preexec_fn=limits(1000, 1000)) as (_, port):
        c = RawConn(port)
        assert c.call("CONFIG", "GET", "maxclients") == \
            b"*2\r\n$10\r\nmaxclients\r\n$3\r\n968\r\n"
        c.close()


def test_select_refuses_a_client_beyond_fd_setsize(tmp_path):
    """Descriptors the server inherits push its clients' descriptors past
    1023: those clients get the max-clients error, the others go on."""
    log = tmp_path / "kv.log"
    with nofile_raised(1300):
        fillers = []
        try:
            while not fillers or fillers[-1] < 1100:
                fillers.append(os.open(os.devnull, os.O_RDONLY))
            keep = [fd for fd in fillers if not 900 <= fd < 910]   # room for a few clients
            with server(KV, "--io-backend", "select", "--maxclients", "992", log=log,
                        pass_fds=keep) as (proc, port):
                served, refused = [], 0
                for _ in range(40):
                    s = socket.create_connection(("127.0.0.1", port), timeout=10)
                    s.sendall(PING)
                    first = read_exactly(s, 7)
                    if first == b"+PONG\r\n":
                        served.append(s)
                        continue
                    rest = read_until_closed(s)
                    assert first + rest == MAX_CLIENTS_ERROR
                    refused += 1
                    s.close()
                assert served and refused, (len(served), refused)
                assert proc.poll() is None
                for s in served:
                    s.sendall(PING)
                    assert read_exactly(s, 7) == b"+PONG\r\n"
                for s in served:
                    s.close()
        finally:
            for fd in fillers:
                os.close(fd)
    assert any("Error registering fd event for the new client: Numerical result out of "
               "range" in m for m in messages(log))
