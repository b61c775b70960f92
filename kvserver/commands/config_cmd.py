"""CONFIG GET / SET / RESETSTAT / REWRITE / HELP (config.c).

GET takes several glob patterns and answers a map (RESP3) or a flat array
of name/value pairs, each directive once.  A pattern-free name is looked up
as typed (case-insensitively) and answered under the name as typed, hidden
directives included; a pattern walks the registered names (aliases too, as
Redis 7.0 lists both list-max-listpack-size and list-max-ziplist-size) with
Redis's case-insensitive stringmatch.  SET is all or nothing: every name is
checked first, then every value set, then the apply hooks (rebinding the
listeners, the log level...) run; on any failure all values are restored.
"""

from kvserver import config as conf
from kvserver import errors
from kvserver.commands.table import all_commands, container, subcommand
from kvserver.errors import CommandError
from kvserver.glob import compile_glob
from kvserver.log import logger
from kvserver.net import client as cl
from kvserver.net.resp import OK, bulk, map_header

_SERVER = {"group": "server"}
_ADMIN = "admin noscript loading stale"
_ADMIN_ACL = "@admin @slow @dangerous"

container("config", -2, acl="@slow",
          summary="A container for server configuration commands", since="2.0.0",
          complexity="Depends on subcommand.", **_SERVER)


# --- CONFIG GET ------------------------------------------------------------------

_REGISTERED = [(conf.fs(name), name, conf.BY_NAME[name]) for name in conf.ALL_NAMES]


@subcommand("config", "get", -3, _ADMIN, acl=_ADMIN_ACL,
            summary="Get the values of configuration parameters", since="2.0.0",
            complexity="O(N) when N is the number of configuration parameters provided",
            history=(("7.0.0", "Added the ability to pass multiple pattern parameters "
                               "in one call"),),
            args="(parameter) [(parameter) ...]", **_SERVER)
def config_get(c, argv):
    cfg = c.server.config
    matches = {}     # lower-cased name -> (name as answered, directive)
    for pat in argv[2:]:
        if not (b"*" in pat or b"?" in pat or b"[" in pat):
            name = conf.sd(pat)
            key = name.lower()
            if key in matches:
                continue
            d = conf.BY_NAME.get(key)
            if d is not None:
                matches[key] = (pat, d)
            continue
        match = compile_glob(pat, nocase=True)
        for bname, name, d in _REGISTERED:
            if d.flags & conf.HIDDEN or name in matches:
                continue
            if match(bname):
                matches[name] = (bname, d)
    out = [map_header(len(matches), c.resp)]
    for bname, d in matches.values():
        out.append(bulk(bname))
        out.append(bulk(conf.fs(cfg.get_text(d))))
    return b"".join(out)


# --- CONFIG SET ----------------------------------------------------------------------

def _is_local(c) -> bool:
    """islocalClient(): unix socket, or a loopback peer."""
    return bool(c.flags & cl.UNIX_SOCKET) or conf.is_local_peer(c.addr)


@subcommand("config", "set", -4, _ADMIN, acl=_ADMIN_ACL,
            tips=("request_policy:all_nodes", "response_policy:all_succeeded"),
            summary="Set configuration parameters to the given values", since="2.0.0",
            complexity="O(N) when N is the number of configuration parameters provided",
            history=(("7.0.0", "Added the ability to set multiple parameters in one call."),),
            args="(parameter value) [(parameter value) ...]", **_SERVER)
def config_set(c, argv):
    if len(argv) & 1:
        raise CommandError(errors.SYNTAX)
    pairs = [(conf.sd(argv[i]), conf.sd(argv[i + 1])) for i in range(2, len(argv), 2)]
    try:
        c.server.config.set_many(pairs, local_client=_is_local(c))
    except conf.ConfigError as e:
        raise CommandError(b"ERR " + errors.sanitize(conf.fs(e.msg)))
    return OK


# --- CONFIG RESETSTAT ------------------------------------------------------------

@subcommand("config", "resetstat", 2, _ADMIN, acl=_ADMIN_ACL,
            summary="Reset the stats returned by INFO", since="2.0.0",
            complexity="O(1)", args="", **_SERVER)
def config_resetstat(c, argv):
    reset_stats(c.server)
    return OK


def reset_stats(server):
    """resetServerStats() + resetCommandTableStats() + resetErrorTableStats()."""
    server.stats.reset()
    server.keyspace.stats.reset()
    server.errorstats.clear()
    for spec in all_commands():
        spec.reset_stats()
    for hook in server.hooks_resetstat:
        hook()


# --- CONFIG REWRITE ----------------------------------------------------------------

@subcommand("config", "rewrite", 2, _ADMIN, acl=_ADMIN_ACL,
            summary="Rewrite the configuration file with the in memory configuration",
            since="2.8.0", complexity="O(1)", args="", **_SERVER)
def config_rewrite(c, argv):
    import os
    cfg = c.server.config
    if cfg.config_file is None:
        raise CommandError(errors.NO_CONFIG_FILE)
    umask = os.umask(0)
    os.umask(umask)
    try:
        cfg.rewrite(cfg.config_file, umask)
    except OSError as e:
        why = e.strerror or str(e)
        logger.warning(f"CONFIG REWRITE failed: {why}")
        raise CommandError(b"ERR Rewriting config file: " + conf.fs(why))
    logger.warning("CONFIG REWRITE executed with success.")
    return OK


# --- CONFIG HELP ------------------------------------------------------------------

_HELP = (
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
)
_HELP_REPLY = (b"*%d\r\n" % len(_HELP)) + b"".join(b"+" + line.encode() + b"\r\n"
                                                    for line in _HELP)


@subcommand("config", "help", 2, "loading stale", acl="@slow",
            summary="Show helpful text about the different subcommands", since="5.0.0",
            complexity="O(1)", args="", **_SERVER)
def config_help(c, argv):
    return _HELP_REPLY
