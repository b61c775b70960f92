"""COMMAND and its subcommands, checked against the real redis-server.

Three layers:
- the args= grammar (commands/docs.py): syntax lines for a spread of Redis
  commands, implemented or not, must parse to exactly the argument trees
  real Redis 7.0 reports in COMMAND DOCS;
- the table walk: every command kvserver registers has complete doc
  fields, and its COMMAND INFO and COMMAND DOCS equal the real server's
  byte for byte, in RESP2 and RESP3 (one test per command, so a mismatch
  names the command whose declaration is off);
- the subcommands themselves: COUNT, LIST and its filters, INFO/DOCS
  lookups, GETKEYS/GETKEYSANDFLAGS and their errors, HELP.

Real Redis iterates its command dicts in hash order, so where a reply lists
subcommands, or every command, the comparison sorts them first; everything
else compares as sent.
"""

import pytest

from conftest import RawConn
from kvserver import errors
from kvserver.commands import docs, introspection, table

table.load()
SPECS = table.all_commands()
FULLNAMES = [s.fullname for s in SPECS] + [
    sub.fullname for s in SPECS for sub in (s.subcommands or {}).values()]


# --- a RESP reader that keeps the types (map/set/status...) -------------------

class Status(str):
    pass


class TSet(list):
    pass


class TMap(list):
    """Pairs, in the order sent."""


def parse(buf: bytes, pos: int = 0):
    """(value, next position) of the reply at buf[pos:]."""
    nl = buf.index(b"\r\n", pos)
    t, line = buf[pos:pos + 1], buf[pos + 1:nl]
    pos = nl + 2
    if t == b"+":
        return Status(line.decode()), pos
    if t == b"-":
        return ("error", line.decode()), pos
    if t == b":":
        return int(line), pos
    if t == b"_":
        return None, pos
    if t == b"$":
        n = int(line)
        if n < 0:
            return None, pos
        return buf[pos:pos + n], pos + n + 2
    n = int(line)
    if n < 0:
        return None, pos
    if t == b"%":
        out = TMap()
        for _ in range(n):
            k, pos = parse(buf, pos)
            v, pos = parse(buf, pos)
            out.append((k, v))
        return out, pos
    out = TSet() if t == b"~" else []
    for _ in range(n):
        v, pos = parse(buf, pos)
        out.append(v)
    return out, pos


def value(buf: bytes):
    v, end = parse(buf)
    assert end == len(buf)
    return v


def plain(v):
    """RESP3 value -> plain Python (maps to dicts, sets and arrays to lists,
    bytes to str), for comparing with docs.Arg.as_dict()."""
    if isinstance(v, TMap):
        return {plain(k): plain(x) for k, x in v}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, bytes):
        return v.decode()
    return v


def info_sorted(v):
    """COMMAND INFO entry with its subcommands in name order."""
    if isinstance(v, list) and len(v) == 10 and isinstance(v[9], list) and v[9]:
        v = v[:9] + [sorted((info_sorted(s) for s in v[9]), key=lambda s: s[0])]
    return v


def docs_sorted(v):
    """COMMAND DOCS entry with its subcommands map in name order."""
    out = TMap()
    for k, x in v:
        if k == b"subcommands":
            x = TMap(sorted(((n, docs_sorted(d)) for n, d in x),
                            key=lambda p: p[0]))
        out.append((k, x))
    return out


@pytest.fixture(scope="module")
def conns(kv_port, real_port):
    """RESP2 and RESP3 connections to both servers (RESP3 None if kvserver
    has no HELLO yet)."""
    kv2, real2 = RawConn(kv_port), RawConn(real_port)
    kv3, real3 = RawConn(kv_port), RawConn(real_port)
    real3.call("HELLO", "3")
    if kv3.call("HELLO", "3").startswith(b"-"):
        kv3.close()
        kv3 = None
    yield {"kv2": kv2, "real2": real2, "kv3": kv3, "real3": real3}
    for c in (kv2, real2, kv3, real3):
        if c is not None:
            c.close()


@pytest.fixture(scope="module")
def real_docs(real_port):
    """Real Redis's COMMAND DOCS, as plain dicts keyed by full name."""
    c = RawConn(real_port)
    c.call("HELLO", "3")
    d = plain(value(c.call("COMMAND", "DOCS")))
    c.close()
    out = {}
    for name, doc in d.items():
        out[name] = doc
        out.update(doc.get("subcommands", {}))
    return out


@pytest.fixture(scope="module")
def real_names(conns):
    return set(plain(value(conns["real2"].call("COMMAND", "LIST"))))


# --- the args= grammar against real Redis's argument trees --------------------

GRAMMAR = {
    "get": "key",
    "ping": "[message]",
    "echo": "message",
    "select": "index",
    "quit": "",
    "set": "key value condition:[NX|XX]@2.6.12 [GET]@6.2.0 "
           "expiration:[EX seconds@2.6.12|PX milliseconds@2.6.12|"
           "EXAT unix-time-seconds@6.2.0|PXAT unix-time-milliseconds@6.2.0|"
           "KEEPTTL@6.0.0]",
    "getex": "key expiration:[EX seconds|PX milliseconds|EXAT unix-time-seconds|"
             "PXAT unix-time-milliseconds|PERSIST]",
    "flushall": "async:[ASYNC@4.0.0|SYNC@6.2.0]",
    "mset": "key value [key value ...]",
    "del": "key [key ...]",
    "expire": "key seconds condition:[NX|XX|GT|LT]@7.0.0",
    "scan": "cursor [MATCH pattern] [COUNT count] [TYPE type@6.0.0]",
    "sort": "key [BY pattern{key_spec_index=1}] [LIMIT offset count] "
            "[GET pattern{key_spec_index=1} [GET pattern ...]] order:[ASC|DESC] "
            "[sorting:ALPHA] [STORE destination]",
    "xread": "[COUNT count] [BLOCK milliseconds] "
             "streams:STREAMS key [key ...] id [id ...]",
    "xreadgroup": "GROUP group consumer, [COUNT count] [BLOCK milliseconds] "
                  "[NOACK] streams:STREAMS key [key ...] id [id ...]",
    "migrate": 'host port key_or_empty_string:(key|empty_string:"") '
               "destination-db timeout:integer [COPY@3.0.0] [REPLACE@3.0.0] "
               "authentication:[[AUTH password@4.0.7]|"
               "[AUTH2 username password]@6.0.0] [KEYS key [key ...]]@3.0.6",
    "zadd": "key condition:[NX|XX]@3.0.2 comparison:[GT|LT]@6.2.0 "
            "[change:CH]@3.0.2 [increment:INCR]@3.0.2 score member [score member ...]",
    "xadd": "key [NOMKSTREAM@6.2.0] trim:[strategy:(MAXLEN|MINID@6.2.0) "
            "operator:[equal:=|approximately:~] threshold [LIMIT count@6.2.0]] "
            "id_or_auto:(auto_id:*|id) field value [field value ...]",
    "geosearch": "key from:(FROMMEMBER member|FROMLONLAT longitude latitude) "
                 "by:(circle:(BYRADIUS radius, unit:(M|KM|FT|MI))|"
                 "box:(BYBOX width, height unit:(M|KM|FT|MI))) order:[ASC|DESC] "
                 "count:[COUNT count, [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]",
    "geoadd": "key condition:[NX|XX]@6.2.0 [change:CH]@6.2.0 "
              "longitude latitude member [longitude latitude member ...]",
    "linsert": "key where:(BEFORE|AFTER) pivot element",
    "lmove": "source destination wherefrom:(LEFT|RIGHT) whereto:(LEFT|RIGHT)",
    "hello": "arguments:[protover [AUTH username password] [SETNAME clientname]]",
    "failover": "[target:TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]",
    "zrange": "key start:string stop:string sortby:[BYSCORE|BYLEX]@6.2.0 "
              "[REV]@6.2.0 [LIMIT offset count]@6.2.0 [WITHSCORES]",
    "zunionstore": "destination numkeys key [key ...] "
                   "[WEIGHTS weight [weight ...]] "
                   "[AGGREGATE aggregate:(SUM|MIN|MAX)]",
    "eval": "script numkeys [key [key ...]] [arg [arg ...]]",
    "bitcount": "key index:[start end index_unit:[BYTE|BIT]@7.0.0]",
    "bitpos": "key bit:integer index:[start end_index:[end index_unit:[BYTE|BIT]@7.0.0]]",
    "bitfield": "key operation:[GET encoding offset|write:("
                "[OVERFLOW wrap_sat_fail:(WRAP|SAT|FAIL)] "
                "write_operation:(SET encoding offset value:integer|"
                "INCRBY encoding offset increment))]...",
    "xpending": "key group filters:[[IDLE min-idle-time:integer@6.2.0] start:string "
                "end:string count [consumer]]",
    "replicaof": "args:(host-port:(host port)|no-one:(NO ONE))",
    "shutdown": "nosave_save:[NOSAVE|SAVE] [NOW@7.0.0] [FORCE@7.0.0] "
                "[ABORT@7.0.0]",
    "xclaim": "key group consumer min-idle-time:string id [id ...] [IDLE ms] "
              "[TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] "
              "[JUSTID] [LASTID id]",
    "restore": "key ttl serialized-value [REPLACE@3.0.0] [ABSTTL@5.0.0] "
               "[IDLETIME seconds@5.0.0] [FREQ frequency@5.0.0]",
    "lpos": "key element [RANK rank] [COUNT num-matches] [MAXLEN len]",
    "acl|setuser": "username [rule [rule ...]]",
    "client|pause": "timeout:integer mode:[WRITE|ALL]@6.2.0",
    "client|list": "[TYPE normal_master_replica_pubsub:(NORMAL|MASTER|REPLICA|"
                   "PUBSUB)]@5.0.0 [id:ID (client-id [client-id ...])]@6.2.0",
    "client|kill": 'filter:("ip:port"{deprecated_since=2.8.12}|new-format:('
                   "[ID client-id@2.8.12]|"
                   "[TYPE normal_master_slave_pubsub:(NORMAL|MASTER@3.2.0|SLAVE|"
                   "REPLICA@5.0.0|PUBSUB)]@2.8.12|[USER username]|"
                   '[ADDR "ip:port"]|[LADDR "ip:port"]@6.2.0|[SKIPME yes/no])...)',
    "xinfo|stream": "key [full:FULL [COUNT count]]",
    "config|get": "parameter:(parameter)...",
    "config|set": "parameter value [parameter value ...]",
    "command|list": "[filterby:FILTERBY (MODULE module-name|ACLCAT category|"
                    "PATTERN pattern)]",
    "object|encoding": "key",
}


@pytest.mark.parametrize("name", sorted(GRAMMAR))
def test_grammar_matches_redis(name, real_docs):
    got = [a.as_dict() for a in docs.parse_args(GRAMMAR[name])]
    assert got == real_docs[name].get("arguments", [])


@pytest.mark.parametrize("text", [
    "key [", "key ]", "(a b", "a | b", "x:nosuchtype", "[]", "... key",
    "{since=1.0.0} key", "key {bogus=1}", "name:", ", key",
    "key{key_spec_index=x}",
])
def test_grammar_rejects(text):
    with pytest.raises(docs.SyntaxError_):
        docs.parse_args(text)


def test_grammar_repeat_needs_same_items():
    # [y ...] after x is an optional y that repeats, not a repetition of x
    (x, y) = docs.parse_args("x [y [y ...]]")
    assert x.as_dict() == {"name": "x", "type": "string"}
    assert y.as_dict() == {"name": "y", "type": "string",
                           "flags": ["optional", "multiple"]}


def test_grammar_key_spec_numbering():
    args = docs.parse_args("src dst [STORE destination] key:string")
    assert [a.key_spec_index for a in args] == [0, 1, 2, -1]


# --- the table walk -------------------------------------------------------------

@pytest.mark.parametrize("name", FULLNAMES)
def test_declaration_complete(name):
    spec = introspection.find_by_fullname(name.encode())
    assert introspection.declaration_problems(spec) == []


def _both(conns, proto, *cmd):
    kv = conns[f"kv{proto}"]
    if kv is None:
        pytest.skip("kvserver has no HELLO 3 yet")
    return kv.call(*cmd), conns[f"real{proto}"].call(*cmd)


def _skip_unless_real(name, real_names):
    if name not in real_names:
        pytest.skip(f"{name} is not a Redis 7.0 command")


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", FULLNAMES)
def test_command_info_matches_redis(name, proto, conns, real_names):
    _skip_unless_real(name, real_names)
    kv, real = _both(conns, proto, "COMMAND", "INFO", name)
    spec = introspection.find_by_fullname(name.encode())
    if not spec.subcommands:
        assert plain(value(kv)) == plain(value(real))   # a readable diff first
        assert kv == real
        return
    # a container: compare with the subcommands kvserver has, in name order
    (kv_v,), (real_v,) = value(kv), value(real)
    mine = {s.fullname.encode() for s in spec.subcommands.values()}
    real_v = real_v[:9] + [[s for s in real_v[9] if s[0] in mine]]
    assert info_sorted(kv_v) == info_sorted(real_v)


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name", FULLNAMES)
def test_command_docs_matches_redis(name, proto, conns, real_names):
    _skip_unless_real(name, real_names)
    kv, real = _both(conns, proto, "COMMAND", "DOCS", name)
    spec = introspection.find_by_fullname(name.encode())
    if not spec.subcommands:
        assert plain(value(kv)) == plain(value(real))   # a readable diff first
        assert kv == real
        return
    kv_v, real_v = value(kv), value(real)
    if proto == 2:  # flat arrays: rebuild the pairs
        kv_v, real_v = _pairs(kv_v), _pairs(real_v)
    mine = {s.fullname.encode() for s in spec.subcommands.values()}
    (_, kv_d), = kv_v
    (_, real_d), = real_v
    real_d = TMap((k, TMap(p for p in x if p[0] in mine)
                   if k == b"subcommands" else x) for k, x in real_d)
    assert docs_sorted(kv_d) == docs_sorted(real_d)


def _pairs(flat):
    """A RESP2 COMMAND DOCS reply (flat arrays) back into pairs."""
    out = TMap()
    for i in range(0, len(flat), 2):
        name, d = flat[i], flat[i + 1]
        fields = TMap()
        for j in range(0, len(d), 2):
            k, x = d[j], d[j + 1]
            if k == b"subcommands":
                x = _pairs(x)
            fields.append((k, x))
        out.append((name, fields))
    return out


# --- COMMAND, COUNT, LIST ----------------------------------------------------------

def _names_of_all(reply: bytes) -> list:
    return sorted(e[0] for e in value(reply))


def test_command_lists_every_command(conns):
    kv = conns["kv2"]
    reply = kv.call("COMMAND")
    assert _names_of_all(reply) == sorted(s.fullname.encode() for s in SPECS)
    assert kv.call("COMMAND", "INFO") == reply
    assert kv.call("COMMAND", "COUNT") == b":%d\r\n" % len(SPECS)


def test_command_all_entries_equal_single_info(conns):
    kv = conns["kv2"]
    entries = {e[0]: e for e in value(kv.call("COMMAND"))}
    for s in SPECS:
        (single,) = value(kv.call("COMMAND", "INFO", s.fullname))
        assert entries[s.fullname.encode()] == single


def test_command_docs_all(conns):
    kv = conns["kv3"] or conns["kv2"]
    d = value(kv.call("COMMAND", "DOCS"))
    if isinstance(d, TMap):
        names = [k for k, _ in d]
    else:
        names = d[::2]
    assert sorted(names) == sorted(s.fullname.encode() for s in SPECS)


def test_command_list(conns):
    listed = value(conns["kv2"].call("COMMAND", "LIST"))
    assert sorted(listed) == sorted(n.encode() for n in FULLNAMES)


@pytest.mark.parametrize("args", [
    ("PATTERN", "conf*"), ("PATTERN", "*|*"), ("PATTERN", "S?T"),
    ("PATTERN", "[a-f]*"), ("PATTERN", "[^a-f]*"), ("PATTERN", "*\\|get"),
    ("PATTERN", "nomatch"), ("ACLCAT", "write"), ("ACLCAT", "READ"),
    ("ACLCAT", "connection"), ("ACLCAT", "slow"), ("ACLCAT", "admin"),
    ("ACLCAT", "@write"), ("ACLCAT", "nosuch"), ("MODULE", "x"),
])
def test_command_list_filters_match_redis(args, conns):
    """kvserver's answer is real Redis's, restricted to what kvserver has."""
    mine = {n.encode() for n in FULLNAMES}
    kv = value(conns["kv2"].call("COMMAND", "LIST", "FILTERBY", *args))
    real = value(conns["real2"].call("COMMAND", "LIST", "FILTERBY", *args))
    assert sorted(kv) == sorted(n for n in real if n in mine)


@pytest.mark.parametrize("cmd", [
    ("COMMAND", "LIST", "FILTERBY"),
    ("COMMAND", "LIST", "FILTERBY", "PATTERN"),
    ("COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"),
    ("COMMAND", "LIST", "FILTERBY", "NOSUCH", "a"),
    ("COMMAND", "LIST", "foo"),
    ("COMMAND", "COUNT", "x"),
    ("COMMAND", "HELP", "x"),
    ("COMMAND", "NOSUCH"),
    ("COMMAND", "GETKEYS"),
    ("COMMAND", "GETKEYS", "get"),
    ("COMMAND", "GETKEYSANDFLAGS", "get"),
    ("COMMAND", "HELP"),
    ("COMMAND", "INFO", "nosuch", "get|x", "a|b|c", "ping|x"),
    ("COMMAND", "DOCS", "nosuch", "get|x"),
    ("COMMAND", "DOCS", "nosuch"),
])
def test_command_errors_and_fixed_replies(cmd, diff):
    diff.call(*cmd)


def test_command_info_unknown_is_null(conns):
    for proto in (2, 3):
        kv, real = _both(conns, proto, "COMMAND", "INFO", "nosuch", "x|y")
        assert kv == real


def test_command_info_lookup_is_case_insensitive(conns):
    kv = conns["kv2"]
    assert kv.call("COMMAND", "INFO", "GET") == kv.call("COMMAND", "INFO", "get")
    assert (kv.call("COMMAND", "INFO", "COMMAND|COUNT")
            == kv.call("COMMAND", "INFO", "command|count"))
    assert kv.call("COMMAND", "DOCS", "Get") == kv.call("COMMAND", "DOCS", "get")


# --- GETKEYS ---------------------------------------------------------------------------

GETKEYS_CASES = [
    ("get", "a"), ("get", "a", "b"), ("get",), ("set", "k", "v"),
    ("set", "k", "v", "get"), ("set", "k", "v", "EX", "10", "GET"),
    ("mset", "a", "1", "b", "2"), ("mset", "a", "1", "b"),
    ("mget", "a", "b", "c"), ("del", "a", "b"), ("exists", "a"),
    ("rename", "a", "b"), ("copy", "a", "b", "REPLACE"),
    ("expire", "k", "10", "NX"), ("ping",), ("ping", "x"),
    ("config", "get", "x"), ("config", "nosuch", "x"), ("config",),
    ("nosuch", "a"), ("command", "count"), ("getdel", "k"),
    ("lcs", "a", "b"), ("msetnx", "a", "1", "b", "2"), ("incr", "k"),
    ("append", "k", "v"), ("getex", "k", "PERSIST"), ("setrange", "k", "1", "v"),
    ("bitfield", "k", "GET", "u8", "0"), ("bitfield", "k", "SET", "u8", "0", "1"),
    ("bitfield_ro", "k", "GET", "u8", "0"), ("sort", "k", "STORE", "d"),
    ("zunionstore", "d", "2", "a", "b"), ("zunionstore", "d", "5", "a"),
    ("eval", "s", "0"), ("eval", "s", "1", "a", "b"),
    ("xread", "STREAMS", "a", "b", "0", "0"),
    ("migrate", "h", "1", "", "0", "0", "KEYS", "a", "b"),
    ("touch", "a", "b"), ("unlink", "a"), ("ttl", "a"), ("type", "a"),
    ("object", "encoding", "k"), ("dump", "k"), ("persist", "k"),
]


def _implemented(cmd) -> bool:
    spec = introspection.find_by_fullname(cmd[0].encode()) if cmd else None
    if spec is not None and spec.subcommands and len(cmd) > 1:
        return spec.subcommands.get(cmd[1].lower()) is not None or \
            cmd[1] == "nosuch"
    return spec is not None or cmd[0] == "nosuch"


@pytest.mark.parametrize("sub", ["GETKEYS", "GETKEYSANDFLAGS"])
@pytest.mark.parametrize("cmd", GETKEYS_CASES, ids=" ".join)
def test_getkeys_matches_redis(sub, cmd, diff):
    if not _implemented(cmd):
        pytest.skip(f"{cmd[0]} is not implemented")
    diff.call("COMMAND", sub, *cmd)


def test_keys_from_specs_kinds():
    KS = table.KeySpec
    argv = [b"cmd", b"a", b"STORE", b"d", b"2", b"x", b"y", b"z"]
    assert introspection.keys_from_specs(
        [KS("RO", index=1), KS("OW", keyword="STORE", startfrom=1)],
        argv) == [(1, ("RO",)), (3, ("OW",))]
    assert introspection.keys_from_specs(
        [KS("RO", index=4, keynum=(0, 1, 1))], argv) == [(5, ("RO",)),
                                                          (6, ("RO",))]
    # keyword searched backwards from the end
    assert introspection.keys_from_specs(
        [KS("RW", keyword="STORE", startfrom=-1, range=(-1, 1, 0))],
        argv) == [(i, ("RW",)) for i in range(3, 8)]
    # a limit splits what is left: XREAD STREAMS a b 0 0
    xr = [b"xread", b"STREAMS", b"a", b"b", b"0", b"0"]
    assert introspection.keys_from_specs(
        [KS("RO", keyword="STREAMS", startfrom=1, range=(-1, 1, 2))],
        xr) == [(2, ("RO",)), (3, ("RO",))]
    # numkeys past the end, unknown specs and INCOMPLETE cannot tell
    assert introspection.keys_from_specs(
        [KS("RO", index=4, keynum=(0, 1, 1))], argv[:6]) is None
    assert introspection.keys_from_specs([KS("RO")], argv) is None
    assert introspection.keys_from_specs(
        [KS("RO INCOMPLETE", index=1)], argv) is None


def test_key_specs_from_redis_json_shape():
    spec = table.CommandSpec(
        "x", -2, "write", (1, 1, 1), "", None,
        key_specs=[{"notes": "n", "flags": ["RW", "ACCESS"],
                    "begin_search": {"keyword": {"keyword": "K", "startfrom": -2}},
                    "find_keys": {"keynum": {"keynumidx": 0, "firstkey": 1,
                                             "step": 2}}},
                   {"flags": ["RO"], "begin_search": {"unknown": None},
                    "find_keys": {"unknown": None}}])
    (a, b) = introspection.key_specs(spec)
    assert (a.keyword, a.startfrom, a.keynum, a.range, a.notes) == (
        "K", -2, (0, 1, 2), None, "n")
    assert (b.index, b.keyword, b.range, b.keynum) == (None, None, None, None)
    assert introspection.movable_keys(spec)


# --- reply encoding -----------------------------------------------------------------

def test_encode_resp2_flattens_and_resp3_keeps_types():
    M, S, St = introspection.Map, introspection.Set, introspection.Status
    v = [M((("a", 1), ("b", S((St("x"),))))), S(())]
    assert introspection.encode(v, 2) == (
        b"*2\r\n*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*1\r\n+x\r\n*0\r\n")
    assert introspection.encode(v, 3) == (
        b"*2\r\n%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n~1\r\n+x\r\n~0\r\n")



# GETKEYS on Redis's own key specs: commands kvserver may not have yet, run
# through kvserver's key-spec engine with the specs real Redis reports.
SPEC_ENGINE_CASES = [
    ("zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"),
    ("zunionstore", "d", "5", "a"), ("zunionstore", "d", "0", "a"),
    ("zunionstore", "d", "-1", "a"), ("zunionstore", "d", "x", "a"),
    ("zunion", "2", "a", "b"), ("zdiff", "1", "a", "WITHSCORES"),
    ("eval", "s", "0"), ("eval", "s", "2", "a", "b", "c"),
    ("eval", "s", "3", "a"), ("evalsha", "x", "1", "k"),
    ("fcall", "f", "1", "k", "v"), ("lmpop", "2", "a", "b", "LEFT"),
    ("blmpop", "0", "1", "a", "LEFT"), ("sintercard", "2", "a", "b"),
    ("xread", "STREAMS", "a", "b", "0", "0"),
    ("xread", "COUNT", "2", "STREAMS", "a", "0"),
    ("xread", "COUNT", "2", "streams", "a", "b", "c", "0", "0", "0"),
    ("xread", "STREAMS", "a", "b", "0"), ("xread", "COUNT", "1", "BLOCK", "0"),
    ("xreadgroup", "GROUP", "g", "c", "STREAMS", "a", ">"),
    ("georadius", "k", "0", "0", "1", "m", "STORE", "d"),
    ("georadius", "k", "0", "0", "1", "m", "STOREDIST", "d", "STORE", "e"),
    ("georadiusbymember", "k", "m", "1", "km", "STORE", "d"),
    ("geosearchstore", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "m"),
    ("mset", "a", "1", "b", "2"), ("msetnx", "a", "1", "b"),
    ("rename", "a", "b"), ("lmove", "a", "b", "LEFT", "RIGHT"),
    ("smove", "a", "b", "m"), ("bitop", "AND", "d", "a", "b"),
    ("pfmerge", "d", "a", "b"), ("object", "encoding", "k"),
    ("xinfo", "stream", "k"), ("memory", "usage", "k"),
    ("blpop", "a", "b", "0"), ("brpoplpush", "a", "b", "0"),
    ("spublish", "c", "m"), ("ssubscribe", "a"),
    ("bitfield", "k", "GET", "u8", "0"), ("bitfield", "k", "INCRBY", "u8", "0", "1"),
    ("bitfield", "k", "OVERFLOW", "SAT", "GET", "u8", "0"),
    ("bitfield", "k", "get", "u8"), ("set", "k", "v", "gEt"),
    ("set", "k", "v", "GETX"),
]


def _spec_from_real_info(info):
    """A CommandSpec with what real Redis's COMMAND INFO says of a command."""
    name, arity, flags, first, last, step = info[:6]
    known = {f.name.lower() for f in table.Flag if f.name}
    specs = []
    for ks in info[8]:
        bs, fk = ks["begin_search"], ks["find_keys"]
        kw = {}
        if bs["type"] == "index":
            kw["index"] = bs["spec"]["index"]
        elif bs["type"] == "keyword":
            kw["keyword"] = bs["spec"]["keyword"]
            kw["startfrom"] = bs["spec"]["startfrom"]
        if fk["type"] == "range":
            f = fk["spec"]
            kw["range"] = (f["lastkey"], f["keystep"], f["limit"])
        elif fk["type"] == "keynum":
            f = fk["spec"]
            kw["keynum"] = (f["keynumidx"], f["firstkey"], f["keystep"])
        k = table.KeySpec(" ".join(ks["flags"]), **kw)
        if fk["type"] == "unknown":
            k.range = None
        specs.append(k)
    parts = name.split("|")
    return table.CommandSpec(
        parts[-1], arity, " ".join(f for f in flags if f in known),
        (first, last, step), "", None, key_specs=specs)


@pytest.mark.parametrize("sub", ["GETKEYS", "GETKEYSANDFLAGS"])
@pytest.mark.parametrize("cmd", SPEC_ENGINE_CASES, ids=" ".join)
def test_key_spec_engine_matches_redis(sub, cmd, real_port):
    c = RawConn(real_port)
    c.call("HELLO", "3")
    name = cmd[0] if cmd[0] not in ("object", "xinfo", "memory") else \
        f"{cmd[0]}|{cmd[1]}"
    (info,) = plain(value(c.call("COMMAND", "INFO", name)))
    c.close()
    c = RawConn(real_port)
    expected = c.call("COMMAND", sub, *cmd)
    c.close()
    spec = _spec_from_real_info(info)
    argv = [a.encode() for a in cmd]
    try:
        got = introspection.getkeys_reply(spec, argv, sub == "GETKEYSANDFLAGS")
    except errors.CommandError as e:
        got = b"-" + e.msg + b"\r\n"
    assert got == expected


def test_renamed_and_disabled_commands():
    """rename-command moves a command (its full name stays) or drops it."""
    from conftest import start_kvserver, start_redis
    args = ("--rename-command", "get", "foo", "--rename-command", "echo", "")
    with start_kvserver(*args) as (_, kp), start_redis(*args) as (_, rp):
        kv, real = RawConn(kp), RawConn(rp)
        try:
            for cmd in [("COMMAND", "INFO", "foo", "get", "echo"),
                        ("COMMAND", "DOCS", "foo", "get", "echo"),
                        ("COMMAND", "LIST", "FILTERBY", "PATTERN", "foo"),
                        ("COMMAND", "LIST", "FILTERBY", "PATTERN", "get"),
                        ("COMMAND", "LIST", "FILTERBY", "PATTERN", "echo"),
                        ("COMMAND", "GETKEYS", "foo", "a"),
                        ("COMMAND", "GETKEYS", "get", "a")]:
                assert kv.call(*cmd) == real.call(*cmd), cmd
            n = len(SPECS)
            assert kv.call("COMMAND", "COUNT") == b":%d\r\n" % (n - 1)
            names = _names_of_all(kv.call("COMMAND"))
            assert b"get" in names and b"foo" not in names
            assert b"echo" not in names and len(names) == n - 1
        finally:
            kv.close()
            real.close()


def test_getkeysandflags_resp3_flags_are_a_set(diff):
    diff.kv.call("HELLO", "3")      # client ids differ: not compared
    diff.real.call("HELLO", "3")
    diff.call("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b")
    diff.call("COMMAND", "GETKEYSANDFLAGS", "LMOVE", "a", "b", "LEFT", "RIGHT")
