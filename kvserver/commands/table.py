"""The command table: every command declared once, as data.

A handler is registered with `@command(...)` (or `@subcommand(...)` for a
container such as CONFIG) together with everything the dispatcher and
COMMAND INFO/DOCS need: arity (Redis convention: negative means "at least"),
flags, key positions, ACL categories and documentation.  Dispatch checks
arity and key extraction here, in one place, for every command.

Handlers have the signature `handler(client, argv) -> bytes` and return
the encoded reply; they raise `CommandError` for an error reply.

Modules listed in `COMMAND_MODULES` are imported by `load()`; each module
registers its own commands, and nothing else adds to the table.
"""

import enum
import importlib


class Flag(enum.Flag):
    NONE = 0
    WRITE = enum.auto()
    READONLY = enum.auto()
    DENYOOM = enum.auto()
    MODULE = enum.auto()
    ADMIN = enum.auto()
    PUBSUB = enum.auto()
    NOSCRIPT = enum.auto()
    BLOCKING = enum.auto()
    LOADING = enum.auto()
    STALE = enum.auto()
    SKIP_MONITOR = enum.auto()
    SKIP_SLOWLOG = enum.auto()
    ASKING = enum.auto()
    FAST = enum.auto()
    NO_AUTH = enum.auto()
    MAY_REPLICATE = enum.auto()
    SENTINEL = enum.auto()
    ONLY_SENTINEL = enum.auto()
    NO_MANDATORY_KEYS = enum.auto()
    PROTECTED = enum.auto()
    NO_ASYNC_LOADING = enum.auto()
    NO_MULTI = enum.auto()
    ALLOW_BUSY = enum.auto()


def parse_flags(text: str) -> Flag:
    f = Flag.NONE
    for word in text.split():
        f |= Flag[word.upper()]
    return f


class CommandSpec:
    __slots__ = (
        "name", "fullname", "arity", "flags", "first_key", "last_key",
        "key_step", "acl", "handler", "subcommands", "parent", "getkeys",
        "doc", "tips", "key_specs", "fast_arity", "fast_min_args", "run", "run_same_key",
        # statistics for INFO commandstats
        "calls", "duration_ns", "rejected_calls", "failed_calls",
    )

    def __init__(self, name, arity, flags, keys, acl, handler, parent=None,
                 getkeys=None, doc=None, tips=(), key_specs=None):
        self.name = name
        self.parent = parent
        self.fullname = f"{parent.name}|{name}" if parent else name
        self.arity = arity
        # What the dispatcher's inline path compares argc with; 0 (never
        # matches) routes containers through the full dispatch.
        self.fast_arity = arity
        self.flags = parse_flags(flags) if isinstance(flags, str) else flags
        self._set_fast_min_args()
        if self.flags & Flag.PROTECTED:
            # enable-<name>-command is checked by dispatch.execute only
            self.full_dispatch_only()
        self.first_key, self.last_key, self.key_step = keys
        self.acl = tuple(acl.split()) if isinstance(acl, str) else tuple(acl)
        self.handler = handler
        self.run = None     # see run_handler
        self.run_same_key = False
        self.subcommands = None
        self.getkeys = getkeys
        self.doc = doc or {}
        self.tips = tuple(tips)
        self.key_specs = key_specs
        self.calls = self.duration_ns = self.rejected_calls = self.failed_calls = 0

    def full_dispatch_only(self):
        """Keep this command off the execute loop's inline path."""
        self.fast_arity = 0
        self._set_fast_min_args()

    def _set_fast_min_args(self):
        """The inline path's arity test is `argc == fast_arity or argc >=
        fast_min_args`: a negative arity is "at least", a positive one
        leaves the second test unreachable."""
        a = self.fast_arity
        self.fast_min_args = -a if a < 0 else 1 << 30

    def arity_ok(self, argc: int) -> bool:
        a = self.arity
        return argc == a if a > 0 else argc >= -a

    def keys(self, argv: list) -> list:
        """The key arguments of `argv` (COMMAND GETKEYS, WATCH, ACL...)."""
        if self.getkeys is not None:
            return self.getkeys(argv)
        if self.first_key == 0:
            return []
        last = self.last_key
        if last < 0:
            last = len(argv) + last
        return argv[self.first_key:last + 1:self.key_step]

    def reset_stats(self):
        self.calls = self.duration_ns = self.rejected_calls = self.failed_calls = 0
        for sub in (self.subcommands or {}).values():
            sub.reset_stats()

    def __repr__(self):
        return f"<CommandSpec {self.fullname}>"


class KeySpec:
    """One Redis 7 key specification (COMMAND INFO's key specs, GETKEYS).

    `flags`: key-spec flags, e.g. "RW ACCESS DELETE" (RO RW OW RM ACCESS
    UPDATE INSERT DELETE NOT_KEY INCOMPLETE VARIABLE_FLAGS).
    Where the search begins: `index=N`, or `keyword="STORE"` searched from
    `startfrom` (negative: from the end, backwards); neither means unknown.
    How keys are found from there: `range=(lastkey, keystep, limit)`
    (lastkey relative to the first key, negative counts from the end), or
    `keynum=(keynumidx, firstkey, keystep)`; neither means unknown, or the
    one-key range (0, 1, 0) when the beginning is known.

    A command's `key_specs=` takes a list of these (or of dicts shaped as in
    Redis's src/commands/*.json: flags, notes, begin_search, find_keys); a
    plain string there is the flags of the single spec derived from
    `keys=(first, last, step)`.
    """

    __slots__ = ("flags", "index", "keyword", "startfrom", "range", "keynum",
                 "notes")

    def __init__(self, flags, index=None, keyword=None, startfrom=1,
                 range=None, keynum=None, notes=None):
        self.flags = tuple(flags.upper().split())
        self.index = index
        self.keyword = keyword
        self.startfrom = startfrom
        if range is None and keynum is None and (index or keyword):
            range = (0, 1, 0)
        self.range = range
        self.keynum = keynum
        self.notes = notes

    def __repr__(self):
        return f"<KeySpec {' '.join(self.flags)}>"


# upper-case name and lower-case name both map here, so dispatch finds the
# common spellings with one dict lookup and falls back to .lower() otherwise
COMMANDS: dict[bytes, CommandSpec] = {}
_BY_NAME: dict[str, CommandSpec] = {}


def _register(spec: CommandSpec):
    if spec.name in _BY_NAME:
        raise ValueError(f"command {spec.name} registered twice")
    _BY_NAME[spec.name] = spec
    b = spec.name.encode()
    COMMANDS[b] = spec
    COMMANDS[b.upper()] = spec


def command(name, arity, flags="", keys=(0, 0, 0), acl="", getkeys=None,
            tips=(), key_specs=None, **doc):
    """Register `handler` as command `name`.  `doc` feeds COMMAND DOCS:
    summary, since, group, complexity, args (syntax string, grammar in
    commands/docs.py), history (pairs of version and text), doc_flags,
    deprecated_since, replaced_by.  `key_specs`: see KeySpec; `tips`:
    COMMAND INFO tips such as "nondeterministic_output"."""

    def deco(handler):
        _register(CommandSpec(name, arity, flags, keys, acl, handler,
                              getkeys=getkeys, doc=doc, tips=tips,
                              key_specs=key_specs))
        return handler
    return deco


def run_handler(name, same_key: bool = True):
    """Register a run handler for command `name`: `run(c, pending, i,
    append) -> int` executes the longest stretch of `pending` from index i
    (pending[i] being `name` with a valid arity, from a client outside
    MULTI, and pending[i + 1] spelling the same command name, and with
    `same_key` the same key) that it can
    execute as one operation with exactly the effects
    and replies of running each command in turn, appends one reply per
    command, and returns how many it took: 0 when it takes none (then the
    normal handler runs pending[i]).  A pipeline of the same write to the
    same key (redis-benchmark's, a bulk load) then costs one key lookup
    and one structure update, not one of each per command.  A run handler
    stops before anything that could make the commands' effects
    observable in between: clients blocked on the key, expiring keys.
    With `same_key` (a stretch on one key) the execute loop also compares
    the neighbour's key before calling it, so varied keys cost nothing."""

    def deco(fn):
        spec = _BY_NAME[name]
        spec.run = fn
        spec.run_same_key = same_key
        return fn
    return deco


def key_run(c, pending, i: int, argc: int, cls):
    """For a run handler working on one key: (value, end) when pending[i]
    has `argc` arguments, its key holds a `cls` that Db.lookup_for_run
    returns (no TTL, no LFU) and the same command on the same key follows
    at least once up to `end`; otherwise None.  The execute loop calls a
    run handler on one key only when pending[i + 1] names the same
    command and key (run_handler's `same_key`)."""
    first = pending[i]
    if len(first) != argc or len(pending[i + 1]) != argc:
        return None
    v = c.db.lookup_for_run(first[1])
    if type(v) is not cls:
        return None
    return v, same_command_run(pending, i, argc, True)


def missing_key_run(c, pending, i: int, argc: int, append, reply: bytes) -> int:
    """For a run handler of a command that does nothing to a missing key
    (a pop, polling an empty queue): when pending[i]'s key does not exist
    and at least two commands from i are that command on that key, append
    `reply` for each of them and return how many; else 0."""
    if len(pending[i]) != argc or pending[i][1] in c.db.data:
        return 0
    m = same_command_run(pending, i, argc, True) - i
    if m < 2:
        return 0
    append(reply * m)
    return m


def identical_run(pending, i: int) -> int:
    """The end (exclusive) of the stretch of `pending` from i repeating
    pending[i] exactly.  Compared in windows that double while they
    match, so the cost follows the stretch, never the rest of `pending`."""
    first = pending[i]
    n = len(pending)
    j = i + 1
    if j < n and pending[j] != first:
        return j        # varied traffic: no list is built to find that out
    w = 8
    while j < n:
        k = j + w if j + w < n else n
        if pending[j:k] != [first] * (k - j):
            while pending[j] == first:
                j += 1
            return j
        j = k
        w += w
    return j


def same_command_run(pending, i: int, argc: int, same_key: bool = False) -> int:
    """The end (exclusive) of the stretch of `pending` from i whose
    commands are all `argc` arguments long and spell the command (and,
    with `same_key`, the key) exactly as pending[i] does."""
    j = identical_run(pending, i)       # the usual pipeline, checked in C
    first = pending[i]
    name = first[0]
    key = first[1] if same_key else None
    n = len(pending)
    while j < n:
        a = pending[j]
        if (type(a) is not list or len(a) != argc or a[0] != name
                or (same_key and a[1] != key)):
            break
        j += 1
    return j


def container(name, arity=-2, flags="", acl="", handler=None, tips=(), **doc):
    """Register a command made of subcommands (CONFIG, CLIENT, OBJECT...).
    `handler`, if given, runs when the command comes without a subcommand
    (COMMAND alone lists every command)."""
    spec = CommandSpec(name, arity, flags, (0, 0, 0), acl, handler, doc=doc,
                       tips=tips)
    spec.subcommands = {}
    spec.full_dispatch_only()
    _register(spec)
    return spec


def subcommand(parent: str, name, arity, flags="", keys=(0, 0, 0), acl="",
               getkeys=None, tips=(), key_specs=None, **doc):
    def deco(handler):
        p = _BY_NAME[parent]
        spec = CommandSpec(name, arity, flags, keys, acl, handler, parent=p,
                           getkeys=getkeys, doc=doc, tips=tips,
                           key_specs=key_specs)
        p.subcommands[name] = spec
        return handler
    return deco


def lookup(name: bytes) -> CommandSpec | None:
    spec = COMMANDS.get(name)
    if spec is None:
        spec = COMMANDS.get(name.lower())
    return spec


def all_commands() -> list[CommandSpec]:
    return list(_BY_NAME.values())


def by_name(name: str) -> CommandSpec | None:
    return _BY_NAME.get(name.lower())


COMMAND_MODULES = (
    "connection", "strings", "keys", "server", "introspection", "config_cmd",
    "transactions", "lists", "hashes", "sets", "zsets", "bitmaps",
    "hyperloglog", "geo", "sort", "blocking",
)


def load():
    for mod in COMMAND_MODULES:
        importlib.import_module(f"kvserver.commands.{mod}")
