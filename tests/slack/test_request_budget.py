"""A request's lock budget ends with the request: work done later on the same thread (a sweep, a
follow-up, the next test) waits for locks as long as usual."""
from __future__ import annotations

from bot.store.db import lock_wait_ms
from tests.slack_fake.inprocess import InProcessBot


def test_the_budget_does_not_outlive_the_request(inproc: InProcessBot) -> None:
    assert lock_wait_ms() is None
    assert inproc.client.command("recs short").status_code == 200
    assert inproc.client.command("commit Paper by 2026-12-20").status_code == 200
    assert lock_wait_ms() is None  # before the fix: 0 ms, so every later unit failed at once
