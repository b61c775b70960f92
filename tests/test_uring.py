"""The io_uring completion engine (kvserver/net/uring.py) over loopback.

No kvserver process: the tests drive UringEngine directly, with plain
sockets (and threads, where a peer must read or write while the engine
runs) on the other side.  Every wait is bounded by a deadline; nothing
asserts on time.  Where io_uring cannot be used (no liburing at build
time, a kernel or sandbox that refuses io_uring_setup) the engine tests
skip with the reason.
"""

import errno
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

from kvserver.net import uring
from kvserver.net.uring import ACCEPT, CLOSED, RECV, SEND_ERROR, SENT

REASON = uring.available()
DEADLINE = 20.0

# Every feature set the engine may run with: the kernel's best (6.1+:
# deferred task work, our own io_uring_enter), multishot with cooperative
# task work and liburing's enter (5.19/6.0), one-shot accept/recv
# (kernels before 5.19/6.0), one-shot recv into a per-client buffer with
# neither task-work mode (no buffer ring, kernels before 5.19).
MODES = {
    "multishot": (),
    "coop": ("defer_taskrun",),
    "oneshot": ("multishot_accept", "multishot_recv", "defer_taskrun"),
    "nobufring": ("multishot_accept", "multishot_recv", "buf_ring",
                  "defer_taskrun", "coop_taskrun"),
}


class Harness:
    """An engine, a listener, and the server-side fds to close afterwards."""

    def __init__(self, **kw):
        self.e = uring.UringEngine(**kw)
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(128)
        self.ls.setblocking(False)
        self.addr = self.ls.getsockname()
        self.e.add_listener(self.ls, "L")
        self.fds = set()
        self.peers = []
        self.events = []

    def connect(self):
        c = socket.create_connection(self.addr, timeout=DEADLINE)
        self.peers.append(c)
        return c

    def pump(self, until, timeout=DEADLINE):
        """Polls until until(events) is true; returns the events seen.
        ACCEPTed fds are remembered (and closed at teardown)."""
        end = time.monotonic() + timeout
        seen = []
        while not until(seen):
            assert time.monotonic() < end, f"gave up waiting; events so far: {seen[-5:]}"
            for ev in self.e.poll(0.05):
                if ev[1] == ACCEPT:
                    self.fds.add(ev[2])
                seen.append(ev)
        return seen

    def accept(self, n=1, data=None):
        """Connects n peers; returns [(peer, server fd)] with the fds added
        as clients (data: the fd itself unless given)."""
        peers = [self.connect() for _ in range(n)]
        evs = self.pump(lambda s: sum(k == ACCEPT for _, k, _ in s) >= n)
        fds = [v for _, k, v in evs if k == ACCEPT]
        assert len(fds) == n
        for fd in fds:
            self.e.add_client(fd, fd if data is None else data)
        # Match peers to server fds by the peer's port.
        by_port = {}
        for fd in fds:
            s = socket.socket(fileno=os.dup(fd))
            by_port[s.getpeername()[1]] = fd
            s.close()
        return [(p, by_port[p.getsockname()[1]]) for p in peers]

    def close(self):
        self.e.close()
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        for p in self.peers:
            p.close()
        self.ls.close()


@pytest.fixture(params=list(MODES))
def h(request):
    if REASON is not None:
        pytest.skip(REASON)
    hh = Harness(disable=MODES[request.param])
    yield hh
    hh.close()


@pytest.fixture
def h1():
    """The kernel's best mode only (tests of behaviour, not of fallbacks)."""
    if REASON is not None:
        pytest.skip(REASON)
    hh = Harness()
    yield hh
    hh.close()


def recv_all(sock, n):
    chunks = []
    while n:
        b = sock.recv(min(n, 1 << 20))
        assert b, "peer closed early"
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def test_unavailable_reasons(monkeypatch):
    monkeypatch.setattr(uring, "lib", None)
    assert uring.available() == (
        "kvserver was built without liburing (kvserver.native._kvuring is missing)")
    with pytest.raises(uring.UringUnavailable, match="built without liburing"):
        uring.UringEngine()
    text = uring._reason(errno.EPERM)
    assert text.startswith("io_uring is not available: Operation not permitted "
                           "(the kernel or a sandbox refuses io_uring_setup")
    assert "\n" not in text
    assert "Function not implemented" in uring._reason(errno.ENOSYS)


def test_refused_setup_raises_unavailable(monkeypatch):
    if uring.ffi is None:
        pytest.skip(REASON)

    class Refusing:
        """What lib does where seccomp or io_uring_disabled=2 says no."""

        def kvu_probe(self):
            return -errno.EPERM

        def kvu_open(self, entries, buf_size, nbufs, want, err):
            err[0] = -errno.EPERM
            return uring.ffi.NULL

    monkeypatch.setattr(uring, "lib", Refusing())
    assert uring.available().startswith("io_uring is not available: Operation not permitted")
    with pytest.raises(uring.UringUnavailable) as info:
        uring.UringEngine()
    assert str(info.value) == uring.available()


def test_features_reported(h1):
    assert REASON is None
    assert h1.e.features <= {"multishot_accept", "multishot_recv", "buf_ring",
                             "defer_taskrun", "coop_taskrun"}
    assert not {"defer_taskrun", "coop_taskrun"} <= h1.e.features
    lean = uring.UringEngine(disable=("buf_ring",))
    try:
        # No buffer ring, no multishot recv (it selects from the ring).
        assert "buf_ring" not in lean.features
        assert "multishot_recv" not in lean.features
    finally:
        lean.close()


def test_accept_several_through_one_accept(h):
    peers = [h.connect() for _ in range(6)]
    evs = h.pump(lambda s: sum(k == ACCEPT for _, k, _ in s) >= 6)
    accepted = [v for d, k, v in evs if k == ACCEPT]
    assert all(d == "L" for d, k, v in evs if k == ACCEPT)
    assert len(set(accepted)) == 6
    for fd in accepted:
        assert not os.get_blocking(fd)
    if "multishot_accept" in h.e.features:
        # One accept request served all six: nothing was rearmed.
        assert h.e._pending() == 0
    ports = {p.getsockname()[1] for p in peers}
    for fd in accepted:
        s = socket.socket(fileno=os.dup(fd))
        assert s.getpeername()[1] in ports
        s.close()


def test_echo_many_chunks_in_order(h):
    [(peer, fd)] = h.accept(1)
    rnd = random.Random(7)
    sizes = [1, 2, 100, 16383, 16384, 16385, 1 << 20, 5, 300000, 1 << 20, 7]
    sizes += [rnd.randrange(1, 70000) for _ in range(60)]
    payload = rnd.randbytes(sum(sizes))
    got = bytearray()
    errors = []

    def reader():
        try:
            got.extend(recv_all(peer, len(payload)))
        except Exception as exc:  # reported by the main thread
            errors.append(exc)

    t = threading.Thread(target=reader)
    t.start()

    def writer():
        pos = 0
        for n in sizes:
            peer.sendall(payload[pos:pos + n])
            pos += n

    w = threading.Thread(target=writer)
    w.start()
    received = bytearray()
    sent = 0

    def done(evs):
        nonlocal sent
        for d, k, v in evs[done.seen:]:
            assert d == fd
            if k == RECV:
                received.extend(v)
                h.e.send(fd, v)
            elif k == SENT:
                sent += v
            else:
                pytest.fail(f"unexpected event {(d, k, v)}")
        done.seen = len(evs)
        return sent == len(payload)

    done.seen = 0
    h.pump(done, timeout=60)
    w.join(DEADLINE)
    t.join(DEADLINE)
    assert not errors
    assert bytes(received) == payload
    assert bytes(got) == payload
    assert h.e.queued_bytes(fd) == 0


def test_large_sends_to_slow_reader(h):
    [(peer, fd)] = h.accept(1)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    rnd = random.Random(3)
    parts = [rnd.randbytes(3 << 20), b"small", rnd.randbytes(1 << 20)]
    parts += [bytes([i]) * 10 for i in range(50)]   # coalesced behind them
    parts.append(bytearray(rnd.randbytes(200000)))
    expect = b"".join(bytes(p) for p in parts)
    for p in parts[:3]:
        h.e.send(fd, p)
    got = bytearray()

    def slow_reader():
        # Starts late, then reads in small bites with pauses: the sends
        # meet a full socket buffer again and again.
        time.sleep(0.2)
        n = 0
        while len(got) < len(expect):
            b = peer.recv(16384)
            if not b:
                break
            got.extend(b)
            n += 1
            if n % 32 == 0:
                time.sleep(0.005)

    t = threading.Thread(target=slow_reader)
    t.start()
    # Let the first sends go short against the small buffer, then queue
    # more behind them while they are in flight.
    early = h.e.poll(0) + h.e.poll(0.01)
    assert h.e.queued_bytes(fd) > 0
    for p in parts[3:]:
        h.e.send(fd, p)
    parts[-1][:] = b"\0" * len(parts[-1])   # the engine copied the bytearray
    assert all((d, k) == (fd, SENT) for d, k, v in early)
    total = sum(v for d, k, v in early)

    def done(evs):
        nonlocal total
        for d, k, v in evs[done.seen:]:
            assert (d, k) == (fd, SENT), (d, k, v)
            total += v
        done.seen = len(evs)
        return total == len(expect)

    done.seen = 0
    h.pump(done, timeout=60)
    t.join(60)
    assert not t.is_alive()
    assert bytes(got) == expect
    assert h.e.queued_bytes(fd) == 0


def test_remove_client_then_fd_reuse_gets_no_stale_events(h):
    [(a_peer, a_fd)] = h.accept(1, data="A")
    # Put requests in flight: the recv is armed, and a send the peer never
    # reads stays in flight once the socket buffers are full.
    h.e.send(a_fd, b"z" * (8 << 20))
    h.e.poll(0)
    h.e.poll(0.01)
    assert h.e.queued_bytes(a_fd) > 0
    a_peer.sendall(b"stale data")          # may complete the armed recv
    b_peer = socket.socket()                # its fd number is taken now
    h.peers.append(b_peer)
    h.e.remove_client(a_fd)
    assert h.e.queued_bytes(a_fd) == 0
    os.close(a_fd)
    h.fds.discard(a_fd)
    b_peer.settimeout(DEADLINE)
    b_peer.connect(h.addr)
    evs = h.pump(lambda s: any(k == ACCEPT for _, k, _ in s))
    assert all(d != "A" for d, k, v in evs)
    b_fd = next(v for _, k, v in evs if k == ACCEPT)
    if b_fd != a_fd:
        # Another descriptor was lower: give B's socket A's number, the
        # case that matters (io_uring requests name files, not numbers).
        os.dup2(b_fd, a_fd)
        os.close(b_fd)
        h.fds.discard(b_fd)
        h.fds.add(a_fd)
        b_fd = a_fd
    h.e.add_client(b_fd, "B")
    try:
        a_peer.sendall(b"more stale")
    except OSError:
        # A's socket is closed; it was reset if "stale data" was never
        # read (its cancelled recv had not run yet).
        pass
    b_peer.sendall(b"fresh")
    evs = h.pump(lambda s: b"".join(v for d, k, v in s if k == RECV) == b"fresh")
    assert all(d == "B" for d, k, v in evs), evs
    h.e.send(b_fd, b"to B")
    evs = h.pump(lambda s: any(k == SENT for _, k, _ in s))
    assert evs == [("B", SENT, 4)]
    assert recv_all(b_peer, 4) == b"to B"
    for _ in range(5):
        assert all(d == "B" for d, k, v in h.e.poll(0.01))
    # The zombie is gone once its cancelled requests finished.
    h.pump(lambda s: h.e._nregs() == 2)


def test_peer_close_mid_stream_gives_closed(h):
    [(peer, fd)] = h.accept(1)
    peer.sendall(b"x" * 100000)
    peer.close()
    evs = h.pump(lambda s: any(k == CLOSED for _, k, _ in s))
    data = b"".join(v for d, k, v in evs if k == RECV)
    assert data == b"x" * 100000
    assert evs[-1] == (fd, CLOSED, 0)
    for _ in range(5):
        assert h.e.poll(0.01) == []
    h.e.remove_client(fd)


def test_peer_reset_during_large_send(h):
    [(peer, fd)] = h.accept(1)
    h.e.send(fd, b"y" * (16 << 20))
    h.e.poll(0)
    h.e.poll(0.01)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    peer.close()   # RST: unread data and linger 0
    evs = h.pump(lambda s: any(k in (SEND_ERROR, CLOSED) for _, k, _ in s))
    bad = [(k, v) for d, k, v in evs if k in (SEND_ERROR, CLOSED)]
    kind, err = bad[0]
    assert err in (errno.ECONNRESET, errno.EPIPE, 0)
    # Whatever came first, a send after a reset fails, and then sends are
    # ignored and nothing is queued.
    if kind == CLOSED:
        h.pump(lambda s: any(k == SEND_ERROR for _, k, _ in s))
    h.e.send(fd, b"after")
    assert h.e.queued_bytes(fd) == 0
    h.e.remove_client(fd)
    h.e.poll(0)


def test_poll_zero_returns_promptly(h1):
    [(peer, fd)] = h1.accept(1)
    # The engine's own thread polls.  Bound: should poll(0) wait, a
    # connection arriving after a while ends it (and the assert fails).
    rescue = threading.Timer(5.0, h1.connect)
    rescue.start()
    try:
        out = [h1.e.poll(0) for _ in range(200)]
    finally:
        rescue.cancel()
    assert out == [[]] * 200


def test_poll_from_another_thread_fails_cleanly(h1):
    """With DEFER_TASKRUN the ring has one issuer, the creating thread."""
    if "defer_taskrun" not in h1.e.features:
        pytest.skip("the kernel has no IORING_SETUP_DEFER_TASKRUN")
    out = []

    def other():
        try:
            h1.e.poll(0)
        except OSError as exc:
            out.append(exc.errno)

    t = threading.Thread(target=other)
    t.start()
    t.join(DEADLINE)
    assert out == [errno.EEXIST]
    assert h1.e.poll(0) == []       # the engine goes on in its own thread


def test_one_enter_per_poll(h):
    [(peer, fd)] = h.accept(1)
    for i in range(30):
        before = h.e.enters
        peer.sendall(b"ping %d" % i)
        h.e.send(fd, b"pong %d" % i)
        h.e.poll(0.02 if i % 2 else 0)
        assert h.e.enters - before == 1


def test_tiny_rings_defer_and_overflow():
    """A 2-entry SQ (8-entry CQ) serving 8 echo clients: SQEs beyond the
    SQ wait for the next turn, CQEs beyond the CQ wait in the kernel."""
    if REASON is not None:
        pytest.skip(REASON)
    hh = Harness(entries=2)
    try:
        pairs = hh.accept(8)
        msgs = {fd: (b"%d:" % fd) * 5000 for _, fd in pairs}
        for peer, fd in pairs:
            peer.sendall(msgs[fd])
        got = {fd: bytearray() for _, fd in pairs}

        def done(evs):
            for d, k, v in evs[done.seen:]:
                if k == RECV:
                    got[d].extend(v)
                    hh.e.send(d, v)
            done.seen = len(evs)
            return all(len(got[fd]) == len(msgs[fd]) for fd in got)

        done.seen = 0
        hh.pump(done)
        hh.pump(lambda s: all(hh.e.queued_bytes(fd) == 0 for fd in got))
        for peer, fd in pairs:
            assert bytes(got[fd]) == msgs[fd]
            assert recv_all(peer, len(msgs[fd])) == msgs[fd]
    finally:
        hh.close()


def test_signal_interrupts_poll_forever(h1):
    import signal
    hits = []
    old = signal.signal(signal.SIGALRM, lambda *a: hits.append(1))
    # Bound: should the wait not return on the signal, a connection
    # arrives after a while and ends it (then the assert below fails).
    rescue = threading.Timer(5.0, lambda: h1.connect())
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        rescue.start()
        evs = h1.e.poll(None)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        rescue.cancel()
    assert evs == []
    assert hits


def test_enobufs_rearms():
    # Two 4 KiB buffers: a 1 MB burst empties the ring many times over.
    if REASON is not None:
        pytest.skip(REASON)
    hh = Harness(buf_size=4096, nbufs=2)
    try:
        [(peer, fd)] = hh.accept(1)
        payload = random.Random(5).randbytes(1 << 20)
        w = threading.Thread(target=peer.sendall, args=(payload,))
        w.start()
        got = bytearray()

        def done(evs):
            for d, k, v in evs[done.seen:]:
                assert k == RECV, (d, k, v)
                got.extend(v)
            done.seen = len(evs)
            return len(got) == len(payload)

        done.seen = 0
        hh.pump(done, timeout=60)
        w.join(DEADLINE)
        assert bytes(got) == payload
    finally:
        hh.close()


def test_remove_listener_stops_accepts(h):
    h.e.remove_listener(h.ls.fileno())
    h.connect()
    for _ in range(10):
        assert h.e.poll(0.01) == []
    h.pump(lambda s: h.e._nregs() == 0)


def test_close_with_requests_in_flight(h):
    [(peer, fd)] = h.accept(1)
    h.e.send(fd, b"q" * (8 << 20))
    h.e.poll(0)
    h.e.close()
    assert h.e._u is None
    assert h.e._drained
    h.e.close()   # idempotent
    with pytest.raises(RuntimeError):
        h.e.poll(0)


def test_add_twice_is_an_error(h1):
    [(peer, fd)] = h1.accept(1)
    with pytest.raises(ValueError):
        h1.e.add_client(fd, "again")
    with pytest.raises(ValueError):
        h1.e.add_listener(h1.ls, "again")
    # Unknown fds: ignored, never raising.
    h1.e.send(99999, b"x")
    h1.e.remove_client(99999)
    h1.e.remove_listener(99999)
    assert h1.e.queued_bytes(99999) == 0


STRACE_CHILD = r"""
import os, socket, sys
from kvserver.net import uring
e = uring.UringEngine()
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(16)
e.add_listener(ls, "L")
peers = [socket.create_connection(ls.getsockname()) for _ in range(3)]
fds = []
while len(fds) < 3:
    for d, k, v in e.poll(1):
        if k == uring.ACCEPT:
            fds.append(v); e.add_client(v, v)
for p in peers:
    p.sendall(b"x" * 50000)
polls = 0
got = 0
os.write(2, b"MARK-start\n")
while got < 150000:
    for d, k, v in e.poll(1):
        if k == uring.RECV:
            got += len(v); e.send(d, v)
    polls += 1
for _ in range(5):
    e.poll(0); polls += 1
os.write(2, b"MARK-end %d\n" % polls)
e.close()
"""


def test_one_io_uring_enter_syscall_per_poll(tmp_path):
    """The C counter counts calls; strace counts the syscalls themselves."""
    if REASON is not None:
        pytest.skip(REASON)
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    log = tmp_path / "strace.log"
    proc = subprocess.run(
        [strace, "-f", "-qq", "-e", "trace=io_uring_enter,write", "-o", str(log),
         sys.executable, "-c", STRACE_CHILD],
        capture_output=True, timeout=60)
    if proc.returncode != 0 or not log.exists():
        pytest.skip(f"strace could not trace here: {proc.stderr.decode()[-200:]}")
    inside = False
    enters = 0
    polls = None
    for line in log.read_text().splitlines():
        if "MARK-start" in line:
            inside = True
        elif "MARK-end" in line:
            polls = int(line.split("MARK-end ")[1].split("\\n")[0])
            inside = False
        elif inside and "io_uring_enter(" in line:
            enters += 1
    assert polls is not None
    assert 1 <= enters <= polls


# -- the receive budget, send queues in C ---------------------------------


def per_poll(h, until, timeout=DEADLINE, wait=0.05):
    """Like Harness.pump, but keeps each poll()'s events apart."""
    end = time.monotonic() + timeout
    polls = []
    while not until(polls):
        assert time.monotonic() < end, "gave up waiting"
        polls.append(h.e.poll(wait))
    return polls


@pytest.mark.parametrize("mode", ["multishot", "oneshot"])
def test_flood_is_handed_over_a_budget_per_poll(mode):
    """A client sending faster than the loop turns gets at most the
    budget per poll(), as one RECV, in order; the rest waits (throttled
    past a backlog) and poll() does not sleep while some is held."""
    if REASON is not None:
        pytest.skip(REASON)
    hh = Harness(buf_size=4096, nbufs=64, disable=MODES[mode])
    try:
        hh.e._set_budget(8192, 2)
        [(peer, fd)] = hh.accept(1)
        payload = random.Random(11).randbytes(3 << 20)
        w = threading.Thread(target=peer.sendall, args=(payload,))
        w.start()
        got = bytearray()

        def done(polls):
            if polls:
                recvs = [v for d, k, v in polls[-1] if k == RECV]
                assert len(recvs) <= 1
                assert all(len(v) <= 8192 for v in recvs)
                for v in recvs:
                    got.extend(v)
            return len(got) == len(payload)

        # poll(None) would hang should the engine sleep on held data;
        # a connection after a while ends such a wait, and is then seen.
        rescue = threading.Timer(10.0, hh.connect)
        rescue.start()
        try:
            polls = per_poll(hh, done, timeout=60, wait=None)
        finally:
            rescue.cancel()
        w.join(DEADLINE)
        assert bytes(got) == payload
        assert not any(k == ACCEPT for p in polls for d, k, v in p)
        if "multishot_recv" in hh.e.features:
            # Buffers joined: many polls carried the whole budget.  (A
            # one-shot recv reads one buffer a turn.)
            full = sum(1 for p in polls for d, k, v in p if k == RECV and len(v) == 8192)
            assert full >= len(payload) // 8192 // 4
            assert hh.e._throttles() > 0
    finally:
        hh.close()


def test_closed_comes_after_held_data():
    if REASON is not None:
        pytest.skip(REASON)
    hh = Harness(buf_size=4096, nbufs=64)
    try:
        hh.e._set_budget(4096, 1)
        [(peer, fd)] = hh.accept(1)
        payload = random.Random(12).randbytes(200000)
        peer.sendall(payload)
        peer.close()
        evs = hh.pump(lambda s: any(k == CLOSED for _, k, _ in s))
        assert evs[-1] == (fd, CLOSED, 0)
        assert b"".join(v for d, k, v in evs if k == RECV) == payload
        hh.e.remove_client(fd)
    finally:
        hh.close()


def test_flooding_client_does_not_starve_another():
    """64 buffers, a flood of 4 MB on one client: another client's small
    messages still arrive, each within a few turns."""
    if REASON is not None:
        pytest.skip(REASON)
    hh = Harness(buf_size=4096, nbufs=64)
    try:
        hh.e._set_budget(8192, 2)
        (big, big_fd), (small, small_fd) = hh.accept(2)
        w = threading.Thread(target=big.sendall, args=(b"f" * (4 << 20),))
        w.start()
        flood = 0
        for i in range(20):
            small.sendall(b"ping %02d" % i)
            msg = bytearray()

            def arrived(evs):
                nonlocal flood
                for d, k, v in evs[arrived.seen:]:
                    if d == small_fd and k == RECV:
                        msg.extend(v)
                    elif d == big_fd and k == RECV:
                        flood += len(v)
                arrived.seen = len(evs)
                return len(msg) == 7

            arrived.seen = 0
            hh.pump(arrived)
            assert bytes(msg) == b"ping %02d" % i
        hh.pump(lambda s: flood + sum(len(v) for d, k, v in s if d == big_fd and k == RECV)
                >= 4 << 20, timeout=60)
        w.join(DEADLINE)
        if "multishot_recv" in hh.e.features:
            assert hh.e._throttles() > 0
    finally:
        hh.close()


def test_send_kinds_and_reuse(h):
    """Small sends are copied at once (the caller may change its buffer);
    large bytes and memoryviews are sent in place; all in order."""
    [(peer, fd)] = h.accept(1)
    rnd = random.Random(13)
    small_ba = bytearray(b"abc" * 100)
    big = rnd.randbytes(300000)
    mv_src = bytearray(rnd.randbytes(100000))
    parts = [b"hello ", small_ba, memoryview(b"0123456789")[2:8], big,
             memoryview(mv_src), memoryview(b"x" * 64)[::2], b"", b"end"]
    expect = b"".join(bytes(p) for p in parts)
    for p in parts:
        h.e.send(fd, p)
    small_ba[:] = b"Z" * len(small_ba)      # copied: must not matter
    got = bytearray()
    t = threading.Thread(target=lambda: got.extend(recv_all(peer, len(expect))))
    t.start()
    h.pump(lambda s: sum(v for d, k, v in s if k == SENT) == len(expect))
    t.join(DEADLINE)
    assert bytes(got) == expect
    assert h.e.queued_bytes(fd) == 0
    assert not h.e._pins


def test_remove_with_pinned_sends_releases_them(h):
    [(peer, fd)] = h.accept(1)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    for i in range(5):
        h.e.send(fd, bytes([65 + i]) * (1 << 20))
    h.e.poll(0)
    h.e.poll(0.01)
    assert h.e._pins                # the first in flight, the rest queued
    h.e.remove_client(fd)
    assert sum(map(len, h.e._pins.values())) <= 1
    h.pump(lambda s: not h.e._pins and h.e._nregs() == 1)
