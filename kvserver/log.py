"""Logging in Redis's format: `pid:role dd Mon yyyy hh:mm:ss.mmm <mark> msg`.

Levels and their marks are Redis's: debug '.', verbose '-', notice '*',
warning '#'.  As serverLogRaw() does, a message below `loglevel` costs one
comparison; otherwise the line goes to stdout, or is appended to `logfile`
(opened for each line, so logrotate may move the file at any time), and to
syslog when syslog-enabled.  Messages are cut at 1023 bytes (LOG_MAX_LEN).

The role is 'C' until the server process is initialised (and in any other
process forked from it), then 'M', exactly as Redis marks its lines.
"""

import os
import sys
import time

DEBUG, VERBOSE, NOTICE, WARNING = 0, 1, 2, 3
LEVELS = {"debug": DEBUG, "verbose": VERBOSE, "notice": NOTICE, "warning": WARNING}
_MARKS = ".-*#"
LOG_MAX_LEN = 1024


class Logger:
    def __init__(self):
        self.level = NOTICE
        self.path = ""
        self.server_pid = 0        # set when the server is initialised
        self.syslog = None         # the syslog module while syslog-enabled
        self._syslog_prio = ()

    # ---- configuration ----------------------------------------------------
    def set_level(self, name: str):
        self.level = LEVELS[name]

    def configure(self, config):
        """Take loglevel, logfile and the syslog settings from a Config."""
        self.level = LEVELS[config.loglevel]
        self.path = config.logfile
        if config.syslog_enabled and self.syslog is None:
            import syslog
            facility = getattr(syslog, "LOG_" + config.syslog_facility.upper())
            syslog.openlog(config.syslog_ident, syslog.LOG_PID | syslog.LOG_NDELAY
                           | syslog.LOG_NOWAIT, facility)
            self.syslog = syslog
            self._syslog_prio = (syslog.LOG_DEBUG, syslog.LOG_INFO, syslog.LOG_NOTICE,
                                 syslog.LOG_WARNING)

    def server_started(self):
        self.server_pid = os.getpid()

    # ---- output ---------------------------------------------------------------
    def _write(self, data: bytes):
        try:
            if self.path:
                with open(self.path, "ab") as f:
                    f.write(data)
            else:
                out = sys.stdout.buffer
                out.write(data)
                out.flush()
        except (OSError, ValueError):
            pass

    def log(self, level: int, msg: str, raw: bool = False):
        if level < self.level:
            return
        data = msg.encode("utf-8", "surrogateescape")[:LOG_MAX_LEN - 1]
        if raw:
            self._write(data)
        else:
            now = time.time()
            pid = os.getpid()
            role = "M" if pid == self.server_pid else "C"
            stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now))
            head = "%d:%s %s.%03d %s " % (pid, role, stamp, int(now * 1000) % 1000, _MARKS[level])
            self._write(head.encode() + data + b"\n")
        if self.syslog is not None:
            self.syslog.syslog(self._syslog_prio[level], msg)

    def from_handler(self, msg: str, level: int = WARNING):
        """serverLogFromHandler(): the terse line Redis writes from a signal handler."""
        if level < self.level:
            return
        self._write(b"%d:signal-handler (%d) %s\n" % (os.getpid(), int(time.time()),
                                                       msg.encode()))

    def debug(self, msg):
        if self.level <= DEBUG:
            self.log(DEBUG, msg)

    def verbose(self, msg):
        if self.level <= VERBOSE:
            self.log(VERBOSE, msg)

    def notice(self, msg):
        self.log(NOTICE, msg)

    def warning(self, msg):
        self.log(WARNING, msg)


logger = Logger()
