"""The report's prose as passages, and search over the whole report (recommendations first)."""
from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config.load import load_config
from bot.config.knowledge import KnowledgeBase
from bot.config.passages import passages_of
from bot.domain.search import corrected, search_report

REPO = Path(__file__).resolve().parents[2]
REPORT = (REPO / "config" / "report.txt").read_text(encoding="utf-8")


@cache
def kb() -> KnowledgeBase:
    return load_config(REPO / "config", now=datetime(2026, 11, 30, tzinfo=UTC)).config.knowledge


def squash(text: str) -> str:
    return " ".join(text.split())


def test_every_prose_paragraph_is_a_passage_with_its_place() -> None:
    passages = passages_of(REPORT)
    assert len(passages) == 19
    assert passages[0].place == "Introduction, paragraph 1"
    assert passages[0].text.startswith("Against the backdrop of growing public")
    assert [p.place for p in passages if p.text.startswith("In their concluding remarks")] == \
        ["The Way Forward, paragraph 4"]
    assert not any("Recommendations for the OSCE" in p.text for p in passages)


def test_passages_are_the_reports_words_and_broken_paragraphs_are_joined() -> None:
    report = squash(REPORT).replace("co- operation", "co-operation")
    for p in passages_of(REPORT):
        assert p.text in report, p.place
    joined = [p for p in passages_of(REPORT) if "hampered international co-operation." in p.text]
    assert len(joined) == 1 and joined[0].text.endswith("projected migratory pressures.")


def test_the_loaded_knowledge_base_carries_the_passages() -> None:
    assert len(kb().passages) == 19


@pytest.mark.parametrize("words,place", [
    ("refugees", "Engaging Societies and Communities, paragraph 2"),
    ("education", "The Way Forward, paragraph 3"),
    ("resettlement", "Security Approaches and Tools of Migration Management, paragraph 2"),
    ("1325", "Engaging Societies and Communities, paragraph 2"),
])
def test_words_only_the_prose_uses_find_passages(words: str, place: str) -> None:
    found = search_report(kb(), words)
    assert place in [h.passage.place for h in found.passages]
    first = found.passages[0]
    assert any(w.casefold().startswith(words.casefold()[:5]) for w in first.words)
    assert all(w in first.snippet for w in first.words)


def test_recommendations_come_before_passages_and_both_are_found() -> None:
    found = search_report(kb(), "Europol")
    assert found.recommendations[0].recommendation.id == "S6"
    assert found.corrected is None


def test_one_typo_is_corrected() -> None:
    assert corrected(kb(), "Meditteranean") == "mediterranean"
    found = search_report(kb(), "Meditteranean")
    assert found.corrected == "mediterranean"
    assert found.recommendations[0].recommendation.id == "S2"
    assert "Mediterranean" in found.passages[0].words


def test_nonsense_finds_nothing_and_is_not_corrected() -> None:
    found = search_report(kb(), "qqqqzzzz")
    assert not found and found.corrected is None


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_search_report_never_raises(words: str) -> None:
    found = search_report(kb(), words)
    for hit in found.passages:
        assert hit.snippet
