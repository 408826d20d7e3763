"""The telemetry wire format, checked without a database. Pure; never raises on any input.

Topic: `cityops/v1/{device_id}/telemetry` (MQTT; the HTTP endpoint takes the same body).
Body (UTF-8 JSON object):
    {"ts": "2026-03-01T08:00:00+08:00", "metrics": {"water_level": 3.1}, "seq": 42}
- ts: ISO-8601 with a zone offset (a time without a zone is ambiguous between device and server: refused);
- metrics: at least one metric of the device's type, each a finite number inside the type's physical range;
- seq: optional whole number the device counts up, kept for tracing duplicates.
A message is accepted or rejected whole: a half-stored message would look like a sensor fault.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cityops.sensing.device_types import DeviceType

TOPIC_PREFIX: Final = "cityops/v1/"
TOPIC_SUFFIX: Final = "/telemetry"
MAX_BYTES: Final = 64 * 1024  # a reading is a few hundred bytes; anything this large is not telemetry
DEVICE_ID_MAX: Final = 64


@dataclass(frozen=True)
class Reading:
    device_id: str
    metric: str
    ts: datetime
    value: float


@dataclass(frozen=True)
class Accepted:
    device_id: str
    ts: datetime
    seq: int | None
    readings: tuple[Reading, ...]


@dataclass(frozen=True)
class Rejection:
    reason: str  # stable code: not_json, not_object, unknown_device, unknown_metric, out_of_range, bad_timestamp, …
    detail: str
    field: str | None = None


def topic_for(device_id: str) -> str:
    return f"{TOPIC_PREFIX}{device_id}{TOPIC_SUFFIX}"


def device_from_topic(topic: str) -> str | None:
    """The device id in a telemetry topic, or None when the topic is not one."""
    if not (topic.startswith(TOPIC_PREFIX) and topic.endswith(TOPIC_SUFFIX)):
        return None
    device_id = topic[len(TOPIC_PREFIX): -len(TOPIC_SUFFIX)]
    return device_id if device_id and "/" not in device_id else None


def parse_payload(device_id: str, raw: bytes, device_type: DeviceType | None) -> Accepted | Rejection:
    """Readings from one message, or why it was refused. `device_type` None means the device is unknown."""
    if device_type is None:
        return Rejection("unknown_device", f"no device {device_id[:DEVICE_ID_MAX]!r} is registered", "device_id")
    body = _json_object(raw)
    if isinstance(body, Rejection):
        return body
    ts = parse_timestamp(body.get("ts"))
    if isinstance(ts, Rejection):
        return ts
    seq = body.get("seq")
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int)):
        return Rejection("bad_seq", "seq must be a whole number", "seq")
    readings = _readings(device_id, ts, body.get("metrics"), device_type)
    if isinstance(readings, Rejection):
        return readings
    return Accepted(device_id, ts, seq, readings)


def _json_object(raw: bytes) -> dict[str, Any] | Rejection:
    if len(raw) > MAX_BYTES:
        return Rejection("too_large", f"{len(raw)} bytes, at most {MAX_BYTES}")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return Rejection("not_json", f"not UTF-8 JSON: {str(exc)[:200]}")
    if not isinstance(body, dict):
        return Rejection("not_object", "the body must be a JSON object")
    return body


def parse_timestamp(value: Any) -> datetime | Rejection:
    if not isinstance(value, str):
        return Rejection("bad_timestamp", "ts is required: ISO-8601 text with a zone", "ts")
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return Rejection("bad_timestamp", f"{value[:60]!r} is not an ISO-8601 time", "ts")
    if ts.tzinfo is None or ts.utcoffset() is None:
        return Rejection("bad_timestamp", f"{value[:60]!r} has no zone offset", "ts")
    return ts


def _readings(device_id: str, ts: datetime, metrics: Any, device_type: DeviceType
              ) -> tuple[Reading, ...] | Rejection:
    if not isinstance(metrics, dict) or not metrics:
        return Rejection("missing_metrics", "metrics must be a non-empty object", "metrics")
    readings = []
    for name, value in metrics.items():
        spec = device_type.metrics.get(name)
        where = f"metrics.{name[:60]}"
        if spec is None:
            known = ", ".join(device_type.metrics)
            return Rejection("unknown_metric", f"{device_type.code} has no metric {name[:60]!r} ({known})", where)
        number = _finite(value)
        if number is None:
            return Rejection("bad_value", f"{value!r:.60} is not a finite number", where)
        if not spec.in_range(number):
            return Rejection("out_of_range", f"{number:g} {spec.unit} is outside [{spec.min:g}, {spec.max:g}]", where)
        readings.append(Reading(device_id, name, ts, number))
    return tuple(readings)


def _finite(value: Any) -> float | None:
    """JSON numbers only; a bool is a number to Python but not a reading, and a huge integer overflows a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
