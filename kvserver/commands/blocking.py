"""CLIENT UNBLOCK: wake a client blocked through kvserver.blocking.

Registered here, on the CLIENT container that connection.py declares
(this module is loaded after it).  The blocking commands themselves live
with their types (lists.py, zsets.py).
"""

from kvserver import blocking, errors
from kvserver.commands.table import subcommand
from kvserver.errors import CommandError
from kvserver.net.resp import ONE, ZERO, strict_int


@subcommand("client", "unblock", -3, "admin noscript loading stale",
            acl="@admin @slow @dangerous @connection",
            summary="Unblock a client blocked in a blocking command from a different "
                    "connection",
            since="5.0.0", group="connection",
            complexity="O(log N) where N is the number of client connections",
            args="client-id timeout_error:[TIMEOUT|ERROR]")
def client_unblock(c, argv):
    argc = len(argv)
    if argc > 4:
        raise errors.subcommand_syntax(argv[0], argv[1])
    as_error = False
    if argc == 4:
        reason = argv[3].split(b"\0", 1)[0].upper()
        if reason == b"ERROR":
            as_error = True
        elif reason != b"TIMEOUT":
            raise CommandError(errors.UNBLOCK_REASON)
    cid = strict_int(argv[2])
    if cid is None:
        raise CommandError(errors.NOT_INTEGER)
    target = c.server.clients.get(cid)
    if target is None or target.blocked is None:
        return ZERO
    if as_error:
        ok = blocking.unblock_error(target, errors.UNBLOCKED)
    else:
        ok = blocking.unblock_timeout(target)
    return ONE if ok else ZERO
