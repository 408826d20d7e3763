"""Turning plain 'apply this message' functions into safe bus handlers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from cityops.core.bus.base import Handler, Message
from cityops.core.clock import Clock
from cityops.core.db import Database
from cityops.core.idempotency import claim
from cityops.core.models import DeadLetter
from cityops.core.uow import UnitOfWork

Apply = Callable[[UnitOfWork, Message], None]


def apply_once(db: Database, clock: Clock, consumer: str, apply: Apply, message: Message,
               after_commit: Callable[[], None] | None = None) -> bool:
    """Apply the message unless this consumer already did; True when it was applied now."""
    with UnitOfWork(db, clock=clock, after_commit=after_commit) as uow:
        fresh = claim(uow.session, consumer=consumer, key=message.key, clock=clock)
        if fresh:
            apply(uow, message)
        uow.commit()
        return fresh


def idempotent_handler(db: Database, clock: Clock, consumer: str, apply: Apply,
                       after_commit: Callable[[], None] | None = None) -> Handler:
    """A bus handler that runs `apply` in its own transaction, once per message key.

    The bus acknowledges only after this returns, i.e. after the commit: a crash before that means
    redelivery, and the recorded key makes the redelivery change nothing.
    """

    async def handle(message: Message) -> None:
        await asyncio.to_thread(apply_once, db, clock, consumer, apply, message, after_commit)

    return handle


def record_dead_letter(db: Database, *, source: str, subject: str, key: str | None, payload: str,
                       error: str, deliveries: int = 1) -> int:
    with UnitOfWork(db) as uow:
        row = DeadLetter(source=source, subject=subject, key=key, payload=payload, error=error,
                         deliveries=deliveries, created_at=datetime.now(UTC))
        uow.session.add(row)
        uow.session.flush()
        uow.commit()
        return row.id
