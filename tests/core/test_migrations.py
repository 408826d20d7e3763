"""The migrations build exactly the schema the models declare (both databases): a column, an index or a
table added to a model without its migration, or the other way round, fails here."""

from __future__ import annotations

import uuid
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from cityops.core import migrate
from cityops.core.db import Base, create_db_engine
from tests.conftest import PG_URL, need_server


def _partition(difference: object) -> bool:
    # The raw readings' monthly partitions are made at run time (sensing/partitions.py), not by a model.
    if not isinstance(difference, tuple):
        return False
    found = difference[1]
    name = getattr(found, "name", "") if difference[0].endswith("_table") else getattr(found.table, "name", "")
    return str(name).startswith("readings_")


def _differences(url: str) -> list[object]:
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            found = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    return [d for d in found if not _partition(d)]


def test_the_migrated_sqlite_schema_is_the_models_schema(tmp_path: Path):
    assert _differences(f"sqlite:///{tmp_path / 'cityops.db'}") == []


def test_the_migrated_postgresql_schema_is_the_models_schema():
    need_server("PostgreSQL", 5432)
    schema = f"m_{uuid.uuid4().hex[:12]}"  # its own: other tests add tables of their own to the shared one
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        assert _differences(f"{PG_URL}?options=-csearch_path%3D{schema}") == []
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
