"""Storage: the declarative base, engines for SQLite and PostgreSQL, sessions.

Dialect differences stay in this module: SQLite pragmas, and the timezone handling in UTCDateTime.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware UTC datetime, on SQLite (naive storage) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}  # noqa: RUF012


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    # Reading JSON columns is on hot paths (shared dataset rows, report extras); orjson parses the same JSON
    # several times faster. Writing keeps the json module, whose rules every stored value was written with.
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               json_deserializer=orjson.loads)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # pool_recycle rather than pool_pre_ping: a ping is one more round trip on every request's checkout.
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800,
                         json_deserializer=orjson.loads)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin_immediate) instead of pysqlite's implicit one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Writers (UnitOfWork) take the lock at BEGIN, so two writers queue on busy_timeout instead of one failing
    # with "database is locked" when it upgrades a read lock half-way; readers stay concurrent under WAL.
    mode = "IMMEDIATE" if conn.get_execution_options().get("cityops_writer") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = create_db_engine(url, pool_size=pool_size)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.writer_sessionmaker = sessionmaker(
            self.engine.execution_options(cityops_writer=True), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session; anything written must go through a UnitOfWork instead."""
        session = self.sessionmaker()
        try:
            yield session
        finally:
            # close() rolls back and detaches without expiring, so loaded objects stay readable afterwards.
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def reserve_ids(session: Session, table: Any, count: int) -> list[int]:
    """`count` fresh primary keys for `table`, so a batch can build rows that refer to each other without
    flushing after every insert. PostgreSQL: from the column's sequence. SQLite: after the current maximum,
    which is safe because writers there hold the database lock from BEGIN (see _sqlite_begin_immediate)."""
    if count <= 0:
        return []
    name = table.name
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                               {"t": name, "n": count})
        return [int(r[0]) for r in rows]
    start = int(session.execute(text(f'SELECT COALESCE(MAX(id), 0) FROM "{name}"')).scalar_one())
    reserved: list[int] = session.info.setdefault(f"reserved_ids.{name}", [])
    start = max([start, *reserved])
    ids = list(range(start + 1, start + count + 1))
    reserved.extend(ids)
    return ids
