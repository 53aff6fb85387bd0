"""Commitments and their history as values: what services hand to replies (no database, no Slack).

A service builds these inside the unit of work that read the rows, so nothing is loaded after the
session closes; replies and the edges render them and never see a table row.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CommitmentView:
    """A commitment as it stood when it was read: every owner and every linked recommendation."""

    id: int
    text: str
    owner_ids: tuple[str, ...]  # the lead owner first; never empty
    rec_ids: tuple[str, ...]  # in the order they were linked; may be empty
    creator_id: str
    status: str  # open, done, cancelled
    due_at: datetime
    due_words: str
    created_at: datetime
    nudges: int = 0  # overdue nudges sent since the deadline last changed

    @property
    def owner_id(self) -> str:
        """The lead owner."""
        return self.owner_ids[0]

    @property
    def rec_id(self) -> str | None:
        """The first recommendation it serves, if any."""
        return self.rec_ids[0] if self.rec_ids else None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change to a commitment (or a progress note): who, when, what, before and after."""

    commitment_id: int
    actor_id: str
    at: datetime
    action: str  # created, moved, done, reopened, cancelled, edited, reassigned, linked, note
    changes: Mapping[str, Any]  # read only: {field: [before, after]}, or {"note": text}

    @property
    def note(self) -> str:
        """The text of a progress note ('' for other entries)."""
        return str(self.changes.get("note", ""))
