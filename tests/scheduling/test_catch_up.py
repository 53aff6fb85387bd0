"""What arrives is true: no bursts after downtime, and every message worded for the moment it is sent."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.domain.planning import time_left
from bot.store.db import unit_of_work
from bot.store.models import Commitment
from tests.factories import config
from tests.scheduling.test_sweep import OWNER, World, make_world
from tests.slack_fake.server import FakeSlack

START = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
SESSION = datetime(2027, 3, 4, 9, 0, tzinfo=UTC)  # 10:00 Vienna, the factory's session


def _head(post: dict) -> str:
    return str(post["blocks"][0]["text"]["text"])


@pytest.mark.parametrize(("left", "planned", "expected"), [
    (timedelta(days=30) - timedelta(seconds=1), timedelta(days=30), "30 days"),
    (timedelta(days=1) - timedelta(seconds=1), timedelta(days=1), "1 day"),
    (timedelta(days=1) - timedelta(hours=3), timedelta(days=1), "21 hours"),
    (timedelta(hours=2) - timedelta(seconds=30), timedelta(hours=2), "2 hours"),
    (timedelta(hours=2) - timedelta(minutes=5), timedelta(hours=2), "1 hour"),
    (timedelta(seconds=29), timedelta(seconds=30), "30 seconds"),
    (timedelta(seconds=20), timedelta(seconds=30), "20 seconds"),
    (timedelta(days=3, hours=5), None, "3 days"),
    (timedelta(seconds=-5), None, "0 seconds"),
])
def test_time_left_is_exact_on_time_and_never_more_than_remains(
        left: timedelta, planned: timedelta | None, expected: str) -> None:
    assert time_left(left, planned) == expected


def test_countdowns_sent_on_time_name_their_offset(world: World) -> None:
    for offset in world.config.reminders.session:
        world.at(SESSION - offset + timedelta(seconds=1))
    heads = [_head(p) for p in world.posts("C0WG")]
    assert heads == ["⏳ 30 days to the special session", "⏳ 14 days to the special session",
                     "⏳ 7 days to the special session", "⏳ 1 day to the special session",
                     "⏳ 2 hours to the special session"]
    assert "(in 30 days)" in world.posts("C0WG")[0]["blocks"][1]["text"]["text"]


def test_a_late_countdown_says_what_is_left(world: World) -> None:
    world.at(SESSION - timedelta(days=2))
    world.fake.reset()
    world.at(SESSION - timedelta(days=1) + timedelta(hours=3))  # down across the 1-day moment
    assert [_head(p) for p in world.posts("C0WG")] == ["⏳ 21 hours to the special session"]


def test_a_deadline_reminder_on_time_names_its_offset(world: World) -> None:
    due = datetime(2027, 1, 20, 16, 0, tzinfo=UTC)
    world.commit(due)
    for offset in world.config.reminders.deadline:
        world.at(due - offset + timedelta(seconds=1))
    texts = [p["text"] for p in world.posts(OWNER)]
    assert texts == ["Reminder: #1 is due in 7 days", "Reminder: #1 is due in 1 day",
                     "Reminder: #1 is due in 2 hours"]


def test_after_two_months_down_one_of_each_kind_goes_out(engine: Engine,
                                                         fake: FakeSlack) -> None:
    w = make_world(engine, fake, config(quiet_hours=None), START)
    w.sweep()
    late = w.commit(datetime(2027, 2, 1, 16, 0, tzinfo=UTC))  # overdue while we were down
    soon = w.commit(datetime(2027, 3, 3, 18, 0, tzinfo=UTC))  # 7-day and 1-day reminders missed
    w.at(datetime(2027, 3, 3, 12, 0, tzinfo=UTC))  # down from 1 Jan to 3 Mar
    assert [_head(p) for p in w.posts("C0WG")] == ["⏳ 21 hours to the special session"]
    digests = w.posts("U0COORD")
    assert len(digests) == 1 and "Digest before the session" in digests[0]["text"]
    owner = [p["text"] for p in w.posts(OWNER)]
    assert sorted(owner) == sorted([f"#{late} is overdue", f"Reminder: #{soon} is due in 6 hours"])
    skipped = {(d.kind, d.reason) for d in w.deliveries() if d.status == "skipped"}
    assert ("countdown", "superseded by the 1-day countdown") in skipped
    assert ("deadline", "superseded by the 1-day reminder") in skipped
    assert ("digest", "superseded by the digest before the session") in skipped
    assert sum(1 for d in w.deliveries("digest")  # the Mondays 4 Jan to 22 Feb; 1 Mar is folded
               if d.status == "skipped" and d.recipient == "U0COORD") == 8
    # the coordinators' channel gets the newest weekly summary only, if it has one
    summaries = [d for d in w.deliveries("digest") if d.subject == "summary"]
    assert sum(1 for d in summaries if d.status == "sent") == (1 if summaries else 0)
    w.at(w.clock.now() + timedelta(minutes=1))  # nothing more on the next sweep
    assert len(w.fake.messages()) == 4 + (1 if summaries else 0)


def test_a_commitment_due_by_the_session_is_listed_before_it(world: World) -> None:
    cid = world.commit(SESSION)  # "by the session": due exactly when it starts
    world.at(SESSION - timedelta(days=30) + timedelta(seconds=1))
    blocks = json.dumps(world.posts("C0WG")[0]["blocks"], ensure_ascii=False)
    assert "Open commitments due before the session* (1)" in blocks and f"#{cid} " in blocks
    with unit_of_work(world.sessions, read_only=True) as s:
        assert s.get(Commitment, cid) is not None


def test_a_countdown_found_one_poll_late_still_names_its_offset() -> None:
    poll = timedelta(minutes=5)  # a sweep every 5 minutes finds it up to 5 minutes late
    assert time_left(timedelta(days=30) - timedelta(minutes=4), timedelta(days=30),
                     poll=poll) == "30 days"
    assert time_left(timedelta(days=30) - timedelta(minutes=6), timedelta(days=30),
                     poll=poll) == "29 days"
    assert time_left(timedelta(minutes=27), timedelta(minutes=30), poll=poll) == "30 minutes"
    assert time_left(timedelta(minutes=26), timedelta(minutes=30), poll=poll) == "26 minutes"


def test_what_no_longer_applies_supersedes_nothing(world: World) -> None:
    from bot.services import commitments

    from bot.services import outbox

    due = datetime(2027, 1, 20, 16, 0, tzinfo=UTC)
    cid = world.commit(due)
    world.clock.set(due - timedelta(hours=3))  # the 7-day and 1-day reminders fell due together
    with unit_of_work(world.sessions) as s:
        outbox.plan(s, config=world.config, now=world.clock.now())
        c = commitments.get(s, commitment_id=cid)
        assert c is not None  # … and the owner finished it before they went out
        commitments.set_status(s, commitment=c, status="done", actor_id=OWNER,
                               now=world.clock.now())
    world.sweep()
    reasons = [d.reason for d in world.deliveries("deadline")]
    assert reasons == [f"commitment #{cid} is done"] * 2
    assert world.posts(OWNER) == []
