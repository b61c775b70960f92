"""Wiring: listeners, the event loop with its phases, cron, shutdown.

One thread runs everything that touches the keyspace.  Each turn of the
loop is, as in Redis 6:

  1. poll the backend for ready sockets;
  2. read phase: accept new connections, recv from readable clients and
     parse their bytes into argument vectors;
  3. execute phase: run the parsed commands, client by client, in the
     order the clients were read;
  4. cron, when due (active expiry, idle timeouts, shutdown request);
  5. before_sleep: the write phase - every client with pending replies is
     written with one send(); a short write queues the rest and asks the
     backend for writability.

The read and write phases touch only sockets and buffers, never the
keyspace.  With `io-threads` > 1 they are fanned out to C worker threads
(kvserver/net/iothreads.py) while enough clients have work; the execute
phase stays here, in client order.

On the io_uring backend (`run_completion`, the default where the kernel
allows it) steps 1 and 2 are one `io_uring_enter`: the kernel has already
accepted connections and received bytes, and the sends queued by the
previous write phase go out in the same call; a short write is the
engine's to continue, not the reactor's.
"""

import errno
import os
import signal
import socket
import time

from kvserver import clock, info
from kvserver.commands import table
from kvserver.config import Config, is_local_peer
from kvserver.commands.connection import unwatch_all
from kvserver.commands.table import COMMANDS
from kvserver.dispatch import count_error, execute, reject
from kvserver.errors import CommandError
from kvserver.errors import MAX_CLIENTS, PROTECTED_MODE_DENIED
from kvserver import expire_cycle
from kvserver import blocking
from kvserver.datastructs.thaw import THAWED, freeze_all
from kvserver.keyspace import Keyspace
from kvserver.log import logger
from kvserver.net import client as cl
from kvserver.net import iothreads, listen, reactor, uring
from kvserver.net.reactor import READABLE, WRITABLE

READ_SIZE = 16 * 1024        # PROTO_IOBUF_LEN: a read's commands stay in cache until they run
_perf = time.perf_counter_ns
_STOP_FLAGS = cl.CLOSE_AFTER_REPLY | cl.CLOSE_ASAP | cl.BLOCKED
BIG_READ = 1024 * 1024


class ServerStats:
    """Counters INFO stats reports and CONFIG RESETSTAT clears."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.connections_received = 0
        self.commands_processed = 0
        self.rejected_connections = 0
        self.net_input_bytes = 0
        self.net_output_bytes = 0
        self.total_error_replies = 0
        self.client_qbuf_limit_disconnections = 0
        self.ops_samples = []     # (ms, commands_processed) for instantaneous_ops_per_sec
        self.net_in_samples = []
        self.net_out_samples = []


class Listener:
    __slots__ = ("sock", "fd", "unix", "name")

    def __init__(self, sock, unix, name):
        self.sock = sock
        self.fd = sock.fileno()
        self.unix = unix
        self.name = name


class Server:
    def __init__(self, config: Config | None = None):
        self.config = config or Config()
        table.load()
        self.keyspace = Keyspace(self.config.databases)
        self.stats = ServerStats()
        self.errorstats = {}
        self.clients = {}            # id -> Client
        self.listeners = []
        self.backend = None
        self.start_time = time.time()
        self.start_mono = time.monotonic()
        self.pid = os.getpid()
        self.run_id = os.urandom(20).hex()
        self.shutdown_asap = False
        self.shutdown_flags = ()
        self.running = False
        self.cronloops = 0
        self.lastsave = int(time.time())
        self.pending_write = []       # clients with replies to send
        self.iothreads = None         # the I/O-thread pool when io-threads > 1
        self.completion = False       # the backend is the io_uring engine
        # Keys that received data while clients were blocked on them
        # (signalKeyAsReady); served by `serve_blocked` after each command,
        # which the blocking module installs.
        self.ready_keys = []
        self.serve_blocked = None
        self.hooks_before_sleep = []  # callables run at each before_sleep
        self.hooks_cron = []          # callables run at each cron tick
        self.hooks_client_freed = []  # callables(client) when one disconnects
        self.hooks_resetstat = []     # callables run by CONFIG RESETSTAT
        expire_cycle.install(self)    # active expiry and the LRU clock
        self.port = self.config.port
        self.mstime = clock.now_ms()      # cached once per loop turn, as Redis's server.mstime
        info.attach(self)           # INFO's cron sampling and memory peak
        blocking.install(self)      # clients blocked on keys (BLPOP & co.)

    # ---- start-up --------------------------------------------------------
    def listen(self):
        cfg = self.config
        try:
            # aeCreateEventLoop(): sized for every client and the reserved fds
            self.backend = self.make_backend(cfg.maxclients + reactor.MIN_RESERVED_FDS)
        except ValueError as e:
            logger.warning(f"Failed creating the event loop. Error message: '{e}'")
            raise SystemExit(1)
        if not self.listen_tcp():
            logger.warning(f"Failed listening on port {cfg.port} (TCP), aborting.")
            raise SystemExit(1)
        if cfg.unixsocket:
            try:
                s = listen.unix_listener(cfg.unixsocket, cfg.unixsocketperm, cfg.tcp_backlog)
            except OSError as e:
                logger.warning(f"Failed opening Unix socket: {e.strerror}")
                raise SystemExit(1)
            self.listeners.append(Listener(s, True, cfg.unixsocket))
            self.watch_listener(self.listeners[-1])
        if not self.listeners:
            logger.warning("Configured to not listen anywhere, exiting.")
            raise SystemExit(1)

    def listen_tcp(self) -> bool:
        """listenToPort(): a listener per `bind` address; False on a hard failure.

        Addresses that do not exist on this host, or a protocol it lacks, are
        skipped with a warning, as Redis does ('-' marks them optional).
        """
        cfg = self.config
        self.port = cfg.port
        if not cfg.port:
            return True
        new = []
        for addr in cfg.bind:
            optional = addr.startswith("-")
            host = addr[1:] if optional else addr
            bind_host = "0.0.0.0" if host == "*" else "::" if host == "::*" else host
            try:
                s = listen.tcp_listener(bind_host, cfg.port, cfg.tcp_backlog)
            except (OSError, UnicodeError) as e:
                err = getattr(e, "errno", None)
                if isinstance(e, socket.gaierror):
                    why = e.strerror
                else:
                    why = "bind: " + (e.strerror or str(e)) if err else str(e)
                logger.warning(f"Warning: Could not create server TCP listening socket "
                               f"{host}:{cfg.port}: {why}")
                if err in (errno.EADDRNOTAVAIL, errno.ENOPROTOOPT, errno.EPROTONOSUPPORT,
                           errno.ESOCKTNOSUPPORT, errno.EPFNOSUPPORT, errno.EAFNOSUPPORT):
                    continue
                for lst in new:
                    lst.sock.close()
                return False
            if cfg.socket_mark_id:
                try:
                    s.setsockopt(socket.SOL_SOCKET, 36, cfg.socket_mark_id)   # SO_MARK
                except OSError:
                    pass
            new.append(Listener(s, False, host))
        for lst in new:
            self.listeners.append(lst)
            self.watch_listener(lst)
        return True

    def relisten(self) -> bool:
        """CONFIG SET port/bind: close the TCP listeners, listen again."""
        for lst in [x for x in self.listeners if not x.unix]:
            self.unwatch_listener(lst)
            lst.sock.close()
            self.listeners.remove(lst)
        return self.listen_tcp()

    def make_backend(self, setsize: int):
        """The event loop `io-backend` names.  `auto` takes io_uring where
        the kernel allows it and falls back to epoll with one log line;
        `uring` refused by the kernel (or a build without liburing) is a
        start-up error.  With io-threads > 1, `auto` is a readiness loop."""
        name = self.config.io_backend
        if name == "auto" and self.config.io_threads > 1:
            # I/O threads move bytes for a readiness loop; on io_uring the
            # kernel moves them and the threads would have nothing to do
            name = "epoll" if "epoll" in reactor.available() else "auto"
        if name in ("uring", "auto"):
            reason = uring.available()
            if reason is None:
                try:
                    engine = uring.UringEngine(entries=4096)
                except uring.UringUnavailable as e:
                    reason = str(e)
                else:
                    self.completion = True
                    return engine
            if name == "uring":
                raise ValueError(reason)
            logger.notice(f"{reason}; using epoll instead")
        return reactor.create(name, setsize)

    def watch_listener(self, lst):
        if self.completion:
            self.backend.add_listener(lst.sock, lst)
        else:
            self.backend.register(lst.fd, READABLE, lst)

    def unwatch_listener(self, lst):
        if self.completion:
            self.backend.remove_listener(lst.fd)
            # The kernel keeps the socket listening until the next poll
            # cancels its accept; a rebind to the same port (CONFIG SET
            # port, bind) must not find it still taken.
            try:
                lst.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        else:
            self.backend.unregister(lst.fd)

    # ---- the loop --------------------------------------------------------
    def run(self):
        if self.completion:
            return self.run_completion()
        self.running = True
        backend = self.backend
        next_cron = time.monotonic() + 1.0 / max(1, self.config.hz)
        clients_read = []
        to_read = []        # readable clients for the I/O threads
        iot = self.iothreads
        while self.running:
            self.before_sleep()
            timeout = next_cron - time.monotonic()
            if timeout < 0:
                timeout = 0
            events = backend.poll(timeout)
            self.mstime = clock.now_ms()
            threaded = iot is not None and iot.active and iot.do_reads
            for obj, mask in events:
                if type(obj) is Listener:
                    self.accept(obj)
                    continue
                if mask & READABLE and not obj.closed:
                    if threaded:
                        to_read.append(obj)
                    elif self.read_client(obj):
                        clients_read.append(obj)
                if mask & WRITABLE and not obj.closed:
                    self.write_client(obj)
            if to_read:
                self.read_threaded(to_read, clients_read)
                to_read.clear()
            if clients_read:
                self.execute_read(clients_read)
            next_cron = self.cron_if_due(next_cron)
        self.before_sleep()

    def execute_read(self, clients_read: list):
        """The execute phase: the commands of the clients just read, in order."""
        for c in clients_read:
            if not c.closed:
                self.process_pending(c)
        clients_read.clear()

    def cron_if_due(self, next_cron: float) -> float:
        """Run cron when its time has come; the time of the next one."""
        now = time.monotonic()
        if now < next_cron:
            return next_cron
        self.cron()
        return now + 1.0 / max(1, self.config.hz)

    def run_completion(self):
        """The loop on the io_uring engine: one io_uring_enter a turn
        submits the queued sends and reaps accepts, data and send results;
        the phases around it are those of `run`."""
        self.running = True
        engine = self.backend
        next_cron = time.monotonic() + 1.0 / max(1, self.config.hz)
        clients_read = []
        stats = self.stats
        RECV, SENT, ACCEPT = uring.RECV, uring.SENT, uring.ACCEPT
        while self.running:
            self.before_sleep()
            timeout = next_cron - time.monotonic()
            if timeout < 0:
                timeout = 0
            events = engine.poll(timeout)
            self.mstime = clock.now_ms()
            for obj, kind, value in events:
                if kind == RECV:
                    if not obj.closed and self.took_input(obj, value, None):
                        clients_read.append(obj)
                elif kind == SENT:
                    stats.net_output_bytes += value
                    if not obj.closed:
                        obj.tot_net_out += value
                        if obj.flags & cl.CLOSE_AFTER_REPLY:
                            self.queue_output(obj)      # closes it once drained
                elif kind == ACCEPT:
                    self.accepted_fd(obj, value)
                elif not obj.closed:
                    if kind == uring.CLOSED:
                        if value:
                            logger.verbose(f"Reading from client: {os.strerror(value)}")
                        else:
                            logger.verbose("Client closed connection")
                    else:
                        logger.verbose(f"Error writing to client: {os.strerror(value)}")
                    self.free_client(obj)
            if clients_read:
                self.execute_read(clients_read)
            next_cron = self.cron_if_due(next_cron)
        self.before_sleep()
        engine.poll(0)      # the last replies go out before the close

    def accept(self, lst: Listener):
        for _ in range(1000):   # MAX_ACCEPTS_PER_CALL
            try:
                sock, addr = lst.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                logger.warning(f"Accepting client connection: {e.strerror}")
                return
            self.new_client(lst, sock, addr)

    def accepted_fd(self, lst: Listener, fd: int):
        """A connection the io_uring engine accepted on `lst`."""
        try:
            sock = socket.socket(fileno=fd)
        except OSError:
            os.close(fd)
            return
        try:
            addr = sock.getpeername() if not lst.unix else ""
        except OSError:     # the peer is already gone
            # sock owns fd now: closing both would close a number that the
            # kernel's multishot accept may already have given to another
            sock.close()
            return
        self.new_client(lst, sock, addr)

    def new_client(self, lst: Listener, sock, addr):
        """acceptCommonHandler(): admit the connection or refuse it with
        Redis's error, then watch it for input."""
        self.stats.connections_received += 1
        try:
            listen.prepare_accepted(sock, not lst.unix, self.config.tcp_keepalive)
        except OSError:
            sock.close()
            return
        if lst.unix:
            addr_s, laddr_s = lst.name + ":0", lst.name + ":0"
        else:
            addr_s = listen.format_addr(addr, sock.family)
            try:
                laddr_s = listen.format_addr(sock.getsockname(), sock.family)
            except OSError:
                laddr_s = ""
        if len(self.clients) >= self.config.maxclients:
            self.stats.rejected_connections += 1
            try:
                sock.send(b"-" + MAX_CLIENTS + b"\r\n")
            except OSError:
                pass
            sock.close()
            return
        cfg = self.config
        if (cfg.protected_mode and not cfg.requirepass and not lst.unix
                and not is_local_peer(addr_s)):
            # protected mode: no password, so only loopback may talk to us
            self.stats.rejected_connections += 1
            try:
                sock.send(PROTECTED_MODE_DENIED)
            except OSError:
                pass
            sock.close()
            return
        c = cl.Client(self, sock, addr_s, laddr_s, unix=lst.unix)
        self.clients[c.id] = c
        if self.completion:
            self.backend.add_client(c.fd, c)
        else:
            self.backend.register(c.fd, READABLE, c)

    def read_client(self, c) -> bool:
        """Read what the socket has and parse it; True if commands are ready."""
        parser = c.parser
        want = READ_SIZE
        if parser.need > READ_SIZE:
            want = min(parser.need - parser.pending(), BIG_READ)
            want = max(want, READ_SIZE)
        try:
            data = c.sock.recv(want)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as e:
            logger.verbose(f"Reading from client: {e.strerror}")
            self.free_client(c)
            return False
        if not data:
            logger.verbose("Client closed connection")
            self.free_client(c)
            return False
        return self.took_input(c, data, None)

    def read_threaded(self, batch, clients_read):
        """The read phase on the I/O threads (handleClientsWithPendingReadsUsingThreads)."""
        todo = []
        for c in batch:
            if c.closed:        # a failed write earlier in this turn
                continue
            if c.parser.need > READ_SIZE:
                # a big argument arriving: read straight into its own size
                if self.read_client(c):
                    clients_read.append(c)
            else:
                todo.append(c)
        if not todo:
            return
        for c, data, err, scanned in self.iothreads.read(todo, self.config.proto_max_bulk_len):
            if data is None:
                if err and not iothreads.is_retry(err):
                    logger.verbose(f"Reading from client: {os.strerror(err)}")
                    self.free_client(c)
            elif not data:
                logger.verbose("Client closed connection")
                self.free_client(c)
            elif self.took_input(c, data, scanned):
                clients_read.append(c)

    def took_input(self, c, data: bytes, scanned) -> bool:
        """Account for and parse bytes read; True if commands are ready.
        `scanned` is an I/O thread's scan of `data` (None: scan here)."""
        parser = c.parser
        n = len(data)
        self.stats.net_input_bytes += n
        c.tot_net_in += n
        c.last_interaction = self.mstime
        if scanned is None:
            err = parser.feed_parse(data, c.pending, self.config.proto_max_bulk_len,
                                    c.authenticated)
        else:
            err = parser.feed_prescanned(data, scanned, c.pending,
                                         self.config.proto_max_bulk_len)
        if err is not None:
            c.pending.append(err)
        elif parser.pending() > self.config.client_query_buffer_limit:
            logger.warning("Closing client that reached max query buffer length: "
                           f"id={c.id} addr={c.addr} (qbuf initial bytes: "
                           f"{bytes(parser.buf[parser.pos:parser.pos + 64])!r})")
            self.stats.client_qbuf_limit_disconnections += 1
            self.free_client(c)
            return False
        return bool(c.pending)

    def process_pending(self, c):
        """Execute the client's commands; for a client whose input is parsed
        one command at a time (before AUTH), parse and run the rest too."""
        self.run_pending(c)
        parser = c.parser
        while parser.held and not c.closed and not c.flags & _STOP_FLAGS:
            err = parser.parse(c.pending, self.config.proto_max_bulk_len,
                               c.authenticated)
            if err is not None:
                c.pending.append(err)
            if not c.pending:
                break
            self.run_pending(c)

    def run_pending(self, c):
        """Execute the client's parsed commands until it must stop.

        The common case - a known command with the right arity, from an
        authenticated client outside MULTI - is dispatched inline here;
        everything else goes through dispatch.execute, which applies the
        full processCommand checks.
        """
        if c.flags & cl.BLOCKED:
            return      # its input waits until it is served (blocking.py)
        pending = c.pending
        append = c.reply.append
        commands = COMMANDS
        perf = _perf
        ready = self.ready_keys
        stop = _STOP_FLAGS
        fast = c.authenticated and c.multi is None
        # Each command run inline is timed from the end of the one before,
        # so INFO commandstats' sums include the dispatch overhead and one
        # clock read serves two commands.
        last = None     # the spec that ran last inline (c.last_cmd)
        done = 0        # commands taken from `pending`
        skip = 0        # commands a run handler took beyond the current one
        npending = len(pending)     # a run needs a command after this one
        t0 = perf()
        for argv in pending:
            if skip:
                skip -= 1
                continue
            spec = commands.get(argv[0])
            if fast and spec is not None:
                n = len(argv)
                if n == spec.fast_arity or n >= spec.fast_min_args:
                    done += 1
                    k = 0
                    if (spec.run is not None and done < npending
                            and pending[done][0] == argv[0]
                            and (not spec.run_same_key or (
                                len(pending[done]) > 1 and pending[done][1] == argv[1]))):
                        k = spec.run(c, pending, done - 1, append)
                    if k:
                        done += k - 1
                        skip = k - 1
                    else:
                        k = 1
                        try:
                            r = spec.handler(c, argv)
                        except CommandError as e:
                            spec.failed_calls += 1
                            count_error(self, e.msg)
                            r = b"-" + e.msg + b"\r\n"
                        if r is not None:
                            append(r)
                    t1 = perf()
                    spec.duration_ns += t1 - t0
                    spec.calls += k
                    t0 = t1
                    last = spec
                    if ready:
                        self.serve_blocked()
                    if c.flags & stop:
                        break
                    continue
            if last is not None:
                c.last_cmd = last.fullname
                last = None
            done += 1
            if type(argv) is str:     # a protocol error from the parser
                logger.verbose(f"Protocol error ({argv}) from client: id={c.id} addr={c.addr}")
                reject(c, b"ERR " + argv.encode("latin-1"))
                c.flags |= cl.CLOSE_AFTER_REPLY
                break
            execute(c, argv)
            t0 = perf()
            if ready:
                self.serve_blocked()
            fast = c.authenticated and c.multi is None
            append = c.reply.append     # CLIENT REPLY OFF|SKIP swaps the list
            if c.flags & stop:
                break
        if last is not None:
            c.last_cmd = last.fullname
        self.stats.commands_processed += done
        c.tot_cmds += done
        if c.flags & cl.CLOSE_ASAP:
            # freeClientAsync: gone before anything more is written
            self.free_client(c)
            return
        if done >= len(pending) or c.flags & cl.CLOSE_AFTER_REPLY:
            pending.clear()
        else:
            del pending[:done]
        if c.reply and not c.want_write:
            self.pending_write.append(c)

    # ---- writes ------------------------------------------------------------
    def before_sleep(self):
        for hook in self.hooks_before_sleep:
            hook()
        if THAWED:
            freeze_all()
        pw = self.pending_write
        if pw:
            self.pending_write = []
            iot = self.iothreads
            if iot is not None and iot.should_run(len(pw)):
                self.write_threaded(pw)
                return
            if self.completion:
                for c in pw:
                    if not c.closed:
                        self.queue_output(c)
                return
            for c in pw:
                if not c.closed and not c.want_write:
                    self.write_client(c)

    def write_threaded(self, pw):
        """The write phase on the I/O threads (handleClientsWithPendingWritesUsingThreads).
        A client registered for writability waits for the reactor instead."""
        jobs = []
        seen = set()
        for c in pw:
            if c.closed or c.want_write or c.id in seen:
                continue
            seen.add(c.id)
            out = self.take_output(c)
            if out is not None:
                jobs.append((c, out))
        if not jobs:
            return
        for (c, out), n in zip(jobs, self.iothreads.write(jobs)):
            if n < 0:
                if not iothreads.is_retry(-n):
                    logger.verbose(f"Error writing to client: {os.strerror(-n)}")
                    self.free_client(c)
                    continue
                n = 0
            self.sent(c, out, n)

    def take_output(self, c):
        """The bytes to send next (the rest of a short write, else the queued
        replies joined); None when there are none, after closing a client
        that was only waiting to have its replies written."""
        out = c.out
        if out is None:
            reply = c.reply
            if not reply:
                if c.flags & cl.CLOSE_AFTER_REPLY:
                    self.free_client(c)
                return None
            out = reply[0] if len(reply) == 1 else b"".join(reply)
            reply.clear()
        return out

    def queue_output(self, c):
        """Completion mode's write: the replies go to the engine's queue for
        the socket, which sends them in order in the background."""
        reply = c.reply
        if reply:
            out = reply[0] if len(reply) == 1 else b"".join(reply)
            reply.clear()
            self.backend.send(c.fd, out)
        elif c.flags & cl.CLOSE_AFTER_REPLY and not self.backend.queued_bytes(c.fd):
            self.free_client(c)

    def write_client(self, c):
        out = self.take_output(c)
        if out is None:
            return
        try:
            n = c.sock.send(out)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError as e:
            logger.verbose(f"Error writing to client: {e.strerror}")
            self.free_client(c)
            return
        self.sent(c, out, n)

    def sent(self, c, out, n: int):
        """After `n` bytes of `out` went out: queue the rest, or finish."""
        self.stats.net_output_bytes += n
        c.tot_net_out += n
        if n < len(out):
            c.out = memoryview(out)[n:]
            if not c.want_write:
                c.want_write = True
                self.backend.modify(c.fd, READABLE | WRITABLE, c)
            return
        c.out = None
        if c.reply:
            # more replies queued while this one was pending
            self.write_client(c)
            return
        if c.want_write:
            c.want_write = False
            self.backend.modify(c.fd, READABLE, c)
        if c.flags & cl.CLOSE_AFTER_REPLY:
            self.free_client(c)

    def free_client(self, c):
        if c.closed:
            return
        c.closed = True
        if c.watching:
            unwatch_all(c)
        for hook in self.hooks_client_freed:
            hook(c)
        self.clients.pop(c.id, None)
        if c.sock is not None:
            if self.completion:
                self.backend.remove_client(c.fd)
            else:
                self.backend.unregister(c.fd)
            try:
                c.sock.close()
            except OSError:
                pass

    # ---- cron ------------------------------------------------------------------
    def cron(self):
        self.cronloops += 1
        for hook in self.hooks_cron:
            hook()
        timeout = self.config.timeout
        if timeout:
            limit = clock.now_ms() - timeout * 1000
            for c in list(self.clients.values()):
                if c.last_interaction < limit and c.blocked is None and c.kind == "normal":
                    logger.verbose("Closing idle client")
                    self.free_client(c)
        if self.shutdown_asap:
            self.running = False

    # ---- shutdown ----------------------------------------------------------------
    def request_shutdown(self, signum=None, frame=None):
        if signum is not None:
            # sigShutdownHandler(): a second Ctrl+C means "now, don't wait"
            if self.shutdown_asap and signum == signal.SIGINT:
                logger.from_handler("You insist... exiting now.")
                os._exit(1)
            msg = {signal.SIGINT: "Received SIGINT scheduling shutdown...",
                   signal.SIGTERM: "Received SIGTERM scheduling shutdown..."}.get(
                       signum, "Received shutdown signal, scheduling shutdown...")
            logger.from_handler(msg)
        self.shutdown_asap = True

    def close(self):
        logger.warning("User requested shutdown...")
        for c in list(self.clients.values()):
            self.free_client(c)
        if self.config.pidfile:
            logger.notice("Removing the pid file.")
            try:
                os.unlink(self.config.pidfile)
            except OSError:
                pass
        for lst in self.listeners:
            self.unwatch_listener(lst)
            lst.sock.close()
            if lst.unix:
                logger.notice("Removing the unix socket file.")
                try:
                    os.unlink(lst.name)
                except OSError as e:
                    logger.warning(f"Error removing the unix socket file: {e.strerror}")
        self.listeners = []
        if self.iothreads is not None:
            self.iothreads.close()
            self.iothreads = None
        logger.warning("Redis is now ready to exit, bye bye...")

    def serve_forever(self, on_ready=None):
        """Listen, run the loop until shutdown, then close.

        `on_ready(server)` runs once the listeners are open (cli.announce:
        pid file, the start-up log lines).
        """
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, self.request_shutdown)
        signal.signal(signal.SIGINT, self.request_shutdown)
        self.config.server = self
        self.listen()
        try:
            if self.completion and self.config.io_threads > 1:
                # the kernel already moves the bytes: no thread would have work
                logger.notice("io-threads is not used with the io_uring backend")
            else:
                self.iothreads = iothreads.create(self.config, READ_SIZE)
        except RuntimeError as e:
            logger.warning(str(e))
            raise SystemExit(1)
        if on_ready is not None:
            on_ready(self)
        try:
            self.run()
        finally:
            self.close()
