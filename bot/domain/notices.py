"""What an owner notice announces: the changes others made to a member's commitments."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

C = TypeVar("C")


@dataclass(frozen=True)
class Change(Generic[C]):
    """One thing someone else did with the owner's commitment (``C``: the commitment as stored)."""

    action: str  # created, moved, cancelled, reopened, reassigned
    actor_id: str
    commitment: C
    due_at: datetime | None  # the new deadline of a move
