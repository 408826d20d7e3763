"""The telemetry wire format, checked without a database. Pure; never raises on any input.

Topics: `cityops/v1/{device_id}/telemetry` (one device) and `cityops/v1/gateways/{gateway_id}/telemetry` (a
gateway forwarding several devices); the HTTP endpoints take the same bodies. A body (UTF-8 JSON object) is one
reading entry or a batch of them:

    {"ts": "2026-03-01T08:00:00+08:00", "metrics": {"water_level": 3.1}, "seq": 42}
    {"readings": [{"ts": "…", "metrics": {…}, "seq": 42}, {"device_id": "WL-002", "ts": "…", "metrics": {…}}]}

- ts: ISO-8601 with a zone offset (a time without a zone is ambiguous between device and server: refused);
- metrics: at least one metric of the device's type, each a finite number inside the type's physical range;
- seq: optional whole number the device counts up, kept for tracing duplicates;
- device_id: in a batch, the device of the entry: required on a gateway topic; on a device topic it may be
  left out and, when given, must be the topic's device.

An entry (one time, its metrics) is accepted or refused whole: a half-stored entry would look like a sensor
fault. In a batch each entry stands alone: one refused entry does not refuse the others. A body that is not a
JSON object, is too large, or whose `readings` is not a list of 1 to MAX_READINGS entries is refused whole.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, Final, NamedTuple

import orjson

from cityops.sensing.device_types import DeviceType

TOPIC_PREFIX: Final = "cityops/v1/"
TOPIC_SUFFIX: Final = "/telemetry"
GATEWAY_PREFIX: Final = "cityops/v1/gateways/"
MAX_BYTES: Final = 64 * 1024  # an entry is under a hundred bytes; anything this large is not telemetry
MAX_READINGS: Final = 1000  # entries in one batch; 64 KiB holds about that many
DEVICE_ID_MAX: Final = 64


class Reading(NamedTuple):
    """One metric value at one time (a named tuple: ingestion makes tens of thousands a second)."""

    device_id: str
    metric: str
    ts: datetime
    value: float


class Accepted(NamedTuple):
    device_id: str
    ts: datetime
    seq: int | None
    readings: tuple[Reading, ...]


class Rejection(NamedTuple):
    reason: str  # stable code: not_json, not_object, unknown_device, unknown_metric, out_of_range, bad_timestamp, …
    detail: str
    field: str | None = None


class Entry(NamedTuple):
    """One reading entry of a message before its device is looked up. `position` is its place in `readings`
    (None for a single-entry body); `device_id` is the device it is for, or None when it names none usably."""

    position: int | None
    device_id: str | None
    body: Any

    def where(self, field: str | None = None) -> str:
        """The field's name as a refusal gives it: `readings[3].metrics.pm25` in a batch."""
        if self.position is None:
            return field or "body"
        return f"readings[{self.position}].{field}" if field else f"readings[{self.position}]"


def topic_for(device_id: str) -> str:
    return f"{TOPIC_PREFIX}{device_id}{TOPIC_SUFFIX}"


def gateway_topic_for(gateway_id: str) -> str:
    return f"{GATEWAY_PREFIX}{gateway_id}{TOPIC_SUFFIX}"


def device_from_topic(topic: str) -> str | None:
    """The device id in a device telemetry topic, or None when the topic is not one."""
    if not (topic.startswith(TOPIC_PREFIX) and topic.endswith(TOPIC_SUFFIX)):
        return None
    device_id = topic[len(TOPIC_PREFIX): -len(TOPIC_SUFFIX)]
    return device_id if device_id and "/" not in device_id else None


def gateway_from_topic(topic: str) -> str | None:
    """The gateway id in a gateway telemetry topic, or None when the topic is not one."""
    if not (topic.startswith(GATEWAY_PREFIX) and topic.endswith(TOPIC_SUFFIX)):
        return None
    gateway_id = topic[len(GATEWAY_PREFIX): -len(TOPIC_SUFFIX)]
    return gateway_id if gateway_id and "/" not in gateway_id else None


def parse_payload(device_id: str, raw: bytes, device_type: DeviceType | None) -> Accepted | Rejection:
    """One single-entry message of a device, or why it was refused. `device_type` None: the device is unknown."""
    if device_type is None:
        return Rejection("unknown_device", f"no device {device_id[:DEVICE_ID_MAX]!r} is registered", "device_id")
    entries = split_message(raw, device_id=device_id)
    if isinstance(entries, Rejection):
        return entries
    if len(entries) != 1 or entries[0].position is not None:
        return Rejection("not_object", "a single reading is expected here, not a batch", "readings")
    return check_entry(entries[0], device_type)


def split_message(raw: bytes, *, device_id: str | None) -> list[Entry] | Rejection:
    """A message's entries, or why the whole message is refused. `device_id` is the topic's device; None for a
    gateway's message, whose entries each name their device."""
    body = _json_object(raw)
    if isinstance(body, Rejection):
        return body
    if "readings" not in body:
        if device_id is None:
            return Rejection("bad_readings", "a gateway sends {\"readings\": [...]}, each entry with its device_id",
                             "readings")
        return [Entry(None, device_id, body)]
    items = body["readings"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_READINGS:
        return Rejection("bad_readings", f"readings must be a list of 1 to {MAX_READINGS} entries", "readings")
    if device_id is None:  # a gateway's: each entry names its device (the common case, kept short)
        return [Entry(i, named if type(item) is dict and type(named := item.get("device_id")) is str else None,
                      item) for i, item in enumerate(items)]
    return [Entry(i, _entry_device(item, device_id), item) for i, item in enumerate(items)]


def _entry_device(item: Any, topic_device: str) -> str | None:
    """The device an entry of a device's batch is for: the topic's, unless it names another. (A malformed id
    is kept as it is: ingest looks up only well-formed ids, so it is refused as unknown.)"""
    named = item.get("device_id", topic_device) if isinstance(item, dict) else topic_device
    return named if named == topic_device else None


def entry_device_problem(entry: Entry, topic_device: str | None) -> Rejection | None:
    """Why an entry has no usable device id (checked before its device is looked up), or None."""
    if entry.device_id is not None:
        return None
    named = entry.body.get("device_id") if isinstance(entry.body, dict) else None
    if topic_device is not None and isinstance(named, str):
        return Rejection("foreign_device", f"the entry names {named[:DEVICE_ID_MAX]!r}, the topic "
                                           f"{topic_device[:DEVICE_ID_MAX]!r}", entry.where("device_id"))
    if topic_device is not None or isinstance(named, str):
        return Rejection("unknown_device", f"no device {str(named or topic_device)[:DEVICE_ID_MAX]!r} is registered",
                         entry.where("device_id"))
    return Rejection("missing_device", "each entry of a gateway's batch names its device_id", entry.where("device_id"))


def check_entry(entry: Entry, device_type: DeviceType | None) -> Accepted | Rejection:
    """One entry's readings, or why it was refused. `device_type` None: its device is unknown."""
    device_id = entry.device_id or ""
    if device_type is None:
        return Rejection("unknown_device", f"no device {device_id[:DEVICE_ID_MAX]!r} is registered",
                         entry.where("device_id"))
    body = entry.body
    if not isinstance(body, dict):
        return Rejection("not_object", "an entry must be a JSON object", entry.where())
    ts = parse_timestamp(body.get("ts"))
    if isinstance(ts, Rejection):
        return ts._replace(field=entry.where("ts"))
    seq = body.get("seq")
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int)):
        return Rejection("bad_seq", "seq must be a whole number", entry.where("seq"))
    readings = _readings(device_id, ts, body.get("metrics"), device_type)
    if isinstance(readings, Rejection):
        return readings._replace(field=entry.where(readings.field or "metrics"))
    return Accepted(device_id, ts, seq, readings)


def _json_object(raw: bytes) -> dict[str, Any] | Rejection:
    if len(raw) > MAX_BYTES:
        return Rejection("too_large", f"{len(raw)} bytes, at most {MAX_BYTES}")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # orjson is strict (no NaN, no integers past 64 bits): the json module decides, as it always did, so a
        # NaN is still a bad value of its metric rather than a message that is not JSON.
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
    specs = device_type.metrics
    for name, value in metrics.items():
        spec = specs.get(name)
        if spec is None:
            known = ", ".join(specs)
            return Rejection("unknown_metric", f"{device_type.code} has no metric {name[:60]!r} ({known})",
                             f"metrics.{name[:60]}")
        # A float is the common case; anything else goes through the careful check.
        number = value if type(value) is float and math.isfinite(value) else _finite(value)
        if number is None:
            return Rejection("bad_value", f"{value!r:.60} is not a finite number", f"metrics.{name[:60]}")
        if not spec.min <= number <= spec.max:
            return Rejection("out_of_range", f"{number:g} {spec.unit} is outside [{spec.min:g}, {spec.max:g}]",
                             f"metrics.{name[:60]}")
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
