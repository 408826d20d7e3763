"""The gazetteer built from the region tables (SQLite and PostgreSQL), cached per process by regions version."""

from __future__ import annotations

from collections.abc import Sequence

from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.regions.schemas import RegionInput
from cityops.triage import gazetteer_service
from cityops.triage.gazetteer_service import GazetteerCache, gazetteer_for, locate_address
from cityops.triage.locate import locate_text
from tests.cityfixture import DISTRICT, REGIONS, STREET_A, STREET_B, STREET_C, square


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def upsert(platform: Platform, changed: Sequence[RegionInput]) -> None:
    with platform.uow() as uow:
        regions.upsert_regions(session=uow.session, regions=changed, at=uow.clock.now())
        uow.commit()


def test_the_gazetteer_is_built_from_the_region_tables(platform: Platform):
    upsert(platform, REGIONS)
    gazetteer = gazetteer_for(platform)
    assert len(gazetteer) == len(REGIONS)
    assert locate_text(gazetteer, "淄博市张店区公园街道华光路12号").code == STREET_B
    assert locate_text(gazetteer, "淄川般阳路街道").code == STREET_C
    grid = locate_text(gazetteer, "车站第1社区第1网格")
    assert (grid.code, grid.approximate) == (STREET_A + "001001", False)


def test_the_packaged_nicknames_come_with_the_regions(platform: Platform):
    upsert(platform, REGIONS)
    assert locate_address(platform, "淄博火车站出站口").code == DISTRICT


def test_a_district_not_on_the_platform_reads_as_outside_its_regions(platform: Platform):
    upsert(platform, REGIONS)  # the small city has 张店区 and 淄川区 only
    match = locate_address(platform, "博山区城东街道")
    assert (match.status, match.code) == ("unresolved", None)
    assert match.reason is not None and "博山区" in match.reason


def test_the_gazetteer_is_rebuilt_only_after_the_regions_version_moves(platform: Platform):
    upsert(platform, REGIONS)
    ticks = Ticks()
    cache = GazetteerCache(monotonic=ticks, outside=())
    assert locate_text(cache.gazetteer(platform.db), "张店区湖田街道").code == DISTRICT
    ticks.now = 5.0
    cache.gazetteer(platform.db)
    assert cache.builds == 1  # version unchanged: no rebuild
    upsert(platform, [RegionInput("370303003", "湖田街道", "street", DISTRICT, square(118.0, 36.8, 0.2), "official")])
    ticks.now = 5.5
    assert locate_text(cache.gazetteer(platform.db), "张店区湖田街道").code == DISTRICT  # checked < 1 s ago
    ticks.now = 6.1
    assert locate_text(cache.gazetteer(platform.db), "张店区湖田街道").code == "370303003"
    assert cache.builds == 2


def test_invalidate_makes_the_next_lookup_rebuild(platform: Platform):
    upsert(platform, REGIONS)
    cache = GazetteerCache(monotonic=Ticks(), outside=())
    cache.gazetteer(platform.db)
    cache.invalidate()
    cache.gazetteer(platform.db)
    assert cache.builds == 2


def test_the_gazetteer_lives_in_the_platform_caches(platform: Platform):
    upsert(platform, REGIONS)
    assert gazetteer_for(platform) is gazetteer_for(platform)
    assert isinstance(platform.caches[gazetteer_service.CACHE_KEY], GazetteerCache)


def test_an_empty_platform_gives_an_empty_gazetteer_that_resolves_nothing(platform: Platform):
    match = locate_address(platform, "张店区车站街道")
    assert (len(gazetteer_for(platform)), match.status) == (0, "unresolved")
