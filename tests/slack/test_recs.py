"""/wg recs and help through signed HTTP against the real `wgbot serve`; signatures; health; errors."""
from __future__ import annotations

import json
import re
import sqlite3
import time
from typing import Any

import pytest
import requests

from tests.conftest import MEMBER
from tests.slack_fake.process import BotProcess
from tests.slack_fake.server import FakeSlack, validate_blocks


def _reply(resp: requests.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert validate_blocks(body.get("blocks", []), max_blocks=50) == []
    assert len(json.dumps(body["blocks"])) < 12000
    return body


def _text(body: dict[str, Any]) -> str:
    out = []
    for b in body.get("blocks", []):
        for key in ("text",):
            if isinstance(b.get(key), dict):
                out.append(b[key]["text"])
        for f in b.get("fields", []) or []:
            out.append(f["text"])
        for e in b.get("elements", []) or []:
            if isinstance(e, dict) and "text" in e:
                t = e["text"]
                out.append(t["text"] if isinstance(t, dict) else t)
    return "\n".join(out)


def test_healthz(bot: BotProcess) -> None:
    r = requests.get(bot.url + "/healthz", timeout=5)
    assert r.status_code == 200
    assert r.json()["ok"] is True and r.json()["database"] == "ok"


def test_every_recs_form(bot: BotProcess) -> None:
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


def test_share_button_posts_visibly(bot: BotProcess, fake: FakeSlack) -> None:
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
def test_unknown_input_gets_a_helpful_reply(bot: BotProcess, text: str, fragment: str) -> None:
    body = _reply(bot.client.command(text))
    assert fragment in _text(body)


def test_bad_signature_and_stale_timestamp_are_refused(bot: BotProcess) -> None:
    c = bot.client
    assert c.command("recs", bad_signature=True).status_code == 401
    assert c.command("recs", age=6 * 60).status_code == 401
    assert c.command("recs", age=4 * 60).status_code == 200


def test_event_retry_does_not_repeat_side_effect(bot: BotProcess, fake: FakeSlack) -> None:
    c = bot.client
    event = {"type": "app_home_opened", "user": MEMBER, "channel": "D0X", "tab": "home",
             "event_ts": f"{time.time():.6f}"}
    assert c.event(event, event_id="Ev0TEST1").status_code == 200
    fake.wait_for("views.publish")
    assert c.event(event, event_id="Ev0TEST1", retry_num=1, retry_reason="http_timeout") \
        .status_code == 200
    fake.settle(quiet=0.5)
    assert len(fake.calls("views.publish")) == 1


def test_handler_failure_is_an_apology_with_reference(bot: BotProcess) -> None:
    db = bot.env["DATABASE_URL"].split("///", 1)[1]
    with sqlite3.connect(db) as conn:  # break the database under the running bot
        conn.execute("ALTER TABLE commitments RENAME TO commitments_gone")
    body = _reply(bot.client.command("list all"))
    text = _text(body)
    assert "Sorry" in text
    ref = re.search(r"reference \*?([0-9a-f]{8})", text)
    assert ref, text
    log = bot.wait_for_log(f"ref={ref.group(1)}")
    assert "Traceback" in log.split(f"ref={ref.group(1)}", 1)[1][:4000]
