"""Which event loop `io-backend` gives: auto takes io_uring where the kernel
allows it and falls back to epoll with one log line, `uring` refused is a
start-up error with the reason, io-threads > 1 keeps auto on epoll.

The kernel's refusal is simulated by replacing `uring.available`, so these
run the same on machines with and without io_uring.
"""

import pytest
import redis

from conftest import start_kvserver
from kvserver.config import Config
from kvserver.log import logger
from kvserver.net import reactor, uring
from kvserver.server import Server

REASON = "io_uring is not available: Operation not permitted (simulated)"


@pytest.fixture
def refused(monkeypatch):
    monkeypatch.setattr(uring, "available", lambda: REASON)


@pytest.fixture
def log_lines(monkeypatch):
    lines = []
    monkeypatch.setattr(logger, "notice", lines.append)
    return lines


def make(**directives):
    cfg = Config()
    for k, v in directives.items():
        setattr(cfg, k, v)
    srv = Server(cfg)
    return srv, srv.make_backend(cfg.maxclients + reactor.MIN_RESERVED_FDS)


def test_auto_falls_back_to_epoll_with_one_line(refused, log_lines):
    srv, backend = make(io_backend="auto")
    try:
        assert backend.name == "epoll" and not srv.completion
        assert log_lines == [REASON + "; using epoll instead"]
    finally:
        backend.close()


def test_uring_refused_is_an_error_with_the_reason(refused):
    with pytest.raises(ValueError, match="Operation not permitted"):
        make(io_backend="uring")


def test_io_threads_keep_auto_on_a_readiness_loop(log_lines):
    srv, backend = make(io_backend="auto", io_threads=4)
    try:
        assert backend.name == "epoll" and not srv.completion
        assert log_lines == []
    finally:
        backend.close()


@pytest.mark.skipif(uring.available() is not None, reason=f"io_uring: {uring.available()}")
def test_auto_takes_io_uring_where_the_kernel_allows_it():
    with start_kvserver() as (_, port):
        c = redis.Redis(port=port)
        try:
            assert c.info("server")["multiplexing_api"] == "io_uring"
        finally:
            c.close()
