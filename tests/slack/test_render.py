"""Block Kit rendering keeps within Slack's limits whatever the reply holds."""
from __future__ import annotations

import json

from bot.domain.reply import Actions, Button, Confirm, Fields, Header, Note, Reply, Section
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
