"""Telemetry ingestion: check a message (payload.py), store its readings, note that its devices were heard from.

A message is one device's entry, one device's batch of entries, or a gateway's batch of entries of several
devices (payload.py). Each entry stands alone: a refused entry (malformed, unknown device or metric, out of
physical range) goes to the dead-letter table with its reason, its place in the batch and the message's raw
bytes, in the same transaction, and the batch's other entries are stored. A message refused whole (not JSON,
too large, an unknown device on its own topic) is one dead letter. Nothing is dropped silently and bad input
never raises. `ingest_many` takes many messages in one transaction, which is what keeps a busy broker's rate.

A device heard from is `online` with `last_seen_at` = the time we received it (the server's clock: a device's
clock may drift or replay a backlog, and "silent" means we heard nothing). An offline device coming back
announces `cityops.sensing.device_status`, as the offline job does when one goes silent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, NamedTuple

from sqlalchemy.orm import Session

from cityops.core.uow import UnitOfWork
from cityops.indicators import engine, vitals
from cityops.indicators.sensor_feed import DeviceInfo
from cityops.platform import Platform
from cityops.sensing import service
from cityops.sensing.device_types import DeviceType, device_types
from cityops.sensing.models import Device
from cityops.sensing.payload import (
    Entry,
    Reading,
    Rejection,
    check_entry,
    entry_device_problem,
    gateway_topic_for,
    split_message,
    topic_for,
)
from cityops.sensing.schemas import DEVICE_ID_PATTERN
from cityops.sensing.service import HeardDevice

STATUS_SUBJECT: Final = "cityops.sensing.device_status"
_DEVICE_ID: Final = re.compile(DEVICE_ID_PATTERN)


class Inbound(NamedTuple):
    """A message as received: `sender` is the topic's device id, or the gateway id when `gateway`."""

    sender: str
    raw: bytes
    gateway: bool = False


@dataclass(frozen=True)
class Refusal:
    """One refused entry (`position` in `readings`), or the whole message (`position` None)."""

    position: int | None
    device_id: str | None
    reason: str
    detail: str
    field: str | None


@dataclass(frozen=True)
class IngestResult:
    """What became of one message. `accepted`: at least one entry was; `readings`: the accepted entries'
    readings; `stored`: those newly stored (a redelivery stores 0). When nothing was accepted, `reason`,
    `detail` and `field` are the first refusal's; `refused` lists every refused entry."""

    device_id: str  # the topic's device, or the gateway
    accepted: bool
    stored: int = 0
    reason: str | None = None
    detail: str | None = None
    field: str | None = None
    came_online: bool = False  # a device of this message was offline before it
    readings: int = 0
    refused: tuple[Refusal, ...] = ()


def ingest(platform: Platform, device_id: str, raw: bytes, *, source: str) -> IngestResult:
    """Store one device message's readings, or dead-letter it; one transaction."""
    return ingest_many(platform, [Inbound(device_id, raw)], source=source)[0]


def ingest_gateway(platform: Platform, gateway_id: str, raw: bytes, *, source: str,
                   in_scope: Callable[[str], bool] | None = None) -> IngestResult:
    """Store one gateway message's readings; one transaction. `in_scope(region_code)`: whether the caller may
    send for a device there (others are refused as unknown, so ids outside a caller's region cannot be
    probed); None = any."""
    return ingest_many(platform, [Inbound(gateway_id, raw, True)], source=source, in_scope=in_scope)[0]


def ingest_many(platform: Platform, messages: Sequence[tuple[str, bytes] | Inbound], *, source: str,
                evaluate: bool = True, in_scope: Callable[[str], bool] | None = None) -> list[IngestResult]:
    """Messages ((device_id, raw bytes) pairs or Inbound), in order, in one transaction; one result per message.
    Newly stored readings are evaluated against the vital-sign indicators in the same transaction (unless
    `evaluate`). `in_scope`: as for ingest_gateway."""
    if not messages:
        return []
    inbound = [m if isinstance(m, Inbound) else Inbound(m[0], m[1]) for m in messages]
    with platform.uow() as uow:
        now = uow.clock.now()
        split = [split_message(m.raw, device_id=None if m.gateway else m.sender) for m in inbound]
        devices = _known_devices(uow.session, inbound, split, in_scope)
        batch = _Batch(devices, device_types())
        results = [batch.take(m, entries) for m, entries in zip(inbound, split, strict=True)]
        for message, result in zip(inbound, results, strict=True):
            for refusal in result.refused:
                _dead_letter(uow.session, message, refusal, source=source, at=now)
        back = _announce_back(uow, devices, batch.heard, now)
        stored = service.insert_readings(session=uow.session, readings=batch.readings)
        crossed = _evaluate(uow, platform, devices, batch.heard, back, batch.readings, stored, now) if evaluate else []
        # The device rows last: consumers sharing a subscription hear the same devices, and a row updated early
        # would keep the other consumer's whole batch waiting on it, storing included, until this one commits.
        service.mark_heard(session=uow.session, device_ids=batch.heard, at=now)
        uow.commit()
    if crossed:
        engine.open_cases_for(platform, crossed)
    return _count_stored(_came_online(results, back, batch.first_message), batch.readings, stored)


def device_info(device: Device | HeardDevice) -> DeviceInfo:
    return DeviceInfo(device.device_id, device.type_code, device.group_code, device.region_code, device.lng,
                      device.lat)


class _Batch:
    """Checks the messages of one batch against the devices found, collecting their readings in order."""

    def __init__(self, devices: dict[str, HeardDevice], types: dict[str, DeviceType]) -> None:
        self.devices = devices
        self.types = types
        self.readings: list[Reading] = []
        self.heard: list[str] = []  # devices with an accepted entry, in first-heard order
        self.first_message: dict[str, int] = {}  # device → the message that first heard it
        self._messages = 0
        self._types_of: dict[str, DeviceType | None] = {}

    def take(self, message: Inbound, entries: list[Entry] | Rejection) -> IngestResult:
        number, self._messages = self._messages, self._messages + 1
        topic_device = None if message.gateway else message.sender
        if topic_device is not None and topic_device not in self.devices:
            # An unknown device on its own topic: nothing it sent can be stored, whatever the body.
            whole = Rejection("unknown_device", f"no device {topic_device[:64]!r} is registered", "device_id")
            return _refused(message, [Refusal(None, topic_device, *whole)])
        if isinstance(entries, Rejection):
            return _refused(message, [Refusal(None, topic_device, *entries)])
        refused: list[Refusal] = []
        count = 0
        for entry in entries:
            checked = self._check(entry, topic_device)
            if isinstance(checked, Rejection):
                refused.append(Refusal(entry.position, _named_device(entry, topic_device), *checked))
                continue
            self.readings.extend(checked)
            count += len(checked)
            device_id = checked[0].device_id
            if device_id not in self.first_message:
                self.first_message[device_id] = number
                self.heard.append(device_id)
        if count == 0:
            return _refused(message, refused)
        return IngestResult(message.sender, True, count, readings=count, refused=tuple(refused))

    def _check(self, entry: Entry, topic_device: str | None) -> tuple[Reading, ...] | Rejection:
        if entry.device_id is None:
            problem = entry_device_problem(entry, topic_device)
            assert problem is not None  # an entry without a usable device id always has a problem
            return problem
        parsed = check_entry(entry, self._type_of(entry.device_id))
        return parsed if isinstance(parsed, Rejection) else parsed.readings

    def _type_of(self, device_id: str) -> DeviceType | None:
        """The device's type, found once per device in the batch (None: unknown)."""
        if device_id in self._types_of:
            return self._types_of[device_id]
        device = self.devices.get(device_id)
        found = self._types_of[device_id] = self.types.get(device.type_code) if device is not None else None
        return found


def _refused(message: Inbound, refused: list[Refusal]) -> IngestResult:
    first = refused[0]
    return IngestResult(message.sender, False, 0, first.reason, first.detail, first.field, refused=tuple(refused))


def _named_device(entry: Entry, topic_device: str | None) -> str | None:
    named = entry.body.get("device_id") if isinstance(entry.body, dict) else None
    return named if isinstance(named, str) else topic_device


def _known_devices(session: Session, inbound: list[Inbound], split: list[list[Entry] | Rejection],
                   in_scope: Callable[[str], bool] | None) -> dict[str, HeardDevice]:
    """The registered devices the batch names (and the caller may send for), by id. Only well-formed ids are
    looked up: a topic can carry anything, including NUL, which PostgreSQL refuses."""
    wanted = {m.sender for m in inbound if not m.gateway}
    for entries in split:
        if not isinstance(entries, Rejection):
            wanted.update(e.device_id for e in entries if e.device_id is not None)
    found = service.heard_devices(session=session, device_ids=[d for d in wanted if _DEVICE_ID.fullmatch(d)])
    if in_scope is None:
        return found
    return {d: device for d, device in found.items() if in_scope(device.region_code)}


def _announce_back(uow: UnitOfWork, devices: dict[str, HeardDevice], heard: list[str], now: datetime) -> list[str]:
    """The devices heard from that were offline, announced as online again (ingest_many marks every device heard
    from online, last seen now, before it commits)."""
    back = [d for d in heard if devices[d].status == "offline"]
    for device_id in back:
        device = devices[device_id]
        uow.publish(STATUS_SUBJECT, {"device_id": device_id, "status": "online", "previous": "offline",
                                     "region_code": device.region_code, "at": now.isoformat()},
                    key=f"{device_id}:online:{now.isoformat()}")
    return back


def _came_online(results: list[IngestResult], back: list[str], first_message: dict[str, int]) -> list[IngestResult]:
    """A device that came back is credited to the message that first heard it."""
    if not back:
        return results
    marked = {first_message[d] for d in back}
    return [replace(r, came_online=True) if i in marked else r for i, r in enumerate(results)]


def _evaluate(uow: UnitOfWork, platform: Platform, devices: dict[str, HeardDevice], heard: list[str],
              back: list[str], readings: list[Reading], stored: set[tuple[str, str, datetime]] | None,
              now: datetime) -> list[int]:
    """The vital signs of what was newly stored (a redelivery is not evaluated twice), and the end of the offline
    warning of a device that came back. Returns the alarms to turn into reports after the commit."""
    case_level = platform.settings.alarm_case_level
    infos = {d: device_info(devices[d]) for d in heard}
    outcome = vitals.evaluate_readings(uow, case_level=case_level, devices=infos,
                                       readings=_fresh(readings, stored))
    if back:
        outcome += vitals.observe_status(uow, case_level=case_level, devices=[infos[d] for d in back],
                                         offline=False, at=now)
    return engine.case_alarms(outcome)


def _fresh(readings: list[Reading], stored: set[tuple[str, str, datetime]] | None) -> list[Reading]:
    """The readings stored now, in order (`stored` None: all of them); of two copies in the batch, the first."""
    if stored is None:
        return readings
    fresh = set(stored)
    new: list[Reading] = []
    for r in readings:
        key = (r.device_id, r.metric, r.ts)
        if key in fresh:
            fresh.discard(key)
            new.append(r)
    return new


def _count_stored(results: list[IngestResult], readings: list[Reading],
                  stored: set[tuple[str, str, datetime]] | None) -> list[IngestResult]:
    """`stored` per message: its readings that were new. A redelivered message is accepted and stores 0; of two
    copies in one batch the first stores them. `readings` are the accepted entries' readings, in order; `stored`
    None: every one was new, so each message stored all it was accepted for."""
    if stored is None:
        return results
    fresh = set(stored)
    position = 0
    counted = []
    for result in results:
        if not result.accepted:
            counted.append(result)
            continue
        mine = readings[position: position + result.readings]
        position += result.readings
        new = 0
        for reading in mine:
            key = (reading.device_id, reading.metric, reading.ts)
            if key in fresh:
                fresh.discard(key)
                new += 1
        counted.append(replace(result, stored=new))
    return counted


def _dead_letter(session: Session, message: Inbound, refusal: Refusal, *, source: str, at: datetime) -> None:
    where = f" [{refusal.field}]" if refusal.field else ""
    subject = gateway_topic_for(message.sender) if message.gateway else topic_for(message.sender)
    service.add_dead_letter(session=session, source=source, subject=subject, key=refusal.device_id or message.sender,
                            raw=message.raw, error=f"{refusal.reason}{where}: {refusal.detail}", at=at)
