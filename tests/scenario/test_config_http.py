"""Admins edit the YAML while `wgbot serve` runs: a broken edit never takes the bot down."""
from __future__ import annotations

import json
import time
from pathlib import Path

from tests.config.test_config import billion_laughs
from tests.conftest import ADMIN, MEMBER, edit_settings
from tests.slack_fake.client import reply_body as _reply
from tests.slack_fake.client import reply_text as _text
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
        # A worker answers from the config in force and checks for edits beside the request,
        # so the edit shows from the next answers on.
        answers = []
        for _ in range(50):
            answers.append(_text(_reply(bot.client.command("session"))))
            if "Thu 11 Mar 2027, 10:00" in answers[-1]:
                break
            time.sleep(0.2)
        assert "Thu 11 Mar 2027, 10:00" in answers[-1]
        assert all("Thu 4 Mar 2027" in a for a in answers[:-1])  # never anything in between


TOKEN = "xoxb-2718281828-3141592653-QwErTyUiOpAsDf"


def test_an_alias_bomb_and_a_pasted_token_in_a_running_bot(fake: FakeSlack, config_dir: Path,
                                                          tmp_path: Path) -> None:
    _fast_polling(config_dir)
    settings = config_dir / "settings.yaml"
    good = settings.read_text()
    with BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "p") as bot:
        bot.wait_for_log("wgbot clock running", timeout=20)
        # a token pasted where a channel id belongs: refused, and shown nowhere
        settings.write_text(good.replace("working_group: C0WGMIGRATE",
                                         f"working_group: {TOKEN}"))
        reloaded = _text(_reply(bot.client.command("admin reload", user_id=ADMIN)))
        assert "is not a Slack channel id" in reloaded and "xoxb-[hidden]" in reloaded
        fake.wait_for("chat.postMessage", timeout=30,
                      predicate=lambda c: c.params.get("channel") == ADMIN
                      and "channel id" in json.dumps(c.params.get("blocks")))
        effective = _text(_reply(bot.client.command("admin config", user_id=ADMIN)))
        assert "Effective config" in effective
        posted = json.dumps([c.params for c in fake.calls()])
        assert TOKEN not in posted and TOKEN not in reloaded and TOKEN not in effective
        assert "channel id" in bot.log_text() and TOKEN not in bot.log_text()
        # 1.3 KB that would expand to 9**9 strings: refused, located, and nobody waits for it
        settings.write_text(billion_laughs(9) + good)
        reloaded = _text(_reply(bot.client.command("admin reload", user_id=ADMIN)))
        assert "kept the last good one" in reloaded
        assert "settings.yaml:4:" in reloaded and "aliases" in reloaded
        assert "S6" in _text(_reply(bot.client.command("recs short")))
        assert bot.running
