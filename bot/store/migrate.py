"""Alembic, driven from code: upgrade on start, downgrade in tests, the revision in force.

Alembic (with Mako and Pygments behind it) is imported only to change a schema: the revision in
force is read from its table, and the newest one from the revision files, so a start that finds
the database current (every start but the first) costs one query and no Alembic.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig


MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps

_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=(.*)$", re.MULTILINE)


def alembic_config(url: str) -> AlembicConfig:
    """An Alembic config pointing at the project's migrations and the given database."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to a revision."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def bring_up_to_date(engine: Engine, url: str) -> None:
    """Upgrade to the newest revision unless the database is there already (every start but the
    first): reading its revision costs a query, a run of Alembic tens of milliseconds and
    importing it as much again."""
    if current(engine) != head():
        upgrade(url)


def downgrade(url: str, revision: str = "base") -> None:
    """Revert migrations down to a revision."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def head_in_files() -> str | None:
    """The newest revision, read from the revision files' `revision` and `down_revision` lines:
    the one revision that no other revises. None when the files do not say it that plainly
    (several heads, a line written another way)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.findall(source)
        down = _DOWN_REVISION.findall(source)
        if len(found) != 1 or len(down) != 1:
            return None
        revisions.add(found[0])
        revised.update(re.findall(r"['\"]([^'\"]+)['\"]", down[0]))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 and revised <= revisions else None


@functools.cache
def head() -> str | None:
    """The newest revision in the migrations folder (read once per process); Alembic reads it
    only when the revision files do not say it plainly."""
    found = head_in_files()
    if found is not None:
        return found
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: no schema yet)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        versions = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(versions) > 1:
        raise RuntimeError(f"the database is at several revisions at once: {sorted(versions)}")
    return versions[0] if versions else None
