"""The outbox relay: publishes committed outbox rows on the bus, oldest first.

Several relays (several processes) may run at once; a row they both publish is harmless because consumers
are idempotent by message key.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, NamedTuple, cast

import structlog
from sqlalchemy import Table, select, update

from cityops.core.bus.base import Bus
from cityops.core.clock import Clock, SystemClock
from cityops.core.db import Database
from cityops.core.models import OutboxMessage

log = structlog.get_logger(__name__)


class Pending(NamedTuple):
    id: int
    subject: str
    key: str
    payload: dict[str, Any]


def _claim_batch(db: Database, limit: int) -> list[Pending]:
    # Plain rows, not ORM objects: the triage worker relays four messages for every report it triages.
    table = OutboxMessage.__table__.c
    with db.session() as session:
        query = (select(table.id, table.subject, table.key, table.payload).where(table.published_at.is_(None))
                 .order_by(table.id).limit(limit))
        return [Pending._make(row) for row in session.execute(query)]


def _mark_published(db: Database, ids: list[int], clock: Clock) -> None:
    with db.writer_sessionmaker() as session:
        table = cast(Table, OutboxMessage.__table__)  # the table, not the class: no ORM bulk-update machinery
        session.execute(update(table).where(table.c.id.in_(ids)).values(published_at=clock.now()))
        session.commit()


async def relay_once(db: Database, bus: Bus, *, clock: Clock | None = None, limit: int = 500) -> int:
    """Publish up to `limit` pending rows; returns how many were published."""
    clock = clock or SystemClock()
    rows = await asyncio.to_thread(_claim_batch, db, limit)
    for row in rows:
        await bus.publish(row.subject, row.payload, key=row.key)
    if rows:
        await asyncio.to_thread(_mark_published, db, [r.id for r in rows], clock)
    return len(rows)


class OutboxRelay:
    """Runs relay_once whenever a commit kicks it, and every `poll_s` for rows other processes wrote."""

    def __init__(self, db: Database, bus: Bus, *, clock: Clock | None = None, poll_s: float = 1.0) -> None:
        self._db, self._bus, self._clock, self._poll_s = db, bus, clock, poll_s
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def kick(self) -> None:
        """Thread-safe: called after a commit, from whatever thread did it."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def flush(self) -> None:
        while await relay_once(self._db, self._bus, clock=self._clock):
            pass

    async def _run(self) -> None:
        while not self._stopping:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that arrives
            # just as the event is set, and the relay would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_s):
                    await self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            try:
                await self.flush()
            except Exception:  # the relay must outlive a database or bus hiccup; rows stay pending
                log.exception("outbox.relay_failed")
                await asyncio.sleep(self._poll_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            try:
                await asyncio.wait({self._task}, timeout=5)
            finally:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
                self._task = None
