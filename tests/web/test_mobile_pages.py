"""The grid worker's phone pages: who may open them, and that the API calls the pages make are open to a grid
worker (photo upload, a patrol report, the grid's cases, verifying a handled case)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityops.cases import flows
from cityops.cases.flows import Command
from cityops.cases.models import Case
from cityops.cases.states import Action
from cityops.intake import flows as intake
from cityops.platform import Platform
from cityops.triage import worker as triage
from tests.casefixture import GRID_A, MANHOLE, POINT_A, build_case_city
from tests.cityfixture import PASSWORD
from tests.web.conftest import login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PAGES = ("/m", "/m/cases", "/m/cases/1")


def test_a_signed_out_visitor_is_sent_to_sign_in(client: TestClient, platform: Platform):
    build_case_city(platform)
    for path in PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/login?next=" + path


def test_a_dispatcher_or_handler_is_refused(client: TestClient, platform: Platform):
    build_case_city(platform)
    for username in ("a_dispatcher", "a_handler"):
        login(client, username, PASSWORD)
        for path in PAGES:
            response = client.get(path)
            assert response.status_code == 403, (username, path)
            assert "无权访问" in response.text
        client.post("/logout")


def test_a_grid_worker_and_an_admin_get_the_phone_pages(client: TestClient, platform: Platform):
    build_case_city(platform)
    for username in ("a_grid_worker", "a_admin"):
        login(client, username, PASSWORD)
        report = client.get("/m")
        assert report.status_code == 200
        assert 'capture="environment"' in report.text and 'accept="image/*"' in report.text
        assert 'channel: "patrol"' in report.text and "/static/vendor/leaflet/leaflet.js" in report.text
        assert client.get("/m/cases").status_code == 200
        assert "mobileCase({id: 7})" in client.get("/m/cases/7").text
        client.post("/logout")


def test_the_api_calls_of_the_phone_pages_are_open_to_a_grid_worker(client: TestClient, platform: Platform):
    world = build_case_city(platform)
    login(client, "a_grid_worker", PASSWORD)
    photo = client.post("/api/v1/photos", files={"file": ("p.png", PNG, "image/png")})
    assert photo.status_code == 201
    sent = client.post("/api/v1/reports", json={
        "channel": "patrol", "channel_report_id": "m-test-1", "text": "井盖缺失，已拍照", "lng": POINT_A[0],
        "lat": POINT_A[1], "crs": "wgs84", "photos": [photo.json()["id"]], "category_code": MANHOLE})
    assert sent.status_code == 201 and sent.json()["id"].startswith("R")
    triage.drain(platform)
    with platform.db.session() as session:
        case = session.scalars(select(Case)).one()
    cases = client.get(f"/api/v1/cases?state={case.state}&region_code={GRID_A}&limit=50&order=-received_at")
    assert cases.status_code == 200 and [c["id"] for c in cases.json()["items"]] == [case.id]
    p = world.people
    if case.state == "received":
        flows.perform(platform, case_id=case.id, actor=p["a_dispatcher"],
                      command=Command(Action.REGISTER, category_code=MANHOLE))
    if case.state in ("received", "registered"):
        flows.perform(platform, case_id=case.id, actor=p["a_dispatcher"],
                      command=Command(Action.DISPATCH, department_id=world.department("370303001-office")))
    flows.perform(platform, case_id=case.id, actor=p["lead_handler"], command=Command(Action.ACCEPT))
    flows.perform(platform, case_id=case.id, actor=p["lead_handler"], command=Command(
        Action.HANDLE, result="已补装", photos=(intake.store_photo(platform, PNG),)))
    detail = client.get(f"/api/v1/cases/{case.id}").json()["case"]
    assert detail["state"] == "handled" and detail["result_photos"]
    assert client.get(f"/api/v1/photos/{detail['result_photos'][0]}").status_code == 200
    rework = client.post(f"/api/v1/cases/{case.id}/actions/rework", json={"reason": "井盖没盖严",
                                                                           "expected_version": detail["version"]})
    assert rework.status_code == 200 and rework.json()["state"] == "reworked"
