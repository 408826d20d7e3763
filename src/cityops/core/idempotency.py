"""Consumers record each message key they apply, in the same transaction as the effect."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cityops.core.clock import Clock
from cityops.core.models import ProcessedMessage


def claim(session: Session, *, consumer: str, key: str, clock: Clock) -> bool:
    """True the first time (consumer, key) is seen in a committed transaction; False on a redelivery.

    Under concurrency the losing transaction blocks on the key until the winner commits, then sees the row.
    """
    values = {"consumer": consumer, "key": key, "processed_at": clock.now()}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # RETURNING, not rowcount: psycopg reports rowcount -1 for INSERT … ON CONFLICT DO NOTHING.
    statement = insert(ProcessedMessage).values(**values).on_conflict_do_nothing().returning(ProcessedMessage.key)
    return session.execute(statement).scalar_one_or_none() is not None
