"""What benchmarks share: a free loopback port and a fresh, migrated database of their own."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from cityops.core import migrate
from cityops.core.db import create_db_engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(db_url: str | None, data_dir: Path) -> tuple[str, str | None]:
    """(URL, schema to drop afterwards): a new schema on PostgreSQL, or a SQLite file in `data_dir`; migrated."""
    schema = None
    if db_url and db_url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with create_engine(db_url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        db_url = f"{db_url}?options=-csearch_path%3D{schema}"
    url = db_url or f"sqlite:///{data_dir / 'cityops.db'}"
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url, schema


def drop_schema(db_url: str, schema: str | None) -> None:
    if schema:
        with create_engine(db_url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
