"""When the reminder sweep last completed, so the web process can tell a live scheduler from a dead one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import SweepMark

COMPLETED = "sweep-completed"


def record_sweep_completed(session: Session, *, now: datetime) -> None:
    """Remember that a sweep finished at `now` (one tiny row, never moved backwards)."""
    mark = session.get(SweepMark, COMPLETED)
    if mark is None:
        session.add(SweepMark(name=COMPLETED, swept_until=now))
    elif mark.swept_until < now:
        mark.swept_until = now


def last_sweep_completed(session: Session) -> datetime | None:
    """When any scheduler last finished a sweep on this database (None: never)."""
    return session.scalar(select(SweepMark.swept_until).where(SweepMark.name == COMPLETED))
