"""The working calendar, pure: working days, working-hour arithmetic, and its laws checked by Hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.cases.calendar import WorkingCalendar
from cityops.cases.calendar_flows import default_calendar_csv
from cityops.cases.calendar_service import parse_csv
from cityops.core.clock import CHINA_TZ


def china_calendar() -> WorkingCalendar:
    entries = parse_csv(default_calendar_csv())
    return WorkingCalendar(holidays={e.date for e in entries if e.kind == "holiday"},
                           workdays={e.date for e in entries if e.kind == "workday"})


CN = china_calendar()


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in Beijing time, as people state deadlines."""
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


def as_local(moment: datetime) -> datetime:
    return moment.astimezone(CHINA_TZ)


# --- working days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "working"), [
    (date(2026, 3, 2), True),  # an ordinary Monday
    (date(2026, 3, 7), False),  # an ordinary Saturday
    (date(2026, 10, 1), False),  # 国庆节 on a Thursday
    (date(2026, 10, 10), True),  # 调休上班: a Saturday that works
    (date(2026, 9, 20), True),  # 调休上班: a Sunday that works
    (date(2026, 2, 14), True),  # 春节 make-up Saturday
    (date(2026, 2, 23), False),  # last day of 春节, a Monday
    (date(2026, 1, 4), True),  # 元旦 make-up Sunday
    (date(2026, 4, 6), False),  # 清明节 Monday
    (date(2026, 5, 9), True),  # 劳动节 make-up Saturday
    (date(2027, 2, 8), False),  # provisional 2027 春节
])
def test_working_days_follow_weekends_holidays_and_make_up_days(day: date, working: bool):
    assert CN.is_working_day(day) is working


def test_a_working_day_is_eight_hours_in_two_periods():
    assert CN.hours_per_day == 8.0


@pytest.mark.parametrize(("moment", "working"), [
    (local(2026, 3, 2, 8, 29), False),
    (local(2026, 3, 2, 8, 30), True),
    (local(2026, 3, 2, 12, 0), True),  # the end of a period still counts: a deadline may land there
    (local(2026, 3, 2, 12, 30), False),  # lunch
    (local(2026, 3, 2, 18, 0), True),
    (local(2026, 3, 2, 18, 1), False),
    (local(2026, 3, 7, 10, 0), False),  # Saturday
])
def test_working_time_is_inside_a_period_of_a_working_day(moment: datetime, working: bool):
    assert CN.is_working_time(moment) is working


# --- adding -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "hours", "expected"), [
    (local(2026, 3, 2, 9, 0), 1, local(2026, 3, 2, 10, 0)),
    (local(2026, 3, 2, 11, 0), 1, local(2026, 3, 2, 12, 0)),  # uses the morning up exactly
    (local(2026, 3, 2, 11, 0), 2, local(2026, 3, 2, 14, 30)),  # lunch does not count
    (local(2026, 3, 2, 17, 0), 2, local(2026, 3, 3, 9, 30)),  # overnight does not count
    (local(2026, 3, 2, 20, 0), 1, local(2026, 3, 3, 9, 30)),  # evening start: begins next morning
    (local(2026, 3, 2, 6, 0), 1, local(2026, 3, 2, 9, 30)),  # early start: begins at 8:30
    (local(2026, 3, 2, 12, 45), 1, local(2026, 3, 2, 14, 30)),  # lunchtime start: begins at 13:30
    (local(2026, 3, 6, 17, 0), 2, local(2026, 3, 9, 9, 30)),  # Friday evening to Monday
    (local(2026, 3, 7, 10, 0), 0.5, local(2026, 3, 9, 9, 0)),  # Saturday start: begins Monday
    (local(2026, 3, 2, 9, 0), 0, local(2026, 3, 2, 9, 0)),
    (local(2026, 3, 2, 12, 0), 0, local(2026, 3, 2, 12, 0)),  # nothing added to a working moment
    (local(2026, 3, 2, 19, 0), 0, local(2026, 3, 3, 8, 30)),
])
def test_add_working_hours_counts_only_working_periods(start: datetime, hours: float, expected: datetime):
    assert CN.add_working_hours(start, hours) == expected


def test_add_working_hours_answers_in_utc():
    result = CN.add_working_hours(local(2026, 3, 2, 9, 0), 1)
    assert result.tzinfo is UTC and result == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_one_working_day_from_the_friday_before_qingming_is_tuesday_at_the_same_time():
    assert as_local(CN.add_working_days(local(2026, 4, 3, 10, 0), 1)) == local(2026, 4, 7, 10, 0)


def test_a_working_day_after_the_national_day_week_can_be_the_make_up_saturday():
    assert as_local(CN.add_working_days(local(2026, 10, 9, 10, 0), 1)) == local(2026, 10, 10, 10, 0)


def test_spring_festival_week_is_skipped_whole():
    # Friday 13 Feb → Saturday 14 Feb works (调休) → 15–23 Feb off → Tuesday 24 Feb.
    assert as_local(CN.add_working_days(local(2026, 2, 13, 10, 0), 1)) == local(2026, 2, 14, 10, 0)
    assert as_local(CN.add_working_days(local(2026, 2, 13, 10, 0), 2)) == local(2026, 2, 24, 10, 0)


@pytest.mark.parametrize(("unit", "amount", "expected"), [
    ("working_hours", 3, local(2026, 4, 7, 9, 30)),
    ("working_days", 1, local(2026, 4, 7, 16, 0)),
    ("natural_hours", 3, local(2026, 4, 3, 19, 0)),  # natural time runs through the evening
    ("natural_days", 2, local(2026, 4, 5, 16, 0)),  # and through holidays
])
def test_add_by_unit(unit: str, amount: float, expected: datetime):
    assert CN.add(local(2026, 4, 3, 16, 0), amount, unit) == expected


def test_unknown_unit_and_negative_amounts_and_naive_datetimes_are_refused():
    start = local(2026, 3, 2, 9, 0)
    with pytest.raises(ValueError, match="unknown time unit"):
        CN.add(start, 1, "fortnights")
    with pytest.raises(ValueError, match="negative"):
        CN.add_working_hours(start, -1)
    with pytest.raises(ValueError, match="timezone-aware"):
        CN.add_working_hours(datetime(2026, 3, 2, 9, 0), 1)


def test_a_calendar_refuses_contradictions_and_bad_periods():
    with pytest.raises(ValueError, match="both holiday and workday"):
        WorkingCalendar(holidays={date(2026, 10, 10)}, workdays={date(2026, 10, 10)})
    with pytest.raises(ValueError, match="overlap"):
        WorkingCalendar(periods=((time(8), time(12)), (time(11), time(18))))
    with pytest.raises(ValueError, match="ends before"):
        WorkingCalendar(periods=((time(12), time(8)),))
    with pytest.raises(ValueError, match="at least one"):
        WorkingCalendar(periods=())


def test_custom_periods_change_the_length_of_a_working_day():
    one_shift = WorkingCalendar(periods=((time(9), time(17)),))
    assert one_shift.hours_per_day == 8
    assert as_local(one_shift.add_working_hours(local(2026, 3, 2, 16, 0), 2)) == local(2026, 3, 3, 10, 0)


# --- measuring --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b", "hours"), [
    (local(2026, 3, 2, 9, 0), local(2026, 3, 2, 10, 0), 1),
    (local(2026, 3, 2, 11, 0), local(2026, 3, 2, 14, 0), 1.5),
    (local(2026, 3, 6, 17, 0), local(2026, 3, 9, 9, 30), 2),
    (local(2026, 9, 30, 18, 0), local(2026, 10, 8, 8, 30), 0),  # the whole 国庆 week counts nothing
    (local(2026, 3, 2, 10, 0), local(2026, 3, 2, 9, 0), -1),
])
def test_working_hours_between(a: datetime, b: datetime, hours: float):
    assert CN.working_hours_between(a, b) == hours


# --- laws -------------------------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 12, 31),
                       timezones=st.just(CHINA_TZ))
durations = st.floats(min_value=0, max_value=400, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(start=moments, hours=durations)
def test_adding_then_measuring_gives_back_what_was_added(start: datetime, hours: float):
    end = CN.add_working_hours(start, hours)
    assert CN.working_time_between(start, end) == timedelta(hours=hours)


@settings(max_examples=300, deadline=None)
@given(start=moments, a=durations, b=durations)
def test_more_hours_never_end_earlier(start: datetime, a: float, b: float):
    low, high = sorted((a, b))
    assert CN.add_working_hours(start, low) <= CN.add_working_hours(start, high)


@settings(max_examples=300, deadline=None)
@given(first=moments, second=moments, hours=durations)
def test_a_later_start_never_ends_earlier(first: datetime, second: datetime, hours: float):
    early, late = sorted((first, second))
    assert CN.add_working_hours(early, hours) <= CN.add_working_hours(late, hours)


@settings(max_examples=300, deadline=None)
@given(start=moments, hours=durations)
def test_the_result_is_always_working_time_on_a_working_day(start: datetime, hours: float):
    end = CN.add_working_hours(start, hours)
    assert CN.is_working_day(as_local(end).date())
    assert CN.is_working_time(end)
    assert end >= start


@settings(max_examples=200, deadline=None)
@given(start=moments, a=durations, b=durations)
def test_adding_in_two_steps_equals_adding_the_sum(start: datetime, a: float, b: float):
    in_steps = CN.add_working_hours(CN.add_working_hours(start, a), b)
    at_once = CN.add_working_hours(start, (timedelta(hours=a) + timedelta(hours=b)) / timedelta(hours=1))
    assert abs(in_steps - at_once) <= timedelta(microseconds=2)


@settings(max_examples=200, deadline=None)
@given(a=moments, b=moments, c=moments)
def test_measured_working_time_adds_up(a: datetime, b: datetime, c: datetime):
    assert CN.working_time_between(a, b) + CN.working_time_between(b, c) == CN.working_time_between(a, c)
