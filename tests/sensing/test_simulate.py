"""The simulator's generator, pure: values inside the physical range with a daily cycle, and the anomalies
(a flood that crosses a line and falls back, a stuck sensor, a dead one). Publishing is tested in test_mqtt."""

from __future__ import annotations

import json
import random
import statistics
from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from cityops.sensing.device_types import device_types
from cityops.sensing.payload import Accepted, device_from_topic, parse_payload
from cityops.sensing.simulate import (
    CHINA,
    Anomaly,
    SimDevice,
    demo_devices,
    parse_anomaly,
    pick_devices,
    sample,
    schedule,
)

START = datetime(2026, 7, 20, 0, 0, tzinfo=CHINA)
GAUGE = SimDevice("WL-XFH-03", "water_level_gauge")
TYPES = device_types()


@pytest.mark.parametrize("type_code", sorted(TYPES))
def test_every_metric_stays_inside_its_physical_range_over_two_days(type_code: str) -> None:
    device, rng = SimDevice("D-1", type_code), random.Random(7)
    for minute in range(0, 2 * 24 * 60, 7):
        metrics = sample(device, TYPES[type_code], START + timedelta(minutes=minute), minute * 60.0, rng)
        assert metrics is not None and set(metrics) == set(TYPES[type_code].metrics)
        for code, value in metrics.items():
            assert TYPES[type_code].metrics[code].in_range(value), (code, value)


def test_the_daily_cycle_shows_pm25_worse_in_the_morning_than_in_the_afternoon() -> None:
    station, rng = SimDevice("AQ-1", "air_quality_station"), random.Random(1)

    def mean_pm25(hour: int) -> float:
        values = []
        for day in range(30):
            at = START + timedelta(days=day, hours=hour)
            metrics = sample(station, TYPES["air_quality_station"], at, 0.0, rng)
            assert metrics is not None
            values.append(metrics["pm25"])
        return statistics.mean(values)

    assert mean_pm25(8) > mean_pm25(20) + 20


def test_a_flood_rises_through_a_line_then_falls_back() -> None:
    flood = Anomaly("flood", GAUGE.device_id, start_s=60, rise_s=600, hold_s=120, fall_s=600, peak=4.5)
    rng = random.Random(3)
    levels = []
    for second in range(0, 1800, 10):
        metrics = sample(GAUGE, TYPES["water_level_gauge"], START + timedelta(seconds=second), second, rng, flood)
        assert metrics is not None
        levels.append(metrics["water_level"])
    red = 4.0
    top = levels.index(max(levels))
    assert max(levels) == pytest.approx(4.5)
    assert levels[0] < 2.5 and levels[-1] < 2.5  # normal before and after
    above = [i for i, level in enumerate(levels) if level > red]
    assert above and above == list(range(above[0], above[-1] + 1))  # crosses once up, once down: no flapping
    assert all(b >= a - 0.1 for a, b in pairwise(levels[6:top + 1]))  # rising (± noise)


def test_a_stuck_sensor_reports_one_constant_value() -> None:
    stuck, rng = Anomaly("stuck", "AQ-1", start_s=100), random.Random(5)
    station = SimDevice("AQ-1", "air_quality_station")
    after = [sample(station, TYPES["air_quality_station"], START + timedelta(seconds=s), s, rng, stuck)
             for s in range(100, 5000, 50)]
    assert len({json.dumps(m, sort_keys=True) for m in after}) == 1
    before = [sample(station, TYPES["air_quality_station"], START + timedelta(seconds=s), s, rng, stuck)
              for s in range(0, 100, 10)]
    assert len({json.dumps(m, sort_keys=True) for m in before}) > 1


def test_a_dead_device_stops_sending_and_the_others_go_on() -> None:
    devices = [GAUGE, SimDevice("RG-ZD-01", "rain_gauge")]
    messages = list(schedule(devices, rate=4, duration_s=10, anomalies=[Anomaly("dead", "RG-ZD-01", start_s=5)],
                             start=START))
    assert len(messages) == 40
    rain = [m for i, m in enumerate(messages) if i % 2 == 1]
    assert all(m is not None for m in rain[:10]) and all(m is None for m in rain[10:])
    assert all(m is not None for m in messages[0::2])


def test_scheduled_payloads_are_accepted_by_the_wire_format_with_unique_timestamps() -> None:
    devices = pick_devices(demo_devices(), 12, [])
    messages = [m for m in schedule(devices, rate=50, duration_s=2, anomalies=[], start=START) if m is not None]
    assert len(messages) == 100
    seen = set()
    for message in messages:
        device = next(d for d in devices if d.device_id == message.device_id)
        parsed = parse_payload(message.device_id, message.body, TYPES[device.type_code])
        assert isinstance(parsed, Accepted), parsed
        seen.add((parsed.device_id, parsed.ts))
    assert len(seen) == len(messages)
    assert device_from_topic(f"cityops/v1/{messages[0].device_id}/telemetry") == messages[0].device_id


def test_anomalies_from_the_command_line() -> None:
    flood = parse_anomaly("flood:WL-XFH-03", duration_s=100)
    assert (flood.kind, flood.device_id, flood.rise_s, flood.fall_s) == ("flood", "WL-XFH-03", 40, 40)
    assert parse_anomaly("dead:X", duration_s=90).start_s == 30
    for bad in ("flood", "melt:WL-1", "stuck:"):
        with pytest.raises(ValueError, match="KIND:DEVICE_ID"):
            parse_anomaly(bad, duration_s=10)
    chosen = pick_devices(demo_devices(), 3, [flood])
    assert len(chosen) == 3 and chosen[0].device_id == "WL-XFH-03"
    with pytest.raises(ValueError, match="NOPE"):
        pick_devices(demo_devices(), 3, [Anomaly("dead", "NOPE")])
