"""/wg recs and help over signed requests dispatched to the Bolt app in process; signatures;
event retries; a failing handler's apology."""
from __future__ import annotations

import json
import logging
import re
import sqlite3
import time

import pytest

from tests.conftest import MEMBER
from tests.slack_fake.client import reply_body as _reply
from tests.slack_fake.client import reply_text as _text
from tests.slack_fake.inprocess import InProcessBot
from tests.slack_fake.server import FakeSlack


@pytest.fixture
def bot(inproc: InProcessBot) -> InProcessBot:
    """Here the bot is the Bolt app in this process (the process is not the subject)."""
    return inproc


def test_every_recs_form(bot: InProcessBot) -> None:
    c = bot.client
    overview = _reply(c.command("recs"))
    assert overview["response_type"] == "ephemeral"
    assert "S6" in _text(overview) and "L10" in _text(overview)
    short = _text(_reply(c.command("recs short")))
    assert all(f"S{i}" in short for i in range(1, 7)) and "L1 " not in short
    long = _text(_reply(c.command("recs long")))
    assert all(f"L{i}" in long for i in range(1, 11))
    areas = _text(_reply(c.command("recs areas")))
    assert "first asylum" in areas and "border management" in areas.lower()
    s3 = _text(_reply(c.command("recs s3")))
    assert "protection and human rights sensitive" in s3  # the report's own words
    l7 = _text(_reply(c.command("recs L7")))
    assert "resilience against intolerance" in l7
    found = _reply(c.command("recs search europol smuggling"))
    assert re.search(r"\*S6\*", _text(found))


def test_share_button_posts_visibly(bot: InProcessBot, fake: FakeSlack) -> None:
    c = bot.client
    body = _reply(c.command("recs S3"))
    r = c.block_action("wg_share", blocks=body["blocks"])
    assert r.status_code == 200
    posted = fake.wait_for("response_url", predicate=lambda call: call.params.get(
        "response_type") == "in_channel")
    assert "S3" in json.dumps(posted[-1].params["blocks"])


@pytest.mark.parametrize("text,fragment", [
    ("recs S9", "There is no recommendation *S9*"),
    ("recs search zebra giraffe", "No recommendation mentions"),
    ("frobnicate", "/wg help"),
    ("", "commit"),
    ("commit <!channel> by never", "couldn"),
])
def test_unknown_input_gets_a_helpful_reply(bot: InProcessBot, text: str, fragment: str) -> None:
    body = _reply(bot.client.command(text))
    assert fragment in _text(body)


def test_bad_signature_and_stale_timestamp_are_refused(bot: InProcessBot) -> None:
    c = bot.client
    assert c.command("recs", bad_signature=True).status_code == 401
    assert c.command("recs", age=6 * 60).status_code == 401
    assert c.command("recs", age=4 * 60).status_code == 200


def test_event_retry_does_not_repeat_side_effect(bot: InProcessBot, fake: FakeSlack) -> None:
    c = bot.client
    event = {"type": "app_home_opened", "user": MEMBER, "channel": "D0X", "tab": "home",
             "event_ts": f"{time.time():.6f}"}
    assert c.event(event, event_id="Ev0TEST1").status_code == 200
    fake.wait_for("views.publish")
    assert c.event(event, event_id="Ev0TEST1", retry_num=1, retry_reason="http_timeout") \
        .status_code == 200
    fake.settle(quiet=0.5)
    assert len(fake.calls("views.publish")) == 1


def test_handler_failure_is_an_apology_with_reference(bot: InProcessBot,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    db = bot.core.settings.database_url.split("///", 1)[1]
    with sqlite3.connect(db) as conn:  # break the database under the running bot
        conn.execute("ALTER TABLE commitments RENAME TO commitments_gone")
    with caplog.at_level(logging.ERROR):
        body = _reply(bot.client.command("list all"))
    text = _text(body)
    assert "Sorry" in text
    ref = re.search(r"reference \*?([0-9a-f]{8})", text)
    assert ref, text
    logged = [r for r in caplog.records if f"ref={ref.group(1)}" in r.getMessage()]
    assert logged and logged[0].exc_info, caplog.text  # the traceback goes to the log
