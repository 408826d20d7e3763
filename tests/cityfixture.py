"""A small city for tests: two districts, two streets in 张店区 (A and B), a community and grid in each,
departments, and a staff member of every role in every street. Squares stand in for real shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityops.org import flows as org_flows
from cityops.org.roles import STAFF_ROLES
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.regions.schemas import RegionInput

PASSWORD = "correct-horse-battery"
CITY, DISTRICT, OTHER_DISTRICT = "370300", "370303", "370302"
STREET_A, STREET_B, STREET_C = "370303001", "370303002", "370302001"


def square(x: float, y: float, size: float) -> dict[str, Any]:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


REGIONS = [
    RegionInput(CITY, "淄博市", "city", None, square(117.0, 36.0, 2.0), "official"),
    RegionInput(DISTRICT, "张店区", "district", CITY, square(118.0, 36.6, 0.4), "official"),
    RegionInput(OTHER_DISTRICT, "淄川区", "district", CITY, square(117.6, 36.2, 0.4), "official"),
    RegionInput(STREET_A, "车站街道", "street", DISTRICT, square(118.0, 36.6, 0.2), "official"),
    RegionInput(STREET_B, "公园街道", "street", DISTRICT, square(118.2, 36.6, 0.2), "official"),
    RegionInput(STREET_C, "般阳路街道", "street", OTHER_DISTRICT, square(117.6, 36.2, 0.2), "official"),
    RegionInput(STREET_A + "001", "车站第1社区", "community", STREET_A, square(118.0, 36.6, 0.1), "generated"),
    RegionInput(STREET_B + "001", "公园第1社区", "community", STREET_B, square(118.2, 36.6, 0.1), "generated"),
    RegionInput(STREET_A + "001001", "车站第1社区第1网格", "grid", STREET_A + "001", square(118.0, 36.6, 0.05),
                "generated"),
    RegionInput(STREET_B + "001001", "公园第1社区第1网格", "grid", STREET_B + "001", square(118.2, 36.6, 0.05),
                "generated"),
]


@dataclass
class SmallCity:
    staff: dict[str, int] = field(default_factory=dict)  # username -> id
    departments: dict[str, int] = field(default_factory=dict)  # code -> id


def build_small_city(platform: Platform) -> SmallCity:
    with platform.uow() as uow:
        regions.upsert_regions(session=uow.session, regions=REGIONS, at=uow.clock.now())
        uow.commit()
    city = SmallCity()
    for code, name, region in [("370300-cgj", "市城管局", CITY), ("370303-cgj", "张店区城管局", DISTRICT),
                               (f"{STREET_A}-office", "车站街道办事处", STREET_A),
                               (f"{STREET_B}-office", "公园街道办事处", STREET_B)]:
        city.departments[code] = org_flows.create_department(platform, actor=None, code=code, name=name,
                                                             region_code=region)
    for street, tag in [(STREET_A, "a"), (STREET_B, "b")]:
        for role in STAFF_ROLES:
            username = f"{tag}_{role.value}"
            department = city.departments[f"{street}-office"] if role.value == "handler" else None
            city.staff[username] = org_flows.create_staff(platform, actor=None, new=org_flows.NewStaff(
                username=username, display_name=username, password=PASSWORD, role=role.value,
                region_code=street, department_id=department))
    city.staff["district_admin"] = org_flows.create_staff(platform, actor=None, new=org_flows.NewStaff(
        username="district_admin", display_name="区管理员", password=PASSWORD, role="admin", region_code=DISTRICT))
    city.staff["city_admin"] = org_flows.create_staff(platform, actor=None, new=org_flows.NewStaff(
        username="city_admin", display_name="市管理员", password=PASSWORD, role="admin", region_code=CITY))
    return city
