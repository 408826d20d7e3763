"""MemoryBus: the embedded, in-process bus."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from cityops.core.bus.base import Message, subject_matches
from cityops.core.bus.memory import MemoryBus


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("cityops.case.created", "cityops.case.created", True),
        ("cityops.case.created", "cityops.case.closed", False),
        ("cityops.*.created", "cityops.case.created", True),
        ("cityops.*.created", "cityops.case.sub.created", False),  # `*` is exactly one token
        ("cityops.*", "cityops", False),
        ("cityops.>", "cityops.case", True),
        ("cityops.>", "cityops.case.created.v2", True),  # `>` is one or more trailing tokens
        ("cityops.>", "cityops", False),
        ("cityops.case.>", "cityops.org.created", False),
        ("cityops.case", "cityops.case.created", False),
        ("cityops.case.created", "cityops.case", False),
    ],
)
def test_subject_matching_follows_nats_wildcards(pattern: str, subject: str, expected: bool) -> None:
    assert subject_matches(pattern, subject) is expected


def test_published_message_is_delivered_once_with_subject_key_and_payload() -> None:
    async def scenario() -> list[Message]:
        bus = MemoryBus()
        received: list[Message] = []

        async def handler(message: Message) -> None:
            received.append(message)

        await bus.subscribe("cityops.case.created", durable="cases", handler=handler)
        await bus.publish("cityops.case.created", {"title": "路灯不亮"}, key="case-1")
        await bus.publish("cityops.case.closed", {"title": "other"}, key="case-2")  # not subscribed
        await bus.drain(1)
        await bus.close()
        return received

    received = asyncio.run(scenario())
    assert received == [Message(subject="cityops.case.created", key="case-1", payload={"title": "路灯不亮"})]


def test_each_subscription_gets_the_messages_its_wildcard_matches() -> None:
    async def scenario() -> dict[str, list[str]]:
        bus = MemoryBus()
        seen: dict[str, list[str]] = {"star": [], "tail": [], "exact": []}

        def collect(name: str) -> Callable[[Message], Awaitable[None]]:
            async def handler(message: Message) -> None:
                seen[name].append(message.subject)
            return handler

        await bus.subscribe("cityops.*.created", durable="star", handler=collect("star"))
        await bus.subscribe("cityops.>", durable="tail", handler=collect("tail"))
        await bus.subscribe("cityops.org.unit.created", durable="exact", handler=collect("exact"))
        for subject in ["cityops.case.created", "cityops.org.unit.created", "cityops.case.closed", "other.x"]:
            await bus.publish(subject, {}, key=subject)
        await bus.drain(1)
        await bus.close()
        return seen

    seen = asyncio.run(scenario())
    assert seen["star"] == ["cityops.case.created"]
    assert seen["tail"] == ["cityops.case.created", "cityops.org.unit.created", "cityops.case.closed"]
    assert seen["exact"] == ["cityops.org.unit.created"]


def test_failing_handler_is_retried_with_rising_delivery_count_until_it_succeeds() -> None:
    async def scenario() -> tuple[list[int], list[tuple[Message, str]]]:
        dead: list[tuple[Message, str]] = []

        async def sink(message: Message, error: str) -> None:
            dead.append((message, error))

        bus = MemoryBus(max_deliver=5, retry_delay_s=0.001, dead_letter=sink)
        attempts: list[int] = []

        async def flaky(message: Message) -> None:
            attempts.append(message.delivery)
            if message.delivery < 3:
                raise ConnectionError("database restarting")

        await bus.subscribe("cityops.x", durable="flaky", handler=flaky)
        await bus.publish("cityops.x", {}, key="k")
        await bus.drain(1)
        await bus.close()
        return attempts, dead

    attempts, dead = asyncio.run(scenario())
    assert attempts == [1, 2, 3]
    assert dead == []


def test_handler_that_always_fails_goes_to_dead_letter_after_max_deliver() -> None:
    async def scenario() -> tuple[list[int], list[tuple[Message, str]]]:
        dead: list[tuple[Message, str]] = []

        async def sink(message: Message, error: str) -> None:
            dead.append((message, error))

        bus = MemoryBus(max_deliver=3, retry_delay_s=0.001, dead_letter=sink)
        attempts: list[int] = []

        async def failing(message: Message) -> None:
            attempts.append(message.delivery)
            raise ValueError("坏数据")

        await bus.subscribe("cityops.x", durable="failing", handler=failing)
        await bus.publish("cityops.x", {"a": 1}, key="k-dead")
        await bus.drain(1)
        await bus.close()
        return attempts, dead

    attempts, dead = asyncio.run(scenario())
    assert attempts == [1, 2, 3]
    assert len(dead) == 1
    message, error = dead[0]
    assert (message.key, message.delivery, message.payload) == ("k-dead", 3, {"a": 1})
    assert "ValueError" in error and "坏数据" in error


def test_consumer_keeps_running_after_a_message_was_dead_lettered() -> None:
    async def scenario() -> list[str]:
        bus = MemoryBus(max_deliver=1, retry_delay_s=0.001)
        handled: list[str] = []

        async def handler(message: Message) -> None:
            if message.payload.get("bad"):
                raise RuntimeError("bad")
            handled.append(message.key)

        await bus.subscribe("cityops.x", durable="c", handler=handler)
        await bus.publish("cityops.x", {"bad": True}, key="k1")
        await bus.publish("cityops.x", {}, key="k2")
        await bus.drain(1)
        await bus.close()
        return handled

    assert asyncio.run(scenario()) == ["k2"]


def test_consumer_keeps_running_when_the_dead_letter_sink_itself_fails() -> None:
    async def scenario() -> list[str]:
        async def broken_sink(message: Message, error: str) -> None:
            raise ConnectionError("dead-letter table unreachable")

        bus = MemoryBus(max_deliver=1, retry_delay_s=0.001, dead_letter=broken_sink)
        handled: list[str] = []

        async def handler(message: Message) -> None:
            if message.payload.get("bad"):
                raise RuntimeError("bad")
            handled.append(message.key)

        await bus.subscribe("cityops.x", durable="c", handler=handler)
        await bus.publish("cityops.x", {"bad": True}, key="k1")
        await bus.publish("cityops.x", {}, key="k2")
        await bus.drain(1)
        await bus.close()
        return handled

    assert asyncio.run(scenario()) == ["k2"]
