"""Requests already handled, so neither Slack's retries nor a replayed request repeats a side effect.

Events API callbacks are keyed by their `event_id`; slash commands, buttons and modal submissions
by their `trigger_id` (Slack gives every invocation a new one; a replay carries the old one).
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from bot.store.db import dialect_insert
from bot.store.models import ProcessedEvent

KEEP_FOR = timedelta(days=2)  # far longer than Slack retries an event or accepts a signature
_KEY_LENGTH = 64


def claim(session: Session, *, event_id: str, now: datetime) -> bool:
    """True the first time an event id is seen; False for a retry of it."""
    if session.scalar(select(ProcessedEvent.event_id).where(ProcessedEvent.event_id == event_id)):
        return False
    session.add(ProcessedEvent(event_id=event_id[:64], at=now))
    session.flush()
    return True


def request_key(trigger_id: str) -> str:
    """The stored key of a request: its trigger_id, hashed when too long to store whole."""
    key = f"t:{trigger_id}"
    if len(key) <= _KEY_LENGTH:
        return key
    return "t#" + hashlib.sha256(trigger_id.encode()).hexdigest()[:_KEY_LENGTH - 2]


_SEEN = select(ProcessedEvent.event_id).where(ProcessedEvent.event_id == bindparam("key"))


def request_seen(session: Session, *, trigger_id: str) -> bool:
    """True when a request with this trigger_id already made its change (a replay)."""
    return session.scalar(_SEEN, {"key": request_key(trigger_id)}) is not None


def claim_request(session: Session, *, trigger_id: str, now: datetime) -> bool:
    """True the first time a request is seen; False for a replay (or a concurrent twin) of it.

    Call it in the unit of work that makes the request's change: the claim is kept exactly when the
    change is. A concurrent twin waits for the first to commit (SQLite's write lock; PostgreSQL's
    unique index) and then sees the claim.
    """
    stmt = _CLAIM.get(session.get_bind().dialect.name)
    if stmt is None:  # (a statement has no truth value)
        stmt = _claim_statement(session)
    return session.execute(stmt, {"event_id": request_key(trigger_id), "at": now}).first() is not None


_CLAIM: dict[str, Any] = {}  # per dialect, built once: SQLite and PostgreSQL spell it alike


def _claim_statement(session: Session) -> Any:
    stmt = (dialect_insert(session, ProcessedEvent).on_conflict_do_nothing(index_elements=["event_id"])
            .returning(ProcessedEvent.event_id))
    _CLAIM[session.get_bind().dialect.name] = stmt
    return stmt


# Rows, not objects: the sessions that forget hold no ProcessedEvent of their own to keep in step.
_FORGET = (delete(ProcessedEvent).where(ProcessedEvent.at < bindparam("before"))
           .execution_options(synchronize_session=False))


def forget_old(session: Session, *, now: datetime) -> int:
    """Drop event and request ids older than Slack would ever retry or accept."""
    result = session.execute(_FORGET, {"before": now - KEEP_FOR})
    return int(getattr(result, "rowcount", 0) or 0)
