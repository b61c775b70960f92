"""From a command's `args=` syntax string to Redis 7.0's argument tree.

COMMAND DOCS describes each argument as a map (name, type, key_spec_index,
token, summary, since, deprecated_since, flags, arguments), and redis-cli
builds its interactive hints from that tree, so the tree must be exactly
the one Redis's src/commands/*.json give.  Commands declare it as one line
close to the usage line of the Redis docs:

    key value condition:[NX|XX]@2.6.12 [GET]@6.2.0
        expiration:[EX seconds@2.6.12|PX milliseconds@2.6.12|KEEPTTL@6.0.0]

Grammar:
  lower-case word    an argument; its type comes from its name (NAME_TYPES,
                     default string) unless written `name:type` (key, string,
                     integer, double, pattern, unix-time).  Quote names that
                     hold syntax characters: "ip:port".
  UPPER-CASE word    a token (anything without lower-case letters: NX, *, =,
                     "" for the empty token).  Alone it is a pure-token named
                     after its lower-cased text; `name:TOKEN` names it.
                     Followed (in the same sequence, up to the next token) by
                     one argument, that argument gets the token; by several,
                     they form a block that carries the token.  A comma ends
                     a token's reach: BYBOX width, height unit.
  [ ... ]            optional.  One argument inside: that argument, optional.
  ( ... )            a block (one alternative) or a oneof (several).
  a | b              alternatives: [..|..] and (..|..) are oneofs; an
                     alternative of several arguments is a block.
  name:( / name:[    names the group.  Unnamed blocks and oneofs are named
                     by joining their children's names with "_", as most of
                     Redis's are.
  x [x ...]          x may repeat (multiple).  x may be several items (a
                     block), and a repeated token makes it multiple_token:
                     GET pattern [GET pattern ...].  `x...` says the same.
  @7.0.0             `since` of the item it follows (no space needed).
  {k=v;k=v}          other fields of the item it follows: summary,
                     deprecated_since, key_spec_index.

Key arguments get key_spec_index 0, 1, 2... in order of appearance; an
explicit key_spec_index moves the count past itself.  Parsing happens once
per command (see introspection.py, which caches the encoded replies).
"""

import re

TYPES = ("key", "string", "integer", "double", "pattern", "unix-time")

# Types Redis's commands give to common argument names; anything else is a
# string unless the declaration says `name:type`.
NAME_TYPES = {
    "key": "key", "key1": "key", "key2": "key", "newkey": "key",
    "destination": "key", "destkey": "key", "dst": "key", "source": "key",
    "sourcekey": "key", "src": "key",
    "pattern": "pattern",
    "unix-time-seconds": "unix-time", "unix-time-milliseconds": "unix-time",
    "latitude": "double", "longitude": "double", "radius": "double",
    "width": "double", "height": "double", "score": "double",
    "timeout": "double",
}
for _n in ("bits", "client-id", "count", "cursor", "db", "decrement",
           "destination-db", "end", "end-slot", "entries_added",
           "entries_read", "frequency", "increment", "index", "index1",
           "index2", "len", "limit", "milliseconds", "ms", "num-matches",
           "numkeys", "numreplicas", "offset", "port", "protover", "rank",
           "seconds", "slot", "start", "start-slot", "stop", "ttl",
           "version", "weight", "cluster_bus_port", "config-epoch"):
    NAME_TYPES[_n] = "integer"

FLAG_ORDER = ("optional", "multiple", "multiple_token")
_ANN_KEYS = ("since", "summary", "deprecated_since", "key_spec_index")


class SyntaxError_(ValueError):
    """A malformed args= declaration; raised while the table is checked."""


class Arg:
    """One node of the COMMAND DOCS argument tree."""

    __slots__ = ("name", "type", "key_spec_index", "token", "summary",
                 "since", "deprecated_since", "flags", "args")

    def __init__(self, name, type, token=None, args=None):
        self.name = name
        self.type = type
        self.key_spec_index = -1
        self.token = token
        self.summary = self.since = self.deprecated_since = None
        self.flags = set()
        self.args = args

    def as_dict(self) -> dict:
        """The reply's fields, in Redis's order (tests and redis-cli hints)."""
        d = {"name": self.name, "type": self.type}
        if self.key_spec_index != -1:
            d["key_spec_index"] = self.key_spec_index
        for k in ("token", "summary", "since", "deprecated_since"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        if self.flags:
            d["flags"] = [f for f in FLAG_ORDER if f in self.flags]
        if self.args is not None:
            d["arguments"] = [a.as_dict() for a in self.args]
        return d

    def __repr__(self):
        return f"<Arg {self.name}:{self.type}>"


# --- tokens -------------------------------------------------------------------

_TOKEN_RE = re.compile(r"""
    \s*(?:
      (?P<open>[\[(]) | (?P<close>[\])]) | (?P<bar>\|) | (?P<dots>\.\.\.)
    | (?P<comma>,)
    | (?P<label>[\w\-]+):(?=[\[(])
    | (?:(?P<qname>[\w\-]+):)?"(?P<quoted>[^"]*)"
    | @(?P<since>[0-9][0-9.]*)
    | \{(?P<ann>[^}]*)\}
    | (?P<word>(?:[^\s\[\]()|@{}".,]|\.(?!\.\.))+)
    )""", re.X)


def _tokenize(text: str) -> list:
    out = []
    pos = 0
    end = len(text.rstrip())
    while pos < end:
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise SyntaxError_(f"cannot parse {text[pos:]!r} in {text!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind in ("open", "close", "bar", "comma"):
            out.append((m.group(kind), None))
        elif kind == "dots":
            out.append(("...", None))
        elif kind == "label":
            out.append(("label", m.group("label")))
        elif kind in ("quoted", "qname"):
            q = m.group("quoted")
            if any(ch.islower() for ch in q) and m.group("qname") is None:
                out.append(("word", (q, "atom", None)))
            else:
                out.append(("word", (m.group("qname"), "tok", q)))
        elif kind == "since":
            out.append(("ann", {"since": m.group("since")}))
        elif kind == "ann":
            ann = {}
            for part in m.group("ann").split(";"):
                k, _, v = part.partition("=")
                k = k.strip()
                if k not in _ANN_KEYS:
                    raise SyntaxError_(f"unknown field {k!r} in {text!r}")
                if k == "key_spec_index":
                    if not v.strip().isdigit():
                        raise SyntaxError_(f"bad key_spec_index in {text!r}")
                    ann[k] = int(v)
                else:
                    ann[k] = v.strip()
            out.append(("ann", ann))
        else:
            out.append(("word", _word(m.group("word"), text)))
    return out


def _word(w: str, text: str):
    """(name, kind, token-or-type) for one bare word; a token's name is
    None unless given, so that a token block can tell "named" apart."""
    name, colon, rest = w.partition(":")
    if colon:
        if rest in TYPES:
            return (name, "atom", rest)
        if rest and not any(ch.islower() for ch in rest) and name:
            return (name, "tok", rest)
        raise SyntaxError_(f"bad word {w!r} in {text!r}")
    if any(ch.islower() for ch in w):
        return (w, "atom", None)
    return (None, "tok", w)


# --- parse tree -----------------------------------------------------------------

class _Node:
    __slots__ = ("kind", "name", "value", "alts", "items", "ann", "multiple",
                 "sig")

    def __init__(self, kind, name=None, value=None):
        self.kind = kind        # "atom", "tok", "group", "repeat"
        self.name = name
        self.value = value      # atom: explicit type; tok: token; group: "[" or "("
        self.alts = None
        self.items = None
        self.ann = {}
        self.multiple = False
        self.sig = ()           # what `x [x ...]` compares


class _Parser:
    def __init__(self, text):
        self.text = text
        self.toks = _tokenize(text)
        self.pos = 0

    def error(self, what):
        return SyntaxError_(f"{what} in args {self.text!r}")

    def peek(self):
        return self.toks[self.pos][0] if self.pos < len(self.toks) else None

    def parse(self):
        alts = self.alternatives()
        if self.pos != len(self.toks):
            raise self.error(f"unexpected {self.peek()!r}")
        if len(alts) != 1:
            raise self.error("top-level '|' (put alternatives in parentheses)")
        return alts[0]

    def alternatives(self):
        alts = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            alts.append(self.sequence())
        return alts

    def sequence(self):
        nodes = []
        while True:
            t = self.peek()
            if t is None or t in ("]", ")", "|"):
                if not nodes:
                    if t is None and self.pos == 0:
                        return nodes
                    raise self.error("empty sequence")
                return nodes
            start = self.pos
            if t == "[" and nodes and self.repeat(nodes):
                continue
            if t in ("[", "(", "label"):
                node = self.group()
            elif t == "word":
                name, kind, extra = self.toks[self.pos][1]
                self.pos += 1
                node = _Node(kind, name, extra)
                node.sig = (("tok", extra) if kind == "tok" else ("atom", name),)
            elif t == "ann":
                if not nodes:
                    raise self.error("annotation before any argument")
                nodes[-1].ann.update(self.toks[self.pos][1])
                self.pos += 1
                continue
            elif t == ",":
                if not nodes:
                    raise self.error("',' before any argument")
                self.pos += 1
                nodes.append(_Node("sep"))
                continue
            elif t == "...":
                if not nodes:
                    raise self.error("'...' before any argument")
                nodes[-1].multiple = True
                self.pos += 1
                continue
            else:
                raise self.error(f"unexpected {t!r}")
            if node.kind == "group":
                node.sig = tuple(_sig(tok) for tok in self.toks[start:self.pos]
                                 if tok[0] not in ("ann", "label"))
            nodes.append(node)

    def group(self):
        name = None
        if self.peek() == "label":
            name = self.toks[self.pos][1]
            self.pos += 1
        opener = self.peek()
        if opener not in ("[", "("):
            raise self.error("a name with ':' must precede '[' or '('")
        self.pos += 1
        node = _Node("group", name, opener)
        node.alts = self.alternatives()
        closer = "]" if opener == "[" else ")"
        if self.peek() != closer:
            raise self.error(f"missing {closer!r}")
        self.pos += 1
        return node

    def repeat(self, nodes) -> bool:
        """At '[': if it is `[x ...]` repeating the last nodes, fold them."""
        depth, j = 0, self.pos
        while j < len(self.toks):
            k = self.toks[j][0]
            if k in ("[", "("):
                depth += 1
            elif k in ("]", ")"):
                depth -= 1
                if depth == 0:
                    break
            j += 1
        else:
            return False
        inner = self.toks[self.pos + 1:j]
        if not inner or inner[-1][0] != "...":
            return False
        want = tuple(_sig(t) for t in inner[:-1] if t[0] not in ("ann", "label"))
        have = ()
        for k in range(1, len(nodes) + 1):
            have = sum((n.sig for n in nodes[-k:]), ())
            if have == want:
                break
        else:
            return False
        rep = _Node("repeat")
        rep.items = nodes[-k:]
        rep.sig = have
        del nodes[-k:]
        nodes.append(rep)
        self.pos = j + 1
        return True


def _sig(tok):
    kind, val = tok
    if kind == "word":
        name, wk, extra = val
        return ("tok", extra) if wk == "tok" else ("atom", name)
    return (kind,)


# --- parse tree to argument tree ------------------------------------------------

def _apply(arg: Arg, node: _Node) -> Arg:
    for k, v in node.ann.items():
        setattr(arg, k, v)
    if node.multiple:
        arg.flags.add("multiple")
    return arg


def _joined(args) -> str:
    return "_".join(a.name for a in args)


def _starts_with_token(node) -> bool:
    return node.kind == "tok" or (node.kind == "repeat"
                                  and node.items[0].kind == "tok")


def _build_seq(nodes) -> list:
    out = []
    i = 0
    while i < len(nodes):
        n = nodes[i]
        if n.kind == "sep":
            i += 1
            continue
        if n.kind != "tok":
            out.append(_build(n))
            i += 1
            continue
        j = i + 1
        while (j < len(nodes) and nodes[j].kind != "sep"
               and not _starts_with_token(nodes[j])):
            j += 1
        operands = [_build(x) for x in nodes[i + 1:j]]
        if not operands:
            arg = Arg(n.name or n.value.lower(), "pure-token", token=n.value)
        elif len(operands) == 1 and operands[0].token is None:
            arg = operands[0]
            arg.token = n.value
            if n.name:
                arg.name = n.name
        else:
            arg = Arg(n.name or _joined(operands), "block", token=n.value,
                      args=operands)
        out.append(_apply(arg, n))
        i = j
    return out


def _build(n: _Node) -> Arg:
    if n.kind == "atom":
        t = n.value or NAME_TYPES.get(n.name, "string")
        return _apply(Arg(n.name, t), n)
    if n.kind == "tok":
        return _build_seq([n])[0]
    if n.kind == "repeat":
        inner = _build_seq(n.items)
        if len(inner) == 1:
            arg = inner[0]
            arg.flags.add("multiple")
            if n.items[0].kind == "tok" and len(n.items) > 1:
                arg.flags.add("multiple_token")
        else:
            arg = Arg(_joined(inner), "block", args=inner)
            arg.flags.add("multiple")
        return _apply(arg, n)
    # a group
    if len(n.alts) > 1:
        alts = []
        for alt in n.alts:
            inner = _build_seq(alt)
            alts.append(inner[0] if len(inner) == 1
                        else Arg(_joined(inner), "block", args=inner))
        arg = Arg(n.name or _joined(alts), "oneof", args=alts)
    else:
        inner = _build_seq(n.alts[0])
        if n.value == "[" and len(inner) == 1 and n.name is None:
            arg = inner[0]
        else:
            arg = Arg(n.name or _joined(inner), "block", args=inner)
    if n.value == "[":
        arg.flags.add("optional")
    return _apply(arg, n)


def _number_keys(args, counter):
    for a in args:
        if a.key_spec_index != -1:
            counter = max(counter, a.key_spec_index + 1)
        elif a.type == "key":
            a.key_spec_index = counter
            counter += 1
        if a.args:
            counter = _number_keys(a.args, counter)
    return counter


def parse_args(text: str) -> list:
    """The argument tree (list of Arg) for one `args=` declaration."""
    if not text or not text.strip():
        return []
    args = _build_seq(_Parser(text).parse())
    _number_keys(args, 0)
    return args
