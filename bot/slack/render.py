"""Replies → Block Kit, built with slack_sdk's block models so Slack's limits are checked.

Every text goes through ``slack_text``: the bot's Mrkdwn as it is, anything else escaped. No
other function here puts a string into a text object.
"""
from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

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
MAX_HEADER = 150
MAX_CONTEXT = 3000
MAX_BUTTON_LABEL = 75
MAX_VALUE = 2000
# Slack answers msg_blocks_too_long somewhere around 13,000 characters of blocks; stay well under.
MAX_MESSAGE_CHARS = 11000
FALLBACK_TEXT = 3000


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


def _plain(text: str, limit: int) -> PlainTextObject:
    """A button's plain text; Slack shows emoji by default, so no ``emoji`` flag (a listing's ten
    rows of buttons stay inside the message budget)."""
    return PlainTextObject(text=slack_text(text, limit))


def _button(b: Button) -> ButtonElement:
    confirm = None
    if b.confirm:
        confirm = ConfirmObject(title=_plain(b.confirm.title, 100),
                                text=slack_text(b.confirm.text, 300),
                                confirm=_plain(b.confirm.confirm, 30),
                                deny=_plain(b.confirm.deny, 30))
    return ButtonElement(text=_plain(b.label, MAX_BUTTON_LABEL), action_id=b.action_id,
                         value=_cut(b.value, MAX_VALUE), style=b.style, confirm=confirm)


def block(part: Part) -> Block:
    """One reply part as one Block Kit block."""
    if isinstance(part, Header):
        return HeaderBlock(text=PlainTextObject(text=slack_text(part.text, MAX_HEADER), emoji=True))
    if isinstance(part, Section):
        return SectionBlock(text=MarkdownTextObject(text=slack_text(part.text, MAX_SECTION) or " "),
                            accessory=_button(part.button) if part.button else None)
    if isinstance(part, Fields):
        return SectionBlock(fields=[MarkdownTextObject(text=slack_text(f, MAX_FIELD) or " ")
                                    for f in part.items[:10]])
    if isinstance(part, Note):
        return ContextBlock(elements=[MarkdownTextObject(
            text=slack_text(part.text, MAX_CONTEXT) or " ")])
    if isinstance(part, Divider):
        return DividerBlock()
    if isinstance(part, Actions):
        return ActionsBlock(elements=[_button(b) for b in part.buttons[:25]])
    raise TypeError(f"unknown reply part {part!r}")


def blocks(reply: Reply, *, share: str | None = None, max_blocks: int = MAX_BLOCKS,
           max_chars: int = MAX_MESSAGE_CHARS) -> list[dict[str, Any]]:
    """The reply as validated block dicts, trimmed to Slack's block count and message size."""
    parts = list(reply.parts)
    extra: list[Part] = []
    share_value = values.share_value(share) if share and reply.shareable else None
    if share_value:
        extra.append(Actions((Button("Share in channel", "wg_share", share_value),)))
    out: list[dict[str, Any]] = []
    budget = max_chars
    limit = max_blocks - len(extra)
    for i, part in enumerate(parts):
        rendered = block(part).to_dict()  # to_dict() validates against Block Kit's limits
        size = len(json.dumps(rendered, ensure_ascii=False))
        if (len(out) >= limit - 1 and i < len(parts) - 1) or size > budget - 400:
            more = ContextBlock(elements=[MarkdownTextObject(
                text="…more than fits in one message; narrow it down, e.g. `/wg list overdue`.")])
            out.append(more.to_dict())
            break
        out.append(rendered)
        budget -= size
    out.extend(block(p).to_dict() for p in extra)
    return out


def message(reply: Reply, *, share: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ack / respond / chat.postMessage."""
    return {"text": slack_text(reply.text, FALLBACK_TEXT), "blocks": blocks(reply, share=share)}


def home_view(reply: Reply) -> dict[str, Any]:
    """An App Home view."""
    return {"type": "home", "blocks": blocks(reply, max_blocks=MAX_HOME_BLOCKS, max_chars=60000)}
