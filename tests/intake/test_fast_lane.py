"""fast_lane.py answers POST /api/v1/reports for a remembered API key exactly as the route would, and hands
everything else to the route: the route's refusals stay the only ones."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cityops.intake import views
from cityops.org import flows as org_flows
from cityops.platform import Platform
from tests.casefixture import build_case_city
from tests.cityfixture import PASSWORD
from tests.intake.test_receive import count_reports, report
from tests.web.conftest import login


@pytest.fixture
def route_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One entry per request the route itself answered (it checks the permission; the lane does not call it)."""
    calls: list[str] = []
    original = views.require

    def counting(principal, permission):  # type: ignore[no-untyped-def]
        calls.append(permission)
        original(principal, permission)

    monkeypatch.setattr(views, "require", counting)
    return calls


def api_key(platform: Platform, role: str = "system") -> dict[str, str]:
    _, token = org_flows.create_api_key(platform, actor=None, name=f"{role} program", role=role,
                                        region_code="370303")
    return {"X-API-Key": token}


def test_a_remembered_key_is_answered_by_the_lane_as_the_route_answers(platform: Platform, client: TestClient,
                                                                         route_calls: list[str]):
    build_case_city(platform)
    key = api_key(platform)
    first = client.post("/api/v1/reports", json=report("L-1"), headers=key)  # the route looks the key up
    second = client.post("/api/v1/reports", json=report("L-2"), headers=key)
    again = client.post("/api/v1/reports", json=report("L-2"), headers=key)
    assert route_calls == ["reports.create"]
    assert (first.status_code, second.status_code, again.status_code) == (201, 201, 200)
    assert second.json() == {"id": second.json()["id"], "status": "received", "duplicate": False}
    assert again.json() == {"id": second.json()["id"], "status": "received", "duplicate": True}
    assert list(first.headers.items()) == list(second.headers.items())  # same header names, order and values
    assert count_reports(platform) == 2


def test_the_route_decides_every_request_the_lane_cannot_answer_alike(platform: Platform, client: TestClient,
                                                                        route_calls: list[str]):
    build_case_city(platform)
    key = api_key(platform)
    assert client.post("/api/v1/reports", json=report("L-1"), headers=key).status_code == 201
    invalid = client.post("/api/v1/reports", json=report("L-2", lng=200.0), headers=key)
    assert invalid.status_code == 422 and invalid.json()["error"]["field"] == "lng"
    broken = client.post("/api/v1/reports", content=b"{not json", headers={**key, "Content-Type": "application/json"})
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "validation.invalid"
    as_text = client.post("/api/v1/reports", content=b"{}", headers={**key, "Content-Type": "text/plain"})
    assert as_text.status_code == 422
    login(client, "a_dispatcher", PASSWORD)  # a browser session: the route resolves who it is
    assert client.post("/api/v1/reports", json=report("L-3")).status_code == 201
    assert count_reports(platform) == 2
    assert len(route_calls) == 2  # the first key lookup and the session; refused bodies never reach `require`


def test_a_key_without_the_permission_is_refused_also_once_remembered(platform: Platform, client: TestClient):
    build_case_city(platform)
    key = api_key(platform, role="citizen")
    refusals = [client.post("/api/v1/reports", json=report(f"L-{i}"), headers=key) for i in range(2)]
    assert [r.status_code for r in refusals] == [403, 403]
    assert refusals[1].json()["error"]["code"] == refusals[0].json()["error"]["code"]
    assert count_reports(platform) == 0


def test_an_unknown_photo_is_refused_by_the_lane_naming_the_field(platform: Platform, client: TestClient,
                                                                    route_calls: list[str]):
    build_case_city(platform)
    key = api_key(platform)
    client.post("/api/v1/reports", json=report("L-1"), headers=key)
    refused = client.post("/api/v1/reports", json=report("L-2", photos=["0" * 64 + ".png"]), headers=key)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "photos[0]"
    english = client.post("/api/v1/reports", json=report("L-2", photos=["0" * 64 + ".png"]),
                          headers={**key, "Accept-Language": "en"})
    assert english.json()["error"]["message"] != refused.json()["error"]["message"]
    assert len(route_calls) == 1 and count_reports(platform) == 1


def test_the_lane_s_reports_are_counted_under_the_route_template(platform: Platform, client: TestClient):
    build_case_city(platform)
    key = api_key(platform)
    for i in range(3):
        client.post("/api/v1/reports", json=report(f"L-{i}"), headers=key)
    body = client.get("/metrics").text
    assert 'cityops_http_requests_total{method="POST",route="/api/v1/reports",status="201"} 3.0' in body
