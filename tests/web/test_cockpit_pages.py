"""The cockpit page and its JSON endpoints over HTTP: who may open them, scope by region, the event stream."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from cityops.platform import Platform
from tests.cases.matrix import seed_cases
from tests.cityfixture import DISTRICT, PASSWORD, STREET_A, STREET_B, build_small_city
from tests.web.conftest import login

ENDPOINTS = ("summary", "map", "trends", "indicators")


@pytest.fixture
def seeded(platform: Platform) -> None:
    seed_cases(platform, build_small_city(platform))


def test_signed_out_the_page_sends_to_sign_in_and_the_api_answers_401(client: TestClient, seeded: None) -> None:
    response = client.get("/cockpit?region=370303", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/cockpit%3Fregion%3D370303"
    for name in (*ENDPOINTS, "stream"):
        assert client.get(f"/api/v1/cockpit/{name}").status_code == 401, name


def test_a_handler_gets_the_403_page_and_403_from_the_api(client: TestClient, seeded: None) -> None:
    login(client, "a_handler", PASSWORD)
    page = client.get("/cockpit")
    assert page.status_code == 403 and "<html" in page.text
    for name in ENDPOINTS:
        assert client.get(f"/api/v1/cockpit/{name}").status_code == 403, name


@pytest.mark.parametrize("username", ["a_leader", "a_dispatcher", "district_admin"])
def test_the_page_opens_dark_and_full_screen_on_the_callers_region(client: TestClient, seeded: None,
                                                                   username: str) -> None:
    login(client, username, PASSWORD)
    page = client.get("/cockpit")
    assert page.status_code == 200
    assert "cockpit-screen" in page.text and 'class="cockpit"' in page.text
    assert "/static/js/cockpit.js" in page.text and "/static/vendor/leaflet/leaflet.js" in page.text
    boot = json.loads(page.text.split('id="cockpit-boot">')[1].split("</script>")[0])
    own = STREET_A if username.startswith("a_") else DISTRICT
    assert boot["path"][-1]["region_code"] == own
    assert all(p["region_code"].startswith(own[:6]) for p in boot["path"])


def test_the_page_for_a_region_outside_the_scope_starts_from_the_callers_own(client: TestClient,
                                                                           seeded: None) -> None:
    login(client, "a_leader", PASSWORD)
    page = client.get(f"/cockpit?region={STREET_B}")
    assert page.status_code == 200 and STREET_B not in page.text.split('id="cockpit-boot">')[1][:400]


def test_a_street_user_cannot_get_another_streets_figures(client: TestClient, seeded: None) -> None:
    login(client, "a_leader", PASSWORD)
    for name in ENDPOINTS:
        assert client.get(f"/api/v1/cockpit/{name}", params={"region": STREET_B}).status_code == 404, name
        assert client.get(f"/api/v1/cockpit/{name}", params={"region": DISTRICT}).status_code == 404, name
        own = client.get(f"/api/v1/cockpit/{name}")
        assert own.status_code == 200 and own.json()["region"]["region_code"] == STREET_A, name
    assert client.get("/api/v1/cockpit/stream", params={"region": STREET_B}).status_code == 404
    items = client.get("/api/v1/cockpit/map").json()["items"]
    assert items and all(i["region_code"].startswith(STREET_A) for i in items)


def test_the_district_sees_both_streets_on_the_map_and_in_the_breakdown(client: TestClient, seeded: None) -> None:
    login(client, "district_admin", PASSWORD)
    body = client.get("/api/v1/cockpit/summary").json()
    assert {r["region_code"]: r["open_cases"] for r in body["breakdown"]} == {STREET_A: 4, STREET_B: 4}
    codes = {i["region_code"][:9] for i in client.get("/api/v1/cockpit/map").json()["items"]}
    assert codes == {STREET_A, STREET_B}
    within = client.get("/api/v1/cockpit/map", params={"bbox": "118.0,36.6,118.1,36.7"}).json()["items"]
    assert within and {i["region_code"][:9] for i in within} == {STREET_A}


def test_a_bad_bbox_names_the_field(client: TestClient, seeded: None) -> None:
    login(client, "district_admin", PASSWORD)
    response = client.get("/api/v1/cockpit/map", params={"bbox": "118,36"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "bbox"


def test_the_stream_sends_the_summary_as_server_sent_events(client: TestClient, seeded: None) -> None:
    login(client, "district_admin", PASSWORD)
    summary = client.get("/api/v1/cockpit/summary").json()
    with client.stream("GET", "/api/v1/cockpit/stream", params={"limit": 1}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    event = next(block for block in text.split("\n\n") if block.startswith("event: summary"))
    data = json.loads(event.split("data: ", 1)[1])
    assert data["open_cases"] == summary["open_cases"] and data["reports_today"] == summary["reports_today"]
    assert data["region"]["region_code"] == DISTRICT
