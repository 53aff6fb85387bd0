"""What the bot says, independent of where it is said.

A Reply is a small tree of presentation-neutral parts. ``bot.slack.render`` turns it into
Block Kit; ``bot.console.render`` turns it into readable text. Text is Slack mrkdwn
(``*bold*``, ``_italic_``, ``<@U123>``), which the console renders plainly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


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
    ephemeral: bool = True
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


def escape(text: str) -> str:
    """Escape user text for Slack mrkdwn so `<!channel>` or `<@U1>` typed by a user never pings."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
