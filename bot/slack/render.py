"""Replies → Block Kit dicts, within Slack's limits.

Every text goes through ``slack_text``: the bot's Mrkdwn as it is, anything else escaped. No
other function here puts a string into a text object.

The dicts are built directly, not through slack_sdk's block models: the models cost more than the
rest of a `/wg recs` answer together (measured in bench/README.md). Each text object and element
checks the same limits the models check (``SlackObjectFormationError`` when one is passed), and
tests/slack/test_render.py holds the output equal to what the models produce.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from slack_sdk.errors import SlackObjectFormationError

from bot.domain import values
from bot.domain.reply import (
    Actions,
    Button,
    Divider,
    Fields,
    Header,
    Mrkdwn,
    Note,
    Part,
    Reply,
    Section,
    escape_text,
)

MAX_BLOCKS = 50
MAX_HOME_BLOCKS = 100
MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_CONTEXT = 3000
MAX_BUTTON_LABEL = 75
MAX_BUTTONS = 25
MAX_VALUE = 2000
MAX_ACTION_ID = 255
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
BUTTON_STYLES = ("primary", "danger")
# Slack answers msg_blocks_too_long somewhere around 13,000 characters of blocks; stay well under.
MAX_MESSAGE_CHARS = 11000
FALLBACK_TEXT = 3000
MORE_TEXT = "…more than fits in one message; narrow it down, e.g. `/wg list overdue`."


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    # never leave half an entity (&amp;) or half a control sequence (<@U1>) at the end
    amp, lt = head.rfind("&"), head.rfind("<")
    if amp > head.rfind(";") and amp >= len(head) - 6:
        head = head[:amp]
    if lt > head.rfind(">"):
        head = head[:lt]
    return head + "…"


def slack_text(text: str, limit: int) -> str:
    """A reply text as Slack should get it: the bot's Mrkdwn kept, anything else escaped; cut."""
    return _cut(str(text) if isinstance(text, Mrkdwn) else escape_text(text), limit)


def _within(text: str, limit: int, what: str) -> str:
    if len(text) > limit:
        raise SlackObjectFormationError(f"{what} cannot exceed {limit} characters")
    return text


def _plain(text: str, limit: int, what: str, *, emoji: bool = True) -> dict[str, Any]:
    """A plain_text object, written as slack_sdk's PlainTextObject writes it. Buttons leave the
    ``emoji`` flag out (Slack shows emoji by default), so a listing's ten rows of buttons stay
    inside the message budget."""
    out = {"type": "plain_text", "text": _within(text, limit, what)}
    if emoji:
        out["emoji"] = True
    return out


def _mrkdwn(text: str, limit: int, what: str) -> dict[str, Any]:
    """A mrkdwn text object."""
    return {"type": "mrkdwn", "text": _within(text, limit, what)}


def _button(b: Button) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "button",
        "text": _plain(slack_text(b.label, MAX_BUTTON_LABEL), MAX_BUTTON_LABEL, "button text",
                       emoji=False),
        "action_id": _within(b.action_id, MAX_ACTION_ID, "action_id"),
        "value": _within(_cut(b.value, MAX_VALUE), MAX_VALUE, "button value"),
    }
    if b.style is not None:
        if b.style not in BUTTON_STYLES:
            raise SlackObjectFormationError(f"button style must be one of {BUTTON_STYLES}")
        out["style"] = b.style
    if b.confirm:
        c = b.confirm
        out["confirm"] = {
            "title": _plain(slack_text(c.title, MAX_CONFIRM_TITLE), MAX_CONFIRM_TITLE,
                            "confirm title", emoji=False),
            "text": _mrkdwn(slack_text(c.text, MAX_CONFIRM_TEXT), MAX_CONFIRM_TEXT,
                            "confirm text"),
            "confirm": _plain(slack_text(c.confirm, MAX_CONFIRM_BUTTON), MAX_CONFIRM_BUTTON,
                              "confirm button", emoji=False),
            "deny": _plain(slack_text(c.deny, MAX_CONFIRM_BUTTON), MAX_CONFIRM_BUTTON,
                           "deny button", emoji=False),
        }
    return out


def block(part: Part) -> dict[str, Any]:
    """One reply part as one Block Kit block (a dict, its limits checked)."""
    if isinstance(part, Section):
        out: dict[str, Any] = {"type": "section", "text": _mrkdwn(
            slack_text(part.text, MAX_SECTION) or " ", MAX_SECTION, "section text")}
        if part.button:
            out["accessory"] = _button(part.button)
        return out
    if isinstance(part, Header):
        return {"type": "header",
                "text": _plain(slack_text(part.text, MAX_HEADER), MAX_HEADER, "header text")}
    if isinstance(part, Fields):
        if not part.items:
            raise SlackObjectFormationError("a section needs a text or fields")
        return {"type": "section",
                "fields": [_mrkdwn(slack_text(f, MAX_FIELD) or " ", MAX_FIELD, "field")
                           for f in part.items[:MAX_FIELDS]]}
    if isinstance(part, Note):
        return {"type": "context", "elements": [_mrkdwn(
            slack_text(part.text, MAX_CONTEXT) or " ", MAX_CONTEXT, "context text")]}
    if isinstance(part, Divider):
        return {"type": "divider"}
    if isinstance(part, Actions):
        return {"type": "actions", "elements": [_button(b) for b in part.buttons[:MAX_BUTTONS]]}
    raise TypeError(f"unknown reply part {part!r}")


def _size(rendered: dict[str, Any] | list[dict[str, Any]]) -> int:
    return len(json.dumps(rendered, ensure_ascii=False))


def blocks(reply: Reply, *, share: str | None = None, max_blocks: int = MAX_BLOCKS,
           max_chars: int = MAX_MESSAGE_CHARS) -> list[dict[str, Any]]:
    """The reply as validated block dicts, trimmed to Slack's block count and message size."""
    parts = list(reply.parts)
    extra: list[Part] = []
    share_value = values.share_value(share) if share and reply.shareable else None
    if share_value:
        extra.append(Actions((Button("Share in channel", "wg_share", share_value),)))
    limit = max_blocks - len(extra)
    tail = [block(p) for p in extra]
    if len(parts) <= limit:
        out = [block(p) for p in parts]
        # the whole list fits: so does every prefix the loop below would look at
        if _size(out) <= max_chars - 400:
            return out + tail
    else:
        out = []
    return _trimmed(parts, out, tail, limit=limit, max_chars=max_chars)


def _trimmed(parts: list[Part], rendered: list[dict[str, Any]], tail: list[dict[str, Any]], *,
             limit: int, max_chars: int) -> list[dict[str, Any]]:
    """The blocks that fit, then a note that more did not; `rendered` holds any already built."""
    out: list[dict[str, Any]] = []
    budget = max_chars
    for i, part in enumerate(parts):
        one = rendered[i] if i < len(rendered) else block(part)
        size = _size(one)
        if (len(out) >= limit - 1 and i < len(parts) - 1) or size > budget - 400:
            out.append({"type": "context",
                        "elements": [_mrkdwn(MORE_TEXT, MAX_CONTEXT, "context text")]})
            break
        out.append(one)
        budget -= size
    return out + tail


class RenderedReplies:
    """Messages already rendered for the very same Reply objects, most recent first.

    A Reply is immutable, and the conversation hands out one Reply object per read-only answer
    and config in force (`/wg recs`), so a repeated `/wg recs short` is rendered once per config.
    Entries are found by the reply's identity, never by its value: a Mrkdwn and a str with the
    same characters compare equal but render differently (one escaped). Each entry holds its
    Reply, so no other object can take its id while it is kept.
    """

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[int, str | None],
                                   tuple[Reply, str, list[dict[str, Any]]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, reply: Reply, share: str | None) -> tuple[str, list[dict[str, Any]]] | None:
        """The fallback text and blocks rendered for this very reply and share, if kept."""
        key = (id(reply), share)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] is not reply:
                return None
            self._entries.move_to_end(key)
        return entry[1], entry[2]

    def put(self, reply: Reply, share: str | None, text: str,
            rendered: list[dict[str, Any]]) -> None:
        """Keep a rendering; the least recently used one goes when more than `size` are kept."""
        key = (id(reply), share)
        with self._lock:
            self._entries[key] = (reply, text, rendered)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


_rendered = RenderedReplies()


def message(reply: Reply, *, share: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ack / respond / chat.postMessage.

    Read-only (shareable) replies are rendered once per Reply object; the blocks of such a
    message are shared between calls, so callers treat them as read-only (Bolt and slack_sdk
    only serialise them).
    """
    if not reply.shareable:
        return {"text": slack_text(reply.text, FALLBACK_TEXT), "blocks": blocks(reply, share=share)}
    kept = _rendered.get(reply, share)
    if kept is None:
        kept = (slack_text(reply.text, FALLBACK_TEXT), blocks(reply, share=share))
        _rendered.put(reply, share, *kept)
    return {"text": kept[0], "blocks": list(kept[1])}


def home_view(reply: Reply) -> dict[str, Any]:
    """An App Home view."""
    return {"type": "home", "blocks": blocks(reply, max_blocks=MAX_HOME_BLOCKS, max_chars=60000)}
