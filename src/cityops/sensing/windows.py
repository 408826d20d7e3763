"""Readings of a window over a set of devices: what a windowed sensor indicator aggregates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.sensing.models import Device, SensorReading


def window_values(*, session: Session, metric: str, start: datetime, end: datetime, group_code: str | None = None,
                  type_code: str | None = None, region_prefix: str = "") -> list[float]:
    """Values of `metric` with start <= ts < end from the devices of a group, or of a type inside a region."""
    query = (select(SensorReading.value).join(Device, Device.device_id == SensorReading.device_id)
             .where(SensorReading.metric == metric, SensorReading.ts >= start, SensorReading.ts < end))
    if group_code:
        query = query.where(Device.group_code == group_code)
    else:
        if type_code:
            query = query.where(Device.type_code == type_code)
        if region_prefix:
            query = query.where(Device.region_code.startswith(region_prefix, autoescape=True))
    return [float(v) for v in session.scalars(query)]
