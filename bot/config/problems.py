"""From what went wrong to where: issues at paths in a file's data, and located problems.

pydantic's validation errors become ``Issue``s (a path into the YAML data and a plain-English
message); the loader (``bot.config.load``) finds each path's line and column and makes it a
``Problem`` (``settings.yaml:14:3: reminders.session[2]: …``). ``ConfigError`` carries them all.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError

from bot.config.fields import close_match, shown
from bot.config.tokens import redact

PathPart = str | int
Path_ = tuple[PathPart, ...]
Anchor = Literal["value", "key", "parent"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """One thing wrong (or worth a warning) at a path in a file's data."""

    path: Path_
    message: str
    anchor: Anchor = "value"  # where to point: the value, the key itself, or the parent's key
    severity: Severity = "error"


def dotted(path: Sequence[PathPart]) -> str:
    """A path as admins read it: ``reminders.session[2]``, ``admins[0].id``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif part is None:
            out += ".(no name)" if out else "(no name)"
        else:
            out += f".{part}" if out else str(part)
    return out



@dataclass(frozen=True)
class Problem:
    """One located problem in a config file: an error that refuses the config, or a warning."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    severity: Severity = "error"

    def __post_init__(self) -> None:
        # Nothing that looks like a secret ever leaves a problem: not in its text, not in its path.
        object.__setattr__(self, "message", redact(self.message))
        object.__setattr__(self, "path", redact(self.path))

    def __str__(self) -> str:
        """``settings.yaml:14:3: reminders.session[2]: …`` (``warning:`` before the path for warnings)."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts = [where]
        if self.severity == "warning":
            parts.append("warning")
        if self.path:
            parts.append(self.path)
        parts.append(self.message)
        return ": ".join(parts)


class ConfigError(Exception):
    """The config was refused; ``problems`` holds every error (and any warnings), in file order."""

    def __init__(self, problems: Iterable[Problem], *, fingerprint: str = "") -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.fingerprint = fingerprint  # of the bytes that were judged
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        """One located line per problem."""
        return "\n".join(str(p) for p in self.problems)


# ---------------------------------------------------------------- errors → issues


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The first config model class inside a (possibly Annotated/Optional/tuple) annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) is not None else ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(root: type[BaseModel], path: Sequence[PathPart]) -> type[BaseModel] | None:
    """The model class that validates the mapping at path, if known."""
    model: type[BaseModel] | None = root
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _model_in(field.annotation)
    return model


def _data_path(data: Any, loc: Sequence[PathPart]) -> Path_:
    """Pydantic's loc reduced to the parts that really step into the YAML data."""
    out: list[PathPart] = []
    cur = data
    for i, part in enumerate(loc):
        steps_in = (part in cur) if isinstance(cur, dict) else (
            isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur))
        if steps_in:
            out.append(part)
            cur = cur[part]
        elif i == len(loc) - 1 and isinstance(cur, dict) and isinstance(part, str):
            out.append(part)  # a missing key
            cur = None
        else:
            cur = None
    return tuple(out)


def _guess_key(key: Any, model: type[BaseModel] | None) -> str | None:
    fields = list(model.model_fields) if model is not None else []
    return close_match(str(key), fields, cutoff=0.6) if fields else None


def _actual_key(data: Any, parent: Path_, shown_as: Any) -> Any:
    """The real (non-string) key that pydantic reports as text."""
    cur = data
    for part in parent:
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            return shown_as
    if isinstance(cur, dict):
        for k in cur:
            if k == shown_as or str(k) == str(shown_as):
                return k
    return shown_as


def _unknown_key(key: Any, model: type[BaseModel] | None) -> str:
    fields = list(model.model_fields) if model is not None else []
    guess = _guess_key(key, model)
    if guess:
        return f"unknown key {shown(key)}; did you mean {shown(guess)}?"
    if len(fields) == 1:
        return f"unknown key {shown(key)}; the only key allowed here is {shown(fields[0])}"
    if fields:
        return f"unknown key {shown(key)}; expected one of: {', '.join(fields)}"
    return f"unknown key {shown(key)}"


def issues_from(error: ValidationError, data: Any, root: type[BaseModel]) -> list[Issue]:
    """Pydantic's errors as plain-English issues with paths into the data.

    A missing key is not reported when a misspelling of it is (``sesion`` explains ``session``).
    """
    out: list[Issue] = []
    errors = error.errors(include_url=False)
    misspelt = set()
    for e in errors:
        loc = tuple(e.get("loc", ()))
        if e.get("type") == "extra_forbidden" and loc:
            guess = _guess_key(loc[-1], _model_at(root, loc[:-1]))
            if guess is not None:
                misspelt.add((*loc[:-1], guess))
    for e in errors:
        loc = tuple(e.get("loc", ()))
        kind = e.get("type", "")
        ctx = e.get("ctx") or {}
        if kind == "wgbot":
            path = _data_path(data, loc + tuple(ctx.get("at", ())))
            out.append(Issue(path, str(ctx.get("message", ""))))
        elif kind == "missing":
            if loc in misspelt:
                continue
            path = _data_path(data, loc)
            out.append(Issue(path, f"missing key {shown(loc[-1] if loc else '')}", "parent"))
        elif kind == "extra_forbidden":
            path = _data_path(data, loc)
            out.append(Issue(path, _unknown_key(loc[-1] if loc else "", _model_at(root, loc[:-1])),
                             "key"))
        elif kind == "invalid_key":
            parent = _data_path(data, loc[:-1])
            key = _actual_key(data, parent, loc[-1] if loc else None)
            message = ("this key has no name" if key is None
                       else _unknown_key(key, _model_at(root, loc[:-1])))
            out.append(Issue((*parent, key), message, "key"))
        elif kind == "recursion_loop":
            out.append(Issue(_data_path(data, loc), "refers to itself (a YAML alias loop)"))
        else:
            value = e.get("input")
            out.append(Issue(_data_path(data, loc),
                             f"{shown(value) if not isinstance(value, (dict, list)) else 'this'} "
                             "is not accepted here"))
    return out

