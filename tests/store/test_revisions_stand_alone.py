"""Old migrations must keep working when today's models change: no revision imports the bot."""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from alembic import command

from bot.store import migrate
from bot.store.migrate import MIGRATIONS

REVISIONS = sorted((MIGRATIONS / "versions").glob("*.py"))


def _imports(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_there_are_revisions() -> None:
    assert len(REVISIONS) >= 4


@pytest.mark.parametrize("revision", REVISIONS, ids=lambda p: p.stem)
def test_a_revision_imports_nothing_of_the_bot(revision: Path) -> None:
    source = revision.read_text()
    assert {n for n in _imports(source) if n == "bot" or n.startswith("bot.")} == set()
    assert "bot.store" not in source


def test_a_new_revision_is_written_without_the_models(tmp_path: Path) -> None:
    # The baseline alone, so that autogenerate writes every table added after it.
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    for later in (scripts / "versions").glob("*.py"):
        if not later.name.startswith("0001_"):
            later.unlink()
    cfg = migrate.alembic_config(f"sqlite:///{tmp_path / 'r.db'}")
    cfg.set_main_option("script_location", str(scripts))
    command.upgrade(cfg, "head")
    command.revision(cfg, message="everything after the baseline", autogenerate=True,
                     rev_id="9999_check")
    written = next((scripts / "versions").glob("9999_check*.py")).read_text()
    assert "sa.Column('due_at', sa.DateTime(), nullable=False)" in written
    assert {n for n in _imports(written) if n == "bot" or n.startswith("bot.")} == set()
    assert "bot." not in written
