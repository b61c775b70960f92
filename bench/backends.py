"""The network engine: kvserver's I/O backends beside redis-server, with idle connections open.

The question a network engine answers: how fast are the busy clients
served while many more connections sit idle, and what does an idle
connection cost.  For 50, 100, 1,000 and 10,000 open connections, of which
50 are redis-benchmark's active clients (`-c 50 -t get`, a 3-byte value,
at -P 1 and -P 16) and the rest idle connections held open by a helper
process this script starts (`backends.py --hold`, which never sends a byte
on them), it measures each server:

- kvserver with `--io-backend select` (maxclients 992, select's ceiling:
  levels above it are "n/a"), `poll`, `epoll`, and `uring` when a kvserver
  started with `--io-backend uring` comes up (otherwise its rows say
  "unavailable: <the reason it gave>", its last log or stderr line);
- redis-server (epoll) in the same run, as the reference.

Figures:

- requests/s and p50/p99 latency: redis-benchmark 7.0's --csv columns
  (rps, p50_latency_ms, p99_latency_ms);
- server CPU µs per request: the growth of utime + stime in
  /proc/PID/stat over the run, divided by the run's requests;
- system calls per request: every system call the server's threads enter
  (the raw_syscalls:sys_enter tracepoint, counted in the kernel by
  `perf stat -e raw_syscalls:sys_enter -p PID`: no ptrace, so the server
  runs at its normal speed) during a separate run of a quarter of the
  requests after the timed rounds, divided by its requests.  Without a
  working perf it falls back to `strace -c -f -p PID`, whose ptrace stops
  slow the server down and so let more requests gather per loop turn: the
  figure is then a lower bound for event-loop calls.  Either way the
  server's idle calls in the window (the hz timer) are included; they are
  a few dozen against tens of thousands;
- memory per idle connection: how much VmRSS of a fresh server grows
  while the helper opens 10,000 idle connections (select: 960), divided
  by the connections;
- the idle ratio: req/s of the 50 active clients with 10,000 connections
  open (9,950 of them idle) over their req/s alone (50 open), per -P.
  The target for epoll and io_uring is at least 0.9.

Each round goes through every level (its idle connections opened for it
and closed after it), and rounds alternate the order of the levels and of
the servers (forward, then backward) so that drifting machine load hits
all alike; each figure is the median over the rounds.  Servers run on the
first CPU and redis-benchmark on the second (sched_setaffinity), so that
the scheduler never puts both on one CPU for some runs and not others.
Every server gets maxclients 10,100 (the 10,000 plus
redis-benchmark's and this script's control connections) and protected
mode off: each server's idle connections come from a loopback address of
their own (127.0.0.2, .3, ...), because 10,000 connections to each of five
servers would exhaust one address's ephemeral ports.  Idle connections are
closed with SO_LINGER 0 (a reset), so no TIME_WAIT piles up between runs.

Writes bench/results/backends.md, .json and .png (the chart needs
matplotlib).  Every server and helper is stopped by PID whatever happens.

Usage: python bench/backends.py [--rounds N] [--quick] [--requests N]
                                [--requests-pipelined N] [--levels 50,100,1000,10000]
                                [--pipelines 1,16] [--no-pin] [--out PREFIX]
"""

import argparse
import contextlib
import csv
import io
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import (ROOT, Server, environment, free_port, header, pyplot, settle_rss,  # noqa: E402
                     write_results)

RESULTS = os.path.join(ROOT, "bench", "results")
ACTIVE = 50                     # redis-benchmark -c
LEVELS = (50, 100, 1_000, 10_000)
MAXCLIENTS = 10_100
SELECT_MAXCLIENTS = 992         # FD_SETSIZE 1024 - 32 reserved
MEMORY_IDLE = 10_000
BATCH = 250                     # connects between two accept checks (tcp-backlog 511)
KEY = "key:__rand_int__"        # what redis-benchmark -t get reads without -r
LOG_LINE = re.compile(r"^\d+:[CMX] \d\d [A-Z][a-z]{2} \d{4} [\d:.]+ ([.*#-]) (.*)$")


# ---- the idle-connection helper (a separate process) ------------------------------------

def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def info_clients(ctl: socket.socket) -> int:
    """connected_clients, through a raw INFO on `ctl`."""
    ctl.sendall(b"*2\r\n$4\r\nINFO\r\n$7\r\nclients\r\n")
    buf = b""
    while b"\r\n" not in buf:
        buf += ctl.recv(65536)
    head, _, buf = buf.partition(b"\r\n")
    n = int(head[1:])
    while len(buf) < n + 2:
        buf += ctl.recv(65536)
    m = re.search(rb"connected_clients:(\d+)", buf)
    return int(m.group(1))


def hold(port: int, n: int, src: str):
    """`--hold`: open `n` idle connections from address `src`, say "ready",
    keep them until stdin closes.  Connects are paced: a batch, then INFO on
    a control connection until the server has accepted it, so the listen
    backlog never overflows (a dropped SYN costs a second)."""
    raise_nofile()
    linger0 = struct.pack("ii", 1, 0)
    ctl = socket.create_connection(("127.0.0.1", port), timeout=60)
    base = info_clients(ctl)
    socks = []
    while len(socks) < n:
        for _ in range(min(BATCH, n - len(socks))):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)
            s.bind((src, 0))
            s.connect(("127.0.0.1", port))
            socks.append(s)
        deadline = time.monotonic() + 60
        while info_clients(ctl) < base + len(socks):
            if time.monotonic() > deadline:
                raise SystemExit(f"hold: the server accepted fewer than {len(socks)}")
            time.sleep(0.002)
    ctl.close()
    print("ready", flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()


@contextlib.contextmanager
def idle_connections(port: int, n: int, src: str):
    """Run the helper holding `n` idle connections to `port` until the block ends."""
    if n <= 0:
        yield
        return
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--hold", str(port),
                             str(n), src], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"idle-connection helper for port {port} failed "
                               f"(exit {proc.poll()})")
        yield
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- servers ------------------------------------------------------------------------------

class Target:
    """One server configuration of the comparison."""

    def __init__(self, name: str, kind: str, args: tuple, max_open: int, src: str):
        self.name = name
        self.kind = kind
        self.args = args
        self.max_open = max_open
        self.src = src          # source address of its idle connections
        self.unavailable = None
        self.server = None

    def serves(self, level: int) -> bool:
        return self.unavailable is None and level <= self.max_open


def targets(uring_reason) -> list:
    common = ("--protected-mode", "no")
    out = [Target("select", "kvserver", ("--io-backend", "select", "--maxclients",
                                         str(SELECT_MAXCLIENTS), *common),
                  SELECT_MAXCLIENTS, "127.0.0.2")]
    for i, name in enumerate(("poll", "epoll", "uring")):
        out.append(Target(name, "kvserver", ("--io-backend", name, "--maxclients",
                                             str(MAXCLIENTS), *common),
                          MAXCLIENTS - ACTIVE, f"127.0.0.{3 + i}"))
    out[-1].unavailable = uring_reason
    out.append(Target("redis", "redis", ("--maxclients", str(MAXCLIENTS), *common),
                      MAXCLIENTS - ACTIVE, "127.0.0.6"))
    return out


def probe_uring():
    """None when a kvserver with --io-backend uring answers PING, else why not
    (its last warning in the log, or the last line it wrote to stderr)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "kv.log")
        out = os.path.join(d, "out")
        with open(out, "wb") as f:
            proc = subprocess.Popen([sys.executable, "-m", "kvserver", "--port", str(port),
                                     "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                     "--io-backend", "uring", "--logfile", log],
                                    cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                        s.sendall(b"PING\r\n")
                        if s.recv(16) == b"+PONG\r\n":
                            return None
                except OSError:
                    time.sleep(0.1)
            if proc.poll() is None:
                return "did not answer PING within 30 s"
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        warnings = []
        if os.path.exists(log):
            with open(log, errors="replace") as f:
                for line in f:
                    m = LOG_LINE.match(line.rstrip("\n"))
                    if m and m.group(1) == "#":
                        warnings.append(m.group(2))
        with open(out, errors="replace") as f:
            lines = [x.strip() for x in f if x.strip()]
        reason = (warnings[-1] if warnings and proc.returncode else
                  lines[-1] if lines else f"exited with status {proc.returncode}")
        return reason


# ---- measurements -----------------------------------------------------------------------

# The server on one CPU, redis-benchmark on another: on a small machine the
# scheduler would otherwise sometimes put both on one CPU, and halve a run.
if len(os.sched_getaffinity(0)) >= 2:
    SERVER_CPUS, CLIENT_CPUS = ({c} for c in sorted(os.sched_getaffinity(0))[:2])
else:
    SERVER_CPUS = CLIENT_CPUS = None


def pin(pid: int, cpus):
    """Every thread of process `pid` onto `cpus`."""
    if cpus is None:
        return
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass


def benchmark(server: Server, pipeline: int, requests: int) -> dict:
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(server.port), "-c", str(ACTIVE),
           "-n", str(requests), "-P", str(pipeline), "-t", "get", "--csv"]
    errors0 = server.error_replies()
    cpu0 = server.cpu_seconds()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800,
                       preexec_fn=None if CLIENT_CPUS is None else
                       lambda: os.sched_setaffinity(0, CLIENT_CPUS))
    cpu = server.cpu_seconds() - cpu0
    if p.returncode != 0 or p.stderr.strip():
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    if server.error_replies() != errors0:
        raise RuntimeError(f"{server.kind} answered GET with errors")
    rows = list(csv.reader(io.StringIO(p.stdout)))
    data = [r for r in rows[1:] if r and r[0].upper() == "GET"]
    if len(data) != 1:
        raise RuntimeError(f"unexpected redis-benchmark output: {p.stdout!r}")
    row = dict(zip(rows[0], data[0]))
    return {"rps": float(row["rps"]), "p50_ms": float(row["p50_latency_ms"]),
            "p99_ms": float(row["p99_latency_ms"]),
            "cpu_us_per_request": cpu * 1e6 / requests}


def syscall_method() -> str | None:
    if shutil.which("perf"):
        p = subprocess.run(["perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter",
                            "--", "true"], capture_output=True, text=True)
        if p.returncode == 0 and "raw_syscalls:sys_enter" in p.stderr \
                and not p.stderr.startswith("<not"):
            return "perf"
    if shutil.which("strace"):
        return "strace"
    return None


def count_syscalls(method: str, pid: int, run) -> int:
    """System calls of process `pid` (all its threads) while `run()` runs."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "count")
        if method == "perf":
            cmd = ["perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "-p", str(pid),
                   "-o", out]
        else:
            cmd = ["strace", "-c", "-f", "-p", str(pid), "-o", out]
        tracer = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)          # attached before the run starts
            run()
        finally:
            tracer.send_signal(signal.SIGINT)
            try:
                tracer.wait(60)
            except subprocess.TimeoutExpired:
                tracer.kill()
                tracer.wait()
        with open(out) as f:
            text = f.read()
    if method == "perf":
        for line in text.splitlines():
            fields = line.split(",")
            if len(fields) > 2 and fields[2] == "raw_syscalls:sys_enter":
                # "<not counted>": the process never ran in the window
                return int(fields[0]) if fields[0].isdigit() else 0
    else:
        for line in text.splitlines():
            parts = line.split()
            if parts and parts[-1] == "total":
                nums = [int(x) for x in parts[:-1] if x.isdigit()]
                return nums[0]      # calls (errors, when present, follow)
    raise RuntimeError(f"no system call count in {method} output: {text!r}")


def memory(t: Target) -> dict:
    n = min(MEMORY_IDLE, t.max_open - 32)
    before = settle_rss(t.server)
    with idle_connections(t.server.port, n, t.src):
        after = settle_rss(t.server)
    return {"idle": n, "rss_before": before, "rss_after": after,
            "bytes_per_connection": (after - before) / n}


# ---- the run ----------------------------------------------------------------------------

def run(args) -> dict:
    raise_nofile()
    uring_reason = probe_uring()
    print(f"uring: {'available' if uring_reason is None else uring_reason}", file=sys.stderr)
    tgts = targets(uring_reason)
    live = [t for t in tgts if t.unavailable is None]
    method = syscall_method()
    runs, syscalls, mem = [], [], {}
    with contextlib.ExitStack() as stack:
        for t in live:
            t.server = stack.enter_context(Server(t.kind, *t.args))
            pin(t.server.proc.pid, SERVER_CPUS)
            print(f"{t.name}: pid {t.server.proc.pid}, port {t.server.port}", file=sys.stderr)
        for t in live:     # fresh servers: what an idle connection costs
            mem[t.name] = memory(t)
            print(f"{t.name}: {mem[t.name]['bytes_per_connection']:.0f} bytes per idle "
                  f"connection", file=sys.stderr)
        for t in live:
            t.server.call("SET", KEY, "xxx")
            benchmark(t.server, 1, 10_000)       # warm up
        for rnd in range(args.rounds):
            # levels and servers forward, then backward: drift hits all alike
            levels = args.levels if rnd % 2 == 0 else args.levels[::-1]
            for level in levels:
                here = [t for t in live if t.serves(level)]
                if rnd % 2:
                    here.reverse()
                with contextlib.ExitStack() as idle:
                    for t in here:
                        idle.enter_context(idle_connections(t.server.port, level - ACTIVE,
                                                            t.src))
                    for t in here:
                        for pipeline in args.pipelines:
                            n = args.requests if pipeline == 1 else args.requests_pipelined
                            r = benchmark(t.server, pipeline, n)
                            r.update(server=t.name, open=level, pipeline=pipeline, round=rnd,
                                     requests=n)
                            runs.append(r)
                            print(f"round {rnd + 1}/{args.rounds} open {level:>6} "
                                  f"-P {pipeline:<2} {t.name:<7} {r['rps']:>10.0f} req/s "
                                  f"{r['cpu_us_per_request']:6.2f} µs CPU/req "
                                  f"p99 {r['p99_ms']:.3f} ms", file=sys.stderr)
                    if rnd == 0 and method is not None:
                        # after the timed runs, so that they never see the counting
                        for t in here:
                            for pipeline in args.pipelines:
                                n = (args.requests if pipeline == 1
                                     else args.requests_pipelined) // 4
                                calls = count_syscalls(method, t.server.proc.pid,
                                                       lambda: benchmark(t.server, pipeline, n))
                                syscalls.append({"server": t.name, "open": level,
                                                 "pipeline": pipeline, "requests": n,
                                                 "syscalls": calls, "per_request": calls / n})
    result = {
        **environment(),
        "active_clients": ACTIVE,
        "rounds": args.rounds,
        "levels": args.levels,
        "pipelines": args.pipelines,
        "syscall_method": method,
        "cpus": {"server": sorted(SERVER_CPUS) if SERVER_CPUS else None,
                 "redis-benchmark": sorted(CLIENT_CPUS) if CLIENT_CPUS else None},
        "servers": {t.name: {"kind": t.kind, "args": list(t.args), "max_open": t.max_open,
                             "unavailable": t.unavailable} for t in tgts},
        "memory": mem,
        "runs": runs,
        "syscalls": syscalls,
    }
    result["summary"] = summarize(result, tgts)
    result["idle_ratio"] = idle_ratios(result, tgts)
    return result


def summarize(result: dict, tgts) -> list:
    rows = []
    for pipeline in result["pipelines"]:
        for t in tgts:
            for level in result["levels"]:
                row = {"server": t.name, "open": level, "idle": level - ACTIVE,
                       "pipeline": pipeline}
                if t.unavailable is not None:
                    row["status"] = f"unavailable: {t.unavailable}"
                elif level > t.max_open:
                    row["status"] = "n/a"
                else:
                    mine = [r for r in result["runs"] if r["server"] == t.name
                            and r["open"] == level and r["pipeline"] == pipeline]
                    row["status"] = "ok"
                    for key in ("rps", "cpu_us_per_request", "p50_ms", "p99_ms"):
                        row[key] = statistics.median(r[key] for r in mine)
                    sc = [s for s in result["syscalls"] if s["server"] == t.name
                          and s["open"] == level and s["pipeline"] == pipeline]
                    row["syscalls_per_request"] = sc[0]["per_request"] if sc else None
                rows.append(row)
    return rows


def idle_ratios(result: dict, tgts) -> dict:
    """The active clients with the most connections open against them alone:
    req/s (most open / alone) and server CPU per request (alone / most open)."""
    out = {}
    levels = result["levels"]
    for t in tgts:
        if t.unavailable is not None:
            continue
        served = [lv for lv in levels if lv <= t.max_open]
        if ACTIVE not in served or max(served) == ACTIVE:
            continue
        top = max(served)
        out[t.name] = {"open": top}
        for pipeline in result["pipelines"]:
            rows = {r["open"]: r for r in result["summary"]
                    if r["server"] == t.name and r["pipeline"] == pipeline and "rps" in r}
            out[t.name][str(pipeline)] = {
                "rps": rows[top]["rps"] / rows[ACTIVE]["rps"],
                "cpu": rows[ACTIVE]["cpu_us_per_request"] / rows[top]["cpu_us_per_request"],
            }
    return out


# ---- output -----------------------------------------------------------------------------

def markdown(result: dict) -> str:
    method = {"perf": "perf stat raw_syscalls:sys_enter", "strace": "strace -c -f (ptrace)",
              None: "not counted"}[result["syscall_method"]]
    lines = [
        f"{result['active_clients']} active clients (redis-benchmark -c "
        f"{result['active_clients']} -t get) while the rest of the open connections sit idle; "
        f"median of {result['rounds']} alternating rounds; system calls: {method}; "
        f"{header(result)}",
    ]
    for pipeline in result["pipelines"]:
        lines += ["", f"### -P {pipeline}", "",
                  "| server | open (idle) | req/s | CPU µs/req | p50 ms | p99 ms "
                  "| syscalls/req |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for row in (r for r in result["summary"] if r["pipeline"] == pipeline):
            where = f"{row['open']:,} ({row['idle']:,})"
            if row["status"] != "ok":
                lines.append(f"| {row['server']} | {where} | {row['status']} | | | | |")
                continue
            sc = row["syscalls_per_request"]
            lines.append(
                f"| {row['server']} | {where} | {row['rps']:,.0f} | "
                f"{row['cpu_us_per_request']:.2f} | {row['p50_ms']:.3f} | {row['p99_ms']:.3f} | "
                f"{'n/a' if sc is None else f'{sc:.2f}'} |")
    pipes = result["pipelines"]
    lines += ["", "### Idle connections", "",
              "Memory: VmRSS growth of a fresh server per idle connection.  Ratios: the "
              f"{ACTIVE} active clients with the most connections open against them alone; "
              "req/s is theirs over alone, CPU is the server's µs per request alone over "
              "with the idle ones (1.00: the idle connections cost them nothing).", "",
              "| server | bytes per idle connection | most open | " +
              " | ".join(f"req/s ratio -P {p} | CPU ratio -P {p}" for p in pipes) + " |",
              "|---|---:|---:|" + "---:|---:|" * len(pipes)]
    for name, m in result["memory"].items():
        ratio = result["idle_ratio"].get(name)
        cells = [f"{m['bytes_per_connection']:,.0f} ({m['idle']:,} idle)",
                 "n/a" if ratio is None else f"{ratio['open']:,}"]
        for p in pipes:
            if ratio is None:
                cells += ["n/a", "n/a"]
            else:
                cells += [f"{ratio[str(p)]['rps']:.2f}", f"{ratio[str(p)]['cpu']:.2f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for name, s in result["servers"].items():
        if s["unavailable"] is not None:
            lines.append(f"| {name} | unavailable: {s['unavailable']} |"
                         + " |" * (1 + 2 * len(pipes)))
    return "\n".join(lines) + "\n"


def chart(result: dict, path: str) -> bool:
    plt = pyplot()
    if plt is None:
        return False
    pipes = result["pipelines"]
    fig, axes = plt.subplots(2, len(pipes), figsize=(6 * len(pipes), 8), squeeze=False)
    names = [n for n, s in result["servers"].items() if s["unavailable"] is None]
    for j, pipeline in enumerate(pipes):
        for i, (key, title) in enumerate((("rps", "requests/s"),
                                          ("cpu_us_per_request", "server CPU µs/request"))):
            ax = axes[i][j]
            for name in names:
                pts = [(r["open"], r[key]) for r in result["summary"]
                       if r["server"] == name and r["pipeline"] == pipeline and key in r]
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                            label=name if name != "redis" else "redis-server",
                            linestyle="--" if name == "redis" else "-")
            ax.set_xscale("log")
            ax.set_xlabel(f"open connections ({result['active_clients']} active)")
            ax.set_title(f"{title}, -P {pipeline}")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.suptitle(f"kvserver io-backends vs redis-server {result['redis_version']}: "
                 "idle connections held open")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--hold"]:
        hold(int(argv[1]), int(argv[2]), argv[3])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=100_000, help="per run without pipelining")
    ap.add_argument("--requests-pipelined", type=int, default=400_000, help="per run with -P 16")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--levels", default=",".join(map(str, LEVELS)),
                    help=f"open connections, each >= {ACTIVE} (the active ones)")
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--no-pin", action="store_true",
                    help="leave CPU placement to the scheduler (default: servers on the "
                         "first CPU, redis-benchmark on the second)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: few requests, 1 round")
    ap.add_argument("--out", default=os.path.join(RESULTS, "backends"),
                    help="path prefix of the .md/.json/.png results")
    args = ap.parse_args(argv)
    args.levels = sorted(int(x) for x in args.levels.split(","))
    args.pipelines = [int(p) for p in args.pipelines.split(",")]
    if not args.levels or args.levels[0] < ACTIVE or args.levels[-1] > MAXCLIENTS - ACTIVE:
        ap.error(f"--levels take values from {ACTIVE} to {MAXCLIENTS - ACTIVE}")
    if args.quick:
        args.requests, args.requests_pipelined, args.rounds = 20_000, 80_000, 1
    if args.no_pin:
        global SERVER_CPUS, CLIENT_CPUS
        SERVER_CPUS = CLIENT_CPUS = None
    result = run(args)
    write_results(args.out, markdown(result), result)
    chart(result, args.out + ".png")


if __name__ == "__main__":
    main()
