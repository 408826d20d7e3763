"""The leader cockpit's figures (领导驾驶舱): one region's cases, reports, alarms, KPIs and vital signs at a glance.

Every figure is the one the rest of the platform gives for the same region and period:

- open cases: the workbench counts (GET /api/v1/workbench/counts) of the open states; overdue cases: what
  GET /api/v1/cases?overdue=true counts (an open case whose current stage is past its deadline);
- 按期结案率 and 满意率: `insight.service.kpis_for` over this month so far (the 1st, Asia/Shanghai, to tomorrow
  excluded), exactly as GET /api/v1/kpis?from=YYYY-MM-01&to=tomorrow computes them;
- alarms: the open alarms (active or acknowledged) GET /api/v1/alarms?status=open lists, by level;
- today's reports: reports received since local midnight, in the region.

Scope as for the KPIs: the region must lie inside the caller's (404 otherwise) and defaults to the caller's own.
Counts are aggregated in SQL on indexed columns (migration 0007); the KPI rates, the trends and the vital signs
stream or scan more, so they are kept for a short while per region (`Memo`: stale answers are served while one
thread recomputes), which is what lets a room of screens poll a city of a million cases.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy import case as when
from sqlalchemy.orm import Session, defer

from cityops.cases import service as cases
from cityops.cases.models import Case
from cityops.core.clock import CHINA_TZ
from cityops.core.errors import NotFound, PermissionDenied, ValidationFailed
from cityops.indicators import alarms as alarm_service
from cityops.indicators.evaluate import LEVEL_NAMES, rank
from cityops.indicators.models import Alarm, Indicator
from cityops.indicators.sensor_feed import window_aggregate
from cityops.indicators.statistics import case_statistic
from cityops.insight.hotspot_service import category_names
from cityops.insight.kpis import window_for
from cityops.insight.service import KpiResult, kpis_for
from cityops.intake.models import Report
from cityops.org.access import Principal, ensure_in_scope, record_condition, scoped, system_principal
from cityops.org.roles import Role
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.regions.models import Region
from cityops.sensing.windows import window_values

ROLES: Final = frozenset({Role.ADMIN, Role.LEADER, Role.DISPATCHER})
LEVELS: Final = ("blue", "yellow", "orange", "red")  # warning levels, lowest first
RATE_KEYS: Final = ("timely_closure", "satisfaction")
TREND_DAYS: Final = 30
TOP_CATEGORIES: Final = 10
MAX_POINTS: Final = 1000  # case points on the map; above this, one cluster per grid is sent instead
MAX_ALARMS: Final = 500
SENSOR_WINDOW_MIN: Final = 15  # the window of a per-reading (max/min) indicator's current value
MEMO_KEY: Final = "insight.cockpit"
LIVE_S: Final = 3.0  # the cards are counted afresh at most this often per region (the stream's pace)
MAP_S: Final = 10.0  # the case points and clusters: the page redraws them every minute
RATES_S: Final = 120.0  # a month's rates (a pass over the month's cases) and the vital signs: this often
TRENDS_S: Final = 60.0

T = TypeVar("T")
log = logging.getLogger(__name__)


# --- a small cache: fresh for `ttl_s`, then served stale while one thread recomputes ------------------------


@dataclass
class _Entry:
    value: Any
    fresh_until: float
    stale_until: float


@dataclass
class Memo:
    """Answers per key: fresh for `ttl_s`; for `stale_s` more the old answer is served while one background
    thread computes the new one, so only the very first viewer of a region waits for the slow figures."""

    ttl_s: float = 20.0
    stale_s: float = 600.0
    _entries: dict[Hashable, _Entry] = field(default_factory=dict)
    _refreshing: set[Hashable] = field(default_factory=set)
    _gates: dict[Hashable, threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Hashable, compute: Callable[[], T], *, ttl_s: float | None = None) -> T:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit.fresh_until > now:
            return hit.value  # type: ignore[no-any-return]
        if hit is not None and hit.stale_until > now:
            with self._lock:
                start = key not in self._refreshing
                self._refreshing.add(key)
            if start:
                threading.Thread(target=self._refresh, args=(key, compute, ttl_s), daemon=True).start()
            return hit.value  # type: ignore[no-any-return]
        with self._lock:  # one computation per key: the other viewers of a cold region wait for it
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:
            hit = self._entries.get(key)
            if hit is not None and hit.fresh_until > time.monotonic():
                return hit.value  # type: ignore[no-any-return]
            value = compute()
            self._store(key, value, ttl_s)
        return value

    def _refresh(self, key: Hashable, compute: Callable[[], Any], ttl_s: float | None) -> None:
        try:
            self._store(key, compute(), ttl_s)
        except Exception:  # the stale answer stays; the first request after it expires computes again
            log.exception("cockpit figures for %s could not be refreshed", key)
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def _store(self, key: Hashable, value: Any, ttl_s: float | None = None) -> None:
        now = time.monotonic()
        if len(self._entries) > 5000:  # bounded: forget everything rather than grow without end
            self._entries.clear()
        fresh = self.ttl_s if ttl_s is None else ttl_s
        self._entries[key] = _Entry(value, now + fresh, now + fresh + self.stale_s)

    def clear(self) -> None:
        self._entries.clear()


def memo_of(platform: Platform) -> Memo:
    memo = platform.caches.get(MEMO_KEY)
    if not isinstance(memo, Memo):
        memo = platform.caches[MEMO_KEY] = Memo()
    return memo


# --- scope ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """The region in view, without its shape (a city's polygon is most of its row)."""

    code: str
    name: str
    level: str
    scope_prefix: str
    parent_code: str | None

    def as_json(self) -> dict[str, Any]:
        return {"region_code": self.code, "region_name": self.name, "region_level": self.level,
                "parent_code": self.parent_code}


def check_role(principal: Principal) -> None:
    if principal.role not in ROLES:
        raise PermissionDenied("领导驾驶舱仅限领导、派遣员和管理员 / leaders, dispatchers and administrators only",
                               permission="cockpit.read")


def place_for(session: Session, principal: Principal, code: str | None) -> Place:
    """As insight.service.scope_region: inside the caller's scope (else "not found"), by default their own."""
    check_role(principal)
    code = code or principal.region_code or _first_city(session)
    ensure_in_scope(principal, code)
    region = session.get(Region, code, options=[defer(Region.geometry)])
    if region is None:
        raise NotFound(f"区划 {code} 不存在 / no region {code}", field="region")
    return _place(region)


def _place(region: Region) -> Place:
    return Place(region.code, region.name, region.level, region.scope_prefix, region.parent_code)


def _first_city(session: Session) -> str:
    city = session.scalars(select(Region.code).where(Region.level == "city").order_by(Region.code).limit(1)).first()
    if city is None:
        raise NotFound("尚未导入行政区划 / no regions loaded")
    return city


def _children(session: Session, code: str) -> list[Place]:
    rows = session.scalars(select(Region).where(Region.parent_code == code).options(defer(Region.geometry))
                           .order_by(Region.code))
    return [_place(r) for r in rows]


def _inside(column: Any, place: Place) -> ColumnElement[bool]:
    return column.startswith(place.scope_prefix, autoescape=True)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Day:
    """Today in the city (Asia/Shanghai) and the periods the cards use."""

    today: date
    start: datetime  # local midnight, UTC
    end: datetime

    @property
    def month_start(self) -> date:
        return self.today.replace(day=1)

    @property
    def tomorrow(self) -> date:
        return self.today + timedelta(days=1)


def day_of(now: datetime) -> Day:
    today = now.astimezone(CHINA_TZ).date()
    window = window_for(today, today + timedelta(days=1))
    return Day(today, window.start, window.end)


# --- the summary: the KPI cards ------------------------------------------------------------------------------


def summary(platform: Platform, session: Session, principal: Principal, region_code: str | None) -> dict[str, Any]:
    """The cards: today's reports, open and overdue cases (also per child region), this month's 按期结案率 and
    满意率, open alarms by level. Counted afresh at most every LIVE_S seconds per region (the stream's pace)."""
    place = place_for(session, principal, region_code)
    return memo_of(platform).get(("summary", place.code), lambda: _summary(platform, principal, place),
                                 ttl_s=LIVE_S)


def _summary(platform: Platform, principal: Principal, place: Place) -> dict[str, Any]:
    with platform.db.session() as session:
        return _counted(platform, session, principal, place)


def _counted(platform: Platform, session: Session, principal: Principal, place: Place) -> dict[str, Any]:
    now = platform.clock.now()
    day = day_of(now)
    per_region = _open_cases(session, principal, place, now)
    body: dict[str, Any] = {
        "region": place.as_json(), "at": now.isoformat(), "today": day.today.isoformat(),
        "reports_today": _reports_between(session, principal, place, day.start, day.end),
        "open_cases": sum(n for n, _ in per_region.values()),
        "overdue_cases": sum(late for _, late in per_region.values()),
        "alarms": _alarms_by_level(session, principal, place),
        "breakdown": _breakdown(_children(session, place.code), per_region),
    }
    body["rates"] = _rates_of(platform, principal, place, day)
    body["alarms_open"] = sum(body["alarms"].values())
    return body


def _reports_between(session: Session, principal: Principal, place: Place, start: datetime, end: datetime) -> int:
    query = select(func.count(Report.id)).where(record_condition(principal, Report.region_code))
    return int(session.scalar(query.where(Report.received_at >= start, Report.received_at < end,
                                          _inside(Report.region_code, place))) or 0)


def _open_cases(session: Session, principal: Principal, place: Place, now: datetime) -> dict[str, tuple[int, int]]:
    """region code → (open, overdue), by cases.service's definitions (its OPEN states, its scope), from the index
    on (state, region_code, stage_due_at) alone."""
    late = func.coalesce(func.sum(when((Case.stage_due_at < now, 1), else_=0)), 0)
    query = (cases.visible_cases(principal).with_only_columns(Case.region_code, func.count(), late)
             .where(Case.state.in_(cases.OPEN), _inside(Case.region_code, place)).group_by(Case.region_code))
    return {code: (int(n), int(overdue)) for code, n, overdue in session.execute(query)}


def _breakdown(children: Sequence[Place], per_region: dict[str, tuple[int, int]]) -> list[dict[str, Any]]:
    """One row per child region (for the map's colours); cases coded at the region itself count in the total only.
    Children of one region share one or two prefix lengths, so each code is looked up, not matched in turn."""
    totals = {c.scope_prefix: [0, 0] for c in children}
    lengths = sorted({len(p) for p in totals}, reverse=True)
    for code, (n, late) in per_region.items():
        for length in lengths:
            found = totals.get(code[:length])
            if found is not None:
                found[0] += n
                found[1] += late
                break
    return [{"region_code": c.code, "region_name": c.name, "region_level": c.level,
             "open_cases": totals[c.scope_prefix][0], "overdue_cases": totals[c.scope_prefix][1]} for c in children]


def _alarms_by_level(session: Session, principal: Principal, place: Place) -> dict[str, int]:
    query = (select(Alarm.level, func.count())
             .where(record_condition(principal, Alarm.region_code), Alarm.status != "cleared",
                    _inside(Alarm.region_code, place)).group_by(Alarm.level))
    found = {level: n for level, n in session.execute(query)}
    return {level: int(found.get(level, 0)) for level in LEVELS}


def _rates_of(platform: Platform, principal: Principal, place: Place, day: Day) -> dict[str, Any]:
    """This month so far, by the KPI service itself: the same numbers GET /api/v1/kpis gives for the period.

    A KPI result carries a row per child region, the same figures the child's own query gives, so the city's one
    pass over its cases answers for every district too: a region is read from its parent's result when the caller
    may see the parent, and computed on its own otherwise."""
    source = place.parent_code if place.parent_code and principal.sees(place.parent_code) else place.code
    result = memo_of(platform).get(("kpis", source, day.today), lambda: _kpis(platform, principal, source, day),
                                   ttl_s=RATES_S)
    rows = {result.region.code: result.region, **{row.code: row for row in result.breakdown}}
    row = rows.get(place.code)
    if row is None:  # not a child of its parent's result (should not happen): ask for the region itself
        result = memo_of(platform).get(("kpis", place.code, day.today),
                                       lambda: _kpis(platform, principal, place.code, day), ttl_s=RATES_S)
        row = result.region
    period = {"from": day.month_start.isoformat(), "to": day.tomorrow.isoformat(), "to_excluded": True}
    rates: dict[str, Any] = {}
    for key in RATE_KEYS:
        m = row.report.measure(key)
        rates[key] = {"key": m.key, "name": m.zh, "name_en": m.en, "numerator": m.numerator,
                      "denominator": m.denominator, "rate": m.rate, "period": period}
    return rates


def _kpis(platform: Platform, principal: Principal, code: str, day: Day) -> KpiResult:
    with platform.db.session() as session:
        return kpis_for(session=session, principal=principal, region_code=code, department=None,
                        date_from=day.month_start, date_to=day.tomorrow)


# --- the map: case points (or clusters per grid) and alarms ----------------------------------------------------


@dataclass(frozen=True)
class Bbox:  # frozen, so it can be part of a cache key
    west: float
    south: float
    east: float
    north: float

    @classmethod
    def parse(cls, text: str | None) -> Bbox | None:
        if not text:
            return None
        try:
            west, south, east, north = (float(v) for v in text.split(","))
        except ValueError:
            raise ValidationFailed("west,south,east,north in degrees / 经纬度范围格式为 西,南,东,北",
                                   field="bbox") from None
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValidationFailed("west < east and south < north / 范围无效", field="bbox")
        return cls(west, south, east, north)

    def condition(self, lng: Any, lat: Any) -> ColumnElement[bool]:
        return lng.between(self.west, self.east) & lat.between(self.south, self.north)  # type: ignore[no-any-return]


def map_layer(platform: Platform, session: Session, principal: Principal, region_code: str | None,
              bbox: Bbox | None) -> dict[str, Any]:
    """Open cases in view as points (state, overdue), or, when more than MAX_POINTS, one cluster per grid; open
    alarms with a location."""
    place = place_for(session, principal, region_code)
    return memo_of(platform).get(("map", place.code, bbox), lambda: _map_layer(platform, principal, place, bbox),
                                 ttl_s=MAP_S)


def _map_layer(platform: Platform, principal: Principal, place: Place, bbox: Bbox | None) -> dict[str, Any]:
    with platform.db.session() as session:
        return _mapped(platform, session, principal, place, bbox)


def _mapped(platform: Platform, session: Session, principal: Principal, place: Place,
            bbox: Bbox | None) -> dict[str, Any]:
    now = platform.clock.now()
    where = [Case.state.in_(cases.OPEN), _inside(Case.region_code, place), Case.lng.is_not(None),
             Case.lat.is_not(None)]
    if bbox is not None:
        where.append(bbox.condition(Case.lng, Case.lat))
    base = cases.visible_cases(principal)
    points = session.execute(base.with_only_columns(
        Case.id, Case.number, Case.lng, Case.lat, Case.state, Case.stage_due_at, Case.category_code,
        Case.region_code, Case.title).where(*where).order_by(Case.id.desc()).limit(MAX_POINTS + 1)).all()
    clustered = len(points) > MAX_POINTS
    return {"region": place.as_json(), "at": now.isoformat(), "clustered": clustered,
            "items": [] if clustered else [_point(p, now) for p in points],
            "clusters": _clusters(session, base, where, now) if clustered else [],
            "alarms": _alarm_points(session, principal, place, bbox), "max_points": MAX_POINTS}


def _point(row: Any, now: datetime) -> dict[str, Any]:
    due = row.stage_due_at
    return {"id": row.id, "number": row.number, "lng": row.lng, "lat": row.lat, "state": row.state,
            "overdue": due is not None and due < now, "category_code": row.category_code,
            "region_code": row.region_code, "title": row.title}


def _clusters(session: Session, base: Any, where: list[ColumnElement[bool]], now: datetime) -> list[dict[str, Any]]:
    late = func.coalesce(func.sum(when((Case.stage_due_at < now, 1), else_=0)), 0)
    rows = session.execute(base.with_only_columns(Case.region_code, func.count(), late, func.avg(Case.lng),
                                                  func.avg(Case.lat)).where(*where).group_by(Case.region_code))
    return [{"region_code": code, "count": int(n), "overdue": int(overdue), "lng": float(lng), "lat": float(lat)}
            for code, n, overdue, lng, lat in rows]


def _alarm_points(session: Session, principal: Principal, place: Place, bbox: Bbox | None) -> list[dict[str, Any]]:
    query = scoped(select(Alarm), principal, Alarm.region_code).where(
        Alarm.status != "cleared", _inside(Alarm.region_code, place), Alarm.lng.is_not(None))
    if bbox is not None:
        query = query.where(bbox.condition(Alarm.lng, Alarm.lat))
    rows = session.scalars(query.order_by(Alarm.level_changed_at.desc(), Alarm.id.desc()).limit(MAX_ALARMS))
    return [alarm_service.message(a) for a in rows]


# --- trends: reports per day, top categories, reports per child region ---------------------------------------


def trends(platform: Platform, session: Session, principal: Principal, region_code: str | None) -> dict[str, Any]:
    """The last 30 days (today included): reports per local day, the top categories of the cases received, and
    the reports per child region."""
    now = platform.clock.now()
    day = day_of(now)
    place = place_for(session, principal, region_code)
    return memo_of(platform).get(("trends", place.code, day.today),
                                 lambda: _trends(platform, principal, place, day), ttl_s=TRENDS_S)


def _trends(platform: Platform, principal: Principal, place: Place, day: Day) -> dict[str, Any]:
    first = day.today - timedelta(days=TREND_DAYS - 1)
    since = window_for(first, day.tomorrow).start
    with platform.db.session() as session:
        local_day = _local_date(session, Report.received_at)
        rows = session.execute(select(local_day, func.count()).where(
            record_condition(principal, Report.region_code), Report.received_at >= since,
            Report.received_at < day.end, _inside(Report.region_code, place)).group_by(local_day)).all()
        by_day = {str(d)[:10]: int(n) for d, n in rows}
        daily = [{"date": (first + timedelta(days=i)).isoformat(),
                  "reports": by_day.get((first + timedelta(days=i)).isoformat(), 0)} for i in range(TREND_DAYS)]
        top = session.execute(cases.visible_cases(principal).with_only_columns(Case.category_code, func.count())
                              .where(Case.received_at >= since, Case.received_at < day.end,
                                     Case.state != "merged", _inside(Case.region_code, place))
                              .group_by(Case.category_code).order_by(func.count().desc(), Case.category_code)
                              .limit(TOP_CATEGORIES)).all()
        names = category_names(session, [c for c, _ in top if c])
        per_region = session.execute(select(Report.region_code, func.count())
                                     .where(record_condition(principal, Report.region_code),
                                            Report.received_at >= since, Report.received_at < day.end,
                                            _inside(Report.region_code, place))
                                     .group_by(Report.region_code)).all()
        children = _children(session, place.code)
    counts = {c.scope_prefix: 0 for c in children}
    lengths = sorted({len(p) for p in counts}, reverse=True)
    for code, n in per_region:
        for length in lengths:
            if code and code[:length] in counts:
                counts[code[:length]] += int(n)
                break
    return {"region": place.as_json(), "from": first.isoformat(), "to": day.tomorrow.isoformat(),
            "to_excluded": True, "daily": daily,
            "top_categories": [{"category_code": code, "category_name": names.get(code, code) if code else "未分类",
                                "cases": int(n)} for code, n in top],
            "breakdown": [{**c.as_json(), "reports": counts[c.scope_prefix]} for c in children]}


def _local_date(session: Session, column: Any) -> Any:
    """The local (Asia/Shanghai, always UTC+8) calendar day of a stored UTC time, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    return func.date(column, "+8 hours")


# --- the vital signs: each indicator's current value and level -----------------------------------------------


def indicators(platform: Platform, session: Session, principal: Principal, region_code: str | None
               ) -> dict[str, Any]:
    place = place_for(session, principal, region_code)
    return memo_of(platform).get(("indicators", place.code),
                                 lambda: _indicators(platform, principal, place, platform.clock.now()),
                                 ttl_s=RATES_S)


def _indicators(platform: Platform, principal: Principal, place: Place, now: datetime) -> dict[str, Any]:
    """Each active indicator that covers the region: its level (the worst open alarm on it inside the region, or
    "none"), and its value: that alarm's, else the indicator's own figure for the region now (a case statistic, or
    the aggregate of its sensors' readings over its window)."""
    with platform.db.session() as session:
        rows = [i for i in session.scalars(select(Indicator).where(Indicator.active.is_(True))
                                           .order_by(Indicator.domain, Indicator.code))
                if _covers(i, place)]
        open_alarms = session.scalars(scoped(select(Alarm), principal, Alarm.region_code).where(
            Alarm.status != "cleared", _inside(Alarm.region_code, place))).all()
        worst: dict[str, Alarm] = {}
        count: dict[str, int] = {}
        for alarm in open_alarms:
            count[alarm.indicator_code] = count.get(alarm.indicator_code, 0) + 1
            held = worst.get(alarm.indicator_code)
            if held is None or rank(alarm.level) > rank(held.level):
                worst[alarm.indicator_code] = alarm
        items = []
        for indicator in rows:
            top = worst.get(indicator.code)
            value = top.value if top is not None else _current_value(session, indicator, place, now)
            level = top.level if top is not None else "none"
            items.append({"code": indicator.code, "name": indicator.name, "name_en": indicator.name_en,
                          "unit": indicator.unit, "domain": indicator.domain, "source_kind": indicator.source_kind,
                          "value": value, "level": level, "level_name": LEVEL_NAMES.get(level, "正常"),
                          "open_alarms": count.get(indicator.code, 0), "region_code": place.code,
                          "observed_at": top.observed_at.isoformat() if top is not None else now.isoformat()})
    return {"region": place.as_json(), "at": now.isoformat(), "items": items}


def _covers(indicator: Indicator, place: Place) -> bool:
    """City-wide indicators cover every region; a region's own indicator covers it, its parents and its parts."""
    code = indicator.region_code or ""
    return not code or code.startswith(place.scope_prefix) or place.code.startswith(code.rstrip("0") or code)


def _current_value(session: Session, indicator: Indicator, place: Place, now: datetime) -> float | None:
    if indicator.source_kind == "case_statistic" and indicator.statistic:
        return case_statistic(session=session, statistic=indicator.statistic, region_code=place.code, now=now)
    if indicator.source_kind != "sensor_aggregate" or not indicator.metric or not indicator.aggregate:
        return None
    minutes = indicator.window_minutes or SENSOR_WINDOW_MIN
    prefix = place.scope_prefix if not indicator.device_group else ""
    values = window_values(session=session, metric=indicator.metric, start=now - timedelta(minutes=minutes), end=now,
                           group_code=indicator.device_group, type_code=indicator.device_type, region_prefix=prefix)
    value = window_aggregate(indicator.aggregate, values)
    return None if value is None else round(value, 3)


def region_path(session: Session, principal: Principal, region_code: str | None) -> list[dict[str, Any]]:
    """The breadcrumb: the region in view and the regions above it that the caller may see."""
    place = place_for(session, principal, region_code)
    path = regions.path(session=session, code=place.code)
    return [_place(r).as_json() for r in path if principal.sees(r.code) or r.code == place.code]


# --- warming up -------------------------------------------------------------------------------------------------


def warm_up(platform: Platform) -> list[str]:
    """Compute the city's and its districts' figures once, so the first leader to open the cockpit (or a wall of
    them) does not wait seconds for a month of KPIs. Run in the background when an API process starts; each
    process has its own cache. The regions warmed."""
    principal = system_principal("cockpit", Role.LEADER)
    with platform.db.session() as session:
        try:
            city = _first_city(session)
        except NotFound:  # no regions yet: nothing to show, nothing to warm
            return []
        codes = [city, *(c.code for c in _children(session, city))]
        for code in codes:
            for figures in (summary, trends, indicators):
                figures(platform, session, principal, code)
            map_layer(platform, session, principal, code, None)
    return codes

