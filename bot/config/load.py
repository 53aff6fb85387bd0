"""Read config/settings.yaml and config/recommendations.yaml into a Config, or say precisely what is wrong.

Every problem is located: ``settings.yaml:14:3: reminders.session[2]: '7 days' is not a duration;
write it like 7d``. All problems in both files are reported together. Nothing here exits or prints.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.config.build import build_config, session_moment
from bot.config.parse import Parsed, YamlProblem, parse_yaml, position
from bot.config.problems import ConfigError, Issue, Problem, dotted
from bot.config.schema import validate_recommendations, validate_settings
from bot.config.tokens import TOKEN_RE, redact
from bot.config.types import Config, Person
from bot.config.passages import passages_of
from bot.moments import format_moment

M = TypeVar("M")
SETTINGS_FILE = "settings.yaml"
RECOMMENDATIONS_FILE = "recommendations.yaml"
REPORT_FILE = "report.txt"  # the report itself, indexed for search when present

TOKEN_WARNING = ("this looks like a Slack token; secrets belong in the environment "
                 "(SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN), not in YAML")


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


# ---------------------------------------------------------------- checks


def _token_warnings(name: str, text: str) -> list[Problem]:
    """A warning wherever something looks like a Slack secret (never echoing it)."""
    out = []
    for m in TOKEN_RE.finditer(text):
        at = position(text, m.start())
        out.append(Problem(name, at.line, at.column, "", TOKEN_WARNING, "warning"))
    return out


@dataclass
class _Outcome:
    problems: list[Problem] = field(default_factory=list)
    parsed: Parsed | None = None


def _open(f: _File, directory: Path | None) -> _Outcome:
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
        parsed = parse_yaml(text)
    except YamlProblem as e:
        out.problems.append(Problem(f.name, e.at.line if e.at else None,
                                    e.at.column if e.at else None, "", e.message))
        return out
    if parsed is None:
        out.problems.append(Problem(f.name, None, None, "", "the file is empty"))
        return out
    out.parsed = parsed
    return out


def _located(name: str, parsed: Parsed, issues: Iterable[Issue]) -> list[Problem]:
    out = []
    for issue in issues:
        m = parsed.locate(issue.path, issue.anchor)
        out.append(Problem(name, m.line if m else None, m.column if m else None,
                           dotted(issue.path), issue.message, issue.severity))
    return out


def _validated(name: str, parsed: Parsed | None,
               validate: Callable[[Any], tuple[M | None, list[Issue]]]) -> tuple[M | None, list[Problem]]:
    """A parsed file's model (None when refused) and its located problems, YAML's own first."""
    if parsed is None:
        return None, []
    model, issues = validate(parsed.data)
    problems = [Problem(name, i.at.line, i.at.column, dotted(i.path), i.message)
                for i in parsed.issues]
    return (None if problems else model), problems + _located(name, parsed, issues)


def _load(files: ConfigFiles, now: datetime) -> Loaded:
    settings_file, recs_file = files.settings, files.recommendations
    directory, fp = files.directory, files.fingerprint
    # The folder is named only when a file is missing from it: two folders holding the same
    # files are judged once.
    missing = settings_file.data is None or recs_file.data is None
    checked = _checked(directory if missing else None, settings_file.name, settings_file.data,
                       settings_file.error, recs_file.name, recs_file.data, recs_file.error,
                       _report_text(directory))
    problems = list(checked.problems)
    if checked.session is not None and checked.settings is not None:
        moment, tz = checked.session
        when = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        if moment <= when:
            problems += _located(settings_file.name, checked.settings, [Issue(
                ("session", "starts_at"),
                f"the session ({format_moment(moment, tz, zone=False)}, "
                f"{tz.key}) is in the past; "
                "no countdown reminders will be sent", severity="warning")])

    order = {settings_file.name: 0, recs_file.name: 1}
    problems.sort(key=lambda p: (order.get(p.file, 2), p.line or 0, p.column or 0))
    if checked.config is None or any(p.severity == "error" for p in problems):
        raise ConfigError(problems, fingerprint=fp)
    warnings = tuple(p for p in problems if p.severity == "warning")
    return Loaded(config=checked.config, warnings=warnings, fingerprint=fp)


@dataclass(frozen=True)
class _Checked:
    """What the files' bytes (and the report beside them) say, whenever they are read."""

    problems: tuple[Problem, ...]  # all but the one that depends on the moment of reading
    config: Config | None  # None when refused
    settings: Parsed | None  # to locate the warning about a session in the past
    session: tuple[datetime, ZoneInfo] | None  # when it starts, in the config's timezone


@functools.lru_cache(maxsize=8)
def _checked(directory: Path | None, settings_name: str, settings_data: bytes | None,
             settings_error: str | None, recs_name: str, recs_data: bytes | None,
             recs_error: str | None, report: str | None) -> _Checked:
    """Both files judged and, when valid, built: once per distinct content in a process (every
    bot of the tests, a reload of files touched but not changed); callers share what it
    returns, which nothing changes."""
    settings_file = _File(settings_name, settings_data, settings_error)
    recs_file = _File(recs_name, recs_data, recs_error)
    problems: list[Problem] = []

    s = _open(settings_file, directory)
    r = _open(recs_file, directory)
    problems += s.problems + r.problems

    settings, found = _validated(settings_file.name, s.parsed, validate_settings)
    problems += found
    recs, found = _validated(recs_file.name, r.parsed, validate_recommendations)
    problems += found
    config = None
    if settings is not None and recs is not None and \
            not any(p.severity == "error" for p in problems):
        config = _with_report(_without_secrets(build_config(settings, recs)), report)
    return _Checked(problems=tuple(problems), config=config, settings=s.parsed,
                    session=(session_moment(settings), settings.timezone)
                    if settings is not None else None)


def _without_secrets(config: Config) -> Config:
    """The config with token-like text hidden in its free-text fields (titles, places, names),
    so no countdown, digest or reply can carry one (the warning has already said where it is)."""
    def people(ps: tuple[Person, ...]) -> tuple[Person, ...]:
        return tuple(replace(p, name=redact(p.name)) for p in ps)

    session = replace(config.session, title=redact(config.session.title),
                      place=redact(config.session.place))
    return replace(config, session=session, admins=people(config.admins),
                   coordinators=people(config.coordinators))


def _report_text(directory: Path) -> str | None:
    """report.txt beside the YAML, when it ships there and reads as UTF-8."""
    try:
        return (directory / REPORT_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _with_report(config: Config, text: str | None) -> Config:
    """The config with the report's passages indexed, when report.txt ships beside the YAML."""
    if text is None:
        return config
    knowledge = dataclasses.replace(config.knowledge, passages=passages_of(text))
    return dataclasses.replace(config, knowledge=knowledge)
