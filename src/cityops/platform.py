"""The composition root: builds settings, storage, clock, bus and the per-process caches, once.

Web, CLI and workers each build one Platform and pass it down; domain code never reads settings itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityops.core.bus import Bus, create_bus
from cityops.core.clock import Clock, SystemClock
from cityops.core.consumers import record_dead_letter
from cityops.core.db import Database
from cityops.core.outbox import OutboxRelay
from cityops.core.settings import Settings, get_settings
from cityops.core.uow import UnitOfWork
from cityops.notify.base import MemoryNotifier, Notifier
from cityops.notify.webhook import build_notifier


@dataclass
class Platform:
    settings: Settings
    db: Database
    clock: Clock
    bus: Bus | None = None
    relay: OutboxRelay | None = None
    caches: dict[str, Any] = field(default_factory=dict)
    notifier: Notifier = field(default_factory=MemoryNotifier)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, clock=self.clock, after_commit=self._kick_relay)

    def _kick_relay(self) -> None:
        if self.relay is not None:
            self.relay.kick()

    async def start_bus(self, *, relay: bool = True) -> Bus:
        """Connect the bus and, unless told not to, start the outbox relay (inside a running event loop)."""
        if self.bus is None:
            self.bus = create_bus(self.settings, dead_letter=self._dead_letter)
            await self.bus.start()
        if relay and self.relay is None:
            self.relay = OutboxRelay(self.db, self.bus, clock=self.clock)
            await self.relay.start()
        return self.bus

    def api_relays(self) -> bool:
        """Whether an API process should relay the outbox. An in-process bus reaches only this process's
        consumers; an API process without workers has none, so it leaves the outbox to the worker process,
        whose relay delivers the rows to its own consumers."""
        return self.settings.run_workers or not self.settings.bus_url.startswith("memory")

    async def stop_bus(self) -> None:
        if self.relay is not None:
            await self.relay.stop()
            self.relay = None
        if self.bus is not None:
            await self.bus.close()
            self.bus = None

    async def _dead_letter(self, message: Any, error: str) -> None:
        import asyncio
        import json

        payload = json.dumps(message.payload, ensure_ascii=False, default=str)
        await asyncio.to_thread(record_dead_letter, self.db, source="bus", subject=message.subject,
                                key=message.key, payload=payload, error=error, deliveries=message.delivery)

    def close(self) -> None:
        self.db.dispose()


def build_platform(settings: Settings | None = None, *, clock: Clock | None = None) -> Platform:
    settings = settings or get_settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url, pool_size=settings.db_pool_size)
    return Platform(settings=settings, db=db, clock=clock or SystemClock(), notifier=build_notifier(settings, db))
