"""改类: a dispatcher corrects a registered case's category before a department holds it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cityops.cases import flows, service
from cityops.cases.flows import Command
from cityops.cases.models import Case
from cityops.cases.states import Action
from cityops.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from cityops.intake import flows as intake
from cityops.intake.schemas import ReportIn
from cityops.platform import Platform
from cityops.triage import worker as triage
from tests.casefixture import MANHOLE, NOISE, POINT_A, CaseCity, build_case_city


def _registered(platform: Platform, world: CaseCity, category: str) -> int:
    intake.receive(platform, submitted_by=world.people["a_dispatcher"], report=ReportIn(
        channel="hotline", channel_report_id="H-RECLASS", text="这里有点问题，请来看看", lng=POINT_A[0],
        lat=POINT_A[1]))
    triage.drain(platform)
    with platform.db.session() as session:
        case_id = session.scalars(select(Case.id)).one()
    flows.perform(platform, case_id=case_id, actor=world.people["a_dispatcher"],
                  command=Command(Action.REGISTER, category_code=category))
    return case_id


def test_reclassifying_a_registered_case_changes_its_category_and_counts_its_deadline_again(platform: Platform):
    world = build_case_city(platform)
    case_id = _registered(platform, world, NOISE)
    with platform.db.session() as session:
        before = service.get(session=session, case_id=case_id)
    assert before is not None
    flows.perform(platform, case_id=case_id, actor=world.people["a_dispatcher"],
                  command=Command(Action.RECLASSIFY, category_code=MANHOLE, reason="实为井盖问题"))
    with platform.db.session() as session:
        after = service.get(session=session, case_id=case_id)
        last = service.timeline(session=session, case_id=case_id)[-1]
    assert after is not None
    assert (after.category_code, after.state) == (MANHOLE, "registered")
    assert after.due_at != before.due_at  # the manhole category's limits, from the same registration time
    assert after.stage_due_at == before.stage_due_at
    assert (last.action, last.reason) == ("reclassify", "实为井盖问题")
    assert last.data == {"previous_category_code": NOISE, "category_code": MANHOLE}


def test_reclassifying_is_refused_to_the_same_category_after_dispatch_and_to_other_roles(platform: Platform):
    world = build_case_city(platform)
    case_id = _registered(platform, world, NOISE)
    dispatcher = world.people["a_dispatcher"]
    with pytest.raises(ValidationFailed) as same:
        flows.perform(platform, case_id=case_id, actor=dispatcher,
                      command=Command(Action.RECLASSIFY, category_code=NOISE, reason="不变"))
    assert same.value.field == "category_code"
    with pytest.raises(PermissionDenied):
        flows.perform(platform, case_id=case_id, actor=world.people["a_leader"],
                      command=Command(Action.RECLASSIFY, category_code=MANHOLE, reason="领导改类"))
    flows.perform(platform, case_id=case_id, actor=dispatcher, command=Command(
        Action.DISPATCH, department_id=world.department("370303001-office")))
    with pytest.raises(InvalidTransition):
        flows.perform(platform, case_id=case_id, actor=dispatcher,
                      command=Command(Action.RECLASSIFY, category_code=MANHOLE, reason="太晚了"))
