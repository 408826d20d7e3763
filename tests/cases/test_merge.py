"""Attaching a report to its case, merging a duplicate case into another, and splitting a wrongly fused report
out: each leaves who/when/why on the timeline, an audit record and a bus message, is refused for the wrong role
or region without changing anything, and a merged case takes no further action and counts in no KPI."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityops.audit.models import AuditRecord
from cityops.cases import flows, merge, service
from cityops.cases.facts import case_facts
from cityops.cases.models import Case
from cityops.cases.states import RULES, Action
from cityops.core.errors import Conflict, DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from cityops.core.models import OutboxMessage
from cityops.intake import flows as intake
from cityops.intake import service as reports
from cityops.intake.models import Report
from cityops.intake.schemas import ReportIn
from cityops.org.access import Principal, system_principal
from cityops.platform import Platform
from tests.casefixture import GRID_A, MANHOLE, NOISE, POINT_A, CaseCity, build_case_city
from tests.cityfixture import PASSWORD
from tests.conftest import START
from tests.web.conftest import login

TRIAGE = system_principal("triage")
channel_ids = count(1)
EVIDENCE = {"case_id": None, "fused": True, "policy": "*", "evidence": [{"score": 0.8}]}


def receive(platform: Platform, text: str, category: str | None = MANHOLE) -> str:
    body = ReportIn(channel="hotline", channel_report_id=f"M-{next(channel_ids)}", text=text, lng=POINT_A[0],
                    lat=POINT_A[1], category_code=category)
    return intake.receive(platform, report=body, submitted_by=TRIAGE).public_id


def case_with_report(platform: Platform, text: str, category: str | None = MANHOLE) -> tuple[int, str]:
    """A report and the case triage opened for it (the worker's first step, without its routing)."""
    public_id = receive(platform, text, category)
    with platform.uow() as uow:
        case = flows.open_case(uow, platform, actor=TRIAGE, new=flows.NewCase(
            title=text, description=text, region_code=GRID_A, channel="hotline", received_at=uow.clock.now(),
            number="AJ" + public_id[1:], lng=POINT_A[0], lat=POINT_A[1], category_code=category))
        reports.set_case(session=uow.session, public_id=public_id, case_id=case.id, status="waiting")
        uow.commit()
        return case.id, public_id


def attach(platform: Platform, case_id: int, public_id: str, actor: Principal = TRIAGE) -> Case:
    with platform.uow() as uow:
        case = merge.attach_report(uow, platform, case_id=case_id, report_public_id=public_id, evidence=EVIDENCE,
                                   actor=actor)
        uow.commit()
        return case


def snapshot(platform: Platform) -> tuple[Any, ...]:
    with platform.db.session() as session:
        cases = tuple(session.execute(select(Case.id, Case.state, Case.report_count, Case.version).order_by(Case.id)))
        owners = tuple(session.execute(select(Report.public_id, Report.case_id).order_by(Report.id)))
        counts = [session.scalar(select(func.count()).select_from(t)) for t in (AuditRecord, OutboxMessage)]
        return cases, owners, *counts


def refused(platform: Platform, error: type[DomainError] | tuple[type[DomainError], ...], action: Any) -> None:
    before = snapshot(platform)
    with pytest.raises(error) as caught:
        action()
    assert snapshot(platform) == before
    assert caught.value.message("zh-CN") and caught.value.message("en")


def timeline(platform: Platform, case_id: int) -> list[tuple[str, str | None, dict[str, Any]]]:
    with platform.db.session() as session:
        return [(t.action, t.reason, t.data) for t in service.timeline(session=session, case_id=case_id)]


def audited(platform: Platform, case_id: int) -> list[str]:
    with platform.db.session() as session:
        return list(session.scalars(select(AuditRecord.action).where(AuditRecord.entity_id == str(case_id))
                                    .order_by(AuditRecord.seq)))


def published(platform: Platform, subject: str) -> list[dict[str, Any]]:
    with platform.db.session() as session:
        return list(session.scalars(select(OutboxMessage.payload).where(OutboxMessage.subject == subject)))


def get(platform: Platform, case_id: int) -> Case:
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


# --- attach ----------------------------------------------------------------------------------------------------


def test_an_attached_report_joins_the_case_with_its_evidence_and_the_state_stays(platform: Platform):
    build_case_city(platform)
    case_id, _ = case_with_report(platform, "和平路口井盖没了")
    before = get(platform, case_id)
    platform.clock.advance(timedelta(minutes=20))  # type: ignore[attr-defined]
    again = receive(platform, "和平路口的井盖丢了，很危险")
    attach(platform, case_id, again)
    after = get(platform, case_id)
    assert (after.state, after.report_count, after.version) == (before.state, 2, before.version + 1)
    assert after.last_report_at == START + timedelta(minutes=20)  # fusion's window now runs from here
    action, _reason, data = timeline(platform, case_id)[-1]
    assert (action, data["report"], data["evidence"]) == ("attach_report", again, EVIDENCE)
    assert audited(platform, case_id)[-1] == "case.attach_report"
    assert published(platform, "cityops.cases.report_attached")[-1]["report"] == again
    with platform.db.session() as session:
        report = reports.get_by_public_id(session=session, public_id=again)
        assert report is not None and (report.case_id, report.status) == (case_id, "fused")
    before = snapshot(platform)
    attach(platform, case_id, again)  # a repeated attempt (a redelivered message) changes nothing
    assert snapshot(platform) == before


def test_a_report_of_another_case_or_a_finished_case_is_not_attached(platform: Platform):
    world = build_case_city(platform)
    case_id, _ = case_with_report(platform, "和平路口井盖没了")
    other_id, other_report = case_with_report(platform, "工地夜间施工噪声很大", NOISE)
    refused(platform, Conflict, lambda: attach(platform, case_id, other_report))
    flows.perform(platform, case_id=other_id, actor=world.people["a_dispatcher"],
                  command=flows.Command(Action.REJECT, reason="非城管事项"))
    fresh = receive(platform, "工地夜里还在施工", NOISE)
    refused(platform, InvalidTransition, lambda: attach(platform, other_id, fresh))
    refused(platform, NotFound, lambda: attach(platform, case_id, "R20260301NOSUCH00"))


# --- merge -----------------------------------------------------------------------------------------------------


def merge_by(platform: Platform, actor: Principal, target: int, source: int, reason: str = "同一井盖重复立案") -> Case:
    return merge.merge(platform, target_id=target, source_id=source, actor=actor, reason=reason)


def two_cases(platform: Platform) -> tuple[CaseCity, int, int, str]:
    world = build_case_city(platform)
    target, _ = case_with_report(platform, "和平路口井盖没了")
    source, source_report = case_with_report(platform, "和平路路口井口敞着，晚上看不见", NOISE)
    return world, target, source, source_report


def test_a_dispatcher_merges_a_duplicate_whose_reports_move_to_the_case_it_joins(platform: Platform):
    world, target, source, source_report = two_cases(platform)
    merged_into = merge_by(platform, world.people["a_dispatcher"], target, source)
    assert merged_into.id == target and merged_into.report_count == 2
    assert (get(platform, source).state, get(platform, source).report_count) == ("merged", 0)
    with platform.db.session() as session:
        assert {r.public_id for r in reports.reports_of_case(session=session, case_id=target)} >= {source_report}
        assert reports.reports_of_case(session=session, case_id=source) == []
    action, reason, data = timeline(platform, source)[-1]
    assert (action, reason, data["merged_into"], data["reports"]) == ("merge", "同一井盖重复立案", target,
                                                                      [source_report])
    action, reason, data = timeline(platform, target)[-1]
    assert (action, reason, data["merged_from"]) == ("merge_in", "同一井盖重复立案", source)
    assert audited(platform, source)[-1] == "case.merge" and audited(platform, target)[-1] == "case.merge_in"
    assert published(platform, "cityops.cases.merged")[-1]["merged_from"] == source
    assert published(platform, "cityops.cases.transitioned")[-1]["to"] == "merged"


def test_merging_is_refused_for_other_roles_other_regions_itself_finished_cases_and_without_a_reason(
        platform: Platform):
    world, target, source, _ = two_cases(platform)
    p = world.people
    for name in ("lead_handler", "a_grid_worker", "a_leader", "a_data_officer"):
        refused(platform, PermissionDenied, lambda name=name: merge_by(platform, p[name], target, source))
    refused(platform, NotFound, lambda: merge_by(platform, p["b_dispatcher"], target, source))
    refused(platform, ValidationFailed, lambda: merge_by(platform, p["a_dispatcher"], target, target))
    refused(platform, InvalidTransition, lambda: merge_by(platform, p["a_dispatcher"], target, source, reason=" "))
    flows.perform(platform, case_id=target, actor=p["a_dispatcher"], command=flows.Command(Action.REJECT,
                                                                                          reason="无效"))
    refused(platform, InvalidTransition, lambda: merge_by(platform, p["a_dispatcher"], target, source))


def test_a_merged_case_takes_no_further_action(platform: Platform):
    world, target, source, _ = two_cases(platform)
    merge_by(platform, world.people["a_admin"], target, source)
    fields = {"reason": "再试", "category_code": MANHOLE, "department_id": world.department("370303-cgj"),
              "result": "已处理", "hours": 4.0, "approved": True, "resolved": True, "satisfaction": "satisfied"}
    for action, rule in RULES.items():
        actor = world.people["a_admin"] if "admin" in {r.value for r in rule.roles} else world.people["lead_handler"]
        refused(platform, (InvalidTransition, NotFound),
                lambda action=action, actor=actor: flows.perform(platform, case_id=source, actor=actor,
                                                                 command=flows.Command(action, **fields)))
    late = receive(platform, "和平路口井盖")
    refused(platform, InvalidTransition, lambda: attach(platform, source, late))
    third, _ = case_with_report(platform, "和平路口井盖还是没人修")
    refused(platform, InvalidTransition, lambda: merge_by(platform, world.people["a_admin"], third, source))


def test_the_merge_action_only_goes_through_the_merge_endpoint(platform: Platform):
    world, _target, source, _ = two_cases(platform)
    refused(platform, InvalidTransition, lambda: flows.perform(
        platform, case_id=source, actor=world.people["a_dispatcher"],
        command=flows.Command(Action.MERGE, reason="重复")))


def test_a_merged_case_counts_in_no_kpi(platform: Platform):
    world, target, source, _ = two_cases(platform)
    merge_by(platform, world.people["a_dispatcher"], target, source)
    with platform.db.session() as session:
        ids = [f.case_id for f in case_facts(session=session, region_prefix=None, department_id=None,
                                             since=START - timedelta(days=1), until=START + timedelta(days=1))]
    assert ids == [target]


# --- split -----------------------------------------------------------------------------------------------------


def split_by(platform: Platform, actor: Principal, public_id: str, reason: str = "不是同一个井盖") -> Case:
    return merge.split(platform, report_public_id=public_id, actor=actor, reason=reason)


def test_a_wrongly_fused_report_is_split_out_into_its_own_case_waiting_for_a_dispatcher(platform: Platform):
    world = build_case_city(platform)
    case_id, _ = case_with_report(platform, "和平路口井盖没了")
    wrong = receive(platform, "和平路小学门口井盖也坏了")
    attach(platform, case_id, wrong)
    new = split_by(platform, world.people["a_dispatcher"], wrong)
    assert new.state == "received" and new.id != case_id and new.category_code == MANHOLE
    assert get(platform, case_id).report_count == 1
    with platform.db.session() as session:
        report = reports.get_by_public_id(session=session, public_id=wrong)
        assert report is not None and (report.case_id, report.status) == (new.id, "waiting")
        queue, _ = service.search(session=session, principal=world.people["a_dispatcher"],
                                  where=service.CaseFilter(states=("received",)), now=START, limit=10, offset=0)
        assert new.id in {c.id for c in queue}
    assert timeline(platform, case_id)[-1][:2] == ("split_report", "不是同一个井盖")
    assert [(a, r) for a, r, _ in timeline(platform, new.id)] == [("receive", None), ("split_from", "不是同一个井盖")]
    assert "case.split_report" in audited(platform, case_id) and "case.split_from" in audited(platform, new.id)
    assert published(platform, "cityops.cases.report_split")[-1]["new_case_id"] == new.id


def test_splitting_is_refused_for_other_roles_other_regions_the_only_report_and_without_a_reason(
        platform: Platform):
    world = build_case_city(platform)
    p = world.people
    case_id, only = case_with_report(platform, "和平路口井盖没了")
    second = receive(platform, "和平路口井盖丢了")
    attach(platform, case_id, second)
    for name in ("lead_handler", "a_grid_worker", "a_leader"):
        refused(platform, PermissionDenied, lambda name=name: split_by(platform, p[name], second))
    refused(platform, NotFound, lambda: split_by(platform, p["b_dispatcher"], second))
    refused(platform, ValidationFailed, lambda: split_by(platform, p["a_dispatcher"], second, reason=""))
    refused(platform, NotFound, lambda: split_by(platform, p["a_dispatcher"], "R20260301NOSUCH00"))
    split_by(platform, p["a_dispatcher"], second)
    refused(platform, InvalidTransition, lambda: split_by(platform, p["a_dispatcher"], only))


# --- the API ---------------------------------------------------------------------------------------------------


def test_merge_and_split_through_the_api(platform: Platform, client: TestClient):
    _world, target, source, source_report = two_cases(platform)
    number = get(platform, source).number
    login(client, "a_grid_worker", PASSWORD)
    forbidden = client.post(f"/api/v1/cases/{target}/merge", json={"source": number, "reason": "重复"})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "auth.forbidden"
    login(client, "b_dispatcher", PASSWORD)
    assert client.post(f"/api/v1/cases/{target}/merge", json={"source": number, "reason": "重复"}).status_code == 404
    login(client, "a_dispatcher", PASSWORD)
    assert client.post(f"/api/v1/cases/{target}/merge", json={"source": number}).status_code == 422
    assert client.post(f"/api/v1/cases/{target}/merge", json={"source": "AJ0", "reason": "重复"}).status_code == 404
    merged = client.post(f"/api/v1/cases/{target}/merge", json={"source": number, "reason": "重复"})
    assert merged.status_code == 200 and merged.json()["report_count"] == 2
    assert client.get(f"/api/v1/cases/{source}").json()["case"]["state_label"] == "已合并"

    split = client.post(f"/api/v1/reports/{source_report}/split", json={"reason": "不是同一问题"})
    assert split.status_code == 201 and split.json()["state"] == "received"
    again = client.post(f"/api/v1/reports/{source_report}/split", json={"reason": "不是同一问题"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "case.invalid_transition"
    assert client.post(f"/api/v1/cases/{target}/merge", json={"source": str(split.json()["id"]),
                                                              "reason": "还是同一个"}).status_code == 200
