"""The demo city's own Open311 key (the one `cityops demo` prints) files a request that reads back by id,
routed by the demo catalogue; a wrong key gets 403 in the spec's error format."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cityops.demo.loader import load_demo
from cityops.platform import Platform
from cityops.triage import worker

DEMO_KEY = "demo-open311-key-for-this-test-0123456789"


def test_the_demo_key_files_a_request_that_reads_back_routed(platform: Platform, client: TestClient):
    creds = load_demo(platform, admin_password="demo-admin-password-1", open311_key=DEMO_KEY)
    assert creds.open311_key == DEMO_KEY
    form = {"api_key": DEMO_KEY, "service_code": "BJ01-01", "lat": "36.8137", "long": "118.0691",
            "description": "人民西路井盖缺失，晚上很危险", "first_name": "张"}
    posted = client.post("/open311/v2/requests.json", data=form)
    assert posted.status_code == 200, posted.text
    request_id = posted.json()[0]["service_request_id"]
    worker.drain(platform)
    found = client.get(f"/open311/v2/requests/{request_id}.json")
    assert found.status_code == 200
    request = found.json()[0]
    assert (request["service_request_id"], request["service_code"], request["status"]) == (request_id, "BJ01-01",
                                                                                          "open")
    assert "张店区" in request["agency_responsible"] and request["expected_datetime"]

    wrong = client.post("/open311/v2/requests.json", data={**form, "api_key": "not-the-demo-key"})
    assert wrong.status_code == 403
    assert wrong.json()[0]["code"] == 403 and wrong.json()[0]["description"]
