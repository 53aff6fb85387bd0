"""One unit of work per turn: a write command reaches the database in at most two transactions.

Counted are the transactions the engine really begins (SQLAlchemy's `begin` event fires when a
connection starts one: SQLite's BEGIN / BEGIN IMMEDIATE, PostgreSQL's implicit BEGIN), while one
signed `/wg` command is dispatched to the Bolt app in this process. The member who types is known
and fresh (a first contact looks them up in Slack first: see the last test).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, event, func, select

from bot.clock import FixedClock
from bot.domain import planning
from bot.domain.planning import Planned
from bot.services import outbox
from bot.store.db import READ_ONLY_OPTION, unit_of_work
from bot.store.models import AuditEntry, Commitment, Delivery
from tests.conftest import MEMBER, OTHER
from tests.slack_fake.client import reply_body as _reply
from tests.slack_fake.client import reply_text as _text
from tests.slack_fake.inprocess import InProcessBot
from tests.slack_fake.server import FakeSlack

MOST = 2  # a read (who is asking, their timezone, what they refer to) and the write itself


@pytest.fixture
def bot(fake: FakeSlack, config_dir: Path, database_url: str, engine: Engine, clock: FixedClock
        ) -> Iterator[InProcessBot]:
    """The Bolt app in this process over SQLite, and PostgreSQL when WGBOT_TEST_DATABASE_URL is set."""
    with InProcessBot(fake=fake, config_dir=config_dir, database_url=database_url,
                      clock=clock, engine=engine) as b:
        yield b


class Transactions:
    """Counts the transactions an engine begins while the block runs, and which of them write."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.writes = 0  # begun as writers (on SQLite: BEGIN IMMEDIATE, the write lock)

    def _begun(self, conn: Connection) -> None:
        self.count += 1
        if not conn.get_execution_options().get(READ_ONLY_OPTION):
            self.writes += 1

    def __enter__(self) -> Transactions:
        event.listen(self.engine, "begin", self._begun)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "begin", self._begun)


def _say(bot: InProcessBot, text: str, user: str = MEMBER) -> str:
    return _text(_reply(bot.client.command(text, user_id=user)))


def _recorded(bot: InProcessBot, text: str) -> int:
    m = re.search(r"Recorded \*#(\d+)\*", reply := _say(bot, f"commit {text}"))
    assert m, reply
    return int(m.group(1))


def _counted(bot: InProcessBot, text: str) -> tuple[int, str]:
    with Transactions(bot.core.engine) as tx:
        reply = _say(bot, text)
    return tx.count, reply


def _audits(bot: InProcessBot) -> int:
    with unit_of_work(bot.core.sessions, read_only=True) as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


@pytest.fixture
def known(bot: InProcessBot) -> InProcessBot:
    """Both members have spoken to the bot today, so their cached profiles are fresh."""
    _say(bot, "list", user=MEMBER)
    _say(bot, "list", user=OTHER)
    return bot


def test_a_plain_commit_is_one_read_and_one_write(known: InProcessBot) -> None:
    count, reply = _counted(known, "commit Draft guidelines by 2030-06-28")
    assert "Recorded *#1*" in reply
    assert count <= MOST, f"/wg commit began {count} transactions"


@pytest.mark.parametrize(("command", "shows"), [
    ("done {id}", "done"),
    ("reopen {done}", "Reopened"),
    ("cancel {id}", "Cancelled"),
    ("move {id} to 2030-04-02 09:30", "Tue 2 Apr 2030, 09:30"),
    ("edit {id} Draft the guidelines with the Chair", "Draft the guidelines with the Chair"),
    (f"assign {{id}} <@{OTHER}|bob>", OTHER),
    ("note {id} Sent to the Chair", "Noted"),
    ("link {id} S2", "S2"),
    ("unlink {id} S1", "#"),
])
def test_each_write_command_is_one_read_and_one_write(known: InProcessBot, command: str,
                                                      shows: str) -> None:
    cid = _recorded(known, "Draft guidelines by 2030-06-28 for S1")
    done = _recorded(known, "Finished item by 2030-06-29")
    assert "done" in _say(known, f"done {done}")
    audits = _audits(known)
    with Transactions(known.core.engine) as tx:
        reply = _say(known, command.format(id=cid, done=done))
    count = tx.count
    assert shows in reply
    assert _audits(known) == audits + 1, reply  # the change was made, with its audit entry
    assert count <= MOST, f"/wg {command} began {count} transactions"
    assert tx.writes == 1


def test_a_move_skips_the_old_reminders_in_the_same_transaction(known: InProcessBot) -> None:
    """Re-planning is part of the change: the reminder planned for the old deadline is skipped by
    the transaction that moves it, not by a later one that a crash could lose."""
    bot = known
    cid = _recorded(bot, "Draft guidelines by 2030-06-28")
    now = bot.core.clock.now()
    with unit_of_work(bot.core.sessions) as s:  # a reminder planned and waiting (quiet hours)
        due = s.get(Commitment, cid).due_at  # type: ignore[union-attr]
        reminder = Planned("deadline", MEMBER, planning.commitment_subject(cid, due),
                           due - timedelta(hours=2), due - timedelta(hours=1))
        outbox.enqueue(s, [reminder], now=now)
    with unit_of_work(bot.core.sessions, read_only=True) as s:
        assert s.scalar(select(Delivery.status).where(Delivery.key == reminder.key)) == "pending"
    with Transactions(bot.core.engine) as tx:
        reply = _say(bot, f"move {cid} to 2030-04-02 09:30")
    assert "Tue 2 Apr 2030, 09:30" in reply
    with unit_of_work(bot.core.sessions, read_only=True) as s:
        rows = s.scalars(select(Delivery).where(Delivery.subject.like(f"c{cid}@%"))).all()
        assert {(d.status, d.reason) for d in rows} == {("skipped", f"commitment #{cid} was moved")}
        moved_at = s.get(Commitment, cid).due_at  # type: ignore[union-attr]
    assert moved_at.year == 2030
    assert tx.writes == 1, "the move and the skipped reminder were written together"
    assert tx.count <= MOST


def test_a_first_contact_looks_the_member_up_and_still_writes_once(bot: InProcessBot,
                                                                   fake: FakeSlack) -> None:
    """The Slack lookup happens outside any transaction; the profile is kept in a short write."""
    count, reply = _counted(bot, "commit Draft guidelines by 2030-06-28")
    assert "Recorded *#1*" in reply
    assert fake.calls("users.info"), "the new member was looked up"
    assert count <= MOST + 1, f"a first /wg commit began {count} transactions"
