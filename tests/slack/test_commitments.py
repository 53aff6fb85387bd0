"""Commitments over signed requests dispatched to the Bolt app in process: every command,
buttons, modals, shortcut, App Home, permissions, concurrency and exports."""
from __future__ import annotations

import csv
import io
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import pytest
from icalendar import Calendar

from bot.clock import FixedClock
from tests.conftest import ADMIN, COORDINATOR, MEMBER, OTHER
from tests.slack_fake.client import reply_body as _reply
from tests.slack_fake.client import reply_text as _text
from tests.slack_fake.inprocess import InProcessBot
from tests.slack_fake.server import FakeSlack


@pytest.fixture
def bot(inproc: InProcessBot) -> InProcessBot:
    """Here the bot is the Bolt app in this process (the process is not the subject)."""
    return inproc


def commit(bot: InProcessBot, text: str, user: str = MEMBER) -> int:
    body = _reply(bot.client.command(f"commit {text}", user_id=user))
    m = re.search(r"Recorded \*#(\d+)\*", _text(body))
    assert m, _text(body)
    return int(m.group(1))


def test_commit_replies_with_id_due_and_recommendation(bot: InProcessBot) -> None:
    body = _reply(bot.client.command("commit Draft guidelines by 2030-06-28 for l6"))
    text = _text(body)
    assert "Recorded *#1*" in text
    assert "Fri 28 Jun 2030, 17:00 Europe/Vienna" in text
    assert "L6 · " in text


@pytest.mark.parametrize("words,fragment", [
    ("by 30 February", "February"),
    ("by 2001-01-01", "past"),
    ("", "deadline"),
])
def test_bad_dates_record_nothing(bot: InProcessBot, words: str, fragment: str) -> None:
    body = _reply(bot.client.command(f"commit Something {words}".strip()))
    assert fragment in _text(body)
    listing = _text(_reply(bot.client.command("list all")))
    assert "Something" not in listing


def test_unknown_recommendation_and_long_text_refused(bot: InProcessBot) -> None:
    assert "no recommendation *S9*" in _text(_reply(bot.client.command("commit X by tomorrow for S9")))
    long = "x" * 501
    assert "limit is 500" in _text(_reply(bot.client.command(f"commit {long} by tomorrow")))
    assert "No open commitments" in _text(_reply(bot.client.command("list all"))) or \
        "no open" in _text(_reply(bot.client.command("list all"))).lower()


def test_mrkdwn_is_escaped(bot: InProcessBot) -> None:
    cid = commit(bot, "Tell <!channel> & <@U0EVIL> by 2030-01-10")
    shown = _text(_reply(bot.client.command(f"show {cid}")))
    assert "&lt;!channel&gt; &amp; &lt;@U0EVIL&gt;" in shown
    assert "<!channel>" not in shown


def test_assigning_dms_the_owner(bot: InProcessBot, fake: FakeSlack) -> None:
    cid = commit(bot, f"Brief the PC by 2030-02-01 owner <@{OTHER}|bob>")
    bot.sweep()  # the owner notice's batch has closed
    dm = fake.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == OTHER)
    assert dm[-1].params["metadata"]["event_payload"]["key"].startswith(f"owner_notice|{OTHER}|")
    assert f"#{cid}" in json.dumps(dm[-1].params["blocks"])
    assert f"<@{MEMBER}>" in dm[-1].params["text"] or MEMBER in json.dumps(dm[-1].params["blocks"])


def test_list_show_done_reopen_move_cancel(bot: InProcessBot) -> None:
    c = bot.client
    a = commit(bot, "First by 2030-03-01 for S1")
    b = commit(bot, "Second by 2030-01-15")
    listing = _text(_reply(c.command("list")))
    assert listing.index(f"#{b}") < listing.index(f"#{a}")  # sorted by deadline
    assert f"#{a}" in _text(_reply(c.command("list S1")))
    assert f"#{b}" not in _text(_reply(c.command("list S1")))
    assert "done" in _text(_reply(c.command(f"done {a}")))
    assert "already done" in _text(_reply(c.command(f"done {a}")))
    assert f"#{a}" not in _text(_reply(c.command("list")))
    assert "Reopened" in _text(_reply(c.command(f"reopen {a}")))
    moved = _text(_reply(c.command(f"move {b} to 2030-04-02 09:30")))
    assert "Tue 2 Apr 2030, 09:30 Europe/Vienna" in moved
    assert "Cancelled" in _text(_reply(c.command(f"cancel {b}")))
    assert "was cancelled" in _text(_reply(c.command(f"done {b}")))
    history = _text(_reply(c.command(f"show {b}")))
    for fragment in ("recorded it", "moved it from", "cancelled it"):
        assert fragment in history
    assert "no commitment #999" in _text(_reply(c.command("show 999")))


def test_list_overdue_and_paging(bot: InProcessBot) -> None:
    for i in range(20):
        commit(bot, f"Item {i:02d} by 2030-05-{i + 1:02d}")
    body = _reply(bot.client.command("list"))
    assert "1–10 of 20" in _text(body)
    more = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]
            if e["action_id"] == "wg_page"]
    assert more
    bot.client.block_action("wg_page", blocks=body["blocks"], value=more[0]["value"])
    page2 = bot.fake.wait_for("response_url")[-1].params  # type: ignore[union-attr]
    assert "11–20 of 20" in json.dumps(page2["blocks"], ensure_ascii=False)
    assert "Nothing is overdue" in _text(_reply(bot.client.command("list overdue")))


def test_done_button_updates_message_in_place(bot: InProcessBot, fake: FakeSlack) -> None:
    cid = commit(bot, "Press the button by 2030-01-20")
    body = _reply(bot.client.command("list"))
    bot.client.block_action("wg_done", blocks=body["blocks"], value=f"{cid}|list:mine::1")
    upd = fake.wait_for("response_url", predicate=lambda c: c.params.get("replace_original"))
    assert f"Marked *#{cid}* done" in json.dumps(upd[-1].params["blocks"])
    assert "You have no open commitments" in json.dumps(upd[-1].params["blocks"])


def test_cancel_button_has_confirmation(bot: InProcessBot) -> None:
    commit(bot, "Confirm me by 2030-01-20")
    body = _reply(bot.client.command("list"))
    cancel = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]
              if e["action_id"] == "wg_cancel"]
    assert cancel and "confirm" in cancel[0]


def test_move_button_opens_modal_and_submission_moves(bot: InProcessBot, fake: FakeSlack) -> None:
    cid = commit(bot, "Move me by 2030-01-20")
    body = _reply(bot.client.command("list"))
    bot.client.block_action("wg_move", blocks=body["blocks"], value=f"{cid}|list:mine::1")
    opened = fake.wait_for("views.open")[-1]
    view = opened.response["view"]
    assert view["callback_id"] == "wg_move_modal"
    r = bot.client.view_submission(view=view, values={"due_date": {"date": "2030-02-14"}})
    assert (r.status_code == 200 and r.text in ("", "null")) or r.json() == {}, r.text
    assert "Thu 14 Feb 2030" in _text(_reply(bot.client.command(f"show {cid}")))
    # a date in the past is refused inline
    r = bot.client.view_submission(view=view, values={"due_date": {"date": "2001-02-14"}})
    assert r.json()["response_action"] == "errors"


def test_message_shortcut_records_commitment(bot: InProcessBot, fake: FakeSlack,
                                             clock: FixedClock) -> None:
    r = bot.client.message_shortcut("wg_record_commitment", "Prepare the OSCE field briefing")
    assert r.status_code == 200
    view = fake.wait_for("views.open")[-1].response["view"]
    assert view["callback_id"] == "wg_record_modal"
    assert "Prepare the OSCE field briefing" in json.dumps(view["blocks"])
    due = (clock.now().date() + timedelta(days=10)).isoformat()
    r = bot.client.view_submission(view=view, values={"due_date": {"date": due},
                                                      "owner": {"user": OTHER},
                                                      "rec": {"rec": "S5"}})
    assert r.status_code == 200
    listing = _text(_reply(bot.client.command(f"list <@{OTHER}>")))
    assert "Prepare the OSCE field briefing" in listing and "S5" in listing


def test_app_home_shows_open_commitments_and_countdown(bot: InProcessBot, fake: FakeSlack) -> None:
    commit(bot, "Home item by 2030-01-20")
    bot.client.app_home_opened(MEMBER)
    fake.wait_for("views.publish")
    view = fake.home_view(MEMBER)
    assert view is not None
    blob = json.dumps(view["blocks"])
    assert "Home item" in blob and "Special session" in blob


# permission matrix: who may change a commitment owned by MEMBER and created by MEMBER
@pytest.mark.parametrize("actor,allowed", [(MEMBER, True), (OTHER, False), (COORDINATOR, True),
                                           (ADMIN, True)])
@pytest.mark.parametrize("action", ["done", "cancel", "move", "reopen"])
def test_permission_matrix(bot: InProcessBot, actor: str, allowed: bool, action: str) -> None:
    cid = commit(bot, "Guarded by 2030-01-20")
    if action == "reopen":
        _reply(bot.client.command(f"done {cid}"))
    text = {"move": f"move {cid} to 2030-02-01"}.get(action, f"{action} {cid}")
    reply = _text(_reply(bot.client.command(text, user_id=actor)))
    if allowed:
        assert "Only the owner" not in reply
    else:
        assert "Only its owners, its creator, coordinators or admins can" in reply
        shown = _text(_reply(bot.client.command(f"show {cid}")))
        assert ("done" in shown) == (action == "reopen")  # unchanged


def test_forty_concurrent_commits(bot: InProcessBot) -> None:
    users = [f"U0LOAD{i:03d}" for i in range(8)]

    def one(i: int) -> Any:
        return bot.client.command(f"commit Load {i} by 2030-06-01", user_id=users[i % 8])

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(one, range(40)))
    ids = []
    for i, r in enumerate(responses):
        text = _text(_reply(r))
        if "database is busy" in text:  # a truthful refusal (nothing recorded): try again
            assert "Nothing was recorded" in text
            text = _text(_reply(one(i)))
        m = re.search(r"Recorded \*#(\d+)\*", text)
        assert m, text
        ids.append(int(m.group(1)))
    assert len(set(ids)) == 40
    assert "of 40" in _text(_reply(bot.client.command("list all"))) or \
        "40 in all" in _text(_reply(bot.client.command("list all")))


def test_exports(bot: InProcessBot, fake: FakeSlack) -> None:
    a = commit(bot, "Export me by 2030-01-20 for L6")
    _reply(bot.client.command("export csv"))
    _reply(bot.client.command("export ics"))
    fake.wait_for("files.completeUploadExternal", count=2)
    files = fake.uploaded_files()
    by_name = {f.filename.rsplit(".", 1)[1]: f for f in files}
    rows = list(csv.DictReader(io.StringIO(by_name["csv"].content.decode("utf-8-sig"))))
    assert rows[0]["id"] == str(a) and rows[0]["recommendation"] == "L6"
    cal = Calendar.from_ical(by_name["ics"].content)
    uids = {str(ev["uid"]) for ev in cal.walk("VEVENT")}
    assert any(u.startswith(f"commitment-{a}@") for u in uids)
    assert any(u.startswith("special-session@") for u in uids)
    # re-export after a move: same UID, new time
    _reply(bot.client.command(f"move {a} to 2030-01-25"))
    _reply(bot.client.command("export ics"))
    fake.wait_for("files.completeUploadExternal", count=3)
    cal2 = Calendar.from_ical(fake.uploaded_files()[-1].content)
    ev = next(e for e in cal2.walk("VEVENT") if str(e["uid"]).startswith(f"commitment-{a}@"))
    assert ev.decoded("dtend").date() == date(2030, 1, 25)


def test_done_on_an_assignment_dm_replaces_that_message(bot: InProcessBot,
                                                        fake: FakeSlack) -> None:
    cid = commit(bot, f"Brief the PC by 2030-02-01 owner <@{OTHER}>")
    bot.sweep()  # the owner notice's batch has closed
    dm = fake.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == OTHER)[-1]
    assert dm.response.get("ok"), dm.response
    message = {**dm.response["message"], "ts": dm.response["ts"]}
    bot.client.block_action("wg_done", user_id=OTHER, message=message, channel_id=dm.response["channel"])
    upd = fake.wait_for("response_url", predicate=lambda c: c.params.get("replace_original"))[-1]
    assert f"Marked *#{cid}* done" in json.dumps(upd.params["blocks"])


def test_members_can_write_to_the_bot_in_its_dm(bot: InProcessBot, fake: FakeSlack) -> None:
    dm = "D" + MEMBER[1:]
    event = {"type": "message", "channel_type": "im", "channel": dm, "user": MEMBER,
             "text": "commit Talk to the Chair by 2030-01-20 for S1", "ts": "1700000000.000100"}
    assert bot.client.event(event, event_id="EvDM1").status_code == 200
    fake.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == dm)
    assert bot.client.event(event, event_id="EvDM1", retry_num=1).status_code == 200
    bot.client.event({**event, "bot_id": "B0WGBOT", "text": "commit Echo by 2030-01-21"},
                     event_id="EvDM2")
    bot.client.event({**event, "text": "wg list"}, event_id="EvDM3")
    posted = fake.wait_for("chat.postMessage", count=2,
                           predicate=lambda c: c.params.get("channel") == dm)
    fake.assert_no_call("chat.postMessage", within=1.0,
                        predicate=lambda c: c.params.get("channel") == dm and c not in posted)
    texts = [str(c.params.get("text")) for c in posted]
    assert texts[0].startswith("Recorded #1") and "Your open commitments" in texts[1]
    assert "Talk to the Chair" in json.dumps(posted[1].params.get("blocks"))
