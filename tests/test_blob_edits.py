"""Small hashes and sorted sets edited in their frozen blob.

Where the native helpers are built, a single-field HGET/HSET/HEXISTS and a
plain ZADD on a frozen listpack blob search and edit the blob itself
instead of thawing it (kvserver/datastructs/hash.py, zset.py).  The blob
they leave must be byte for byte the one the thaw path (unpack, change the
tuple, pack) would have left, with the same reply, through conversions to
hashtable/skiplist, score codes that must grow, members holding NUL bytes,
empty fields and members, and field names equal to other fields' values.
Each property test runs the same operations on two objects, one with the
native search and one with it switched off, freezing after every step.
"""

import pytest
from hypothesis import given, settings, strategies as st

from kvserver.datastructs import hash as hash_mod
from kvserver.datastructs import zset as zset_mod
from kvserver.datastructs.hash import Hash
from kvserver.datastructs.thaw import freeze_all
from kvserver.datastructs.zset import SkipList, ZSet

pytestmark = pytest.mark.skipif(hash_mod._find_in_blob is None,
                                reason="native helpers not built")


def _thaw_path(module, attr):
    """A context in which `module.attr` (the native search) is off."""
    class Off:
        def __enter__(self):
            self.saved = getattr(module, attr)
            setattr(module, attr, None)

        def __exit__(self, *exc):
            setattr(module, attr, self.saved)
    return Off()


# ---------------------------------------------------------------------------
# Hashes
# ---------------------------------------------------------------------------

_hfields = st.sampled_from([b"a", b"b", b"", b"v1", b"f" * 9, b"x\0y", b"1"])
_hvalues = st.sampled_from([b"a", b"v1", b"", b"b" * 9, b"z\r\n", b"1"])
_hop = st.one_of(
    st.tuples(st.just("set"), _hfields, _hvalues),
    st.tuples(st.just("get"), _hfields, st.just(b"")),
    st.tuples(st.just("exists"), _hfields, st.just(b"")),
)


@settings(max_examples=400, deadline=None)
@given(ops=st.lists(_hop, max_size=40), max_entries=st.integers(1, 10),
       max_value=st.integers(1, 10))
def test_hash_blob_edits_match_the_thaw_path(ops, max_entries, max_value):
    edited, thawed = Hash(), Hash()
    for kind, f, v in ops:
        if kind == "set":
            a = edited.set(f, v, max_entries, max_value)
            with _thaw_path(hash_mod, "_find_in_blob"):
                b = thawed.set(f, v, max_entries, max_value)
        else:
            a = getattr(edited, kind)(f)
            with _thaw_path(hash_mod, "_find_in_blob"):
                b = getattr(thawed, kind)(f)
        assert a == b
        freeze_all()
        assert edited._v == thawed._v
        assert type(edited._v) is type(thawed._v)


def test_hash_blob_edit_keeps_other_fields_and_order():
    h = Hash()
    for i in range(10):
        h.set(b"f%d" % i, b"v%d" % i, 128, 64)
        freeze_all()
    blob = h._v
    assert h.set(b"f3", b"changed", 128, 64) is False
    assert type(h._v) is bytes and h._v is not blob
    assert h.set(b"new", b"x", 128, 64) is True
    assert list(h.flat()) == [x for i in range(10) for x in
                              (b"f%d" % i, b"changed" if i == 3 else b"v%d" % i)] + [b"new", b"x"]
    freeze_all()
    assert h.get(b"f3") == b"changed" and h.get(b"nope") is None
    assert h.exists(b"new") and not h.exists(b"v1")


# ---------------------------------------------------------------------------
# Sorted sets
# ---------------------------------------------------------------------------

_members = st.sampled_from([b"m%d" % i for i in range(8)] + [b"", b"a", b"ab", b"x\0y"])
_scores = st.one_of(
    st.integers(-5, 5), st.integers(-200, 200), st.integers(-40000, 40000),
    st.integers(-3 * 10**9, 3 * 10**9),
    st.sampled_from([0.5, -1.25, 1e10, float("inf"), float("-inf"), -0.0, 2.0]),
).map(float)


def _zstate(z):
    v = z._v
    if isinstance(v, SkipList):
        return "skiplist", list(v.sl), v.dict
    return "listpack", v


@settings(max_examples=400, deadline=None)
@given(pairs=st.lists(st.tuples(_scores, _members), max_size=40),
       max_entries=st.integers(1, 12), max_value=st.integers(1, 6))
def test_zadd_blob_edits_match_the_thaw_path(pairs, max_entries, max_value):
    edited, thawed = ZSet(), ZSet()
    for s, m in pairs:
        a = edited.add1(s, m, max_entries, max_value)
        with _thaw_path(zset_mod, "_locate"):
            b = thawed.add1(s, m, max_entries, max_value)
        assert a == b
        freeze_all()
        assert _zstate(edited) == _zstate(thawed)


def test_zadd_blob_edit_moves_a_member():
    z = ZSet()
    for i, m in enumerate((b"a", b"b", b"c", b"d")):
        z.add1(float(i), m, 128, 64)
        freeze_all()
    assert z.add1(10.0, b"a", 128, 64) == 2      # first to last
    assert type(z._v) is bytes
    assert z.add1(-1.0, b"d", 128, 64) == 2      # last to first
    assert z.add1(1.0, b"b", 128, 64) == 0       # unchanged
    assert z.add1(3.0, b"b", 128, 64) == 2       # stays put
    assert z.add1(3.0, b"bb", 128, 64) == 1      # tie: after b
    assert type(z._v) is bytes
    # a score the blob's int8 code cannot hold: thawed, packed as doubles
    assert z.add1(1.5, b"b", 128, 64) == 2
    assert type(z._v) is tuple
    freeze_all()
    assert z.add1(1.5, b"bb", 128, 64) == 2
    assert type(z._v) is bytes
    ms, ss = z.pairs()
    assert list(ms) == [b"d", b"b", b"bb", b"c", b"a"]
    assert list(ss) == [-1, 1.5, 1.5, 2, 10]
