"""`/wg recs search` answers from the whole report: recommendations first, then passages with their
place and the matched words in bold (the report's text escaped), and a corrected typo said so."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from bot.config.load import load_config
from bot.config.knowledge import KnowledgeBase
from bot.domain.reply import Mrkdwn, Reply, Section
from bot.replies import recs
from bot.slack import render
from tests.slack.test_escaping import HOSTILE, assert_safe
from tests.slack_fake.server import validate_blocks

REPO = Path(__file__).resolve().parents[2]


@cache
def kb() -> KnowledgeBase:
    return load_config(REPO / "config", now=datetime(2026, 11, 30, tzinfo=UTC)).config.knowledge


def slack(reply: Reply) -> str:
    message = render.message(reply, share="recs search x")
    assert validate_blocks(message["blocks"], max_blocks=50) == []
    return "\n".join(json.dumps(b, ensure_ascii=False) for b in message["blocks"])


def sections(reply: Reply) -> list[str]:
    return [str(p.text) for p in reply.parts if isinstance(p, Section)]


@pytest.mark.parametrize("words,place,bold", [
    ("refugees", "Engaging Societies and Communities, paragraph 2", "*refugees*"),
    ("education", "The Way Forward, paragraph 3", "*education*"),
    ("resettlement", "Security Approaches and Tools of Migration Management, paragraph 2",
     "*resettlement*"),
    ("1325", "Engaging Societies and Communities, paragraph 2", "*1325*"),
])
def test_words_only_the_prose_uses_are_found_with_their_place_in_bold(
        words: str, place: str, bold: str) -> None:
    reply = recs.search(kb(), words)
    passages = [t for t in sections(reply) if t.startswith("_") and ", paragraph " in t]
    assert any(t.startswith(f"_{place}_\n") for t in passages), passages
    assert 1 <= len(passages) <= 3
    assert any(bold in t for t in passages)
    assert "No recommendation mentions" not in reply.text
    assert bold in slack(reply)
    assert reply.shareable


def test_a_typo_is_corrected_and_said_so() -> None:
    reply = recs.search(kb(), "Meditteranean")
    texts = sections(reply)
    assert texts[0] == "Showing results for *mediterranean*"
    assert texts[1].startswith("*S2*")  # the recommendation before any passage
    assert any("*Mediterranean*" in t for t in texts[2:])
    assert "Showing results for *mediterranean*" in slack(reply)


def test_recommendations_come_before_passages() -> None:
    texts = sections(recs.search(kb(), "youth"))
    first_passage = next(i for i, t in enumerate(texts) if t.startswith("*In the report*"))
    assert texts[0].startswith("*L9*")
    assert all(not t.startswith("_") for t in texts[:first_passage])


def test_only_the_matched_words_are_markup_the_rest_is_escaped() -> None:
    shown = recs.bolded("Rights <!channel> & refugees' needs; refugees-led, refugees.",
                        ("refugees", "<!channel>"))
    assert isinstance(shown, Mrkdwn)
    assert "*&lt;!channel&gt;*" in shown and "&amp;" in shown
    assert shown.endswith("*refugees*.")
    assert "refugees' needs" in shown and "refugees-led" in shown  # not a whole word there


def test_hostile_words_are_echoed_escaped() -> None:
    for words in (f"youth {HOSTILE}", f"Meditteranean {HOSTILE}", "qqqqzzzz <!channel>"):
        message = render.message(recs.search(kb(), words))
        assert_safe(message)


def test_nothing_found_is_said_plainly() -> None:
    reply = recs.search(kb(), "qqqqzzzz")
    assert "No recommendation mentions *qqqqzzzz*, and no passage of the report" in reply.text
