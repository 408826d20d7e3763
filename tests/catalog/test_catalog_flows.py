"""Catalogue actions: one transaction, one audit record, one `catalog.changed` message; all or nothing;
city-level admins edit categories, region admins edit the rules of their region."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from cityops.audit.models import AuditRecord
from cityops.catalog import flows, service
from cityops.catalog.exporters import export_categories
from cityops.catalog.models import Category, CategoryHistory
from cityops.catalog.schemas import CategoryInput, RuleInput
from cityops.core.errors import NotFound, PermissionDenied, ValidationFailed
from cityops.core.models import OutboxMessage
from cityops.demo import zibo_org
from cityops.demo.zibo_catalog import load_demo_catalog
from cityops.org import service as org
from cityops.org.access import Principal
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.regions.schemas import RegionInput
from tests.catalog.conftest import CATEGORIES
from tests.catalog.test_catalog_importers import HOTLINE_FILE, NATIVE, URBAN_FILE
from tests.cityfixture import CITY, DISTRICT, STREET_A, STREET_B, square

GOOD = NATIVE.encode()
BAD = (NATIVE + "BJ01-02,雨水箅子,,component,BJ01,,1,1,soon,,,,,\n").encode()


def principal(platform: Platform, role: str, region: str) -> Principal:
    with platform.db.session() as session:
        return org.principal_for(session=session, kind="staff", id=99, name=f"{role}@{region}", role=role,
                                 region_code=region)


def count(platform: Platform, model: type, *where: object) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def audit_actions(platform: Platform) -> list[str]:
    with platform.db.session() as session:
        return list(session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))


# --- categories -----------------------------------------------------------------------------------


def test_an_import_is_one_audit_record_and_one_message(places: Platform):
    counts = flows.import_categories(places, flows.ImportFile("mine.csv", GOOD), actor="cli:ops")
    assert (counts.created, counts.total) == (2, 2)
    with places.db.session() as session:
        (record,) = session.scalars(select(AuditRecord).where(AuditRecord.action == "catalog.categories_imported"))
        (message,) = session.scalars(select(OutboxMessage).where(OutboxMessage.subject == flows.CHANGED_SUBJECT))
    assert (record.actor, record.entity_id, record.region_code) == ("cli:ops", "mine.csv", CITY)
    assert record.data == {"file": "mine.csv", "format": "native", "count": 2, "created": 2, "updated": 0}
    assert message.payload["what"] == "categories" and message.payload["created"] == 2


def test_importing_the_same_file_again_writes_nothing_at_all(places: Platform):
    flows.import_categories(places, flows.ImportFile("mine.csv", GOOD), actor="cli:ops")
    before = (audit_actions(places), count(places, CategoryHistory), count(places, OutboxMessage))
    counts = flows.import_categories(places, flows.ImportFile("mine.csv", GOOD), actor="cli:ops")
    assert counts.unchanged == 2 and not counts.changed
    assert (audit_actions(places), count(places, CategoryHistory), count(places, OutboxMessage)) == before


def test_one_bad_row_leaves_the_catalogue_untouched(places: Platform):
    with pytest.raises(ValidationFailed) as caught:
        flows.import_categories(places, flows.ImportFile("bad.csv", BAD), actor="cli:ops")
    assert caught.value.field == "rows[2].handle_limit"
    assert count(places, Category) == 0 and audit_actions(places) == []


def test_a_reference_to_a_missing_department_fails_the_whole_import(places: Platform):
    data = NATIVE.replace("370300-cgj", "370300-nope").encode()
    with pytest.raises(ValidationFailed) as caught:
        flows.import_categories(places, flows.ImportFile("x.csv", data), actor="cli:ops")
    assert caught.value.field == "rows[0].default_department_code"
    assert count(places, Category) == 0


def test_put_category_audits_the_changed_fields_before_and_after(catalogue: Platform):
    admin = principal(catalogue, "admin", CITY)
    edited = CategoryInput(code="M01", name="噪声扰民", kind="matter", handle_limit=2)
    assert flows.put_category(catalogue, actor=admin, category=edited) == "updated"
    assert flows.put_category(catalogue, actor=admin, category=edited) == "unchanged"
    with catalogue.db.session() as session:
        (record,) = session.scalars(select(AuditRecord).where(AuditRecord.action == "catalog.category_updated"))
    assert record.data == {"before": {"handle_limit": 3.0}, "after": {"handle_limit": 2.0}, "version": 2}
    assert (record.actor, record.entity_id, record.region_code) == (admin.actor, "M01", CITY)


@pytest.mark.parametrize(("role", "region"), [("admin", DISTRICT), ("admin", STREET_A), ("dispatcher", CITY)])
def test_only_a_city_level_admin_changes_the_city_wide_catalogue(catalogue: Platform, role: str, region: str):
    with pytest.raises(PermissionDenied):
        flows.put_category(catalogue, actor=principal(catalogue, role, region), category=CATEGORIES[2])
    with pytest.raises(PermissionDenied):
        flows.import_categories(catalogue, flows.ImportFile("x.csv", GOOD), actor=principal(catalogue, role, region))


# --- routing rules --------------------------------------------------------------------------------


def test_a_district_admin_manages_rules_inside_the_district_only(catalogue: Platform):
    admin = principal(catalogue, "admin", DISTRICT)
    rule_id = flows.create_rule(catalogue, actor=admin, rule=RuleInput("C01001", STREET_A, "370303-cgj"))
    assert flows.update_rule(catalogue, actor=admin, rule_id=rule_id, changes={"region_code": STREET_B})
    with pytest.raises(PermissionDenied) as caught:
        flows.create_rule(catalogue, actor=admin, rule=RuleInput("C01001", CITY, "370300-cgj"))
    assert caught.value.field == "region_code"
    with pytest.raises(PermissionDenied):
        flows.update_rule(catalogue, actor=admin, rule_id=rule_id, changes={"region_code": "370302"})


def test_a_rule_above_the_admin_is_forbidden_and_a_sibling_rule_is_not_found(catalogue: Platform):
    city_rule = flows.create_rule(catalogue, actor="t", rule=RuleInput(None, CITY, "370300-cgj"))
    sibling_rule = flows.create_rule(catalogue, actor="t", rule=RuleInput(None, STREET_B, f"{STREET_B}-office"))
    street_admin = principal(catalogue, "admin", STREET_A)
    with pytest.raises(PermissionDenied):
        flows.deactivate_rule(catalogue, actor=street_admin, rule_id=city_rule)
    with pytest.raises(NotFound):
        flows.deactivate_rule(catalogue, actor=street_admin, rule_id=sibling_rule)
    with pytest.raises(PermissionDenied):
        flows.deactivate_rule(catalogue, actor=principal(catalogue, "dispatcher", CITY), rule_id=city_rule)


def test_rule_changes_are_audited_under_the_rules_region(catalogue: Platform):
    admin = principal(catalogue, "admin", CITY)
    rule_id = flows.create_rule(catalogue, actor=admin, rule=RuleInput("C01001", DISTRICT, "370303-cgj"))
    flows.update_rule(catalogue, actor=admin, rule_id=rule_id, changes={"department_code": "370300-cgj"})
    flows.deactivate_rule(catalogue, actor=admin, rule_id=rule_id)
    assert not flows.deactivate_rule(catalogue, actor=admin, rule_id=rule_id)  # already inactive: no record
    with catalogue.db.session() as session:
        records = session.scalars(select(AuditRecord).where(AuditRecord.entity_type == "routing_rule")
                                  .order_by(AuditRecord.seq)).all()
    assert [(r.action, r.region_code) for r in records] == [
        ("catalog.rule_created", DISTRICT), ("catalog.rule_updated", DISTRICT), ("catalog.rule_deactivated", DISTRICT)]
    assert records[1].data == {"before": {"department_code": "370303-cgj"},
                               "after": {"department_code": "370300-cgj"}}


def test_a_rule_import_outside_the_admins_region_names_the_row(catalogue: Platform):
    data = f"category_code,region_code,department_code\nC01001,{STREET_A},x\nC01001,370302,370302-cgj\n".encode()
    with pytest.raises(PermissionDenied) as caught:
        flows.import_rules(catalogue, flows.ImportFile("r.csv", data), actor=principal(catalogue, "admin", DISTRICT))
    assert caught.value.field == "rows[1].region_code"


# --- round trip, reference files and the demo ----------------------------------------------------


def test_an_xlsx_export_imports_back_to_the_same_catalogue(catalogue: Platform):
    with catalogue.db.session() as session:
        stored = [service.as_input(c) for c in service.all_categories(session=session)]
    body, _ = export_categories(stored, "xlsx")
    counts = flows.import_categories(catalogue, flows.ImportFile("export.xlsx", body), actor="t")
    assert counts == service.UpsertCounts(unchanged=len(CATEGORIES))
    with catalogue.db.session() as session:
        assert [service.as_input(c) for c in service.all_categories(session=session)] == stored


@pytest.mark.skipif(not URBAN_FILE.exists() or not HOTLINE_FILE.exists(), reason="reference data not present")
def test_both_reference_files_import_into_one_catalogue(places: Platform, tmp_path: Path):
    mapping = {"城市管理部门": "370300-cgj", "市政公用部门": "370300-zjj"}
    urban = flows.import_categories(places, URBAN_FILE, actor="t", fmt="urban", department_map=mapping)
    hotline = flows.import_categories(places, HOTLINE_FILE, actor="t", fmt="hotline")
    assert (urban.created, hotline.created) == (418, 650)
    with places.db.session() as session:
        manhole = service.get_category_or_raise(session=session, code="C01001")
        leaf = service.get_category_or_raise(session=session, code="H15-09-006")
    assert (manhole.name, manhole.level, manhole.default_department_code) == ("供水井盖", 2, "370300-zjj")
    assert (leaf.level, leaf.parent_code) == (3, "H15-09")
    assert audit_actions(places) == ["catalog.categories_imported"] * 2


def load_demo_city(platform: Platform) -> None:
    """Zibo's city and districts (squares, not shapes) and the demo departments: what the catalogue needs."""
    districts = {"370302": "淄川区", "370303": "张店区", "370304": "博山区", "370305": "临淄区", "370306": "周村区",
                 "370321": "桓台县", "370322": "高青县", "370323": "沂源县"}
    rows = [RegionInput(CITY, "淄博市", "city", None, square(117.0, 35.0, 3.0), "official")]
    rows += [RegionInput(code, name, "district", CITY, square(117.0 + i * 0.3, 35.0, 0.3), "official")
             for i, (code, name) in enumerate(districts.items())]
    with platform.uow() as uow:
        at = uow.clock.now()
        regions.upsert_regions(session=uow.session, regions=rows, at=at)
        for key, name, _ in zibo_org.CITY_DEPARTMENTS:
            org.add_department(session=uow.session, code=zibo_org.department_code(CITY, key), name=name,
                               region_code=CITY, at=at)
        for code, district in districts.items():
            for key, suffix, _ in zibo_org.DISTRICT_DEPARTMENTS:
                org.add_department(session=uow.session, code=zibo_org.department_code(code, key),
                                   name=district + suffix, region_code=code, at=at)
        uow.commit()


def test_the_demo_catalogue_loads_once_and_routes_to_district_bureaus(platform: Platform):
    load_demo_city(platform)
    first = load_demo_catalog(platform)
    audit_after_first = audit_actions(platform)
    second = load_demo_catalog(platform)
    assert 40 <= first.categories.created <= 70 and first.rules.created > 100
    assert not second.categories.changed and not second.rules.changed
    assert audit_actions(platform) == audit_after_first == ["catalog.categories_imported", "catalog.rules_imported"]
    with platform.db.session() as session:
        manhole = service.route_for(session=session, category_code="BJ01-01", region_code="370305001")
        heating = service.route_for(session=session, category_code="RX01-01", region_code="370305001")
        wages = service.route_for(session=session, category_code="RX02-01", region_code="370303")
    assert manhole is not None and manhole.department_code == "370305-cgj"
    assert heating is not None and heating.department_code == "370300-zjj" and not heating.fallback
    assert wages is not None and wages.department_code == "370300-rsj"
