"""Modals: Move a commitment, Edit one (every field), and Record as commitment (a shortcut)."""
from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.config.knowledge import KnowledgeBase
from bot.domain.lengths import MAX_TEXT
from bot.domain.reply import EditForm, MoveForm, md
from bot.slack.render import MAX_CONTEXT, slack_text

MOVE_CALLBACK = "wg_move_modal"
EDIT_CALLBACK = "wg_edit_modal"
RECORD_CALLBACK = "wg_record_modal"
RECORD_SHORTCUT = "wg_record_commitment"


def move_modal(form: MoveForm, private_metadata: str) -> dict[str, Any]:
    """A modal with a date picker (and an optional time) to move a commitment."""
    view = View(
        type="modal", callback_id=MOVE_CALLBACK, private_metadata=private_metadata,
        title=PlainTextObject(text=f"Move #{form.commitment_id}"[:24]),
        submit=PlainTextObject(text="Move"), close=PlainTextObject(text="Cancel"),
        blocks=[
            ContextBlock(elements=[MarkdownTextObject(
                text=slack_text(md("*#{}* {}", form.commitment_id, form.text), MAX_CONTEXT))]),
            InputBlock(block_id="due_date", label=PlainTextObject(text="New deadline"),
                       element=DatePickerElement(action_id="date",
                                                 initial_date=form.due_local.strftime("%Y-%m-%d"))),
            InputBlock(block_id="due_time", optional=True,
                       label=PlainTextObject(text="Time (optional; end of working day if empty)"),
                       element=TimePickerElement(action_id="time",
                                                 initial_time=form.due_local.strftime("%H:%M"))),
        ],
    )
    return view.to_dict()


def _rec_options(kb: KnowledgeBase) -> list[Option]:
    return [Option(value=r.id, text=slack_text(f"{r.id} · {r.title}", 75))
            for r in kb.recommendations]


def edit_modal(form: EditForm, *, kb: KnowledgeBase, private_metadata: str) -> dict[str, Any]:
    """A modal with every field of a commitment: text, owners, deadline, recommendations."""
    options = _rec_options(kb)
    linked = [o for o in options if o.value in form.rec_ids]
    view = View(
        type="modal", callback_id=EDIT_CALLBACK, private_metadata=private_metadata,
        title=PlainTextObject(text=f"Edit #{form.commitment_id}"[:24]),
        submit=PlainTextObject(text="Save"), close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(block_id="what", label=PlainTextObject(text="What is committed"),
                       element=PlainTextInputElement(action_id="text", multiline=True,
                                                     initial_value=form.text[:MAX_TEXT],
                                                     max_length=MAX_TEXT)),
            InputBlock(block_id="owners", label=PlainTextObject(text="Owners"),
                       element=UserMultiSelectElement(action_id="users",
                                                       initial_users=list(form.owner_ids))),
            InputBlock(block_id="due_date", label=PlainTextObject(text="Deadline"),
                       element=DatePickerElement(action_id="date",
                                                 initial_date=form.due_local.strftime("%Y-%m-%d"))),
            InputBlock(block_id="due_time", optional=True,
                       label=PlainTextObject(text="Time (optional; end of working day if empty)"),
                       element=TimePickerElement(action_id="time",
                                                 initial_time=form.due_local.strftime("%H:%M"))),
            InputBlock(block_id="recs", optional=True,
                       label=PlainTextObject(text="For recommendations"),
                       element=StaticMultiSelectElement(
                           action_id="recs", options=options, initial_options=linked or None,
                           placeholder=PlainTextObject(text="S1–L10"))),
        ],
    )
    return view.to_dict()


def readable(message_text: str) -> str:
    """A Slack message's text as people read it: `@channel`, `@name`, link text, `<` and `&`.

    The record modal is prefilled with it, so no control sequence from someone's message is
    carried into a commitment (where it would be shown escaped, as an unreadable `<!channel>`).
    """
    text = re.sub(r"<!(channel|here|everyone)(?:\|[^>]*)?>", r"@\1", message_text)
    text = re.sub(r"<!subteam\^[^|>]*(?:\|([^>]*))?>", lambda m: m.group(1) or "@group", text)
    text = re.sub(r"<!date\^[^|>]*\|([^>]*)>", r"\1", text)
    text = re.sub(r"<([@#])([A-Z0-9]+)(?:\|([^>]*))?>",
                  lambda m: m.group(1) + (m.group(3) or m.group(2)).lstrip("@#"), text)
    text = re.sub(r"<([^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"<([^>]*)>", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def record_modal(*, kb: KnowledgeBase, text: str, owner_id: str, private_metadata: str
                 ) -> dict[str, Any]:
    """A modal prefilled with a message's text: owner, due date, recommendation."""
    options = _rec_options(kb)
    view = View(
        type="modal", callback_id=RECORD_CALLBACK, private_metadata=private_metadata,
        title=PlainTextObject(text="Record commitment"),
        submit=PlainTextObject(text="Record"), close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(block_id="what", label=PlainTextObject(text="What is committed"),
                       element=PlainTextInputElement(action_id="text", multiline=True,
                                                     initial_value=readable(text)[:MAX_TEXT],
                                                     max_length=MAX_TEXT)),
            InputBlock(block_id="owner", label=PlainTextObject(text="Owner"),
                       element=UserSelectElement(action_id="user", initial_user=owner_id)),
            InputBlock(block_id="due_date", label=PlainTextObject(text="Deadline"),
                       element=DatePickerElement(action_id="date")),
            InputBlock(block_id="due_time", optional=True,
                       label=PlainTextObject(text="Time (optional; end of working day if empty)"),
                       element=TimePickerElement(action_id="time")),
            InputBlock(block_id="rec", optional=True,
                       label=PlainTextObject(text="For recommendation"),
                       element=StaticSelectElement(action_id="rec", options=options,
                                                   placeholder=PlainTextObject(text="S1–L10"))),
        ],
    )
    return view.to_dict()


def value_of(values: dict[str, Any], block_id: str, action_id: str) -> str | None:
    """The submitted value of one input, whatever its element type."""
    el = (values.get(block_id) or {}).get(action_id) or {}
    for key in ("value", "selected_date", "selected_time", "selected_user"):
        if el.get(key):
            return str(el[key])
    opt = el.get("selected_option") or {}
    return str(opt["value"]) if opt.get("value") else None


def values_of(values: dict[str, Any], block_id: str, action_id: str) -> list[str] | None:
    """The picks of one multi-select input (users or options); None when not shaped like picks."""
    el = (values.get(block_id) or {}).get(action_id) or {}
    if not isinstance(el, dict):
        return None
    if "selected_users" in el:
        users = el.get("selected_users") or []
        return [str(u) for u in users] if isinstance(users, list) else None
    picked = el.get("selected_options") or []
    if not isinstance(picked, list) or not all(isinstance(o, dict) for o in picked):
        return None
    return [str(o.get("value", "")) for o in picked]
