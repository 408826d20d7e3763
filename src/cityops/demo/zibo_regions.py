"""The demo city's regions: real 淄博市 districts and streets/towns, generated communities and grids.

Real: the 8 district/county boundaries (DataV, GCJ-02 → WGS-84) and the codes and names of the 88 streets
and towns (national statistical division codes, 2023). Generated (source="generated"), because street and
community boundaries are not public: street polygons inside their real district, 4–8 communities (社区, or
村 in towns) per street and 4–8 grids per community. Everything is seeded by the region code, so every build
gives the same shapes and loading twice changes nothing. See data/SOURCES.md.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from functools import cache
from importlib.resources import files
from typing import Any, Final

import shapely
from shapely.geometry import Point

from cityops.platform import Platform
from cityops.regions import importers
from cityops.regions.coords import gcj02_to_wgs84
from cityops.regions.flows import ImportSummary, save_regions
from cityops.regions.generate import Polygonal, subdivide
from cityops.regions.geometry import as_geojson, from_geojson
from cityops.regions.schemas import RegionInput

CITY_CODE: Final = "370300"
CITY_NAME: Final = "淄博市"
PARTS_RANGE: Final = (4, 8)  # communities per street and grids per community, inclusive
DATA = files("cityops.demo") / "data"
DISTRICTS_FILE: Final = "zibo_districts_gcj02.geojson"


def build_zibo_regions() -> list[RegionInput]:
    """City, districts, streets, communities and grids, parents first. Pure and deterministic."""
    districts = _districts()
    regions = [_city(districts), *districts]
    streets = _streets_by_district()
    seats = _district_seats()
    for district in districts:
        for street, shape in _place_streets(district, streets[district.code], seats[district.code]):
            regions.append(street)
            regions.extend(_communities_and_grids(street, shape))
    return regions


def load_zibo_regions(platform: Platform, actor: str) -> ImportSummary:
    """Upsert the demo regions in one transaction; a second run finds everything unchanged."""
    regions = build_zibo_regions()
    return save_regions(platform, regions, actor=actor, file="demo:zibo", level="city", region_code=CITY_CODE)


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _districts() -> list[RegionInput]:
    districts = importers.parse_geojson(_read(DISTRICTS_FILE), level="district", code_field="adcode",
                                        name_field="name", parent_code=CITY_CODE, crs="gcj02")
    official = {r.code for r in importers.parse_divisions_csv(_read("zibo_areas.csv"))}
    if {d.code for d in districts} != official:
        raise ValueError("the district boundaries and the division codes disagree")
    return districts


def _city(districts: list[RegionInput]) -> RegionInput:
    union = shapely.unary_union([from_geojson(d.geometry) for d in districts if d.geometry])
    return RegionInput(CITY_CODE, CITY_NAME, "city", None, as_geojson(union), "imported")


def _streets_by_district() -> dict[str, list[RegionInput]]:
    grouped: dict[str, list[RegionInput]] = defaultdict(list)
    for street in importers.parse_divisions_csv(_read("zibo_streets.csv")):
        grouped[street.code[:6]].append(street)
    return {code: sorted(streets, key=lambda s: s.code) for code, streets in grouped.items()}


@cache
def _district_seats() -> dict[str, tuple[float, float]]:
    """Where each district government sits (DataV "center"), converted to WGS-84."""
    document: dict[str, Any] = json.loads(_read(DISTRICTS_FILE))
    return {str(f["properties"]["adcode"]): gcj02_to_wgs84(*f["properties"]["center"])
            for f in document["features"]}


def _seed(code: str) -> int:
    return zlib.crc32(code.encode())  # stable across processes, unlike hash()


def _place_streets(district: RegionInput, streets: list[RegionInput],
                   seat: tuple[float, float]) -> list[tuple[RegionInput, Polygonal]]:
    """One generated part per street. Streets (街道, codes 0xx) come before towns (镇, 1xx) and get the parts
    nearest the district seat, so the urban streets cluster around the centre as they do in reality."""
    assert district.geometry is not None
    parts = subdivide(from_geojson(district.geometry), len(streets), seed=_seed(district.code))
    parts.sort(key=lambda part: Point(seat).distance(part.representative_point()))
    placed = []
    for street, part in zip(streets, parts, strict=True):
        placed.append((RegionInput(street.code, street.name, "street", district.code, as_geojson(part),
                                   "generated"), part))
    return placed


def _parts_count(code: str) -> int:
    low, high = PARTS_RANGE
    return low + _seed(code) % (high - low + 1)


def _communities_and_grids(street: RegionInput, shape: Polygonal) -> list[RegionInput]:
    town = street.name.endswith("镇")
    stem = street.name.removesuffix("街道").removesuffix("镇")
    regions: list[RegionInput] = []
    for n, part in enumerate(subdivide(shape, _parts_count(street.code), seed=_seed(street.code)), start=1):
        # Statistical village codes: 0xx/1xx are 居委会 (communities), 2xx–3xx are 村委会 (villages).
        code = f"{street.code}{200 + n if town else n:03d}"
        name = f"{stem}第{n}{'村' if town else '社区'}"
        regions.append(RegionInput(code, name, "community", street.code, as_geojson(part), "generated"))
        regions.extend(_grids(code, name, part))
    return regions


def _grids(community_code: str, community_name: str, shape: Polygonal) -> list[RegionInput]:
    parts = subdivide(shape, _parts_count(community_code), seed=_seed(community_code))
    return [RegionInput(f"{community_code}{n:03d}", f"{community_name}第{n}网格", "grid", community_code,
                        as_geojson(part), "generated") for n, part in enumerate(parts, start=1)]
