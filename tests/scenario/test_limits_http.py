"""Limits of the real `wgbot serve` over signed HTTP: a database locked by another process. Kept
few: each starts the server; the rest is tested in process (tests/services, tests/slack). The
server runs without its clock (`--no-scheduler`): the subject is what its web worker answers."""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import MEMBER
from tests.slack_fake.client import reply_body as _reply
from tests.slack_fake.client import reply_text as _text
from tests.slack_fake.process import BotProcess
from tests.slack_fake.server import FakeSlack

HOLD = 6.0  # seconds at most: longer than a request may wait, shorter than the old 15 s timeout


@pytest.fixture
def bot(fake: FakeSlack, config_dir: Path, tmp_path: Path,
        _migrated_sqlite: Path) -> Iterator[BotProcess]:
    """The real `wgbot serve --no-scheduler` on SQLite, talking to the fake Slack."""
    with BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "proc",
                    args=["--no-scheduler"], template=_migrated_sqlite) as proc:
        yield proc


def _commitments(bot: BotProcess) -> int:
    with sqlite3.connect(bot.tmp_dir / "wgbot.db") as conn:
        return int(conn.execute("SELECT count(*) FROM commitments").fetchone()[0])


def test_a_locked_database_gets_the_busy_answer_in_time_and_nothing_is_written(
        bot: BotProcess) -> None:
    """Another process holds the write lock until every answer is in (6 s at most); commands
    answer 'busy' while it is held."""
    c = bot.client
    assert "Your open commitments" in _text(_reply(c.command("list", user_id=MEMBER)))
    taken, answered, released = threading.Event(), threading.Event(), threading.Event()
    seen_inside: list[int] = []

    def hold() -> None:  # this test process is the other writer
        holder = sqlite3.connect(bot.tmp_dir / "wgbot.db", isolation_level=None, timeout=30)
        holder.execute("BEGIN IMMEDIATE")
        taken.set()
        answered.wait(HOLD)
        seen_inside.append(holder.execute("SELECT count(*) FROM commitments").fetchone()[0])
        holder.execute("ROLLBACK")
        holder.close()
        released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    triggers = [c.new_trigger_id() for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(
            lambda t: c.command("commit Draft guidelines by 2030-06-28", user_id=MEMBER,
                                trigger_id=t), triggers))
        answered_while_held = not released.is_set()
    answered.set()
    holder.join(15)
    assert answered_while_held  # every answer came before the lock was let go
    for resp in answers:
        text = _text(_reply(resp))
        assert "database is busy" in text and "Nothing was recorded" in text, text
    assert seen_inside == [0] and _commitments(bot) == 0
    # The very same signed request, once the lock is gone, is carried out (it was not recorded
    # as handled while it failed).
    text = _text(_reply(c.command("commit Draft guidelines by 2030-06-28", user_id=MEMBER,
                                  trigger_id=triggers[0])))
    assert "Recorded *#1*" in text, text
    assert _commitments(bot) == 1
