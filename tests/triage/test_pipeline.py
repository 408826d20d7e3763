"""The worker's pipeline, locate → classify → fuse → route → deadline, on the small city (both databases)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.cases.models import Case
from cityops.core.clock import FixedClock
from cityops.intake import flows
from cityops.intake.models import Report
from cityops.intake.schemas import ReportIn
from cityops.org.access import system_principal
from cityops.platform import Platform
from cityops.triage import corrections, worker
from cityops.triage import service as triage_service
from tests.casefixture import POINT_A, add_category, build_case_city
from tests.cityfixture import PASSWORD, STREET_A
from tests.web.conftest import login

WATER = "BJ01-05"  # burst water main: the packaged fusion policy fuses within 500 m and two hours
MANHOLE = "BJ01-01"  # the shipped classifier's code for a missing manhole cover
METRES_PER_DEGREE_LAT = 111_000


def send(platform: Platform, channel_id: str, text: str, **fields: Any) -> str:
    body = {"channel": "hotline", "channel_report_id": channel_id, "text": text, **fields}
    return flows.receive(platform, report=ReportIn.model_validate(body), submitted_by=system_principal()).public_id


def report_of(platform: Platform, public_id: str) -> Report:
    with platform.db.session() as session:
        return session.scalars(select(Report).where(Report.public_id == public_id)).one()


def cases(platform: Platform) -> list[Case]:
    with platform.db.session() as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


def north_of(point: tuple[float, float], metres: float) -> dict[str, float]:
    return {"lng": point[0], "lat": point[1] + metres / METRES_PER_DEGREE_LAT}


def test_a_burst_of_reports_about_one_water_main_becomes_one_case_and_one_3_km_away_its_own(platform: Platform):
    build_case_city(platform)
    add_category(platform, WATER, "供水管道漏水", "370303-cgj")
    clock = platform.clock
    assert isinstance(clock, FixedClock)
    texts = ["自来水管爆了，水冒到马路上", "路边水管破裂，水流成河", "这里自来水管漏水很严重，快来人",
             "爆管了，路面全是水", "供水管道破了，喷得老高"]
    first = send(platform, "W-0", texts[0], category_code=WATER, **north_of(POINT_A, 0))
    worker.drain(platform)
    for i in range(1, 20):
        clock.advance(timedelta(minutes=3))
        send(platform, f"W-{i}", texts[i % len(texts)], category_code=WATER, **north_of(POINT_A, 15 * i))
    far = send(platform, "W-far", texts[1], category_code=WATER, **north_of(POINT_A, 3000))
    result = worker.drain(platform)

    assert result.fused == 19 and result.cases == 1
    opened = cases(platform)
    assert len(opened) == 2
    burst = next(c for c in opened if c.id == report_of(platform, first).case_id)
    assert burst.report_count == 20
    assert report_of(platform, far).case_id != burst.id
    fused = report_of(platform, _public_id(platform, "W-5"))
    assert fused.status == "fused" and fused.triage["fuse"]["case_id"] == burst.id
    evidence = fused.triage["fuse"]["evidence"][0]
    assert {"distance_m", "minutes_apart", "text_similarity", "score"} <= set(evidence)


def test_a_burst_arriving_in_one_batch_is_fused_before_anything_is_written(platform: Platform):
    build_case_city(platform)
    add_category(platform, WATER, "供水管道漏水", "370303-cgj")
    for i in range(12):
        send(platform, f"B-{i}", "自来水管爆了，水冒到马路上" if i % 2 else "路边水管破裂，水流成河",
             category_code=WATER, **north_of(POINT_A, 20 * i))
    send(platform, "B-far", "路边水管破裂，水流成河", category_code=WATER, **north_of(POINT_A, 3000))
    result = worker.drain(platform)
    assert (result.cases, result.fused) == (2, 11)
    assert sorted(c.report_count for c in cases(platform)) == [1, 12]


def _public_id(platform: Platform, channel_id: str) -> str:
    with platform.db.session() as session:
        return session.scalars(select(Report.public_id).where(Report.channel_report_id == channel_id)).one()


def test_every_step_is_recorded_on_the_report(platform: Platform):
    build_case_city(platform)
    add_category(platform, MANHOLE, "井盖破损/缺失", "370303-cgj")
    public_id = send(platform, "S-1", "华光路上的井盖没了，晚上行人容易掉进去", **north_of(POINT_A, 0))
    worker.drain(platform)
    steps = report_of(platform, public_id).triage
    assert list(steps) == ["locate", "classify", "fuse", "route", "deadline"]
    assert steps["locate"]["by"] == "coordinates" and steps["locate"]["path"][-1] == STREET_A + "001001"
    assert steps["classify"]["by"] == "model" and steps["classify"]["suggested"] == MANHOLE
    assert steps["classify"]["accepted"] is True and steps["fuse"]["fused"] is False
    assert steps["route"]["department_code"] == "370303-cgj" and steps["deadline"]["due_at"]
    assert report_of(platform, public_id).status == "triaged"


def test_a_hotline_message_is_located_from_its_text_as_an_approximate_area(platform: Platform):
    build_case_city(platform)
    add_category(platform, MANHOLE, "井盖破损/缺失", "370303-cgj")
    public_id = send(platform, "T-1", "张店区车站街道华光路上的井盖没了，晚上行人容易掉进去")
    worker.drain(platform)
    report = report_of(platform, public_id)
    assert report.region_code == STREET_A
    assert report.triage["locate"] | {"text": None} == {
        "by": "text", "resolved": True, "approximate": True, "path": ["370300", "370303", STREET_A], "text": None}
    assert report.status == "triaged"


def test_an_unlocatable_report_waits_for_a_dispatcher_and_says_why(platform: Platform):
    build_case_city(platform)
    add_category(platform, MANHOLE, "井盖破损/缺失", "370303-cgj")
    public_id = send(platform, "U-1", "我家门口的井盖没了，晚上行人容易掉进去")
    worker.drain(platform)
    report = report_of(platform, public_id)
    assert report.status == "waiting" and report.triage["locate"]["resolved"] is False
    assert report.triage["deadline"]["waiting_because"] == "unlocated"


def test_an_address_naming_another_district_than_the_point_is_flagged(platform: Platform):
    build_case_city(platform)
    public_id = send(platform, "D-1", "路灯不亮", address="淄川区般阳路街道", **north_of(POINT_A, 0))
    worker.drain(platform)
    locate = report_of(platform, public_id).triage["locate"]
    assert locate["by"] == "coordinates" and locate["path"][-1] == STREET_A + "001001"
    assert locate["disagreement"]["kind"] == "address_disagrees_with_coordinates"


def test_an_unsure_classification_leaves_the_category_to_a_dispatcher(platform: Platform):
    build_case_city(platform)
    add_category(platform, MANHOLE, "井盖破损/缺失", "370303-cgj")
    platform.settings.triage_min_confidence = 1.01  # nothing is ever sure enough
    public_id = send(platform, "C-1", "华光路上的井盖没了", **north_of(POINT_A, 0))
    worker.drain(platform)
    report = report_of(platform, public_id)
    assert report.status == "waiting" and report.triage["classify"]["suggested"] == MANHOLE
    assert report.triage["classify"]["accepted"] is False
    assert report.triage["deadline"]["waiting_because"] == "no_category"


def test_a_dispatchers_category_for_an_unsure_report_becomes_a_training_example_once(platform: Platform,
                                                                                      client: TestClient):
    build_case_city(platform)
    add_category(platform, MANHOLE, "井盖破损/缺失", "370303-cgj")
    add_category(platform, "BJ01-02", "雨水箅子破损/堵塞", "370303-cgj")
    platform.settings.triage_min_confidence = 1.01
    public_id = send(platform, "L-1", "华光路上的井盖没了", **north_of(POINT_A, 0))
    worker.drain(platform)
    case_id = report_of(platform, public_id).case_id
    login(client, "a_dispatcher", PASSWORD)
    response = client.post(f"/api/v1/cases/{case_id}/actions/register", json={"category_code": MANHOLE})
    assert response.status_code == 200, response.text
    with platform.db.session() as session:
        stored = [(e.text, e.label, e.report_public_id) for e in triage_service.list_examples(session)]
    assert stored == [("华光路上的井盖没了", MANHOLE, public_id)]
    assert corrections.learn_from_registration(platform, case_id=case_id or 0, category_code=MANHOLE,
                                               actor=system_principal()) == 0


def test_a_category_the_channel_gave_teaches_the_classifier_nothing():
    assert not corrections.needs_correction({"classify": {"by": "channel", "category_code": "X"}}, "Y")
    assert corrections.needs_correction({"classify": {"by": "model", "suggested": "X", "accepted": True}}, "Y")
    assert corrections.needs_correction({"classify": {"by": "model", "suggested": "Y", "accepted": False}}, "Y")
    assert not corrections.needs_correction({"classify": {"by": "model", "suggested": "Y", "accepted": True}}, "Y")
