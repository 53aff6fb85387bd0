"""The report's knowledge base: recommendations, key areas, security aspects, drivers, context.

Frozen, typed values built by the config loader from ``config/recommendations.yaml``.
Queries here are pure: no Slack, no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.config.passages import Passage

Term = Literal["short", "long"]


@dataclass(frozen=True)
class KeyArea:
    """One of the five key areas of the mid- to long-term response (K1–K5)."""

    id: str
    number: int
    title: str
    text: str


@dataclass(frozen=True)
class SecurityAspect:
    """One of the three key aspects of the security implications of mass movements of people."""

    id: str
    title: str
    text: str
    recommendations: tuple[str, ...] = ()  # the recommendations that address it (a judgement)


@dataclass(frozen=True)
class Recommendation:
    """A recommendation for the OSCE: S1–S6 (short term) or L1–L10 (long term)."""

    id: str
    term: Term
    title: str
    summary: str
    text: str
    areas: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Context:
    """Where the recommendations come from and where they are going."""

    conference: str
    place: str
    date: str
    report_title: str
    working_group: str
    special_session: str


@dataclass(frozen=True)
class SearchHit:
    """A recommendation matched by a search, with its relevance score (higher is better)."""

    recommendation: Recommendation
    score: float
    matched: tuple[str, ...]


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the bot knows about the report."""

    context: Context
    key_areas: tuple[KeyArea, ...]
    security_aspects: tuple[SecurityAspect, ...]
    structural_drivers: tuple[str, ...]
    recommendations: tuple[Recommendation, ...]
    passages: tuple[Passage, ...] = ()  # the report's prose, when the report ships beside the config
    # Its own index (a replace() builds another rather than refilling one the original reads).
    _by_id: dict[str, Recommendation] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {r.id.upper(): r for r in self.recommendations})

    def get(self, rec_id: str) -> Recommendation | None:
        """The recommendation with this id (case-insensitive), or None."""
        return self._by_id.get(rec_id.strip().upper())

    def short_term(self) -> tuple[Recommendation, ...]:
        """S1–S6 in the report's order."""
        return tuple(r for r in self.recommendations if r.term == "short")

    def long_term(self) -> tuple[Recommendation, ...]:
        """L1–L10 in the report's order."""
        return tuple(r for r in self.recommendations if r.term == "long")

    def area(self, area_id: str) -> KeyArea | None:
        """The key area with this id, or None."""
        for a in self.key_areas:
            if a.id == area_id:
                return a
        return None

    def serving(self, area_id: str) -> tuple[Recommendation, ...]:
        """Recommendations that serve a key area."""
        return tuple(r for r in self.recommendations if area_id in r.areas)

    def ids(self) -> tuple[str, ...]:
        """All recommendation ids in order."""
        return tuple(r.id for r in self.recommendations)
