"""Commitments: record, find, list and change them; every change leaves an audit entry.

What leaves this module is a value (``CommitmentView``, ``HistoryEntry``), built in the caller's unit
of work from rows whose owners and links are loaded for the whole batch at once (two IN queries per
batch, never one per commitment). Changes take a view and return the commitment as it is now.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import String, bindparam, case, cast, func, or_, select
from sqlalchemy.orm import Session, joinedload

from bot.domain.dates import DueDate
from bot.domain.search import terms_of
from bot.domain.lengths import MAX_TEXT
from bot.domain.views import CommitmentView, HistoryEntry
from bot.store.models import AuditEntry, Commitment, CommitmentLink, CommitmentOwner


MAX_COUNT = 1000


class CommitmentError(Exception):
    """A request that cannot be carried out; the message is meant for the user."""


@dataclass(frozen=True)
class Page:
    """One page of a listing."""

    items: tuple[CommitmentView, ...]
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


def view_of(c: Commitment) -> CommitmentView:
    """The commitment as a value (its owners and links are loaded with it: selectin)."""
    return CommitmentView(id=c.id, text=c.text, owner_ids=c.owner_ids, rec_ids=c.rec_ids,
                          creator_id=c.creator_id, status=c.status, due_at=c.due_at,
                          due_words=c.due_words, created_at=c.created_at, nudges=c.nudges or 0)


def _frozen(value: Any) -> Any:
    """A JSON value that cannot be changed: objects read only, lists as tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def entry_of(e: AuditEntry) -> HistoryEntry:
    """An audit entry as a value."""
    return HistoryEntry(commitment_id=e.commitment_id, actor_id=e.actor_id, at=e.at,
                        action=e.action, changes=_frozen(e.changes or {}))


def views_of(rows: Iterable[Commitment]) -> list[CommitmentView]:
    """Rows as values, in order."""
    return [view_of(c) for c in rows]


def _held(session: Session, commitment_id: int) -> Commitment | None:
    """The commitment's row (with its owners and links), read once per unit of work.

    A turn or a delivery comes back to the same commitment several times (may the caller change
    it, change it, re-plan its reminders; is a reminder still due, compose it): the session
    keeps the row it read first for the whole unit, where its identity map alone would let go of
    a row nothing refers to and read it again, three queries each time.
    """
    held: dict[int, Commitment] = session.info.setdefault(_HELD, {})
    row = held.get(commitment_id)
    if row is None:
        row = session.get(Commitment, commitment_id, options=_WHOLE)
        if row is not None:
            held[commitment_id] = row
    return row


_HELD = "wgbot_commitments"  # session.info: the commitments read in this unit of work, by id
# One row with its owners and links: joined in one query (a few rows), where the selectin
# loading that suits listings would run two more.
_WHOLE = (joinedload(Commitment.owners), joinedload(Commitment.links))


def _row(session: Session, commitment: CommitmentView) -> Commitment:
    """The stored row of a commitment read earlier in this unit of work (from the identity map)."""
    row = _held(session, commitment.id)
    if row is None:
        raise CommitmentError(f"There is no commitment #{commitment.id} any more.")
    return row


def reread(session: Session, *, commitment: CommitmentView) -> CommitmentView:
    """The commitment as it is now in this unit of work (after changes made to it)."""
    return view_of(_row(session, commitment))


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


MAX_NOTE = 500


def create(session: Session, *, text: str, owner_id: str, creator_id: str, rec_id: str | None,
           due: DueDate, first_nudge_at: datetime | None, now: datetime,
           co_owner_ids: Sequence[str] = (), also_rec_ids: Sequence[str] = ()) -> CommitmentView:
    """Record a new open commitment (members must exist already): its first owner and first
    recommendation, and any more of either."""
    owners = list(dict.fromkeys([owner_id, *co_owner_ids]))
    recs = list(dict.fromkeys([*([rec_id] if rec_id else []), *also_rec_ids]))
    commitment = Commitment(text=validate_text(text), owner_id=owners[0], creator_id=creator_id,
                            rec_id=recs[0] if recs else None, due_at=due.at,
                            due_words=due.words[:120], status="open", created_at=now,
                            updated_at=now, completed_at=None, next_nudge_at=first_nudge_at,
                            nudges=0)
    commitment.owners = [CommitmentOwner(member_id=m, position=i) for i, m in enumerate(owners)]
    commitment.links = [CommitmentLink(rec_id=r, position=i) for i, r in enumerate(recs)]
    session.add(commitment)
    session.flush()
    changes: dict[str, Any] = {"text": [None, commitment.text], "owner": [None, owners[0]],
                               "recommendation": [None, recs[0] if recs else None],
                               "due": [None, due.at.isoformat()]}
    if len(owners) > 1:
        changes["owners"] = [None, owners]
    if len(recs) > 1:
        changes["recommendations"] = [None, recs]
    _audit(session, commitment=commitment, actor_id=creator_id, now=now, action="created",
           changes=changes)
    return view_of(commitment)


def open_with_text(session: Session, *, text: str, owner_id: str) -> CommitmentView | None:
    """An open commitment of this owner with the same text (ignoring case and spacing).

    Only ids and texts are read to compare; the one found, if any, is loaded whole."""
    wanted = " ".join(text.split()).casefold()
    found = session.scalar(_SAME_TEXT, {"owner": owner_id, "text": wanted})
    if found is None:  # spacing differs: compare the few open ones that start alike
        found = next((cid for cid, other in session.execute(
                          _ALIKE, {"owner": owner_id, "start": wanted[:8]})
                      if " ".join(other.split()).casefold() == wanted), None)
    row = None if found is None else _held(session, found)
    return None if row is None else view_of(row)


_OPEN_HELD_BY = (Commitment.status == "open",
                 Commitment.id.in_(select(CommitmentOwner.commitment_id)
                                   .where(CommitmentOwner.member_id == bindparam("owner"))))
_SAME_TEXT = (select(Commitment.id)
              .where(*_OPEN_HELD_BY, func.lower(Commitment.text) == bindparam("text"))
              .order_by(Commitment.id).limit(1))
_ALIKE = (select(Commitment.id, Commitment.text)
          .where(*_OPEN_HELD_BY, func.lower(Commitment.text).startswith(bindparam("start")))
          .limit(50))


def edit_text(session: Session, *, commitment: CommitmentView, text: str, actor_id: str,
              now: datetime) -> bool:
    """Replace what a commitment says, with an audit entry; False when it said that already."""
    after = validate_text(text)
    commitment = _row(session, commitment)
    before = commitment.text
    if after == before:
        return False
    commitment.text = after
    commitment.updated_at = now
    _audit(session, commitment=commitment, actor_id=actor_id, now=now, action="edited",
           changes={"text": [before, after]})
    session.flush()
    return True


def assign(session: Session, *, commitment: CommitmentView, owner_ids: Sequence[str],
           actor_id: str, now: datetime) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Give a commitment to these owners (the first leads); (who was added, who was removed).

    `reread` gives the commitment as it is afterwards."""
    after = tuple(dict.fromkeys(owner_ids))
    if not after:
        raise CommitmentError("Name at least one owner.")
    commitment = _row(session, commitment)
    before = commitment.owner_ids
    if after == before:
        return (), ()
    keep = {o.member_id: o for o in commitment.owners}
    rows = []
    for i, member_id in enumerate(after):
        row = keep.get(member_id) or CommitmentOwner(member_id=member_id)
        row.position = i
        rows.append(row)
    commitment.owners = rows
    commitment.owner_id = after[0]
    commitment.updated_at = now
    _audit(session, commitment=commitment, actor_id=actor_id, now=now, action="reassigned",
           changes={"owners": [list(before), list(after)]})
    session.flush()
    return (tuple(m for m in after if m not in before), tuple(m for m in before if m not in after))


def set_links(session: Session, *, commitment: CommitmentView, rec_ids: Sequence[str],
              actor_id: str, now: datetime) -> bool:
    """Link the commitment to exactly these recommendations, in order; False when unchanged.

    `reread` gives the commitment as it is afterwards."""
    after = tuple(dict.fromkeys(r.upper() for r in rec_ids))
    commitment = _row(session, commitment)
    before = commitment.rec_ids
    if after == before:
        return False
    keep = {link.rec_id: link for link in commitment.links}
    rows = []
    for i, rec_id in enumerate(after):
        row = keep.get(rec_id) or CommitmentLink(rec_id=rec_id)
        row.position = i
        rows.append(row)
    commitment.links = rows
    commitment.rec_id = after[0] if after else None
    commitment.updated_at = now
    _audit(session, commitment=commitment, actor_id=actor_id, now=now, action="linked",
           changes={"recommendations": [list(before), list(after)]})
    session.flush()
    return True


def add_note(session: Session, *, commitment: CommitmentView, text: str, actor_id: str,
             now: datetime) -> HistoryEntry:
    """A dated progress note by its author, kept in the commitment's history."""
    note = " ".join(text.split())
    if not note:
        raise CommitmentError("Write the note after the number, e.g. `/wg note 12 Draft sent to "
                              "the Chair`.")
    if len(note) > MAX_NOTE:
        raise CommitmentError(f"That note is {len(note)} characters; the limit is {MAX_NOTE}.")
    _row(session, commitment).updated_at = now
    entry = AuditEntry(commitment_id=commitment.id, actor_id=actor_id, at=now, action="note",
                       changes={"note": note})
    session.add(entry)
    session.flush()
    return entry_of(entry)


def latest_notes(session: Session, *, commitment_ids: Sequence[int]) -> dict[int, HistoryEntry]:
    """The newest note of each of these commitments that has one."""
    if not commitment_ids:
        return {}
    newest = (select(AuditEntry.commitment_id, func.max(AuditEntry.id).label("id"))
              .where(AuditEntry.commitment_id.in_(commitment_ids), AuditEntry.action == "note")
              .group_by(AuditEntry.commitment_id).subquery())
    rows = session.scalars(select(AuditEntry).join(newest, AuditEntry.id == newest.c.id))
    return {e.commitment_id: entry_of(e) for e in rows}


def get(session: Session, *, commitment_id: int) -> CommitmentView | None:
    """The commitment with this id, or None."""
    if not 0 < commitment_id < 2**31:
        return None
    found = _held(session, commitment_id)
    return view_of(found) if found is not None else None


def set_status(session: Session, *, commitment: CommitmentView, status: str, actor_id: str,
               now: datetime, first_nudge_at: datetime | None = None) -> CommitmentView:
    """Mark done, reopen or cancel, with an audit entry (reopening restarts overdue nudges)."""
    commitment = _row(session, commitment)
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
    return view_of(commitment)


def move(session: Session, *, commitment: CommitmentView, due: DueDate, actor_id: str,
         first_nudge_at: datetime | None, now: datetime) -> CommitmentView:
    """Give a commitment a new deadline, with an audit entry (overdue nudges start over)."""
    commitment = _row(session, commitment)
    before = commitment.due_at
    commitment.next_nudge_at, commitment.nudges = first_nudge_at, 0
    commitment.due_at = due.at
    commitment.due_words = due.words[:120]
    commitment.updated_at = now
    _audit(session, commitment=commitment, actor_id=actor_id, now=now, action="moved",
           changes={"due": [before.isoformat(), due.at.isoformat()]})
    session.flush()
    return view_of(commitment)


def history(session: Session, *, commitment_id: int) -> list[HistoryEntry]:
    """The audit trail of a commitment, oldest first."""
    stmt = (select(AuditEntry).where(AuditEntry.commitment_id == commitment_id)
            .order_by(AuditEntry.at, AuditEntry.id))
    return [entry_of(e) for e in session.scalars(stmt)]


def listing(session: Session, *, scope: str, user_id: str, arg: str, now: datetime,
            page: int = 1, per_page: int = 10) -> Page:
    """Commitments for a listing scope, by deadline (overdue first), one page at a time."""
    stmt = select(Commitment)
    if scope == "done":
        stmt = stmt.where(Commitment.status == "done")
    else:
        stmt = stmt.where(Commitment.status == "open")
    if scope in ("mine", "user"):
        stmt = stmt.where(Commitment.id.in_(_held_by(user_id if scope == "mine" else arg)))
    elif scope == "rec":
        stmt = stmt.where(Commitment.id.in_(
            select(CommitmentLink.commitment_id).where(CommitmentLink.rec_id == arg)))
    elif scope == "overdue":
        stmt = stmt.where(Commitment.due_at <= now)
    # Counting stops at MAX_COUNT: a listing never pays for counting a huge backlog.
    total = session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(Commitment.id).limit(MAX_COUNT + 1).subquery())) or 0
    order = (Commitment.completed_at.desc(),) if scope == "done" else (Commitment.due_at,)
    stmt = stmt.order_by(*order, Commitment.id).limit(per_page).offset((page - 1) * per_page)
    return Page(items=tuple(views_of(session.scalars(stmt).unique())), total=total, page=page,
                per_page=per_page)


def _held_by(member_id: str) -> Any:
    """The ids of the commitments a member holds (alone or with others)."""
    return select(CommitmentOwner.commitment_id).where(CommitmentOwner.member_id == member_id)


def open_due_before(session: Session, *, before: datetime,
                    held_by: str | None = None) -> list[CommitmentView]:
    """Open commitments due by a moment (at it or before), by deadline; only those a member holds
    (alone or with others) when held_by names them."""
    stmt = select(Commitment).where(Commitment.status == "open", Commitment.due_at <= before)
    if held_by is not None:
        stmt = stmt.where(Commitment.id.in_(_held_by(held_by)))
    return views_of(session.scalars(stmt.order_by(Commitment.due_at, Commitment.id)).unique())


def counts_by_rec(session: Session, *, now: datetime) -> dict[str | None, dict[str, int]]:
    """Per recommendation: how many commitments are done, open and overdue."""
    overdue = func.sum(case(((Commitment.status == "open") & (Commitment.due_at <= now), 1),
                            else_=0))
    # A commitment serving several recommendations counts under each; one serving none under None.
    rec = CommitmentLink.rec_id
    stmt = (select(rec, Commitment.status, func.count(), overdue)
            .select_from(Commitment)
            .outerjoin(CommitmentLink, CommitmentLink.commitment_id == Commitment.id)
            .where(Commitment.status != "cancelled")
            .group_by(rec, Commitment.status))
    result: dict[str | None, dict[str, int]] = {}
    for rec_id, status, count, late in session.execute(stmt):
        row = result.setdefault(rec_id, {"done": 0, "open": 0, "overdue": 0})
        row[status] = row.get(status, 0) + int(count)
        row["overdue"] += int(late or 0)
    return result


FIND_CANDIDATES = 1000


def find(session: Session, *, words: str, page: int = 1, per_page: int = 10) -> Page:
    """Commitments whose text or notes hold the words, most words matched first, open before
    done, then by deadline; one page at a time."""
    terms = list(dict.fromkeys(t for t in terms_of(words) if len(t) > 1))[:8]
    if not terms:
        return Page(items=(), total=0, page=page, per_page=per_page)
    note_text = cast(AuditEntry.changes, String)
    noted = {t: select(AuditEntry.commitment_id).where(
        AuditEntry.action == "note", func.lower(note_text).contains(t[:max(3, len(t) - 2)])) for t in terms}
    # The candidates are ranked from four columns; only the page shown is read whole (with its
    # owners and links), not the up to FIND_CANDIDATES that matched.
    stmt = (select(Commitment.id, Commitment.text, Commitment.status, Commitment.due_at).where(
        Commitment.status != "cancelled",
        or_(*(func.lower(Commitment.text).contains(t[:max(3, len(t) - 2)]) for t in terms),
            *(Commitment.id.in_(q) for q in noted.values())))
        .order_by(Commitment.id.desc()).limit(FIND_CANDIDATES))
    found = session.execute(stmt).all()
    notes: dict[int, list[str]] = {}
    if found:
        rows = session.execute(select(AuditEntry.commitment_id, AuditEntry.changes).where(
            AuditEntry.commitment_id.in_([c.id for c in found]), AuditEntry.action == "note"))
        for cid, changes in rows:
            notes.setdefault(cid, []).append(str((changes or {}).get("note", "")))
    wanted = set(terms)

    def score(c: Any) -> tuple[int, int, datetime, int]:
        seen = set(terms_of(" ".join([c.text, *notes.get(c.id, [])])))
        return (-len(wanted & seen), 0 if c.status == "open" else 1, c.due_at, c.id)

    ranked = sorted((c for c in found if score(c)[0] < 0), key=score)
    start = (page - 1) * per_page
    return Page(items=tuple(_by_ids(session, [c.id for c in ranked[start:start + per_page]])),
                total=len(ranked), page=page, per_page=per_page)


def _by_ids(session: Session, ids: Sequence[int]) -> list[CommitmentView]:
    """These commitments as values, in the order of the ids (one query, plus owners and links)."""
    if not ids:
        return []
    rows = {c.id: c for c in session.scalars(select(Commitment).where(Commitment.id.in_(ids)))}
    return [view_of(rows[i]) for i in ids if i in rows]
