"""Reminders from the real processes: countdowns exactly once through a restart of `wgbot serve`;
two processes sharing PostgreSQL never send the same notification twice. What only the clock
decides (a delivery in flight at SIGTERM, one countdown after downtime, a post that timed out)
runs `wgbot clock` alone: the command serve's master runs as its scheduler, without a server."""
from __future__ import annotations

import collections
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from bot.services.health import last_sweep_completed
from bot.store.db import make_engine, make_session_factory, unit_of_work
from tests.conftest import edit_settings
from tests.slack_fake.process import BOT_TOKEN, BotProcess, ClockBotProcess
from tests.slack_fake.server import FakeSlack
from tests.slack_fake.travel import Travel

VIENNA = ZoneInfo("Europe/Vienna")


def _session_at(config_dir: Path, at: datetime, offsets: list[str]) -> None:
    """Put the special session at `at` (second precision) and poll every second."""
    edit_settings(config_dir, {
        "session": {"starts_at": at.astimezone(VIENNA).strftime("%Y-%m-%dT%H:%M:%S")},
        "reminders": {"session": offsets},
        "scheduler": {"poll_seconds": 1},
        "quiet_hours": None,
        "coordinators": [],
        "admins": [{"id": "U0ADMIN01", "name": "Admin"}],
    })


def _a_day_ahead() -> datetime:
    return (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)


def _countdown_keys(fake: FakeSlack) -> list[str]:
    return [c.params["metadata"]["event_payload"]["key"] for c in fake.messages("C0WGMIGRATE")
            if (c.params.get("metadata") or {}).get("event_type") == "wgbot_delivery"]


def _countdowns(fake: FakeSlack, count: int, timeout: float = 20) -> None:
    fake.wait_for("chat.postMessage", count=count, timeout=timeout,
                  predicate=lambda c: c.params.get("channel") == "C0WGMIGRATE")


def _last_sweep(engine: Engine) -> datetime | None:
    try:
        with unit_of_work(make_session_factory(engine), read_only=True) as s:
            return last_sweep_completed(s)
    except OperationalError:  # not created yet
        return None


def _sweeps_after(database_url: str, moment: datetime | None, count: int = 2,
                  timeout: float = 20) -> None:
    """Wait until `count` sweeps completed after `moment` (None: since the database began)."""
    deadline = time.monotonic() + timeout
    seen: set[datetime] = set()
    engine = make_engine(database_url)
    try:
        while len(seen) < count:
            assert time.monotonic() < deadline, f"fewer than {count} sweeps after {moment}"
            last = _last_sweep(engine)
            if last is not None and (moment is None or last > moment):
                seen.add(last)
            time.sleep(0.1)
    finally:
        engine.dispose()


def test_countdowns_exactly_once_across_a_restart(fake: FakeSlack, config_dir: Path,
                                                  tmp_path: Path, _migrated_sqlite: Path) -> None:
    session = _a_day_ahead()
    _session_at(config_dir, session, ["3h", "2h", "1h"])
    travel = Travel(tmp_path / "clock-offset")
    bot = BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "p", env=travel.env,
                     template=_migrated_sqlite)
    try:
        bot.start()
        _sweeps_after(bot.env["DATABASE_URL"], None, count=1)  # planning has begun
        travel.to(session - timedelta(hours=3))
        _countdowns(fake, 1)
        assert bot.stop() == 0  # SIGTERM between two countdowns
        bot.start()
        for n, hours in ((2, 2), (3, 1)):
            travel.to(session - timedelta(hours=hours))
            _countdowns(fake, n)
        _sweeps_after(bot.env["DATABASE_URL"], travel.now())
        keys = _countdown_keys(fake)
        assert len(keys) == 3 and len(set(keys)) == 3, keys
    finally:
        bot.close()


def test_two_processes_on_postgresql_never_send_twice(fake: FakeSlack, config_dir: Path,
                                                      tmp_path: Path, pg_url: str) -> None:
    session = _a_day_ahead()
    _session_at(config_dir, session, ["5h", "4h", "3h", "2h", "1h"])
    travel = Travel(tmp_path / "clock-offset")
    web = BotProcess(fake=fake, config_dir=config_dir, database_url=pg_url,
                     tmp_dir=tmp_path / "web", env=travel.env)
    env = dict(web.env)
    # pg_url is at the newest schema, as `wgbot db upgrade` leaves it: a PostgreSQL schema is not
    # made on start
    clock_log = open(tmp_path / "clock.log", "wb")
    clock = subprocess.Popen([sys.executable, "-m", "bot", "clock"], env=env, stdout=clock_log,
                             stderr=subprocess.STDOUT)
    try:
        web.start()  # `wgbot serve` runs its own scheduler too: two schedulers, one database
        _sweeps_after(pg_url, None, count=1)
        for n, hours in enumerate((5, 4, 3, 2, 1), start=1):
            travel.to(session - timedelta(hours=hours))  # leases lapse too: both compete
            _countdowns(fake, n)
        _sweeps_after(pg_url, travel.now(), count=3)
        keys = _countdown_keys(fake)
        dupes = [k for k, n in collections.Counter(keys).items() if n > 1]
        assert len(keys) == 5 and not dupes, keys
        assert env["SLACK_BOT_TOKEN"] == BOT_TOKEN
    finally:
        clock.send_signal(signal.SIGTERM)
        clock.wait(timeout=15)
        clock_log.close()
        web.close()


def test_sigterm_finishes_and_records_the_delivery_in_flight(fake: FakeSlack, config_dir: Path,
                                                             tmp_path: Path,
                                                             _migrated_sqlite: Path) -> None:
    import sqlite3

    session = _a_day_ahead()
    _session_at(config_dir, session, ["1h"])
    fake.delay("chat.postMessage", 3.0)  # Slack is slow: the message is in flight at SIGTERM
    travel = Travel(tmp_path / "clock-offset")
    db = tmp_path / "clock.db"
    shutil.copyfile(_migrated_sqlite, db)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
           "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": fake.url,
           "DATABASE_URL": f"sqlite:///{db}", "WGBOT_CONFIG_DIR": str(config_dir), **travel.env}
    log = open(tmp_path / "clock.log", "wb")
    clock = subprocess.Popen([sys.executable, "-m", "bot", "clock"], env=env, stdout=log,
                             stderr=subprocess.STDOUT)
    try:
        _sweeps_after(env["DATABASE_URL"], None, count=1)
        travel.to(session - timedelta(hours=1))
        fake.wait_for("chat.postMessage", timeout=20)  # the request has arrived, not answered
        clock.send_signal(signal.SIGTERM)
        assert clock.wait(timeout=10) == 0
    finally:
        if clock.poll() is None:
            clock.kill()
        log.close()
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT status, ts FROM deliveries WHERE kind='countdown'").fetchall()
    assert len(rows) == 1 and rows[0][0] == "sent" and rows[0][1], rows


def _heads(fake: FakeSlack) -> list[str]:
    return [c.params["blocks"][0]["text"]["text"] for c in fake.messages("C0WGMIGRATE")]


def test_after_downtime_one_countdown_goes_out_worded_for_then(fake: FakeSlack, config_dir: Path,
                                                                tmp_path: Path,
                                                                _migrated_sqlite: Path) -> None:
    import sqlite3

    # countdowns 38, 26, 23 and 20 minutes before the session
    offsets = [38, 26, 23, 20]
    session = _a_day_ahead()
    _session_at(config_dir, session, [f"{n}m" for n in offsets])
    travel = Travel(tmp_path / "clock-offset")
    bot = ClockBotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "p", env=travel.env,
                          template=_migrated_sqlite)
    try:
        bot.start()
        _sweeps_after(bot.env["DATABASE_URL"], None, count=1)
        travel.to(session - timedelta(minutes=offsets[0]))
        _countdowns(fake, 1)
        assert bot.stop() == 0
        # down across the next three countdown moments, back 90 s after the last of them
        travel.to(session - timedelta(minutes=offsets[-1]) + timedelta(seconds=90))
        bot.start()
        _countdowns(fake, 2)
        _sweeps_after(bot.env["DATABASE_URL"], travel.now())
        heads = _heads(fake)
        assert len(heads) == 2, heads  # no burst: one countdown for those that fell due together
        assert heads[0].split()[1] == str(offsets[0]), heads  # sent on time: exactly its offset
        sent = fake.messages("C0WGMIGRATE")[1]
        left = session - travel.at(sent.at)
        claimed = int(heads[1].split()[1])
        assert heads[1].endswith("minutes to the special session") and \
            claimed <= left / timedelta(minutes=1) and claimed < offsets[-1], (heads[1], left)
    finally:
        bot.close()
    with sqlite3.connect(tmp_path / "p" / "wgbot.db") as conn:
        reasons = [r for (r,) in conn.execute(
            "SELECT reason FROM deliveries WHERE kind='countdown' AND status='skipped'")]
    assert reasons and set(reasons) == {f"superseded by the {offsets[-1]}-minute countdown"}, \
        reasons


def test_a_post_that_times_out_after_posting_arrives_once(config_dir: Path, tmp_path: Path,
                                                          _migrated_sqlite: Path) -> None:
    session = _a_day_ahead()
    _session_at(config_dir, session, ["1h"])
    travel = Travel(tmp_path / "clock-offset")
    # Slack's clock agrees with the bot's: its message timestamps are read back from history
    with FakeSlack(clock=lambda: travel.now().timestamp()) as fake:
        _times_out_after_posting(fake, travel, config_dir, tmp_path, session, _migrated_sqlite)


def _times_out_after_posting(fake: FakeSlack, travel: Travel, config_dir: Path, tmp_path: Path,
                             session: datetime, template: Path) -> None:
    fake.hang_after("chat.postMessage", seconds=4, times=1)  # posted, then no answer in time
    bot = ClockBotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "p",
                          env={"WGBOT_SLACK_TIMEOUT": "1", **travel.env}, template=template)
    try:
        bot.start()
        _sweeps_after(bot.env["DATABASE_URL"], None, count=1)
        travel.to(session - timedelta(hours=1))
        bot.wait_for_log("outcome unknown", timeout=20)
        travel.forward(timedelta(minutes=1))  # past the wait before a look in the history
        fake.wait_for("conversations.history", timeout=20)  # looked before re-sending
        _sweeps_after(bot.env["DATABASE_URL"], travel.now())
        keys = _countdown_keys(fake)
        assert len(keys) == 1, (keys, bot.log_text()[-3000:])
    finally:
        bot.close()
