"""GCJ-02 ⇄ WGS-84, for points and GeoJSON geometries. Pure.

DECISION: CityOps stores and serves every coordinate in WGS-84 (EPSG:4326, longitude first). That is what
phone GPS reports, what Open311 GeoReport v2 lat/long means and what RFC 7946 GeoJSON requires. GCJ-02 (the
"Mars" datum of Chinese web maps: Amap/Gaode, Tencent, the DataV boundary files) is accepted only at the
edges, with an explicit `crs="gcj02"` on the import or the request, and converted here on the way in. Nothing
inside the system is ever GCJ-02, so no table or message needs a datum column. See docs/coordinates.md.

GCJ-02 is the public closed-form obfuscation of WGS-84 used by every open implementation (Krasovsky-1940
ellipsoid constants). WGS-84 → GCJ-02 is that formula; GCJ-02 → WGS-84 has no closed form and is solved by
fixed-point iteration to better than 1e-7 degrees (about 1 cm). Outside China the two datums coincide.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final, Literal, get_args

from cityops.core.errors import ValidationFailed

Crs = Literal["wgs84", "gcj02"]
CRS_VALUES: Final[tuple[Crs, ...]] = get_args(Crs)

_A: Final = 6378245.0  # Krasovsky 1940 semi-major axis, as fixed by the GCJ-02 formula
_EE: Final = 0.00669342162296594323  # its first eccentricity squared
_TOLERANCE: Final = 1e-9
_MAX_ITERATIONS: Final = 30

Transform = Callable[[float, float], tuple[float, float]]


def out_of_china(lng: float, lat: float) -> bool:
    """The bounding box every public implementation uses: outside it GCJ-02 equals WGS-84."""
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _delta_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _delta_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    if out_of_china(lng, lat):
        return lng, lat
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = _delta_lat(lng - 105.0, lat - 35.0) * 180.0 / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = _delta_lng(lng - 105.0, lat - 35.0) * 180.0 / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lng + d_lng, lat + d_lat


def gcj02_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    """Find the WGS-84 point whose GCJ-02 image is (lng, lat): the offset varies slowly, so iterating
    w ← w − (gcj(w) − target) converges in a handful of steps."""
    if out_of_china(lng, lat):
        return lng, lat
    w_lng, w_lat = lng, lat
    for _ in range(_MAX_ITERATIONS):
        g_lng, g_lat = wgs84_to_gcj02(w_lng, w_lat)
        d_lng, d_lat = g_lng - lng, g_lat - lat
        w_lng, w_lat = w_lng - d_lng, w_lat - d_lat
        if abs(d_lng) < _TOLERANCE and abs(d_lat) < _TOLERANCE:
            break
    return w_lng, w_lat


def to_wgs84(lng: float, lat: float, crs: Crs) -> tuple[float, float]:
    return gcj02_to_wgs84(lng, lat) if crs == "gcj02" else (lng, lat)


def transform_geometry(geometry: dict[str, Any], func: Transform) -> dict[str, Any]:
    """A copy of a GeoJSON geometry with `func` applied to every position (extra ordinates are kept)."""
    if geometry["type"] == "GeometryCollection":
        parts = [transform_geometry(g, func) for g in geometry["geometries"]]
        return {"type": "GeometryCollection", "geometries": parts}
    return {"type": geometry["type"], "coordinates": _transform_positions(geometry["coordinates"], func)}


def _transform_positions(value: Any, func: Transform) -> Any:
    if value and isinstance(value[0], int | float):
        lng, lat = func(float(value[0]), float(value[1]))
        return [lng, lat, *value[2:]]
    return [_transform_positions(item, func) for item in value]


def geometry_to_wgs84(geometry: dict[str, Any], crs: Crs) -> dict[str, Any]:
    return transform_geometry(geometry, gcj02_to_wgs84) if crs == "gcj02" else geometry


def parse_crs(value: str) -> Crs:
    """A CRS name from a request or flag; anything else is refused rather than silently read as WGS-84."""
    normalised = value.strip().lower().replace("-", "")
    for crs in CRS_VALUES:
        if normalised == crs:
            return crs
    raise ValidationFailed(f"unknown coordinate system {value!r}; use wgs84 or gcj02", field="crs")
