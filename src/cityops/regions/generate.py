"""Deterministic subdivision of a polygon into N parts of similar size. Pure.

Used where real boundaries are not public (streets, communities, grids in the demo city): sample N points
inside the polygon with a seeded RNG, move each point to the centroid of its Voronoi cell a few times (Lloyd
relaxation, which evens out the cell sizes), then clip the final Voronoi cells to the polygon. Voronoi cells
tile the plane, so the clipped parts never overlap and together cover the polygon.

Works in plain longitude/latitude: over a district the east-west squeeze (cos 36° ≈ 0.81) is the same for
every cell, so areas stay comparable; shapes are only slightly elongated north-south.
"""

from __future__ import annotations

from typing import Final, TypeAlias

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon

Polygonal: TypeAlias = Polygon | MultiPolygon

LLOYD_ITERATIONS: Final = 8  # enough to bring part areas within ~15% of each other; more costs time
_MAX_ATTEMPTS: Final = 5


def subdivide(polygon: Polygonal, n: int, *, seed: int,
              iterations: int = LLOYD_ITERATIONS) -> list[Polygonal]:
    """Split `polygon` into `n` non-empty, non-overlapping parts covering it; same seed, same parts.

    Parts come ordered by their seed points' sampling order, which is fixed by the seed.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    if polygon.is_empty or polygon.area <= 0:
        raise ValueError("cannot subdivide an empty polygon")
    if n == 1:
        return [polygon]
    shapely.prepare(polygon)
    for attempt in range(_MAX_ATTEMPTS):
        rng = np.random.default_rng([seed, attempt])
        points = _lloyd(polygon, sample_points(polygon, n, rng), iterations)
        parts = _clipped_cells(polygon, points)
        if len(parts) == n and all(p.area > 0 for p in parts):
            return parts
    raise ValueError(f"could not split the polygon into {n} non-empty parts")


def sample_points(polygon: Polygonal, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """`n` uniformly random points strictly inside `polygon` (rejection sampling in its bounding box)."""
    min_x, min_y, max_x, max_y = polygon.bounds
    found: list[NDArray[np.float64]] = []
    total = 0
    while total < n:
        batch = max(64, 4 * n)
        xs = rng.uniform(min_x, max_x, batch)
        ys = rng.uniform(min_y, max_y, batch)
        inside = shapely.contains_xy(polygon, xs, ys)
        found.append(np.column_stack([xs[inside], ys[inside]]))
        total += int(inside.sum())
    return np.concatenate(found)[:n]


def _lloyd(polygon: Polygonal, points: NDArray[np.float64], iterations: int) -> NDArray[np.float64]:
    for _ in range(iterations):
        cells = _clipped_cells(polygon, points)
        if len(cells) != len(points):
            break  # two points merged; keep the last good layout rather than lose a part
        points = _inside_centres(polygon, cells)
    return points


def _inside_centres(polygon: Polygonal, cells: list[Polygonal]) -> NDArray[np.float64]:
    """Cell centroids; where a centroid falls outside the polygon (concave or split cells) a point on the
    cell's surface stands in, so every seed point stays inside and every part stays non-empty."""
    centres = shapely.centroid(np.array(cells, dtype=object))
    outside = ~shapely.contains(polygon, centres)
    if outside.any():
        centres[outside] = shapely.point_on_surface(np.array(cells, dtype=object)[outside])
    return shapely.get_coordinates(centres)


def _clipped_cells(polygon: Polygonal, points: NDArray[np.float64]) -> list[Polygonal]:
    """The Voronoi cell of each point (in input order) clipped to the polygon, polygonal parts only."""
    min_x, min_y, max_x, max_y = polygon.bounds
    margin = max(max_x - min_x, max_y - min_y)
    frame = shapely.box(min_x - margin, min_y - margin, max_x + margin, max_y + margin)
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=frame, ordered=True)
    cells = shapely.get_parts(diagram)
    if len(cells) != len(points):
        return []
    return [_polygonal(part) for part in shapely.intersection(cells, polygon)]


def _polygonal(geometry: shapely.Geometry) -> Polygonal:
    """Drop the lines and points a clip can leave where a cell only touches the polygon."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    polygons = [g for g in shapely.get_parts(geometry) if isinstance(g, Polygon) and not g.is_empty]
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
