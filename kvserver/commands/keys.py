"""Keyspace commands (db.c, expire.c)."""

from kvserver.commands.table import command
from kvserver.net.resp import OK


@command("flushall", -1, "write", acl="@keyspace @write @slow @dangerous",
         summary="Remove all keys from all databases", since="1.0.0",
         group="server", complexity="O(N) where N is the total number of keys in all databases",
         args="[ASYNC|SYNC]")
def flushall(c, argv):
    for db in c.server.keyspace.dbs:
        db.flush()
    return OK
