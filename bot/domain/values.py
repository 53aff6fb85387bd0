"""The values the bot hides in buttons, modals and selects, written and read back in one place.

Slack hands these back in payloads (button values, ``private_metadata``, picked options), and a
payload is only as trustworthy as whoever crafted it, so every reader here validates and answers
None for anything the bot would not have written. Callers turn None into a short "out of date"
reply and change nothing.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from bot.domain import grammar

ListScope = Literal["mine", "all", "overdue", "done", "user", "rec"]
SCOPES: tuple[ListScope, ...] = ("mine", "all", "overdue", "done", "user", "rec", "find")
MAX_PAGE = 9999
MAX_ID = 999_999_999
MAX_VALUE = 2000

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
REC_ID = re.compile(r"^[SL]\d{1,2}$")
_NUMBER = re.compile(r"^[1-9]\d{0,8}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}$")
_FIND_WORDS = re.compile(r"^[^:|\x00-\x1f]{1,60}$")  # what `/wg find` looked for, as a page value

ReadOnly = grammar.Recs | grammar.SessionInfo | grammar.Help


@dataclass(frozen=True)
class ListPage:
    """One page of a listing: what a Previous / Show more button shows, or a list to redraw."""

    scope: ListScope
    arg: str = ""
    page: int = 1


# What to redraw after a button acted: nothing, the message it sat on, the `show` view, a list.
Origin = Literal["none", "msg", "show"] | ListPage


@dataclass(frozen=True)
class Target:
    """A commitment button's value: which commitment, and what to redraw afterwards."""

    commitment_id: int
    origin: Origin = "none"


@dataclass(frozen=True)
class MoveMetadata:
    """What the Move and Edit modals carry: the commitment, what to redraw, and where to post it."""

    commitment_id: int
    origin: Origin
    response_url: str | None


def _number(raw: str, limit: int = MAX_ID) -> int | None:
    return int(raw) if _NUMBER.fullmatch(raw) and int(raw) <= limit else None


# ------------------------------------------------------------------ listings and origins
def page_value(page: ListPage) -> str:
    """``scope:arg:page`` (e.g. ``all::2``, ``user:U0ANNA:1``)."""
    return f"{page.scope}:{page.arg}:{page.page}"


def parse_page(value: str) -> ListPage | None:
    """A listing page from ``scope:arg:page``; None unless scope, arg and page fit together."""
    parts = str(value).split(":")
    if len(parts) != 3:
        return None
    scope, arg, raw_page = parts
    page = _number(raw_page, MAX_PAGE)
    if scope not in SCOPES or page is None:
        return None
    if scope == "user" and not USER_ID.fullmatch(arg):
        return None
    if scope == "rec" and not REC_ID.fullmatch(arg):
        return None
    if scope == "find" and not _FIND_WORDS.fullmatch(arg):
        return None
    if scope not in ("user", "rec", "find") and arg:
        return None
    return ListPage(scope, arg, page)  # type: ignore[arg-type]


def origin_value(origin: Origin) -> str:
    """``none``, ``msg``, ``show`` or ``list:scope:arg:page``."""
    return origin if isinstance(origin, str) else "list:" + page_value(origin)


def parse_origin(value: str) -> Origin | None:
    """What to redraw, or None for anything the bot never writes."""
    if value in ("none", "msg", "show"):
        return value  # type: ignore[return-value]
    if value.startswith("list:"):
        return parse_page(value[5:])
    return None


def target_value(commitment_id: int, origin: Origin) -> str:
    """A Done / Move / Cancel / Reopen button's value: ``id|origin``."""
    return f"{commitment_id}|{origin_value(origin)}"


def parse_target(value: str) -> Target | None:
    """``id|origin`` → Target; None for a bad id or origin."""
    raw_id, bar, raw_origin = str(value).partition("|")
    cid = _number(raw_id)
    origin = parse_origin(raw_origin) if bar else "none"
    if cid is None or origin is None:
        return None
    return Target(cid, origin)


# ------------------------------------------------------------------ recommendations, sharing
def parse_rec(value: str | None) -> str | None:
    """A recommendation id (S1–S6, L1–L10 shape) from a button or select; None otherwise."""
    value = str(value or "").strip().upper()
    return value if REC_ID.fullmatch(value) else None


def share_value(text: str) -> str | None:
    """The Share button's value for a typed command, or None when it is not read-only."""
    return text.strip() if parse_share(text) is not None else None


def parse_share(value: str) -> ReadOnly | None:
    """The read-only command a Share button re-renders (recs, session, help); None otherwise."""
    if not value or len(value) > MAX_VALUE:
        return None
    cmd = grammar.parse(value)
    return cmd if isinstance(cmd, grammar.Recs | grammar.SessionInfo | grammar.Help) else None


# ------------------------------------------------------------------ modals
def move_metadata(meta: MoveMetadata) -> str:
    """The Move (or Edit) modal's private_metadata."""
    return json.dumps({"id": meta.commitment_id, "origin": origin_value(meta.origin),
                       "response_url": meta.response_url or ""})


def parse_move_metadata(raw: str, *, hooks_hosts: frozenset[str]) -> MoveMetadata | None:
    """The Move (or Edit) modal's private_metadata; a response_url must be http(s) on a known
    hooks host (host:port)."""
    try:
        data = json.loads(raw or "")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    cid = data.get("id")
    origin = parse_origin(str(data.get("origin", "none")))
    if not isinstance(cid, int) or isinstance(cid, bool) or not 0 < cid <= MAX_ID or origin is None:
        return None
    url = data.get("response_url") or None
    if url is not None:
        parts = urlsplit(str(url))
        if parts.scheme not in ("https", "http") or parts.netloc not in hooks_hosts:
            return None
    return MoveMetadata(cid, origin, url)


def user_id(value: str | None) -> str | None:
    """A Slack user id (``U…`` or ``W…``, capitals and digits) or None."""
    value = str(value or "")
    return value if USER_ID.fullmatch(value) else None


def picked_due(date: str | None, time: str | None) -> str | None:
    """Words for a date picker (YYYY-MM-DD) and optional time picker (HH:MM); None if malformed."""
    if not date or not _DATE.fullmatch(date) or (time and not _TIME.fullmatch(time)):
        return None
    return f"{date} {time}" if time else date


MAX_PICKED = 20


def picked_users(picked: list[str] | None) -> tuple[str, ...] | None:
    """People picked in a multi-user select (order kept, repeats dropped); None when any is not a
    Slack user id, or too many."""
    if picked is None or len(picked) > MAX_PICKED:
        return None
    found = tuple(dict.fromkeys(user_id(p) for p in picked))
    return None if None in found else found  # type: ignore[return-value]


def picked_recs(picked: list[str] | None) -> tuple[str, ...] | None:
    """Recommendation ids picked in a multi-select (order kept, repeats dropped); None when any is
    not shaped like one, or too many."""
    if picked is None or len(picked) > MAX_PICKED:
        return None
    found = tuple(dict.fromkeys(parse_rec(p) for p in picked))
    return None if None in found else found  # type: ignore[return-value]
