"""Alembic environment: URL from the settings (or the caller), metadata from the models."""
from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import pool

from bot.settings import Settings
from bot.store.db import make_engine, normalise_url
from bot.store.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return normalise_url(config.attributes.get("url") or Settings.from_env().database_url)


def _skip_empty(context_: object, revision: object, directives: list) -> None:  # type: ignore[type-arg]
    """Do not write a revision file when autogenerate finds nothing."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives and \
            directives[0].upgrade_ops.is_empty():
        directives[:] = []


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Today's column types written as plain SQLAlchemy ones: a revision never imports the models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, process_revision_directives=_skip_empty,
                      render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, process_revision_directives=_skip_empty,
                          render_item=_render_item)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True,
                          process_revision_directives=_skip_empty, render_item=_render_item)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
