from __future__ import annotations

from cityops.core.bus.base import Bus, DeadLetterSink
from cityops.core.errors import ConfigurationError
from cityops.core.settings import Settings


def create_bus(settings: Settings, *, dead_letter: DeadLetterSink | None = None) -> Bus:
    url = settings.bus_url
    if url.startswith("memory"):
        from cityops.core.bus.memory import MemoryBus

        return MemoryBus(max_deliver=settings.bus_max_deliver, dead_letter=dead_letter)
    if url.startswith("nats"):
        from cityops.core.bus.nats import NatsBus

        return NatsBus(
            url,
            connect_timeout_s=settings.nats_connect_timeout_s,
            ack_wait_s=settings.bus_ack_wait_s,
            max_deliver=settings.bus_max_deliver,
            dead_letter=dead_letter,
        )
    raise ConfigurationError(f"CITYOPS_BUS_URL must start with memory:// or nats://, got {url!r}",
                             field="CITYOPS_BUS_URL")
