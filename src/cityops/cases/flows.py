"""Moving cases through the closed loop. Every action: one transaction that locks the case, checks the rule
table (states.py), the caller's role, region and department, applies the change, records the transition with
who/when/why, appends the audit record and queues a bus message; all of it commits together or not at all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cityops.audit import service as audit
from cityops.cases import changes, service, timing
from cityops.cases.changes import NewCase
from cityops.cases.models import Case, CaseTask, CaseTransition, Escalation, ExtensionRequest
from cityops.cases.states import DEPARTMENT_STATES, RULES, Action, State, refusal
from cityops.core import photos
from cityops.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from cityops.core.uow import UnitOfWork
from cityops.org import service as org
from cityops.org.access import Principal, ensure_in_scope
from cityops.org.roles import Role
from cityops.platform import Platform

SATISFACTION = ("satisfied", "basically", "dissatisfied")  # 满意 / 基本满意 / 不满意


@dataclass(frozen=True)
class Command:
    """What the caller asks for; which fields an action needs is in states.RULES."""

    action: Action
    reason: str | None = None
    category_code: str | None = None
    department_id: int | None = None
    assist_department_ids: tuple[int, ...] = ()
    result: str | None = None
    photos: tuple[str, ...] = ()
    hours: float | None = None
    approved: bool | None = None
    resolved: bool | None = None
    satisfaction: str | None = None
    reopen: bool = False
    level: int | None = None
    expected_version: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def given(self) -> set[str]:
        empty: tuple[Any, ...] = (None, "", (), {})
        return {f.name for f in fields(self) if getattr(self, f.name) not in empty}


@dataclass
class Step:
    """One action being applied: the locked case, who acts, and what the transition record will say."""

    uow: UnitOfWork
    case: Case
    actor: Principal
    command: Command
    now: datetime
    clock: timing.CaseTiming
    from_state: str
    photo_root: Path
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def session(self) -> Session:
        return self.uow.session


def perform(platform: Platform, *, case_id: int, actor: Principal, command: Command) -> Case:
    with platform.uow() as uow:
        case = service.lock(session=uow.session, case_id=case_id)
        _authorise(uow.session, case, actor, command)
        apply(uow, platform, case, actor, command)
        uow.commit()
        return case


def apply(uow: UnitOfWork, platform: Platform, case: Case, actor: Principal, command: Command) -> None:
    """Applies one action to a locked, authorised case inside the caller's transaction."""
    step = Step(uow, case, actor, command, uow.clock.now(),
                timing.for_category(platform, uow.session, case.category_code), case.state,
                platform.settings.photo_dir)
    APPLY[command.action](step)
    _record(step)


def _authorise(session: Session, case: Case, actor: Principal, command: Command) -> None:
    if actor.role is Role.HANDLER:
        service.get_visible(session=session, principal=actor, case_id=case.id)  # 404 when not theirs
    else:
        ensure_in_scope(actor, case.region_code)
    if command.expected_version is not None and command.expected_version != case.version:
        raise Conflict("the case changed meanwhile; reload it / 案件已被他人更新，请刷新", field="expected_version")
    rule = RULES[command.action]
    why = refusal(rule, state=State(case.state), role=actor.role, suspended=case.suspended, given=command.given())
    if why:
        if actor.role not in rule.roles:
            raise PermissionDenied(why, permission=f"case.{command.action.value}")
        raise InvalidTransition(why)
    if rule.department_only and command.action is not Action.COMPLETE_ASSIST and actor.kind != "system" \
            and actor.department_id != case.department_id:
        raise PermissionDenied("only the department holding the case / 仅限承办部门", permission="case.department")


def _record(step: Step) -> None:
    case, command, from_state = step.case, step.command, step.from_state
    case.updated_at = step.now
    case.version += 1
    write(step.uow, changes.transitioned(view(case), command.action.value, from_state, step.actor, command.reason,
                                         step.data, step.now))
    step.from_state = case.state


def view(case: Case) -> dict[str, Any]:
    """What the records of a step say about the case (changes.py works on plain data)."""
    return {"id": case.id, "number": case.number, "state": case.state, "region_code": case.region_code,
            "department_id": case.department_id, "version": case.version, "channel": case.channel}


def write(uow: UnitOfWork, entry: changes.Entry) -> None:
    """One step's records, through the ORM, in the caller's transaction."""
    uow.session.add(CaseTransition(**entry.transition))
    audit.append(uow.session, **entry.audit)
    if entry.message is not None:
        subject, payload, key = entry.message
        uow.publish(subject, payload, key=key)


def _set(case: Case, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(case, name, value)


def _enter(step: Step, state: State, stage_due: datetime | None) -> None:
    _set(step.case, changes.entering(state, stage_due))


# --- the actions ------------------------------------------------------------------------------------------


def _register(step: Step) -> None:
    code = step.command.category_code or ""
    step.clock = timing.for_category_or_raise(step.clock, step.session, code)
    _set(step.case, changes.registration(step.clock, step.now, code))
    step.data["category_code"] = code


def _reclassify(step: Step) -> None:
    """A new category: its severity, and the case's overall deadline counted again from registration under the
    new category's limits (the current stage keeps its deadline)."""
    case, code = step.case, step.command.category_code or ""
    if code == case.category_code:
        raise ValidationFailed("the case already has this category / 已是该分类", field="category_code")
    step.clock = timing.for_category_or_raise(step.clock, step.session, code)
    step.data.update(previous_category_code=case.category_code, category_code=code)
    case.category_code, case.severity = code, step.clock.severity
    case.due_at = step.clock.case_due(case.registered_at or step.now)


def _reject(step: Step) -> None:
    _enter(step, State.REJECTED, None)


def _dispatch(step: Step) -> None:
    case, command = step.case, step.command
    lead = _department(step.session, command.department_id, "department_id")
    assists = [_department(step.session, d, f"assist_department_ids[{i}]")
               for i, d in enumerate(command.assist_department_ids)]
    if lead in assists:
        raise ValidationFailed("the lead cannot also assist / 主办部门不能同时协办", field="assist_department_ids")
    round_ = _next_round(step)
    for department, role in [(lead, "lead"), *((d, "assist") for d in assists)]:
        step.session.add(CaseTask(**changes.task(case.id, department, role, round_, step.now)))
    _set(case, changes.dispatching(step.clock, step.now, lead, case.first_dispatched_at))
    step.data.update(department_id=lead, assist_department_ids=assists, round=round_)


def _next_round(step: Step) -> int:
    if step.case.first_dispatched_at is None:
        return 1  # never dispatched, so no tasks yet: no need to ask the database
    current = [t.round for t in service.tasks(session=step.session, case_id=step.case.id)]
    return max(current, default=0) + 1


def _department(session: Session, department_id: int | None, field_name: str) -> int:
    if department_id is None or org.get_department(session=session, department_id=department_id) is None:
        raise ValidationFailed(f"no department {department_id}", field=field_name)
    return department_id


def _return(step: Step) -> None:
    case = step.case
    for task in service.open_tasks(session=step.session, case_id=case.id, round_=_current_round(step)):
        task.state = "returned" if task.department_id == case.department_id else "cancelled"
        task.done_at = step.now
    case.return_count += 1
    step.data["department_id"] = case.department_id
    _enter(step, State.RETURNED, step.clock.dispatch_due(step.now))


def _current_round(step: Step) -> int:
    return max((t.round for t in service.tasks(session=step.session, case_id=step.case.id)), default=0)


def _accept(step: Step) -> None:
    stage_due = step.case.handle_due_at if step.case.state == State.DISPATCHED else step.clock.handle_due(step.now)
    _enter(step, State.IN_PROGRESS, stage_due)


def _handle(step: Step) -> None:
    case, command = step.case, step.command
    waiting = [t.department_id for t in service.open_tasks(session=step.session, case_id=case.id,
                                                            round_=_current_round(step)) if t.role == "assist"]
    if waiting:
        raise InvalidTransition(f"assisting departments {waiting} have not finished / 协办部门尚未完成")
    for task in service.open_tasks(session=step.session, case_id=case.id, round_=_current_round(step)):
        task.state, task.result, task.done_at = "done", command.result, step.now
    for i, photo_id in enumerate(command.photos):
        if not photos.exists(step.photo_root, photo_id):
            raise ValidationFailed(f"unknown photo {photo_id!r}: upload it first / 请先上传照片", field=f"photos[{i}]")
    case.result, case.result_photos, case.handled_at = command.result, list(command.photos), step.now
    case.verify_due_at = step.clock.verify_due(step.now)
    _enter(step, State.HANDLED, case.verify_due_at)


def _verify(step: Step) -> None:
    step.case.verified_at = step.now
    _enter(step, State.VERIFIED, step.clock.close_due(step.now))


def _rework(step: Step) -> None:
    case = step.case
    case.rework_count += 1
    round_ = _next_round(step)
    step.session.add(CaseTask(case_id=case.id, department_id=case.department_id, role="lead", round=round_,
                              state="open", created_at=step.now))
    _enter(step, State.REWORKED, step.clock.handle_due(step.now))


def _close(step: Step) -> None:
    step.case.closed_at = step.now
    _enter(step, State.CLOSED, None)


def _follow_up(step: Step) -> None:
    case, command = step.case, step.command
    if command.satisfaction not in SATISFACTION:
        raise ValidationFailed(f"one of {', '.join(SATISFACTION)}", field="satisfaction")
    case.resolved, case.satisfaction, case.followed_up_at = command.resolved, command.satisfaction, step.now
    step.data.update(resolved=command.resolved, satisfaction=command.satisfaction)
    _enter(step, State.FOLLOWED_UP, None)
    unhappy = not command.resolved or command.satisfaction == "dissatisfied"
    if command.reopen and not unhappy:
        raise ValidationFailed("only a not-resolved or dissatisfied follow-up reopens / 仅未解决或不满意可重办",
                               field="reopen")
    if command.reopen:
        _record(step)  # the follow-up itself stays on the timeline
        step.command = Command(Action.REOPEN, reason=command.reason or "回访不满意/未解决，重新办理")
        step.data = {}
        _reopen(step)


def _reopen(step: Step) -> None:
    case = step.case
    case.reopened_count += 1
    case.closed_at = case.verified_at = case.handled_at = None
    case.due_at = step.clock.case_due(step.now)
    _enter(step, State.REGISTERED, step.clock.dispatch_due(step.now))


def _request_extension(step: Step) -> None:
    case, command = step.case, step.command
    if command.hours is None or not 0 < command.hours <= 24 * 30:
        raise ValidationFailed("between 0 and 720 working hours", field="hours")
    if service.pending_extension(session=step.session, case_id=case.id) is not None:
        raise Conflict("an extension request is already waiting / 已有待审批的延期申请", field="hours")
    request = ExtensionRequest(case_id=case.id, department_id=case.department_id, hours=command.hours,
                               reason=command.reason or "", state="pending", requested_by=step.actor.actor,
                               requested_at=step.now)
    step.session.add(request)
    step.session.flush()
    step.data.update(extension_id=request.id, hours=command.hours)


def _decide_extension(step: Step) -> None:
    case, command = step.case, step.command
    request = service.pending_extension(session=step.session, case_id=case.id)
    if request is None:
        raise InvalidTransition("no extension request is waiting / 没有待审批的延期申请")
    request.state = "approved" if command.approved else "rejected"
    request.decided_by, request.decided_at = step.actor.actor, step.now
    step.data.update(extension_id=request.id, approved=bool(command.approved), hours=request.hours)
    if command.approved:
        case.handle_due_at = step.clock.extend(case.handle_due_at, request.hours)
        case.due_at = step.clock.extend(case.due_at, request.hours)
        if State(case.state) in DEPARTMENT_STATES:
            _enter(step, State(case.state), step.clock.extend(case.stage_due_at, request.hours))


def _suspend(step: Step) -> None:
    step.case.suspended, step.case.suspended_at = True, step.now


def _resume(step: Step) -> None:
    case = step.case
    paused = step.clock.working_hours_between(case.suspended_at or step.now, step.now)
    case.suspended, case.suspended_at = False, None
    # The clock stood still while the case was suspended: every deadline moves on by that working time.
    for name in ("stage_due_at", "handle_due_at", "due_at", "verify_due_at"):
        setattr(case, name, step.clock.extend(getattr(case, name), paused))
    step.data["paused_working_hours"] = round(paused, 2)


def _escalate(step: Step) -> None:
    case, command = step.case, step.command
    level = command.level or (2 if step.actor.role is Role.LEADER else 1)
    if level not in (1, 2):
        raise ValidationFailed("1 (department) or 2 (leader)", field="level")
    step.session.add(Escalation(case_id=case.id, level=level, reason=command.reason or "", raised_by=step.actor.actor,
                                at=step.now))
    case.escalation_level = max(case.escalation_level, level)
    step.data["level"] = level


def _merge(step: Step) -> None:
    # Only cases/merge.py knows where the reports go; it passes the target in the command's data.
    if "merged_into" not in step.command.data:
        raise InvalidTransition("请使用合并接口合并案件 / merge cases with POST /api/v1/cases/{id}/merge")
    step.data.update(step.command.data)
    step.case.report_count = 0
    _enter(step, State.MERGED, None)


def _complete_assist(step: Step) -> None:
    case = step.case
    mine = [t for t in service.open_tasks(session=step.session, case_id=case.id, round_=_current_round(step))
            if t.role == "assist" and t.department_id == step.actor.department_id]
    if not mine:
        raise PermissionDenied("your department has no open assisting task / 本部门无待办协办任务",
                               permission="case.assist")
    mine[0].state, mine[0].result, mine[0].done_at = "done", step.command.result, step.now
    step.data["department_id"] = step.actor.department_id


APPLY: dict[Action, Callable[[Step], None]] = {
    Action.REGISTER: _register, Action.REJECT: _reject, Action.DISPATCH: _dispatch, Action.RETURN: _return,
    Action.ACCEPT: _accept, Action.HANDLE: _handle, Action.VERIFY: _verify, Action.REWORK: _rework,
    Action.CLOSE: _close, Action.FOLLOW_UP: _follow_up, Action.REOPEN: _reopen,
    Action.REQUEST_EXTENSION: _request_extension, Action.DECIDE_EXTENSION: _decide_extension,
    Action.SUSPEND: _suspend, Action.RESUME: _resume, Action.ESCALATE: _escalate,
    Action.COMPLETE_ASSIST: _complete_assist, Action.MERGE: _merge, Action.RECLASSIFY: _reclassify,
}



def open_case(uow: UnitOfWork, platform: Platform, *, new: NewCase, actor: Principal) -> Case:
    """Opens a case in 受理 (received) inside the caller's transaction, with its registration deadline."""
    now = uow.clock.now()
    values = changes.received(new, timing.for_category(platform, uow.session, new.category_code), now)
    case = Case(**values)
    uow.session.add(case)
    if case.id is None:
        uow.session.flush()  # the id is needed below; batch callers reserve ids and skip this round trip
    write(uow, changes.opened(view(case), actor, now))
    return case


def add_note(uow: UnitOfWork, *, case_id: int, actor: str, role: str, text: str, data: dict[str, Any]) -> None:
    """A line on the case's timeline that changes nothing (e.g. "the sensor alarm that opened it has cleared"),
    audited like a person's step. Not a command: nobody needs permission to be told something."""
    case = uow.session.get(Case, case_id)
    if case is None:
        return
    now = uow.clock.now()
    uow.session.add(CaseTransition(case_id=case.id, action="note", from_state=case.state, to_state=case.state,
                                   actor=actor, role=role, reason=text, data=data, at=now))
    audit.append(uow.session, at=now, actor=actor, action="case.noted", entity_type="case", entity_id=case.id,
                 region_code=case.region_code, data={"text": text, **data})
