"""The figures behind digests, `/wg session` and the brief, from grouped counts (no database, no Slack).

Every number a coordinator reads is computed here, once, from counts grouped by recommendation and
by owner (``bot.services.digests`` runs the GROUP BY queries). Commitments not linked to a
recommendation have their own line, so the totals are the sum of the lines shown. A commitment is
counted under every key area its recommendation serves, so key areas add up to more than the total.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config.knowledge import KnowledgeBase
from bot.domain.readiness import Readiness

SOON = timedelta(days=14)
NO_DELEGATION = "No delegation set"


@dataclass(frozen=True)
class Item:
    """A commitment as a digest lists it (overdue, due soon)."""

    id: int
    text: str
    owner_id: str
    owner_name: str
    delegation: str | None
    rec_id: str | None
    due_at: datetime

    def days_late(self, now: datetime) -> int:
        """Whole days since the deadline (0 on the day it passed)."""
        return max(0, (now - self.due_at).days)


@dataclass(frozen=True)
class Slip:
    """A commitment whose deadline moved more than once."""

    commitment_id: int
    text: str
    owner_id: str
    delegation: str | None
    moves: int
    days: int  # net days moved in all (later is positive)


@dataclass(frozen=True)
class Change:
    """Something that happened to a commitment: when, who, what."""

    commitment_id: int
    actor_id: str
    action: str
    at: datetime
    text: str
    detail: str = ""


@dataclass(frozen=True)
class GroupCount:
    """One row of a GROUP BY: a key (recommendation or owner), a status, how many, how many overdue."""

    key: str | None
    status: str
    count: int
    overdue: int


@dataclass(frozen=True)
class AreaReadiness:
    """A key area's readiness, and the recommendations its numbers come from."""

    readiness: Readiness
    sources: tuple[tuple[str, int], ...]  # (recommendation id, commitments) with commitments
    nobody: tuple[str, ...]  # recommendations serving the area that nobody took on


@dataclass(frozen=True)
class Figures:
    """Every count at one moment: per recommendation, key area, delegation and owner, and the lists."""

    now: datetime
    per_rec: dict[str, Readiness]
    unlinked: Readiness  # commitments for no recommendation (or one no longer in the report)
    per_area: dict[str, AreaReadiness]
    per_delegation: tuple[tuple[str, Readiness], ...]  # most commitments first
    per_owner: dict[str, Readiness]  # empty when the delegations were counted in SQL
    overdue: tuple[Item, ...]  # the oldest first, at most a page
    due_soon: tuple[Item, ...]  # the next first, at most a page
    due_soon_count: int
    slipped: tuple[Slip, ...]  # most moves first, at most a page
    slipped_count: int
    nobody: tuple[str, ...]
    # every commitment once (by its first recommendation), when some serve several
    counted_once: Readiness | None = None

    @property
    def totals(self) -> Readiness:
        """All commitments, each once: the recommendations' lines plus the unlinked line (a
        commitment serving several recommendations is in each of their lines, once in here)."""
        if self.counted_once is not None:
            return self.counted_once
        total = self.unlinked
        for r in self.per_rec.values():
            total = total + r
        return total


@dataclass(frozen=True)
class Row:
    """A row of the CSV attached to a digest: a commitment that needs attention, and why."""

    id: int
    text: str
    owner_id: str
    owner_name: str
    delegation: str | None
    rec_id: str | None
    due_at: datetime
    status: str
    why: str  # "overdue", "due soon" or "changed"


@dataclass(frozen=True)
class Digest:
    """A coordinator's digest: the figures plus what changed since their last digest."""

    figures: Figures
    since: datetime | None
    changes: tuple[Change, ...]  # oldest first, the latest at most MAX_CHANGES
    changes_count: int
    rows: tuple[Row, ...] = ()  # what the CSV holds: overdue, due soon, changed
    rows_total: int = 0

    @property
    def now(self) -> datetime:
        """The moment the figures describe."""
        return self.figures.now


def tally(rows: Iterable[GroupCount]) -> dict[str | None, Readiness]:
    """Grouped rows (status 'open' or 'done') folded into readiness per key."""
    out: dict[str | None, Readiness] = {}
    for row in rows:
        add = (Readiness(done=row.count) if row.status == "done"
               else Readiness(open=row.count, overdue=row.overdue))
        out[row.key] = out.get(row.key, Readiness()) + add
    return out


def figures(kb: KnowledgeBase, *, now: datetime, by_rec: Iterable[GroupCount],
            by_owner: Iterable[GroupCount], delegation_of: Mapping[str, str | None],
            overdue: Iterable[Item], due_soon: Iterable[Item], due_soon_count: int,
            slipped: Iterable[Slip], slipped_count: int,
            also_by_rec: Iterable[GroupCount] = (),
            by_delegation: Iterable[GroupCount] | None = None) -> Figures:
    """Assemble the figures from grouped counts and the (short) lists.

    by_rec counts each commitment once, under its first recommendation; also_by_rec counts it
    again under each further recommendation it serves, so every recommendation's line holds all
    the commitments serving it while the totals still count each commitment once.

    The delegations' lines come from by_delegation when given (keyed by delegation name, None or
    '' for none; a name may have several rows, which add up), else from by_owner and
    delegation_of.
    """
    counted = tally(by_rec)
    once = Readiness()
    for readiness in counted.values():
        once = once + readiness
    for key, extra in tally(also_by_rec).items():
        counted[key] = counted.get(key, Readiness()) + extra
    per_rec = {r.id: counted.pop(r.id, Readiness()) for r in kb.recommendations}
    unlinked = Readiness()
    for other in counted.values():  # None, and ids no longer in the report
        unlinked = unlinked + other
    per_area: dict[str, AreaReadiness] = {}
    for a in kb.key_areas:
        total = Readiness()
        sources: list[tuple[str, int]] = []
        none: list[str] = []
        for r in kb.serving(a.id):
            total = total + per_rec[r.id]
            if per_rec[r.id].total:
                sources.append((r.id, per_rec[r.id].total))
            else:
                none.append(r.id)
        per_area[a.id] = AreaReadiness(total, tuple(sources), tuple(none))
    per_owner = {k: v for k, v in tally(by_owner).items() if k is not None}
    per_delegation: dict[str, Readiness] = {}
    pairs = tally(by_delegation).items() if by_delegation is not None else \
        ((delegation_of.get(owner), mine) for owner, mine in per_owner.items())
    for key, mine in pairs:
        name = key or NO_DELEGATION
        per_delegation[name] = per_delegation.get(name, Readiness()) + mine
    ordered = tuple(sorted(per_delegation.items(),
                           key=lambda kv: (kv[0] == NO_DELEGATION, -kv[1].total, kv[0])))
    return Figures(now=now, per_rec=per_rec, unlinked=unlinked, per_area=per_area,
                   per_delegation=ordered, per_owner=per_owner, overdue=tuple(overdue),
                   due_soon=tuple(due_soon), due_soon_count=due_soon_count,
                   slipped=tuple(slipped), slipped_count=slipped_count,
                   nobody=tuple(r.id for r in kb.recommendations if per_rec[r.id].total == 0),
                   counted_once=once)
