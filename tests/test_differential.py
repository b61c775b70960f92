"""Random command sequences, sent to kvserver and redis-server alike.

Hypothesis state machines draw commands from VOCABULARY (one list: add a
command there and every machine that includes its group exercises it) and
send each to both servers over raw connections.  Replies must be identical
byte for byte, except for the commands in COMPARE, looked up by name
wherever a command appears (its own reply, or its element of an EXEC
reply, which is compared element by element against the commands queued):

- commands whose reply order Redis leaves unspecified (KEYS, SMEMBERS...;
  COMMAND INFO tips them nondeterministic_output_order) compare as
  multisets of elements, HGETALL as a multiset of field-value pairs;
- TTL/PTTL/EXPIRETIME/PEXPIRETIME compare within one second (50 ms), since
  the two servers read the clock a moment apart.

Expiry times are relative and far enough away (or zero/negative/absolute
past) that nothing can expire between the two servers seeing a command.
Each machine starts from FLUSHALL on both servers; the RESP3 variants
switch both connections to RESP3 with HELLO 3 first.
"""

import functools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from conftest import RawConn, encode_command

# ---------------------------------------------------------------------------
# argument strategies
# ---------------------------------------------------------------------------

KEY = st.sampled_from([b"k1", b"k2", b"k3", b"num", b"", b"\xff\x00k"])
VALUE = st.one_of(
    st.sampled_from([b"0", b"1", b"-1", b"10", b"007", b" 1", b"1.5", b"-0", b"abc", b"",
                     b"9223372036854775807", b"-9223372036854775808",
                     b"9223372036854775808", b"1e3", b"inf", b"\x00\xff\r\n", b"x" * 45,
                     b"y" * 44]),
    st.binary(max_size=12))
INT = st.sampled_from([b"0", b"1", b"-1", b"2", b"-3", b"100", b"9223372036854775807",
                       b"-9223372036854775808", b"9223372036854775808", b"abc", b"1.0",
                       b"", b" 1"])
SMALL_INT = st.sampled_from([b"0", b"1", b"2", b"3", b"-1", b"-2", b"-100", b"100", b"x"])
FLOAT = st.sampled_from([b"0", b"1.5", b"-2.25", b"0.1", b"1e3", b"3.0e-5", b"10",
                         b"inf", b"-inf", b"nan", b"abc", b"", b"5.0e3", b"1.7976931348623157e308"])
# relative expiries: either immediate (<= 0), invalid, or far in the future
SECONDS = st.sampled_from([b"-1", b"0", b"100", b"1000", b"86400", b"x",
                           b"9223372036854775807", b"4611686018427387"])
MILLIS = st.sampled_from([b"-1", b"0", b"100000", b"5000000", b"x", b"9223372036854775807"])
# absolute expiries: long past or far future
UNIX_S = st.sampled_from([b"1", b"1000000000", b"4102444800", b"-5"])
UNIX_MS = st.sampled_from([b"1", b"1000000000000", b"4102444800000"])
FIELD = st.sampled_from([b"f1", b"f2", b"f3", b""])
MEMBER = st.sampled_from([b"a", b"b", b"c", b"1", b"2", b"10", b""])
SCORE = st.sampled_from([b"0", b"1", b"-1", b"1.5", b"+inf", b"-inf", b"nan", b"x"])


def lit(x):
    return st.just(x.encode() if isinstance(x, str) else x)


def part(x):
    if isinstance(x, (str, bytes)):
        return lit(x)
    return x


def seq(*parts):
    """A command (or fragment): a list of bytes from literals and strategies."""
    return st.tuples(*map(part, parts)).map(_flatten)


def opt(*parts):
    return st.one_of(st.just([]), seq(*parts))


def many(*parts, max_size=3):
    return st.lists(seq(*parts), max_size=max_size).map(_flatten)


def one_of(*alternatives):
    return st.one_of(*map(part, alternatives))


def _flatten(items):
    out = []
    for it in items:
        if isinstance(it, (list, tuple)):
            out.extend(_flatten(it))
        else:
            out.append(it)
    return out


def case(name):
    """The command name in a random letter case."""
    return st.sampled_from([name, name.lower(), name.capitalize()]).map(str.encode)


EXPIRY_OPT = one_of(seq("EX", SECONDS), seq("PX", MILLIS), seq("EXAT", UNIX_S),
                    seq("PXAT", UNIX_MS), seq("KEEPTTL"))

# ---------------------------------------------------------------------------
# THE VOCABULARY: (group, command strategy); COMPARE says how replies compare
# ---------------------------------------------------------------------------

VOCABULARY = [
    # strings
    ("strings", seq(case("GET"), KEY)),
    ("strings", seq(case("SET"), KEY, VALUE, opt(one_of("NX", "XX")), opt("GET"),
                    opt(EXPIRY_OPT))),
    ("strings", seq("SET", KEY, VALUE, one_of("NX", "XX", "GET", "KEEPTTL", "EX", "PX", "XYZ"),
                    many(one_of("NX", "XX", "GET", "KEEPTTL", "EX", "100", "PX")))),
    ("strings", seq("SETNX", KEY, VALUE)),
    ("strings", seq("SETEX", KEY, SECONDS, VALUE)),
    ("strings", seq("PSETEX", KEY, MILLIS, VALUE)),
    ("strings", seq("GETSET", KEY, VALUE)),
    ("strings", seq("GETDEL", KEY)),
    ("strings", seq("GETEX", KEY, opt(one_of(EXPIRY_OPT, seq("PERSIST"))))),
    ("strings", seq("MSET", KEY, VALUE, many(KEY, VALUE))),
    ("strings", seq("MSETNX", KEY, VALUE, many(KEY, VALUE))),
    ("strings", seq("MGET", KEY, many(KEY))),
    ("strings", seq("APPEND", KEY, VALUE)),
    ("strings", seq("STRLEN", KEY)),
    ("strings", seq(one_of("INCR", "DECR"), KEY)),
    ("strings", seq(one_of("INCRBY", "DECRBY"), KEY, INT)),
    ("strings", seq("INCRBYFLOAT", KEY, FLOAT)),
    ("strings", seq(one_of("GETRANGE", "SUBSTR"), KEY, SMALL_INT, SMALL_INT)),
    ("strings", seq("SETRANGE", KEY, SMALL_INT, VALUE)),
    ("strings", seq("LCS", KEY, KEY, opt("LEN"), opt("IDX"), opt("MINMATCHLEN", SMALL_INT),
                    opt("WITHMATCHLEN"))),
    ("strings", seq("OBJECT", "ENCODING", KEY)),
    # keyspace
    ("keys", seq(one_of("DEL", "UNLINK", "EXISTS", "TOUCH"), KEY, many(KEY))),
    ("keys", seq("TYPE", KEY)),
    ("keys", seq(one_of("RENAME", "RENAMENX"), KEY, KEY)),
    ("keys", seq("COPY", KEY, KEY, opt("DB", one_of("0", "1", "99", "x")), opt("REPLACE"))),
    ("keys", seq("MOVE", KEY, one_of("0", "1", "16", "x"))),
    # (an absolute time as a relative one would be a TTL of a second or a
    # millisecond, which the two servers may see pass at different commands)
    ("keys", seq("EXPIRE", KEY, SECONDS, opt(one_of("NX", "XX", "GT", "LT", "XY")))),
    ("keys", seq("EXPIREAT", KEY, one_of(SECONDS, UNIX_S),
                 opt(one_of("NX", "XX", "GT", "LT", "XY")))),
    ("keys", seq("PEXPIRE", KEY, MILLIS, opt(one_of("NX", "XX", "GT", "LT")))),
    ("keys", seq("PEXPIREAT", KEY, one_of(MILLIS, UNIX_MS),
                 opt(one_of("NX", "XX", "GT", "LT")))),
    ("keys", seq("PERSIST", KEY)),
    # absolute times derived from relative ones differ by the moment between servers
    ("keys", seq("EXPIRETIME", KEY)),
    ("keys", seq("PEXPIRETIME", KEY)),
    ("keys", seq("TTL", KEY)),
    ("keys", seq("PTTL", KEY)),
    ("keys", seq("DBSIZE")),
    ("keys", seq("KEYS", one_of("*", "k?", "k[12]", "*u*", "["))),
    ("keys", seq("SELECT", one_of("0", "1", "16", "-1", "x"))),
    ("keys", seq("SWAPDB", one_of("0", "1"), one_of("0", "1", "16"))),
    # errors: unknown commands, wrong arity, bad arguments
    ("errors", seq(one_of("NOSUCH", "GETT", "S E T"), many(VALUE))),
    ("errors", seq(one_of("GET", "SET", "MSET", "INCRBY", "GETRANGE", "EXPIRE", "DEL",
                          "APPEND", "LCS", "OBJECT", "TTL"), many(KEY, max_size=1))),
    ("errors", seq("ECHO", VALUE)),
    ("errors", seq("PING", many(VALUE, max_size=2))),
    # other types, mainly so that string and key commands meet them
    ("lists", seq(one_of("LPUSH", "RPUSH"), KEY, MEMBER, many(MEMBER))),
    ("lists", seq("LRANGE", KEY, SMALL_INT, SMALL_INT)),
    ("lists", seq(one_of("LPOP", "RPOP", "LLEN"), KEY)),
    ("hashes", seq("HSET", KEY, FIELD, VALUE, many(FIELD, VALUE))),
    ("hashes", seq("HGET", KEY, FIELD)),
    ("hashes", seq("HGETALL", KEY)),
    ("hashes", seq("HINCRBY", KEY, FIELD, INT)),
    ("sets", seq("SADD", KEY, MEMBER, many(MEMBER))),
    ("sets", seq("SMEMBERS", KEY)),
    ("sets", seq(one_of("SISMEMBER", "SREM"), KEY, MEMBER)),
    ("sets", seq("SCARD", KEY)),
    ("zsets", seq("ZADD", KEY, SCORE, MEMBER, many(SCORE, MEMBER))),
    ("zsets", seq("ZRANGE", KEY, SMALL_INT, SMALL_INT, opt("WITHSCORES"))),
    ("zsets", seq("ZSCORE", KEY, MEMBER)),
    # transactions: queued commands, EXEC's array of replies, WATCH aborts
    ("transactions", seq(one_of("MULTI", "EXEC", "DISCARD", "UNWATCH"))),
    ("transactions", seq("WATCH", KEY, many(KEY, max_size=2))),
]

GROUPS = sorted({g for g, _ in VOCABULARY})


def commands(groups):
    """One strategy yielding an argv from the given groups."""
    return st.one_of(*[s for g, s in VOCABULARY if g in groups])


# ---------------------------------------------------------------------------
# reply comparison
# ---------------------------------------------------------------------------

UNORDERED, PAIRS, TTL_SECONDS, TTL_MILLIS = "unordered", "pairs", "ttl", "pttl"

# How a command's replies compare, by command name, wherever the command
# appears: on its own or queued in MULTI, as its element of EXEC's reply.
# Every other reply must be identical.  Each command the vocabulary draws
# that COMMAND INFO tips nondeterministic_output_order must be here as
# UNORDERED or PAIRS (test_vocabulary_is_well_formed checks).
COMPARE = {
    b"KEYS": UNORDERED,
    b"SMEMBERS": UNORDERED,
    b"HGETALL": PAIRS,
    b"TTL": TTL_SECONDS,
    b"EXPIRETIME": TTL_SECONDS,
    b"PTTL": TTL_MILLIS,
    b"PEXPIRETIME": TTL_MILLIS,
}
# commands tipped nondeterministic_output whose drawn forms are not
OUTPUT_DETERMINED_HERE = {
    b"OBJECT": "only OBJECT ENCODING is drawn, and encodings follow the same rules",
}


def _parts(reply: bytes):
    """(first line, top-level elements as raw bytes) of a reply; anything
    but a non-null aggregate is its own one element."""
    conn = _Replay(reply)
    head = conn.line()
    if head[:1] not in b"*~%" or head == b"*-1":
        return head, [reply]
    n = int(head[1:]) * (2 if head[:1] == b"%" else 1)
    return head, [conn.element() for _ in range(n)]


class _Replay:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def line(self):
        end = self.data.index(b"\r\n", self.pos)
        out = self.data[self.pos:end]
        self.pos = end + 2
        return out

    def element(self):
        start = self.pos
        head = self.line()
        t = head[:1]
        if t in b"$=" and head != b"$-1":
            self.pos += int(head[1:]) + 2
        elif t in b"*~%>" and head != b"*-1":
            n = int(head[1:]) * (2 if t == b"%" else 1)
            for _ in range(n):
                self.element()
        return self.data[start:self.pos]


def _pairs(elements):
    return sorted(zip(elements[::2], elements[1::2]))


def same(argv, a: bytes, b: bytes, queued=()) -> bool:
    """Whether kvserver's reply `a` to argv agrees with Redis's `b`.  An
    EXEC's replies are compared element by element, each element as a
    reply to its command in `queued` (the argvs MULTI queued)."""
    if a == b:
        return True
    name = argv[0].upper()
    mode = COMPARE.get(name)
    if mode in (TTL_SECONDS, TTL_MILLIS):
        if a[:1] != b":" or b[:1] != b":":
            return False
        slack = 1 if mode == TTL_SECONDS else 50
        return int(a[1:-2]) >= 0 and abs(int(a[1:-2]) - int(b[1:-2])) <= slack
    (head_a, ea), (head_b, eb) = _parts(a), _parts(b)
    if head_a != head_b:
        return False
    if name == b"EXEC" and head_a[:1] == b"*":
        return len(queued) == len(ea) and all(map(same, queued, ea, eb))
    if mode == PAIRS:
        return _pairs(ea) == _pairs(eb)
    return mode == UNORDERED and sorted(ea) == sorted(eb)


# ---------------------------------------------------------------------------
# the machines
# ---------------------------------------------------------------------------

class Differential(RuleBasedStateMachine):
    kv_port = real_port = None
    resp = 2

    def __init__(self):
        super().__init__()
        self.kv = RawConn(self.kv_port)
        self.real = RawConn(self.real_port)
        self.log = []
        self.queued = []        # the argvs MULTI has queued, for EXEC's reply
        for c in (self.kv, self.real):
            assert c.call("FLUSHALL") == b"+OK\r\n"
            # keys past their TTL must vanish only when the sequence itself
            # touches them, not when either server's cron happens to run
            assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"+OK\r\n"
            if self.resp == 3:
                # the HELLO reply holds the connection id, which differs
                assert c.call("HELLO", "3").startswith(b"%7\r\n")

    def teardown(self):
        for c in (self.kv, self.real):
            c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
            c.close()

    def send(self, argv):
        a = self.kv.call(*argv)
        b = self.real.call(*argv)
        self.log.append(argv)
        name = argv[0].upper()
        assert same(argv, a, b, self.queued if name == b"EXEC" else ()), (
            f"\n  command  {argv!r}\n  kvserver {a[:400]!r}\n  redis    {b[:400]!r}"
            f"\n  after    {self.log[-12:-1]!r}")
        if b == b"+QUEUED\r\n":
            self.queued.append(argv)
        elif name in (b"EXEC", b"DISCARD"):
            # drawn without arguments, they always end the transaction
            self.queued = []


def machine(groups, kv_port, real_port, resp=2):
    strategy = commands(groups)

    class M(Differential):
        @rule(argv=strategy)
        def step(self, argv):
            self.send(argv)

    M.kv_port, M.real_port, M.resp = kv_port, real_port, resp
    M.__name__ = f"Differential_resp{resp}_" + "_".join(groups)
    return M


SETTINGS = settings(max_examples=50, stateful_step_count=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])


@pytest.mark.parametrize("groups", [
    ("strings",),
    ("strings", "keys"),
    ("strings", "keys", "errors"),
    ("strings", "keys", "lists"),
    ("strings", "keys", "hashes"),
    ("strings", "keys", "sets"),
    ("strings", "keys", "zsets"),
    ("strings", "keys", "transactions"),
    ("strings", "keys", "errors", "lists", "hashes", "sets", "zsets", "transactions"),
], ids="+".join)
def test_random_sequences(kv_port, real_port, r, real, groups):
    run_state_machine_as_test(machine(groups, kv_port, real_port), settings=SETTINGS)


@pytest.mark.parametrize("groups", [
    ("strings", "keys", "errors"),
    ("strings", "keys", "lists", "hashes", "sets", "zsets"),
], ids="+".join)
def test_random_sequences_resp3(kv_port, real_port, r, real, groups):
    run_state_machine_as_test(machine(groups, kv_port, real_port, resp=3), settings=SETTINGS)


@functools.lru_cache(maxsize=None)
def command_info(port: int, name: bytes) -> bytes:
    """Redis's COMMAND INFO reply for `name`, asked once per name."""
    c = RawConn(port)
    try:
        return c.call("COMMAND", "INFO", name)
    finally:
        c.close()


@settings(max_examples=300, deadline=None)
@given(argv=commands(GROUPS))
def test_vocabulary_is_well_formed(real_port, argv):
    assert argv and all(isinstance(a, bytes) for a in argv)
    # a draw whose reply Redis may order or word differently must not be
    # compared byte for byte (the tips are bulk strings, hence the CRLF)
    name = argv[0].upper()
    tips = command_info(real_port, name)
    if b"nondeterministic_output_order\r\n" in tips:
        assert COMPARE.get(name) in (UNORDERED, PAIRS), name
    elif b"nondeterministic_output\r\n" in tips:
        assert name in COMPARE or name in OUTPUT_DETERMINED_HERE, name


def _array(*items):
    return b"*%d\r\n" % len(items) + b"".join(items)


def test_exec_elements_compare_as_their_commands():
    k1_k2, k2_k1 = encode_command(b"k1", b"k2"), encode_command(b"k2", b"k1")
    queued = [[b"SET", b"k2", b"v"], [b"KEYS", b"*"]]
    assert same([b"EXEC"], _array(b"+OK\r\n", k1_k2), _array(b"+OK\r\n", k2_k1), queued)
    assert not same([b"EXEC"], _array(b"+OK\r\n", k1_k2), _array(b"+OK\r\n", k2_k1),
                    [[b"SET", b"k2", b"v"], [b"MGET", b"k1", b"k2"]])
    # the order of EXEC's own elements, and each element's type, stay exact
    assert not same([b"EXEC"], _array(b"+OK\r\n", k1_k2), _array(k1_k2, b"+OK\r\n"), queued)
    assert not same([b"EXEC"], _array(b"+OK\r\n", k1_k2),
                    _array(b"+OK\r\n", b"~2\r\n" + k2_k1[4:]), queued)
    assert same([b"EXEC"], _array(b":99\r\n"), _array(b":100\r\n"), [[b"TTL", b"k"]])
    assert not same([b"EXEC"], _array(b":99\r\n"), _array(b":100\r\n"), [[b"STRLEN", b"k"]])


def test_unordered_replies_inside_exec(kv_port, real_port, r, real):
    """20 keys and members come out of KEYS and SMEMBERS in each server's
    own hash order, which almost never agree; queued in MULTI, so do their
    elements of EXEC's reply."""
    m = machine(GROUPS, kv_port, real_port)()
    try:
        m.send([b"MULTI"])
        m.send([b"MSET", *[x for i in range(20) for x in (b"k%d" % i, b"v")]])
        m.send([b"SADD", b"s", *[b"m%d" % i for i in range(20)]])
        m.send([b"EXPIRE", b"k1", b"100"])
        for argv in ([b"KEYS", b"*"], [b"SMEMBERS", b"s"], [b"PTTL", b"k1"],
                     [b"EXEC"], [b"KEYS", b"*"], [b"SMEMBERS", b"s"]):
            m.send(argv)
    finally:
        m.teardown()
