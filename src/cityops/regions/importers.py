"""Parsing and validating region files: GeoJSON FeatureCollections and division-code CSVs. Pure.

All or nothing: the first problem raises ValidationFailed naming the feature or row and the field
("features[3].properties.adcode", "rows[7].code"), so nothing is half-imported and people can find the spot.
Parsers return RegionInput in WGS-84; hierarchy checks needing the database happen in service.upsert_regions.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator, Mapping
from typing import Any, Final

import shapely
from shapely.geometry import shape

from cityops.core.errors import ValidationFailed
from cityops.core.tabular import decode_text
from cityops.regions.codes import (
    Level,
    code_problem,
    level_for_division_code,
    normalise_division_code,
    parent_level,
)
from cityops.regions.coords import Crs, geometry_to_wgs84
from cityops.regions.geometry import as_geojson
from cityops.regions.schemas import RegionInput, Source

POLYGON_TYPES: Final = ("Polygon", "MultiPolygon")
NAME_MAX: Final = 100
# Header names seen in the national statistical files and their Chinese re-publications.
CSV_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "code": ("code", "区划代码", "代码", "统计用区划代码"),
    "name": ("name", "名称", "区划名称"),
}


# --- GeoJSON --------------------------------------------------------------------------------------


def parse_geojson(data: bytes | str | Mapping[str, Any], *, level: Level, code_field: str = "adcode",
                  name_field: str = "name", parent_code: str | None = None, crs: Crs = "wgs84",
                  source: Source = "imported") -> list[RegionInput]:
    """Regions of one level from a FeatureCollection of (Multi)Polygons, converted to WGS-84."""
    _check_parent_argument(level, parent_code)
    features = _features(_load_json(data))
    regions: list[RegionInput] = []
    seen: dict[str, int] = {}
    for i, feature in enumerate(features):
        region = _region_from_feature(feature, f"features[{i}]", level=level, code_field=code_field,
                                      name_field=name_field, parent_code=parent_code, crs=crs, source=source)
        _check_unique(region.code, i, seen, f"features[{i}].properties.{code_field}")
        regions.append(region)
    return regions


def _check_parent_argument(level: Level, parent_code: str | None) -> None:
    if parent_code is None:
        return
    above = parent_level(level)
    if above is None:
        raise ValidationFailed("a city has no parent region", field="parent_code")
    problem = code_problem(parent_code, above)
    if problem:
        raise ValidationFailed(problem, field="parent_code")


def _load_json(data: bytes | str | Mapping[str, Any]) -> Any:
    if isinstance(data, Mapping):
        return data
    text = decode_text(data) if isinstance(data, bytes) else data
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"not JSON: {exc.msg} (line {exc.lineno})", field="file") from exc


def _features(document: Any) -> list[Any]:
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValidationFailed("expected a GeoJSON FeatureCollection", field="type")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise ValidationFailed("expected a non-empty list of features", field="features")
    return features


def _region_from_feature(feature: Any, where: str, *, level: Level, code_field: str, name_field: str,
                         parent_code: str | None, crs: Crs, source: Source) -> RegionInput:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ValidationFailed("expected a GeoJSON Feature", field=f"{where}.type")
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        raise ValidationFailed("the feature has no properties", field=f"{where}.properties")
    code = _code(properties.get(code_field), level, f"{where}.properties.{code_field}")
    name = _name(properties.get(name_field), f"{where}.properties.{name_field}")
    geometry = _geometry(feature.get("geometry"), f"{where}.geometry", crs)
    return RegionInput(code=code, name=name, level=level, parent_code=parent_code, geometry=geometry,
                       source=source, origin=where)


def _code(value: Any, level: Level, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationFailed("missing or not a code", field=field)
    code = str(value).strip()
    problem = code_problem(code, level)
    if problem:
        raise ValidationFailed(problem, field=field)
    return code


def _name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("missing or empty name", field=field)
    if len(value.strip()) > NAME_MAX:
        raise ValidationFailed(f"longer than {NAME_MAX} characters", field=field)
    return value.strip()


def _geometry(value: Any, field: str, crs: Crs) -> dict[str, Any]:
    if not isinstance(value, dict) or value.get("type") not in POLYGON_TYPES:
        raise ValidationFailed("expected a Polygon or MultiPolygon", field=f"{field}.type")
    _check_positions(value.get("coordinates"), f"{field}.coordinates")
    try:
        geometry = shape(value)
    except (ValueError, TypeError, IndexError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise ValidationFailed(f"malformed coordinates: {exc}", field=f"{field}.coordinates") from exc
    if geometry.is_empty or not geometry.is_valid:
        reason = "empty" if geometry.is_empty else shapely.is_valid_reason(geometry)
        raise ValidationFailed(f"invalid polygon: {reason}", field=f"{field}.coordinates")
    converted = geometry_to_wgs84({"type": value["type"], "coordinates": value["coordinates"]}, crs)
    return as_geojson(shape(converted))


def _check_positions(coordinates: Any, field: str) -> None:
    """Longitude/latitude in range: projected metres (EPSG:3857 and friends) are the usual mistake."""
    for lng, lat in _positions(coordinates, field):
        if not (-180 <= lng <= 180 and -90 <= lat <= 90):
            raise ValidationFailed(f"({lng}, {lat}) is not a longitude/latitude in degrees", field=field)


def _positions(value: Any, field: str) -> Iterator[tuple[float, float]]:
    if not isinstance(value, list) or not value:
        raise ValidationFailed("expected nested lists of [longitude, latitude]", field=field)
    if not isinstance(value[0], list):
        yield _position(value, field)
        return
    for item in value:
        yield from _positions(item, field)


def _position(value: list[Any], field: str) -> tuple[float, float]:
    if len(value) < 2 or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise ValidationFailed(f"expected [longitude, latitude], got {value!r:.60}", field=field)
    if not all(math.isfinite(v) for v in value):
        raise ValidationFailed("coordinates must be finite numbers", field=field)
    return float(value[0]), float(value[1])


def _check_unique(code: str, index: int, seen: dict[str, int], field: str) -> None:
    if code in seen:
        raise ValidationFailed(f"code {code} appears twice (first at {seen[code]})", field=field)
    seen[code] = index


# --- division-codes CSV ----------------------------------------------------------------------------


def parse_divisions_csv(data: bytes | str) -> list[RegionInput]:
    """Regions (without geometry) from a division-codes table: columns code,name[,…]; the level follows
    from the code's length (6 digits ending 00 → city, 6 → district, 9 → street, 12 → community)."""
    text = decode_text(data) if isinstance(data, bytes) else data
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = _csv_columns(reader.fieldnames)
    regions: list[RegionInput] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(reader):
        region = _region_from_row(row, i, columns, reader.line_num)
        _check_unique(region.code, i, seen, f"rows[{i}].code")
        regions.append(region)
    if not regions:
        raise ValidationFailed("the file has no data rows", field="file")
    return regions


def _csv_columns(fieldnames: Any) -> dict[str, str]:
    """Map "code" and "name" to the header the file actually uses."""
    present = {(name or "").strip().lower(): name for name in fieldnames or []}
    columns: dict[str, str] = {}
    for column, aliases in CSV_ALIASES.items():
        found = next((present[a] for a in aliases if a in present), None)
        if found is None:
            raise ValidationFailed(f"missing column {column!r} (have: {', '.join(present)})", field="header")
        columns[column] = found
    return columns


def _region_from_row(row: dict[str, Any], i: int, columns: dict[str, str], line: int) -> RegionInput:
    raw = (row.get(columns["code"]) or "").strip()
    code = normalise_division_code(raw)
    level = level_for_division_code(code) if code.isascii() and code.isdigit() else None
    if level is None:
        raise ValidationFailed(f"line {line}: {raw!r} is not a 4, 6, 9 or 12-digit division code",
                               field=f"rows[{i}].code")
    problem = code_problem(code, level)
    if problem:
        raise ValidationFailed(f"line {line}: {problem}", field=f"rows[{i}].code")
    name = _name(row.get(columns["name"]), f"rows[{i}].name")
    return RegionInput(code=code, name=name, level=level, source="official", origin=f"rows[{i}]")
