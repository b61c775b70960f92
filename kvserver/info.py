"""INFO: the section builders, and the metrics INFO samples in cron.

Sections, their order, their field names and the order of fields are Redis
7.0.15's (genRedisInfoString), so clients that parse INFO find every field
where they expect it.  Values are kvserver's own, measured where kvserver
has the quantity and the true value of a feature kvserver lacks otherwise
(no replicas: connected_slaves:0; no forks: total_forks:0; no Lua yet:
used_memory_lua:0).  Not produced, because kvserver does not measure them:
total_reads_processed, total_writes_processed and the latencystats section.

Memory: CPython gives no cheap count of the bytes it has allocated, so the
used_memory family is the process's resident set size (/proc/self/statm),
which is what `used_memory_rss` means in Redis anyway; used_memory_startup
is the RSS when the server was created, and the allocator_* ratios are 1.

`attach(server)` must run once per Server: it installs the cron hook that
samples instantaneous_ops_per_sec and the network rates every 100 ms, as
Redis's serverCron does, and keeps the memory peak.
"""

import os
import platform
import resource
import struct
import sys
import time
from hashlib import sha1

from kvserver import REDIS_VERSION, __version__, clock, keyspace
from kvserver.commands import table

# name -> builder; the order is Redis's.  `DEFAULT` is what INFO with no
# argument (or "default") shows; "all" and "everything" show every section.
_ALL = ("server", "clients", "memory", "persistence", "stats", "replication",
        "cpu", "modules", "commandstats", "errorstats", "cluster", "keyspace")
DEFAULT = frozenset(_ALL) - {"commandstats"}

_SAMPLE_PERIOD_MS = 100     # run_with_period(100) in serverCron
_SAMPLES = 16               # STATS_METRIC_SAMPLES

try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
except (ValueError, OSError, AttributeError):
    _PAGE = 4096


def rss() -> int:
    """The process's resident set size in bytes."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        # ru_maxrss is a peak, in KiB on Linux and bytes on macOS
        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return r if sys.platform == "darwin" else r * 1024


def total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def bytes_to_human(n: int) -> str:
    """bytesToHuman: B below 1K, then two decimals with K, M, G, T, P."""
    if n < 1024:
        return f"{n}B"
    for i, unit in enumerate("KMGTP", 1):
        if n < 1024 ** (i + 1):
            return f"{n / 1024 ** i:.2f}{unit}"
    return f"{n}B"


class InfoState:
    """What INFO needs that no other part of the server keeps."""

    def __init__(self, server):
        self.server = server
        self.replid = os.urandom(20).hex()
        self.replid2 = "0" * 40
        self.startup_memory = rss()
        self.peak_memory = self.startup_memory
        self.last_sample_ms = 0

    def cron(self):
        now = clock.now_ms()
        if now - self.last_sample_ms < _SAMPLE_PERIOD_MS:
            return
        self.last_sample_ms = now
        st = self.server.stats
        for samples, reading in ((st.ops_samples, st.commands_processed),
                                 (st.net_in_samples, st.net_input_bytes),
                                 (st.net_out_samples, st.net_output_bytes)):
            samples.append((now, reading))
            if len(samples) > _SAMPLES + 1:
                del samples[0]
        self.used_memory()

    def used_memory(self) -> int:
        m = rss()
        if m > self.peak_memory:
            self.peak_memory = m
        return m

    def reset_stats(self):
        """CONFIG RESETSTAT: the memory peak restarts from now (resetServerStats);
        the rate samples live in ServerStats, which resets itself."""
        self.peak_memory = rss()

    def change_replid(self):
        """changeReplicationId + clearReplicationId2 (DEBUG CHANGE-REPL-ID)."""
        self.replid = os.urandom(20).hex()
        self.replid2 = "0" * 40


def attach(server) -> InfoState:
    state = InfoState(server)
    server.info_state = state
    server.hooks_cron.append(state.cron)
    server.hooks_resetstat.append(state.reset_stats)
    return state


def _rate(samples) -> float:
    """Per second, over the sampled window (getInstantaneousMetric)."""
    if len(samples) < 2:
        return 0.0
    (t0, v0), (t1, v1) = samples[0], samples[-1]
    if t1 <= t0:
        return 0.0
    return (v1 - v0) * 1000 / (t1 - t0)


# --- sections -------------------------------------------------------------------

_BUILD_ID = sha1(f"kvserver-{__version__}".encode()).hexdigest()[:15]


def _compiler_version() -> str:
    # the compiler that built the interpreter running kvserver; Redis prints
    # 0.0.0 when it was not built by GCC
    comp = platform.python_compiler()
    if comp.startswith("GCC "):
        return comp.split()[1]
    return "0.0.0"


_UNAME = platform.uname()
_OS = f"{_UNAME.system} {_UNAME.release} {_UNAME.machine}"
_ARCH_BITS = struct.calcsize("P") * 8
_GCC = _compiler_version()
_EXECUTABLE = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""


def server_section(server):
    cfg = server.config
    now_us = clock.now_us()
    uptime = int(time.monotonic() - server.start_mono)
    backend = server.backend.name if server.backend is not None else ""
    iot = server.iothreads
    return [
        f"redis_version:{REDIS_VERSION}",
        "redis_git_sha1:00000000",
        "redis_git_dirty:0",
        f"redis_build_id:{_BUILD_ID}",
        "redis_mode:standalone",
        f"os:{_OS}",
        f"arch_bits:{_ARCH_BITS}",
        "monotonic_clock:POSIX clock_gettime",
        f"multiplexing_api:{backend}",
        "atomicvar_api:GIL",
        f"gcc_version:{_GCC}",
        f"process_id:{os.getpid()}",
        "process_supervised:no",
        f"run_id:{server.run_id}",
        f"tcp_port:{server.port}",
        f"server_time_usec:{now_us}",
        f"uptime_in_seconds:{uptime}",
        f"uptime_in_days:{uptime // 86400}",
        f"hz:{cfg.hz}",
        f"configured_hz:{cfg.hz}",
        f"lru_clock:{keyspace.LRU_CLOCK & 0xFFFFFF}",
        f"executable:{_EXECUTABLE}",
        f"config_file:{getattr(cfg, 'config_file', None) or ''}",
        f"io_threads_active:{int(iot is not None and iot.active)}",
        f"kvserver_version:{__version__}",
    ]


def _client_buffers(server):
    """(largest unparsed input, largest queued output, sum of both) over clients."""
    max_in = max_out = total = 0
    for c in server.clients.values():
        qbuf = c.parser.pending()
        out = sum(map(len, c.reply))
        if c.out is not None:
            out += len(c.out)
        if qbuf > max_in:
            max_in = qbuf
        if out > max_out:
            max_out = out
        total += qbuf + out
    return max_in, max_out, total


def clients_section(server):
    max_in, max_out, _ = _client_buffers(server)
    # kept by kvserver.blocking as it blocks and wakes clients
    blocked = getattr(server, "blocked_clients", 0)
    in_timeout_table = getattr(server, "clients_in_timeout_table", 0)
    return [
        f"connected_clients:{len(server.clients)}",
        "cluster_connections:0",
        f"maxclients:{server.config.maxclients}",
        f"client_recent_max_input_buffer:{max_in}",
        f"client_recent_max_output_buffer:{max_out}",
        f"blocked_clients:{blocked}",
        "tracking_clients:0",
        f"clients_in_timeout_table:{in_timeout_table}",
    ]


def memory_section(server):
    st = server.info_state
    cfg = server.config
    used = st.used_memory()
    peak = st.peak_memory
    startup = st.startup_memory
    _, _, clients_mem = _client_buffers(server)
    overhead = min(used, startup + clients_mem)
    dataset = used - overhead
    net = used - startup if used > startup else 1
    sysmem = total_system_memory()
    maxmemory = getattr(cfg, "maxmemory", 0)
    policy = getattr(cfg, "maxmemory_policy", "noeviction")
    return [
        f"used_memory:{used}",
        f"used_memory_human:{bytes_to_human(used)}",
        f"used_memory_rss:{used}",
        f"used_memory_rss_human:{bytes_to_human(used)}",
        f"used_memory_peak:{peak}",
        f"used_memory_peak_human:{bytes_to_human(peak)}",
        f"used_memory_peak_perc:{used * 100 / peak if peak else 0:.2f}%",
        f"used_memory_overhead:{overhead}",
        f"used_memory_startup:{startup}",
        f"used_memory_dataset:{dataset}",
        f"used_memory_dataset_perc:{dataset * 100 / net:.2f}%",
        f"allocator_allocated:{used}",
        f"allocator_active:{used}",
        f"allocator_resident:{used}",
        f"total_system_memory:{sysmem}",
        f"total_system_memory_human:{bytes_to_human(sysmem)}",
        "used_memory_lua:0",
        "used_memory_vm_eval:0",
        "used_memory_lua_human:0B",
        "used_memory_scripts_eval:0",
        "number_of_cached_scripts:0",
        "number_of_functions:0",
        "number_of_libraries:0",
        "used_memory_vm_functions:0",
        "used_memory_vm_total:0",
        "used_memory_vm_total_human:0B",
        "used_memory_functions:0",
        "used_memory_scripts:0",
        "used_memory_scripts_human:0B",
        f"maxmemory:{maxmemory}",
        f"maxmemory_human:{bytes_to_human(maxmemory)}",
        f"maxmemory_policy:{policy}",
        "allocator_frag_ratio:1.00",
        "allocator_frag_bytes:0",
        "allocator_rss_ratio:1.00",
        "allocator_rss_bytes:0",
        "rss_overhead_ratio:1.00",
        "rss_overhead_bytes:0",
        "mem_fragmentation_ratio:1.00",
        "mem_fragmentation_bytes:0",
        "mem_not_counted_for_evict:0",
        "mem_replication_backlog:0",
        "mem_total_replication_buffers:0",
        "mem_clients_slaves:0",
        f"mem_clients_normal:{clients_mem}",
        "mem_cluster_links:0",
        "mem_aof_buffer:0",
        "mem_allocator:pymalloc",
        "active_defrag_running:0",
        "lazyfree_pending_objects:0",
        "lazyfreed_objects:0",
    ]


def persistence_section(server):
    aof = 1 if getattr(server.config, "appendonly", False) else 0
    return [
        "loading:0",
        "async_loading:0",
        "current_cow_peak:0",
        "current_cow_size:0",
        "current_cow_size_age:0",
        "current_fork_perc:0.00",
        "current_save_keys_processed:0",
        "current_save_keys_total:0",
        f"rdb_changes_since_last_save:{server.keyspace.dirty}",
        "rdb_bgsave_in_progress:0",
        f"rdb_last_save_time:{server.lastsave}",
        "rdb_last_bgsave_status:ok",
        "rdb_last_bgsave_time_sec:-1",
        "rdb_current_bgsave_time_sec:-1",
        "rdb_saves:0",
        "rdb_last_cow_size:0",
        "rdb_last_load_keys_expired:0",
        "rdb_last_load_keys_loaded:0",
        f"aof_enabled:{aof}",
        "aof_rewrite_in_progress:0",
        "aof_rewrite_scheduled:0",
        "aof_last_rewrite_time_sec:-1",
        "aof_current_rewrite_time_sec:-1",
        "aof_last_bgrewrite_status:ok",
        "aof_rewrites:0",
        "aof_rewrites_consecutive_failures:0",
        "aof_last_write_status:ok",
        "aof_last_cow_size:0",
        "module_fork_in_progress:0",
        "module_fork_last_cow_size:0",
    ]


def _pubsub_counts(server):
    counts = []
    for attr in ("pubsub_channels", "pubsub_patterns", "pubsubshard_channels"):
        v = getattr(server, attr, None)
        counts.append(len(v) if v else 0)
    return counts


def stats_section(server):
    st = server.stats
    ks = server.keyspace.stats
    channels, patterns, shard = _pubsub_counts(server)
    iot = server.iothreads
    return [
        f"total_connections_received:{st.connections_received}",
        f"total_commands_processed:{st.commands_processed}",
        f"instantaneous_ops_per_sec:{int(_rate(st.ops_samples))}",
        f"total_net_input_bytes:{st.net_input_bytes}",
        f"total_net_output_bytes:{st.net_output_bytes}",
        "total_net_repl_input_bytes:0",
        "total_net_repl_output_bytes:0",
        f"instantaneous_input_kbps:{_rate(st.net_in_samples) / 1024:.2f}",
        f"instantaneous_output_kbps:{_rate(st.net_out_samples) / 1024:.2f}",
        "instantaneous_input_repl_kbps:0.00",
        "instantaneous_output_repl_kbps:0.00",
        f"rejected_connections:{st.rejected_connections}",
        "sync_full:0",
        "sync_partial_ok:0",
        "sync_partial_err:0",
        f"expired_keys:{ks.expired}",
        f"expired_stale_perc:{ks.expired_stale_perc * 100:.2f}",
        f"expired_time_cap_reached_count:{ks.expired_time_cap_reached}",
        f"expire_cycle_cpu_milliseconds:{ks.expire_cycle_cpu_ms}",
        f"evicted_keys:{ks.evicted}",
        "evicted_clients:0",
        "total_eviction_exceeded_time:0",
        "current_eviction_exceeded_time:0",
        f"keyspace_hits:{ks.hits}",
        f"keyspace_misses:{ks.misses}",
        f"pubsub_channels:{channels}",
        f"pubsub_patterns:{patterns}",
        f"pubsubshard_channels:{shard}",
        "latest_fork_usec:0",
        "total_forks:0",
        "migrate_cached_sockets:0",
        "slave_expires_tracked_keys:0",
        "active_defrag_hits:0",
        "active_defrag_misses:0",
        "active_defrag_key_hits:0",
        "active_defrag_key_misses:0",
        "total_active_defrag_time:0",
        "current_active_defrag_time:0",
        "tracking_total_keys:0",
        "tracking_total_items:0",
        "tracking_total_prefixes:0",
        "unexpected_error_replies:0",
        f"total_error_replies:{st.total_error_replies}",
        "dump_payload_sanitizations:0",
        f"io_threaded_reads_processed:{iot.reads_processed if iot is not None else 0}",
        f"io_threaded_writes_processed:{iot.writes_processed if iot is not None else 0}",
        "reply_buffer_shrinks:0",
        "reply_buffer_expands:0",
    ]


def replication_section(server):
    st = server.info_state
    return [
        "role:master",
        "connected_slaves:0",
        "master_failover_state:no-failover",
        f"master_replid:{st.replid}",
        f"master_replid2:{st.replid2}",
        "master_repl_offset:0",
        "second_repl_offset:-1",
        "repl_backlog_active:0",
        f"repl_backlog_size:{getattr(server.config, 'repl_backlog_size', 1048576)}",
        "repl_backlog_first_byte_offset:0",
        "repl_backlog_histlen:0",
    ]


def cpu_section(server):
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    thread = getattr(resource, "RUSAGE_THREAD", None)
    main = resource.getrusage(thread) if thread is not None else me
    return [
        f"used_cpu_sys:{me.ru_stime:.6f}",
        f"used_cpu_user:{me.ru_utime:.6f}",
        f"used_cpu_sys_children:{kids.ru_stime:.6f}",
        f"used_cpu_user_children:{kids.ru_utime:.6f}",
        f"used_cpu_sys_main_thread:{main.ru_stime:.6f}",
        f"used_cpu_user_main_thread:{main.ru_utime:.6f}",
    ]


def modules_section(server):
    return []


def _cmdstat(spec, out):
    if spec.calls or spec.failed_calls or spec.rejected_calls:
        usec = spec.duration_ns // 1000
        per_call = spec.duration_ns / 1000 / spec.calls if spec.calls else 0.0
        out.append(f"cmdstat_{spec.fullname}:calls={spec.calls},usec={usec},"
                   f"usec_per_call={per_call:.2f},rejected_calls={spec.rejected_calls},"
                   f"failed_calls={spec.failed_calls}")
    if spec.subcommands:
        for sub in spec.subcommands.values():
            _cmdstat(sub, out)


def commandstats_section(server):
    out = []
    for spec in table.all_commands():
        _cmdstat(spec, out)
    return out


def errorstats_section(server):
    # Redis keeps them in a radix tree, so they come out sorted
    return [f"errorstat_{code}:count={n}" for code, n in sorted(server.errorstats.items())]


def cluster_section(server):
    return ["cluster_enabled:0"]


def keyspace_section(server):
    out = []
    for db in server.keyspace.dbs:
        keys = len(db.data)
        expires = len(db.expires)
        if keys or expires:
            out.append(f"db{db.id}:keys={keys},expires={expires},avg_ttl={db.avg_ttl}")
    return out


SECTIONS = {
    "server": ("Server", server_section),
    "clients": ("Clients", clients_section),
    "memory": ("Memory", memory_section),
    "persistence": ("Persistence", persistence_section),
    "stats": ("Stats", stats_section),
    "replication": ("Replication", replication_section),
    "cpu": ("CPU", cpu_section),
    "modules": ("Modules", modules_section),
    "commandstats": ("Commandstats", commandstats_section),
    "errorstats": ("Errorstats", errorstats_section),
    "cluster": ("Cluster", cluster_section),
    "keyspace": ("Keyspace", keyspace_section),
}


def select_sections(args: list) -> list:
    """genInfoSectionDict: the sections INFO args ask for, in Redis's order.

    No argument means the default set; "default", "all" and "everything"
    add their sets; any other word names one section (unknown ones match
    nothing)."""
    if not args:
        wanted = DEFAULT
    else:
        wanted = set()
        for a in args:
            name = a.lower().decode("latin-1")
            if name in ("all", "everything"):
                wanted.update(_ALL)
            elif name == "default":
                wanted.update(DEFAULT)
            else:
                wanted.add(name)
    return [name for name in _ALL if name in wanted]


def generate(server, args: list) -> bytes:
    """The INFO text for the sections `args` select (CRLF lines, blank line
    between sections, as genRedisInfoString writes it)."""
    parts = []
    for name in select_sections(args):
        title, build = SECTIONS[name]
        if parts:
            parts.append("\r\n")
        parts.append(f"# {title}\r\n")
        for line in build(server):
            parts.append(line)
            parts.append("\r\n")
    return "".join(parts).encode("utf-8", "surrogateescape")
