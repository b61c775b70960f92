"""Every error reply kvserver sends, worded exactly as Redis 7.0 words it.

Handlers raise `CommandError`; dispatch turns it into a `-...\\r\\n` reply and
counts it under its first word in INFO errorstats, as Redis does.  Keep all
texts here so that a reader can diff them against Redis's `server.c` and
`t_*.c` in one place.  Messages are `bytes` without the leading '-' and
without the trailing CRLF.
"""


class CommandError(Exception):
    """An error reply.  `msg` already starts with its code (ERR, WRONGTYPE...)."""

    __slots__ = ("msg",)

    def __init__(self, msg: bytes):
        self.msg = msg

    def __repr__(self):
        return f"CommandError({self.msg!r})"


def err(text: str) -> CommandError:
    """An 'ERR ...' error from a str, for messages built at run time."""
    return CommandError(b"ERR " + text.encode("utf-8", "surrogateescape"))


# --- shared errors (server.c createSharedObjects) ---------------------------
WRONGTYPE = b"WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = b"ERR syntax error"
NO_SUCH_KEY = b"ERR no such key"
SAME_OBJECT = b"ERR source and destination objects are the same"
OUT_OF_RANGE = b"ERR index out of range"
NOAUTH = b"NOAUTH Authentication required."
OOM = b"OOM command not allowed when used memory > 'maxmemory'."
EXECABORT = b"EXECABORT Transaction discarded because of previous errors."
BUSYKEY = b"BUSYKEY Target key name already exists."
LOADING = b"LOADING Redis is loading the dataset in memory"

# --- argument parsing (object.c, util.c) -------------------------------------
NOT_INTEGER = b"ERR value is not an integer or out of range"
NOT_FLOAT = b"ERR value is not a valid float"
OVERFLOW = b"ERR increment or decrement would overflow"
INCR_NAN = b"ERR increment would produce NaN or Infinity"
NOT_POSITIVE = b"ERR value is out of range, must be positive"
TIMEOUT_NOT_FLOAT = b"ERR timeout is not a float or out of range"
STRING_TOO_LONG = b"ERR string exceeds maximum allowed size (proto-max-bulk-len)"

# --- databases ----------------------------------------------------------------
DB_OUT_OF_RANGE = b"ERR DB index is out of range"
INVALID_DB_INDEX = b"ERR invalid DB index"

# --- authentication -----------------------------------------------------------
WRONGPASS = b"WRONGPASS invalid username-password pair or user is disabled."
AUTH_NO_PASSWORD = (b"ERR AUTH <password> called without any password configured "
                    b"for the default user. Are you sure your configuration is correct?")

# --- server state -------------------------------------------------------------
MAX_CLIENTS = b"ERR max number of clients reached"


def invalid_expire(cmdname: str) -> CommandError:
    return err(f"invalid expire time in '{cmdname}' command")


def wrong_arity(fullname: str) -> CommandError:
    return err(f"wrong number of arguments for '{fullname}' command")


def unknown_subcommand(sub: bytes, parent: str) -> CommandError:
    return CommandError(b"ERR unknown subcommand '" + _sanitize(sub.split(b"\0", 1)[0][:128])
                        + b"'. Try " + parent.upper().encode() + b" HELP.")


def unknown_command(argv: list) -> CommandError:
    # Redis quotes the arguments until the list reaches 128 characters.
    # C's %s stops at a NUL, so each quoted piece does too
    args = b""
    for a in argv[1:]:
        if len(args) >= 128:
            break
        args += b"'" + a.split(b"\0", 1)[0][:128 - len(args)] + b"' "
    return CommandError(b"ERR unknown command '" + _sanitize(argv[0].split(b"\0", 1)[0][:128])
                        + b"', with args beginning with: " + _sanitize(args))


def _sanitize(b: bytes) -> bytes:
    # rejectCommand*() maps CR and LF to spaces so the reply stays one line.
    return b.replace(b"\r", b" ").replace(b"\n", b" ")


def sanitize(b: bytes) -> bytes:
    return _sanitize(b)


# --- strings (t_string.c) -----------------------------------------------------
OFFSET_OUT_OF_RANGE = b"ERR offset is out of range"
DECR_OVERFLOW = b"ERR decrement would overflow"
LCS_NOT_STRINGS = b"ERR The specified keys must contain string values"
LCS_LEN_AND_IDX = b"ERR If you want both the length and indexes, please just use IDX."
LCS_TOO_LONG = b"ERR String too long for LCS"
LCS_TABLE_TOO_BIG = (b"ERR Insufficient memory, transient memory for LCS exceeds "
                     b"proto-max-bulk-len")


# --- connection and server commands (networking.c, server.c, debug.c) --------
NOPROTO = b"NOPROTO unsupported protocol version"
HELLO_PROTO_NOT_INT = b"ERR Protocol version is not an integer or out of range"
HELLO_NOAUTH = (b"NOAUTH HELLO must be called with the client already authenticated, "
                b"otherwise the HELLO AUTH <user> <pass> option can be used to "
                b"authenticate the client and select the RESP protocol version at "
                b"the same time")
CLIENT_NAME_INVALID = b"ERR Client names cannot contain spaces, newlines or special characters."
NO_SUCH_CLIENT = b"ERR No such client"
INVALID_CLIENT_ID = b"ERR Invalid client ID"
CLIENT_ID_NOT_POSITIVE = b"ERR client-id should be greater than 0"
CLIENT_CACHING_NO_TRACKING = (b"ERR CLIENT CACHING can be called only when the client is "
                              b"in tracking mode with OPTIN or OPTOUT mode enabled")
DEBUG_PROTOCOL_TYPE = (b"ERR Wrong protocol type name. Please use one of the following: "
                       b"string|integer|double|bignum|null|array|set|map|attrib|push|"
                       b"verbatim|true|false")
RESP2_NOT_SUPPORTED = b"ERR RESP2 is not supported by this command"
SHUTDOWN_FAILED = b"ERR Errors trying to SHUTDOWN. Check logs."
NO_SHUTDOWN_IN_PROGRESS = b"ERR No shutdown in progress."


def hello_syntax(opt: bytes) -> CommandError:
    return CommandError(b"ERR Syntax error in HELLO option '" + _sanitize(opt) + b"'")


def unknown_client_type(name: bytes) -> CommandError:
    return CommandError(b"ERR Unknown client type '" + _sanitize(name) + b"'")


def no_such_user(name: bytes) -> CommandError:
    return CommandError(b"ERR No such user '" + _sanitize(name) + b"'")


def subcommand_syntax(cmd: bytes, sub: bytes) -> CommandError:
    """addReplySubcommandSyntaxError: the subcommand as typed, the command upper-cased."""
    return CommandError(b"ERR unknown subcommand or wrong number of arguments for '"
                        + _sanitize(sub[:128]) + b"'. Try " + _sanitize(cmd.upper())
                        + b" HELP.")


def protected_command(name: str) -> CommandError:
    """A PROTECTED command (DEBUG, MODULE) refused by its enable-<name>-command option."""
    return err(f'{name.upper()} command not allowed. If the enable-{name}-command option '
               f'is set to "local", you can run it from a local connection, otherwise you '
               f'need to set this option in the configuration file, and then restart '
               f'the server.')


# --- COMMAND GETKEYS (server.c getKeysSubcommandImpl) -------------------------
GETKEYS_INVALID_COMMAND = b"ERR Invalid command specified"
GETKEYS_NO_KEYS = b"ERR The command has no key arguments"
GETKEYS_BAD_ARITY = b"ERR Invalid number of arguments specified for command"
GETKEYS_BAD_ARGS = b"ERR Invalid arguments specified for command"


# --- keyspace and expiry (db.c, expire.c, object.c) ------------------------------
INVALID_CURSOR = b"ERR invalid cursor"
INVALID_FIRST_DB = b"ERR invalid first DB index"
INVALID_SECOND_DB = b"ERR invalid second DB index"
INT_RANGE = b"ERR value is out of range, value must between -2147483648 and 2147483647"
EXPIRE_NX_COMPAT = b"ERR NX and XX, GT or LT options at the same time are not compatible"
EXPIRE_GT_LT_COMPAT = b"ERR GT and LT options at the same time are not compatible"
LFU_NOT_SELECTED = (b"ERR An LFU maxmemory policy is not selected, access frequency not "
                    b"tracked. Please note that when switching between policies at runtime "
                    b"LRU and LFU data will take some time to adjust.")
LFU_SELECTED = (b"ERR An LFU maxmemory policy is selected, idle time not tracked. Please "
                b"note that when switching between policies at runtime LRU and LFU data "
                b"will take some time to adjust.")


def unsupported_option(opt: bytes) -> CommandError:
    """EXPIRE's "Unsupported option %s": a C string, so it stops at a NUL."""
    return CommandError(b"ERR Unsupported option " + _sanitize(opt.split(b"\0", 1)[0]))


# --- hashes and sets (t_hash.c, t_set.c) --------------------------------------
HASH_NOT_INTEGER = b"ERR hash value is not an integer"
HASH_NOT_FLOAT = b"ERR hash value is not a float"
NAN_OR_INFINITY = b"ERR value is NaN or Infinity"
VALUE_OUT_OF_RANGE = b"ERR value is out of range"
LONG_RANGE = (b"ERR value is out of range, value must between "
              b"-9223372036854775807 and 9223372036854775807")
NUMKEYS_NOT_POSITIVE = b"ERR numkeys should be greater than 0"
NUMKEYS_TOO_MANY = b"ERR Number of keys can't be greater than number of args"
LIMIT_NEGATIVE = b"ERR LIMIT can't be negative"


# --- configuration and connections (config.c, networking.c) -------------------
NO_CONFIG_FILE = b"ERR The server is running without a config file"
# Sent raw (not a reply to any command) before closing a non-loopback
# connection while protected mode is on and no password is set.
PROTECTED_MODE_DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no "
    b"password is set for the default user. In this mode connections are only accepted from "
    b"the loopback interface. If you want to connect from external computers to Redis you may "
    b"adopt one of the following solutions: 1) Just disable protected mode sending the command "
    b"'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from "
    b"the same host the server is running, however MAKE SURE Redis is not publicly accessible "
    b"from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "
    b"Alternatively you can just disable the protected mode by editing the Redis configuration "
    b"file, and setting the protected mode option to 'no', and then restarting the server. 3) "
    b"If you started the server manually just for testing, restart it with the "
    b"'--protected-mode no' option. 4) Setup a an authentication password for the default "
    b"user. NOTE: You only need to do one of the above things in order for the server to start "
    b"accepting connections from the outside.\r\n")


# --- lists and blocking (t_list.c, blocked.c, timeout.c) --------------------------
TIMEOUT_NEGATIVE = b"ERR timeout is negative"
LPOS_RANK_ZERO = (b"ERR RANK can't be zero: use 1 to start from the first match, "
                  b"2 from the second ... or use negative to start from the end of the list")
LPOS_COUNT_NEGATIVE = b"ERR COUNT can't be negative"
LPOS_MAXLEN_NEGATIVE = b"ERR MAXLEN can't be negative"
COUNT_NOT_POSITIVE = b"ERR count should be greater than 0"
UNBLOCK_REASON = b"ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
UNBLOCKED = b"UNBLOCKED client unblocked via CLIENT UNBLOCK"


# --- bitmaps (bitops.c) -------------------------------------------------------
BIT_OFFSET = b"ERR bit offset is not an integer or out of range"
BIT_VALUE = b"ERR bit is not an integer or out of range"
BIT_ARGUMENT = b"ERR The bit argument must be 1 or 0."
BITOP_NOT = b"ERR BITOP NOT must be called with a single source key."
BITFIELD_TYPE = (b"ERR Invalid bitfield type. Use something like i16 u8. "
                 b"Note that u64 is not supported but i64 is.")
BITFIELD_OVERFLOW = b"ERR Invalid OVERFLOW type specified"
BITFIELD_RO_WRITE = b"ERR BITFIELD_RO only supports the GET subcommand"


# --- HyperLogLog (hyperloglog.c) ----------------------------------------------
HLL_WRONGTYPE = b"WRONGTYPE Key is not a valid HyperLogLog string value."
HLL_CORRUPTED = b"INVALIDOBJ Corrupted HLL object detected"
PFDEBUG_NO_KEY = b"ERR The specified key does not exist"
PFDEBUG_NOT_SPARSE = b"ERR HLL encoding is not sparse"


def pfdebug_unknown(sub: bytes) -> CommandError:
    """addReplyErrorFormat("Unknown PFDEBUG subcommand '%s'"): a C string,
    with newlines made spaces."""
    return CommandError(b"ERR Unknown PFDEBUG subcommand '"
                        + _sanitize(sub.split(b"\0", 1)[0]) + b"'")


# --- SORT and geo (sort.c, geo.c) ------------------------------------------------
SORT_NOT_DOUBLE = b"ERR One or more scores can't be converted into double"
GEO_UNIT = b"ERR unsupported unit provided. please use M, KM, FT, MI"
GEO_NEED_RADIUS = b"ERR need numeric radius"
GEO_NEED_WIDTH = b"ERR need numeric width"
GEO_NEED_HEIGHT = b"ERR need numeric height"
GEO_RADIUS_NEGATIVE = b"ERR radius cannot be negative"
GEO_BOX_NEGATIVE = b"ERR height or width cannot be negative"
GEO_NO_MEMBER = b"ERR could not decode requested zset member"
GEO_COUNT = b"ERR COUNT must be > 0"
GEO_ANY_WITHOUT_COUNT = b"ERR the ANY argument requires COUNT argument"
GEORADIUS_STORE_WITH = (b"ERR STORE option in GEORADIUS is not compatible with "
                        b"WITHDIST, WITHHASH and WITHCOORD options")
GEOSEARCHSTORE_WITH = (b"ERR GEOSEARCHSTORE is not compatible with WITHDIST, "
                       b"WITHHASH and WITHCOORD options")


def geo_invalid_pair(lon: float, lat: float) -> CommandError:
    """extractLongLatOrReply's "%f,%f" of the rejected coordinates."""
    return CommandError(b"ERR invalid longitude,latitude pair %s,%s"
                        % (b"%f" % lon, b"%f" % lat))


def geo_need_from(cmd: bytes) -> CommandError:
    """The command name as typed (a C string)."""
    return CommandError(b"ERR exactly one of FROMMEMBER or FROMLONLAT can be "
                        b"specified for " + _sanitize(cmd.split(b"\0", 1)[0]))


def geo_need_by(cmd: bytes) -> CommandError:
    return CommandError(b"ERR exactly one of BYRADIUS and BYBOX can be "
                        b"specified for " + _sanitize(cmd.split(b"\0", 1)[0]))


# --- sorted sets (t_zset.c) -----------------------------------------------------
ZADD_XX_NX = b"ERR XX and NX options at the same time are not compatible"
ZADD_GT_LT_NX = b"ERR GT, LT, and/or NX options at the same time are not compatible"
ZADD_INCR_PAIRS = b"ERR INCR option supports a single increment-element pair"
ZADD_NAN = b"ERR resulting score is not a number (NaN)"
ZRANGE_NOT_FLOAT = b"ERR min or max is not a float"
ZRANGE_NOT_LEX = b"ERR min or max not valid string range item"
ZRANGE_LEX_WITHSCORES = b"ERR syntax error, WITHSCORES not supported in combination with BYLEX"
ZRANGE_LIMIT_RANK = (b"ERR syntax error, LIMIT is only supported in combination with "
                     b"either BYSCORE or BYLEX")
WEIGHT_NOT_FLOAT = b"ERR weight value is not a float"


def zset_no_keys(fullname: str) -> CommandError:
    return err(f"at least 1 input key is needed for '{fullname}' command")

# --- transactions -------------------------------------------------------------
NOT_IN_TRANSACTION = b"ERR Command not allowed inside a transaction"
