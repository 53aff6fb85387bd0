"""Admins edit the YAML while `wgbot serve` runs: a valid edit reaches the workers and the clock,
and a broken edit never takes the bot down. One running bot, the admin's edits in sequence: each
start of the server costs two processes, and the steps are what an admin does in a row anyway."""
from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

from tests.config.test_config import billion_laughs
from tests.conftest import ADMIN, MEMBER, edit_settings
from tests.slack_fake.client import reply_body as _reply
from tests.slack_fake.client import reply_text as _text
from tests.slack_fake.process import BotProcess
from tests.slack_fake.server import Call, FakeSlack
from tests.slack_fake.travel import Travel

TOKEN = "xoxb-2718281828-3141592653-QwErTyUiOpAsDf"
NOTICE_INTERVAL = timedelta(minutes=1)  # LiveConfig: the admins hear at most once a minute
SETTLE = timedelta(seconds=2)  # LiveConfig: an edit is judged once it has not changed for this


def _saved(travel: Travel) -> None:
    """The admin has saved and stops typing: the edit settles (time moves on instead of waiting)."""
    travel.forward(SETTLE)


def _admin_dm(fake: FakeSlack, containing: str, step: str) -> Call:
    """The DM to the admin whose blocks contain `containing` (waits for it)."""
    try:
        return fake.wait_for("chat.postMessage", timeout=30, predicate=lambda c: c.params.get(
            "channel") == ADMIN and containing in json.dumps(c.params.get("blocks")))[-1]
    except AssertionError as e:
        raise AssertionError(f"{step}: no DM to the admin containing {containing!r}\n{e}") from None


def test_an_admin_edits_the_config_of_a_running_bot(fake: FakeSlack, config_dir: Path,
                                                    tmp_path: Path, _migrated_sqlite: Path) -> None:
    """1. a valid edit moving the session: the clock announces it, the workers answer with it;
    2. a broken edit (an unknown key): the admin is told where, the bot keeps answering on the
       last good config, an admin's reload says the same and a member may not reload;
    3. a bot token pasted where a channel id belongs: refused and shown nowhere (the admin's DM,
       the reload's answer, the effective config, the log);
    4. an alias bomb: refused, located, and nobody waits for it."""
    edit_settings(config_dir, {"scheduler": {"poll_seconds": 1}, "quiet_hours": None})
    settings = config_dir / "settings.yaml"
    travel = Travel(tmp_path / "clock-offset")
    with BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "p", env=travel.env,
                    template=_migrated_sqlite) as bot:
        bot.wait_for_log("wgbot clock running", timeout=20)  # the scheduler has read the config
        c = bot.client

        # 1. a valid edit moving the session
        edit_settings(config_dir, {"session": {"starts_at": "2027-03-11T10:00"}})
        _saved(travel)
        text = _admin_dm(fake, "session moved", "1. valid edit").params["text"]
        assert "session moved" in text and "11 Mar 2027" in text, text
        # A worker answers from the config in force and checks for edits beside the request,
        # so the edit shows from the next answers on.
        answers = []
        for _ in range(200):
            answers.append(_text(_reply(c.command("session"))))
            if "Thu 11 Mar 2027, 10:00" in answers[-1]:
                break
            time.sleep(0.05)
        assert "Thu 11 Mar 2027, 10:00" in answers[-1], f"1. the worker kept {answers[-1]!r}"
        assert all("Thu 4 Mar 2027" in a for a in answers[:-1]), "1. something in between"
        good = settings.read_text()

        # 2. a broken edit: an unknown key
        settings.write_text(good.replace("poll_seconds: 1", "poll_seconds: 1\n  bogus: 7 days"))
        _saved(travel)
        blob = json.dumps(_admin_dm(fake, "bogus", "2. broken edit").params["blocks"])
        assert "settings.yaml:" in blob, blob
        assert "S6" in _text(_reply(c.command("recs short"))), "2. the bot stopped answering"
        reloaded = _text(_reply(c.command("admin reload", user_id=ADMIN)))
        assert "kept the last good one" in reloaded and "bogus" in reloaded, reloaded
        refused = _text(_reply(c.command("admin reload", user_id=MEMBER)))
        assert "Only admins can use `/wg admin reload`" in refused, refused
        assert "Thu 11 Mar 2027, 10:00" in _text(_reply(c.command("session"))), \
            "2. the last good config is not the one in force"

        # 3. a token pasted where a channel id belongs (a new problem: the admin may hear of it
        # once a minute has passed since the last notice)
        travel.forward(NOTICE_INTERVAL)
        settings.write_text(good.replace("working_group: C0WGMIGRATE", f"working_group: {TOKEN}"))
        reloaded = _text(_reply(c.command("admin reload", user_id=ADMIN)))
        assert "is not a Slack channel id" in reloaded and "xoxb-[hidden]" in reloaded, reloaded
        _admin_dm(fake, "channel id", "3. pasted token")
        effective = _text(_reply(c.command("admin config", user_id=ADMIN)))
        assert "Effective config" in effective, effective
        posted = json.dumps([call.params for call in fake.calls()])
        assert TOKEN not in posted and TOKEN not in reloaded and TOKEN not in effective
        assert "channel id" in bot.log_text() and TOKEN not in bot.log_text()

        # 4. 1.3 KB that would expand to 9**9 strings: refused, located, nobody waits for it
        settings.write_text(billion_laughs(9) + good)
        reloaded = _text(_reply(c.command("admin reload", user_id=ADMIN)))
        assert "kept the last good one" in reloaded, reloaded
        assert "settings.yaml:4:" in reloaded and "aliases" in reloaded, reloaded
        assert "S6" in _text(_reply(c.command("recs short"))), "4. the bot stopped answering"
        assert bot.running
