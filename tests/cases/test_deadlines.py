"""Stage deadlines and the whole case's closure deadline (结案时限) on the China working calendar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest

from cityops.cases import deadlines
from cityops.cases.calendar import WorkingCalendar
from cityops.cases.deadlines import StageLimits
from tests.cases.test_calendar import CN, as_local, local

Stage = Callable[[datetime, StageLimits, WorkingCalendar], datetime]

# Handling within one working day; the other stages a few working hours each.
ONE_DAY = StageLimits(register_hours=1, dispatch_hours=1, handle_limit=1, handle_unit="working_days",
                      verify_hours=4, close_hours=4)


def test_a_case_registered_on_the_friday_before_qingming_is_handled_by_tuesday():
    """Acceptance: Friday 2026-04-03 10:00, a 1-working-day handling limit; 清明 4–6 April are off."""
    assert as_local(deadlines.handle_due(local(2026, 4, 3, 10, 0), ONE_DAY, CN)) == local(2026, 4, 7, 10, 0)


def test_a_case_registered_on_the_friday_before_qingming_must_be_closed_on_wednesday():
    """Acceptance: 1 h dispatch + 8 h handling + 4 h verification + 4 h closing = 17 working hours from
    Friday 09:00: 7.5 h on Friday, 8 h on Tuesday 7 April, 1.5 h on Wednesday 8 April."""
    due = deadlines.case_due(local(2026, 4, 3, 9, 0), ONE_DAY, CN)
    assert as_local(due) == local(2026, 4, 8, 10, 0)


def test_a_case_registered_before_national_day_is_due_on_the_make_up_saturday():
    """Wednesday 30 September, 3 working days: 1–7 October off, then Thu 8, Fri 9 and Saturday 10 (调休上班)."""
    limits = StageLimits(handle_limit=3, handle_unit="working_days")
    assert as_local(deadlines.handle_due(local(2026, 9, 30, 10, 0), limits, CN)) == local(2026, 10, 10, 10, 0)


def test_the_sunday_make_up_day_before_mid_autumn_counts_too():
    # Friday 18 September + 1 working day: Saturday 19 is off, Sunday 20 works (国庆 调休).
    assert as_local(deadlines.handle_due(local(2026, 9, 18, 10, 0), ONE_DAY, CN)) == local(2026, 9, 20, 10, 0)


def test_a_case_dispatched_before_spring_festival_is_due_after_it():
    # Friday 13 Feb: Saturday 14 works (调休), 15–23 Feb off, so 2 working days end on Tuesday 24 Feb.
    limits = StageLimits(handle_limit=2, handle_unit="working_days")
    assert as_local(deadlines.handle_due(local(2026, 2, 13, 10, 0), limits, CN)) == local(2026, 2, 24, 10, 0)


def test_urgent_categories_in_natural_hours_run_through_the_holiday():
    urgent = StageLimits(handle_limit=2, handle_unit="natural_hours")
    assert as_local(deadlines.handle_due(local(2026, 10, 1, 23, 0), urgent, CN)) == local(2026, 10, 2, 1, 0)


@pytest.mark.parametrize(("stage", "start", "expected"), [
    (deadlines.register_due, local(2026, 4, 3, 17, 30), local(2026, 4, 7, 9, 0)),  # 1 h
    (deadlines.dispatch_due, local(2026, 4, 3, 11, 30), local(2026, 4, 3, 14, 0)),  # 1 h over lunch
    (deadlines.verify_due, local(2026, 4, 3, 16, 0), local(2026, 4, 7, 10, 30)),  # 4 h
    (deadlines.close_due, local(2026, 4, 3, 8, 30), local(2026, 4, 3, 14, 0)),  # 4 h: 3.5 before lunch
])
def test_each_stage_counts_its_own_working_hours_from_when_it_starts(stage: Stage, start: datetime,
                                                                     expected: datetime):
    assert as_local(stage(start, ONE_DAY, CN)) == expected


def test_an_extension_moves_the_handling_and_the_case_deadline_by_its_working_hours():
    start = local(2026, 4, 3, 10, 0)
    assert as_local(deadlines.handle_due(start, ONE_DAY, CN, extension_hours=8)) == local(2026, 4, 8, 10, 0)
    plain, extended = deadlines.case_due(start, ONE_DAY, CN), deadlines.case_due(start, ONE_DAY, CN, 8)
    assert extended == deadlines.extend(plain, 8, CN)
    assert CN.working_hours_between(plain, extended) == 8


def test_extending_by_nothing_leaves_any_deadline_alone():
    night = local(2026, 10, 2, 1, 0)  # a natural-time deadline outside working hours
    assert deadlines.extend(night, 0, CN) == night


@dataclass
class CategoryLike:
    register_hours: float = 0.5
    dispatch_hours: float = 2
    handle_limit: float = 5
    handle_unit: str = "working_hours"
    verify_hours: float = 1
    close_hours: float = 1


def test_limits_are_read_from_anything_shaped_like_a_category():
    assert StageLimits.of(CategoryLike()) == StageLimits(0.5, 2, 5, "working_hours", 1, 1)


def test_limits_refuse_an_unknown_unit_or_a_negative_limit():
    with pytest.raises(ValueError, match="unknown handling unit"):
        StageLimits(handle_unit="moons")
    with pytest.raises(ValueError, match="verify_hours"):
        StageLimits(verify_hours=-1)
