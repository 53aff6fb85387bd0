"""The Edit button and modal: every field of a commitment in one form, applied in one unit of work
with one audit entry per change, refused per field, written once per submission, and the message
it came from redrawn."""
from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.store.db import unit_of_work
from bot.store.models import AuditEntry, Commitment, Delivery
from tests.conftest import MEMBER, OTHER
from tests.slack.test_escaping import reply_of
from tests.slack_fake.client import plain_text
from tests.slack_fake.inprocess import InProcessBot
from tests.slack_fake.server import FakeSlack

STRANGER = "U0STRANGER"


def record(bot: InProcessBot, text: str = "Draft the guidelines by 18 Dec for L6") -> None:
    assert "Recorded" in reply_of(bot.client.command(f"commit {text}", user_id=MEMBER))["text"]


def open_edit(bot: InProcessBot, fake: FakeSlack, command: str = "show 1",
              user: str = MEMBER) -> dict[str, Any]:
    body = reply_of(bot.client.command(command, user_id=user))
    before = len(fake.calls("views.open"))
    bot.client.block_action("wg_edit", blocks=body["blocks"], user_id=user)
    return fake.wait_for("views.open", count=before + 1)[-1].response["view"]


def submit(bot: InProcessBot, view: dict[str, Any], user: str = MEMBER,
           trigger_id: str | None = None, **inputs: Any) -> Any:
    actions = {"what": "text", "owners": "users", "due_date": "date", "due_time": "time",
               "recs": "recs"}
    values = {block: {actions[block]: value} for block, value in inputs.items()}
    return bot.client.view_submission(view=view, values=values, user_id=user,
                                      trigger_id=trigger_id)


def accepted(r: Any) -> bool:
    return r.status_code == 200 and r.text in ("", "null")


def errors(r: Any) -> dict[str, str]:
    body = r.json()
    assert body["response_action"] == "errors", body
    return body["errors"]


def snapshot(bot: InProcessBot) -> tuple[Any, ...]:
    with unit_of_work(bot.core.sessions, read_only=True) as s:
        c = s.get(Commitment, 1)
        assert c is not None
        audit = [(e.action, json.dumps(e.changes, sort_keys=True))
                 for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        deliveries = s.scalar(select(func.count()).select_from(Delivery))
        return (c.text, c.owner_ids, c.due_at, c.due_words, c.rec_ids, c.status, c.updated_at,
                audit, deliveries)


def actions_of(c_id: int, bot: InProcessBot) -> list[str]:
    with unit_of_work(bot.core.sessions, read_only=True) as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.commitment_id == c_id)
                              .order_by(AuditEntry.id)))


def test_edit_buttons_on_show_and_listings_keep_slacks_rules(inproc: InProcessBot) -> None:
    record(inproc)
    for command in ("show 1", "list", "list all", "find guidelines"):
        body = reply_of(inproc.client.command(command, user_id=MEMBER))
        rows = [b["elements"] for b in body["blocks"] if b["type"] == "actions"]
        ids = [[el["action_id"] for el in row] for row in rows]
        assert any("wg_edit" in row for row in ids), (command, ids)
        assert all(len(row) <= 5 and len(set(row)) == len(row) for row in ids), ids


def test_the_modal_shows_every_field_as_it_is(inproc: InProcessBot, fake: FakeSlack) -> None:
    record(inproc, "Draft the guidelines by 18 Dec 15:30 for S2 and L6 owner me @U0MEMBER2")
    view = open_edit(inproc, fake)
    assert view["callback_id"] == "wg_edit_modal"
    blocks = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert blocks["what"]["initial_value"] == "Draft the guidelines"
    assert blocks["owners"]["type"] == "multi_users_select"
    assert blocks["owners"]["initial_users"] == [MEMBER, OTHER]
    assert (blocks["due_date"]["initial_date"], blocks["due_time"]["initial_time"]) == \
        ("2026-12-18", "15:30")
    assert blocks["recs"]["type"] == "multi_static_select"
    assert [o["value"] for o in blocks["recs"]["initial_options"]] == ["S2", "L6"]
    assert len(blocks["recs"]["options"]) == 16


def test_one_submission_changes_every_field_with_one_audit_entry_each(
        inproc: InProcessBot, fake: FakeSlack) -> None:
    record(inproc)
    view = open_edit(inproc, fake)
    r = submit(inproc, view, what="Draft the  new guidelines\u200b", owners=[OTHER, MEMBER],
               due_date="2026-12-22", due_time="12:00", recs=["S2", "L4"])
    assert accepted(r), r.text
    with unit_of_work(inproc.core.sessions, read_only=True) as s:
        c = s.get(Commitment, 1)
        assert c is not None
        assert c.text == "Draft the new guidelines"  # cleaned exactly like typed text
        assert c.owner_ids == (OTHER, MEMBER) and c.rec_ids == ("S2", "L4")
        assert c.due_at.isoformat() == "2026-12-22T11:00:00+00:00"
    assert actions_of(1, inproc) == ["created", "edited", "reassigned", "moved", "linked"]
    redrawn = fake.wait_for("response_url")[-1].params
    assert redrawn["replace_original"] is True  # the /wg show it came from, redrawn
    shown = json.dumps(redrawn["blocks"], ensure_ascii=False)
    assert "Draft the new guidelines" in shown and "Tue 22 Dec 2026" in shown


def test_only_what_changed_is_written(inproc: InProcessBot, fake: FakeSlack) -> None:
    record(inproc, "Draft the guidelines by 18 Dec 15:30 for L6")
    view = open_edit(inproc, fake)
    assert accepted(submit(inproc, view, what="Draft the final guidelines"))
    assert actions_of(1, inproc) == ["created", "edited"]
    unchanged = open_edit(inproc, fake)
    before = snapshot(inproc)
    problems = errors(submit(inproc, unchanged))
    assert "Nothing was changed" in problems["what"]
    assert snapshot(inproc) == before


def test_each_failing_field_gets_its_own_error(inproc: InProcessBot, fake: FakeSlack) -> None:
    record(inproc)
    view = open_edit(inproc, fake)
    before = snapshot(inproc)
    problems = errors(submit(inproc, view, what="\u200b ", due_date="2026-11-02",
                             recs=["S99"]))
    assert set(problems) == {"what", "due_date", "recs"}, problems
    assert "in the past" in problems["due_date"] and "S99" in problems["recs"]
    assert snapshot(inproc) == before


def test_a_replayed_submission_is_applied_once(inproc: InProcessBot, fake: FakeSlack) -> None:
    record(inproc)
    view = open_edit(inproc, fake)
    assert accepted(submit(inproc, view, trigger_id="T0REPLAY", what="Once only"))
    after_first = snapshot(inproc)
    again = errors(submit(inproc, view, trigger_id="T0REPLAY", what="Once only, again"))
    assert "already handled" in again["what"]
    assert snapshot(inproc) == after_first


def test_someone_else_may_not_edit(inproc: InProcessBot, fake: FakeSlack) -> None:
    record(inproc)
    view = open_edit(inproc, fake)
    before = snapshot(inproc)
    problems = errors(submit(inproc, view, user=STRANGER, what="Taken over"))
    assert "Only its owners, its creator, coordinators or admins can edit #1" in problems["what"]
    assert snapshot(inproc) == before
    body = reply_of(inproc.client.command("show 1", user_id=STRANGER))
    opened = len(fake.calls("views.open"))
    inproc.client.block_action("wg_edit", blocks=body["blocks"], user_id=STRANGER)
    refusal = fake.wait_for("response_url")[-1].params
    assert "can edit #1" in json.dumps(refusal)
    assert len(fake.calls("views.open")) == opened


def test_editing_from_a_listing_redraws_the_listing(inproc: InProcessBot, fake: FakeSlack) -> None:
    record(inproc)
    view = open_edit(inproc, fake, command="list")
    assert accepted(submit(inproc, view, what="Draft the listed guidelines"))
    redrawn = fake.wait_for("response_url")[-1].params
    shown = json.dumps(redrawn["blocks"], ensure_ascii=False)
    assert redrawn["replace_original"] is True
    assert "Your open commitments" in shown and "Draft the listed guidelines" in shown


def test_a_removed_owner_is_told_once(inproc: InProcessBot, fake: FakeSlack) -> None:
    record(inproc, "Draft the guidelines by 18 Dec owner me @U0MEMBER2")
    view = open_edit(inproc, fake)
    assert accepted(submit(inproc, view, owners=[MEMBER]))
    dm = fake.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"] == OTHER)
    assert len(dm) == 1 and "handed your commitment" in json.dumps(dm[0].params["blocks"])


BAD_FIELDS = {
    "what": ["", "\u200b\u200b", "x" * 600],
    "owners": [[], ["C0CHANNEL"], ["<@U0MEMBER2>"], ["u0lower"]],
    "due_date": ["2026-11-02", "tomorrow", "2026-13-40", None],
    "recs": [["S99"], ["<!channel>"], ["recs"]],
}
GOOD_FIELDS = {
    "what": ["Draft the revised guidelines"],
    "owners": [[OTHER], [MEMBER, OTHER]],
    "due_date": ["2026-12-23", "2027-01-15"],
    "recs": [["S2"], [], ["L4", "S1"]],
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_failing_field_writes_nothing(inproc: InProcessBot, fake: FakeSlack,
                                        data: st.DataObject) -> None:
    with unit_of_work(inproc.core.sessions, read_only=True) as s:
        if s.get(Commitment, 1) is None:
            record(inproc)
    if not hasattr(inproc, "edit_view"):
        inproc.edit_view = open_edit(inproc, fake)  # type: ignore[attr-defined]
    bad = data.draw(st.sampled_from(sorted(BAD_FIELDS)))
    inputs: dict[str, Any] = {bad: data.draw(st.sampled_from(BAD_FIELDS[bad]))}
    for name in sorted(GOOD_FIELDS):
        if name != bad and data.draw(st.booleans()):
            inputs[name] = data.draw(st.sampled_from(GOOD_FIELDS[name]))
    if bad == "what":
        inputs["what"] = plain_text(inputs["what"])
    before = snapshot(inproc)
    r = submit(inproc, inproc.edit_view, **inputs)  # type: ignore[attr-defined]
    block = {"what": "what", "owners": "owners", "due_date": "due_date", "recs": "recs"}[bad]
    assert block in errors(r), (inputs, r.text)
    assert snapshot(inproc) == before


def test_forged_button_values_and_metadata_change_nothing(inproc: InProcessBot,
                                                          fake: FakeSlack) -> None:
    record(inproc)
    opened = len(fake.calls("views.open"))
    for value in ("1|list:nope::1", "0|show", "<!channel>", "1|show|x"):
        inproc.client.block_action("wg_edit", value=value, user_id=MEMBER)
        assert "out of date" in json.dumps(fake.wait_for("response_url")[-1].params)
    assert len(fake.calls("views.open")) == opened
    view = open_edit(inproc, fake)
    before = snapshot(inproc)
    for meta in ("", "[]", json.dumps({"id": "1", "origin": "show", "response_url": ""}),
                 json.dumps({"id": 1, "origin": "show", "response_url": "http://127.0.0.1:9/x"})):
        r = inproc.client.view_submission(view={**view, "private_metadata": meta},
                                          values={"what": {"text": "Forged"}}, user_id=MEMBER)
        assert "out of date" in errors(r)["what"]
    assert snapshot(inproc) == before
