"""The working calendar (工作日历): which days are working days and which hours of them count toward deadlines.

Pure: no database. `calendar_service` builds one from the `calendar_days` table.

Arithmetic is done in whole microseconds (timedelta), not float hours, so adding a duration and measuring it
back gives exactly what was added. Periods are closed at both ends for "is this a working moment": a deadline
that uses up the morning exactly lands at 12:00, not at 13:30.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal, get_args
from zoneinfo import ZoneInfo

from cityops.core.clock import CHINA_TZ

Period = tuple[time, time]
Unit = Literal["working_hours", "working_days", "natural_hours", "natural_days"]
UNITS: Final[frozenset[str]] = frozenset(get_args(Unit))
DEFAULT_PERIODS: Final[tuple[Period, ...]] = ((time(8, 30), time(12, 0)), (time(13, 30), time(18, 0)))
SATURDAY: Final = 5


class WorkingCalendar:
    """Weekdays are working days unless listed in `holidays`; weekends are off unless listed in `workdays`
    (调休上班, the make-up working days that come with long holidays)."""

    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = (),
                 periods: Iterable[Period] = DEFAULT_PERIODS, tz: ZoneInfo = CHINA_TZ) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.periods = tuple(periods)
        self.tz = tz
        _check(self.holidays, self.workdays, self.periods)
        self.hours_per_day = sum((_length(p) for p in self.periods), timedelta()) / timedelta(hours=1)
        # A triage batch puts hundreds of cases on the clock at the same moment with a handful of limits.
        self._sums: dict[tuple[datetime, float], datetime] = {}

    def __repr__(self) -> str:
        return (f"WorkingCalendar({len(self.holidays)} holidays, {len(self.workdays)} workdays, "
                f"{self.hours_per_day:g} h/day)")

    # --- days and moments ---------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day not in self.holidays and day.weekday() < SATURDAY

    def is_working_time(self, moment: datetime) -> bool:
        """True inside a working period of a working day, both ends included."""
        local = _aware(moment).astimezone(self.tz)
        if not self.is_working_day(local.date()):
            return False
        clock = local.time().replace(tzinfo=None)
        return any(start <= clock <= end for start, end in self.periods)

    # --- arithmetic ---------------------------------------------------------------------------------

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The UTC moment `hours` of working time after `start`; a start outside working time begins at the
        next working period. Adding nothing to a working moment leaves it where it is (12:00 stays 12:00)."""
        key = (start, hours)
        found = self._sums.get(key)
        if found is None:
            if len(self._sums) >= 4096:
                self._sums.clear()
            found = self._sums[key] = self._add_working_hours(start, hours)
        return found

    def _add_working_hours(self, start: datetime, hours: float) -> datetime:
        remaining = _duration(hours)
        if not remaining and self.is_working_time(start):
            return start.astimezone(UTC)
        for begin, end in self._intervals(_aware(start)):
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("unreachable: a calendar always has another working day")  # pragma: no cover

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """A working day is `hours_per_day` of working time, so 1 day from Friday 10:00 is Monday 10:00."""
        return self.add_working_hours(start, days * self.hours_per_day)

    def add(self, start: datetime, amount: float, unit: str) -> datetime:
        """Add `amount` in one of UNITS; natural units ignore the calendar (urgent cases run day and night)."""
        start = _aware(start)
        if unit == "working_hours":
            return self.add_working_hours(start, amount)
        if unit == "working_days":
            return self.add_working_days(start, amount)
        if unit == "natural_hours":
            return start.astimezone(UTC) + _duration(amount)
        if unit == "natural_days":
            # Calendar days in local time (aware + timedelta is wall-clock arithmetic in Python).
            return (start.astimezone(self.tz) + _duration(amount * 24)).astimezone(UTC)
        raise ValueError(f"unknown time unit {unit!r}; expected one of {sorted(UNITS)}")

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from a to b, negative when b is before a."""
        a, b = _aware(a).astimezone(UTC), _aware(b).astimezone(UTC)
        if b < a:
            return -self.working_time_between(b, a)
        total = timedelta()
        for begin, end in self._intervals(a):
            if begin >= b:
                return total
            total += min(end, b) - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        return self.working_time_between(a, b) / timedelta(hours=1)

    def _intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working periods (UTC) from `start` on, the first one cut at `start`; empty ones are skipped."""
        start = start.astimezone(UTC)
        day = start.astimezone(self.tz).date()
        while True:
            if self.is_working_day(day):
                for first, last in self.periods:
                    begin = datetime.combine(day, first, self.tz).astimezone(UTC)
                    end = datetime.combine(day, last, self.tz).astimezone(UTC)
                    if end > start:
                        yield max(begin, start), end
            day += timedelta(days=1)


def _check(holidays: frozenset[date], workdays: frozenset[date], periods: tuple[Period, ...]) -> None:
    both = sorted(holidays & workdays)
    if both:
        raise ValueError(f"dates listed as both holiday and workday: {', '.join(map(str, both))}")
    if not periods:
        raise ValueError("a working calendar needs at least one working period")
    for (start, end), following in zip(periods, (*periods[1:], None), strict=True):
        if not start < end:
            raise ValueError(f"working period {start}–{end} ends before it starts")
        if following is not None and following[0] < end:
            raise ValueError("working periods must be in order and must not overlap")


def _length(period: Period) -> timedelta:
    day = date(2000, 1, 3)
    return datetime.combine(day, period[1]) - datetime.combine(day, period[0])


def _duration(hours: float) -> timedelta:
    if hours < 0:
        raise ValueError(f"a duration cannot be negative ({hours} h)")
    return timedelta(hours=hours)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the working calendar needs timezone-aware datetimes")
    return moment
