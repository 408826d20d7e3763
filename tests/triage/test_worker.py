"""The triage worker turns received reports into cases: located, routed, on the clock; nothing is lost."""

from __future__ import annotations

from sqlalchemy import select

from cityops.cases.models import Case
from cityops.core.models import DeadLetter
from cityops.intake import flows
from cityops.intake.models import Report
from cityops.intake.schemas import ReportIn
from cityops.org.access import system_principal
from cityops.platform import Platform
from cityops.triage import worker
from tests.casefixture import MANHOLE, NOISE, POINT_A, POINT_B, build_case_city
from tests.cityfixture import STREET_A


def send(platform: Platform, channel_id: str, **fields: object) -> str:
    body = {"channel": "hotline", "channel_report_id": channel_id, "text": "问题描述：井盖缺失",
            "lng": POINT_A[0], "lat": POINT_A[1], **fields}
    return flows.receive(platform, report=ReportIn.model_validate(body), submitted_by=system_principal()).public_id


def case_of(platform: Platform, public_id: str) -> Case:
    with platform.db.session() as session:
        report = session.scalars(select(Report).where(Report.public_id == public_id)).one()
        case = session.get(Case, report.case_id)
        assert case is not None
        return case


def test_a_categorised_located_report_becomes_a_dispatched_case_by_the_most_specific_rule(platform: Platform):
    world = build_case_city(platform)
    public_id = send(platform, "H-1", category_code=MANHOLE)
    result = worker.drain(platform)
    assert (result.cases, result.dispatched) == (1, 1)
    case = case_of(platform, public_id)
    assert case.state == "dispatched" and case.region_code == STREET_A + "001001"
    assert case.department_id == world.department(f"{STREET_A}-office")
    assert case.route is not None and case.route["fallback"] is False
    assert case.stage_due_at is not None and case.due_at is not None and case.register_due_at is not None


def test_without_a_rule_the_category_default_department_is_used(platform: Platform):
    world = build_case_city(platform)
    public_id = send(platform, "H-2", category_code=NOISE)
    worker.drain(platform)
    case = case_of(platform, public_id)
    assert case.department_id == world.department("370303-cgj") and case.route["fallback"] is True  # type: ignore[index]


def test_a_report_without_category_waits_for_a_dispatcher(platform: Platform):
    build_case_city(platform)
    public_id = send(platform, "H-3")
    result = worker.drain(platform)
    assert (result.cases, result.waiting) == (1, 1)
    assert case_of(platform, public_id).state == "received"


def test_a_point_outside_the_city_still_becomes_a_case_at_city_level(platform: Platform):
    build_case_city(platform)
    public_id = send(platform, "H-4", lng=120.0, lat=30.0, category_code=MANHOLE)
    worker.drain(platform)
    case = case_of(platform, public_id)
    assert case.region_code == "370300"


def test_reports_in_two_streets_land_in_their_own_streets(platform: Platform):
    build_case_city(platform)
    a, b = send(platform, "H-5"), send(platform, "H-6", lng=POINT_B[0], lat=POINT_B[1])
    worker.drain(platform)
    assert case_of(platform, a).region_code.startswith("370303001")
    assert case_of(platform, b).region_code.startswith("370303002")


def test_one_failing_report_is_dead_lettered_and_the_rest_of_the_batch_goes_on(platform: Platform, monkeypatch):
    build_case_city(platform)
    good, bad = send(platform, "H-7"), send(platform, "H-8", text="触发故障的上报")
    original = worker._title

    def explode(text: str) -> str:
        if "故障" in text:
            raise RuntimeError("boom")
        return original(text)

    monkeypatch.setattr(worker, "_title", explode)
    result = worker.drain(platform)
    assert (result.cases, result.failed) == (1, 1)
    with platform.db.session() as session:
        statuses = dict(session.execute(select(Report.public_id, Report.status)).all())
        letters = session.scalars(select(DeadLetter)).all()
    assert statuses == {good: "waiting", bad: "failed"}
    assert [d.key for d in letters] == [bad] and "boom" in letters[0].error
