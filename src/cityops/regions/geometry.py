"""Shapely geometry ⇄ GeoJSON dicts as stored: RFC 7946 ring orientation, plain lists."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import mapping, shape


def as_geojson(geometry: shapely.Geometry) -> dict[str, Any]:
    """GeoJSON for storage: exterior rings counter-clockwise, holes clockwise (RFC 7946 §3.1.6), and lists
    rather than tuples, so a stored geometry compares equal to a freshly built one."""
    oriented = shapely.orient_polygons(geometry, exterior_cw=False)
    return _lists(mapping(oriented))  # type: ignore[no-any-return]


def from_geojson(geometry: dict[str, Any]) -> shapely.Geometry:
    return shape(geometry)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(item) for item in value]
    return value
