"""The citizen portal in a real browser: a resident switches on large text, reports a problem with a place
picked on the map, gets a tracking number in big type and looks the report up; axe finds nothing serious."""

from __future__ import annotations

import re
from typing import Any

from tests.web.browser.conftest import axe_violations, shoot

ZHANGDIAN = "370303"


def click_inside_region(page: Any, code: str) -> None:
    """Clicks a point of the map that lies inside the district's outline (found by hit-testing its SVG path)."""
    page.wait_for_selector(f"path.region-{code}")
    page.locator("#map").scroll_into_view_if_needed()
    point = page.evaluate("""(code) => {
        const path = document.querySelector(`path.region-${code}`);
        const box = path.getBoundingClientRect();
        for (let fy = 0.5; fy < 1; fy += 0.05) for (const f of [fy, 1 - fy]) for (let fx = 0.3; fx < 0.75; fx += 0.05) {
            const x = box.left + box.width * fx, y = box.top + box.height * f;
            if (document.elementFromPoint(x, y) === path) return {x, y};
        }
        return null;
    }""", code)
    assert point is not None, "no point of the district is visible on the map"
    page.mouse.click(point["x"], point["y"])


def no_serious_axe_violations(page: Any) -> None:
    violations = axe_violations(page)
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]


def test_a_resident_reports_with_large_text_and_a_map_pin_then_looks_it_up(new_context: Any) -> None:
    page = new_context().new_page()
    page.goto("/portal")
    no_serious_axe_violations(page)
    page.click("header button:has-text('大字模式')")
    page.wait_for_function("document.documentElement.classList.contains('large')")
    page.click("a.big-choice:has-text('我要反映问题')")
    assert "large" in (page.locator("html").get_attribute("class") or "")  # the choice stays on the next page
    page.fill("#text", "人民公园东门人行道上的井盖丢了，晚上很危险")
    click_inside_region(page, ZHANGDIAN)
    page.wait_for_function("document.getElementById('picked').textContent.includes('张店区')")
    page.fill("#phone", "13812345678")
    no_serious_axe_violations(page)
    shoot(page, "portal-large-text")

    page.click("#submit")
    page.wait_for_url(re.compile(r"/portal/thanks\?id=R"))
    number = page.locator("#tracking-number").inner_text().strip()
    assert re.fullmatch(r"R\d{8}[0-9A-Z]{8}", number)
    assert "large" in (page.locator("html").get_attribute("class") or "")
    no_serious_axe_violations(page)
    shoot(page, "portal-tracking")

    page.click("a:has-text('查询办理进度')")
    assert page.locator("#number").input_value() == number
    no_serious_axe_violations(page)
    page.fill("#phone4", "5678")
    page.click("#track-form button[type=submit]")
    page.wait_for_selector("#stage")
    assert number in page.locator("main").inner_text()
    assert page.locator("#stage").inner_text() in ("受理", "处理中")
    no_serious_axe_violations(page)
    shoot(page, "portal-status")


def test_the_lookup_refuses_wrong_phone_digits(new_context: Any) -> None:
    page = new_context(large=True).new_page()
    page.goto("/portal/track?id=R20260301ABCD1234")
    page.fill("#phone4", "0000")
    page.click("#track-form button[type=submit]")
    page.wait_for_selector("#problems")
    assert "没有查到" in page.locator("#problems").inner_text()
    no_serious_axe_violations(page)
