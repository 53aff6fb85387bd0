"""Readiness per recommendation and per key area, from commitment counts."""
from __future__ import annotations

from dataclasses import dataclass

from bot.domain.knowledge import KnowledgeBase


@dataclass(frozen=True)
class Readiness:
    """Commitments done, open (overdue included) and overdue."""

    done: int = 0
    open: int = 0
    overdue: int = 0

    @property
    def total(self) -> int:
        """Commitments taken on (done or open)."""
        return self.done + self.open

    def __add__(self, other: Readiness) -> Readiness:
        return Readiness(self.done + other.done, self.open + other.open,
                         self.overdue + other.overdue)


def readiness_of(kb: KnowledgeBase, counts: dict[str | None, dict[str, int]]
                 ) -> tuple[dict[str, Readiness], dict[str, Readiness]]:
    """Per recommendation id and per key area id (an area sums the recommendations serving it)."""
    per_rec = {r.id: Readiness(**{k: counts.get(r.id, {}).get(k, 0)
                                  for k in ("done", "open", "overdue")})
               for r in kb.recommendations}
    per_area: dict[str, Readiness] = {}
    for a in kb.key_areas:
        total = Readiness()
        for r in kb.serving(a.id):
            total = total + per_rec[r.id]
        per_area[a.id] = total
    return per_rec, per_area
