"""Alembic environment: the URL comes from the caller (core/migrate.py) or the CITYOPS settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from cityops.core.db import create_db_engine
from cityops.core.settings import get_settings
from cityops.model_registry import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().effective_database_url
    engine = create_db_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `cityops db upgrade`.")
run_migrations_online()
