"""Replayed signed requests, dispatched to the Bolt app in process: the same signed body within
Slack's 5-minute window is carried out once."""
from __future__ import annotations

import json
import sqlite3

from tests.conftest import MEMBER
from tests.slack_fake.client import reply_body as _reply
from tests.slack_fake.client import reply_text as _text
from tests.slack_fake.inprocess import InProcessBot


def _commitments(db: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM commitments").fetchone()[0])


def test_a_replayed_signed_command_is_handled_once(inproc: InProcessBot) -> None:
    """The same signed body, re-posted within Slack's 5-minute window, creates one commitment."""
    bot = inproc
    c = bot.client
    db = bot.core.settings.database_url.split("///", 1)[1]
    first = _text(_reply(c.command("commit Brief the chair by 2030-02-01", user_id=MEMBER)))
    assert "Recorded *#1*" in first
    body = c.last_body
    replies = [_text(_reply(c.post(body, content_type="application/x-www-form-urlencoded")))
               for _ in range(2)]
    assert all("already handled" in r for r in replies), replies
    assert _commitments(db) == 1
    listing = _reply(c.command("list", user_id=MEMBER))
    done = next(e for b in listing["blocks"] if b["type"] == "actions" for e in b["elements"]
            if e["action_id"] == "wg_done")
    c.block_action("wg_done", value=done["value"], blocks=listing["blocks"], user_id=MEMBER)
    click = c.last_body
    bot.fake.wait_for("response_url", predicate=lambda x: "done" in json.dumps(x.params))  # type: ignore[union-attr]
    _text(_reply(c.command("reopen 1", user_id=MEMBER)))
    assert c.post(click, content_type="application/x-www-form-urlencoded").status_code == 200
    bot.fake.wait_for("response_url",  # type: ignore[union-attr]
                      predicate=lambda x: "already handled" in json.dumps(x.params))
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM commitments").fetchall() == [("open",)]
