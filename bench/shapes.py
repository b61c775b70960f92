"""Does a command cost the same however a client sends it?  kvserver
against redis-server.

One client sends the same N commands (SETs on random keys, 100k keys, a
fixed seed) in several shapes:

- stream: everything written at once while replies are read (what
  `redis-cli --pipe`, bulk loaders and AOF replays do); the server sees
  reads cut anywhere, commands split across them;
- pipelines of 16, 256 and 2,000 commands, each written whole, the
  client waiting for all its replies before sending the next.

For each shape and server it reports the server CPU per command (utime +
stime from /proc around the run) and the wall-clock throughput.  The
claim under test (issue 7): kvserver's CPU per command for the stream is
no more than for pipelines of 16, i.e. the cost per command does not grow
with how much a client sends at once.  Runs alternate A B, B A; figures
are medians over the rounds (3 by default).

Writes bench/results/shapes.md and shapes.json.

Usage: python bench/shapes.py [-n N] [--rounds N] [--quick] [--out PREFIX]
"""

import argparse
import os
import random
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import ORDER, ROOT, Server, environment, header, write_results  # noqa: E402

SEED = 4_242
KEYSPACE = 100_000
SHAPES = ("stream", 16, 256, 2000)
OK = b"+OK\r\n"


def commands(n: int) -> list:
    rnd = random.Random(SEED)
    out = []
    for _ in range(n):
        k = b"key:%d" % rnd.randrange(KEYSPACE)
        v = b"value:%d" % rnd.randrange(1_000_000)
        out.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
    return out


_OKS = OK * ((1 << 20) // len(OK) + 2)


def read_oks(sock, count: int):
    """Read exactly `count` replies, each of which must be +OK."""
    want = count * len(OK)
    got = 0
    while got < want:
        chunk = sock.recv(min(1 << 20, want - got))
        if not chunk:
            raise RuntimeError("connection closed")
        at = got % len(OK)
        if chunk != _OKS[at:at + len(chunk)]:
            raise RuntimeError(f"unexpected reply {chunk[:80]!r}")
        got += len(chunk)


def send_stream(sock, cmds: list):
    payload = b"".join(cmds)
    writer = threading.Thread(target=sock.sendall, args=(payload,))
    writer.start()
    read_oks(sock, len(cmds))
    writer.join()


def send_pipelines(sock, cmds: list, size: int):
    for i in range(0, len(cmds), size):
        batch = cmds[i:i + size]
        sock.sendall(b"".join(batch))
        read_oks(sock, len(batch))


def measure(server: Server, cmds: list, shape) -> dict:
    server.call("FLUSHALL")
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cpu0 = server.cpu_seconds()
        t0 = time.perf_counter()
        if shape == "stream":
            send_stream(sock, cmds)
        else:
            send_pipelines(sock, cmds, shape)
        seconds = time.perf_counter() - t0
        cpu = server.cpu_seconds() - cpu0
    return {"shape": str(shape), "seconds": seconds, "commands_per_s": len(cmds) / seconds,
            "cpu_us_per_command": cpu * 1e6 / len(cmds)}


def run(args) -> dict:
    cmds = commands(args.n)
    runs = []
    with Server("kvserver") as kv, Server("redis") as real:
        servers = {"kvserver": kv, "redis": real}
        for s in servers.values():
            measure(s, cmds[:20_000], 16)      # warm up
        for rnd in range(args.rounds):
            for shape in SHAPES:
                for name in ORDER[rnd % 2]:
                    r = measure(servers[name], cmds, shape)
                    r.update(server=name, round=rnd)
                    runs.append(r)
                    print(f"round {rnd + 1}/{args.rounds} {str(shape):>6} {name:<8} "
                          f"{r['commands_per_s']:>10.0f} cmd/s "
                          f"{r['cpu_us_per_command']:6.2f} µs CPU/cmd", file=sys.stderr)
    summary = []
    for shape in SHAPES:
        row = {"shape": str(shape)}
        for name in ("kvserver", "redis"):
            mine = [r for r in runs if r["shape"] == str(shape) and r["server"] == name]
            row[name] = {k: statistics.median(r[k] for r in mine)
                         for k in ("commands_per_s", "cpu_us_per_command")}
        summary.append(row)
    return {**environment(), "commands": args.n, "rounds": args.rounds, "runs": runs,
            "summary": summary}


def markdown(result: dict) -> str:
    lines = [
        f"One client, {result['commands']:,} SETs on random keys, sent in different shapes; "
        f"median of {result['rounds']} alternating rounds; {header(result)}",
        "",
        "| shape | kvserver cmd/s | redis cmd/s | kvserver/redis | kvserver CPU µs/cmd "
        "| redis CPU µs/cmd |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in result["summary"]:
        kv, rd = row["kvserver"], row["redis"]
        name = "one stream" if row["shape"] == "stream" else f"pipelines of {row['shape']}"
        lines.append(f"| {name} | {kv['commands_per_s']:,.0f} | {rd['commands_per_s']:,.0f} | "
                     f"{kv['commands_per_s'] / rd['commands_per_s']:.2f} | "
                     f"{kv['cpu_us_per_command']:.2f} | {rd['cpu_us_per_command']:.2f} |")
    by = {row["shape"]: row["kvserver"]["cpu_us_per_command"] for row in result["summary"]}
    verdict = "holds" if by["stream"] <= by["16"] else "**does not hold**"
    lines += ["", f"kvserver CPU per command, one stream / pipelines of 16: "
                  f"{by['stream'] / by['16']:.2f} (the stream must cost no more: {verdict})"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="a smoke run: 20k commands, 1 round")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "shapes"))
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.rounds = 20_000, 1
    result = run(args)
    write_results(args.out, markdown(result), result)


if __name__ == "__main__":
    main()
