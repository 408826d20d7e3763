"""The citizen portal's pages and form posts: a report from the form, the tracking number, the lookup that needs
the reporter's phone digits, plain field errors, and the rating that runs the case's follow-up."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.cases import flows
from cityops.cases.flows import Command
from cityops.cases.models import Case
from cityops.cases.states import Action
from cityops.intake import flows as intake
from cityops.intake.models import Report
from cityops.platform import Platform
from cityops.triage import worker as triage
from tests.casefixture import MANHOLE, POINT_A, CaseCity, build_case_city

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PHONE = "13812345678"


def form_id(client: TestClient) -> str:
    page = client.get("/portal/report")
    assert page.status_code == 200
    found = re.search(r'name="form_id" value="([0-9a-f]{32})"', page.text)
    assert found, "the form carries its own id"
    return found.group(1)


def report(client: TestClient, **changes: str) -> tuple[int, str]:
    data = {"form_id": form_id(client), "text": "和平路口井盖没了，晚上很危险，联系我 13912345678",
            "phone": PHONE, "lng": str(POINT_A[0]), "lat": str(POINT_A[1]), "address": "", "name": "王大爷"}
    data.update(changes)
    response = client.post("/portal/report", data=data, follow_redirects=False)
    if response.status_code != 303:
        return response.status_code, response.text
    return 303, response.headers["location"]


def tracking_number(location: str) -> str:
    found = re.search(r"id=(R\d{8}[0-9A-Z]{8})$", location)
    assert found, location
    return found.group(1)


def close_case(platform: Platform, world: CaseCity, number: str) -> int:
    triage.drain(platform)
    with platform.db.session() as session:
        case_id = session.scalars(select(Report.case_id).where(Report.public_id == number)).one()
    assert case_id is not None
    p = world.people
    steps = [(p["a_dispatcher"], Command(Action.REGISTER, category_code=MANHOLE)),
             (p["a_dispatcher"], Command(Action.DISPATCH, department_id=world.department("370303001-office"))),
             (p["lead_handler"], Command(Action.ACCEPT)),
             (p["lead_handler"], Command(Action.HANDLE, result="已补装井盖，联系人张伟 13700001111",
                                         photos=(intake.store_photo(platform, PNG),))),
             (p["a_grid_worker"], Command(Action.VERIFY)),
             (p["a_dispatcher"], Command(Action.CLOSE))]
    with platform.db.session() as session:
        state = session.get(Case, case_id)
        assert state is not None
        if state.state != "received":  # triage may have registered and dispatched it already
            steps = [s for s in steps if s[1].action not in (Action.REGISTER, Action.DISPATCH)]
    for actor, command in steps:
        flows.perform(platform, case_id=case_id, actor=actor, command=command)
    return case_id


def test_the_portal_pages_open_without_signing_in_and_honour_large_text(client: TestClient, platform: Platform):
    build_case_city(platform)
    for path in ("/portal", "/portal/report", "/portal/track"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'class="large' not in page.text
    client.cookies.set("cityops_large", "1")
    for path in ("/portal", "/portal/report", "/portal/track"):
        assert 'class="large portal' in client.get(path).text, path
    assert '"type": "FeatureCollection"' in client.get("/portal/report").text  # the map's outlines come along
    english = client.get("/portal/report?lang=en")
    assert "Report a problem" in english.text and "我要反映问题" not in english.text


def test_a_portal_report_is_filed_on_the_portal_channel_and_shows_its_tracking_number(client: TestClient,
                                                                                       platform: Platform):
    build_case_city(platform)
    status, location = report(client)
    assert status == 303
    number = tracking_number(location)
    thanks = client.get(location)
    assert thanks.status_code == 200 and 'id="tracking-number"' in thanks.text and number in thanks.text
    with platform.db.session() as session:
        stored = session.scalars(select(Report).where(Report.public_id == number)).one()
        assert (stored.channel, stored.reporter_phone, stored.reporter_name) == ("portal", PHONE, "王大爷")
        assert stored.submitted_by.startswith("citizen:") and stored.lng == POINT_A[0]


def test_sending_the_same_form_twice_files_one_report(client: TestClient, platform: Platform):
    build_case_city(platform)
    same = form_id(client)
    first = report(client, form_id=same)
    second = report(client, form_id=same)
    assert first == second and first[0] == 303
    with platform.db.session() as session:
        assert len(session.scalars(select(Report)).all()) == 1


def test_a_bad_phone_number_is_named_and_what_was_typed_stays(client: TestClient, platform: Platform):
    build_case_city(platform)
    status, page = report(client, phone="12345")
    assert status == 422
    assert 'id="phone-error"' in page and "11 位手机号" in page
    assert 'aria-invalid="true"' in page and "和平路口井盖没了" in page  # nothing typed is lost
    status, page = report(client, lng="", lat="", address="")
    assert status == 422 and 'id="location-error"' in page
    with platform.db.session() as session:
        assert session.scalars(select(Report)).all() == []


def test_a_photo_is_checked_by_its_content_and_kept_on_the_report(client: TestClient, platform: Platform):
    build_case_city(platform)
    data = {"form_id": form_id(client), "text": "路灯不亮了，晚上看不见路", "phone": PHONE, "lng": str(POINT_A[0]),
            "lat": str(POINT_A[1])}
    fake = client.post("/portal/report", data=data, files={"photo": ("photo.jpg", b"not really a picture")},
                       follow_redirects=False)
    assert fake.status_code == 422 and 'id="photo-error"' in fake.text and "不是照片" in fake.text
    good = client.post("/portal/report", data=data, files={"photo": ("photo.png", PNG, "image/png")},
                       follow_redirects=False)
    assert good.status_code == 303
    with platform.db.session() as session:
        stored = session.scalars(select(Report)).one()
        assert len(stored.photos) == 1 and stored.photos[0].endswith(".png")


def test_the_lookup_needs_the_right_phone_digits_and_masks_personal_data(client: TestClient, platform: Platform):
    build_case_city(platform)
    number = tracking_number(report(client)[1])
    wrong = client.post("/portal/track", data={"number": number, "phone4": "0000"})
    assert 'id="problems"' in wrong.text and "没有查到" in wrong.text and "井盖" not in wrong.text
    unknown = client.post("/portal/track", data={"number": "R20260301ABCDEFGH", "phone4": "5678"})
    assert unknown.text.replace("R20260301ABCDEFGH", number) == wrong.text  # a stranger learns nothing
    right = client.post("/portal/track", data={"number": number.lower(), "phone4": "5678"})
    assert right.status_code == 200 and number in right.text
    assert 'id="stage"' in right.text and "受理" in right.text
    assert "13912345678" not in right.text and "139****5678" in right.text  # mask_text on the report's text
    assert client.get(f"/portal/track?id={number}").text.count(number) >= 1  # the thanks page's link prefills it


def test_a_closed_case_can_be_rated_and_the_rating_runs_the_follow_up(client: TestClient, platform: Platform):
    world = build_case_city(platform)
    number = tracking_number(report(client)[1])
    case_id = close_case(platform, world, number)
    status = client.post("/portal/track", data={"number": number, "phone4": "5678"})
    assert "已办结" in status.text and 'id="rate-form"' in status.text
    assert "张*" in status.text and "13700001111" not in status.text  # the result is masked too
    assert "车站街道办事处" in status.text  # the department handling it
    missing = client.post("/portal/rate", data={"number": number, "phone4": "5678", "resolved": "yes"})
    assert missing.status_code == 422 and "是否满意" in missing.text
    stranger = client.post("/portal/rate", data={"number": number, "phone4": "1111", "resolved": "yes",
                                                 "satisfaction": "satisfied"})
    assert 'id="problems"' in stranger.text and 'id="rate-form"' not in stranger.text
    rated = client.post("/portal/rate", data={"number": number, "phone4": "5678", "resolved": "yes",
                                              "satisfaction": "satisfied"})
    assert rated.status_code == 200 and 'id="thanks"' in rated.text and 'id="rate-form"' not in rated.text
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert (case.state, case.resolved, case.satisfaction) == ("followed_up", True, "satisfied")
    again = client.post("/portal/rate", data={"number": number, "phone4": "5678", "resolved": "yes",
                                              "satisfaction": "satisfied"})
    assert again.status_code == 409  # rated once only


def test_a_dissatisfied_rating_reopens_the_case(client: TestClient, platform: Platform):
    world = build_case_city(platform)
    number = tracking_number(report(client)[1])
    case_id = close_case(platform, world, number)
    rated = client.post("/portal/rate", data={"number": number, "phone4": "5678", "resolved": "no",
                                              "satisfaction": "dissatisfied"})
    assert rated.status_code == 200 and "重新安排处理" in rated.text
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert (case.state, case.reopened_count, case.satisfaction) == ("registered", 1, "dissatisfied")
