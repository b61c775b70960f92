"""Geohash arithmetic as Redis 7.0 does it (geohash.c, geohash_helper.c).

A geo set is a sorted set whose scores are 52-bit geohashes: longitude and
latitude are each cut into 2**26 cells (step 26) over the ranges
[-180, 180] and [-85.05112878, 85.05112878] (the Web Mercator limits), and
the two cell numbers are interleaved, latitude in the even bits and
longitude in the odd ones.  A radius or box search covers its area with a
cell of a coarser step and that cell's eight neighbours, then filters the
points of those nine score ranges by exact distance.

Everything here reproduces Redis's floating-point evaluation step by step
(same operations, same order, same libm functions through `math`), because
results are observable to the last digit: GEOPOS prints 17 decimals of a
cell's center, and a point at the edge of a search is in or out depending
on the last bit of a distance.  Hashes are plain ints; a zeroed neighbour
(GZERO) is None.

Invariants: `bits` of a hash at step s fit in 2*s bits for every hash that
`encode` returns; uint32/uint64 wrap-around of the C code is reproduced
with masks where it can occur (`score_bits`, `decode`).
"""

import math

LON_MIN = -180.0
LON_MAX = 180.0
LAT_MIN = -85.05112878
LAT_MAX = 85.05112878
STEP_MAX = 26
EARTH_RADIUS = 6372797.560856        # EARTH_RADIUS_IN_METERS
MERCATOR_MAX = 20037726.37
D_R = math.pi / 180.0

_U64 = (1 << 64) - 1
_U32 = (1 << 32) - 1
_TWO63 = 9223372036854775808.0
_EVEN = 0x5555555555555555
_ODD = 0xAAAAAAAAAAAAAAAA

_LAT_SCALE = LAT_MAX - LAT_MIN
_sin = math.sin
_cos = math.cos
_asin = math.asin
_sqrt = math.sqrt

# The unit names GEODIST and the searches accept (strcasecmp) and how many
# meters each one is.
UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}

GEOALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"


# --- bits ----------------------------------------------------------------------

def interleave(lat_cell: int, lon_cell: int) -> int:
    """Latitude bits to the even positions, longitude bits to the odd."""
    x = lat_cell & _U32
    y = lon_cell & _U32
    x = (x | (x << 16)) & 0x0000FFFF0000FFFF
    y = (y | (y << 16)) & 0x0000FFFF0000FFFF
    x = (x | (x << 8)) & 0x00FF00FF00FF00FF
    y = (y | (y << 8)) & 0x00FF00FF00FF00FF
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0F
    y = (y | (y << 4)) & 0x0F0F0F0F0F0F0F0F
    x = (x | (x << 2)) & 0x3333333333333333
    y = (y | (y << 2)) & 0x3333333333333333
    x = (x | (x << 1)) & _EVEN
    y = (y | (y << 1)) & _EVEN
    return x | (y << 1)


def deinterleave(bits: int) -> tuple:
    """(latitude cell, longitude cell) of a 64-bit interleaved hash."""
    x = bits & _EVEN
    y = (bits >> 1) & _EVEN
    x = (x | (x >> 1)) & 0x3333333333333333
    y = (y | (y >> 1)) & 0x3333333333333333
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0F
    y = (y | (y >> 2)) & 0x0F0F0F0F0F0F0F0F
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FF
    y = (y | (y >> 4)) & 0x00FF00FF00FF00FF
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFF
    y = (y | (y >> 8)) & 0x0000FFFF0000FFFF
    x = (x | (x >> 16)) & _U32
    y = (y | (y >> 16)) & _U32
    return x, y


def score_bits(score) -> int:
    """(uint64_t)score as gcc compiles it on x86-64: negative values wrap,
    values from 2**63 go through the subtract-and-flip path, and anything
    out of range (inf, NaN, >= 2**64) gives what cvttsd2si gives."""
    if score >= _TWO63:
        t = score - _TWO63
        return 0 if t >= _TWO63 else (int(t) | (1 << 63))
    if score != score or score < -_TWO63:
        return 1 << 63
    return int(score) & _U64


def align52(bits: int, step: int) -> int:
    return (bits << (52 - step * 2)) & _U64


# --- encode / decode -----------------------------------------------------------

def encode(lon: float, lat: float, step: int = STEP_MAX,
           lon_min: float = LON_MIN, lon_max: float = LON_MAX,
           lat_min: float = LAT_MIN, lat_max: float = LAT_MAX):
    """geohashEncode: the hash bits at `step`, or None where Redis fails."""
    if (lon > LON_MAX or lon < LON_MIN or lat > LAT_MAX or lat < LAT_MIN
            or lat < lat_min or lat > lat_max or lon < lon_min or lon > lon_max):
        return None
    lat_offset = (lat - lat_min) / (lat_max - lat_min)
    lon_offset = (lon - lon_min) / (lon_max - lon_min)
    scale = float(1 << step)
    return interleave(int(lat_offset * scale), int(lon_offset * scale))


def decode(bits: int, step: int, lon_min: float = LON_MIN, lon_max: float = LON_MAX,
           lat_min: float = LAT_MIN, lat_max: float = LAT_MAX) -> tuple:
    """geohashDecode: the cell's (lon_min, lon_max, lat_min, lat_max)."""
    ilat, ilon = deinterleave(bits)
    lat_scale = lat_max - lat_min
    lon_scale = lon_max - lon_min
    div = float(1 << step)
    return (lon_min + (ilon / div) * lon_scale,
            lon_min + (((ilon + 1) & _U32) / div) * lon_scale,
            lat_min + (ilat / div) * lat_scale,
            lat_min + (((ilat + 1) & _U32) / div) * lat_scale)


def decode_score(score) -> tuple:
    """decodeGeohash: the (lon, lat) a sorted set score stands for, the
    center of its step-26 cell, clamped into the valid ranges."""
    ilat, ilon = deinterleave(score_bits(score))
    lon = ((LON_MIN + (ilon / 67108864.0) * 360.0)
           + (LON_MIN + (((ilon + 1) & _U32) / 67108864.0) * 360.0)) / 2
    lat = ((LAT_MIN + (ilat / 67108864.0) * _LAT_SCALE)
           + (LAT_MIN + (((ilat + 1) & _U32) / 67108864.0) * _LAT_SCALE)) / 2
    if lon > LON_MAX:
        lon = LON_MAX
    elif lon < LON_MIN:
        lon = LON_MIN
    if lat > LAT_MAX:
        lat = LAT_MAX
    elif lat < LAT_MIN:
        lat = LAT_MIN
    return lon, lat


def score_of(lon: float, lat: float) -> int:
    """GEOADD's score: the step-26 hash, aligned to 52 bits (a no-op)."""
    return encode(lon, lat)


def hash_string(score) -> bytes:
    """GEOHASH's 11 characters: the point re-encoded over the standard
    latitude range [-90, 90] (Redis's own range stops at +-85.05), five bits
    per character from the top of the 52; the 11th is always '0'."""
    lon, lat = decode_score(score)
    bits = encode(lon, lat, 26, -180.0, 180.0, -90.0, 90.0)
    a = GEOALPHABET
    out = bytearray(11)
    for i in range(10):
        out[i] = a[(bits >> (52 - (i + 1) * 5)) & 0x1F]
    out[10] = 48
    return bytes(out)


# --- neighbours ------------------------------------------------------------------

def _move_x(bits: int, step: int, d: int) -> int:
    x = bits & _ODD
    y = bits & _EVEN
    zz = _EVEN >> (64 - step * 2)
    if d > 0:
        x = x + (zz + 1)
    else:
        x = (x | zz) - (zz + 1)
    x &= _ODD >> (64 - step * 2)
    return x | y


def _move_y(bits: int, step: int, d: int) -> int:
    x = bits & _ODD
    y = bits & _EVEN
    zz = _ODD >> (64 - step * 2)
    if d > 0:
        y = y + (zz + 1)
    else:
        y = (y | zz) - (zz + 1)
    y &= _EVEN >> (64 - step * 2)
    return x | y


def neighbors(bits: int, step: int) -> list:
    """[north, south, east, west, north_east, north_west, south_east,
    south_west], the order membersOfAllNeighbors visits them in."""
    east = _move_x(bits, step, 1)
    west = _move_x(bits, step, -1)
    return [_move_y(bits, step, 1), _move_y(bits, step, -1), east, west,
            _move_y(east, step, 1), _move_y(west, step, 1),
            _move_y(east, step, -1), _move_y(west, step, -1)]


# --- distances ---------------------------------------------------------------------

def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """geohashGetDistance: haversine on a sphere of EARTH_RADIUS meters."""
    lat1r = lat1 * D_R
    lon1r = lon1 * D_R
    lat2r = lat2 * D_R
    lon2r = lon2 * D_R
    u = _sin((lat2r - lat1r) / 2)
    v = _sin((lon2r - lon1r) / 2)
    a = u * u + _cos(lat1r) * _cos(lat2r) * v * v
    # rounding can take a past 1 for antipodes, where C's asin gives NaN
    return 2.0 * EARTH_RADIUS * (_asin(_sqrt(a)) if a <= 1.0 else math.nan)


def in_rectangle(width_m: float, height_m: float, lon1: float, lat1: float,
                 lon2: float, lat2: float):
    """geohashGetDistanceIfInRectangle: the distance from the box's center
    (lon1, lat1) to the point, or None when the point is outside."""
    lon_distance = distance(lon2, lat2, lon1, lat2)
    lat_distance = distance(lon2, lat2, lon2, lat1)
    if lon_distance > width_m / 2 or lat_distance > height_m / 2:
        return None
    return distance(lon1, lat1, lon2, lat2)


# --- search areas -------------------------------------------------------------------

def estimate_steps(range_m: float, lat: float) -> int:
    """geohashEstimateStepsByRadius."""
    if range_m == 0:
        return 26
    step = 1
    while range_m < MERCATOR_MAX:
        range_m *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    if step < 1:
        step = 1
    if step > 26:
        step = 26
    return step


def bounding_box(lon: float, lat: float, half_width_m: float, half_height_m: float):
    """geohashBoundingBox: (min_lon, min_lat, max_lon, max_lat)."""
    lat_delta = (half_height_m / EARTH_RADIUS) / D_R
    top = (half_width_m / EARTH_RADIUS / _cos((lat + lat_delta) * D_R)) / D_R
    bottom = (half_width_m / EARTH_RADIUS / _cos((lat - lat_delta) * D_R)) / D_R
    if lat < 0:
        return lon - bottom, lat - lat_delta, lon + bottom, lat + lat_delta
    return lon - top, lat - lat_delta, lon + top, lat + lat_delta


def search_areas(lon: float, lat: float, conversion: float, radius=None,
                 width=None, height=None):
    """geohashCalculateAreasByShapeWGS84: (step, [center, north, south, east,
    west, north_east, north_west, south_east, south_west]) covering a circle
    of `radius` or a `width` x `height` box (in units of `conversion`
    meters) around (lon, lat); useless neighbours are None."""
    if radius is not None:
        half_h = conversion * radius
        half_w = conversion * radius
        radius_m = radius
    else:
        half_h = conversion * (height / 2)
        half_w = conversion * (width / 2)
        radius_m = _sqrt((width / 2) * (width / 2) + (height / 2) * (height / 2))
    radius_m *= conversion
    min_lon, min_lat, max_lon, max_lat = bounding_box(lon, lat, half_w, half_h)

    steps = estimate_steps(radius_m, lat)
    center = encode(lon, lat, steps)
    around = neighbors(center, steps)
    # Is the step fine enough at the edges?  A search area near the border
    # of its cell may reach past the neighbours: then use a coarser step.
    north = decode(around[0], steps)
    south = decode(around[1], steps)
    east = decode(around[2], steps)
    west = decode(around[3], steps)
    if (north[3] < max_lat or south[2] > min_lat or east[1] < max_lon
            or west[0] > min_lon) and steps > 1:
        steps -= 1
        center = encode(lon, lat, steps)
        around = neighbors(center, steps)
    area = decode(center, steps)
    if steps >= 2:
        if area[2] < min_lat:               # south, south west, south east
            around[1] = around[7] = around[6] = None
        if area[3] > max_lat:               # north, north east, north west
            around[0] = around[4] = around[5] = None
        if area[0] < min_lon:               # west, south west, north west
            around[3] = around[7] = around[5] = None
        if area[1] > max_lon:               # east, south east, north east
            around[2] = around[6] = around[4] = None
    return steps, [center] + around
