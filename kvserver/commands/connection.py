"""Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET, CLIENT.

Authentication follows Redis 7.0 with only the "default" user: without
`requirepass` it is a nopass user (any password is accepted for it, but
AUTH <password> alone is refused as a likely misconfiguration); with it,
that is the one password.  `authenticate()` is the single place that
decides, so an ACL module can take it over.

CLIENT REPLY OFF|SKIP is done by swapping `c.reply` for a list that drops
what is appended to it (`_ReplyOff`, `_ReplySkip`); whatever was queued
before the switch moves over and is still written.  CLIENT is a container,
so it always runs through dispatch.execute, after which the execute loop
re-reads `c.reply`; that is what makes the swap take effect for the very
next command of a pipeline.

CLIENT PAUSE/UNPAUSE, TRACKING and SETINFO (7.2) are not here: kvserver
has no client pausing or key tracking to drive.  CLIENT UNBLOCK belongs to
kvserver.commands.blocking, next to the blocking machinery.
CLIENT GETREDIR, TRACKINGINFO and CACHING answer what Redis answers for a
client without tracking, which is every kvserver client.
"""

import hmac

from kvserver import REDIS_VERSION, clock, errors
from kvserver.commands.table import by_name, command, container, identical_run, run_handler, subcommand
from kvserver.errors import CommandError
from kvserver.keyspace import unwatch_all
from kvserver.net import client as cl
from kvserver.net.resp import (
    EMPTY_ARRAY, OK, PONG, array_header, bulk, integer, map_header, null,
    set_header, strict_int, verbatim)


def keyword(arg: bytes) -> bytes:
    """An option word as strcasecmp sees it: lower-cased, up to any NUL."""
    return arg.split(b"\0", 1)[0].lower()


@command("ping", -1, "fast sentinel", acl="@fast @connection",
         tips=("request_policy:all_shards", "response_policy:all_succeeded"),
         summary="Ping the server", since="1.0.0", group="connection",
         complexity="O(1)", args="[message]")
def ping(c, argv):
    if len(argv) > 2:
        raise errors.wrong_arity("ping")
    if len(argv) == 2:
        return bulk(argv[1])
    return PONG


@run_handler("ping", same_key=False)
def ping_run(c, pending, i, append):
    """A pipeline of bare PINGs (redis-benchmark's PING tests): the PONGs
    in one piece."""
    if len(pending[i]) != 1:
        return 0
    m = identical_run(pending, i) - i
    if m < 2:
        return 0
    append(PONG * m)
    return m


@command("echo", 2, "loading stale fast", acl="@fast @connection",
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


@command("select", 2, "loading stale fast", acl="@fast @connection",
         summary="Change the selected database for the current connection",
         since="1.0.0", group="connection", complexity="O(1)", args="index")
def select(c, argv):
    idx = strict_int(argv[1])
    if idx is None:
        raise CommandError(errors.NOT_INTEGER)
    if not -2**31 <= idx < 2**31:
        raise CommandError(errors.INT_RANGE)
    ks = c.server.keyspace
    if idx < 0 or idx >= len(ks):
        raise CommandError(errors.DB_OUT_OF_RANGE)
    c.db = ks[idx]
    return OK


# --- authentication ---------------------------------------------------------------

DEFAULT_USER = b"default"


def user_exists(server, username: bytes) -> bool:
    return username == DEFAULT_USER


def authenticate(c, username: bytes, password: bytes) -> bool:
    """ACLAuthenticateUser for the default user; True logs the client in."""
    if not user_exists(c.server, username):
        return False
    required = c.server.config.requirepass
    if required and not hmac.compare_digest(
            password, required.encode("utf-8", "surrogateescape")):
        return False
    c.authenticated = True
    c.user = "default"
    return True


@command("auth", -2, "noscript loading stale fast no_auth allow_busy",
         acl="@fast @connection", summary="Authenticate to the server",
         since="1.0.0", group="connection",
         complexity="O(N) where N is the number of passwords defined for the user",
         history=(("6.0.0", "Added ACL style (username and password)."),),
         args="[username]@6.0.0 password")
def auth(c, argv):
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2:
        if not c.server.config.requirepass:
            raise CommandError(errors.AUTH_NO_PASSWORD)
        username, password = DEFAULT_USER, argv[1]
    else:
        username, password = argv[1], argv[2]
    if not authenticate(c, username, password):
        raise CommandError(errors.WRONGPASS)
    return OK


# --- HELLO ------------------------------------------------------------------------

_HELLO_HEAD = {
    proto: map_header(7, proto) + bulk(b"server") + bulk(b"redis")
    + bulk(b"version") + bulk(REDIS_VERSION.encode()) + bulk(b"proto")
    for proto in (2, 3)
}
_HELLO_ID = bulk(b"id")
# no cluster, no sentinel, no replication, no modules
_HELLO_TAIL = (bulk(b"mode") + bulk(b"standalone") + bulk(b"role") + bulk(b"master")
               + bulk(b"modules") + EMPTY_ARRAY)


def valid_client_name(name: bytes) -> bool:
    """validateClientName: printable ASCII without spaces ('!' to '~')."""
    for ch in name:
        if ch < 33 or ch > 126:
            return False
    return True


def set_client_name(c, name: bytes):
    c.name = name or None


@command("hello", -1, "noscript loading stale fast no_auth allow_busy",
         acl="@fast @connection", summary="Handshake with Redis", since="6.0.0",
         group="connection", complexity="O(1)",
         history=(("6.2.0", "`protover` made optional; when called without arguments "
                            "the command reports the current connection's context."),),
         args="arguments:[protover [AUTH username password] [SETNAME clientname]]")
def hello(c, argv):
    ver = 0
    n = len(argv)
    if n >= 2:
        ver = strict_int(argv[1])
        if ver is None:
            raise CommandError(errors.HELLO_PROTO_NOT_INT)
        if ver < 2 or ver > 3:
            raise CommandError(errors.NOPROTO)
    j = 2
    while j < n:
        more = n - 1 - j
        opt = keyword(argv[j])
        if opt == b"auth" and more >= 2:
            # 7.0 authenticates as soon as it meets the option, so a later
            # bad option fails the command with the client logged in
            if not authenticate(c, argv[j + 1], argv[j + 2]):
                raise CommandError(errors.WRONGPASS)
            j += 3
        elif opt == b"setname" and more:
            # named at once too, even before the NOAUTH check below
            if not valid_client_name(argv[j + 1]):
                raise CommandError(errors.CLIENT_NAME_INVALID)
            set_client_name(c, argv[j + 1])
            j += 2
        else:
            raise errors.hello_syntax(argv[j])
    if not c.authenticated:
        raise CommandError(errors.HELLO_NOAUTH)
    if ver:
        c.resp = ver
    return _HELLO_HEAD[c.resp] + integer(c.resp) + _HELLO_ID + integer(c.id) + _HELLO_TAIL


# --- RESET ------------------------------------------------------------------------

# fn(client) for state other modules keep per client and RESET must clear
# (subscriptions, MONITOR, tracking): clearClientConnectionState's other steps
RESET_HOOKS = []


@command("reset", 1, "noscript loading stale fast no_auth allow_busy",
         acl="@fast @connection", summary="Reset the connection", since="6.2.0",
         group="connection", complexity="O(1)", args="")
def reset(c, argv):
    # clearClientConnectionState, for the state kvserver clients have
    c.db = c.server.keyspace[0]
    c.resp = 2
    c.user = "default"
    c.authenticated = not c.server.config.requirepass
    c.multi = None
    c.dirty_cas = False
    c.flags &= ~(cl.MULTI | cl.DIRTY_EXEC)
    unwatch_all(c)
    for hook in RESET_HOOKS:
        hook(c)
    c.name = None
    reply_on(c)
    return b"+RESET\r\n"


# RESET swaps c.reply and may log the client out: the execute loop's inline
# path caches both for a whole batch, so RESET goes the full dispatch way,
# after which the loop reads them again.
by_name("reset").full_dispatch_only()


# --- CLIENT REPLY -----------------------------------------------------------------

class _ReplyOff(list):
    """c.reply under CLIENT REPLY OFF: keeps what was queued, drops the rest."""

    __slots__ = ()

    def append(self, item):
        pass


class _ReplySkip(list):
    """c.reply after CLIENT REPLY SKIP: drops the next reply, then queues as usual.

    Every command appends its reply once (or nothing, when it blocks), so
    the first append after SKIP is the next command's reply.
    """

    __slots__ = ("skipping",)

    def __init__(self, items):
        super().__init__(items)
        self.skipping = True

    def append(self, item):
        if self.skipping:
            self.skipping = False
        else:
            list.append(self, item)


def reply_on(c):
    if type(c.reply) is not list:
        c.reply = list(c.reply)


# --- CLIENT -----------------------------------------------------------------------

container("client", -2, acl="@slow",
          summary="A container for client connection commands", since="2.4.0",
          group="connection", complexity="Depends on subcommand.")

_CLIENT_HELP = (
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
)


def help_reply(lines) -> bytes:
    """addReplyHelp: an array of status lines."""
    return array_header(len(lines)) + b"".join(
        b"+" + line.encode() + b"\r\n" for line in lines)


_CLIENT_HELP_REPLY = help_reply(_CLIENT_HELP)


@subcommand("client", "help", 2, "loading stale", acl="@slow @connection",
            summary="Show helpful text about the different subcommands",
            since="5.0.0", group="connection", complexity="O(1)", args="")
def client_help(c, argv):
    return _CLIENT_HELP_REPLY


@subcommand("client", "id", 2, "noscript loading stale", acl="@slow @connection",
            summary="Returns the client ID for the current connection",
            since="5.0.0", group="connection", complexity="O(1)", args="")
def client_id(c, argv):
    return integer(c.id)


@subcommand("client", "setname", 3, "noscript loading stale", acl="@slow @connection",
            summary="Set the current connection name", since="2.6.9",
            group="connection", complexity="O(1)", args="connection-name")
def client_setname(c, argv):
    if not valid_client_name(argv[2]):
        raise CommandError(errors.CLIENT_NAME_INVALID)
    set_client_name(c, argv[2])
    return OK


@subcommand("client", "getname", 2, "noscript loading stale", acl="@slow @connection",
            summary="Get the current connection name", since="2.6.9",
            group="connection", complexity="O(1)", args="")
def client_getname(c, argv):
    if c.name is None:
        return null(c.resp)
    return bulk(c.name)


@subcommand("client", "reply", 3, "noscript loading stale", acl="@slow @connection",
            summary="Instruct the server whether to reply to commands",
            since="3.2.0", group="connection", complexity="O(1)",
            args="(ON|OFF|SKIP)")
def client_reply(c, argv):
    mode = keyword(argv[2])
    if mode == b"on":
        reply_on(c)
        return OK
    if mode == b"off":
        if type(c.reply) is not _ReplyOff:
            c.reply = _ReplyOff(c.reply)
        return None
    if mode == b"skip":
        # a SKIP while replies are OFF changes nothing (CLIENT_REPLY_SKIP_NEXT
        # is only set when OFF is not)
        if type(c.reply) is not _ReplyOff:
            c.reply = _ReplySkip(c.reply)
        return None
    raise CommandError(errors.SYNTAX)


@subcommand("client", "no-evict", 3, "admin noscript loading stale",
            acl="@admin @slow @dangerous @connection",
            summary="Set client eviction mode for the current connection",
            since="7.0.0", group="connection", complexity="O(1)",
            args="enabled:(ON|OFF)")
def client_no_evict(c, argv):
    mode = keyword(argv[2])
    if mode == b"on":
        c.flags |= cl.NO_EVICT
    elif mode == b"off":
        c.flags &= ~cl.NO_EVICT
    else:
        raise CommandError(errors.SYNTAX)
    return OK


@subcommand("client", "getredir", 2, "noscript loading stale", acl="@slow @connection",
            summary="Get tracking notifications redirection client ID if any",
            since="6.0.0", group="connection", complexity="O(1)", args="")
def client_getredir(c, argv):
    # -1: tracking is not enabled (kvserver has no key tracking)
    return b":-1\r\n"


@subcommand("client", "trackinginfo", 2, "noscript loading stale",
            acl="@slow @connection",
            summary="Return information about server assisted client side caching "
                    "for the current connection",
            since="6.2.0", group="connection", complexity="O(1)", args="")
def client_trackinginfo(c, argv):
    r = c.resp
    return (map_header(3, r) + bulk(b"flags") + set_header(1, r) + bulk(b"off")
            + bulk(b"redirect") + b":-1\r\n" + bulk(b"prefixes") + EMPTY_ARRAY)


@subcommand("client", "caching", 3, "noscript loading stale", acl="@slow @connection",
            summary="Instruct the server about tracking or not keys in the next request",
            since="6.0.0", group="connection", complexity="O(1)",
            args="mode:(YES|NO)")
def client_caching(c, argv):
    # Redis checks for tracking before looking at the argument
    raise CommandError(errors.CLIENT_CACHING_NO_TRACKING)


# --- CLIENT LIST / INFO / KILL --------------------------------------------------------

_TYPES = {b"normal": "normal", b"slave": "replica", b"replica": "replica",
          b"pubsub": "pubsub", b"master": "master"}


def client_type(c) -> str:
    """getClientType: master, replica, pubsub or normal."""
    if c.kind != "normal":
        return c.kind
    if _is_pubsub(c):
        return "pubsub"
    return "normal"


def _is_pubsub(c) -> bool:
    flag = getattr(cl, "PUBSUB", 0)
    return bool(flag and c.flags & flag)


def _sub_counts(c) -> tuple:
    """Channels, patterns and shard channels `c` is subscribed to."""
    counts = []
    for attr in ("channels", "patterns", "shard_channels"):
        v = getattr(c, attr, None)
        counts.append(len(v) if v else 0)
    return counts


def _flags_text(c) -> str:
    f = c.flags
    out = []
    if c.kind == "replica":
        out.append("S")
    elif c.kind == "master":
        out.append("M")
    if _is_pubsub(c):
        out.append("P")
    if c.multi is not None or f & cl.MULTI:
        out.append("x")
    if c.blocked is not None or f & cl.BLOCKED:
        out.append("b")
    if c.dirty_cas:
        out.append("d")
    if f & cl.CLOSE_AFTER_REPLY:
        out.append("c")
    if f & cl.CLOSE_ASAP:
        out.append("A")
    if f & cl.UNIX_SOCKET:
        out.append("U")
    if f & cl.NO_EVICT:
        out.append("e")
    return "".join(out) or "N"


def client_info(c, now_ms: int, current=None, current_cmd=None) -> bytes:
    """catClientInfoString: one CLIENT LIST line, fields in Redis 7.0's order.

    Memory figures are the bytes kvserver holds for the client: qbuf is the
    unparsed input, argv-mem the arguments of the command being parsed (and,
    for `current`, of the one running), multi-mem the queued MULTI commands,
    oll/omem the queued reply chunks.  kvserver has no fixed reply buffer,
    so rbs, rbp and obl are 0.
    """
    parser = c.parser
    qbuf = parser.pending()
    partial = parser.argv
    argv_mem = sum(map(len, partial)) if partial else 0
    if current is not None:
        argv_mem += sum(map(len, current))
    multi = c.multi
    multi_mem = 0
    if multi is not None:
        for _spec, args in multi:
            multi_mem += sum(map(len, args))
    reply = c.reply
    oll = len(reply)
    omem = sum(map(len, reply))
    if c.out is not None:
        oll += 1
        omem += len(c.out)
    tot_mem = qbuf + argv_mem + multi_mem + omem
    sub, psub, ssub = _sub_counts(c)
    now_s = now_ms // 1000
    cmd = current_cmd or c.last_cmd
    if type(cmd) is bytes:
        cmd = cmd.decode("ascii")
    # names are printable ASCII (valid_client_name)
    name = c.name.decode("ascii") if c.name else ""
    events = "rw" if c.want_write else "r"
    line = (f"id={c.id} addr={c.addr} laddr={c.laddr} fd={c.fd} name={name} "
            f"age={now_s - c.ctime // 1000} idle={now_s - c.last_interaction // 1000} "
            f"flags={_flags_text(c)} db={c.db.id} sub={sub} psub={psub} ssub={ssub} "
            f"multi={len(multi) if multi is not None else -1} qbuf={qbuf} qbuf-free=0 "
            f"argv-mem={argv_mem} multi-mem={multi_mem} rbs=0 rbp=0 obl=0 oll={oll} "
            f"omem={omem} tot-mem={tot_mem} events={events} cmd={cmd} user={c.user} "
            f"redir=-1 resp={c.resp}")
    # addresses of unix sockets are paths, which may hold any bytes
    return line.encode("utf-8", "surrogateescape")


@subcommand("client", "info", 2, "noscript loading stale", acl="@slow @connection",
            tips=("nondeterministic_output",),
            summary="Returns information about the current client connection.",
            since="6.2.0", group="connection", complexity="O(1)", args="")
def client_info_cmd(c, argv):
    line = client_info(c, clock.now_ms(), argv, "client|info")
    return verbatim(line + b"\n", c.resp)


@subcommand("client", "list", -2, "admin noscript loading stale",
            acl="@admin @slow @dangerous @connection",
            tips=("nondeterministic_output",),
            summary="Get the list of client connections", since="2.4.0",
            group="connection",
            complexity="O(N) where N is the number of client connections",
            history=(("2.8.12", "Added unique client `id` field."),
                     ("5.0.0", "Added optional `TYPE` filter."),
                     ("6.0.0", "Added `user` field."),
                     ("6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields "
                               "and the optional `ID` filter."),
                     ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
                     ("7.0.3", "Added `ssub` field.")),
            args="[TYPE (NORMAL|MASTER|REPLICA|PUBSUB)]@5.0.0 "
                 "[id:ID (client-id [client-id ...])]@6.2.0")
def client_list(c, argv):
    clients = c.server.clients
    n = len(argv)
    if n == 4 and keyword(argv[2]) == b"type":
        want = _TYPES.get(keyword(argv[3]))
        if want is None:
            raise errors.unknown_client_type(argv[3])
        chosen = [x for x in clients.values() if client_type(x) == want]
    elif n > 3 and keyword(argv[2]) == b"id":
        ids = []
        for a in argv[3:]:
            v = strict_int(a)
            if v is None:
                raise CommandError(errors.INVALID_CLIENT_ID)
            ids.append(v)
        chosen = [clients[i] for i in ids if i in clients]
    elif n != 2:
        raise CommandError(errors.SYNTAX)
    else:
        chosen = list(clients.values())
    now = clock.now_ms()
    out = []
    for x in chosen:
        if x is c:
            out.append(client_info(x, now, argv, "client|list"))
        else:
            out.append(client_info(x, now))
        out.append(b"\n")
    return verbatim(b"".join(out), c.resp)


def _text(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


@subcommand("client", "kill", -3, "admin noscript loading stale",
            acl="@admin @slow @dangerous @connection",
            summary="Kill the connection of a client", since="2.4.0",
            group="connection",
            complexity="O(N) where N is the number of client connections",
            history=(("2.8.12", "Added new filter format."),
                     ("2.8.12", "`ID` option."),
                     ("3.2.0", "Added `master` type in for `TYPE` option."),
                     ("5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still "
                               "supported for backward compatibility."),
                     ("6.2.0", "`LADDR` option.")),
            args='filter:("ip:port"{deprecated_since=2.8.12}|new-format:('
                 '[ID client-id]@2.8.12|'
                 '[TYPE normal_master_slave_pubsub:(NORMAL|MASTER@3.2.0|SLAVE|REPLICA@5.0.0|PUBSUB)]@2.8.12|'
                 '[USER username]|[ADDR "ip:port"]|[LADDR "ip:port"]@6.2.0|'
                 '[SKIPME "yes/no"])...)')
def client_kill(c, argv):
    addr = laddr = user = ctype = None
    cid = 0
    skipme = True
    n = len(argv)
    if n == 3:
        addr = argv[2]
        skipme = False      # the old form may kill the caller itself
    else:
        i = 2
        while i < n:
            opt = keyword(argv[i])
            more = i + 1 < n
            if opt == b"id" and more:
                v = strict_int(argv[i + 1])
                if v is None or v < 1:
                    raise CommandError(errors.CLIENT_ID_NOT_POSITIVE)
                cid = v
            elif opt == b"type" and more:
                ctype = _TYPES.get(keyword(argv[i + 1]))
                if ctype is None:
                    raise errors.unknown_client_type(argv[i + 1])
            elif opt == b"addr" and more:
                addr = argv[i + 1]
            elif opt == b"laddr" and more:
                laddr = argv[i + 1]
            elif opt == b"user" and more:
                user = argv[i + 1]
                if not user_exists(c.server, user):
                    raise errors.no_such_user(user)
            elif opt == b"skipme" and more:
                v = keyword(argv[i + 1])
                if v == b"yes":
                    skipme = True
                elif v == b"no":
                    skipme = False
                else:
                    raise CommandError(errors.SYNTAX)
            else:
                raise CommandError(errors.SYNTAX)
            i += 2
    server = c.server
    killed = 0
    close_self = False
    for x in list(server.clients.values()):
        if addr is not None and _text(x.addr) != addr:
            continue
        if laddr is not None and _text(x.laddr) != laddr:
            continue
        if ctype is not None and client_type(x) != ctype:
            continue
        if cid and x.id != cid:
            continue
        if user is not None and x.user.encode() != user:
            continue
        if x is c:
            if skipme:
                continue
            close_self = True
        else:
            server.free_client(x)
        killed += 1
    if close_self:
        # flagged only now, so the reply below is still written first
        c.flags |= cl.CLOSE_AFTER_REPLY
    if n == 3:
        if not killed:
            raise CommandError(errors.NO_SUCH_CLIENT)
        return OK
    return integer(killed)
