"""A month of case history (March 2026, Asia/Shanghai) with known answers, as plain CaseFacts, and a writer that
puts the same history into the database as Case rows with a matching timeline (CaseTransition rows).

Odd-numbered cases lie in street A's grid, even-numbered ones in street B's. Cases 10 and 11 are imported
without any transitions. The expected figures are counted by hand in test_kpis.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from cityops.cases.models import Case, CaseTransition
from cityops.core.clock import CHINA_TZ
from cityops.insight.kpis import CaseFacts
from cityops.platform import Platform
from tests.cityfixture import STREET_A, STREET_B

FROM, TO = date(2026, 3, 1), date(2026, 4, 1)  # March; TO excluded
START = datetime(2026, 2, 28, 16, tzinfo=UTC)  # 2026-03-01 00:00 in Shanghai
END = datetime(2026, 3, 31, 16, tzinfo=UTC)  # 2026-04-01 00:00 in Shanghai
GRID_A, GRID_B = STREET_A + "001001", STREET_B + "001001"


PERIOD_FIELDS = ("received_at", "registered_at", "register_due_at", "first_dispatched_at", "handle_due_at",
                 "handled_at", "verified_at", "verify_due_at", "due_at", "closed_at", "followed_up_at")


def relevant(f: CaseFacts) -> bool:
    """Whether any milestone or deadline of the case falls in March (what cases.facts selects)."""
    return any((at := getattr(f, name)) is not None and START <= at < END for name in PERIOD_FIELDS)


def local(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time in 2026, as the aware UTC datetime the database hands back."""
    return datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ).astimezone(UTC)


def _case(n: int, departments: tuple[int | None, int | None], **values: Any) -> CaseFacts:
    street_a = n % 2 == 1
    dispatched = values.get("first_dispatched_at") is not None
    department = (departments[0] if street_a else departments[1]) if dispatched else None
    return CaseFacts(case_id=n, region_code=GRID_A if street_a else GRID_B, department_id=department,
                     category_code="T-CAT", channel="hotline", **values)


def _done(n: int, deps: tuple[int | None, int | None], *, state: str = "closed", **values: Any) -> CaseFacts:
    """A dispatched case: one dispatch and one handling unless told otherwise."""
    values.setdefault("dispatch_count", 1)
    values.setdefault("handle_count", 1 if values.get("handled_at") else 0)
    return _case(n, deps, state=state, **values)


def scenario(department_a: int | None = 101, department_b: int | None = 102) -> list[CaseFacts]:
    d = (department_a, department_b)
    return [
        # 1: by the book, every step on time, followed up satisfied.
        _done(1, d, state="followed_up", received_at=local(3, 2, 9), register_due_at=local(3, 2, 13),
              registered_at=local(3, 2, 10), first_dispatched_at=local(3, 2, 11), accepted_at=local(3, 2, 13),
              handle_due_at=local(3, 5, 11), handled_at=local(3, 4), verify_due_at=local(3, 5),
              verified_at=local(3, 4, 15), closed_at=local(3, 5, 9), due_at=local(3, 10), followed_up_at=local(3, 6),
              resolved=True, satisfaction="satisfied"),
        # 2: rejected (不予立案).
        _case(2, d, state="rejected", rejected=True, received_at=local(3, 3), register_due_at=local(3, 3, 14)),
        # 3: received, not yet decided.
        _case(3, d, received_at=local(3, 28), register_due_at=local(3, 28, 14)),
        # 4: due in the period and still open; signed for after 30 hours.
        _done(4, d, state="in_progress", received_at=local(3, 10, 9), register_due_at=local(3, 10, 13),
              registered_at=local(3, 10), first_dispatched_at=local(3, 10, 12), accepted_at=local(3, 11, 18),
              handle_due_at=local(3, 15, 12), due_at=local(3, 20)),
        # 5: reworked once, handled again late, closed on time, basically satisfied.
        _done(5, d, state="followed_up", received_at=local(3, 5, 8), register_due_at=local(3, 5, 12),
              registered_at=local(3, 5, 9), first_dispatched_at=local(3, 5), accepted_at=local(3, 5, 11),
              handle_due_at=local(3, 8), handled_at=local(3, 9), handle_count=2, rework_count=1,
              verify_due_at=local(3, 10), verified_at=local(3, 9, 16), due_at=local(3, 15), closed_at=local(3, 10),
              followed_up_at=local(3, 11), resolved=True, satisfaction="basically"),
        # 6: handled late, closed late but inside the period; unresolved and dissatisfied.
        _done(6, d, state="followed_up", received_at=local(3, 6), register_due_at=local(3, 6, 14),
              registered_at=local(3, 6, 11), first_dispatched_at=local(3, 6, 12), accepted_at=local(3, 6, 15),
              handle_due_at=local(3, 11, 12), handled_at=local(3, 13), verify_due_at=local(3, 14),
              verified_at=local(3, 13, 16), due_at=local(3, 12), closed_at=local(3, 14), followed_up_at=local(3, 15),
              resolved=False, satisfaction="dissatisfied"),
        # 7: due in March, handled and closed only in April.
        _done(7, d, received_at=local(3, 18), register_due_at=local(3, 18, 14), registered_at=local(3, 18, 12),
              first_dispatched_at=local(3, 18, 14), accepted_at=local(3, 18, 16), handle_due_at=local(3, 24, 14),
              handled_at=local(4, 2), verify_due_at=local(4, 3), verified_at=local(4, 2, 15), due_at=local(3, 25),
              closed_at=local(4, 3)),
        # 8: returned and re-dispatched; signed for 26 hours after the first dispatch; verified late.
        _done(8, d, received_at=local(3, 7), register_due_at=local(3, 7, 14), registered_at=local(3, 7, 11),
              first_dispatched_at=local(3, 8), dispatch_count=2, return_count=1, accepted_at=local(3, 9, 12),
              handle_due_at=local(3, 12), handled_at=local(3, 11), verify_due_at=local(3, 12),
              verified_at=local(3, 12, 15), due_at=local(3, 17), closed_at=local(3, 13)),
        # 9: all in February: outside the period.
        _done(9, d, state="followed_up", received_at=local(2, 1), register_due_at=local(2, 1, 14),
              registered_at=local(2, 1, 11), first_dispatched_at=local(2, 1, 12), accepted_at=local(2, 1, 13),
              handle_due_at=local(2, 4), handled_at=local(2, 3), verify_due_at=local(2, 5), verified_at=local(2, 4),
              due_at=local(2, 10), closed_at=local(2, 5), followed_up_at=local(2, 6), resolved=True,
              satisfaction="satisfied"),
        # 10: imported without a timeline; registered late; unresolved, dissatisfied.
        _done(10, d, state="followed_up", imported=True, has_timeline=False, received_at=local(3, 4),
              register_due_at=local(3, 4, 14), registered_at=local(3, 4, 16), first_dispatched_at=local(3, 5),
              handle_due_at=local(3, 8), handled_at=local(3, 6), verify_due_at=local(3, 7),
              verified_at=local(3, 6, 15), due_at=local(3, 12), closed_at=local(3, 7), followed_up_at=local(3, 8),
              resolved=False, satisfaction="dissatisfied"),
        # 11: imported without a timeline or any deadline; one return (from Case.return_count).
        _done(11, d, imported=True, has_timeline=False, received_at=local(3, 12), registered_at=local(3, 12, 11),
              first_dispatched_at=local(3, 12, 12), dispatch_count=2, return_count=1, handled_at=local(3, 14),
              verified_at=local(3, 14, 12), closed_at=local(3, 15)),
        # 12: received in February, due and closed (on time) in March.
        _done(12, d, received_at=local(2, 25), register_due_at=local(2, 25, 14), registered_at=local(2, 25, 11),
              first_dispatched_at=local(2, 25, 12), accepted_at=local(2, 25, 13), handle_due_at=local(2, 28, 12),
              handled_at=local(2, 27), verify_due_at=local(2, 28), verified_at=local(2, 27, 15), due_at=local(3, 3),
              closed_at=local(3, 2)),
        # 13: received half an hour into March (still February in UTC), not yet decided.
        _case(13, d, received_at=local(3, 1, 0, 30), register_due_at=local(3, 1, 4, 30)),
        # 14: received half an hour into April (still March in UTC): outside the period.
        _case(14, d, state="registered", received_at=local(4, 1, 0, 30), registered_at=local(4, 1, 1),
              register_due_at=local(4, 1, 4, 30)),
        # 15: received and registered in the last half hour of March.
        _case(15, d, state="registered", received_at=local(3, 31, 23, 30), registered_at=local(3, 31, 23, 50),
              register_due_at=local(4, 1, 3, 30)),
        # 16: handled late, failed verification, being redone now; due in March, open.
        _done(16, d, state="reworked", received_at=local(3, 16), register_due_at=local(3, 16, 14),
              registered_at=local(3, 16, 11), first_dispatched_at=local(3, 16, 12), accepted_at=local(3, 16, 13),
              handle_due_at=local(3, 19, 12), handled_at=local(3, 20), rework_count=1, verify_due_at=local(3, 21),
              due_at=local(3, 26)),
        # 17: dispatched at the end of March, never signed for.
        _done(17, d, state="dispatched", received_at=local(3, 30, 9), register_due_at=local(3, 30, 13),
              registered_at=local(3, 30), first_dispatched_at=local(3, 30, 11), handle_due_at=local(4, 2, 11),
              due_at=local(4, 8)),
        # 18: every step exactly at its deadline (on time), signed for after exactly 24 hours; no rating given.
        _done(18, d, state="followed_up", received_at=local(3, 20), register_due_at=local(3, 20, 14),
              registered_at=local(3, 20, 14), first_dispatched_at=local(3, 20, 15), accepted_at=local(3, 21, 15),
              handle_due_at=local(3, 23, 15), handled_at=local(3, 23, 15), verify_due_at=local(3, 24, 15),
              verified_at=local(3, 24, 15), due_at=local(3, 27), closed_at=local(3, 27), followed_up_at=local(3, 28),
              resolved=True),
        # 19: a February case followed up on March 1st, satisfied.
        _done(19, d, state="followed_up", received_at=local(2, 10), register_due_at=local(2, 10, 14),
              registered_at=local(2, 10, 11), first_dispatched_at=local(2, 10, 12), accepted_at=local(2, 10, 13),
              handle_due_at=local(2, 14), handled_at=local(2, 13), verify_due_at=local(2, 15),
              verified_at=local(2, 14), due_at=local(2, 20), closed_at=local(2, 18), followed_up_at=local(3, 1),
              resolved=True, satisfaction="satisfied"),
        # 20: dispatched three times in February (two returns), handled, verified and closed in March.
        _done(20, d, received_at=local(2, 20), register_due_at=local(2, 20, 14), registered_at=local(2, 20, 11),
              first_dispatched_at=local(2, 20, 12), dispatch_count=3, return_count=2, accepted_at=local(2, 24),
              handle_due_at=local(2, 27), handled_at=local(3, 3), verify_due_at=local(3, 4),
              verified_at=local(3, 3, 16), due_at=local(3, 6), closed_at=local(3, 4)),
    ]


# --- into the database ------------------------------------------------------------------------------------------


def insert_history(platform: Platform, facts: list[CaseFacts]) -> None:
    with platform.uow() as uow:
        for one in facts:
            uow.session.add(case_row(one))
        uow.session.flush()
        for one in facts:
            uow.session.add_all(timeline(one))
        uow.commit()


def case_row(f: CaseFacts, **overrides: Any) -> Case:
    values: dict[str, Any] = dict(
        id=f.case_id, number=f"T-{f.case_id:05d}", title=f"case {f.case_id}", description="test",
        category_code=f.category_code, region_code=f.region_code, channel=f.channel, state=f.state,
        department_id=f.department_id, received_at=f.received_at, registered_at=f.registered_at,
        register_due_at=f.register_due_at, first_dispatched_at=f.first_dispatched_at,
        dispatched_at=f.first_dispatched_at, return_count=f.return_count, handled_at=f.handled_at,
        handle_due_at=f.handle_due_at, rework_count=f.rework_count, verified_at=f.verified_at,
        verify_due_at=f.verify_due_at, closed_at=f.closed_at, due_at=f.due_at, followed_up_at=f.followed_up_at,
        resolved=f.resolved, satisfaction=f.satisfaction, imported=f.imported, updated_at=f.received_at, version=1)
    values.update(overrides)
    return Case(**values)


def timeline(f: CaseFacts) -> list[CaseTransition]:
    """Transitions that say what the facts say: imported cases without a timeline get none at all."""
    if not f.has_timeline:
        return []
    steps: list[tuple[str, datetime]] = [("receive", f.received_at)]
    if f.registered_at:
        steps += [("register", f.registered_at), ("escalate", f.registered_at)]  # noise the facts must ignore
    if f.first_dispatched_at:
        steps += _dispatch_steps(f, f.first_dispatched_at)
    return [CaseTransition(case_id=f.case_id, action=action, from_state=None, to_state="x", actor="test",
                           role="dispatcher", reason=None, data={}, at=at) for action, at in steps]


def _dispatch_steps(f: CaseFacts, first: datetime) -> list[tuple[str, datetime]]:
    minute = timedelta(minutes=1)
    steps = [("dispatch", first)]
    for i in range(f.return_count):
        steps += [("return", first + (2 * i + 1) * minute), ("dispatch", first + (2 * i + 2) * minute)]
    if f.accepted_at:
        steps.append(("accept", f.accepted_at))
    for i in range(f.handle_count):
        steps.append(("handle", first + timedelta(hours=i + 1)))
        if i < f.rework_count:
            steps.append(("rework", first + timedelta(hours=i + 1, minutes=30)))
            if f.accepted_at:  # signed for again after the rework: later, so the first 签收 stays the first
                steps.append(("accept", f.accepted_at + timedelta(days=1, hours=i)))
    return steps
