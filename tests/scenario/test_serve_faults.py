"""`wgbot serve`'s scheduler under process faults, with the real server, in one scenario: a clock
killed with SIGKILL during start-up and in the middle of a delivery always comes back with a log
line, and the next one takes over the dead one's lease and its delivery in flight; /healthz turns
503 while no sweep completes (clock frozen with SIGSTOP) and 200 again once sweeps resume; a clock
whose server is killed with SIGKILL stops instead of sweeping on as an orphan."""
from __future__ import annotations

import os
import re
import signal
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from sqlalchemy.exc import OperationalError

from bot.scheduling.health import lease_seconds
from bot.services.health import last_sweep_completed
from bot.services.outbox import CLAIM_LEASE
from bot.store.db import make_engine, make_session_factory, unit_of_work
from tests.conftest import edit_settings
from tests.slack_fake.process import BotProcess
from tests.slack_fake.server import Call, FakeSlack
from tests.slack_fake.travel import Travel

STARTED = re.compile(r"reminder scheduler started as process (\d+)")
RESTART = 6  # seconds: the restart delay (1 s), plus a busy machine's moment to start a process
VIENNA = ZoneInfo("Europe/Vienna")


def clock_pids(bot: BotProcess) -> list[int]:
    """Every clock process the server has started so far, oldest first (from its log)."""
    return [int(p) for p in STARTED.findall(bot.log_text())]


def wait_for_new_clock(bot: BotProcess, known: int, timeout: float) -> int:
    """The pid of the clock started after the first `known` ones (fails after `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = clock_pids(bot)
        if len(pids) > known:
            return pids[known]
        time.sleep(0.05)
    raise AssertionError(f"no new scheduler within {timeout}s of a kill:\n{bot.log_text()[-4000:]}")


def alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting to be reaped counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def health(bot: BotProcess) -> requests.Response:
    """GET /healthz."""
    return requests.get(bot.url + "/healthz", timeout=5)


def _lease_holder(db: Path) -> str | None:
    """Who holds the scheduler lease on the bot's SQLite database (None: nobody, or no table)."""
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT holder FROM scheduler_leases").fetchone()
    except sqlite3.OperationalError:  # not created yet, or locked for a moment
        return None
    return row[0] if row else None


def _holds_the_lease(db: Path, pid: int) -> bool:
    holder = _lease_holder(db)
    return holder is not None and holder.endswith(f":{pid}")


def _last_sweep(bot: BotProcess) -> datetime | None:
    """When a sweep last completed, as the bot records it (its own, shifted, time)."""
    engine = make_engine(bot.env["DATABASE_URL"])
    try:
        with unit_of_work(make_session_factory(engine), read_only=True) as s:
            return last_sweep_completed(s)
    except OperationalError:  # not created yet, or locked for a moment
        return None
    finally:
        engine.dispose()


def _until(what: str, check: Callable[[], bool], bot: BotProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout}s\n{bot.log_text()[-4000:]}")
        time.sleep(0.05)


def _countdowns(fake: FakeSlack) -> list[Call]:
    return [c for c in fake.messages("C0WGMIGRATE")
            if (c.params.get("metadata") or {}).get("event_type") == "wgbot_delivery"]


def test_the_scheduler_killed_frozen_and_orphaned(config_dir: Path, tmp_path: Path,
                                                  _migrated_sqlite: Path) -> None:
    """One running server, its clock under each fault in turn (each start of `wgbot serve` costs
    two processes; the faults are independent of one another).

    Killed with SIGKILL at the moments that differ for whoever comes next; each time the server
    logs the exit and starts a new clock, which carries on where the dead one stopped:

    1. during start-up, before the clock has logged a line of its own, holding nothing yet: the
       server restarts a clock that never got going, and the next one sweeps at once;
    2. in the middle of a sweep, holding the lease (which SIGKILL leaves unreleased), with a
       countdown claimed, posted to Slack and its answer held back: the next clock waits for
       the lease to lapse, takes it over, finds the dead clock's claim, looks in Slack's history
       and records the countdown as sent instead of posting it a second time.

    The supervisor's watch is the same whatever the clock was doing, so these two moments, not
    the number of kills, are what tell a robust successor from a lucky one.

    3. Frozen with SIGSTOP: alive, so the server cannot tell, but no sweep completes; /healthz
       turns 503 once that has lasted too long, and 200 again once sweeps resume.
    4. Orphaned: the server's master killed with SIGKILL; its clock stops instead of sweeping on.
    """
    session = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    edit_settings(config_dir, {
        "session": {"starts_at": session.astimezone(VIENNA).strftime("%Y-%m-%dT%H:%M:%S")},
        "reminders": {"session": ["1h"]}, "scheduler": {"poll_seconds": 1},
        "quiet_hours": None, "coordinators": [],
    })
    travel = Travel(tmp_path / "clock-offset")
    db = tmp_path / "proc" / "wgbot.db"
    # Slack's clock agrees with the bot's: the history search starts at the claim's moment
    with FakeSlack(clock=lambda: travel.now().timestamp()) as fake, \
            BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "proc",
                       env=travel.env, template=_migrated_sqlite) as bot:
        # 1. killed during start-up: at once, long before its imports are done
        pid = wait_for_new_clock(bot, 0, timeout=10)
        os.kill(pid, signal.SIGKILL)
        assert f"[{pid}] " not in bot.log_text(), "1. the kill came after the clock's start-up"

        pid = wait_for_new_clock(bot, 1, timeout=RESTART)
        _until("1. the new clock takes the lease and sweeps",
               lambda: _holds_the_lease(db, pid) and _last_sweep(bot) is not None, bot,
               timeout=20)

        # 2. killed in the middle of a sweep: the countdown posted, its answer held back
        held = fake.hang("chat.postMessage", 60, when=lambda p: p.get("channel") == "C0WGMIGRATE")
        travel.to(session - timedelta(hours=1))
        assert held.started.wait(20), f"2. no countdown was posted:\n{bot.log_text()[-4000:]}"
        os.kill(pid, signal.SIGKILL)
        held.release()
        assert _holds_the_lease(db, pid), "2. the lease was released"  # the next clock waits
        pid = wait_for_new_clock(bot, 2, timeout=RESTART)
        killed_at = travel.now()
        assert CLAIM_LEASE.total_seconds() > lease_seconds(1)
        travel.forward(CLAIM_LEASE + timedelta(seconds=1))  # the dead clock's claim and lease lapse
        bot.wait_for_log("was already in Slack", timeout=20)
        _until("2. the last clock holds the lease and sweeps",
               lambda: _holds_the_lease(db, pid) and (_last_sweep(bot) or killed_at) > killed_at,
               bot, timeout=20)
        log = bot.log_text()
        assert len(clock_pids(bot)) == 3
        assert len(re.findall(r"reminder scheduler \(process \d+\) exited", log)) == 2
        assert len(_countdowns(fake)) == 1, fake.describe()
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT status FROM deliveries WHERE kind = 'countdown'"
                                ).fetchall() == [("sent",)]

        # 3. frozen
        ok = health(bot).json()
        assert ok["ok"] is True and ok["scheduler"]["state"] == "ok", ok
        stale_after = ok["scheduler"]["stale_after_seconds"]
        os.kill(pid, signal.SIGSTOP)  # alive but sweeping nothing: the supervisor cannot tell
        try:
            travel.forward(timedelta(seconds=stale_after))  # the time no sweep completes in
            deadline = time.monotonic() + 15
            while (resp := health(bot)).status_code == 200:
                assert time.monotonic() < deadline, f"3. still 200 {stale_after + 15}s on"
                time.sleep(0.1)
            body = resp.json()
            assert resp.status_code == 503 and body["ok"] is False, body
            assert body["scheduler"]["state"] == "stale", body
            assert body["scheduler"]["last_sweep_seconds_ago"] >= stale_after  # rounded to 0.1 s
        finally:
            os.kill(pid, signal.SIGCONT)
        _until("3. /healthz recovers after sweeps resume", lambda: health(bot).status_code == 200,
               bot, timeout=15)
        assert clock_pids(bot)[-1] == pid  # the same clock, resumed

        # 4. orphaned: the master alone killed
        assert bot.pid is not None
        os.kill(bot.pid, signal.SIGKILL)
        _until("4. the orphaned clock stops", lambda: not alive(pid), bot, timeout=15)
        assert "is gone; stopping" in bot.log_text()
