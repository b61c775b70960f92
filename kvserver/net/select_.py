"""select(2) backend: the last resort, limited to FD_SETSIZE descriptors."""

import select

from kvserver.net.reactor import READABLE, WRITABLE, Backend


class SelectBackend(Backend):
    name = "select"

    def __init__(self):
        self._r = set()
        self._w = set()
        self._data = {}

    def register(self, fd, mask, data):
        self.modify(fd, mask, data)

    def modify(self, fd, mask, data):
        self._data[fd] = data
        (self._r.add if mask & READABLE else self._r.discard)(fd)
        (self._w.add if mask & WRITABLE else self._w.discard)(fd)

    def unregister(self, fd):
        self._data.pop(fd, None)
        self._r.discard(fd)
        self._w.discard(fd)

    def poll(self, timeout):
        try:
            r, w, x = select.select(self._r, self._w, self._r, timeout)
        except InterruptedError:
            return []
        masks = {}
        for fd in r:
            masks[fd] = READABLE
        for fd in x:
            masks[fd] = READABLE
        for fd in w:
            masks[fd] = masks.get(fd, 0) | WRITABLE
        return [(self._data[fd], m) for fd, m in masks.items() if fd in self._data]
