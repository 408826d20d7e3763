"""Tables sensing owns: devices, raw readings, and their per-minute and per-hour rollups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base


class Device(Base):
    """One registered sensor: where it is (WGS-84 and the grid it falls in), who owns it, and whether it is
    reporting (online / offline / unknown until its first reading)."""

    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type_code: Mapped[str] = mapped_column(String(40), index=True)
    model: Mapped[str | None] = mapped_column(String(120))
    lng: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    region_code: Mapped[str] = mapped_column(String(20), index=True)
    department_code: Mapped[str | None] = mapped_column(String(40))
    group_code: Mapped[str | None] = mapped_column(String(60), index=True)  # e.g. xiaofuhe_gauges (indicators)
    interval_s: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="unknown", index=True)
    last_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SensorReading(Base):
    """One metric value at one time. Append-only; pruned after the retention period (rollups stay).

    (device_id, metric, ts) is the primary key: a message the broker delivers again (QoS 1 is at least once) is
    inserted with ON CONFLICT DO NOTHING and stores nothing twice. On PostgreSQL the table is partitioned by
    month on ts (migration 0005, sensing/partitions.py), which is why the key must include ts."""

    __tablename__ = "readings"
    __table_args__ = (Index("ix_readings_ts", "ts"),)  # range scans by time: rollups and pruning

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class ReadingRollup(Base):
    """min/max/mean/count of one metric of one device over one minute or hour starting at `start`."""

    __tablename__ = "reading_rollups"
    __table_args__ = (Index("ix_reading_rollups_period_start", "period", "start"),)

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)  # "minute" or "hour"
    start: Mapped[datetime] = mapped_column(primary_key=True)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    mean: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)
