"""On SQLite one scheduler sweeps at a time: a lease row, renewed while alive, taken over when it lapses."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.clock import FixedClock
from bot.scheduling.scheduler import Lease
from bot.store import migrate
from bot.store.db import make_engine, make_session_factory


def test_second_scheduler_waits_for_the_lease(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'l.db'}"
    migrate.upgrade(url)
    sessions = make_session_factory(make_engine(url))
    clock = FixedClock(datetime(2027, 1, 1, tzinfo=timezone.utc))
    a = Lease(sessions=sessions, clock=clock, holder="a", ttl=timedelta(seconds=30))
    b = Lease(sessions=sessions, clock=clock, holder="b", ttl=timedelta(seconds=30))
    assert a.acquire() and not b.acquire()
    clock.advance(timedelta(seconds=20))
    assert a.acquire() and not b.acquire()  # a renews while alive
    clock.advance(timedelta(seconds=31))  # a died: its lease lapses
    assert b.acquire() and not a.acquire()
    b.release()  # a clean shutdown hands over at once
    assert a.acquire()
