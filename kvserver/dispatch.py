"""processCommand(): from an argument vector to a reply on the client.

Order of checks follows Redis 7.0's processCommand: lookup, arity, auth,
then MULTI queueing, then the call.  Handlers return encoded reply bytes or
raise CommandError; this is the only place replies for errors are encoded
and counted (INFO errorstats, commandstats failed/rejected calls).
"""

import time

from kvserver import errors
from kvserver.commands.table import COMMANDS, Flag
from kvserver.errors import CommandError
from kvserver.log import logger
from kvserver.net import client as cl

_perf = time.perf_counter_ns
_NO_AUTH = Flag.NO_AUTH
_NO_MULTI = Flag.NO_MULTI
# an int, so the test costs an attribute read instead of an enum operation
_PROTECTED = Flag.PROTECTED.value
# commands that run immediately instead of being queued inside MULTI
_MULTI_IMMEDIATE = {"exec", "discard", "multi", "watch", "quit", "reset"}


def count_error(server, msg: bytes):
    code = msg.split(b" ", 1)[0]
    try:
        code = code.decode()
    except UnicodeDecodeError:
        code = "ERR"
    es = server.errorstats
    es[code] = es.get(code, 0) + 1
    server.stats.total_error_replies += 1


def reject(c, msg: bytes, spec=None):
    """rejectCommand: inside MULTI the rejection also dooms the transaction,
    and a rejected EXEC aborts it right away (execCommandAbort)."""
    if spec is not None:
        spec.rejected_calls += 1
    # process_pending counts every command it takes; Redis counts only
    # those that reach call() (INFO total_commands_processed)
    c.server.stats.commands_processed -= 1
    if c.multi is not None:
        c.flags |= cl.DIRTY_EXEC
        if spec is not None and spec.name == "exec":
            from kvserver.commands.transactions import discard_transaction
            discard_transaction(c)
            if msg.startswith(b"ERR "):
                msg = msg[4:]
            msg = b"EXECABORT Transaction discarded because of: " + msg
    count_error(c.server, msg)
    c.reply.append(b"-" + msg + b"\r\n")


def resolve(argv: list):
    """The spec that will run `argv`, or raise the rejection Redis gives."""
    spec = COMMANDS.get(argv[0])
    if spec is None:
        spec = COMMANDS.get(argv[0].lower())
        if spec is None:
            raise errors.unknown_command(argv)
    if spec.subcommands is not None and len(argv) >= 2:
        sub = spec.subcommands.get(argv[1].lower().decode("latin-1"))
        if sub is None:
            raise errors.unknown_subcommand(argv[1], spec.name)
        spec = sub
    if not spec.arity_ok(len(argv)):
        raise errors.wrong_arity(spec.fullname)
    return spec


def protected_allowed(c, spec) -> bool:
    """allowProtectedAction: enable-<name>-command is yes, or local and the
    client is on a unix socket or the loopback address."""
    mode = getattr(c.server.config, f"enable_{spec.name}_command", "no")
    if mode == "yes":
        return True
    if mode != "local":
        return False
    if c.flags & cl.UNIX_SOCKET:
        return True
    return c.addr.rsplit(":", 1)[0] in ("127.0.0.1", "::1")


def security_warning(c):
    """securityWarningCommand: "POST" and "Host:" mean a browser was tricked
    into talking to us (cross protocol scripting); drop the connection
    without a reply, logging at most once a minute."""
    global _last_security_warning
    now = time.monotonic()
    if now - _last_security_warning > 60:
        logger.warning("Possible SECURITY ATTACK detected. It looks like somebody is "
                       "sending POST or Host: commands to Redis. This is likely due to an "
                       "attacker attempting to use Cross Protocol Scripting to compromise "
                       "your Redis instance. Connection aborted.")
        _last_security_warning = now
    c.reply.clear()
    c.flags |= cl.CLOSE_ASAP


_last_security_warning = -1e9
_ATTACK_NAMES = (b"post", b"host:")


def execute(c, argv: list):
    """Run one command for client `c`; the reply is appended to c.reply."""
    spec = COMMANDS.get(argv[0])
    if (spec is None or spec.subcommands is not None
            or not (len(argv) == spec.arity if spec.arity > 0 else len(argv) >= -spec.arity)):
        if spec is None and argv[0].lower() in _ATTACK_NAMES:
            security_warning(c)
            return
        try:
            spec = resolve(argv)
        except CommandError as e:
            known = COMMANDS.get(argv[0]) or COMMANDS.get(argv[0].lower())
            if known is not None and known.subcommands is not None and len(argv) >= 2:
                # Redis charges the subcommand (None when there is no such one)
                known = known.subcommands.get(argv[1].lower().decode("latin-1"))
            reject(c, e.msg, known)
            return
    if spec.flags._value_ & _PROTECTED and not protected_allowed(c, spec):
        reject(c, errors.protected_command(spec.name).msg, spec)
        return
    if not c.authenticated and not (spec.flags & _NO_AUTH):
        reject(c, errors.NOAUTH, spec)
        return
    if c.multi is not None and spec.name not in _MULTI_IMMEDIATE:
        if spec.flags & _NO_MULTI:
            reject(c, errors.NOT_IN_TRANSACTION, spec)
            return
        c.multi.append((spec, argv))
        c.reply.append(b"+QUEUED\r\n")
        return
    call(c, spec, argv)


def call(c, spec, argv: list):
    t0 = _perf()
    try:
        r = spec.handler(c, argv)
    except CommandError as e:
        spec.failed_calls += 1
        count_error(c.server, e.msg)
        r = b"-" + e.msg + b"\r\n"
    spec.duration_ns += _perf() - t0
    spec.calls += 1
    c.last_cmd = spec.fullname
    if r is not None:
        c.reply.append(r)
