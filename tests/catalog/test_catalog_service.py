"""Categories and routing rules in the database (SQLite and PostgreSQL): versions and history on every change,
parents and levels, references checked, routing through stored rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from cityops.catalog import service
from cityops.catalog.schemas import CategoryInput, RuleInput
from cityops.core.errors import Conflict, ValidationFailed
from cityops.platform import Platform
from tests.catalog.conftest import CATEGORIES
from tests.cityfixture import CITY, DISTRICT, STREET_A, STREET_B

GRID_A = STREET_A + "001001"


def upsert(platform: Platform, categories: list[CategoryInput], actor: str = "tester") -> service.UpsertCounts:
    with platform.uow() as uow:
        counts = service.upsert_categories(session=uow.session, categories=categories, at=uow.clock.now(),
                                           actor=actor)
        uow.commit()
        return counts


def add_rule(platform: Platform, category: str | None, region: str, department: str) -> int:
    with platform.uow() as uow:
        rule = service.add_rule(session=uow.session, rule=RuleInput(category, region, department),
                                at=uow.clock.now(), actor="tester")
        uow.commit()
        return rule.id


# --- categories -----------------------------------------------------------------------------------


def test_a_new_category_starts_at_version_1_with_one_history_snapshot(catalogue: Platform):
    with catalogue.db.session() as session:
        category = service.get_category_or_raise(session=session, code="C01001")
        history = service.category_history(session=session, code="C01001")
    assert (category.version, category.level, category.updated_by, category.imported) == (1, 2, "test", False)
    assert [(h.version, h.changed_by) for h in history] == [(1, "test")]
    assert history[0].snapshot["handle_limit"] == 4 and history[0].snapshot["parent_code"] == "C01"


def test_every_edit_bumps_the_version_and_keeps_the_old_values_in_history(catalogue: Platform):
    edited = replace(CATEGORIES[1], handle_limit=2.0, keywords=("井盖",))
    assert upsert(catalogue, [edited], actor="editor") == service.UpsertCounts(updated=1)
    upsert(catalogue, [replace(edited, name="井盖缺失")], actor="editor")
    with catalogue.db.session() as session:
        category = service.get_category_or_raise(session=session, code="C01001")
        history = service.category_history(session=session, code="C01001")
    assert (category.version, category.name, category.handle_limit, category.keywords) == (3, "井盖缺失", 2.0,
                                                                                         ["井盖"])
    assert [(h.version, h.snapshot["name"], h.snapshot["handle_limit"]) for h in history] == [
        (3, "井盖缺失", 2.0), (2, "井盖破损", 2.0), (1, "井盖破损", 4.0)]
    assert history[0].changed_by == "editor"


def test_writing_the_same_values_again_changes_nothing(catalogue: Platform):
    assert upsert(catalogue, CATEGORIES) == service.UpsertCounts(unchanged=3)
    with catalogue.db.session() as session:
        assert len(service.category_history(session=session, code="C01")) == 1


def test_children_may_come_before_their_parents_and_levels_follow_the_tree(places: Platform):
    tree = [CategoryInput(code="A-1-1", name="三级", kind="hotline", parent_code="A-1"),
            CategoryInput(code="A-1", name="二级", kind="hotline", parent_code="A"),
            CategoryInput(code="A", name="一级", kind="hotline")]
    assert upsert(places, tree).created == 3
    with places.db.session() as session:
        assert [service.get_category_or_raise(session=session, code=c).level for c in ("A", "A-1", "A-1-1")] == [
            1, 2, 3]


def test_moving_a_parent_relevels_its_stored_children_with_a_new_version(places: Platform):
    upsert(places, [CategoryInput(code="A", name="甲", kind="custom"),
                    CategoryInput(code="B", name="乙", kind="custom"),
                    CategoryInput(code="B1", name="乙一", kind="custom", parent_code="B")])
    counts = upsert(places, [CategoryInput(code="B", name="乙", kind="custom", parent_code="A")])
    assert counts == service.UpsertCounts(updated=2)
    with places.db.session() as session:
        child = service.get_category_or_raise(session=session, code="B1")
    assert (child.level, child.version) == (3, 2)


@pytest.mark.parametrize(("category", "field", "words"), [
    (CategoryInput(code="X", name="x", kind="custom", parent_code="NOPE"), "parent_code", "no category NOPE"),
    (CategoryInput(code="X", name="x", kind="custom", default_department_code="nope"), "default_department_code",
     "no active department"),
    (CategoryInput(code="C01", name="x", kind="custom", parent_code="C01001"), "parent_code", "loop"),
    (CategoryInput(code="X", name="x", kind="custom", severity=5), "severity", "not one of"),
])
def test_bad_references_are_refused_naming_the_field(catalogue: Platform, category: CategoryInput, field: str,
                                                     words: str):
    with pytest.raises(ValidationFailed) as caught:
        upsert(catalogue, [category])
    assert caught.value.field == field and words in (caught.value.detail or "")


def test_category_limits_are_what_the_workflow_reads(catalogue: Platform):
    with catalogue.db.session() as session:
        limits = service.category_limits(session=session, code="C01001")
        missing = service.category_limits(session=session, code="NOPE")
    assert limits == service.CategoryLimits(1.0, 1.0, 4.0, "working_hours", 4.0, 4.0, 1, "370300-cgj", True)
    assert missing is None


def test_history_import_creates_a_marked_placeholder_once(places: Platform):
    with places.uow() as uow:
        at = uow.clock.now()
        first = service.ensure_imported_category(session=uow.session, code="OLD-7", name="旧系统分类", at=at,
                                                 actor="importer")
        again = service.ensure_imported_category(session=uow.session, code="OLD-7", name="别的", at=at,
                                                 actor="importer")
        uow.commit()
    with places.db.session() as session:
        category = service.get_category_or_raise(session=session, code="OLD-7")
        history = service.category_history(session=session, code="OLD-7")
    assert (first, again) == (True, False)
    assert (category.name, category.kind, category.imported, len(history)) == ("旧系统分类", "custom", True, 1)


def test_categories_filter_by_kind_state_and_a_name_or_code_fragment(catalogue: Platform):
    upsert(catalogue, [replace(CATEGORIES[2], active=False)])
    with catalogue.db.session() as session:
        def codes(**filters: object) -> list[str]:
            rows, total = service.list_categories(session=session, **filters)  # type: ignore[arg-type]
            assert total == len(rows)
            return [c.code for c in rows]

        assert codes() == ["C01", "C01001", "M01"]
        assert codes(kind="component") == ["C01", "C01001"]
        assert codes(active=False) == ["M01"]
        assert codes(search="井盖") == ["C01001"]
        assert codes(search="1001") == ["C01001"]
        assert codes(parent_code="C01") == ["C01001"]


# --- routing rules --------------------------------------------------------------------------------


def test_route_for_prefers_the_most_specific_rule_and_falls_back_to_the_default(catalogue: Platform):
    add_rule(catalogue, "C01001", DISTRICT, "370303-cgj")
    street_rule = add_rule(catalogue, None, STREET_A, f"{STREET_A}-office")
    with catalogue.db.session() as session:
        in_street_a = service.route_for(session=session, category_code="C01001", region_code=GRID_A)
        in_street_b = service.route_for(session=session, category_code="C01001", region_code=STREET_B + "001")
        elsewhere = service.route_for(session=session, category_code="C01001", region_code="370302001")
        nobody = service.route_for(session=session, category_code="M01", region_code="370302001")
    assert in_street_a is not None and in_street_a.rule_id == street_rule
    assert in_street_a.reason == f"rule {street_rule}: 车站街道 → 车站街道办事处 for any category"
    assert in_street_b is not None and in_street_b.department_code == "370303-cgj"
    assert elsewhere is not None and (elsewhere.department_code, elsewhere.fallback) == ("370300-cgj", True)
    assert nobody is None


def test_a_second_active_rule_for_the_same_category_and_region_is_a_conflict(catalogue: Platform):
    add_rule(catalogue, "C01001", DISTRICT, "370303-cgj")
    with pytest.raises(Conflict):
        add_rule(catalogue, "C01001", DISTRICT, "370300-cgj")


@pytest.mark.parametrize(("rule", "field"), [
    (RuleInput("C01001", "370399", "370300-cgj"), "region_code"),
    (RuleInput("C01001", DISTRICT, "nope"), "department_code"),
    (RuleInput("NOPE", DISTRICT, "370300-cgj"), "category_code"),
])
def test_rules_must_name_stored_regions_departments_and_categories(catalogue: Platform, rule: RuleInput,
                                                                   field: str):
    with pytest.raises(ValidationFailed) as caught:
        add_rule(catalogue, rule.category_code, rule.region_code, rule.department_code)
    assert caught.value.field == field


def test_rule_edits_are_versioned_and_deactivated_rules_stop_routing(catalogue: Platform):
    rule_id = add_rule(catalogue, "C01001", DISTRICT, "370303-cgj")
    with catalogue.uow() as uow:
        rule = service.get_rule_or_raise(session=uow.session, rule_id=rule_id)
        later = uow.clock.now() + timedelta(hours=1)
        assert service.update_rule(session=uow.session, rule=rule, changes={"department_code": "370300-zjj"},
                                   at=later, actor="editor")
        assert not service.update_rule(session=uow.session, rule=rule, changes={"department_code": "370300-zjj"},
                                       at=later, actor="editor")
        assert service.update_rule(session=uow.session, rule=rule, changes={"active": False}, at=later,
                                   actor="editor")
        uow.commit()
    with catalogue.db.session() as session:
        history = service.rule_history(session=session, rule_id=rule_id)
        decision = service.route_for(session=session, category_code="C01001", region_code=GRID_A)
    assert [(h.version, h.snapshot["department_code"], h.snapshot["active"]) for h in history] == [
        (3, "370300-zjj", False), (2, "370300-zjj", True), (1, "370303-cgj", True)]
    assert decision is not None and decision.fallback


def test_importing_rules_again_changes_nothing_and_revives_a_deactivated_one(catalogue: Platform):
    rules = [RuleInput("C01001", DISTRICT, "370303-cgj"), RuleInput(None, CITY, "370300-cgj")]

    def run() -> service.UpsertCounts:
        with catalogue.uow() as uow:
            counts = service.upsert_rules(session=uow.session, rules=rules, at=uow.clock.now(), actor="t")
            uow.commit()
            return counts

    assert run() == service.UpsertCounts(created=2)
    assert run() == service.UpsertCounts(unchanged=2)
    with catalogue.uow() as uow:
        rows, _ = service.list_rules(session=uow.session, region_code=CITY)
        service.update_rule(session=uow.session, rule=rows[0], changes={"active": False}, at=uow.clock.now(),
                            actor="t")
        uow.commit()
    assert run() == service.UpsertCounts(updated=1, unchanged=1)
