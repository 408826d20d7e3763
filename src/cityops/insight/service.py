"""KPIs for a region, department and period, as the caller may see them, with one row per child region.

Scope: the region must lie inside the caller's (404 otherwise, as for any record) and defaults to the caller's
own; handlers only ever see their own department's figures. Cases stream once through one tally for the
region and one for the child region each falls in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from cityops.cases.facts import case_facts
from cityops.core.errors import NotFound, PermissionDenied, ValidationFailed
from cityops.insight.kpis import RESPONSE_LIMIT_HOURS, CaseFacts, KpiReport, KpiTally, Window, window_for
from cityops.org import service as org
from cityops.org.access import Principal, ensure_in_scope, require
from cityops.org.models import Department
from cityops.org.roles import Role
from cityops.regions import service as regions
from cityops.regions.models import Region

MAX_DAYS = 3700  # ten years: long enough for any comparison, short enough to catch a mistyped year


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: str
    report: KpiReport


@dataclass(frozen=True)
class KpiResult:
    region: RegionRow
    department_code: str | None
    department_name: str | None
    date_from: date
    date_to: date  # excluded
    breakdown: tuple[RegionRow, ...]  # the region's children, by code

    @property
    def report(self) -> KpiReport:
        return self.region.report


def kpis_for(*, session: Session, principal: Principal, region_code: str | None, department: str | None,
             date_from: date, date_to: date, response_limit_hours: float = RESPONSE_LIMIT_HOURS) -> KpiResult:
    require(principal, "kpis.read")
    _check_period(date_from, date_to)
    region = scope_region(session, principal, region_code)
    chosen = _department(session, principal, department)
    window = window_for(date_from, date_to, response_limit_hours=response_limit_hours)
    children = regions.children(session=session, code=region.code)
    total, per_child = _tally(session, window, region, children, chosen.id if chosen else None)
    return KpiResult(region=_row(region, total), department_code=chosen.code if chosen else None,
                     department_name=chosen.name if chosen else None, date_from=date_from, date_to=date_to,
                     breakdown=tuple(_row(c, per_child[c.scope_prefix]) for c in children))


def _check_period(date_from: date, date_to: date) -> None:
    if date_to <= date_from:
        raise ValidationFailed("must be after 'from' (the end date is excluded) / 结束日期须晚于开始日期（不含当日）",
                               field="to")
    if (date_to - date_from).days > MAX_DAYS:
        raise ValidationFailed(f"at most {MAX_DAYS} days / 时间跨度过长", field="to")


def scope_region(session: Session, principal: Principal, code: str | None) -> Region:
    """The region asked about: inside the caller's scope, by default their own (the city for the platform)."""
    code = code or principal.region_code or _first_city(session)
    ensure_in_scope(principal, code)  # before the lookup, so a region outside the scope is simply "not found"
    return regions.get_or_raise(session=session, code=code)


def _first_city(session: Session) -> str:
    """City-wide callers (the CLI, the platform itself) carry no region of their own."""
    city = regions.summary(session=session).city
    if city is None:
        raise NotFound("no regions loaded / 尚未导入行政区划")
    return city.code


def _department(session: Session, principal: Principal, wanted: str | None) -> Department | None:
    found = _lookup_department(session, principal, wanted) if wanted else None
    if principal.role is not Role.HANDLER:
        return found
    # Handlers answer for their own department only, whatever they ask for.
    if principal.department_id is None:
        raise PermissionDenied("a handler without a department / 处置人员未关联部门", permission="kpis.read")
    if found is not None and found.id != principal.department_id:
        raise PermissionDenied("handlers see their own department only / 仅限本部门", permission="kpis.read")
    return found or org.get_department(session=session, department_id=principal.department_id)


def _lookup_department(session: Session, principal: Principal, wanted: str) -> Department:
    found = org.get_department_by_code(session=session, code=wanted) or \
        org.get_department_by_name(session=session, name=wanted)
    if found is None:
        raise NotFound(f"department {wanted}")
    ensure_in_scope(principal, found.region_code, reference=True)
    return found


def _tally(session: Session, window: Window, region: Region, children: Sequence[Region],
           department_id: int | None) -> tuple[KpiTally, dict[str, KpiTally]]:
    total = KpiTally(window)
    per_child = {c.scope_prefix: KpiTally(window) for c in children}
    child_of = _child_finder(per_child)
    for facts in case_facts(session=session, region_prefix=region.scope_prefix, department_id=department_id,
                            since=window.start, until=window.end):
        total.add(facts)
        child = child_of(facts)
        if child is not None:
            child.add(facts)  # cases coded at the region itself count in the total only
    return total, per_child


def _child_finder(per_child: dict[str, KpiTally]) -> _ChildFinder:
    return _ChildFinder(per_child, sorted({len(p) for p in per_child}))


@dataclass(frozen=True)
class _ChildFinder:
    """Which child region a case lies in, by dictionary look-ups on its code's leading digits (children of one
    region share one or two prefix lengths), not by trying every child in turn."""

    by_prefix: dict[str, KpiTally]
    lengths: list[int]

    def __call__(self, facts: CaseFacts) -> KpiTally | None:
        for length in self.lengths:
            found = self.by_prefix.get(facts.region_code[:length])
            if found is not None:
                return found
        return None


def _row(region: Region, tally: KpiTally) -> RegionRow:
    return RegionRow(code=region.code, name=region.name, level=region.level, report=tally.report())
