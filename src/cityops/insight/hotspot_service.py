"""Hotspots and the monthly topic for a region the caller may see. Thin: scope, the rows, the pure analysis, names.

Scope as for any record: the region must lie inside the caller's (404 otherwise) and defaults to the caller's
own; only reports coded inside it are read, so a street user's hotspots are made of their street's reports
alone. Reading reports needs `reports.read` (the analyses show report ids and what people wrote).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy.orm import Session

from cityops.cases import service as cases
from cityops.catalog import service as catalog
from cityops.core.errors import ValidationFailed
from cityops.insight.facts import ReportRow
from cityops.insight.hotspots import Hotspot, HotspotParams, HotspotResult, find_hotspots
from cityops.insight.kpis import window_for
from cityops.insight.service import scope_region
from cityops.insight.topics import Month, TopicParams, TopicResult, monthly_topics, named, rows_needed_since
from cityops.intake import service as intake
from cityops.org.access import Principal, require
from cityops.regions import service as regions
from cityops.regions.codes import LEVELS, Level, level_rank
from cityops.regions.models import Region

PERMISSION = "reports.read"
MAX_WINDOW_DAYS = 366  # the baseline reads `lookback` times as much again before the window


@dataclass(frozen=True)
class HotspotReport:
    region_code: str
    region_name: str
    date_since: date
    date_until: date  # excluded
    result: HotspotResult
    names: dict[str, str]  # region and category codes → names
    public_ids: dict[int, str]  # report id → the tracking number people and the API know it by


def hotspots_for(*, session: Session, principal: Principal, region_code: str | None, date_since: date,
                 date_until: date, params: HotspotParams | None = None) -> HotspotReport:
    require(principal, PERMISSION)
    params = params or HotspotParams()
    if date_until <= date_since:
        raise ValidationFailed("must be after 'since' (the end day is excluded) / 结束日期须晚于开始日期（不含当日）",
                               field="until")
    if (date_until - date_since).days > MAX_WINDOW_DAYS:
        raise ValidationFailed(f"at most {MAX_WINDOW_DAYS} days / 时间跨度过长", field="until")
    region = scope_region(session, principal, region_code)
    window = window_for(date_since, date_until)
    rows = report_rows(session, since=window.start - (window.end - window.start) * params.lookback,
                       until=window.end, region_prefix=region.scope_prefix)
    result = find_hotspots(rows, since=window.start, until=window.end, params=params)
    result = replace(result, hotspots=tuple(_placed(session, h) for h in result.hotspots))
    codes = {code for h in result.hotspots for code in h.region_codes}
    categories = {code for h in result.hotspots for code, _ in h.categories if code}
    samples = [report_id for h in result.hotspots for report_id in h.sample_report_ids]
    return HotspotReport(region_code=region.code, region_name=region.name, date_since=date_since,
                         date_until=date_until, result=result,
                         names={**region_names(session, codes), **category_names(session, categories)},
                         public_ids={r.id: r.public_id for r in intake.load(session=session, ids=samples)})


def monthly_topic_for(*, session: Session, principal: Principal, region_code: str | None, month: Month,
                      level: Level | None = None, params: TopicParams | None = None) -> TopicResult:
    require(principal, PERMISSION)
    params = params or TopicParams()
    region = scope_region(session, principal, region_code)
    level = level or _level_below(region)
    if level_rank(level) < level_rank(_level(region)):
        raise ValidationFailed(f"a {region.level} is not grouped by {level} / 分组层级不能高于所选区划", field="level")
    rows = report_rows(session, since=rows_needed_since(month, params), until=month.end,
                       region_prefix=region.scope_prefix)
    result = monthly_topics(rows, month=month, region_code=region.code, level=level, params=params)
    codes = {region.code, *(g.region_code for g in result.by_region),
             *(code for row in result.ranking for code, _ in row.top_regions)}
    topics = {row.label for row in result.ranking if row.kind == "category"}
    return named(result, {**region_names(session, codes),
                          **{f"category:{code}": name for code, name in category_names(session, topics).items()}})


def report_rows(session: Session, *, since: datetime, until: datetime, region_prefix: str) -> list[ReportRow]:
    """The reports made in [since, until) inside the region, each with its case's category once it has one."""
    facts = intake.report_facts(session=session, since=since, until=until, region_prefix=region_prefix)
    of_case = cases.categories_of(session=session, case_ids=intake.case_ids_of_facts(
        since=since, until=until, region_prefix=region_prefix))
    return [ReportRow(report_id=f.id, at=f.at, lng=f.lng, lat=f.lat, region_code=f.region_code, text=f.text,
                      category_code=_category(f, of_case), case_id=f.case_id, joined_case=f.joined_case)
            for f in facts]


def _category(fact: intake.ReportFact, of_case: dict[int, str | None]) -> str | None:
    """Once triage has opened or joined a case, the case's category is the report's (None: not classified)."""
    if fact.case_id is None or fact.case_id not in of_case:
        return fact.category_code
    return of_case[fact.case_id]


def _level(region: Region) -> Level:
    return next(level for level in LEVELS if level == region.level)


def _level_below(region: Region) -> Level:
    """By default a region's topics are broken down by its children: a city by district, a district by street."""
    rank = level_rank(_level(region))
    return LEVELS[min(rank + 1, len(LEVELS) - 1)]


def _placed(session: Session, hotspot: Hotspot) -> Hotspot:
    """A hotspot known only by its region code is placed at the region's centroid, when the region has one."""
    if hotspot.centre_lng is not None or not hotspot.region_codes:
        return hotspot
    region = regions.get(session=session, code=hotspot.region_codes[0])
    if region is None or region.centroid_lng is None:
        return hotspot
    return replace(hotspot, centre_lng=region.centroid_lng, centre_lat=region.centroid_lat)


def region_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    found = {code: regions.get(session=session, code=code) for code in sorted(set(codes))}
    return {code: region.name for code, region in found.items() if region is not None}


def category_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    found = {code: catalog.get_category(session=session, code=code) for code in sorted(set(codes))}
    return {code: category.name for code, category in found.items() if category is not None}
