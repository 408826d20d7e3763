"""The grid worker's phone pages in a real (phone-sized) browser: a patrol report with the GPS position and a
photo gets its tracking id, and the report shows up among the open cases of the worker's grid."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from tests.web.browser.conftest import png, shoot, sign_in

# Inside zd_gridworker's grid (车站第1社区第1网格, 张店区), so the case lands in the worker's own grid.
IN_MY_GRID = {"latitude": 36.822, "longitude": 118.003}


def test_a_grid_worker_reports_with_gps_and_a_photo_and_finds_it_in_the_grid(new_context: Any) -> None:
    page = new_context(phone=True, geolocation=IN_MY_GRID).new_page()
    sign_in(page, "zd_gridworker")
    assert page.url.endswith("/m")
    page.wait_for_function("document.getElementById('m-gps').textContent.includes('GPS')")
    assert page.locator(".leaflet-marker-icon").count() == 1  # the pin, draggable to correct the place
    token = uuid.uuid4().hex[:6].upper()
    page.fill("#m-text", f"巡查{token}：人行道井盖破损")
    page.click("header button:has-text('大字模式')")  # switched in place: the half-written report stays
    page.wait_for_function("document.documentElement.classList.contains('large')")
    assert token in page.locator("#m-text").input_value()
    page.set_input_files("#m-photo", files=[{"name": "scene.png", "mimeType": "image/png", "buffer": png()}])
    page.wait_for_selector("#m-photos img")
    box = page.locator("#m-submit").bounding_box()
    assert box is not None and box["height"] >= 44  # a thumb-sized target
    shoot(page, "mobile-report")  # the filled form: text, the photo's preview, the map with the GPS pin
    page.click("#m-submit")
    page.wait_for_selector("#m-done:not([hidden])")
    assert re.fullmatch(r"R\d{8}[0-9A-Z]{8}", page.locator("#m-tracking").inner_text().strip())
    shoot(page, "mobile-tracking")

    page.click("a:has-text('看我的网格')")
    deadline = time.time() + 20  # the triage worker turns the report into a case within a second or two
    while True:
        page.wait_for_selector("#m-loading", state="hidden")
        if page.locator(f".m-item:has-text('{token}')").count():
            break
        assert time.time() < deadline, "the patrol report did not become a case of the worker's grid"
        page.wait_for_timeout(500)
        page.reload()
    page.click("button.m-chip:has-text('全部')")
    page.click(f".m-item:has-text('{token}')")
    page.wait_for_selector("#m-case-body:not([hidden])")
    assert token in page.locator("#m-case-text").inner_text()
    assert page.locator("#m-report-photos img").count() == 1
