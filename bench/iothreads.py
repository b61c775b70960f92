"""I/O threads: kvserver with io-threads 1, 2, 4 beside redis-server with
the same settings, driven by redis-benchmark without pipelining.

For each io-threads setting and client count (-c 50 and -c 500 by default)
both servers run GET and SET on random keys (-r 100000), alternating A B,
B A between rounds; each figure is the median over the rounds:

- requests/s (redis-benchmark's own figure);
- main-thread CPU per request: the growth of utime + stime of the process's
  main thread (/proc/PID/task/PID/stat) across the run, divided by the
  requests - the thread that executes commands (and holds the GIL);
- whole-process CPU per request (/proc/PID/stat), threads included.

The main-thread figure shows how much network work moved off the thread
that runs the commands.  On a machine with fewer cores than threads the
workers compete with the load generator and the main thread for CPU, so
the throughput column is the one to watch there.

io-threads-do-reads is `yes` for both servers (threads read and parse as
well as write); --do-reads no measures writes-only threading.  kvserver
runs on epoll at every setting (--backend): I/O threads serve a readiness
loop, and io-threads 1 on the default io_uring loop would compare two
engines, not the threads.

Writes bench/results/iothreads.md and .json.  Servers are stopped by PID
whatever happens.

Usage: python bench/iothreads.py [--threads 1,2,4] [--clients 50,500]
                                 [--requests N] [--rounds N] [--do-reads yes|no]
                                 [--backend epoll|poll|select]
"""

import argparse
import csv
import io
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import (ORDER, ROOT, Server, environment, header, stat_cpu_seconds,  # noqa: E402
                     write_results)

TESTS = ("get", "set")


def main_thread_cpu(pid: int) -> float:
    return stat_cpu_seconds(f"/proc/{pid}/task/{pid}/stat")


def bench(srv: Server, test: str, clients: int, requests: int) -> dict:
    pid = srv.proc.pid
    main0, all0 = main_thread_cpu(pid), srv.cpu_seconds()
    out = subprocess.run(["redis-benchmark", "-p", str(srv.port), "-c", str(clients),
                          "-n", str(requests), "-r", "100000", "-t", test, "--csv"],
                         capture_output=True, text=True, timeout=600, check=True).stdout
    main1, all1 = main_thread_cpu(pid), srv.cpu_seconds()
    rows = [r for r in csv.reader(io.StringIO(out)) if r and r[0] != "test"]
    return {"rps": float(rows[0][1]),
            "main_us": (main1 - main0) * 1e6 / requests,
            "cpu_us": (all1 - all0) * 1e6 / requests}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", default="1,2,4")
    ap.add_argument("--clients", default="50,500")
    ap.add_argument("--requests", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--do-reads", default="yes", choices=("yes", "no"))
    ap.add_argument("--backend", default="epoll",
                    help="kvserver's io-backend (threads serve a readiness loop)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "iothreads"))
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    clients = [int(c) for c in args.clients.split(",")]
    runs = {}      # (server, threads, clients, test) -> [result per round]
    for rnd in range(args.rounds):
        for t in threads:
            for kind in ORDER[rnd % 2]:
                own = ("--io-backend", args.backend) if kind == "kvserver" else ()
                with Server(kind, "--io-threads", str(t),
                            "--io-threads-do-reads", args.do_reads, *own) as srv:
                    for c in clients:
                        for test in TESTS:
                            r = bench(srv, test, c, args.requests)
                            runs.setdefault((kind, t, c, test), []).append(r)
                            print(f"round {rnd + 1} {kind} io-threads {t} -c {c} {test}: "
                                  f"{r['rps']:.0f} req/s, main {r['main_us']:.2f} us/req, "
                                  f"all {r['cpu_us']:.2f} us/req", flush=True)

    def med(kind, t, c, test, key):
        return statistics.median(r[key] for r in runs[(kind, t, c, test)])

    result = environment()
    result.update(rounds=args.rounds, requests=args.requests, do_reads=args.do_reads,
                  runs={"|".join(map(str, k)): v for k, v in runs.items()})
    lines = [f"# I/O threads, kvserver beside redis-server (io-threads-do-reads "
             f"{args.do_reads}, -r 100000, -P 1)", "",
             f"{header(result)} Medians of {args.rounds} rounds of {args.requests} "
             "requests. main = CPU of the thread that executes commands, per request; "
             "all = the whole process. vs 1 = kvserver's figure over its own at "
             "io-threads 1.", "",
             "| test | clients | io-threads | kvserver req/s | vs 1 | main us/req | vs 1 "
             "| all us/req | redis req/s | redis main us/req | kv/redis req/s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    summary = []
    for test in TESTS:
        for c in clients:
            base_rps = med("kvserver", threads[0], c, test, "rps")
            base_main = med("kvserver", threads[0], c, test, "main_us")
            for t in threads:
                rps = med("kvserver", t, c, test, "rps")
                main_us = med("kvserver", t, c, test, "main_us")
                rrps = med("redis", t, c, test, "rps")
                lines.append(
                    f"| {test.upper()} | {c} | {t} | {rps:.0f} | {rps / base_rps:.2f} "
                    f"| {main_us:.2f} | {main_us / base_main:.2f} "
                    f"| {med('kvserver', t, c, test, 'cpu_us'):.2f} | {rrps:.0f} "
                    f"| {med('redis', t, c, test, 'main_us'):.2f} | {rps / rrps:.2f} |")
                if t != threads[0]:
                    summary.append((t, c, test, rps / base_rps, main_us / base_main))
    lines.append("")
    for t, c, test, rr, mr in summary:
        lines.append(f"- io-threads {t}, -c {c}, {test.upper()}: throughput {rr:.2f}x and "
                     f"main-thread CPU per request {mr:.2f}x of io-threads {threads[0]}")
    write_results(args.out, "\n".join(lines) + "\n", result)


if __name__ == "__main__":
    main()
