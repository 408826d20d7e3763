"""WebhookNotifier against a real HTTP receiver on 127.0.0.1: the body, the signature, retries after 5xx and
refused connections, and the dead letter once every attempt has failed."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from cityops.core.clock import FixedClock
from cityops.core.models import DeadLetter
from cityops.notify.base import MemoryNotifier, Notification
from cityops.notify.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    FailedDelivery,
    WebhookNotifier,
    build_notifier,
)
from cityops.platform import Platform
from tests.conftest import make_settings

SECRET = "shared-webhook-secret"
SENT_AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
NOTICE = Notification(kind="case.escalated", title="案件 T000001 升级督办至领导", case_id=1, case_number="T000001",
                      region_code="370303001001001", department_id=2, level=2, data={"reason": "超期 25 小时"})


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """Answers each POST with the next status in `statuses` (the last one repeats) and keeps what came."""

    url: str
    statuses: list[int] = field(default_factory=lambda: [204])
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(Received(body, dict(self.headers.items())))
            status = state.statuses.pop(0) if len(state.statuses) > 1 else state.statuses[0]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def notifier(url: str, *, secret: str | None = SECRET, retries: int = 3,
             failures: list[FailedDelivery] | None = None, sleeps: list[float] | None = None) -> WebhookNotifier:
    return WebhookNotifier(url, secret, timeout_s=2, retries=retries, clock=FixedClock(SENT_AT),
                           on_failure=failures.append if failures is not None else None,
                           sleep=sleeps.append if sleeps is not None else lambda _: None)


def test_the_notification_arrives_as_utf8_json(receiver: Receiver):
    notifier(receiver.url).send(NOTICE)
    (request,) = receiver.received
    assert "升级督办" in request.body.decode("utf-8")  # not \\u escapes
    body = json.loads(request.body)
    assert body == {"kind": "case.escalated", "title": NOTICE.title, "case_id": 1, "case_number": "T000001",
                    "region_code": "370303001001001", "department_id": 2, "level": 2,
                    "data": {"reason": "超期 25 小时"}, "sent_at": "2026-03-02T02:00:00+00:00"}
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers["X-CityOps-Event"] == "case.escalated"


def test_the_receiver_can_verify_the_signature_with_the_shared_secret(receiver: Receiver):
    notifier(receiver.url).send(NOTICE)
    (request,) = receiver.received
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers[SIGNATURE_HEADER], f"sha256={expected}")


def test_without_a_secret_nothing_is_signed(receiver: Receiver):
    notifier(receiver.url, secret=None).send(NOTICE)
    assert SIGNATURE_HEADER not in receiver.received[0].headers


def test_a_500_is_retried_with_backoff_and_the_same_delivery_id(receiver: Receiver):
    receiver.statuses = [500, 503, 204]
    sleeps: list[float] = []
    failures: list[FailedDelivery] = []
    notifier(receiver.url, sleeps=sleeps, failures=failures).send(NOTICE)
    assert len(receiver.received) == 3 and failures == []
    assert sleeps == [0.5, 1.0]
    assert len({r.headers[DELIVERY_HEADER] for r in receiver.received}) == 1  # receivers can drop duplicates
    assert len({r.body for r in receiver.received}) == 1


def test_repeated_failures_end_in_on_failure_without_raising(receiver: Receiver):
    receiver.statuses = [500]
    failures: list[FailedDelivery] = []
    notifier(receiver.url, retries=2, failures=failures).send(NOTICE)  # must not raise
    assert len(receiver.received) == 3  # the first attempt and two retries
    (failure,) = failures
    assert (failure.attempts, failure.error.startswith("HTTP 500")) == (3, True)
    assert json.loads(failure.body)["case_number"] == "T000001"


def test_a_client_error_is_not_retried(receiver: Receiver):
    receiver.statuses = [400]
    failures: list[FailedDelivery] = []
    notifier(receiver.url, failures=failures).send(NOTICE)
    assert len(receiver.received) == 1 and failures[0].attempts == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_is_retried_then_reported():
    failures: list[FailedDelivery] = []
    sleeps: list[float] = []
    notifier(f"http://127.0.0.1:{free_port()}/hook", failures=failures, sleeps=sleeps).send(NOTICE)
    assert failures[0].attempts == 4 and "ConnectError" in failures[0].error
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_failing_on_failure_callback_is_swallowed_too(receiver: Receiver):
    receiver.statuses = [500]

    def explode(_: FailedDelivery) -> None:
        raise RuntimeError("dead-letter store down")

    WebhookNotifier(receiver.url, None, retries=0, on_failure=explode).send(NOTICE)  # must not raise


# --- build_notifier -----------------------------------------------------------------------------------


def test_without_a_url_the_notifier_is_the_memory_one(platform: Platform):
    assert isinstance(build_notifier(platform.settings, platform.db), MemoryNotifier)


def test_a_configured_webhook_writes_a_dead_letter_after_its_last_attempt(platform: Platform, tmp_path: Path):
    settings = make_settings(tmp_path, platform.db.url, notify_webhook_url=f"http://127.0.0.1:{free_port()}/x",
                             notify_webhook_secret=SecretStr(SECRET))
    built = build_notifier(settings, platform.db, sleep=lambda _: None)  # no real backoff against a closed port
    assert isinstance(built, WebhookNotifier)
    built.send(NOTICE)
    with platform.db.session() as session:
        letter = session.scalars(select(DeadLetter)).one()
        assert (letter.source, letter.subject, letter.deliveries) == ("notify", "case.escalated", 4)
        assert json.loads(letter.payload)["title"] == NOTICE.title and "ConnectError" in letter.error
