"""The real `wgbot serve` answers GET /healthz over HTTP with the database's state."""
from __future__ import annotations

import requests

from tests.slack_fake.process import BotProcess


def test_healthz(bot: BotProcess) -> None:
    r = requests.get(bot.url + "/healthz", timeout=5)
    assert r.status_code == 200
    assert r.json()["ok"] is True and r.json()["database"] == "ok"
