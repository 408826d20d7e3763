"""A flow's message travels outbox → relay → bus → an idempotent consumer, in-process and over NATS."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from cityops.core.bus.base import Message
from cityops.core.consumers import idempotent_handler
from cityops.core.models import ProcessedMessage
from cityops.core.uow import UnitOfWork
from cityops.platform import Platform, build_platform
from tests.conftest import make_settings, need_server


async def _flow_reaches_consumer(platform: Platform, subject: str) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []

    def apply(uow: UnitOfWork, message: Message) -> None:
        seen.append(message.payload)

    bus = await platform.start_bus()
    try:
        await bus.subscribe(subject, durable=f"test-{uuid.uuid4().hex[:8]}",
                            handler=idempotent_handler(platform.db, platform.clock, "test-consumer", apply))
        key = f"k-{uuid.uuid4().hex}"
        for _ in range(2):  # the same message twice: the consumer applies it once
            with platform.uow() as uow:
                uow.publish(subject, {"说明": "井盖缺失", "n": 1}, key=key)
                uow.commit()
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.05)
        await bus.drain(timeout=5)
        await asyncio.sleep(0.2)
    finally:
        await platform.stop_bus()
    return seen


def test_committed_message_reaches_consumer_once_on_the_in_process_bus(platform: Platform):
    seen = asyncio.run(_flow_reaches_consumer(platform, "cityops.test.memory"))
    assert seen == [{"说明": "井盖缺失", "n": 1}]
    with platform.db.session() as session:
        assert session.query(ProcessedMessage).count() == 1


@pytest.mark.nats
def test_committed_message_reaches_consumer_once_over_nats(database_url: str, tmp_path):
    need_server("NATS", 4222)
    nats_platform = build_platform(make_settings(tmp_path / "data", database_url, bus_url="nats://127.0.0.1:4222"))
    try:
        subject = f"cityops.test.{uuid.uuid4().hex[:8]}"
        seen = asyncio.run(_flow_reaches_consumer(nats_platform, subject))
    finally:
        nats_platform.close()
    assert seen == [{"说明": "井盖缺失", "n": 1}]
