"""Throughput and server CPU per request: kvserver against redis-server.

Starts one kvserver and one redis-server side by side on free ports and
drives both with redis-benchmark (-c 50 by default), one test at a time,
for PING_INLINE, PING_MBULK, SET, GET, INCR and MSET (`--tests suite`:
redis-benchmark's whole default suite), without pipelining and with -P 16,
each with two key patterns:

- random keys, `-r 100000`: redis-benchmark replaces `__rand_int__` in key
  names (and in set, hash and zset elements) with a number below 100000,
  so requests spread over a keyspace as real traffic does;
- fixed keys, redis-benchmark's default: every request of a test hits the
  same key (`key:__rand_int__` literally), the best case for any cache.

Runs alternate between the servers (A B, then B A in the next round) so
that drifting machine load hits both alike; each figure is the median over
the rounds.  Each key pattern and -P gets a summary line: the median of the
tests' kvserver/redis req/s ratios and the test with the lowest ratio.

Server CPU per request is the growth of the server's utime + stime
(/proc/<pid>/stat) across one redis-benchmark run, divided by the requests
of that run: the cost of a request to the server, independent of how the
client and server share the machine's cores.

Writes bench/results/latest.md (markdown table), latest.json (every run)
and latest.png (bar chart; needs matplotlib, the "bench" extra).  Both
servers are stopped by PID whatever happens.

Usage: python bench/run.py [--requests N] [--requests-pipelined N]
                           [--rounds N] [--clients N] [--tests a,b|suite]
                           [--pipelines 1,16] [--keys random,fixed]
                           [--keyspace N] [--quick] [--out PREFIX]
"""

import argparse
import csv
import io
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import ORDER, ROOT, Server, environment, header, pyplot, write_results  # noqa: E402

TESTS = ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET"]
# redis-benchmark's whole default suite, for --tests
SUITE = ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP",
         "RPOP", "SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN", "LRANGE_100",
         "LRANGE_300", "LRANGE_500", "LRANGE_600", "MSET"]
RESULTS = os.path.join(ROOT, "bench", "results")
KEYS = ("random", "fixed")


def keys_label(keys: str, keyspace: int) -> str:
    if keys == "random":
        return f"random (-r {keyspace})"
    return "fixed (redis-benchmark default)"


def benchmark(server: Server, test: str, requests: int, clients: int, pipeline: int,
              keyspace: int = 0) -> dict:
    """One redis-benchmark run of one test; requests/s and server CPU µs/request.

    A `keyspace` makes the keys random (-r keyspace); 0 leaves them fixed.
    """
    cmd = ["redis-benchmark", "-p", str(server.port), "-t", test.lower(), "-n", str(requests),
           "-c", str(clients), "-P", str(pipeline), "--csv"]
    if keyspace:
        cmd += ["-r", str(keyspace)]
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
            for keys in args.keys:
                keyspace = args.keyspace if keys == "random" else 0
                for pipeline in args.pipelines:
                    n = args.requests if pipeline == 1 else args.requests_pipelined
                    for test in args.tests:
                        for name in ORDER[rnd % 2]:
                            r = benchmark(servers[name], test, n, args.clients, pipeline,
                                          keyspace)
                            r.update(server=name, test=test, pipeline=pipeline, keys=keys,
                                     round=rnd, requests=n)
                            runs.append(r)
                            print(f"round {rnd + 1}/{args.rounds} {keys:<6} -P {pipeline:<2} "
                                  f"{test:<11} {name:<8} {r['rps']:>11.0f} req/s "
                                  f"{r['cpu_us_per_request']:7.2f} µs CPU/req",
                                  file=sys.stderr)
    summary = summarize(runs, args)
    return {
        **environment(),
        "clients": args.clients,
        "rounds": args.rounds,
        "keyspace": args.keyspace,
        "runs": runs,
        "summary": summary,
        "configurations": configurations(summary, args),
    }


def summarize(runs, args) -> list:
    out = []
    for keys in args.keys:
        for pipeline in args.pipelines:
            for test in args.tests:
                out.append(summarize_test(runs, keys, pipeline, test))
    return out


def summarize_test(runs, keys: str, pipeline: int, test: str) -> dict:
    row = {"test": test, "pipeline": pipeline, "keys": keys}
    for name in ("kvserver", "redis"):
        mine = [r for r in runs if r["server"] == name and r["test"] == test
                and r["pipeline"] == pipeline and r["keys"] == keys]
        row[name] = {
            "rps": statistics.median(r["rps"] for r in mine),
            "cpu_us_per_request": statistics.median(r["cpu_us_per_request"] for r in mine),
            "p50_ms": statistics.median(r["p50_ms"] for r in mine),
        }
    row["rps_ratio"] = row["kvserver"]["rps"] / row["redis"]["rps"]
    rc = row["redis"]["cpu_us_per_request"]
    row["cpu_ratio"] = row["kvserver"]["cpu_us_per_request"] / rc if rc else None
    return row


def configurations(summary: list, args) -> list:
    """Per key pattern and -P: the median req/s ratio and the lowest test."""
    out = []
    for keys in args.keys:
        for pipeline in args.pipelines:
            rows = [r for r in summary if r["keys"] == keys and r["pipeline"] == pipeline]
            low = min(rows, key=lambda r: r["rps_ratio"])
            out.append({"keys": keys, "pipeline": pipeline,
                        "median_rps_ratio": statistics.median(r["rps_ratio"] for r in rows),
                        "lowest_test": low["test"], "lowest_rps_ratio": low["rps_ratio"]})
    return out


def markdown(result: dict) -> str:
    lines = [
        f"redis-benchmark, {result['clients']} clients, median of {result['rounds']} "
        f"alternating rounds; {header(result)}",
    ]
    for keys in dict.fromkeys(r["keys"] for r in result["summary"]):
        lines += [
            "",
            f"### keys: {keys_label(keys, result['keyspace'])}",
            "",
            "| test | -P | kvserver req/s | redis req/s | req/s kvserver/redis | "
            "kvserver CPU µs/req | redis CPU µs/req | CPU kvserver/redis |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in (r for r in result["summary"] if r["keys"] == keys):
            kv, rd = row["kvserver"], row["redis"]
            cpu_ratio = f"{row['cpu_ratio']:.1f}x" if row["cpu_ratio"] else "n/a"
            lines.append(
                f"| {row['test']} | {row['pipeline']} | {kv['rps']:,.0f} | {rd['rps']:,.0f} | "
                f"{row['rps_ratio']:.2f} | {kv['cpu_us_per_request']:.2f} | "
                f"{rd['cpu_us_per_request']:.2f} | {cpu_ratio} |")
        lines.append("")
        for c in (c for c in result["configurations"] if c["keys"] == keys):
            lines.append(
                f"- keys {keys}, -P {c['pipeline']}: median req/s kvserver/redis "
                f"**{c['median_rps_ratio']:.2f}**; lowest {c['lowest_test']} "
                f"**{c['lowest_rps_ratio']:.2f}**")
    return "\n".join(lines) + "\n"


def chart(result: dict, path: str) -> bool:
    plt = pyplot()
    if plt is None:
        return False
    rows = result["summary"]
    labels = [f"{r['test']}\n-P {r['pipeline']}\n{r['keys']}" for r in rows]
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
    ap.add_argument("--tests", default=",".join(TESTS),
                    help="comma-separated, or 'suite' for redis-benchmark's whole default suite")
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--keys", default=",".join(KEYS), help="random, fixed or both")
    ap.add_argument("--keyspace", type=int, default=100_000, help="-r for random keys")
    ap.add_argument("--quick", action="store_true", help="a smoke run: few requests, 1 round")
    ap.add_argument("--out", default=os.path.join(RESULTS, "latest"),
                    help="path prefix of the .md/.json/.png results")
    args = ap.parse_args(argv)
    args.tests = [t.strip().upper() for t in args.tests.split(",") if t.strip()]
    if args.tests == ["SUITE"]:
        args.tests = SUITE
    args.pipelines = [int(p) for p in args.pipelines.split(",")]
    args.keys = [k.strip().lower() for k in args.keys.split(",") if k.strip()]
    unknown = set(args.tests) - set(SUITE)
    if unknown:
        ap.error(f"unknown tests: {', '.join(sorted(unknown))}")
    if not args.keys or set(args.keys) - set(KEYS):
        ap.error(f"--keys takes {' and/or '.join(KEYS)}")
    if args.quick:
        args.requests, args.requests_pipelined, args.rounds = 5_000, 20_000, 1
    result = run(args)
    write_results(args.out, markdown(result), result)
    chart(result, args.out + ".png")


if __name__ == "__main__":
    main()
