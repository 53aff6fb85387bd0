"""Read config/settings.yaml and config/recommendations.yaml into a Config, or say precisely what is wrong.

Every problem is located: ``settings.yaml:14:3: reminders.session[2]: '7 days' is not a duration;
write it like 7d``. All problems in both files are reported together. Nothing here exits or prints.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.config.build import build_config, session_moment
from bot.config.fields import shown
from bot.config.problems import ConfigError, Issue, Path_, Problem, dotted
from bot.config.schema import validate_recommendations, validate_settings
from bot.config.tokens import TOKEN_RE, redact
from bot.config.types import Config, Person
from bot.config.passages import passages_of
from bot.moments import format_moment

SETTINGS_FILE = "settings.yaml"
RECOMMENDATIONS_FILE = "recommendations.yaml"
REPORT_FILE = "report.txt"  # the report itself, indexed for search when present

TOKEN_WARNING = ("this looks like a Slack token; secrets belong in the environment "
                 "(SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN), not in YAML")
_MAX_MARKS = 200_000
# How many values *aliases may repeat in one file, counted before anything is expanded: a few
# shared lists are fine; an alias bomb (each level repeating the one above) is refused.
ALIAS_BUDGET = 1000


@dataclass(frozen=True)
class Loaded:
    """A valid config, the warnings about it, and the fingerprint of the files it came from."""

    config: Config
    warnings: tuple[Problem, ...]
    fingerprint: str


def config_files(directory: Path) -> tuple[Path, Path]:
    """The settings and recommendations files in a config directory."""
    directory = Path(directory)
    return directory / SETTINGS_FILE, directory / RECOMMENDATIONS_FILE


def fingerprint(directory: Path) -> str:
    """A cheap hash of both files' bytes, to notice edits (a missing file hashes as missing)."""
    return read_config(directory).fingerprint


@dataclass(frozen=True)
class ConfigFiles:
    """Both files' bytes as read once: what is judged, hashed and saved is this and only this."""

    directory: Path
    settings: _File
    recommendations: _File
    fingerprint: str

    def modified_before(self, moment: datetime) -> bool:
        """True when both files exist and neither was modified after moment."""
        stamps = (self.settings.mtime, self.recommendations.mtime)
        return all(m is not None for m in stamps) and max(
            m for m in stamps if m is not None) <= moment.timestamp()

    def contents(self) -> tuple[tuple[str, bytes], ...]:
        """(file name, bytes) of each file that could be read."""
        return tuple((f.name, f.data) for f in (self.settings, self.recommendations)
                     if f.data is not None)


def read_config(directory: Path) -> ConfigFiles:
    """Read both files once."""
    directory = Path(directory)
    settings, recs = (_read(p) for p in config_files(directory))
    return ConfigFiles(directory, settings, recs, _digest([settings, recs]))


def load_config(directory: Path, *, now: datetime) -> Loaded:
    """Both files as a validated Config; raises ConfigError listing every problem found."""
    return load_files(read_config(directory), now=now)


def load_files(files: ConfigFiles, *, now: datetime) -> Loaded:
    """The files already read, as a validated Config; raises ConfigError (with their fingerprint)."""
    try:
        return _load(files, now)
    except ConfigError:
        raise
    except Exception as e:  # a bug here must not take the bot down with it
        raise ConfigError([Problem(SETTINGS_FILE, None, None, "",
                                   f"the config could not be checked ({type(e).__name__}: {e}); "
                                   "please report this")], fingerprint=files.fingerprint) from e


# The Slack ids the shipped settings.yaml holds as examples (a test keeps them in step with it).
SHIPPED_EXAMPLE_IDS = frozenset({"C0WGMIGRATE", "C0WGCOORDS", "U0ADMIN01", "U0COORD01"})


def shipped_examples(files: ConfigFiles) -> list[Problem]:
    """A located warning for each Slack id in settings.yaml that is still a shipped example."""
    opened = _open(files.settings, files.directory)
    if opened.parsed is None:
        return []
    issues: list[Issue] = []
    seen: set[int] = set()

    def walk(value: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(value, str) and value in SHIPPED_EXAMPLE_IDS:
            what = "channel" if value.startswith("C") else "member"
            issues.append(Issue(path, f"{value} is the shipped example {what} id; replace it "
                                f"with your workspace's before going live", severity="warning"))
        elif isinstance(value, dict | list) and id(value) not in seen:
            seen.add(id(value))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                walk(item, (*path, key))

    walk(opened.parsed.data, ())
    return _located(files.settings.name, opened.parsed, issues)


# ---------------------------------------------------------------- files


@dataclass(frozen=True)
class _File:
    name: str
    data: bytes | None
    error: str | None
    mtime: float | None = None


def _read(path: Path) -> _File:
    try:
        with open(path, "rb") as f:
            mtime = os.fstat(f.fileno()).st_mtime
            return _File(path.name, f.read(), None, mtime)
    except FileNotFoundError:
        return _File(path.name, None, "missing")
    except IsADirectoryError:
        return _File(path.name, None, "a folder, not a file")
    except OSError as e:
        return _File(path.name, None, e.strerror or type(e).__name__)


def _digest(files: Sequence[_File]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0")
        if f.data is None:
            h.update(b"-" + (f.error or "").encode() + b"\0")
        else:
            h.update(b"+" + str(len(f.data)).encode() + b"\0" + f.data)
    return h.hexdigest()


# ---------------------------------------------------------------- YAML with marks


class _MarkedLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader with YAML 1.2-style scalars (no yes/no booleans, no 20:00 → 1200, no dates)
    that remembers the node it is constructing, so odd values can be located."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, re.Pattern[str]]]]] = {}  # type: ignore[misc]

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.last_node: Node | None = None
        self._open_anchors: set[str] = set()
        self._sizes: dict[int, int] = {}
        self._repeated = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """Compose as SafeLoader does, counting what each alias would repeat before it is
        expanded: an alias into its own value, or more than ALIAS_BUDGET values, is refused."""
        if self.check_event(AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            if target is not None:
                m = _mark(event.start_mark)
                if event.anchor in self._open_anchors:
                    raise _YamlProblem(
                        m.line if m else None, m.column if m else None,
                        f"YAML aliases (*{event.anchor}) may not point into the value they are "
                        "part of; write the values out instead")
                self._repeated += self._size(target)
                if self._repeated > ALIAS_BUDGET:
                    raise _YamlProblem(
                        m.line if m else None, m.column if m else None,
                        f"YAML aliases (*name) in this file repeat more than {ALIAS_BUDGET} "
                        "values; write the values out instead")
            return super().compose_node(parent, index)
        anchor = self.peek_event().anchor
        if anchor is None:
            return super().compose_node(parent, index)
        self._open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._open_anchors.discard(anchor)

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

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        """Construct as SafeLoader does, remembering the node."""
        self.last_node = node
        return super().construct_object(node, deep)


_MarkedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_MarkedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
_MarkedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(
        r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9]+[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))
_MarkedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])
_MarkedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


@dataclass(frozen=True)
class _Mark:
    line: int  # 1-based
    column: int  # 1-based


def _mark(m: yaml.Mark | None) -> _Mark | None:
    return _Mark(m.line + 1, m.column + 1) if m is not None else None


@dataclass
class _Parsed:
    data: Any
    values: dict[Path_, _Mark] = field(default_factory=dict)
    keys: dict[Path_, _Mark] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def locate(self, path: Path_, anchor: str) -> _Mark | None:
        """Where to point for an issue at path."""
        if anchor == "key" and path in self.keys:
            return self.keys[path]
        if anchor == "parent":
            parent = path[:-1]
            if not parent:
                return None
            return self.keys.get(parent) or self._nearest(parent)
        return self._nearest(path)

    def _nearest(self, path: Path_) -> _Mark | None:
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return None


def _duplicate_keys(node: Node, out: dict[int, int], stack: set[int]) -> None:
    """Key nodes repeated in their mapping (before merge keys are applied): id → first line."""
    if id(node) in stack:
        return
    stack.add(id(node))
    if isinstance(node, MappingNode):
        first: dict[tuple[str, str], int] = {}
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                sig = (k.tag, k.value)
                if sig in first:
                    out[id(k)] = first[sig]
                else:
                    first[sig] = k.start_mark.line + 1
            _duplicate_keys(v, out, stack)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _duplicate_keys(item, out, stack)
    stack.discard(id(node))


def _record_marks(loader: _MarkedLoader, node: Node, parsed: _Parsed, dups: dict[int, int]) -> None:
    """Remember where each path's value (and key) starts."""
    def walk(n: Node, path: Path_, stack: set[int]) -> None:
        if len(parsed.values) >= _MAX_MARKS or id(n) in stack:
            return
        parsed.values[path] = _mark(n.start_mark) or _Mark(1, 1)
        stack.add(id(n))
        if isinstance(n, MappingNode):
            for k, v in n.value:
                try:
                    key = loader.construct_object(k, deep=True)
                    hash(key)
                except Exception:
                    continue
                sub = (*path, key)
                parsed.keys[sub] = _mark(k.start_mark) or _Mark(1, 1)
                if id(k) in dups:
                    parsed.issues.append(Issue(sub, f"duplicate key '{key}' (first on line "
                                                    f"{dups[id(k)]}); keep only one", "key"))
                walk(v, sub, stack)
        elif isinstance(n, SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*path, i), stack)
        stack.discard(id(n))

    walk(node, (), set())
    loader.constructed_objects = {}


class _YamlProblem(Exception):
    def __init__(self, line: int | None, column: int | None, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


def _syntax_message(e: yaml.MarkedYAMLError) -> str:
    if e.context == "expected a single document in the stream":
        return ("YAML syntax error: the file holds more than one YAML document (a second '---' "
                "line); keep only one")
    text = e.problem or e.context or "the file cannot be read as YAML"
    if e.context and e.problem and e.context_mark is not None:
        text += f" ({e.context} on line {e.context_mark.line + 1})"
    if "'\\t'" in text:
        text += "; indent with spaces, not tabs"
    return f"YAML syntax error: {text}"


def _position(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def _unreadable(node: Node | None) -> _YamlProblem:
    """A value PyYAML could not construct (``!!int xx``, a number too long, …)."""
    m = _mark(node.start_mark) if node is not None else None
    what = "this value"
    if isinstance(node, ScalarNode):
        what = shown(node.value)
    tag = node.tag.replace("tag:yaml.org,2002:", "!!") if node is not None else ""
    return _YamlProblem(m.line if m else None, m.column if m else None,
                        f"YAML syntax error: {what} cannot be read as {tag or 'a value'}")


def _parse_yaml(text: str) -> _Parsed | None:
    """The document with its marks; None when it holds nothing. Raises _YamlProblem."""
    try:
        loader = _MarkedLoader(text)
    except yaml.reader.ReaderError as e:
        line, col = _position(text, e.position)
        raise _YamlProblem(line, col, f"YAML syntax error: {str(e).splitlines()[0]}") from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as e:
            m = _mark(e.problem_mark or e.context_mark)
            raise _YamlProblem(m.line if m else None, m.column if m else None,
                               _syntax_message(e)) from None
        except yaml.reader.ReaderError as e:
            line, col = _position(text, e.position)
            raise _YamlProblem(line, col, f"YAML syntax error: {str(e).splitlines()[0]}") from None
        except RecursionError:
            raise _YamlProblem(None, None, "YAML syntax error: nested too deeply") from None
        if node is None:
            return None
        dups: dict[int, int] = {}
        _duplicate_keys(node, dups, set())
        try:
            data = loader.construct_document(node)
        except yaml.MarkedYAMLError as e:
            m = _mark(e.problem_mark or e.context_mark)
            raise _YamlProblem(m.line if m else None, m.column if m else None,
                               _syntax_message(e)) from None
        except Exception:
            raise _unreadable(loader.last_node) from None
        parsed = _Parsed(data)
        _record_marks(loader, node, parsed, dups)
        return parsed
    finally:
        loader.dispose()


# ---------------------------------------------------------------- checks


def _token_warnings(name: str, text: str) -> list[Problem]:
    """A warning wherever something looks like a Slack secret (never echoing it)."""
    out = []
    for m in TOKEN_RE.finditer(text):
        line, col = _position(text, m.start())
        out.append(Problem(name, line, col, "", TOKEN_WARNING, "warning"))
    return out


@dataclass
class _Outcome:
    problems: list[Problem] = field(default_factory=list)
    parsed: _Parsed | None = None


def _open(f: _File, directory: Path) -> _Outcome:
    """A file read, decoded and parsed, or the problems that stopped it."""
    out = _Outcome()
    if f.data is None:
        message = (f"file not found in {directory}" if f.error == "missing"
                   else f"cannot read the file ({f.error})")
        out.problems.append(Problem(f.name, None, None, "", message))
        return out
    try:
        text = f.data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = f.data[:e.start].count(b"\n") + 1
        col = e.start - (f.data.rfind(b"\n", 0, e.start) + 1) + 1
        out.problems.append(Problem(f.name, line, col, "",
                                    "the file is not UTF-8 text; save it as UTF-8"))
        return out
    out.problems.extend(_token_warnings(f.name, text))
    if not text.strip():
        out.problems.append(Problem(f.name, None, None, "", "the file is empty"))
        return out
    try:
        parsed = _parse_yaml(text)
    except _YamlProblem as e:
        out.problems.append(Problem(f.name, e.line, e.column, "", e.message))
        return out
    if parsed is None:
        out.problems.append(Problem(f.name, None, None, "", "the file is empty"))
        return out
    out.parsed = parsed
    return out


def _located(name: str, parsed: _Parsed, issues: Iterable[Issue]) -> list[Problem]:
    out = []
    for issue in issues:
        m = parsed.locate(issue.path, issue.anchor)
        out.append(Problem(name, m.line if m else None, m.column if m else None,
                           dotted(issue.path), issue.message, issue.severity))
    return out


def _load(files: ConfigFiles, now: datetime) -> Loaded:
    settings_file, recs_file = files.settings, files.recommendations
    directory, fp = files.directory, files.fingerprint
    problems: list[Problem] = []

    s = _open(settings_file, directory)
    r = _open(recs_file, directory)
    problems += s.problems + r.problems

    settings = recs = None
    if s.parsed is not None:
        settings, issues = validate_settings(s.parsed.data)
        problems += _located(settings_file.name, s.parsed, s.parsed.issues + issues)
        if s.parsed.issues:
            settings = None
    if r.parsed is not None:
        recs, issues = validate_recommendations(r.parsed.data)
        problems += _located(recs_file.name, r.parsed, r.parsed.issues + issues)
        if r.parsed.issues:
            recs = None

    if settings is not None and s.parsed is not None:
        moment = session_moment(settings)
        when = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        if moment <= when:
            problems += _located(settings_file.name, s.parsed, [Issue(
                ("session", "starts_at"),
                f"the session ({format_moment(moment, settings.timezone, zone=False)}, "
                f"{settings.timezone.key}) is in the past; "
                "no countdown reminders will be sent", severity="warning")])

    order = {settings_file.name: 0, recs_file.name: 1}
    problems.sort(key=lambda p: (order.get(p.file, 2), p.line or 0, p.column or 0))
    if settings is None or recs is None or any(p.severity == "error" for p in problems):
        raise ConfigError(problems, fingerprint=fp)
    warnings = tuple(p for p in problems if p.severity == "warning")
    config = _with_report(_without_secrets(build_config(settings, recs)), directory)
    return Loaded(config=config, warnings=warnings, fingerprint=fp)


def _without_secrets(config: Config) -> Config:
    """The config with token-like text hidden in its free-text fields (titles, places, names),
    so no countdown, digest or reply can carry one (the warning has already said where it is)."""
    def people(ps: tuple[Person, ...]) -> tuple[Person, ...]:
        return tuple(replace(p, name=redact(p.name)) for p in ps)

    session = replace(config.session, title=redact(config.session.title),
                      place=redact(config.session.place))
    return replace(config, session=session, admins=people(config.admins),
                   coordinators=people(config.coordinators))


def _with_report(config: Config, directory: Path) -> Config:
    """The config with the report's passages indexed, when report.txt ships beside the YAML."""
    path = directory / REPORT_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return config
    knowledge = dataclasses.replace(config.knowledge, passages=passages_of(text))
    return dataclasses.replace(config, knowledge=knowledge)
