"""A telemetry simulator for the demo and the benchmark: realistic readings, published to MQTT.

The generator is pure (a seeded `random.Random` is passed in): each metric follows a daily cycle around its
typical level with noise, clamped to the type's physical range. Anomalies, per device:
- `flood`  — the water level rises linearly from its normal level to `peak` over `rise_s`, holds for `hold_s`,
  then falls back over `fall_s` (through the warning lines on the way up and down);
- `stuck`  — every metric reports one constant value from `start_s` on;
- `dead`   — the device stops sending at `start_s`.

`publish` sends JSON payloads of the payload.py schema to `cityops/v1/{device_id}/telemetry`, at `rate`
messages per second in total (devices in turn), for `duration` seconds. Timestamps advance with the run, so
every message of a device has its own ts (readings are unique per device, metric and ts).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import resources
from itertools import islice
from typing import Final, Literal

import aiomqtt

from cityops.sensing import importers
from cityops.sensing.device_types import DeviceType, MetricSpec, device_types
from cityops.sensing.mqtt import broker_address
from cityops.sensing.payload import topic_for

CHINA: Final = timezone(timedelta(hours=8))
AnomalyKind = Literal["flood", "stuck", "dead"]
KINDS: Final = ("flood", "stuck", "dead")
DEMO_DEVICES: Final = "data/devices_zibo.csv"
PUBLISH_WINDOW: Final = 200  # QoS 1 publishes in flight at once


@dataclass(frozen=True)
class Profile:
    """Typical level, daily swing (peak at `peak_hour`, local time), noise (standard deviation)."""

    base: float
    amplitude: float
    peak_hour: float
    noise: float
    whole: bool = False  # counts and on/off states are whole numbers


PROFILES: Final[dict[str, Profile]] = {
    "water_level": Profile(2.0, 0.15, 6, 0.02),
    "rainfall": Profile(0.2, 0.2, 16, 0.3),
    "pm25": Profile(45, 20, 8, 6),
    "pm10": Profile(80, 30, 8, 10),
    "o3": Profile(90, 60, 15, 10),
    "tilt_angle": Profile(1.0, 0.0, 0, 0.3),
    "power": Profile(450, 450, 0, 20),
    "lamp_on": Profile(0.5, 0.5, 0, 0.0, whole=True),
    "smoke_obscuration": Profile(0.3, 0.1, 19, 0.1),
    "strain": Profile(120, 60, 17, 15),
    "vehicles": Profile(60, 45, 8, 8, whole=True),
    "speed": Profile(40, -12, 8, 4),
}
DEFAULT_PROFILE: Final = Profile(0.0, 0.0, 0, 0.0)


@dataclass(frozen=True)
class Anomaly:
    kind: AnomalyKind
    device_id: str
    start_s: float = 0.0  # seconds into the run
    rise_s: float = 60.0  # flood only
    hold_s: float = 0.0
    fall_s: float = 60.0
    peak: float = 4.5  # flood: the highest water level, m

    def flood_level(self, elapsed_s: float, normal: float) -> float:
        """The water level of a flood at `elapsed_s`: normal → peak → normal, linearly."""
        t = elapsed_s - self.start_s
        if t <= 0:
            return normal
        if t < self.rise_s:
            return normal + (self.peak - normal) * t / self.rise_s
        t -= self.rise_s
        if t <= self.hold_s:
            return self.peak
        t -= self.hold_s
        if t < self.fall_s:
            return self.peak - (self.peak - normal) * t / self.fall_s
        return normal


@dataclass(frozen=True)
class SimDevice:
    device_id: str
    type_code: str


def parse_anomaly(text: str, *, duration_s: float) -> Anomaly:
    """`kind:DEVICE_ID` for the CLI. A flood rises over the first 40% of the run and falls over the next 40%;
    a dead device stops a third of the way in; a stuck one is stuck from the start."""
    kind, sep, device_id = text.partition(":")
    if not sep or kind not in KINDS or not device_id:
        raise ValueError(f"异常应为 类型:设备编号 / an anomaly is KIND:DEVICE_ID with KIND one of "
                         f"{', '.join(KINDS)}: {text!r}")
    if kind == "flood":
        return Anomaly("flood", device_id, rise_s=0.4 * duration_s, fall_s=0.4 * duration_s)
    if kind == "dead":
        return Anomaly("dead", device_id, start_s=duration_s / 3)
    return Anomaly("stuck", device_id)


def normal_value(metric: str, spec: MetricSpec, at: datetime, rng: random.Random) -> float:
    """Daily cycle + noise within the physical range."""
    profile = PROFILES.get(metric, DEFAULT_PROFILE)
    local = at.astimezone(CHINA)
    hour = local.hour + local.minute / 60 + local.second / 3600
    value = profile.base + profile.amplitude * math.cos(2 * math.pi * (hour - profile.peak_hour) / 24)
    value += rng.gauss(0, profile.noise) if profile.noise else 0.0
    value = min(max(value, spec.min), spec.max)
    return float(round(value)) if profile.whole else round(value, 3)


def sample(device: SimDevice, device_type: DeviceType, at: datetime, elapsed_s: float, rng: random.Random,
           anomaly: Anomaly | None = None) -> dict[str, float] | None:
    """One message's metrics for `device` at `at` (`elapsed_s` into the run), or None when it sends nothing."""
    active = anomaly if anomaly is not None and anomaly.device_id == device.device_id else None
    if active is not None and active.kind == "dead" and elapsed_s >= active.start_s:
        return None
    metrics: dict[str, float] = {}
    for code, spec in device_type.metrics.items():
        if active is not None and active.kind == "stuck" and elapsed_s >= active.start_s:
            profile = PROFILES.get(code, DEFAULT_PROFILE)
            metrics[code] = min(max(profile.base, spec.min), spec.max)
            continue
        value = normal_value(code, spec, at, rng)
        if active is not None and active.kind == "flood" and code == "water_level":
            value = round(min(max(active.flood_level(elapsed_s, value), spec.min), spec.max), 3)
        metrics[code] = value
    return metrics


def payload(at: datetime, metrics: dict[str, float], seq: int) -> bytes:
    return json.dumps({"ts": at.isoformat(), "metrics": metrics, "seq": seq}, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Message:
    elapsed_s: float
    device_id: str
    body: bytes


@dataclass
class PublishStats:
    sent: int = 0
    skipped: int = 0  # turns of dead devices
    per_device: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0


def schedule(devices: Sequence[SimDevice], rate: float, duration_s: float, anomalies: Sequence[Anomaly], *,
             start: datetime, seed: int = 0, time_scale: float = 1.0) -> Iterator[Message | None]:
    """Every message of a run, in order, lazily; None for a dead device's turn. Pure. `time_scale` > 1 replays
    faster than life: each real second of the run is `time_scale` seconds of the devices' clocks (a flood's
    hour in a minute), while anomalies are timed in seconds of the run."""
    types = device_types()
    by_device = {a.device_id: a for a in anomalies}
    rng = random.Random(seed)
    seqs = dict.fromkeys((d.device_id for d in devices), 0)
    for i in range(int(rate * duration_s)):
        device = devices[i % len(devices)]
        elapsed = i / rate
        at = start + timedelta(seconds=elapsed * time_scale)
        metrics = sample(device, types[device.type_code], at, elapsed, rng, by_device.get(device.device_id))
        if metrics is None:
            yield None
            continue
        seqs[device.device_id] += 1
        yield Message(elapsed, device.device_id, payload(at, metrics, seqs[device.device_id]))


async def publish(url: str, devices: Sequence[SimDevice], rate: float, duration: float,
                  anomalies: Sequence[Anomaly] = (), *, start: datetime | None = None, seed: int = 0,
                  qos: int = 1, time_scale: float = 1.0) -> PublishStats:
    """Publish the run's messages (QoS 1) at `rate` per second, paced by the wall clock in ~50 ms steps."""
    stats = PublishStats()
    if not devices or rate <= 0 or duration <= 0:
        return stats
    host, port = broker_address(url)
    messages = schedule(devices, rate, duration, anomalies, start=start or datetime.now(CHINA), seed=seed,
                        time_scale=time_scale)
    step = max(1, min(PUBLISH_WINDOW, int(rate * 0.05)))
    loop = asyncio.get_running_loop()
    began = loop.time()
    async with aiomqtt.Client(host, port, protocol=aiomqtt.ProtocolVersion.V5,
                              max_inflight_messages=PUBLISH_WINDOW) as client:
        client.pending_calls_threshold = PUBLISH_WINDOW  # a full window in flight is the plan, not a warning
        while window := list(islice(messages, step)):
            sending = [m for m in window if m is not None]
            stats.skipped += len(window) - len(sending)
            if not sending:
                continue
            if (wait := began + sending[0].elapsed_s - loop.time()) > 0:
                await asyncio.sleep(wait)
            await asyncio.gather(*(client.publish(topic_for(m.device_id), m.body, qos=qos) for m in sending))
            for m in sending:
                stats.per_device[m.device_id] = stats.per_device.get(m.device_id, 0) + 1
            stats.sent += len(sending)
    stats.elapsed_s = loop.time() - began
    return stats


def demo_devices() -> list[SimDevice]:
    """The shipped demo devices (data/devices_zibo.csv), for a data dir with none registered."""
    data = resources.files("cityops.sensing").joinpath(DEMO_DEVICES).read_bytes()
    return [SimDevice(d.device_id, d.type_code) for d in importers.parse_devices(data)]


def pick_devices(devices: Sequence[SimDevice], count: int, anomalies: Sequence[Anomaly]) -> list[SimDevice]:
    """The first `count` devices, always including the ones an anomaly names (they replace the last picks)."""
    named = {a.device_id for a in anomalies}
    unknown = named - {d.device_id for d in devices}
    if unknown:
        raise ValueError(f"异常指向未知设备 / an anomaly names unknown devices: {', '.join(sorted(unknown))}")
    chosen = [d for d in devices if d.device_id in named]
    chosen += [d for d in devices if d.device_id not in named][: max(count - len(chosen), 0)]
    return chosen
