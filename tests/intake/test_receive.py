"""Intake: a report is validated, stored once per channel id, and announced; photos are checked by content."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityops.core.errors import ValidationFailed
from cityops.core.models import OutboxMessage
from cityops.intake import flows
from cityops.intake.models import Report
from cityops.intake.schemas import ReportIn
from cityops.org.access import system_principal
from cityops.platform import Platform
from tests.casefixture import MANHOLE, POINT_A, build_case_city
from tests.cityfixture import PASSWORD
from tests.web.conftest import login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def report(channel_id: str = "H-1", **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "channel": "hotline",
        "channel_report_id": channel_id,
        "text": "人民路井盖缺失，晚上很危险",
        "category_code": MANHOLE,
        "lng": POINT_A[0],
        "lat": POINT_A[1],
        "reporter": {"name": "张先生", "phone": "13800000000"},
    }
    body.update(overrides)
    return body


def count_reports(platform: Platform) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(Report)) or 0


def test_sending_the_same_report_twice_over_the_api_creates_it_once(platform: Platform, client: TestClient):
    build_case_city(platform)
    login(client, "a_dispatcher", PASSWORD)
    first = client.post("/api/v1/reports", json=report())
    again = client.post("/api/v1/reports", json=report(text="再次来电：人民路井盖缺失"))
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"] and again.json()["duplicate"] is True
    assert count_reports(platform) == 1
    other_channel = client.post("/api/v1/reports", json=report(channel="patrol"))
    assert other_channel.status_code == 201 and count_reports(platform) == 2


def test_a_redelivered_bus_message_opens_no_second_case(platform: Platform):
    """The consumer of reports.received is idempotent: the same message twice gives one case."""
    from cityops.cases.models import Case
    from cityops.core.bus.base import Message
    from cityops.triage.worker import Waker

    build_case_city(platform)
    receipt = flows.receive(platform, report=ReportIn.model_validate(report()), submitted_by=system_principal())
    message = Message(
        subject=flows.RECEIVED_SUBJECT,
        key=f"report.received:{receipt.public_id}",
        payload={"report": receipt.public_id},
    )

    def status() -> str | None:
        with platform.db.session() as session:
            return session.scalar(select(Report.status))

    async def deliver_twice() -> None:
        waker = Waker(platform, poll_s=3600)  # only the messages can wake it within the test
        running = asyncio.create_task(waker.run())
        try:
            for _ in range(2):
                await waker.handle(message)
                for _ in range(200):
                    await asyncio.sleep(0.05)
                    if status() != "received":
                        break
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running

    asyncio.run(deliver_twice())
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
    assert status() == "triaged"


def test_the_same_report_twice_publishes_one_message(platform: Platform):
    build_case_city(platform)
    body = ReportIn.model_validate(report())
    flows.receive(platform, report=body, submitted_by=system_principal())
    flows.receive(platform, report=body, submitted_by=system_principal())
    with platform.db.session() as session:
        subjects = session.scalars(
            select(OutboxMessage.subject).where(OutboxMessage.subject == flows.RECEIVED_SUBJECT)
        ).all()
    assert subjects == [flows.RECEIVED_SUBJECT]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": " "}, "text"),
        ({"channel": "fax"}, "channel"),
        ({"lng": 200.0}, "lng"),
        ({"channel": "portal", "lng": None, "lat": None, "address": None}, ""),
        ({"lat": None}, ""),
        ({"reporter": {"phone": "call me"}}, "reporter.phone"),
        ({"reported_at": "2026-11-22T09:30:00"}, "reported_at"),
        ({"photos": ["nope.jpg"]}, "photos.0"),
    ],
)
def test_bad_reports_are_refused_naming_the_field(
    platform: Platform, client: TestClient, change: dict[str, object], field: str
):
    build_case_city(platform)
    login(client, "a_dispatcher", PASSWORD)
    response = client.post("/api/v1/reports", json=report(**change))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation.invalid"
    if field:
        assert any(e["field"].startswith(field.split(".")[0]) for e in error.get("errors", [error]))
    assert count_reports(platform) == 0


def test_a_photo_is_checked_by_content_and_stored_once(platform: Platform, client: TestClient):
    build_case_city(platform)
    login(client, "a_grid_worker", PASSWORD)
    first = client.post("/api/v1/photos", files={"file": ("a.png", PNG, "image/png")})
    again = client.post("/api/v1/photos", files={"file": ("renamed.jpg", PNG, "image/jpeg")})
    assert first.status_code == 201 and first.json() == again.json()
    assert first.json()["id"].endswith(".png")
    fake = client.post("/api/v1/photos", files={"file": ("evil.jpg", b"<script>alert(1)</script>", "image/jpeg")})
    assert fake.status_code == 422 and fake.json()["error"]["field"] == "photo"
    assert client.post("/api/v1/photos", files={"file": ("b.jpg", JPEG, "image/jpeg")}).json()["id"].endswith(".jpg")
    downloaded = client.get(f"/api/v1/photos/{first.json()['id']}")
    assert downloaded.status_code == 200 and downloaded.content == PNG


def test_an_oversized_photo_is_refused(platform: Platform):
    with pytest.raises(ValidationFailed) as caught:
        flows.store_photo(platform, PNG + b"\x00" * platform.settings.photo_max_bytes)
    assert caught.value.field == "photo"


def test_a_report_with_a_stored_photo_is_accepted_and_an_unknown_one_refused(platform: Platform, client: TestClient):
    build_case_city(platform)
    login(client, "a_grid_worker", PASSWORD)
    photo = client.post("/api/v1/photos", files={"file": ("a.png", PNG, "image/png")}).json()["id"]
    assert client.post("/api/v1/reports", json=report(channel="patrol", photos=[photo])).status_code == 201
    unknown = "0" * 64 + ".png"
    refused = client.post("/api/v1/reports", json=report(channel="patrol", channel_report_id="P-2", photos=[unknown]))
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "photos[0]"


def test_a_hotline_report_may_carry_its_place_in_the_text_alone(platform: Platform, client: TestClient):
    build_case_city(platform)
    login(client, "a_dispatcher", PASSWORD)
    response = client.post("/api/v1/reports", json=report(lng=None, lat=None, address=None,
                                                          text="张店区车站街道华光路路灯不亮"))
    assert response.status_code == 201, response.text
    assert count_reports(platform) == 1


def test_an_api_key_is_checked_on_every_report_also_once_remembered(platform: Platform, client: TestClient):
    """Intake answers a remembered caller without a thread hop; an unknown key or none is still refused."""
    from cityops.org import flows as org_flows

    build_case_city(platform)
    _, token = org_flows.create_api_key(platform, actor=None, name="hotline system", role="system",
                                        region_code="370303")
    first = client.post("/api/v1/reports", json=report("K-1"), headers={"X-API-Key": token})
    second = client.post("/api/v1/reports", json=report("K-2"), headers={"Authorization": f"Bearer {token}"})
    assert (first.status_code, second.status_code) == (201, 201)
    wrong = client.post("/api/v1/reports", json=report("K-3"), headers={"X-API-Key": token + "x"})
    wrong_again = client.post("/api/v1/reports", json=report("K-4"), headers={"X-API-Key": token + "x"})
    anonymous = client.post("/api/v1/reports", json=report("K-5"))
    assert (wrong.status_code, wrong_again.status_code, anonymous.status_code) == (401, 401, 401)
    assert count_reports(platform) == 2
