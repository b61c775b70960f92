"""redis-server's command line and process life: `kvserver [redis.conf] [--opt val ...] [-]`.

The command line is read exactly as redis-server 7.0's main() reads it: a
first argument not starting with '-' names the config file; every
`--name` starts a new config line and the arguments after it are quoted
onto that line; a lone '-' first or last reads more config from stdin.  The
file, then stdin, then those lines are parsed as one redis.conf text, so a
bad option is reported the way a bad file line is, and redis-server's exit
status (1) and FATAL CONFIG FILE ERROR block are reproduced byte for byte.

Then the process is set up the way Redis sets itself up: supervision,
daemonize (double fork, setsid, stdio to /dev/null), the start-up log
lines, the pid file, CPU affinity, oom_score_adj, the open files limit.
"""

import errno
import hashlib
import os
import sys

from kvserver import REDIS_VERSION, __version__
from kvserver.config import DEFAULT_PIDFILE, Config, ConfigFatal, sds_repr
from kvserver.log import logger
from kvserver.net.reactor import MIN_RESERVED_FDS

PROG = "kvserver"


def build_id() -> str:
    """A stable id of this build, as `build=` in redis-server --version."""
    text = f"kvserver-{__version__}-{sys.version}-{sys.platform}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def version_line() -> str:
    # The leading fields are Redis's, so tools parsing `v=` see 7.0.15;
    # what is really running is said at the end.
    py = ".".join(str(x) for x in sys.version_info[:3])
    return (f"Redis server v={REDIS_VERSION} sha=00000000:0 malloc=libc "
            f"bits={64 if sys.maxsize > 2**32 else 32} build={build_id()} "
            f"kvserver={__version__} python={py}")


USAGE = f"""\
Usage: {PROG} [/path/to/redis.conf] [options] [-]
       {PROG} - (read config from stdin)
       {PROG} -v or --version
       {PROG} -h or --help

Examples:
       {PROG} (run the server with default conf)
       echo 'maxmemory 128mb' | {PROG} -
       {PROG} /etc/redis/6379.conf
       {PROG} --port 7777
       {PROG} /etc/myredis.conf --loglevel verbose -
       {PROG} /etc/myredis.conf --loglevel verbose

kvserver {__version__} speaks the Redis {REDIS_VERSION} protocol and reads redis.conf.
"""


def options_text(args: list[str]) -> tuple[str | None, bool, bytes]:
    """Split the command line the way redis-server's main() does.

    Returns (config file or None, read stdin?, the options as config text).
    """
    bargs = [os.fsencode(a) for a in args]
    argc = len(bargs) + 1          # counting argv[0], as main() does
    j = 1
    configfile = None
    from_stdin = False
    options = b""
    if bargs and not bargs[0].startswith(b"-"):
        configfile = args[0]
        j = 2
    handled_last_arg = True
    from kvserver.net.resp import split_args
    while j < argc:
        a = bargs[j - 1]
        if a == b"-" and (j == 1 or j == argc - 1):
            from_stdin = True
        elif handled_last_arg and a.startswith(b"--"):
            if options:
                options += b"\n"
            options += a[2:] + b" "
            words = split_args(a)
            if words is not None and len(words) == 1:
                # only a name: its value follows as the next argument
                handled_last_arg = False
                nxt = bargs[j] if j != argc - 1 else None
                if a.lower() == b"--save":
                    # `--save --other x` and a trailing `--save` mean save ""
                    if nxt is None:
                        options += b'""'
                    elif nxt.startswith(b"--"):
                        options += b'""'
                        handled_last_arg = True
            else:
                handled_last_arg = True
        else:
            options += sds_repr(a) + b" "
            handled_last_arg = True
        j += 1
    return configfile, from_stdin, options


def fatal_config(e: ConfigFatal):
    """Report a configuration error as redis-server does, then exit 1."""
    if e.logged:
        logger.warning(e.msg)
        sys.exit(1)
    out = sys.stderr.buffer
    out.write(b"\n*** FATAL CONFIG FILE ERROR (Redis %s) ***\n" % REDIS_VERSION.encode())
    if e.linenum is not None:
        out.write(b"Reading the configuration file, at line %d\n" % e.linenum)
        out.write(b">>> '" + e.line + b"'\n")
    out.write(e.msg.encode("utf-8", "surrogateescape") + b"\n")
    out.flush()
    sys.exit(1)


def load_config(args: list[str]) -> Config:
    cfg = Config()
    if not args:
        return cfg
    if "--sentinel" in args:
        sys.stderr.write("kvserver does not implement Redis Sentinel (--sentinel).\n")
        sys.exit(1)
    configfile, from_stdin, options = options_text(args)
    if configfile is not None:
        configfile = os.path.abspath(configfile)
        cfg.config_file = configfile
    try:
        cfg.load(configfile, _read_stdin if from_stdin else None, options)
    except ConfigFatal as e:
        fatal_config(e)
    return cfg


def _read_stdin() -> bytes:
    logger.warning("Reading config from stdin")
    return sys.stdin.buffer.read()


# ---- process set-up --------------------------------------------------------

def daemonize():
    """Detach: fork twice with setsid between, stdio to /dev/null."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.fork() != 0:
        os._exit(0)
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    fd = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(fd, target)
    if fd > 2:
        os.close(fd)


def supervised(cfg: Config) -> bool:
    """redisIsSupervised(): upstart stops itself, systemd gets a status."""
    mode = cfg.supervised
    if mode == "auto":
        if os.environ.get("UPSTART_JOB"):
            logger.verbose("Upstart supervision detected.")
            mode = "upstart"
        elif os.environ.get("NOTIFY_SOCKET"):
            logger.verbose("Systemd supervision detected.")
            mode = "systemd"
    if mode == "upstart":
        if not os.environ.get("UPSTART_JOB"):
            logger.warning("upstart supervision requested, but UPSTART_JOB not found!")
            return False
        logger.notice("supervised by upstart, will stop to signal readiness.")
        import signal
        os.kill(os.getpid(), signal.SIGSTOP)
        del os.environ["UPSTART_JOB"]
        cfg.supervised_mode = "upstart"
        return True
    if mode == "systemd":
        if notify_systemd("STATUS=Redis is loading...\n") <= 0:
            return False
        logger.notice("Supervised by systemd. Please make sure you set appropriate values "
                      "for TimeoutStartSec and TimeoutStopSec in your service unit.")
        cfg.supervised_mode = "systemd"
        return True
    return False


def notify_systemd(msg: str) -> int:
    """sd_notify(): one datagram to $NOTIFY_SOCKET; 0 when not under systemd."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return 0
    import socket
    if path.startswith("@"):
        path = "\0" + path[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(path)
            return s.send(msg.encode())
    except OSError as e:
        logger.warning(f"Can't send notification to systemd: {e.strerror}")
        return -1


def _rlimit_error(e: Exception) -> str:
    """strerror() of a failed setrlimit(), as Redis logs it.  CPython turns
    EPERM and EINVAL into ValueErrors with texts of its own."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    text = str(e)
    if text == "not allowed to raise maximum limit":
        return os.strerror(errno.EPERM)
    if text == "current limit exceeds maximum limit":
        return os.strerror(errno.EINVAL)
    return text


def adjust_open_files_limit(cfg: Config):
    """adjustOpenFilesLimit(): raise RLIMIT_NOFILE to maxclients + 32, or as
    close to it as the hard limit lets it (down 16 at a time), and lower
    maxclients to what the limit allows.  The log lines are Redis's."""
    import resource
    maxfiles = cfg.maxclients + MIN_RESERVED_FDS
    try:
        old, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError) as e:
        logger.warning(f"Unable to obtain the current NOFILE limit ({_rlimit_error(e)}), "
                       "assuming 1024 and setting the max clients configuration accordingly.")
        cfg.maxclients = 1024 - MIN_RESERVED_FDS
        return
    if old == resource.RLIM_INFINITY or old >= maxfiles:
        return
    best = maxfiles
    error = ""
    while best > old:
        try:
            # soft and hard alike, as Redis sets them
            resource.setrlimit(resource.RLIMIT_NOFILE, (best, best))
            break
        except (OSError, ValueError) as e:
            error = _rlimit_error(e)
        if best < 16:
            best = old
            break
        best -= 16
    # the initial limit still holds if the last try was even lower
    if best < old:
        best = old
    if best < maxfiles:
        wanted = cfg.maxclients
        if best <= MIN_RESERVED_FDS:
            logger.warning(f"Your current 'ulimit -n' of {old} is not enough for the server "
                           f"to start. Please increase your open file limit to at least "
                           f"{maxfiles}. Exiting.")
            sys.exit(1)
        cfg.maxclients = best - MIN_RESERVED_FDS
        logger.warning(f"You requested maxclients of {wanted} requiring at least {maxfiles} "
                       "max file descriptors.")
        logger.warning(f"Server can't set maximum open files to {maxfiles} because of OS "
                       f"error: {error}.")
        logger.warning(f"Current maximum open files is {best}. maxclients has been reduced "
                       f"to {cfg.maxclients} to compensate for low ulimit. If you need higher "
                       "maxclients increase 'ulimit -n'.")
    else:
        logger.notice(f"Increased maximum number of open files to {maxfiles} (it was "
                      f"originally set to {old}).")


_oom_base = None      # oom_score_adj before kvserver changed it


def set_oom_score_adj(cfg: Config) -> bool:
    """setOOMScoreAdj(): apply oom-score-adj / -values; False on failure."""
    global _oom_base
    path = "/proc/self/oom_score_adj"
    if cfg.oom_score_adj != "no":
        if _oom_base is None:
            try:
                with open(path) as f:
                    _oom_base = int(f.read().strip() or 0)
            except (OSError, ValueError) as e:
                logger.warning(f"Unable to read oom_score_adj: {getattr(e, 'strerror', e)}")
                return False
        val = cfg.oom_score_adj_values[0]
        if cfg.oom_score_adj == "yes":      # relative
            val += _oom_base
        val = max(-1000, min(1000, val))
    elif _oom_base is not None:
        val = _oom_base
        _oom_base = None
    else:
        return True
    try:
        with open(path, "w") as f:
            f.write(f"{val}\n")
    except OSError as e:
        logger.warning(f"Unable to write oom_score_adj: {e.strerror}")
        return False
    return True


def parse_cpulist(text: str) -> set[int] | None:
    """setcpuaffinity.c's list syntax: '0,2-5,8-15:2'."""
    cpus = set()
    for part in text.split(","):
        step = 1
        if ":" in part:
            part, s = part.split(":", 1)
            if not s.isdigit() or int(s) == 0:
                return None
            step = int(s)
        if "-" in part:
            a, b = part.split("-", 1)
        else:
            a = b = part
        if not a.isdigit() or not b.isdigit() or int(a) > int(b):
            return None
        cpus.update(range(int(a), int(b) + 1, step))
    return cpus


def set_cpu_affinity(cpulist: str):
    if not cpulist or not hasattr(os, "sched_setaffinity"):
        return
    cpus = parse_cpulist(cpulist)
    if cpus:
        try:
            os.sched_setaffinity(0, cpus)
        except OSError:
            pass


def disable_thp():
    """prctl(PR_SET_THP_DISABLE): fork-heavy servers suffer from huge pages."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(41, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


_crash_log_file = None


def enable_crash_log(cfg: Config):
    """crash-log-enabled: Python's fault handler, into the log file when there is one."""
    global _crash_log_file
    import faulthandler
    if not cfg.crash_log_enabled:
        return
    if cfg.logfile:
        try:
            _crash_log_file = open(cfg.logfile, "a")
            faulthandler.enable(_crash_log_file)
            return
        except OSError:
            pass
    faulthandler.enable()


def write_pidfile(cfg: Config):
    if not cfg.pidfile:
        cfg.pidfile = DEFAULT_PIDFILE
    try:
        with open(cfg.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    except OSError as e:
        logger.warning(f"Failed to write PID file: {e.strerror}")


def check_tcp_backlog(cfg: Config):
    try:
        with open("/proc/sys/net/core/somaxconn") as f:
            somaxconn = int(f.readline().strip() or 0)
    except (OSError, ValueError):
        return
    if 0 < somaxconn < cfg.tcp_backlog:
        logger.warning(f"WARNING: The TCP backlog setting of {cfg.tcp_backlog} cannot be "
                       "enforced because /proc/sys/net/core/somaxconn is set to the lower "
                       f"value of {somaxconn}.")


def show_logo(cfg: Config, port: int):
    py = ".".join(str(x) for x in sys.version_info[:3])
    logo = (
        "\n"
        "     _                                   \n"
        "    | | ____   _____  ___ _ ____   _____ _ __     kvserver %s\n"
        "    | |/ /\\ \\ / / __|/ _ \\ '__\\ \\ / / _ \\ '__|    Redis %s compatible, %d bit\n"
        "    |   <  \\ V /\\__ \\  __/ |   \\ V /  __/ |       Python %s\n"
        "    |_|\\_\\  \\_/ |___/\\___|_|    \\_/ \\___|_|       Running in standalone mode\n"
        "                                                  Port: %d\n"
        "                                                  PID: %d\n\n"
    ) % (__version__, REDIS_VERSION, 64 if sys.maxsize > 2**32 else 32, py, port, os.getpid())
    logger.log(2, logo, raw=True)


def announce(server):
    """What Redis does between initServer() and aeMain()."""
    cfg = server.config
    background = cfg.daemonize and not cfg.supervised_mode
    if background or cfg.pidfile:
        write_pidfile(cfg)
    want_logo = ((not cfg.syslog_enabled and not cfg.logfile and sys.stdout.isatty())
                 or cfg.always_show_logo)
    if want_logo:
        show_logo(cfg, cfg.port)
    else:
        logger.notice(f"Running mode=standalone, port={cfg.port}.")
    check_tcp_backlog(cfg)
    logger.warning("Server initialized")
    if cfg.disable_thp:
        disable_thp()
    if any(not lst.unix for lst in server.listeners):
        logger.notice("Ready to accept connections")
    if cfg.unixsocket:
        logger.notice(f"The server is now ready to accept connections at {cfg.unixsocket}")
    if cfg.supervised_mode == "systemd":
        notify_systemd("STATUS=Ready to accept connections\n")
        notify_systemd("READY=1\n")
    if 0 < cfg.maxmemory < 1024 * 1024:
        logger.warning("WARNING: You specified a maxmemory value that is less than 1MB "
                       f"(current value is {cfg.maxmemory} bytes). Are you sure this is "
                       "what you really want?")
    set_cpu_affinity(cfg.server_cpulist)
    set_oom_score_adj(cfg)


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args:
        if args[0] in ("-v", "--version"):
            print(version_line())
            return 0
        if args[0] in ("--help", "-h"):
            sys.stderr.write(USAGE)
            return 1
    cfg = load_config(args)
    is_supervised = supervised(cfg)
    if cfg.daemonize and not is_supervised:
        daemonize()
    logger.configure(cfg)
    logger.warning("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo")
    logger.warning(f"Redis version={REDIS_VERSION}, bits={64 if sys.maxsize > 2**32 else 32}, "
                   f"commit=00000000, modified=0, pid={os.getpid()}, just started")
    py = ".".join(str(x) for x in sys.version_info[:3])
    logger.warning(f"kvserver version={__version__}, python={py}, "
                   f"implementing Redis {REDIS_VERSION}")
    if not args:
        logger.warning("Warning: no config file specified, using the default config. In "
                       f"order to specify a config file use {PROG} /path/to/redis.conf")
    else:
        logger.warning("Configuration loaded")

    from kvserver.server import Server
    server = Server(cfg)
    cfg.server = server
    logger.server_started()
    adjust_open_files_limit(cfg)     # initServer(): before the clock line and the event loop
    logger.notice("monotonic clock: POSIX clock_gettime")
    enable_crash_log(cfg)
    server.serve_forever(on_ready=announce)
    return 0
