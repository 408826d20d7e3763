"""GCJ-02 ⇄ WGS-84: the public algorithm's known values, round trips, and GeoJSON geometries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.core.errors import ValidationFailed
from cityops.regions.coords import (
    gcj02_to_wgs84,
    geometry_to_wgs84,
    parse_crs,
    to_wgs84,
    transform_geometry,
    wgs84_to_gcj02,
)

inside_china = st.tuples(st.floats(min_value=74.0, max_value=134.0), st.floats(min_value=18.0, max_value=53.0))


def test_wgs84_to_gcj02_matches_the_published_reference_value():
    # Tiananmen, as in wandergis/coordtransform and the libraries that copy its tests.
    lng, lat = wgs84_to_gcj02(116.404, 39.915)
    assert lng == pytest.approx(116.41024449916938, abs=1e-12)
    assert lat == pytest.approx(39.91640428150164, abs=1e-12)


def test_gcj02_to_wgs84_is_the_exact_inverse_not_the_one_step_estimate():
    lng, lat = gcj02_to_wgs84(116.404, 39.915)
    # The one-step estimate others publish is (116.39775550083061, 39.91359571849836); iterating moves it
    # by under a micro-degree and makes the forward formula land back on the input.
    assert (lng, lat) == pytest.approx((116.39775550083061, 39.91359571849836), abs=1e-6)
    assert wgs84_to_gcj02(lng, lat) == pytest.approx((116.404, 39.915), abs=1e-9)


@given(inside_china)
def test_wgs_to_gcj_to_wgs_round_trips_within_a_micro_degree(point: tuple[float, float]):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(*point))
    assert back == pytest.approx(point, abs=1e-6)


@given(inside_china)
def test_the_datums_differ_by_less_than_a_kilometre_in_china(point: tuple[float, float]):
    lng, lat = wgs84_to_gcj02(*point)
    assert abs(lng - point[0]) < 0.01 and abs(lat - point[1]) < 0.01


@pytest.mark.parametrize("point", [(-73.98, 40.75), (2.35, 48.86), (139.69, 35.69)])
def test_outside_china_both_datums_are_the_same(point: tuple[float, float]):
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point


def test_to_wgs84_leaves_wgs84_input_alone():
    assert to_wgs84(118.0691, 36.8137, "wgs84") == (118.0691, 36.8137)
    assert to_wgs84(118.0691, 36.8137, "gcj02") != (118.0691, 36.8137)


def test_transform_geometry_converts_every_position_and_keeps_the_structure():
    ring = [[118.0, 36.8], [118.1, 36.8], [118.1, 36.9], [118.0, 36.8]]
    geometry = {"type": "MultiPolygon", "coordinates": [[ring], [ring]]}
    converted = geometry_to_wgs84(geometry, "gcj02")
    assert converted["type"] == "MultiPolygon"
    assert converted["coordinates"][1][0][2] == list(gcj02_to_wgs84(118.1, 36.9))
    assert geometry["coordinates"][0][0][0] == [118.0, 36.8]  # the input is not modified


def test_transform_geometry_handles_collections_and_keeps_extra_ordinates():
    collection = {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1.0, 2.0, 30.0]}]}
    moved = transform_geometry(collection, lambda x, y: (x + 1, y + 1))
    assert moved["geometries"][0]["coordinates"] == [2.0, 3.0, 30.0]


def test_wgs84_geometry_is_returned_unchanged():
    geometry = {"type": "Point", "coordinates": [118.0, 36.8]}
    assert geometry_to_wgs84(geometry, "wgs84") is geometry


@pytest.mark.parametrize(("given_value", "crs"), [("wgs84", "wgs84"), ("GCJ-02", "gcj02"), (" gcj02 ", "gcj02")])
def test_parse_crs_accepts_common_spellings(given_value: str, crs: str):
    assert parse_crs(given_value) == crs


def test_parse_crs_refuses_other_datums_naming_the_field():
    with pytest.raises(ValidationFailed) as error:
        parse_crs("bd09")
    assert error.value.field == "crs"
