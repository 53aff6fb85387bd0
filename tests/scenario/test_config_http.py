"""Admins edit the YAML while `wgbot serve` runs: a broken edit never takes the bot down."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ADMIN, MEMBER, edit_settings
from tests.scenario.test_recs_http import _reply, _text
from tests.slack_fake.process import BotProcess
from tests.slack_fake.server import FakeSlack


def _fast_polling(config_dir: Path) -> None:
    edit_settings(config_dir, {"scheduler": {"poll_seconds": 1}, "quiet_hours": None})


def test_broken_edit_keeps_last_good_config(fake: FakeSlack, config_dir: Path,
                                            tmp_path: Path) -> None:
    _fast_polling(config_dir)
    with BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "p") as bot:
        bot.wait_for_log("wgbot clock running", timeout=20)
        settings = config_dir / "settings.yaml"
        settings.write_text(settings.read_text().replace("poll_seconds: 1",
                                                         "poll_seconds: 1\n  bogus: 7 days"))
        dm = fake.wait_for("chat.postMessage", timeout=20,
                           predicate=lambda c: c.params.get("channel") == ADMIN)
        blob = json.dumps(dm[-1].params["blocks"])
        assert "settings.yaml:" in blob and "bogus" in blob
        # the bot keeps answering
        assert "S6" in _text(_reply(bot.client.command("recs short")))
        # an admin's reload reports the same located problem; a member is refused
        reloaded = _text(_reply(bot.client.command("admin reload", user_id=ADMIN)))
        assert "kept the last good one" in reloaded and "bogus" in reloaded
        refused = _text(_reply(bot.client.command("admin reload", user_id=MEMBER)))
        assert "Only admins can use `/wg admin reload`" in refused
        assert bot.running


def test_valid_edit_moving_the_session_is_announced(fake: FakeSlack, config_dir: Path,
                                                    tmp_path: Path) -> None:
    _fast_polling(config_dir)
    with BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "p") as bot:
        bot.wait_for_log("wgbot clock running", timeout=20)  # the scheduler has read the config
        edit_settings(config_dir, {"session": {"starts_at": "2027-03-11T10:00"}})
        dm = fake.wait_for("chat.postMessage", timeout=20,
                           predicate=lambda c: c.params.get("channel") == ADMIN)
        text = dm[-1].params["text"]
        assert "session moved" in text and "11 Mar 2027" in text
        out = _text(_reply(bot.client.command("session")))
        assert "Thu 11 Mar 2027, 10:00" in out
