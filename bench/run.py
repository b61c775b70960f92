"""Throughput and server CPU per request: kvserver against redis-server.

Starts one kvserver and one redis-server side by side on free ports and
drives both with redis-benchmark (-c 50 by default), one test at a time,
for PING_INLINE, PING_MBULK, SET, GET, INCR and MSET, without pipelining
and with -P 16.  Runs alternate between the servers (A B, then B A in the
next round) so that drifting machine load hits both alike; each figure is
the median over the rounds.

Server CPU per request is the growth of the server's utime + stime
(/proc/<pid>/stat) across one redis-benchmark run, divided by the requests
of that run: the cost of a request to the server, independent of how the
client and server share the machine's cores.

Writes bench/results/latest.md (markdown table), latest.json (every run)
and latest.png (bar chart; needs matplotlib, the "bench" extra).  Both
servers are stopped by PID whatever happens.

Usage: python bench/run.py [--requests N] [--requests-pipelined N]
                           [--rounds N] [--clients N] [--tests a,b] [--quick]
"""

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import ROOT, Server, git_commit, machine, redis_version  # noqa: E402

TESTS = ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET"]
# redis-benchmark's whole default suite, for --tests
SUITE = ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP",
         "RPOP", "SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN", "LRANGE_100",
         "LRANGE_300", "LRANGE_500", "LRANGE_600", "MSET"]
RESULTS = os.path.join(ROOT, "bench", "results")


def benchmark(server: Server, test: str, requests: int, clients: int, pipeline: int) -> dict:
    """One redis-benchmark run of one test; requests/s and server CPU µs/request."""
    cmd = ["redis-benchmark", "-p", str(server.port), "-t", test.lower(), "-n", str(requests),
           "-c", str(clients), "-P", str(pipeline), "--csv"]
    errors0 = server.error_replies()
    cpu0 = server.cpu_seconds()
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - t0
    cpu = server.cpu_seconds() - cpu0
    if p.returncode != 0 or p.stderr.strip():
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    if server.error_replies() != errors0:
        raise RuntimeError(f"{server.kind} answered {test} with errors")
    rows = list(csv.reader(io.StringIO(p.stdout)))
    header = rows[0]
    # LRANGE tests print the LPUSH that fills their list first: keep ours
    data = [r for r in rows[1:] if r and r[0].split(" ")[0].upper() == test.upper()]
    if len(data) != 1:
        raise RuntimeError(f"unexpected redis-benchmark output: {p.stdout!r}")
    row = dict(zip(header, data[0]))
    return {
        "rps": float(row["rps"]),
        "p50_ms": float(row["p50_latency_ms"]),
        "cpu_us_per_request": cpu * 1e6 / requests,
        "wall_s": wall,
    }


def run(args) -> dict:
    runs = []
    with Server("kvserver") as kv, Server("redis") as real:
        servers = {"kvserver": kv, "redis": real}
        for name, s in servers.items():
            # warm up: connections, the keyspace, the interpreter's caches
            benchmark(s, "SET", 10_000, args.clients, 1)
            print(f"{name}: pid {s.proc.pid}, port {s.port}", file=sys.stderr)
        for rnd in range(args.rounds):
            order = ["kvserver", "redis"] if rnd % 2 == 0 else ["redis", "kvserver"]
            for pipeline in args.pipelines:
                n = args.requests if pipeline == 1 else args.requests_pipelined
                for test in args.tests:
                    for name in order:
                        r = benchmark(servers[name], test, n, args.clients, pipeline)
                        r.update(server=name, test=test, pipeline=pipeline, round=rnd,
                                 requests=n)
                        runs.append(r)
                        print(f"round {rnd + 1}/{args.rounds} -P {pipeline:<2} {test:<11} "
                              f"{name:<8} {r['rps']:>11.0f} req/s "
                              f"{r['cpu_us_per_request']:7.2f} µs CPU/req", file=sys.stderr)
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine(),
        "python": sys.version.split()[0],
        "redis_version": redis_version(),
        "kvserver_commit": git_commit(),
        "clients": args.clients,
        "rounds": args.rounds,
        "runs": runs,
        "summary": summarize(runs, args),
    }


def summarize(runs, args) -> list:
    out = []
    for pipeline in args.pipelines:
        for test in args.tests:
            row = {"test": test, "pipeline": pipeline}
            for name in ("kvserver", "redis"):
                mine = [r for r in runs if r["server"] == name and r["test"] == test
                        and r["pipeline"] == pipeline]
                row[name] = {
                    "rps": statistics.median(r["rps"] for r in mine),
                    "cpu_us_per_request": statistics.median(r["cpu_us_per_request"]
                                                            for r in mine),
                    "p50_ms": statistics.median(r["p50_ms"] for r in mine),
                }
            row["rps_ratio"] = row["kvserver"]["rps"] / row["redis"]["rps"]
            rc = row["redis"]["cpu_us_per_request"]
            row["cpu_ratio"] = row["kvserver"]["cpu_us_per_request"] / rc if rc else None
            out.append(row)
    return out


def markdown(result: dict) -> str:
    lines = [
        f"redis-benchmark, {result['clients']} clients, median of {result['rounds']} "
        f"alternating rounds; {result['machine']}; Python {result['python']}; "
        f"redis-server {result['redis_version']}; kvserver {result['kvserver_commit']}; "
        f"{result['date']}.",
        "",
        "| test | -P | kvserver req/s | redis req/s | req/s kvserver/redis | "
        "kvserver CPU µs/req | redis CPU µs/req | CPU kvserver/redis |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["summary"]:
        kv, rd = row["kvserver"], row["redis"]
        cpu_ratio = f"{row['cpu_ratio']:.1f}x" if row["cpu_ratio"] else "n/a"
        lines.append(
            f"| {row['test']} | {row['pipeline']} | {kv['rps']:,.0f} | {rd['rps']:,.0f} | "
            f"{row['rps_ratio']:.2f} | {kv['cpu_us_per_request']:.2f} | "
            f"{rd['cpu_us_per_request']:.2f} | {cpu_ratio} |")
    return "\n".join(lines) + "\n"


def chart(result: dict, path: str) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no chart",
              file=sys.stderr)
        return False
    rows = result["summary"]
    labels = [f"{r['test']}\n-P {r['pipeline']}" for r in rows]
    x = range(len(rows))
    w = 0.4
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(max(8, len(rows) * 0.9), 8))
    for ax, key, title in ((ax1, "rps", "requests per second (higher is better)"),
                           (ax2, "cpu_us_per_request",
                            "server CPU µs per request (lower is better)")):
        ax.bar([i - w / 2 for i in x], [r["kvserver"][key] for r in rows], w, label="kvserver")
        ax.bar([i + w / 2 for i in x], [r["redis"][key] for r in rows], w,
               label="redis-server")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels, fontsize=8)
        ax.legend()
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"kvserver vs redis-server {result['redis_version']} "
                 f"(redis-benchmark -c {result['clients']})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=100_000, help="per run without pipelining")
    ap.add_argument("--requests-pipelined", type=int, default=400_000, help="per run with -P 16")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--tests", default=",".join(TESTS))
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--quick", action="store_true", help="a smoke run: few requests, 1 round")
    ap.add_argument("--out", default=os.path.join(RESULTS, "latest"),
                    help="path prefix of the .md/.json/.png results")
    args = ap.parse_args(argv)
    args.tests = [t.strip().upper() for t in args.tests.split(",") if t.strip()]
    args.pipelines = [int(p) for p in args.pipelines.split(",")]
    unknown = set(args.tests) - set(SUITE)
    if unknown:
        ap.error(f"unknown tests: {', '.join(sorted(unknown))}")
    if args.quick:
        args.requests, args.requests_pipelined, args.rounds = 5_000, 20_000, 1
    result = run(args)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    md = markdown(result)
    with open(args.out + ".md", "w") as f:
        f.write(md)
    with open(args.out + ".json", "w") as f:
        json.dump(result, f, indent=1)
    chart(result, args.out + ".png")
    print(md)


if __name__ == "__main__":
    main()
