"""The MQTT ingestion consumer: telemetry from the broker into `ingest_many`, in batches, for as long as asked.

Subscribes with QoS 1 to `$share/{group}/cityops/v1/+/telemetry` and `$share/{group}/cityops/v1/gateways/+/telemetry`
(MQTT v5 shared subscriptions: several ingestion processes in one group split the messages between them) or,
with shared=False, to the plain topics.
Messages are collected into batches (up to `batch_max`, or whatever arrived within `batch_wait_s` of the first)
and stored by `ingest_many` in a worker thread, one transaction per batch, so the event loop keeps receiving.

The client knows topics and bytes only; payloads are checked by payload.py inside ingest. A bad message is
dead-lettered there, a topic outside the scheme is dead-lettered here, and neither stops the loop. When the
broker goes away (aiomqtt raises MqttError) the consumer reconnects with exponential backoff and subscribes
again. QoS 1 is at least once: a message can arrive twice, and readings are unique per (device, metric, ts),
so a redelivery stores nothing twice. A failing database keeps the batch and retries it with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

import aiomqtt

from cityops.platform import Platform
from cityops.sensing import service
from cityops.sensing.ingest import Inbound, ingest_many
from cityops.sensing.payload import device_from_topic, gateway_from_topic

log = logging.getLogger(__name__)

SOURCE: Final = "sensing.mqtt"
TELEMETRY_FILTER: Final = "cityops/v1/+/telemetry"
GATEWAY_FILTER: Final = "cityops/v1/gateways/+/telemetry"  # one level deeper: the device filter never matches it
BACKOFF_START_S: Final = 0.1
BACKOFF_MAX_S: Final = 5.0
BATCH_POLL_S: Final = 0.005


@dataclass
class IngestionStats:
    """What the consumer has done so far; `subscribed` is set each time a (re)subscription is in place."""

    connects: int = 0
    messages: int = 0
    accepted: int = 0
    readings: int = 0  # readings of accepted entries (a batch message carries many)
    stored: int = 0
    dead_lettered: int = 0
    batches: int = 0
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)


def broker_address(url: str) -> tuple[str, int]:
    """`mqtt://host:port` (or `tcp://`) → (host, port); the port defaults to 1883."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise ValueError(f"MQTT 地址应为 mqtt://主机:端口 / the MQTT URL must be mqtt://host:port, not {url!r}")
    return parts.hostname, parts.port or 1883


def subscriptions(*, shared: bool, group: str) -> list[str]:
    """The device and the gateway telemetry filters, in the shared group or plain."""
    return [f"$share/{group}/{f}" if shared else f for f in (TELEMETRY_FILTER, GATEWAY_FILTER)]


def store_batch(platform: Platform, messages: Sequence[tuple[str, bytes]], stats: IngestionStats) -> None:
    """(topic, payload) messages: telemetry topics go to ingest, any other topic straight to dead letters."""
    telemetry: list[Inbound] = []
    strays: list[tuple[str, bytes]] = []
    for topic, payload in messages:
        device_id = device_from_topic(topic)
        if device_id is not None:
            telemetry.append(Inbound(device_id, payload))
            continue
        gateway_id = gateway_from_topic(topic)
        if gateway_id is not None:
            telemetry.append(Inbound(gateway_id, payload, True))
        else:
            strays.append((topic, payload))
    if strays:
        with platform.uow() as uow:
            now = uow.clock.now()
            for topic, payload in strays:
                service.add_dead_letter(session=uow.session, source=SOURCE, subject=topic, key=None, raw=payload,
                                        error=f"bad_topic [topic]: not cityops/v1/{{device_id}}/telemetry nor "
                                              f"cityops/v1/gateways/{{gateway_id}}/telemetry: {topic[:120]!r}",
                                        at=now)
            uow.commit()
    results = ingest_many(platform, telemetry, source=SOURCE)
    stats.messages += len(messages)
    stats.dead_lettered += len(strays) + sum(len(r.refused) for r in results)
    stats.accepted += sum(1 for r in results if r.accepted)
    stats.readings += sum(r.readings for r in results)
    stats.stored += sum(r.stored for r in results)
    stats.batches += 1


async def run_ingestion(platform: Platform, *, url: str | None = None, shared: bool = True, stop: asyncio.Event,
                        batch_max: int = 500, batch_wait_s: float = 0.05, group: str | None = None,
                        stats: IngestionStats | None = None) -> IngestionStats:
    """Consume telemetry until `stop` is set; returns what was done (the same object as `stats` if given)."""
    host, port = broker_address(url or platform.settings.mqtt_url)
    topics = subscriptions(shared=shared, group=group or platform.settings.mqtt_shared_group)
    stats = stats if stats is not None else IngestionStats()
    identifier = f"cityops-ingest-{socket.gethostname()}-{os.getpid()}-{id(stats):x}"
    backoff = BACKOFF_START_S
    while not stop.is_set():
        try:
            async with aiomqtt.Client(host, port, identifier=identifier, protocol=aiomqtt.ProtocolVersion.V5,
                                      keepalive=30, timeout=10) as client:
                await client.subscribe([(t, 1) for t in topics])
                stats.connects += 1
                stats.subscribed.set()
                backoff = BACKOFF_START_S
                log.info("MQTT 已订阅 / subscribed to %s on %s:%d", ", ".join(topics), host, port)
                await _consume(platform, client, stop, stats, batch_max=batch_max, batch_wait_s=batch_wait_s)
        except aiomqtt.MqttError as exc:
            stats.subscribed.clear()
            log.warning("MQTT 连接中断，%.1f 秒后重连 / broker connection lost, reconnecting in %.1fs: %s",
                        backoff, backoff, exc)
            await _sleep_unless_stopped(stop, backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)
    stats.subscribed.clear()
    return stats


async def _consume(platform: Platform, client: aiomqtt.Client, stop: asyncio.Event, stats: IngestionStats, *,
                   batch_max: int, batch_wait_s: float) -> None:
    """Receive in batches until stop is set; MqttError (broker gone) propagates to the reconnect loop."""
    messages = client.messages
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            first = asyncio.ensure_future(messages.__anext__())
            done, _ = await asyncio.wait({first, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if first not in done:
                first.cancel()
                return
            batch = [_pair(first.result())]
            loop = asyncio.get_running_loop()
            deadline = loop.time() + batch_wait_s
            while len(batch) < batch_max:
                # Only messages already queued are taken: a receive cancelled by a timeout could lose one.
                if len(messages):
                    batch.append(_pair(await messages.__anext__()))
                    continue
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                await asyncio.sleep(min(remaining, BATCH_POLL_S))
            await _store_with_retry(platform, batch, stop, stats)
    finally:
        stopping.cancel()


async def _store_with_retry(platform: Platform, batch: list[tuple[str, bytes]], stop: asyncio.Event,
                            stats: IngestionStats) -> None:
    """Bad input never raises in ingest; a database error does: keep the batch and try again, until stopped."""
    backoff = BACKOFF_START_S
    while True:
        try:
            await asyncio.to_thread(store_batch, platform, batch, stats)
            return
        except Exception:  # the database, not the message: retrying is the only way not to lose the batch
            log.exception("读数入库失败，%.1f 秒后重试 / storing a batch failed, retrying in %.1fs", backoff, backoff)
            if stop.is_set():
                raise
            await _sleep_unless_stopped(stop, backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)


def _pair(message: aiomqtt.Message) -> tuple[str, bytes]:
    payload = message.payload
    if isinstance(payload, bytes | bytearray):
        raw = bytes(payload)
    elif payload is None:
        raw = b""
    else:
        raw = str(payload).encode("utf-8")
    return message.topic.value, raw


async def _sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
