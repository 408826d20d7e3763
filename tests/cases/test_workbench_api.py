"""The workbench through the real API: queues, search with filters and pages, actions, the timeline."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient

from cityops.platform import Platform
from cityops.triage import worker
from tests.casefixture import MANHOLE, NOISE, POINT_A, build_case_city
from tests.cityfixture import PASSWORD
from tests.web.conftest import login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


SPOTS = itertools.cycle([(POINT_A[0] + 0.012 * i, POINT_A[1] + 0.012 * j) for i in range(3) for j in range(3)])


def report(client: TestClient, channel_id: str, category: str | None = None, text: str = "井盖缺失") -> str:
    """Each report at its own spot in grid A, over a kilometre from the last, so triage does not fuse them."""
    lng, lat = next(SPOTS)
    body = {"channel": "hotline", "channel_report_id": channel_id, "text": text, "lng": lng, "lat": lat,
            "category_code": category}
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_dispatcher_takes_a_case_from_the_triage_queue_to_closure_through_the_api(platform: Platform,
                                                                                  client: TestClient):
    world = build_case_city(platform)
    login(client, "a_dispatcher", PASSWORD)
    report(client, "W-1", text="小区门口井盖没有了")
    worker.drain(platform)
    queue = client.get("/api/v1/workbench/triage-queue").json()
    assert queue["total"] == 1
    case = queue["items"][0]
    assert case["state"] == "received" and case["state_label"] == "受理"
    cid = case["id"]
    bad = client.post(f"/api/v1/cases/{cid}/actions/register", json={})
    assert bad.status_code == 409 and bad.json()["error"]["code"] == "case.invalid_transition"
    assert client.post(f"/api/v1/cases/{cid}/actions/register", json={"category_code": MANHOLE}).status_code == 200
    office = world.department("370303001-office")
    dispatched = client.post(f"/api/v1/cases/{cid}/actions/dispatch", json={"department_id": office})
    assert dispatched.json()["state"] == "dispatched"
    assert client.get("/api/v1/workbench/triage-queue").json()["total"] == 0

    login(client, "lead_handler", PASSWORD)
    tasks = client.get("/api/v1/workbench/my-tasks").json()
    assert [t["id"] for t in tasks["items"]] == [cid]
    assert client.post(f"/api/v1/cases/{cid}/actions/accept", json={}).status_code == 200
    photo = client.post("/api/v1/photos", files={"file": ("p.png", PNG, "image/png")}).json()["id"]
    handled = client.post(f"/api/v1/cases/{cid}/actions/handle", json={"result": "已更换井盖", "photos": [photo]})
    assert handled.status_code == 200 and handled.json()["state"] == "handled"

    login(client, "a_grid_worker", PASSWORD)
    assert client.post(f"/api/v1/cases/{cid}/actions/verify", json={}).json()["state"] == "verified"
    login(client, "a_dispatcher", PASSWORD)
    assert client.post(f"/api/v1/cases/{cid}/actions/close", json={}).json()["state"] == "closed"
    follow = client.post(f"/api/v1/cases/{cid}/actions/follow_up", json={"resolved": True, "satisfaction": "satisfied"})
    assert follow.json()["state"] == "followed_up"

    detail = client.get(f"/api/v1/cases/{cid}").json()
    assert [t["action"] for t in detail["timeline"]] == ["receive", "register", "dispatch", "accept", "handle",
                                                         "verify", "close", "follow_up"]
    assert detail["reports"][0]["text"] == "小区门口井盖没有了"
    assert detail["case"]["result_photos"] == [photo]


def test_search_filters_and_pages(platform: Platform, client: TestClient):
    build_case_city(platform)
    login(client, "a_dispatcher", PASSWORD)
    for n in range(5):
        report(client, f"S-{n}", MANHOLE, text=f"井盖缺失 第{n}处")
    for n in range(3):
        report(client, f"N-{n}", NOISE, text=f"夜间施工噪声 第{n}次")
    worker.drain(platform)
    page = client.get("/api/v1/cases", params={"limit": 3, "offset": 0}).json()
    assert page["total"] == 8 and len(page["items"]) == 3
    second = client.get("/api/v1/cases", params={"limit": 3, "offset": 3}).json()
    assert not {c["id"] for c in page["items"]} & {c["id"] for c in second["items"]}
    assert client.get("/api/v1/cases", params={"category_code": NOISE}).json()["total"] == 3
    assert client.get("/api/v1/cases", params={"q": "噪声"}).json()["total"] == 3
    assert client.get("/api/v1/cases", params={"state": "dispatched"}).json()["total"] == 8
    bad = client.get("/api/v1/cases", params={"state": "lost"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "state"


def test_overdue_and_soon_due_lists_follow_the_clock(platform: Platform, client: TestClient):
    from datetime import timedelta

    from cityops.core.clock import FixedClock

    build_case_city(platform)
    login(client, "a_dispatcher", PASSWORD)
    report(client, "D-1", MANHOLE)
    worker.drain(platform)
    assert client.get("/api/v1/workbench/overdue").json()["total"] == 0
    clock = platform.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(days=30))
    assert client.get("/api/v1/workbench/overdue").json()["total"] == 1
    assert client.get("/api/v1/cases", params={"overdue": True}).json()["items"][0]["overdue"] is True
