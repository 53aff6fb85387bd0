"""The models against a migrated database, as Alembic's autogenerate sees them."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from bot.store.models import Base


def differences(engine: Engine) -> list[object]:
    """What autogenerate would change: empty when the models and the database agree."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"render_as_batch": True})
        return list(compare_metadata(ctx, Base.metadata))
