"""The deadline job: one sweep over open cases, warning before a stage deadline and escalating (督办) after it.

Run every `deadline_sweep_interval_s` by the worker. Each case is changed in its own transaction (one slow or
failing case holds up nobody else), and a case is re-read under a row lock and re-checked before it is
changed, so two sweeps running at once, or the same sweep run twice at the same `now`, act only once.
Notifications go out after the commit: a rolled-back change is never announced.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import structlog
from sqlalchemy import ColumnElement, and_, or_, select

from cityops.audit import service as audit
from cityops.cases.models import Case, CaseTransition, Escalation
from cityops.cases.states import OPEN_STATES
from cityops.core.clock import CHINA_TZ, as_utc
from cityops.core.settings import Settings
from cityops.core.uow import UnitOfWork
from cityops.notify.base import Notification
from cityops.platform import Platform

JOB_ACTOR: Final = "system:0:deadline-job"
JOB_ROLE: Final = "system"
ESCALATED_SUBJECT: Final = "cityops.cases.escalated"
DEPARTMENT_LEVEL, LEADER_LEVEL = 1, 2
BATCH_SIZE: Final = 200
OPEN_STATE_VALUES: Final = sorted(state.value for state in OPEN_STATES)

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Policy:
    """The moments that decide what is due, all from one `now` so a sweep is consistent with itself."""

    now: datetime
    warn_horizon: datetime  # stage deadlines up to here are "near"
    leader_cutoff: datetime  # stage deadlines before this have been overdue long enough for the leader

    @classmethod
    def at(cls, now: datetime, settings: Settings) -> Policy:
        return cls(now=now, warn_horizon=now + timedelta(hours=settings.deadline_warn_before_hours),
                   leader_cutoff=now - timedelta(hours=settings.escalate_to_leader_after_hours))


@dataclass(frozen=True)
class Steps:
    warn: bool = False
    overdue: bool = False
    to_leader: bool = False

    def __bool__(self) -> bool:
        return self.warn or self.overdue or self.to_leader


@dataclass
class SweepResult:
    scanned: int = 0
    warned: list[int] = field(default_factory=list)
    overdue: list[int] = field(default_factory=list)
    escalated: list[tuple[int, int]] = field(default_factory=list)  # (case id, level)
    failed: list[int] = field(default_factory=list)  # cases whose transaction failed; tried again next sweep
    notifications: int = 0


def sweep_deadlines(platform: Platform, *, now: datetime | None = None,
                    batch_size: int = BATCH_SIZE) -> SweepResult:
    """One pass of the deadline job at `now` (the platform clock by default)."""
    policy = Policy.at(as_utc(now or platform.clock.now()), platform.settings)
    result = SweepResult()
    for case_id in _candidate_ids(platform, policy, batch_size):
        result.scanned += 1
        try:
            notices = _sweep_case(platform, case_id, policy, result)
        except Exception:  # one broken case must not stop the sweep for every other case
            log.exception("deadline_sweep.case_failed", case_id=case_id)
            result.failed.append(case_id)
            continue
        result.notifications += _send(platform, notices)
    return result


# --- choosing cases -------------------------------------------------------------------------------


def due_for_action(policy: Policy) -> ColumnElement[bool]:
    """SQL for "this case has something for the job to do now"; `steps` is the same test in Python."""
    return and_(
        Case.state.in_(OPEN_STATE_VALUES), Case.suspended.is_(False), Case.stage_due_at.is_not(None),
        or_(
            and_(Case.warned_at.is_(None), Case.stage_due_at >= policy.now,
                 Case.stage_due_at <= policy.warn_horizon),
            and_(Case.overdue_at.is_(None), Case.stage_due_at < policy.now),
            and_(Case.escalation_level < LEADER_LEVEL, Case.stage_due_at < policy.leader_cutoff),
        ),
    )


def _candidate_ids(platform: Platform, policy: Policy, batch_size: int) -> Iterator[int]:
    """Ids first, a batch at a time (keyset on id), so no session stays open while cases are processed."""
    after = 0
    while True:
        with platform.db.session() as session:
            query = select(Case.id).where(due_for_action(policy), Case.id > after)
            ids = list(session.scalars(query.order_by(Case.id).limit(batch_size)))
        yield from ids
        if len(ids) < batch_size:
            return
        after = ids[-1]


def steps(case: Case, policy: Policy) -> Steps:
    """What the job must do to this case now. Nothing for closed, suspended or deadline-less cases."""
    if case.state not in OPEN_STATE_VALUES or case.suspended or case.stage_due_at is None:
        return Steps()
    due = as_utc(case.stage_due_at)
    return Steps(
        warn=case.warned_at is None and policy.now <= due <= policy.warn_horizon,
        overdue=case.overdue_at is None and due < policy.now,
        to_leader=case.escalation_level < LEADER_LEVEL and due < policy.leader_cutoff,
    )


# --- changing one case ----------------------------------------------------------------------------


def _sweep_case(platform: Platform, case_id: int, policy: Policy, result: SweepResult) -> list[Notification]:
    """One transaction: re-read the case under lock, apply what is due, commit; the notices to send."""
    with platform.uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.id == case_id).with_for_update()).one_or_none()
        todo = steps(case, policy) if case is not None else Steps()
        if case is None or not todo:
            return []  # someone else got there first, or the case moved on since the ids were read
        notices = _apply(uow, case, todo, policy.now)
        uow.commit()
    _tally(result, case_id, todo)
    return notices


def _apply(uow: UnitOfWork, case: Case, todo: Steps, now: datetime) -> list[Notification]:
    notices: list[Notification] = []
    if todo.warn:
        case.warned_at = now
        notices.append(_notice(case, "deadline.warning", f"案件 {case.number} 将于 {_local(case)} 到期"))
    if todo.overdue:
        case.overdue_at = now
        notices.append(_notice(case, "deadline.overdue", f"案件 {case.number} 已超过时限（{_local(case)}）",
                               level=DEPARTMENT_LEVEL))
        notices.append(_escalate(uow, case, DEPARTMENT_LEVEL, now, "超过时限，自动督办承办部门"))
    if todo.to_leader:
        hours = round((now - as_utc(_due(case))) / timedelta(hours=1), 1)
        notices.append(_escalate(uow, case, LEADER_LEVEL, now, f"超期 {hours:g} 小时，升级督办至领导"))
    return notices


def _escalate(uow: UnitOfWork, case: Case, level: int, now: datetime, reason: str) -> Notification:
    """督办: the escalation row, the timeline entry, the audit record and the bus message, like a person's."""
    session, due = uow.session, as_utc(_due(case))
    data: dict[str, Any] = {"level": level, "stage_due_at": due.isoformat(), "automatic": True}
    case.escalation_level = max(case.escalation_level, level)
    case.updated_at = now
    case.version += 1  # an escalation is a change people must see before they act on the case
    session.add(Escalation(case_id=case.id, level=level, reason=reason, raised_by=JOB_ACTOR, at=now))
    session.add(CaseTransition(case_id=case.id, action="escalate", from_state=case.state, to_state=case.state,
                               actor=JOB_ACTOR, role=JOB_ROLE, reason=reason, data=data, at=now))
    audit.append(session, at=now, actor=JOB_ACTOR, action="case.escalated", entity_type="case",
                 entity_id=case.id, region_code=case.region_code, data={**data, "state": case.state})
    payload = {"case_id": case.id, "number": case.number, "region_code": case.region_code,
               "department_id": case.department_id, "state": case.state, "reason": reason,
               "raised_by": JOB_ACTOR, "at": now.isoformat(), **data}
    uow.publish(ESCALATED_SUBJECT, payload, key=f"case.escalated:{case.id}:{level}:{due.isoformat()}")
    title = f"案件 {case.number} {'督办承办部门' if level == DEPARTMENT_LEVEL else '升级督办至领导'}：{reason}"
    return _notice(case, "case.escalated", title, level=level, reason=reason)


def _due(case: Case) -> datetime:
    assert case.stage_due_at is not None  # steps() only picks cases with a stage deadline
    return case.stage_due_at


def _local(case: Case) -> str:
    return as_utc(_due(case)).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def _notice(case: Case, kind: str, title: str, *, level: int | None = None, **extra: Any) -> Notification:
    data = {"state": case.state, "stage_due_at": as_utc(_due(case)).isoformat(), **extra}
    return Notification(kind=kind, title=title, case_id=case.id, case_number=case.number,
                        region_code=case.region_code, department_id=case.department_id, level=level, data=data)


def _tally(result: SweepResult, case_id: int, todo: Steps) -> None:
    if todo.warn:
        result.warned.append(case_id)
    if todo.overdue:
        result.overdue.append(case_id)
        result.escalated.append((case_id, DEPARTMENT_LEVEL))
    if todo.to_leader:
        result.escalated.append((case_id, LEADER_LEVEL))


def _send(platform: Platform, notices: list[Notification]) -> int:
    """After the commit. A notifier that fails loses one notice, never the sweep (the change is recorded)."""
    sent = 0
    for notice in notices:
        try:
            platform.notifier.send(notice)
            sent += 1
        except Exception:
            log.exception("deadline_sweep.notify_failed", case_id=notice.case_id, kind=notice.kind)
    return sent
