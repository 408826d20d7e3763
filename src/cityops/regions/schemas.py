"""Shapes: what importers and generators produce and upsert takes (dataclasses), and what the API returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from cityops.regions.codes import Level

Source = Literal["official", "generated", "imported"]


@dataclass(frozen=True)
class RegionInput:
    """One region to create or update. Geometry is a GeoJSON (Multi)Polygon in WGS-84, or None.

    `origin` names where it came from ("features[3]", "rows[7]") so a later error can point at it.
    A region given without parent_code is attached to the parent its code implies, when that region exists.
    A region given without geometry keeps the polygon (and its source) already stored, if any.
    """

    code: str
    name: str
    level: Level
    parent_code: str | None = None
    geometry: dict[str, Any] | None = None
    source: Source = "imported"
    origin: str = ""

    def field(self, name: str) -> str:
        return f"{self.origin}.{name}" if self.origin else name


@dataclass(frozen=True)
class UpsertResult:
    created: int
    updated: int
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


# --- API shapes ---------------------------------------------------------------------------------------------


class RegionOut(BaseModel):
    """A region without its polygon (lists stay small); coordinates are WGS-84."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: str
    parent_code: str | None
    path: str
    source: str
    centroid_lng: float | None
    centroid_lat: float | None
    min_lng: float | None
    min_lat: float | None
    max_lng: float | None
    max_lat: float | None
    updated_at: datetime


class RegionDetailOut(RegionOut):
    geometry: dict[str, Any] | None


class PathStepOut(BaseModel):
    level: str
    code: str
    name: str


class LocateOut(BaseModel):
    """Where a point lies, city first. lng/lat are the point in WGS-84, whatever datum it was given in."""

    lng: float
    lat: float
    path: list[PathStepOut]
