"""In-process Slack fixtures: the Bolt app with the fake Web API, a real SQLite database and a
clock fixed on a working-day morning (outside quiet hours)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FixedClock
from tests.slack_fake.inprocess import InProcessBot
from tests.slack_fake.server import FakeSlack

# Tuesday 1 Dec 2026, 11:00 in Vienna: before the session (4 Mar 2027), outside quiet hours.
MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    """The injected clock."""
    return FixedClock(MORNING)


@pytest.fixture
def inproc(fake: FakeSlack, config_dir: Path, tmp_path: Path, clock: FixedClock
           ) -> Iterator[InProcessBot]:
    """The bot's Bolt app in this process, on SQLite."""
    with InProcessBot(fake=fake, config_dir=config_dir, clock=clock,
                      database_url=f"sqlite:///{tmp_path / 'wgbot.db'}") as bot:
        yield bot
