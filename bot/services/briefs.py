"""Gather the session brief from the database: the digest figures, a page of commitments per
recommendation with their slippage, and the burn-up series (per day, from the tallies)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config.types import Config
from bot.domain import brief as brief_domain
from bot.domain.brief import BriefRow, BurnUp, RecBrief
from bot.services import delegations, digests
from bot.store.models import AuditEntry, Commitment, CommitmentTally, Member

HISTORY = timedelta(days=365)


def _rows(session: Session, *, config: Config, rec_id: str, now: datetime,
          limit: int) -> list[BriefRow]:
    cols = (Commitment.id, Commitment.owner_id, Member.name, Commitment.text, Commitment.due_at,
            Commitment.status)
    base = (select(*cols).join(Member, Member.id == Commitment.owner_id, isouter=True)
            .where(Commitment.rec_id == rec_id))
    found = list(session.execute(base.where(Commitment.status == "open")
                                 .order_by(Commitment.due_at, Commitment.id).limit(limit)))
    if len(found) < limit:
        found += list(session.execute(base.where(Commitment.status == "done")
                                      .order_by(Commitment.due_at, Commitment.id)
                                      .limit(limit - len(found))))
    if not found:
        return []
    ids = [r[0] for r in found]
    moved: dict[int, list[dict[str, Any]]] = {}
    for cid, changes in session.execute(
            select(AuditEntry.commitment_id, AuditEntry.changes)
            .where(AuditEntry.action == "moved", AuditEntry.commitment_id.in_(ids))
            .order_by(AuditEntry.at, AuditEntry.id)):
        moved.setdefault(cid, []).append(changes)
    dele = delegations.of_many(session, config=config, user_ids=[r[1] for r in found])
    return [BriefRow(id=cid, delegation=dele.get(owner), owner_id=owner, owner_name=name or owner,
                     text=text, due_at=due,
                     status="done" if st == "done" else "overdue" if due <= now else "open",
                     moves=len(moved.get(cid, [])), days_moved=digests.moved_days(moved.get(cid, [])))
            for cid, owner, name, text, due, st in found]


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _per_day(session: Session, column: Any, dimension: str, *, statuses: tuple[str, ...],
             start: datetime, end: datetime) -> tuple[dict[date, int], int]:
    """Counts per UTC day of `column` in [start, end], and how many fell before start.

    Whole days are the tallies' rows for the dimension ('due' or 'done', one per day and status,
    kept by triggers): the cost is the number of days, not of commitments. Only the first and the
    last day, cut at `start` and at `end`, are counted from the column's index.
    """
    first, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    whole = {_as_date(d): int(n) for d, n in session.execute(
        select(CommitmentTally.bucket, func.sum(CommitmentTally.n))
        .where(CommitmentTally.dimension == dimension, CommitmentTally.status.in_(statuses),
               CommitmentTally.bucket <= last.isoformat())
        .group_by(CommitmentTally.bucket))}

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=UTC)

    def count(*where: Any) -> int:
        return session.scalar(select(func.count()).select_from(Commitment).where(
            Commitment.status.in_(statuses), *where)) or 0

    per_day = {d: n for d, n in whole.items() if first < d < last and n}
    per_day[first] = count(column >= start, column <= end) if first == last else \
        count(column >= start, column < midnight(first + timedelta(days=1)))
    if last > first:
        per_day[last] = count(column >= midnight(last), column <= end)
    before = sum(n for d, n in whole.items() if d < first) + \
        count(column >= midnight(first), column < start)
    return {d: n for d, n in per_day.items() if n}, before


def burn_up(session: Session, *, config: Config, now: datetime) -> BurnUp:
    """Commitments due (by deadline) and done (by completion), cumulative per day up to the session."""
    end = config.session.starts_at
    start = min(now, end) - HISTORY
    due, due_before = _per_day(session, Commitment.due_at, "due", statuses=("open", "done"),
                               start=start, end=end)
    done, done_before = _per_day(session, Commitment.completed_at, "done", statuses=("done",),
                                 start=start, end=end)
    seen = [d for d in (*due, *done)]
    first = min(seen) if seen else min(now, end).date()
    last = end.astimezone(ZoneInfo("UTC")).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)] if first <= last \
        else [last]
    return BurnUp(days=tuple(days), due=brief_domain.cumulative(days, due, before=due_before),
                  done=brief_domain.cumulative(days, done, before=done_before))


def gather(session: Session, *, config: Config, now: datetime, tz: ZoneInfo,
           rows_per_rec: int = brief_domain.ROWS_PER_REC) -> brief_domain.Brief:
    """The brief as of now: figures, a table per recommendation, the burn-up."""
    kb = config.knowledge
    figures = digests.figures(session, config=config, now=now, per_delegation=False)  # no delegations
    recs = tuple(RecBrief(rec=r, readiness=figures.per_rec[r.id],
                          rows=tuple(_rows(session, config=config, rec_id=r.id, now=now,
                                           limit=rows_per_rec))
                          if figures.per_rec[r.id].total else ())
                 for r in kb.recommendations)
    return brief_domain.Brief(
        title=f"Brief for the Chair: {config.session.title}", session_title=config.session.title,
        session_at=config.session.starts_at, place=config.session.place, tz=tz, generated_at=now,
        kb=kb, figures=figures, recs=recs, burn_up=burn_up(session, config=config, now=now))
