"""Unit tests of kvserver.keyspace: access-time bookkeeping and expiry."""

from kvserver import keyspace
from kvserver.keyspace import Keyspace


def at(clock):
    keyspace.LRU_CLOCK = clock


def test_access_time_of_untouched_and_touched_keys():
    ks = Keyspace(1)
    db = ks[0]
    at(100)
    db.set(b"a", b"1")
    db.set(b"b", b"2")
    at(105)
    db.set(b"c", b"3")
    assert db.access_time(b"a") == 100
    assert db.access_time(b"c") == 105
    at(110)
    db.lookup_read(b"a")
    assert db.access_time(b"a") == 110
    assert db.idle_seconds(b"b") == 10
    db.set(b"b", b"x")          # an overwrite is an access
    assert db.access_time(b"b") == 110
    assert db.access_time(b"missing") is None


def test_recreated_key_takes_its_new_creation_time():
    ks = Keyspace(1)
    db = ks[0]
    at(200)
    db.set(b"k", b"1")
    db.delete(b"k")
    at(230)
    db.set(b"k", b"2")
    assert db.access_time(b"k") == 230


def test_compaction_keeps_answers_and_bounds_the_log():
    ks = Keyspace(1)
    db = ks[0]
    expected = {}
    for clock in range(300, 310):
        at(clock)
        for i in range(500):
            k = b"k%d" % i
            db.set(k, b"v")
            if i % 3 == 0:
                db.delete(k)
                expected.pop(k, None)
            else:
                expected[k] = clock     # creation or overwrite
        if clock % 2:
            for i in range(0, 500, 7):
                if db.lookup(b"k%d" % i) is not None:
                    expected[b"k%d" % i] = clock
    before = len(db.born)
    db.compact_born()
    assert len(db.born) < before
    assert len(db.born) <= len(db.data)
    for k, t in expected.items():
        assert db.access_time(k) == t, k
