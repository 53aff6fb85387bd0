"""The one place that counts: figures for digests, `/wg session` and the brief, from GROUP BY queries.

Nothing here loads every commitment: counts per recommendation and per owner are read from the
tallies the database keeps (`CommitmentTally`), overdue ones grouped from the overdue range of a
covering index, and the lists (overdue, due soon, slipped, changed) are one page each. The
digests of one sweep share the figures and the urgent rows (`FiguresMemo`): only what changed
since each coordinator's last digest is theirs alone.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, null, select
from sqlalchemy.orm import Session

from bot.config.types import Config
from bot.domain import digest as digest_domain
from bot.domain.digest import Change, GroupCount, Item, Row, Slip
from bot.services import delegations, outbox
from bot.store.models import AuditEntry, Commitment, CommitmentLink, CommitmentTally, Member

MAX_CHANGES = 200
MAX_CSV_ROWS = 1000
PAGE = 50
COUNTED = ("open", "done")


def _by_rec(session: Session, *, now: datetime) -> list[GroupCount]:
    """Counts per (first recommendation, status), overdue included, cancelled left out.

    The counts are the tallies' 'rec' rows (kept by triggers on every write, so reading them costs
    the number of recommendations, not of commitments). Only the overdue ones are counted here:
    the overdue range of the covering index (status, due_at, owner_id, rec_id), grouped.
    """
    key = func.coalesce(Commitment.rec_id, "")  # the tallies' bucket for none is ''
    late = dict(session.execute(
        select(key, func.count()).where(Commitment.status == "open", Commitment.due_at <= now)
        .group_by(key)).all())
    stmt = select(CommitmentTally.bucket, CommitmentTally.status, CommitmentTally.n).where(
        CommitmentTally.dimension == "rec", CommitmentTally.status.in_(COUNTED),
        CommitmentTally.n > 0)
    return [GroupCount(k or None, st, int(n), int(late.get(k) or 0) if st == "open" else 0)
            for k, st, n in session.execute(stmt)]


def _by_delegation(session: Session, *, config: Config, now: datetime) -> list[GroupCount]:
    """Counts per (delegation, status), overdue included, cancelled left out, without a row per
    owner: the owners' tallies and the overdue range of (status, due_at, owner_id, …) each joined
    to their member's own delegation and grouped by it in SQL. The few members whose delegation
    config fixes keep a group of their own in the same query (`fixed_uid`) and are put under it
    (as `delegations.all_members` does)."""
    fixed = {uid: d.name for d in config.delegations for uid in d.members}

    def fixed_uid(owner: Any) -> tuple[Any, tuple[Any, ...]]:
        """The owner when config fixes their delegation, else NULL; and what to group it by."""
        if not fixed:
            return null(), ()  # (PostgreSQL refuses a constant to group by)
        uid = case((owner.in_(list(fixed)), owner), else_=null())
        return uid, (uid,)

    def name(uid: str | None, delegation: str | None) -> str | None:
        return fixed[uid] if uid is not None else delegation

    mine, by_mine = fixed_uid(CommitmentTally.bucket)
    rows = [GroupCount(name(uid, dele), st, int(n), 0) for uid, dele, st, n in session.execute(
        select(mine, Member.delegation, CommitmentTally.status, func.sum(CommitmentTally.n))
        .select_from(CommitmentTally)
        .join(Member, Member.id == CommitmentTally.bucket, isouter=True)
        .where(CommitmentTally.dimension == "owner", CommitmentTally.status.in_(COUNTED),
               CommitmentTally.n > 0)
        .group_by(*by_mine, Member.delegation, CommitmentTally.status))]
    late = (select(Commitment.owner_id.label("owner_id"), func.count().label("n"))
            .where(Commitment.status == "open", Commitment.due_at <= now)
            .group_by(Commitment.owner_id).subquery())  # then one member lookup per owner
    theirs, by_theirs = fixed_uid(late.c.owner_id)
    rows += [GroupCount(name(uid, dele), "open", 0, int(n)) for uid, dele, n in session.execute(
        select(theirs, Member.delegation, func.sum(late.c.n)).select_from(late)
        .join(Member, Member.id == late.c.owner_id, isouter=True)
        .group_by(*by_theirs, Member.delegation))]
    return rows


def _further_links(session: Session, *, now: datetime) -> list[GroupCount]:
    """Counts per (recommendation, status) of the links after a commitment's first (the first is
    Commitment.rec_id, counted by _by_rec): few rows, read from the links table alone.

    No condition on the commitment's status in SQL (cancelled groups are dropped here): with one,
    SQLite starts from the commitments' status index and visits every commitment; without, it
    reads the (few) further links and fetches each one's commitment by its id.
    """
    overdue = func.sum(case(((Commitment.status == "open") & (Commitment.due_at <= now), 1),
                            else_=0))
    stmt = (select(CommitmentLink.rec_id, Commitment.status, func.count(), overdue)
            .join(Commitment, Commitment.id == CommitmentLink.commitment_id)
            .where(CommitmentLink.position > 0)
            .group_by(CommitmentLink.rec_id, Commitment.status))
    return [GroupCount(rec, st, int(n), int(late or 0) if st == "open" else 0)
            for rec, st, n, late in session.execute(stmt) if st in COUNTED]


_ITEM_COLUMNS = (Commitment.id, Commitment.text, Commitment.owner_id, Member.name,
                 Commitment.rec_id, Commitment.due_at)


def _item_rows(session: Session, *, where: Sequence[Any], limit: int) -> list[Any]:
    """Open commitments matching `where`, earliest deadline first: rows of _ITEM_COLUMNS."""
    return list(session.execute(
        select(*_ITEM_COLUMNS).join(Member, Member.id == Commitment.owner_id, isouter=True)
        .where(Commitment.status == "open", *where)
        .order_by(Commitment.due_at, Commitment.id).limit(limit)))


def _items(rows: Sequence[Any], dele: Mapping[str, str | None]) -> list[Item]:
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


def _slipped(session: Session, *, limit: int) -> tuple[list[tuple[int, int, str, str, int]], int]:
    """Commitments moved more than once, most moves first: (id, moves, text, owner, days) for
    one page of them, and how many in all."""
    moves = (select(AuditEntry.commitment_id.label("cid"), func.count().label("n"))
             .where(AuditEntry.action == "moved")
             .group_by(AuditEntry.commitment_id).having(func.count() > 1).subquery())
    # The live ones (not cancelled), most moves first, one page of them and how many in all (a
    # window count) in one query: the moves from the covering index (action, commitment_id), the
    # cancelled ids from (status, …), no commitment row visited and only the page fetched.
    stmt = (select(moves.c.cid, moves.c.n, func.count().over())
            .where(moves.c.cid.not_in(select(Commitment.id)
                                      .where(Commitment.status == "cancelled")))
            .order_by(moves.c.n.desc(), moves.c.cid))
    found = session.execute(stmt.limit(max(limit, 1))).all()
    count = int(found[0][2]) if found else 0
    page = [(cid, n) for cid, n, _ in found[:limit]]
    if not page:
        return [], count
    about = {cid: (text, owner) for cid, text, owner in session.execute(
        select(Commitment.id, Commitment.text, Commitment.owner_id)
        .where(Commitment.id.in_([r[0] for r in page])))}
    trail: dict[int, list[dict[str, Any]]] = {}
    for cid, changes in session.execute(
            select(AuditEntry.commitment_id, AuditEntry.changes)
            .where(AuditEntry.action == "moved", AuditEntry.commitment_id.in_([r[0] for r in page]))
            .order_by(AuditEntry.at, AuditEntry.id)):
        trail.setdefault(cid, []).append(changes)
    return [(cid, int(n), *about[cid], moved_days(trail.get(cid, []))) for cid, n in page], count


def figures(session: Session, *, config: Config, now: datetime,
            per_delegation: bool = True) -> digest_domain.Figures:
    """Every count at `now`: per recommendation, key area and delegation, and the lists.

    With `per_delegation=False` (the brief, which shows no delegation) the per-delegation
    counts are left empty and their queries saved. The owners of the three lists (overdue, due
    soon, slipping) have their delegations read together, in one query.
    """
    soon = (Commitment.due_at > now, Commitment.due_at <= now + digest_domain.SOON)
    slipped, slipped_count = _slipped(session, limit=PAGE)
    overdue = _item_rows(session, where=(Commitment.due_at <= now,), limit=PAGE)
    due_soon = _item_rows(session, where=soon, limit=PAGE)
    dele = delegations.of_many(session, config=config, user_ids=[
        *(r[2] for r in overdue), *(r[2] for r in due_soon), *(r[3] for r in slipped)])
    return digest_domain.figures(
        config.knowledge, now=now,
        by_rec=_by_rec(session, now=now),
        also_by_rec=_further_links(session, now=now),
        by_owner=(), delegation_of={},
        by_delegation=_by_delegation(session, config=config, now=now) if per_delegation else (),
        overdue=_items(overdue, dele), due_soon=_items(due_soon, dele),
        due_soon_count=session.scalar(select(func.count()).select_from(Commitment)
                                      .where(Commitment.status == "open", *soon)) or 0,
        slipped=[Slip(commitment_id=cid, text=text, owner_id=owner, delegation=dele.get(owner),
                      moves=n, days=days) for cid, n, text, owner, days in slipped],
        slipped_count=slipped_count)


class FiguresMemo:
    """What the digests of one sweep share: the figures and the urgent rows, counted once.

    Valid for one minute and one data version: every change to a commitment writes an audit
    entry, so the last entry's id and the members' delegations tell whether anything moved since;
    the first digest of a minute counts, the others (in any sender thread) reuse its answers.
    Only what changed since each coordinator's last digest is theirs alone. (A change committed
    concurrently with a later one, on PostgreSQL, may wait for the next minute: a race any
    digest has with the writes of its own moment.)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._config: Config | None = None
        self._key: tuple[Any, ...] | None = None
        self._kept: dict[str, Any] = {}

    def _current(self, session: Session, *, config: Config, now: datetime,
                 delegation_of: Mapping[str, str | None]) -> dict[str, Any]:
        """What is kept for this minute and data version (emptied when either moved); locked."""
        key = (now.replace(second=0, microsecond=0),
               session.scalar(select(func.max(AuditEntry.id))),
               tuple(sorted(delegation_of.items(), key=lambda kv: kv[0])))
        if self._config is not config or self._key != key:
            self._config, self._key, self._kept = config, key, {}
        return self._kept

    def figures(self, session: Session, *, config: Config, now: datetime) -> digest_domain.Figures:
        """The figures at `now` (to the minute), counted unless this minute's are still current."""
        delegation_of = delegations.all_members(session, config=config)
        with self._lock:
            kept = self._current(session, config=config, now=now, delegation_of=delegation_of)
            if "figures" not in kept:
                kept["figures"] = figures(session, config=config, now=now)
            return kept["figures"]

    def urgent(self, session: Session, *, config: Config, now: datetime,
               limit: int = MAX_CSV_ROWS) -> tuple[list[Row], int]:
        """`urgent_rows` at `now` (to the minute), gathered unless this minute's are current."""
        delegation_of = delegations.all_members(session, config=config)
        with self._lock:
            kept = self._current(session, config=config, now=now, delegation_of=delegation_of)
            if kept.get("urgent_limit") != limit:
                kept["urgent"] = urgent_rows(session, config=config, now=now, limit=limit)
                kept["urgent_limit"] = limit
            rows, n = kept["urgent"]
            return list(rows), n


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
    stmt = (select(AuditEntry.commitment_id, AuditEntry.actor_id, AuditEntry.action, AuditEntry.at,
                   AuditEntry.changes, Commitment.text)  # columns: no entity to build per row
            .join(Commitment, Commitment.id == AuditEntry.commitment_id).where(*where)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit))
    out = [Change(commitment_id=cid, actor_id=actor, action=action, at=at, text=text,
                  detail=_detail(action, changes or {}, config))
           for cid, actor, action, at, changes, text in session.execute(stmt)]
    return list(reversed(out)), count


_ROW_COLUMNS = (Commitment.id, Commitment.text, Commitment.owner_id, Member.name,
                Commitment.rec_id, Commitment.due_at, Commitment.status)


def _csv_rows(session: Session, *, config: Config, rows: Sequence[Any], now: datetime) -> list[Row]:
    """Rows of `_ROW_COLUMNS` as CSV rows, with delegation and why they need attention."""
    horizon = now + digest_domain.SOON
    dele = delegations.of_many(session, config=config, user_ids=[r[2] for r in rows])

    def why(status: str, due: datetime) -> str:
        if status == "open" and due <= now:
            return "overdue"
        return "due soon" if status == "open" and due <= horizon else "changed"

    return [Row(id=i, text=t, owner_id=o, owner_name=name or o, delegation=dele.get(o), rec_id=rec,
                due_at=due, status=st, why=why(st, due))
            for i, t, o, name, rec, due, st in rows]


def _urgent(now: datetime) -> tuple[Any, Any]:
    return Commitment.status == "open", Commitment.due_at <= now + digest_domain.SOON


def urgent_rows(session: Session, *, config: Config, now: datetime,
                limit: int = MAX_CSV_ROWS) -> tuple[list[Row], int]:
    """Overdue or due in the next 14 days: at most `limit` rows (earliest deadline first), and how many.

    The same for every coordinator at one moment: a sweep's digests share them (`FiguresMemo`).
    """
    urgent = _urgent(now)
    n_urgent = session.scalar(select(func.count()).select_from(Commitment).where(*urgent)) or 0
    base = select(*_ROW_COLUMNS).join(Member, Member.id == Commitment.owner_id, isouter=True)
    rows = list(session.execute(base.where(*urgent).order_by(Commitment.due_at, Commitment.id)
                                .limit(limit)))
    return _csv_rows(session, config=config, rows=rows, now=now), n_urgent


def attention_rows(session: Session, *, config: Config, now: datetime, since: datetime,
                   limit: int = MAX_CSV_ROWS,
                   urgent: tuple[list[Row], int] | None = None) -> tuple[list[Row], int]:
    """Overdue, due in the next 14 days, or changed since `since`: at most `limit` rows, and how many.

    `urgent` is `urgent_rows` at `now` (with at least `limit` rows), when already gathered.
    """
    shown, n_urgent = urgent if urgent is not None else \
        urgent_rows(session, config=config, now=now, limit=limit)
    rows = list(shown[:limit])
    soon = _urgent(now)
    changed = (select(AuditEntry.commitment_id).where(AuditEntry.at > since, AuditEntry.at <= now)
               .distinct())
    # Changed and not urgent = changed - (changed and urgent): both from covering indexes, (at,
    # commitment_id) and (status, due_at), without visiting a commitment row (an audit entry's
    # commitment exists: deleting one deletes its trail).
    # The urgent ones joined to the changed ids (grouped) rather than tested against an IN list:
    # SQLite builds an automatic index on the changed ids and looks each urgent entry up in it,
    # about a fifth cheaper at 100k commitments.
    ids = (select(AuditEntry.commitment_id.label("cid"))
           .where(AuditEntry.at > since, AuditEntry.at <= now)
           .group_by(AuditEntry.commitment_id).subquery())
    n_changed = (session.scalar(select(func.count(AuditEntry.commitment_id.distinct()))
                                .where(AuditEntry.at > since, AuditEntry.at <= now)) or 0) - \
        (session.scalar(select(func.count()).select_from(Commitment)
                        .join(ids, ids.c.cid == Commitment.id).where(*soon)) or 0)
    if len(rows) < limit:
        more = session.execute(
            select(*_ROW_COLUMNS).join(Member, Member.id == Commitment.owner_id, isouter=True)
            .where(Commitment.id.in_(changed), ~(soon[0] & soon[1]))
            .order_by(Commitment.id).limit(limit - len(rows))).all()
        rows += _csv_rows(session, config=config, rows=more, now=now)
    return rows, n_urgent + n_changed


def last_digest(session: Session, *, coordinator_id: str) -> datetime | None:
    """When this coordinator's last digest went out, if ever."""
    return outbox.last_sent(session, kind="digest", recipient=coordinator_id)


def gather(session: Session, *, config: Config, coordinator_id: str, now: datetime,
           figures_now: digest_domain.Figures | None = None, memo: FiguresMemo | None = None,
           listed: int = 15) -> digest_domain.Digest:
    """The digest for one coordinator (changes since their last digest, or the last 7 days).

    The CSV rows are gathered only when a list is longer than the `listed` items a message shows.
    A sweep passes its `memo`, so its digests count the figures and the urgent rows once.
    """
    since = last_digest(session, coordinator_id=coordinator_id)
    start = since if since is not None else now - timedelta(days=7)
    data = figures_now if figures_now is not None else \
        memo.figures(session, config=config, now=now) if memo is not None else \
        figures(session, config=config, now=now)
    changes, count = changes_since(session, config=config, since=start, now=now)
    rows: list[Row] = []
    total = 0
    if max(data.totals.overdue, data.due_soon_count, count) > listed:
        urgent = memo.urgent(session, config=config, now=now) if memo is not None else None
        rows, total = attention_rows(session, config=config, now=now, since=start, urgent=urgent)
    return digest_domain.Digest(figures=data, since=since, changes=tuple(changes),
                                changes_count=count, rows=tuple(rows), rows_total=total)
