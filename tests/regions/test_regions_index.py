"""RegionIndex: point → path from the city down to the deepest containing region, fast and deterministic."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from cityops.regions.index import PathStep, RegionIndex, RegionRow


def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return dict(mapping(shapely.box(x0, y0, x1, y1)))


# A city 0..4 × 0..2 with two districts; district A has two streets; street A1 has one community with two grids
# side by side (sharing the edge x = 0.5); street A2 has no communities; district B has no streets.
ROWS = [
    RegionRow("370300", "city", None, "市", box(0, 0, 4, 2)),
    RegionRow("370301", "district", "370300", "区A", box(0, 0, 2, 2)),
    RegionRow("370302", "district", "370300", "区B", box(2, 0, 4, 2)),
    RegionRow("370301001", "street", "370301", "街A1", box(0, 0, 1, 2)),
    RegionRow("370301002", "street", "370301", "街A2", box(1, 0, 2, 2)),
    RegionRow("370301001001", "community", "370301001", "社区", box(0, 0, 1, 1)),
    RegionRow("370301001001001", "grid", "370301001001", "网格1", box(0, 0, 0.5, 1)),
    RegionRow("370301001001002", "grid", "370301001001", "网格2", box(0.5, 0, 1, 1)),
    RegionRow("370301002001", "community", "370301002", "无边界社区", None),
]


def codes(path: list[PathStep] | None) -> list[str]:
    assert path is not None
    return [step.code for step in path]


def test_a_point_in_a_grid_gets_the_whole_path_from_the_city():
    path = RegionIndex(ROWS).locate(0.25, 0.5)
    assert path == [PathStep("city", "370300", "市"), PathStep("district", "370301", "区A"),
                    PathStep("street", "370301001", "街A1"), PathStep("community", "370301001001", "社区"),
                    PathStep("grid", "370301001001001", "网格1")]


def test_a_point_where_there_are_no_grids_gets_its_deepest_region():
    index = RegionIndex(ROWS)
    assert codes(index.locate(1.5, 0.5)) == ["370300", "370301", "370301002"]
    assert codes(index.locate(3.0, 1.0)) == ["370300", "370302"]
    assert codes(index.locate(0.5, 1.5)) == ["370300", "370301", "370301001"]


def test_a_point_outside_every_region_gets_none():
    assert RegionIndex(ROWS).locate(10.0, 10.0) is None
    assert RegionIndex([]).locate(0.0, 0.0) is None


def test_a_point_on_a_shared_edge_always_goes_to_the_smaller_code():
    for seed in range(5):
        shuffled = ROWS[:]
        random.Random(seed).shuffle(shuffled)
        index = RegionIndex(shuffled)
        assert codes(index.locate(0.5, 0.5))[-1] == "370301001001001"
        assert codes(index.locate(2.0, 1.0))[:2] == ["370300", "370301"]  # district edge


def test_locate_many_agrees_with_locate():
    index = RegionIndex(ROWS)
    points = [(0.25, 0.5), (0.5, 0.5), (1.5, 0.5), (3.0, 1.0), (9.0, 9.0), (0.75, 0.99)]
    assert index.locate_many(points) == [index.locate(x, y) for x, y in points]


def test_a_region_without_geometry_still_appears_in_paths_but_is_never_located():
    rows = [RegionRow("370300", "city", None, "市", None),
            RegionRow("370301", "district", "370300", "区", box(0, 0, 1, 1))]
    assert codes(RegionIndex(rows).locate(0.5, 0.5)) == ["370300", "370301"]


def test_a_parent_cycle_in_bad_data_does_not_hang():
    rows = [RegionRow("370301", "district", "370302", "甲", box(0, 0, 1, 1)),
            RegionRow("370302", "district", "370301", "乙", box(5, 5, 6, 6))]
    assert codes(RegionIndex(rows).locate(0.5, 0.5))[-1] == "370301"


def test_many_points_against_a_large_grid_all_resolve_to_their_grid_in_both_modes():
    side = 60  # 3,600 grids; the speed over 22,500 grids is measured in bench/locate.py
    rows = [RegionRow("370300", "city", None, "市", box(0, 0, side, side))]
    rows += [RegionRow(f"370301001{i:03d}{j:03d}", "grid", "370300", "网格", box(i, j, i + 1, j + 1))
             for i in range(side) for j in range(side)]
    index = RegionIndex(rows)
    points = np.random.default_rng(1).uniform(0, side, (2_000, 2))
    found = [index.locate(x, y) for x, y in points]
    for (x, y), path in zip(points, found, strict=True):
        assert path is not None and path[-1].code == f"370301001{int(x):03d}{int(y):03d}"
    assert index.locate_many([(x, y) for x, y in points]) == found
