"""The Zibo demo regions: real districts and streets, generated communities and grids, and the acceptance points."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import pytest
import shapely
from shapely.geometry import shape

from cityops.demo.zibo_regions import load_zibo_regions
from cityops.platform import Platform
from cityops.regions import service
from cityops.regions.codes import scope_prefix_for
from cityops.regions.errors import PointOutsideRegions
from cityops.regions.flows import save_regions
from cityops.regions.schemas import RegionInput


def by_parent(regions: list[RegionInput]) -> dict[str | None, list[RegionInput]]:
    grouped: dict[str | None, list[RegionInput]] = defaultdict(list)
    for region in regions:
        grouped[region.parent_code].append(region)
    return grouped


def test_zibo_has_one_city_eight_districts_and_eighty_eight_streets(zibo_regions: list[RegionInput]):
    levels = Counter(r.level for r in zibo_regions)
    assert (levels["city"], levels["district"], levels["street"]) == (1, 8, 88)
    assert 2_000 <= levels["grid"] <= 5_000  # a demo that loads in seconds
    names = {r.code: r.name for r in zibo_regions}
    assert names["370300"] == "淄博市" and names["370303"] == "张店区" and names["370323"] == "沂源县"
    assert names["370303001"] == "车站街道"


def test_every_street_has_four_to_eight_communities_and_every_community_four_to_eight_grids(
        zibo_regions: list[RegionInput]):
    children = by_parent(zibo_regions)
    for region in zibo_regions:
        if region.level in ("street", "community"):
            assert 4 <= len(children[region.code]) <= 8, region.code


def test_generated_names_follow_the_street_and_community(zibo_regions: list[RegionInput]):
    names = {r.code: r.name for r in zibo_regions}
    assert names["370303001001"] == "车站第1社区"
    assert names["370303001001001"] == "车站第1社区第1网格"
    assert names["370303101201"] == "南定第1村"  # towns have villages, coded 2xx


def test_every_code_nests_under_its_parents_scope_prefix(zibo_regions: list[RegionInput]):
    levels = {r.code: r.level for r in zibo_regions}
    for region in zibo_regions:
        if region.parent_code is not None:
            assert region.code.startswith(scope_prefix_for(region.parent_code, levels[region.parent_code]))


def test_generated_levels_are_marked_generated(zibo_regions: list[RegionInput]):
    sources = {(r.level, r.source) for r in zibo_regions}
    assert sources == {("city", "imported"), ("district", "imported"), ("street", "generated"),
                       ("community", "generated"), ("grid", "generated")}


@pytest.mark.parametrize("parent", ["370303", "370323", "370303001", "370323103202"])
def test_children_tile_their_parent(zibo_regions: list[RegionInput], parent: str):
    shapes = {r.code: shape(r.geometry) for r in zibo_regions if r.geometry}
    parts = [shapes[r.code] for r in by_parent(zibo_regions)[parent]]
    union = shapely.unary_union(parts)
    assert abs(union.area - shapes[parent].area) / shapes[parent].area < 1e-3
    assert max(a.intersection(b).area for a, b in itertools.combinations(parts, 2)) < 1e-12


def test_the_city_is_the_union_of_its_districts(zibo_regions: list[RegionInput]):
    shapes = {r.code: shape(r.geometry) for r in zibo_regions if r.geometry}
    districts = shapely.unary_union([shapes[r.code] for r in by_parent(zibo_regions)["370300"]])
    assert shapes["370300"].symmetric_difference(districts).area / districts.area < 1e-6


def test_zhangdian_centre_locates_down_to_a_grid(zibo_platform: Platform):
    path = service.locator(zibo_platform).locate(zibo_platform.db, 118.0691, 36.8137)
    assert [step.level for step in path] == ["city", "district", "street", "community", "grid"]
    assert path[1].code == "370303" and path[1].name == "张店区"


def test_yiyuan_centre_locates_to_yiyuan(zibo_platform: Platform):
    path = service.locator(zibo_platform).locate(zibo_platform.db, 118.1974, 36.1293)
    assert path[1].code == "370323" and path[1].name == "沂源县" and path[-1].level == "grid"


def test_a_point_in_zhejiang_is_outside_every_region(zibo_platform: Platform):
    with pytest.raises(PointOutsideRegions):
        service.locator(zibo_platform).locate(zibo_platform.db, 120.0, 30.0)


def test_loading_the_demo_regions_twice_creates_nothing_new(zibo_platform: Platform):
    again = load_zibo_regions(zibo_platform, actor="system:0:cityops")
    assert (again.created, again.updated) == (0, 0)
    assert again.unchanged > 3_000


def test_demo_regions_load_and_locate_on_every_backend(platform: Platform, zibo_regions: list[RegionInput]):
    save_regions(platform, zibo_regions, actor="test", file="demo:zibo", level="city", region_code="370300")
    locator = service.locator(platform)
    zhangdian = locator.locate(platform.db, 118.0691, 36.8137)
    yiyuan = locator.locate(platform.db, 118.1974, 36.1293)
    assert [step.code for step in zhangdian][:2] == ["370300", "370303"] and zhangdian[-1].level == "grid"
    assert [step.code for step in yiyuan][:2] == ["370300", "370323"] and yiyuan[-1].level == "grid"
    with pytest.raises(PointOutsideRegions):
        locator.locate(platform.db, 120.0, 30.0)
