"""String commands (t_string.c)."""

from kvserver.commands.table import command
from kvserver.keyspace import STRING_TYPES
from kvserver.net.resp import NULL2, NULL3, OK, bulk


def _as_bytes(v) -> bytes:
    t = type(v)
    if t is bytes:
        return v
    if t is int:
        return b"%d" % v
    return bytes(v)


@command("get", 2, "readonly fast", keys=(1, 1, 1), acl="@read @string @fast",
         summary="Get the value of a key", since="1.0.0", group="string",
         complexity="O(1)", args="key")
def get(c, argv):
    v = c.db.lookup_typed(argv[1], STRING_TYPES)
    if v is None:
        return NULL3 if c.resp == 3 else NULL2
    return bulk(_as_bytes(v))


@command("set", -3, "write denyoom", keys=(1, 1, 1), acl="@write @string @slow",
         summary="Set the string value of a key", since="1.0.0", group="string",
         complexity="O(1)", args="key value")
def set_(c, argv):
    c.db.set(argv[1], argv[2])
    return OK
