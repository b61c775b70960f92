"""Thawed hashes (kvserver.datastructs.thaw): freezing at any moment
changes nothing a client can see.

- A property test drives several `Hash` objects through random reads and
  writes against plain dict models, calling `thaw.freeze_all()` at random
  points (and with THAWED_MAX lowered so that thawing one hash freezes the
  others mid-turn); after every step contents, listpack order, encoding
  and length must match the model whether the hash is frozen or thawed.
- Unit tests pin the registry contract (whole-hash reads thaw; single
  fields are read and written in the blob itself where the native search
  is built): an untouched hash gets its very blob back, a modified one a blob that unpacks to its tuple, a converted
  one stays a dict; fresh objects (Hash(), copy) hold blobs.
- In-process server tests compare OBJECT ENCODING, DEBUG OBJECT's
  encoding and serializedlength, DEBUG DIGEST-VALUE and the read replies
  of a thawed hash with those of the same hash frozen.
- Differential pipelines (one write, so one loop turn on kvserver) mix
  writes, reads and OBJECT ENCODING on hot keys, across the conversion
  thresholds, byte for byte against redis-server.
"""

import pytest
from hypothesis import given, settings, strategies as st

from kvserver.datastructs import thaw
from kvserver.datastructs.hash import Hash, pack, unpack
from kvserver.native import lib

NATIVE = lib is not None


@pytest.fixture(autouse=True)
def _empty_registry():
    thaw.freeze_all()
    yield
    thaw.freeze_all()


def _listpack_state(h):
    return type(h._v) in (bytes, tuple)


# ---------------------------------------------------------------------------
# Property: random freezes against dict models
# ---------------------------------------------------------------------------

_fields = st.sampled_from([b"a", b"b", b"c", b"d", b"1", b"", b"xx", b"a" * 7])
_values = st.sampled_from([b"a", b"b", b"1", b"", b"vv", b"a" * 7, b"b" * 9])

_op = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 2), _fields, _values),
    st.tuples(st.just("pairs"), st.integers(0, 2),
              st.lists(st.tuples(_fields, _values), min_size=1, max_size=10)),
    st.tuples(st.just("del"), st.integers(0, 2), st.lists(_fields, min_size=1, max_size=3)),
    st.tuples(st.just("get"), st.integers(0, 2), _fields),
    st.tuples(st.just("exists"), st.integers(0, 2), _fields),
    st.tuples(st.just("flat"), st.integers(0, 2)),
    st.tuples(st.just("random"), st.integers(0, 2)),
    st.tuples(st.just("copy"), st.integers(0, 2)),
    st.tuples(st.just("freeze"), st.integers(0, 2)),
)


def _check(h, model, converted):
    assert len(h) == len(model)
    assert h.encoding() == ("hashtable" if converted else "listpack")
    assert h.is_listpack() == (not converted)
    assert (h.table() is None) == (not converted)
    assert h.as_dict() == model
    if not converted:
        assert list(h.flat()) == [x for kv in model.items() for x in kv]
        assert list(h.fields()) == list(model)
        assert list(h.values()) == list(model.values())
    else:
        assert type(h._v) is dict


@settings(max_examples=300, deadline=None)
@given(ops=st.lists(_op, max_size=60), max_entries=st.integers(1, 8),
       max_value=st.integers(1, 8), thawed_max=st.integers(1, 3))
def test_freeze_at_any_time_changes_nothing(ops, max_entries, max_value, thawed_max):
    thaw.freeze_all()
    saved = thaw.THAWED_MAX
    thaw.THAWED_MAX = thawed_max
    try:
        _run_ops(ops, max_entries, max_value)
    finally:
        thaw.THAWED_MAX = saved
        thaw.freeze_all()


def _run_ops(ops, max_entries, max_value):
    hashes = [Hash() for _ in range(3)]
    models = [{} for _ in range(3)]
    converted = [False] * 3
    for op in ops:
        kind, k = op[0], op[1]
        h, model = hashes[k], models[k]
        if kind == "set":
            _, _, f, v = op
            if len(f) > max_value or len(v) > max_value:
                converted[k] = True
            new = f not in model
            model[f] = v
            if len(model) > max_entries:
                converted[k] = True
            assert h.set(f, v, max_entries, max_value) is new
        elif kind == "pairs":
            argv = [b"hset", b"k"] + [x for p in op[2] for x in p]
            if any(len(x) > max_value for x in argv[2:]):
                converted[k] = True
            before = len(model)
            for f, v in op[2]:
                model[f] = v
            if len(model) > max_entries:
                converted[k] = True
            assert h.set_pairs(argv, 2, max_entries, max_value) == len(model) - before
        elif kind == "del":
            gone = sum(1 for f in dict.fromkeys(op[2]) if f in model)
            for f in op[2]:
                model.pop(f, None)
            assert h.delete(op[2]) == gone
        elif kind == "get":
            assert h.get(op[2]) == model.get(op[2])
        elif kind == "exists":
            assert h.exists(op[2]) == (op[2] in model)
        elif kind == "flat":
            assert list(h.flat()) == [x for kv in (model.items() if not converted[k] else
                                                   h.as_dict().items()) for x in kv]
        elif kind == "random":
            if model:
                f, v = h.random_pair()
                assert model[f] == v
        elif kind == "copy":
            c = h.copy()
            # a copy is never a registered tuple
            assert type(c._v) in (bytes, dict)
            _check(c, model, converted[k])
            thaw.freeze_all()
            _check(c, model, converted[k])
        else:
            thaw.freeze_all()
            for other in hashes:
                assert type(other._v) in (bytes, dict)
        for i in range(3):
            _check(hashes[i], models[i], converted[i])
    thaw.freeze_all()
    for i in range(3):
        assert type(hashes[i]._v) is (dict if converted[i] else bytes)
        if not converted[i]:
            assert unpack(hashes[i]._v) == tuple(x for kv in models[i].items() for x in kv)
        _check(hashes[i], models[i], converted[i])


# ---------------------------------------------------------------------------
# The registry contract
# ---------------------------------------------------------------------------

def test_untouched_hash_gets_its_blob_back():
    blob = pack((b"f", b"v", b"g", b"w"))
    h = Hash(blob)
    h.flat()                    # whole-hash reads thaw
    assert type(h._v) is tuple
    assert h.get(b"g") == b"w"
    # an update to the value already there is no change either
    assert h.set(b"f", b"v", 10, 10) is False
    thaw.freeze_all()
    assert h._v is blob


def test_modified_hash_is_repacked():
    blob = pack((b"f", b"v"))
    h = Hash(blob)
    h.set(b"f", b"w", 10, 10)
    h.set(b"n", b"x", 10, 10)
    assert h.delete([b"zz"]) == 0
    assert type(h._v) is tuple
    thaw.freeze_all()
    assert type(h._v) is bytes and unpack(h._v) == (b"f", b"w", b"n", b"x")


def test_converted_hash_stays_a_dict():
    h = Hash(pack((b"f", b"v")))
    h.get(b"f")
    h.set(b"long", b"x" * 20, 10, 10)
    thaw.freeze_all()
    assert h._v == {b"f": b"v", b"long": b"x" * 20}
    assert h.encoding() == "hashtable"


def test_fresh_objects_hold_blobs():
    h = Hash()
    assert type(h._v) is bytes
    h.set(b"f", b"v", 10, 10)             # a new key's first pair
    assert type(h._v) is bytes and thaw.THAWED == []
    h2 = Hash()
    assert h2.set_pairs([b"hset", b"k", b"a", b"1", b"b", b"2"], 2, 10, 10) == 2
    assert type(h2._v) is bytes and thaw.THAWED == []
    h.set(b"g", b"w", 10, 10)
    # a second write edits the blob where the native search is built,
    # else it thaws it
    assert type(h._v) is (bytes if NATIVE else tuple)
    c = h.copy()
    assert type(c._v) is bytes and unpack(c._v) == (b"f", b"v", b"g", b"w")


def test_thawed_max_freezes_earlier_objects(monkeypatch):
    monkeypatch.setattr(thaw, "THAWED_MAX", 2)
    hs = [Hash(pack((b"f", b"%d" % i))) for i in range(5)]
    for i, h in enumerate(hs):
        h.set(b"f", b"x%d" % i, 10, 10)
    # at most THAWED_MAX are thawed at once; the rest were packed back
    assert sum(type(h._v) is tuple for h in hs) <= 2
    for i, h in enumerate(hs):
        assert h.get(b"f") == b"x%d" % i
    thaw.freeze_all()
    assert [unpack(h._v) for h in hs] == [(b"f", b"x%d" % i) for i in range(5)]


def test_field_equal_to_a_value():
    # a field that is also some value: lookups must skip the value slots
    h = Hash(pack((b"a", b"b", b"b", b"c")))
    assert h.get(b"b") == b"c"
    assert h.set(b"c", b"1", 10, 10) is True
    assert h.get(b"c") == b"1"
    assert h.exists(b"c")
    assert h.delete([b"b"]) == 1
    assert list(h.flat()) == [b"a", b"b", b"c", b"1"]
    assert h.set_pairs([b"hset", b"k", b"b", b"z", b"1", b"y"], 2, 10, 10) == 2
    assert list(h.flat()) == [b"a", b"b", b"c", b"1", b"b", b"z", b"1", b"y"]


# ---------------------------------------------------------------------------
# In-process: a thawed hash looks like a frozen one
# ---------------------------------------------------------------------------

@pytest.fixture
def client():
    from kvserver.net.client import Client
    from kvserver.server import Server
    s = Server()
    return Client(s, None, "x", "y")


def _call(c, *args):
    from kvserver.dispatch import resolve
    argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    return resolve(argv).handler(c, argv)


def _debug_object(c, key):
    reply = _call(c, "DEBUG", "OBJECT", key)
    fields = dict(p.split(b":", 1) for p in reply.strip(b"+\r\n").split(b" ") if b":" in p)
    return fields[b"encoding"], fields[b"serializedlength"]


def _observe(c, key):
    return (_call(c, "OBJECT", "ENCODING", key), _debug_object(c, key),
            _call(c, "DEBUG", "DIGEST-VALUE", key), _call(c, "HGETALL", key),
            _call(c, "HLEN", key), _call(c, "HKEYS", key), _call(c, "HVALS", key),
            _call(c, "HSCAN", key, "0"), _call(c, "HSTRLEN", key, "f1"),
            _call(c, "HMGET", key, "f0", "f1", "nope"))


@pytest.mark.parametrize("n", [1, 5, 40])
def test_thawed_and_frozen_look_the_same(client, n):
    c = client
    for i in range(n):
        _call(c, "HSET", "h", "f%d" % i, "v%d" % i)
    _call(c, "HSET", "h", "f0", "changed")
    _call(c, "HDEL", "h", "f%d" % (n // 2))
    _call(c, "HINCRBY", "h", "ctr", "5")
    _call(c, "HGETALL", "h")            # whole-hash reads thaw
    h = c.db.data[b"h"]
    assert type(h._v) is tuple
    thawed = _observe(c, b"h")
    assert type(h._v) is tuple
    thaw.freeze_all()
    assert type(h._v) is bytes
    frozen = _observe(c, b"h")
    assert thawed == frozen
    assert thawed[0] == b"$8\r\nlistpack\r\n"


def test_conversion_of_a_thawed_hash(client):
    c = client
    _call(c, "CONFIG", "SET", "hash-max-listpack-entries", "4")
    for i in range(4):
        _call(c, "HSET", "h", "f%d" % i, "v")
    _call(c, "HGETALL", "h")
    assert type(c.db.data[b"h"]._v) is tuple
    assert _call(c, "OBJECT", "ENCODING", "h") == b"$8\r\nlistpack\r\n"
    _call(c, "HSET", "h", "f4", "v")
    assert _call(c, "OBJECT", "ENCODING", "h") == b"$9\r\nhashtable\r\n"
    thaw.freeze_all()
    assert _call(c, "OBJECT", "ENCODING", "h") == b"$9\r\nhashtable\r\n"
    assert _call(c, "HLEN", "h") == b":5\r\n"


# ---------------------------------------------------------------------------
# Differential: hot keys within one loop turn
# ---------------------------------------------------------------------------

@pytest.fixture
def d(diff):
    yield diff
    for conn in (diff.kv, diff.real):
        conn.call("CONFIG", "SET", "hash-max-listpack-entries", "512")
        conn.call("CONFIG", "SET", "hash-max-listpack-value", "64")


def test_pipeline_on_a_hot_key(d):
    d.call("HSET", "hot", "element:__rand_int__", "xxx")
    cmds = [("HSET", "hot", "element:__rand_int__", "xxx")] * 20
    cmds += [("HSET", "hot", "f%d" % (i % 7), "v%d" % i) for i in range(30)]
    cmds += [("HGET", "hot", "f3"), ("HGETALL", "hot"), ("OBJECT", "ENCODING", "hot"),
             ("HDEL", "hot", "f1", "f5", "zz"), ("HEXISTS", "hot", "f1"),
             ("HSETNX", "hot", "f1", "back"), ("HSETNX", "hot", "f2", "no"),
             ("HINCRBY", "hot", "n", "3"), ("HINCRBY", "hot", "n", "-10"),
             ("HMSET", "hot", "a", "1", "b", "2", "a", "3"),
             ("HSET", "hot", "b", "2", "c", "4"),
             ("HGETALL", "hot"), ("HLEN", "hot"), ("HKEYS", "hot")]
    d.pipeline(cmds)
    d.call("HGETALL", "hot")
    d.call("OBJECT", "ENCODING", "hot")


def test_pipeline_conversions_within_a_turn(d):
    for conn in (d.kv, d.real):
        conn.call("CONFIG", "SET", "hash-max-listpack-entries", "6")
        conn.call("CONFIG", "SET", "hash-max-listpack-value", "8")
    cmds = []
    for key in ("a", "b", "c"):
        cmds += [("HSET", key, "f%d" % i, "v") for i in range(6)]
        cmds += [("HGETALL", key), ("OBJECT", "ENCODING", key)]
    cmds += [("HSET", "a", "f6", "v"), ("OBJECT", "ENCODING", "a"),
             ("HSET", "b", "f0", "123456789"), ("OBJECT", "ENCODING", "b"),
             ("HSET", "c", "long-field-name", "v"), ("OBJECT", "ENCODING", "c"),
             ("HDEL", "c", "long-field-name"), ("OBJECT", "ENCODING", "c"),
             ("HLEN", "a"), ("HLEN", "b"), ("HLEN", "c")]
    d.pipeline(cmds)
    for key in ("a", "b", "c"):
        assert d.kv.call("HLEN", key) == d.real.call("HLEN", key)


def test_pipeline_empties_and_recreates(d):
    cmds = [("HSET", "e", "f", "v"), ("HDEL", "e", "f"), ("EXISTS", "e"),
            ("HSET", "e", "g", "w"), ("HGETALL", "e"), ("HDEL", "e", "g", "g"),
            ("TYPE", "e"), ("HINCRBY", "e", "n", "1"), ("HGETALL", "e")]
    d.pipeline(cmds * 3)
