"""Alembic, driven from code: upgrade on start, downgrade in tests, the revision in force."""
from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    """An Alembic config pointing at the project's migrations and the given database."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to a revision."""
    command.upgrade(alembic_config(url), revision)


def bring_up_to_date(engine: Engine, url: str) -> None:
    """Upgrade to the newest revision unless the database is there already (every start but the
    first): reading its revision costs a query, a run of Alembic tens of milliseconds."""
    if current(engine) != head():
        upgrade(url)


def downgrade(url: str, revision: str = "base") -> None:
    """Revert migrations down to a revision."""
    command.downgrade(alembic_config(url), revision)


@functools.cache
def head() -> str | None:
    """The newest revision in the migrations folder (read once per process)."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current(engine: Engine) -> str | None:
    """The revision the database is at."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
