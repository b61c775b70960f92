"""io_uring completion engine: accepts, receives and sends as SQEs, one
io_uring_enter per loop turn.

Unlike the readiness backends (epoll, poll, select), nothing here asks
"is this socket readable?".  Every listener has a multishot accept and
every client a multishot recv armed in the kernel; their completions come
back with the data already copied into a provided-buffer ring.  Sends are
submitted as they are queued and complete in the background.  `poll()` is
the whole loop turn: it prepares the SQEs queued since the last turn,
submits them and waits for completions in ONE io_uring_enter (liburing's
io_uring_submit_and_wait_timeout), then turns the CQEs into events:

    (data, ACCEPT, fd)       a new connection on a listener (non-blocking fd)
    (data, RECV, bytes)      data from a client, in order
    (data, CLOSED, 0|errno)  EOF or a receive error; no RECV after it
    (data, SENT, n)          the kernel took n bytes of this client's queue
    (data, SEND_ERROR, errno) the queue is dropped; remove and close the fd

The C half is kvserver/native/build_uring.py; on kernels without multishot
requests (before 5.19/6.0) or without a buffer ring (before 5.19) the
same events come from one-shot requests rearmed after each completion.

Invariants:

- One io_uring_enter per poll().  No method but poll() enters the kernel:
  add_*, remove_*, send() only record work, which poll() turns into SQEs
  right before it submits.  That also makes fd reuse safe: an SQE never
  sits in the ring, unsubmitted, while the caller may close its fd and
  open another with the same number.
- user_data is (registration id << 3) | op kind.  Ids are never reused, so
  a completion for a removed registration (fd closed, number reused by a
  new client) is recognised and dropped.  A removed registration lives on
  as a zombie, holding its buffers, until every request it had in flight
  has posted its final CQE (cancels are submitted for them); then it is
  forgotten.
- At most one request of each kind per registration is in flight: one
  accept, one recv, one send, one back-off timer.  So one send per fd at a
  time (the order of the queue is the order on the wire) and a cancel by
  user_data names exactly one request.
- The memory the kernel reads or writes stays alive until the request's
  final CQE: send data is pinned by the registration (ffi.from_buffer of a
  bytes copy for bytearrays; memoryviews as given, which the caller must
  not change until queued_bytes() says they are gone), the provided
  buffers belong to the C side, which recycles each one after the batch
  that reported it has been copied out.
- Errors never raise out of poll() except a failure of the ring itself;
  per-connection failures become CLOSED/SEND_ERROR events, accept failures
  are counted (accept_errors, last_accept_error) and retried after a
  100 ms back-off timer, so EMFILE cannot spin the loop.

The engine is single-threaded: one thread makes every call.
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

# Op kinds in the low 3 bits of user_data.
_K_ACCEPT, _K_RECV, _K_RECV_INTO, _K_SEND, _K_CANCEL, _K_TIMER = range(6)
_KIND_BITS = 3
_KIND_MASK = (1 << _KIND_BITS) - 1
_UD_CANCEL = _K_CANCEL  # cancels carry registration id 0: nobody's

# CQEs copied per C call; a bigger batch is reaped in several copies
# without entering the kernel again.
_BATCH = 1024
# struct kvu_cqe {uint64_t user_data; int32_t res; uint32_t flags;}
_CQE = struct.Struct("=QiI")
_CQE_SIZE = _CQE.size
_unpack_cqes = _CQE.iter_unpack
# Queued sends smaller than this are joined into one send of up to this
# many bytes (replies of a pipeline queued in one turn); larger ones go
# out as they are, without a copy.
_COALESCE = 65536
# How long close() waits for cancelled requests to finish before it gives
# up and leaves their memory allocated.
_CLOSE_DRAIN_S = 2.0

_FEATURES = {
    "multishot_accept": 1,  # KVU_CAP_MULTISHOT_ACCEPT
    "multishot_recv": 2,    # KVU_CAP_MULTISHOT_RECV
    "buf_ring": 4,          # KVU_CAP_BUF_RING
}

# Accept failures after which a new accept is tried at once; anything
# else (EMFILE, ENFILE, ENOMEM, ...) waits for the back-off timer.
_ACCEPT_RETRY_NOW = frozenset({_errno.ECONNABORTED, _errno.EINTR, _errno.EAGAIN,
                               _errno.EPROTO, _errno.EPERM, _errno.ENETDOWN,
                               _errno.EHOSTUNREACH, _errno.ENETUNREACH})
_TRANSIENT = frozenset({_errno.EINTR, _errno.EAGAIN})

# Objects the kernel may still touch when close() gave up waiting: never
# freed, so a late request cannot write into reused memory.
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


class _Reg:
    """One registration: a listener or a client, alive or a zombie."""

    __slots__ = ("id", "fd", "data", "listener", "armed", "removed", "closed",
                 "outq", "queued", "cur", "cur_c", "off", "sending",
                 "send_failed", "inbuf")

    def __init__(self, rid, fd, data, listener):
        self.id = rid
        self.fd = fd
        self.data = data
        self.listener = listener
        self.armed = 0          # bit (1 << kind) per request in flight
        self.removed = False    # zombie: no events, only draining
        self.closed = False     # recv side finished (CLOSED reported)
        self.outq = deque()     # queued send objects, not yet started
        self.queued = 0         # bytes queued or in flight, unsent
        self.cur = None         # object being sent (kept alive for the kernel)
        self.cur_c = None       # its ffi.from_buffer pointer
        self.off = 0            # bytes of cur already sent
        self.sending = False    # a send is pending or in flight
        self.send_failed = False
        self.inbuf = None       # recv buffer without a buffer ring


class UringEngine:
    """The io_uring engine.  See the module docstring for the contract."""

    name = "io_uring"

    def __init__(self, entries: int = 4096, buf_size: int = 16384,
                 nbufs: int = 1024, *, disable=()):
        """`disable` names features not to use even when the kernel has
        them ("multishot_accept", "multishot_recv", "buf_ring"): the tests
        drive the one-shot fallbacks with it."""
        if lib is None:
            raise UringUnavailable(available())
        assert ffi.sizeof("struct kvu_cqe") == _CQE_SIZE
        if not 1 <= entries <= 32768:
            raise ValueError("entries must be 1..32768")
        if buf_size < 64:
            raise ValueError("buf_size must be at least 64")
        # The kernel wants a power-of-two buffer ring of at most 32768.
        if not 1 <= nbufs <= 32768 or nbufs & (nbufs - 1):
            raise ValueError("nbufs must be a power of two, 1..32768")
        want = 0
        for name, bit in _FEATURES.items():
            if name not in disable:
                want |= bit
        err = ffi.new("int *")
        u = lib.kvu_open(entries, buf_size, nbufs, want, err)
        if u == ffi.NULL:
            raise UringUnavailable(_reason(-err[0]))
        self._u = u
        caps = lib.kvu_caps(u)
        self.features = frozenset(n for n, bit in _FEATURES.items() if caps & bit)
        self._ms_accept = "multishot_accept" in self.features
        self._ms_recv = "multishot_recv" in self.features
        self._buf_ring = "buf_ring" in self.features
        self._buf_size = buf_size
        self._bufs = (ffi.buffer(lib.kvu_bufs(u), nbufs * buf_size)
                      if self._buf_ring else None)
        self._cq = ffi.new("struct kvu_cqe[]", _BATCH)
        self._cqmem = memoryview(ffi.buffer(self._cq))
        self._regs = {}         # id -> _Reg, zombies included
        self._clients = {}      # fd -> live client _Reg
        self._listeners = {}    # fd -> live listener _Reg
        self._next_id = 1
        self._todo = []         # (reg, kind) to prepare at the next poll
        self._cancels = []      # user_data to cancel at the next poll
        self._ncancel = 0       # cancel requests in flight
        self.accept_errors = 0
        self.last_accept_error = 0

    # -- registration ------------------------------------------------------

    def _new_reg(self, fd, data, listener):
        reg = _Reg(self._next_id, fd, data, listener)
        self._next_id += 1
        self._regs[reg.id] = reg
        return reg

    def add_listener(self, sock, data) -> None:
        """Accept connections on the listening socket `sock` (multishot)."""
        fd = sock.fileno()
        if fd in self._listeners:
            raise ValueError(f"fd {fd} is already a listener")
        reg = self._new_reg(fd, data, True)
        self._listeners[fd] = reg
        self._todo.append((reg, _K_ACCEPT))

    def remove_listener(self, fd: int) -> None:
        reg = self._listeners.pop(fd, None)
        if reg is not None:
            self._retire(reg)

    def add_client(self, fd: int, data) -> None:
        """Start receiving on the connected socket `fd`."""
        if fd in self._clients:
            raise ValueError(f"fd {fd} is already a client")
        reg = self._new_reg(fd, data, False)
        if not self._buf_ring:
            reg.inbuf = ffi.new("char[]", self._buf_size)
        self._clients[fd] = reg
        self._todo.append((reg, _K_RECV))

    def remove_client(self, fd: int) -> None:
        """Forget `fd`: no event of this registration is reported again.

        Its requests in flight are cancelled at the next poll(); the
        caller may close the fd at once (the kernel holds its own
        reference to the socket until they finish)."""
        reg = self._clients.pop(fd, None)
        if reg is not None:
            self._retire(reg)

    def _retire(self, reg):
        reg.removed = True
        reg.outq.clear()
        reg.queued = 0
        armed = reg.armed
        if not armed:
            self._forget(reg)
            return
        base = reg.id << _KIND_BITS
        for kind in (_K_ACCEPT, _K_RECV, _K_RECV_INTO, _K_SEND, _K_TIMER):
            if armed & (1 << kind):
                self._cancels.append(base | kind)

    def _forget(self, reg):
        self._regs.pop(reg.id, None)
        reg.cur = reg.cur_c = reg.inbuf = None

    # -- sending -----------------------------------------------------------

    def send(self, fd: int, data) -> None:
        """Queue `data` (bytes, bytearray or memoryview) for `fd`.

        Ignored for an fd that is not a client (already removed) or whose
        sends failed (SEND_ERROR was reported)."""
        reg = self._clients.get(fd)
        if reg is None or reg.send_failed or not len(data):
            return
        if isinstance(data, bytearray):
            data = bytes(data)  # the caller may reuse its bytearray at once
        elif isinstance(data, memoryview) and (data.ndim != 1 or data.itemsize != 1
                                                or not data.c_contiguous):
            data = data.tobytes()
        reg.outq.append(data)
        reg.queued += len(data)
        if not reg.sending:
            reg.sending = True
            self._todo.append((reg, _K_SEND))

    def queued_bytes(self, fd: int) -> int:
        reg = self._clients.get(fd)
        return reg.queued if reg is not None else 0

    # -- the loop turn -----------------------------------------------------

    def _prepare(self) -> bool:
        """Turns the recorded work into SQEs.  False when the SQ filled up
        (the rest waits for the next turn, which then must not sleep)."""
        u = self._u
        while self._cancels:
            if lib.kvu_cancel(u, self._cancels[-1], _UD_CANCEL) < 0:
                return False
            self._cancels.pop()
            self._ncancel += 1
        todo = self._todo
        if not todo:
            return True
        self._todo = []
        for i, (reg, kind) in enumerate(todo):
            if reg.removed:
                continue
            if kind == _K_RECV and not self._buf_ring:
                kind = _K_RECV_INTO
            ud = (reg.id << _KIND_BITS) | kind
            if kind == _K_SEND:
                if reg.cur is None:
                    self._next_chunk(reg)
                ret = lib.kvu_send(u, reg.fd, ud, reg.cur_c, reg.off,
                                   len(reg.cur) - reg.off)
            elif kind == _K_RECV:
                ret = lib.kvu_recv(u, reg.fd, ud, self._ms_recv)
            elif kind == _K_RECV_INTO:
                ret = lib.kvu_recv_into(u, reg.fd, ud, reg.inbuf, self._buf_size)
            elif kind == _K_ACCEPT:
                ret = lib.kvu_accept(u, reg.fd, ud, self._ms_accept)
            else:  # _K_TIMER
                ret = lib.kvu_backoff(u, ud)
            if ret < 0:  # SQ full: keep this and the rest for the next turn
                self._todo = todo[i:] + self._todo
                return False
            reg.armed |= 1 << kind
        return True

    def _next_chunk(self, reg):
        q = reg.outq
        cur = q.popleft()
        if q and len(cur) < _COALESCE:
            parts = [cur]
            size = len(cur)
            while q and size + len(q[0]) <= _COALESCE:
                item = q.popleft()
                parts.append(item)
                size += len(item)
            if len(parts) > 1:
                cur = b"".join(parts)
        reg.cur = cur
        reg.cur_c = ffi.from_buffer(cur)
        reg.off = 0

    def poll(self, timeout: float | None) -> list:
        """One loop turn: submit everything queued, wait up to `timeout`
        seconds for completions (None: until one arrives, 0: not at all),
        return [(data, kind, value), ...].  May return [] early when a
        signal interrupts the wait."""
        if self._u is None:
            raise RuntimeError("poll() on a closed UringEngine")
        if not self._prepare():
            timeout = 0
        if timeout is None:
            ns = -1
        elif timeout <= 0:
            ns = 0
        else:
            ns = int(timeout * 1e9) or 1
        cq = self._cq
        n = lib.kvu_submit_wait(self._u, cq, _BATCH, ns)
        if n < 0:
            raise OSError(-n, f"io_uring_enter: {os.strerror(-n)}")
        events = []
        while n:
            self._complete(n, events)
            if n < _BATCH:
                break
            n = lib.kvu_reap(self._u, cq, _BATCH)
        return events

    def _complete(self, n, events):
        regs = self._regs
        bufs = self._bufs
        bsize = self._buf_size
        more_flag = lib.KVU_CQE_F_MORE
        shift = lib.KVU_CQE_BUFFER_SHIFT
        # Unpacking the array's bytes in one C loop costs less than half
        # of reading three fields of each cdata struct.
        for ud, res, flags in _unpack_cqes(self._cqmem[:n * _CQE_SIZE]):
            kind = ud & _KIND_MASK
            if kind == _K_CANCEL:
                self._ncancel -= 1
                continue
            reg = regs.get(ud >> _KIND_BITS)
            if reg is None:
                continue
            more = flags & more_flag
            if not more:
                reg.armed &= ~(1 << kind)
            if reg.removed:
                if kind == _K_ACCEPT and res >= 0:
                    os.close(res)  # accepted after remove_listener: nobody's
                if not reg.armed:
                    self._forget(reg)
                continue
            if kind == _K_RECV:
                if res > 0:
                    off = (flags >> shift) * bsize
                    events.append((reg.data, RECV, bufs[off:off + res]))
                    if not more:
                        self._todo.append((reg, _K_RECV))
                else:
                    self._recv_failed(reg, res, events)
            elif kind == _K_SEND:
                self._sent(reg, res, events)
            elif kind == _K_RECV_INTO:
                if res > 0:
                    events.append((reg.data, RECV, ffi.unpack(reg.inbuf, res)))
                    self._todo.append((reg, _K_RECV))
                else:
                    self._recv_failed(reg, res, events)
            elif kind == _K_ACCEPT:
                self._accepted(reg, res, more, events)
            elif kind == _K_TIMER:
                self._todo.append((reg, _K_ACCEPT))

    def _recv_failed(self, reg, res, events):
        err = -res
        if err == _errno.ENOBUFS or err in _TRANSIENT:
            # ENOBUFS: this turn used every provided buffer; they are
            # recycled before the next submit, so the rearm finds some.
            self._todo.append((reg, _K_RECV))
            return
        if err == _errno.EINVAL and self._ms_recv:
            # A kernel that has the opcodes of 6.0 yet refuses multishot
            # recv: fall back to one-shot requests for every client.
            self._ms_recv = False
            self.features = self.features - {"multishot_recv"}
            self._todo.append((reg, _K_RECV))
            return
        reg.closed = True
        events.append((reg.data, CLOSED, err))

    def _sent(self, reg, res, events):
        if res > 0:
            events.append((reg.data, SENT, res))
            reg.queued -= res
            reg.off += res
            if reg.off < len(reg.cur):
                self._todo.append((reg, _K_SEND))  # a short send: the rest
                return
            reg.cur = reg.cur_c = None
            if reg.outq:
                self._todo.append((reg, _K_SEND))
            else:
                reg.sending = False
            return
        # res == 0 cannot come from a stream socket given a non-empty
        # buffer; were it to, resubmitting could spin, so it fails the queue.
        err = -res if res < 0 else _errno.EIO
        if err in _TRANSIENT:
            self._todo.append((reg, _K_SEND))
            return
        reg.send_failed = True
        reg.sending = False
        reg.outq.clear()
        reg.queued = 0
        reg.cur = reg.cur_c = None
        events.append((reg.data, SEND_ERROR, err))

    def _accepted(self, reg, res, more, events):
        if res >= 0:
            events.append((reg.data, ACCEPT, res))
            if not more:
                self._todo.append((reg, _K_ACCEPT))
            return
        err = -res
        if more:  # a failed connection; the multishot accept goes on
            self.accept_errors += 1
            self.last_accept_error = err
            return
        if err == _errno.EINVAL and self._ms_accept:
            # Multishot accept refused: one-shot accepts from now on.
            self._ms_accept = False
            self.features = self.features - {"multishot_accept"}
            self._todo.append((reg, _K_ACCEPT))
            return
        self.accept_errors += 1
        self.last_accept_error = err
        if err in _ACCEPT_RETRY_NOW:
            self._todo.append((reg, _K_ACCEPT))
        else:
            self._todo.append((reg, _K_TIMER))

    @property
    def enters(self) -> int:
        """Calls into the kernel made so far (at most one per poll())."""
        return lib.kvu_enters(self._u) if self._u is not None else 0

    def close(self) -> None:
        """Cancel everything, wait (bounded) for the kernel to let go of
        every buffer, and free the rings.  The fds stay open: the caller
        owns them."""
        u = getattr(self, "_u", None)
        if u is None:
            return
        for reg in list(self._clients.values()) + list(self._listeners.values()):
            self._retire(reg)
        self._clients.clear()
        self._listeners.clear()
        self._todo = []
        deadline = time.monotonic() + _CLOSE_DRAIN_S
        try:
            while ((self._regs or self._ncancel or self._cancels)
                   and time.monotonic() < deadline):
                self.poll(0.05)
        except OSError:
            pass
        drained = not self._regs and not self._ncancel
        if not drained:
            # Requests the kernel has not finished: keep their memory
            # (send data, per-client buffers; the C side keeps its own).
            _abandoned.append(self._regs)
        self._u = None
        lib.kvu_close(u, 1 if drained else 0)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
