"""The dispatcher workbench and the handlers' task page in a real browser: a fresh report goes from the triage
queue through 立案 and 派遣 to the department, which accepts it and marks it handled with a photo."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.web.browser.conftest import axe_violations, png, shoot, sign_in

DEPARTMENT = "370303-cgj"  # 张店区城管局, where zd_handler works
MANHOLE = "BJ01-01"  # 井盖破损/缺失
DRAIN = "BJ01-02"  # 雨水箅子破损/堵塞
TABLET = {"width": 820, "height": 1180}


def _fresh_case(page: Any) -> dict[str, Any]:
    """A report with no place named (so triage leaves it to a dispatcher) whose category the classifier knows;
    returns its case once the triage worker has opened it."""
    text = f"小区门口井盖丢失了，晚上很危险（{uuid.uuid4().hex[:6]}）"
    response = page.request.post("/api/v1/reports", data={"channel": "hotline", "text": text,
                                                           "channel_report_id": f"wb-{uuid.uuid4().hex}"})
    assert response.status == 201, response.text()
    report_id = response.json()["id"]
    deadline = time.time() + 20
    while time.time() < deadline:
        answer = page.request.get(f"/api/v1/reports/{report_id}")
        assert answer.status in (200, 404), answer.text()  # 404: not written yet (reports arrive in batches)
        report = answer.json() if answer.ok else {}
        if report.get("case_id"):
            case: dict[str, Any] = page.request.get(f"/api/v1/cases/{report['case_id']}").json()["case"]
            assert case["state"] == "received", case
            return case
        page.wait_for_timeout(200)
    raise AssertionError(f"triage did not open a case for {report_id}")


def _department_id(page: Any, code: str) -> int:
    found = [d["id"] for d in page.request.get("/api/v1/departments").json() if d["code"] == code]
    assert found, code
    return int(found[0])


def _offered(page: Any) -> list[str]:
    found: list[str] = page.locator("#case-panel .actions button[data-action]").evaluate_all(
        "buttons => buttons.map(b => b.dataset.action)")
    return found


def _find(page: Any, selector: str, next_button: str) -> Any:
    """The list is paged (oldest first): turn pages until the row is there."""
    while True:
        page.wait_for_selector(f"{selector}, .empty, {next_button}:disabled >> nth=0")
        if page.locator(selector).count():
            return page.locator(selector)
        if page.locator(next_button).is_disabled():
            raise AssertionError(f"{selector} is in no page")
        first = page.locator("[data-number]").first.get_attribute("data-number")
        page.click(next_button)
        page.wait_for_function("n => document.querySelector('[data-number]')?.dataset.number !== n", arg=first)


def test_a_dispatcher_registers_and_dispatches_a_fresh_report_from_the_triage_queue(new_context: Any) -> None:
    page = new_context().new_page()
    sign_in(page, "dispatcher")
    assert page.url.endswith("/workbench")
    case = _fresh_case(page)
    page.goto("/workbench")
    row = _find(page, f"#wb-rows tr[data-number='{case['number']}']", "#wb-next")
    # The classifier's suggestion and why the case waits are on the row.
    page.wait_for_selector(f"tr[data-number='{case['number']}'] .suggest")
    assert "井盖" in row.locator(".suggest").inner_text() and "%" in row.locator(".suggest").inner_text()
    assert "未能定位" in row.inner_text()

    page.keyboard.press("j")  # the list has the keyboard: j/k move the selection and the focus
    assert page.evaluate("document.activeElement.matches('#wb-rows tr.selected')")
    row.focus()  # the keyboard from here: Enter opens, r registers, Ctrl+Enter submits
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#case-panel .case-number:text-is('{case['number']}')")
    page.wait_for_selector("#case-panel .case-map .leaflet-interactive")
    assert page.locator("#case-panel .reports li").count() == 1
    assert _offered(page) == ["register", "reject", "suspend", "escalate", "merge"]  # only what 受理 allows
    shoot(page, "workbench")
    assert axe_violations(page) == []
    page.keyboard.press("r")
    form = page.locator("form[data-action=register]")
    assert form.locator("select[name=category_code]").input_value() == MANHOLE  # the suggestion, to confirm
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#case-panel .state-badge[data-state=registered]")
    assert "立案成功" in page.locator("#toast").inner_text()

    page.keyboard.press("g")  # 改类: the suggestion was wrong after all
    reclassify = page.locator("form[data-action=reclassify]")
    reclassify.locator("select[name=category_code]").select_option(value=DRAIN)
    reclassify.locator("textarea[name=reason]").fill("现场是雨水箅子堵塞")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("form[data-action=reclassify]", state="detached")
    assert page.request.get(f"/api/v1/cases/{case['id']}").json()["case"]["category_code"] == DRAIN

    page.keyboard.press("d")
    dispatch = page.locator("form[data-action=dispatch]")
    dispatch.locator("select[name=department_id]").select_option(value=str(_department_id(page, DEPARTMENT)))
    dispatch.locator("button[type=submit]").click()
    page.wait_for_selector("#case-panel .state-badge[data-state=dispatched]")
    assert "张店区城" in page.locator("#case-panel .facts").inner_text()
    assert page.locator("#case-panel table.timeline tbody tr").count() == 4  # received, registered, 改类, dispatched

    page.goto(f"/workbench/cases/{case['id']}")
    page.wait_for_selector("#case-panel .state-badge[data-state=dispatched]")
    page.wait_for_selector("#case-panel .case-map .leaflet-interactive")
    shoot(page, "workbench-case")


def test_a_duplicate_is_merged_into_another_case_and_a_report_split_out_again(new_context: Any) -> None:
    page = new_context().new_page()
    sign_in(page, "dispatcher")
    case, duplicate = _fresh_case(page), _fresh_case(page)
    page.goto(f"/workbench/cases/{duplicate['id']}")
    page.wait_for_selector("#case-panel .actions button[data-action=merge]")
    page.keyboard.press("m")
    page.fill("form[data-action=merge] textarea[name=reason]", "重复")
    page.keyboard.press("Control+Enter")  # no case number given: the form says which field is missing
    assert "请填写" in page.locator("[data-error-for=target]").inner_text()
    page.fill("form[data-action=merge] input[name=target]", "AJ00000000XXXXXXXX")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("[data-error-for=target]:has-text('没有该案件')")
    page.fill("form[data-action=merge] input[name=target]", case["number"])
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#case-panel .state-badge[data-state=merged]")
    assert case["number"] in page.locator("#toast").inner_text()

    page.goto(f"/workbench/cases/{case['id']}")
    moved = page.locator(f"#case-panel .report:has-text('R{duplicate['number'][2:]}')")
    moved.locator("button:has-text('拆分')").click()
    moved.locator("button[type=submit]").click()
    assert "拆分原因" in moved.locator("[data-error-for=reason]").inner_text()
    moved.locator("textarea[name=reason]").fill("不是同一处井盖")
    moved.locator("button[type=submit]").click()
    page.wait_for_selector("#toast:has-text('已拆分为新案件')")
    page.wait_for_function("document.querySelectorAll('#case-panel .reports li').length === 1")  # refreshed


def test_an_answer_the_api_refuses_is_shown_in_the_form_and_esc_closes_it(new_context: Any) -> None:
    page = new_context().new_page()
    sign_in(page, "dispatcher")
    case = _fresh_case(page)
    page.goto(f"/workbench/cases/{case['id']}")
    page.wait_for_selector("#case-panel .actions button[data-action=reject]")
    page.keyboard.press("x")
    page.fill("form[data-action=reject] textarea[name=reason]", "重复上报")
    # Someone else acts on the case meanwhile: the page's copy is stale and the API says so.
    assert page.request.post(f"/api/v1/cases/{case['id']}/actions/escalate", data={"reason": "催办"}).ok
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("form[data-action=reject] .error[role=alert]:has-text('刷新')")
    assert page.locator("#case-panel .state-badge").get_attribute("data-state") == "received"
    page.keyboard.press("Escape")
    assert page.locator("form[data-action=reject]").count() == 0


def test_a_handler_accepts_a_task_and_marks_it_handled_with_a_photo(new_context: Any) -> None:
    dispatcher = new_context().new_page()
    sign_in(dispatcher, "dispatcher")
    case = _fresh_case(dispatcher)
    for action, body in [("register", {"category_code": MANHOLE}),
                         ("dispatch", {"department_id": _department_id(dispatcher, DEPARTMENT)})]:
        done = dispatcher.request.post(f"/api/v1/cases/{case['id']}/actions/{action}", data=body)
        assert done.ok, done.text()

    page = new_context().new_page()
    page.set_viewport_size(TABLET)
    sign_in(page, "zd_handler")
    assert page.url.endswith("/tasks")
    task = _find(page, f"#task-list li[data-number='{case['number']}']", "#tasks-next")
    task.locator("button").click()
    page.wait_for_selector(f"#case-panel .case-number:text-is('{case['number']}')")
    assert _offered(page) == ["return", "accept", "request_extension"]
    page.click("#case-panel button[data-action=accept]")
    page.click("form[data-action=accept] button[type=submit]")
    page.wait_for_selector("#case-panel .state-badge[data-state=in_progress]")

    page.click("#case-panel button[data-action=handle]")
    form = page.locator("form[data-action=handle]")
    form.locator("button[type=submit]").click()  # nothing filled in: each missing field is named
    assert "处置结果" in form.locator("[data-error-for=result]").inner_text()
    form.locator("textarea[name=result]").fill("已更换新井盖，现场已清理。")
    photo = {"name": "done.png", "mimeType": "image/png", "buffer": png()}
    form.locator("input[name=photos]").set_input_files(files=[photo])
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#case-panel .state-badge[data-state=handled]")
    page.wait_for_selector("#case-panel img.photo")
    assert page.locator("#case-panel img.photo").evaluate("img => img.complete && img.naturalWidth > 0")
    shoot(page, "tasks")
    assert axe_violations(page) == []
    handled = page.request.get(f"/api/v1/cases/{case['id']}").json()["case"]
    assert handled["state"] == "handled" and handled["result"] == "已更换新井盖，现场已清理。"
    assert len(handled["result_photos"]) == 1


def test_extension_suspension_and_escalation_forms_ask_for_what_the_rules_require(new_context: Any) -> None:
    dispatcher = new_context().new_page()
    sign_in(dispatcher, "dispatcher")
    case = _fresh_case(dispatcher)
    for action, body in [("register", {"category_code": MANHOLE}),
                         ("dispatch", {"department_id": _department_id(dispatcher, DEPARTMENT)})]:
        assert dispatcher.request.post(f"/api/v1/cases/{case['id']}/actions/{action}", data=body).ok

    handler = new_context().new_page()
    sign_in(handler, "zd_handler")
    handler.goto("/tasks")
    _find(handler, f"#task-list li[data-number='{case['number']}'] button", "#tasks-next").click()
    handler.click("#case-panel button[data-action=request_extension]")
    form = handler.locator("form[data-action=request_extension]")
    assert form.locator("textarea[name=reason]").count() == 1 and form.locator("input[name=hours]").count() == 1
    form.locator("textarea[name=reason]").fill("需要协调供货，更换井盖需两天")
    form.locator("input[name=hours]").fill("1000")
    form.locator("button[type=submit]").click()  # the API's limit, shown next to the field it names
    handler.wait_for_selector("form[data-action=request_extension] [data-error-for=hours]:not(:empty)")
    form.locator("input[name=hours]").fill("8")
    form.locator("button[type=submit]").click()
    handler.wait_for_selector("#case-panel .case-part:has-text('待审批')")
    assert "request_extension" not in _offered(handler)  # one request at a time

    dispatcher.goto(f"/workbench/cases/{case['id']}")
    dispatcher.wait_for_selector("#case-panel .actions button[data-action=decide_extension]")
    dispatcher.keyboard.press("y")
    dispatcher.check("form[data-action=decide_extension] input[name=approved][value=true]")
    dispatcher.keyboard.press("Control+Enter")
    dispatcher.wait_for_selector("#case-panel .case-part:has-text('已批准')")
    assert "decide_extension" not in _offered(dispatcher)
    dispatcher.keyboard.press("s")
    dispatcher.fill("form[data-action=suspend] textarea[name=reason]", "等待产权单位确认")
    dispatcher.keyboard.press("Control+Enter")
    dispatcher.wait_for_selector("#case-panel .badge:has-text('挂账中')")
    assert _offered(dispatcher) == ["resume", "escalate"]  # suspended: only what the rules allow then
    dispatcher.keyboard.press("u")
    dispatcher.keyboard.press("Control+Enter")
    dispatcher.wait_for_selector("#case-panel .actions button[data-action=suspend]")
    dispatcher.keyboard.press("e")
    dispatcher.fill("form[data-action=escalate] textarea[name=reason]", "群众反映强烈")
    dispatcher.keyboard.press("Control+Enter")
    dispatcher.wait_for_selector("#case-panel .badge:has-text('督办 1 级')")
    actions = [t["action"] for t in dispatcher.request.get(f"/api/v1/cases/{case['id']}/timeline").json()]
    assert actions[-4:] == ["decide_extension", "suspend", "resume", "escalate"]
