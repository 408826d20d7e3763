"""Observations to alarms to cases: the stateful side of the pure evaluation in evaluate.py.

    observe(uow, …)            thresholds of the region → state (row-locked) → evaluate → state saved → alarm
    observe_many(platform, …)  a batch in one transaction, then open_cases_for the alarms that crossed the line
    open_cases_for(platform, …) each alarm at or above settings.alarm_case_level becomes a report on the sensor
                               channel through intake.flows.receive_batch; triage locates, routes and opens the case

Why cases are opened after the commit, not inside the alarm's transaction: `receive` opens its own unit of
work (on SQLite a second writer would wait for the first one's lock forever), and a report must never exist
for an alarm whose transaction rolled back. So the alarm is committed first and the report follows. The
channel report id is `alarm:{id}`, so sending it again is harmless: an alarm keeps being offered by `observe`
(`Result.opens_case`) until its `case_report_id` is stored, and a crash between the two transactions is healed
by the next observation instead of losing the case.

When an alarm that sent a report clears, the case triage opened for it is looked up through the report and
stored on the alarm (`case_id`), so `cityops.alarms.cleared` carries it for the cockpit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cityops.core.uow import UnitOfWork
from cityops.indicators import alarms, service
from cityops.indicators.evaluate import Level, State, ThresholdSet, evaluate, rank
from cityops.indicators.models import Alarm, Indicator, IndicatorState, Threshold
from cityops.indicators.statistics import case_statistic
from cityops.intake import flows as intake
from cityops.intake import service as reports
from cityops.intake.channels import Channel
from cityops.intake.schemas import ReportIn
from cityops.org.access import system_principal
from cityops.platform import Platform
from cityops.regions import service as regions

SENSOR_PRINCIPAL: Final = system_principal("indicators")


@dataclass(frozen=True)
class Observation:
    """One value of one indicator at one source (a device, a device group, "stat:{indicator}:{region}")."""

    indicator_code: str
    source_key: str
    region_code: str
    lng: float | None
    lat: float | None
    ts: datetime
    value: float


@dataclass(frozen=True)
class Result:
    """What one observation did. `opens_case`: the alarm is at or above the case level and has no report yet,
    so open_cases_for should send one (after the transaction commits)."""

    indicator_code: str
    source_key: str
    level: Level
    previous: Level
    reason: str
    alarm_id: int | None = None
    opens_case: bool = False
    stale: bool = False
    evaluated: bool = True  # False when the indicator has no thresholds for the region

    @property
    def changed(self) -> bool:
        return self.level != self.previous


def observe(uow: UnitOfWork, platform: Platform, *, indicator_code: str, source_key: str, region_code: str,
            lng: float | None, lat: float | None, ts: datetime, value: float) -> Result:
    """Evaluate one value against the region's thresholds, save the state and raise/update/clear the alarm,
    in the caller's transaction (never commits)."""
    observation = Observation(indicator_code, source_key, region_code, lng, lat, ts, value)
    return _observe(uow, platform, observation, {})


def observe_many(platform: Platform, observations: Sequence[Observation], *, open_cases: bool = True) -> list[Result]:
    """A batch in one transaction, results in input order. Rows are locked in (indicator, source) order so two
    workers with overlapping batches wait for each other instead of deadlocking; values of one source keep their
    order. After the commit, the alarms that crossed the case level are sent to intake (unless `open_cases`)."""
    order = sorted(range(len(observations)),
                   key=lambda i: (observations[i].indicator_code, observations[i].source_key))
    results: list[Result | None] = [None] * len(observations)
    cache: dict[tuple[str, str], ThresholdSet | None] = {}
    with platform.uow() as uow:
        for i in order:
            results[i] = _observe(uow, platform, observations[i], cache)
        uow.commit()
    done = [r for r in results if r is not None]
    if open_cases:
        open_cases_for(platform, [r.alarm_id for r in done if r.opens_case and r.alarm_id is not None])
    return done


def _observe(uow: UnitOfWork, platform: Platform, obs: Observation,
             cache: dict[tuple[str, str], ThresholdSet | None]) -> Result:
    session = uow.session
    key = (obs.indicator_code, obs.region_code)
    if key not in cache:
        cache[key] = service.thresholds_for(session=session, indicator_code=obs.indicator_code,
                                            region_code=obs.region_code)
    thresholds = cache[key]
    if thresholds is None:
        return Result(obs.indicator_code, obs.source_key, "none", "none",
                      "该地区无阈值 / no thresholds for the region", evaluated=False)
    row = _locked_state(session, obs.source_key, obs.indicator_code, uow.clock.now())
    state = State.from_dict(row.state)
    if state.last_ts is not None and obs.ts <= state.last_ts:
        # Redelivered or late: evaluate ignores it, and the alarm must not show an older value either.
        return Result(obs.indicator_code, obs.source_key, state.level, state.level,
                      "旧读数，已忽略 / stale reading, ignored", stale=True)
    new_state, evaluation = evaluate(thresholds, state, obs.ts, obs.value)
    row.state, row.updated_at = new_state.to_dict(), uow.clock.now()
    if evaluation.level == "none" and evaluation.previous == "none":
        # Nothing open and nothing to raise (state and alarm change in one transaction, so they agree).
        return Result(obs.indicator_code, obs.source_key, "none", "none", evaluation.reason)
    if evaluation.level == "none":
        _link_case(session, obs.source_key, obs.indicator_code)
    alarm = alarms.apply_evaluation(uow, platform, indicator_code=obs.indicator_code, source_key=obs.source_key,
                                    region_code=obs.region_code, lng=obs.lng, lat=obs.lat, result=evaluation)
    return Result(obs.indicator_code, obs.source_key, evaluation.level, evaluation.previous, evaluation.reason,
                  alarm_id=alarm.id if alarm else None, opens_case=alarm is not None and _opens_case(platform, alarm))


def _opens_case(platform: Platform, alarm: Alarm) -> bool:
    return (alarm.status != "cleared" and alarm.case_report_id is None
            and rank(alarm.level) >= rank(platform.settings.alarm_case_level))


def _locked_state(session: Session, source_key: str, indicator_code: str, now: datetime) -> IndicatorState:
    """The state row, created empty if absent (INSERT … ON CONFLICT DO NOTHING, so racing creators never fail),
    then read FOR UPDATE: observations of one source are evaluated one after the other."""
    query = (select(IndicatorState).where(IndicatorState.source_key == source_key,
                                          IndicatorState.indicator_code == indicator_code).with_for_update())
    row = session.scalars(query).first()
    if row is not None:
        return row
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(IndicatorState).values(source_key=source_key, indicator_code=indicator_code,
                                                  state=State().to_dict(), updated_at=now)
                    .on_conflict_do_nothing(index_elements=["source_key", "indicator_code"]))
    return session.scalars(query).one()


def _link_case(session: Session, source_key: str, indicator_code: str) -> None:
    """Before the alarm clears: find the case triage opened for its report, so the cleared message names it."""
    alarm = alarms.get_open(session=session, source_key=source_key, indicator_code=indicator_code)
    if alarm is None or alarm.case_report_id is None or alarm.case_id is not None:
        return
    report = reports.get_by_public_id(session=session, public_id=alarm.case_report_id)
    if report is not None:
        alarm.case_id = report.case_id


def open_cases_for(platform: Platform, alarm_ids: Sequence[int]) -> list[str]:
    """Each alarm still at or above the case level and without a report becomes a sensor report (one intake
    transaction for all), and the report's tracking number is stored on the alarm. Idempotent: the channel id is
    `alarm:{id}`, so a repeat returns the report stored first. Returns the tracking numbers."""
    if not alarm_ids:
        return []
    with platform.db.session() as session:
        wanted = session.scalars(select(Alarm).where(Alarm.id.in_(sorted(set(alarm_ids)))).order_by(Alarm.id))
        pending = [a for a in wanted if _opens_case(platform, a)]
        items = [(_report_for(session, alarm), SENSOR_PRINCIPAL) for alarm in pending]
    if not items:
        return []
    receipts = intake.receive_batch(platform, items)
    with platform.uow() as uow:
        for alarm, receipt in zip(pending, receipts, strict=True):
            row = uow.session.get(Alarm, alarm.id, with_for_update=True)
            if row is not None and row.case_report_id is None:
                row.case_report_id = receipt.public_id
        uow.commit()
    return [r.public_id for r in receipts]


def _report_for(session: Session, alarm: Alarm) -> ReportIn:
    indicator = session.get(Indicator, alarm.indicator_code)
    report = alarms.alarm_report(alarm, indicator) if indicator is not None else None
    text = report["text"] if report else f"【{alarm.level}】{alarm.indicator_code} {alarm.value:g}：{alarm.reason}"
    located = alarm.lng is not None and alarm.lat is not None
    address = None
    if not located:  # a statistic has no point: its region's name lets triage place it (approximately)
        region = regions.get(session=session, code=alarm.region_code)
        address = region.name if region is not None else alarm.region_code or "全市"
    return ReportIn(channel=Channel.SENSOR, channel_report_id=f"alarm:{alarm.id}", text=text,
                    category_code=indicator.category_code if indicator else None, lng=alarm.lng, lat=alarm.lat,
                    address=address, reported_at=alarm.level_changed_at,
                    extra={"alarm_id": alarm.id, "indicator_code": alarm.indicator_code, "level": alarm.level,
                           "source_key": alarm.source_key})


def evaluate_case_statistics(platform: Platform, now: datetime) -> list[Result]:
    """Every active `case_statistic` indicator, for its region (the indicator's own, else each region it has
    thresholds for; city-wide = the city), observed as source "stat:{indicator}:{region}". A job for the
    deadline/worker loop; a statistic with nothing to measure (None) is skipped."""
    with platform.db.session() as session:
        indicators = session.scalars(select(Indicator).where(Indicator.source_kind == "case_statistic",
                                                             Indicator.active.is_(True)).order_by(Indicator.code))
        observations: list[Observation] = []
        for indicator in indicators:
            for region in _stat_regions(session, indicator):
                value = case_statistic(session=session, statistic=indicator.statistic or "",
                                       region_code=_scope_prefix(session, region), now=now)
                if value is not None:
                    observations.append(Observation(indicator.code, f"stat:{indicator.code}:{region}", region,
                                                    None, None, now, value))
    return observe_many(platform, observations)


def _scope_prefix(session: Session, code: str) -> str:
    """Case statistics filter records by code prefix, and a city's code (370300) is not a prefix of its districts'
    (370303): what lies inside a region starts with its scope_prefix (regions/codes.py)."""
    region = regions.get(session=session, code=code)
    return region.scope_prefix if region is not None else code


def _stat_regions(session: Session, indicator: Indicator) -> list[str]:
    if indicator.region_code:
        return [indicator.region_code]
    codes = set(session.scalars(select(Threshold.region_code).where(Threshold.indicator_code == indicator.code)))
    if "" in codes:
        codes.discard("")
        city = regions.list_regions(session=session, level="city", limit=1)
        codes.add(city[0].code if city else "")
    return sorted(codes)
