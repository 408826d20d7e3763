"""The outbox (UnitOfWork.publish -> relay_once -> bus) and consumer idempotency (apply_once), on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

import cityops.core.models  # noqa: F401 - registers the core tables on Base.metadata
from cityops.core.bus.base import Message
from cityops.core.bus.memory import MemoryBus
from cityops.core.clock import FixedClock
from cityops.core.consumers import apply_once, idempotent_handler
from cityops.core.db import Base, Database
from cityops.core.models import OutboxMessage, ProcessedMessage
from cityops.core.outbox import relay_once
from cityops.core.uow import UnitOfWork

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database on each backend (tests/conftest.py)."""
    database = Database(database_url)
    yield database
    database.dispose()


def _outbox(db: Database) -> list[OutboxMessage]:
    with db.session() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return rows


def _count(db: Database, model: type[Base]) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# -- outbox ------------------------------------------------------------------------------------------------


def test_uow_publish_writes_outbox_rows_only_when_the_transaction_commits(db: Database) -> None:
    kicks: list[int] = []
    with UnitOfWork(db, clock=FixedClock(T0), after_commit=lambda: kicks.append(1)) as uow:
        uow.publish("cityops.case.created", {"title": "路灯不亮"}, key="case-1-created")
        uow.commit()
    with UnitOfWork(db, clock=FixedClock(T0)) as uow:
        uow.publish("cityops.case.created", {"title": "rolled back"}, key="case-2-created")
        # no commit: leaving the block rolls back, the message must vanish with the change

    rows = _outbox(db)
    assert [(r.subject, r.key, r.payload, r.published_at) for r in rows] == [
        ("cityops.case.created", "case-1-created", {"title": "路灯不亮"}, None)]
    assert rows[0].created_at == T0
    assert kicks == [1]  # the relay is kicked once, after the commit


def test_uow_rolls_back_its_outbox_rows_when_the_block_raises(db: Database) -> None:
    with pytest.raises(RuntimeError), UnitOfWork(db) as uow:
        uow.publish("cityops.case.created", {}, key="k")
        raise RuntimeError("validation failed half-way")
    assert _outbox(db) == []


def test_relay_once_publishes_pending_rows_in_order_and_marks_them_published(db: Database) -> None:
    clock = FixedClock(T0)
    with UnitOfWork(db, clock=clock) as uow:
        for i in range(3):
            uow.publish(f"cityops.case.step{i}", {"i": i, "note": f"第{i}步"}, key=f"k{i}")
        uow.commit()

    async def scenario() -> tuple[int, int, list[Message]]:
        bus = MemoryBus()
        received: list[Message] = []

        async def handler(message: Message) -> None:
            received.append(message)

        await bus.subscribe("cityops.case.>", durable="all-cases", handler=handler)
        clock.advance(timedelta(seconds=5))
        first = await relay_once(db, bus, clock=clock)
        second = await relay_once(db, bus, clock=clock)  # nothing left: published rows are not sent again
        await bus.drain(1)
        await bus.close()
        return first, second, received

    first, second, received = asyncio.run(scenario())
    assert (first, second) == (3, 0)
    assert [(m.subject, m.key, m.payload) for m in received] == [
        (f"cityops.case.step{i}", f"k{i}", {"i": i, "note": f"第{i}步"}) for i in range(3)]
    assert [r.published_at for r in _outbox(db)] == [T0 + timedelta(seconds=5)] * 3


def test_relay_once_respects_the_batch_limit_and_keeps_order_across_batches(db: Database) -> None:
    with UnitOfWork(db, clock=FixedClock(T0)) as uow:
        for i in range(5):
            uow.publish("cityops.n", {"i": i}, key=f"n{i}")
        uow.commit()

    async def scenario() -> tuple[list[int], list[int]]:
        bus = MemoryBus()
        seen: list[int] = []

        async def handler(message: Message) -> None:
            seen.append(message.payload["i"])

        await bus.subscribe("cityops.n", durable="n", handler=handler)
        counts = [await relay_once(db, bus, limit=2) for _ in range(4)]
        await bus.drain(1)
        await bus.close()
        return counts, seen

    counts, seen = asyncio.run(scenario())
    assert counts == [2, 2, 1, 0]
    assert seen == [0, 1, 2, 3, 4]


# -- idempotent consumers ------------------------------------------------------------------------------


def _follow_up(uow: UnitOfWork, message: Message) -> None:
    """The effect under test: the consumer announces a follow-up message (an outbox row)."""
    uow.publish("cityops.notice.sent", {"for": message.key}, key=f"notice-{message.key}")


def test_apply_once_applies_a_key_only_once_per_consumer(db: Database) -> None:
    clock = FixedClock(T0)
    message = Message(subject="cityops.case.created", key="case-1", payload={})
    redelivery = Message(subject="cityops.case.created", key="case-1", payload={}, delivery=2)

    assert apply_once(db, clock, "notifier", _follow_up, message) is True
    assert apply_once(db, clock, "notifier", _follow_up, redelivery) is False
    assert [r.key for r in _outbox(db)] == ["notice-case-1"]
    assert _count(db, ProcessedMessage) == 1

    # another consumer group is independent and applies the same key once itself
    assert apply_once(db, clock, "statistics", _follow_up, message) is True
    assert _count(db, ProcessedMessage) == 2


def test_apply_once_that_fails_records_nothing_so_the_retry_applies_it(db: Database) -> None:
    clock = FixedClock(T0)
    message = Message(subject="cityops.case.created", key="case-9", payload={})
    calls: list[int] = []

    def fails_first(uow: UnitOfWork, msg: Message) -> None:
        calls.append(1)
        _follow_up(uow, msg)
        if len(calls) == 1:
            raise RuntimeError("crash in the middle of the effect")

    with pytest.raises(RuntimeError):
        apply_once(db, clock, "notifier", fails_first, message)
    assert _outbox(db) == [] and _count(db, ProcessedMessage) == 0  # claim and effect rolled back together

    assert apply_once(db, clock, "notifier", fails_first, message) is True
    assert [r.key for r in _outbox(db)] == ["notice-case-9"]
    assert _count(db, ProcessedMessage) == 1


def test_idempotent_handler_on_memory_bus_ignores_a_duplicate_delivery(db: Database) -> None:
    async def scenario() -> None:
        bus = MemoryBus()
        await bus.subscribe("cityops.case.>", durable="notifier",
                            handler=idempotent_handler(db, FixedClock(T0), "notifier", _follow_up))
        await bus.publish("cityops.case.created", {}, key="case-3")
        await bus.publish("cityops.case.created", {}, key="case-3")  # e.g. two relays published the row
        await bus.drain(2)
        await bus.close()

    asyncio.run(scenario())
    assert [r.key for r in _outbox(db)] == ["notice-case-3"]
