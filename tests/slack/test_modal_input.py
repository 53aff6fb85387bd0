"""The Record-as-commitment modal gets the same cleaning and limits as typed `/wg commit`, and its
owner must be a Slack user id."""
from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.store.db import unit_of_work
from bot.store.models import Commitment
from tests.conftest import OTHER
from tests.slack.test_escaping import assert_safe, reply_of
from tests.slack_fake.inprocess import InProcessBot
from tests.slack_fake.server import FakeSlack

DUE = "2026-12-18"


def stored(bot: InProcessBot) -> list[str]:
    with unit_of_work(bot.core.sessions, read_only=True) as s:
        return list(s.scalars(select(Commitment.text).order_by(Commitment.id)))


def record_view(bot: InProcessBot, fake: FakeSlack) -> dict[str, Any]:
    bot.client.message_shortcut("wg_record_commitment", "Prefilled")
    return fake.wait_for("views.open")[-1].response["view"]


def submit(bot: InProcessBot, view: dict[str, Any], **inputs: Any) -> Any:
    values = {"due_date": {"date": DUE}, "owner": {"user": OTHER}}
    for block, value in inputs.items():
        values[block] = {{"what": "text", "owner": "user", "rec": "rec",
                          "due_date": "date"}[block]: value}
    return bot.client.view_submission(view=view, values=values)


@pytest.mark.parametrize("what", [
    "Draft\x00 the guidelines",
    "Draft \u202eenilediug\u202c the \u2066guidelines\u2069",
    "Draft\x1b[2J the\x07 guidelines\x7f",
    "Draft\u200b the\ufeff guidelines",
    "Draft\n\n  the\tguidelines\r\n",
])
def test_modal_text_is_cleaned_exactly_like_typed_text(inproc: InProcessBot, fake: FakeSlack,
                                                       what: str) -> None:
    r = submit(inproc, record_view(inproc, fake), what=what)
    assert r.status_code == 200 and r.text in ("", "null"), r.text
    reply_of(inproc.client.command(f"commit {what} by {DUE}"))
    from_modal, from_typing = stored(inproc)
    assert from_modal == from_typing
    assert from_modal.isprintable() and "  " not in from_modal
    assert from_modal.startswith("Draft") and from_modal.endswith("guidelines")


@pytest.mark.parametrize("what", ["\u200b\u200b\u200b", "\u3164\u3164", "\u2800", " \x00\x01 ",
                                  "\u202e\u202c", "\ufeff"])
def test_invisible_only_text_is_refused_in_both(inproc: InProcessBot, fake: FakeSlack,
                                                what: str) -> None:
    r = submit(inproc, record_view(inproc, fake), what=what)
    assert r.json()["response_action"] == "errors" and "what" in r.json()["errors"], r.text
    typed = reply_of(inproc.client.command(f"commit {what} by {DUE}"))
    assert "Recorded" not in typed["text"]
    assert stored(inproc) == []


def test_over_long_text_is_refused_like_typed_text(inproc: InProcessBot, fake: FakeSlack) -> None:
    r = submit(inproc, record_view(inproc, fake), what="x" * 3000)
    assert r.json()["response_action"] == "errors", r.text
    assert "limit is 500" in r.json()["errors"]["what"]
    assert stored(inproc) == []


@pytest.mark.parametrize("owner", ["U1> <!channel> <@U0ADMIN01", "u0lower", "C0CHANNEL", "U",
                                   "U0ANNA\n", "<@U0ANNA>"])
def test_owner_must_be_a_slack_user_id(inproc: InProcessBot, fake: FakeSlack, owner: str) -> None:
    r = submit(inproc, record_view(inproc, fake), what="Brief the chair", owner=owner)
    body = r.json()
    assert body["response_action"] == "errors" and "owner" in body["errors"], r.text
    assert_safe(body)
    assert stored(inproc) == []
    fake.assert_no_call("chat.postMessage", within=0.2)


@pytest.mark.parametrize("rec", ["<!channel>", "S99x", "recs"])
def test_recommendation_must_be_one_of_the_options(inproc: InProcessBot, fake: FakeSlack,
                                                   rec: str) -> None:
    r = submit(inproc, record_view(inproc, fake), what="Brief the chair",
               rec={"type": "static_select", "selected_option": {
                   "text": {"type": "plain_text", "text": rec}, "value": rec}})
    body = r.json()
    assert body["response_action"] == "errors" and "rec" in body["errors"], r.text
    assert stored(inproc) == []


def test_a_forged_picker_date_is_refused(inproc: InProcessBot, fake: FakeSlack) -> None:
    r = submit(inproc, record_view(inproc, fake), what="Brief the chair", due_date="tomorrow")
    assert r.json()["response_action"] == "errors" and "due_date" in r.json()["errors"]
    assert stored(inproc) == []


def test_a_good_submission_still_records_and_dms_the_owner(inproc: InProcessBot,
                                                           fake: FakeSlack) -> None:
    r = submit(inproc, record_view(inproc, fake), what="Brief the chair", rec="S5")
    assert r.status_code == 200 and r.text in ("", "null"), r.text
    assert stored(inproc) == ["Brief the chair"]
    inproc.sweep()  # assignment DMs go out as batched owner notices
    dm = fake.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"] == OTHER)[-1]
    assert "Brief the chair" in json.dumps(dm.params["blocks"])
