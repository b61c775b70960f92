"""The event-loop interface every I/O backend implements, and backend choice.

A backend watches file descriptors for readability and writability and
hands back the caller's own object for each ready one, as `ae.c`'s
`aeApiPoll` does.  It is deliberately smaller than `selectors`: no key
objects, one list of `(data, mask)` pairs per poll, because the loop calls
it for every batch of commands.

Backends: epoll (Linux), poll, select.  `create("auto")` picks the best
one this platform has, probing at run time.  The io_uring completion
engine (kvserver/net/uring.py) does not fit this readiness interface; the
server chooses between it and these (Server.make_backend).

A loop is created for a set size, as Redis's aeCreateEventLoop(setsize):
the number of descriptors it must be able to watch, maxclients plus the
MIN_RESERVED_FDS that adjustOpenFilesLimit() keeps for listeners, files
and pipes.  A backend that cannot watch that many refuses at creation
(`SetSizeError`), so the server fails at start-up, not when the first
descriptor it cannot watch arrives.
"""

import select

READABLE = 1
WRITABLE = 2

# CONFIG_MIN_RESERVED_FDS: descriptors beyond maxclients kept for the
# listeners, persistence files, pipes and the log.
MIN_RESERVED_FDS = 32


class SetSizeError(ValueError):
    """The backend cannot watch the descriptors the set size asks for."""


class Backend:
    """Abstract backend.  `poll(timeout)` takes seconds (None = forever)."""

    name = "abstract"

    def register(self, fd: int, mask: int, data) -> None:
        raise NotImplementedError

    def modify(self, fd: int, mask: int, data) -> None:
        raise NotImplementedError

    def unregister(self, fd: int) -> None:
        raise NotImplementedError

    def poll(self, timeout: float | None) -> list:
        raise NotImplementedError

    def resize(self, setsize: int) -> bool:
        """aeResizeSetSize(): can this loop watch `setsize` descriptors now?
        (CONFIG SET maxclients.)  Only select has a ceiling."""
        return True

    def close(self) -> None:
        pass


def available() -> list[str]:
    names = []
    if hasattr(select, "epoll"):
        names.append("epoll")
    if hasattr(select, "poll"):
        names.append("poll")
    names.append("select")
    return names


def create(name: str = "auto", setsize: int | None = None) -> Backend:
    """Instantiate the backend called `name`; 'auto' takes the best available.

    `setsize` (maxclients + MIN_RESERVED_FDS) is checked against what the
    backend can watch: SetSizeError (a ValueError) when it cannot.
    """
    if name == "auto":
        name = available()[0]
    if name not in available():
        raise ValueError(f"io-backend '{name}' is not available on this platform")
    if name == "epoll":
        from kvserver.net.epoll import EpollBackend
        return EpollBackend()
    if name == "poll":
        from kvserver.net.poll import PollBackend
        return PollBackend()
    from kvserver.net.select_ import SelectBackend
    return SelectBackend(setsize)
