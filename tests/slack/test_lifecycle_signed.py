"""The commitment lifecycle over signed Slack requests (in-process Bolt app, fake Web API):
edit, assign, link, note and find as slash commands; snooze, suggested link, Record anyway and
Use the session date as buttons on the messages the bot sent; every message valid Block Kit."""
from __future__ import annotations

import json
from typing import Any

from tests.conftest import ADMIN, OTHER
from tests.slack.test_escaping import commit, reply_of
from tests.slack_fake.inprocess import InProcessBot
from tests.slack_fake.server import FakeSlack


def text_of(body: dict[str, Any]) -> str:
    return json.dumps(body.get("blocks", []), ensure_ascii=False) + body.get("text", "")


def test_edit_assign_link_note_and_find_as_slash_commands(inproc: InProcessBot,
                                                          fake: FakeSlack) -> None:
    commit(inproc, "Draft guidelines by 2026-12-20 for L6")
    assert "now reads" in text_of(reply_of(inproc.client.command("edit 1 Draft the guidelines")))
    refused = text_of(reply_of(inproc.client.command("edit 1 Hijacked", user_id=OTHER)))
    assert "Only its owners, its creator, coordinators or admins can edit #1" in refused
    assert "S2 · " in text_of(reply_of(inproc.client.command("link 1 S2")))
    assert "Noted on" in text_of(reply_of(inproc.client.command("note 1 Sent to the Chair")))
    handed = text_of(reply_of(inproc.client.command(f"assign 1 <@{OTHER}> me", user_id=ADMIN)))
    assert f"<@{OTHER}>" in handed and "held by" in handed
    found = text_of(reply_of(inproc.client.command("find chair", user_id=OTHER)))
    assert "Draft the guidelines" in found
    shown = text_of(reply_of(inproc.client.command("show 1")))
    for step in ("changed the text from", "linked it to L6, S2", "noted: “Sent to the Chair”",
                 "handed it from"):
        assert step in shown, step
    inproc.sweep()  # the new owner hears once, through the batched owner notice
    assert len(fake.messages(OTHER)) == 1


def test_reminder_buttons_snooze_and_the_commit_buttons(inproc: InProcessBot,
                                                        fake: FakeSlack) -> None:
    body = commit(inproc, "Brief the Mediterranean Partners on migration by 2027-04-30")
    blocks = body["blocks"]
    assert "after the special session" in text_of(body) and "Looks related to *S2*" in text_of(body)
    inproc.client.block_action("wg_link", value="1|S2", blocks=blocks)
    inproc.client.block_action("wg_session_date", value="1", blocks=blocks)
    replies = [text_of(c.params) for c in fake.wait_for("response_url", count=2)]
    assert any("Linked *#1*" in r for r in replies)
    assert any("Thu 4 Mar 2027, 10:00" in r for r in replies)
    again = reply_of(inproc.client.command(
        "commit Brief the Mediterranean Partners on migration by 2026-12-20"))
    assert "already open" in text_of(again)
    inproc.client.block_action("wg_record_anyway", blocks=again["blocks"])
    assert any("Recorded #2" in text_of(c.params) for c in fake.wait_for("response_url", count=3))
    inproc.client.command(f"commit Paper by 2026-12-20 owner <@{OTHER}>")
    inproc.sweep()
    dm = fake.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"] == OTHER)[-1]
    assert dm.response.get("ok"), dm.response
    message = {**dm.response["message"], "ts": dm.response["ts"]}
    inproc.client.block_action("wg_snooze_week", user_id=OTHER, message=message,
                               channel_id=dm.response["channel"])
    moved = fake.wait_for("response_url", predicate=lambda c: c.params.get("replace_original"))
    assert "Moved *#3*" in text_of(moved[-1].params)
