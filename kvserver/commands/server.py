"""Server commands: INFO, TIME, LASTSAVE, SHUTDOWN, DEBUG.

INFO's sections live in kvserver.info.  SHUTDOWN ends the event loop: the
caller gets no reply (as with Redis, whose process exits under it), the
loop writes what other clients are owed, then Server.close() disconnects
everyone and the process exits 0.  With a save requested (SAVE, or save
points configured and no NOSAVE) the dataset is written first through
`server.rdb_save()`, when a persistence layer has installed it; without
one the save fails, and SHUTDOWN fails the way Redis's does when its save
fails, unless FORCE.

DEBUG is one command that parses its own subcommands, as in debug.c, and
is PROTECTED: dispatch refuses it unless enable-debug-command allows the
client.  Implemented: HELP, DIGEST, DIGEST-VALUE, OBJECT, SLEEP,
SET-ACTIVE-EXPIRE, PROTOCOL, POPULATE, CHANGE-REPL-ID, ERROR, LOG, LEAK.
Every other subcommand of Redis's help (RELOAD, crashes, allocator and
encoding internals) answers as an unknown one.
"""

import math
import re
import time

from kvserver import clock, debug_digest, errors, info as info_mod, keyspace
from kvserver.commands.connection import help_reply, keyword
from kvserver.commands.table import command
from kvserver.errors import CommandError
from kvserver.log import logger
from kvserver.net import client as cl
from kvserver.net.resp import (
    OK, array_header, attribute_header, big_number, boolean, bulk, double,
    format_double, integer, map_header, null, push_header, set_header, strict_int,
    verbatim)


@command("info", -1, "loading stale", acl="@slow @dangerous",
         tips=("nondeterministic_output", "request_policy:all_shards",
               "response_policy:special"),
         summary="Get information and statistics about the server", since="1.0.0",
         group="server", complexity="O(1)",
         history=(("7.0.0", "Added support for taking multiple section arguments."),),
         args="[section [section ...]]")
def info(c, argv):
    return verbatim(info_mod.generate(c.server, argv[1:]), c.resp)


@command("time", 1, "loading stale fast", acl="@fast",
         tips=("nondeterministic_output",),
         summary="Return the current server time", since="2.6.0", group="server",
         complexity="O(1)", args="")
def time_(c, argv):
    us = clock.now_us()
    return b"*2\r\n" + bulk(b"%d" % (us // 1000000)) + bulk(b"%d" % (us % 1000000))


@command("lastsave", 1, "loading stale fast", acl="@admin @fast @dangerous",
         tips=("nondeterministic_output",),
         summary="Get the UNIX time stamp of the last successful save to disk",
         since="1.0.0", group="server", complexity="O(1)", args="")
def lastsave(c, argv):
    return integer(c.server.lastsave)


# --- SHUTDOWN -----------------------------------------------------------------------

@command("shutdown", -1, "admin noscript loading stale no_multi allow_busy",
         acl="@admin @slow @dangerous",
         summary="Synchronously save the dataset to disk and then shut down the server",
         since="1.0.0", group="server",
         complexity="O(N) when saving, where N is the total number of keys in all "
                    "databases when saving data, otherwise O(1)",
         history=(("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."),),
         args="[NOSAVE|SAVE] [NOW]@7.0.0 [FORCE]@7.0.0 [ABORT]@7.0.0")
def shutdown(c, argv):
    flags = set()
    abort = False
    for a in argv[1:]:
        w = keyword(a)
        if w in (b"nosave", b"save", b"now", b"force"):
            flags.add(w)
        elif w == b"abort":
            abort = True
        else:
            raise CommandError(errors.SYNTAX)
    if (abort and flags) or (b"nosave" in flags and b"save" in flags):
        raise CommandError(errors.SYNTAX)
    if abort:
        # a shutdown only stays in progress while it waits for replicas to
        # catch up, and kvserver has no replicas
        raise CommandError(errors.NO_SHUTDOWN_IN_PROGRESS)
    server = c.server
    if (server.config.save and b"nosave" not in flags) or b"save" in flags:
        logger.notice("Saving the final RDB snapshot before exiting.")
        saver = getattr(server, "rdb_save", None)
        if saver is None or not saver():
            if b"force" in flags:
                logger.warning("Error trying to save the DB. Exit anyway.")
            else:
                logger.warning("Error trying to save the DB, can't exit.")
                raise CommandError(errors.SHUTDOWN_FAILED)
    server.shutdown_flags = tuple(sorted(f.decode() for f in flags))
    server.shutdown_asap = True
    server.running = False
    # nothing more from this client: Redis would have exited right here
    c.flags |= cl.CLOSE_ASAP
    return None


# --- DEBUG ----------------------------------------------------------------------------

_DEBUG_HELP = (
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
    "HELP",
    "    Prints this help.",
)
_DEBUG_HELP_REPLY = help_reply(_DEBUG_HELP)

# strtod() and atoi() read the longest numeric prefix and ignore the rest
_STRTOD = re.compile(rb"\s*([+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))")
_ATOI = re.compile(rb"\s*([+-]?\d+)")


def strtod_prefix(arg: bytes) -> float:
    m = _STRTOD.match(arg)
    return float(m.group(1)) if m else 0.0


def atoi_prefix(arg: bytes) -> int:
    m = _ATOI.match(arg)
    if not m:
        return 0
    # atoi's int wraps; only zero versus non-zero matters to its callers here
    return int(m.group(1))


def _debug_help(c, argv):
    return _DEBUG_HELP_REPLY


def _debug_digest(c, argv):
    d = debug_digest.dataset_digest(c.server.keyspace)
    return b"+" + debug_digest.hex_digest(d) + b"\r\n"


def _debug_digest_value(c, argv):
    db = c.db
    out = [array_header(len(argv) - 2)]
    for key in argv[2:]:
        # the dict itself, not a lookup: logically expired keys still count
        v = db.value_of(key)
        d = debug_digest.object_digest(db, key, v) if v is not None else 0
        out.append(b"+" + debug_digest.hex_digest(d) + b"\r\n")
    return b"".join(out)


def _debug_sleep(c, argv):
    secs = strtod_prefix(argv[2])
    # Redis converts to whole microseconds; negative or non-finite values
    # make nanosleep return at once
    if math.isfinite(secs) and secs > 0:
        us = int(secs * 1000000)
        if us > 0:
            time.sleep(us / 1000000)
    return OK


def _debug_set_active_expire(c, argv):
    c.server.keyspace.active_expire_enabled = atoi_prefix(argv[2]) != 0
    return OK


def _protocol_reply(name: bytes, resp: int) -> bytes:
    if name == b"string":
        return bulk(b"Hello World")
    if name == b"integer":
        return integer(12345)
    if name == b"double":
        return double(3.141, resp)
    if name == b"bignum":
        return big_number(1234567999999999999999999999999999999, resp)
    if name == b"null":
        return null(resp)
    if name == b"array":
        return array_header(3) + integer(0) + integer(1) + integer(2)
    if name == b"set":
        return set_header(3, resp) + integer(0) + integer(1) + integer(2)
    if name == b"map":
        return map_header(3, resp) + b"".join(
            integer(j) + boolean(j == 1, resp) for j in range(3))
    if name == b"attrib":
        out = b""
        if resp >= 3:
            out = (attribute_header(1) + bulk(b"key-popularity") + array_header(2)
                   + bulk(b"key:123") + integer(90))
        # an attribute is not a reply: a real one always follows it
        return out + bulk(b"Some real reply following the attribute")
    if name == b"push":
        if resp < 3:
            raise CommandError(errors.RESP2_NOT_SUPPORTED)
        return (push_header(2, resp) + bulk(b"server-cpu-usage") + integer(42)
                + bulk(b"Some real reply following the push reply"))
    if name == b"true":
        return boolean(True, resp)
    if name == b"false":
        return boolean(False, resp)
    if name == b"verbatim":
        return verbatim(b"This is a verbatim\nstring", resp)
    raise CommandError(errors.DEBUG_PROTOCOL_TYPE)


def _debug_protocol(c, argv):
    return _protocol_reply(keyword(argv[2]), c.resp)


def _debug_populate(c, argv):
    count = strict_int(argv[2])
    if count is None or count < 0:
        raise CommandError(errors.NOT_POSITIVE)
    prefix = argv[3] if len(argv) >= 4 else b"key"
    size = 0
    if len(argv) == 5:
        size = strict_int(argv[4])
        if size is None or size < 0:
            raise CommandError(errors.NOT_POSITIVE)
    db = c.db
    for j in range(count):
        # the key is formatted into a 128-byte buffer, as in debug.c
        key = (prefix + b":%d" % j)[:127]
        if db.lookup(key) is not None:
            continue
        val = b"value:%d" % j
        if size:
            val = val[:size].ljust(size, b"\0")
        db.set(key, val)
    return OK


def _debug_change_repl_id(c, argv):
    logger.warning("Changing replication IDs after receiving DEBUG change-repl-id")
    c.server.info_state.change_replid()
    return OK


def _debug_error(c, argv):
    # sent as given (newlines made spaces), not counted as an error reply:
    # Redis writes it with addReplySds, bypassing the error statistics
    return b"-" + argv[2].replace(b"\r", b" ").replace(b"\n", b" ") + b"\r\n"


def _debug_log(c, argv):
    logger.warning("DEBUG LOG: " + argv[2].decode("utf-8", "replace"))
    return OK


_leaked = []


def _debug_leak(c, argv):
    _leaked.append(bytes(argv[2]))
    return OK


def _string_serialized_len(v) -> int:
    """rdbSaveStringObject's size for a string value or element."""
    if type(v) is int:
        n = v
    else:
        n = strict_int(v) if len(v) <= 11 else None
    if n is not None:
        if -(1 << 7) <= n < (1 << 7):
            return 2
        if -(1 << 15) <= n < (1 << 15):
            return 3
        if -(1 << 31) <= n < (1 << 31):
            return 5
        v = b"%d" % n
    return _blob_len(len(v))


def _blob_len(size: int) -> int:
    """rdbSaveRawString's size for `size` bytes stored verbatim.

    Redis tries LZF on anything longer than 20 bytes and keeps the result
    when it is shorter; kvserver has no LZF compressor, so for data that
    compresses this is an upper bound rather than Redis's figure."""
    return _rdb_len_size(size) + size


def _rdb_len_size(n: int) -> int:
    if n < 64:
        return 1
    if n < 16384:
        return 2
    if n <= 0xFFFFFFFF:
        return 5
    return 9


def _listpack_entry_size(e) -> int:
    """One listpack entry: encoding and data, then the back-length."""
    n = e if type(e) is int else (strict_int(e) if len(e) <= 20 else None)
    if n is not None:
        if 0 <= n <= 127:
            size = 1
        elif -4096 <= n <= 4095:
            size = 2
        elif -32768 <= n <= 32767:
            size = 3
        elif -8388608 <= n <= 8388607:
            size = 4
        elif -2**31 <= n < 2**31:
            size = 5
        else:
            size = 9
    else:
        ln = len(e)
        size = ln + (1 if ln < 64 else 2 if ln < 4096 else 5)
    if size < 128:
        return size + 1
    if size < 16383:
        return size + 2
    if size < 2097151:
        return size + 3
    if size < 268435455:
        return size + 4
    return size + 5


def listpack_size(elements) -> int:
    """The bytes of a listpack holding `elements` (6-byte header, end byte)."""
    return 7 + sum(map(_listpack_entry_size, elements))


def _d2string(d: float) -> bytes:
    """d2string: how a score is written into a sorted set's listpack."""
    if d == 0:
        return b"-0" if math.copysign(1.0, d) < 0 else b"0"
    if math.isfinite(d) and -4503599627370495 < d < 4503599627370496 and d == int(d):
        return b"%d" % int(d)
    return format_double(d)


def _value_serialized_len(v) -> int:
    """rdbSavedObjectLen for an aggregate value: compact encodings are one
    blob (listpack, intset), the others their element count and elements;
    see _blob_len for what LZF would change."""
    t = v.TYPE
    enc = v.encoding()
    if t == "list":
        nodes = list(v.iter_nodes())
        return _rdb_len_size(len(nodes)) + sum(
            1 + _blob_len(listpack_size(node)) for node in nodes)
    if t == "hash":
        flat = v.flat()
        if enc == "listpack":
            return _blob_len(listpack_size(flat))
        return _rdb_len_size(len(flat) // 2) + sum(map(_string_serialized_len, flat))
    if t == "set":
        members = v.members()
        if enc == "intset":
            # the intset's width is the one its widest member needs
            width = 2
            for m in members:
                n = int(m)
                if not -2**15 <= n < 2**15:
                    width = max(width, 4 if -2**31 <= n < 2**31 else 8)
            return _blob_len(8 + width * len(members))
        return _rdb_len_size(len(members)) + sum(map(_string_serialized_len, members))
    if t == "zset":
        pairs = list(v.items())
        if enc == "listpack":
            flat = []
            for m, score in pairs:
                flat.append(m)
                flat.append(_d2string(score))
            return _blob_len(listpack_size(flat))
        # RDB_TYPE_ZSET_2: each member, then its score as a binary double
        return _rdb_len_size(len(pairs)) + sum(
            _string_serialized_len(m) + 8 for m, _ in pairs)
    return 0


def _debug_object(c, argv):
    db = c.db
    key = argv[2]
    v = db.value_of(key)
    if v is None:
        raise CommandError(errors.NO_SUCH_KEY)
    extra = ""
    if type(v) in keyspace.STRING_TYPES:
        from kvserver.commands.strings import key_string_encoding
        enc = key_string_encoding(db, key, v)
        serialized = _string_serialized_len(v)
    else:
        enc = v.encoding()
        serialized = _value_serialized_len(v)
        if enc == "quicklist":
            extra = v.debug_fields()
    if keyspace.LFU:
        lru = db.lfu.get(key, 0)
        idle = 0
    else:
        lru = (db.access_time(key) or keyspace.LRU_CLOCK) & 0xFFFFFF
        idle = db.idle_seconds(key)
    # the value's address is the Python object's (its id in CPython)
    return (f"+Value at:{id(v):#x} refcount:1 encoding:{enc} "
            f"serializedlength:{serialized} lru:{lru} lru_seconds_idle:{idle}{extra}\r\n"
            ).encode()


# name -> (argc test, handler), as debugCommand's chain of strcasecmp tests
_DEBUG = {
    b"help": (lambda n: n == 2, _debug_help),
    b"digest": (lambda n: n == 2, _debug_digest),
    b"digest-value": (lambda n: n >= 2, _debug_digest_value),
    b"object": (lambda n: n == 3, _debug_object),
    b"sleep": (lambda n: n == 3, _debug_sleep),
    b"set-active-expire": (lambda n: n == 3, _debug_set_active_expire),
    b"protocol": (lambda n: n == 3, _debug_protocol),
    b"populate": (lambda n: 3 <= n <= 5, _debug_populate),
    b"change-repl-id": (lambda n: n == 2, _debug_change_repl_id),
    b"error": (lambda n: n == 3, _debug_error),
    b"log": (lambda n: n == 3, _debug_log),
    b"leak": (lambda n: n == 3, _debug_leak),
}


@command("debug", -2, "admin noscript loading stale protected",
         acl="@admin @slow @dangerous",
         summary="A container for debugging commands", since="1.0.0", group="server",
         complexity="Depends on subcommand.", doc_flags="syscmd", args="")
def debug(c, argv):
    entry = _DEBUG.get(keyword(argv[1]))
    if entry is None or not entry[0](len(argv)):
        raise errors.subcommand_syntax(argv[0], argv[1])
    return entry[1](c, argv)
