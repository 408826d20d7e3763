"""NATS JetStream bus: durable, at-least-once delivery between processes.

One stream (default "CITYOPS", subjects "cityops.>") holds every message. Each `subscribe` is a durable pull
consumer; a background task fetches from it and hands messages to the handler one at a time. A message is
acknowledged only after its handler returned (the handler commits its own transaction), so a crash before
that means redelivery after `ack_wait_s`, and the message key (also the JetStream `Nats-Msg-Id`, which
dedupes publishes within the stream's duplicate window) lets the handler make the redelivery change nothing.

A handler that raises gets the message again after a short back-off; on the `max_deliver`-th failed delivery
the message goes to the dead-letter sink and is terminated. A payload that is not a JSON object can never
succeed, so it goes to the dead-letter sink at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from nats import errors as nats_errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import APIError, BadRequestError, NotFoundError

from cityops.core.bus.base import Bus, DeadLetterSink, Handler, Message
from cityops.core.errors import ConfigurationError, ServiceUnavailable

log = structlog.get_logger(__name__)

DEFAULT_STREAM = "CITYOPS"
DEFAULT_SUBJECTS: tuple[str, ...] = ("cityops.>",)
MSG_ID_HEADER = "Nats-Msg-Id"
KEY_HEADER = "Cityops-Key"
_STREAM_NAME_IN_USE = 10058  # JetStream err_code: a stream with this name exists with another config

_INVALID_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def consumer_name(durable: str) -> str:
    """A valid, stable NATS consumer name for `durable`.

    NATS names may not contain `.`, `*`, `>`, whitespace or path separators. Invalid characters become `_`;
    when anything had to change, a short hash of the original keeps e.g. "a.b" and "a_b" apart.
    """
    if not durable:
        raise ConfigurationError("a durable consumer name must not be empty", field="durable")
    cleaned = _INVALID_NAME_CHARS.sub("_", durable)
    if cleaned != durable:
        cleaned = f"{cleaned}_{hashlib.sha256(durable.encode()).hexdigest()[:8]}"
    return cleaned


@dataclass
class _Subscription:
    subject: str
    durable: str
    consumer: str
    handler: Handler
    psub: JetStreamContext.PullSubscription
    task: asyncio.Task[None] | None = None
    busy: bool = False


class NatsBus(Bus):
    def __init__(self, url: str, *, connect_timeout_s: float = 5.0, ack_wait_s: float = 30.0,
                 max_deliver: int = 10, dead_letter: DeadLetterSink | None = None,
                 stream: str = DEFAULT_STREAM, subjects: Sequence[str] = DEFAULT_SUBJECTS,
                 retry_delay_s: float = 0.5, max_retry_delay_s: float = 30.0, fetch_batch: int = 1,
                 fetch_timeout_s: float = 1.0, request_timeout_s: float = 5.0, close_grace_s: float = 5.0,
                 name: str = "cityops") -> None:
        if max_deliver < 1:
            raise ConfigurationError("max_deliver must be at least 1", field="bus_max_deliver")
        if ack_wait_s <= 0:
            raise ConfigurationError("ack_wait_s must be positive", field="bus_ack_wait_s")
        self.url = url
        self.connect_timeout_s = connect_timeout_s
        self.ack_wait_s = ack_wait_s
        self.max_deliver = max_deliver
        self.stream = stream
        self.subjects = list(subjects)
        self.retry_delay_s = retry_delay_s
        self.max_retry_delay_s = max_retry_delay_s
        self.fetch_batch = fetch_batch
        self.fetch_timeout_s = fetch_timeout_s
        self.request_timeout_s = request_timeout_s
        self.close_grace_s = close_grace_s
        self.name = name
        self._dead_letter = dead_letter
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._subs: dict[str, _Subscription] = {}
        self._start_lock = asyncio.Lock()
        self._stopping = False
        self._last_error: BaseException | None = None

    # -- connection -------------------------------------------------------------------------------------

    async def _on_error(self, exc: Exception) -> None:
        self._last_error = exc
        log.warning("bus.nats.error", url=self.url, error=str(exc) or repr(exc))

    async def _on_disconnected(self) -> None:
        if self._nc is not None and not self._stopping:
            log.warning("bus.nats.disconnected", url=self.url)

    async def _on_reconnected(self) -> None:
        log.info("bus.nats.reconnected", url=self.url)

    async def start(self) -> None:
        async with self._start_lock:
            if self._js is not None:
                return
            nc = NatsClient()
            try:
                await asyncio.wait_for(
                    nc.connect(
                        self.url,
                        name=self.name,
                        error_cb=self._on_error,
                        disconnected_cb=self._on_disconnected,
                        reconnected_cb=self._on_reconnected,
                        connect_timeout=max(1, round(self.connect_timeout_s)),
                        reconnect_time_wait=1,
                        max_reconnect_attempts=-1,  # once connected, keep trying through outages
                    ),
                    timeout=self.connect_timeout_s,
                )
            except (TimeoutError, OSError, nats_errors.Error) as exc:
                cause = self._last_error or exc
                with contextlib.suppress(Exception):
                    await nc.close()
                raise ServiceUnavailable(
                    f"cannot connect to NATS at {self.url} within {self.connect_timeout_s:g}s: "
                    f"{str(cause) or type(cause).__name__}"
                ) from exc
            js = nc.jetstream(timeout=self.request_timeout_s)
            try:
                await self._ensure_stream(js)
            except BaseException:
                with contextlib.suppress(Exception):
                    await nc.close()
                raise
            self._nc, self._js = nc, js
            self._stopping = False
            log.info("bus.nats.connected", url=self.url, stream=self.stream)

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        """Create the stream, or widen an existing one to cover our subjects."""
        try:
            try:
                info = await js.stream_info(self.stream)
            except NotFoundError:
                try:
                    await js.add_stream(StreamConfig(name=self.stream, subjects=list(self.subjects)))
                    return
                except BadRequestError as exc:
                    if exc.err_code != _STREAM_NAME_IN_USE:
                        raise
                    info = await js.stream_info(self.stream)  # created meanwhile by another process
            existing = list(info.config.subjects or [])
            missing = [s for s in self.subjects if s not in existing]
            if missing:
                info.config.subjects = existing + missing
                await js.update_stream(info.config)
        except (BadRequestError, NotFoundError) as exc:
            raise ConfigurationError(
                f"NATS stream {self.stream!r} for subjects {self.subjects} cannot be set up: "
                f"{exc.description}"
            ) from exc
        except (TimeoutError, nats_errors.NoRespondersError, APIError) as exc:
            raise ServiceUnavailable(
                f"NATS at {self.url} does not serve JetStream requests (is JetStream enabled, -js?): {exc!r}"
            ) from exc

    async def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            await self.start()
        assert self._js is not None
        return self._js

    # -- publishing -------------------------------------------------------------------------------------

    async def publish(self, subject: str, payload: dict[str, Any], *, key: str) -> None:
        js = await self._jetstream()
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {MSG_ID_HEADER: key, KEY_HEADER: key}
        ack = await js.publish(subject, data, stream=self.stream, headers=headers)
        if ack.duplicate:
            log.debug("bus.nats.duplicate_publish", subject=subject, key=key, seq=ack.seq)

    # -- consuming --------------------------------------------------------------------------------------

    async def subscribe(self, subject: str, *, durable: str, handler: Handler) -> None:
        js = await self._jetstream()
        if durable in self._subs:
            raise ConfigurationError(f"this bus already has a subscription named {durable!r}",
                                     field="durable")
        name = consumer_name(durable)
        config = ConsumerConfig(
            name=name,
            durable_name=name,
            description=f"cityops consumer {durable}",
            filter_subject=subject,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_s,
            max_deliver=self.max_deliver,
        )
        try:
            await js.add_consumer(self.stream, config=config)
        except BadRequestError as exc:
            # An existing durable whose settings cannot be changed in place: use it if it reads our subject.
            info = await js.consumer_info(self.stream, name)
            if info.config.filter_subject != subject:
                raise ConfigurationError(
                    f"NATS consumer {name!r} exists with subject {info.config.filter_subject!r}, "
                    f"not {subject!r}; delete it or choose another durable name: {exc.description}",
                    field="durable",
                ) from exc
            log.warning("bus.nats.consumer_config_kept", consumer=name, error=exc.description)
        psub = await js.pull_subscribe_bind(consumer=name, stream=self.stream)
        sub = _Subscription(subject=subject, durable=durable, consumer=name, handler=handler, psub=psub)
        sub.task = asyncio.create_task(self._run(sub), name=f"bus:{durable}")
        self._subs[durable] = sub

    async def _run(self, sub: _Subscription) -> None:
        failures = 0
        while not self._stopping:
            try:
                msgs = await sub.psub.fetch(self.fetch_batch, timeout=self.fetch_timeout_s)
            except TimeoutError:  # nothing to do right now
                continue
            except Exception as exc:  # connection trouble: keep the consumer alive and try again
                failures += 1
                log.warning("bus.nats.fetch_failed", consumer=sub.consumer, error=repr(exc))
                await asyncio.sleep(min(0.1 * 2 ** min(failures, 8), 5.0))
                continue
            failures = 0
            for index, msg in enumerate(msgs):
                if self._stopping:  # give the rest back at once instead of letting them wait out ack_wait
                    for rest in msgs[index:]:
                        with contextlib.suppress(Exception):
                            await rest.nak()
                    break
                sub.busy = True
                try:
                    await self._process(sub, msg)
                except Exception:  # never let one message stop the consumer; it will be redelivered
                    log.exception("bus.nats.process_failed", consumer=sub.consumer, subject=msg.subject)
                finally:
                    sub.busy = False

    async def _process(self, sub: _Subscription, msg: Msg) -> None:
        meta = msg.metadata
        delivery = meta.num_delivered or 1
        headers = dict(msg.headers or {})
        key = (headers.get(KEY_HEADER) or headers.get(MSG_ID_HEADER)
               or f"{meta.stream}:{meta.sequence.stream if meta.sequence else '?'}")
        try:
            payload = json.loads(msg.data.decode("utf-8"))
            if not isinstance(payload, dict):
                raise ValueError(f"payload is a JSON {type(payload).__name__}, not an object")
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raw = Message(subject=msg.subject, key=key, delivery=delivery, headers=headers,
                          payload={"raw": msg.data.decode("utf-8", errors="replace")})
            log.error("bus.nats.undecodable", consumer=sub.consumer, subject=msg.subject, key=key)
            await self._send_to_dead_letter(raw, f"undecodable payload: {exc!r}")
            await msg.term()
            return

        message = Message(subject=msg.subject, key=key, payload=payload, delivery=delivery, headers=headers)
        try:
            await self._run_handler(sub, msg, message)
        except Exception as exc:  # a failing handler must never stop the consumer
            if delivery >= self.max_deliver:
                log.error("bus.dead_letter", consumer=sub.consumer, subject=message.subject, key=key,
                          deliveries=delivery, error=str(exc))
                await self._send_to_dead_letter(message, repr(exc))
                await msg.term()
                return
            delay = min(self.retry_delay_s * 2 ** (delivery - 1), self.max_retry_delay_s)
            log.warning("bus.redeliver", consumer=sub.consumer, subject=message.subject, key=key,
                        delivery=delivery, retry_in_s=delay, error=str(exc))
            await msg.nak(delay=delay)
            return
        try:
            await msg.ack_sync(timeout=self.request_timeout_s)
        except Exception as exc:  # the handler is idempotent: a lost ack only means one harmless redelivery
            log.warning("bus.nats.ack_failed", consumer=sub.consumer, key=key, error=repr(exc))

    async def _run_handler(self, sub: _Subscription, msg: Msg, message: Message) -> None:
        """Run the handler, telling the server it is still in progress so a slow one is not redelivered."""
        task = asyncio.ensure_future(sub.handler(message))
        interval = max(self.ack_wait_s / 2, 0.1)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=interval)
                if done:
                    task.result()
                    return
                with contextlib.suppress(Exception):
                    await msg.in_progress()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def _send_to_dead_letter(self, message: Message, error: str) -> None:
        if self._dead_letter is None:
            log.error("bus.nats.dead_letter_dropped", subject=message.subject, key=message.key,
                      payload=message.payload, error=error)
            return
        for attempt in range(1, 4):
            try:
                await self._dead_letter(message, error)
                return
            except Exception as exc:
                log.warning("bus.nats.dead_letter_failed", key=message.key, attempt=attempt, error=repr(exc))
                await asyncio.sleep(0.2 * attempt)
        # Keep the message at least in the log: it is terminated on the bus after this.
        log.error("bus.nats.dead_letter_lost", subject=message.subject, key=message.key,
                  payload=message.payload, error=error)

    # -- lifecycle --------------------------------------------------------------------------------------

    async def outstanding(self) -> int:
        """Messages of this bus's consumers not yet acknowledged: waiting, in flight or due for a retry."""
        js = await self._jetstream()
        total = 0
        for sub in self._subs.values():
            info = await js.consumer_info(self.stream, sub.consumer)
            total += info.num_pending + info.num_ack_pending
        return total

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait (best effort) until this bus's consumers have nothing pending or unacknowledged."""
        if self._js is None or not self._subs:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        left = -1
        while loop.time() < deadline:
            try:
                left = await self.outstanding()
            except Exception as exc:
                log.warning("bus.nats.drain_check_failed", error=repr(exc))
            else:
                if left == 0:
                    return
            await asyncio.sleep(0.05)
        log.warning("bus.nats.drain_timeout", timeout_s=timeout, outstanding=left)

    async def close(self) -> None:
        self._stopping = True
        subs = list(self._subs.values())
        self._subs.clear()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.close_grace_s
        for sub in subs:
            task = sub.task
            if task is None:
                continue
            # Let a handler that is running finish (and ack); a task waiting in fetch can go at once.
            while sub.busy and not task.done() and loop.time() < deadline:
                await asyncio.sleep(0.02)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for sub in subs:
            with contextlib.suppress(Exception):
                await sub.psub.unsubscribe()
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            try:
                await asyncio.wait_for(nc.drain(), timeout=self.close_grace_s)
            except Exception:
                with contextlib.suppress(Exception):
                    await nc.close()
