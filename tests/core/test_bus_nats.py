"""NatsBus against the real NATS JetStream server (never a mock).

Each test gets its own stream and subject prefix and deletes the stream afterwards. Without a server the tests
are skipped, unless CITYOPS_REQUIRE_SERVICES=1 makes that a failure.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlparse

import nats
import pytest
from nats.js.errors import NotFoundError
from sqlalchemy import func, select, text

import cityops.core.models  # noqa: F401 - registers the core tables on Base.metadata
from cityops.core.bus.base import Message
from cityops.core.bus.nats import NatsBus, consumer_name
from cityops.core.clock import SystemClock
from cityops.core.consumers import idempotent_handler
from cityops.core.db import Database
from cityops.core.errors import ServiceUnavailable
from cityops.core.models import ProcessedMessage

NATS_URL = os.environ.get("CITYOPS_TEST_NATS_URL", "nats://127.0.0.1:4222")
HELPER_PATH = Path(__file__).with_name("nats_crash_consumer.py")


def _load_helper() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nats_crash_consumer", HELPER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helper = _load_helper()


def _server_reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 4222), timeout=1.0):
            return True
    except OSError:
        return False


@dataclass
class NatsEnv:
    url: str
    stream: str
    prefix: str
    buses: list[NatsBus] = field(default_factory=list)

    @property
    def stream_subjects(self) -> str:
        return f"{self.prefix}.>"

    def subject(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    def bus(self, **options: Any) -> NatsBus:
        settings: dict[str, Any] = {"connect_timeout_s": 3.0, "ack_wait_s": 2.0, "max_deliver": 5,
                                    "dead_letter": None, "retry_delay_s": 0.05, "fetch_timeout_s": 0.5}
        settings.update(options)
        bus = NatsBus(self.url, stream=self.stream, subjects=[self.stream_subjects], **settings)
        return bus

    async def consumer_state(self, durable: str) -> tuple[int, int]:
        """(num_pending, num_ack_pending) of a durable consumer, read on a connection of its own."""
        nc = await nats.connect(self.url, connect_timeout=2, allow_reconnect=False)
        try:
            info = await nc.jetstream().consumer_info(self.stream, consumer_name(durable))
            return info.num_pending, info.num_ack_pending
        finally:
            await nc.close()

    async def publish_raw(self, subject: str, data: bytes) -> None:
        nc = await nats.connect(self.url, connect_timeout=2, allow_reconnect=False)
        try:
            await nc.jetstream().publish(subject, data, stream=self.stream)
        finally:
            await nc.close()


async def _delete_stream(url: str, stream: str) -> None:
    nc = await nats.connect(url, connect_timeout=2, allow_reconnect=False)
    try:
        await nc.jetstream().delete_stream(stream)
    except NotFoundError:
        pass
    finally:
        await nc.close()


@pytest.fixture
def nats_env() -> Iterator[NatsEnv]:
    if not _server_reachable(NATS_URL):
        message = f"NATS server not reachable at {NATS_URL}"
        if os.environ.get("CITYOPS_REQUIRE_SERVICES") == "1":
            pytest.fail(message + " (CITYOPS_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    run = uuid.uuid4().hex[:12]
    env = NatsEnv(url=NATS_URL, stream=f"CITYOPS_TEST_{run}", prefix=f"cityopstest_{run}")
    yield env
    asyncio.run(_delete_stream(env.url, env.stream))


async def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def _collector() -> tuple[list[Message], Callable[[Message], Awaitable[None]]]:
    received: list[Message] = []

    async def handler(message: Message) -> None:
        received.append(message)

    return received, handler


def _dead_letter_collector() -> tuple[list[tuple[Message, str]], Callable[[Message, str], Awaitable[None]]]:
    dead: list[tuple[Message, str]] = []

    async def sink(message: Message, error: str) -> None:
        dead.append((message, error))

    return dead, sink


pytestmark = pytest.mark.nats


# -- pure helpers (no server) ------------------------------------------------------------------------------


def test_consumer_name_turns_dotted_durables_into_valid_stable_nats_names() -> None:
    name = consumer_name("cityops.cases>projection *x")
    assert all(c.isalnum() or c in "_-" for c in name)
    assert name == consumer_name("cityops.cases>projection *x")  # stable across restarts
    assert consumer_name("a.b") != consumer_name("a_b")  # sanitising must not merge two consumers
    assert consumer_name("plain-name_1") == "plain-name_1"


def test_connecting_where_no_server_listens_raises_service_unavailable_within_the_timeout() -> None:
    bus = NatsBus("nats://127.0.0.1:4299", connect_timeout_s=1.0, ack_wait_s=1.0, max_deliver=2,
                  dead_letter=None)

    async def scenario() -> None:
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable, match=r"127\.0\.0\.1:4299"):
            await bus.start()
        assert time.monotonic() - started < 2.5
        await bus.close()

    asyncio.run(scenario())


# -- against the server -------------------------------------------------------------------------------------


def test_published_message_reaches_handler_with_subject_key_and_chinese_payload(nats_env: NatsEnv) -> None:
    subject = nats_env.subject("case.created")
    payload = {"title": "路灯不亮", "district": "浦东新区", "nested": {"tags": ["紧急", "夜间"]}, "n": 3}

    async def scenario() -> None:
        received, handler = _collector()
        bus = nats_env.bus()
        try:
            await bus.subscribe(nats_env.subject("case.*"), durable="cityops.cases.projection",
                                handler=handler)
            await bus.publish(subject, payload, key="case-1-created")
            await _wait_until(lambda: len(received) == 1)
            await bus.drain(5)
        finally:
            await bus.close()
        message = received[0]
        assert message.subject == subject
        assert message.key == "case-1-created"
        assert message.payload == payload
        assert message.delivery == 1
        assert await nats_env.consumer_state("cityops.cases.projection") == (0, 0)

    asyncio.run(scenario())


def test_republishing_the_same_key_is_deduplicated_by_jetstream(nats_env: NatsEnv) -> None:
    subject = nats_env.subject("case.created")

    async def scenario() -> None:
        received, handler = _collector()
        bus = nats_env.bus()
        try:
            await bus.publish(subject, {"n": 1}, key="same-key")
            await bus.publish(subject, {"n": 1}, key="same-key")  # e.g. two outbox relays racing
            await bus.publish(subject, {"n": 2}, key="other-key")
            await bus.subscribe(subject, durable="dedup", handler=handler)
            await _wait_until(lambda: len(received) == 2)
            await bus.drain(5)
        finally:
            await bus.close()
        assert [m.key for m in received] == ["same-key", "other-key"]

    asyncio.run(scenario())


def _crash_consumer(nats_env: NatsEnv, *, mode: str, subject: str, durable: str, db_url: str
                    ) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(helper.SRC), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(HELPER_PATH), "--url", nats_env.url, "--stream", nats_env.stream,
         "--stream-subjects", nats_env.stream_subjects, "--subject", subject, "--durable", durable,
         "--db", db_url, "--mode", mode, "--ack-wait", "1"],
        capture_output=True, text=True, timeout=30, env=env, check=False,
    )


async def _publish_one(nats_env: NatsEnv, subject: str, key: str) -> None:
    bus = nats_env.bus()
    try:
        await bus.publish(subject, {"title": "井盖缺失"}, key=key)
    finally:
        await bus.close()


def _crash_db(database_url: str) -> Database:
    db = Database(database_url)  # migrated SQLite file or PostgreSQL schema (tests/conftest.py)
    helper.create_effect_table(db)
    return db


def _effects(db: Database, key: str) -> tuple[int, int]:
    """(effect rows, processed_messages rows) for the message key."""
    with db.session() as session:
        effects = session.execute(
            text("SELECT count(*) FROM bus_test_effects WHERE message_key = :k"), {"k": key}).scalar_one()
        processed = session.scalar(select(func.count()).select_from(ProcessedMessage).where(
            ProcessedMessage.consumer == helper.CONSUMER, ProcessedMessage.key == key))
    return int(effects), int(processed or 0)


def _recover_in_process(nats_env: NatsEnv, db: Database, subject: str, durable: str) -> list[int]:
    """Start a fresh consumer on the same durable; return the delivery numbers its handler saw."""
    deliveries: list[int] = []
    inner = idempotent_handler(db, SystemClock(), helper.CONSUMER, helper.apply_effect)

    async def handler(message: Message) -> None:
        deliveries.append(message.delivery)
        await inner(message)

    async def scenario() -> None:
        bus = nats_env.bus(ack_wait_s=1.0)
        try:
            await bus.subscribe(subject, durable=durable, handler=handler)
            await _wait_until(lambda: bool(deliveries), timeout=10)
            await bus.drain(10)
        finally:
            await bus.close()

    asyncio.run(scenario())
    return deliveries


def test_crash_after_commit_before_ack_redelivers_and_the_effect_happens_exactly_once(
        nats_env: NatsEnv, database_url: str) -> None:
    db = _crash_db(database_url)
    subject, durable, key = nats_env.subject("case.created"), "cityops.crash.after", f"case-{uuid.uuid4()}"

    asyncio.run(_publish_one(nats_env, subject, key))

    crashed = _crash_consumer(nats_env, mode="after-commit", subject=subject, durable=durable,
                              db_url=db.url)
    assert crashed.returncode == 1, crashed.stdout + crashed.stderr
    assert "after commit, before ack, delivery 1" in crashed.stdout
    assert _effects(db, key) == (1, 1)  # committed by the process that died
    assert asyncio.run(nats_env.consumer_state(durable)) == (0, 1)  # ...but never acknowledged

    deliveries = _recover_in_process(nats_env, db, subject, durable)

    assert deliveries == [2]  # the redelivery came, once
    assert _effects(db, key) == (1, 1)  # and changed nothing: exactly once in effect
    assert asyncio.run(nats_env.consumer_state(durable)) == (0, 0)  # finally acknowledged
    db.dispose()


def test_crash_before_commit_redelivers_and_the_redelivery_applies_it_once(
        nats_env: NatsEnv, database_url: str) -> None:
    db = _crash_db(database_url)
    subject, durable, key = nats_env.subject("case.created"), "cityops.crash.before", f"case-{uuid.uuid4()}"

    asyncio.run(_publish_one(nats_env, subject, key))

    crashed = _crash_consumer(nats_env, mode="before-commit", subject=subject, durable=durable,
                              db_url=db.url)
    assert crashed.returncode == 1, crashed.stdout + crashed.stderr
    assert "before commit, delivery 1" in crashed.stdout
    assert _effects(db, key) == (0, 0)  # the uncommitted write died with the process
    assert asyncio.run(nats_env.consumer_state(durable)) == (0, 1)

    deliveries = _recover_in_process(nats_env, db, subject, durable)

    assert deliveries == [2]
    assert _effects(db, key) == (1, 1)
    with db.session() as session:
        assert session.execute(text("SELECT delivery FROM bus_test_effects WHERE message_key = :k"),
                               {"k": key}).scalar_one() == 2
    assert asyncio.run(nats_env.consumer_state(durable)) == (0, 0)
    db.dispose()


def test_handler_that_always_fails_is_dead_lettered_after_max_deliver(nats_env: NatsEnv) -> None:
    subject = nats_env.subject("case.assigned")
    attempts: list[int] = []
    dead, sink = _dead_letter_collector()

    async def failing(message: Message) -> None:
        attempts.append(message.delivery)
        raise RuntimeError("区划不存在")

    async def scenario() -> None:
        bus = nats_env.bus(max_deliver=2, ack_wait_s=1.0, retry_delay_s=0.05, dead_letter=sink)
        try:
            await bus.subscribe(subject, durable="always-fails", handler=failing)
            await bus.publish(subject, {"case": 7}, key="case-7-assigned")
            await _wait_until(lambda: len(dead) == 1)
            await bus.drain(5)
            await asyncio.sleep(0.3)  # nothing more may arrive after the dead letter
        finally:
            await bus.close()
        assert attempts == [1, 2]
        message, error = dead[0]
        assert (message.key, message.delivery, message.payload) == ("case-7-assigned", 2, {"case": 7})
        assert "RuntimeError" in error and "区划不存在" in error
        assert await nats_env.consumer_state("always-fails") == (0, 0)  # terminated, not left pending

    asyncio.run(scenario())


def test_handler_that_fails_once_succeeds_on_redelivery_without_dead_letter(nats_env: NatsEnv) -> None:
    subject = nats_env.subject("case.closed")
    attempts: list[int] = []
    dead, sink = _dead_letter_collector()

    async def flaky(message: Message) -> None:
        attempts.append(message.delivery)
        if message.delivery == 1:
            raise ConnectionError("database restarting")

    async def scenario() -> None:
        bus = nats_env.bus(max_deliver=3, retry_delay_s=0.05, dead_letter=sink)
        try:
            await bus.subscribe(subject, durable="flaky", handler=flaky)
            await bus.publish(subject, {"case": 8}, key="case-8-closed")
            await _wait_until(lambda: len(attempts) == 2)
            await bus.drain(5)
        finally:
            await bus.close()
        assert attempts == [1, 2]
        assert dead == []
        assert await nats_env.consumer_state("flaky") == (0, 0)

    asyncio.run(scenario())


def test_non_json_payload_is_dead_lettered_and_the_consumer_keeps_going(nats_env: NatsEnv) -> None:
    subject = nats_env.subject("sensor.reading")
    received, handler = _collector()
    dead, sink = _dead_letter_collector()

    async def scenario() -> None:
        bus = nats_env.bus(dead_letter=sink)
        try:
            await bus.subscribe(subject, durable="sensor-readings", handler=handler)
            await nats_env.publish_raw(subject, b"{not json \xff")
            await nats_env.publish_raw(subject, b"[1, 2]")  # JSON, but not an object
            await bus.publish(subject, {"value": 21.5, "unit": "℃"}, key="reading-1")
            await _wait_until(lambda: len(received) == 1 and len(dead) == 2)
            await bus.drain(5)
        finally:
            await bus.close()
        assert [m.payload for m in received] == [{"value": 21.5, "unit": "℃"}]
        assert [m.delivery for m, _ in dead] == [1, 1]  # dead-lettered at once, not retried
        assert dead[0][0].payload["raw"].startswith("{not json")
        assert dead[0][0].subject == subject and dead[0][0].key  # a key even without headers
        assert all("undecodable payload" in error for _, error in dead)
        assert await nats_env.consumer_state("sensor-readings") == (0, 0)

    asyncio.run(scenario())


def test_drain_waits_for_every_published_message_to_be_handled(nats_env: NatsEnv) -> None:
    subject = nats_env.subject("bulk")
    handled: list[str] = []

    async def slow(message: Message) -> None:
        await asyncio.sleep(0.01)
        handled.append(message.key)

    async def scenario() -> None:
        bus = nats_env.bus()
        try:
            await bus.subscribe(subject, durable="bulk", handler=slow)
            for i in range(20):
                await bus.publish(subject, {"i": i}, key=f"bulk-{i}")
            await bus.drain(10)
            assert handled == [f"bulk-{i}" for i in range(20)]  # all of them, in order
        finally:
            await bus.close()

    asyncio.run(scenario())
