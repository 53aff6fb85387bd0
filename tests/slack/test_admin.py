"""Admin commands over signed requests dispatched to the Bolt app in process: a digest on demand,
the outbox status and the config in force."""
from __future__ import annotations

import json

from tests.conftest import ADMIN, COORDINATOR, MEMBER
from tests.slack_fake.client import reply_body as _reply
from tests.slack_fake.client import reply_text as _text
from tests.slack_fake.inprocess import InProcessBot
from tests.slack_fake.server import FakeSlack


def test_admin_digest_now_and_status(inproc: InProcessBot, fake: FakeSlack) -> None:
    bot = inproc
    _reply(bot.client.command("commit Draft guidelines by 2030-06-28 for L6"))
    refused = _text(_reply(bot.client.command("admin digest now", user_id=MEMBER)))
    assert "Only admins" in refused
    sent = _text(_reply(bot.client.command("admin digest now", user_id=ADMIN)))
    assert f"Digest sent to <@{COORDINATOR}>" in sent
    dm = fake.wait_for("chat.postMessage",
                       predicate=lambda c: c.params.get("channel") == COORDINATOR)[-1]
    blob = json.dumps(dm.params["blocks"], ensure_ascii=False)
    assert "Progress per recommendation" in blob and "Draft guidelines" in blob
    status = _text(_reply(bot.client.command("admin status", user_id=ADMIN)))
    assert "1 sent" in status and "Config* — OK" in status
    config = _text(_reply(bot.client.command("admin config", user_id=ADMIN)))
    assert "16 recommendations" in config
