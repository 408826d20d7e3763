"""Offline detection: a device silent for more than `factor` × its expected interval is offline.

Only devices that have reported at least once are watched: a device that was never heard from stays `unknown`
(it may not be installed yet), rather than raising a warning on the day it is registered. A device comes back
online with its next accepted reading (ingest.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from cityops.indicators import engine, vitals
from cityops.platform import Platform
from cityops.sensing import service
from cityops.sensing.ingest import STATUS_SUBJECT, device_info

DEFAULT_FACTOR: Final = 3


@dataclass(frozen=True)
class DeviceState:
    device_id: str
    interval_s: int
    last_seen_at: datetime | None
    status: str


@dataclass(frozen=True)
class StatusChange:
    device_id: str
    region_code: str
    previous: str
    status: str
    last_seen_at: datetime | None


def offline_devices(devices: Iterable[DeviceState], now: datetime, factor: float = DEFAULT_FACTOR) -> list[str]:
    """Ids of devices that should now be marked offline (sorted). Pure."""
    return sorted(d.device_id for d in devices
                  if d.status != "offline" and d.last_seen_at is not None
                  and now - d.last_seen_at > timedelta(seconds=d.interval_s * factor))


def mark_offline(platform: Platform, *, factor: float = DEFAULT_FACTOR) -> list[StatusChange]:
    """Mark silent devices offline and announce each on the bus; returns what changed."""
    with platform.uow() as uow:
        now = uow.clock.now()
        watched = {d.device_id: d for d in service.watched_devices(session=uow.session)}
        states = [DeviceState(d.device_id, d.interval_s, d.last_seen_at, d.status) for d in watched.values()]
        silent = offline_devices(states, now, factor)
        changes = [StatusChange(i, watched[i].region_code, watched[i].status, "offline", watched[i].last_seen_at)
                   for i in silent]
        service.set_status(session=uow.session, device_ids=silent, status="offline")
        for change in changes:
            uow.publish(STATUS_SUBJECT, _message(change, now), key=f"{change.device_id}:offline:{now.isoformat()}")
        # Going silent is itself a warning: the device_status indicators raise an alarm at the device.
        warned = vitals.observe_status(uow, case_level=platform.settings.alarm_case_level,
                                       devices=[device_info(watched[i]) for i in silent], offline=True, at=now)
        uow.commit()
    engine.open_cases_for(platform, engine.case_alarms(warned))
    return changes


def _message(change: StatusChange, now: datetime) -> dict[str, str | None]:
    return {"device_id": change.device_id, "status": change.status, "previous": change.previous,
            "region_code": change.region_code, "at": now.isoformat(),
            "last_seen_at": change.last_seen_at.isoformat() if change.last_seen_at else None}
