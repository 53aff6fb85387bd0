"""What an owner notice announces: the changes others made to a member's commitments."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.views import CommitmentView


@dataclass(frozen=True, slots=True)
class Change:
    """One thing someone else did with the owner's commitment (as it stands when the notice goes)."""

    action: str  # created, moved, cancelled, reopened, reassigned
    actor_id: str
    commitment: CommitmentView
    due_at: datetime | None  # the new deadline of a move
