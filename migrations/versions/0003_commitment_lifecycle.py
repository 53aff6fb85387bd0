"""commitments with several owners and several recommendations

Revision ID: 0003_commitment_lifecycle
Revises: 0002_schema
Create Date: 2026-11-30 05:40:00

Existing commitments keep their owner and recommendation: each becomes the first row of the new
tables. Written without importing the models, so it keeps working when they change.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_commitment_lifecycle"
down_revision: str | None = "0002_schema"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commitment_owners",
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["commitment_id"], ["commitments.id"], ondelete="CASCADE",
                                name=op.f("fk_commitment_owners_commitment_id_commitments")),
        sa.PrimaryKeyConstraint("commitment_id", "member_id", name=op.f("pk_commitment_owners")),
    )
    with op.batch_alter_table("commitment_owners") as batch_op:
        batch_op.create_index("ix_commitment_owners_member", ["member_id", "commitment_id"])
    op.create_table(
        "commitment_links",
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("rec_id", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["commitment_id"], ["commitments.id"], ondelete="CASCADE",
                                name=op.f("fk_commitment_links_commitment_id_commitments")),
        sa.PrimaryKeyConstraint("commitment_id", "rec_id", name=op.f("pk_commitment_links")),
    )
    with op.batch_alter_table("commitment_links") as batch_op:
        batch_op.create_index("ix_commitment_links_rec", ["rec_id", "commitment_id"])
    op.execute("INSERT INTO commitment_owners (commitment_id, member_id, position) "
               "SELECT id, owner_id, 0 FROM commitments")
    op.execute("INSERT INTO commitment_links (commitment_id, rec_id, position) "
               "SELECT id, rec_id, 0 FROM commitments WHERE rec_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("commitment_links") as batch_op:
        batch_op.drop_index("ix_commitment_links_rec")
    op.drop_table("commitment_links")
    with op.batch_alter_table("commitment_owners") as batch_op:
        batch_op.drop_index("ix_commitment_owners_member")
    op.drop_table("commitment_owners")
