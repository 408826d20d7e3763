"""Square cells of about 1 km over WGS-84 coordinates, so "open cases near this point" is an indexed lookup
of a few integers instead of a distance computed for every open case. Pure: no database.

A cell is 0.01° of latitude by 0.0125° of longitude: about 1.1 × 1.1 km at 37° N (Zibo), 1.2 × 1.1 km in the
south of China and 0.9 × 1.1 km in the north. Its id is row × 100 000 + column, which fits a 32-bit integer.
"""

from __future__ import annotations

import math
from typing import Final

CELL_LAT_DEG: Final = 0.01
CELL_LNG_DEG: Final = 0.0125
_COLUMNS: Final = 100_000  # more than 360 / CELL_LNG_DEG, so row and column never collide
EARTH_RADIUS_M: Final = 6_371_008.8  # mean radius (IUGG)
METRES_PER_DEGREE: Final = math.pi * EARTH_RADIUS_M / 180
MAX_CELLS: Final = 400  # beyond this (a radius of ~10 km) a cell list stops being a useful filter


def cell_of(lng: float, lat: float) -> int:
    return _row(lat) * _COLUMNS + _column(lng)


def _row(lat: float) -> int:
    return math.floor((lat + 90.0) / CELL_LAT_DEG)


def _column(lng: float) -> int:
    return math.floor((lng + 180.0) / CELL_LNG_DEG)


def cells_near(lng: float, lat: float, radius_m: float) -> list[int] | None:
    """Every cell that a circle of `radius_m` around the point touches (its bounding box, so a few more at the
    corners), or None when that would be more than MAX_CELLS and the caller should filter some other way.

    Rows and columns come from the same floor() as cell_of, so a point inside the circle is always in one of
    the cells returned, however close it lies to a cell border."""
    west, south, east, north = box_near(lng, lat, radius_m)
    rows = range(_row(south), _row(north) + 1)
    columns = range(_column(west), _column(east) + 1)
    if len(rows) * len(columns) > MAX_CELLS:
        return None
    return [row * _COLUMNS + column for row in rows for column in columns]


def box_near(lng: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """(west, south, east, north): a box holding every point within `radius_m` of the point."""
    dlat = radius_m / METRES_PER_DEGREE
    # The box in longitude widens towards the poles; cos() is floored so a point near a pole cannot divide by 0.
    dlng = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(min(abs(lat) + dlat, 90.0))), 1e-6))
    return lng - dlng, max(lat - dlat, -90.0), lng + dlng, min(lat + dlat, 90.0)


def haversine_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance in metres; within a city it is off by well under a metre per kilometre."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lng2 - lng1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
