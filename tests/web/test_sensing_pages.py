"""The sensing pages: who may open them, the device map's data scoped by the caller's region, and an indicator's
chart with its readings and threshold bands."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityops.indicators import flows
from cityops.indicators.evaluate import Rule
from cityops.platform import Platform
from cityops.sensing import ingest
from cityops.web.sensing_pages import threshold_bands
from tests.cityfixture import CITY, PASSWORD, build_small_city
from tests.conftest import START
from tests.sensing.conftest import seed_devices
from tests.web.conftest import login

RIVER = "T-RIVER-LEVEL"
INDICATORS = f"""code,name,name_en,unit,department_code,domain,source_kind,metric,aggregate,device_type,region_code,\
window_minutes,category_code
{RIVER},测试河水位,Test river,m,370303-cgj,water,sensor_aggregate,water_level,max,water_level_gauge,{CITY},10,
"""
THRESHOLDS = f"""indicator_code,region_code,level,comparison,value,clear_value,duration_minutes,repetitions
{RIVER},,blue,above,2.8,2.6,0,1
{RIVER},,yellow,above,3.2,3.0,0,1
{RIVER},,red,above,4.0,3.8,0,1
"""


@pytest.fixture
def sensing_city(platform: Platform) -> Platform:
    build_small_city(platform)
    seed_devices(platform)  # WL-001 in street A's grid, AQ-001 in street B's grid, MT-001 in street A
    flows.import_catalogue(platform, indicators=INDICATORS.encode(), thresholds=THRESHOLDS.encode(), actor="test")
    for minute, level in ((-30, 2.5), (-20, 3.0), (-10, 3.4)):  # the last one raises a yellow alarm
        body = {"ts": (START + timedelta(minutes=minute)).isoformat(), "metrics": {"water_level": level}}
        result = ingest.ingest(platform, "WL-001", json.dumps(body).encode(), source="test")
        assert result.accepted, result
    return platform


def embedded(html: str, element_id: str) -> Any:
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert found, f"no #{element_id} in the page"
    return json.loads(found.group(1))


def test_signed_out_visitors_are_sent_to_sign_in_and_other_roles_are_refused(
        sensing_city: Platform, client: TestClient) -> None:
    response = client.get("/sensing", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/sensing"
    response = client.get(f"/sensing/indicators/{RIVER}", follow_redirects=False)
    assert response.status_code == 303
    for username in ("a_handler", "a_grid_worker", "a_data_officer"):
        login(client, username, PASSWORD)
        assert client.get("/sensing").status_code == 403
        assert client.get(f"/sensing/indicators/{RIVER}").status_code == 403


def test_the_map_lists_only_the_devices_in_the_callers_region(sensing_city: Platform, client: TestClient) -> None:
    login(client, "city_admin", PASSWORD)
    page = client.get("/sensing")
    assert page.status_code == 200
    devices = {d["id"]: d for d in embedded(page.text, "sensing-devices")}
    assert set(devices) == {"WL-001", "AQ-001", "MT-001"}
    assert devices["WL-001"]["status"] == "online" and devices["AQ-001"]["status"] == "unknown"
    assert devices["WL-001"]["type_name"] == "水位计"
    assert f'/sensing/indicators/{RIVER}' in page.text
    assert "Sensors on the map" in client.get("/sensing", params={"lang": "en"}).text

    login(client, "a_dispatcher", PASSWORD)  # street A only
    page = client.get("/sensing")
    assert page.status_code == 200
    assert {d["id"] for d in embedded(page.text, "sensing-devices")} == {"WL-001", "MT-001"}
    assert 'data-level="community"' in page.text

    login(client, "b_leader", PASSWORD)  # street B only
    assert {d["id"] for d in embedded(client.get("/sensing").text, "sensing-devices")} == {"AQ-001"}


def test_an_indicator_chart_has_its_readings_threshold_bands_and_open_alarm(
        sensing_city: Platform, client: TestClient) -> None:
    login(client, "a_dispatcher", PASSWORD)
    page = client.get(f"/sensing/indicators/{RIVER}")
    assert page.status_code == 200
    chart = embedded(page.text, "indicator-data")
    assert [s["device"] for s in chart["series"]] == ["WL-001"]
    assert [p[1] for p in chart["series"][0]["points"]] == [2.5, 3.0, 3.4]
    assert [(b["level"], b["from"], b["to"]) for b in chart["bands"]] == [
        ("blue", 2.8, 3.2), ("yellow", 3.2, 4.0), ("red", 4.0, chart["max"])]
    assert chart["min"] < 2.5 and chart["max"] > 4.0
    assert "黄色" in page.text and "3.4" in page.text  # the open yellow alarm of the gauge

    login(client, "b_dispatcher", PASSWORD)  # the gauge is in street A: not on street B's chart
    chart = embedded(client.get(f"/sensing/indicators/{RIVER}").text, "indicator-data")
    assert chart["series"] == [] and len(chart["bands"]) == 3


def test_an_unknown_indicator_is_a_404_page(sensing_city: Platform, client: TestClient) -> None:
    login(client, "city_admin", PASSWORD)
    response = client.get("/sensing/indicators/NO-SUCH")
    assert response.status_code == 404
    assert "没有这个指标" in response.text


def test_bands_for_a_below_comparison_grow_downwards() -> None:
    rules = [Rule("blue", "below", 10, 12), Rule("red", "below", 5, 6)]
    assert [(b["level"], b["from"], b["to"]) for b in threshold_bands(rules, 0, 20)] == [
        ("blue", 5, 10), ("red", 0, 5)]
