"""Reminders from the real processes: countdowns exactly once through a restart; two processes
sharing PostgreSQL never send the same notification twice."""
from __future__ import annotations

import collections
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import edit_settings
from tests.slack_fake.process import BOT_TOKEN, BotProcess
from tests.slack_fake.server import FakeSlack

VIENNA = ZoneInfo("Europe/Vienna")


def _session_soon(config_dir: Path, seconds: int, offsets: list[str]) -> None:
    """Put the special session `seconds` from now (second precision) and poll every second."""
    at = datetime.now(VIENNA).replace(microsecond=0) + timedelta(seconds=seconds)
    edit_settings(config_dir, {
        "session": {"starts_at": at.strftime("%Y-%m-%dT%H:%M:%S")},
        "reminders": {"session": offsets},
        "scheduler": {"poll_seconds": 1},
        "quiet_hours": None,
        "coordinators": [],
        "admins": [{"id": "U0ADMIN01", "name": "Admin"}],
    })


def _countdown_keys(fake: FakeSlack) -> list[str]:
    return [c.params["metadata"]["event_payload"]["key"] for c in fake.messages("C0WGMIGRATE")
            if (c.params.get("metadata") or {}).get("event_type") == "wgbot_delivery"]


def test_countdowns_exactly_once_across_a_restart(fake: FakeSlack, config_dir: Path,
                                                  tmp_path: Path) -> None:
    # the session 30 s ahead; countdowns 12 s, 20 s and 26 s after the start
    _session_soon(config_dir, 30, ["18s", "10s", "4s"])
    bot = BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "p")
    try:
        bot.start()
        fake.wait_for("chat.postMessage", count=1, timeout=30,
                      predicate=lambda c: c.params.get("channel") == "C0WGMIGRATE")
        assert bot.stop() == 0  # SIGTERM in the middle
        bot.start()
        fake.wait_for("chat.postMessage", count=3, timeout=60,
                      predicate=lambda c: c.params.get("channel") == "C0WGMIGRATE")
        time.sleep(3)
        keys = _countdown_keys(fake)
        assert len(keys) == 3 and len(set(keys)) == 3, keys
    finally:
        bot.close()


def test_two_processes_on_postgresql_never_send_twice(fake: FakeSlack, config_dir: Path,
                                                      tmp_path: Path, pg_url: str) -> None:
    _session_soon(config_dir, 40, ["25s", "20s", "15s", "10s", "5s"])
    web = BotProcess(fake=fake, config_dir=config_dir, database_url=pg_url,
                     tmp_dir=tmp_path / "web")
    env = dict(web.env)
    subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=env, check=True,
                   capture_output=True)
    clock_log = open(tmp_path / "clock.log", "wb")
    clock = subprocess.Popen([sys.executable, "-m", "bot", "clock"], env=env, stdout=clock_log,
                             stderr=subprocess.STDOUT)
    try:
        web.start()  # `wgbot serve` runs its own scheduler too: two schedulers, one database
        fake.wait_for("chat.postMessage", count=5, timeout=90,
                      predicate=lambda c: c.params.get("channel") == "C0WGMIGRATE")
        time.sleep(3)
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
                                                             tmp_path: Path) -> None:
    import sqlite3

    _session_soon(config_dir, 25, ["15s"])
    fake.delay("chat.postMessage", 3.0)  # Slack is slow: the message is in flight at SIGTERM
    db = tmp_path / "clock.db"
    env = {**{k: v for k, v in __import__("os").environ.items() if not k.startswith("SLACK_")},
           "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": fake.url,
           "DATABASE_URL": f"sqlite:///{db}", "WGBOT_CONFIG_DIR": str(config_dir)}
    log = open(tmp_path / "clock.log", "wb")
    clock = subprocess.Popen([sys.executable, "-m", "bot", "clock"], env=env, stdout=log,
                             stderr=subprocess.STDOUT)
    try:
        fake.wait_for("chat.postMessage", timeout=40)  # the request has arrived, not answered
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
                                                                tmp_path: Path) -> None:
    import sqlite3

    # the session 50 s ahead; countdowns 12 s, 24 s, 27 s and 30 s after the start
    offsets = [38, 26, 23, 20]
    _session_soon(config_dir, 50, [f"{n}s" for n in offsets])
    session_at = time.time() + 50
    bot = BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "p")
    try:
        bot.start()
        fake.wait_for("chat.postMessage", count=1, timeout=40,
                      predicate=lambda c: c.params.get("channel") == "C0WGMIGRATE")
        assert bot.stop() == 0
        while time.time() < session_at - offsets[-1] + 1:  # down across the next countdown moments
            time.sleep(0.2)
        bot.start()
        fake.wait_for("chat.postMessage", count=2, timeout=30,
                      predicate=lambda c: c.params.get("channel") == "C0WGMIGRATE")
        time.sleep(3)
        heads = _heads(fake)
        assert len(heads) == 2, heads  # no burst: one countdown for those that fell due together
        first = int(heads[0].split()[1])
        assert first in offsets[:2], heads  # sent on time: exactly its offset
        sent = fake.messages("C0WGMIGRATE")[1]
        left = int(session_at - sent.at)
        claimed = int(heads[1].split()[1])
        assert heads[1].endswith("seconds to the special session") and claimed <= left + 1, \
            (heads[1], left)  # never more than remains (the session is set to the second)
    finally:
        bot.close()
    with sqlite3.connect(tmp_path / "p" / "wgbot.db") as conn:
        reasons = [r for (r,) in conn.execute(
            "SELECT reason FROM deliveries WHERE kind='countdown' AND status='skipped'")]
    assert reasons and set(reasons) == {f"superseded by the {offsets[-1]}-second countdown"}, \
        reasons


def test_a_post_that_times_out_after_posting_arrives_once(fake: FakeSlack, config_dir: Path,
                                                          tmp_path: Path) -> None:
    _session_soon(config_dir, 45, ["30s"])  # due 15 s after the start
    fake.hang_after("chat.postMessage", seconds=4, times=1)  # posted, then no answer in time
    bot = BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "p",
                     env={"WGBOT_SLACK_TIMEOUT": "1"})
    try:
        bot.start()
        fake.wait_for("conversations.history", timeout=60)  # looked before re-sending
        time.sleep(3)
        keys = _countdown_keys(fake)
        assert len(keys) == 1, (keys, bot.log_text()[-3000:])
        assert "outcome unknown" in bot.log_text()
    finally:
        bot.close()
