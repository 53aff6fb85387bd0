"""On SQLite one scheduler sweeps at a time: a lease row, renewed while alive, taken over when it lapses."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import FixedClock
from bot.scheduling.scheduler import Lease, ReminderScheduler
from bot.scheduling.sweep import Sweeper
from bot.store import migrate
from bot.store.db import make_engine, make_session_factory
from tests.factories import config
from tests.scheduling.test_sweep import World, make_world
from tests.slack_fake.server import FakeSlack
from tests.support.static_config import StaticConfig


def test_second_scheduler_waits_for_the_lease(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'l.db'}"
    migrate.upgrade(url)
    sessions = make_session_factory(make_engine(url))
    clock = FixedClock(datetime(2027, 1, 1, tzinfo=UTC))
    a = Lease(sessions=sessions, clock=clock, holder="a", ttl=timedelta(seconds=30))
    b = Lease(sessions=sessions, clock=clock, holder="b", ttl=timedelta(seconds=30))
    assert a.acquire() and not b.acquire()
    clock.advance(timedelta(seconds=20))
    assert a.acquire() and not b.acquire()  # a renews while alive
    clock.advance(timedelta(seconds=31))  # a died: its lease lapses
    assert b.acquire() and not a.acquire()
    b.release()  # a clean shutdown hands over at once
    assert a.acquire()


def _long_sweep_world(tmp_path: Path, fake: FakeSlack) -> tuple[World, Lease, Lease, ReminderScheduler]:
    """Six deadline reminders due at once; scheduler a holds a 10 s lease, b waits for it."""
    start = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    w = make_world(f"sqlite:///{tmp_path / 'w.db'}", fake, config(quiet_hours=None, coordinators=()),
                   start)
    w.sweeper.holder = "a"
    a = Lease(sessions=w.sessions, clock=w.clock, holder="a", ttl=timedelta(seconds=10))
    b = Lease(sessions=w.sessions, clock=w.clock, holder="b", ttl=timedelta(seconds=10))
    scheduler = ReminderScheduler(sweeper=w.sweeper, poll_seconds=lambda: 1, watch_config=None,
                                  lease=a)
    scheduler.tick()  # the first sweep sets the mark
    for i in range(6):
        w.commit(start + timedelta(days=1, hours=1, minutes=i))
    w.clock.set(start + timedelta(hours=2))  # every 1-day reminder is due
    return w, a, b, scheduler


def test_a_sweep_longer_than_the_lease_renews_it(tmp_path: Path, fake: FakeSlack) -> None:
    w, _, b, scheduler = _long_sweep_world(tmp_path, fake)
    b_took_it: list[bool] = []

    def slow_post(params: dict[str, Any]) -> dict[str, Any]:  # each post takes 4 s
        w.clock.advance(timedelta(seconds=4))
        b_took_it.append(b.acquire())  # the other scheduler tries its luck meanwhile
        return FakeSlack._chat_post_message(fake, params)

    fake.on("chat.postMessage", slow_post)
    scheduler.tick()  # one 24 s sweep
    assert len(fake.messages()) == 6
    assert b_took_it == [False] * 6  # never two schedulers at once


def test_a_sweep_that_lost_its_lease_stops_sending(tmp_path: Path, fake: FakeSlack) -> None:
    w, _, b, scheduler = _long_sweep_world(tmp_path, fake)

    def stalled_post(params: dict[str, Any]) -> dict[str, Any]:
        if not fake.calls("chat.postMessage"):  # the first post stalls past the lease …
            w.clock.advance(timedelta(seconds=30))
            assert b.acquire()  # … and the other scheduler takes over
        return FakeSlack._chat_post_message(fake, params)

    fake.on("chat.postMessage", stalled_post)
    scheduler.tick()
    assert len(fake.messages()) == 1  # a finished the post in flight, then stopped
    pending = [d for d in w.deliveries("deadline") if d.status == "pending"]
    assert len(pending) == 5
    b_sweeper = Sweeper(config=StaticConfig(w.config), sessions=w.sessions, clock=w.clock,
                        notifier=w.sweeper._notifier, holder="b")
    ReminderScheduler(sweeper=b_sweeper, poll_seconds=lambda: 1, watch_config=None,
                      lease=b).tick()
    keys = [c.params["metadata"]["event_payload"]["key"] for c in fake.messages()]
    assert len(keys) == len(set(keys)) == 6
