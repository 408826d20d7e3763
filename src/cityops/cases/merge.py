"""Reports and cases put together and taken apart.

Triage attaches a report to the open case it describes (fusion); a dispatcher merges two cases that turn out
to be one problem, or splits a wrongly fused report out into a case of its own, which then waits in the
triage queue. Each change records who, when and why on the timeline, appends the audit record and queues a
bus message, inside the caller's transaction (`merge` and `split` open their own, for the API).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cityops.cases import changes, flows, service
from cityops.cases.models import Case
from cityops.cases.states import OPEN_STATES, RULES, Action, State, refusal
from cityops.catalog import service as catalog
from cityops.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from cityops.core.uow import UnitOfWork
from cityops.intake import service as intake
from cityops.intake.models import Report
from cityops.org.access import Principal, ensure_in_scope
from cityops.platform import Platform

# Taking a wrongly fused report out is the inverse of merging, so the same people may do it.
SPLITTERS = RULES[Action.MERGE].roles


def attach_report(uow: UnitOfWork, platform: Platform, *, case_id: int, report_public_id: str,
                  evidence: dict[str, Any], actor: Principal) -> Case:
    """The report joins the open case (fusion's decision, with its evidence); the case's state stays.
    Attaching a report to the case it is already in changes nothing, so a repeated attempt is harmless."""
    case = service.lock(session=uow.session, case_id=case_id)
    ensure_in_scope(actor, case.region_code)
    report = intake.lock_by_public_id(session=uow.session, public_id=report_public_id)
    if report is None:
        raise NotFound(f"没有该上报 / no report {report_public_id}", field="report")
    return attach(uow, case=case, report=report, evidence=evidence, actor=actor)


def attach(uow: UnitOfWork, *, case: Case, report: Report, evidence: dict[str, Any], actor: Principal) -> Case:
    """attach_report for a case and a report the caller has already locked and loaded. (The triage worker
    attaches a whole batch's reports as rows, opening.Batch.attach, with the same checks and records.)"""
    ensure_in_scope(actor, case.region_code)
    if report.case_id == case.id:
        return case
    if report.case_id is not None:
        raise Conflict(f"该上报已属于其他案件，请先拆分 / report {report.public_id} belongs to case "
                       f"{report.case_id}; split it out first", field="report")
    if State(case.state) not in OPEN_STATES:
        raise InvalidTransition(f"只能并入未办结的案件 / case {case.number} is {case.state}: a report joins only an "
                                f"open case")
    report.case_id, report.status = case.id, "fused"
    case.report_count += 1
    case.last_report_at = _latest(case.last_report_at, report.received_at)
    _note(uow, case, actor, "attach_report", None, {"report": report.public_id, "evidence": evidence},
          subject="cityops.cases.report_attached")
    return case


def merge_cases(uow: UnitOfWork, platform: Platform, *, target_id: int, source_id: int, actor: Principal,
                reason: str) -> Case:
    """The source case is a duplicate of the target: its reports move to the target and it ends merged."""
    if target_id == source_id:
        raise ValidationFailed("不能与自身合并 / a case cannot be merged into itself", field="source")
    session = uow.session
    locked = {i: service.lock(session=session, case_id=i) for i in sorted((target_id, source_id))}  # fixed order
    target, source = locked[target_id], locked[source_id]
    for case in (target, source):
        ensure_in_scope(actor, case.region_code)  # 404 outside the caller's region
    _may_merge(actor, source, reason)
    if State(target.state) not in OPEN_STATES:
        raise InvalidTransition(f"只能合并到未办结的案件 / case {target.number} is {target.state}: merge into an "
                                f"open case")
    moved = intake.move_reports(session=session, from_case_id=source.id, to_case_id=target.id)
    target.report_count += len(moved)
    target.last_report_at = _latest(target.last_report_at, source.last_report_at)
    flows.apply(uow, platform, source, actor, flows.Command(
        Action.MERGE, reason=reason,
        data={"merged_into": target.id, "merged_into_number": target.number, "reports": moved}))
    _note(uow, target, actor, "merge_in", reason,
          {"merged_from": source.id, "merged_from_number": source.number, "reports": moved},
          subject="cityops.cases.merged")
    return target


def _may_merge(actor: Principal, source: Case, reason: str) -> None:
    rule = RULES[Action.MERGE]
    given = {"reason"} if reason and reason.strip() else set()
    why = refusal(rule, state=State(source.state), role=actor.role, suspended=source.suspended, given=given)
    if why and actor.role not in rule.roles:
        raise PermissionDenied(why, permission="case.merge")
    if why:
        raise InvalidTransition(f"case {source.number}: {why}")


def split_report(uow: UnitOfWork, platform: Platform, *, report_public_id: str, actor: Principal,
                 reason: str) -> Case:
    """The report was fused by mistake: it leaves its case and becomes a case of its own, received and waiting
    for a dispatcher. Returns the new case."""
    if not reason or not reason.strip():
        raise ValidationFailed("请填写拆分原因 / say why the report is split out", field="reason")
    session = uow.session
    report = _report(uow, report_public_id)
    if report.case_id is None:
        raise InvalidTransition(f"该上报尚未受理 / report {report_public_id} has no case yet")
    case = service.lock(session=session, case_id=report.case_id)
    ensure_in_scope(actor, case.region_code)
    if actor.role not in SPLITTERS:
        raise PermissionDenied(f"无权拆分上报 / role {actor.role.value} may not split reports",
                               permission="case.split_report")
    others = [r for r in intake.reports_of_case(session=session, case_id=case.id) if r.id != report.id]
    if not others:
        raise InvalidTransition(f"该案件只有这一条上报，无需拆分 / report {report_public_id} is the only report of "
                                f"case {case.number}: nothing to split it from")
    new = _open_for(uow, platform, report, case, actor)
    intake.set_case(session=session, public_id=report_public_id, case_id=new.id, status="waiting")
    case.report_count = max(case.report_count - 1, 0)
    case.last_report_at = max(r.received_at for r in others)
    _note(uow, case, actor, "split_report", reason,
          {"report": report_public_id, "new_case_id": new.id, "new_case_number": new.number},
          subject="cityops.cases.report_split")
    _note(uow, new, actor, "split_from", reason,
          {"report": report_public_id, "from_case_id": case.id, "from_case_number": case.number}, subject=None)
    return new


def _open_for(uow: UnitOfWork, platform: Platform, report: Report, old: Case, actor: Principal) -> Case:
    session = uow.session
    (case_id,) = service.reserve_case_ids(session=session, count=1)
    known = report.category_code and catalog.get_category(session=session, code=report.category_code)
    first_line = report.text.strip().splitlines()[0] if report.text.strip() else report.text
    return flows.open_case(uow, platform, actor=actor, new=flows.NewCase(
        title=first_line[:60] + ("…" if len(first_line) > 60 else ""), description=report.text,
        region_code=report.region_code or old.region_code, channel=report.channel, received_at=report.received_at,
        number=service.case_number(case_id, uow.clock.now()), lng=report.lng, lat=report.lat,
        address=report.address, category_code=report.category_code if known else None, case_id=case_id))


def merge(platform: Platform, *, target_id: int, source_id: int, actor: Principal, reason: str) -> Case:
    with platform.uow() as uow:
        case = merge_cases(uow, platform, target_id=target_id, source_id=source_id, actor=actor, reason=reason)
        uow.commit()
        return case


def split(platform: Platform, *, report_public_id: str, actor: Principal, reason: str) -> Case:
    with platform.uow() as uow:
        case = split_report(uow, platform, report_public_id=report_public_id, actor=actor, reason=reason)
        uow.commit()
        return case


def _report(uow: UnitOfWork, public_id: str) -> Report:
    report = intake.get_by_public_id(session=uow.session, public_id=public_id)
    if report is None:
        raise NotFound(f"没有该上报 / no report {public_id}", field="report")
    return report


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a is not None and b is not None else a or b


def _note(uow: UnitOfWork, case: Case, actor: Principal, action: str, reason: str | None, data: dict[str, Any], *,
          subject: str | None) -> None:
    """A change that leaves the state as it is: on the timeline, in the audit log and, with a subject, on the bus.
    The case's version is bumped, so a dispatcher holding an older copy is told it changed."""
    now = uow.clock.now()
    case.updated_at = now
    case.version += 1
    flows.write(uow, changes.noted(flows.view(case), action, actor, reason, data, subject, now))
