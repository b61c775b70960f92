"""Expiry: the EXPIRE and TTL families against redis-server 7.0, lazy and
active expiry over the wire, and kvserver.expire_cycle in process with a
frozen clock (deterministic: no timed asserts, only deadlines to poll by).
"""

import time
import types

import pytest

from kvserver import clock, expire_cycle
from kvserver.keyspace import Keyspace

FAR = 4_000_000_000_000     # a unix time in ms well in the future


def _info(conn, section="stats") -> dict:
    text = conn.call("INFO", section).decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def _poll(fn, deadline=10.0, step=0.02):
    end = time.time() + deadline
    while time.time() < end:
        if fn():
            return True
        time.sleep(step)
    return fn()


# --- EXPIRE family: replies and errors -------------------------------------------

def test_expire_basic(diff):
    diff.run([
        ("SET", "k", "v"), ("EXPIRE", "k", "100"), ("TTL", "k"),
        ("EXPIRE", "nokey", "100"), ("PEXPIRE", "k", "200000"), ("TTL", "k"),
        ("EXPIREAT", "k", str(FAR // 1000)), ("EXPIRETIME", "k"),
        ("PEXPIREAT", "k", str(FAR + 1)), ("PEXPIRETIME", "k"), ("EXPIRETIME", "k"),
        ("PEXPIREAT", "k", str(FAR + 499)), ("EXPIRETIME", "k"),
        ("PEXPIREAT", "k", str(FAR + 500)), ("EXPIRETIME", "k"),
        ("PERSIST", "k"), ("TTL", "k"), ("PTTL", "k"), ("EXPIRETIME", "k"),
        ("PEXPIRETIME", "k"), ("PERSIST", "k"), ("PERSIST", "nokey"),
        ("TTL", "nokey"), ("PTTL", "nokey"), ("EXPIRETIME", "nokey"),
        ("PEXPIRETIME", "nokey"),
    ])


def test_expire_in_the_past_deletes(diff):
    diff.run([
        ("SET", "a", "1"), ("EXPIRE", "a", "-1"), ("EXISTS", "a"),
        ("SET", "b", "1"), ("PEXPIREAT", "b", "0"), ("EXISTS", "b"),
        ("SET", "c", "1"), ("EXPIREAT", "c", "1"), ("EXISTS", "c"),
        ("SET", "d", "1"), ("PEXPIRE", "d", "0"), ("EXISTS", "d"),
        ("SET", "e", "1"), ("EXPIRE", "e", "-9223372036854775"), ("EXISTS", "e"),
        ("SET", "f", "1"), ("PEXPIRE", "f", "-9223372036854775808"), ("EXISTS", "f"),
    ])


def test_expire_overflow_and_bad_numbers(diff):
    diff.call("SET", "k", "v")
    for cmd, arg in (("EXPIRE", "9223372036854775807"), ("EXPIRE", "9223372036854775"),
                     ("EXPIRE", "-9223372036854776"), ("PEXPIRE", "9223372036854775807"),
                     ("EXPIREAT", "9223372036854776"), ("PEXPIREAT", "9223372036854775807"),
                     ("EXPIRE", "x"), ("EXPIRE", "1.5"), ("EXPIRE", " 1"), ("EXPIRE", "01"),
                     ("EXPIRE", ""), ("PEXPIRE", "9223372036854775808")):
        diff.call(cmd, "k", arg)
        diff.call(cmd, "nokey", arg)    # checked before the key is looked up
    diff.call("TTL", "k")


def test_expire_options_errors(diff):
    diff.call("SET", "k", "v")
    for opts in (("NX", "XX"), ("NX", "GT"), ("NX", "LT"), ("GT", "LT"), ("XX", "GT", "LT"),
                 ("foo",), ("NX", "foo"), ("nx", "nx"), ("a\r\nb",), ("nx\x00junk",),
                 ("gt\x00", "lt"), ("x\x00y",)):
        diff.call("EXPIRE", "k", "100", *opts)
        diff.call("PEXPIREAT", "nokey", "x", *opts)
    diff.call("EXPIRE", "k", "x", "foo")    # the option is checked first
    diff.call("EXPIRE", "k")
    diff.call("TTL", "k")


def test_expire_conditions(diff):
    t1, t2 = str(FAR), str(FAR + 1000)
    diff.run([
        ("SET", "k", "v"),
        ("PEXPIREAT", "k", t1, "XX"), ("PEXPIREAT", "k", t1, "GT"),   # no TTL: both fail
        ("PEXPIREAT", "k", t2, "LT"), ("PEXPIRETIME", "k"),          # no TTL counts as infinite
        ("PERSIST", "k"),
        ("PEXPIREAT", "k", t1, "NX"), ("PEXPIRETIME", "k"),
        ("PEXPIREAT", "k", t2, "NX"), ("PEXPIRETIME", "k"),
        ("PEXPIREAT", "k", t2, "XX"), ("PEXPIRETIME", "k"),
        ("PEXPIREAT", "k", t1, "GT"), ("PEXPIREAT", "k", t2, "GT"), ("PEXPIRETIME", "k"),
        ("PEXPIREAT", "k", str(FAR + 2000), "gt"), ("PEXPIRETIME", "k"),
        ("PEXPIREAT", "k", str(FAR + 2000), "LT"), ("PEXPIREAT", "k", t1, "lt"),
        ("PEXPIRETIME", "k"), ("PEXPIREAT", "k", t1, "XX", "LT"),
        ("PEXPIREAT", "k", "1", "GT"), ("EXISTS", "k"),      # GT in the past: not greater
        ("PEXPIREAT", "k", "1", "LT"), ("EXISTS", "k"),      # LT in the past: deletes
        ("PEXPIREAT", "nokey", t1, "NX"),
    ])


def test_set_clears_and_keepttl_keeps(diff):
    diff.run([
        ("SET", "k", "v", "PXAT", str(FAR)), ("SET", "k", "w"), ("TTL", "k"),
        ("SET", "k", "v", "PXAT", str(FAR)), ("SET", "k", "w", "KEEPTTL"),
        ("PEXPIRETIME", "k"), ("INCR", "n"), ("PEXPIREAT", "n", str(FAR)),
        ("INCR", "n"), ("PEXPIRETIME", "n"),
    ])


def test_ttl_rounding(diff):
    diff.call("SET", "k", "v")
    diff.call("PEXPIRE", "k", "100000")
    assert diff.kv.call("TTL", "k") == b":100\r\n"
    diff.call("PEXPIRE", "k", "1400")
    assert diff.kv.call("TTL", "k") == b":1\r\n"
    diff.call("PEXPIRE", "k", "1600")
    assert diff.kv.call("TTL", "k") == b":2\r\n"


def test_ttl_family_arity(diff):
    for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST"):
        diff.call(cmd)
        diff.call(cmd, "a", "b")
    for cmd in ("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"):
        diff.call(cmd, "a")


# --- lazy expiry ----------------------------------------------------------------------

def test_lazy_expiry(no_active_expire):
    diff = no_active_expire
    diff.call("CONFIG", "RESETSTAT")
    diff.run([("SET", "a", "1", "PX", "30"), ("SET", "b", "1", "PX", "30"),
              ("SET", "c", "1")])
    time.sleep(0.1)
    diff.run([("DBSIZE",), ("GET", "a"), ("DBSIZE",), ("EXISTS", "b"), ("DBSIZE",),
              ("TTL", "a")])
    for k in ("expired_keys", "keyspace_hits", "keyspace_misses"):
        assert _info(diff.kv)[k] == _info(diff.real)[k], k


def test_key_alive_until_past_its_time(r):
    r.set("k", "v")
    r.pexpireat("k", int(time.time() * 1000) + 400)
    assert r.get("k") == b"v"
    assert _poll(lambda: r.get("k") is None, deadline=5)


def test_ttl_carried_by_move_copy_swapdb(no_active_expire):
    diff = no_active_expire
    diff.run([
        ("SET", "m", "1", "PX", "40"), ("MOVE", "m", "1"),
        ("SET", "c", "1", "PX", "40"), ("COPY", "c", "c2", "DB", "2"),
        ("SELECT", "3"), ("SET", "s", "1", "PX", "40"), ("SWAPDB", "3", "4"),
        ("SELECT", "0"), ("SET", "r", "1", "PX", "40"), ("RENAME", "r", "r2"),
    ])
    time.sleep(0.1)
    diff.run([
        ("SELECT", "1"), ("DBSIZE",), ("GET", "m"), ("DBSIZE",),
        ("SELECT", "2"), ("GET", "c2"), ("SELECT", "4"), ("GET", "s"),
        ("SELECT", "3"), ("DBSIZE",), ("SELECT", "0"), ("GET", "r2"), ("GET", "c"),
        ("DBSIZE",),
    ])


# --- active expiry over the wire -----------------------------------------------------

def test_active_expiry_removes_untouched_keys(r):
    pipe = r.pipeline(transaction=False)
    for i in range(300):
        pipe.set(f"v{i}", 1, px=50)
    for i in range(50):
        pipe.set(f"p{i}", 1)
    for i in range(20):
        pipe.set(f"long{i}", 1, ex=1000)
    pipe.execute()
    assert _poll(lambda: r.dbsize() == 70, deadline=15), r.dbsize()
    info = r.info("stats")
    assert info["expired_keys"] >= 300
    assert r.get("p0") == b"1"


def test_active_expiry_can_be_disabled(r):
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        for i in range(50):
            r.set(f"v{i}", 1, px=10)
        time.sleep(0.5)         # several cron ticks: nothing may expire actively
        assert r.dbsize() == 50
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    assert _poll(lambda: r.dbsize() == 0, deadline=15)


def test_info_keyspace_avg_ttl(r):
    for i in range(40):
        r.set(f"k{i}", 1, ex=100)

    def avg_ttl():
        return r.info("keyspace").get("db0", {}).get("avg_ttl", 0)
    assert _poll(lambda: avg_ttl() > 0, deadline=10)
    assert 0 < avg_ttl() <= 100_000


# --- the cycle in process -----------------------------------------------------------

class _Config:
    hz = 10
    active_expire_effort = 1
    maxmemory_policy = "noeviction"


def _server(ndbs=4):
    return types.SimpleNamespace(keyspace=Keyspace(ndbs), config=_Config(),
                                 hooks_cron=[], hooks_before_sleep=[])


@pytest.fixture
def frozen():
    now = [1_700_000_000_000]
    clock.freeze(now[0])

    def set_now(ms):
        now[0] = ms
        clock.freeze(ms)
    yield now, set_now
    clock.freeze(None)


def test_install_registers_hooks():
    srv = _server()
    ae = expire_cycle.install(srv)
    assert srv.hooks_cron == [ae.cron]
    assert srv.hooks_before_sleep == [ae.before_sleep]


def test_cycle_expires_all_stale_keys(frozen):
    now, set_now = frozen
    srv = _server()
    ae = expire_cycle.install(srv)
    db = srv.keyspace[2]
    for i in range(1000):
        db.set(b"k%d" % i, b"v")
        db.set_expire(b"k%d" % i, now[0] + 1000)
    db.set(b"keep", b"v")
    set_now(now[0] + 2000)
    for _ in range(20):
        ae.cron()
        if db.size() == 1:
            break
    assert list(db.data) == [b"keep"] and not db.expires
    assert srv.keyspace.stats.expired == 1000
    assert srv.keyspace.stats.expired_stale_perc > 0


def test_cycle_finds_sparse_stale_keys_within_a_pass(frozen):
    now, set_now = frozen
    srv = _server(1)
    ae = expire_cycle.install(srv)
    db = srv.keyspace[0]
    for i in range(1000):
        db.set(b"k%d" % i, b"v")
        db.set_expire(b"k%d" % i, now[0] + (10 if i % 100 == 0 else 10**9))
    set_now(now[0] + 100)
    # a pass samples 20 keys a tick: 1000 keys need 50 ticks
    for _ in range(60):
        ae.cron()
    assert db.size() == 990
    assert all(when > now[0] for when in db.expires.values())


def test_keys_given_a_ttl_later_are_reached_next_pass(frozen):
    now, set_now = frozen
    srv = _server(1)
    ae = expire_cycle.install(srv)
    db = srv.keyspace[0]
    for i in range(100):
        db.set(b"k%d" % i, b"v")
        db.set_expire(b"k%d" % i, now[0] + 10**9)
    ae.cron()                       # the walk snapshot is taken
    db.set(b"late", b"v")
    db.set_expire(b"late", now[0] + 10)
    set_now(now[0] + 100)
    for _ in range(20):
        ae.cron()
    assert b"late" not in db.data


def test_cycle_disabled(frozen):
    now, set_now = frozen
    srv = _server(1)
    ae = expire_cycle.install(srv)
    db = srv.keyspace[0]
    db.set(b"k", b"v")
    db.set_expire(b"k", now[0] + 1)
    set_now(now[0] + 10)
    srv.keyspace.active_expire_enabled = False
    ae.cron()
    ae.before_sleep()
    assert b"k" in db.data
    srv.keyspace.active_expire_enabled = True
    ae.cron()
    assert b"k" not in db.data


def test_avg_ttl_estimate(frozen):
    now, _ = frozen
    srv = _server(2)
    ae = expire_cycle.install(srv)
    db = srv.keyspace[1]
    for i in range(10):
        db.set(b"k%d" % i, b"v")
        db.set_expire(b"k%d" % i, now[0] + 10_000)
    ae.cron()
    assert db.avg_ttl == 10_000
    assert srv.keyspace[0].avg_ttl == 0
    db.expires.clear()
    ae.cron()
    assert db.avg_ttl == 0          # no volatile keys: reset, as Redis does


def test_time_cap_and_fast_cycle(frozen, monkeypatch):
    now, set_now = frozen
    srv = _server(1)
    ae = expire_cycle.install(srv)
    db = srv.keyspace[0]
    for i in range(5000):
        db.set(b"k%d" % i, b"v")
        db.set_expire(b"k%d" % i, now[0] + 1)
    set_now(now[0] + 10)
    fake = [0]

    def fake_us():
        fake[0] += 10_000       # 10 ms per reading: the budget runs out
        return fake[0]
    monkeypatch.setattr(expire_cycle, "_perf_us", fake_us)
    ae.cron()
    stats = srv.keyspace.stats
    assert ae.timelimit_exit and stats.expired_time_cap_reached == 1
    left = db.size()
    assert 0 < left < 5000
    ae.before_sleep()               # the fast cycle picks up where it stopped
    assert db.size() < left
    assert ae.last_fast_cycle > 0
    # without a time-capped slow cycle, before_sleep does nothing
    ae.timelimit_exit = False
    size = db.size()
    ae.before_sleep()
    assert db.size() == size


def test_flush_and_swap_keep_walks_consistent(frozen):
    now, set_now = frozen
    srv = _server(2)
    ae = expire_cycle.install(srv)
    ks = srv.keyspace
    a, b = ks[0], ks[1]
    for i in range(100):
        a.set(b"a%d" % i, b"v")
        a.set_expire(b"a%d" % i, now[0] + 10**9)
    ae.cron()
    assert a.expire_cursor
    ks.swap(0, 1)
    assert not a.expire_cursor and b.expire_cursor and b"a0" in b.data
    b.flush()
    assert not b.expire_cursor and b.avg_ttl == 0
    b.set(b"x", b"v")
    b.set_expire(b"x", now[0] + 1)
    set_now(now[0] + 10)
    for _ in range(3):
        ae.cron()
    assert not b.data
