"""Ingestion: readings stored, devices heard from, every refused message kept in dead letters with its bytes;
and the HTTP endpoint for devices that cannot speak MQTT."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityops.core.clock import FixedClock
from cityops.core.models import DeadLetter, OutboxMessage
from cityops.org import flows as org_flows
from cityops.platform import Platform
from cityops.sensing import service
from cityops.sensing.ingest import STATUS_SUBJECT, Inbound, ingest, ingest_gateway, ingest_many
from cityops.sensing.models import SensorReading
from tests.cityfixture import PASSWORD, STREET_A, STREET_B, build_small_city
from tests.conftest import START
from tests.sensing.conftest import seed_devices
from tests.web.conftest import login

TS = "2026-03-01T16:00:00+08:00"
GOOD = json.dumps({"ts": TS, "metrics": {"water_level": 3.1}, "seq": 1}).encode()


@pytest.fixture
def city(platform: Platform) -> None:
    build_small_city(platform)
    seed_devices(platform)


def dead_letters(platform: Platform) -> list[DeadLetter]:
    with platform.db.session() as session:
        return list(session.scalars(select(DeadLetter).order_by(DeadLetter.id)))


def reading_count(platform: Platform) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(SensorReading)) or 0


@pytest.mark.usefixtures("city")
def test_a_good_message_is_stored_and_the_device_is_online(platform: Platform) -> None:
    result = ingest(platform, "WL-001", GOOD, source="mqtt")
    assert (result.accepted, result.stored, result.came_online) == (True, 1, False)
    with platform.db.session() as session:
        (reading,) = service.readings(session=session, device_id="WL-001")
        device = service.get_or_raise(session=session, device_id="WL-001")
    assert (reading.metric, reading.value, reading.ts) == ("water_level", 3.1, START)
    assert (device.status, device.last_seen_at) == ("online", START)
    assert dead_letters(platform) == []


@pytest.mark.usefixtures("city")
@pytest.mark.parametrize(("device_id", "raw", "error"), [
    ("WL-001", b"\xff\x00garbage", "not_json"),
    ("NOPE-9", GOOD, "unknown_device [device_id]"),
    ("WL-001", json.dumps({"ts": TS, "metrics": {"pm25": 1}}).encode(), "unknown_metric [metrics.pm25]"),
    ("WL-001", json.dumps({"ts": TS, "metrics": {"water_level": 500}}).encode(), "out_of_range [metrics.water_level]"),
    ("WL-001", json.dumps({"ts": "2026-03-01 16:00", "metrics": {"water_level": 1}}).encode(), "bad_timestamp [ts]"),
    ("bad\x00id/" + "x" * 300, b"\x00\x01", "unknown_device"),
])
def test_refused_messages_are_dead_lettered_with_reason_and_bytes(platform: Platform, device_id: str, raw: bytes,
                                                                  error: str) -> None:
    result = ingest(platform, device_id, raw, source="mqtt")
    assert not result.accepted and result.reason == error.split(" ")[0]
    (letter,) = dead_letters(platform)
    assert letter.error.startswith(error)
    assert letter.source == "mqtt" and letter.subject.startswith("cityops/v1/")
    assert letter.payload.encode("utf-8").decode("unicode_escape").encode("latin-1") == raw
    assert reading_count(platform) == 0


@pytest.mark.usefixtures("city")
def test_a_batch_stores_the_good_and_dead_letters_the_bad_in_one_go(platform: Platform) -> None:
    air = json.dumps({"ts": TS, "metrics": {"pm25": 40, "pm10": 70, "o3": 90}}).encode()
    results = ingest_many(platform, [("WL-001", GOOD), ("AQ-001", air), ("WL-001", b"{}"), ("GHOST", GOOD),
                                     ("WL-001", GOOD)], source="mqtt")
    # the last message repeats the first (a redelivery): accepted, but nothing is stored twice
    assert [r.stored for r in results] == [1, 3, 0, 0, 0]
    assert [r.reason for r in results] == [None, None, "bad_timestamp", "unknown_device", None]
    assert reading_count(platform) == 4
    assert len(dead_letters(platform)) == 2
    assert ingest_many(platform, [], source="mqtt") == []


@pytest.mark.usefixtures("city")
def test_an_offline_device_comes_back_online_and_says_so(platform: Platform) -> None:
    with platform.uow() as uow:
        service.set_status(session=uow.session, device_ids=["WL-001"], status="offline")
        uow.commit()
    assert isinstance(platform.clock, FixedClock)
    platform.clock.advance(timedelta(minutes=5))
    result = ingest(platform, "WL-001", GOOD, source="http")
    assert result.came_online
    with platform.db.session() as session:
        device = service.get_or_raise(session=session, device_id="WL-001")
        messages = session.scalars(select(OutboxMessage).where(OutboxMessage.subject == STATUS_SUBJECT)).all()
    assert (device.status, device.last_seen_at) == ("online", START + timedelta(minutes=5))
    assert [(m.payload["device_id"], m.payload["status"]) for m in messages] == [("WL-001", "online")]
    assert not ingest(platform, "WL-001", GOOD, source="http").came_online


# --- batches ----------------------------------------------------------------------------------------


def at(minute: int) -> str:
    return (START + timedelta(minutes=minute)).isoformat()


def batch(*entries: dict[str, object]) -> bytes:
    return json.dumps({"readings": list(entries)}).encode()


def levels(platform: Platform, device_id: str = "WL-001") -> list[tuple[str, float]]:
    with platform.db.session() as session:
        return [(r.ts.isoformat(), r.value) for r in service.readings(session=session, device_id=device_id)]


@pytest.mark.usefixtures("city")
def test_a_devices_batch_stores_every_entry_with_its_own_time(platform: Platform) -> None:
    raw = batch({"ts": at(0), "metrics": {"water_level": 3.1}}, {"ts": at(1), "metrics": {"water_level": 3.2}},
                {"device_id": "WL-001", "ts": at(2), "metrics": {"water_level": 3.3}, "seq": 9})
    result = ingest(platform, "WL-001", raw, source="mqtt")
    assert (result.accepted, result.readings, result.stored, result.refused) == (True, 3, 3, ())
    assert levels(platform) == [(at(0), 3.1), (at(1), 3.2), (at(2), 3.3)]
    assert dead_letters(platform) == []


@pytest.mark.usefixtures("city")
def test_a_gateway_batch_stores_the_good_entries_and_dead_letters_each_bad_one(platform: Platform) -> None:
    raw = batch({"device_id": "WL-001", "ts": at(0), "metrics": {"water_level": 3.1}},
                {"device_id": "AQ-001", "ts": at(0), "metrics": {"pm25": 40, "o3": -5}},
                {"device_id": "GHOST", "ts": at(0), "metrics": {"water_level": 1}},
                {"ts": at(0), "metrics": {"water_level": 1}},
                {"device_id": "AQ-001", "ts": at(1), "metrics": {"pm25": 41, "pm10": 70}})
    result = ingest_gateway(platform, "GW-7", raw, source="mqtt")
    assert (result.accepted, result.readings, result.stored) == (True, 3, 3)
    assert [(r.position, r.device_id, r.reason, r.field) for r in result.refused] == [
        (1, "AQ-001", "out_of_range", "readings[1].metrics.o3"),
        (2, "GHOST", "unknown_device", "readings[2].device_id"),
        (3, None, "missing_device", "readings[3].device_id")]
    assert reading_count(platform) == 3
    letters = dead_letters(platform)
    assert [(d.key, d.subject, d.error.split(":")[0]) for d in letters] == [
        ("AQ-001", "cityops/v1/gateways/GW-7/telemetry", "out_of_range [readings[1].metrics.o3]"),
        ("GHOST", "cityops/v1/gateways/GW-7/telemetry", "unknown_device [readings[2].device_id]"),
        ("GW-7", "cityops/v1/gateways/GW-7/telemetry", "missing_device [readings[3].device_id]")]
    assert all(d.payload.encode() == raw for d in letters)  # the whole message, to replay: repeats store nothing


@pytest.mark.usefixtures("city")
def test_a_batch_refused_whole_is_one_dead_letter_and_stores_nothing(platform: Platform) -> None:
    results = ingest_many(platform, [Inbound("GW-7", b'{"readings": 3}', True),
                                     Inbound("GW-7", batch({"device_id": "GHOST", "ts": at(0),
                                                            "metrics": {"water_level": 1}}), True),
                                     Inbound("NOPE", batch({"ts": at(0), "metrics": {"water_level": 1}}))],
                          source="mqtt")
    assert [(r.accepted, r.reason, r.field) for r in results] == [
        (False, "bad_readings", "readings"), (False, "unknown_device", "readings[0].device_id"),
        (False, "unknown_device", "device_id")]
    assert [d.key for d in dead_letters(platform)] == ["GW-7", "GHOST", "NOPE"]
    assert reading_count(platform) == 0


@pytest.mark.usefixtures("city")
def test_a_redelivered_batch_stores_only_its_new_readings(platform: Platform) -> None:
    first = batch({"device_id": "WL-001", "ts": at(0), "metrics": {"water_level": 3.1}},
                  {"device_id": "WL-001", "ts": at(1), "metrics": {"water_level": 3.2}})
    again = batch({"device_id": "WL-001", "ts": at(1), "metrics": {"water_level": 3.2}},
                  {"device_id": "WL-001", "ts": at(2), "metrics": {"water_level": 3.3}},
                  {"device_id": "WL-001", "ts": at(2), "metrics": {"water_level": 3.3}})
    results = ingest_many(platform, [Inbound("GW-7", first, True), Inbound("GW-7", first, True)], source="mqtt")
    assert [(r.readings, r.stored) for r in results] == [(2, 2), (2, 0)]
    assert ingest_gateway(platform, "GW-7", again, source="mqtt").stored == 1
    assert levels(platform) == [(at(0), 3.1), (at(1), 3.2), (at(2), 3.3)]


# --- HTTP -------------------------------------------------------------------------------------------


def system_key(platform: Platform, region: str) -> dict[str, str]:
    _, token = org_flows.create_api_key(platform, actor=None, name="gateway", role="system", region_code=region)
    return {"Authorization": f"Bearer {token}"}


URL = "/api/v1/sensing/devices/{}/telemetry"


@pytest.mark.usefixtures("city")
def test_http_ingestion_answers_202(client: TestClient, platform: Platform) -> None:
    response = client.post(URL.format("WL-001"), content=GOOD, headers=system_key(platform, STREET_A))
    assert response.status_code == 202, response.text
    assert response.json() == {"device_id": "WL-001", "accepted": True, "stored": 1, "reason": None, "detail": None,
                               "field": None, "readings": 1, "refused": []}
    assert reading_count(platform) == 1


@pytest.mark.usefixtures("city")
def test_http_refusal_is_422_naming_the_field_and_dead_lettered(client: TestClient, platform: Platform) -> None:
    raw = json.dumps({"ts": TS, "metrics": {"water_level": 999}}).encode()
    response = client.post(URL.format("WL-001"), content=raw, headers=system_key(platform, STREET_A))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "metrics.water_level"
    response = client.post(URL.format("WL-001"), content=b"not json", headers=system_key(platform, STREET_A))
    assert response.status_code == 422 and response.json()["error"]["field"] == "body"
    assert [d.source for d in dead_letters(platform)] == ["sensing.http", "sensing.http"]
    assert reading_count(platform) == 0


@pytest.mark.usefixtures("city")
def test_http_unknown_and_foreign_devices_are_not_found(client: TestClient, platform: Platform) -> None:
    street_a = system_key(platform, STREET_A)
    assert client.post(URL.format("NOPE"), content=GOOD, headers=street_a).status_code == 404
    air = json.dumps({"ts": TS, "metrics": {"pm25": 1}}).encode()
    assert client.post(URL.format("AQ-001"), content=air, headers=street_a).status_code == 404  # street B's
    assert client.post(URL.format("AQ-001"), content=air, headers=system_key(platform, STREET_B)).status_code == 202


@pytest.mark.usefixtures("city")
def test_http_needs_a_caller_allowed_to_send_telemetry(client: TestClient, platform: Platform) -> None:
    assert client.post(URL.format("WL-001"), content=GOOD).status_code == 401
    login(client, "a_dispatcher", PASSWORD)
    assert client.post(URL.format("WL-001"), content=GOOD).status_code == 403
    assert reading_count(platform) == 0


@pytest.mark.usefixtures("city")
def test_http_batch_answers_202_listing_the_refused_entries(client: TestClient, platform: Platform) -> None:
    raw = batch({"ts": at(0), "metrics": {"water_level": 3.1}}, {"ts": at(1), "metrics": {"water_level": 999}})
    response = client.post(URL.format("WL-001"), content=raw, headers=system_key(platform, STREET_A))
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["readings"], body["stored"]) == (1, 1)
    assert [(r["position"], r["reason"], r["field"]) for r in body["refused"]] == [
        (1, "out_of_range", "readings[1].metrics.water_level")]
    assert [d.source for d in dead_letters(platform)] == ["sensing.http"]


GATEWAY_URL = "/api/v1/sensing/gateways/{}/telemetry"


@pytest.mark.usefixtures("city")
def test_http_gateway_stores_its_devices_in_the_callers_region_only(client: TestClient, platform: Platform) -> None:
    raw = batch({"device_id": "WL-001", "ts": at(0), "metrics": {"water_level": 3.1}},
                {"device_id": "AQ-001", "ts": at(0), "metrics": {"pm25": 30}})  # AQ-001 is street B's
    response = client.post(GATEWAY_URL.format("GW-7"), content=raw, headers=system_key(platform, STREET_A))
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["gateway_id"], body["readings"], body["stored"]) == ("GW-7", 1, 1)
    assert [(r["device_id"], r["reason"]) for r in body["refused"]] == [("AQ-001", "unknown_device")]
    assert reading_count(platform) == 1


@pytest.mark.usefixtures("city")
def test_http_gateway_with_nothing_accepted_is_422_naming_the_field(client: TestClient, platform: Platform) -> None:
    street_a = system_key(platform, STREET_A)
    raw = batch({"device_id": "WL-001", "ts": "noon", "metrics": {"water_level": 3.1}})
    response = client.post(GATEWAY_URL.format("GW-7"), content=raw, headers=street_a)
    assert response.status_code == 422 and response.json()["error"]["field"] == "readings[0].ts"
    response = client.post(GATEWAY_URL.format("GW-7"), content=GOOD, headers=street_a)
    assert response.status_code == 422 and response.json()["error"]["field"] == "readings"
    assert client.post(GATEWAY_URL.format("GW-7"), content=raw).status_code == 401
    assert reading_count(platform) == 0
