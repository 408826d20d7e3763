"""Point → region lookup with tens of thousands of grids.

Prints one JSON object: lookups per second one by one and in bulk through RegionIndex, and, measured in the
same run as the baseline, a plain scan that tests each grid polygon in turn (what a naive lookup does).

    python bench/locate.py [--grids-side 150] [--points 10000]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import shapely
from machine import machine  # bench/ is on sys.path when a benchmark runs as a script
from shapely.geometry import mapping

from cityops.regions.index import RegionIndex, RegionRow


def build(side: int) -> tuple[list[RegionRow], list[shapely.Geometry]]:
    rows = [RegionRow("370300", "city", None, "市", dict(mapping(shapely.box(0, 0, side, side))))]
    polygons = []
    for i in range(side):
        for j in range(side):
            polygon = shapely.box(i, j, i + 1, j + 1)
            polygons.append(polygon)
            rows.append(RegionRow(f"370301001{i:03d}{j:03d}", "grid", "370300", "网格", dict(mapping(polygon))))
    return rows, polygons


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grids-side", type=int, default=150)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--baseline-points", type=int, default=200)
    args = parser.parse_args()

    rows, polygons = build(args.grids_side)
    started = time.perf_counter()
    index = RegionIndex(rows)
    build_s = time.perf_counter() - started
    points = np.random.default_rng(1).uniform(0, args.grids_side, (args.points, 2))

    started = time.perf_counter()
    for x, y in points:
        index.locate(x, y)
    one_s = time.perf_counter() - started

    started = time.perf_counter()
    index.locate_many([(x, y) for x, y in points])
    bulk_s = time.perf_counter() - started

    started = time.perf_counter()
    for x, y in points[: args.baseline_points]:
        point = shapely.Point(x, y)
        next(i for i, polygon in enumerate(polygons) if polygon.intersects(point))
    scan_s = time.perf_counter() - started

    print(json.dumps({
        "benchmark": "regions.locate",
        "grids": len(polygons),
        "points": args.points,
        "index_build_s": round(build_s, 3),
        "index_lookups_per_s": round(args.points / one_s),
        "index_bulk_lookups_per_s": round(args.points / bulk_s),
        "baseline_linear_scan_lookups_per_s": round(args.baseline_points / scan_s, 1),
        "speedup_vs_scan": round((args.points / one_s) / (args.baseline_points / scan_s), 1),
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
