"""One problem round the whole loop, through the pages only, as the people who use them would:

a resident reports it on the portal with a place picked on the map and gets a tracking number; a dispatcher
registers and dispatches it; the department's handler accepts it and marks it handled with a photo; the grid
worker of its grid verifies it on a phone; the dispatcher closes it; the resident looks it up and rates it; and
the leader's cockpit, open all along, counts it.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from cityops.cases import service as cases
from cityops.intake import service as intake
from cityops.org import flows as org_flows
from tests.web.browser.conftest import DEMO_PASSWORD, LiveSite, png, shoot, sign_in
from tests.web.browser.test_portal import ZHANGDIAN, click_inside_region
from tests.web.browser.test_workbench import DEPARTMENT, MANHOLE, _department_id, _find

# Vague on purpose: the classifier is not sure what it is, so the report waits for a dispatcher to register it.
VAGUE = "请帮忙处理一下这里的情况"


def _kpi(page: Any, element_id: str) -> int:
    page.wait_for_function(f"/\\d/.test(document.getElementById('{element_id}').textContent)")
    return int(re.sub(r"\D", "", page.locator(f"#{element_id}").inner_text()))


def _case_of(site: LiveSite, public_id: str) -> Any:
    """The case triage made of the report (the page shows it to staff; the test only needs its id and grid)."""
    deadline = time.time() + 30
    while time.time() < deadline:
        with site.platform.db.session() as session:
            report = intake.get_by_public_id(session=session, public_id=public_id)
            if report is not None and report.case_id is not None:
                case = cases.get(session=session, case_id=report.case_id)
                if case is not None:
                    return case
        time.sleep(0.2)
    raise AssertionError(f"triage made no case of {public_id}")


def _grid_worker_of(site: LiveSite, grid_code: str) -> str:
    """A grid worker for the case's own grid (the demo has one per district's first grid only)."""
    username = f"grid_{uuid.uuid4().hex[:8]}"
    org_flows.create_staff(site.platform, actor=None, new=org_flows.NewStaff(
        username=username, display_name="本网格网格员", password=DEMO_PASSWORD, role="grid_worker",
        region_code=grid_code))
    return username


def _act(page: Any, action: str, state: str, fill: dict[str, str] | None = None) -> None:
    """Open the action's form on the case panel, fill it, send it, wait for the new state."""
    page.click(f"#case-panel button[data-action={action}]")
    form = page.locator(f"form[data-action={action}]")
    for selector, value in (fill or {}).items():
        field = form.locator(selector)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value=value)
        else:
            field.fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_selector(f"#case-panel .state-badge[data-state={state}]")


def test_a_residents_report_goes_round_the_whole_loop_through_the_pages(new_context: Any,
                                                                        live_site: LiveSite) -> None:
    leader = new_context().new_page()
    sign_in(leader, "leader", then="/cockpit")
    reports_before, open_before = _kpi(leader, "kpi-reports-today"), _kpi(leader, "kpi-open")

    # The resident: a report with a place picked on the map, and a tracking number.
    resident = new_context(large=True).new_page()
    resident.goto("/portal/report")
    resident.fill("#text", f"{VAGUE}（{uuid.uuid4().hex[:4]}）")  # no earlier report to be fused with
    click_inside_region(resident, ZHANGDIAN)
    resident.wait_for_function("document.getElementById('picked').textContent.includes('张店区')")
    resident.fill("#phone", "13955551234")
    resident.click("#submit")
    resident.wait_for_url(re.compile(r"/portal/thanks\?id=R"))
    number = resident.locator("#tracking-number").inner_text().strip()
    case = _case_of(live_site, number)
    assert case.state == "received" and case.region_code.startswith(ZHANGDIAN)

    # The dispatcher registers and dispatches it.
    dispatcher = new_context().new_page()
    sign_in(dispatcher, "dispatcher")
    _find(dispatcher, f"#wb-rows tr[data-number='{case.number}']", "#wb-next").click()
    dispatcher.wait_for_selector(f"#case-panel .case-number:text-is('{case.number}')")
    _act(dispatcher, "register", "registered", {"select[name=category_code]": MANHOLE})
    _act(dispatcher, "dispatch", "dispatched",
         {"select[name=department_id]": str(_department_id(dispatcher, DEPARTMENT))})

    # The department's handler accepts it and marks it handled with a photo.
    handler = new_context().new_page()
    sign_in(handler, "zd_handler")
    _find(handler, f"#task-list li[data-number='{case.number}']", "#tasks-next").locator("button").click()
    handler.wait_for_selector(f"#case-panel .case-number:text-is('{case.number}')")
    _act(handler, "accept", "in_progress")
    handler.click("#case-panel button[data-action=handle]")
    form = handler.locator("form[data-action=handle]")
    form.locator("textarea[name=result]").fill("已现场修复，恢复正常使用。")
    form.locator("input[name=photos]").set_input_files(files=[{"name": "fixed.png", "mimeType": "image/png",
                                                                "buffer": png()}])
    form.locator("button[type=submit]").click()
    handler.wait_for_selector("#case-panel .state-badge[data-state=handled]")

    # The grid worker of that grid verifies it on the spot, on a phone.
    worker = new_context(phone=True).new_page()
    sign_in(worker, _grid_worker_of(live_site, case.region_code))
    worker.goto(f"/m/cases/{case.id}")
    worker.wait_for_selector("#m-verify-ok")
    assert "已现场修复" in worker.locator("#m-case-result").inner_text()
    worker.click("#m-verify-ok")
    worker.wait_for_function("document.getElementById('m-case-state').textContent.includes('核查')")

    # The dispatcher closes it.
    dispatcher.goto(f"/workbench/cases/{case.id}")
    dispatcher.wait_for_selector("#case-panel .state-badge[data-state=verified]")
    _act(dispatcher, "close", "closed")

    # The resident looks it up and rates it.
    resident.goto(f"/portal/track?id={number}")
    resident.fill("#phone4", "1234")
    resident.click("#track-form button[type=submit]")
    resident.wait_for_selector("#rate-form")
    assert "已现场修复" in resident.locator("main").inner_text()
    resident.check("input[name=resolved][value=yes]")
    resident.check("input[name=satisfaction][value=satisfied]")
    resident.click("#rate-form button[type=submit]")
    resident.wait_for_selector("text=您的评价")
    shoot(resident, "journey-rated")
    with live_site.platform.db.session() as session:
        rated = cases.get(session=session, case_id=case.id)
        assert rated is not None and rated.state == "followed_up"

    # The cockpit counted the report and, now that the case is closed, no more open cases than before.
    count = "id => Number(document.getElementById(id).textContent.replace(/\\D/g, ''))"
    leader.wait_for_function(f"({count})('kpi-reports-today') >= {reports_before + 1}", timeout=20_000)
    leader.wait_for_function(f"({count})('kpi-open') === {open_before}", timeout=20_000)
    shoot(leader, "journey-cockpit")
