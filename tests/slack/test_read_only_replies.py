"""Read-only answers (`/wg recs …`) are built and rendered once per config in force, and a reload
shows at once: the next answer is built from the new config."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ADMIN
from tests.slack_fake.client import find_action
from tests.slack_fake.inprocess import InProcessBot

S1_TITLE = "A Council decision on the OSCE response to the crisis"


def _blocks(bot: InProcessBot, text: str, user_id: str | None = None) -> list[dict]:
    resp = bot.client.command(text, **({"user_id": user_id} if user_id else {}))
    assert resp.status_code == 200
    return resp.json()["blocks"]


def test_a_reload_shows_in_the_next_recs_answer(inproc: InProcessBot, config_dir: Path) -> None:
    first = _blocks(inproc, "recs short")
    assert _blocks(inproc, "recs short") == first
    assert S1_TITLE in json.dumps(first)
    overview = _blocks(inproc, "recs")
    assert "S1" in json.dumps(overview)

    recs = config_dir / "recommendations.yaml"
    recs.write_text(recs.read_text().replace(f'title: "{S1_TITLE}"',
                                             'title: "A Council decision, as corrected"'))
    reloaded = json.dumps(_blocks(inproc, "admin reload", user_id=ADMIN))
    assert "Reloaded" in reloaded

    after = json.dumps(_blocks(inproc, "recs short"))
    assert "A Council decision, as corrected" in after and S1_TITLE not in after
    assert json.dumps(_blocks(inproc, "recs long")) != after
    assert "as corrected" in json.dumps(_blocks(inproc, "recs S1"))


def test_each_typed_command_gets_its_own_share_button(inproc: InProcessBot) -> None:
    upper = _blocks(inproc, "recs SHORT")
    lower = _blocks(inproc, "recs short")
    assert upper[:-1] == lower[:-1]  # the same answer …
    assert find_action(upper, "wg_share", "recs SHORT") is not None  # … shared as it was typed
    assert find_action(lower, "wg_share", "recs short") is not None
    assert find_action(_blocks(inproc, "recs SHORT"), "wg_share", "recs SHORT") is not None
