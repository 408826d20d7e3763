"""Catalogue fixtures: the small test city's regions and departments, without staff (password hashing is slow),
and a few categories. `platform` (SQLite and PostgreSQL) comes from tests/conftest.py."""

from __future__ import annotations

import pytest

from cityops.catalog import flows
from cityops.catalog.schemas import CategoryInput
from cityops.org import service as org
from cityops.platform import Platform
from cityops.regions import service as regions
from tests.cityfixture import CITY, DISTRICT, OTHER_DISTRICT, REGIONS, STREET_A, STREET_B

DEPARTMENTS = [("370300-cgj", "市城管局", CITY), ("370300-zjj", "市住建局", CITY),
               ("370303-cgj", "张店区城管局", DISTRICT), ("370302-cgj", "淄川区城管局", OTHER_DISTRICT),
               (f"{STREET_A}-office", "车站街道办事处", STREET_A), (f"{STREET_B}-office", "公园街道办事处", STREET_B)]

CATEGORIES = [
    CategoryInput(code="C01", name="市政公用设施", kind="component", default_department_code="370300-cgj"),
    CategoryInput(code="C01001", name="井盖破损", kind="component", parent_code="C01",
                  default_department_code="370300-cgj", handle_limit=4, handle_unit="working_hours", severity=1),
    CategoryInput(code="M01", name="噪声扰民", kind="matter"),
]


def load_places(platform: Platform) -> None:
    with platform.uow() as uow:
        at = uow.clock.now()
        regions.upsert_regions(session=uow.session, regions=REGIONS, at=at)
        for code, name, region in DEPARTMENTS:
            org.add_department(session=uow.session, code=code, name=name, region_code=region, at=at)
        uow.commit()


@pytest.fixture
def places(platform: Platform) -> Platform:
    """Regions and departments of the small city."""
    load_places(platform)
    return platform


@pytest.fixture
def catalogue(places: Platform) -> Platform:
    """The small city with CATEGORIES loaded."""
    flows.save_categories(places, CATEGORIES, actor="test", file="fixture", fmt="native")
    return places
