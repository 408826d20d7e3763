"""The telemetry wire format: table-driven cases for every refusal, and no input that makes it raise."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.core.errors import ValidationFailed
from cityops.sensing.device_types import device_types, parse_device_types
from cityops.sensing.payload import (
    MAX_BYTES,
    Accepted,
    Rejection,
    device_from_topic,
    parse_payload,
    topic_for,
)

GAUGE = device_types()["water_level_gauge"]
AIR = device_types()["air_quality_station"]
TS = "2026-03-01T08:00:00+08:00"


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def test_the_shipped_catalogue_has_every_type_of_the_issue() -> None:
    assert set(device_types()) == {"water_level_gauge", "rain_gauge", "air_quality_station", "manhole_tilt_sensor",
                                   "street_light_controller", "smoke_detector", "bridge_strain_gauge",
                                   "traffic_flow_counter"}
    assert set(AIR.metrics) == {"pm25", "pm10", "o3"}
    assert GAUGE.metrics["water_level"].unit == "m" and GAUGE.interval_s == 300


def test_a_good_message_gives_one_reading_per_metric_in_utc_terms() -> None:
    parsed = parse_payload("AQ-1", body(ts=TS, metrics={"pm25": 35, "pm10": 80.5, "o3": 0}, seq=7), AIR)
    assert isinstance(parsed, Accepted)
    assert parsed.seq == 7
    assert {(r.metric, r.value) for r in parsed.readings} == {("pm25", 35.0), ("pm10", 80.5), ("o3", 0.0)}
    assert all(r.ts == datetime(2026, 3, 1, 0, 0, tzinfo=UTC) and r.device_id == "AQ-1" for r in parsed.readings)


def test_range_limits_are_inclusive() -> None:
    for level in (-10, 100):
        assert isinstance(parse_payload("W1", body(ts=TS, metrics={"water_level": level}), GAUGE), Accepted)


@pytest.mark.parametrize(("raw", "device_type", "reason", "field"), [
    (body(ts=TS, metrics={"water_level": 3.1}), None, "unknown_device", "device_id"),
    (b"\xff\xfe not utf-8", GAUGE, "not_json", None),
    (b"{\"ts\": ", GAUGE, "not_json", None),
    (b"[1, 2]", GAUGE, "not_object", None),
    (b"3.2", GAUGE, "not_object", None),
    (b"x" * (MAX_BYTES + 1), GAUGE, "too_large", None),
    (body(metrics={"water_level": 3.1}), GAUGE, "bad_timestamp", "ts"),
    (body(ts=1740787200, metrics={"water_level": 3.1}), GAUGE, "bad_timestamp", "ts"),
    (body(ts="yesterday", metrics={"water_level": 3.1}), GAUGE, "bad_timestamp", "ts"),
    (body(ts="2026-03-01T08:00:00", metrics={"water_level": 3.1}), GAUGE, "bad_timestamp", "ts"),
    (body(ts="2026-02-30T08:00:00+08:00", metrics={"water_level": 3.1}), GAUGE, "bad_timestamp", "ts"),
    (body(ts=TS), GAUGE, "missing_metrics", "metrics"),
    (body(ts=TS, metrics={}), GAUGE, "missing_metrics", "metrics"),
    (body(ts=TS, metrics=[3.1]), GAUGE, "missing_metrics", "metrics"),
    (body(ts=TS, metrics={"pm25": 3.1}), GAUGE, "unknown_metric", "metrics.pm25"),
    (body(ts=TS, metrics={"water_level": "3.1"}), GAUGE, "bad_value", "metrics.water_level"),
    (body(ts=TS, metrics={"water_level": True}), GAUGE, "bad_value", "metrics.water_level"),
    (body(ts=TS, metrics={"water_level": None}), GAUGE, "bad_value", "metrics.water_level"),
    (b'{"ts": "%s", "metrics": {"water_level": NaN}}' % TS.encode(), GAUGE, "bad_value", "metrics.water_level"),
    (b'{"ts": "%s", "metrics": {"water_level": 1e999}}' % TS.encode(), GAUGE, "bad_value", "metrics.water_level"),
    (body(ts=TS, metrics={"water_level": 10**400}), GAUGE, "bad_value", "metrics.water_level"),
    (body(ts=TS, metrics={"water_level": 100.01}), GAUGE, "out_of_range", "metrics.water_level"),
    (body(ts=TS, metrics={"water_level": -10.5}), GAUGE, "out_of_range", "metrics.water_level"),
    (body(ts=TS, metrics={"pm25": 10, "pm10": 99999}), AIR, "out_of_range", "metrics.pm10"),
    (body(ts=TS, metrics={"water_level": 3.1}, seq="7"), GAUGE, "bad_seq", "seq"),
    (body(ts=TS, metrics={"water_level": 3.1}, seq=1.5), GAUGE, "bad_seq", "seq"),
])
def test_refusals_name_the_reason_and_field(raw: bytes, device_type: Any, reason: str, field: str | None) -> None:
    parsed = parse_payload("W1", raw, device_type)
    assert isinstance(parsed, Rejection)
    assert (parsed.reason, parsed.field) == (reason, field)
    assert parsed.detail


def test_one_bad_metric_refuses_the_whole_message() -> None:
    parsed = parse_payload("AQ-1", body(ts=TS, metrics={"pm25": 35, "o3": -1}), AIR)
    assert isinstance(parsed, Rejection) and parsed.field == "metrics.o3"


def test_zone_offsets_other_than_shanghai_are_converted() -> None:
    parsed = parse_payload("W1", body(ts="2026-03-01T00:30:00Z", metrics={"water_level": 1}), GAUGE)
    assert isinstance(parsed, Accepted)
    assert parsed.ts.astimezone(timezone(timedelta(hours=8))).hour == 8


@pytest.mark.parametrize(("topic", "device_id"), [
    ("cityops/v1/W1/telemetry", "W1"), ("cityops/v1//telemetry", None), ("cityops/v1/a/b/telemetry", None),
    ("cityops/v2/W1/telemetry", None), ("cityops/v1/W1/status", None)])
def test_topic_scheme(topic: str, device_id: str | None) -> None:
    assert device_from_topic(topic) == device_id
    if device_id:
        assert topic_for(device_id) == topic


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    assert isinstance(parse_payload("W1", raw, GAUGE), Accepted | Rejection)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner,
                                                                                       max_size=3), max_leaves=10)


@given(ts=JSON_VALUES | st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
       metrics=st.dictionaries(st.sampled_from(["water_level", "pm25", "x"]) | st.text(max_size=8), JSON_VALUES,
                               max_size=3), seq=JSON_VALUES)
def test_arbitrary_json_objects_never_raise(ts: Any, metrics: Any, seq: Any) -> None:
    raw = json.dumps({"ts": ts, "metrics": metrics, "seq": seq}).encode()
    parsed = parse_payload("W1", raw, GAUGE)
    if isinstance(parsed, Accepted):
        assert all(GAUGE.metrics[r.metric].in_range(r.value) for r in parsed.readings)


@pytest.mark.parametrize(("row", "field"), [
    ("w,水位计,Gauge,0,level,水位,m,0,10", "rows[0].interval_s"),
    ("w,水位计,Gauge,60,level,水位,m,low,10", "rows[0].min"),
    ("w,水位计,Gauge,60,level,水位,m,10,0", "rows[0].min"),
])
def test_device_type_files_are_checked(row: str, field: str) -> None:
    header = "type_code,name,name_en,interval_s,metric,metric_name,unit,min,max\n"
    with pytest.raises(ValidationFailed) as caught:
        parse_device_types((header + row + "\n").encode())
    assert caught.value.field == field
