"""Readiness: how many commitments are done, open and overdue (per recommendation, area, …)."""
from __future__ import annotations

from dataclasses import dataclass



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
