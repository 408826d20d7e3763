"""Region service on a real database: upsert rules, paths, scoped listing, and the per-process locator."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
import shapely
from shapely.geometry import mapping

from cityops.core.clock import FixedClock
from cityops.core.errors import NotFound, ValidationFailed
from cityops.platform import Platform
from cityops.regions import service
from cityops.regions.coords import wgs84_to_gcj02
from cityops.regions.errors import PointOutsideRegions, UnknownRegion
from cityops.regions.models import Region
from cityops.regions.schemas import RegionInput, UpsertResult


def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return dict(mapping(shapely.box(x0, y0, x1, y1)))


CITY = RegionInput("370300", "淄博市", "city", None, box(118.0, 36.0, 118.4, 36.4))
ZHANGDIAN = RegionInput("370303", "张店区", "district", "370300", box(118.0, 36.0, 118.2, 36.2))
ZICHUAN = RegionInput("370302", "淄川区", "district", "370300", box(118.2, 36.0, 118.4, 36.2))
STREET_A = RegionInput("370303001", "车站街道", "street", "370303", box(118.0, 36.0, 118.1, 36.1))
STREET_B = RegionInput("370303002", "公园街道", "street", "370303", box(118.1, 36.0, 118.2, 36.1))
COMMUNITY_A = RegionInput("370303001001", "车站第1社区", "community", "370303001", box(118.0, 36.0, 118.05, 36.05))
GRID_A = RegionInput("370303001001001", "车站第1社区第1网格", "grid", "370303001001",
                     box(118.0, 36.0, 118.02, 36.02))
SMALL_CITY = [CITY, ZHANGDIAN, ZICHUAN, STREET_A, STREET_B, COMMUNITY_A, GRID_A]


def upsert(platform: Platform, regions: Sequence[RegionInput]) -> UpsertResult:
    with platform.uow() as uow:
        result = service.upsert_regions(session=uow.session, regions=regions, at=uow.clock.now())
        uow.commit()
    return result


def version(platform: Platform) -> int:
    with platform.db.session() as session:
        return service.current_version(session=session)


def refused_field(platform: Platform, regions: Sequence[RegionInput]) -> str | None:
    with pytest.raises(ValidationFailed) as error:
        upsert(platform, regions)
    return error.value.field


def test_upsert_creates_regions_with_path_scope_and_geometry_summary(platform: Platform):
    result = upsert(platform, list(reversed(SMALL_CITY)))  # children before parents in the input is fine
    assert result == UpsertResult(created=7, updated=0, unchanged=0)
    with platform.db.session() as session:
        grid = service.get_or_raise(session=session, code=GRID_A.code)
        city = service.get_or_raise(session=session, code="370300")
        check_created(platform, grid, city)
    assert version(platform) == 1


def check_created(platform: Platform, grid: Region, city: Region) -> None:
    assert grid.path == "370300/370303/370303001/370303001001/370303001001001"
    assert grid.parent_code == "370303001001" and grid.scope_prefix == GRID_A.code
    assert city.scope_prefix == "3703" and city.parent_code is None and city.path == "370300"
    assert (grid.min_lng, grid.min_lat, grid.max_lng, grid.max_lat) == pytest.approx((118.0, 36.0, 118.02, 36.02))
    assert (grid.centroid_lng, grid.centroid_lat) == pytest.approx((118.01, 36.01))
    assert grid.updated_at == platform.clock.now()


def test_upserting_the_same_regions_again_changes_nothing_and_keeps_the_version(platform: Platform):
    upsert(platform, SMALL_CITY)
    assert upsert(platform, SMALL_CITY) == UpsertResult(created=0, updated=0, unchanged=7)
    assert version(platform) == 1


def test_a_changed_region_is_updated_and_bumps_the_version(platform: Platform):
    upsert(platform, SMALL_CITY)
    assert isinstance(platform.clock, FixedClock)
    platform.clock.advance(timedelta(hours=1))
    renamed = RegionInput(STREET_A.code, "车站街道办", "street", "370303", STREET_A.geometry)
    assert upsert(platform, [renamed]) == UpsertResult(created=0, updated=1, unchanged=0)
    with platform.db.session() as session:
        street = service.get_or_raise(session=session, code=STREET_A.code)
        assert street.name == "车站街道办" and street.updated_at == platform.clock.now()
    assert version(platform) == 2


def test_a_region_given_without_geometry_keeps_the_stored_polygon(platform: Platform):
    upsert(platform, SMALL_CITY)
    assert upsert(platform, [RegionInput(STREET_A.code, "车站街道", "street", source="official")]).unchanged == 1
    with platform.db.session() as session:
        street = service.get_or_raise(session=session, code=STREET_A.code)
        assert street.geometry is not None and street.source == "imported" and street.min_lng == 118.0


def test_a_region_without_parent_joins_the_one_its_code_implies(platform: Platform):
    upsert(platform, [CITY, ZHANGDIAN])
    upsert(platform, [RegionInput("370303009", "马尚街道", "street")])
    with platform.db.session() as session:
        assert service.get_or_raise(session=session, code="370303009").path == "370300/370303/370303009"


def test_a_region_whose_implied_parent_is_missing_becomes_a_root(platform: Platform):
    upsert(platform, [RegionInput("370303009", "马尚街道", "street")])
    with platform.db.session() as session:
        street = service.get_or_raise(session=session, code="370303009")
        assert street.parent_code is None and street.path == "370303009"


def test_a_street_may_sit_directly_under_a_city_without_districts(platform: Platform):
    # 东莞市 has no districts: its towns are coded 441900xxx directly under the city.
    upsert(platform, [RegionInput("441900", "东莞市", "city"), RegionInput("441900003", "东城街道", "street")])
    with platform.db.session() as session:
        assert service.get_or_raise(session=session, code="441900003").path == "441900/441900003"


@pytest.mark.parametrize(("bad", "field"), [
    (RegionInput("370303003", "湖田街道", "street", "370399", origin="rows[4]"), "rows[4].parent_code"),
    (RegionInput("370303003", "湖田街道", "street", "370303001"), "parent_code"),  # a street under a street
    (RegionInput("370302003", "错街道", "street", "370303"), "parent_code"),  # code not under the parent
    (RegionInput("370303", "张店区", "city"), "code"),
])
def test_regions_that_would_break_the_hierarchy_are_refused(platform: Platform, bad: RegionInput, field: str):
    upsert(platform, SMALL_CITY)
    assert refused_field(platform, [bad]) == field


def test_a_refused_batch_writes_nothing(platform: Platform):
    bad = RegionInput("370302003", "错街道", "street", "370303")
    with pytest.raises(ValidationFailed):
        upsert(platform, [*SMALL_CITY, bad])
    with platform.db.session() as session:
        assert service.list_regions(session=session) == []
    assert version(platform) == 0


def test_a_duplicate_code_in_one_batch_is_refused(platform: Platform):
    assert refused_field(platform, [CITY, RegionInput("370300", "又一个", "city", origin="features[1]")]) == \
        "features[1].code"


def test_giving_a_region_a_parent_moves_its_descendants_paths(platform: Platform):
    upsert(platform, [RegionInput("370303", "张店区", "district"),  # no city yet: a root
                      RegionInput("370303001", "车站街道", "street", "370303")])
    upsert(platform, [RegionInput("370300", "淄博市", "city"), RegionInput("370303", "张店区", "district", "370300")])
    with platform.db.session() as session:
        assert service.get_or_raise(session=session, code="370303001").path == "370300/370303/370303001"


def test_get_or_raise_raises_not_found_with_the_region_code(platform: Platform):
    with platform.db.session() as session, pytest.raises(UnknownRegion) as error:
        service.get_or_raise(session=session, code="370399")
    assert isinstance(error.value, NotFound) and error.value.status == 404
    assert error.value.code == "regions.unknown_code" and "370399" in error.value.message()


def test_children_and_path(platform: Platform):
    upsert(platform, SMALL_CITY)
    with platform.db.session() as session:
        assert [r.code for r in service.children(session=session, code="370303")] == ["370303001", "370303002"]
        assert [r.code for r in service.path(session=session, code=GRID_A.code)] == [
            "370300", "370303", "370303001", "370303001001", "370303001001001"]


def listed(platform: Platform, prefixes: list[str] | None, **filters: Any) -> list[str]:
    with platform.db.session() as session:
        rows = service.list_regions(session=session, prefixes=prefixes, limit=500, **filters)
        assert service.count_regions(session=session, prefixes=prefixes, **filters) == len(rows)
        return [r.code for r in rows]


def test_a_street_scope_sees_its_street_below_and_its_ancestors_above_but_no_sibling(platform: Platform):
    upsert(platform, SMALL_CITY)
    assert listed(platform, ["370303001"]) == ["370300", "370303", "370303001", "370303001001",
                                               "370303001001001"]


def test_a_district_scope_sees_its_streets_but_not_the_other_district(platform: Platform):
    upsert(platform, SMALL_CITY)
    assert "370302" not in listed(platform, ["370303"])
    assert listed(platform, ["370303"], level="street") == ["370303001", "370303002"]


def test_several_scopes_combine_and_no_scope_means_nothing(platform: Platform):
    upsert(platform, SMALL_CITY)
    assert listed(platform, ["370303002", "370302"]) == ["370300", "370302", "370303", "370303002"]
    assert listed(platform, []) == []
    assert listed(platform, [""]) == []
    assert listed(platform, ["%"]) == []  # LIKE wildcards in a prefix are plain characters
    assert len(listed(platform, None)) == 7
    assert listed(platform, None, parent_code="370300") == ["370302", "370303"]


def test_first_descendant_and_summary(platform: Platform):
    upsert(platform, SMALL_CITY)
    with platform.db.session() as session:
        assert service.first_descendant(session=session, code="370303", level="grid").code == GRID_A.code
        with pytest.raises(NotFound):
            service.first_descendant(session=session, code="370302", level="grid")
        summary = service.summary(session=session)
        assert summary.city is not None and summary.city.code == "370300"
        assert summary.counts == {"city": 1, "district": 2, "street": 2, "community": 1, "grid": 1}
        assert [d.code for d in summary.districts] == ["370302", "370303"]


# --- RegionLocator -----------------------------------------------------------------------------------------


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_locator_builds_once_and_rebuilds_only_after_the_version_moves(platform: Platform):
    upsert(platform, SMALL_CITY)
    ticks = Ticks()
    locator = service.RegionLocator(monotonic=ticks)
    assert locator.locate(platform.db, 118.01, 36.01)[-1].code == GRID_A.code
    ticks.now = 5.0
    locator.locate(platform.db, 118.01, 36.01)
    assert locator.builds == 1  # version unchanged: no rebuild
    upsert(platform, [RegionInput(STREET_A.code, "新名字", "street", "370303", STREET_A.geometry)])
    ticks.now = 5.5
    assert locator.locate(platform.db, 118.07, 36.07)[-1].name == "车站街道"  # checked < 1 s ago: still cached
    ticks.now = 6.1
    assert locator.locate(platform.db, 118.07, 36.07)[-1].name == "新名字"
    assert locator.builds == 2


def test_invalidate_makes_the_next_locate_rebuild(platform: Platform):
    upsert(platform, SMALL_CITY)
    locator = service.RegionLocator(monotonic=Ticks())
    locator.locate(platform.db, 118.01, 36.01)
    locator.invalidate()
    locator.locate(platform.db, 118.01, 36.01)
    assert locator.builds == 2


def test_locating_outside_every_region_raises_point_outside_with_the_coordinates(platform: Platform):
    upsert(platform, SMALL_CITY)
    with pytest.raises(PointOutsideRegions) as error:
        service.locator(platform).locate(platform.db, 120.0, 30.0)
    assert error.value.code == "regions.point_outside" and error.value.status == 404
    assert "120.0" in error.value.message() and "30.0" in error.value.message("en")
    assert "不在任何辖区内" in error.value.message()


def test_gcj02_points_are_converted_before_locating(platform: Platform):
    upsert(platform, SMALL_CITY)
    gcj = wgs84_to_gcj02(118.019, 36.019)  # ~500 m east of the WGS-84 point: outside the grid if taken as is
    path = service.locator(platform).locate(platform.db, *gcj, crs="gcj02")
    assert path[-1].code == GRID_A.code
    assert service.locator(platform).locate(platform.db, *gcj)[-1].code != GRID_A.code


def test_the_locator_lives_in_the_platform_caches(platform: Platform):
    assert service.locator(platform) is service.locator(platform)
    assert isinstance(platform.caches["regions.locator"], service.RegionLocator)
