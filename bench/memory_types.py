"""Memory of small collections: kvserver against redis-server.

Loads, into a fresh kvserver and a fresh redis-server started side by side
on free ports:

- hashes: 100k keys `hash:N`, each `HSET hash:N field:0 value:0 ...
  field:9 value:9` (10 short fields: listpack encoding in both);
- zsets: 100k keys `zset:N`, each `ZADD zset:N 0 member:0 ... 9 member:9`
  (10 members: listpack in both), measured only when kvserver knows ZADD,
  otherwise reported as not measured.

Each part gets its own pair of servers.  The load is pipelined through
`redis-cli --pipe`; the figure compared is the growth of VmRSS
(/proc/<pid>/status) from just before the load to just after it.  The
requirement is kvserver's growth <= 2.0 x redis-server's.

Prints a markdown table and writes it to bench/results/memory_types.md.
Both servers are stopped by PID whatever happens.

Usage: python bench/memory_types.py [--keys N] [--out PATH]
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMIT = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc, timeout: float = 30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def command(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def call(port: int, *args) -> bytes:
    """One command on a fresh connection; the raw first reply line."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(command(*args))
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def hash_load(n: int) -> bytes:
    parts = []
    for i in range(n):
        args = [b"HSET", b"hash:%d" % i]
        for j in range(10):
            args += [b"field:%d" % j, b"value:%d" % j]
        parts.append(command(*args))
    return b"".join(parts)


def zset_load(n: int) -> bytes:
    parts = []
    for i in range(n):
        args = [b"ZADD", b"zset:%d" % i]
        for j in range(10):
            args += [b"%d" % j, b"member:%d" % j]
        parts.append(command(*args))
    return b"".join(parts)


class Server:
    """A server process started here and stopped by its PID."""

    def __init__(self, argv, port):
        self.port = port
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            wait_port(port, self.proc)
        except Exception:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_redis() -> Server:
    exe = shutil.which("redis-server")
    if exe is None:
        sys.exit("redis-server is not installed")
    port = free_port()
    return Server([exe, "--port", str(port), "--save", "", "--appendonly", "no",
                   "--daemonize", "no"], port)


def start_kvserver() -> Server:
    port = free_port()
    return Server([sys.executable, "-m", "kvserver", "--port", str(port),
                   "--save", ""], port)


def pipe(port: int, payload: bytes):
    cli = shutil.which("redis-cli")
    if cli is None:
        sys.exit("redis-cli is not installed")
    r = subprocess.run([cli, "-p", str(port), "--pipe"], input=payload,
                       capture_output=True, timeout=1800)
    out = r.stdout.decode(errors="replace")
    if r.returncode != 0 or "errors: 0" not in out:
        raise RuntimeError(f"redis-cli --pipe on {port} failed: {out} "
                           f"{r.stderr.decode(errors='replace')}")


def measure(server: Server, payload: bytes, check) -> dict:
    time.sleep(0.5)             # let start-up allocations settle
    before = rss_kib(server.pid)
    pipe(server.port, payload)
    time.sleep(0.5)
    after = rss_kib(server.pid)
    check(server.port)
    return {"before": before, "after": after, "growth": after - before}


def run_part(name: str, payload: bytes, n: int, key: bytes, card: bytes) -> dict:
    def check(port):
        dbsize = call(port, "DBSIZE")
        if dbsize != b":%d\r\n" % n:
            raise RuntimeError(f"{name}: DBSIZE {dbsize!r} after the load")
        got = call(port, card, key)
        if got != b":10\r\n":
            raise RuntimeError(f"{name}: {card.decode()} {key!r} gave {got!r}")

    result = {}
    for label, start in (("redis-server", start_redis), ("kvserver", start_kvserver)):
        srv = start()
        try:
            result[label] = measure(srv, payload, check)
            enc = call(srv.port, "OBJECT", "ENCODING", key)
            result[label]["encoding"] = enc.split(b"\r\n")[1].decode() if enc.startswith(b"$") else "?"
        finally:
            srv.stop()
    return result


def zadd_supported() -> bool:
    srv = start_kvserver()
    try:
        reply = call(srv.port, "ZADD", "probe", "1", "m")
        return reply == b":1\r\n"
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", type=int, default=100_000)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results",
                                                  "memory_types.md"))
    args = ap.parse_args()
    n = args.keys

    rows = []
    parts = [("hashes (10 fields)", hash_load, b"hash:0", b"HLEN")]
    zsets = zadd_supported()
    if zsets:
        parts.append(("zsets (10 members)", zset_load, b"zset:0", b"ZCARD"))
    for name, load, key, card in parts:
        res = run_part(name, load(n), n, key, card)
        red, kv = res["redis-server"], res["kvserver"]
        ratio = kv["growth"] / red["growth"] if red["growth"] > 0 else float("inf")
        rows.append((name, red, kv, ratio))

    lines = [
        f"# Memory of small collections: kvserver vs redis-server ({n} keys)",
        "",
        "RSS growth (VmRSS after the pipelined load minus before), KiB; "
        f"requirement: ratio <= {LIMIT}.",
        "",
        "| data | redis-server KiB | kvserver KiB | redis B/key | kvserver B/key "
        "| encoding (redis / kv) | ratio | verdict |",
        "|---|---:|---:|---:|---:|---|---:|---|",
    ]
    ok = True
    for name, red, kv, ratio in rows:
        verdict = "ok" if ratio <= LIMIT else "FAIL"
        ok = ok and ratio <= LIMIT
        lines.append(f"| {name} | {red['growth']} | {kv['growth']} | "
                     f"{red['growth'] * 1024 // n} | {kv['growth'] * 1024 // n} | "
                     f"{red['encoding']} / {kv['encoding']} | {ratio:.2f} | {verdict} |")
    if not zsets:
        lines.append("| zsets (10 members) | - | - | - | - | - | - | not measured: "
                     "kvserver has no ZADD yet |")
    lines.append("")
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
