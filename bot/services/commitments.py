"""Commitments: record, find, list and change them; every change leaves an audit entry."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.domain.dates import DueDate
from bot.store.models import MAX_TEXT, AuditEntry, Commitment


MAX_COUNT = 1000


class CommitmentError(Exception):
    """A request that cannot be carried out; the message is meant for the user."""


@dataclass(frozen=True)
class Page:
    """One page of a listing."""

    items: tuple[Commitment, ...]
    total: int
    page: int
    per_page: int

    @property
    def capped(self) -> bool:
        """True when there are more than MAX_COUNT (the total was not counted further)."""
        return self.total > MAX_COUNT

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.per_page))


def _audit(session: Session, *, commitment: Commitment, actor_id: str, now: datetime,
           action: str, changes: dict[str, Any]) -> None:
    session.add(AuditEntry(commitment_id=commitment.id, actor_id=actor_id, at=now, action=action,
                           changes=changes))


def validate_text(text: str) -> str:
    """The commitment text, stripped; refuses empty or over-long text."""
    text = text.strip()
    if not text:
        raise CommitmentError("Tell me what you commit to.")
    if len(text) > MAX_TEXT:
        raise CommitmentError(f"That commitment is {len(text)} characters; the limit is {MAX_TEXT}. "
                              f"Shorten it and link to a document for the detail.")
    return text


def create(session: Session, *, text: str, owner_id: str, creator_id: str, rec_id: str | None,
           due: DueDate, first_nudge_at: datetime | None, now: datetime) -> Commitment:
    """Record a new open commitment (members must exist already)."""
    commitment = Commitment(text=validate_text(text), owner_id=owner_id, creator_id=creator_id,
                            rec_id=rec_id, due_at=due.at, due_words=due.words[:120], status="open",
                            created_at=now, updated_at=now, completed_at=None,
                            next_nudge_at=first_nudge_at, nudges=0)
    session.add(commitment)
    session.flush()
    _audit(session, commitment=commitment, actor_id=creator_id, now=now, action="created",
           changes={"text": [None, commitment.text], "owner": [None, owner_id],
                    "recommendation": [None, rec_id], "due": [None, due.at.isoformat()]})
    return commitment


def get(session: Session, *, commitment_id: int) -> Commitment | None:
    """The commitment with this id, or None."""
    if not 0 < commitment_id < 2**31:
        return None
    return session.get(Commitment, commitment_id)


def set_status(session: Session, *, commitment: Commitment, status: str, actor_id: str,
               now: datetime, first_nudge_at: datetime | None = None) -> Commitment:
    """Mark done, reopen or cancel, with an audit entry (reopening restarts overdue nudges)."""
    before = commitment.status
    if status == "open":
        commitment.next_nudge_at, commitment.nudges = first_nudge_at, 0
    commitment.status = status
    commitment.updated_at = now
    commitment.completed_at = now if status == "done" else None
    action = {"done": "done", "open": "reopened", "cancelled": "cancelled"}[status]
    _audit(session, commitment=commitment, actor_id=actor_id, now=now, action=action,
           changes={"status": [before, status]})
    session.flush()
    return commitment


def move(session: Session, *, commitment: Commitment, due: DueDate, actor_id: str,
         first_nudge_at: datetime | None, now: datetime) -> Commitment:
    """Give a commitment a new deadline, with an audit entry (overdue nudges start over)."""
    before = commitment.due_at
    commitment.next_nudge_at, commitment.nudges = first_nudge_at, 0
    commitment.due_at = due.at
    commitment.due_words = due.words[:120]
    commitment.updated_at = now
    _audit(session, commitment=commitment, actor_id=actor_id, now=now, action="moved",
           changes={"due": [before.isoformat(), due.at.isoformat()]})
    session.flush()
    return commitment


def history(session: Session, *, commitment_id: int) -> list[AuditEntry]:
    """The audit trail of a commitment, oldest first."""
    stmt = (select(AuditEntry).where(AuditEntry.commitment_id == commitment_id)
            .order_by(AuditEntry.at, AuditEntry.id))
    return list(session.scalars(stmt))


def listing(session: Session, *, scope: str, user_id: str, arg: str, now: datetime,
            page: int = 1, per_page: int = 10) -> Page:
    """Commitments for a listing scope, by deadline (overdue first), one page at a time."""
    stmt = select(Commitment)
    if scope == "done":
        stmt = stmt.where(Commitment.status == "done")
    else:
        stmt = stmt.where(Commitment.status == "open")
    if scope == "mine":
        stmt = stmt.where(Commitment.owner_id == user_id)
    elif scope == "user":
        stmt = stmt.where(Commitment.owner_id == arg)
    elif scope == "rec":
        stmt = stmt.where(Commitment.rec_id == arg)
    elif scope == "overdue":
        stmt = stmt.where(Commitment.due_at <= now)
    # Counting stops at MAX_COUNT: a listing never pays for counting a huge backlog.
    total = session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(Commitment.id).limit(MAX_COUNT + 1).subquery())) or 0
    order = (Commitment.completed_at.desc(),) if scope == "done" else (Commitment.due_at,)
    stmt = stmt.order_by(*order, Commitment.id).limit(per_page).offset((page - 1) * per_page)
    return Page(items=tuple(session.scalars(stmt).unique()), total=total, page=page,
                per_page=per_page)


def open_due_before(session: Session, *, before: datetime) -> list[Commitment]:
    """Open commitments due by a moment (at it or before), by deadline."""
    stmt = (select(Commitment).where(Commitment.status == "open", Commitment.due_at <= before)
            .order_by(Commitment.due_at, Commitment.id))
    return list(session.scalars(stmt).unique())


def counts_by_rec(session: Session, *, now: datetime) -> dict[str | None, dict[str, int]]:
    """Per recommendation: how many commitments are done, open and overdue."""
    overdue = func.sum(case(((Commitment.status == "open") & (Commitment.due_at <= now), 1),
                            else_=0))
    stmt = (select(Commitment.rec_id, Commitment.status, func.count(), overdue)
            .where(Commitment.status != "cancelled")
            .group_by(Commitment.rec_id, Commitment.status))
    result: dict[str | None, dict[str, int]] = {}
    for rec_id, status, count, late in session.execute(stmt):
        row = result.setdefault(rec_id, {"done": 0, "open": 0, "overdue": 0})
        row[status] = row.get(status, 0) + int(count)
        row["overdue"] += int(late or 0)
    return result
