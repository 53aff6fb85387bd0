"""When /healthz counts the scheduler as dead: judged from the last completed sweep, at fixed moments."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.scheduling.health import judge, stale_after
from bot.services.health import last_sweep_completed, record_sweep_completed
from bot.store import migrate
from bot.store.db import make_engine, make_session_factory, unit_of_work

START = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


def test_stale_after_covers_a_dead_clocks_lease_and_a_restart() -> None:
    assert stale_after(1) == 10 + 3 + 10
    assert stale_after(30) == 90 + 90 + 10


def test_a_recent_sweep_is_ok_an_old_one_stale() -> None:
    limit = stale_after(1)
    late = START + timedelta(minutes=5)
    ok = judge(last_sweep=late - timedelta(seconds=2), now=late, started_at=START, poll_seconds=1,
               supervised=True)
    assert ok.state == "ok" and ok.healthy and ok.last_sweep_seconds_ago == 2
    dead = judge(last_sweep=late - timedelta(seconds=limit + 1), now=late, started_at=START,
                 poll_seconds=1, supervised=True)
    assert dead.state == "stale" and not dead.healthy
    assert dead.report()["last_sweep_seconds_ago"] == limit + 1


def test_a_fresh_start_has_its_grace_then_needs_a_sweep() -> None:
    limit = stale_after(1)
    soon = judge(last_sweep=None, now=START + timedelta(seconds=limit), started_at=START,
                 poll_seconds=1, supervised=True)
    assert soon.state == "starting" and soon.healthy
    # an old sweep from before a long downtime does not count against a process just started
    old = judge(last_sweep=START - timedelta(days=3), now=START + timedelta(seconds=1),
                started_at=START, poll_seconds=1, supervised=True)
    assert old.state == "starting" and old.healthy
    never = judge(last_sweep=None, now=START + timedelta(seconds=limit + 1), started_at=START,
                  poll_seconds=1, supervised=True)
    assert never.state == "stale" and not never.healthy


def test_a_scheduler_that_runs_elsewhere_never_fails_the_check() -> None:
    h = judge(last_sweep=START - timedelta(days=1), now=START + timedelta(hours=1),
              started_at=START, poll_seconds=1, supervised=False)
    assert h.state == "elsewhere" and h.healthy and h.last_sweep_seconds_ago == 25 * 3600


def test_the_completed_sweep_is_recorded_and_never_moves_back(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.bring_up_to_date(engine, database_url)
    sessions = make_session_factory(engine)
    with unit_of_work(sessions, read_only=True) as s:
        assert last_sweep_completed(s) is None
    for moment in (START, START + timedelta(seconds=5), START + timedelta(seconds=3)):
        with unit_of_work(sessions) as s:
            record_sweep_completed(s, now=moment)
    with unit_of_work(sessions, read_only=True) as s:
        assert last_sweep_completed(s) == START + timedelta(seconds=5)
    engine.dispose()
