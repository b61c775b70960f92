"""select(2) backend: the last resort, limited to FD_SETSIZE descriptors.

select() can watch only descriptors below FD_SETSIZE (1024 with glibc;
CPython raises ValueError for any other).  So the backend refuses, when it
is created, a set size beyond that: `io-backend select` serves at most
maxclients 992 (992 + MIN_RESERVED_FDS = 1024), and a larger maxclients
stops the server at start-up, as a failing aeCreateEventLoop() does.

That bounds the number of clients, not the descriptor numbers: the open
files limit is only ever raised, so with a limit above 1024 and more than
MIN_RESERVED_FDS other descriptors open (persistence files, a child's
pipes), a client can still be accepted on a descriptor select cannot
watch.  Such a client is refused as one beyond maxclients is - Redis's
max-clients error, then the connection is closed - and the loop goes on:
see `_refuse`.
"""

import errno
import os
import select
import socket

from kvserver.errors import MAX_CLIENTS
from kvserver.log import logger
from kvserver.net.reactor import MIN_RESERVED_FDS, READABLE, WRITABLE, Backend, SetSizeError

FD_SETSIZE = 1024
_REFUSAL = b"-" + MAX_CLIENTS + b"\r\n"


class SelectBackend(Backend):
    name = "select"

    def __init__(self, setsize: int | None = None):
        if setsize is not None and not self.resize(setsize):
            # the set size is maxclients + MIN_RESERVED_FDS (reactor.create)
            maxclients = setsize - MIN_RESERVED_FDS
            raise SetSizeError(
                f"io-backend select can only watch file descriptors below FD_SETSIZE "
                f"({FD_SETSIZE}), but maxclients {maxclients} needs {setsize} ({maxclients} "
                f"+ {MIN_RESERVED_FDS} reserved): set maxclients to "
                f"{FD_SETSIZE - MIN_RESERVED_FDS} or less, or use io-backend epoll or poll")
        self._r = set()
        self._w = set()
        self._data = {}
        self._refused = {}     # fd -> data: clients on a descriptor >= FD_SETSIZE
        # A socket whose peer is gone (see _refuse), made now: when it is
        # needed, descriptors may be running out.
        self._dead, peer = socket.socketpair()
        peer.close()

    def resize(self, setsize):
        return setsize <= FD_SETSIZE

    def register(self, fd, mask, data):
        if fd >= FD_SETSIZE:
            self._refuse(fd, data)
            return
        self.modify(fd, mask, data)

    def modify(self, fd, mask, data):
        if fd in self._refused:
            self._refused[fd] = data
            return
        self._data[fd] = data
        (self._r.add if mask & READABLE else self._r.discard)(fd)
        (self._w.add if mask & WRITABLE else self._w.discard)(fd)

    def unregister(self, fd):
        self._data.pop(fd, None)
        self._refused.pop(fd, None)
        self._r.discard(fd)
        self._w.discard(fd)

    def _refuse(self, fd, data):
        """A connection accepted on a descriptor select() cannot watch.

        It gets the max-clients error, then the connection itself is closed
        by putting a dead socket (its peer closed) on the same descriptor
        number with dup2().  The caller's socket object still owns the
        number; the next poll reports it readable, the read finds end of
        file, and the client is freed through the usual path, without a
        single command of the refused connection having run.
        """
        try:
            sock = socket.socket(fileno=fd)        # a view, detached below
        except OSError:
            sock = None
        try:
            if sock is None or sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                raise SetSizeError(f"io-backend select cannot watch descriptor {fd}: "
                                   f"not below FD_SETSIZE ({FD_SETSIZE})")
            logger.warning("Error registering fd event for the new client: "
                           f"{os.strerror(errno.ERANGE)} (fd={fd}, io-backend select watches "
                           f"descriptors below FD_SETSIZE={FD_SETSIZE}): refusing it")
            try:
                sock.send(_REFUSAL)
                # What it sent already is dropped: closing a socket with
                # unread input resets the connection, and a reset may
                # discard the error before the client reads it.
                for _ in range(16):
                    if not sock.recv(65536, socket.MSG_DONTWAIT):
                        break
            except OSError:
                pass
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        finally:
            if sock is not None:
                sock.detach()
        os.dup2(self._dead.fileno(), fd)
        self._refused[fd] = data

    def poll(self, timeout):
        refused = self._refused
        if refused:
            timeout = 0
        try:
            r, w, x = select.select(self._r, self._w, self._r, timeout)
        except InterruptedError:
            r = w = x = ()
        masks = {}
        for fd in r:
            masks[fd] = READABLE
        for fd in x:
            masks[fd] = READABLE
        for fd in w:
            masks[fd] = masks.get(fd, 0) | WRITABLE
        out = [(self._data[fd], m) for fd, m in masks.items() if fd in self._data]
        if refused:
            out += [(d, READABLE) for d in refused.values()]
        return out

    def close(self):
        if self._dead is not None:
            self._dead.close()
            self._dead = None
