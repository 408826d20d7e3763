"""Point → region lookup in memory: one STRtree per level over prepared polygons. Pure (no database).

`locate` asks the deepest level first, so a point in an area that has no grids (or no communities…) still
gets the deepest region that contains it. A point exactly on an edge shared by two regions touches both; the
one with the smaller code wins, so every process answers the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape

from cityops.regions.codes import LEVELS, Level


class PathStep(NamedTuple):
    level: str
    code: str
    name: str


@dataclass(frozen=True)
class RegionRow:
    code: str
    level: Level
    parent_code: str | None
    name: str
    geometry: dict[str, Any] | None


class _LevelTree:
    """The polygons of one level, sorted by code so that ties on shared edges resolve to the smallest code."""

    def __init__(self, rows: list[RegionRow]) -> None:
        rows = sorted(rows, key=lambda row: row.code)
        self.codes = [row.code for row in rows]
        geometries = np.array([_valid(shape(row.geometry)) for row in rows], dtype=object)
        shapely.prepare(geometries)
        self.tree = shapely.STRtree(geometries)

    def find(self, point: shapely.Point) -> str | None:
        hits = self.tree.query(point, predicate="intersects")
        return self.codes[int(hits.min())] if len(hits) else None

    def find_many(self, points: NDArray[np.object_]) -> list[str | None]:
        point_idx, geom_idx = self.tree.query(points, predicate="intersects")
        best = np.full(len(points), len(self.codes), dtype=np.int64)
        np.minimum.at(best, point_idx, geom_idx)  # tie on a shared edge → smallest code
        return [self.codes[i] if i < len(self.codes) else None for i in best]


def _valid(geometry: shapely.Geometry) -> shapely.Geometry:
    return geometry if geometry.is_valid else shapely.make_valid(geometry)


class RegionIndex:
    def __init__(self, rows: list[RegionRow]) -> None:
        by_code = {row.code: row for row in rows}
        self._paths = {code: _path(code, by_code) for code in by_code}
        self._trees: list[_LevelTree] = []
        for level in reversed(LEVELS):  # deepest first
            with_geometry = [row for row in rows if row.level == level and row.geometry]
            if with_geometry:
                self._trees.append(_LevelTree(with_geometry))

    def __len__(self) -> int:
        return len(self._paths)

    def locate(self, lng: float, lat: float) -> list[PathStep] | None:
        """The path from the city down to the deepest region containing the point, or None outside all."""
        point = shapely.Point(lng, lat)
        for tree in self._trees:
            code = tree.find(point)
            if code is not None:
                return list(self._paths[code])
        return None

    def locate_many(self, coordinates: list[tuple[float, float]]) -> list[list[PathStep] | None]:
        """`locate` for many points at once: one bulk tree query per level instead of one per point."""
        points = shapely.points(np.asarray(coordinates, dtype=float).reshape(-1, 2))
        found: list[str | None] = [None] * len(points)
        for tree in self._trees:
            missing = np.array([i for i, code in enumerate(found) if code is None], dtype=np.int64)
            if not len(missing):
                break
            for i, code in zip(missing, tree.find_many(points[missing]), strict=True):
                found[i] = code
        return [list(self._paths[code]) if code else None for code in found]


def _path(code: str, by_code: dict[str, RegionRow]) -> tuple[PathStep, ...]:
    """Steps from the root down to `code`; stops at a missing parent or, defensively, at a cycle."""
    steps: list[PathStep] = []
    seen: set[str] = set()
    current: str | None = code
    while current is not None and current in by_code and current not in seen:
        seen.add(current)
        row = by_code[current]
        steps.append(PathStep(row.level, row.code, row.name))
        current = row.parent_code
    return tuple(reversed(steps))
