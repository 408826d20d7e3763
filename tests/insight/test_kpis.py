"""Every KPI over a month of hand-made history, against figures counted independently here (and by hand)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from cityops.insight.kpis import MEASURE_KEYS, STAGES, CaseFacts, compute_kpis, window_for
from tests.insight.history import END, START, scenario

FACTS = scenario()
LIMIT = timedelta(hours=24)


def inside(at: datetime | None) -> bool:
    return at is not None and START <= at < END


def on_time(done: datetime | None, due: datetime | None) -> bool:
    return done is not None and due is not None and done <= due


def count(cases: list[CaseFacts], hit: Callable[[CaseFacts], bool]) -> tuple[int, int]:
    return sum(1 for f in cases if hit(f)), len(cases)


def expected_by_counting() -> dict[str, tuple[int, int]]:
    """The definitions of docs/kpis.md, written out again as plain comprehensions."""
    decided = [f for f in FACTS if inside(f.received_at) and (f.registered_at is not None or f.rejected)]
    registered = [f for f in FACTS if inside(f.registered_at) and f.register_due_at is not None]
    dispatched = [f for f in FACTS if inside(f.first_dispatched_at)]
    should_handle = [f for f in FACTS if inside(f.handle_due_at)]
    handled = [f for f in FACTS if inside(f.handled_at)]
    verified = [f for f in FACTS if inside(f.verified_at) and f.verify_due_at is not None]
    due = [f for f in FACTS if inside(f.due_at)]
    responded = [f for f in dispatched if f.has_timeline]
    followed = [f for f in FACTS if inside(f.followed_up_at) and f.resolved is not None]
    rated = [f for f in FACTS if inside(f.followed_up_at) and f.satisfaction is not None]
    return {
        "valid_report": count(decided, lambda f: not f.rejected),
        "timely_registration": count(registered, lambda f: on_time(f.registered_at, f.register_due_at)),
        "accurate_dispatch": (sum(f.dispatch_count - f.return_count for f in dispatched),
                              sum(f.dispatch_count for f in dispatched)),
        "handling": count(should_handle, lambda f: f.handled_at is not None and f.handled_at < END),
        "timely_handling": count(should_handle, lambda f: on_time(f.handled_at, f.handle_due_at)),
        "rework": (sum(f.rework_count for f in handled), sum(f.handle_count for f in handled)),
        "timely_verification": count(verified, lambda f: on_time(f.verified_at, f.verify_due_at)),
        "closure": count(due, lambda f: f.closed_at is not None and f.closed_at < END),
        "timely_closure": count(due, lambda f: on_time(f.closed_at, f.due_at)),
        "response": count(responded, lambda f: f.accepted_at is not None
                          and f.accepted_at - f.first_dispatched_at <= LIMIT),  # type: ignore[operator]
        "resolution": count(followed, lambda f: bool(f.resolved)),
        "satisfaction": count(rated, lambda f: f.satisfaction in ("satisfied", "basically")),
    }


# Counted by hand from the comments in history.py (case numbers in the comments).
BY_HAND = {
    "valid_report": (12, 13),  # decided in March: 1 2 4 5 6 7 8 10 11 15 16 17 18; 2 rejected
    "timely_registration": (10, 11),  # 1 4 5 6 7 8 10 15 16 17 18 (11 has no deadline); 10 late
    "accurate_dispatch": (11, 13),  # 1 4 5 6 7 8(2) 10 11(2) 16 17 18; 8 and 11 returned once
    "handling": (7, 9),  # due 1 4 5 6 7 8 10 16 18; 4 open, 7 handled in April
    "timely_handling": (4, 9),  # 1 8 10 18
    "rework": (2, 10),  # handled 1 5(2) 6 8 10 11 16 18 20; 5 and 16 reworked
    "timely_verification": (6, 7),  # 1 5 6 8 10 18 20; 8 late
    "closure": (8, 11),  # due 1 4 5 6 7 8 10 12 16 18 20; 4 and 16 open, 7 closed in April
    "timely_closure": (7, 11),  # 6 closed late
    "response": (6, 9),  # 1 4 5 6 7 8 16 17 18 (10, 11 without timeline); 4 8 17 late or never
    "resolution": (4, 6),  # 1 5 6 10 18 19; 6 10 unresolved
    "satisfaction": (3, 5),  # 1 5 6 10 19 (18 gave no rating); 6 10 dissatisfied
}


def test_the_counting_in_this_test_agrees_with_the_hand_count():
    assert expected_by_counting() == BY_HAND


@pytest.mark.parametrize("key", MEASURE_KEYS)
def test_every_measure_matches_the_independent_count(key: str):
    report = compute_kpis(FACTS, START, END)
    measure = report.measure(key)
    numerator, denominator = BY_HAND[key]
    assert (measure.numerator, measure.denominator) == (numerator, denominator)
    assert measure.rate == pytest.approx(numerator / denominator)


def test_mean_hours_per_stage_match_the_independent_average():
    report = compute_kpis(FACTS, START, END)
    for stage in STAGES:
        spans = [(stage.end(f) - stage.start(f)).total_seconds() / 3600 for f in FACTS  # type: ignore[operator]
                 if inside(stage.end(f)) and stage.start(f) is not None]
        got = report.stage(stage.key)
        assert got.count == len(spans), stage.key
        assert got.mean_hours == pytest.approx(sum(spans) / len(spans)), stage.key


def test_time_from_receipt_to_registration_is_the_hand_computed_mean():
    # 1 4 5 6 8 11 16 17 took 1 h, 7 took 2 h, 10 took 6 h, 18 took 4 h, 15 took 20 minutes: 61/3 h over 12.
    stage = compute_kpis(FACTS, START, END).stage("receive_to_register")
    assert (stage.count, stage.mean_hours) == (12, pytest.approx(61 / 36))


def test_report_counts_every_case_given_and_keeps_the_period():
    report = compute_kpis(FACTS, START, END)
    assert (report.cases, report.start, report.end, report.response_limit_hours) == (20, START, END, 24.0)


def test_nothing_due_gives_no_rate_rather_than_zero():
    report = compute_kpis([], START, END)
    assert all(m.rate is None and m.denominator == 0 for m in report.measures)
    assert all(s.mean_hours is None and s.count == 0 for s in report.stages)


def test_a_longer_response_limit_counts_the_late_signatures():
    # Cases 4 (30 h) and 8 (26 h) were signed for within 36 hours; 17 never was.
    assert compute_kpis(FACTS, START, END, response_limit_hours=36).measure("response").numerator == 8


def test_cases_outside_the_period_change_nothing():
    outside = [f for f in FACTS if f.case_id in (9, 14)]
    report = compute_kpis(outside, START, END)
    assert all(m.denominator == 0 for m in report.measures)


def test_period_is_shanghai_local_dates_with_the_end_excluded():
    window = window_for(date(2026, 3, 1), date(2026, 4, 1))
    assert (window.start, window.end) == (START, END)
    assert window.holds(datetime(2026, 2, 28, 16, tzinfo=UTC))
    assert not window.holds(datetime(2026, 3, 31, 16, tzinfo=UTC))
