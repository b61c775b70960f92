"""poll(2) backend: portable to every POSIX system, O(watched) per poll."""

import select

from kvserver.net.reactor import READABLE, WRITABLE, Backend

_ERRS = select.POLLERR | select.POLLHUP | select.POLLNVAL


class PollBackend(Backend):
    name = "poll"

    def __init__(self):
        self._p = select.poll()
        self._data = {}

    @staticmethod
    def _events(mask):
        return ((select.POLLIN if mask & READABLE else 0)
                | (select.POLLOUT if mask & WRITABLE else 0))

    def register(self, fd, mask, data):
        self._p.register(fd, self._events(mask))
        self._data[fd] = data

    def modify(self, fd, mask, data):
        self._p.modify(fd, self._events(mask))
        self._data[fd] = data

    def unregister(self, fd):
        self._data.pop(fd, None)
        try:
            self._p.unregister(fd)
        except (KeyError, ValueError):
            pass

    def poll(self, timeout):
        ms = None if timeout is None else max(0, int(timeout * 1000 + 0.999))
        try:
            ready = self._p.poll(ms)
        except InterruptedError:
            return []
        out = []
        for fd, ev in ready:
            d = self._data.get(fd)
            if d is None:
                continue
            mask = READABLE if ev & (select.POLLIN | _ERRS) else 0
            if ev & select.POLLOUT:
                mask |= WRITABLE
            out.append((d, mask))
        return out
