"""The core with a FixedClock on a real database (SQLite, and PostgreSQL when given)."""
from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import datetime, UTC
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.app import Core, build_core
from bot.clock import FixedClock
from bot.config.live import LiveConfig
from bot.console.adapters import ConsoleDirectory, ConsoleNotifier
from bot.settings import Settings

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday, 11:00 in Vienna


@pytest.fixture
def make_core(config_dir: Path, tmp_path: Path, database_url: str, engine: Engine
              ) -> Iterator[Callable[[], Core]]:
    """Cores on one database: the first on the worker's engine, each further one on an engine
    of its own, like separate worker processes."""
    made: list[Core] = []
    clock = FixedClock(NOW)

    def make() -> Core:
        settings = Settings.from_env({"DATABASE_URL": database_url,
                                      "WGBOT_CONFIG_DIR": str(config_dir)})
        c = build_core(settings, clock=clock,
                       notifier=ConsoleNotifier(io.StringIO(), files_dir=tmp_path / "files"),
                       directory=ConsoleDirectory(), config=LiveConfig(config_dir, clock),
                       engine=None if made else engine, upgrade=False)
        made.append(c)
        return c

    yield make
    for c in made[1:]:
        c.close()


@pytest.fixture
def core(make_core: Callable[[], Core]) -> Core:
    """One core."""
    return make_core()
