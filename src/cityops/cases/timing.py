"""A case's clock: its category's stage limits on the working calendar, as one object the flows ask."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from cityops.cases import deadlines
from cityops.cases.calendar import WorkingCalendar
from cityops.cases.calendar_service import working_calendar
from cityops.cases.deadlines import StageLimits
from cityops.catalog import service as catalog
from cityops.core.errors import ValidationFailed
from cityops.platform import Platform

DEFAULT_SEVERITY = 2


@dataclass(frozen=True)
class CaseTiming:
    calendar: WorkingCalendar
    limits: StageLimits
    severity: int = DEFAULT_SEVERITY

    def register_due(self, at: datetime) -> datetime:
        return deadlines.register_due(at, self.limits, self.calendar)

    def dispatch_due(self, at: datetime) -> datetime:
        return deadlines.dispatch_due(at, self.limits, self.calendar)

    def handle_due(self, at: datetime) -> datetime:
        return deadlines.handle_due(at, self.limits, self.calendar)

    def verify_due(self, at: datetime) -> datetime:
        return deadlines.verify_due(at, self.limits, self.calendar)

    def close_due(self, at: datetime) -> datetime:
        return deadlines.close_due(at, self.limits, self.calendar)

    def case_due(self, at: datetime) -> datetime:
        return deadlines.case_due(at, self.limits, self.calendar)

    def extend(self, due: datetime | None, hours: float) -> datetime | None:
        return None if due is None else deadlines.extend(due, hours, self.calendar)

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        return self.calendar.working_hours_between(a, b)


def for_category(platform: Platform, session: Session, code: str | None) -> CaseTiming:
    """The clock for a category; the default limits while a case has none (or an unknown one)."""
    return for_limits(platform, catalog.category_limits(session=session, code=code) if code else None)


def for_limits(platform: Platform, found: catalog.CategoryLimits | None) -> CaseTiming:
    """The clock for a category's limits already read (None: the default limits)."""
    calendar = working_calendar(platform)
    if found is None:
        return CaseTiming(calendar, StageLimits())
    return CaseTiming(calendar, StageLimits.of(found), found.severity)


def for_category_or_raise(current: CaseTiming, session: Session, code: str) -> CaseTiming:
    """The clock for a category a person just chose: it must exist and be active."""
    found = catalog.category_limits(session=session, code=code) if code else None
    if found is None:
        raise ValidationFailed(f"unknown category {code!r} / 未知分类", field="category_code")
    return replace(current, limits=StageLimits.of(found), severity=found.severity)
