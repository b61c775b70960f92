"""Redis 6 threaded I/O: the read and write phases fanned out to C workers.

With `io-threads N` (N > 1) the server owns a pool of N-1 worker threads
(kvserver/native/iothreads.c).  Each loop turn, while threaded I/O is
active, the clients with pending reads and then the clients with pending
replies are spread round robin over the main thread and the workers, as
`handleClientsWithPending{Reads,Writes}UsingThreads` do in networking.c.
The workers run C only: recv() into a slab slice and the request scan, or
send() of a slice of the joined replies, with the GIL released.  Python
objects are made and read on the main thread alone, before the batch
(which fds, which bytes) and after it (turning bytes read into argument
vectors, queueing what was not sent); commands run on the main thread
only, in client order, after the read batch.

Activation follows `stopThreadedIOIfNeeded`: the threads are used only
while at least 2*N clients have replies pending at a loop turn's write
phase, so a lone client never pays a thread hand-off.  A client whose
next argument is bigger than a slab slice, or that is not at a request
boundary, is still read; its scan is just left to the main thread.

Invariant: between `read` (or `write`) starting a batch and returning,
nothing else touches those clients or their sockets: the main thread is
inside the batch itself.  Clients closed before a batch is built are left
out of it, so a recycled fd number is never read for a stale client.
"""

import errno
import os
from array import array

from kvserver.log import logger
from kvserver.native import ffi, lib



def available() -> bool:
    return lib is not None and hasattr(lib, "kv_iot_create")


class IOThreads:
    """The pool and its statistics; `None` in the server when io-threads is 1."""

    def __init__(self, nthreads: int, do_reads: bool, chunk: int):
        if not available():
            raise RuntimeError("io-threads needs kvserver's native module "
                               "(reinstall kvserver with a C compiler)")
        self.nthreads = nthreads
        self.do_reads = do_reads
        self.chunk = chunk           # one recv per client per turn, of the server's read size
        self.pool = lib.kv_iot_create(nthreads - 1)
        if self.pool == ffi.NULL:
            raise RuntimeError("Fatal: Can't initialize IO thread.")
        # KVSERVER_IO_THREADS_ALWAYS=1 (tests only) uses the threads for
        # every batch, so that suites of one-client tests go through them.
        always = os.environ.get("KVSERVER_IO_THREADS_ALWAYS") == "1"
        self.min_pending = 1 if always else 2 * nthreads
        self.active = False          # io_threads_active
        self.reads_processed = 0     # io_threaded_reads_processed
        self.writes_processed = 0    # io_threaded_writes_processed
        self._cap = 0
        self._grow(64)

    def _grow(self, cap: int):
        self._cap = cap
        self._slab = ffi.new("char[]", cap * self.chunk)
        self._results = ffi.new("long long[]", cap)
        self._scanned = ffi.new("long long[]", cap)
        self._slab_buf = ffi.buffer(self._slab)

    def should_run(self, pending_writes: int) -> bool:
        """stopThreadedIOIfNeeded(): on while enough clients have work."""
        self.active = pending_writes >= self.min_pending
        return self.active

    def read(self, clients: list, max_bulk: int) -> list:
        """recv() for every client; returns [(client, data | None, err)].

        data is the bytes read (b"" at EOF), None when nothing was there or
        on error; err is 0 or the errno of a failed recv.  Each entry also
        carries the scan of the bytes read when the client was at a request
        boundary (see RequestParser.feed_scanned), else None.
        """
        n = len(clients)
        if n > self._cap:
            self._grow(max(n, 2 * self._cap))
        fds = array("i", [c.fd for c in clients])
        scan = array("b", [c.parser.at_boundary() and c.authenticated for c in clients])
        results, scanned = self._results, self._scanned
        lib.kv_iot_read(self.pool, self.nthreads, ffi.from_buffer("int[]", fds), n,
                        self._slab, self.chunk, ffi.from_buffer("signed char[]", scan),
                        max_bulk, results, scanned)
        self.reads_processed += n
        buf = self._slab_buf
        chunk = self.chunk
        out = []
        for i, c in enumerate(clients):
            r = results[i]
            if r > 0:
                base = i * chunk
                out.append((c, buf[base:base + r], 0, scanned[i] if scan[i] else None))
            elif r == 0:
                out.append((c, b"", 0, None))
            else:
                out.append((c, None, -r, None))
        return out

    def write(self, jobs: list) -> list:
        """send() each (client, data) pair's bytes; returns the counts sent,
        or -errno where a send failed before anything went out."""
        n = len(jobs)
        if n > self._cap:
            self._grow(max(n, 2 * self._cap))
        keep = [ffi.from_buffer(d) for _, d in jobs]     # alive until the batch ends
        lens = array("q", [len(d) for _, d in jobs])
        fds = array("i", [c.fd for c, _ in jobs])
        results = self._results
        lib.kv_iot_write(self.pool, self.nthreads, ffi.from_buffer("int[]", fds), n,
                         ffi.new("char *[]", keep), ffi.from_buffer("long long[]", lens),
                         results)
        self.writes_processed += n
        return ffi.unpack(results, n)

    def close(self):
        if self.pool is not None:
            lib.kv_iot_destroy(self.pool)
            self.pool = None


def is_retry(err: int) -> bool:
    return err in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR)


def create(config, chunk: int) -> IOThreads | None:
    """The pool for `io-threads`, or None when it is 1 (threaded I/O off);
    `chunk` is the server's read size."""
    n = config.io_threads
    if n <= 1:
        return None
    iot = IOThreads(n, config.io_threads_do_reads, chunk)
    logger.verbose(f"{n - 1} I/O threads started")
    return iot
