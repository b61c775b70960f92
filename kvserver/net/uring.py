"""io_uring completion engine: accepts, receives and sends as SQEs, one
io_uring_enter per loop turn.

Unlike the readiness backends (epoll, poll, select), nothing here asks
"is this socket readable?".  Every listener has a multishot accept and
every client a multishot recv armed in the kernel; their completions come
back with the data already copied into a provided-buffer ring.  Sends are
queued as they come and go out at the next turn, in the background.
`poll()` is the whole loop turn: it prepares the SQEs recorded since the
last turn, submits them and waits for completions in ONE io_uring_enter,
then turns the completions into events:

    (data, ACCEPT, fd)       a new connection on a listener (non-blocking fd)
    (data, RECV, bytes)      data from a client, in order
    (data, CLOSED, 0|errno)  EOF or a receive error; no RECV after it
    (data, SENT, n)          the kernel took n bytes of this client's queue
    (data, SEND_ERROR, errno) the queue is dropped; remove and close the fd

The per-request work is C (kvserver/native/build_uring.py): the
registrations, the send queues, preparing SQEs, handling each CQE
(rearming, advancing a send queue, recycling buffers).  A loop turn is
one C call that writes a compact array of (slot, kind, result, offset);
Python maps each slot to the caller's `data` and slices received bytes
out of the buffer mapping.  A send is one C call that copies the bytes
into the client's queue (a turn's small replies share one buffer, one
send); a large one is queued without a copy and kept alive here until C
says the kernel is done with it.  On kernels without multishot requests
(before 5.19/6.0) or without a buffer ring (before 5.19) the same events
come from one-shot requests rearmed after each completion.

A client's RECV in one poll() carries at most a budget (64 KB) of what
its recv read; the rest is handed over in the next polls (which do not
sleep meanwhile), as the readiness loop leaves it in the socket.  A
client pipelining faster than the server runs would otherwise bring
hundreds of KB into one turn, all parsed before any of it runs.

Invariants:

- One io_uring_enter per poll().  No method but poll() enters the kernel:
  add_*, remove_*, send() only record work, which poll() turns into SQEs
  right before it submits.  That also makes fd reuse safe: an SQE never
  sits in the ring, unsubmitted, while the caller may close its fd and
  open another with the same number.
- user_data names a registration by slot and generation; a slot is
  reused only after every request of its previous registration posted
  its final CQE, so a completion for a removed registration (fd closed,
  number reused by a new client) is recognised and dropped.  A removed
  registration lives on as a zombie, holding its buffers, until then
  (cancels are submitted for its requests).
- At most one request of each kind per registration is in flight: one
  accept, one recv, one send, one back-off timer.  So one send per fd at a
  time (the order of the queue is the order on the wire) and a cancel
  names exactly one request.
- The memory the kernel reads or writes stays alive until the request's
  final CQE: copied send data and the provided buffers belong to the C
  side; a large send's object (bytes as given, a bytes copy of a
  bytearray, a memoryview as given, which the caller must not change
  until queued_bytes() says it is gone) is held in `_pins` until C
  reports it done (UNPIN), zombies' included.  Received bytes are copied
  out of the buffer ring before the next C call recycles the buffers.
- Errors never raise out of poll() except a failure of the ring itself;
  per-connection failures become CLOSED/SEND_ERROR events, accept failures
  are counted (accept_errors, last_accept_error) and retried after a
  100 ms back-off timer, so EMFILE cannot spin the loop.

The engine is single-threaded: one thread makes every call, the thread
that created it (on Linux 6.1+ the ring is set up for one issuer, so the
kernel runs completion work only inside that thread's io_uring_enter
instead of interrupting it for each packet; another thread's poll()
fails with EEXIST).
"""

import errno as _errno
import os
import struct
import time
from collections import deque

try:
    from kvserver.native._kvuring import ffi, lib
except ImportError:  # built without liburing, or no C compiler
    ffi = lib = None

ACCEPT, RECV, CLOSED, SENT, SEND_ERROR = range(5)
# Events for the engine alone (KVU_E_*): RECV whose bytes are in the
# client's own buffer (no buffer ring), pinned sends done with, and bytes
# that belong to the RECV following them for the same client.
_E_RECV_INBUF, _E_UNPIN, _E_RECV_PART = 5, 6, 7

# Events copied per C call; a bigger batch is reaped in several calls
# without entering the kernel again.  C stops early only with fewer than
# KVU_SLACK places left.
_BATCH = 1024
# struct kvu_ev {uint32_t slot, kind; int32_t res; uint32_t off;}
_EV = struct.Struct("=IIiI")
_EV_SIZE = _EV.size
_unpack_evs = _EV.iter_unpack
# Sends smaller than this are copied into the client's queue, where the
# replies of one turn join into one send; larger ones go out as they
# are, without a copy.
_COALESCE = 65536
# How long close() waits for cancelled requests to finish before it gives
# up and leaves their memory allocated.
_CLOSE_DRAIN_S = 2.0

_FEATURES = {
    "multishot_accept": 1,  # KVU_CAP_MULTISHOT_ACCEPT
    "multishot_recv": 2,    # KVU_CAP_MULTISHOT_RECV
    "buf_ring": 4,          # KVU_CAP_BUF_RING
    "defer_taskrun": 8,     # KVU_CAP_DEFER_TASKRUN (6.1+)
    "coop_taskrun": 16,     # KVU_CAP_COOP_TASKRUN (5.19+; without defer)
}

# Objects the kernel may still touch when close() gave up waiting: never
# freed, so a late request cannot read freed memory.
_abandoned = []


class UringUnavailable(Exception):
    """io_uring cannot be used here; str(e) is a one-line reason."""


def _reason(err: int) -> str:
    """The one-line reason for a failed io_uring set-up (err: positive errno)."""
    text = os.strerror(err)
    if err in (_errno.EPERM, _errno.EACCES):
        why = "the kernel or a sandbox refuses io_uring_setup"
        try:
            with open("/proc/sys/kernel/io_uring_disabled") as f:
                disabled = f.read().strip()
            if disabled not in ("", "0"):
                why += f"; /proc/sys/kernel/io_uring_disabled is {disabled}"
        except OSError:
            pass
    elif err == _errno.ENOSYS:
        why = "the kernel was built without io_uring"
    elif err == _errno.ENOMEM:
        why = "the rings do not fit the locked-memory limit (ulimit -l) or memory is short"
    elif err == _errno.EOPNOTSUPP:
        return ("io_uring is not available: the kernel's io_uring has no socket "
                "operations (Linux 5.6 or newer is needed)")
    else:
        why = "io_uring_setup failed"
    return f"io_uring is not available: {text} ({why})"


def available() -> str | None:
    """None when io_uring can be used here, else the reason (one line)."""
    if lib is None:
        return "kvserver was built without liburing (kvserver.native._kvuring is missing)"
    err = lib.kvu_probe()
    return _reason(-err) if err < 0 else None


class UringEngine:
    """The io_uring engine.  See the module docstring for the contract."""

    name = "io_uring"

    def __init__(self, entries: int = 4096, buf_size: int = 16384,
                 nbufs: int = 1024, *, disable=()):
        """`disable` names features not to use even when the kernel has
        them (see _FEATURES): the tests drive the fallbacks with it."""
        if lib is None:
            raise UringUnavailable(available())
        assert ffi.sizeof("struct kvu_ev") == _EV_SIZE
        if not 1 <= entries <= 32768:
            raise ValueError("entries must be 1..32768")
        if buf_size < 64:
            raise ValueError("buf_size must be at least 64")
        # The kernel wants a power-of-two buffer ring of at most 32768.
        if not 1 <= nbufs <= 32768 or nbufs & (nbufs - 1):
            raise ValueError("nbufs must be a power of two, 1..32768")
        if buf_size * nbufs > 1 << 32:
            raise ValueError("nbufs * buf_size must be at most 4 GiB")
        want = 0
        for name, bit in _FEATURES.items():
            if name not in disable:
                want |= bit
        err = ffi.new("int *")
        u = lib.kvu_open(entries, buf_size, nbufs, want, err)
        if u == ffi.NULL:
            raise UringUnavailable(_reason(-err[0]))
        self._u = u
        self._bufs = (ffi.buffer(lib.kvu_bufs(u), nbufs * buf_size)
                      if lib.kvu_caps(u) & _FEATURES["buf_ring"] else None)
        self._bufmv = memoryview(self._bufs) if self._bufs is not None else None
        self._more = _BATCH - lib.KVU_SLACK
        self._ev = ffi.new("struct kvu_ev[]", _BATCH)
        self._evmem = memoryview(ffi.buffer(self._ev))
        self._data = []         # slot -> the caller's data (None: free or removed)
        self._clients = {}      # fd -> slot of a live client
        self._listeners = {}    # fd -> slot of a live listener
        self._pins = {}         # slot -> deque of pinned send objects, oldest first
        self._drained = None    # close(): did every request finish?

    @property
    def features(self) -> frozenset:
        """The features in use; a multishot request the kernel refuses
        at run time drops out."""
        caps = lib.kvu_caps(self._u) if self._u is not None else 0
        return frozenset(n for n, bit in _FEATURES.items() if caps & bit)

    @property
    def accept_errors(self) -> int:
        return lib.kvu_accept_errors(self._u) if self._u is not None else 0

    @property
    def last_accept_error(self) -> int:
        return lib.kvu_last_accept_error(self._u) if self._u is not None else 0

    @property
    def enters(self) -> int:
        """Calls into the kernel made so far (at most one per poll())."""
        return lib.kvu_enters(self._u) if self._u is not None else 0

    # -- registration ------------------------------------------------------

    def _add(self, fd, data, listener):
        slot = lib.kvu_add(self._u, fd, listener)
        if slot < 0:
            raise MemoryError("io_uring engine: no memory for a registration")
        d = self._data
        if slot >= len(d):
            d.extend([None] * (slot + 1 - len(d)))
        d[slot] = data
        return slot

    def add_listener(self, sock, data) -> None:
        """Accept connections on the listening socket `sock` (multishot)."""
        fd = sock.fileno()
        if fd in self._listeners:
            raise ValueError(f"fd {fd} is already a listener")
        self._listeners[fd] = self._add(fd, data, 1)

    def remove_listener(self, fd: int) -> None:
        slot = self._listeners.pop(fd, None)
        if slot is not None:
            self._remove(slot)

    def add_client(self, fd: int, data) -> None:
        """Start receiving on the connected socket `fd`."""
        if fd in self._clients:
            raise ValueError(f"fd {fd} is already a client")
        self._clients[fd] = self._add(fd, data, 0)

    def remove_client(self, fd: int) -> None:
        """Forget `fd`: no event of this registration is reported again.

        Its requests in flight are cancelled at the next poll(); the
        caller may close the fd at once (the kernel holds its own
        reference to the socket until they finish)."""
        slot = self._clients.pop(fd, None)
        if slot is not None:
            self._remove(slot)

    def _remove(self, slot):
        dropped = lib.kvu_remove(self._u, slot)
        self._data[slot] = None
        if dropped > 0:
            # The newest pinned sends, never submitted; an older one may
            # still be in flight and waits for its UNPIN.
            pins = self._pins[slot]
            for _ in range(dropped):
                pins.pop()
            if not pins:
                del self._pins[slot]

    # -- sending -----------------------------------------------------------

    def send(self, fd: int, data) -> None:
        """Queue `data` (bytes, bytearray or memoryview) for `fd`.

        Ignored for an fd that is not a client (already removed) or whose
        sends failed (SEND_ERROR was reported)."""
        slot = self._clients.get(fd)
        if slot is None:
            return
        n = len(data)
        if n < _COALESCE and type(data) is bytes:
            if lib.kvu_send(self._u, slot, data, n) < 0:
                raise MemoryError("io_uring engine: no memory for a send")
            return
        self._send_slow(slot, data, n)

    def _send_slow(self, slot, data, n):
        if not n:
            return
        if isinstance(data, memoryview) and (data.ndim != 1 or data.itemsize != 1
                                              or not data.c_contiguous):
            data = data.tobytes()
        elif isinstance(data, bytearray) and n >= _COALESCE:
            data = bytes(data)  # the caller may reuse its bytearray at once
        ptr = ffi.from_buffer(data)
        if n < _COALESCE:
            ret = lib.kvu_send(self._u, slot, ptr, n)
        else:
            ret = lib.kvu_send_pinned(self._u, slot, ptr, n)
            if ret == 0:
                pins = self._pins.get(slot)
                if pins is None:
                    pins = self._pins[slot] = deque()
                pins.append(ptr)    # holds `data` too
        if ret < 0:
            raise MemoryError("io_uring engine: no memory for a send")

    def queued_bytes(self, fd: int) -> int:
        slot = self._clients.get(fd)
        return lib.kvu_queued(self._u, slot) if slot is not None else 0

    # -- the loop turn -----------------------------------------------------

    def poll(self, timeout: float | None) -> list:
        """One loop turn: submit everything queued, wait up to `timeout`
        seconds for completions (None: until one arrives, 0: not at all),
        return [(data, kind, value), ...].  May return [] early when a
        signal interrupts the wait."""
        u = self._u
        if u is None:
            raise RuntimeError("poll() on a closed UringEngine")
        if timeout is None:
            ns = -1
        elif timeout <= 0:
            ns = 0
        else:
            ns = int(timeout * 1e9) or 1
        n = lib.kvu_poll(u, self._ev, _BATCH, ns)
        if n < 0:
            raise OSError(-n, f"io_uring_enter: {os.strerror(-n)}")
        events = []
        while n:
            self._events(n, events)
            if n <= self._more:
                break
            n = lib.kvu_reap(u, self._ev, _BATCH)
        return events

    def _events(self, n, events):
        datas = self._data
        bufs = self._bufs
        append = events.append
        parts = None
        for slot, kind, res, off in _unpack_evs(self._evmem[:n * _EV_SIZE]):
            if kind == RECV:
                if parts is None:
                    append((datas[slot], RECV, bufs[off:off + res]))
                else:
                    parts.append(self._bufmv[off:off + res])
                    append((datas[slot], RECV, b"".join(parts)))
                    parts = None
            elif kind < _E_RECV_INBUF:
                append((datas[slot], kind, res))
            elif kind == _E_RECV_PART:
                # C writes a client's parts and their RECV together.
                if parts is None:
                    parts = []
                parts.append(self._bufmv[off:off + res])
            elif kind == _E_UNPIN:
                pins = self._pins[slot]
                for _ in range(res):
                    pins.popleft()
                if not pins:
                    del self._pins[slot]
            else:  # _E_RECV_INBUF
                append((datas[slot], RECV, ffi.unpack(lib.kvu_inbuf(self._u, slot), res)))

    # -- for the tests -----------------------------------------------------

    def _nregs(self) -> int:
        """Registrations alive, zombies included."""
        return lib.kvu_nregs(self._u)

    def _pending(self) -> int:
        """Registrations with work recorded for the next poll()."""
        return lib.kvu_pending(self._u)

    def _throttles(self) -> int:
        """Times a client's recv was stopped for its backlog."""
        return lib.kvu_throttles(self._u)

    def _set_budget(self, nbytes: int = 0, nbufs: int = 0) -> None:
        """Received bytes / buffers handed over per client per poll()."""
        lib.kvu_set_budget(self._u, nbytes, nbufs)

    def close(self) -> None:
        """Cancel everything, wait (bounded) for the kernel to let go of
        every buffer, and free the rings.  The fds stay open: the caller
        owns them."""
        u = getattr(self, "_u", None)
        if u is None:
            return
        for slot in list(self._clients.values()) + list(self._listeners.values()):
            self._remove(slot)
        self._clients.clear()
        self._listeners.clear()
        deadline = time.monotonic() + _CLOSE_DRAIN_S
        try:
            while lib.kvu_busy(u) and time.monotonic() < deadline:
                self.poll(0.05)
        except OSError:
            pass
        drained = not lib.kvu_busy(u)
        if not drained:
            # Requests the kernel has not finished: keep what they may
            # read (the C side keeps its own memory).
            _abandoned.append(self._pins)
        self._drained = drained
        self._u = None
        lib.kvu_close(u, 1 if drained else 0)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
