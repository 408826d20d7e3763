from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base
from cityops.core.models import BigId


class Report(Base):
    """One submission from one channel. (channel, channel_report_id) makes sending it twice harmless."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("channel", "channel_report_id"),
        Index("ix_reports_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # tracking number / Open311 id
    channel: Mapped[str] = mapped_column(String(20))
    channel_report_id: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str | None] = mapped_column(String(40))
    lng: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lat: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    photos: Mapped[list[Any]]  # stored photo ids
    reporter_name: Mapped[str | None] = mapped_column(String(60))
    reporter_phone: Mapped[str | None] = mapped_column(String(20))
    reporter_email: Mapped[str | None] = mapped_column(String(120))
    submitted_by: Mapped[str] = mapped_column(String(120))  # principal actor (api key, staff, citizen)
    reported_at: Mapped[datetime]  # when the reporter says it happened / was sent
    received_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(12))  # received / triaged / waiting (manual triage) / failed
    region_code: Mapped[str | None] = mapped_column(String(20), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    triage: Mapped[dict[str, Any]]  # what each pipeline step decided, with its evidence
    extra: Mapped[dict[str, Any]]  # channel-specific fields (Open311 attributes, device id…)
