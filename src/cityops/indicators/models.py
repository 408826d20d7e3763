"""Tables of the vital signs: the indicator catalogue, thresholds per region, alarms and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base
from cityops.core.models import BigId


class Indicator(Base):
    """One vital sign and where its value comes from (source_kind decides which source columns apply)."""

    __tablename__ = "indicators"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(160))
    unit: Mapped[str] = mapped_column(String(20))
    department_code: Mapped[str] = mapped_column(String(40))
    domain: Mapped[str] = mapped_column(String(20), index=True)  # environment / water / safety / traffic / …
    source_kind: Mapped[str] = mapped_column(String(20))  # sensor_aggregate / case_statistic / dataset
    # sensor_aggregate: aggregate(metric) over devices of device_type in region_code, or over device_group
    metric: Mapped[str | None] = mapped_column(String(40))
    aggregate: Mapped[str | None] = mapped_column(String(8))
    device_type: Mapped[str | None] = mapped_column(String(40))
    region_code: Mapped[str | None] = mapped_column(String(20))
    device_group: Mapped[str | None] = mapped_column(String(60))
    window_minutes: Mapped[int | None] = mapped_column(Integer)
    statistic: Mapped[str | None] = mapped_column(String(40))  # case_statistic: which one
    category_code: Mapped[str | None] = mapped_column(String(40))  # hint for the case an alarm would open
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(120))


class Threshold(Base):
    """One warning level of one indicator in one region; region_code "" is the city-wide default."""

    __tablename__ = "thresholds"
    __table_args__ = (UniqueConstraint("indicator_code", "region_code", "level",
                                       name="uq_thresholds_indicator_region_level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_code: Mapped[str] = mapped_column(ForeignKey("indicators.code", ondelete="CASCADE"), index=True)
    region_code: Mapped[str] = mapped_column(String(20), default="")
    level: Mapped[str] = mapped_column(String(8))  # blue / yellow / orange / red
    comparison: Mapped[str] = mapped_column(String(8))  # above / below
    value: Mapped[float] = mapped_column(Float)
    clear_value: Mapped[float] = mapped_column(Float)
    duration_minutes: Mapped[float] = mapped_column(Float, default=0.0)
    repetitions: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(120))


class Alarm(Base):
    """A graded warning of one source (a device, a region…) on one indicator.

    `open_key` is "source|indicator" while the alarm is not cleared and NULL afterwards: a plain unique
    constraint on it allows any number of cleared alarms but only one open one, on SQLite and PostgreSQL alike
    (both let NULLs repeat), so no partial index is needed."""

    __tablename__ = "alarms"
    __table_args__ = (Index("ix_alarms_region_status", "region_code", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    open_key: Mapped[str | None] = mapped_column(String(260), unique=True)
    indicator_code: Mapped[str] = mapped_column(String(60), index=True)
    source_key: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(20))
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(8))
    peak_level: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))  # active / acknowledged / cleared
    value: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime]
    observed_at: Mapped[datetime]
    level_changed_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    cleared_at: Mapped[datetime | None]
    # The report an alarm at or above settings.alarm_case_level sent through intake (engine.open_cases_for), and
    # the case triage opened for it, resolved when the alarm clears so the cockpit can show it.
    case_report_id: Mapped[str | None] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(BigId)


class AlarmEvent(Base):
    """Every step of an alarm's life: raised, level changed, acknowledged, cleared."""

    __tablename__ = "alarm_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))
    value: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(120))
    at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


class IndicatorState(Base):
    """What evaluation remembers of one (source, indicator) between observations: evaluate.State.to_dict().
    Read under a row lock and written in the same transaction as the alarm it drives (engine.observe)."""

    __tablename__ = "indicator_states"
    __table_args__ = (UniqueConstraint("source_key", "indicator_code", name="uq_indicator_states_source_indicator"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_key: Mapped[str] = mapped_column(String(200))
    indicator_code: Mapped[str] = mapped_column(String(60))
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
