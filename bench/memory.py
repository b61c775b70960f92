"""Memory for plain string keys: kvserver against redis-server.

Loads N keys (1M by default) `key:I -> value:I` into a fresh kvserver and a
fresh redis-server, one after the other, through `redis-cli --pipe`, and
compares how much each server's resident memory (VmRSS in
/proc/<pid>/status) grew from just before the load to just after it.
DBSIZE is checked to be N on both.

Writes bench/results/memory.md and memory.json and prints the table.  Each
server is stopped by PID whatever happens.

Usage: python bench/memory.py [--keys N] [--out PREFIX]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import ROOT, Server, environment, header, settle_rss, write_results  # noqa: E402


def mass_insert_payload(n: int) -> bytes:
    parts = []
    for i in range(n):
        k = b"key:%d" % i
        v = b"value:%d" % i
        parts.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
    return b"".join(parts)


def measure(kind: str, payload: bytes, n: int) -> dict:
    with Server(kind) as s:
        before = settle_rss(s)
        t0 = time.monotonic()
        s.pipe(payload)
        load_s = time.monotonic() - t0
        dbsize = int(s.call("DBSIZE"))
        if dbsize != n:
            raise RuntimeError(f"{kind}: DBSIZE is {dbsize}, expected {n}")
        after = settle_rss(s)
        print(f"{kind}: RSS {before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB, "
              f"load {load_s:.1f} s", file=sys.stderr)
        return {"rss_before": before, "rss_after": after, "growth": after - before,
                "bytes_per_key": (after - before) / n, "load_seconds": load_s}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "memory"))
    args = ap.parse_args(argv)
    payload = mass_insert_payload(args.keys)
    result = {
        **environment(),
        "keys": args.keys,
        "kvserver": measure("kvserver", payload, args.keys),
        "redis": measure("redis", payload, args.keys),
    }
    kv, rd = result["kvserver"], result["redis"]
    result["ratio"] = kv["growth"] / rd["growth"]
    md = "\n".join([
        f"{args.keys:,} keys `key:N -> value:N` loaded with `redis-cli --pipe`; growth of "
        f"VmRSS; {header(result)}",
        "",
        "| server | RSS before | RSS after | growth | bytes/key | load time |",
        "|---|---:|---:|---:|---:|---:|",
        *(f"| {name} | {m['rss_before'] / 2**20:.1f} MiB | {m['rss_after'] / 2**20:.1f} MiB | "
          f"{m['growth'] / 2**20:.1f} MiB | {m['bytes_per_key']:.0f} | {m['load_seconds']:.1f} s |"
          for name, m in (("kvserver", kv), ("redis-server", rd))),
        "",
        f"kvserver / redis-server memory growth: **{result['ratio']:.2f}x**",
    ]) + "\n"
    write_results(args.out, md, result)


if __name__ == "__main__":
    main()
