"""Sensing in a real browser: the dispatcher sees the demo devices on the map, acknowledges an alarm, and an
indicator's chart draws its readings over its threshold bands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from cityops.indicators.models import Alarm
from cityops.sensing import ingest
from tests.web.browser.conftest import LiveSite, shoot, sign_in

GAUGE = "WL-XFH-06"  # 孝妇河湖田: a demo gauge of the group WAT-XFH-LEVEL-MAX watches
RIVER = "WAT-XFH-LEVEL-MAX"


def _blue_alarm(site: LiveSite) -> int:
    """Two readings 11 minutes apart above the blue line (2.8 m for 10 minutes): a blue alarm, below the case
    level, so no case is opened in the shared demo city."""
    now = datetime.now(UTC)
    for minutes, level in ((12, 2.95), (1, 3.0)):
        body = {"ts": (now - timedelta(minutes=minutes)).isoformat(), "metrics": {"water_level": level}}
        assert ingest.ingest(site.platform, GAUGE, json.dumps(body).encode(), source="browser-test").accepted
    with site.platform.db.session() as session:
        alarm = session.scalars(select(Alarm).where(Alarm.open_key == f"device:{GAUGE}|{RIVER}")).one()
        return alarm.id


def test_the_dispatcher_sees_devices_on_the_map_acknowledges_an_alarm_and_opens_a_chart(
        new_context: Any, live_site: LiveSite) -> None:
    alarm_id = _blue_alarm(live_site)
    page = new_context().new_page()
    sign_in(page, "dispatcher")
    page.goto("/sensing")
    devices = json.loads(page.locator("#sensing-devices").text_content() or "[]")
    assert len(devices) >= 30
    page.wait_for_function(f"document.querySelectorAll('path.device-marker').length === {len(devices)}")
    assert page.locator("path.device-marker.status-online").count() >= 1
    page.wait_for_selector(".leaflet-overlay-pane path.leaflet-interactive:not(.device-marker)")  # district shapes
    row = page.locator(f"#alarm-{alarm_id}")
    row.wait_for()
    assert "蓝色" in row.inner_text()
    shoot(page, "sensing")
    row.locator("button.ack").click()
    page.wait_for_selector(f"#alarm-{alarm_id} :text('已确认')")

    page.click(f"#indicator-table a[href='/sensing/indicators/{RIVER}']")
    page.wait_for_selector("#indicator-chart[data-ready=true] canvas")
    chart = json.loads(page.locator("#indicator-data").text_content() or "{}")
    assert [b["level"] for b in chart["bands"]] == ["blue", "yellow", "orange", "red"]
    gauge = next(s for s in chart["series"] if s["device"] == GAUGE)
    assert [p[1] for p in gauge["points"]][-2:] == [2.95, 3.0]
    assert page.locator("#threshold-table tbody tr").count() == 4
    shoot(page, "sensing-indicator")
