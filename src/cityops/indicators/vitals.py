"""Sensors to vital signs: readings, device status and windows fed to the engine (sensor_feed.py decides which).

    evaluate_readings(uow, …)     in ingestion's own transaction: each newly stored reading, per device
    observe_status(uow, …)        a device gone offline / back online, for the device_status indicators
    evaluate_windows(platform, …) the windowed aggregates (mean, sum, count), from stored readings

Ingestion evaluates in its own transaction so a reading and the alarm it raises commit together; the reports for
alarms that crossed the case level are sent after the commit (engine.open_cases_for, see engine.py for why).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.core.uow import UnitOfWork
from cityops.indicators import engine
from cityops.indicators.engine import Observation, Result
from cityops.indicators.models import Indicator
from cityops.indicators.sensor_feed import (
    PER_READING,
    DeviceInfo,
    SensorIndicator,
    StoredReading,
    reading_observations,
    status_observations,
    window_aggregate,
)
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.sensing.windows import window_values

SENSOR_KINDS = ("sensor_aggregate", "device_status")


def sensor_indicators(*, session: Session) -> list[SensorIndicator]:
    """The active indicators fed by sensors, each with its region's scope prefix."""
    rows = session.scalars(select(Indicator).where(Indicator.source_kind.in_(SENSOR_KINDS),
                                                   Indicator.active.is_(True)).order_by(Indicator.code))
    prefixes: dict[str, str] = {}
    built = []
    for row in rows:
        code = row.region_code or ""
        if code not in prefixes:
            region = regions.get(session=session, code=code) if code else None
            prefixes[code] = region.scope_prefix if region is not None else code
        built.append(SensorIndicator(row.code, row.source_kind, row.metric, row.aggregate, row.device_type,
                                     row.device_group, prefixes[code]))
    return built


def evaluate_readings(uow: UnitOfWork, *, case_level: str, devices: dict[str, DeviceInfo],
                      readings: Iterable[StoredReading]) -> list[Result]:
    """Evaluate newly stored readings against the per-reading indicators, in the caller's transaction."""
    indicators = sensor_indicators(session=uow.session)
    observations = reading_observations(indicators, devices, readings)
    return engine.observe_batch(uow, observations, case_level=case_level) if observations else []


def observe_status(uow: UnitOfWork, *, case_level: str, devices: Sequence[DeviceInfo], offline: bool,
                   at: datetime) -> list[Result]:
    indicators = [i for i in sensor_indicators(session=uow.session) if i.source_kind == "device_status"]
    observations = [o for d in devices for o in status_observations(indicators, d, offline=offline, at=at)]
    return engine.observe_batch(uow, observations, case_level=case_level) if observations else []


def evaluate_windows(platform: Platform, now: datetime) -> list[Result]:
    """Each active windowed sensor indicator (mean, sum, count) over its window ending now, as source
    "agg:{indicator}" in its own region. A window without readings says nothing and is skipped."""
    observations: list[Observation] = []
    with platform.db.session() as session:
        rows = {r.code: r for r in session.scalars(select(Indicator).where(Indicator.code.in_(
            [i.code for i in sensor_indicators(session=session)])))}
        for indicator in sensor_indicators(session=session):
            row = rows[indicator.code]
            if (indicator.source_kind != "sensor_aggregate" or indicator.aggregate in PER_READING
                    or not indicator.metric or not indicator.aggregate or not row.window_minutes):
                continue
            values = window_values(session=session, metric=indicator.metric,
                                   start=now - timedelta(minutes=row.window_minutes), end=now,
                                   group_code=indicator.device_group, type_code=indicator.device_type,
                                   region_prefix=indicator.region_prefix)
            value = window_aggregate(indicator.aggregate, values) if values else None
            if value is not None:
                observations.append(Observation(indicator.code, f"agg:{indicator.code}", row.region_code or "",
                                                None, None, now, value))
    return engine.observe_many(platform, observations) if observations else []
