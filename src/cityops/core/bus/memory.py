"""In-process bus: the embedded default. Messages live in memory and are handled on the event loop."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from typing import Any

import structlog

from cityops.core.bus.base import Bus, DeadLetterSink, Handler, Message, subject_matches

log = structlog.get_logger(__name__)


@dataclass
class _Subscription:
    subject: str
    durable: str
    handler: Handler
    queue: asyncio.Queue[Message]
    task: asyncio.Task[None] | None = None


class MemoryBus(Bus):
    def __init__(self, *, max_deliver: int = 10, retry_delay_s: float = 0.05,
                 dead_letter: DeadLetterSink | None = None) -> None:
        self.max_deliver = max_deliver
        self.retry_delay_s = retry_delay_s
        self._dead_letter = dead_letter
        self._subs: dict[str, _Subscription] = {}
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self) -> None:
        return None

    async def publish(self, subject: str, payload: dict[str, Any], *, key: str) -> None:
        message = Message(subject=subject, key=key, payload=payload)
        for sub in self._subs.values():
            if subject_matches(sub.subject, subject):
                self._enqueue(sub, message)

    def _enqueue(self, sub: _Subscription, message: Message) -> None:
        self._pending += 1
        self._idle.clear()
        sub.queue.put_nowait(message)

    async def subscribe(self, subject: str, *, durable: str, handler: Handler) -> None:
        sub = _Subscription(subject, durable, handler, asyncio.Queue())
        sub.task = asyncio.create_task(self._run(sub), name=f"bus:{durable}")
        self._subs[durable] = sub

    async def _run(self, sub: _Subscription) -> None:
        while True:
            message = await sub.queue.get()
            try:
                await self._deliver(sub, message)
            finally:
                self._pending -= 1
                if self._pending == 0:
                    self._idle.set()

    async def _deliver(self, sub: _Subscription, message: Message) -> None:
        try:
            await sub.handler(message)
        except Exception as exc:  # a failing handler must never stop the consumer
            if message.delivery >= self.max_deliver:
                log.error("bus.dead_letter", subject=message.subject, key=message.key, error=str(exc))
                if self._dead_letter is not None:
                    try:
                        await self._dead_letter(message, repr(exc))
                    except Exception:  # nor may a failing dead-letter sink: keep the message in the log
                        log.exception("bus.dead_letter_failed", subject=message.subject, key=message.key,
                                      payload=message.payload)
                return
            log.warning("bus.redeliver", subject=message.subject, key=message.key, error=str(exc))
            await asyncio.sleep(self.retry_delay_s)
            self._enqueue(sub, replace(message, delivery=message.delivery + 1))

    async def drain(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def close(self) -> None:
        for sub in self._subs.values():
            if sub.task is not None:
                sub.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sub.task
        self._subs.clear()
