"""Tables of the working calendar: the exceptional days, and a version that moves whenever they change."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base


class CalendarDay(Base):
    """A day that differs from the weekly rule: a public holiday on a weekday, or a make-up working day
    (调休上班) on a weekend. Holidays on weekends are kept too, so a year reads as the official notice does."""

    __tablename__ = "calendar_days"

    date: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # holiday / workday
    name: Mapped[str] = mapped_column(String(60))  # 春节, 国庆节, 调休上班（春节）…
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)  # not yet from an official notice
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(120))


class CalendarMeta(Base):
    """One row (id=1). Its version goes up in every transaction that changes calendar_days, so each process
    can tell with one cheap query that its cached WorkingCalendar is stale (deletions included, which a
    max(updated_at) check would miss)."""

    __tablename__ = "calendar_meta"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
