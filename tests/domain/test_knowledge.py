"""The knowledge base in config/recommendations.yaml is true to the report, and search finds in it.

The report ships with the bot as config/report.txt (a byte-for-byte copy); every check runs against
that copy, and again against another copy of the report named by WGBOT_REPORT_PATH, when set,
which must be identical.
"""
from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config.knowledge import (
    Context,
    KeyArea,
    KnowledgeBase,
    Recommendation,
    SecurityAspect,
)
from bot.domain.search import rank, suggestions

ROOT = Path(__file__).resolve().parents[2]
KB_PATH = ROOT / "config" / "recommendations.yaml"
BUNDLED_REPORT = ROOT / "config" / "report.txt"
SHORT_HEADING = "Recommendations for the OSCE in the short term"
LONG_HEADING = "Recommendations for the OSCE in the long term"
SHORT_IDS = [f"S{i}" for i in range(1, 7)]
LONG_IDS = [f"L{i}" for i in range(1, 11)]


def shared_report_path() -> Path:
    """The report named by WGBOT_REPORT_PATH (unset: the bundled copy checks alone)."""
    env = os.environ.get("WGBOT_REPORT_PATH")
    return Path(env).expanduser().resolve() if env else ROOT / "missing-report-copy"


def _report_params() -> list[Any]:
    shared = shared_report_path()
    return [
        pytest.param(BUNDLED_REPORT, id="bundled"),
        pytest.param(shared, id="shared", marks=pytest.mark.skipif(
            not shared.is_file(),
            reason="set WGBOT_REPORT_PATH to check config/report.txt against another copy")),
    ]


def squash(text: str) -> str:
    """Whitespace runs to single spaces, ends stripped: the only normalisation allowed."""
    return re.sub(r"\s+", " ", text).strip()


@cache
def raw_kb() -> dict[str, Any]:
    """The YAML as loaded by yaml.safe_load."""
    data = yaml.safe_load(KB_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def build_kb(data: dict[str, Any]) -> KnowledgeBase:
    """The YAML dict as bot.config.knowledge dataclasses."""
    ctx = data["context"]
    return KnowledgeBase(
        context=Context(
            conference=str(ctx["conference"]), place=str(ctx["place"]), date=str(ctx["date"]),
            report_title=str(ctx["report_title"]), working_group=str(ctx["working_group"]),
            special_session=str(ctx["special_session"])),
        key_areas=tuple(
            KeyArea(id=a["id"], number=int(a["id"][1:]), title=a["title"], text=a["text"])
            for a in data["key_areas"]),
        security_aspects=tuple(
            SecurityAspect(id=a["id"], title=a["title"], text=a["text"])
            for a in data["security_aspects"]),
        structural_drivers=tuple(str(d) for d in data["structural_drivers"]),
        recommendations=tuple(
            Recommendation(
                id=r["id"], term="short" if r["id"].startswith("S") else "long",
                title=r["title"], summary=r["summary"], text=r["text"],
                areas=tuple(r["areas"]), keywords=tuple(str(k) for k in r["keywords"]))
            for r in data["recommendations"]),
    )


@cache
def kb() -> KnowledgeBase:
    """The shipped knowledge base."""
    return build_kb(raw_kb())


def recommendation_bullets(report: str) -> dict[str, list[str]]:
    """The report's bullet lines ("- ...") under each recommendations heading, squashed."""
    lines = report.splitlines()
    starts = {h: i for i, line in enumerate(lines) for h in (SHORT_HEADING, LONG_HEADING)
              if line.strip() == h}
    assert set(starts) == {SHORT_HEADING, LONG_HEADING}, "recommendation headings not found"
    out: dict[str, list[str]] = {}
    for heading, start in starts.items():
        bullets: list[str] = []
        for line in lines[start + 1:]:
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith("- "):
                bullets.append(stripped[2:])
            elif bullets and not stripped.startswith(("Recommendations for", "#")) \
                    and line[:1].isspace():
                bullets[-1] += " " + stripped  # an indented continuation of a wrapped bullet
            else:
                break  # the next heading or paragraph ends the section
        out[heading] = [squash(b) for b in bullets]
    return out


# --- the report files ------------------------------------------------------------------------

def test_bundled_report_is_there() -> None:
    assert BUNDLED_REPORT.is_file(), "config/report.txt must ship with the bot"
    assert SHORT_HEADING in BUNDLED_REPORT.read_text(encoding="utf-8")


def test_bundled_report_is_identical_to_shared() -> None:
    shared = shared_report_path()
    if not shared.is_file():
        pytest.skip("set WGBOT_REPORT_PATH to check config/report.txt against another copy")
    assert BUNDLED_REPORT.read_bytes() == shared.read_bytes(), \
        "config/report.txt differs from the shared report: copy it again byte for byte"


# --- structure -------------------------------------------------------------------------------

def test_yaml_has_exactly_the_documented_keys() -> None:
    data = raw_kb()
    assert list(data) == ["context", "key_areas", "security_aspects", "structural_drivers",
                          "recommendations"]
    assert set(data["context"]) == {"conference", "place", "date", "report_title",
                                    "working_group", "special_session"}
    for a in data["key_areas"]:
        assert set(a) == {"id", "title", "text"}
    for a in data["security_aspects"]:
        assert set(a) == {"id", "title", "text", "recommendations"}
    for r in data["recommendations"]:
        assert set(r) == {"id", "title", "summary", "text", "areas", "keywords"}, r.get("id")


def test_context() -> None:
    c = kb().context
    assert c.place == "Rome"
    assert c.date == "2016-03-04"
    assert "Security Days" in c.conference
    assert "informal working group on migration" in c.working_group
    assert "special session of the Permanent Council dedicated to migration" in c.special_session


def test_ids_are_s1_to_s6_then_l1_to_l10_in_order() -> None:
    k = kb()
    assert list(k.ids()) == SHORT_IDS + LONG_IDS
    assert [r.id for r in k.short_term()] == SHORT_IDS
    assert [r.id for r in k.long_term()] == LONG_IDS
    assert k.get("s3") is not None and k.get("l10") is not None


def test_key_areas_and_aspects_ids() -> None:
    k = kb()
    assert [a.id for a in k.key_areas] == ["K1", "K2", "K3", "K4", "K5"]
    assert [a.number for a in k.key_areas] == [1, 2, 3, 4, 5]
    assert [a.id for a in k.security_aspects] == ["A1", "A2", "A3"]


def test_every_recommendation_serves_known_key_areas() -> None:
    known = {a.id for a in kb().key_areas}
    for r in kb().recommendations:
        assert r.areas, f"{r.id} serves no key area"
        assert set(r.areas) <= known, f"{r.id} names unknown areas {set(r.areas) - known}"
        assert len(set(r.areas)) == len(r.areas), f"{r.id} repeats an area"
    for a in kb().key_areas:
        assert kb().serving(a.id), f"no recommendation serves {a.id}"


def test_titles_and_summaries_are_short() -> None:
    for r in kb().recommendations:
        assert r.title.strip() and len(r.title) <= 60, r.id
        assert r.summary.strip() and len(r.summary) <= 300, r.id
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", r.summary.strip()) if s]
        assert 1 <= len(sentences) <= 2, f"{r.id}: {len(sentences)} sentences"
        assert r.summary.rstrip()[-1] in ".!?", r.id
        assert r.summary != r.text, f"{r.id}: the summary should be in the bot's own words"


def test_keywords_are_lowercase_search_terms() -> None:
    for r in kb().recommendations:
        assert 5 <= len(r.keywords) <= 10, r.id
        for kw in r.keywords:
            assert kw == kw.lower() and kw.strip() == kw and kw, (r.id, kw)
        assert len(set(r.keywords)) == len(r.keywords), r.id


def test_texts_are_single_lines() -> None:
    k = kb()
    items: list[Recommendation | KeyArea | SecurityAspect] = [
        *k.recommendations, *k.key_areas, *k.security_aspects]
    for item in items:
        assert "\n" not in item.text and item.text == item.text.strip(), item.id


# --- verbatim against the report -------------------------------------------------------------

@pytest.mark.parametrize("report_path", _report_params())
def test_recommendation_texts_are_verbatim(report_path: Path) -> None:
    report = squash(report_path.read_text(encoding="utf-8"))
    for r in kb().recommendations:
        assert r.text in report, f"{r.id} is not the report's exact wording"


@pytest.mark.parametrize("report_path", _report_params())
def test_one_recommendation_per_report_bullet(report_path: Path) -> None:
    bullets = recommendation_bullets(report_path.read_text(encoding="utf-8"))
    short, long = bullets[SHORT_HEADING], bullets[LONG_HEADING]
    assert len(kb().recommendations) == len(short) + len(long)
    assert [r.text for r in kb().short_term()] == short
    assert [r.text for r in kb().long_term()] == long


@pytest.mark.parametrize("report_path", _report_params())
def test_areas_aspects_and_drivers_are_verbatim(report_path: Path) -> None:
    report = squash(report_path.read_text(encoding="utf-8"))
    k = kb()
    items: list[KeyArea | SecurityAspect] = [*k.key_areas, *k.security_aspects]
    for item in items:
        assert item.text in report, f"{item.id} is not the report's exact wording"
    five = re.search(r"five key areas: (.*?)\.", report)
    assert five, "the five key areas sentence is gone"
    for a in k.key_areas:
        assert f"{a.number}) {a.text}" in five.group(1), a.id
    three = re.search(r"Three key aspects .*? identified: (.*?)\.", report)
    assert three, "the three key aspects sentence is gone"
    assert [s.text for s in k.security_aspects] == [
        re.sub(r"^and ", "", part.strip()) for part in three.group(1).split(";")]
    assert k.structural_drivers, "no structural drivers"
    for driver in k.structural_drivers:
        assert driver in report, driver
    l1 = k.get("L1")
    assert l1 is not None
    for driver in k.structural_drivers:
        assert driver in l1.text, f"{driver} is not one of L1's drivers"


@pytest.mark.parametrize("report_path", _report_params())
def test_context_is_from_the_report(report_path: Path) -> None:
    report = squash(report_path.read_text(encoding="utf-8"))
    c = kb().context
    assert c.report_title in report
    assert c.conference.replace(" conference", "") in report
    assert "Rome, 4 March 2016" in report


# --- search ----------------------------------------------------------------------------------

def ids_for(words: str) -> list[str]:
    return [h.recommendation.id for h in rank(kb(), words)]


@pytest.mark.parametrize("words,best", [
    ("border management", "S3"),
    ("europol", "S6"),
    ("EMSC", "S6"),
    ("trafficking smuggling", "S6"),
    ("smugglers", "S6"),
    ("Mediterranean partners", "S2"),
    ("climate change", "L1"),
    ("UN summit", "L4"),
    ("radicalisation", "L7"),
    ("norm setter", "L5"),
    ("data collection", "L8"),
    ("Western Balkans", "S5"),
    ("S3", "S3"),
    ("l10", "L10"),
])
def test_search_ranks_the_obvious_recommendation_first(words: str, best: str) -> None:
    found = ids_for(words)
    assert found and found[0] == best, (words, found)


def test_youth_finds_l9_then_l7() -> None:
    assert ids_for("youth")[:2] == ["L9", "L7"]


def test_hyphen_and_spelling_variants_agree() -> None:
    assert ids_for("co-operation") == ids_for("cooperation")
    assert ids_for("radicalisation") == ids_for("radicalization")
    assert ids_for("Field Operations!") == ids_for("field operations")


def test_search_hits_are_sorted_and_limited() -> None:
    hits = rank(kb(), "migration", limit=3)
    assert 0 < len(hits) <= 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.matched for h in hits)
    assert rank(kb(), "migration", limit=0) == []


def test_area_id_finds_the_recommendations_serving_it() -> None:
    found = set(ids_for("K3"))
    assert found and found <= {r.id for r in kb().serving("K3")}


@pytest.mark.parametrize("words", ["", "   ", "the of and", "?!...", "xyzzy plugh"])
def test_nothing_matches(words: str) -> None:
    assert rank(kb(), words) == []
    ideas = suggestions(kb(), words)
    assert 0 < len(ideas) <= 5
    assert all(isinstance(i, str) and i for i in ideas)


def test_misspelling_is_suggested() -> None:
    assert rank(kb(), "trafficing") == []
    assert "trafficking" in suggestions(kb(), "trafficing")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_search_never_raises(words: str) -> None:
    hits = rank(kb(), words)
    assert isinstance(hits, list) and len(hits) <= 5
    ideas = suggestions(kb(), words)
    assert isinstance(ideas, list) and len(ideas) <= 5


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=2000, max_size=5000))
def test_search_never_raises_on_long_input(words: str) -> None:
    rank(kb(), words)
    suggestions(kb(), words)


def test_search_odd_inputs() -> None:
    for words in ["\x00\x01\x1b[31m", "S" * 100_000, "Ｅｕｒｏｐｏｌ", "🙂 youth 🙂", "l" + "1" * 50,
                  "a-b-c-d-", "--", "'s", "’’", "\u200b\u2028"]:
        rank(kb(), words)
        suggestions(kb(), words)
    assert ids_for("Ｅｕｒｏｐｏｌ") == ["S6"]


# --- faithful to the report ------------------------------------------------------------------

_NAME_RUN = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:(?:of|for|on)\s+)?[A-Z][\w'’-]*)*")
_ARTICLE = re.compile(r"^(?:A|An|The)\s+")
_CODE = re.compile(r"\b(?:[A-Z]{2,}|\d[\d,.]*\d|\d)\b")


def named_entities(text: str) -> set[str]:
    """Names (runs of capitalised words), acronyms and numbers in a text; a sentence's first word
    counts only when the next word is capitalised too (“Participating States”)."""
    found: set[str] = set(_CODE.findall(text))
    for sentence in re.split(r"(?<=[.:;!?])\s+", text):
        for m in _NAME_RUN.finditer(sentence):
            run = _ARTICLE.sub("", m.group(0))
            if m.start() == 0 and " " not in run and run == m.group(0):
                continue  # an ordinary word that starts the sentence
            found.add(run)
    return found


def test_named_entities_finder_finds_what_it_should() -> None:
    assert named_entities("The OSCE could join the European Migrant Smuggling Centre (EMSC) in 2016.") \
        >= {"OSCE", "European Migrant Smuggling Centre", "EMSC", "2016"}
    assert "The" not in named_entities("The mandates could be reviewed.")


@pytest.mark.parametrize("report_path", _report_params())
def test_every_named_entity_in_titles_summaries_and_context_is_in_the_report(report_path: Path) -> None:
    report = squash(report_path.read_text(encoding="utf-8"))
    folded = report.casefold()
    k = kb()
    texts = [k.context.working_group, k.context.special_session]
    texts += [t for r in k.recommendations for t in (r.title, r.summary)]
    missing = {}
    for text in texts:
        for entity in named_entities(text):
            if entity.casefold() not in folded:
                missing.setdefault(text[:60], []).append(entity)
    assert not missing, missing


def test_summaries_are_no_stronger_than_the_report() -> None:
    k = kb()
    hedged = {"S2": "could be a unifying factor", "L2": "could address", "L8": "best antidotes",
              "L9": "among the triggers"}
    for rec_id, words in hedged.items():
        rec = k.get(rec_id)
        assert rec is not None and words in rec.summary, (rec_id, rec.summary if rec else None)
    assert "In their concluding remarks, the OSCE Secretary General and the Chairperson" \
        in k.context.working_group
