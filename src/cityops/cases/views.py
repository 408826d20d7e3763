"""Routes for cases: search, detail, timeline, actions, and the workbench queues."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from cityops.cases import flows, merge, service
from cityops.cases.models import Case
from cityops.cases.schemas import (
    ActionIn,
    CaseDetailOut,
    CaseOut,
    EscalationOut,
    ExtensionOut,
    MergeIn,
    SplitIn,
    TaskOut,
    TransitionOut,
)
from cityops.cases.states import Action, State
from cityops.core.errors import NotFound, PermissionDenied, ValidationFailed
from cityops.intake import service as intake
from cityops.org.access import Principal, require
from cityops.org.roles import Role
from cityops.triage import corrections
from cityops.web.deps import PlatformDep, PrincipalDep, SessionDep
from cityops.web.pagination import Limit, Offset, Page

router = APIRouter(prefix="/api/v1", tags=["cases 案件"])
ORDERS = {"received_at", "-received_at", "stage_due_at", "-stage_due_at", "updated_at", "-updated_at"}


def _page(rows: Sequence[Case], total: int, limit: int, offset: int, now: datetime) -> Page[CaseOut]:
    return Page[CaseOut](items=[CaseOut.of(c, now) for c in rows], total=total, limit=limit, offset=offset)


@router.get("/cases", response_model=Page[CaseOut])
def search_cases(platform: PlatformDep, principal: PrincipalDep, session: SessionDep, limit: Limit = 50,
                 offset: Offset = 0,
                 state: Annotated[str | None, Query(description="状态 / state")] = None,
                 category_code: Annotated[str | None, Query()] = None,
                 department_id: Annotated[int | None, Query()] = None,
                 region_code: Annotated[str | None, Query(pattern=r"^\d+$")] = None,
                 channel: Annotated[str | None, Query()] = None,
                 q: Annotated[str | None, Query(max_length=100, description="关键字或编号 / text or number")] = None,
                 overdue: Annotated[bool | None, Query()] = None,
                 received_from: Annotated[datetime | None, Query()] = None,
                 received_to: Annotated[datetime | None, Query()] = None,
                 order: Annotated[str, Query()] = "-received_at") -> Page[CaseOut]:
    require(principal, "cases.read")
    if state is not None and state not in {s.value for s in State}:
        raise ValidationFailed(f"unknown state {state!r}", field="state")
    if order not in ORDERS:
        raise ValidationFailed(f"one of {sorted(ORDERS)}", field="order")
    now = platform.clock.now()
    where = service.CaseFilter(state=state, category_code=category_code, department_id=department_id,
                               region_code=region_code, channel=channel, text=q, overdue=overdue,
                               received_from=received_from, received_to=received_to)
    rows, total = service.search(session=session, principal=principal, where=where, now=now, limit=limit,
                                 offset=offset, order=order)
    return _page(rows, total, limit, offset, now)


@router.get("/cases/{case_id}", response_model=CaseDetailOut)
def case_detail(case_id: int, platform: PlatformDep, principal: PrincipalDep, session: SessionDep) -> CaseDetailOut:
    require(principal, "cases.read")
    case = service.get_visible(session=session, principal=principal, case_id=case_id)
    reports = [{"id": r.public_id, "channel": r.channel, "text": r.text, "photos": r.photos,
                "received_at": r.received_at, "reporter_name": r.reporter_name}
               for r in intake.reports_of_case(session=session, case_id=case.id)]
    return CaseDetailOut(
        case=CaseOut.of(case, platform.clock.now()), reports=reports,
        tasks=[TaskOut.model_validate(t) for t in service.tasks(session=session, case_id=case.id)],
        extensions=[ExtensionOut.model_validate(e) for e in service.extensions(session=session, case_id=case.id)],
        escalations=[EscalationOut.model_validate(e) for e in service.escalations(session=session, case_id=case.id)],
        timeline=[TransitionOut.model_validate(t) for t in service.timeline(session=session, case_id=case.id)])


@router.get("/cases/{case_id}/timeline", response_model=list[TransitionOut])
def case_timeline(case_id: int, principal: PrincipalDep, session: SessionDep) -> list[TransitionOut]:
    require(principal, "cases.read")
    case = service.get_visible(session=session, principal=principal, case_id=case_id)
    return [TransitionOut.model_validate(t) for t in service.timeline(session=session, case_id=case.id)]


@router.post("/cases/{case_id}/actions/{action}", response_model=CaseOut)
def act(case_id: int, action: Action, body: ActionIn, platform: PlatformDep, principal: PrincipalDep) -> CaseOut:
    """Perform one workflow action (立案、派遣、退回、处置、核查、结案、回访、延期、挂账、督办…)."""
    command = flows.Command(action=action, **{**body.model_dump(), "assist_department_ids":
                                             tuple(body.assist_department_ids), "photos": tuple(body.photos)})
    case = flows.perform(platform, case_id=case_id, actor=principal, command=command)
    if action is Action.REGISTER and command.category_code:  # a dispatcher decided what the classifier did not
        corrections.learn_from_registration(platform, case_id=case.id, category_code=command.category_code,
                                            actor=principal)
    return CaseOut.of(case, platform.clock.now())


@router.post("/cases/{case_id}/merge", response_model=CaseOut)
def merge_case(case_id: int, body: MergeIn, platform: PlatformDep, principal: PrincipalDep,
               session: SessionDep) -> CaseOut:
    """合并：把重复的案件并入本案件，其上报随之转入 / merge a duplicate case (and its reports) into this one."""
    source_id = _case_id(session, body.source)
    case = merge.merge(platform, target_id=case_id, source_id=source_id, actor=principal, reason=body.reason)
    return CaseOut.of(case, platform.clock.now())


@router.post("/reports/{public_id}/split", response_model=CaseOut, status_code=201)
def split_report(public_id: str, body: SplitIn, platform: PlatformDep, principal: PrincipalDep) -> CaseOut:
    """拆分：把误并入的上报拆出，单独成案，进入待分拨 / split a wrongly fused report out into a case of its own."""
    case = merge.split(platform, report_public_id=public_id, actor=principal, reason=body.reason)
    return CaseOut.of(case, platform.clock.now())


def _case_id(session: Session, reference: str) -> int:
    """A case named by its number (AJ…) or its id; scope is checked by the action itself."""
    reference = reference.strip()
    found = service.get_by_number(session=session, number=reference)
    if found is None and reference.isdigit() and len(reference) < 19:  # a BIGINT has at most 19 digits
        found = service.get(session=session, case_id=int(reference))
    if found is None:
        raise NotFound(f"没有该案件 / no case {reference}", field="source")
    return found.id


@router.get("/workbench/triage-queue", response_model=Page[CaseOut])
def triage_queue(platform: PlatformDep, principal: PrincipalDep, session: SessionDep, limit: Limit = 50,
                 offset: Offset = 0) -> Page[CaseOut]:
    """Cases waiting for a dispatcher: received and not yet registered (no category or no route)."""
    _dispatcher(principal)
    now = platform.clock.now()
    rows, total = service.search(session=session, principal=principal, now=now, limit=limit, offset=offset,
                                 where=service.CaseFilter(states=(State.RECEIVED.value, State.RETURNED.value)),
                                 order="received_at")
    return _page(rows, total, limit, offset, now)


@router.get("/workbench/my-tasks", response_model=Page[CaseOut])
def my_tasks(platform: PlatformDep, principal: PrincipalDep, session: SessionDep, limit: Limit = 50,
             offset: Offset = 0) -> Page[CaseOut]:
    """A handler's department's cases that need doing: dispatched, in progress, reworked."""
    if principal.role is not Role.HANDLER:
        raise PermissionDenied(permission="workbench.my_tasks")
    now = platform.clock.now()
    states = (State.DISPATCHED.value, State.IN_PROGRESS.value, State.REWORKED.value)
    rows, total = service.search(session=session, principal=principal, now=now, limit=limit, offset=offset,
                                 where=service.CaseFilter(states=states), order="stage_due_at")
    return _page(rows, total, limit, offset, now)


@router.get("/workbench/overdue", response_model=Page[CaseOut])
def overdue(platform: PlatformDep, principal: PrincipalDep, session: SessionDep, limit: Limit = 50,
            offset: Offset = 0) -> Page[CaseOut]:
    require(principal, "cases.read")
    now = platform.clock.now()
    rows, total = service.search(session=session, principal=principal, now=now, limit=limit, offset=offset,
                                 where=service.CaseFilter(overdue=True), order="stage_due_at")
    return _page(rows, total, limit, offset, now)


@router.get("/workbench/soon-due", response_model=Page[CaseOut])
def soon_due(platform: PlatformDep, principal: PrincipalDep, session: SessionDep, limit: Limit = 50,
             offset: Offset = 0, hours: Annotated[float, Query(gt=0, le=168)] = 4) -> Page[CaseOut]:
    require(principal, "cases.read")
    now = platform.clock.now()
    where = service.CaseFilter(due_before=now + timedelta(hours=hours), overdue=False)
    rows, total = service.search(session=session, principal=principal, now=now, limit=limit, offset=offset,
                                 where=where, order="stage_due_at")
    return _page(rows, total, limit, offset, now)


@router.get("/workbench/counts")
def counts(principal: PrincipalDep, session: SessionDep) -> dict[str, int]:
    require(principal, "cases.read")
    return service.counts_by_state(session=session, principal=principal)


def _dispatcher(principal: Principal) -> None:
    if principal.role not in (Role.DISPATCHER, Role.ADMIN, Role.LEADER):
        raise PermissionDenied(permission="workbench.triage")
