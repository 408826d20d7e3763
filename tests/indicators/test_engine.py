"""The engine: observations with stored state drive one alarm per source, an alarm at the case level becomes a
sensor report that triage turns into a routed case, clearing names the case; case statistics are observed too."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cityops.cases.models import Case
from cityops.core.clock import FixedClock
from cityops.core.models import OutboxMessage
from cityops.indicators import alarms, engine
from cityops.indicators.engine import Observation
from cityops.indicators.evaluate import Rule, State, ThresholdSet, evaluate
from cityops.indicators.models import Alarm, Indicator, IndicatorState, Threshold
from cityops.intake import flows as intake
from cityops.intake.models import Report
from cityops.intake.schemas import ReportIn
from cityops.org import flows as org_flows
from cityops.org.access import system_principal
from cityops.platform import Platform
from cityops.triage import worker
from tests.casefixture import MANHOLE, NOISE, POINT_A, POINT_B, add_category, build_case_city
from tests.cityfixture import CITY, DISTRICT, STREET_A

GRID_A = STREET_A + "001001"
WATER_DEPT = "370303-slj"
FLOOD = "T-FLOOD"
LEVEL = "T-RIVER-LEVEL"
SLOW = "T-RIVER-SLOW"
OVERDUE = "T-OVERDUE"
# (level, value, clear value, minutes)
RIVER = [("yellow", 3.2, 3.0, 0.0), ("orange", 3.6, 3.4, 0.0), ("red", 4.0, 3.8, 0.0)]


def add_indicator(platform: Platform, code: str, thresholds: list[tuple[str, float, float, float]], *,
                  source_kind: str = "sensor_aggregate", statistic: str | None = None,
                  category_code: str | None = None, department: str = WATER_DEPT) -> None:
    with platform.uow() as uow:
        now = uow.clock.now()
        uow.session.add(Indicator(code=code, name="孝妇河水位" if statistic is None else "超期案件数", name_en=None,
                                  unit="m" if statistic is None else "件", department_code=department,
                                  domain="water" if statistic is None else "public_service", source_kind=source_kind,
                                  metric="water_level" if statistic is None else None,
                                  aggregate="max" if statistic is None else None, device_type=None, region_code=None,
                                  device_group=None, window_minutes=10, statistic=statistic,
                                  category_code=category_code, active=True, updated_at=now, updated_by="test"))
        uow.session.flush()
        for level, value, clear, minutes in thresholds:
            uow.session.add(Threshold(indicator_code=code, region_code="", level=level, comparison="above",
                                      value=value, clear_value=clear, duration_minutes=minutes, repetitions=1,
                                      updated_at=now, updated_by="test"))
        uow.commit()


def water_city(platform: Platform) -> int:
    """The small city with a water department and a flooding category routed to it by default."""
    build_case_city(platform)
    department_id = org_flows.create_department(platform, actor=None, code=WATER_DEPT, name="张店区水利局",
                                                region_code=DISTRICT)
    add_category(platform, FLOOD, "河道水位超警", WATER_DEPT)
    add_indicator(platform, LEVEL, RIVER, category_code=FLOOD)
    return department_id


def gauge(value: float, minute: float, *, source: str = "gauge-1", code: str = LEVEL) -> Observation:
    return Observation(code, source, GRID_A, POINT_A[0], POINT_A[1], start(minute), value)


def start(minute: float) -> datetime:
    return datetime(2026, 7, 20, 2, 0).astimezone() + timedelta(minutes=minute)


def sensor_reports(platform: Platform) -> list[Report]:
    with platform.db.session() as session:
        return list(session.scalars(select(Report).where(Report.channel == "sensor").order_by(Report.id)))


def all_alarms(platform: Platform) -> list[Alarm]:
    with platform.db.session() as session:
        return list(session.scalars(select(Alarm).order_by(Alarm.id)))


def test_a_rising_river_raises_one_alarm_opens_one_routed_case_and_clears_without_flapping(platform: Platform):
    water = water_city(platform)
    levels = []
    for minute, value in enumerate([2.0, 3.3, 3.7]):
        (result,) = engine.observe_many(platform, [gauge(value, minute)])
        levels.append(result.level)
    assert levels == ["none", "yellow", "orange"]
    (report,) = sensor_reports(platform)
    alarm_id = all_alarms(platform)[0].id
    assert report.channel_report_id == f"alarm:{alarm_id}" and report.category_code == FLOOD
    assert (report.lng, report.lat) == POINT_A and report.text.startswith("【橙色预警】孝妇河水位 3.7m")

    worker.drain(platform)
    with platform.db.session() as session:
        report_now = session.scalars(select(Report).where(Report.id == report.id)).one()
        assert report_now.status == "triaged" and report_now.triage["route"]["department_code"] == WATER_DEPT
        case = session.get(Case, report_now.case_id)
        assert case is not None and case.department_id == water and case.channel == "sensor"

    for minute, value in enumerate([4.2, 3.9, 3.5, 3.1, 3.25, 3.1, 3.25, 2.9, 3.1, 3.15], start=3):
        (result,) = engine.observe_many(platform, [gauge(value, minute)])
        levels.append(result.level)
    assert levels[3:] == ["red", "red", "orange", "yellow", "yellow", "yellow", "yellow", "none", "none", "none"]
    assert len(sensor_reports(platform)) == 1  # red did not send a second report
    (alarm,) = all_alarms(platform)  # one alarm all the way; hovering after clearing raised no new one
    assert (alarm.status, alarm.peak_level, alarm.case_report_id, alarm.case_id) == (
        "cleared", "red", report.public_id, case.id)
    with platform.db.session() as session:
        history = [(e.kind, e.level) for e in alarms.events(session=session, alarm_id=alarm.id)]
        cleared = session.scalars(select(OutboxMessage).where(OutboxMessage.subject == "cityops.alarms.cleared")).one()
    assert history == [("raised", "yellow"), ("changed", "orange"), ("changed", "red"), ("changed", "orange"),
                       ("changed", "yellow"), ("cleared", "none")]
    assert cleared.payload["case_id"] == case.id and cleared.payload["case_report_id"] == report.public_id


def test_opening_a_case_is_idempotent_and_heals_a_lost_step(platform: Platform):
    water_city(platform)
    (result,) = engine.observe_many(platform, [gauge(3.8, 0)], open_cases=False)  # as if we crashed after commit
    assert result.opens_case and sensor_reports(platform) == []
    (again,) = engine.observe_many(platform, [gauge(3.85, 1)])  # the next observation offers it again
    assert again.opens_case and again.alarm_id == result.alarm_id
    first = engine.open_cases_for(platform, [result.alarm_id or 0])
    assert first == []  # already stored: nothing left to send
    (report,) = sensor_reports(platform)
    # A repeat through intake with the same channel id gives back the same report.
    body = {"channel": "sensor", "channel_report_id": f"alarm:{result.alarm_id}", "text": "重复 / repeat",
            "lng": POINT_A[0], "lat": POINT_A[1]}
    receipt = intake.receive(platform, report=ReportIn.model_validate(body), submitted_by=system_principal())
    assert receipt.duplicate and receipt.public_id == report.public_id
    (later,) = engine.observe_many(platform, [gauge(4.1, 2)])
    assert later.level == "red" and not later.opens_case


def test_state_survives_between_transactions_and_stale_readings_change_nothing(platform: Platform):
    water_city(platform)
    add_indicator(platform, SLOW, [("yellow", 3.2, 3.0, 10.0)])
    for minute in (0, 5):
        with platform.uow() as uow:
            result = engine.observe(uow, platform, indicator_code=SLOW, source_key="gauge-9", region_code=GRID_A,
                                    lng=None, lat=None, ts=start(minute), value=3.3)
            uow.commit()
        assert result.level == "none"  # the streak is not yet 10 minutes long
    with platform.db.session() as session:
        row = session.scalars(select(IndicatorState).where(IndicatorState.source_key == "gauge-9")).one()
        assert row.state["streaks"]["yellow"][1] == 2 and row.state["last_ts"] == start(5).isoformat()
    (stale,) = engine.observe_many(platform, [gauge(9.9, 4, source="gauge-9", code=SLOW)])
    assert stale.stale and stale.level == "none"
    (entered,) = engine.observe_many(platform, [gauge(3.3, 10, source="gauge-9", code=SLOW)])
    assert (entered.previous, entered.level) == ("none", "yellow")  # 10 minutes across three transactions
    assert sensor_reports(platform) == []  # yellow is below the case level


def test_a_batch_in_one_transaction_keeps_sources_apart_and_results_in_order(platform: Platform):
    water_city(platform)
    batch = [gauge(3.3, 0, source="g-b"), gauge(3.3, 0, source="g-a"), gauge(3.7, 1, source="g-b"),
             gauge(2.0, 1, source="g-a"), gauge(3.3, 0, source="g-unknown", code="NO-SUCH-INDICATOR")]
    results = engine.observe_many(platform, batch)
    assert [(r.source_key, r.level) for r in results] == [
        ("g-b", "yellow"), ("g-a", "yellow"), ("g-b", "orange"), ("g-a", "none"), ("g-unknown", "none")]
    assert results[-1].evaluated is False
    # rows are locked in (indicator, source) order, so g-a's alarm is written first
    assert [(a.source_key, a.status) for a in all_alarms(platform)] == [("g-a", "cleared"), ("g-b", "active")]
    assert [r.channel_report_id for r in sensor_reports(platform)] == [f"alarm:{results[0].alarm_id}"]


def test_overdue_cases_above_the_line_raise_an_alarm_and_a_report_for_the_city(platform: Platform):
    build_case_city(platform)
    add_indicator(platform, OVERDUE, [("yellow", 2.0, 1.0, 0.0), ("orange", 3.0, 2.0, 0.0)],
                  source_kind="case_statistic", statistic="overdue_cases", department="370300-cgj")
    clock = platform.clock
    assert isinstance(clock, FixedClock)
    for i, (category, point) in enumerate([(MANHOLE, POINT_A), (NOISE, POINT_B), (MANHOLE, POINT_B)]):
        body = {"channel": "hotline", "channel_report_id": f"O-{i}", "text": f"第{i}号问题，请尽快处理",
                "category_code": category, "lng": point[0], "lat": point[1] + i * 0.01}
        intake.receive(platform, report=ReportIn.model_validate(body), submitted_by=system_principal())
    worker.drain(platform)
    (quiet,) = engine.evaluate_case_statistics(platform, clock.now())
    assert (quiet.source_key, quiet.level, quiet.alarm_id) == (f"stat:{OVERDUE}:{CITY}", "none", None)

    clock.advance(timedelta(days=30))
    (loud,) = engine.evaluate_case_statistics(platform, clock.now())
    assert loud.level == "orange"
    (alarm,) = all_alarms(platform)
    assert (alarm.source_key, alarm.region_code, alarm.value, alarm.lng) == (f"stat:{OVERDUE}:{CITY}", CITY, 3.0, None)
    (report,) = sensor_reports(platform)
    assert (report.address, report.category_code, report.channel_report_id) == ("淄博市", None, f"alarm:{alarm.id}")


# --- a group of values in one batch ----------------------------------------------------------------------


def _one_by_one(thresholds: ThresholdSet, values: list[tuple[int, float]]
                ) -> tuple[State, list[tuple[str, str, str, bool]], list[tuple[int, str]]]:
    """What evaluating the values one at a time gives: end state, (level, previous, reason, stale) per value,
    and the (position, level) of the steps that touch the alarm."""
    state, seen, steps = State(), [], []
    for minute, value in values:
        ts = start(minute)
        stale = state.last_ts is not None and ts <= state.last_ts
        state, result = evaluate(thresholds, state, ts, value)
        seen.append((result.level, result.previous, result.reason, stale))
        if not stale:
            steps.append((len(seen) - 1, result))
    touching = [(p, r.level) for n, (p, r) in enumerate(steps)
                if r.level != r.previous or (n == len(steps) - 1 and r.level != "none")]
    return state, seen, touching


@settings(max_examples=200, deadline=None)  # a shared, busy machine must not fail it on time
@given(values=st.lists(st.tuples(st.integers(0, 30), st.sampled_from([1.0, 2.9, 3.0, 3.2, 3.5, 3.7, 4.0, 4.5])),
                       max_size=25),
       thresholds=st.sampled_from([
           ThresholdSet((Rule("yellow", "above", 3.2, 3.0), Rule("red", "above", 4.0, 3.8, repetitions=3))),
           ThresholdSet((Rule("blue", "above", 2.9, 2.5, duration_s=300),)),
           ThresholdSet((Rule("blue", "below", 3.0, 3.5), Rule("red", "below", 1.0, 2.0)))]))
def test_a_groups_values_in_one_batch_evaluate_as_they_would_one_by_one(
        values: list[tuple[int, float]], thresholds: ThresholdSet) -> None:
    group = [gauge(value, minute) for minute, value in values]
    state, results, steps = engine._evaluate_group(State(), thresholds, group)
    expected_state, expected, expected_touching = _one_by_one(thresholds, values)
    assert state == expected_state
    assert [(r.level, r.previous, r.reason, r.stale) for r in results] == expected
    assert [(p, e.level) for p, _, e in engine._alarm_steps(steps)] == expected_touching
