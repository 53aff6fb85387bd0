"""One config file's YAML as plain data, and where each key and value stands in the text.

ruamel.yaml's round-trip loader does the reading, as YAML 1.2: ``20:00``, ``yes`` and ``on`` stay
words and ``010`` is ten. A bare date (``2016-03-04``) stays text as well: YAML 1.2's core schema
has no timestamps, though ruamel reads them unless told not to. The loader records the line and
column of every key, value and list item (``.lc``); ``Parsed.locate`` follows a path through them.
On top of that reader:

- an alias bomb is refused before anything is expanded: the aliases in a file may repeat at most
  ALIAS_BUDGET values in all, and none may point into the value it is part of;
- every duplicate key is reported where it stands, with the line of the first;
- the rest of the config sees plain dicts, lists, strings and numbers, never ruamel's types.

Nothing here knows the schema.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import (
    CommentedKeyMap,
    CommentedKeySeq,
    CommentedMap,
    CommentedSeq,
    TaggedScalar,
)
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, StreamMark
from ruamel.yaml.events import AliasEvent, ScalarEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.parser import RoundTripParser
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tokens import ValueToken
from ruamel.yaml.scalarbool import ScalarBoolean

from bot.config.fields import shown
from bot.config.problems import Anchor, Path_

# How many values *aliases may repeat in one file, counted before anything is expanded: a few
# shared lists are fine; an alias bomb (each level repeating the one above) is refused.
ALIAS_BUDGET = 1000
MAX_DEPTH = 100  # nesting; the config files need four or five levels
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


@dataclass(frozen=True)
class Mark:
    """A place in a file, both counted from 1."""

    line: int
    column: int


@dataclass(frozen=True)
class YamlIssue:
    """Something wrong with the YAML itself (a duplicate key), with its own place."""

    path: Path_
    at: Mark
    message: str


class YamlProblem(Exception):
    """The file cannot be read as YAML (or is refused before it is); ``at`` is where."""

    def __init__(self, at: Mark | None, message: str) -> None:
        super().__init__(message)
        self.at, self.message = at, message


@dataclass(frozen=True)
class Parsed:
    """A file's plain data, ruamel's tree of it (which knows the places) and its YAML issues."""

    data: Any
    tree: Any = None
    issues: list[YamlIssue] = field(default_factory=list)

    def locate(self, path: Path_, anchor: Anchor) -> Mark | None:
        """Where to point for an issue at path: its value, its key, or its parent's key."""
        steps = self._steps(path)
        if anchor == "key" and len(steps) == len(path) and steps[-1][0] is not None:
            return steps[-1][0]
        if anchor == "parent":
            if len(path) < 2:
                return None
            parent = path[:-1]
            steps = steps[:len(parent)]
            if len(steps) == len(parent) and steps[-1][0] is not None:
                return steps[-1][0]
        for _key, value in reversed(steps):  # the value at path, or the nearest one above it
            if value is not None:
                return value
        return None

    def _steps(self, path: Path_) -> list[tuple[Mark | None, Mark | None]]:
        """(key, value) places of each part of path, as far as the path leads."""
        out: list[tuple[Mark | None, Mark | None]] = []
        node = self.tree
        for part in path:
            step = _step(node, part)
            if step is None:
                break
            node, key, value = step
            out.append((key, value))
        return out


def _step(node: Any, part: Any) -> tuple[Any, Mark | None, Mark | None] | None:
    """The child at part, with the places of its key and value."""
    if isinstance(node, CommentedMap):
        for source in (node, *node.merge):  # a key merged in (<<: *x) stands where it was written
            place = source.lc.data.get(part) if _hashable(part) else None
            if place is not None:
                return source[part], Mark(place[0] + 1, place[1] + 1), Mark(place[2] + 1,
                                                                            place[3] + 1)
        return None
    if isinstance(node, CommentedSeq) and isinstance(part, int) and not isinstance(part, bool):
        place = node.lc.data.get(part)
        if place is not None and 0 <= part < len(node):
            return node[part], None, Mark(place[0] + 1, place[1] + 1)
    return None


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def position(text: str, index: int) -> Mark:
    """The line and column of a character in text."""
    before = text[:index]
    return Mark(before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1)


@functools.lru_cache(maxsize=8)
def parse_yaml(text: str) -> Parsed | None:
    """The document with its places; None when it holds nothing. Raises YamlProblem.

    The same text parses once per process (a reload of an unchanged file, every worker's start,
    the tests' many bots): callers read what it returns and never change it.
    """
    reader = _reader()
    try:
        node = reader.compose(text)
        if node is None:
            return None
        constructor = reader.constructor
        tree = constructor.construct_document(node)
        issues: list[YamlIssue] = []
        data = _plain(tree, (), {}, constructor.duplicates, issues)
    except YamlProblem:
        raise
    except ReaderError as e:
        raise YamlProblem(position(text, e.position),
                          f"YAML syntax error: {str(e).splitlines()[0]}") from None
    except MaxDepthExceededError as e:
        raise YamlProblem(_mark(e.problem_mark), "YAML syntax error: nested too deeply") from None
    except MarkedYAMLError as e:
        raise YamlProblem(_mark(e.problem_mark or e.context_mark), _syntax_message(e)) from None
    except RecursionError:
        raise YamlProblem(None, "YAML syntax error: nested too deeply") from None
    except Exception:  # a value that cannot be what its tag says (!!int xx)
        raise _unreadable(reader.constructor.last_node) from None
    return Parsed(data, tree, issues)


# ---------------------------------------------------------------- ruamel, told what to do


class _Resolver(VersionedResolver):  # type: ignore[misc]
    """YAML 1.2's plain scalars, without timestamps, whatever a %YAML line in the file says."""

    @property
    def processing_version(self) -> Any:
        return (1, 2)

    def add_version_implicit_resolver(self, version: Any, tag: Any, regexp: Any,
                                      first: Any) -> None:
        if tag != _TIMESTAMP:
            super().add_version_implicit_resolver(version, tag, regexp, first)


class _Parser(RoundTripParser):  # type: ignore[misc]
    """Parses as ruamel does, but places a value left empty (``title:``) just after its colon,
    as PyYAML did, rather than at the next key."""

    def parse_block_mapping_value(self) -> Any:
        colon = self.scanner.peek_token() if self.scanner.check_token(ValueToken) else None
        event = super().parse_block_mapping_value()
        if (colon is not None and isinstance(event, ScalarEvent) and event.value == ""
                and event.ctag is None and event.anchor is None and event.style is None):
            event.start_mark = event.end_mark = colon.end_mark
        return event


class _Composer(Composer):  # type: ignore[misc]
    """Composes as ruamel does, counting what each alias would repeat before it is expanded:
    an alias into its own value, or more than ALIAS_BUDGET values in all, is refused."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.warn_double_anchors = False  # an anchor used twice is allowed; the second one counts
        self._open_anchors: set[str] = set()
        self._sizes: dict[int, int] = {}
        self._repeated = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None:
                self._count(event, target)
            return super().compose_node(parent, index)
        anchor = event.anchor
        if anchor is None:
            return super().compose_node(parent, index)
        self._open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._open_anchors.discard(anchor)

    def _count(self, alias: AliasEvent, target: Node) -> None:
        at = _mark(alias.start_mark)
        if alias.anchor in self._open_anchors:
            raise YamlProblem(at, f"YAML aliases (*{alias.anchor}) may not point into the value "
                                  "they are part of; write the values out instead")
        self._repeated += self._size(target)
        if self._repeated > ALIAS_BUDGET:
            raise YamlProblem(at, f"YAML aliases (*name) in this file repeat more than "
                                  f"{ALIAS_BUDGET} values; write the values out instead")

    def _size(self, node: Node) -> int:
        """How many values node stands for once expanded (each node counted once: linear)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        size = 1
        if isinstance(node, SequenceNode):
            size += sum(self._size(item) for item in node.value)
        elif isinstance(node, MappingNode):
            size += sum(self._size(k) + self._size(v) for k, v in node.value)
        self._sizes[id(node)] = size
        return size


class _Constructor(RoundTripConstructor):  # type: ignore[misc]
    """Constructs as ruamel does, remembering the node it is on (to locate a value it cannot
    read) and every duplicate key (ruamel would stop at the first), and refusing unknown tags."""

    def __init__(self, preserve_quotes: Any = None, loader: Any = None) -> None:
        super().__init__(preserve_quotes=preserve_quotes, loader=loader)
        self.last_node: Node | None = None
        self.duplicates: dict[int, list[tuple[Any, Mark, int]]] = {}  # id(mapping) → repeats
        self._first_lines: dict[tuple[int, Any], int] = {}

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        self.last_node = node
        return super().construct_object(node, deep)

    def check_mapping_key(self, node: Node, key_node: Node, mapping: Any, key: Any,
                          value: Any) -> bool:
        """True, so the last value of a repeated key counts (as in PyYAML); each repeat is
        recorded with the line of the first. A list or mapping as a key is refused."""
        if isinstance(key, CommentedKeySeq | CommentedKeyMap):
            raise ConstructorError("while constructing a mapping", node.start_mark,
                                   "found unhashable key", key_node.start_mark)
        if key in mapping:
            first_line = self._first_lines.setdefault((id(mapping), key),
                                                      mapping.lc.key(key)[0] + 1)
            at = _mark(key_node.start_mark) or Mark(1, 1)
            self.duplicates.setdefault(id(mapping), []).append((key, at, first_line))
        return True

    def construct_unknown_tag(self, node: Node) -> Any:
        raise ConstructorError(None, None,
                               f"could not determine a constructor for the tag '{node.tag}'",
                               node.start_mark)


_Constructor.add_constructor(None, _Constructor.construct_unknown_tag)


def _reader() -> YAML:
    """A fresh round-trip reader (it holds one file's state, so each parse has its own)."""
    reader = YAML(typ="rt", pure=True)
    reader.Parser = _Parser
    reader.Resolver = _Resolver
    reader.Composer = _Composer
    reader.Constructor = _Constructor
    reader.max_depth = MAX_DEPTH
    return reader


# ---------------------------------------------------------------- plain data


def _plain(value: Any, path: Path_, seen: dict[int, Any],
           duplicates: dict[int, list[tuple[Any, Mark, int]]], issues: list[YamlIssue]) -> Any:
    """value with ruamel's types made plain; a value met again (an alias) is shared, as written."""
    if isinstance(value, dict | list | set):
        known = seen.get(id(value))
        if known is not None:
            return known
    if isinstance(value, dict):
        mapping: dict[Any, Any] = {}
        seen[id(value)] = mapping
        for key, item in value.items():
            plain_key = _plain_scalar(key)
            mapping[plain_key] = _plain(item, (*path, plain_key), seen, duplicates, issues)
        for key, at, first_line in duplicates.get(id(value), ()):
            issues.append(YamlIssue((*path, _plain_scalar(key)), at, f"duplicate key '{key}' "
                                    f"(first on line {first_line}); keep only one"))
        return mapping
    if isinstance(value, list):
        items: list[Any] = []
        seen[id(value)] = items
        items.extend(_plain(item, (*path, i), seen, duplicates, issues)
                     for i, item in enumerate(value))
        return items
    if isinstance(value, set):
        members = {_plain_scalar(m) for m in value}
        seen[id(value)] = members
        return members
    return _plain_scalar(value)


def _plain_scalar(value: Any) -> Any:
    if isinstance(value, ScalarBoolean):  # an int underneath
        return bool(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, TaggedScalar):  # what ruamel makes of an explicit !!str
        return str(value.value)
    if isinstance(value, tuple):  # a list used as a key
        return tuple(_plain_scalar(v) for v in value)
    return value  # !!binary bytes, !!timestamp dates: refused by the schema as they are


# ---------------------------------------------------------------- messages


def _mark(m: StreamMark | None) -> Mark | None:
    return Mark(m.line + 1, m.column + 1) if m is not None else None


def _syntax_message(e: MarkedYAMLError) -> str:
    if e.context == "expected a single document in the stream":
        return ("YAML syntax error: the file holds more than one YAML document (a second '---' "
                "line); keep only one")
    text = e.problem or e.context or "the file cannot be read as YAML"
    if e.context and e.problem and e.context_mark is not None:
        text += f" ({e.context} on line {e.context_mark.line + 1})"
    text = re.sub(r"\('([^']*)',\)", r"'\1'", text)  # ruamel's "but found ('<scalar>',)"
    if "'\\t'" in text:
        text += "; indent with spaces, not tabs"
    return f"YAML syntax error: {text}"


def _unreadable(node: Node | None) -> YamlProblem:
    """A value ruamel could not construct (``!!int xx``, a date that does not exist, …)."""
    what = shown(node.value) if isinstance(node, ScalarNode) else "this value"
    tag = (node.tag or "").replace("tag:yaml.org,2002:", "!!") if node is not None else ""
    return YamlProblem(_mark(node.start_mark) if node is not None else None,
                       f"YAML syntax error: {what} cannot be read as {tag or 'a value'}")
