"""The redis-server command line, redis.conf, logging and process life, as subprocesses.

Wherever redis-server 7.0 has the same behaviour the test runs both and
compares: fatal configuration errors (stderr and exit status, byte for
byte), the values a config file produces, CONFIG REWRITE's output, log
messages.  Log lines are compared without their `pid:role date` prefix.
"""

import contextlib
import fcntl
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

import pytest
import redis

from conftest import ROOT, free_port, stop, wait_port

REDIS = shutil.which("redis-server")
needs_redis = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed")
KV = [sys.executable, "-m", "kvserver"]
ENV = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
LOG_LINE = re.compile(r"^(\d+):([CMX]) (\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3}) "
                      r"([.*#-]) (.*)$")


def run(exe, *args, stdin=b"", cwd=ROOT, timeout=20):
    return subprocess.run([*exe, *args], input=stdin, capture_output=True, cwd=cwd,
                          env=ENV, timeout=timeout)


def messages(text: bytes) -> list:
    """The messages of Redis-format log lines, prefix stripped."""
    out = []
    for line in text.decode().splitlines():
        m = LOG_LINE.match(line)
        if m:
            out.append(m.group(5))
    return out


@contextlib.contextmanager
def server(exe, *args, port=None, cwd=ROOT, wait=True, **popen):
    """Run `exe *args --port P`; yields (proc, port).  redis-server also gets
    `--save ""`, so that it never leaves a dump.rdb behind."""
    port = port or free_port()
    if exe[0] == REDIS:
        args = (*args, "--save", "")
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    proc = subprocess.Popen([*exe, *args, "--port", str(port)], cwd=cwd, env=ENV, **popen)
    try:
        if wait:
            wait_port(port, proc)
        yield proc, port
    finally:
        stop(proc)


def wait_for(pred, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


# --- --version, --help ----------------------------------------------------------

def test_version():
    p = run(KV, "--version")
    assert p.returncode == 0
    assert p.stderr == b""
    assert re.fullmatch(rb"Redis server v=7\.0\.15 sha=00000000:0 malloc=libc bits=64 "
                        rb"build=[0-9a-f]+ kvserver=\S+ python=\S+\n", p.stdout)
    assert run(KV, "-v").stdout == p.stdout


def test_help():
    p = run(KV, "--help")
    assert p.returncode == 1          # as redis-server's usage()
    assert p.stdout == b""
    assert p.stderr.startswith(b"Usage: kvserver [/path/to/redis.conf] [options] [-]\n")
    assert b"--version" in p.stderr
    assert run(KV, "-h").stderr == p.stderr


# --- fatal configuration errors: byte for byte as redis-server ----------------------

FATAL_CASES = [
    "--port abc", "--nosuch 1", "--port 99999", "--save 900 1 300", "--loglevel foo",
    "--maxmemory 1xb", "--daemonize maybe", "--port", "--port 1 2", "--databases 0",
    "--save abc 1", "--appendfsync foo", "--client-output-buffer-limit normal 1 2",
    "--notify-keyspace-events Z", "--maxmemory-policy foo", "--unixsocketperm 999",
    "--list-max-ziplist-size abc", "--hz -1", "--port 1 --version", "--port 1 foo",
    "--bind a b c d e f g h i j k l m n o p q", "--maxmemory-clients 200%",
    "--replicaof no", "--slaveof a b c", "--shutdown-on-sigint save nosave",
    "--oom-score-adj-values 1 2", "--latency-tracking-info-percentiles 101",
    "--dir /nonexistent", "--logfile /nonexistent/x.log", "--dbfilename a/b",
    "--appendfilename ''", "--proc-title-template {x}", "--cluster-announce-hostname a_b",
    "--rename-command nosuch foo", "--rename-command get set", "--include",
    "--maxclients 0", "--socket-mark-id -1", "--io-threads 0", "--port '1 2'",
    "'--port 1' --nosuch", "--PORT abc", "--Port 1 --x", "--lua-replicate-commands yes --x 1",
    "--list-max-ziplist-entries 5 --nosuch", "--save --nosuch 1",
    "--client-output-buffer-limit master 1 1 1", "--unixsocketperm 1000",
    "--proto-max-bulk-len 1", "--timeout 05", "--requirepass 'a\"b\\x01' --x",
    "--port 7 --port abc", "--loglevel", "--sentinel-x 1",
]


@needs_redis
@pytest.mark.parametrize("case", FATAL_CASES)
def test_fatal_errors_match_redis(case):
    # the trailing bad directive makes every case fail, so nothing keeps running
    args = shlex.split(case) + ["--zzz-no-such-directive", "1"]
    mine = run(KV, *args)
    theirs = run([REDIS], *args)
    assert (mine.returncode, mine.stderr) == (theirs.returncode, theirs.stderr)
    assert mine.returncode == 1


@needs_redis
def test_stdin_errors_match_redis():
    args = ("-", "--zzz-no-such-directive", "1")
    text = b"# from stdin\nport 7000\nmaxmemory 12x\n"
    mine, theirs = run(KV, *args, stdin=text), run([REDIS], *args, stdin=text)
    assert (mine.returncode, mine.stderr) == (theirs.returncode, theirs.stderr)
    assert messages(mine.stdout) == messages(theirs.stdout) == ["Reading config from stdin"]


def write(path, text):
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


@needs_redis
@pytest.mark.parametrize("text", [
    "port 7000\n\n# comment\n  port   \"ab\\x41\"  \n",
    'port "7000\n',
    "maxmemory 1mb\r\nloglevel verbose\r\nloglevel loud\r\n",
    "\tmaxmemory  100  \n",
    "include\n",
    "include a b\n",
    "save 900\n",
    "bind\n",
    "notify-keyspace-events 'KEA' x\n",
    "requirepass 'unterminated\n",
    "requirepass \"a\"b\n",
    "dir /nonexistent/x\n",
    "# only comments\n   # and blanks\n\n",
])
def test_config_file_errors_match_redis(tmp_path, text):
    conf = write(tmp_path / "bad.conf", text)
    args = (conf, "--zzz-no-such-directive", "1")
    mine, theirs = run(KV, *args), run([REDIS], *args)
    assert (mine.returncode, mine.stderr) == (theirs.returncode, theirs.stderr)


@needs_redis
def test_include_errors_match_redis(tmp_path):
    inner = write(tmp_path / "inner.conf", "timeout 5\n\nhz abc\n")
    outer = write(tmp_path / "outer.conf", f"port 7000\ninclude {inner}\n")
    for args in ((outer,), (str(tmp_path / "missing.conf"),),
                 (write(tmp_path / "m.conf", "include nosuch-file.conf\n"),)):
        mine, theirs = run(KV, *args), run([REDIS], *args)
        assert (mine.returncode, mine.stderr) == (theirs.returncode, theirs.stderr)
        assert messages(mine.stdout) == messages(theirs.stdout)
        assert mine.returncode == 1


def test_persistence_requests_are_refused_at_startup():
    for args, what in ((("--save", "900", "1"), b"RDB snapshots"),
                       (("--appendonly", "yes"), b"append-only file"),
                       (("--cluster-enabled", "yes"), b"Redis Cluster"),
                       (("--replicaof", "127.0.0.1", "6379"), b"replication"),
                       (("--tls-port", "6380"), b"TLS")):
        p = run(KV, *args)
        assert p.returncode == 1
        assert p.stderr.startswith(b"\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
                                   b"Reading the configuration file, at line 2\n")
        assert what in p.stderr


def test_sentinel_is_refused():
    p = run(KV, "--sentinel")
    assert p.returncode == 1
    assert b"Sentinel" in p.stderr


# --- config files: the values they produce, against redis-server ---------------------

CONF_DIRECTIVES = ["maxmemory", "maxmemory-policy", "timeout", "hz", "requirepass",
                   "notify-keyspace-events", "client-output-buffer-limit", "loglevel",
                   "list-max-listpack-size", "hash-max-listpack-entries", "tcp-keepalive",
                   "slowlog-log-slower-than", "dbfilename", "save", "bind",
                   "latency-tracking-info-percentiles", "lazyfree-lazy-user-del",
                   "replica-read-only", "maxmemory-clients", "proto-max-bulk-len",
                   "hll-sparse-max-bytes", "ignore-warnings", "unixsocketperm"]


@needs_redis
def test_config_file_values_match_redis(tmp_path):
    (tmp_path / "conf.d").mkdir()
    write(tmp_path / "conf.d" / "a.conf", "hz 20\n")
    write(tmp_path / "conf.d" / "b.conf", "hz 25\ntimeout 30\n")
    write(tmp_path / "rel.conf", "slowlog-log-slower-than -1\n")
    conf = write(tmp_path / "main.conf", "\n".join([
        "# a comment, then directives in any case",
        "MaxMemory 100mb",
        "  maxmemory-policy   ALLKEYS-LRU  ",
        "requirepass \"p\\x41ss \\\"word\\\"\\n\"",
        "notify-keyspace-events 'K$'",
        "client-output-buffer-limit normal 1mb 2mb 3 pubsub 64mb 16mb 90",
        "loglevel warning",
        "list-max-ziplist-size 5",
        "hash-max-ziplist-entries 100",
        "tcp-keepalive 0",
        "dbfilename 'my dump.rdb'",
        'save ""',
        "bind 127.0.0.1 -::1",
        "latency-tracking-info-percentiles 50.5 99 100",
        "lazyfree-lazy-user-del yes",
        "slave-read-only no",
        "maxmemory-clients 5%",
        "proto-max-bulk-len 1gb",
        "hll-sparse-max-bytes 1k",
        "ignore-warnings ARM64-COW-BUG",
        "unixsocketperm 700",
        "list-max-ziplist-entries 512",
        f"dir {tmp_path}",
        "include rel.conf",
        f"include {tmp_path}/conf.d/*.conf",
        "include conf.d/nothing-*.conf",
        "",
    ]))
    with server(KV, conf, "--requirepass", "x") as (_, kp), \
            server([REDIS], conf, "--requirepass", "x") as (_, rp):
        mine = redis.Redis(port=kp, password="x")
        theirs = redis.Redis(port=rp, password="x")
        for name in CONF_DIRECTIVES + ["dir"]:
            assert mine.config_get(name) == theirs.config_get(name), name
        assert mine.config_get("timeout") == {"timeout": "30"}
        assert mine.config_get("hz") == {"hz": "25"}


@needs_redis
def test_stdin_and_command_line_order(tmp_path):
    conf = write(tmp_path / "s.conf", "maxmemory 1mb\ntimeout 1\nhz 5\n")
    got = []
    for exe in (KV, [REDIS]):
        port = free_port()
        proc = subprocess.Popen([*exe, conf, "--timeout", "2", "--save", "", "--port", str(port),
                                 "-"],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=ROOT, env=ENV)
        try:
            proc.stdin.write(b"maxmemory 2mb\ntimeout 3\n")
            proc.stdin.close()
            wait_port(port, proc)
            got.append(redis.Redis(port=port).config_get("*"))
        finally:
            stop(proc)
    for d in got:
        d.pop("port")
        d.pop("dir")
    assert got[0] == got[1]
    assert (got[0]["maxmemory"], got[0]["timeout"], got[0]["hz"]) == ("2097152", "2", "5")


@needs_redis
def test_rename_command_matches_redis():
    args = ("--rename-command", "get", "myget", "--rename-command", "flushall", '""')
    with server(KV, *args) as (_, kp), server([REDIS], *args) as (_, rp):
        for port in (kp, rp):
            c = redis.Redis(port=port)
            c.set("k", "v")
            assert c.execute_command("MYGET", "k") == b"v"
            with pytest.raises(redis.ResponseError, match="unknown command 'GET'"):
                c.get("k")
            with pytest.raises(redis.ResponseError, match="unknown command 'FLUSHALL'"):
                c.flushall()


# --- CONFIG REWRITE, against redis-server ---------------------------------------------

@needs_redis
def test_config_rewrite_matches_redis(tmp_path):
    original = "\n".join([
        "# my config",
        "port 1",
        "save \"\"",
        "", "", "",
        "# comment 2",
        "loglevel verbose",
        "maxmemory 2mb",
        "maxmemory 3mb",
        "slave-read-only yes",
        "appendonly no",
        "bind 127.0.0.1",
        "this-is-kept-as-is 1 2",
        "",
    ])
    sets = [("maxmemory", "1mb"), ("loglevel", "warning"), ("hz", "20"),
            ("requirepass", 'a b"c'), ("client-output-buffer-limit", "pubsub 1mb 1000 10"),
            ("notify-keyspace-events", "Kx"), ("timeout", "5"),
            ("maxmemory-clients", "10%"), ("slowlog-log-slower-than", "-1"),
            ("hash-max-ziplist-entries", "100"), ("bind", "127.0.0.1 -::1"),
            ("oom-score-adj-values", "0 100 800"), ("activerehashing", "no"),
            ("dbfilename", "x y.rdb")]
    results = []
    for exe, name in ((KV, "kv"), ([REDIS], "real")):
        d = tmp_path / name
        d.mkdir()
        conf = d / "redis.conf"
        # the unknown line would stop the server: it is added after start-up
        write(conf, original.replace("this-is-kept-as-is 1 2\n", ""))
        with server(exe, str(conf), "--enable-protected-configs", "yes", cwd=str(d)) as (_, port):
            with open(conf, "a") as f:
                f.write("this-is-kept-as-is 1 2\n")
            c = redis.Redis(port=port)
            for k, v in sets:
                assert c.config_set(k, v), k
            c = redis.Redis(port=port, password='a b"c')
            assert c.config_rewrite()
            text = conf.read_text()
            assert c.config_set("maxmemory", "4mb")
            assert c.config_rewrite()
            text2 = conf.read_text()
        results.append((text, text2))

    def split(text):
        text = re.sub(r"(?m)^port \d+$", "port P", text)
        text = re.sub(r'(?m)^dir ".*"$', "dir D", text)
        head, sep, tail = text.partition("# Generated by CONFIG REWRITE\n")
        tail = {line for line in tail.splitlines() if not line.startswith("user ")}
        return head, sep, tail

    (mine, mine2), (theirs, theirs2) = results
    assert split(mine) == split(theirs)
    assert split(mine2) == split(theirs2)
    assert "maxmemory 4mb\n" in mine2
    assert "this-is-kept-as-is 1 2\n" in mine


def test_rewrite_error_when_file_is_unwritable(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    conf = write(d / "r.conf", "timeout 0\n")
    with server(KV, conf) as (_, port):
        os.chmod(d, 0o500)
        try:
            c = redis.Redis(port=port)
            if os.geteuid() == 0:
                assert c.config_rewrite()
            else:
                with pytest.raises(redis.ResponseError, match="Rewriting config file: "):
                    c.config_rewrite()
        finally:
            os.chmod(d, 0o700)


# --- logging and the life of the process -------------------------------------------------

STARTUP = [
    "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
    re.compile(r"Redis version=7\.0\.15, bits=64, commit=00000000, modified=0, pid=\d+, "
               r"just started"),
    re.compile(r"kvserver version=\S+, python=\S+, implementing Redis 7\.0\.15"),
    "Configuration loaded",
    "monotonic clock: POSIX clock_gettime",
    re.compile(r"Running mode=standalone, port=\d+\."),
    "Server initialized",
    "Ready to accept connections",
]


def _matches(expected, got):
    assert len(got) >= len(expected), got
    for e, g in zip(expected, got):
        if isinstance(e, str):
            assert g == e
        else:
            assert e.fullmatch(g), (e.pattern, g)


@pytest.mark.parametrize("sig,name", [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")])
def test_log_lines_and_clean_shutdown(tmp_path, sig, name):
    log = tmp_path / "kv.log"
    with server(KV, "--logfile", str(log)) as (proc, port):
        assert redis.Redis(port=port).ping()
        text = log.read_text()
        lines = text.splitlines()
        assert all(LOG_LINE.match(line) for line in lines), text
        roles = [LOG_LINE.match(line).group(2) for line in lines]
        assert roles[:4] == ["C"] * 4 and set(roles[4:]) == {"M"}
        assert {LOG_LINE.match(line).group(1) for line in lines} == {str(proc.pid)}
        _matches(STARTUP, messages(log.read_bytes()))
        marks = [LOG_LINE.match(line).group(4) for line in lines]
        assert marks[:8] == ["#", "#", "#", "#", "*", "*", "#", "*"]
        proc.send_signal(sig)
        assert proc.wait(10) == 0
    tail = log.read_text().splitlines()[len(lines):]
    assert re.fullmatch(rf"{proc.pid}:signal-handler \(\d+\) Received {name} scheduling "
                        r"shutdown\.\.\.", tail[0])
    assert messages("\n".join(tail[1:]).encode()) == [
        "User requested shutdown...", "Redis is now ready to exit, bye bye..."]


@needs_redis
def test_log_messages_match_redis(tmp_path):
    """The same messages as redis-server, at the same levels (kvserver adds one line)."""
    got = []
    for exe in (KV, [REDIS]):
        log = tmp_path / f"{len(got)}.log"
        with server(exe, "--logfile", str(log), cwd=str(tmp_path)) as (proc, port):
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 0
        lines = [LOG_LINE.match(line) for line in log.read_text().splitlines()]
        got.append([(m.group(2), m.group(4), re.sub(r"\d+", "N", m.group(5)))
                    for m in lines if m and not m.group(5).startswith(("kvserver version",
                                                                       "WARNING"))])
    assert got[0] == got[1]


def test_loglevel_filters_and_logfile_appends(tmp_path):
    log = tmp_path / "kv.log"
    with server(KV, "--logfile", str(log), "--loglevel", "warning") as (proc, port):
        pass
    first = messages(log.read_bytes())
    assert "Server initialized" in first              # warning level
    assert "Ready to accept connections" not in first  # notice level
    assert {m.group(4) for m in map(LOG_LINE.match, log.read_text().splitlines()) if m} == {"#"}
    with server(KV, "--logfile", str(log), "--loglevel", "debug") as (proc, port):
        pass
    both = messages(log.read_bytes())
    assert both[:len(first)] == first
    assert both.count("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo") == 2
    assert "Ready to accept connections" in both[len(first):]


def test_stdout_logging_when_no_logfile():
    port = free_port()
    proc = subprocess.Popen([*KV, "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT, env=ENV)
    try:
        wait_port(port, proc)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        stop(proc)
    assert proc.returncode == 0
    assert err == b""
    msgs = messages(out)
    _matches(STARTUP, msgs)
    assert msgs[-1] == "Redis is now ready to exit, bye bye..."


def test_pidfile_and_unixsocket(tmp_path):
    pidfile, sock, log = tmp_path / "kv.pid", tmp_path / "kv.sock", tmp_path / "kv.log"
    with server(KV, "--pidfile", str(pidfile), "--unixsocket", str(sock),
                "--unixsocketperm", "700", "--logfile", str(log)) as (proc, port):
        # written once the listeners are open, as Redis does: the port may
        # answer a moment before the file is there
        assert wait_for(pidfile.exists)
        assert pidfile.read_text() == f"{proc.pid}\n"
        assert oct(os.stat(sock).st_mode & 0o777) == "0o700"
        c = redis.Redis(unix_socket_path=str(sock))
        assert c.ping()
        c.close()
        assert wait_for(lambda: messages(log.read_bytes())[-1] == (
            f"The server is now ready to accept connections at {sock}"))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    assert not pidfile.exists()
    assert not sock.exists()
    assert messages(log.read_bytes())[-4:] == [
        "User requested shutdown...", "Removing the pid file.",
        "Removing the unix socket file.", "Redis is now ready to exit, bye bye..."]


def test_daemonize(tmp_path):
    pidfile, log = tmp_path / "d.pid", tmp_path / "d.log"
    port = free_port()
    p = run(KV, "--daemonize", "yes", "--port", str(port), "--pidfile", str(pidfile),
            "--logfile", str(log), timeout=20)
    assert p.returncode == 0
    assert p.stdout == b"" and p.stderr == b""
    assert wait_for(lambda: pidfile.exists() and pidfile.read_text().endswith("\n"))
    pid = int(pidfile.read_text())
    try:
        assert pid != os.getpid()
        c = redis.Redis(port=port)
        assert wait_for(lambda: _ping(c))
        assert c.config_get("daemonize") == {"daemonize": "yes"}
        assert c.config_get("pidfile") == {"pidfile": str(pidfile)}
        assert os.getsid(pid) == pid or os.getsid(pid) != os.getsid(0)
    finally:
        os.kill(pid, signal.SIGTERM)
    assert wait_for(lambda: not pidfile.exists())
    assert wait_for(lambda: "bye bye" in log.read_text())
    assert wait_for(lambda: not _alive(pid))
    msgs = messages(log.read_bytes())
    assert msgs[0] == "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"
    assert f"pid={pid}," in msgs[1]
    assert "Removing the pid file." in msgs


def _ping(c):
    try:
        return c.ping()
    except redis.ConnectionError:
        return False


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_port_in_use_and_nowhere_to_listen():
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("0.0.0.0", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        p = run(KV, "--port", str(port))
        assert p.returncode == 1
        msgs = messages(p.stdout)
        assert msgs[-2:] == [
            f"Warning: Could not create server TCP listening socket *:{port}: "
            "bind: Address already in use",
            f"Failed listening on port {port} (TCP), aborting."]
        if REDIS:
            theirs = run([REDIS], "--port", str(port))
            assert messages(theirs.stdout)[-2:] == msgs[-2:]
    p = run(KV, "--port", "0")
    assert p.returncode == 1
    assert messages(p.stdout)[-1] == "Configured to not listen anywhere, exiting."


def test_always_show_logo(tmp_path):
    log = tmp_path / "l.log"
    with server(KV, "--always-show-logo", "yes", "--logfile", str(log)) as (proc, port):
        pass
    text = log.read_text()
    assert "Running mode=" not in text
    assert f"Port: {port}" in text and "kvserver" in text


def test_maxmemory_warning(tmp_path):
    log = tmp_path / "m.log"
    with server(KV, "--maxmemory", "1000", "--logfile", str(log)):
        pass
    assert ("WARNING: You specified a maxmemory value that is less than 1MB (current value "
            "is 1000 bytes). Are you sure this is what you really want?") in messages(
                log.read_bytes())


# --- protected mode ----------------------------------------------------------------------

def _external_address():
    """A non-loopback IPv4 address of this host, or None."""
    for _, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                packed = fcntl.ioctl(s.fileno(), 0x8915,       # SIOCGIFADDR
                                     struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue
        addr = socket.inet_ntoa(packed[20:24])
        if not addr.startswith("127."):
            return addr
    return None


def _read_until_closed(host, port, source=None):
    s = socket.create_connection((host, port), timeout=5,
                                 source_address=(source, 0) if source else None)
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return data, True
            data += chunk
    except socket.timeout:
        return data, False
    finally:
        s.close()


def test_protected_mode_denies_non_loopback():
    ext = _external_address()
    if ext is None:
        pytest.skip("no non-loopback address on this host")
    with server(KV) as (_, port):
        data, closed = _read_until_closed(ext, port)
        assert closed
        assert data.startswith(b"-DENIED Redis is running in protected mode because protected "
                               b"mode is enabled and no password is set for the default user.")
        if REDIS:
            with server([REDIS]) as (_, rport):
                theirs, _ = _read_until_closed(ext, rport)
            assert data == theirs
        # 127.0.0.2 is loopback but not "127.0.0.1": Redis denies it too
        data, closed = _read_until_closed("127.0.0.1", port, source="127.0.0.2")
        assert closed and data.startswith(b"-DENIED")
        assert redis.Redis(port=port).info("stats")["rejected_connections"] == 2


def test_protected_mode_off_or_password_lets_clients_in():
    ext = _external_address()
    if ext is None:
        pytest.skip("no non-loopback address on this host")
    with server(KV, "--protected-mode", "no") as (_, port):
        assert redis.Redis(host=ext, port=port).ping()
    with server(KV, "--requirepass", "pw") as (_, port):
        assert redis.Redis(host=ext, port=port, password="pw").ping()
    with server(KV) as (_, port):
        local = redis.Redis(port=port)
        assert local.config_set("protected-mode", "no")
        assert redis.Redis(host=ext, port=port).ping()


# --- process settings: oom_score_adj, CPU affinity, systemd ---------------------------

def _oom(pid):
    with open(f"/proc/{pid}/oom_score_adj") as f:
        return int(f.read())


@pytest.mark.skipif(not os.path.exists("/proc/self/oom_score_adj"), reason="Linux only")
def test_oom_score_adj(tmp_path):
    with server(KV) as (proc, port):
        base = _oom(proc.pid)
        c = redis.Redis(port=port)
        assert c.config_set("oom-score-adj-values", f"{base + 100} 200 800")
        assert _oom(proc.pid) == base          # oom-score-adj is still "no"
        assert c.config_set("oom-score-adj", "absolute")
        assert _oom(proc.pid) == base + 100
        assert c.config_set("oom-score-adj", "relative")
        assert c.config_get("oom-score-adj") == {"oom-score-adj": "yes"}
        assert c.config_set("oom-score-adj-values", "10 200 800")
        assert _oom(proc.pid) == base + 10
        assert c.config_set("oom-score-adj", "no")
        assert _oom(proc.pid) == base


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_server_cpulist():
    cpus = sorted(os.sched_getaffinity(0))
    with server(KV, "--server_cpulist", str(cpus[0])) as (proc, port):
        assert wait_for(lambda: os.sched_getaffinity(proc.pid) == {cpus[0]})
        assert redis.Redis(port=port).config_get("server_cpulist") == {
            "server_cpulist": str(cpus[0])}


def test_supervised_by_systemd(tmp_path):
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(path)
        notify.settimeout(10)
        port = free_port()
        proc = subprocess.Popen([*KV, "--supervised", "systemd", "--daemonize", "yes",
                                 "--port", str(port)], cwd=ROOT,
                                env=dict(ENV, NOTIFY_SOCKET=path),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            # supervised: no daemonizing, so this process is the server
            wait_port(port, proc)
            got = [notify.recv(100) for _ in range(3)]
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=10)
        finally:
            stop(proc)
    assert got == [b"STATUS=Redis is loading...\n", b"STATUS=Ready to accept connections\n",
                   b"READY=1\n"]
    assert ("Supervised by systemd. Please make sure you set appropriate values for "
            "TimeoutStartSec and TimeoutStopSec in your service unit.") in messages(out)
