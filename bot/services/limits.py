"""How many changes a member may make per minute, counted in the database (so across workers)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.store.models import AuditEntry, Member

WINDOW = timedelta(minutes=1)
_LOCK_MEMBER = select(Member.id).where(Member.id == bindparam("actor_id")).with_for_update()
_RECENT = (select(AuditEntry.at)
           .where(AuditEntry.at > bindparam("since"), AuditEntry.actor_id == bindparam("actor_id"))
           .order_by(AuditEntry.at))


def next_write_at(session: Session, *, actor_id: str, now: datetime, per_minute: int
                  ) -> datetime | None:
    """None when the member may make another change now; otherwise when they may again.

    Every change leaves an audit entry by its actor, so those are what is counted. Call it in the
    unit of work that makes the change: on SQLite that unit holds the write lock; on PostgreSQL the
    member's row is locked, so two workers never both let the last allowed change through.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_MEMBER, {"actor_id": actor_id})
    recent = list(session.scalars(_RECENT, {"since": now - WINDOW, "actor_id": actor_id}))
    if len(recent) < per_minute:
        return None
    return recent[len(recent) - per_minute] + WINDOW  # then fewer than the limit are left
