"""The triage waker runs one pass at a time: a burst of bus messages costs one more pass, not one each, and a
message that arrives during a pass is always followed by another pass (no report waits for the poll)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any

import pytest

from cityops.core.bus.base import Message
from cityops.triage import worker

MESSAGE = Message(subject="cityops.reports.received", key="report.received:R1", payload={"report": "R1"})


def test_a_burst_of_messages_during_a_pass_costs_one_more_pass(monkeypatch: pytest.MonkeyPatch):
    passes: list[float] = []
    in_pass = threading.Event()

    def slow_drain(platform: Any) -> None:
        in_pass.set()
        time.sleep(0.2)
        passes.append(time.monotonic())

    monkeypatch.setattr(worker, "drain", slow_drain)

    async def scenario() -> float:
        waker = worker.Waker(object(), poll_s=3600)  # type: ignore[arg-type]  # no polling within the test
        running = asyncio.create_task(waker.run())
        try:
            await waker.handle(MESSAGE)
            while not in_pass.is_set():
                await asyncio.sleep(0.01)
            for _ in range(100):  # all during the first pass
                await waker.handle(MESSAGE)
            last_message = time.monotonic()
            await asyncio.sleep(0.8)
            return last_message
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running

    last_message = asyncio.run(scenario())
    assert len(passes) == 2
    assert passes[-1] > last_message  # the burst was served by a pass that ended after it
