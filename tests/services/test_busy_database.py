"""A database held by another writer: a request waits a bounded time, then says so and writes nothing.

The lock is real: a second connection (SQLite `BEGIN IMMEDIATE` on the same file; PostgreSQL
`LOCK TABLE`) holds it in this process while the conversation answers. Facts are checked by order
(answered while the lock was still held) and by the rows in the database, never by elapsed time.
"""
from __future__ import annotations

import sqlite3
import threading

import psycopg
import pytest
from sqlalchemy import func, select

from bot.app import Core
from bot.conversation import Caller
from bot.store.db import DatabaseBusy, request_budget, unit_of_work
from bot.store.models import Commitment
from tests.conftest import MEMBER



class WriteLock:
    """Another connection holding the write lock until released (or a safety timeout)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.taken = threading.Event()
        self.release = threading.Event()
        self.released = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        if self.url.startswith("sqlite"):
            conn = sqlite3.connect(self.url.split("///", 1)[1], isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
        else:
            conn = psycopg.connect(self.url)  # type: ignore[assignment]
            conn.execute("LOCK TABLE commitments IN ACCESS EXCLUSIVE MODE")
        self.taken.set()
        self.release.wait(timeout=30)
        self.released.set()  # before letting go: a waiter cannot finish ahead of this flag
        conn.rollback()
        conn.close()

    def __enter__(self) -> WriteLock:
        self._thread.start()
        assert self.taken.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._thread.join(10)


def _count(core: Core) -> int:
    with unit_of_work(core.sessions, read_only=True) as s:
        return int(s.scalar(select(func.count()).select_from(Commitment)) or 0)


def test_a_request_gives_up_while_the_lock_is_held_and_writes_nothing(core: Core,
                                                                      database_url: str) -> None:
    caller = Caller(MEMBER)
    core.conversation.answer(caller, "help")  # the member is known: only the commit must write
    core.conversation.answer(caller, "list")
    with WriteLock(database_url) as lock:
        with request_budget(0.3):
            reply = core.conversation.answer(caller, "commit Draft guidelines by 2030-06-28").reply
        assert not lock.released.is_set()  # answered while the other writer still held the lock
        assert "busy" in reply.text and "Nothing was recorded" in reply.text
        assert "something went wrong" not in reply.text
    assert lock.released.is_set()
    assert _count(core) == 0
    with request_budget(0.3):
        again = core.conversation.answer(caller, "commit Draft guidelines by 2030-06-28").reply
    assert "Recorded #1" in again.text
    assert _count(core) == 1


def test_outside_a_request_a_unit_waits_for_the_lock(core: Core, database_url: str) -> None:
    """The scheduler keeps the long timeout: it waits for a lock held for longer than a request may."""
    with WriteLock(database_url) as lock:
        timer = threading.Timer(0.8, lock.release.set)
        timer.start()
        with unit_of_work(core.sessions) as s:
            s.execute(Commitment.__table__.update().where(Commitment.id < 0).values(text="y"))
        assert lock.released.is_set()  # it finished only after the lock was let go


def test_budget_spent_fails_at_once_and_rolls_back(core: Core, database_url: str) -> None:
    with WriteLock(database_url) as lock, request_budget(0.2):
        with pytest.raises(DatabaseBusy), unit_of_work(core.sessions) as s:
            s.execute(Commitment.__table__.update().where(Commitment.id < 0).values(text="y"))
        assert not lock.released.is_set()
        with request_budget(0), pytest.raises(DatabaseBusy), unit_of_work(core.sessions) as s:
            s.execute(Commitment.__table__.update().where(Commitment.id < 0).values(text="y"))
