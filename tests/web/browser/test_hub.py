"""The data hub in a real browser: 民政局 finds the population dataset in the catalogue and requests two fields,
公安局 approves one of them, and 民政局 sees the grant in its lists."""

from __future__ import annotations

import re
from typing import Any

from tests.web.browser.conftest import shoot, sign_in

POPULATION = "370300-gaj.population"


def test_a_department_requests_two_fields_the_owner_approves_one_and_the_grant_appears(new_context: Any) -> None:
    requester = new_context().new_page()
    sign_in(requester, "mzj_officer")
    requester.goto("/hub")
    requester.wait_for_selector("#hub-datasets tbody tr")
    requester.fill("#hub-q", "实有人口")
    requester.click("#hub-search button[type=submit]")
    row = requester.locator(f'#hub-datasets tr[data-code="{POPULATION}"]')
    row.wait_for()
    assert "实有人口基础信息" in row.inner_text() and "淄博市公安局" in row.inner_text()
    shoot(requester, "hub-catalogue")

    row.locator("a.dataset-link").click()
    requester.wait_for_selector("#schema-table")
    requester.wait_for_selector("#quality-body:not(:has-text('正在读取'))")
    assert "公民身份号码" in requester.locator("#schema-table").inner_text()
    requester.check('#request-form input[name=fields][value="gender"]')
    requester.check('#request-form input[name=fields][value="district_code"]')
    requester.fill("#req-purpose", "浏览器测试：统计各区县救助对象性别构成")
    requester.fill("#req-basis", "《社会救助暂行办法》第十一条")
    shoot(requester, "hub-dataset")
    requester.click("#request-form button[type=submit]")
    sent = requester.locator(".request-sent")
    sent.wait_for()
    found = re.search(r"(\d+)", sent.inner_text())
    assert found, sent.inner_text()
    request_id = found.group(1)

    owner = new_context().new_page()
    sign_in(owner, "gaj_officer")
    owner.goto("/hub/lists")
    article = owner.locator(f"#request-{request_id}")
    article.wait_for()
    approve = article.locator("form.decide-form[data-approve=true]")
    approve.locator('input[name=fields][value="district_code"]').uncheck()
    with owner.expect_navigation():
        approve.locator("button[type=submit]").click()
    given = owner.locator(f'#grants-given tr[data-request="{request_id}"]')
    given.wait_for()
    assert "性别" in given.inner_text() and "所在区县" not in given.inner_text()

    requester.goto("/hub/lists")
    held = requester.locator(f'#grants-held tr[data-request="{request_id}"]')
    held.wait_for()
    assert "性别" in held.inner_text() and "所在区县" not in held.inner_text()
    assert held.locator(".grant-active").count() == 1
    assert "部分批准" in requester.locator(f"#demand-{request_id}").inner_text()
    shoot(requester, "hub-lists")


def test_the_owner_imports_a_bad_file_and_sees_every_error_with_nothing_changed(new_context: Any) -> None:
    page = new_context().new_page()
    sign_in(page, "gaj_officer")
    page.goto(f"/hub/datasets/{POPULATION}")
    rows_before = page.locator(".hub-facts").inner_text()
    content = ("id_number,name,gender,birth_date,mobile,address,district_code,street_code\n"
               "12345,张三,男,1990-01-01,13800000000,淄博市张店区车站街道,370303,370303001\n").encode()
    page.set_input_files("#import-file", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": content}])
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-error-table tbody tr")
    assert "resident_id" in page.locator("#import-error-table").inner_text()
    assert page.locator("#import-errors-xlsx").get_attribute("href", timeout=1000).endswith("/errors.xlsx")
    assert page.locator("#import-progress").get_attribute("value") == "1"
    page.click("#rows-preview")
    page.wait_for_selector("#rows-table tbody tr")
    page.reload()
    assert page.locator(".hub-facts").inner_text() == rows_before  # all or nothing: not a row changed
