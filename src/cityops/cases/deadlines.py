"""Stage deadlines (时限) from a category's limits, on the working calendar. Pure: no database.

Each stage's clock starts when the stage starts: registering from receipt, dispatching from registration,
handling from dispatch, verifying from handling, closing from verification. The case as a whole must be closed
by `case_due` (结案时限): the stage limits after registration laid end to end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from cityops.cases.calendar import UNITS, WorkingCalendar


class HasStageLimits(Protocol):
    """Anything carrying a category's limits (the catalogue's schema or row), read by attribute name."""

    register_hours: float
    dispatch_hours: float
    handle_limit: float
    handle_unit: str
    verify_hours: float
    close_hours: float


@dataclass(frozen=True)
class StageLimits:
    """A category's time limits; the names match catalog.models.Category. Hours are working hours; the
    handling limit is in `handle_unit` (working_hours / working_days / natural_hours / natural_days)."""

    register_hours: float = 1.0
    dispatch_hours: float = 1.0
    handle_limit: float = 3.0
    handle_unit: str = "working_days"
    verify_hours: float = 4.0
    close_hours: float = 4.0

    def __post_init__(self) -> None:
        if self.handle_unit not in UNITS:
            raise ValueError(f"unknown handling unit {self.handle_unit!r}; expected one of {sorted(UNITS)}")
        for name in ("register_hours", "dispatch_hours", "handle_limit", "verify_hours", "close_hours"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")

    @classmethod
    def of(cls, source: HasStageLimits) -> StageLimits:
        return cls(register_hours=source.register_hours, dispatch_hours=source.dispatch_hours,
                   handle_limit=source.handle_limit, handle_unit=source.handle_unit,
                   verify_hours=source.verify_hours, close_hours=source.close_hours)


def register_due(received_at: datetime, limits: StageLimits, calendar: WorkingCalendar) -> datetime:
    return calendar.add_working_hours(received_at, limits.register_hours)


def dispatch_due(registered_at: datetime, limits: StageLimits, calendar: WorkingCalendar) -> datetime:
    return calendar.add_working_hours(registered_at, limits.dispatch_hours)


def handle_due(dispatched_at: datetime, limits: StageLimits, calendar: WorkingCalendar,
               extension_hours: float = 0) -> datetime:
    """Handling deadline, with approved extensions (working hours) added on top."""
    due = calendar.add(dispatched_at, limits.handle_limit, limits.handle_unit)
    return extend(due, extension_hours, calendar)


def verify_due(handled_at: datetime, limits: StageLimits, calendar: WorkingCalendar) -> datetime:
    return calendar.add_working_hours(handled_at, limits.verify_hours)


def close_due(verified_at: datetime, limits: StageLimits, calendar: WorkingCalendar) -> datetime:
    return calendar.add_working_hours(verified_at, limits.close_hours)


def case_due(registered_at: datetime, limits: StageLimits, calendar: WorkingCalendar,
             extension_hours: float = 0) -> datetime:
    """结案时限: dispatch, handling (with extensions), verification and closing limits, one after another,
    from registration. Chained rather than summed, because the handling limit may be in natural time."""
    dispatched = dispatch_due(registered_at, limits, calendar)
    handled = handle_due(dispatched, limits, calendar, extension_hours)
    return close_due(verify_due(handled, limits, calendar), limits, calendar)


def extend(due: datetime, hours: float, calendar: WorkingCalendar) -> datetime:
    """A deadline moved on by an approved extension of `hours` working hours (0 leaves it unchanged)."""
    if hours == 0:
        return due.astimezone(UTC)  # even a natural-time deadline at night stays where it is
    return calendar.add_working_hours(due, hours)
