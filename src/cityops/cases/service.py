"""Queries and single writes for cases. Never commits; flows.py owns the transactions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from cityops.cases.models import Case, CaseTask, CaseTransition, Escalation, ExtensionRequest
from cityops.cases.states import OPEN_STATES, State
from cityops.core.clock import CHINA_TZ
from cityops.core.db import reserve_ids
from cityops.core.errors import NotFound
from cityops.org.access import Principal, ensure_in_scope, scoped
from cityops.org.roles import Role

OPEN = [s.value for s in OPEN_STATES]


def get(*, session: Session, case_id: int) -> Case | None:
    return session.get(Case, case_id)


def get_visible(*, session: Session, principal: Principal, case_id: int) -> Case:
    """The case if the caller may see it; 404 otherwise (outside their region, or not their department's)."""
    case = session.get(Case, case_id)
    if case is None or not _may_see(session, principal, case):
        raise NotFound()
    return case


def get_by_number(*, session: Session, number: str) -> Case | None:
    return session.scalars(select(Case).where(Case.number == number)).one_or_none()


def lock(*, session: Session, case_id: int) -> Case:
    """The case, locked for this transaction so two people cannot move it at once."""
    case = session.scalars(select(Case).where(Case.id == case_id).with_for_update()).one_or_none()
    if case is None:
        raise NotFound()
    return case


def _may_see(session: Session, principal: Principal, case: Case) -> bool:
    if principal.role is Role.HANDLER:
        return principal.department_id is not None and principal.department_id in _departments_of(session, case)
    ensure_in_scope(principal, case.region_code)
    return True


def _departments_of(session: Session, case: Case) -> set[int]:
    ids = set(session.scalars(select(CaseTask.department_id).where(CaseTask.case_id == case.id)))
    if case.department_id is not None:
        ids.add(case.department_id)
    return ids


def visible_cases(principal: Principal) -> Select[Any]:
    """Every case query starts here: region scope for most roles, own department's cases for handlers."""
    query = select(Case)
    if principal.role is Role.HANDLER:
        task_cases = select(CaseTask.case_id).where(CaseTask.department_id == principal.department_id)
        return query.where(or_(Case.department_id == principal.department_id, Case.id.in_(task_cases)))
    return scoped(query, principal, Case.region_code)


@dataclass(frozen=True)
class CaseFilter:
    state: str | None = None
    states: tuple[str, ...] = ()
    category_code: str | None = None
    department_id: int | None = None
    region_code: str | None = None
    channel: str | None = None
    text: str | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    uncategorised: bool | None = None
    escalated: bool | None = None


def search(*, session: Session, principal: Principal, where: CaseFilter, now: datetime, limit: int, offset: int,
           order: str = "-received_at") -> tuple[Sequence[Case], int]:
    query = _filtered(visible_cases(principal), where, now)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    column = getattr(Case, order.lstrip("-"))
    query = query.order_by(column.desc() if order.startswith("-") else column.asc(), Case.id.desc())
    rows: Sequence[Case] = session.scalars(query.limit(limit).offset(offset)).all()
    return rows, total


def _filtered(query: Select[Any], where: CaseFilter, now: datetime) -> Select[Any]:
    conditions = [
        (where.state, lambda: Case.state == where.state),
        (where.states, lambda: Case.state.in_(where.states)),
        (where.category_code, lambda: Case.category_code == where.category_code),
        (where.department_id, lambda: Case.department_id == where.department_id),
        (where.region_code, lambda: Case.region_code.startswith(where.region_code or "", autoescape=True)),
        (where.channel, lambda: Case.channel == where.channel),
        (where.text, lambda: or_(Case.title.contains(where.text or "", autoescape=True),
                                 Case.description.contains(where.text or "", autoescape=True),
                                 Case.number == where.text)),
        (where.due_before, lambda: Case.stage_due_at < where.due_before),
        (where.received_from, lambda: Case.received_at >= where.received_from),
        (where.received_to, lambda: Case.received_at < where.received_to),
        (where.uncategorised, lambda: Case.category_code.is_(None)),
        (where.escalated, lambda: Case.escalation_level > 0),
    ]
    for value, condition in conditions:
        if value:
            query = query.where(condition())
    if where.overdue is not None:
        late = Case.stage_due_at < now
        query = query.where(Case.state.in_(OPEN), late if where.overdue else or_(~late, Case.stage_due_at.is_(None)))
    if where.due_before is not None:
        query = query.where(Case.state.in_(OPEN), Case.suspended.is_(False))
    return query


def timeline(*, session: Session, case_id: int) -> Sequence[CaseTransition]:
    return session.scalars(select(CaseTransition).where(CaseTransition.case_id == case_id)
                           .order_by(CaseTransition.at, CaseTransition.id)).all()


def tasks(*, session: Session, case_id: int) -> Sequence[CaseTask]:
    return session.scalars(select(CaseTask).where(CaseTask.case_id == case_id).order_by(CaseTask.id)).all()


def open_tasks(*, session: Session, case_id: int, round_: int) -> Sequence[CaseTask]:
    return session.scalars(select(CaseTask).where(CaseTask.case_id == case_id, CaseTask.round == round_,
                                                  CaseTask.state == "open")).all()


def extensions(*, session: Session, case_id: int) -> Sequence[ExtensionRequest]:
    return session.scalars(select(ExtensionRequest).where(ExtensionRequest.case_id == case_id)
                           .order_by(ExtensionRequest.id)).all()


def pending_extension(*, session: Session, case_id: int) -> ExtensionRequest | None:
    return session.scalars(select(ExtensionRequest).where(ExtensionRequest.case_id == case_id,
                                                          ExtensionRequest.state == "pending")).first()


def escalations(*, session: Session, case_id: int) -> Sequence[Escalation]:
    return session.scalars(select(Escalation).where(Escalation.case_id == case_id).order_by(Escalation.id)).all()


def case_number(case_id: int, at: datetime) -> str:
    """Readable and unique: the local date and the case id (AJ20261122000042)."""
    return f"AJ{at.astimezone(CHINA_TZ):%Y%m%d}{case_id:06d}"


def counts_by_state(*, session: Session, principal: Principal) -> dict[str, int]:
    query = visible_cases(principal).subquery()
    rows = session.execute(select(query.c.state, func.count()).group_by(query.c.state)).all()
    return {state: count for state, count in rows}


def state_of(case: Case) -> State:
    return State(case.state)


def get_many(*, session: Session, ids: set[int]) -> dict[int, Case]:
    """Several cases by id in one query (a page of up to a few thousand)."""
    return {case.id: case for case in session.scalars(select(Case).where(Case.id.in_(ids)))} if ids else {}


def ids_in_states(states: Sequence[str]) -> Select[Any]:
    """A subquery of the ids of cases in these states, for other domains to filter their own rows by."""
    return select(Case.id).where(Case.state.in_(list(states)))


def reserve_case_ids(*, session: Session, count: int) -> list[int]:
    return reserve_ids(session, Case.__table__, count)
