"""The leader cockpit in a real browser: district polygons on the map, drilling down by click, the cards equal to
the summary API, and a new report moving "today's reports" live (server-sent events), without a reload."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.web.browser.conftest import DEMO_PASSWORD, shoot, sign_in

CARDS = {"kpi-reports-today": "reports_today", "kpi-open": "open_cases", "kpi-overdue": "overdue_cases"}


def card(page: Any, element_id: str) -> int:
    return int(page.locator(f"#{element_id}").inner_text().replace(",", ""))


def summary(page: Any) -> dict[str, Any]:
    region = page.evaluate("new URLSearchParams(location.search).get('region') || ''")
    query = f"?region={region}" if region else ""
    return page.evaluate(f"() => api('/api/v1/cockpit/summary{query}')")  # type: ignore[no-any-return]


def test_the_cockpit_draws_the_city_drills_down_and_updates_live(new_context: Any) -> None:
    page = new_context().new_page()
    page.set_viewport_size({"width": 1600, "height": 1000})
    sign_in(page, "leader", then="/hub")  # the cockpit keeps a stream open: the page never goes network-idle
    page.goto("/cockpit")
    page.wait_for_selector("#ck-map[data-level='district']")
    districts = page.locator("#ck-map .leaflet-regions-pane path.leaflet-interactive")
    assert districts.count() >= 5
    page.wait_for_function("document.getElementById('kpi-open').textContent.trim() !== '—'")
    page.wait_for_selector("#ck-live-dot.on")
    body = summary(page)
    for element_id, key in CARDS.items():
        assert card(page, element_id) == body[key], key
    for level in ("red", "orange", "yellow", "blue"):
        assert card(page, f"alarm-{level}") == body["alarms"][level]
    rate = body["rates"]["timely_closure"]["rate"]
    expected = "—" if rate is None else f"{rate * 100:.1f}%"
    assert page.locator("#kpi-timely").inner_text() == expected
    page.wait_for_selector("#ck-trend canvas")
    shoot(page, "cockpit")

    before = card(page, "kpi-reports-today")
    post_report_as_dispatcher(new_context)
    moved = f"Number(document.getElementById('kpi-reports-today').textContent.replace(/,/g, '')) > {before}"
    page.wait_for_function(moved, timeout=20_000)
    assert "/cockpit" in page.url and page.evaluate("performance.getEntriesByType('navigation').length") == 1

    city = page.locator("#ck-crumbs [aria-current]").inner_text()
    districts.first.dispatch_event("click")
    page.wait_for_selector("#ck-crumbs a[data-index='0']")
    district = page.locator("#ck-crumbs [aria-current]").inner_text()
    assert district != city and "region=" in page.url
    page.wait_for_selector("#ck-map[data-level='street']")
    page.wait_for_function("document.getElementById('ck-region-name').textContent === "
                           f"{json.dumps(district)}")
    body = summary(page)
    assert body["region"]["region_name"] == district
    page.wait_for_function("document.getElementById('kpi-open').textContent.replace(/,/g, '') === "
                           f"'{body['open_cases']}'")
    page.click("#ck-crumbs a[data-index='0']")  # back up to the city
    page.wait_for_selector("#ck-map[data-level='district']")
    assert page.locator("#ck-crumbs [aria-current]").inner_text() == city


def post_report_as_dispatcher(new_context: Any) -> None:
    request = new_context().request
    login = request.post("/api/v1/auth/login", data={"username": "dispatcher", "password": DEMO_PASSWORD})
    assert login.ok, login.text()
    response = request.post("/api/v1/reports", data={
        "channel": "hotline", "channel_report_id": f"cockpit-{uuid.uuid4().hex[:10]}",
        "text": "共青团路路口井盖缺失，行人容易踩空", "lng": 118.05, "lat": 36.81})
    assert response.status == 201, response.text()
