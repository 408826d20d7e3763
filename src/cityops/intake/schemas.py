from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from cityops.intake.channels import TEXT_LOCATED, Channel


class ReporterIn(BaseModel):
    name: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, pattern=r"^[0-9+\-]{5,20}$")
    email: str | None = Field(default=None, max_length=120, pattern=r"^[^@\s]+@[^@\s]+$")


class ReportIn(BaseModel):
    """One report from any channel. `channel_report_id` is the channel's own id: sending it twice is harmless."""

    channel: Channel
    channel_report_id: str = Field(min_length=1, max_length=120)
    text: str = Field(min_length=2, max_length=20000)  # long letters to the mayor exist
    category_code: str | None = Field(default=None, max_length=40)
    lng: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    address: str | None = Field(default=None, max_length=300)
    photos: list[str] = Field(default_factory=list, max_length=9)
    reporter: ReporterIn = Field(default_factory=ReporterIn)
    reported_at: datetime | None = None
    extra: dict[str, str | int | float | bool | None] = Field(default_factory=dict)

    @field_validator("text")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if len(value) < 2:
            raise ValueError("text is too short / 内容过短")
        return value

    @field_validator("reported_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a timezone, e.g. 2026-11-22T09:30:00+08:00")
        return value

    @model_validator(mode="after")
    def _located(self) -> ReportIn:
        if (self.lng is None) != (self.lat is None):
            raise ValueError("lng and lat come together / 经纬度需同时提供")
        if self.lng is None and not self.address and self.channel not in TEXT_LOCATED:
            raise ValueError("a location is needed: lng/lat or address / 需要坐标或地址")
        return self


class ReceiptOut(BaseModel):
    id: str  # the tracking number
    status: str
    duplicate: bool


class ReportOut(BaseModel):
    id: str
    channel: str
    channel_report_id: str
    text: str
    category_code: str | None
    lng: float | None
    lat: float | None
    address: str | None
    photos: list[str]
    status: str
    region_code: str | None
    case_id: int | None
    received_at: datetime
    triage: dict[str, object]
