"""Notifications as signed HTTP POSTs to one webhook (a chat bot, the city's message centre, an SMS gateway).

`send` never raises: a deadline sweep must not fail because a receiver is down. Connection errors, time-outs,
429 and 5xx are retried with exponential backoff; what still fails goes to `on_failure` (a dead letter, see
`build_notifier`) and to the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Final

import httpx
import structlog

from cityops.core.clock import Clock, SystemClock
from cityops.core.consumers import record_dead_letter
from cityops.core.db import Database
from cityops.core.settings import Settings
from cityops.notify.base import MemoryNotifier, Notification, Notifier

SIGNATURE_HEADER: Final = "X-CityOps-Signature"
DELIVERY_HEADER: Final = "X-CityOps-Delivery"  # the same on every retry, so a receiver can drop duplicates
EVENT_HEADER: Final = "X-CityOps-Event"
RETRY_STATUSES: Final = frozenset({408, 429})

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class FailedDelivery:
    notification: Notification
    delivery_id: str
    body: str
    error: str
    attempts: int


def sign(body: bytes, secret: str) -> str:
    """The signature header's value: receivers recompute it over the raw body with the shared secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def render(notification: Notification, sent_at: str) -> bytes:
    payload: dict[str, Any] = {**asdict(notification), "sent_at": sent_at}
    return json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")


class WebhookNotifier:
    """POSTs each notification as JSON. `retries` is how many times a failed attempt is tried again."""

    def __init__(self, url: str, secret: str | None = None, *, timeout_s: float = 5, retries: int = 3,
                 backoff_s: float = 0.5, on_failure: Callable[[FailedDelivery], None] | None = None,
                 clock: Clock | None = None, sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self._secret = secret
        self._retries = max(0, retries)
        self._backoff_s = backoff_s
        self._on_failure = on_failure
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def send(self, notification: Notification) -> None:
        delivery_id = uuid.uuid4().hex
        body = render(notification, self._clock.now().isoformat())
        headers = self._headers(body, delivery_id, notification.kind)
        error, attempts = "", 0
        for attempts in range(1, self._retries + 2):
            error, retry = self._attempt(body, headers)
            if not error or not retry or attempts > self._retries:
                break
            self._sleep(self._backoff_s * 2 ** (attempts - 1))
        if error:
            self._failed(FailedDelivery(notification, delivery_id, body.decode("utf-8"), error, attempts))

    def close(self) -> None:
        self._client.close()

    def _headers(self, body: bytes, delivery_id: str, kind: str) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8", DELIVERY_HEADER: delivery_id,
                   EVENT_HEADER: kind}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(body, self._secret)
        return headers

    def _attempt(self, body: bytes, headers: dict[str, str]) -> tuple[str, bool]:
        """("", _) on success, else (what went wrong, whether trying again may help)."""
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.TransportError as exc:  # refused, reset, timed out: the receiver may be back soon
            return f"{type(exc).__name__}: {exc}", True
        if response.is_success:
            return "", False
        retry = response.status_code >= 500 or response.status_code in RETRY_STATUSES
        return f"HTTP {response.status_code}: {response.text[:200]}", retry

    def _failed(self, failure: FailedDelivery) -> None:
        log.error("notify.webhook_failed", url=self.url, kind=failure.notification.kind,
                  case_id=failure.notification.case_id, attempts=failure.attempts, error=failure.error)
        if self._on_failure is None:
            return
        try:
            self._on_failure(failure)
        except Exception:  # the caller is promised no exception, whatever the callback does
            log.exception("notify.on_failure_failed", delivery_id=failure.delivery_id)


def build_notifier(settings: Settings, db: Database, *, sleep: Callable[[float], None] = time.sleep) -> Notifier:
    """The webhook when CITYOPS_NOTIFY_WEBHOOK_URL is set (failures kept as dead letters), else memory."""
    if not settings.notify_webhook_url:
        return MemoryNotifier()
    secret = settings.notify_webhook_secret.get_secret_value() if settings.notify_webhook_secret else None

    def dead_letter(failure: FailedDelivery) -> None:
        record_dead_letter(db, source="notify", subject=failure.notification.kind, key=failure.delivery_id,
                           payload=failure.body, error=failure.error, deliveries=failure.attempts)

    return WebhookNotifier(settings.notify_webhook_url, secret, on_failure=dead_letter, sleep=sleep)
