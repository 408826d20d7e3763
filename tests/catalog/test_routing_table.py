"""The routing table the triage worker routes batches with answers exactly as route_for does from the database,
and the process-wide copy is read again as soon as a category, a rule or a department changes (both
databases)."""

from __future__ import annotations

import pytest

from cityops.catalog import flows, service
from cityops.catalog.cache import CACHE_KEY, routing_table
from cityops.catalog.schemas import CategoryInput, RuleInput
from cityops.org import service as org
from cityops.platform import Platform
from tests.cityfixture import CITY, DISTRICT, OTHER_DISTRICT, STREET_A, STREET_B, STREET_C

PLACES = [CITY, DISTRICT, OTHER_DISTRICT, STREET_A, STREET_B, STREET_C, STREET_A + "001001", "370305", "320100001"]
RULES = [RuleInput("C01001", DISTRICT, "370303-cgj"), RuleInput(None, STREET_A, f"{STREET_A}-office"),
         RuleInput("C01001", STREET_B, f"{STREET_B}-office"), RuleInput("M01", OTHER_DISTRICT, "370302-cgj"),
         RuleInput(None, CITY, "370300-zjj")]


@pytest.fixture
def routed(catalogue: Platform) -> Platform:
    for rule in RULES:
        flows.create_rule(catalogue, actor="test", rule=rule)
    return catalogue


def test_the_table_routes_every_category_and_place_as_the_database_does(routed: Platform):
    table = routing_table(routed)
    with routed.db.session() as session:
        for category in ["C01", "C01001", "M01", "unknown", None]:
            for place in PLACES:
                assert table.route(category, place) == service.route_for(
                    session=session, category_code=category, region_code=place), (category, place)
        assert table.department_ids == {d.code: d.id for d in org.list_departments(session=session)}
    assert table.route("C01001", STREET_A + "001001").department_code == f"{STREET_A}-office"  # type: ignore[union-attr]


def test_the_table_is_read_once_while_nothing_changes(routed: Platform):
    first = routing_table(routed)
    assert routing_table(routed) is first
    assert routed.caches[CACHE_KEY].builds == 1


@pytest.mark.parametrize("change", ["new_rule", "rule_deactivated", "category_changed", "new_department"])
def test_a_change_to_the_catalogue_is_seen_by_the_next_batch(routed: Platform, change: str):
    before = routing_table(routed)
    grid = STREET_B + "001001"
    if change == "new_rule":
        flows.create_rule(routed, actor="test", rule=RuleInput("M01", STREET_B, f"{STREET_B}-office"))
    elif change == "rule_deactivated":
        with routed.db.session() as session:
            rule = next(r for r in service.rule_views(session=session, category_code="C01001", region_code=grid)
                        if r.region_code == STREET_B)
        assert flows.deactivate_rule(routed, actor="test", rule_id=rule.id)
    elif change == "category_changed":
        flows.save_categories(routed, [CategoryInput(code="M01", name="噪声扰民", kind="matter",
                                                     default_department_code="370303-cgj", severity=1)],
                              actor="test", file="fixture", fmt="native")
    else:
        with routed.uow() as uow:
            org.add_department(session=uow.session, code="370303-hbj", name="张店区环保局", region_code=DISTRICT,
                               at=uow.clock.now())
            uow.commit()
    after = routing_table(routed)
    assert after is not before
    with routed.db.session() as session:
        for category in ["C01001", "M01"]:
            assert after.route(category, grid) == service.route_for(session=session, category_code=category,
                                                                    region_code=grid)
    if change == "new_department":
        assert "370303-hbj" in after.department_ids
    if change == "category_changed":
        assert after.categories["M01"].severity == 1
