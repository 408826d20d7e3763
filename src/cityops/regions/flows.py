"""Business actions on regions. Each owns its transaction: upsert, one audit record, one bus message, commit.

Files are parsed before the transaction opens, so a bad file never takes the write lock and a large one does
not hold it while being read.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cityops.audit import service as audit
from cityops.platform import Platform
from cityops.regions import importers, service
from cityops.regions.codes import Level
from cityops.regions.coords import Crs
from cityops.regions.schemas import RegionInput
from cityops.regions.service import Progress

CHANGED_SUBJECT = "cityops.regions.changed"


@dataclass(frozen=True)
class ImportFile:
    """A file's name and bytes, for callers (web uploads) that do not have it on disk."""

    name: str
    content: bytes


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    unchanged: int
    version: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def import_geojson(platform: Platform, file: Path | ImportFile, *, level: Level, code_field: str = "adcode",
                   name_field: str = "name", parent_code: str | None = None, crs: Crs = "wgs84",
                   actor: str, progress: Progress | None = None) -> ImportSummary:
    """Import one level of regions with their polygons from a GeoJSON FeatureCollection."""
    source = _read(file)
    regions = importers.parse_geojson(source.content, level=level, code_field=code_field,
                                      name_field=name_field, parent_code=parent_code, crs=crs)
    return save_regions(platform, regions, actor=actor, file=source.name, level=level,
                        region_code=parent_code, progress=progress)


def import_divisions_csv(platform: Platform, file: Path | ImportFile, *, actor: str,
                         progress: Progress | None = None) -> ImportSummary:
    """Import region codes and names (no polygons) from a statistical division-codes CSV."""
    source = _read(file)
    regions = importers.parse_divisions_csv(source.content)
    return save_regions(platform, regions, actor=actor, file=source.name, level=_common_level(regions),
                        progress=progress)


def save_regions(platform: Platform, regions: Sequence[RegionInput], *, actor: str, file: str,
                 level: str, region_code: str | None = None,
                 progress: Progress | None = None) -> ImportSummary:
    """Upsert regions in one transaction with one audit record and one `regions.changed` message.

    An import that changes nothing writes nothing, so loading the same file again leaves no trace.
    `region_code` scopes the audit record (who may read it); by default the one parent all regions share.
    """
    with platform.uow() as uow:
        at = uow.clock.now()
        result = service.upsert_regions(session=uow.session, regions=regions, at=at, progress=progress)
        version = service.current_version(session=uow.session)
        scope = region_code or _common_parent(regions)
        if not result.changed:
            return ImportSummary(result.created, result.updated, result.unchanged, version)
        data = {"count": len(regions), "level": level, "file": file, "created": result.created,
                "updated": result.updated}
        audit.append(uow.session, at=at, actor=actor, action="regions.imported", entity_type="region",
                     entity_id=scope or level, region_code=scope, data=data)
        uow.publish(CHANGED_SUBJECT, {**data, "version": version, "region_code": scope},
                    key=f"regions.imported:{uuid.uuid4().hex}")
        uow.commit()
    service.locator(platform).invalidate()  # this process sees its own change at once
    return ImportSummary(result.created, result.updated, result.unchanged, version)


def _read(file: Path | ImportFile) -> ImportFile:
    if isinstance(file, ImportFile):
        return file
    return ImportFile(name=os.path.basename(file), content=Path(file).read_bytes())


def _common_level(regions: Sequence[RegionInput]) -> str:
    levels = {r.level for r in regions}
    return levels.pop() if len(levels) == 1 else "mixed"


def _common_parent(regions: Sequence[RegionInput]) -> str | None:
    """The one parent every imported region names, if there is exactly one; it scopes the audit record."""
    parents = {r.parent_code for r in regions}
    return parents.pop() if len(parents) == 1 else None
