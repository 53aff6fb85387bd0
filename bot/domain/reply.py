"""What the bot says, independent of where it is said.

A Reply is a small tree of presentation-neutral parts. ``bot.slack.render`` turns it into
Block Kit; ``bot.console.render`` turns it into readable text.

Every text in a reply is one of two kinds, and the kind travels with the value:

- a plain ``str`` is *text*: it may hold emphasis (``*bold*``, ``_italic_``, backticks) but no
  control sequences. The Slack renderer escapes its ``&``, ``<`` and ``>``, so whatever a user
  typed into it (``<!channel>``, ``<@U1>``, ``<https://x|y>``) shows as typed and never pings.
- a ``Mrkdwn`` is the bot's own markup: mentions and channel links made by ``mention()`` and
  ``channel_link()``, with any other value inserted by ``md()`` (or ``+``, ``join``) escaped.
  Only this kind reaches Slack unescaped.

Forgetting is safe: an f-string or slice of a Mrkdwn is a plain ``str`` again and is escaped
whole (a mention would show as text, visibly, instead of user text pinging silently).
"""
from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


def escape_text(text: str) -> str:
    """Slack's escaping for text: only ``&``, ``<`` and ``>`` (Slack decodes nothing else)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Escaping(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Mrkdwn):
            return str.__str__(value) if not format_spec else format(str(value), format_spec)
        return escape_text(format(value, format_spec))


class Mrkdwn(str):
    """Slack mrkdwn the bot composed; build it with md(), mention(), channel_link()."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> Mrkdwn:
        """Fill the template; every value that is not Mrkdwn is escaped."""
        return Mrkdwn(_Escaping().vformat(str(self), args, kwargs))

    def __add__(self, other: str) -> Mrkdwn:  # type: ignore[override]
        return Mrkdwn(str(self) + _trusted(other))

    def __radd__(self, other: str) -> Mrkdwn:
        return Mrkdwn(_trusted(other) + str(self))

    def join(self, items: Iterable[str]) -> Mrkdwn:  # type: ignore[override]
        """Join, escaping the items that are not Mrkdwn."""
        return Mrkdwn(str(self).join(_trusted(i) for i in items))

    def __str__(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Mrkdwn({str.__repr__(self)})"


def _trusted(value: str) -> str:
    return str.__str__(value) if isinstance(value, Mrkdwn) else escape_text(str(value))


Text = str | Mrkdwn


def md(template: str, *args: Any, **kwargs: Any) -> Mrkdwn:
    """The bot's markup: a literal template whose ``{}`` values are escaped unless Mrkdwn."""
    return Mrkdwn(template).format(*args, **kwargs)


def mention(user_id: str) -> Mrkdwn:
    """``<@U…>`` for a well-formed user id; anything else is shown as escaped text."""
    return Mrkdwn(f"<@{user_id}>") if USER_ID.fullmatch(user_id) else Mrkdwn(escape_text(user_id))


def channel_link(channel_id: str) -> Mrkdwn:
    """``<#C…>`` for a well-formed channel id; anything else is shown as escaped text."""
    return Mrkdwn(f"<#{channel_id}>") if CHANNEL_ID.fullmatch(channel_id) \
        else Mrkdwn(escape_text(channel_id))


def escape(text: str) -> Mrkdwn:
    """User text as Mrkdwn that shows it as typed (its ``&``, ``<``, ``>`` escaped)."""
    return text if isinstance(text, Mrkdwn) else Mrkdwn(escape_text(text))


@dataclass(frozen=True)
class Confirm:
    """A confirmation dialog before a button acts."""

    title: str
    text: str
    confirm: str
    deny: str = "Keep it"


@dataclass(frozen=True)
class Button:
    """A button; ``command`` is the equivalent `/wg` text the console shows instead."""

    label: str
    action_id: str
    value: str
    command: str = ""
    style: Literal["primary", "danger"] | None = None
    confirm: Confirm | None = None


@dataclass(frozen=True)
class Header:
    """A title line (plain text)."""

    text: str


@dataclass(frozen=True)
class Section:
    """A paragraph of mrkdwn, optionally with one button beside it."""

    text: str
    button: Button | None = None


@dataclass(frozen=True)
class Fields:
    """Short mrkdwn pairs shown in two columns."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Note:
    """Small grey context text."""

    text: str


@dataclass(frozen=True)
class Divider:
    """A horizontal rule."""


@dataclass(frozen=True)
class Actions:
    """A row of buttons."""

    buttons: tuple[Button, ...]


Part = Header | Section | Fields | Note | Divider | Actions


@dataclass(frozen=True)
class Attachment:
    """A file that goes with a reply (exports, digests' full lists)."""

    filename: str
    title: str
    content: bytes
    comment: str = ""


@dataclass(frozen=True)
class Reply:
    """A complete answer: parts, a plain-text fallback, and how it is delivered."""

    parts: tuple[Part, ...]
    text: str
    shareable: bool = False
    replace_original: bool = False
    files: tuple[Attachment, ...] = field(default=())


def simple(text: str, *, note: str | None = None) -> Reply:
    """A one-paragraph reply (with an optional hint underneath)."""
    parts: list[Part] = [Section(text)]
    if note:
        parts.append(Note(note))
    return Reply(parts=tuple(parts), text=text)


def spreadsheet_cell(text: str) -> str:
    """User text made safe for a CSV cell: a leading =, +, - or @ cannot start a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@dataclass(frozen=True)
class EditForm:
    """What the Edit modal needs to show: every field of a commitment as it is now."""

    commitment_id: int
    text: str
    owner_ids: tuple[str, ...]
    due_local: datetime
    rec_ids: tuple[str, ...]


@dataclass(frozen=True)
class FormProblems:
    """Why a form was not applied, per field ("text", "owners", "due", "recs"); nothing written."""

    fields: dict[str, str]


@dataclass(frozen=True)
class MoveForm:
    """What the Move modal needs to show."""

    commitment_id: int
    text: str
    due_local: datetime
