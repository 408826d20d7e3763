"""Monthly partitions of the raw readings on PostgreSQL (SQLite has one plain table).

Migration 0005 makes `readings` a table partitioned by RANGE (ts) with a DEFAULT partition and one partition per
month around the day it ran; `ensure_partitions` (run by the vital-signs job) creates the coming months ahead of
time. Why ahead: a month's partition cannot be created while the DEFAULT partition holds rows of that month, so
the default only ever catches readings far outside the expected range (a device with a wrong clock), and a month
whose range it already touches is left to it (logged) instead of failing. Pruning drops whole months.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)


def month_start(at: datetime, offset: int = 0) -> datetime:
    index = at.year * 12 + at.month - 1 + offset
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def partition_name(start: datetime) -> str:
    return f"readings_p{start:%Y%m}"


def create_month_sql(start: datetime) -> str:
    end = month_start(start, 1)
    return (f'CREATE TABLE IF NOT EXISTS "{partition_name(start)}" PARTITION OF readings '
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')")


def is_partitioned(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    found = session.execute(text("SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                                 "WHERE c.relname = 'readings' AND c.relnamespace = to_regnamespace("
                                 "current_schema())::oid")).first()
    return found is not None


def ensure_partitions(session: Session, *, now: datetime, months_ahead: int = 2) -> list[str]:
    """Create this month's and the next `months_ahead` months' partitions if missing (no-op on SQLite).
    Returns the names of the partitions created now."""
    if not is_partitioned(session):
        return []
    created = []
    for offset in range(months_ahead + 1):
        start = month_start(now, offset)
        name = partition_name(start)
        if session.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is not None:
            continue
        try:
            with session.begin_nested():
                session.execute(text(create_month_sql(start)))
            created.append(name)
        except DBAPIError as exc:  # the DEFAULT partition already holds rows of that month
            log.warning("readings.partition_skipped", partition=name, error=str(exc.orig)[:200])
    return created


def droppable_partitions(session: Session, *, before: datetime) -> list[str]:
    """Monthly partitions whose whole month lies before `before` (for pruning by DROP instead of DELETE)."""
    if not is_partitioned(session):
        return []
    names = session.scalars(text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                 "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'readings' "
                                 "AND p.relnamespace = to_regnamespace(current_schema())::oid")).all()
    old = []
    for name in names:
        if not name.startswith("readings_p") or len(name) != len("readings_p202601"):
            continue
        start = datetime(int(name[10:14]), int(name[14:16]), 1, tzinfo=UTC)
        if month_start(start, 1) <= before:
            old.append(name)
    return sorted(old)
