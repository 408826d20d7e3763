"""Tables the cases domain owns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base
from cityops.core.models import BigId


class Case(Base):
    """One real-world problem (案件), with one or more reports fused into it.

    The denormalised timestamps (registered_at, first_dispatched_at, handled_at, closed_at…) are what the KPIs
    read; `case_transitions` keeps the full history they are derived from.
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_state_region", "state", "region_code"),
        Index("ix_cases_department_state", "department_id", "state"),
        Index("ix_cases_due_at", "due_at"),
        # Fusion: open cases of a category near a point (cells.py, then a box around it) or in a region, reported
        # on lately; the point and the time are in the index so only cases meeting every condition are read.
        Index("ix_cases_fusion_cell_category_point_last_report", "fusion_cell", "category_code", "lat", "lng",
              "last_report_at"),
        Index("ix_cases_category_last_report", "category_code", "last_report_at"),
        # The cockpit: open and overdue cases per region from the index alone; the last 30 days by category.
        Index("ix_cases_state_region_stage_due", "state", "region_code", "stage_due_at"),
        Index("ix_cases_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # tracking number shown to people
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str | None] = mapped_column(String(40), index=True)
    severity: Mapped[int] = mapped_column(Integer, default=2)  # 1 urgent … 3 ordinary
    region_code: Mapped[str] = mapped_column(String(20), index=True)  # deepest known region (grid if located)
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    fusion_cell: Mapped[int | None] = mapped_column(Integer)  # ~1 km square holding lng/lat (cases/cells.py)
    channel: Mapped[str] = mapped_column(String(20))  # channel of the first report
    state: Mapped[str] = mapped_column(String(20))
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    suspended_at: Mapped[datetime | None]  # deadlines move on by the working time spent suspended
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # lead department
    route: Mapped[dict[str, Any] | None]  # the routing decision and its reason, as made at triage
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    report_count: Mapped[int] = mapped_column(Integer, default=1)
    # Deadlines: of the current stage, and of the case as a whole (closure, 结案时限), extensions included.
    stage_due_at: Mapped[datetime | None]
    handle_due_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    warned_at: Mapped[datetime | None]  # "deadline near" notice sent for the current stage
    overdue_at: Mapped[datetime | None]  # when the current stage was first seen overdue
    # Milestones (first or last time, as the KPIs need them).
    received_at: Mapped[datetime]
    last_report_at: Mapped[datetime | None]  # the latest report fused into it: fusion's time window runs from here
    registered_at: Mapped[datetime | None]
    register_due_at: Mapped[datetime | None]
    first_dispatched_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    verify_due_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    followed_up_at: Mapped[datetime | None]
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[str | None] = mapped_column(String(12))  # satisfied / basically / dissatisfied
    result: Mapped[str | None] = mapped_column(Text)
    result_photos: Mapped[list[Any] | None]
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    external_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic concurrency for transitions


class CaseTransition(Base):
    """Who did what to a case, when and why: the case's timeline."""

    __tablename__ = "case_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    at: Mapped[datetime] = mapped_column(index=True)


class CaseTask(Base):
    """A department's part in a case: the lead's task, and one per assisting department in joint handling."""

    __tablename__ = "case_tasks"
    __table_args__ = (UniqueConstraint("case_id", "department_id", "round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # lead / assist
    round: Mapped[int] = mapped_column(Integer, default=1)  # dispatch round (re-dispatch starts a new one)
    state: Mapped[str] = mapped_column(String(12))  # open / done / returned / cancelled
    result: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class ExtensionRequest(Base):
    __tablename__ = "case_extensions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    hours: Mapped[float] = mapped_column(Float)  # working hours asked for
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10))  # pending / approved / rejected
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None]


class Escalation(Base):
    """督办: raised by a person or by the deadline job; level 1 to the department, 2 to the leader."""

    __tablename__ = "case_escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    raised_by: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime]
