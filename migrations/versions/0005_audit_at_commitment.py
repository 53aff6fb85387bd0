"""digest counts from covering indexes: audit entries by time with their commitment (the
"changed since" set), commitments by status and deadline with owner and recommendation (overdue
per owner and per recommendation)

Revision ID: 0005_audit_at_commitment
Revises: 0004_delegations
Create Date: 2026-11-30 07:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0005_audit_at_commitment'
down_revision: str | None = '0004_delegations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_at_commitment', ['at', 'commitment_id'],
                              unique=False)
        batch_op.drop_index('ix_audit_entries_at')
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.create_index('ix_commitments_status_due_owner_rec',
                              ['status', 'due_at', 'owner_id', 'rec_id'], unique=False)
        batch_op.drop_index('ix_commitments_status_due')


def downgrade() -> None:
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.create_index('ix_commitments_status_due', ['status', 'due_at'], unique=False)
        batch_op.drop_index('ix_commitments_status_due_owner_rec')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_at', ['at'], unique=False)
        batch_op.drop_index('ix_audit_entries_at_commitment')
