"""Every configuration directive: name, type, default, bounds, mutability.

Values live as attributes named after the directive with '-' turned into
'_' (`config.proto_max_bulk_len`), so the hot path reads them directly.
`Config.set()` is the single entry for redis.conf lines, `--directive`
arguments and CONFIG SET; it validates, converts and stores, and returns
nothing or raises `ConfigError` with Redis's wording.
"""


class ConfigError(Exception):
    pass


class Directive:
    __slots__ = ("name", "kind", "default", "min", "max", "mutable", "aliases",
                 "choices", "attr", "on_change")

    def __init__(self, name, kind, default, min=None, max=None, mutable=True,
                 aliases=(), choices=None, on_change=None):
        self.name = name
        self.kind = kind            # int, memory, bool, string, enum
        self.default = default
        self.min = min
        self.max = max
        self.mutable = mutable
        self.aliases = aliases
        self.choices = choices
        self.attr = name.replace("-", "_")
        self.on_change = on_change


LLONG_MAX = 2**63 - 1

DIRECTIVES = [
    Directive("port", "int", 6379, 0, 65535, mutable=True),
    Directive("bind", "string", "* -::*"),
    Directive("unixsocket", "string", "", mutable=False),
    Directive("unixsocketperm", "octal", 0, 0, 0o777, mutable=False),
    Directive("tcp-backlog", "int", 511, 0, 2**31 - 1, mutable=False),
    Directive("tcp-keepalive", "int", 300, 0, 2**31 - 1),
    Directive("timeout", "int", 0, 0, 2**31 - 1),
    Directive("maxclients", "int", 10000, 1, 2**31 - 1),
    Directive("databases", "int", 16, 1, 2**31 - 1, mutable=False),
    Directive("hz", "int", 10, 0, 2**31 - 1),
    Directive("loglevel", "enum", "notice",
              choices=("debug", "verbose", "notice", "warning", "nothing")),
    Directive("logfile", "string", "", mutable=False),
    Directive("pidfile", "string", ""),
    Directive("daemonize", "bool", False, mutable=False),
    Directive("dir", "string", ""),
    Directive("requirepass", "string", ""),
    Directive("protected-mode", "bool", True),
    Directive("proto-max-bulk-len", "memory", 512 * 1024 * 1024, 1024 * 1024,
              LLONG_MAX),
    Directive("client-query-buffer-limit", "memory", 1024 * 1024 * 1024,
              1024 * 1024, LLONG_MAX),
    Directive("enable-debug-command", "enum", "no", mutable=False,
              choices=("no", "yes", "local")),
    Directive("io-backend", "enum", "auto", mutable=False,
              choices=("auto", "epoll", "poll", "select")),
    Directive("save", "string", ""),
    Directive("appendonly", "bool", False),
]

BY_NAME = {}
for _d in DIRECTIVES:
    BY_NAME[_d.name] = _d
    for _a in _d.aliases:
        BY_NAME[_a] = _d

_MEM_UNITS = {"k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
              "g": 1000**3, "gb": 1024**3, "b": 1, "": 1}


def parse_memory(text: str) -> int | None:
    """memtoull(): '1gb', '100mb', '5k'... None when malformed."""
    t = text.lower()
    i = len(t)
    while i > 0 and t[i - 1].isalpha():
        i -= 1
    num, unit = t[:i], t[i:]
    if unit not in _MEM_UNITS or not num or not num.lstrip("-").isdigit():
        return None
    return int(num) * _MEM_UNITS[unit]


class Config:
    def __init__(self):
        for d in DIRECTIVES:
            setattr(self, d.attr, d.default)
        self.config_file = ""

    def set(self, name: str, value: str, startup: bool = False):
        d = BY_NAME.get(name.lower())
        if d is None:
            raise ConfigError("Bad directive or wrong number of arguments")
        if not startup and not d.mutable:
            raise ConfigError(f"can't set immutable config")
        v = self._convert(d, value)
        old = getattr(self, d.attr)
        setattr(self, d.attr, v)
        if d.on_change is not None and v != old:
            d.on_change(self, old)

    def _convert(self, d: Directive, value: str):
        k = d.kind
        if k == "bool":
            lv = value.lower()
            if lv not in ("yes", "no"):
                raise ConfigError("argument must be 'yes' or 'no'")
            return lv == "yes"
        if k in ("int", "memory", "octal"):
            if k == "memory":
                v = parse_memory(value)
            elif k == "octal":
                try:
                    v = int(value, 8)
                except ValueError:
                    v = None
            else:
                try:
                    v = int(value)
                except ValueError:
                    v = None
            if v is None:
                raise ConfigError("argument couldn't be parsed into an integer")
            if (d.min is not None and v < d.min) or (d.max is not None and v > d.max):
                raise ConfigError(f"argument must be between {d.min} and {d.max} inclusive")
            return v
        if k == "enum":
            lv = value.lower()
            if lv not in d.choices:
                raise ConfigError("argument(s) must be one of the following: "
                                  + ", ".join(d.choices))
            return lv
        return value

    def get_text(self, d: Directive) -> str:
        v = getattr(self, d.attr)
        if d.kind == "bool":
            return "yes" if v else "no"
        if d.kind == "octal":
            return "%o" % v
        return str(v)
