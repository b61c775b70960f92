"""Servers for the benchmarks: start on a free port, measure, stop by PID.

`Server` runs kvserver (this checkout, with the running Python) or Debian's
redis-server with persistence off, and reads its CPU time and RSS from
/proc.  Use it as a context manager: the process is stopped whatever
happens, and an interrupted benchmark leaves nothing running.

Also the pieces every benchmark shares: `environment()` and `header()` for
the machine/commit/date line of a results file, `write_results()`, and
`ORDER` for the alternation of the servers between rounds.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Round r runs the servers in ORDER[r % 2]: A B, then B A, so that drifting
# machine load (a cron job, thermal throttling) hits both alike.
ORDER = (("kvserver", "redis"), ("redis", "kvserver"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stat_cpu_seconds(path: str) -> float:
    """utime + stime from a /proc stat file: a process's, or one thread's
    (/proc/PID/task/TID/stat)."""
    with open(path) as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK   # fields 14, 15 of stat(5)


class Server:
    def __init__(self, kind: str, *args: str):
        assert kind in ("kvserver", "redis")
        self.kind = kind
        self.args = args
        self.port = free_port()
        self.proc = None

    def command(self) -> list:
        common = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                  "--appendonly", "no", *self.args]
        if self.kind == "kvserver":
            return [sys.executable, "-m", "kvserver", *common]
        exe = shutil.which("redis-server")
        if exe is None:
            raise SystemExit("redis-server is not installed (apt-get install redis-server)")
        return [exe, *common]

    def __enter__(self):
        self.proc = subprocess.Popen(self.command(), cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def _wait_ready(self, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16) == b"+PONG\r\n":
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.kind} on port {self.port} did not start")

    def stop(self):
        p = self.proc
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def cpu_seconds(self) -> float:
        """utime + stime of the server process so far."""
        return stat_cpu_seconds(f"/proc/{self.proc.pid}/stat")

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def error_replies(self) -> int:
        """INFO stats total_error_replies: redis-benchmark counts errors as replies."""
        for line in self.call("INFO", "stats").splitlines():
            if line.startswith(b"total_error_replies:"):
                return int(line.split(b":")[1])
        raise RuntimeError(f"{self.kind}: no total_error_replies in INFO stats")

    def pipe(self, payload: bytes) -> int:
        """Send RESP `payload` through `redis-cli --pipe`; the number of replies.

        redis-cli ends with "errors: E, replies: R": any error reply, or a
        failing redis-cli, raises.
        """
        p = subprocess.run(["redis-cli", "-p", str(self.port), "--pipe"], input=payload,
                           capture_output=True, timeout=3600)
        tail = p.stdout.decode(errors="replace").strip().splitlines()[-1:]
        if p.returncode != 0 or not tail or not tail[0].startswith("errors: 0, replies: "):
            raise RuntimeError(f"{self.kind}: redis-cli --pipe failed: {p.stdout[-500:]!r} "
                               f"{p.stderr[-500:]!r}")
        return int(tail[0].rsplit(" ", 1)[1])

    def call(self, *args: str) -> bytes:
        """One command through redis-cli (raw output)."""
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], check=True,
                              capture_output=True, timeout=120).stdout


def settle_rss(server: Server, rounds: int = 10) -> int:
    """RSS once it stops moving (the allocator may still be returning pages)."""
    last = server.rss_bytes()
    for _ in range(rounds):
        time.sleep(0.2)
        now = server.rss_bytes()
        if abs(now - last) < 64 * 1024:
            return now
        last = now
    return last


def pyplot():
    """matplotlib.pyplot for the charts, or None (with a note) without it."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no chart",
              file=sys.stderr)
        return None
    return plt


def redis_version() -> str:
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    for word in out.split():
        if word.startswith("v="):
            return word[2:]
    return out.strip()


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs"


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


def environment() -> dict:
    """What a result depends on besides the code under test, for its JSON."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        "python": sys.version.split()[0],
        "redis_version": redis_version(),
        "kvserver_commit": git_commit(),
    }


def header(result: dict) -> str:
    """The tail of a results file's first line, from `environment()`'s fields."""
    return (f"{result['machine']}; Python {result['python']}; redis-server "
            f"{result['redis_version']}; kvserver {result['kvserver_commit']}; "
            f"{result['date']}.")


def write_results(prefix: str, md: str, result: dict):
    """PREFIX.md and PREFIX.json; the table goes to stdout too."""
    os.makedirs(os.path.dirname(prefix) or ".", exist_ok=True)
    with open(prefix + ".md", "w") as f:
        f.write(md)
    with open(prefix + ".json", "w") as f:
        json.dump(result, f, indent=1)
    print(md)
