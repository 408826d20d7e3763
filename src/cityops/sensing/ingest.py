"""Telemetry ingestion: check a message (payload.py), store its readings, note that the device was heard from.

A message that cannot be stored (malformed, unknown device or metric, out of physical range) goes to the
dead-letter table with the reason and its raw bytes, in the same transaction: never dropped, and bad input
never raises. `ingest_many` takes a batch in one transaction, which is what keeps a busy broker's rate.

A device heard from is `online` with `last_seen_at` = the time we received it (the server's clock: a device's
clock may drift or replay a backlog, and "silent" means we heard nothing). An offline device coming back
announces `cityops.sensing.device_status`, as the offline job does when one goes silent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from cityops.core.uow import UnitOfWork
from cityops.indicators import engine, vitals
from cityops.indicators.sensor_feed import DeviceInfo, StoredReading
from cityops.platform import Platform
from cityops.sensing import service
from cityops.sensing.device_types import DeviceType, device_types
from cityops.sensing.models import Device
from cityops.sensing.payload import Accepted, Reading, Rejection, parse_payload, topic_for
from cityops.sensing.schemas import DEVICE_ID_PATTERN

STATUS_SUBJECT: Final = "cityops.sensing.device_status"


@dataclass(frozen=True)
class IngestResult:
    device_id: str
    accepted: bool
    stored: int = 0
    reason: str | None = None
    detail: str | None = None
    field: str | None = None
    came_online: bool = False  # the device was offline before this message


def ingest(platform: Platform, device_id: str, raw: bytes, *, source: str) -> IngestResult:
    """Store one message's readings, or dead-letter it; one transaction."""
    return ingest_many(platform, [(device_id, raw)], source=source)[0]


def ingest_many(platform: Platform, messages: Sequence[tuple[str, bytes]], *, source: str,
                evaluate: bool = True) -> list[IngestResult]:
    """(device_id, raw bytes) messages, in order, in one transaction; one result per message. Newly stored
    readings are evaluated against the vital-sign indicators in the same transaction (unless `evaluate`)."""
    if not messages:
        return []
    with platform.uow() as uow:
        now = uow.clock.now()
        # Only well-formed ids are looked up: a topic can carry anything, including NUL, which PostgreSQL refuses.
        devices = service.by_ids(session=uow.session,
                                 device_ids=[d for d, _ in messages if re.fullmatch(DEVICE_ID_PATTERN, d)])
        types = device_types()
        results: list[IngestResult] = []
        readings: list[Reading] = []
        for device_id, raw in messages:
            parsed = parse_payload(device_id, raw, _type_of(devices.get(device_id), types))
            if isinstance(parsed, Rejection):
                _dead_letter(uow.session, device_id, raw, parsed, source=source, at=now)
                results.append(IngestResult(device_id, False, 0, parsed.reason, parsed.detail, parsed.field))
                continue
            readings.extend(parsed.readings)
            results.append(_heard(uow, devices[device_id], parsed, now))
        stored = _store(uow.session, readings)
        crossed = _evaluate(uow, platform, devices, results, readings, stored, now) if evaluate else []
        uow.commit()
    if crossed:
        engine.open_cases_for(platform, crossed)
    return _count_stored(results, readings, stored)


def device_info(device: Device) -> DeviceInfo:
    return DeviceInfo(device.device_id, device.type_code, device.group_code, device.region_code, device.lng,
                      device.lat)


def _evaluate(uow: UnitOfWork, platform: Platform, devices: dict[str, Device], results: list[IngestResult],
              readings: list[Reading], stored: set[tuple[str, str, datetime]], now: datetime) -> list[int]:
    """The vital signs of what was newly stored (a redelivery is not evaluated twice), and the end of the offline
    warning of a device that came back. Returns the alarms to turn into reports after the commit."""
    case_level = platform.settings.alarm_case_level
    infos = {d: device_info(devices[d]) for d in {r.device_id for r in results if r.accepted}}
    fresh = set(stored)
    new: list[StoredReading] = []
    for r in readings:
        key = (r.device_id, r.metric, r.ts)
        if key in fresh:
            fresh.discard(key)
            new.append(StoredReading(r.device_id, r.metric, r.ts, r.value))
    outcome = vitals.evaluate_readings(uow, case_level=case_level, devices=infos, readings=new)
    back = [infos[r.device_id] for r in results if r.came_online]
    if back:
        outcome += vitals.observe_status(uow, case_level=case_level, devices=back, offline=False, at=now)
    return engine.case_alarms(outcome)


def _type_of(device: Device | None, types: dict[str, DeviceType]) -> DeviceType | None:
    return types.get(device.type_code) if device is not None else None


def _heard(uow: UnitOfWork, device: Device, accepted: Accepted, now: datetime) -> IngestResult:
    came_online = device.status == "offline"
    device.status = "online"
    device.last_seen_at = now
    if came_online:
        uow.publish(STATUS_SUBJECT, {"device_id": device.device_id, "status": "online", "previous": "offline",
                                     "region_code": device.region_code, "at": now.isoformat()},
                    key=f"{device.device_id}:online:{now.isoformat()}")
    return IngestResult(device.device_id, True, len(accepted.readings), came_online=came_online)


def _store(session: Session, readings: list[Reading]) -> set[tuple[str, str, datetime]]:
    session.flush()  # the device updates first, then the readings in multi-row INSERTs
    return service.add_readings(session=session, readings=readings)


def _count_stored(results: list[IngestResult], readings: list[Reading],
                  stored: set[tuple[str, str, datetime]]) -> list[IngestResult]:
    """`stored` per message: its readings that were new. A redelivered message is accepted and stores 0; of two
    copies in one batch the first stores them. `readings` are the accepted messages' readings, in order."""
    fresh = set(stored)
    position = 0
    counted = []
    for result in results:
        if not result.accepted:
            counted.append(result)
            continue
        mine = readings[position: position + result.stored]
        position += result.stored
        new = 0
        for reading in mine:
            key = (reading.device_id, reading.metric, reading.ts)
            if key in fresh:
                fresh.discard(key)
                new += 1
        counted.append(replace(result, stored=new))
    return counted


def _dead_letter(session: Session, device_id: str, raw: bytes, rejection: Rejection, *, source: str,
                 at: datetime) -> None:
    where = f" [{rejection.field}]" if rejection.field else ""
    service.add_dead_letter(session=session, source=source, subject=topic_for(device_id), key=device_id, raw=raw,
                            error=f"{rejection.reason}{where}: {rejection.detail}", at=at)
