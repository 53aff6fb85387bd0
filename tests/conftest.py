"""Shared fixtures: a copy of the shipped config, databases (SQLite always, PostgreSQL when given),
the fake Slack Web API, the bot's Bolt app in this process (with a clock fixed on a working-day
morning, outside quiet hours), and the real `wgbot serve` process."""
from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.clock import FixedClock
from tests.slack_fake.inprocess import InProcessBot
from tests.slack_fake.process import BotProcess
from tests.slack_fake.server import FakeSlack

REPO = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("WGBOT_TEST_DATABASE_URL")

ADMIN = "U0ADMIN01"
COORDINATOR = "U0COORD01"
MEMBER = "U0MEMBER1"
OTHER = "U0MEMBER2"
# Tuesday 1 Dec 2026, 11:00 in Vienna: before the session (4 Mar 2027), outside quiet hours.
MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def edit_settings(config_dir: Path, changes: dict[str, Any]) -> None:
    """Rewrite settings.yaml with nested changes applied (comments are not kept)."""
    path = config_dir / "settings.yaml"
    data = yaml.safe_load(path.read_text())

    def merge(into: dict[str, Any], new: dict[str, Any]) -> None:
        for k, v in new.items():
            if isinstance(v, dict) and isinstance(into.get(k), dict):
                merge(into[k], v)
            else:
                into[k] = v

    merge(data, changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped config/ folder."""
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target)
    return target


def _pg_database() -> Iterator[str]:
    import psycopg

    name = f"wgbot_{secrets.token_hex(6)}"
    admin_url = PG_URL.replace("postgresql+psycopg://", "postgresql://")  # type: ignore[union-attr]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database: SQLite always; PostgreSQL when WGBOT_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wgbot.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests need WGBOT_TEST_DATABASE_URL (.ci/run sets it)")
    yield from _pg_database()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database (skipped without WGBOT_TEST_DATABASE_URL)."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests need WGBOT_TEST_DATABASE_URL (.ci/run sets it)")
    yield from _pg_database()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """The fake Slack Web API on 127.0.0.1."""
    with FakeSlack() as f:
        yield f


@pytest.fixture
def bot(fake: FakeSlack, config_dir: Path, tmp_path: Path) -> Iterator[BotProcess]:
    """The real `wgbot serve` on SQLite, talking to the fake Slack."""
    proc = BotProcess(fake=fake, config_dir=config_dir, tmp_dir=tmp_path / "proc")
    proc.start()
    try:
        yield proc
    finally:
        proc.close()


@pytest.fixture
def clock() -> FixedClock:
    """The injected clock."""
    return FixedClock(MORNING)


@pytest.fixture
def inproc(fake: FakeSlack, config_dir: Path, tmp_path: Path, clock: FixedClock
           ) -> Iterator[InProcessBot]:
    """The bot's Bolt app in this process, on SQLite: signed requests, no `wgbot serve`."""
    with InProcessBot(fake=fake, config_dir=config_dir, clock=clock,
                      database_url=f"sqlite:///{tmp_path / 'wgbot.db'}") as bot:
        yield bot
