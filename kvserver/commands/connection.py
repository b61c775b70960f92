"""Connection commands: PING, ECHO, QUIT, SELECT."""

from kvserver import errors
from kvserver.commands.table import command
from kvserver.errors import CommandError
from kvserver.net import client as cl
from kvserver.net.resp import OK, PONG, bulk, strict_int


@command("ping", -1, "fast sentinel", acl="@fast @connection",
         summary="Ping the server", since="1.0.0", group="connection",
         complexity="O(1)", args="[message]")
def ping(c, argv):
    if len(argv) > 2:
        raise errors.wrong_arity("ping")
    if len(argv) == 2:
        return bulk(argv[1])
    return PONG


@command("echo", 2, "fast", acl="@fast @connection",
         summary="Echo the given string", since="1.0.0", group="connection",
         complexity="O(1)", args="message")
def echo(c, argv):
    return bulk(argv[1])


@command("quit", -1, "allow_busy noscript loading stale fast no_auth",
         acl="@fast @connection", summary="Close the connection", since="1.0.0",
         group="connection", complexity="O(1)", args="")
def quit(c, argv):
    c.flags |= cl.CLOSE_AFTER_REPLY
    return OK


@command("select", 2, "loading stale fast", acl="@keyspace @fast",
         summary="Change the selected database for the current connection",
         since="1.0.0", group="connection", complexity="O(1)", args="index")
def select(c, argv):
    idx = strict_int(argv[1])
    if idx is None or not -2**31 <= idx < 2**31:
        raise CommandError(errors.NOT_INTEGER)
    ks = c.server.keyspace
    if idx < 0 or idx >= len(ks):
        raise CommandError(errors.DB_OUT_OF_RANGE)
    c.db = ks[idx]
    return OK
