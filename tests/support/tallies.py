"""What the commitment tallies must hold, counted afresh from the commitments themselves; and the
burn-up and per-delegation figures recounted in Python from every commitment, to compare with what
the services read from the tallies."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.brief import BurnUp
from bot.domain.digest import NO_DELEGATION
from bot.domain.readiness import Readiness
from bot.store.models import Commitment, CommitmentTally


def kept(session: Session) -> dict[tuple[str, str, str], int]:
    """The tallies the database keeps (empty buckets left out)."""
    return {(d, b, st): n for d, b, st, n in session.execute(
        select(CommitmentTally.dimension, CommitmentTally.bucket, CommitmentTally.status,
               CommitmentTally.n)) if n}


def recounted(session: Session) -> dict[tuple[str, str, str], int]:
    """The same buckets from a GROUP BY over every commitment."""
    out: Counter[tuple[str, str, str]] = Counter()
    for dimension, column in (("rec", func.coalesce(Commitment.rec_id, "")),
                              ("owner", Commitment.owner_id),
                              ("due", func.date(Commitment.due_at)),
                              ("done", func.date(Commitment.completed_at))):
        for bucket, status, n in session.execute(
                select(column, Commitment.status, func.count()).where(column.is_not(None))
                .group_by(column, Commitment.status)):
            out[(dimension, str(bucket)[:10] if dimension in ("due", "done") else bucket,
                 status)] += n
    return dict(out)


def _all(session: Session) -> list[tuple[str, str, datetime, datetime | None]]:
    return list(session.execute(select(Commitment.status, Commitment.owner_id, Commitment.due_at,
                                       Commitment.completed_at)).all())


def per_owner(session: Session, *, now: datetime) -> dict[str, Readiness]:
    """Readiness per lead owner, counted one commitment at a time."""
    out: dict[str, Readiness] = {}
    for status, owner, due, _ in _all(session):
        if status == "cancelled":
            continue
        add = Readiness(done=1) if status == "done" else \
            Readiness(open=1, overdue=1 if due <= now else 0)
        out[owner] = out.get(owner, Readiness()) + add
    return out


def per_delegation(session: Session, *, now: datetime,
                   delegation_of: Mapping[str, str | None]) -> dict[str, Readiness]:
    """Readiness per delegation, each owner's counted one commitment at a time."""
    out: dict[str, Readiness] = {}
    for owner, mine in per_owner(session, now=now).items():
        name = delegation_of.get(owner) or NO_DELEGATION
        out[name] = out.get(name, Readiness()) + mine
    return out


def burn_up_holds(burn: BurnUp, session: Session, *, start: datetime, end: datetime) -> None:
    """Each day's running totals are the commitments due (done) by that day's end and by `end`;
    the series starts on the first day with one in [start, end] (or stays at one day)."""
    rows = _all(session)

    def upto(day: date) -> datetime:
        return min(end, datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
                   - timedelta(microseconds=1))

    dues = [due for status, _, due, _ in rows if status in ("open", "done")]
    dones = [at for status, _, _, at in rows if status == "done" and at is not None]
    assert burn.due == tuple(sum(1 for d in dues if d <= upto(day)) for day in burn.days)
    assert burn.done == tuple(sum(1 for d in dones if d <= upto(day)) for day in burn.days)
    inside = [d.astimezone(UTC).date() for d in (*dues, *dones) if start <= d <= end]
    if inside:
        assert burn.days[0] == min(inside)
    assert burn.days[-1] == end.astimezone(UTC).date()
