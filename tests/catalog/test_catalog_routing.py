"""choose_rule / route: the most specific region wins, a named category beats "any category", ids break ties,
and the category's default department is the fallback."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.catalog.routing import RuleView, candidate_region_codes, choose_rule, route, rule_prefix

CITY, DISTRICT, OTHER_DISTRICT = "370300", "370303", "370302"
STREET, GRID = "370303001", "370303001001001"

RULES = [
    RuleView(1, "C01", CITY, "city-cgj"),
    RuleView(2, "C01", DISTRICT, "zd-cgj"),
    RuleView(3, None, DISTRICT, "zd-office"),
    RuleView(4, "C01", OTHER_DISTRICT, "zc-cgj"),
    RuleView(5, "C02", STREET, "street-office"),
    RuleView(6, "C01", STREET, "old-street", active=False),
    RuleView(7, None, CITY, "city-centre"),
]


@pytest.mark.parametrize(("category", "region", "expected"), [
    ("C01", GRID, 2),  # district rule beats the city rule for a grid inside the district
    ("C01", STREET, 2),  # the inactive street rule is ignored
    ("C01", "370302001", 4),  # the other district's own rule
    ("C01", "370304001", 1),  # a district without rules: the city rule
    ("C02", GRID, 5),  # street rule: most specific
    ("C02", "370303002", 3),  # another street in the district: the district's any-category rule
    ("C09", DISTRICT, 3),  # any-category rule at the district beats the city's any-category rule
    ("C09", "370305", 7),  # only the city's any-category rule covers it
    (None, GRID, 3),  # no category yet: only any-category rules apply
    ("C01", "320100001", None),  # another city altogether
])
def test_choose_rule_picks_the_most_specific_covering_rule(category, region, expected):
    chosen = choose_rule(RULES, category, region)
    assert (chosen.id if chosen else None) == expected


def test_a_rule_naming_the_category_beats_an_any_category_rule_of_the_same_region():
    rules = [RuleView(1, None, DISTRICT, "any"), RuleView(2, "C01", DISTRICT, "named")]
    assert choose_rule(rules, "C01", STREET).id == 2


def test_equal_rules_go_to_the_lowest_id_whatever_the_order():
    rules = [RuleView(9, "C01", DISTRICT, "b"), RuleView(3, "C01", DISTRICT, "a")]
    assert choose_rule(rules, "C01", STREET).id == 3
    assert choose_rule(list(reversed(rules)), "C01", STREET).id == 3


def test_route_explains_the_rule_with_names_when_known():
    rules = [RuleView(12, "01001", DISTRICT, "370303-cgj", region_name="张店区", department_name="张店区城管局")]
    decision = route(rules, "01001", GRID, "370300-cgj")
    assert decision is not None
    assert (decision.department_code, decision.rule_id, decision.fallback) == ("370303-cgj", 12, False)
    assert decision.reason == "rule 12: 张店区 → 张店区城管局 for 01001"


def test_route_falls_back_to_the_category_default_then_to_nobody():
    decision = route([], "C01", GRID, "370300-cgj")
    assert decision is not None
    assert (decision.department_code, decision.rule_id, decision.fallback) == ("370300-cgj", None, True)
    assert decision.reason == "category default"
    assert route([], "C01", GRID, None) is None


def test_a_rule_with_a_malformed_region_covers_nothing():
    assert rule_prefix("3703x") is None
    assert choose_rule([RuleView(1, "C01", "3703", "x")], "C01", GRID) is None


def test_province_level_city_rules_cover_their_districts():
    assert choose_rule([RuleView(1, None, "110000", "bj")], "C01", "110105001").id == 1


# --- properties -----------------------------------------------------------------------------------

REGION_CODES = [CITY, DISTRICT, OTHER_DISTRICT, STREET, "370303002", "370303001001", GRID, "370305"]
rules_strategy = st.lists(st.builds(
    RuleView, id=st.integers(1, 50), category_code=st.sampled_from([None, "C01", "C02"]),
    region_code=st.sampled_from(REGION_CODES), department_code=st.sampled_from(["d1", "d2", "d3"]),
    active=st.booleans()), max_size=12, unique_by=lambda rule: rule.id)  # ids are unique, as in the table
places = st.sampled_from([GRID, STREET, "370303002001", "370302001", "370305001", CITY])
categories = st.sampled_from([None, "C01", "C02", "C03"])


@given(rules_strategy, categories, places)
def test_the_chosen_rule_covers_the_place_and_no_covering_rule_is_more_specific(rules, category, place):
    chosen = choose_rule(rules, category, place)
    covering = [r for r in rules if r.active and r.category_code in (None, category)
                and place.startswith(rule_prefix(r.region_code) or "~")]
    if chosen is None:
        assert covering == []
        return
    assert chosen in covering
    best = max(len(rule_prefix(r.region_code) or "") for r in covering)
    assert len(rule_prefix(chosen.region_code) or "") == best


@given(rules_strategy, categories, places)
def test_the_choice_does_not_depend_on_the_order_of_the_rules(rules, category, place):
    assert choose_rule(rules, category, place) == choose_rule(rules[::-1], category, place)


@given(st.sampled_from(REGION_CODES), st.sampled_from([GRID, STREET, "370303002001", "370302001", CITY]))
def test_candidate_codes_include_every_region_that_could_cover_the_place(rule_region, place):
    prefix = rule_prefix(rule_region)
    if prefix is not None and place.startswith(prefix):
        assert rule_region in candidate_region_codes(place)
