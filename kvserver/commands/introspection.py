"""COMMAND and its subcommands: the command table describing itself.

Everything here is derived from the declarations in the one command table
(table.py), the way Redis 7.0 derives COMMAND's replies from its command
structs: flags in Redis's order plus "movablekeys", ACL categories with the
implied ones (@write for write commands, @slow for all that are not @fast,
...), key specs (declared, or derived from `keys=(first, last, step)`),
tips, and the COMMAND DOCS argument tree parsed from `args=` (docs.py).

A command's COMMAND INFO and COMMAND DOCS replies never change once the
table is loaded, so each is encoded once per protocol version and kept;
COMMAND with no arguments is then a join of cached bytes.

GETKEYS follows getKeysFromCommandWithSpecs: key specs first, the command's
`getkeys` function when the specs cannot tell (INCOMPLETE, unknown, bad
numkeys), and for SET and BITFIELD, whose key flags depend on the arguments
(VARIABLE_FLAGS), the same rules as Redis's setGetKeys/bitfieldGetKeys.
"""

from kvserver import errors
from kvserver.glob import compile_glob
from kvserver.commands import docs
from kvserver.commands.table import (
    COMMANDS, Flag, KeySpec, container, lookup, subcommand)
from kvserver.errors import CommandError
from kvserver.net import resp
from kvserver.net.resp import bulk, integer, strict_int

# --- reply values -------------------------------------------------------------
# COMMAND's replies mix maps, sets, arrays and status strings that flatten
# differently in RESP2 and RESP3; they are built as these values once and
# encoded per protocol.


class Map(tuple):
    """Pairs (key, value); a RESP3 map, a flat array in RESP2."""


class Set(tuple):
    """A RESP3 set, an array in RESP2."""


class Status(str):
    """A simple string (+...)."""


def encode(v, proto: int) -> bytes:
    out = []
    _encode(v, proto, out)
    return b"".join(out)


def _encode(v, proto, out):
    if isinstance(v, Status):
        out.append(b"+" + v.encode() + b"\r\n")
    elif isinstance(v, str):
        out.append(bulk(v.encode()))
    elif isinstance(v, bool) or v is None:
        raise TypeError(v)
    elif isinstance(v, int):
        out.append(integer(v))
    elif isinstance(v, Map):
        out.append(resp.map_header(len(v), proto))
        for k, x in v:
            _encode(k, proto, out)
            _encode(x, proto, out)
    elif isinstance(v, Set):
        out.append(resp.set_header(len(v), proto))
        for x in v:
            _encode(x, proto, out)
    else:
        out.append(resp.array_header(len(v)))
        for x in v:
            _encode(x, proto, out)


# --- what Redis derives from a command's declaration -------------------------

# addReplyFlagsForCommand's order; MOVABLE_KEYS is computed, not declared.
_FLAG_NAMES = (
    (Flag.WRITE, "write"), (Flag.READONLY, "readonly"),
    (Flag.DENYOOM, "denyoom"), (Flag.MODULE, "module"), (Flag.ADMIN, "admin"),
    (Flag.PUBSUB, "pubsub"), (Flag.NOSCRIPT, "noscript"),
    (Flag.BLOCKING, "blocking"), (Flag.LOADING, "loading"),
    (Flag.STALE, "stale"), (Flag.SKIP_MONITOR, "skip_monitor"),
    (Flag.SKIP_SLOWLOG, "skip_slowlog"), (Flag.ASKING, "asking"),
    (Flag.FAST, "fast"), (Flag.NO_AUTH, "no_auth"),
    (Flag.MAY_REPLICATE, "may_replicate"),
    (Flag.NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (Flag.NO_ASYNC_LOADING, "no_async_loading"), (Flag.NO_MULTI, "no_multi"),
    (None, "movablekeys"), (Flag.ALLOW_BUSY, "allow_busy"),
)

# acl.c ACLCommandCategories, in its order (the order of COMMAND's replies).
CATEGORIES = (
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
    "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast",
    "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
)

# addReplyFlagsForKeyArgs's order and spelling.
KEY_FLAGS = (
    ("RO", "RO"), ("RW", "RW"), ("OW", "OW"), ("RM", "RM"),
    ("ACCESS", "access"), ("UPDATE", "update"), ("INSERT", "insert"),
    ("DELETE", "delete"), ("NOT_KEY", "not_key"),
    ("INCOMPLETE", "incomplete"), ("VARIABLE_FLAGS", "variable_flags"),
)
_KEY_FLAG_NAMES = dict(KEY_FLAGS)

GROUPS = (
    "generic", "string", "list", "set", "sorted-set", "hash", "pubsub",
    "transactions", "connection", "server", "scripting", "hyperloglog",
    "cluster", "sentinel", "geo", "stream", "bitmap", "module",
)
DOC_FLAGS = ("deprecated", "syscmd")


def categories(spec) -> list:
    """The ACL categories (without '@'), implied ones included, in order."""
    cats = {a.lstrip("@").lower() for a in spec.acl}
    f = spec.flags
    if f & Flag.WRITE:
        cats.add("write")
    if f & Flag.READONLY and "scripting" not in cats:
        cats.add("read")
    if f & Flag.ADMIN:
        cats.update(("admin", "dangerous"))
    if f & Flag.PUBSUB:
        cats.add("pubsub")
    if f & Flag.FAST:
        cats.add("fast")
    if f & Flag.BLOCKING:
        cats.add("blocking")
    if "fast" not in cats:
        cats.add("slow")
    return [c for c in CATEGORIES if c in cats]


def _keyspec_from_json(d: dict) -> KeySpec:
    """A key spec written as in Redis's src/commands/*.json."""
    bs = d.get("begin_search") or {}
    fk = d.get("find_keys") or {}
    kw = {}
    if "index" in bs:
        kw["index"] = bs["index"]["pos"]
    elif "keyword" in bs:
        kw["keyword"] = bs["keyword"]["keyword"]
        kw["startfrom"] = bs["keyword"]["startfrom"]
    if "range" in fk:
        r = fk["range"]
        kw["range"] = (r["lastkey"], r.get("step", 1), r.get("limit", 0))
    elif "keynum" in fk:
        k = fk["keynum"]
        kw["keynum"] = (k["keynumidx"], k["firstkey"], k.get("step", 1))
    elif kw:
        kw["range"] = None   # an unknown find_keys after a known beginning
    ks = KeySpec(" ".join(d.get("flags", ())), notes=d.get("notes"), **kw)
    if "range" in kw and kw["range"] is None:
        ks.range = None
    return ks


def _keyspec(k) -> KeySpec:
    if isinstance(k, KeySpec):
        return k
    if isinstance(k, dict):
        return _keyspec_from_json(k)
    return KeySpec(k)


def key_specs(spec) -> list:
    """The command's key specs: declared (KeySpec objects, or dicts shaped
    like Redis's JSON), or the one `keys=` implies."""
    declared = spec.key_specs
    if declared is not None and not isinstance(declared, str):
        cached = _specs_cache.get(spec)
        if cached is None:
            cached = _specs_cache[spec] = [_keyspec(k) for k in declared]
        return cached
    if spec.first_key == 0:
        return []
    if declared is None:
        f = spec.flags
        declared = ("RO ACCESS" if f & Flag.READONLY and not f & Flag.WRITE
                    else "RW UPDATE")
    first, last = spec.first_key, spec.last_key
    return [KeySpec(declared, index=first,
                    range=(last - first if last >= 0 else last, spec.key_step, 0))]


_specs_cache: dict = {}


def movable_keys(spec) -> bool:
    for ks in key_specs(spec):
        if ks.index is None or ks.range is None:
            return True
    # a getkeys function without specs saying where the keys are
    return spec.getkeys is not None and spec.key_specs is None


def _key_flags(flags) -> Set:
    return Set(Status(name) for f, name in KEY_FLAGS if f in flags)


def _key_spec_value(ks: KeySpec) -> Map:
    if ks.index is not None:
        begin = Map((("type", "index"), ("spec", Map((("index", ks.index),)))))
    elif ks.keyword is not None:
        begin = Map((("type", "keyword"),
                     ("spec", Map((("keyword", ks.keyword),
                                   ("startfrom", ks.startfrom))))))
    else:
        begin = Map((("type", "unknown"), ("spec", Map())))
    if ks.range is not None:
        last, step, limit = ks.range
        find = Map((("type", "range"),
                    ("spec", Map((("lastkey", last), ("keystep", step),
                                  ("limit", limit))))))
    elif ks.keynum is not None:
        idx, first, step = ks.keynum
        find = Map((("type", "keynum"),
                    ("spec", Map((("keynumidx", idx), ("firstkey", first),
                                  ("keystep", step))))))
    else:
        find = Map((("type", "unknown"), ("spec", Map())))
    fields = []
    if ks.notes:
        fields.append(("notes", ks.notes))
    fields += [("flags", _key_flags(ks.flags)), ("begin_search", begin),
               ("find_keys", find)]
    return Map(fields)


def info_value(spec):
    """COMMAND INFO's ten-element array for one command."""
    flags = [Status(name) for f, name in _FLAG_NAMES
             if (spec.flags & f if f is not None else movable_keys(spec))]
    subs = spec.subcommands
    return [
        spec.fullname, spec.arity, Set(flags),
        spec.first_key, spec.last_key, spec.key_step,
        Set(Status("@" + c) for c in categories(spec)),
        Set(spec.tips),
        Set(_key_spec_value(k) for k in key_specs(spec)),
        [info_value(s) for s in subs.values()] if subs else Set(),
    ]


def _arg_value(a: docs.Arg) -> Map:
    fields = [("name", a.name), ("type", a.type)]
    if a.key_spec_index != -1:
        fields.append(("key_spec_index", a.key_spec_index))
    for k in ("token", "summary", "since", "deprecated_since"):
        v = getattr(a, k)
        if v is not None:
            fields.append((k, v))
    if a.flags:
        fields.append(("flags", Set(Status(f) for f in docs.FLAG_ORDER
                                    if f in a.flags)))
    if a.args is not None:
        fields.append(("arguments", [_arg_value(x) for x in a.args]))
    return Map(fields)


def _words(v) -> tuple:
    return tuple(v.split()) if isinstance(v, str) else tuple(v or ())


def docs_value(spec) -> Map:
    """COMMAND DOCS's map for one command."""
    d = spec.doc
    fields = [("summary", d.get("summary", "")), ("since", d.get("since", "")),
              ("group", d.get("group", ""))]
    if d.get("complexity"):
        fields.append(("complexity", d["complexity"]))
    doc_flags = _words(d.get("doc_flags"))
    if doc_flags:
        fields.append(("doc_flags", Set(Status(f) for f in DOC_FLAGS
                                        if f in doc_flags)))
    for k in ("deprecated_since", "replaced_by"):
        if d.get(k):
            fields.append((k, d[k]))
    if d.get("history"):
        fields.append(("history", Set([v, t] for v, t in d["history"])))
    args = docs.parse_args(d.get("args", ""))
    if args:
        fields.append(("arguments", [_arg_value(a) for a in args]))
    if spec.subcommands:
        fields.append(("subcommands", Map((s.fullname, docs_value(s))
                                          for s in spec.subcommands.values())))
    return Map(fields)


def declaration_problems(spec) -> list:
    """What is missing or malformed in a command's declaration (tests)."""
    p = []
    d = spec.doc
    for k in ("summary", "since", "group", "complexity"):
        if not d.get(k):
            p.append(f"{spec.fullname}: no {k}")
    if d.get("group") and d["group"] not in GROUPS:
        p.append(f"{spec.fullname}: unknown group {d['group']!r}")
    if "args" not in d and not spec.subcommands:
        p.append(f"{spec.fullname}: no args (use args=\"\" for none)")
    try:
        docs.parse_args(d.get("args", ""))
    except docs.SyntaxError_ as e:
        p.append(f"{spec.fullname}: {e}")
    for a in spec.acl:
        if a.lstrip("@").lower() not in CATEGORIES:
            p.append(f"{spec.fullname}: unknown ACL category {a!r}")
    for f in _words(d.get("doc_flags")):
        if f not in DOC_FLAGS:
            p.append(f"{spec.fullname}: unknown doc flag {f!r}")
    for ks in key_specs(spec):
        for f in ks.flags:
            if f not in _KEY_FLAG_NAMES:
                p.append(f"{spec.fullname}: unknown key-spec flag {f!r}")
    for sub in (spec.subcommands or {}).values():
        p += declaration_problems(sub)
    return p


# Encoded replies per command, [RESP2, RESP3]; the table is fixed once
# loaded, so these never go stale.
_info_cache: dict = {}
_docs_cache: dict = {}


def _cached(cache, builder, spec, proto):
    entry = cache.get(spec)
    if entry is None:
        v = builder(spec)
        entry = cache[spec] = (encode(v, 2), encode(v, 3))
    return entry[proto == 3]


def info_reply(spec, proto) -> bytes:
    return _cached(_info_cache, info_value, spec, proto)


def docs_reply(spec, proto) -> bytes:
    return _cached(_docs_cache, docs_value, spec, proto)


def find_by_fullname(name: bytes):
    """lookupCommandBySds: "get" or "config|get", any case."""
    parts = name.split(b"|")
    if len(parts) > 2:
        return None
    spec = lookup(parts[0])
    if spec is None or len(parts) == 1:
        return spec
    if not spec.subcommands:
        return None
    return spec.subcommands.get(parts[1].lower().decode("latin-1"))


# --- keys from arguments (db.c) -------------------------------------------------

def keys_from_specs(specs, argv):
    """getKeysUsingKeySpecs: [(position, flags)], or None if the specs cannot
    tell (unknown or INCOMPLETE spec, numkeys out of range)."""
    argc = len(argv)
    out = []
    for ks in specs:
        if "NOT_KEY" in ks.flags:
            continue
        if ks.index is not None:
            first = ks.index
        elif ks.keyword is not None:
            first = 0
            kw = ks.keyword.lower().encode()
            sf = ks.startfrom
            start = sf if sf > 0 else argc + sf
            end = argc - 1 if sf > 0 else 1
            i = start
            while i != end:
                if i >= argc or i < 1:
                    break
                if argv[i].lower() == kw:
                    first = i + 1
                    break
                i = i + 1 if start <= end else i - 1
            if not first:
                continue
        else:
            return None
        if ks.range is not None:
            lastkey, step, limit = ks.range
            if lastkey >= 0:
                last = first + lastkey
            elif not limit:
                last = argc + lastkey
            else:
                last = first + ((argc - first) // limit + lastkey)
        elif ks.keynum is not None:
            idx, firstkey, step = ks.keynum
            if first + idx >= argc:
                return None
            n = strict_int(argv[first + idx])
            if n is None or n < 0:
                return None
            first += firstkey
            last = first + n - 1
        else:
            return None
        if last >= argc or last < first or first >= argc:
            return None
        for i in range(first, last + 1, step):
            out.append((i, ks.flags))
        if "INCOMPLETE" in ks.flags:
            return None
    return out


def _set_key_flags(argv):
    for a in argv[3:]:
        if a.lower() == b"get":
            return [(1, ("RW", "ACCESS", "UPDATE"))]
    return [(1, ("OW", "UPDATE"))]


def _bitfield_key_flags(argv):
    readonly = True
    i, argc = 2, len(argv)
    while i < argc:
        rem = argc - i - 1
        a = argv[i].lower()
        if a == b"get" and rem >= 2:
            i += 2
        elif a in (b"set", b"incrby") and rem >= 3:
            readonly = False
            break
        elif a == b"overflow" and rem >= 1:
            i += 1
        else:
            readonly = False
            break
        i += 1
    return [(1, ("RO", "ACCESS") if readonly else ("RW", "ACCESS", "UPDATE"))]


# Commands whose key flags depend on their arguments (VARIABLE_FLAGS).
_VARIABLE_FLAGS = {"set": _set_key_flags, "bitfield": _bitfield_key_flags}


def command_keys(spec, argv):
    """getKeysFromCommandWithSpecs: [(key, flags)] for an arity-checked argv,
    or None when the arguments do not say (Redis: 0 keys)."""
    specs = key_specs(spec)
    varflags = any("VARIABLE_FLAGS" in ks.flags for ks in specs)
    if not varflags and any("NOT_KEY" not in ks.flags for ks in specs):
        found = keys_from_specs(specs, argv)
        if found is not None:
            return [(argv[i], f) for i, f in found]
    variable = _VARIABLE_FLAGS.get(spec.fullname) if varflags else None
    if variable is not None:
        return [(argv[i], f) for i, f in variable(argv)]
    if spec.getkeys is not None:
        # a getkeys function names keys, not positions; their flags are
        # those of the command's first key spec, unless the function has a
        # `with_flags` twin giving (key, flags) pairs (SORT's STORE key)
        with_flags = getattr(spec.getkeys, "with_flags", None)
        if with_flags is not None:
            return with_flags(argv)
        flags = specs[0].flags if specs else ()
        return [(k, flags) for k in spec.getkeys(argv)]
    return None


def _resolve(argv):
    """lookupCommand over the arguments after GETKEYS: container and sub."""
    spec = lookup(argv[0])
    if spec is None or len(argv) == 1 or not spec.subcommands:
        return spec
    return spec.subcommands.get(argv[1].lower().decode("latin-1"))


def _getkeys(argv, with_flags: bool, proto: int) -> bytes:
    cmd = argv[2:]
    spec = _resolve(cmd)
    if spec is None:
        raise CommandError(errors.GETKEYS_INVALID_COMMAND)
    return getkeys_reply(spec, cmd, with_flags, proto)


def getkeys_reply(spec, cmd, with_flags: bool, proto: int = 2) -> bytes:
    """GETKEYS / GETKEYSANDFLAGS for the command line `cmd` run by `spec`."""
    specs = key_specs(spec)
    if spec.getkeys is None and all("NOT_KEY" in ks.flags for ks in specs):
        raise CommandError(errors.GETKEYS_NO_KEYS)
    if not spec.arity_ok(len(cmd)):
        raise CommandError(errors.GETKEYS_BAD_ARITY)
    found = command_keys(spec, cmd)
    if not found:
        if spec.flags & Flag.NO_MANDATORY_KEYS:
            return resp.EMPTY_ARRAY
        raise CommandError(errors.GETKEYS_BAD_ARGS)
    out = [resp.array_header(len(found))]
    for key, flags in found:
        if with_flags:
            out.append(b"*2\r\n")
            out.append(bulk(key))
            out.append(encode(_key_flags(flags), proto))
        else:
            out.append(bulk(key))
    return b"".join(out)


# --- COMMAND LIST filters ------------------------------------------------------

def all_commands() -> list:
    """The commands clients can call, each once: rename-command moves one
    to another name (its full name stays) or drops it from the table."""
    seen = {}
    for spec in COMMANDS.values():
        seen[id(spec)] = spec
    return list(seen.values())


def _list_names(filt) -> list:
    out = []
    for spec in all_commands():
        for s in [spec, *(spec.subcommands or {}).values()]:
            if filt is None or filt(s):
                out.append(s.fullname.encode())
    return out


# --- the commands -------------------------------------------------------------

_SERVER = dict(group="server")
_FLAGS = "loading stale"
_ACL = "@slow @connection"
_NONDET = ("nondeterministic_output_order",)


def command_all(c, argv):
    specs = all_commands()
    proto = c.resp
    return b"".join([resp.array_header(len(specs))]
                    + [info_reply(s, proto) for s in specs])


container("command", -1, _FLAGS, acl=_ACL, handler=command_all, tips=_NONDET,
          summary="Get array of Redis command details", since="2.8.13",
          complexity="O(N) where N is the total number of Redis commands",
          **_SERVER)


@subcommand("command", "count", 2, _FLAGS, acl=_ACL,
            summary="Get total number of Redis commands", since="2.8.13",
            complexity="O(1)", args="", **_SERVER)
def command_count(c, argv):
    return integer(len(all_commands()))


@subcommand("command", "info", -2, _FLAGS, acl=_ACL, tips=_NONDET,
            summary="Get array of specific Redis command details, or all when "
                    "no argument is given.",
            since="2.8.13",
            complexity="O(N) where N is the number of commands to look up",
            history=(("7.0.0", "Allowed to be called with no argument to get "
                               "info on all commands."),),
            args="[command-name [command-name ...]]", **_SERVER)
def command_info(c, argv):
    if len(argv) == 2:
        return command_all(c, argv)
    proto = c.resp
    out = [resp.array_header(len(argv) - 2)]
    for name in argv[2:]:
        spec = find_by_fullname(name)
        out.append(resp.NULL2 if spec is None and proto == 2
                   else resp.NULL3 if spec is None
                   else info_reply(spec, proto))
    return b"".join(out)


@subcommand("command", "docs", -2, _FLAGS, acl=_ACL, tips=_NONDET,
            summary="Get array of specific Redis command documentation",
            since="7.0.0",
            complexity="O(N) where N is the number of commands to look up",
            args="[command-name [command-name ...]]", **_SERVER)
def command_docs(c, argv):
    proto = c.resp
    if len(argv) == 2:
        specs = all_commands()
    else:
        specs = [s for s in map(find_by_fullname, argv[2:]) if s is not None]
    out = [resp.map_header(len(specs), proto)]
    for s in specs:
        out.append(bulk(s.fullname.encode()))
        out.append(docs_reply(s, proto))
    return b"".join(out)


@subcommand("command", "getkeys", -4, _FLAGS, acl=_ACL,
            summary="Extract keys given a full Redis command", since="2.8.13",
            complexity="O(N) where N is the number of arguments to the command",
            args="", **_SERVER)
def command_getkeys(c, argv):
    return _getkeys(argv, False, c.resp)


@subcommand("command", "getkeysandflags", -4, _FLAGS, acl=_ACL,
            summary="Extract keys and access flags given a full Redis command",
            since="7.0.0",
            complexity="O(N) where N is the number of arguments to the command",
            args="", **_SERVER)
def command_getkeysandflags(c, argv):
    return _getkeys(argv, True, c.resp)


@subcommand("command", "list", -2, _FLAGS, acl=_ACL, tips=_NONDET,
            summary="Get an array of Redis command names", since="7.0.0",
            complexity="O(N) where N is the total number of Redis commands",
            args="[filterby:FILTERBY (MODULE module-name|ACLCAT category|"
                 "PATTERN pattern)]", **_SERVER)
def command_list(c, argv):
    filt = None
    i, argc = 2, len(argv)
    while i < argc:
        if argv[i].lower() != b"filterby" or argc - 1 - i != 2:
            raise CommandError(errors.SYNTAX)
        kind, arg = argv[i + 1].lower(), argv[i + 2]
        if kind == b"module":
            # no modules are loaded, so no command belongs to one
            filt = _no_command
        elif kind == b"aclcat":
            cat = arg.lower().decode("latin-1")
            filt = (_no_command if cat not in CATEGORIES
                    else (lambda s, cat=cat: cat in categories(s)))
        elif kind == b"pattern":
            match = compile_glob(arg, True)
            filt = (lambda s, match=match: match(s.fullname.encode()))
        else:
            raise CommandError(errors.SYNTAX)
        i += 3
    return resp.array(_list_names(filt))


def _no_command(spec):
    return False


_HELP = (
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
)
_HELP_REPLY = encode([Status(line) for line in _HELP], 2)


@subcommand("command", "help", 2, _FLAGS, acl=_ACL,
            summary="Show helpful text about the different subcommands",
            since="5.0.0", complexity="O(1)", args="", **_SERVER)
def command_help(c, argv):
    return _HELP_REPLY

