"""The demo city's data hub: its catalogue loads, its files pass every standard check, its registers are built
with the deliberate conflicts found, and loading twice changes nothing."""

from __future__ import annotations

import csv
import io
from importlib.resources import files

from sqlalchemy import func, select

from cityops.audit.models import AuditRecord
from cityops.datahub import register_flows, service
from cityops.demo import zibo_org
from cityops.demo.zibo_datahub import demo_datasets, load_demo_datahub
from cityops.org import flows as org_flows
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.regions.schemas import RegionInput
from tests.demo.test_demo_registers import conflicts


def _departments(platform: Platform) -> None:
    """The city, its eight districts (so ID numbers are checked against them) and the owning departments."""
    areas = csv.DictReader(io.StringIO((files("cityops.demo") / "data" / "zibo_areas.csv").read_text("utf-8")))
    with platform.uow() as uow:
        regions.upsert_regions(session=uow.session, at=uow.clock.now(), regions=[
            RegionInput(zibo_org.CITY, "淄博市", "city", None, None, "official"),
            *(RegionInput(a["code"], a["name"], "district", zibo_org.CITY, None, "official") for a in areas)])
        uow.commit()
    wanted = {d["owner_department"] for d in demo_datasets()}
    for key, name, _en in zibo_org.CITY_DEPARTMENTS:
        code = zibo_org.department_code(zibo_org.CITY, key)
        if code in wanted:
            org_flows.create_department(platform, actor=None, code=code, name=name, region_code=zibo_org.CITY)


def _audit_count(platform: Platform) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditRecord)) or 0


def test_the_demo_catalogue_loads_builds_its_registers_and_loading_twice_changes_nothing(platform: Platform) -> None:
    _departments(platform)
    load_demo_datahub(platform)
    with platform.db.session() as session:
        datasets = {d.code: d for d in service.all_datasets(session=session)}
    assert set(datasets) == {d["code"] for d in demo_datasets()}
    assert datasets["370300-gaj.population"].row_count == 2000
    assert datasets["REG-POPULATION"].row_count == 2000
    assert datasets["REG-LEGAL-ENTITY"].row_count == datasets["370300-scjgj.market-entities"].row_count
    assert datasets["REG-LICENCE"].row_count == datasets["370300-dsjj.licences"].row_count

    audited = _audit_count(platform)
    load_demo_datahub(platform)
    assert _audit_count(platform) == audited

    summary = register_flows.build_register(platform, actor="test", register="population")
    found = {(c["key"], c["field"]) for c in summary.conflicts}
    assert found == {(key, field) for key, field, _a, _b in conflicts()}
