"""kvserver's own cost per command, in process: no sockets, no redis-server.

Feeds a command stream through the same path a connection takes - the
request parser in reads of `--chunk` bytes, the execute loop, before_sleep
- with the replies thrown away, and reports microseconds per command:
for bench/traffic.py's mixed stream of varied commands on random keys,
then for each command of it alone.  This is a profiling aid for the hot
path (run it under `py-spy record -- python bench/inprocess.py` or with
`--profile` for cProfile); the comparisons with redis-server that claims
rest on are bench/run.py, bench/traffic.py and bench/shapes.py.

Usage: python bench/inprocess.py [-n N] [--chunk BYTES] [--rounds N]
                                 [--profile]
"""

import argparse
import cProfile
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from traffic import MAKERS, mixed_stream, resp  # noqa: E402

from kvserver.config import Config  # noqa: E402
from kvserver.net.client import Client  # noqa: E402
from kvserver.server import Server  # noqa: E402

MAX_BULK = 512 * 1024 * 1024


def feeder(chunk: int):
    """A server and a client without sockets; run(payload) -> seconds."""
    server = Server(Config())
    client = Client(server, None, "127.0.0.1:1", "127.0.0.1:2")
    server.clients[client.id] = client

    def run(payload: bytes) -> float:
        t0 = time.perf_counter()
        for off in range(0, len(payload), chunk):
            client.parser.feed_parse(payload[off:off + chunk], client.pending, MAX_BULK, True)
            server.process_pending(client)
            client.reply.clear()
            server.pending_write.clear()
            server.before_sleep()
        return time.perf_counter() - t0
    return run


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=200_000)
    ap.add_argument("--chunk", type=int, default=16 * 1024, help="bytes per read")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="cProfile one mixed round")
    args = ap.parse_args(argv)
    run = feeder(args.chunk)
    commands = mixed_stream(args.n)
    mixed = b"".join(map(resp, commands))
    run(mixed)      # fill the keyspace, warm the caches
    best = min(run(mixed) for _ in range(args.rounds))
    print(f"mixed stream        {best / args.n * 1e6:6.3f} us/command")
    by_name = {}
    for args_ in commands:
        by_name.setdefault(args_[0], []).append(args_)
    for name, cmds in by_name.items():
        payload = b"".join(map(resp, cmds))
        best = min(run(payload) for _ in range(args.rounds))
        print(f"{name.decode():<19} {best / len(cmds) * 1e6:6.3f} us/command "
              f"(a stream of {len(cmds):,} alone)")
    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(run, mixed)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    assert len(MAKERS) == len(by_name)


if __name__ == "__main__":
    main()
