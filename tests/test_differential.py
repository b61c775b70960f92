"""Random command sequences, sent to kvserver and redis-server alike.

Hypothesis state machines draw commands from VOCABULARY (one list: add a
command there and every machine that includes its group exercises it) and
send each to both servers over raw connections.  Replies must be identical
byte for byte, except:

- commands whose reply order is unspecified (KEYS, SMEMBERS...) compare
  as sorted lists of elements;
- TTL/PTTL/EXPIRETIME/PEXPIRETIME compare within one second (50 ms), since
  the two servers read the clock a moment apart.

Expiry times are relative and far enough away (or zero/negative/absolute
past) that nothing can expire between the two servers seeing a command.
Each machine starts from FLUSHALL on both servers; the RESP3 variants
switch both connections to RESP3 with HELLO 3 first.
"""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from conftest import RawConn

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
# THE VOCABULARY: (group, command strategy, how replies compare)
# ---------------------------------------------------------------------------

EXACT, UNORDERED, TTL_SECONDS, TTL_MILLIS = "exact", "unordered", "ttl", "pttl"

VOCABULARY = [
    # strings
    ("strings", seq(case("GET"), KEY), EXACT),
    ("strings", seq(case("SET"), KEY, VALUE, opt(one_of("NX", "XX")), opt("GET"),
                    opt(EXPIRY_OPT)), EXACT),
    ("strings", seq("SET", KEY, VALUE, one_of("NX", "XX", "GET", "KEEPTTL", "EX", "PX", "XYZ"),
                    many(one_of("NX", "XX", "GET", "KEEPTTL", "EX", "100", "PX"))), EXACT),
    ("strings", seq("SETNX", KEY, VALUE), EXACT),
    ("strings", seq("SETEX", KEY, SECONDS, VALUE), EXACT),
    ("strings", seq("PSETEX", KEY, MILLIS, VALUE), EXACT),
    ("strings", seq("GETSET", KEY, VALUE), EXACT),
    ("strings", seq("GETDEL", KEY), EXACT),
    ("strings", seq("GETEX", KEY, opt(one_of(EXPIRY_OPT, seq("PERSIST")))), EXACT),
    ("strings", seq("MSET", KEY, VALUE, many(KEY, VALUE)), EXACT),
    ("strings", seq("MSETNX", KEY, VALUE, many(KEY, VALUE)), EXACT),
    ("strings", seq("MGET", KEY, many(KEY)), EXACT),
    ("strings", seq("APPEND", KEY, VALUE), EXACT),
    ("strings", seq("STRLEN", KEY), EXACT),
    ("strings", seq(one_of("INCR", "DECR"), KEY), EXACT),
    ("strings", seq(one_of("INCRBY", "DECRBY"), KEY, INT), EXACT),
    ("strings", seq("INCRBYFLOAT", KEY, FLOAT), EXACT),
    ("strings", seq(one_of("GETRANGE", "SUBSTR"), KEY, SMALL_INT, SMALL_INT), EXACT),
    ("strings", seq("SETRANGE", KEY, SMALL_INT, VALUE), EXACT),
    ("strings", seq("LCS", KEY, KEY, opt("LEN"), opt("IDX"), opt("MINMATCHLEN", SMALL_INT),
                    opt("WITHMATCHLEN")), EXACT),
    ("strings", seq("OBJECT", "ENCODING", KEY), EXACT),
    # keyspace
    ("keys", seq(one_of("DEL", "UNLINK", "EXISTS", "TOUCH"), KEY, many(KEY)), EXACT),
    ("keys", seq("TYPE", KEY), EXACT),
    ("keys", seq(one_of("RENAME", "RENAMENX"), KEY, KEY), EXACT),
    ("keys", seq("COPY", KEY, KEY, opt("DB", one_of("0", "1", "99", "x")), opt("REPLACE")),
     EXACT),
    ("keys", seq("MOVE", KEY, one_of("0", "1", "16", "x")), EXACT),
    # (an absolute time as a relative one would be a TTL of a second or a
    # millisecond, which the two servers may see pass at different commands)
    ("keys", seq("EXPIRE", KEY, SECONDS, opt(one_of("NX", "XX", "GT", "LT", "XY"))), EXACT),
    ("keys", seq("EXPIREAT", KEY, one_of(SECONDS, UNIX_S),
                 opt(one_of("NX", "XX", "GT", "LT", "XY"))), EXACT),
    ("keys", seq("PEXPIRE", KEY, MILLIS, opt(one_of("NX", "XX", "GT", "LT"))), EXACT),
    ("keys", seq("PEXPIREAT", KEY, one_of(MILLIS, UNIX_MS),
                 opt(one_of("NX", "XX", "GT", "LT"))), EXACT),
    ("keys", seq("PERSIST", KEY), EXACT),
    # absolute times derived from relative ones differ by the moment between servers
    ("keys", seq("EXPIRETIME", KEY), TTL_SECONDS),
    ("keys", seq("PEXPIRETIME", KEY), TTL_MILLIS),
    ("keys", seq("TTL", KEY), TTL_SECONDS),
    ("keys", seq("PTTL", KEY), TTL_MILLIS),
    ("keys", seq("DBSIZE"), EXACT),
    ("keys", seq("KEYS", one_of("*", "k?", "k[12]", "*u*", "[")), UNORDERED),
    ("keys", seq("SELECT", one_of("0", "1", "16", "-1", "x")), EXACT),
    ("keys", seq("SWAPDB", one_of("0", "1"), one_of("0", "1", "16")), EXACT),
    # errors: unknown commands, wrong arity, bad arguments
    ("errors", seq(one_of("NOSUCH", "GETT", "S E T"), many(VALUE)), EXACT),
    ("errors", seq(one_of("GET", "SET", "MSET", "INCRBY", "GETRANGE", "EXPIRE", "DEL",
                          "APPEND", "LCS", "OBJECT", "TTL"), many(KEY, max_size=1)), EXACT),
    ("errors", seq("ECHO", VALUE), EXACT),
    ("errors", seq("PING", many(VALUE, max_size=2)), EXACT),
    # other types, mainly so that string and key commands meet them
    ("lists", seq(one_of("LPUSH", "RPUSH"), KEY, MEMBER, many(MEMBER)), EXACT),
    ("lists", seq("LRANGE", KEY, SMALL_INT, SMALL_INT), EXACT),
    ("lists", seq(one_of("LPOP", "RPOP", "LLEN"), KEY), EXACT),
    ("hashes", seq("HSET", KEY, FIELD, VALUE, many(FIELD, VALUE)), EXACT),
    ("hashes", seq("HGET", KEY, FIELD), EXACT),
    ("hashes", seq("HGETALL", KEY), UNORDERED),
    ("hashes", seq("HINCRBY", KEY, FIELD, INT), EXACT),
    ("sets", seq("SADD", KEY, MEMBER, many(MEMBER)), EXACT),
    ("sets", seq("SMEMBERS", KEY), UNORDERED),
    ("sets", seq(one_of("SISMEMBER", "SREM"), KEY, MEMBER), EXACT),
    ("sets", seq("SCARD", KEY), EXACT),
    ("zsets", seq("ZADD", KEY, SCORE, MEMBER, many(SCORE, MEMBER)), EXACT),
    ("zsets", seq("ZRANGE", KEY, SMALL_INT, SMALL_INT, opt("WITHSCORES")), EXACT),
    ("zsets", seq("ZSCORE", KEY, MEMBER), EXACT),
    # transactions: queued commands, EXEC's array of replies, WATCH aborts
    ("transactions", seq(one_of("MULTI", "EXEC", "DISCARD", "UNWATCH")), EXACT),
    ("transactions", seq("WATCH", KEY, many(KEY, max_size=2)), EXACT),
]

GROUPS = sorted({g for g, _, _ in VOCABULARY})


def commands(groups):
    """One strategy yielding (argv, compare-mode) from the given groups."""
    return st.one_of(*[s.map(lambda argv, m=mode: (argv, m))
                       for g, s, mode in VOCABULARY if g in groups])


# ---------------------------------------------------------------------------
# reply comparison
# ---------------------------------------------------------------------------

def _elements(reply: bytes) -> list:
    """The top-level elements of an aggregate reply, each as raw bytes."""
    conn = _Replay(reply)
    head = conn.line()
    if head[:1] not in b"*~%" or head == b"*-1":
        return [reply]
    n = int(head[1:]) * (2 if head[:1] == b"%" else 1)
    return [conn.element() for _ in range(n)]


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


def same(mode, argv, a: bytes, b: bytes) -> bool:
    if a == b:
        return True
    if mode == UNORDERED:
        ea, eb = _elements(a), _elements(b)
        if argv[0].upper() == b"HGETALL":
            return _pairs(ea) == _pairs(eb)
        return sorted(ea) == sorted(eb)
    if mode in (TTL_SECONDS, TTL_MILLIS) and a[:1] == b[:1] == b":":
        slack = 1 if mode == TTL_SECONDS else 50
        return int(a[1:-2]) >= 0 and abs(int(a[1:-2]) - int(b[1:-2])) <= slack
    return False


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

    def send(self, argv, mode):
        a = self.kv.call(*argv)
        b = self.real.call(*argv)
        self.log.append(argv)
        assert same(mode, argv, a, b), (
            f"\n  command  {argv!r}\n  kvserver {a[:400]!r}\n  redis    {b[:400]!r}"
            f"\n  after    {self.log[-12:-1]!r}")


def machine(groups, kv_port, real_port, resp=2):
    strategy = commands(groups)

    class M(Differential):
        @rule(cmd=strategy)
        def step(self, cmd):
            self.send(*cmd)

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


@settings(max_examples=300, deadline=None)
@given(commands(GROUPS))
def test_vocabulary_is_well_formed(cmd):
    argv, mode = cmd
    assert mode in (EXACT, UNORDERED, TTL_SECONDS, TTL_MILLIS)
    assert argv and all(isinstance(a, bytes) for a in argv)
