"""Offline detection: silent for more than factor × interval → offline; the next reading → online again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cityops.core.clock import FixedClock
from cityops.core.models import OutboxMessage
from cityops.platform import Platform
from cityops.sensing import service
from cityops.sensing.ingest import STATUS_SUBJECT, ingest
from cityops.sensing.offline import DeviceState, mark_offline, offline_devices
from tests.cityfixture import build_small_city
from tests.conftest import START
from tests.sensing.conftest import seed_devices

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def state(seconds_ago: float | None, interval: int = 60, status: str = "online", device_id: str = "D") -> DeviceState:
    seen = NOW - timedelta(seconds=seconds_ago) if seconds_ago is not None else None
    return DeviceState(device_id, interval, seen, status)


@pytest.mark.parametrize(("device", "factor", "offline"), [
    (state(179), 3, False),
    (state(180), 3, False),  # exactly N × interval is still on time
    (state(181), 3, True),
    (state(181, status="unknown"), 3, True),
    (state(10_000, status="offline"), 3, False),  # already offline: no change to report
    (state(None, status="unknown"), 3, False),  # never heard from: not installed yet, not silent
    (state(121), 2, True),
    (state(3 * 3600 + 1, interval=3600), 3, True),
    (state(3 * 3600 - 1, interval=3600), 3, False),
])
def test_offline_rule(device: DeviceState, factor: float, offline: bool) -> None:
    assert offline_devices([device], NOW, factor) == (["D"] if offline else [])


def test_offline_devices_are_sorted() -> None:
    devices = [state(999, device_id=i) for i in ("c", "a", "b")] + [state(1, device_id="z")]
    assert offline_devices(devices, NOW) == ["a", "b", "c"]


def test_the_job_marks_silent_devices_offline_once_and_a_reading_brings_them_back(platform: Platform) -> None:
    build_small_city(platform)
    seed_devices(platform)  # WL-001 reports every 60 s, AQ-001 every hour, MT-001 never reported
    body = {"ts": START.isoformat()}
    assert ingest(platform, "WL-001", json.dumps({**body, "metrics": {"water_level": 1}}).encode(), source="t").accepted
    assert ingest(platform, "AQ-001", json.dumps({**body, "metrics": {"pm25": 9}}).encode(), source="t").accepted
    clock = platform.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(minutes=4))
    (change,) = mark_offline(platform)
    assert (change.device_id, change.previous, change.status, change.last_seen_at) == ("WL-001", "online",
                                                                                     "offline", START)
    assert mark_offline(platform) == []  # already offline: nothing changes, nothing announced twice
    with platform.db.session() as session:
        statuses = {d.device_id: d.status for d in service.list_devices(session=session)}
        messages = session.scalars(select(OutboxMessage).where(OutboxMessage.subject == STATUS_SUBJECT)).all()
    assert statuses == {"WL-001": "offline", "AQ-001": "online", "MT-001": "unknown"}
    assert [(m.payload["device_id"], m.payload["status"], m.payload["region_code"]) for m in messages] == [
        ("WL-001", "offline", change.region_code)]
    result = ingest(platform, "WL-001", json.dumps({**body, "metrics": {"water_level": 2}}).encode(), source="t")
    assert result.came_online
    with platform.db.session() as session:
        assert service.get_or_raise(session=session, device_id="WL-001").status == "online"
