"""One bus interface for publishing and consuming messages.

Delivery is at-least-once everywhere: a handler that returns has its message acknowledged, one that raises
gets it again later (up to `max_deliver` times, then it goes to the dead-letter record). Handlers make
redelivery harmless with the message key (see core/bus/idempotency.py).
"""

from __future__ import annotations

from cityops.core.bus.base import Bus, DeadLetterSink, Handler, Message
from cityops.core.bus.factory import create_bus

__all__ = ["Bus", "DeadLetterSink", "Handler", "Message", "create_bus"]
