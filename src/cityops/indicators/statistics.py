"""Values of `case_statistic` indicators, computed read-only through the cases and insight services.

The platform asks as itself (city-wide); the region narrows the figures. Each returns None when there is
nothing to measure (no case was due today), since a 0 % would raise a false alarm.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from cityops.cases import service as cases
from cityops.cases.service import CaseFilter
from cityops.core.clock import CHINA_TZ
from cityops.core.errors import ValidationFailed
from cityops.insight import service as insight
from cityops.org.access import Principal, system_principal
from cityops.org.roles import Role
from cityops.regions import service as regions

Statistic = Callable[[Session, Principal, str, datetime], float | None]


def _count(session: Session, principal: Principal, where: CaseFilter, now: datetime) -> int:
    _, total = cases.search(session=session, principal=principal, where=where, now=now, limit=1, offset=0)
    return total


def reports_per_hour(session: Session, principal: Principal, region_code: str, now: datetime) -> float:
    """Cases received in the last hour. A report fused into an existing case is not counted again."""
    where = CaseFilter(region_code=_prefix(session, region_code), received_from=now - timedelta(hours=1),
                       received_to=now)
    return float(_count(session, principal, where, now))


def overdue_cases(session: Session, principal: Principal, region_code: str, now: datetime) -> float:
    return float(_count(session, principal, CaseFilter(region_code=_prefix(session, region_code), overdue=True), now))


def on_time_closure_rate_today(session: Session, principal: Principal, region_code: str,
                               now: datetime) -> float | None:
    """按期结案率 of today (Asia/Shanghai), in percent: closed on time ÷ due today."""
    today = now.astimezone(CHINA_TZ).date()
    result = insight.kpis_for(session=session, principal=principal, region_code=region_code, department=None,
                              date_from=today, date_to=today + timedelta(days=1))
    rate = result.report.measure("timely_closure").rate
    return None if rate is None else round(rate * 100, 2)


STATISTICS: Final[dict[str, Statistic]] = {
    "reports_per_hour": reports_per_hour,
    "overdue_cases": overdue_cases,
    "on_time_closure_rate_today": on_time_closure_rate_today,
}


def case_statistic(*, session: Session, statistic: str, region_code: str, now: datetime) -> float | None:
    """`region_code` is a region's code; case filters match by prefix, and a city's code (370300) is not a prefix
    of its districts' (370303), so counts use the region's scope_prefix while KPIs take the code itself."""
    compute = STATISTICS.get(statistic)
    if compute is None:
        raise ValidationFailed(f"未知统计项 {statistic!r} / unknown statistic", field="statistic")
    return compute(session, system_principal("indicators", Role.LEADER), region_code, now)


def _prefix(session: Session, region_code: str) -> str:
    region = regions.get(session=session, code=region_code)
    return region.scope_prefix if region is not None else region_code
