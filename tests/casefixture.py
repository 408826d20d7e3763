"""The small city (tests/cityfixture.py) made ready for cases: categories, routing, handlers with departments,
and principals for every role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cityops.catalog.models import Category, RoutingRule
from cityops.org import flows as org_flows
from cityops.org import service as org
from cityops.org.access import Principal
from cityops.platform import Platform
from tests.cityfixture import PASSWORD, STREET_A, SmallCity, build_small_city

MANHOLE = "T-MANHOLE"  # routed by a rule to street A's office
NOISE = "T-NOISE"  # no rule: falls back to the category's default department
GRID_A = STREET_A + "001001"
POINT_A = (118.01, 36.61)  # inside grid A
POINT_B = (118.21, 36.61)  # inside street B's grid


def add_category(
    platform: Platform,
    code: str,
    name: str,
    default_department: str | None,
    *,
    handle_limit: float = 1.0,
    handle_unit: str = "working_days",
    severity: int = 2,
) -> None:
    with platform.uow() as uow:
        uow.session.add(
            Category(
                code=code,
                name=name,
                kind="matter",
                level=1,
                default_department_code=default_department,
                register_hours=1,
                dispatch_hours=1,
                handle_limit=handle_limit,
                handle_unit=handle_unit,
                verify_hours=4,
                close_hours=4,
                severity=severity,
                keywords=[],
                active=True,
                imported=False,
                version=1,
                updated_at=uow.clock.now(),
                updated_by="test",
            )
        )
        uow.commit()


def add_rule(platform: Platform, category: str | None, region: str, department: str) -> None:
    with platform.uow() as uow:
        uow.session.add(
            RoutingRule(
                category_code=category,
                region_code=region,
                department_code=department,
                active=True,
                version=1,
                updated_at=uow.clock.now(),
                updated_by="test",
            )
        )
        uow.commit()


@dataclass
class CaseCity:
    city: SmallCity
    people: dict[str, Principal]

    def department(self, code: str) -> int:
        return self.city.departments[code]


def principal(platform: Platform, username: str) -> Principal:
    with platform.db.session() as session:
        staff = org.get_staff_by_username(session=session, username=username)
        assert staff is not None
        return org.staff_principal(session=session, staff=staff)


def build_case_city(platform: Platform) -> CaseCity:
    city = build_small_city(platform)
    add_category(platform, MANHOLE, "井盖缺失", "370303-cgj", handle_limit=1.0)
    add_category(platform, NOISE, "噪声扰民", "370303-cgj", handle_limit=3.0)
    add_rule(platform, MANHOLE, STREET_A, f"{STREET_A}-office")
    for username, department in [
        ("lead_handler", f"{STREET_A}-office"),
        ("assist_handler", "370303-cgj"),
        ("other_handler", "370300-cgj"),
    ]:
        org_flows.create_staff(
            platform,
            actor=None,
            new=org_flows.NewStaff(
                username=username,
                display_name=username,
                password=PASSWORD,
                role="handler",
                region_code=STREET_A if department.startswith(STREET_A) else department.split("-")[0],
                department_id=city.departments[department],
            ),
        )
    names = [
        "a_dispatcher",
        "a_leader",
        "a_grid_worker",
        "a_admin",
        "a_data_officer",
        "b_dispatcher",
        "lead_handler",
        "assist_handler",
        "other_handler",
        "city_admin",
    ]
    return CaseCity(city, {name: principal(platform, name) for name in names})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
