"""commitment tallies: how many commitments per (recommendation | owner | deadline day |
completion day, status), kept by triggers on commitments in the same transaction as every write

Revision ID: 0006_commitment_tallies
Revises: 0005_audit_at_commitment
Create Date: 2026-12-06 04:00:00

Every INSERT, DELETE and UPDATE of status, rec_id, owner_id, due_at or completed_at on
commitments adjusts the tallies in the same statement's transaction, whatever wrote it (the
services, a bulk insert, a console UPDATE). Dimensions and buckets:

* 'rec':   the first recommendation (rec_id), '' for none
* 'owner': the lead owner (owner_id)
* 'due':   the UTC day of the deadline, 'YYYY-MM-DD'
* 'done':  the UTC day of completed_at, 'YYYY-MM-DD' (only when set)

A later migration that rebuilds commitments in SQLite (batch_alter_table copies the table)
drops these triggers: it must create them again (`create_triggers` here shows how);
tests/store/test_migrations.py fails when they are missing at head.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_commitment_tallies'
down_revision: str | None = '0005_audit_at_commitment'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = "status, rec_id, owner_id, due_at, completed_at"
UPSERT = ("ON CONFLICT (dimension, bucket, status) DO UPDATE "
          "SET n = commitment_tallies.n + excluded.n")


def _day(dialect: str, column: str) -> str:
    return f"date({column})" if dialect == "sqlite" else f"to_char({column}, 'YYYY-MM-DD')"


def _rows(dialect: str, row: str, delta: int) -> str:
    """INSERT … SELECT of a row's four tallies (three without completed_at), adding delta."""
    return (f"INSERT INTO commitment_tallies (dimension, bucket, status, n) "
            f"SELECT dimension, bucket, status, {delta} FROM ("
            f"SELECT 'rec' AS dimension, coalesce({row}.rec_id, '') AS bucket, {row}.status AS status "
            f"UNION ALL SELECT 'owner', {row}.owner_id, {row}.status "
            f"UNION ALL SELECT 'due', {_day(dialect, f'{row}.due_at')}, {row}.status "
            f"UNION ALL SELECT 'done', {_day(dialect, f'{row}.completed_at')}, {row}.status"
            f") AS t WHERE bucket IS NOT NULL {UPSERT}")


def create_triggers(dialect: str) -> None:
    """The triggers that keep commitment_tallies in step with commitments."""
    if dialect == "sqlite":
        op.execute(f"CREATE TRIGGER commitment_tallies_insert AFTER INSERT ON commitments "
                   f"BEGIN {_rows(dialect, 'NEW', 1)}; END")
        op.execute(f"CREATE TRIGGER commitment_tallies_delete AFTER DELETE ON commitments "
                   f"BEGIN {_rows(dialect, 'OLD', -1)}; END")
        op.execute(f"CREATE TRIGGER commitment_tallies_update AFTER UPDATE OF {WATCHED} "
                   f"ON commitments BEGIN {_rows(dialect, 'OLD', -1)}; "
                   f"{_rows(dialect, 'NEW', 1)}; END")
        return
    op.execute(f"""CREATE FUNCTION commitment_tallies_apply() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_rows(dialect, 'OLD', -1)};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {_rows(dialect, 'NEW', 1)};
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql""")
    op.execute(f"CREATE TRIGGER commitment_tallies AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} "
               f"ON commitments FOR EACH ROW EXECUTE FUNCTION commitment_tallies_apply()")


def drop_triggers(dialect: str) -> None:
    """Remove what create_triggers made."""
    if dialect == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS commitment_tallies_{name}")
        return
    op.execute("DROP TRIGGER IF EXISTS commitment_tallies ON commitments")
    op.execute("DROP FUNCTION IF EXISTS commitment_tallies_apply()")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table('commitment_tallies',
                    sa.Column('dimension', sa.String(length=8), nullable=False),
                    sa.Column('bucket', sa.String(length=32), nullable=False),
                    sa.Column('status', sa.String(length=16), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('dimension', 'bucket', 'status',
                                            name=op.f('pk_commitment_tallies')),
                    sqlite_with_rowid=False)
    for dimension, bucket in (("rec", "coalesce(rec_id, '')"), ("owner", "owner_id"),
                              ("due", _day(dialect, "due_at")),
                              ("done", _day(dialect, "completed_at"))):
        op.execute(f"INSERT INTO commitment_tallies (dimension, bucket, status, n) "
                   f"SELECT '{dimension}', {bucket}, status, count(*) FROM commitments "
                   f"WHERE {bucket} IS NOT NULL GROUP BY {bucket}, status")
    create_triggers(dialect)


def downgrade() -> None:
    drop_triggers(op.get_bind().dialect.name)
    op.drop_table('commitment_tallies')
