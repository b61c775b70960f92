"""epoll backend: level-triggered, O(ready) per poll."""

import select

from kvserver.net.reactor import READABLE, WRITABLE, Backend

_IN = select.EPOLLIN | select.EPOLLRDHUP
_OUT = select.EPOLLOUT
# Errors and hang-ups are reported as readable: the following recv() sees
# the reset or the EOF and the client is closed through the normal path.
_ERRS = select.EPOLLERR | select.EPOLLHUP | select.EPOLLRDHUP


def _events(mask: int) -> int:
    ev = 0
    if mask & READABLE:
        ev |= _IN
    if mask & WRITABLE:
        ev |= _OUT
    return ev


class EpollBackend(Backend):
    name = "epoll"

    def __init__(self):
        self._ep = select.epoll()
        self._data = {}

    def register(self, fd, mask, data):
        self._ep.register(fd, _events(mask))
        self._data[fd] = data

    def modify(self, fd, mask, data):
        self._ep.modify(fd, _events(mask))
        self._data[fd] = data

    def unregister(self, fd):
        self._data.pop(fd, None)
        try:
            self._ep.unregister(fd)
        except (OSError, ValueError):
            pass

    def poll(self, timeout):
        try:
            ready = self._ep.poll(-1 if timeout is None else timeout, 1024)
        except InterruptedError:
            return []
        data = self._data
        out = []
        for fd, ev in ready:
            d = data.get(fd)
            if d is None:
                continue
            mask = 0
            if ev & (_IN | _ERRS):
                mask = READABLE
            if ev & _OUT:
                mask |= WRITABLE
            out.append((d, mask))
        return out

    def close(self):
        self._ep.close()
