"""Migrations: the models and the migration head agree; upgrade → downgrade → upgrade works;
SQLite gets WAL, foreign keys and a busy timeout; PostgreSQL URL forms are accepted."""
from __future__ import annotations

import subprocess
import sys

from sqlalchemy import inspect, text

from bot.store import migrate
from bot.store.db import make_engine, normalise_url


def test_models_match_migration_head(database_url: str) -> None:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        assert migrate.differences(engine) == []
        assert migrate.current(engine) == migrate.head(database_url)
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
        assert migrate.differences(engine) == []
    finally:
        engine.dispose()


def test_cli_db_upgrade(database_url: str) -> None:
    env = {"DATABASE_URL": database_url, "PATH": ""}
    out = subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=env,
                         capture_output=True, text=True, check=True)
    assert "database is at" in out.stdout
    out = subprocess.run([sys.executable, "-m", "bot", "db", "current"], env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == migrate.head(database_url)


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
