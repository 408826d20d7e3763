"""Business actions on the device registry: one transaction each, with its audit record.

Devices are located in the grid their coordinates fall in (the regions locator) before the transaction opens,
so a bad file never takes the write lock; a device outside every region fails the import, naming its row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from cityops.audit import service as audit
from cityops.core.errors import ValidationFailed
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.regions.errors import PointOutsideRegions
from cityops.sensing import importers, service
from cityops.sensing.schemas import DeviceInput
from cityops.sensing.service import UpsertCounts

CHANGED_SUBJECT: Final = "cityops.sensing.devices_changed"


def import_devices(platform: Platform, content: bytes, *, actor: str, file: str = "upload") -> UpsertCounts:
    """Import a device file (CSV or XLSX) all or nothing."""
    devices = importers.parse_devices(content)
    located = locate(platform, devices)
    with platform.uow() as uow:
        counts = service.upsert_devices(session=uow.session, devices=devices, regions=located,
                                        at=uow.clock.now())
        if counts.created or counts.updated:
            data = {"file": file, "count": len(devices), "created": counts.created, "updated": counts.updated}
            audit.append(uow.session, at=uow.clock.now(), actor=actor, action="sensing.devices_imported",
                         entity_type="device", entity_id=file[:80], region_code=_city(uow.session),
                         data=data)
            uow.publish(CHANGED_SUBJECT, data, key=f"devices:{uow.clock.now().isoformat()}")
        uow.commit()
    return counts


def import_device_file(platform: Platform, path: Path, *, actor: str) -> UpsertCounts:
    return import_devices(platform, path.read_bytes(), actor=actor, file=path.name)


def locate(platform: Platform, devices: list[DeviceInput]) -> list[str]:
    """The deepest region (normally a grid) each device stands in."""
    locator = regions.locator(platform)
    found = []
    for device in devices:
        try:
            path = locator.locate(platform.db, device.lng, device.lat)
        except PointOutsideRegions:
            raise ValidationFailed(f"({device.lng}, {device.lat}) is outside every region",
                                   field=device.field("lng")) from None
        found.append(path[-1].code)
    return found


def _city(session: Session) -> str | None:
    """Device imports are audited under the city, so the city's admins and leaders can read them."""
    cities = regions.list_regions(session=session, level="city", limit=1)
    return cities[0].code if cities else None
