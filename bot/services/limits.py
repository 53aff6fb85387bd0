"""How many changes a member may make per minute, counted in the database (so across workers)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import AuditEntry, Member

WINDOW = timedelta(minutes=1)


def next_write_at(session: Session, *, actor_id: str, now: datetime, per_minute: int
                  ) -> datetime | None:
    """None when the member may make another change now; otherwise when they may again.

    Every change leaves an audit entry by its actor, so those are what is counted. Call it in the
    unit of work that makes the change: on SQLite that unit holds the write lock; on PostgreSQL the
    member's row is locked, so two workers never both let the last allowed change through.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Member.id).where(Member.id == actor_id).with_for_update())
    recent = list(session.scalars(
        select(AuditEntry.at).where(AuditEntry.at > now - WINDOW, AuditEntry.actor_id == actor_id)
        .order_by(AuditEntry.at)))
    if len(recent) < per_minute:
        return None
    return recent[len(recent) - per_minute] + WINDOW  # then fewer than the limit are left
