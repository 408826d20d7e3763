"""Cases opened, routed and joined in bulk by a triage batch (cases/opening.py) read exactly as cases the flows
open, register, dispatch and attach reports to one action at a time: the same columns, tasks, timeline,
audit records and bus messages (both databases)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from cityops.audit import service as audit
from cityops.audit.models import AuditRecord
from cityops.cases import flows, merge, opening, service, timing
from cityops.cases.changes import NewCase
from cityops.cases.models import Case, CaseTask, CaseTransition
from cityops.cases.states import Action
from cityops.core.models import OutboxMessage
from cityops.intake import flows as intake_flows
from cityops.intake import service as intake
from cityops.intake.schemas import ReportIn
from cityops.org.access import system_principal
from cityops.platform import Platform
from tests.casefixture import GRID_A, MANHOLE, POINT_A, add_category
from tests.cityfixture import build_small_city

TRIAGE = system_principal("triage")


@pytest.fixture
def department(platform: Platform) -> int:
    city = build_small_city(platform)
    add_category(platform, MANHOLE, "井盖缺失", "370303-cgj", handle_limit=2.0, severity=1)
    return city.departments["370303-cgj"]


def new_case(case_id: int, number: str, platform: Platform) -> NewCase:
    return NewCase(title="华光路井盖缺失", description="华光路井盖缺失，晚上很危险", region_code=GRID_A,
                   channel="hotline", received_at=platform.clock.now(), number=number, lng=POINT_A[0],
                   lat=POINT_A[1], address="华光路", category_code=MANHOLE,
                   route={"department_code": "370303-cgj", "reason": "category default"}, case_id=case_id)


def through_the_flows(platform: Platform, department: int) -> int:
    with platform.uow() as uow:
        (case_id,) = service.reserve_case_ids(session=uow.session, count=1)
        case = flows.open_case(uow, platform, new=new_case(case_id, "AJ-FLOWS", platform), actor=TRIAGE)
        flows.apply(uow, platform, case, TRIAGE, flows.Command(Action.REGISTER, category_code=MANHOLE))
        flows.apply(uow, platform, case, TRIAGE, flows.Command(Action.DISPATCH, department_id=department,
                                                               reason="category default"))
        uow.commit()
        return case_id


def in_bulk(platform: Platform, department: int) -> int:
    with platform.uow() as uow:
        (case_id,) = service.reserve_case_ids(session=uow.session, count=1)
        batch = opening.Batch(actor=TRIAGE, now=uow.clock.now())
        clock = timing.for_category(platform, uow.session, MANHOLE)
        row = batch.open(new_case(case_id, "AJ-BULK", platform), clock)
        batch.register_and_dispatch(row, clock, department, "category default")
        opening.write(uow, batch)
        uow.commit()
        return case_id


def written(platform: Platform, case_id: int) -> dict[str, Any]:
    """Everything stored about the case, with its own id and number taken out (they differ by design)."""
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        number = case.number

        def same(value: Any, key: str = "") -> Any:
            if isinstance(value, dict):
                return {k: same(v, k) for k, v in value.items()}
            if key in ("case_id", "entity_id") and str(value) == str(case_id):
                return "ID"
            return "NUMBER" if value == number else value

        def columns(obj: Any, *skip: str) -> dict[str, Any]:
            return {c.key: same(getattr(obj, c.key), c.key) for c in obj.__table__.columns if c.key not in skip}

        def same_key(key: str) -> str:  # "case.transition:<case id>:<version>", "case.opened:<case id>"
            prefix, _, rest = key.partition(":")
            found, colon, version = rest.partition(":")
            return f"{prefix}:{'ID' if found == str(case_id) else found}{colon}{version}"

        entity = str(case_id)
        return {
            "case": columns(case, "id", "number"),
            "tasks": [columns(t, "id") for t in session.scalars(select(CaseTask).where(CaseTask.case_id == case_id))],
            "timeline": [columns(t, "id") for t in session.scalars(
                select(CaseTransition).where(CaseTransition.case_id == case_id).order_by(CaseTransition.id))],
            "audit": [columns(a, "seq", "prev_hash", "hash") for a in session.scalars(
                select(AuditRecord).where(AuditRecord.entity_type == "case", AuditRecord.entity_id == entity)
                .order_by(AuditRecord.seq))],
            "messages": [{"subject": m.subject, "key": same_key(m.key), "payload": same(m.payload)}
                         for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
                         if m.payload.get("case_id") == case_id],
        }


def test_a_case_opened_and_routed_in_bulk_reads_as_one_the_flows_opened_registered_and_dispatched(
        platform: Platform, department: int):
    by_flows = written(platform, through_the_flows(platform, department))
    by_bulk = written(platform, in_bulk(platform, department))
    assert [t["action"] for t in by_bulk["timeline"]] == ["receive", "register", "dispatch"]
    assert by_bulk["case"]["state"] == "dispatched" and by_bulk["case"]["department_id"] == department
    assert by_bulk["case"]["severity"] == 1 and by_bulk["case"]["version"] == 3
    assert len(by_bulk["messages"]) == 3 and len(by_bulk["audit"]) == 3 and len(by_bulk["tasks"]) == 1
    assert by_bulk == by_flows
    with platform.db.session() as session:
        assert audit.verify(session=session).ok  # the bulk records continue the chain


def send(platform: Platform, channel_id: str) -> intake.ReportRow:
    public_id = intake_flows.receive(platform, report=ReportIn.model_validate(
        {"channel": "hotline", "channel_report_id": channel_id, "text": "井盖又丢了", "category_code": MANHOLE}),
        submitted_by=system_principal()).public_id
    with platform.db.session() as session:
        return next(r for r in intake.claim_rows(session=session, limit=100) if r.public_id == public_id)


def test_a_report_joined_in_bulk_reads_as_one_the_flows_attached(platform: Platform, department: int):
    evidence = {"score": 0.9, "candidates": 1}
    stored = through_the_flows(platform, department)
    report = send(platform, "flows")
    with platform.uow() as uow:
        merge.attach(uow, case=service.lock(session=uow.session, case_id=stored),
                     report=intake.lock_by_public_id(session=uow.session, public_id=report.public_id),  # type: ignore[arg-type]
                     evidence=evidence, actor=TRIAGE)
        uow.commit()
    bulk_stored = in_bulk(platform, department)
    report = send(platform, "bulk")
    with platform.uow() as uow:
        batch = opening.Batch(actor=TRIAGE, now=uow.clock.now())
        held = service.lock_rows(session=uow.session, ids=[bulk_stored], columns=opening.JOIN_COLUMNS)
        batch.attach(held[bulk_stored], report.public_id, report.received_at, evidence)
        opening.write(uow, batch)
        uow.commit()
    by_flows, by_bulk = written(platform, stored), written(platform, bulk_stored)
    assert by_bulk["case"]["report_count"] == 2 and by_bulk["timeline"][-1]["action"] == "attach_report"
    for found in (by_flows, by_bulk):  # the reports differ; what is said of them does not
        for entry in (found["timeline"][-1]["data"], found["audit"][-1]["data"], found["messages"][-1]["payload"]):
            entry.pop("report")
    assert by_bulk == by_flows
