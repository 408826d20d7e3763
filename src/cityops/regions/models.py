"""Tables the regions domain owns: `regions` (all five levels in one tree) and `regions_meta` (a version)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base


class Region(Base):
    """A city, district, street/town, community/village or grid, with its polygon in WGS-84.

    `path` lists the codes from the root ("370300/370303/370303001"); `scope_prefix` is what every code
    inside this region starts with (see codes.scope_prefix_for). Geometry is null for regions imported from
    a division-codes list; centroid and bounding box are then null too.
    """

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(12), index=True)
    parent_code: Mapped[str | None] = mapped_column(String(20), ForeignKey("regions.code"), index=True)
    path: Mapped[str] = mapped_column(String(120))
    scope_prefix: Mapped[str] = mapped_column(String(20), index=True)
    geometry: Mapped[dict[str, Any] | None]
    centroid_lng: Mapped[float | None] = mapped_column(Float)
    centroid_lat: Mapped[float | None] = mapped_column(Float)
    min_lng: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lng: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(12))
    updated_at: Mapped[datetime]


class RegionsMeta(Base):
    """One row (id=1). Its version goes up in every transaction that changes regions, so each process can
    tell with one cheap query that its in-memory RegionIndex is stale."""

    __tablename__ = "regions_meta"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
