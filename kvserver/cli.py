"""redis-server style command line: kvserver [config file] [--directive value ...]."""

import sys

from kvserver import REDIS_VERSION, __version__
from kvserver.config import Config, ConfigError
from kvserver.log import logger


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cfg = Config()
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and i + 1 < len(argv):
            try:
                cfg.set(a[2:], argv[i + 1], startup=True)
            except ConfigError as e:
                print(f"FATAL CONFIG: {a} {argv[i+1]}: {e}", file=sys.stderr)
                return 1
            i += 2
        else:
            i += 1
    from kvserver.server import Server
    logger.configure(cfg.loglevel, cfg.logfile)
    server = Server(cfg)
    server.serve_forever()
    return 0
