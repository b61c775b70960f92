"""One connection's state: buffers, selected db, protocol, auth, MULTI.

A Client never executes anything itself: the server's read phase feeds it
bytes, its parser yields argument vectors into `pending`, the execute phase
runs them, handlers' replies accumulate in `reply` and the write phase
sends them (see kvserver.server).
"""

import itertools
import socket

from kvserver import clock
from kvserver.net.resp import RequestParser

_ids = itertools.count(1)
# One string per local address: every client of a listener has the same
# laddr, and 10,000 copies of it are 640 KB.  Bounded, for a wildcard bind
# on a host with many addresses.
_laddrs = {}
_LADDRS_MAX = 256

# flags (CLIENT LIST "flags=" letters come from these)
CLOSE_AFTER_REPLY = 1
CLOSE_ASAP = 2
UNIX_SOCKET = 4
MULTI = 8
DIRTY_EXEC = 16
BLOCKED = 32
NO_EVICT = 64          # CLIENT NO-EVICT ON


class Client:
    __slots__ = (
        "id", "sock", "fd", "addr", "laddr", "parser", "pending", "reply",
        "reply_bytes", "out", "db", "resp", "name", "lib_name", "lib_ver",
        "authenticated", "user", "flags", "multi", "dirty_cas", "watching",
        "ctime", "last_interaction", "last_cmd", "want_write", "closed",
        "server", "qbuf_peak", "tot_net_in", "tot_net_out", "tot_cmds",
        "blocked", "kind",
    )

    def __init__(self, server, sock: socket.socket | None, addr: str, laddr: str,
                 unix: bool = False):
        self.id = next(_ids)
        self.server = server
        self.sock = sock
        self.fd = sock.fileno() if sock is not None else -1
        self.addr = addr
        la = _laddrs.get(laddr)
        if la is None:
            la = laddr
            if len(_laddrs) < _LADDRS_MAX:
                _laddrs[laddr] = laddr
        self.laddr = la
        self.parser = RequestParser()
        self.pending = []          # parsed commands not yet executed
        self.reply = []            # encoded replies not yet written
        self.reply_bytes = 0
        self.out = None            # memoryview of a partially written reply
        self.db = server.keyspace[0]
        self.resp = 2
        self.name = None
        self.lib_name = None
        self.lib_ver = None
        self.authenticated = not server.config.requirepass
        self.user = "default"
        self.flags = UNIX_SOCKET if unix else 0
        self.multi = None          # list of queued commands inside MULTI
        self.dirty_cas = False     # a WATCHed key was touched
        self.watching = None       # list of (db, key) WATCHed
        self.ctime = clock.now_ms()
        self.last_interaction = self.ctime
        self.last_cmd = b"NULL"
        self.want_write = False    # registered for writability
        self.closed = False
        self.qbuf_peak = 0
        self.tot_net_in = 0
        self.tot_net_out = 0
        self.tot_cmds = 0
        self.blocked = None
        self.kind = "normal"

    def add_reply(self, data: bytes):
        self.reply.append(data)

    def push(self, data: bytes):
        """Reply bytes for a client other than the one running a command
        (an unblocked client's reply; pub/sub messages, MONITOR lines and
        invalidations will come this way): queued, and the client is put
        in the next write phase, which the I/O threads or the io_uring
        engine carry like any other reply."""
        self.reply.append(data)
        if not self.want_write:
            self.server.pending_write.append(self)

    def has_output(self) -> bool:
        return bool(self.reply) or self.out is not None

    def __repr__(self):
        return f"<Client id={self.id} addr={self.addr}>"
