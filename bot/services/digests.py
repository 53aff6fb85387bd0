"""The one place that counts: figures for digests, `/wg session` and the brief, from GROUP BY queries.

Nothing here loads every commitment: counts are grouped by recommendation and by owner in SQL
(covering indexes), and the lists (overdue, due soon, slipped, changed) are one page each.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.config.types import Config
from bot.domain import digest as digest_domain
from bot.domain.digest import Change, GroupCount, Item, Row, Slip
from bot.services import delegations, outbox
from bot.store.models import AuditEntry, Commitment, Member

MAX_CHANGES = 200
MAX_CSV_ROWS = 1000
PAGE = 50
COUNTED = ("open", "done")


def _grouped(session: Session, key: Any, *, now: datetime) -> list[GroupCount]:
    """Counts per (key, status), overdue included, cancelled left out.

    No WHERE on status: the whole covering index (key, status, due_at) is read in order, which
    is far cheaper than searching by status and visiting the table for every row.
    """
    late = func.sum(case((Commitment.due_at <= now, 1), else_=0))
    stmt = select(key, Commitment.status, func.count(), late).group_by(key, Commitment.status)
    return [GroupCount(k, st, int(n), int(o or 0) if st == "open" else 0)
            for k, st, n, o in session.execute(stmt) if st in COUNTED]


def _items(session: Session, *, config: Config, where: Sequence[Any], limit: int) -> list[Item]:
    stmt = (select(Commitment.id, Commitment.text, Commitment.owner_id, Member.name,
                   Commitment.rec_id, Commitment.due_at)
            .join(Member, Member.id == Commitment.owner_id, isouter=True)
            .where(Commitment.status == "open", *where)
            .order_by(Commitment.due_at, Commitment.id).limit(limit))
    rows = session.execute(stmt).all()
    dele = delegations.of_many(session, config=config, user_ids=[r[2] for r in rows])
    return [Item(id=i, text=t, owner_id=o, owner_name=name or o, delegation=dele.get(o),
                 rec_id=rec, due_at=due) for i, t, o, name, rec, due in rows]


def _due_change(changes: dict[str, Any]) -> tuple[str | None, str | None]:
    """The (before, after) deadlines an audit entry's changes record, if it moved one."""
    pair = changes.get("due") or (None, None)
    return (pair[0], pair[1]) if isinstance(pair, (list, tuple)) and len(pair) == 2 else (None, None)


def moved_days(entries: Sequence[dict[str, Any]]) -> int:
    """Net days a deadline moved over its 'moved' audit entries (later is positive)."""
    total = timedelta()
    for changes in entries:
        before, after = _due_change(changes)
        if before and after:
            total += datetime.fromisoformat(str(after)) - datetime.fromisoformat(str(before))
    return round(total / timedelta(days=1))


def slippage(session: Session, *, config: Config, ids: Sequence[int] | None = None,
             limit: int = PAGE) -> tuple[list[Slip], int]:
    """Commitments moved more than once (of these ids, or all), most moves first, and how many."""
    grouped = (select(AuditEntry.commitment_id.label("cid"), func.count().label("n"))
               .where(AuditEntry.action == "moved"))
    if ids is not None:
        grouped = grouped.where(AuditEntry.commitment_id.in_(list(ids)))
    moves = grouped.group_by(AuditEntry.commitment_id).having(func.count() > 1).subquery()
    live = (select(moves.c.cid, moves.c.n, Commitment.text, Commitment.owner_id)
            .join(Commitment, Commitment.id == moves.c.cid)
            .where(Commitment.status.in_(COUNTED)))
    count = session.scalar(select(func.count()).select_from(live.subquery())) or 0
    rows = session.execute(live.order_by(moves.c.n.desc(), moves.c.cid).limit(limit)).all()
    if not rows:
        return [], count
    trail: dict[int, list[dict[str, Any]]] = {}
    for cid, changes in session.execute(
            select(AuditEntry.commitment_id, AuditEntry.changes)
            .where(AuditEntry.action == "moved", AuditEntry.commitment_id.in_([r[0] for r in rows]))
            .order_by(AuditEntry.at, AuditEntry.id)):
        trail.setdefault(cid, []).append(changes)
    dele = delegations.of_many(session, config=config, user_ids=[r[3] for r in rows])
    return [Slip(commitment_id=cid, text=text, owner_id=owner, delegation=dele.get(owner),
                 moves=int(n), days=moved_days(trail.get(cid, [])))
            for cid, n, text, owner in rows], count


def figures(session: Session, *, config: Config, now: datetime) -> digest_domain.Figures:
    """Every count at `now`: per recommendation, key area, delegation and owner, and the lists."""
    soon = (Commitment.due_at > now, Commitment.due_at <= now + digest_domain.SOON)
    slipped, slipped_count = slippage(session, config=config)
    return digest_domain.figures(
        config.knowledge, now=now,
        by_rec=_grouped(session, Commitment.rec_id, now=now),
        by_owner=_grouped(session, Commitment.owner_id, now=now),
        delegation_of=delegations.all_members(session, config=config),
        overdue=_items(session, config=config, where=(Commitment.due_at <= now,), limit=PAGE),
        due_soon=_items(session, config=config, where=soon, limit=PAGE),
        due_soon_count=session.scalar(select(func.count()).select_from(Commitment)
                                      .where(Commitment.status == "open", *soon)) or 0,
        slipped=slipped, slipped_count=slipped_count)


def _detail(action: str, changes: dict[str, Any], config: Config) -> str:
    if action == "moved":
        before, after = _due_change(changes)
        if before and after:
            tz = config.timezone
            b = datetime.fromisoformat(str(before)).astimezone(tz)
            a = datetime.fromisoformat(str(after)).astimezone(tz)
            return f"from {b:%a} {b.day} {b:%b} to {a:%a} {a.day} {a:%b %Y}"
    if action == "note":  # a progress note: what it says
        return f"— “{str(changes.get('note', ''))[:120]}”"
    return ""


def changes_since(session: Session, *, config: Config, since: datetime, now: datetime,
                  limit: int = MAX_CHANGES) -> tuple[list[Change], int]:
    """Changes after `since` (oldest first, the latest `limit`) and how many there were."""
    where = (AuditEntry.at > since, AuditEntry.at <= now)
    count = session.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
    stmt = (select(AuditEntry, Commitment.text)
            .join(Commitment, Commitment.id == AuditEntry.commitment_id).where(*where)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit))
    out = [Change(commitment_id=e.commitment_id, actor_id=e.actor_id, action=e.action, at=e.at,
                  text=text, detail=_detail(e.action, e.changes or {}, config))
           for e, text in session.execute(stmt)]
    return list(reversed(out)), count


def attention_rows(session: Session, *, config: Config, now: datetime, since: datetime,
                   limit: int = MAX_CSV_ROWS) -> tuple[list[Row], int]:
    """Overdue, due in the next 14 days, or changed since `since`: at most `limit` rows, and how many."""
    horizon = now + digest_domain.SOON
    urgent = (Commitment.status == "open", Commitment.due_at <= horizon)
    changed = (select(AuditEntry.commitment_id).where(AuditEntry.at > since, AuditEntry.at <= now)
               .distinct())
    n_urgent = session.scalar(select(func.count()).select_from(Commitment).where(*urgent)) or 0
    n_changed = session.scalar(select(func.count()).select_from(Commitment).where(
        Commitment.id.in_(changed), ~(urgent[0] & urgent[1]))) or 0
    cols = (Commitment.id, Commitment.text, Commitment.owner_id, Member.name, Commitment.rec_id,
            Commitment.due_at, Commitment.status)
    base = select(*cols).join(Member, Member.id == Commitment.owner_id, isouter=True)
    rows = list(session.execute(base.where(*urgent).order_by(Commitment.due_at, Commitment.id)
                                .limit(limit)))
    if len(rows) < limit:
        rows += list(session.execute(base.where(Commitment.id.in_(changed), ~(urgent[0] & urgent[1]))
                                     .order_by(Commitment.id).limit(limit - len(rows))))
    dele = delegations.of_many(session, config=config, user_ids=[r[2] for r in rows])

    def why(status: str, due: datetime) -> str:
        if status == "open" and due <= now:
            return "overdue"
        return "due soon" if status == "open" and due <= horizon else "changed"

    return [Row(id=i, text=t, owner_id=o, owner_name=name or o, delegation=dele.get(o), rec_id=rec,
                due_at=due, status=st, why=why(st, due))
            for i, t, o, name, rec, due, st in rows], n_urgent + n_changed


def last_digest(session: Session, *, coordinator_id: str) -> datetime | None:
    """When this coordinator's last digest went out, if ever."""
    return outbox.last_sent(session, kind="digest", recipient=coordinator_id)


def gather(session: Session, *, config: Config, coordinator_id: str, now: datetime,
           figures_now: digest_domain.Figures | None = None,
           listed: int = 15) -> digest_domain.Digest:
    """The digest for one coordinator (changes since their last digest, or the last 7 days).

    The CSV rows are gathered only when a list is longer than the `listed` items a message shows.
    """
    since = last_digest(session, coordinator_id=coordinator_id)
    start = since if since is not None else now - timedelta(days=7)
    data = figures_now if figures_now is not None else figures(session, config=config, now=now)
    changes, count = changes_since(session, config=config, since=start, now=now)
    rows: list[Row] = []
    total = 0
    if max(data.totals.overdue, data.due_soon_count, count) > listed:
        rows, total = attention_rows(session, config=config, now=now, since=start)
    return digest_domain.Digest(figures=data, since=since, changes=tuple(changes),
                                changes_count=count, rows=tuple(rows), rows_total=total)
