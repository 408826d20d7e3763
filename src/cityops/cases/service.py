"""Queries and single writes for cases. Never commits; flows.py owns the transactions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Float,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    column,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session

from cityops.cases.cells import box_near, cells_near, haversine_m
from cityops.cases.models import Case, CaseTask, CaseTransition, Escalation, ExtensionRequest
from cityops.cases.states import OPEN_STATES, State
from cityops.core.clock import CHINA_TZ, as_utc
from cityops.core.db import reserve_ids
from cityops.core.errors import NotFound
from cityops.org.access import Principal, ensure_in_scope, scoped
from cityops.org.roles import Role
from cityops.regions.codes import level_for_division_code, scope_prefix_for

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


def lock_rows(*, session: Session, ids: Sequence[int], columns: Sequence[str]) -> dict[int, dict[str, Any]]:
    """Several cases locked in one query, in id order (two workers locking overlapping sets cannot deadlock), as
    plain rows of these columns (the triage worker changes them and writes them back in bulk); NotFound when one
    of them does not exist."""
    if not ids:
        return {}
    table = Case.__table__.c
    query = (select(*(table[name] for name in columns)).where(Case.id.in_(sorted(set(ids)))).order_by(Case.id)
             .with_for_update())
    found = {row["id"]: dict(row) for row in session.execute(query).mappings()}
    if len(found) != len(set(ids)):
        raise NotFound()
    return found


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


# --- fusion (triage/fusion_service.py asks: is a new report about a case that is still open?) ------------------


class NearbyCase(NamedTuple):
    """An open case a new report might belong to, as plain data (a tuple: fusion may weigh fifty per report)."""

    case_id: int
    text: str
    last_report_at: datetime
    lng: float | None
    lat: float | None
    category_code: str | None
    region_code: str
    received_at: datetime
    distance_m: float | None  # None when found by region


class CaseRow(NamedTuple):
    """The columns the candidate query reads, in its order; also how a batch describes a case it opened or
    attached a report to and has not written yet (see `overlay`)."""

    id: int
    description: str
    last_report_at: datetime
    lng: float | None
    lat: float | None
    category_code: str | None
    region_code: str
    received_at: datetime
    fusion_cell: int | None


@dataclass(frozen=True)
class CandidateQuery:
    """Which open cases one report might belong to: with coordinates, those within `radius_m`; without, those
    in the region or in a region holding it; of these categories (None: any); latest report at or after
    `since`. `fetch` asks the database, `admits` is the same condition for a row in memory."""

    lng: float | None
    lat: float | None
    radius_m: float
    since: datetime
    region_code: str | None
    category_codes: tuple[str, ...] | None
    limit: int

    @property
    def located(self) -> bool:
        return self.lng is not None and self.lat is not None

    @cached_property
    def cells(self) -> list[int] | None:
        return cells_near(self.lng, self.lat, self.radius_m) if self.lng is not None and self.lat is not None \
            else None

    @cached_property
    def box(self) -> tuple[float, float, float, float]:
        """Around the point, every case within the radius: read from the cells only those in it, so a busy
        cell's far cases are neither sent nor measured."""
        assert self.lng is not None and self.lat is not None
        return box_near(self.lng, self.lat, self.radius_m)

    @cached_property
    def shape(self) -> tuple[str, bool, int]:
        """(where, by category, rows read): queries of one shape share one statement."""
        by_category = self.category_codes is not None
        if self.located:
            return ("cells" if self.cells else "located"), by_category, self.limit * 4
        return ("region" if self.region_code else "none"), by_category, self.limit

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"since": self.since}
        if self.category_codes is not None:
            params["categories"] = list(self.category_codes)
        where = self.shape[0]
        if where == "cells":
            params["cells"] = self.cells
            params["west"], params["south"], params["east"], params["north"] = self.box
        elif where == "region":
            params.update(_region_params(self.region_code or ""))
        return params

    def admits(self, row: CaseRow) -> bool:
        """The query's condition, for an open case this transaction changed and has not written yet."""
        if row.last_report_at < self.since:
            return False
        if self.category_codes is not None and row.category_code not in self.category_codes:
            return False
        where = self.shape[0]
        if where == "cells":
            west, south, east, north = self.box
            return (row.fusion_cell in (self.cells or ()) and row.lng is not None and row.lat is not None
                    and west <= row.lng <= east and south <= row.lat <= north)
        if where == "located":
            return row.fusion_cell is not None
        if where == "region":
            prefix, holders = _region_scope(self.region_code or "")
            return row.region_code.startswith(prefix) or row.region_code in holders
        return False


def fusion_candidates(*, session: Session, lng: float | None, lat: float | None, radius_m: float, since: datetime,
                      region_code: str | None, category_codes: Sequence[str] | None,
                      limit: int) -> list[NearbyCase]:
    """Open cases (of these categories, None: any) whose latest report came in at or after `since`: with
    coordinates, those within `radius_m`, nearest first; without, those in the region or in a region holding
    it, latest first. At most `limit`.

    With coordinates the index on (fusion_cell, category_code, lat, lng, last_report_at) narrows a million open
    cases to the few in the cells around the point and inside the box around its radius; the exact distance is
    then computed here. In a hotspot the newest `limit` × 4 in the box are measured, so the work per report
    stays bounded."""
    query = CandidateQuery(lng=lng, lat=lat, radius_m=radius_m, since=since, region_code=region_code,
                           category_codes=tuple(category_codes) if category_codes is not None else None,
                           limit=limit)
    return nearest(query, fetch(session=session, queries=[query])[0])


def fetch(*, session: Session, queries: Sequence[CandidateQuery]) -> list[list[CaseRow]]:
    """Each query's rows as the database holds them: the newest first, as many as `shape` says.

    On PostgreSQL one statement per shape answers every query of that shape (a lateral join over the queries,
    each using the index as it would alone): the triage worker asks for a whole batch of reports at once."""
    found: list[list[CaseRow]] = [[] for _ in queries]
    groups: dict[tuple[str, bool, int], list[int]] = {}
    for i, query in enumerate(queries):
        if query.shape[0] != "none":
            groups.setdefault(query.shape, []).append(i)
    batched = session.get_bind().dialect.name == "postgresql"
    for shape, members in groups.items():
        if batched and len(members) > 1:
            for record in session.execute(_lateral_query(*shape), {"q": _lateral_params(queries, members)}):
                found[record[0]].append(CaseRow._make(record[1:]))
            continue
        for i in members:
            rows = session.execute(_fusion_query(*shape), queries[i].params())
            found[i] = [CaseRow._make(row) for row in rows]
    return found


def overlay(query: CandidateQuery, stored: Sequence[CaseRow], changed: Mapping[int, CaseRow],
            nearby: Iterable[CaseRow] | None = None) -> list[CaseRow]:
    """What the query would read had the caller written its changes (`changed`: the cases its transaction opened
    or attached a report to, as they are now): the same condition, order and number of rows. `nearby`, when
    given, holds every changed case the query could admit (those in its cells), so a batch of hundreds does
    not test each of its cases for each of its reports."""
    if not changed:
        return list(stored)
    rows = {row.id: row for row in stored if row.id not in changed}
    rows.update((row.id, row) for row in (changed.values() if nearby is None else nearby) if query.admits(row))
    ordered = sorted(rows.values(), key=lambda row: (row.last_report_at, row.id), reverse=True)
    return ordered[:query.shape[2]]


def nearest(query: CandidateQuery, rows: Sequence[CaseRow]) -> list[NearbyCase]:
    """The query's answer from its rows: with coordinates those within the radius, nearest first (the newest
    on a tie); without, the rows as they are. At most `limit`."""
    if query.lng is None or query.lat is None:
        return [NearbyCase._make((*row[:-1], None)) for row in rows]
    lng, lat = query.lng, query.lat
    found = sorted(((d, row) for row in rows if row.lng is not None and row.lat is not None
                    and (d := haversine_m(lng, lat, row.lng, row.lat)) <= query.radius_m),
                   key=lambda pair: (pair[0], -pair[1].id))
    return [NearbyCase._make((*row[:-1], distance)) for distance, row in found[:query.limit]]


def _candidate_columns() -> tuple[Any, ...]:
    # The columns in CaseRow's order, so a row becomes one without naming each field.
    return (Case.id, Case.description, Case.last_report_at, Case.lng, Case.lat, Case.category_code,
            Case.region_code, Case.received_at, Case.fusion_cell)


def _candidates(where: str, by_category: bool, limit: int, value: Callable[[str], Any],
                member: Callable[[Any, str], ColumnElement[bool]]) -> Select[*tuple[Any, ...]]:
    """The candidate query's one definition, for one report or, lateral, for each of many: `value(name)` is a
    parameter, `member(column, name)` says the column's value is in a list parameter."""
    query = select(*_candidate_columns()).where(Case.last_report_at >= value("since"), Case.state.in_(OPEN))
    if by_category:
        query = query.where(member(Case.category_code, "categories"))
    if where == "cells":
        query = query.where(member(Case.fusion_cell, "cells"), Case.lng.between(value("west"), value("east")),
                            Case.lat.between(value("south"), value("north")))
    elif where == "located":  # a radius too wide for a cell list: every located case, newest first
        query = query.where(Case.fusion_cell.is_not(None))
    else:
        query = query.where(or_(Case.region_code.like(value("inside"), escape="\\"),
                                member(Case.region_code, "holders")))
    return query.order_by(Case.last_report_at.desc(), Case.id.desc()).limit(limit)


@cache
def _fusion_query(where: str, by_category: bool, limit: int) -> Select[*tuple[Any, ...]]:
    """Built once per shape with bound parameters: building the expression anew for every report costs more
    than the indexed query itself."""
    return _candidates(where, by_category, limit, bindparam,
                       lambda col, name: col.in_(bindparam(name, expanding=True)))


@cache
def _lateral_query(where: str, by_category: bool, limit: int) -> Select[*tuple[Any, ...]]:
    """`_fusion_query` for many reports at once (PostgreSQL): the queries arrive as one JSON array of records,
    and each record's cases are read by the same indexed lookup, newest first, `limit` of them."""
    q = (func.jsonb_to_recordset(bindparam("q", type_=JSONB))
         .table_valued(column("i", Integer), column("since", DateTime(timezone=True)),
                       column("categories", ARRAY(String)), column("cells", ARRAY(Integer)),
                       column("inside", String), column("holders", ARRAY(String)), column("west", Float),
                       column("south", Float), column("east", Float), column("north", Float))
         .render_derived(name="q", with_types=True))
    found = _candidates(where, by_category, limit, lambda name: q.c[name],
                        lambda col, name: col == any_(q.c[name])).lateral("found")
    return select(q.c.i, *found.c).select_from(q.join(found, true())).order_by(q.c.i)


def _lateral_params(queries: Sequence[CandidateQuery], members: Sequence[int]) -> list[dict[str, Any]]:
    records = []
    for i in members:
        params = queries[i].params()
        records.append({"i": i, "since": as_utc(params["since"]).isoformat(), "categories": params.get("categories"),
                        "cells": params.get("cells"), "inside": params.get("inside"),
                        "holders": params.get("holders"), **{side: params.get(side)
                                                             for side in ("west", "south", "east", "north")}})
    return records


def _region_scope(region_code: str) -> tuple[str, list[str]]:
    """Cases in the region (its code is a prefix of theirs), or known only to a region holding it: a report
    the hotline placed in a street matches a case known only to its district, and the other way round."""
    level = level_for_division_code(region_code)
    prefix = scope_prefix_for(region_code, level) if level is not None else region_code
    holders = {region_code[:n] for n in (6, 9, 12) if n < len(region_code)} | {region_code[:4] + "00"}
    holders.discard(region_code)
    return prefix, sorted(holders)


def _region_params(region_code: str) -> dict[str, Any]:
    prefix, holders = _region_scope(region_code)
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"inside": escaped + "%", "holders": holders}


# --- insight: the case's category for each report the analyses read (insight/hotspot_service.py) -----------------


def categories_of(*, session: Session, case_ids: Select[Any]) -> dict[int, str | None]:
    """The category of every case whose id the subquery selects (another domain's rows name their cases so)."""
    query = select(Case.id, Case.category_code).where(Case.id.in_(case_ids))
    return {case_id: category for case_id, category in session.execute(query)}
