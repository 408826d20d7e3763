"""One case walks through every state — return and re-dispatch, joint handling, extension, suspension,
escalation, rework, closure and a reopening follow-up — and at every step every forbidden action and every
forbidden role is refused with a clear error, leaving the case exactly as it was."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from cityops.audit.models import AuditRecord
from cityops.cases import flows, service
from cityops.cases.flows import Command
from cityops.cases.models import Case, CaseTransition
from cityops.cases.states import RULES, Action, State
from cityops.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied
from cityops.intake import flows as intake
from cityops.intake.schemas import ReportIn
from cityops.org.access import Principal
from cityops.platform import Platform
from cityops.triage import worker as triage
from tests.casefixture import MANHOLE, POINT_A, CaseCity, build_case_city

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# Enough fields for any action, so that a refusal can only come from the state or the role.
EVERYTHING: dict[str, Any] = {"reason": "测试", "category_code": MANHOLE, "department_id": None, "result": "已处理",
                              "photos": (), "hours": 4.0, "approved": True, "resolved": True,
                              "satisfaction": "satisfied"}


def snapshot(platform: Platform, case_id: int) -> tuple[Any, ...]:
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        transitions = session.scalar(select(func.count()).where(CaseTransition.case_id == case_id))
        audits = session.scalar(select(func.count()).select_from(AuditRecord))
        return (case.state, case.version, case.suspended, case.department_id, case.escalation_level,
                case.stage_due_at, case.due_at, transitions, audits)


def refused(platform: Platform, case_id: int, actor: Principal, command: Command,
            error: type[DomainError] | tuple[type[DomainError], ...]) -> DomainError:
    before = snapshot(platform, case_id)
    with pytest.raises(error) as caught:
        flows.perform(platform, case_id=case_id, actor=actor, command=command)
    assert snapshot(platform, case_id) == before, f"{command.action} changed the case although refused"
    assert caught.value.message("zh-CN") and caught.value.message("en")
    return caught.value


def allowed_actor(world: CaseCity, action: Action) -> Principal:
    for name in ("a_dispatcher", "lead_handler", "a_leader", "a_grid_worker"):
        if world.people[name].role in RULES[action].roles:
            return world.people[name]
    raise AssertionError(action)


def every_other_action_is_refused(platform: Platform, world: CaseCity, case_id: int, photo: str) -> None:
    """In the case's current state, each action the table does not allow is refused; so is each wrong role."""
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        state, suspended = State(case.state), case.suspended
    fields = {**EVERYTHING, "department_id": world.department("370303001-office"), "photos": (photo,)}
    for action, rule in RULES.items():
        command = Command(action, **fields)
        if state not in rule.sources:
            actor = allowed_actor(world, action)
            # before dispatch the lead handler cannot see the case at all: 404 is then the refusal
            expected = (InvalidTransition, NotFound) if actor.role.value == "handler" else InvalidTransition
            refused(platform, case_id, actor, command, expected)
        for name in ("a_data_officer", "a_grid_worker", "a_leader", "lead_handler", "a_dispatcher"):
            actor = world.people[name]
            if actor.role not in rule.roles:
                # a handler whose department does not hold the case cannot even see it: 404, also a refusal
                refused(platform, case_id, actor, command, (PermissionDenied, NotFound))
    assert suspended == snapshot(platform, case_id)[2]


def act(platform: Platform, case_id: int, actor: Principal, action: Action, **kwargs: Any) -> Case:
    return flows.perform(platform, case_id=case_id, actor=actor, command=Command(action, **kwargs))


def test_a_case_walks_every_state_and_every_forbidden_move_is_refused(platform: Platform):
    world = build_case_city(platform)
    p = world.people
    lead, assist = world.department("370303001-office"), world.department("370303-cgj")
    photo = intake.store_photo(platform, PNG)
    intake.receive(platform, submitted_by=p["a_dispatcher"], report=ReportIn(
        channel="hotline", channel_report_id="H-0001", text="和平路口井盖没了，很危险", lng=POINT_A[0],
        lat=POINT_A[1]))
    triage.drain(platform)
    with platform.db.session() as session:
        case = session.scalars(select(Case)).one()
    cid = case.id
    assert case.state == "received" and case.region_code.startswith("370303001")
    check = lambda: every_other_action_is_refused(platform, world, cid, photo)  # noqa: E731
    check()

    # 立案 needs a category; a street-B dispatcher cannot even see the case.
    refused(platform, cid, p["a_dispatcher"], Command(Action.REGISTER), InvalidTransition)
    refused(platform, cid, p["b_dispatcher"], Command(Action.REGISTER, category_code=MANHOLE), NotFound)
    act(platform, cid, p["a_dispatcher"], Action.REGISTER, category_code=MANHOLE)
    check()

    # 派遣 to a lead with an assisting department (联办); the lead returns it (退回); re-dispatch.
    act(platform, cid, p["a_dispatcher"], Action.DISPATCH, department_id=lead, assist_department_ids=(assist,))
    check()
    refused(platform, cid, p["other_handler"], Command(Action.RETURN, reason="不归我管"), NotFound)
    refused(platform, cid, p["assist_handler"], Command(Action.RETURN, reason="不归我管"), PermissionDenied)
    act(platform, cid, p["lead_handler"], Action.RETURN, reason="位置不清，请核实")
    assert snapshot(platform, cid)[0] == "returned"
    check()
    act(platform, cid, p["a_dispatcher"], Action.DISPATCH, department_id=lead, assist_department_ids=(assist,))
    act(platform, cid, p["lead_handler"], Action.ACCEPT)
    assert snapshot(platform, cid)[0] == "in_progress"
    check()

    # 延期: asked by the department, approved by the dispatcher; the deadline moves by the working hours.
    before_due = snapshot(platform, cid)[6]
    act(platform, cid, p["lead_handler"], Action.REQUEST_EXTENSION, reason="需采购井盖", hours=8.0)
    refused(platform, cid, p["lead_handler"], Command(Action.REQUEST_EXTENSION, reason="再延", hours=8.0),
            DomainError)
    act(platform, cid, p["a_dispatcher"], Action.DECIDE_EXTENSION, approved=True)
    assert snapshot(platform, cid)[6] > before_due

    # 联办: the lead cannot finish before the assisting department has.
    refused(platform, cid, p["lead_handler"], Command(Action.HANDLE, result="已更换", photos=(photo,)),
            InvalidTransition)
    act(platform, cid, p["assist_handler"], Action.COMPLETE_ASSIST, result="已配合围挡")

    # 挂账 stops everything but resuming and escalating; the deadline moves on by the suspended time.
    act(platform, cid, p["a_dispatcher"], Action.SUSPEND, reason="等待燃气公司")
    refused(platform, cid, p["lead_handler"], Command(Action.HANDLE, result="已更换", photos=(photo,)),
            InvalidTransition)
    act(platform, cid, p["a_leader"], Action.ESCALATE, reason="群众反映强烈")
    assert snapshot(platform, cid)[4] == 2
    act(platform, cid, p["a_dispatcher"], Action.RESUME)
    check()

    # 处置 needs a result and a photo; 返工 sends it back; handled again; 核查 by the grid worker; 结案.
    refused(platform, cid, p["lead_handler"], Command(Action.HANDLE, result="已更换"), InvalidTransition)
    act(platform, cid, p["lead_handler"], Action.HANDLE, result="已更换井盖", photos=(photo,))
    check()
    act(platform, cid, p["a_grid_worker"], Action.REWORK, reason="井盖未固定")
    check()
    act(platform, cid, p["lead_handler"], Action.ACCEPT)
    act(platform, cid, p["lead_handler"], Action.HANDLE, result="已固定", photos=(photo,))
    act(platform, cid, p["a_grid_worker"], Action.VERIFY)
    check()
    act(platform, cid, p["a_dispatcher"], Action.CLOSE)
    check()

    # 回访: not resolved and dissatisfied, so it reopens; then the second round ends satisfied.
    act(platform, cid, p["a_dispatcher"], Action.FOLLOW_UP, resolved=False, satisfaction="dissatisfied", reopen=True,
        reason="回访：仍有异响")
    final = snapshot(platform, cid)
    assert final[0] == "registered"
    check()
    act(platform, cid, p["a_dispatcher"], Action.DISPATCH, department_id=lead)
    act(platform, cid, p["lead_handler"], Action.ACCEPT)
    act(platform, cid, p["lead_handler"], Action.HANDLE, result="已更换减震垫", photos=(photo,))
    act(platform, cid, p["a_grid_worker"], Action.VERIFY)
    act(platform, cid, p["a_dispatcher"], Action.CLOSE)
    act(platform, cid, p["a_dispatcher"], Action.FOLLOW_UP, resolved=True, satisfaction="satisfied")
    check()

    with platform.db.session() as session:
        case = session.get(Case, cid)
        assert case is not None
        visited = {t.to_state for t in service.timeline(session=session, case_id=cid)}
        assert visited == {s.value for s in State} - {"rejected", "merged"}
        assert (case.state, case.return_count, case.rework_count, case.reopened_count) == ("followed_up", 1, 1, 1)
        actions = [t.action for t in service.timeline(session=session, case_id=cid)]
        for needed in ("request_extension", "decide_extension", "suspend", "resume", "escalate", "complete_assist",
                       "reopen", "follow_up"):
            assert needed in actions
        audited = session.scalars(select(AuditRecord.action).where(AuditRecord.entity_type == "case",
                                                                   AuditRecord.entity_id == str(cid))).all()
        assert len(audited) == len(actions)  # every transition has its audit record


def test_a_rejected_case_accepts_no_further_action(platform: Platform):
    world = build_case_city(platform)
    intake.receive(platform, submitted_by=world.people["a_dispatcher"], report=ReportIn(
        channel="hotline", channel_report_id="H-0002", text="咨询公积金政策", lng=POINT_A[0], lat=POINT_A[1]))
    triage.drain(platform)
    with platform.db.session() as session:
        cid = session.scalars(select(Case.id)).one()
    refused(platform, cid, world.people["a_dispatcher"], Command(Action.REJECT), InvalidTransition)  # no reason
    act(platform, cid, world.people["a_dispatcher"], Action.REJECT, reason="非城市管理事项，已转咨询")
    every_other_action_is_refused(platform, world, cid, intake.store_photo(platform, PNG))


def test_a_stale_version_is_refused_as_a_conflict(platform: Platform):
    world = build_case_city(platform)
    intake.receive(platform, submitted_by=world.people["a_dispatcher"], report=ReportIn(
        channel="hotline", channel_report_id="H-0003", text="路灯不亮", lng=POINT_A[0], lat=POINT_A[1]))
    triage.drain(platform)
    with platform.db.session() as session:
        case = session.scalars(select(Case)).one()
    from cityops.core.errors import Conflict

    refused(platform, case.id, world.people["a_dispatcher"],
            Command(Action.REGISTER, category_code=MANHOLE, expected_version=case.version + 5), Conflict)
