"""A ready-made Open311 client, the PyPI package `georeport`, reads this platform from a running server.

The server is real: uvicorn on a free port of 127.0.0.1, serving create_app(platform) with its bus and triage
worker, as in production. georeport 0.3.1 only reads (its README: it "does not currently support the creation of
new 311 service requests"), so requests are posted form-encoded with `requests`, as any Open311 client would.
What georeport gives back in XML mode is xmltodict's view of the document: every value is a string, an element
with no children is None, and a list holding a single element comes back as that element, not a list of one.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import georeport
import pytest
import requests
import uvicorn

from cityops.platform import Platform
from cityops.web.app import create_app
from tests.casefixture import MANHOLE, NOISE, POINT_A
from tests.intake.test_open311_api import build_open311_city, new_key


@pytest.fixture
def base_url(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # requests honours proxy settings; never for this
    build_open311_city(platform)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))  # a free port, held open so nothing else takes it before uvicorn does
    platform.settings = platform.settings.model_copy(update={"run_workers": True})  # as in real use
    server = uvicorn.Server(uvicorn.Config(create_app(platform), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), "the server to start")
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/open311/v2"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listener.close()


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def post(base_url: str, api_key: str, service_code: str = MANHOLE) -> str:
    response = requests.post(f"{base_url}/requests.json", timeout=10, data={
        "api_key": api_key, "service_code": service_code, "lat": POINT_A[1], "long": POINT_A[0],
        "description": "井盖缺失", "email": "li@example.com"})
    assert response.status_code == 200, response.text
    return str(response.json()[0]["service_request_id"])


def test_georeport_reads_services_a_definition_and_requests_in_json(platform: Platform, base_url: str):
    first, second = post(base_url, new_key(platform)), post(base_url, new_key(platform), NOISE)
    client = georeport.GeoReport(base_url, output_format="json")
    assert {s["service_code"] for s in client.get_service_list()} == {MANHOLE, NOISE}
    assert client.get_service_definition(MANHOLE) == {"service_code": MANHOLE, "attributes": []}
    assert [r["service_request_id"] for r in client.get_service_requests(service_code=MANHOLE)] == [first]
    assert {r["service_request_id"] for r in client.get_service_requests(status="open")} == {first, second}
    assert [r["service_request_id"] for r in client.get_service_requests(service_request_id=second)] == [second]
    # The server's own triage worker picks the request up: the agency and the due time appear.
    triaged = wait_until(lambda: client.get_service_request(first)["agency_responsible"] and
                         client.get_service_request(first), "the triage worker to route the request")
    assert triaged["agency_responsible"] == "车站街道办事处" and triaged["status"] == "open"
    assert triaged["expected_datetime"].endswith("+08:00")
    assert "li@example.com" not in str(client.get_service_requests())


def test_georeport_reads_the_same_in_xml(platform: Platform, base_url: str):
    first, second = post(base_url, new_key(platform)), post(base_url, new_key(platform), NOISE)
    client = georeport.GeoReport(base_url, output_format="xml")
    services = client.get_service_list()
    assert {s["service_code"] for s in services} == {MANHOLE, NOISE}
    assert {s["metadata"] for s in services} == {"false"}  # XML text, as xmltodict reads it
    assert client.get_service_definition(MANHOLE) == {"service_code": MANHOLE, "attributes": None}
    assert {r["service_request_id"] for r in client.get_service_requests()} == {first, second}
    single = client.get_service_requests(service_code=NOISE)  # one <request>: xmltodict gives the element itself
    assert single["service_request_id"] == second
    assert client.get_service_request(first)["service_code"] == MANHOLE


def test_georeport_with_a_jurisdiction_and_its_errors(platform: Platform, base_url: str):
    request_id = post(base_url, new_key(platform))
    # One jurisdiction is served, so jurisdiction_id is accepted and ignored, as the spec allows.
    client = georeport.GeoReport(base_url, jurisdiction="zibo.gov.cn")
    assert client.get_service_request(request_id)["service_request_id"] == request_id
    with pytest.raises(requests.HTTPError) as unknown:
        client.get_service_request("R19990101AAAAAAAA")
    assert unknown.value.response.status_code == 404
    assert unknown.value.response.json()[0]["code"] == 404
