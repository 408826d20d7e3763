"""The telemetry wire format: table-driven cases for every refusal, and no input that makes it raise."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.core.errors import ValidationFailed
from cityops.sensing.device_types import device_types, parse_device_types
from cityops.sensing.payload import (
    MAX_BYTES,
    MAX_READINGS,
    Accepted,
    Reading,
    Rejection,
    check_entry,
    device_from_topic,
    entry_device_problem,
    gateway_from_topic,
    gateway_topic_for,
    parse_payload,
    split_message,
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


# --- batches -----------------------------------------------------------------------------------------


def entry(**fields: Any) -> dict[str, Any]:
    return fields


def test_a_device_batch_is_split_into_entries_of_the_topics_device() -> None:
    raw = body(readings=[entry(ts=TS, metrics={"water_level": 1}), entry(device_id="W1", ts=TS, metrics={})])
    entries = split_message(raw, device_id="W1")
    assert isinstance(entries, list)
    assert [(e.position, e.device_id) for e in entries] == [(0, "W1"), (1, "W1")]
    at = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    assert check_entry(entries[0], GAUGE) == Accepted("W1", at, None, (Reading("W1", "water_level", at, 1.0),))
    refused = check_entry(entries[1], GAUGE)
    assert isinstance(refused, Rejection) and (refused.reason, refused.field) == ("missing_metrics",
                                                                               "readings[1].metrics")


def test_a_refused_entry_names_its_place_in_the_batch() -> None:
    raw = body(readings=[entry(ts=TS, metrics={"water_level": 1}), entry(ts=TS, metrics={"water_level": 500}),
                         entry(ts="noon", metrics={"water_level": 1}), 7])
    entries = split_message(raw, device_id="W1")
    assert isinstance(entries, list)
    checked = [check_entry(e, GAUGE) for e in entries]
    assert isinstance(checked[0], Accepted)
    assert [(c.reason, c.field) for c in checked[1:] if isinstance(c, Rejection)] == [
        ("out_of_range", "readings[1].metrics.water_level"), ("bad_timestamp", "readings[2].ts"),
        ("not_object", "readings[3]")]


def test_a_gateways_entries_name_their_devices() -> None:
    raw = body(readings=[entry(device_id="W1", ts=TS, metrics={"water_level": 1}),
                         entry(ts=TS, metrics={"water_level": 1}), entry(device_id=5, ts=TS, metrics={})])
    entries = split_message(raw, device_id=None)
    assert isinstance(entries, list)
    assert [e.device_id for e in entries] == ["W1", None, None]
    problems = [entry_device_problem(e, None) for e in entries]
    assert problems[0] is None
    assert [(p.reason, p.field) for p in problems[1:] if p is not None] == [
        ("missing_device", "readings[1].device_id"), ("missing_device", "readings[2].device_id")]


def test_an_entry_for_another_device_on_a_device_topic_is_refused() -> None:
    entries = split_message(body(readings=[entry(device_id="W2", ts=TS, metrics={"water_level": 1})]),
                            device_id="W1")
    assert isinstance(entries, list) and entries[0].device_id is None
    problem = entry_device_problem(entries[0], "W1")
    assert problem is not None and (problem.reason, problem.field) == ("foreign_device", "readings[0].device_id")


@pytest.mark.parametrize(("raw", "device_id"), [
    (body(readings=[]), "W1"),
    (body(readings={"ts": TS}), "W1"),
    (body(readings=[{}] * (MAX_READINGS + 1)), "W1"),
    (body(ts=TS, metrics={"water_level": 1}), None),  # a gateway must send a batch
])
def test_a_batch_that_is_not_a_list_of_entries_is_refused_whole(raw: bytes, device_id: str | None) -> None:
    refused = split_message(raw, device_id=device_id)
    assert isinstance(refused, Rejection) and (refused.reason, refused.field) == ("bad_readings", "readings")


def test_a_single_reading_parser_refuses_a_batch() -> None:
    parsed = parse_payload("W1", body(readings=[entry(ts=TS, metrics={"water_level": 1})]), GAUGE)
    assert isinstance(parsed, Rejection) and parsed.field == "readings"


@pytest.mark.parametrize(("topic", "gateway_id"), [
    ("cityops/v1/gateways/GW-1/telemetry", "GW-1"), ("cityops/v1/gateways//telemetry", None),
    ("cityops/v1/gateways/a/b/telemetry", None), ("cityops/v1/GW-1/telemetry", None)])
def test_gateway_topic_scheme(topic: str, gateway_id: str | None) -> None:
    assert gateway_from_topic(topic) == gateway_id
    assert device_from_topic(topic) is None or gateway_id is None
    if gateway_id:
        assert gateway_topic_for(gateway_id) == topic


@settings(deadline=None)  # a shared, busy machine must not fail it on time
@given(items=st.lists(st.dictionaries(st.sampled_from(["device_id", "ts", "metrics", "seq"]) | st.text(max_size=6),
                                      JSON_VALUES, max_size=4) | JSON_VALUES, max_size=4),
       device_id=st.none() | st.just("W1"))
def test_arbitrary_batches_never_raise(items: Any, device_id: str | None) -> None:
    entries = split_message(json.dumps({"readings": items}).encode(), device_id=device_id)
    if isinstance(entries, Rejection):
        return
    for e in entries:
        problem = entry_device_problem(e, device_id)
        checked = problem if problem is not None else check_entry(e, GAUGE)
        assert isinstance(checked, Accepted | Rejection)
