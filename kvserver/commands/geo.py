"""Geo commands (geo.c): GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH,
GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their _RO forms.

A geo set is an ordinary sorted set (kvserver.datastructs.zset) whose
scores are 52-bit geohashes (kvserver.geohash); GEOADD is ZADD with the
coordinates turned into scores, and every other command reads the set
through the sorted set's encoding-agnostic API (score, score ranges).

A search follows georadiusGeneric exactly, because its output order is
observable: the nine cells from `geohash.search_areas` are visited in
Redis's order (center, N, S, E, W, NE, NW, SE, SW, skipping a cell equal
to the one visited just before, but never the center), each cell's score
range in sorted-set order, each point kept if inside the circle or box.
Without ASC/DESC (and without COUNT, which implies ASC unless ANY) that is
the reply order.  Sorting by distance uses glibc's qsort (a stable merge
sort) when every match is returned and Redis's pqsort when COUNT cuts the
list, so equal distances come out as Redis has them.  With ANY the scan
stops as soon as COUNT matches are found.

Distances are replied with "%.4f" (a bulk string even in RESP3),
coordinates with addReplyHumanLongDouble ("%.17Lf" without trailing zeros;
RESP3 doubles), hashes as integers.
"""

from operator import itemgetter

from kvserver import errors, geohash
from kvserver.commands.args import c_word as _option
from kvserver.commands.args import get_float as double_arg
from kvserver.commands.sort import pqsort
from kvserver.commands.table import KeySpec, command
from kvserver.datastructs.zset import NX, XX, ZSet
from kvserver.errors import CommandError
from kvserver.geohash import LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, UNITS, decode_score
from kvserver.net.resp import (EMPTY_ARRAY, NULL2, NULL3, NULL_ARRAY2, ZERO,
                               array_header, bulk, integer, strict_int)

_ZSET = (ZSet,)
_dist_key = itemgetter(0)

# georadiusGeneric's flags
COORDS = 1          # GEORADIUS: center from arguments
MEMBER = 2          # GEORADIUSBYMEMBER: center from a member
NOSTORE = 4         # _RO forms: no STORE / STOREDIST
SEARCH = 8          # GEOSEARCH syntax
SEARCHSTORE = 16    # GEOSEARCHSTORE

SORT_NONE, SORT_ASC, SORT_DESC = 0, 1, 2


def _lonlat(lon_arg: bytes, lat_arg: bytes) -> tuple:
    """extractLongLatOrReply."""
    lon = double_arg(lon_arg)
    lat = double_arg(lat_arg)
    if lon < LON_MIN or lon > LON_MAX or lat < LAT_MIN or lat > LAT_MAX:
        raise errors.geo_invalid_pair(lon, lat)
    return lon, lat


def _unit(arg: bytes) -> float:
    """extractUnitOrReply: meters per unit."""
    m = UNITS.get(_option(arg))
    if m is None:
        raise CommandError(errors.GEO_UNIT)
    return m


def _radius(value: bytes, unit: bytes) -> tuple:
    """extractDistanceOrReply: (radius in units, meters per unit)."""
    r = double_arg(value, errors.GEO_NEED_RADIUS)
    if r < 0:
        raise CommandError(errors.GEO_RADIUS_NEGATIVE)
    return r, _unit(unit)


def _box(w: bytes, h: bytes, unit: bytes) -> tuple:
    """extractBoxOrReply: (width, height in units, meters per unit)."""
    width = double_arg(w, errors.GEO_NEED_WIDTH)
    height = double_arg(h, errors.GEO_NEED_HEIGHT)
    if height < 0 or width < 0:
        raise CommandError(errors.GEO_BOX_NEGATIVE)
    return width, height, _unit(unit)


def _member_pos(z, member: bytes) -> tuple:
    score = z.score(member)
    if score is None:
        raise CommandError(errors.GEO_NO_MEMBER)
    return decode_score(score)


def human(d: float, resp: int) -> bytes:
    """addReplyHumanLongDouble: "%.17Lf" with trailing zeros (and a bare
    '.') removed; a RESP3 double or a RESP2 bulk string."""
    s = b"%.17f" % d
    s = s.rstrip(b"0")
    if s[-1] == 46:
        s = s[:-1]
    if s == b"-0":
        s = b"0"
    if resp == 3:
        return b"," + s + b"\r\n"
    return bulk(s)


def _distance_reply(d: float) -> bytes:
    return bulk(b"%.4f" % d)


# ---------------------------------------------------------------------------
# GEOADD GEODIST GEOHASH GEOPOS
# ---------------------------------------------------------------------------

@command("geoadd", -5, "write denyoom", keys=(1, 1, 1), acl="@write @geo @slow",
         key_specs=[KeySpec("RW UPDATE", index=1)],
         summary="Add one or more geospatial items in the geospatial index represented "
                 "using a sorted set",
         since="3.2.0", group="geo",
         complexity="O(log(N)) for each item added, where N is the number of elements "
                    "in the sorted set.",
         history=(("6.2.0", "Added the `CH`, `NX` and `XX` options."),),
         args="key condition:[NX|XX]@6.2.0 [change:CH]@6.2.0 "
              "longitude latitude member [longitude latitude member ...]")
def geoadd(c, argv):
    argc = len(argv)
    nx = xx = ch = False
    i = 2
    while i < argc:
        opt = _option(argv[i])
        if opt == b"nx":
            nx = True
        elif opt == b"xx":
            xx = True
        elif opt == b"ch":
            ch = True
        else:
            break
        i += 1
    if (argc - i) % 3 or (xx and nx):
        raise CommandError(errors.SYNTAX)
    scores = []
    members = []
    score_of = geohash.score_of
    for j in range(i, argc, 3):
        lon, lat = _lonlat(argv[j], argv[j + 1])
        scores.append(float(score_of(lon, lat)))
        members.append(argv[j + 2])
    if not members:
        # what ZADD, which GEOADD hands its arguments to, says to no pairs
        raise CommandError(errors.SYNTAX)
    db = c.db
    key = argv[1]
    z = db.lookup_typed(key, _ZSET, False)
    cfg = c.server.config
    if z is None:
        if xx:
            return ZERO
        z = ZSet.new(members[0], cfg.zset_max_listpack_entries,
                     cfg.zset_max_listpack_value)
        db.set(key, z)
    added, updated, _, _ = z.add(scores, members, (NX if nx else 0) | (XX if xx else 0),
                                 cfg.zset_max_listpack_entries,
                                 cfg.zset_max_listpack_value)
    if added or updated:
        db.touch(key)
        c.server.keyspace.dirty += added + updated
    return integer(added + updated if ch else added)


@command("geodist", -4, "readonly", keys=(1, 1, 1), acl="@read @geo @slow",
         key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Returns the distance between two members of a geospatial index",
         since="3.2.0", group="geo", complexity="O(log(N))",
         args="key member1 member2 unit:[M|KM|FT|MI]")
def geodist(c, argv):
    to_meter = 1.0
    if len(argv) == 5:
        to_meter = _unit(argv[4])
    elif len(argv) > 5:
        raise CommandError(errors.SYNTAX)
    z = c.db.lookup_typed(argv[1], _ZSET)
    nil = NULL3 if c.resp == 3 else NULL2
    if z is None:
        return nil
    s1 = z.score(argv[2])
    s2 = z.score(argv[3])
    if s1 is None or s2 is None:
        return nil
    lon1, lat1 = decode_score(s1)
    lon2, lat2 = decode_score(s2)
    return _distance_reply(geohash.distance(lon1, lat1, lon2, lat2) / to_meter)


@command("geohash", -2, "readonly", keys=(1, 1, 1), acl="@read @geo @slow",
         key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Returns members of a geospatial index as standard geohash strings",
         since="3.2.0", group="geo",
         complexity="O(log(N)) for each member requested, where N is the number of "
                    "elements in the sorted set.",
         args="key member [member ...]")
def geohash_(c, argv):
    z = c.db.lookup_typed(argv[1], _ZSET)
    nil = NULL3 if c.resp == 3 else NULL2
    out = [array_header(len(argv) - 2)]
    for m in argv[2:]:
        score = z.score(m) if z is not None else None
        out.append(nil if score is None else bulk(geohash.hash_string(score)))
    return b"".join(out)


@command("geopos", -2, "readonly", keys=(1, 1, 1), acl="@read @geo @slow",
         key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Returns longitude and latitude of members of a geospatial index",
         since="3.2.0", group="geo",
         complexity="O(N) where N is the number of members requested.",
         args="key member [member ...]")
def geopos(c, argv):
    z = c.db.lookup_typed(argv[1], _ZSET)
    resp = c.resp
    nil = NULL3 if resp == 3 else NULL_ARRAY2
    out = [array_header(len(argv) - 2)]
    for m in argv[2:]:
        score = z.score(m) if z is not None else None
        if score is None:
            out.append(nil)
        else:
            lon, lat = decode_score(score)
            out.append(b"*2\r\n" + human(lon, resp) + human(lat, resp))
    return b"".join(out)


# ---------------------------------------------------------------------------
# Searches
# ---------------------------------------------------------------------------

def _points(z, cells, lon, lat, conversion, radius, width, height, limit) -> list:
    """membersOfAllNeighbors: (distance, lon, lat, score, member) of every
    point of `z` in the cells that lies inside the shape, in visiting
    order; with a `limit` (ANY), stop once that many are found."""
    out = []
    decode = decode_score
    distance = geohash.distance
    in_rect = geohash.in_rectangle
    align = geohash.align52
    step = cells[0]
    boxes = cells[1]
    if radius is not None:
        radius_m = radius * conversion
    else:
        width_m = width * conversion
        height_m = height * conversion
    last = 0
    for i, bits in enumerate(boxes):
        if bits is None:
            continue
        # a huge radius can make neighbours coincide; Redis skips a cell
        # equal to the previous one visited (unless that was the center)
        if last and bits == boxes[last]:
            continue
        if limit and out and len(out) >= limit:
            break
        lo = align(bits, step)
        hi = align(bits + 1, step)
        members, scores = z.score_range(lo, False, hi, True, False, 0, -1)
        for m, s in zip(members, scores):
            plon, plat = decode(s)
            if radius is not None:
                d = distance(lon, lat, plon, plat)
                if d > radius_m:
                    d = None
            else:
                d = in_rect(width_m, height_m, lon, lat, plon, plat)
            if d is not None:
                out.append((d, plon, plat, s, m))
            if limit and out and len(out) >= limit:
                break
        last = i
    return out


def _gp_cmp_asc(a, b) -> int:
    x = a[0]
    y = b[0]
    return 1 if x > y else (0 if x == y else -1)


def _gp_cmp_desc(a, b) -> int:
    return -_gp_cmp_asc(a, b)


def _search(c, argv, src: int, flags: int) -> bytes:
    """georadiusGeneric."""
    db = c.db
    z = db.lookup_typed(argv[src], _ZSET)
    storekey = None
    storedist = False
    center = None
    radius = width = height = None
    conversion = 1.0
    argc = len(argv)
    if flags & COORDS:
        base = 6
        center = _lonlat(argv[2], argv[3])
        radius, conversion = _radius(argv[4], argv[5])
    elif flags & MEMBER:
        base = 5
        if z is not None:
            center = _member_pos(z, argv[2])
            radius, conversion = _radius(argv[3], argv[4])
    else:
        base = 2
        if flags & SEARCHSTORE:
            base = 3
            storekey = argv[1]

    withdist = withhash = withcoord = any_ = False
    frommember = fromloc = byradius = bybox = False
    sort = SORT_NONE
    count = 0
    search = flags & SEARCH
    i = base
    while i < argc:
        left = argc - i - 1
        opt = _option(argv[i])
        if opt == b"withdist":
            withdist = True
        elif opt == b"withhash":
            withhash = True
        elif opt == b"withcoord":
            withcoord = True
        elif opt == b"any":
            any_ = True
        elif opt == b"asc":
            sort = SORT_ASC
        elif opt == b"desc":
            sort = SORT_DESC
        elif opt == b"count" and left >= 1:
            count = strict_int(argv[i + 1])
            if count is None:
                raise CommandError(errors.NOT_INTEGER)
            if count <= 0:
                raise CommandError(errors.GEO_COUNT)
            i += 1
        elif opt == b"store" and left >= 1 and not flags & (NOSTORE | SEARCH):
            storekey = argv[i + 1]
            storedist = False
            i += 1
        elif opt == b"storedist" and left >= 1 and not flags & (NOSTORE | SEARCH):
            storekey = argv[i + 1]
            storedist = True
            i += 1
        elif opt == b"storedist" and flags & SEARCHSTORE:
            storedist = True
        elif opt == b"frommember" and left >= 1 and search and not fromloc:
            # the member is looked up as it is met, so a missing one is
            # reported before any later syntax error
            if z is not None:
                center = _member_pos(z, argv[i + 1])
            frommember = True
            i += 1
        elif opt == b"fromlonlat" and left >= 2 and search and not frommember:
            center = _lonlat(argv[i + 1], argv[i + 2])
            fromloc = True
            i += 2
        elif opt == b"byradius" and left >= 2 and search and not bybox:
            radius, conversion = _radius(argv[i + 1], argv[i + 2])
            byradius = True
            i += 2
        elif opt == b"bybox" and left >= 3 and search and not byradius:
            width, height, conversion = _box(argv[i + 1], argv[i + 2], argv[i + 3])
            bybox = True
            i += 3
        else:
            raise CommandError(errors.SYNTAX)
        i += 1

    if storekey is not None and (withdist or withhash or withcoord):
        raise CommandError(errors.GEOSEARCHSTORE_WITH if flags & SEARCHSTORE
                           else errors.GEORADIUS_STORE_WITH)
    if search and not (frommember or fromloc):
        raise errors.geo_need_from(argv[0])
    if search and not (byradius or bybox):
        raise errors.geo_need_by(argv[0])
    if any_ and not count:
        raise CommandError(errors.GEO_ANY_WITHOUT_COUNT)

    ks = c.server.keyspace
    if z is None:
        if storekey is None:
            return EMPTY_ARRAY
        if db.delete(storekey):
            ks.dirty += 1
        return ZERO

    # COUNT means "the nearest N" unless ANY says any N will do
    if count and sort == SORT_NONE and not any_:
        sort = SORT_ASC
    if bybox:
        radius = None
    lon, lat = center
    cells = geohash.search_areas(lon, lat, conversion, radius, width, height)
    points = _points(z, cells, lon, lat, conversion, radius, width, height,
                     count if any_ else 0)
    if not points and storekey is None:
        return EMPTY_ARRAY
    total = len(points)
    returned = total if not count or total < count else count
    if sort != SORT_NONE:
        if returned == total:
            points.sort(key=_dist_key, reverse=sort == SORT_DESC)
        else:
            pqsort(points, _gp_cmp_asc if sort == SORT_ASC else _gp_cmp_desc,
                   0, returned - 1)

    if storekey is None:
        resp = c.resp
        nopts = withdist + withhash + withcoord
        out = [array_header(returned)]
        sub = array_header(nopts + 1) if nopts else None
        for d, plon, plat, score, m in points[:returned]:
            if sub is not None:
                out.append(sub)
            out.append(bulk(m))
            if withdist:
                out.append(_distance_reply(d / conversion))
            if withhash:
                out.append(integer(int(score)))
            if withcoord:
                out.append(b"*2\r\n" + human(plon, resp) + human(plat, resp))
        return b"".join(out)

    if returned:
        stored = {}
        for d, _, _, score, m in points[:returned]:
            stored[m] = d / conversion if storedist else float(score)
        pairs = sorted(zip(stored.values(), stored.keys()))
        cfg = c.server.config
        db.set(storekey, ZSet.from_pairs([p[1] for p in pairs], [p[0] for p in pairs],
                                         cfg.zset_max_listpack_entries,
                                         cfg.zset_max_listpack_value))
        ks.dirty += returned
    elif db.delete(storekey):
        ks.dirty += 1
    return integer(returned)


# --- declarations ----------------------------------------------------------------

_UNIT = "unit:(M|KM|FT|MI)"
_RADIUS_DOC = dict(
    since="3.2.0", group="geo",
    complexity="O(N+log(M)) where N is the number of elements inside the bounding box "
               "of the circular area delimited by center and radius and M is the number "
               "of items inside the index.",
    doc_flags=("deprecated",), deprecated_since="6.2.0")
_SEARCH_DOC = dict(
    since="6.2.0", group="geo",
    complexity="O(N+log(M)) where N is the number of elements in the grid-aligned "
               "bounding box area around the shape provided as the filter and M is the "
               "number of items inside the shape",
    history=(("7.0.0", "Added support for uppercase unit names."),))
_FROM = "from:(FROMMEMBER member|FROMLONLAT longitude latitude)"
_BY = (f"by:(circle:(BYRADIUS radius, {_UNIT})|"
       f"box:(BYBOX width, height {_UNIT}))")
_WITH = "[WITHCOORD] [WITHDIST] [WITHHASH]"


def _radius_keys(base: int):
    """The key specs of GEORADIUS and GEORADIUSBYMEMBER: the source, then
    STORE and STOREDIST found by keyword after the fixed arguments."""
    return [KeySpec("RO ACCESS", index=1),
            KeySpec("OW UPDATE", keyword="STORE", startfrom=base),
            KeySpec("OW UPDATE", keyword="STOREDIST", startfrom=base)]


def _radius_getkeys(base: int):
    """georadiusGetKeys: the source and the last STORE/STOREDIST key."""
    def getkeys(argv):
        stored = None
        i = base - 1
        argc = len(argv)
        while i < argc:
            if _option(argv[i]) in (b"store", b"storedist") and i + 1 < argc:
                stored = argv[i + 1]
                i += 1
            i += 1
        return [argv[1]] if stored is None else [argv[1], stored]
    return getkeys


@command("georadius", -6, "write denyoom", keys=(1, 1, 1), acl="@write @geo @slow",
         getkeys=_radius_getkeys(6), key_specs=_radius_keys(6),
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "matching a given maximum distance from a point",
         replaced_by="`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument",
         history=(("6.2.0", "Added the `ANY` option for `COUNT`."),
                  ("7.0.0", "Added support for uppercase unit names.")),
         args=f"key longitude latitude radius {_UNIT} {_WITH} "
              "count:[COUNT count, [ANY]@6.2.0] order:[ASC|DESC] [STORE key] [STOREDIST key]",
         **_RADIUS_DOC)
def georadius(c, argv):
    return _search(c, argv, 1, COORDS)


@command("georadiusbymember", -5, "write denyoom", keys=(1, 1, 1),
         acl="@write @geo @slow",
         getkeys=_radius_getkeys(5), key_specs=_radius_keys(5),
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "matching a given maximum distance from a member",
         replaced_by="`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and "
                     "`FROMMEMBER` arguments",
         history=(("7.0.0", "Added support for uppercase unit names."),),
         args=f"key member radius {_UNIT} {_WITH} count:[COUNT count, [ANY]] "
              "order:[ASC|DESC] [STORE key] [STOREDIST key]",
         **_RADIUS_DOC)
def georadiusbymember(c, argv):
    return _search(c, argv, 1, MEMBER)


@command("georadius_ro", -6, "readonly", keys=(1, 1, 1), acl="@read @geo @slow",
         key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="A read-only variant for GEORADIUS",
         replaced_by="`GEOSEARCH` with the `BYRADIUS` argument",
         history=(("6.2.0", "Added the `ANY` option for `COUNT`."),),
         args=f"key longitude latitude radius {_UNIT} {_WITH} "
              "count:[COUNT count, [ANY]@6.2.0] order:[ASC|DESC]",
         **dict(_RADIUS_DOC, since="3.2.10", deprecated_since="6.2.0"))
def georadius_ro(c, argv):
    return _search(c, argv, 1, COORDS | NOSTORE)


@command("georadiusbymember_ro", -5, "readonly", keys=(1, 1, 1),
         acl="@read @geo @slow", key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="A read-only variant for GEORADIUSBYMEMBER",
         replaced_by="`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments",
         args=f"key member radius {_UNIT} {_WITH} count:[COUNT count, [ANY]] order:[ASC|DESC]",
         **dict(_RADIUS_DOC, since="3.2.10"))
def georadiusbymember_ro(c, argv):
    return _search(c, argv, 1, MEMBER | NOSTORE)


@command("geosearch", -7, "readonly", keys=(1, 1, 1), acl="@read @geo @slow",
         key_specs=[KeySpec("RO ACCESS", index=1)],
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "inside an area of a box or a circle.",
         args=f"key {_FROM} {_BY} order:[ASC|DESC] count:[COUNT count, [ANY]] {_WITH}",
         **_SEARCH_DOC)
def geosearch(c, argv):
    return _search(c, argv, 1, SEARCH)


@command("geosearchstore", -8, "write denyoom", keys=(1, 2, 1), acl="@write @geo @slow",
         key_specs=[KeySpec("OW UPDATE", index=1), KeySpec("RO ACCESS", index=2)],
         summary="Query a sorted set representing a geospatial index to fetch members "
                 "inside an area of a box or a circle, and store the result in another "
                 "key.",
         args=f"destination source {_FROM} {_BY} order:[ASC|DESC] count:[COUNT count, [ANY]] "
              "[STOREDIST]",
         **_SEARCH_DOC)
def geosearchstore(c, argv):
    return _search(c, argv, 2, SEARCH | SEARCHSTORE)
