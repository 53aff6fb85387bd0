"""Owner notices: what others do with a member's commitments is one DM per window, held in quiet hours.

The conversation records, the real sweep delivers through the outbox to the fake Slack Web API;
the clock is moved, never slept on.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import Core
from bot.conversation import Caller
from bot.scheduling.sweep import Sweeper
from bot.slack.web import SlackNotifier, make_client
from bot.store.db import unit_of_work
from bot.store.models import Delivery
from tests.conftest import MEMBER, OTHER
from tests.slack_fake.server import FakeSlack

THIRD = "U0MEMBER3"


class World:
    """The core, a sweeper beside it, and the fake Slack they post to."""

    def __init__(self, core: Core, fake: FakeSlack) -> None:
        self.core, self.fake = core, fake
        notifier = SlackNotifier(make_client(token="xoxb-test", base_url=fake.url))
        self.sweeper = Sweeper(config=core.config, sessions=core.sessions, clock=core.clock,
                               notifier=notifier, holder="test")

    def at(self, moment: datetime) -> None:
        self.core.clock.set(moment)  # type: ignore[attr-defined]
        self.sweeper.run_once()

    def assign(self, text: str, owner: str = OTHER, by: str = MEMBER) -> str:
        return self.core.conversation.answer(
            Caller(by), f"commit {text} by 2030-06-28 owner <@{owner}>").reply.text

    def dms(self, user: str = OTHER) -> list[str]:
        return [json.dumps(c.params, ensure_ascii=False) for c in self.fake.messages(user)]

    def assignment_rows(self) -> list[Delivery]:
        with unit_of_work(self.core.sessions, read_only=True) as s:
            return list(s.scalars(select(Delivery).where(Delivery.kind == "owner_notice")
                                  .order_by(Delivery.id)))


@pytest.fixture
def world(make_core: Callable[[], Core], fake: FakeSlack) -> Iterator[World]:
    yield World(make_core(), fake)


def test_a_flood_at_dawn_is_one_dm_after_quiet_hours(world: World) -> None:
    """300 assignments in 3 s at 05:29 Vienna: 20 recorded (the limit), one DM at 08:00."""
    start = datetime(2026, 11, 26, 4, 29, tzinfo=UTC)  # 05:29 in Vienna: quiet hours
    world.core.clock.set(start)  # type: ignore[attr-defined]
    recorded = 0
    for i in range(300):
        world.core.clock.set(start + timedelta(milliseconds=10 * i))  # type: ignore[attr-defined]
        recorded += "Recorded" in world.assign(f"Item {i:03d}")
    assert recorded == 20
    for moment in (start + timedelta(minutes=1), datetime(2026, 11, 26, 6, 59, 59, tzinfo=UTC)):
        world.at(moment)
        assert world.dms() == []  # still quiet hours for the owner
    world.at(datetime(2026, 11, 26, 7, 0, 10, tzinfo=UTC))  # 08:00 in Vienna, and the grace
    dms = world.dms()
    assert len(dms) == 1
    assert "20 commitments" in dms[0] and f"<@{MEMBER}>" in dms[0]
    assert "Item 000" in dms[0]
    world.at(datetime(2026, 11, 26, 7, 5, tzinfo=UTC))
    assert len(world.dms()) == 1
    assert [r.status for r in world.assignment_rows()] == ["sent"]


def test_assignments_in_one_window_are_one_dm_the_next_window_another(world: World) -> None:
    t = datetime(2026, 11, 26, 10, 0, 5, tzinfo=UTC)  # 11:00:05 in Vienna
    world.core.clock.set(t)  # type: ignore[attr-defined]
    world.assign("Alpha")
    world.at(t + timedelta(seconds=30))
    assert world.dms() == []  # the window is still open
    world.at(datetime(2026, 11, 26, 10, 1, tzinfo=UTC))
    assert world.dms() == []  # closed, but a change begun before the close may still commit
    world.at(datetime(2026, 11, 26, 10, 1, 10, tzinfo=UTC))
    first = world.dms()
    assert len(first) == 1 and "Alpha" in first[0]
    assert '"wg_done"' in first[0] and "1|msg" in first[0]  # one assignment: its own buttons
    world.core.clock.set(datetime(2026, 11, 26, 10, 1, 20, tzinfo=UTC))  # type: ignore[attr-defined]
    world.assign("Beta")
    world.assign("Gamma", by=THIRD)
    world.at(datetime(2026, 11, 26, 10, 2, 10, tzinfo=UTC))
    dms = world.dms()
    assert len(dms) == 2
    assert "Beta" in dms[1] and "Gamma" in dms[1] and "Alpha" not in dms[1]
    assert f"<@{MEMBER}>" in dms[1] and f"<@{THIRD}>" in dms[1]


def test_an_assignment_withdrawn_before_the_dm_is_not_announced(world: World) -> None:
    t = datetime(2026, 11, 26, 10, 0, 5, tzinfo=UTC)
    world.core.clock.set(t)  # type: ignore[attr-defined]
    world.assign("Withdrawn")
    world.core.conversation.answer(Caller(MEMBER), "cancel 1")
    world.at(datetime(2026, 11, 26, 10, 1, 10, tzinfo=UTC))
    assert world.dms() == []
    [row] = world.assignment_rows()
    assert row.status == "skipped" and "cancelled" in (row.reason or "")


def test_own_commitments_send_no_assignment_notice(world: World) -> None:
    world.core.conversation.answer(Caller(MEMBER), "commit Mine by 2030-06-28")
    world.at(datetime(2026, 11, 26, 10, 5, tzinfo=UTC))
    assert world.assignment_rows() == [] and world.dms(MEMBER) == []


def test_changes_by_others_at_night_wait_for_the_morning_in_one_dm(world: World) -> None:
    """A coordinator moving and cancelling a member's commitments at 05:29: one DM at 08:00."""
    world.core.clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    for text in ("Alpha", "Beta", "Gamma"):
        world.core.conversation.answer(Caller(OTHER), f"commit {text} by 2030-06-28")
    night = datetime(2026, 11, 26, 4, 29, tzinfo=UTC)  # 05:29 in Vienna
    world.core.clock.set(night)  # type: ignore[attr-defined]
    coordinator = "U0COORD01"
    outs = [world.core.conversation.answer(Caller(coordinator), cmd)
            for cmd in ("move 1 to 2030-07-01", "cancel 2", "cancel 3", "reopen 3")]
    assert all(o.changed and not o.messages for o in outs), [o.reply.text for o in outs]
    world.at(night + timedelta(minutes=5))
    assert world.dms() == []
    world.at(datetime(2026, 11, 26, 7, 0, 10, tzinfo=UTC))  # 08:00 in Vienna, and the grace
    [dm] = world.dms()
    assert f"<@{coordinator}> moved *#1*" in dm and "Mon 1 Jul 2030" in dm
    assert f"<@{coordinator}> cancelled *#2*" in dm
    assert f"<@{coordinator}> cancelled *#3*" in dm and f"<@{coordinator}> reopened *#3*" in dm
    assert "Alpha" in dm and "Beta" in dm
