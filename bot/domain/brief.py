"""The session brief as a value: what the Chair's papers say, before anything renders it.

Built by ``bot.services.briefs`` from the same figures as the digests; rendered as a Slack
summary (``bot.replies.brief``), a chart and a Word document (``bot.brief``), or plain text.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.digest import Figures
from bot.config.knowledge import KnowledgeBase, Recommendation
from bot.domain.readiness import Readiness

ROWS_PER_REC = 25


@dataclass(frozen=True)
class BriefRow:
    """One commitment in a recommendation's table."""

    id: int
    delegation: str | None
    owner_id: str
    owner_name: str
    text: str
    due_at: datetime
    status: str  # "done", "open" or "overdue"
    moves: int
    days_moved: int


@dataclass(frozen=True)
class RecBrief:
    """A recommendation in the brief: the report's words, its commitments and a one-line status."""

    rec: Recommendation
    readiness: Readiness
    rows: tuple[BriefRow, ...]  # overdue first, then open by deadline, then done; at most a page

    @property
    def more(self) -> int:
        """Commitments not shown in the table."""
        return self.readiness.total - len(self.rows)


@dataclass(frozen=True)
class BurnUp:
    """Commitments due and done, cumulative, by day, up to the session."""

    days: tuple[date, ...]
    due: tuple[int, ...]
    done: tuple[int, ...]


@dataclass(frozen=True)
class Brief:
    """Everything the session brief says."""

    title: str
    session_title: str
    session_at: datetime
    place: str
    tz: ZoneInfo
    generated_at: datetime
    kb: KnowledgeBase
    figures: Figures
    recs: tuple[RecBrief, ...]
    burn_up: BurnUp


def rec_status(r: Readiness) -> str:
    """One line: how far a recommendation has got."""
    if r.total == 0:
        return "Nobody has taken this recommendation on."
    share = round(100 * r.done / r.total)
    late = f"; {r.overdue} overdue" if r.overdue else ""
    return (f"{r.total} commitment{'s' if r.total != 1 else ''}: {r.done} done ({share}%), "
            f"{r.open} open{late}.")


def readiness_word(r: Readiness) -> str:
    """A key area's readiness in a word or two."""
    if r.total == 0:
        return "not started"
    share = r.done / r.total
    if r.overdue and r.overdue * 4 >= r.open:
        return "at risk"
    if share >= 0.75:
        return "largely ready"
    if share >= 0.25:
        return "under way"
    return "early"


def cumulative(days: list[date], per_day: dict[date, int], *, before: int = 0) -> tuple[int, ...]:
    """Running totals over the days (with a count from before the first day)."""
    out, total = [], before
    for d in days:
        total += per_day.get(d, 0)
        out.append(total)
    return tuple(out)
