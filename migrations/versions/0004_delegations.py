"""members' delegation; covering indexes for digest and brief aggregates

Revision ID: 0004_delegations
Revises: 0003_commitment_lifecycle
Create Date: 2026-11-30 05:45:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_delegations'
down_revision: str | None = '0003_commitment_lifecycle'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delegation', sa.String(length=120), nullable=True))
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.create_index('ix_commitments_rec_status_due', ['rec_id', 'status', 'due_at'],
                              unique=False)
        batch_op.create_index('ix_commitments_status_completed', ['status', 'completed_at'],
                              unique=False)
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_action_commitment', ['action', 'commitment_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_action_commitment')
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.drop_index('ix_commitments_status_completed')
        batch_op.drop_index('ix_commitments_rec_status_due')
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column in place (3.35+); a batch rebuild would drop and recreate
        # members, which the commitments' foreign keys refuse while commitments exist.
        op.execute("ALTER TABLE members DROP COLUMN delegation")
    else:
        op.drop_column('members', 'delegation')
