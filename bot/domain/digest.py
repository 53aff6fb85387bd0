"""What a coordinator digest contains, computed from plain facts (no database, no Slack)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.knowledge import KnowledgeBase
from bot.domain.readiness import Readiness, readiness_of

SOON = timedelta(days=14)


@dataclass(frozen=True)
class Item:
    """A commitment as the digest sees it."""

    id: int
    text: str
    owner_id: str
    rec_id: str | None
    due_at: datetime
    status: str


@dataclass(frozen=True)
class Change:
    """Something that happened to a commitment since the last digest."""

    commitment_id: int
    actor_id: str
    action: str
    at: datetime
    text: str


@dataclass(frozen=True)
class Digest:
    """Progress, changes, what is due soon, who is late, what nobody took on."""

    now: datetime
    since: datetime | None
    per_rec: dict[str, Readiness]
    per_area: dict[str, Readiness]
    changes: tuple[Change, ...]
    due_soon: tuple[Item, ...]
    overdue_by_owner: tuple[tuple[str, int], ...]
    nobody: tuple[str, ...]
    open_items: tuple[Item, ...]

    @property
    def totals(self) -> Readiness:
        """All commitments together."""
        total = Readiness()
        for r in self.per_rec.values():
            total = total + r
        return total


def build(kb: KnowledgeBase, *, now: datetime, since: datetime | None,
          counts: dict[str | None, dict[str, int]], open_items: list[Item],
          changes: list[Change]) -> Digest:
    """Assemble a digest from counts, open commitments and the changes since the last one."""
    per_rec, per_area = readiness_of(kb, counts)
    due_soon = tuple(i for i in open_items if now < i.due_at <= now + SOON)
    late = Counter(i.owner_id for i in open_items if i.due_at <= now)
    nobody = tuple(r.id for r in kb.recommendations if per_rec[r.id].total == 0)
    return Digest(now=now, since=since, per_rec=per_rec, per_area=per_area,
                  changes=tuple(changes), due_soon=due_soon,
                  overdue_by_owner=tuple(sorted(late.items(), key=lambda kv: (-kv[1], kv[0]))),
                  nobody=nobody, open_items=tuple(open_items))
