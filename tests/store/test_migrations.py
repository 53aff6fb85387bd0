"""Migrations: the models and the migration head agree; upgrade → downgrade → upgrade works;
SQLite gets WAL, foreign keys and a busy timeout; PostgreSQL URL forms are accepted."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.store import migrate
from bot.store.db import make_engine, normalise_url
from tests.support.console import in_process
from tests.support.schema import differences

pytestmark = pytest.mark.empty_database  # each test starts before the first migration


def test_models_match_migration_head(database_url: str) -> None:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        assert differences(engine) == []
        assert migrate.current(engine) == migrate.head()
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    migrate.upgrade(database_url)
    migrate.downgrade(database_url, "base")
    engine = make_engine(database_url)
    try:
        assert "commitments" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        assert {"commitments", "deliveries", "audit_entries", "members"} <= \
            set(inspect(engine).get_table_names())
        assert differences(engine) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("start_at", [None, "0005_audit_at_commitment", "head"])
def test_a_start_brings_the_database_to_the_newest_revision(tmp_path: Path,
                                                            start_at: str | None) -> None:
    from bot.app import open_database
    from bot.settings import Settings

    url = f"sqlite:///{tmp_path / 'start.db'}"
    if start_at:
        migrate.upgrade(url, start_at)
    engine = open_database(Settings.from_env({"DATABASE_URL": url}))
    try:
        assert migrate.current(engine) == migrate.head()
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_the_head_and_the_revision_in_force_are_alembics(database_url: str) -> None:
    """A start reads both without Alembic: the head from the revision files, the revision in
    force from its table. Alembic reads the same at every step."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    alembics_head = ScriptDirectory.from_config(migrate.alembic_config("")).get_current_head()
    assert migrate.head_in_files() == migrate.head() == alembics_head is not None
    engine = make_engine(database_url)
    try:
        for revision in (None, "0002_schema", "head"):
            if revision:
                migrate.upgrade(database_url, revision)
            with engine.connect() as conn:
                in_force = MigrationContext.configure(conn).get_current_revision()
            assert migrate.current(engine) == in_force
            assert in_force == {None: None, "head": alembics_head}.get(revision, revision)
    finally:
        engine.dispose()


def test_cli_db_upgrade(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    env = {"DATABASE_URL": database_url, "PATH": ""}
    out = subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=env,
                         capture_output=True, text=True, check=True)
    assert "database is at" in out.stdout
    current = in_process(["db", "current"], env={"DATABASE_URL": database_url}, cwd=tmp_path,
                         monkeypatch=monkeypatch, capsys=capsys)
    assert current.returncode == 0 and current.stdout.strip() == migrate.head()


def test_sqlite_pragmas(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    engine.dispose()


def test_postgres_url_forms() -> None:
    assert normalise_url("postgres://u:p@h:5432/db") == "postgresql+psycopg://u:p@h:5432/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_commitments_keep_their_owner_and_recommendation_through_0003(database_url: str) -> None:
    """A database created by the 0002 schema, with commitments, upgrades without losing them."""
    migrate.upgrade(database_url, "0002_schema")
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO members (id, name, tz, refreshed_at) VALUES "
                              "('U0ANNA', 'Anna', NULL, '2026-11-01 10:00:00'), "
                              "('U0MARCO', 'Marco', NULL, '2026-11-01 10:00:00')"))
            for cid, owner, rec in ((1, "U0ANNA", "'S2'"), (2, "U0MARCO", "NULL")):
                conn.execute(text(
                    "INSERT INTO commitments (id, text, owner_id, creator_id, rec_id, due_at, "
                    "due_words, status, created_at, updated_at, completed_at, next_nudge_at, "
                    f"nudges) VALUES ({cid}, 'Paper {cid}', '{owner}', 'U0ANNA', {rec}, "
                    "'2027-01-15 16:00:00', '15 Jan', 'open', '2026-11-01 10:00:00', "
                    "'2026-11-01 10:00:00', NULL, NULL, 0)"))
    finally:
        engine.dispose()
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            owners = conn.execute(text("SELECT commitment_id, member_id, position FROM "
                                       "commitment_owners ORDER BY commitment_id")).all()
            links = conn.execute(text("SELECT commitment_id, rec_id FROM commitment_links")).all()
            texts = conn.execute(text("SELECT text FROM commitments ORDER BY id")).scalars().all()
        assert [tuple(r) for r in owners] == [(1, "U0ANNA", 0), (2, "U0MARCO", 0)]
        assert [tuple(r) for r in links] == [(1, "S2")]
        assert texts == ["Paper 1", "Paper 2"]
    finally:
        engine.dispose()
    migrate.downgrade(database_url, "0002_schema")
    engine = make_engine(database_url)
    try:
        assert "commitment_owners" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_the_tally_triggers_are_there_at_head(database_url: str) -> None:
    """A migration that rebuilds commitments in SQLite (batch mode) drops them: it must make
    them again (see 0006_commitment_tallies)."""
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                names = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                              "AND tbl_name = 'commitments'")))
                assert names == {"commitment_tallies_insert", "commitment_tallies_update",
                                 "commitment_tallies_delete"}
            else:
                names = set(conn.scalars(text("SELECT tgname FROM pg_trigger WHERE tgrelid = "
                                              "'commitments'::regclass AND NOT tgisinternal")))
                assert names == {"commitment_tallies"}
    finally:
        engine.dispose()
