"""Rollups: a pure fold into minutes and hours, written idempotently for a range; raw readings pruned."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cityops.core.clock import FixedClock
from cityops.core.errors import ValidationFailed
from cityops.platform import Platform
from cityops.sensing import service
from cityops.sensing.ingest import ingest_many
from cityops.sensing.payload import Reading
from cityops.sensing.rollups import Rollup, bucket_start, prune_readings, rollup, write_rollups
from tests.cityfixture import build_small_city
from tests.sensing.conftest import seed_devices

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def at(minutes: float, value: float, metric: str = "water_level", device: str = "WL-001") -> Reading:
    return Reading(device, metric, T0 + timedelta(minutes=minutes), value)


def test_bucket_start_is_utc_and_drops_the_rest() -> None:
    local = datetime.fromisoformat("2026-03-01T16:59:59.9+08:00")
    assert bucket_start(local, "minute") == datetime(2026, 3, 1, 8, 59, tzinfo=UTC)
    assert bucket_start(local, "hour") == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("readings", "period", "expected"), [
    ([], "minute", []),
    ([at(0, 2.0), at(0.5, 4.0), at(0.99, 3.0)], "minute",
     [Rollup("WL-001", "water_level", "minute", T0, 2.0, 4.0, 3.0, 3)]),
    ([at(0.5, 1.0), at(1.0, 5.0)], "minute",
     [Rollup("WL-001", "water_level", "minute", T0, 1.0, 1.0, 1.0, 1),
      Rollup("WL-001", "water_level", "minute", T0 + timedelta(minutes=1), 5.0, 5.0, 5.0, 1)]),
    ([at(59, 1.0), at(0, 3.0), at(60, 9.0)], "hour",
     [Rollup("WL-001", "water_level", "hour", T0, 1.0, 3.0, 2.0, 2),
      Rollup("WL-001", "water_level", "hour", T0 + timedelta(hours=1), 9.0, 9.0, 9.0, 1)]),
    ([at(0, 1.0, "pm25", "AQ"), at(0, 7.0), at(0, 3.0, "pm10", "AQ")], "hour",
     [Rollup("AQ", "pm10", "hour", T0, 3.0, 3.0, 3.0, 1), Rollup("AQ", "pm25", "hour", T0, 1.0, 1.0, 1.0, 1),
      Rollup("WL-001", "water_level", "hour", T0, 7.0, 7.0, 7.0, 1)]),
])
def test_rollup(readings: list[Reading], period: str, expected: list[Rollup]) -> None:
    assert rollup(readings, period) == expected  # type: ignore[arg-type]


def _send(platform: Platform, minutes: float, value: float) -> None:
    ts = (T0 + timedelta(minutes=minutes)).isoformat()
    body = json.dumps({"ts": ts, "metrics": {"water_level": value}}).encode()
    assert ingest_many(platform, [("WL-001", body)], source="test")[0].accepted


def test_write_rollups_for_a_range_is_idempotent(platform: Platform) -> None:
    build_small_city(platform)
    seed_devices(platform)
    for minutes, value in [(0, 1.0), (0.5, 3.0), (1, 5.0), (61, 7.0)]:
        _send(platform, minutes, value)
    for _ in range(2):
        written = write_rollups(platform, start=T0, end=T0 + timedelta(hours=2))
        assert written == {"minute": 3, "hour": 2}
    _send(platform, 1.5, 6.0)  # a late reading: recomputing the range takes it in
    write_rollups(platform, start=T0 + timedelta(seconds=70), end=T0 + timedelta(seconds=80), periods=["minute"])
    with platform.db.session() as session:
        by_minute = service.rollups(session=session, device_id="WL-001", metric="water_level", period="minute")
        hours = service.rollups(session=session, device_id="WL-001", metric="water_level", period="hour")
    assert [(r.start, r.min, r.max, r.mean, r.count) for r in by_minute] == [
        (T0, 1.0, 3.0, 2.0, 2), (T0 + timedelta(minutes=1), 5.0, 6.0, 5.5, 2),
        (T0 + timedelta(minutes=61), 7.0, 7.0, 7.0, 1)]
    assert [(r.start, r.mean, r.count) for r in hours] == [(T0, 3.0, 3), (T0 + timedelta(hours=1), 7.0, 1)]
    with pytest.raises(ValidationFailed):
        write_rollups(platform, start=T0, end=T0)


def test_prune_keeps_recent_raw_readings_and_all_rollups(platform: Platform) -> None:
    build_small_city(platform)
    seed_devices(platform)
    _send(platform, 0, 1.0)
    _send(platform, 60 * 24 * 5, 2.0)
    write_rollups(platform, start=T0, end=T0 + timedelta(days=6), periods=["hour"])
    assert isinstance(platform.clock, FixedClock)
    platform.clock.advance(T0 + timedelta(days=7) - platform.clock.now())
    assert prune_readings(platform, keep_days=3) == 1
    assert prune_readings(platform, keep_days=3) == 0
    with platform.db.session() as session:
        assert [r.value for r in service.readings(session=session, device_id="WL-001")] == [2.0]
        assert len(service.rollups(session=session, device_id="WL-001", metric="water_level", period="hour")) == 2
    with pytest.raises(ValidationFailed):
        prune_readings(platform, keep_days=0)
