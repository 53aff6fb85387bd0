"""Values read back from Slack payloads are validated before anything acts on them.

A signed payload can still carry a value the bot never wrote (a crafted request, an old message,
a bug): Share must not run commands, a bad button value or modal metadata changes nothing and
gets a short answer; and once a change is written, failing to redraw still confirms it.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import MEMBER, OTHER
from tests.slack.test_escaping import commit, reply_of
from tests.slack_fake.client import find_action
from tests.slack_fake.inprocess import InProcessBot
from tests.slack_fake.server import FakeSlack


def status_of(bot: InProcessBot, cid: int) -> str:
    shown = json.dumps(reply_of(bot.client.command(f"show {cid}"))["blocks"])
    for status in ("cancelled", "done", "open"):
        if f"*Status*\\n{status}" in shown:
            return status
    raise AssertionError(shown)


def count_open(bot: InProcessBot) -> int:
    text = reply_of(bot.client.command("list all"))["text"]
    return int(text.rsplit(":", 1)[1]) if ":" in text else 0


def last_response(fake: FakeSlack, n: int) -> dict[str, Any]:
    return fake.wait_for("response_url", count=n)[n - 1].params


@pytest.mark.parametrize("forged", ["commit Forged by 2026-12-20", "cancel 1", "done 1",
                                    "move 1 to 2027-01-30", "admin digest now", "export csv",
                                    "list all", "show 1", "", "x" * 3000])
def test_share_runs_only_read_only_replies(inproc: InProcessBot, fake: FakeSlack,
                                           forged: str) -> None:
    commit(inproc, "Keep me open by 2026-12-20")
    inproc.client.block_action("wg_share", value=forged)
    answer = last_response(fake, 1)
    assert answer["response_type"] == "ephemeral" and answer.get("replace_original") is not True
    assert "can't be shared" in answer["text"] or "out of date" in answer["text"], answer["text"]
    assert status_of(inproc, 1) == "open"
    assert count_open(inproc) == 1
    assert not fake.calls("files.getUploadURLExternal")
    assert not [m for m in fake.messages() if m.params["channel"] != MEMBER]


def test_share_still_posts_recommendations_in_channel(inproc: InProcessBot, fake: FakeSlack) -> None:
    body = reply_of(inproc.client.command("recs s3"))
    value = find_action(body["blocks"], "wg_share")[1]["value"]  # type: ignore[index]
    inproc.client.block_action("wg_share", value=value)
    shared = last_response(fake, 1)
    assert shared["response_type"] == "in_channel"
    assert "S3" in shared["text"]


def test_commands_that_change_things_get_no_share_button(inproc: InProcessBot) -> None:
    for typed in ("commit Something by 2026-12-20", "list", "session", "recs"):
        body = reply_of(inproc.client.command(typed))
        share = find_action(body["blocks"], "wg_share")
        assert (share is not None) == (typed in ("session", "recs")), typed


BAD_TARGETS = ["1|list:mine::x", "1|list:evil", "1|list:mine::1:2", "1|list:user:<!channel>:1",
               "1|list:rec:S99x:1", "1|list:all:U0X:1", "1|bogus", "abc|none", "-1|none", "0|none",
               "1 |none", "99999999999|none", "", "1|list:mine::0"]


@pytest.mark.parametrize("action", ["wg_done", "wg_cancel"])
@pytest.mark.parametrize("value", BAD_TARGETS)
def test_bad_commitment_button_values_change_nothing(inproc: InProcessBot, fake: FakeSlack,
                                                    action: str, value: str) -> None:
    commit(inproc, "Stay open by 2026-12-20")
    inproc.client.block_action(action, value=value)
    answer = last_response(fake, 1)
    assert "out of date" in answer["text"], answer["text"]
    assert "went wrong" not in answer["text"]
    assert status_of(inproc, 1) == "open"


@pytest.mark.parametrize("value", ["mine::x", "evil::1", "user:<!channel>:1", "all:x:1", "rec::1",
                                   "mine::1:1", "", "mine::0"])
def test_bad_page_values_get_a_short_answer(inproc: InProcessBot, fake: FakeSlack,
                                            value: str) -> None:
    inproc.client.block_action("wg_page", value=value)
    assert "out of date" in last_response(fake, 1)["text"]


@pytest.mark.parametrize("value", ["<!channel>", "S99", "", "recs s1"])
def test_bad_recommendation_neighbour_values(inproc: InProcessBot, fake: FakeSlack,
                                             value: str) -> None:
    inproc.client.block_action("wg_rec_next", value=value)
    answer = last_response(fake, 1)
    assert "<!channel>" not in json.dumps(answer)
    assert "out of date" in answer["text"] or "no recommendation" in answer["text"]


@pytest.mark.parametrize("value", ["x|none", "1|evil", "1|list:mine::q"])
def test_bad_move_button_values_open_no_modal(inproc: InProcessBot, fake: FakeSlack,
                                              value: str) -> None:
    commit(inproc, "Stay put by 2026-12-20")
    inproc.client.block_action("wg_move", value=value)
    assert "out of date" in last_response(fake, 1)["text"]
    assert not fake.calls("views.open")


def _move_view(bot: InProcessBot, fake: FakeSlack) -> dict[str, Any]:
    body = reply_of(bot.client.command("list"))
    bot.client.block_action("wg_move", value="1|list:mine::1", blocks=body["blocks"])
    return fake.wait_for("views.open")[-1].response["view"]


@pytest.mark.parametrize("meta", [
    "not json", "[]", json.dumps({"id": "1", "origin": "none"}), json.dumps({"id": True}),
    json.dumps({"id": 1, "origin": "list:mine::x"}),
    json.dumps({"id": 1, "origin": "none", "response_url": "http://127.0.0.1:9/steal"}),
    json.dumps({"id": 1, "origin": "none", "response_url": "file:///etc/passwd"}),
])
def test_forged_move_metadata_changes_nothing(inproc: InProcessBot, fake: FakeSlack,
                                              meta: str) -> None:
    commit(inproc, "Due on the 20th by 2026-12-20")
    view = _move_view(inproc, fake)
    r = inproc.client.view_submission(view=view, private_metadata=meta,
                                      values={"due_date": {"date": "2027-01-15"}})
    assert r.status_code == 200
    assert r.json()["response_action"] == "errors", r.text
    assert "20 Dec 2026" in json.dumps(reply_of(inproc.client.command("show 1"))["blocks"])


def test_forged_picker_values_are_refused(inproc: InProcessBot, fake: FakeSlack) -> None:
    commit(inproc, "Due on the 20th by 2026-12-20")
    view = _move_view(inproc, fake)
    r = inproc.client.view_submission(view=view, values={"due_date": {"date": "next friday"}})
    assert r.json()["response_action"] == "errors", r.text
    assert "20 Dec 2026" in json.dumps(reply_of(inproc.client.command("show 1"))["blocks"])


def test_a_failed_redraw_still_confirms_the_change(inproc: InProcessBot, fake: FakeSlack) -> None:
    commit(inproc, "Finish me by 2026-12-20")
    body = reply_of(inproc.client.command("list"))

    def locked(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().startswith("SELECT count(*)"):  # the listing being redrawn
            raise sqlite3.OperationalError("database is locked")

    event.listen(inproc.core.engine, "before_cursor_execute", locked)
    try:
        inproc.client.block_action("wg_done", value="1|list:mine::1", blocks=body["blocks"])
        answer = last_response(fake, 1)
    finally:
        event.remove(inproc.core.engine, "before_cursor_execute", locked)
    assert "Marked *#1* done" in json.dumps(answer["blocks"]), answer
    assert "nothing was changed" not in json.dumps(answer)
    assert answer.get("replace_original") is not True  # the list stays; the change is confirmed
    assert status_of(inproc, 1) == "done"


def test_owner_dm_is_still_sent_when_the_redraw_fails(inproc: InProcessBot, fake: FakeSlack) -> None:
    commit(inproc, f"Theirs by 2026-12-20 owner <@{OTHER}>")
    inproc.sweep()  # assignment DMs go out as batched owner notices
    fake.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"] == OTHER)

    def locked(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().startswith("SELECT count(*)"):
            raise sqlite3.OperationalError("database is locked")

    event.listen(inproc.core.engine, "before_cursor_execute", locked)
    try:
        inproc.client.block_action("wg_cancel", value="1|list:all::1")
        answer = last_response(fake, 1)
    finally:
        event.remove(inproc.core.engine, "before_cursor_execute", locked)
    assert "Cancelled *#1*" in json.dumps(answer["blocks"])
    inproc.sweep()
    fake.wait_for("chat.postMessage", count=2, predicate=lambda c: c.params["channel"] == OTHER)
