"""The cases domain's read model for KPIs: one `CaseFacts` per case, streamed. The only KPI code that reads
case tables.

Milestones and deadlines come from the Case columns, so imported history (imported=True, often without any
transitions) is measured exactly like live cases. Counts that only the timeline knows (dispatches, returns,
handlings, failed verifications, the first 签收) are aggregated from case_transitions in the same SQL
statement; a case whose dispatches are not on the timeline falls back to Case.return_count / rework_count.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, func, or_, select
from sqlalchemy.orm import Session

from cityops.cases.models import Case, CaseTransition
from cityops.cases.states import Action, State
from cityops.core.clock import as_utc
from cityops.insight.kpis import CaseFacts

BATCH = 2000  # rows fetched per round trip while streaming

# Every column that can put a case into a period's figures (see docs/kpis.md).
_PERIOD_COLUMNS = (Case.received_at, Case.registered_at, Case.register_due_at, Case.first_dispatched_at,
                   Case.handle_due_at, Case.handled_at, Case.verified_at, Case.verify_due_at, Case.due_at,
                   Case.closed_at, Case.followed_up_at)
_REDOING = frozenset({State.REWORKED.value, State.IN_PROGRESS.value})


def case_facts(*, session: Session, region_prefix: str | None, department_id: int | None, since: datetime,
               until: datetime) -> Iterator[CaseFacts]:
    """Facts of every case in the region (codes starting with `region_prefix`; None: everywhere) and lead
    department (None: any) with a milestone or deadline in [since, until), ordered by case id."""
    relevant = _relevant(region_prefix, department_id, since, until)
    timeline = _timeline(select(Case.id).where(relevant))
    query = _facts_query(relevant, timeline).execution_options(yield_per=BATCH)
    for row in session.execute(query):
        yield _facts(row)


def _relevant(region_prefix: str | None, department_id: int | None, since: datetime,
              until: datetime) -> ColumnElement[bool]:
    conditions = [or_(*(and_(column >= since, column < until) for column in _PERIOD_COLUMNS)),
                  # A merged case was a duplicate: its reports count in the case it joined, so it is neither
                  # open nor closed work of its own.
                  Case.state != State.MERGED.value]
    if region_prefix:
        conditions.append(Case.region_code.startswith(region_prefix, autoescape=True))
    if department_id is not None:
        conditions.append(Case.department_id == department_id)
    return and_(*conditions)


def _count(action: Action) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((CaseTransition.action == action.value, 1), else_=0)), 0)


def _timeline(case_ids: Select[Any]) -> Subquery:
    """One row per relevant case: its counts per action and its first 签收, by conditional aggregation, so the
    outer query joins one row per case and can stream (a GROUP BY case_id, action would need a second pass)."""
    t = CaseTransition
    first_accept = func.min(case((t.action == Action.ACCEPT.value, t.at)))
    return (select(t.case_id.label("case_id"), _count(Action.DISPATCH).label("dispatches"),
                   _count(Action.RETURN).label("returns"), _count(Action.HANDLE).label("handles"),
                   _count(Action.REWORK).label("reworks"), first_accept.label("accepted_at"))
            .where(t.case_id.in_(case_ids),
                   t.action.in_([a.value for a in (Action.DISPATCH, Action.RETURN, Action.HANDLE, Action.REWORK,
                                                   Action.ACCEPT)]))
            .group_by(t.case_id).subquery("timeline"))


def _facts_query(relevant: ColumnElement[bool], timeline: Subquery) -> Select[*tuple[Any, ...]]:
    columns = (Case.id, Case.region_code, Case.department_id, Case.category_code, Case.channel, Case.state,
               Case.received_at, Case.registered_at, Case.register_due_at, Case.first_dispatched_at,
               Case.return_count, Case.handled_at, Case.handle_due_at, Case.rework_count, Case.verified_at,
               Case.verify_due_at, Case.closed_at, Case.due_at, Case.followed_up_at, Case.resolved,
               Case.satisfaction, Case.imported)
    counts = (timeline.c.dispatches, timeline.c.returns, timeline.c.handles, timeline.c.reworks,
              timeline.c.accepted_at)
    return (select(*columns, *counts).outerjoin(timeline, timeline.c.case_id == Case.id)
            .where(relevant).order_by(Case.id))


def _facts(row: Any) -> CaseFacts:
    dispatches, returns, handles, reworks = _action_counts(row)
    return CaseFacts(
        case_id=row.id, region_code=row.region_code, department_id=row.department_id,
        category_code=row.category_code, channel=row.channel, state=row.state, received_at=row.received_at,
        registered_at=row.registered_at, register_due_at=row.register_due_at,
        rejected=row.state == State.REJECTED.value, first_dispatched_at=row.first_dispatched_at,
        dispatch_count=dispatches, return_count=returns, accepted_at=_utc(row.accepted_at),
        handled_at=row.handled_at, handle_due_at=row.handle_due_at, handle_count=handles, rework_count=reworks,
        verified_at=row.verified_at, verify_due_at=row.verify_due_at, closed_at=row.closed_at, due_at=row.due_at,
        followed_up_at=row.followed_up_at, resolved=row.resolved, satisfaction=row.satisfaction,
        imported=bool(row.imported), has_timeline=bool(row.dispatches) or row.first_dispatched_at is None)


def _action_counts(row: Any) -> tuple[int, int, int, int]:
    """(dispatches, returns, handlings, failed verifications): from the timeline when it records the case's
    dispatches, else estimated from the Case columns (imported history without transitions)."""
    if row.dispatches:
        return int(row.dispatches), int(row.returns), int(row.handles), int(row.reworks)
    if row.first_dispatched_at is None:
        return 0, 0, 0, 0
    # Every return was followed by a re-dispatch, unless the case is waiting for one right now.
    dispatches = row.return_count + (0 if row.state == State.RETURNED.value else 1)
    # Each failed verification judged one handling; the latest one counts too unless it is being redone.
    redoing = row.state in _REDOING and row.rework_count > 0
    handles = row.rework_count + (1 if row.handled_at is not None and not redoing else 0)
    return dispatches, row.return_count, handles, row.rework_count


def _utc(value: datetime | str | None) -> datetime | None:
    """MIN() over a CASE loses the column type on some drivers; make sure an aware UTC datetime comes back."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)
