"""Block Kit rendering keeps within Slack's limits whatever the reply holds."""
from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError
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
    Confirm,
    Divider,
    Fields,
    Header,
    Mrkdwn,
    Note,
    Part,
    Reply,
    Section,
)
from bot.slack import render
from tests.slack_fake.server import validate_blocks


def test_huge_reply_is_trimmed_to_slacks_limits() -> None:
    parts = [Header("x" * 500)] + [Section("y" * 5000) for _ in range(120)]
    blocks = render.blocks(Reply(parts=tuple(parts), text="t", shareable=True), share="recs")
    assert len(blocks) <= 50
    assert len(json.dumps(blocks)) < 12000
    assert validate_blocks(blocks, max_blocks=50) == []
    assert blocks[-1]["elements"][0]["action_id"] == "wg_share"  # the share button survives
    assert "more than fits" in json.dumps(blocks[-2])


def test_every_part_renders_valid_block_kit() -> None:
    reply = Reply(parts=(
        Header("Title"), Section("*bold*", button=Button("Go", "wg_go", "1")),
        Fields(tuple(f"*f{i}*\nv" for i in range(12))), Note("small"),
        Actions((Button("Cancel", "wg_cancel", "1|none", style="danger",
                        confirm=Confirm("Sure?", "It goes.", "Yes")),)),
    ), text="t")
    blocks = render.blocks(reply)
    assert validate_blocks(blocks, max_blocks=50) == []
    assert len(blocks[2]["fields"]) == 10
    assert blocks[4]["elements"][0]["confirm"]["confirm"]["text"] == "Yes"


def test_share_button_only_on_shareable_replies() -> None:
    plain = render.blocks(Reply(parts=(Section("a"),), text="a"), share="recs")
    assert all(b["type"] != "actions" for b in plain)


# ---------------------------------------------------------------- slack_sdk's models as the oracle
# The renderer builds dicts directly; slack_sdk's block models (which check Block Kit's limits in
# to_dict()) are the reference they must match, part for part and message for message.

def _model_button(b: Button) -> ButtonElement:
    confirm = None
    if b.confirm:
        # buttons and their dialogs carry no emoji flag (Slack shows emoji by default), which
        # keeps a listing's ten rows of buttons inside the message budget
        confirm = ConfirmObject(title=PlainTextObject(text=render.slack_text(b.confirm.title, 100)),
                                text=render.slack_text(b.confirm.text, 300),
                                confirm=PlainTextObject(
                                    text=render.slack_text(b.confirm.confirm, 30)),
                                deny=PlainTextObject(text=render.slack_text(b.confirm.deny, 30)))
    return ButtonElement(text=PlainTextObject(text=render.slack_text(b.label,
                                                                     render.MAX_BUTTON_LABEL)),
                         action_id=b.action_id, value=render._cut(b.value, render.MAX_VALUE),
                         style=b.style, confirm=confirm)


def _model_block(part: Part) -> Block:
    text = render.slack_text
    if isinstance(part, Header):
        return HeaderBlock(text=PlainTextObject(text=text(part.text, render.MAX_HEADER),
                                                emoji=True))
    if isinstance(part, Section):
        return SectionBlock(text=MarkdownTextObject(text=text(part.text, render.MAX_SECTION) or " "),
                            accessory=_model_button(part.button) if part.button else None)
    if isinstance(part, Fields):
        return SectionBlock(fields=[MarkdownTextObject(text=text(f, render.MAX_FIELD) or " ")
                                    for f in part.items[:10]])
    if isinstance(part, Note):
        return ContextBlock(elements=[MarkdownTextObject(
            text=text(part.text, render.MAX_CONTEXT) or " ")])
    if isinstance(part, Divider):
        return DividerBlock()
    assert isinstance(part, Actions)
    return ActionsBlock(elements=[_model_button(b) for b in part.buttons[:25]])


def _model_blocks(reply: Reply, *, share: str | None = None, max_blocks: int = render.MAX_BLOCKS,
                  max_chars: int = render.MAX_MESSAGE_CHARS) -> list[dict[str, Any]]:
    """The renderer as it was, one model block at a time."""
    parts = list(reply.parts)
    extra: list[Part] = []
    share_value = values.share_value(share) if share and reply.shareable else None
    if share_value:
        extra.append(Actions((Button("Share in channel", "wg_share", share_value),)))
    out: list[dict[str, Any]] = []
    budget = max_chars
    limit = max_blocks - len(extra)
    for i, part in enumerate(parts):
        rendered = _model_block(part).to_dict()
        size = len(json.dumps(rendered, ensure_ascii=False))
        if (len(out) >= limit - 1 and i < len(parts) - 1) or size > budget - 400:
            out.append(ContextBlock(elements=[MarkdownTextObject(text=render.MORE_TEXT)]).to_dict())
            break
        out.append(rendered)
        budget -= size
    out.extend(_model_block(p).to_dict() for p in extra)
    return out


# User-like text: Slack's control characters, entities, mentions, emoji, long runs. Sections,
# fields and notes may be empty (they become " "); a header, a button or a confirmation with an
# empty text is invalid Block Kit either way, and the models leave such texts out.
_pieces = st.sampled_from(["<!channel>", "<@U0ANNA>", "&lt;", "&", "<", ">", "*b*", "é", "🙂",
                           "\n", " ", "x" * 40, "<https://x|y>"])
_text = st.one_of(st.text(max_size=60), st.lists(_pieces, max_size=120).map("".join))
_texts = st.one_of(_text, _text.map(Mrkdwn), st.integers(1, 3500).map(lambda n: "a&b" * n))
_some = _texts.filter(bool)
_confirms = st.builds(Confirm, _some, _some, _some, _some) | st.none()
_buttons = st.builds(Button, label=_some, action_id=st.text("abc_", min_size=1, max_size=40),
                     value=st.one_of(_text.filter(bool), st.integers(1, 2100).map(lambda n: "v" * n)),
                     style=st.sampled_from([None, "primary", "danger"]), confirm=_confirms)
_parts = st.one_of(
    st.builds(Header, _some), st.builds(Section, _texts, st.none() | _buttons),
    st.builds(Fields, st.lists(_texts, min_size=1, max_size=12).map(tuple)), st.builds(Note, _texts),
    st.just(Divider()), st.builds(Actions, st.lists(_buttons, min_size=1, max_size=3,
                                                unique_by=lambda b: b.action_id).map(tuple)))


@settings(max_examples=200, deadline=None)
@given(_parts)
def test_each_block_is_what_slack_sdks_models_make(part: Part) -> None:
    try:
        expected = _model_block(part).to_dict()
    except SlackObjectFormationError:  # a part the models refuse is refused here too
        with pytest.raises(SlackObjectFormationError):
            render.block(part)
        return
    assert render.block(part) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(_parts, max_size=60), st.booleans(), st.sampled_from([None, "recs short", "list"]),
       st.sampled_from([(render.MAX_BLOCKS, render.MAX_MESSAGE_CHARS), (100, 60000), (5, 2000)]))
def test_messages_are_what_slack_sdks_models_make(parts: list[Part], shareable: bool,
                                                  share: str | None, limits: tuple[int, int]
                                                  ) -> None:
    reply = Reply(parts=tuple(parts), text="t", shareable=shareable)
    got = render.blocks(reply, share=share, max_blocks=limits[0], max_chars=limits[1])
    assert got == _model_blocks(reply, share=share, max_blocks=limits[0], max_chars=limits[1])
    assert validate_blocks(got, max_blocks=limits[0]) == []


def test_limits_the_models_check_are_still_checked() -> None:
    loud = Button("Go", "wg_go", "1", style="loud")  # type: ignore[arg-type]
    for bad in (Actions((Button("Go", "a" * 256, "1"),)), Actions((loud,)), Fields(())):
        with pytest.raises(SlackObjectFormationError):
            _model_block(bad).to_dict()
        with pytest.raises(SlackObjectFormationError):
            render.block(bad)


def test_messages_near_the_size_limit_are_what_slack_sdks_models_make() -> None:
    # every length from comfortably inside the budget to past it, one and several blocks
    for n in range(1000, 2100, 3):
        for parts in ((Section("x" * n),), (Header("h"), Section("y" * (n // 2)),
                                            Note("z" * (n - n // 2)), Divider())):
            reply = Reply(parts=parts, text="t", shareable=True)
            assert render.blocks(reply, share="recs", max_chars=2000) == \
                _model_blocks(reply, share="recs", max_chars=2000), n


# ---------------------------------------------------------------- rendered once per Reply object

def test_a_kept_rendering_serves_the_very_same_reply_only() -> None:
    # equal as values (a Mrkdwn equals the str of its characters), rendered differently
    trusted = Reply(parts=(Section(Mrkdwn("<@U0ANNA> <!here>")),), text="t", shareable=True)
    typed = Reply(parts=(Section("<@U0ANNA> <!here>"),), text="t", shareable=True)
    assert trusted == typed
    assert render.message(trusted)["blocks"][0]["text"]["text"] == "<@U0ANNA> <!here>"
    assert render.message(typed)["blocks"][0]["text"]["text"] == "&lt;@U0ANNA&gt; &lt;!here&gt;"
    assert render.message(trusted)["blocks"][0]["text"]["text"] == "<@U0ANNA> <!here>"


def test_a_shareable_reply_is_rendered_once_and_callers_cannot_change_the_kept_copy() -> None:
    reply = Reply(parts=(Header("Recs"), Section("*S1* one")), text="Recs", shareable=True)
    first = render.message(reply, share="recs short")
    second = render.message(reply, share="recs short")
    assert second == first and second["blocks"][0] is first["blocks"][0]  # not rendered again
    first["blocks"].clear()
    first["text"] = "changed"
    assert render.message(reply, share="recs short") == second
    assert render.message(reply)["blocks"] == second["blocks"][:-1]  # without the Share button


def test_replies_that_are_not_shareable_are_rendered_each_time() -> None:
    reply = Reply(parts=(Section("12 commitments"),), text="t")
    assert render.message(reply)["blocks"][0] is not render.message(reply)["blocks"][0]


def test_the_kept_renderings_are_bounded() -> None:
    kept = render.RenderedReplies(size=3)
    replies = [Reply(parts=(Section(str(i)),), text=str(i), shareable=True) for i in range(5)]
    for r in replies:
        kept.put(r, None, r.text, render.blocks(r))
    assert kept.get(replies[4], None) is not None and kept.get(replies[2], None) is not None
    assert kept.get(replies[1], None) is None and kept.get(replies[0], None) is None
    assert kept.get(replies[4], "recs") is None  # another share text is another message
