"""Events already handled, so Slack's retries never repeat a side effect."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.store.models import ProcessedEvent

KEEP_FOR = timedelta(days=2)


def claim(session: Session, *, event_id: str, now: datetime) -> bool:
    """True the first time an event id is seen; False for a retry of it."""
    if session.scalar(select(ProcessedEvent.event_id).where(ProcessedEvent.event_id == event_id)):
        return False
    session.add(ProcessedEvent(event_id=event_id[:64], at=now))
    session.flush()
    return True


def forget_old(session: Session, *, now: datetime) -> int:
    """Drop event ids older than Slack would ever retry."""
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.at < now - KEEP_FOR))
    return int(getattr(result, "rowcount", 0) or 0)
