"""Routing rules for the scope matrix (tests/web/test_scope_matrix.py): one rule in every region of the small
city, so a street user's list and detail reads have something to leak, and the ids the matrix reads them by."""

from __future__ import annotations

from cityops.catalog import service
from cityops.catalog.schemas import RuleInput
from cityops.platform import Platform
from tests.cityfixture import CITY, DISTRICT, OTHER_DISTRICT, STREET_A, STREET_B, STREET_C, SmallCity

RULE_IDS: dict[str, int] = {}  # street tag ("a", "b") -> id of that street's rule, set by seed_rules


def seed_rules(platform: Platform, city: SmallCity) -> None:
    rules = {"city": RuleInput(None, CITY, "370300-cgj"), "district": RuleInput(None, DISTRICT, "370303-cgj"),
             "other": RuleInput(None, OTHER_DISTRICT, "370300-cgj"), "c": RuleInput(None, STREET_C, "370300-cgj"),
             "a": RuleInput(None, STREET_A, f"{STREET_A}-office"), "b": RuleInput(None, STREET_B, f"{STREET_B}-office")}
    with platform.uow() as uow:
        for tag, rule in rules.items():
            RULE_IDS[tag] = service.add_rule(session=uow.session, rule=rule, at=uow.clock.now(), actor="test").id
        uow.commit()


def rule_path(tag: str, suffix: str = "") -> str:
    return f"/api/v1/routing-rules/{RULE_IDS[tag]}{suffix}"


def preview_path(street: str) -> str:
    return f"/api/v1/routing/preview?region_code={street}001001"
