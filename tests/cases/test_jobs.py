"""The deadline sweep: warning before a stage deadline, 督办 to the department when overdue, to the leader
after `escalate_to_leader_after_hours`; suspended and closed cases left alone; a second run changes nothing.

Runs on SQLite and PostgreSQL (`platform` fixture); time moves only through the explicit `now=`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count as counter
from typing import Any

import pytest
from sqlalchemy import func, select

from cityops.audit.models import AuditRecord
from cityops.cases.jobs import ESCALATED_SUBJECT, JOB_ACTOR, sweep_deadlines
from cityops.cases.models import Case, CaseTransition, Escalation
from cityops.cases.states import State
from cityops.core.clock import CHINA_TZ, FixedClock
from cityops.core.models import OutboxMessage
from cityops.notify.base import MemoryNotifier, Notification
from cityops.org import flows as org_flows
from cityops.platform import Platform
from cityops.regions import service as regions
from tests.cityfixture import DISTRICT, REGIONS, STREET_A
from tests.conftest import START

DUE = datetime(2026, 3, 2, 10, 0, tzinfo=CHINA_TZ)  # a Monday morning
GRID = STREET_A + "001001"
numbers = counter(1)


@pytest.fixture
def city(platform: Platform) -> dict[str, int]:
    """The small city's regions and its district department; no staff, since hashing their passwords is most
    of build_small_city's time and the job needs none."""
    with platform.uow() as uow:
        regions.upsert_regions(session=uow.session, regions=REGIONS, at=uow.clock.now())
        uow.commit()
    code = "370303-cgj"
    return {code: org_flows.create_department(platform, actor=None, code=code, name="张店区城管局",
                                              region_code=DISTRICT)}


def make_case(platform: Platform, department_id: int | None, *, state: State = State.DISPATCHED,
              stage_due_at: datetime | None = DUE, suspended: bool = False, **extra: Any) -> int:
    columns: dict[str, Any] = {"escalation_level": 0, "version": 1, **extra}
    with platform.uow() as uow:
        case = Case(number=f"T{next(numbers):06d}", title="井盖缺失", description="人行道井盖缺失",
                    region_code=GRID, channel="hotline", state=state.value, suspended=suspended,
                    department_id=department_id, received_at=START, updated_at=START, stage_due_at=stage_due_at,
                    **columns)
        uow.session.add(case)
        uow.session.flush()
        uow.commit()
        return case.id


def load(platform: Platform, case_id: int) -> Case:
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        session.expunge(case)  # keep its loaded values once the read session rolls back
        return case


def rows(platform: Platform, model: type, **where: Any) -> int:
    with platform.db.session() as session:
        query = select(func.count()).select_from(model).filter_by(**where)
        return session.scalar(query) or 0


def sent(platform: Platform) -> list[Notification]:
    assert isinstance(platform.notifier, MemoryNotifier)
    return platform.notifier.sent


def footprint(platform: Platform) -> tuple[int, ...]:
    """Everything a sweep may write, counted."""
    return (rows(platform, Escalation), rows(platform, CaseTransition), rows(platform, AuditRecord),
            rows(platform, OutboxMessage), len(sent(platform)))


# --- warning ----------------------------------------------------------------------------------------


def test_a_case_within_the_warning_window_is_warned_once(platform: Platform, city: dict[str, int]):
    case_id = make_case(platform, city["370303-cgj"])
    now = DUE - timedelta(hours=1)
    result = sweep_deadlines(platform, now=now)
    assert result.warned == [case_id] and result.escalated == []
    case = load(platform, case_id)
    assert case.warned_at == now and case.overdue_at is None and case.escalation_level == 0
    (notice,) = sent(platform)
    assert (notice.kind, notice.case_id, notice.department_id) == ("deadline.warning", case_id, city["370303-cgj"])
    assert "2026-03-02 10:00" in notice.title  # the deadline as people read it, in Beijing time
    assert rows(platform, Escalation) == 0


def test_a_deadline_further_away_than_the_window_is_left_alone(platform: Platform, city: dict[str, int]):
    make_case(platform, city["370303-cgj"])
    result = sweep_deadlines(platform, now=DUE - timedelta(hours=2, minutes=1))
    assert (result.scanned, result.warned, sent(platform)) == (0, [], [])


# --- overdue and escalation -------------------------------------------------------------------------


def test_an_overdue_case_is_escalated_to_its_department(platform: Platform, city: dict[str, int]):
    case_id = make_case(platform, city["370303-cgj"])
    now = DUE + timedelta(minutes=1)
    result = sweep_deadlines(platform, now=now)
    assert result.overdue == [case_id] and result.escalated == [(case_id, 1)]
    case = load(platform, case_id)
    assert (case.overdue_at, case.escalation_level, case.state, case.version) == (now, 1, "dispatched", 2)
    with platform.db.session() as session:
        escalation = session.scalars(select(Escalation)).one()
        assert (escalation.level, escalation.raised_by, escalation.at) == (1, JOB_ACTOR, now)
        step = session.scalars(select(CaseTransition)).one()
        assert (step.action, step.from_state, step.to_state, step.actor, step.role) == (
            "escalate", "dispatched", "dispatched", JOB_ACTOR, "system")
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "case.escalated")).one()
        assert (record.region_code, record.entity_id, record.data["level"]) == (GRID, str(case_id), 1)
        message = session.scalars(select(OutboxMessage).where(OutboxMessage.subject == ESCALATED_SUBJECT)).one()
        assert message.key == f"case.escalated:{case_id}:1:{DUE.astimezone(UTC).isoformat()}"
        assert message.payload["level"] == 1 and message.payload["case_id"] == case_id
    assert [(n.kind, n.level) for n in sent(platform)] == [("deadline.overdue", 1), ("case.escalated", 1)]


def test_a_case_overdue_past_the_leader_threshold_goes_to_the_leader(platform: Platform, city: dict[str, int]):
    case_id = make_case(platform, city["370303-cgj"])
    sweep_deadlines(platform, now=DUE + timedelta(hours=1))
    assert sweep_deadlines(platform, now=DUE + timedelta(hours=23)).escalated == []  # not yet 24 h
    now = DUE + timedelta(hours=24, minutes=1)
    result = sweep_deadlines(platform, now=now)
    assert result.escalated == [(case_id, 2)] and result.overdue == []
    assert load(platform, case_id).escalation_level == 2
    assert rows(platform, Escalation, level=2) == 1 and rows(platform, CaseTransition, action="escalate") == 2
    assert rows(platform, OutboxMessage, subject=ESCALATED_SUBJECT) == 2
    last = sent(platform)[-1]
    assert (last.kind, last.level) == ("case.escalated", 2) and "领导" in last.title


def test_a_case_first_seen_long_overdue_is_escalated_to_both_levels_in_one_pass(platform: Platform,
                                                                                city: dict[str, int]):
    case_id = make_case(platform, city["370303-cgj"])
    result = sweep_deadlines(platform, now=DUE + timedelta(days=3))
    assert result.escalated == [(case_id, 1), (case_id, 2)]
    assert load(platform, case_id).escalation_level == 2


def test_a_case_a_person_already_escalated_to_the_leader_gets_only_the_department_level(
        platform: Platform, city: dict[str, int]):
    case_id = make_case(platform, city["370303-cgj"], escalation_level=2)
    result = sweep_deadlines(platform, now=DUE + timedelta(days=3))
    assert result.escalated == [(case_id, 1)]
    assert load(platform, case_id).escalation_level == 2  # never lowered


def test_a_new_stage_is_warned_and_escalated_afresh(platform: Platform, city: dict[str, int]):
    case_id = make_case(platform, city["370303-cgj"])
    sweep_deadlines(platform, now=DUE + timedelta(hours=1))
    next_due = DUE + timedelta(days=2)
    with platform.uow() as uow:  # what the lead's flows do when a stage begins
        case = uow.session.get(Case, case_id)
        assert case is not None
        case.state, case.stage_due_at, case.warned_at, case.overdue_at = "in_progress", next_due, None, None
        uow.commit()
    assert sweep_deadlines(platform, now=next_due - timedelta(hours=1)).warned == [case_id]
    assert sweep_deadlines(platform, now=next_due + timedelta(hours=1)).escalated == [(case_id, 1)]
    assert rows(platform, Escalation, level=1) == 2


# --- cases the job leaves alone ---------------------------------------------------------------------


def test_suspended_closed_and_deadline_less_cases_are_left_alone(platform: Platform, city: dict[str, int]):
    department = city["370303-cgj"]
    make_case(platform, department, suspended=True, suspended_at=START)
    make_case(platform, department, state=State.CLOSED)
    make_case(platform, department, state=State.FOLLOWED_UP)
    make_case(platform, department, state=State.REJECTED)
    make_case(platform, department, state=State.RECEIVED, stage_due_at=None)
    result = sweep_deadlines(platform, now=DUE + timedelta(days=3))
    assert (result.scanned, result.escalated, sent(platform)) == (0, [], [])
    assert rows(platform, Escalation) == 0


# --- running again ----------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [timedelta(hours=-1), timedelta(hours=1), timedelta(days=3)])
def test_a_second_sweep_at_the_same_moment_changes_nothing(platform: Platform, city: dict[str, int],
                                                           offset: timedelta):
    for _ in range(3):
        make_case(platform, city["370303-cgj"])
    now = DUE + offset
    first = sweep_deadlines(platform, now=now)
    assert first.scanned == 3
    before = footprint(platform)
    second = sweep_deadlines(platform, now=now)
    assert (second.scanned, second.warned, second.overdue, second.escalated) == (0, [], [], [])
    assert footprint(platform) == before


def test_cases_are_taken_in_batches_until_none_is_left(platform: Platform, city: dict[str, int]):
    ids = [make_case(platform, city["370303-cgj"]) for _ in range(5)]
    result = sweep_deadlines(platform, now=DUE + timedelta(hours=1), batch_size=2)
    assert result.overdue == ids


def test_without_now_the_sweep_reads_the_platform_clock(platform: Platform, city: dict[str, int]):
    case_id = make_case(platform, city["370303-cgj"])
    platform.clock = FixedClock(DUE + timedelta(minutes=5))
    assert sweep_deadlines(platform).overdue == [case_id]


class BrokenNotifier:
    def __init__(self) -> None:
        self.tried = 0

    def send(self, notification: Notification) -> None:
        self.tried += 1
        raise ConnectionError("receiver down")


def test_a_failing_notifier_loses_the_notice_but_not_the_escalation(platform: Platform, city: dict[str, int]):
    first, second = make_case(platform, city["370303-cgj"]), make_case(platform, city["370303-cgj"])
    platform.notifier = broken = BrokenNotifier()
    result = sweep_deadlines(platform, now=DUE + timedelta(hours=1))
    assert result.overdue == [first, second] and result.notifications == 0 and broken.tried == 4
    assert load(platform, first).escalation_level == 1 and load(platform, second).escalation_level == 1
