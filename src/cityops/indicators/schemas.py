"""API shapes of alarms."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class AlarmOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    indicator_code: str
    source_key: str
    region_code: str
    lng: float | None
    lat: float | None
    level: str
    peak_level: str
    status: str
    value: float
    reason: str
    raised_at: datetime
    observed_at: datetime
    level_changed_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    cleared_at: datetime | None
