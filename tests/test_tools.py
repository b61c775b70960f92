"""redis-cli and redis-benchmark, run as subprocesses against kvserver.

Where a tool's output is deterministic, the same invocation runs against the
real redis-server too and the outputs must match (only the port differs);
elsewhere the output is parsed and checked.  Interactive redis-cli runs on a
pseudo-terminal with TERM=dumb, so its transcript is plain text.
"""

import os
import pty
import re
import select
import shutil
import subprocess
import time

import pytest

from conftest import start_kvserver

pytestmark = pytest.mark.skipif(
    not (shutil.which("redis-cli") and shutil.which("redis-benchmark")),
    reason="redis-tools is not installed")


def cli(port, *args, stdin=None, timeout=60, check_rc=None):
    """Run redis-cli; returns (rc, stdout, stderr) as bytes."""
    p = subprocess.run(["redis-cli", "-p", str(port), *args], input=stdin,
                       capture_output=True, timeout=timeout)
    if check_rc is not None:
        assert p.returncode == check_rc, (args, p.returncode, p.stdout, p.stderr)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture
def ports(kv_port, real_port, r, real):
    """Both servers, flushed; tests compare what the tools print for each."""
    return kv_port, real_port


def both(ports, *args, stdin=None):
    kv, real = ports
    a = cli(kv, *args, stdin=stdin)
    b = cli(real, *args, stdin=stdin)
    assert a == b, f"redis-cli {' '.join(args)}:\n kvserver {a!r}\n redis    {b!r}"
    return a


# ---------------------------------------------------------------------------
# one-shot commands
# ---------------------------------------------------------------------------

SESSION = [
    ["PING"],
    ["PING", "hello world"],
    ["--no-raw", "PING"],
    ["SET", "k", "v"],
    ["GET", "k"],
    ["GET", "missing"],
    ["--no-raw", "GET", "k"],
    ["--no-raw", "GET", "missing"],
    ["INCR", "n"],
    ["--no-raw", "INCR", "n"],
    ["-r", "3", "INCR", "n"],
    ["ECHO", "a b\nc"],
    ["--no-raw", "ECHO", "a b\nc"],
    ["SET", "bin", "\x01\x02\xc3\xa9"],
    ["--no-raw", "GET", "bin"],
    ["--raw", "GET", "bin"],
    ["MSET", "a", "1", "b", "2"],
    ["MGET", "a", "missing", "b"],
    ["--no-raw", "MGET", "a", "missing", "b"],
    ["--csv", "MGET", "a", "missing", "b"],
    ["--no-raw", "SET", "k"],
    ["SET", "k"],
    ["-e", "SET", "k"],
    ["NOSUCHCOMMAND", "x"],
    ["--no-raw", "INCR", "k"],
    ["DEL", "a", "b", "missing"],
    ["EXISTS", "k", "n"],
    ["--no-raw", "SET", "ex", "1", "EX", "100"],
    ["TTL", "ex"],
    ["TYPE", "k"],
    ["STRLEN", "k"],
    ["-n", "3", "SET", "in3", "yes"],
    ["-n", "3", "GET", "in3"],
    ["GET", "in3"],
    ["DBSIZE"],
    ["-3", "GET", "k"],
    ["-3", "--no-raw", "GET", "missing"],
    ["-3", "--no-raw", "MGET", "k", "missing"],
]


def test_commands_print_the_same(ports):
    for args in SESSION:
        both(ports, *args)


def test_stdin_as_last_argument(ports):
    payload = b"hello\nworld\x00\xff"
    both(ports, "-x", "SET", "fromstdin", stdin=payload)
    both(ports, "GET", "fromstdin")
    both(ports, "STRLEN", "fromstdin")
    rc, out, _ = cli(ports[0], "--no-raw", "GET", "fromstdin", check_rc=0)
    assert out == b'"hello\\nworld\\x00\\xff"\n'


def test_unix_socket_option(tmp_path):
    path = str(tmp_path / "cli.sock")
    with start_kvserver("--unixsocket", path):
        p = subprocess.run(["redis-cli", "-s", path, "PING"], capture_output=True, timeout=30)
        assert p.stdout == b"PONG\n"


# ---------------------------------------------------------------------------
# --scan, --bigkeys
# ---------------------------------------------------------------------------

def test_scan(ports, r):
    pipe = r.pipeline(transaction=False)
    for i in range(300):
        pipe.set(f"user:{i}", i)
    for i in range(100):
        pipe.set(f"other:{i}", i)
    pipe.execute()
    _, out, _ = cli(ports[0], "--scan", check_rc=0)
    keys = out.split(b"\n")[:-1]
    assert sorted(keys) == sorted([b"user:%d" % i for i in range(300)]
                                  + [b"other:%d" % i for i in range(100)])
    _, out, _ = cli(ports[0], "--scan", "--pattern", "user:1*", check_rc=0)
    assert sorted(out.split()) == sorted(b"user:%d" % i for i in range(300)
                                         if str(i).startswith("1"))
    _, out, _ = cli(ports[0], "--scan", "--pattern", "*:9?", "-i", "0.01", check_rc=0)
    assert sorted(out.split()) == sorted([b"user:%d" % i for i in range(90, 100)]
                                         + [b"other:%d" % i for i in range(90, 100)])


def test_bigkeys_summary(ports, r, real):
    for c in (r, real):
        c.set("small", "1")
        c.set("big", "x" * 300)
        c.set("n", 12345)

    def summary(port):
        _, out, err = cli(port, "--bigkeys", check_rc=0)
        assert b"-------- summary -------" in out, (out, err)
        return out.split(b"-------- summary -------")[1]

    assert summary(ports[0]) == summary(ports[1])
    assert b"Biggest string found '\"big\"' has 300 bytes" in summary(ports[0])


# ---------------------------------------------------------------------------
# --pipe mass insertion
# ---------------------------------------------------------------------------

def resp(*args) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def test_pipe_mass_insertion(ports, r):
    n = 100_000
    data = b"".join(resp(b"SET", b"key:%d" % i, b"value:%d" % i) for i in range(n))
    rc, out, err = cli(ports[0], "--pipe", stdin=data, timeout=300)
    assert rc == 0, (out, err)
    assert out.rstrip().endswith(b"errors: 0, replies: %d" % n), out
    assert r.dbsize() == n
    assert r.get("key:0") == b"value:0"
    assert r.get(f"key:{n - 1}") == f"value:{n - 1}".encode()


def test_pipe_counts_errors_like_redis(ports):
    data = (resp(b"SET", b"a", b"1") + b"INCR a\r\n" + resp(b"INCR", b"nosuch", b"x")
            + resp(b"NOSUCHCMD") + b"GET a\r\n" + resp(b"GET"))

    def last_line(port):
        rc, out, err = cli(port, "--pipe", stdin=data)
        return rc, out.strip().split(b"\n")[-1], err

    assert last_line(ports[0]) == last_line(ports[1])
    assert last_line(ports[0])[1] == b"errors: 3, replies: 6"


# ---------------------------------------------------------------------------
# --stat, --latency
# ---------------------------------------------------------------------------

def test_stat(ports, r):
    for i in range(5):
        r.set(f"s{i}", i)
    try:
        p = subprocess.run(["stdbuf", "-oL", "redis-cli", "-p", str(ports[0]), "--stat",
                            "-i", "0.2"], capture_output=True, timeout=2.5)
        out = p.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or b""
    lines = out.decode().splitlines()
    assert lines and lines[0].startswith("------- data ------"), out
    assert lines[1].split() == ["keys", "mem", "clients", "blocked", "requests", "connections"]
    rows = [ln.split() for ln in lines[2:] if ln.strip()]
    assert len(rows) >= 2, out
    for row in rows:
        assert int(row[0]) == 5                       # keys
        assert re.fullmatch(r"[\d.]+[BKMG]?", row[1])  # mem
        assert int(row[2]) >= 1                       # clients
        assert int(row[3]) == 0                       # blocked
        assert row[4].isdigit() and re.fullmatch(r"\(\+\d+\)", row[5])   # requests (+delta)
        assert row[6].isdigit()                       # connections


def test_latency(ports):
    # with output to a pipe, --latency samples for one second and prints one line
    rc, out, err = cli(ports[0], "--latency", timeout=30)
    assert rc == 0, err
    fields = out.split()
    assert len(fields) == 4, out
    lo, hi, avg, samples = int(fields[0]), int(fields[1]), float(fields[2]), int(fields[3])
    assert 0 <= lo <= avg <= hi and samples > 0


# ---------------------------------------------------------------------------
# interactive redis-cli on a pty
# ---------------------------------------------------------------------------

def interactive(port, lines) -> str:
    """Type `lines` into an interactive redis-cli; return the transcript."""
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="dumb", HOME=os.environ.get("HOME", "/tmp"))
    env["REDISCLI_HISTFILE"] = "/dev/null"
    p = subprocess.Popen(["redis-cli", "-p", str(port)], stdin=slave, stdout=slave,
                         stderr=slave, env=env, close_fds=True)
    os.close(slave)
    prompt = b"127.0.0.1:%d> " % port
    transcript = b""

    def read_prompt():
        nonlocal transcript
        buf = b""
        deadline = time.monotonic() + 20
        while not buf.endswith(prompt):
            assert time.monotonic() < deadline, buf
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                buf += os.read(master, 65536)
        transcript += buf

    try:
        read_prompt()
        for line in lines:
            os.write(master, line.encode() + b"\r")
            read_prompt()
        os.write(master, b"QUIT\r")
        assert p.wait(20) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    return transcript.decode("utf-8", "replace").replace(str(port), "PORT")


def test_interactive_session(ports):
    lines = ["SET x 1", "INCR x", "GET x", "GET nope", "NOSUCH arg", "set y 'a b'",
             'GET y', "MGET x y nope", "HELP SET", "HELP GET"]
    kv = interactive(ports[0], lines)
    real = interactive(ports[1], lines)
    assert kv == real
    assert "(integer) 2" in kv and '"a b"' in kv


# ---------------------------------------------------------------------------
# redis-benchmark
# ---------------------------------------------------------------------------

def bench(port, *args, timeout=300):
    """Run redis-benchmark; (rc, stdout, stderr).

    redis-benchmark counts error replies as replies, so the server's own
    error counter must stay at zero across the run.
    """
    import redis
    c = redis.Redis(port=port)
    c.config_resetstat()
    p = subprocess.run(["redis-benchmark", "-p", str(port), *args],
                       capture_output=True, timeout=timeout)
    errors = c.info("stats")["total_error_replies"]
    errorstats = c.info("errorstats")
    c.close()
    assert errors == 0, f"redis-benchmark {args} got error replies: {errorstats}"
    return p.returncode, p.stdout.decode(), p.stderr.decode()


@pytest.mark.parametrize("pipeline", ["1", "16"])
def test_benchmark_quick(ports, r, pipeline):
    rc, out, err = bench(ports[0], "-t", "ping_inline,ping_mbulk,set,get,incr,mset",
                         "-n", "2000", "-P", pipeline, "-q")
    assert rc == 0 and err == "", (out, err)
    results = {}
    for line in re.split(r"[\r\n]", out):
        m = re.match(r"\s*(.+?): ([\d.]+) requests per second", line)
        if m:
            results[m.group(1)] = float(m.group(2))
    assert set(results) == {"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR",
                            "MSET (10 keys)"}, out
    assert all(v > 0 for v in results.values())
    # what it wrote is really there: 3-byte values, one counter hit n times
    assert len(r.get("key:__rand_int__")) == 3
    assert r.get("counter:__rand_int__") == b"2000"


def test_benchmark_csv_random_keys(ports, r):
    rc, out, err = bench(ports[0], "-t", "set,get", "-n", "3000", "-r", "1000",
                         "-c", "20", "-d", "64", "--csv")
    assert rc == 0 and err == "", (out, err)
    rows = [ln.split(",") for ln in out.strip().splitlines()]
    assert rows[0][:2] == ['"test"', '"rps"']
    assert [row[0] for row in rows[1:]] == ['"SET"', '"GET"']
    assert 0 < r.dbsize() <= 1000
    key = r.randomkey()
    assert re.fullmatch(rb"key:\d{12}", key) and len(r.get(key)) == 64


def test_benchmark_default_tests(ports, r):
    # every test redis-benchmark runs when given no -t (lists, sets, hashes, zsets...)
    rc, out, err = bench(ports[0], "-n", "1000", "-c", "10", "-q")
    assert rc == 0 and err == "", (out, err)
    names = [m.group(1) for m in re.finditer(r"([^\r\n]+?): [\d.]+ requests per second", out)]
    expected = ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP",
                "RPOP", "SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN",
                "LPUSH (needed to benchmark LRANGE)", "LRANGE_100 (first 100 elements)",
                "LRANGE_300 (first 300 elements)", "LRANGE_500 (first 500 elements)",
                "LRANGE_600 (first 600 elements)", "MSET (10 keys)"]
    assert [n.strip() for n in names] == expected, out
