"""Importers validate everything before anything is written, and name the feature or row and the field."""

from __future__ import annotations

import copy
import json
from importlib.resources import files
from typing import Any

import pytest
import shapely
from shapely.geometry import shape

from cityops.core.errors import ValidationFailed
from cityops.regions.importers import parse_divisions_csv, parse_geojson

DATA = files("cityops.demo") / "data"


def zibo_districts() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / "zibo_districts_gcj02.geojson").read_bytes())
    return document


def feature(code: Any = "370303", name: Any = "张店区", geometry: Any = None) -> dict[str, Any]:
    ring = [[118.0, 36.7], [118.1, 36.7], [118.1, 36.8], [118.0, 36.8], [118.0, 36.7]]
    return {"type": "Feature", "properties": {"adcode": code, "name": name},
            "geometry": geometry if geometry is not None else {"type": "Polygon", "coordinates": [ring]}}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def field_of_error(document: Any, **options: Any) -> str | None:
    with pytest.raises(ValidationFailed) as error:
        parse_geojson(document, **{"level": "district", **options})
    return error.value.field


def test_datav_districts_import_as_wgs84_with_string_codes():
    regions = parse_geojson(json.dumps(zibo_districts()).encode(), level="district", crs="gcj02")
    assert [r.code for r in regions] == ["370302", "370303", "370304", "370305", "370306", "370321", "370322",
                                         "370323"]
    zhangdian = next(r for r in regions if r.name == "张店区")
    assert zhangdian.geometry is not None and zhangdian.parent_code is None and zhangdian.origin == "features[1]"
    raw = shape(zibo_districts()["features"][1]["geometry"]).centroid
    converted = shape(zhangdian.geometry).centroid
    # GCJ-02 is shifted east and north of WGS-84 around Zibo by roughly 500 m and 200 m.
    assert 0.003 < raw.x - converted.x < 0.008
    assert 0.0 < raw.y - converted.y < 0.004


def test_wgs84_input_is_stored_as_given_but_with_rfc7946_orientation():
    clockwise = {"type": "Polygon", "coordinates": [[[118.0, 36.7], [118.0, 36.8], [118.1, 36.8], [118.1, 36.7],
                                                     [118.0, 36.7]]]}
    (region,) = parse_geojson(collection(feature(geometry=clockwise)), level="district")
    assert region.geometry is not None
    assert shapely.is_ccw(shape(region.geometry).exterior)
    assert shape(region.geometry).equals(shape(clockwise))


def test_a_given_parent_applies_to_every_feature():
    regions = parse_geojson(collection(feature()), level="district", parent_code="370300")
    assert regions[0].parent_code == "370300"


def test_a_missing_code_names_the_feature_and_property():
    document = zibo_districts()
    del document["features"][3]["properties"]["adcode"]
    assert field_of_error(document, crs="gcj02") == "features[3].properties.adcode"


@pytest.mark.parametrize(("bad", "field"), [
    (feature(code="37030"), "features[0].properties.adcode"),
    (feature(code="370300"), "features[0].properties.adcode"),  # a city code where districts are expected
    (feature(code=True), "features[0].properties.adcode"),
    (feature(name=""), "features[0].properties.name"),
    (feature(name=None), "features[0].properties.name"),
    (feature(geometry={"type": "Point", "coordinates": [118.0, 36.7]}), "features[0].geometry.type"),
    (feature(geometry={"type": "Polygon", "coordinates": [[[13_143_000.0, 4_412_000.0], [13_144_000.0, 4_412_000.0],
                                                           [13_144_000.0, 4_413_000.0], [13_143_000.0, 4_412_000.0]]]}),
     "features[0].geometry.coordinates"),  # metres (EPSG:3857), not degrees
    (feature(geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
     "features[0].geometry.coordinates"),  # a bow tie crosses itself
    (feature(geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, "x"], [1, 0], [0, 0]]]}),
     "features[0].geometry.coordinates"),
    (feature(geometry={"type": "Polygon", "coordinates": []}), "features[0].geometry.coordinates"),
    ({"type": "Feature", "properties": None, "geometry": None}, "features[0].properties"),
    ({"type": "Thing"}, "features[0].type"),
])
def test_bad_features_are_refused_naming_the_field(bad: dict[str, Any], field: str):
    assert field_of_error(collection(bad)) == field


def test_the_error_points_at_the_bad_feature_not_the_first():
    assert field_of_error(collection(feature("370303"), feature("370304"), feature("3703X5"))) == \
        "features[2].properties.adcode"


def test_a_duplicate_code_is_refused_at_its_second_occurrence():
    assert field_of_error(collection(feature("370303"), feature("370303"))) == "features[1].properties.adcode"


@pytest.mark.parametrize(("document", "field"), [
    (b"{not json", "file"),
    ({"type": "Feature"}, "type"),
    ({"type": "FeatureCollection", "features": []}, "features"),
])
def test_a_file_that_is_not_a_feature_collection_is_refused(document: Any, field: str):
    assert field_of_error(document) == field


def test_custom_code_and_name_fields_are_used_and_named_in_errors():
    bad = {"type": "Feature", "properties": {"gb": "370303", "title": ""}, "geometry": feature()["geometry"]}
    assert field_of_error(collection(bad), code_field="gb", name_field="title") == "features[0].properties.title"


@pytest.mark.parametrize(("level", "parent", "field"), [("city", "370300", "parent_code"),
                                                        ("district", "370303", "parent_code")])
def test_an_impossible_parent_argument_is_refused(level: str, parent: str, field: str):
    assert field_of_error(collection(feature()), level=level, parent_code=parent) == field


# --- division-codes CSV ------------------------------------------------------------------------------------

CSV = 'code,name,areaCode\n3703,"淄博市",\n370303,"张店区",3703\n370303001,"车站街道",370303\n' \
      '370303001001,"车站第1社区",370303001\n'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_division_csv_reads_utf8_with_or_without_bom_and_gb18030(encoding: str):
    regions = parse_divisions_csv(CSV.encode(encoding))
    assert [(r.code, r.name, r.level) for r in regions] == [
        ("370300", "淄博市", "city"), ("370303", "张店区", "district"), ("370303001", "车站街道", "street"),
        ("370303001001", "车站第1社区", "community")]
    assert all(r.geometry is None and r.source == "official" and r.parent_code is None for r in regions)


def test_the_shipped_zibo_streets_file_parses():
    regions = parse_divisions_csv((DATA / "zibo_streets.csv").read_bytes())
    assert len(regions) == 88 and {r.level for r in regions} == {"street"}


def test_twelve_digit_padded_codes_and_chinese_headers_are_understood():
    regions = parse_divisions_csv("区划代码,名称\n370303000000,张店区\n370303001000,车站街道\n".encode())
    assert [(r.code, r.level) for r in regions] == [("370303", "district"), ("370303001", "street")]


@pytest.mark.parametrize(("text", "field"), [
    ("code,name\n370303,张店区\n37030,坏代码\n", "rows[1].code"),
    ("code,name\n370303,张店区\n370000,山东省\n", "rows[1].code"),
    ("code,name\n370303,\n", "rows[0].name"),
    ("code,name\n370303,张店区\n370303,张店区\n", "rows[1].code"),
    ("id,title\n370303,张店区\n", "header"),
    ("code,name\n", "file"),
])
def test_bad_csv_rows_are_refused_naming_row_and_column(text: str, field: str):
    with pytest.raises(ValidationFailed) as error:
        parse_divisions_csv(text.encode())
    assert error.value.field == field


def test_a_bad_csv_row_mentions_its_line_number():
    with pytest.raises(ValidationFailed) as error:
        parse_divisions_csv(b"code,name\n370303,A\n370304,B\nxx,C\n")
    assert "line 4" in (error.value.detail or "")


def test_bytes_that_are_no_known_text_encoding_are_refused():
    with pytest.raises(ValidationFailed) as error:
        parse_divisions_csv(b"\xff\xfe\x00\x81\x30")
    assert error.value.field == "file"


def test_input_is_not_modified():
    document = collection(feature())
    before = copy.deepcopy(document)
    parse_geojson(document, level="district", crs="gcj02")
    assert document == before
