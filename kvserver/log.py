"""Logging in Redis's format: `pid:role dd Mon yyyy hh:mm:ss.mmm <level> msg`.

Levels and their marks are Redis's: debug '.', verbose '-', notice '*',
warning '#'.  Output goes to stdout, or appended to `logfile` when set.
"""

import os
import sys
import time

LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
_MARKS = ".-*#"


class Logger:
    def __init__(self):
        self.level = LEVELS["notice"]
        self.path = ""
        self.role = "M"
        self._fh = sys.stdout

    def configure(self, level: str, path: str):
        self.level = LEVELS[level]
        if path != self.path:
            if self._fh is not sys.stdout:
                self._fh.close()
            self.path = path
            self._fh = open(path, "a", buffering=1) if path else sys.stdout

    def log(self, level: int, msg: str, raw: bool = False):
        if level < self.level:
            return
        if raw:
            line = msg
        else:
            now = time.time()
            ms = int(now * 1000) % 1000
            stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now))
            line = f"{os.getpid()}:{self.role} {stamp}.{ms:03d} {_MARKS[level]} {msg}"
        try:
            self._fh.write(line + "\n")
            self._fh.flush()
        except (OSError, ValueError):
            pass

    def debug(self, msg):
        self.log(0, msg)

    def verbose(self, msg):
        self.log(1, msg)

    def notice(self, msg):
        self.log(2, msg)

    def warning(self, msg):
        self.log(3, msg)


logger = Logger()
