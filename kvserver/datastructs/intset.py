"""The intset: a small set of integers kept as one sorted machine array.

This is the compact layer of the set type (Redis's intset.c): an
`array('q')` of signed 64-bit integers in strictly ascending order, so
membership is a binary search and iteration yields the ascending order
Redis replies with for intset-encoded sets.  One array object costs about
64 bytes plus 8 per member, against roughly 60 bytes per member for a
Python set of `bytes`.

Invariants: the array is sorted ascending and holds no duplicates; every
member fits in a C `long long` (the caller only passes values that
`string2ll` accepted).  Redis also narrows the element width (16/32/64
bits) by content; that is invisible to clients and not modelled.
"""

from array import array
from bisect import bisect_left

TYPECODE = "q"


def new(values=()) -> array:
    """An intset holding `values` (any iterable of distinct or repeated ints)."""
    return array(TYPECODE, sorted(set(values)))


def contains(arr: array, v: int) -> bool:
    i = bisect_left(arr, v)
    return i < len(arr) and arr[i] == v


def add(arr: array, v: int) -> bool:
    """Insert `v`; False if it was already there."""
    i = bisect_left(arr, v)
    if i < len(arr) and arr[i] == v:
        return False
    if i == len(arr):
        arr.append(v)
    else:
        arr.insert(i, v)
    return True


def remove(arr: array, v: int) -> bool:
    """Delete `v`; False if it was not there."""
    i = bisect_left(arr, v)
    if i < len(arr) and arr[i] == v:
        del arr[i]
        return True
    return False


def as_bytes(arr: array) -> list:
    """The members as the strings Redis replies with, ascending."""
    return [b"%d" % v for v in arr]
