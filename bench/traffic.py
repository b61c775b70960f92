"""Traffic shaped like an application's: kvserver against redis-server.

redis-benchmark repeats one command on one key, pipelines included; real
clients mix commands and keys.  This starts one kvserver and one
redis-server side by side on free ports and measures three parts:

- stream: N varied commands (1M by default; SET, GET, INCR, LPUSH, HSET,
  HGET, ZADD, SADD, EXPIRE, MGET; no two neighbours alike) on keys drawn
  from 100k, from a fixed seed, sent through `redis-cli --pipe`.  Each
  type has its own key prefix, so no command meets a key of another type:
  the stream has no error replies, and redis-cli's closing line
  "errors: 0, replies: N" is checked.
- redis-py: the same commands through redis-py, one
  `pipeline(transaction=False)` of `execute_command(*args)` per 10,000
  commands.  The pipelines are filled before the clock starts; timed is
  every execute(), from the first send to the last reply.  The replies
  of kvserver and redis-server in a round are compared one by one.
- insert: mass insertion of `SET key:I value:I` for 1M keys through
  `redis-cli --pipe` (the payload of bench/memory.py); DBSIZE is checked.

Every run starts with FLUSHALL.  Runs alternate between the servers (A B,
then B A in the next round) and each figure is the median over the rounds
(3 by default).  Server CPU per command is the growth of the server's
utime + stime (/proc/<pid>/stat) across a run divided by its commands.
The ratios are compared with the targets of issue 7: stream and redis-py
throughput >= 0.6x redis-server's, insertion time <= 1.5x redis-server's.

Writes bench/results/traffic.md (markdown table) and traffic.json (every
run).  Both servers are stopped by PID whatever happens.

Usage: python bench/traffic.py [-n N] [--keys N] [--rounds N] [--batch N]
                               [--parts stream,redispy,insert] [--quick]
                               [--out PREFIX]
"""

import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from memory import mass_insert_payload  # noqa: E402
from servers import ORDER, ROOT, Server, environment, header, write_results  # noqa: E402

SEED = 20_070
KEYSPACE = 100_000
PARTS = ("stream", "redispy", "insert")
# part -> (what the table calls it, target ratio, True when the ratio is a
# throughput that must reach the target, False when a time that must not exceed it)
TARGETS = {
    "stream": ("mixed stream, `redis-cli --pipe`", 0.6, True),
    "redispy": ("mixed stream, redis-py pipelines", 0.6, True),
    "insert": ("mass insertion `SET key:N value:N`, `redis-cli --pipe`", 1.5, False),
}


def _set(k, r):
    return (b"SET", b"s:%d" % k, b"v:%d" % r.randrange(1_000_000))


def _mget(k, r):
    return (b"MGET", *(b"s:%d" % ((k + i) % KEYSPACE) for i in range(3)))


# One maker per command: key number, the Random -> the command's arguments.
# Hashes, sorted sets and sets hold ~10 members (k // 10 names the key), so
# they keep their compact encoding; the 1000 lists grow to ~100 elements.
MAKERS = (
    _set,
    lambda k, r: (b"GET", b"s:%d" % k),
    lambda k, r: (b"INCR", b"c:%d" % k),
    lambda k, r: (b"LPUSH", b"l:%d" % (k % 1000), b"%d" % k),
    lambda k, r: (b"HSET", b"h:%d" % (k // 10), b"f%d" % (k % 10), b"%d" % r.randrange(1000)),
    lambda k, r: (b"HGET", b"h:%d" % (k // 10), b"f%d" % (k % 10)),
    lambda k, r: (b"ZADD", b"z:%d" % (k // 10), b"%d" % r.randrange(1000), b"m%d" % (k % 10)),
    lambda k, r: (b"SADD", b"t:%d" % (k // 10), b"%d" % (k % 10)),
    # long enough that nothing expires during a run: replies stay deterministic
    lambda k, r: (b"EXPIRE", b"s:%d" % k, b"100000"),
    _mget,
)


def mixed_stream(n: int, seed: int = SEED) -> list:
    """n commands as argument tuples; the same n and seed give the same list."""
    rnd = random.Random(seed)
    out, last = [], None
    for _ in range(n):
        if last is None:
            i = rnd.randrange(len(MAKERS))
        else:   # any maker but the last one
            i = rnd.randrange(len(MAKERS) - 1)
            i += i >= last
        last = i
        out.append(MAKERS[i](rnd.randrange(KEYSPACE), rnd))
    return out


def resp(args: tuple) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def measured(server: Server, commands: int, send) -> dict:
    """FLUSHALL, then time send(), which returns the number of replies, and
    the server CPU it costs."""
    server.call("FLUSHALL")
    cpu0 = server.cpu_seconds()
    t0 = time.perf_counter()
    replies = send()
    seconds = time.perf_counter() - t0
    cpu = server.cpu_seconds() - cpu0
    if replies != commands:
        raise RuntimeError(f"{server.kind}: {replies} replies to {commands} commands")
    return {"seconds": seconds, "commands_per_s": commands / seconds,
            "cpu_us_per_command": cpu * 1e6 / commands}


def run_redispy(server: Server, commands: list, batch: int, replies: list) -> dict:
    """The stream through redis-py; its replies are appended to `replies`."""
    import redis
    client = redis.Redis(port=server.port)
    try:
        client.ping()   # connect before the clock starts
        pipes = []
        for i in range(0, len(commands), batch):
            p = client.pipeline(transaction=False)
            for args in commands[i:i + batch]:
                p.execute_command(*args)
            pipes.append(p)

        def send():
            for p in pipes:
                replies.extend(p.execute())
            return len(replies)
        return measured(server, len(commands), send)
    finally:
        client.close()


def run_pipe(server: Server, payload: bytes, commands: int) -> dict:
    return measured(server, commands, lambda: server.pipe(payload))


def differences(commands: list, kv: list, rd: list) -> dict:
    """Where kvserver's redis-py replies differ from redis-server's."""
    diff = [i for i, (a, b) in enumerate(zip(kv, rd)) if a != b]
    out = {"count": len(diff)}
    if diff:
        i = diff[0]
        out["first"] = {"index": i, "command": [a.decode() for a in commands[i]],
                        "kvserver": repr(kv[i]), "redis": repr(rd[i])}
    return out


def run(args) -> dict:
    commands = mixed_stream(args.n) if {"stream", "redispy"} & set(args.parts) else []
    stream = b"".join(map(resp, commands)) if "stream" in args.parts else b""
    insert = mass_insert_payload(args.keys) if "insert" in args.parts else b""
    runs, mismatches = [], []
    with Server("kvserver") as kv, Server("redis") as real:
        servers = {"kvserver": kv, "redis": real}
        for name, s in servers.items():
            # warm up: the interpreter's caches, the allocator
            s.pipe(b"".join(map(resp, mixed_stream(10_000, SEED + 1))))
            print(f"{name}: pid {s.proc.pid}, port {s.port}", file=sys.stderr)
        for rnd in range(args.rounds):
            for part in args.parts:
                replies = {}
                for name in ORDER[rnd % 2]:
                    s = servers[name]
                    if part == "stream":
                        r = run_pipe(s, stream, args.n)
                    elif part == "redispy":
                        replies[name] = []
                        r = run_redispy(s, commands, args.batch, replies[name])
                    else:
                        r = run_pipe(s, insert, args.keys)
                        dbsize = int(s.call("DBSIZE"))
                        if dbsize != args.keys:
                            raise RuntimeError(f"{name}: DBSIZE is {dbsize} after inserting "
                                               f"{args.keys} keys")
                    r.update(part=part, server=name, round=rnd)
                    runs.append(r)
                    print(f"round {rnd + 1}/{args.rounds} {part:<8} {name:<8} "
                          f"{r['seconds']:7.2f} s {r['commands_per_s']:>10.0f} cmd/s "
                          f"{r['cpu_us_per_command']:6.2f} µs CPU/cmd", file=sys.stderr)
                if replies:
                    d = differences(commands, replies["kvserver"], replies["redis"])
                    if d["count"]:
                        print(f"round {rnd + 1}: {d['count']} redis-py replies differ, "
                              f"first {d['first']}", file=sys.stderr)
                        mismatches.append({"round": rnd, **d})
    return {
        **environment(),
        "commands": args.n, "keys": args.keys, "keyspace": KEYSPACE, "seed": SEED,
        "batch": args.batch, "rounds": args.rounds,
        "runs": runs,
        "redispy_reply_mismatches": mismatches,
        "summary": summarize(runs, args),
    }


def summarize(runs: list, args) -> list:
    out = []
    for part in args.parts:
        row = {"part": part}
        for name in ("kvserver", "redis"):
            mine = [r for r in runs if r["part"] == part and r["server"] == name]
            row[name] = {key: statistics.median(r[key] for r in mine)
                         for key in ("seconds", "commands_per_s", "cpu_us_per_command")}
        _, target, throughput = TARGETS[part]
        key = "commands_per_s" if throughput else "seconds"
        row["ratio"] = row["kvserver"][key] / row["redis"][key]
        row["target"] = target
        row["met"] = row["ratio"] >= target if throughput else row["ratio"] <= target
        rc = row["redis"]["cpu_us_per_command"]
        row["cpu_ratio"] = row["kvserver"]["cpu_us_per_command"] / rc if rc else None
        out.append(row)
    return out


def markdown(result: dict) -> str:
    lines = [
        f"Mixed stream of {result['commands']:,} commands on {result['keyspace']:,} keys "
        f"(redis-py: pipelines of {result['batch']:,}); mass insertion of "
        f"{result['keys']:,} keys; median of {result['rounds']} alternating rounds; "
        f"{header(result)}",
        "",
        "| part | kvserver | redis-server | kvserver/redis | target | "
        "kvserver CPU µs/cmd | redis CPU µs/cmd | CPU kvserver/redis |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for row in result["summary"]:
        title, target, throughput = TARGETS[row["part"]]
        kv, rd = row["kvserver"], row["redis"]
        if throughput:
            cells = [f"{kv['commands_per_s']:,.0f} cmd/s", f"{rd['commands_per_s']:,.0f} cmd/s",
                     f"{row['ratio']:.2f}x throughput", f">= {target}x"]
        else:
            cells = [f"{kv['seconds']:.2f} s", f"{rd['seconds']:.2f} s",
                     f"{row['ratio']:.2f}x time", f"<= {target}x"]
        cells[3] += " met" if row["met"] else " **not met**"
        cpu_ratio = f"{row['cpu_ratio']:.1f}x" if row["cpu_ratio"] else "n/a"
        lines.append(f"| {title} | " + " | ".join(cells) +
                     f" | {kv['cpu_us_per_command']:.2f} | {rd['cpu_us_per_command']:.2f} | "
                     f"{cpu_ratio} |")
    for m in result["redispy_reply_mismatches"]:
        lines += ["", f"Round {m['round'] + 1}: {m['count']:,} redis-py replies of kvserver "
                      f"differ from redis-server's; the first: {m['first']}"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=1_000_000, help="commands in the mixed stream")
    ap.add_argument("--keys", type=int, default=1_000_000, help="keys of the mass insertion")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=10_000, help="commands per redis-py pipeline")
    ap.add_argument("--parts", default=",".join(PARTS))
    ap.add_argument("--quick", action="store_true", help="a smoke run: 20k commands, 1 round")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "traffic"),
                    help="path prefix of the .md/.json results")
    args = ap.parse_args(argv)
    args.parts = [p.strip().lower() for p in args.parts.split(",") if p.strip()]
    if not args.parts or set(args.parts) - set(PARTS):
        ap.error(f"--parts takes some of {','.join(PARTS)}")
    if args.quick:
        args.n, args.keys, args.rounds = 20_000, 20_000, 1
    if "redispy" in args.parts:
        try:
            import redis  # noqa: F401
        except ImportError:
            ap.error("redis-py is not installed (pip install -e '.[test]')")
    result = run(args)
    write_results(args.out, markdown(result), result)


if __name__ == "__main__":
    main()
