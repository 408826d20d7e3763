"""Which indicators a device's readings and status feed, as observations for the engine. Pure.

Two ways a sensor indicator is evaluated:

- `max` and `min` aggregates are evaluated **reading by reading, per device** (source `device:{id}`): the
  highest level of a group of gauges crosses a line exactly when one gauge's reading does, and evaluating the
  gauge itself puts the alarm, and the case it opens, at that gauge. The thresholds' duration and repetition
  ("above 3.2 m for 10 minutes") do the work a time window would.
- `mean`, `sum` and `count` aggregates need a window over several devices ("1-hour mean PM2.5 of a district"):
  the periodic vital-signs job computes them from stored readings (`window_observations` input, computed by the
  sensing service) as source `agg:{indicator}`.

A `device_status` indicator watches whether devices report: 1 when a device goes offline, 0 when it is back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from cityops.indicators.engine import Observation

PER_READING: Final = frozenset({"max", "min"})


@dataclass(frozen=True)
class DeviceInfo:
    device_id: str
    type_code: str
    group_code: str | None
    region_code: str
    lng: float
    lat: float


@dataclass(frozen=True)
class SensorIndicator:
    """What of an indicator decides the devices it covers. `region_prefix` is its region's scope prefix
    (what lies inside a region starts with it; empty = everywhere)."""

    code: str
    source_kind: str
    metric: str | None
    aggregate: str | None
    device_type: str | None
    device_group: str | None
    region_prefix: str

    def covers(self, device: DeviceInfo) -> bool:
        if self.device_group:
            return device.group_code == self.device_group
        if self.device_type and device.type_code != self.device_type:
            return False
        return device.region_code.startswith(self.region_prefix)


class StoredReading(Protocol):
    """A reading as stored (sensing's payload.Reading is one; this domain does not import sensing)."""

    @property
    def device_id(self) -> str: ...

    @property
    def metric(self) -> str: ...

    @property
    def ts(self) -> datetime: ...

    @property
    def value(self) -> float: ...


def device_source(device_id: str) -> str:
    return f"device:{device_id}"


def reading_observations(indicators: Sequence[SensorIndicator], devices: Mapping[str, DeviceInfo],
                         readings: Iterable[StoredReading]) -> list[Observation]:
    """One observation per (reading, per-reading indicator covering its device), in reading order."""
    by_metric: dict[str, list[SensorIndicator]] = {}
    for indicator in indicators:
        if indicator.source_kind == "sensor_aggregate" and indicator.aggregate in PER_READING and indicator.metric:
            by_metric.setdefault(indicator.metric, []).append(indicator)
    observations: list[Observation] = []
    # Which indicators cover a (metric, device) is decided once per batch, not once per reading.
    covering: dict[tuple[str, str], tuple[DeviceInfo | None, str, list[SensorIndicator]]] = {}
    for reading in readings:
        key = (reading.metric, reading.device_id)
        found = covering.get(key)
        if found is None:
            candidates = by_metric.get(reading.metric)
            device = devices.get(reading.device_id)
            chosen = [i for i in candidates if i.covers(device)] if candidates and device is not None else []
            found = covering[key] = (device, device_source(reading.device_id), chosen)
        device, source, chosen = found
        if device is None:
            continue
        for indicator in chosen:
            observations.append(Observation(indicator.code, source, device.region_code, device.lng, device.lat,
                                            reading.ts, reading.value))
    return observations


def status_observations(indicators: Sequence[SensorIndicator], device: DeviceInfo, *, offline: bool,
                        at: datetime) -> list[Observation]:
    """A device going offline (1) or coming back (0), for every device_status indicator covering it."""
    return [Observation(i.code, device_source(device.device_id), device.region_code, device.lng, device.lat, at,
                        1.0 if offline else 0.0)
            for i in indicators if i.source_kind == "device_status" and i.covers(device)]


def window_aggregate(aggregate: str, values: Sequence[float]) -> float | None:
    """mean / sum / count / max / min of a window's values; None for an empty window (nothing to say)."""
    if aggregate == "count":
        return float(len(values))
    if not values:
        return None
    if aggregate == "sum":
        return float(sum(values))
    if aggregate == "mean":
        return sum(values) / len(values)
    return float(max(values) if aggregate == "max" else min(values))
