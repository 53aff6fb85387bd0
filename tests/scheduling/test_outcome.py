"""Exactly once when the outcome of a post is unknown: Slack may have it, so look before re-sending.

The fake Slack's clock is the test's FixedClock, so message timestamps and the bot's claim times
agree the way they do in production.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from bot.clock import FixedClock
from bot.domain import planning
from bot.services import outbox
from bot.store.db import unit_of_work
from bot.store.models import Delivery
from tests.factories import config
from tests.scheduling.test_sweep import World, make_world
from tests.slack_fake.server import FakeSlack

START = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def synced(engine: Engine) -> Iterator[World]:
    """A world whose fake Slack stamps messages with the test clock; the bot times out after 1 s."""
    clock = FixedClock(START)
    with FakeSlack(clock=lambda: clock.now().timestamp()) as fake:
        w = make_world(engine, fake, config(quiet_hours=None, coordinators=()), START,
                       clock=clock, timeout=1)
        w.sweep()
        yield w


def _countdown_claimed_by_a_dead_process(w: World) -> str:
    """Plan the 7-day countdown and leave it claimed by a process that died; its key.

    The earlier countdown went out normally and is forgotten by the fake.
    """
    start = w.config.session.starts_at.astimezone(UTC)
    w.at(start - timedelta(days=8))
    w.fake.reset()
    w.clock.set(start - timedelta(days=7) + timedelta(seconds=1))
    with unit_of_work(w.sessions) as s:
        outbox.plan(s, config=w.config, now=w.clock.now())
        d = s.scalars(select(Delivery).where(Delivery.kind == "countdown",
                                             Delivery.status == "pending")).one()
        assert d.key.endswith(planning.stamp(start - timedelta(days=7)))
        assert outbox.claim(s, delivery_id=d.id, holder="dead", now=w.clock.now())
        return d.key


def _bot_message(w: World, channel: str, key: str) -> None:
    w.fake.add_message(channel, "countdown", user="UBOT",
                       metadata={"event_type": "wgbot_delivery", "event_payload": {"key": key}})


def test_reconciliation_reads_every_page_of_the_window(synced: World) -> None:
    w = synced
    key = _countdown_claimed_by_a_dead_process(w)
    _bot_message(w, "C0WG", key)  # the dead process did post it …
    for i in range(250):  # … and 250 messages came after it
        _bot_message(w, "C0WG", f"other|{i}")
    w.at(w.clock.now() + timedelta(minutes=5))
    assert w.posts("C0WG") == []  # found on the second page: not sent again
    assert w.deliveries("countdown")[-1].status == "sent"
    pages = w.fake.calls("conversations.history")
    assert len(pages) == 2 and pages[1].params.get("cursor")


def test_a_window_too_long_to_search_is_not_resent_blind(synced: World) -> None:
    from bot.slack.web import HISTORY_PAGE, HISTORY_PAGES

    w = synced
    _countdown_claimed_by_a_dead_process(w)
    for i in range(HISTORY_PAGE * HISTORY_PAGES + 1):
        _bot_message(w, "C0WG", f"other|{i}")
    w.at(w.clock.now() + timedelta(minutes=5))
    d = w.deliveries("countdown")[-1]
    assert d.status == "failed" and "history_too_long" in (d.reason or "")
    assert w.posts("C0WG") == []
    assert len(w.posts("U0ADMIN")) == 1
    assert len(w.fake.calls("conversations.history")) == HISTORY_PAGES


def test_a_post_that_times_out_after_slack_took_it_is_not_sent_twice(synced: World) -> None:
    w = synced
    w.fake.hang_after("chat.postMessage", seconds=3, times=1)  # posted, answer never in time
    start = w.config.session.starts_at.astimezone(UTC)
    w.at(start - timedelta(days=30) + timedelta(seconds=1))
    d = w.deliveries("countdown")[0]
    assert d.status == "claimed" and d.claimed_by is None  # outcome unknown, nobody re-sends
    assert "outcome unknown" in (d.reason or "")
    assert len(w.posts("C0WG")) == 1
    for _ in range(4):  # sweeps every 15 s: the first one due looks in the history
        w.at(w.clock.now() + timedelta(seconds=15))
    assert len(w.posts("C0WG")) == 1
    d = w.deliveries("countdown")[0]
    assert d.status == "sent" and d.ts == w.fake.messages("C0WG")[0].response["ts"]
    assert len(w.fake.calls("conversations.history")) == 1


def test_a_post_whose_connection_drops_after_sending_is_not_retried_blind(synced: World) -> None:
    w = synced
    w.fake.drop_after("chat.postMessage", times=1)  # posted, then the connection closes
    start = w.config.session.starts_at.astimezone(UTC)
    w.at(start - timedelta(days=30) + timedelta(seconds=1))
    assert len(w.fake.calls("chat.postMessage")) == 1  # the client did not retry it blind
    assert w.deliveries("countdown")[0].status == "claimed"
    w.at(w.clock.now() + timedelta(minutes=1))
    assert len(w.posts("C0WG")) == 1
    assert w.deliveries("countdown")[0].status == "sent"


def test_a_timed_out_post_that_never_arrived_is_sent_once(synced: World) -> None:
    w = synced
    # Slack answers too late and rejects the message: the history check finds nothing.
    w.fake.delay("chat.postMessage", seconds=3, times=1)
    w.fake.fail("chat.postMessage", error="internal_error", times=1)
    start = w.config.session.starts_at.astimezone(UTC)
    w.at(start - timedelta(days=30) + timedelta(seconds=1))
    assert w.posts("C0WG") == [] and w.deliveries("countdown")[0].status == "claimed"
    w.at(w.clock.now() + timedelta(seconds=15))
    w.at(w.clock.now() + timedelta(seconds=15))
    assert len(w.posts("C0WG")) == 1
    assert w.deliveries("countdown")[0].status == "sent"


def test_a_history_error_that_never_clears_fails_once_and_tells_the_admins(synced: World) -> None:
    w = synced
    _countdown_claimed_by_a_dead_process(w)
    w.fake.fail("conversations.history", error="missing_scope")
    for _ in range(20):
        w.at(w.clock.now() + timedelta(minutes=1))
    d = w.deliveries("countdown")[-1]
    assert d.status == "failed" and "missing_scope" in (d.reason or "")
    assert len(w.fake.calls("conversations.history")) == 1
    assert w.posts("C0WG") == []  # never re-sent blind
    alerts = w.posts("U0ADMIN")
    assert len(alerts) == 1 and "missing_scope" in str(alerts[0]["blocks"])


def test_a_transient_history_error_backs_off_then_reconciles(synced: World) -> None:
    w = synced
    key = _countdown_claimed_by_a_dead_process(w)
    _bot_message(w, "C0WG", key)
    w.fake.fail("conversations.history", error="fatal_error")
    t0 = w.clock.now()
    while w.clock.now() < t0 + timedelta(minutes=10):  # a sweep every 5 s for 10 minutes
        w.at(w.clock.now() + timedelta(seconds=5))
    calls = len(w.fake.calls("conversations.history"))
    assert 3 <= calls <= 7  # backoff 15 s, 30 s, 1 min, 2 min, 4 min: no hot loop
    d = w.deliveries("countdown")[-1]
    assert d.status == "claimed" and "fatal_error" in (d.reason or "")
    w.fake.clear_faults()
    w.at(w.clock.now() + timedelta(hours=1))
    assert w.deliveries("countdown")[-1].status == "sent"
    assert w.posts("C0WG") == []
