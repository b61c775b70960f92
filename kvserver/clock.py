"""The one clock every part of the server reads.

Tests replace `now_ms`/`now_us` (see `freeze`) to make expiry deterministic
without sleeping.  Everything that compares against TTLs must go through
here so a frozen clock is seen consistently.
"""

import time

_time_ns = time.time_ns


def now_ms() -> int:
    return _time_ns() // 1_000_000


def now_us() -> int:
    return _time_ns() // 1_000


def freeze(ms: int | None) -> None:
    """Pin the clock at `ms` milliseconds (None restores real time)."""
    global _time_ns
    _time_ns = time.time_ns if ms is None else (lambda: ms * 1_000_000)
