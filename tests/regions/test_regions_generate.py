"""Subdividing a polygon: deterministic, every part non-empty, no overlaps, nothing left uncovered."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon

from cityops.regions.generate import subdivide

SQUARE = shapely.box(118.0, 36.0, 118.1, 36.1)
L_SHAPE = Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 3), (0, 3)])
TWO_ISLANDS = MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 2)])
WITH_HOLE = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
SHAPES = {"square": SQUARE, "l_shape": L_SHAPE, "two_islands": TWO_ISLANDS, "with_hole": WITH_HOLE}


def assert_partition(parent: shapely.Geometry, parts: list[shapely.Geometry], n: int) -> None:
    assert len(parts) == n
    assert all(p.area > 0 and p.geom_type in ("Polygon", "MultiPolygon") for p in parts)
    union = shapely.unary_union(parts)
    assert abs(union.area - parent.area) / parent.area < 1e-3
    assert parent.difference(union).area / parent.area < 1e-3
    assert union.difference(parent).area / parent.area < 1e-9
    # Pairwise overlaps are ~0 exactly when the areas add up to the union's.
    assert abs(sum(p.area for p in parts) - union.area) / parent.area < 1e-9


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), n=st.integers(min_value=2, max_value=12),
       shape=st.sampled_from(sorted(SHAPES)))
def test_parts_cover_the_polygon_without_overlap(seed: int, n: int, shape: str):
    assert_partition(SHAPES[shape], subdivide(SHAPES[shape], n, seed=seed), n)


def test_no_two_parts_overlap_pairwise():
    parts = subdivide(L_SHAPE, 7, seed=3)
    assert max(a.intersection(b).area for a, b in itertools.combinations(parts, 2)) < 1e-12


def test_the_same_seed_gives_the_same_parts():
    first = subdivide(L_SHAPE, 6, seed=42)
    again = subdivide(L_SHAPE, 6, seed=42)
    assert [p.wkb for p in first] == [p.wkb for p in again]
    assert [p.wkb for p in subdivide(L_SHAPE, 6, seed=43)] != [p.wkb for p in first]


def test_lloyd_relaxation_makes_parts_similar_in_size():
    areas = np.array([p.area for p in subdivide(SQUARE, 8, seed=7)])
    unrelaxed = np.array([p.area for p in subdivide(SQUARE, 8, seed=7, iterations=0)])
    assert areas.max() / areas.min() < 2.0
    assert areas.std() < unrelaxed.std()


def test_one_part_is_the_polygon_itself():
    assert subdivide(SQUARE, 1, seed=0) == [SQUARE]


@pytest.mark.parametrize("n", [0, -1])
def test_fewer_than_one_part_is_refused(n: int):
    with pytest.raises(ValueError):
        subdivide(SQUARE, n, seed=0)


def test_an_empty_polygon_is_refused():
    with pytest.raises(ValueError):
        subdivide(Polygon(), 3, seed=0)
