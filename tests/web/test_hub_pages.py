"""The data hub pages: who may open them, a dataset's page (schema, owner tools or request form), and the lists
page rendered server-side for the caller's department: requests, grants held and given, and the access log."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cityops.org import flows as org_flows
from cityops.platform import Platform
from tests.cityfixture import CITY
from tests.datahub.conftest import (
    BYSTANDER,
    OWNER,
    PASSWORD,
    REQUESTER,
    Hub,
    build_hub,
    define_people,
    import_people,
    login_as,
    people_csv,
    person,
)

UNTIL = "2026-12-31T23:59:59+08:00"


@pytest.fixture
def hub(platform: Platform, client: TestClient) -> Hub:
    built = build_hub(platform)
    for username, role in (("city_handler", "handler"), ("city_admin", "admin")):
        org_flows.create_staff(platform, actor=None, new=org_flows.NewStaff(
            username=username, display_name=username, password=PASSWORD, role=role, region_code=CITY))
    define_people(client, built)
    import_people(client, built, people_csv([person(n) for n in range(12)]))
    return built


def _request(client: TestClient, hub: Hub, fields: list[str]) -> int:
    login_as(client, hub.officers[REQUESTER])
    response = client.post("/api/v1/datahub/requests", json={
        "dataset": "gaj.people", "fields": fields, "clear_fields": ["name"], "purpose": "核对低保对象身份",
        "legal_basis": "《社会救助暂行办法》第十一条", "wanted_until": UNTIL})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_signed_out_visitors_are_sent_to_sign_in_and_only_data_officers_and_admins_see_the_lists(
        hub: Hub, client: TestClient) -> None:
    for path in ("/hub", "/hub/lists", "/hub/datasets/gaj.people"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    login_as(client, "city_handler")
    assert client.get("/hub").status_code == 200
    assert client.get("/hub/datasets/gaj.people").status_code == 200
    refused = client.get("/hub/lists")
    assert refused.status_code == 403
    assert "无权访问" in refused.text


def test_a_dataset_page_shows_its_schema_and_the_owner_tools_or_the_request_form(
        hub: Hub, client: TestClient) -> None:
    login_as(client, hub.officers[OWNER])
    page = client.get("/hub/datasets/gaj.people")
    assert page.status_code == 200
    assert "实有人口（测试）" in page.text and "淄博市公安局" in page.text
    for text in ("公民身份号码", "resident_id", "重要", "一般", "身份证号"):
        assert text in page.text
    assert 'id="import-form"' in page.text and 'id="request-form"' not in page.text

    login_as(client, hub.officers[REQUESTER])
    page = client.get("/hub/datasets/gaj.people")
    assert 'id="request-form"' in page.text and 'id="import-form"' not in page.text

    login_as(client, "city_handler")  # may browse, may neither request nor import
    page = client.get("/hub/datasets/gaj.people")
    assert 'id="request-form"' not in page.text and 'id="import-form"' not in page.text

    missing = client.get("/hub/datasets/no.such")
    assert missing.status_code == 404
    assert "没有这个数据资源" in missing.text

    english = client.get("/hub/datasets/gaj.people", params={"lang": "en"})  # remembered from now on
    assert "Fields (schema)" in english.text and "Important" in english.text


def test_the_lists_show_requests_grants_and_the_access_log_of_the_callers_department(
        hub: Hub, client: TestClient) -> None:
    request_id = _request(client, hub, ["id_number", "name", "gender"])
    page = client.get("/hub/lists")
    assert page.status_code == 200
    assert f'id="demand-{request_id}"' in page.text and "待审批" in page.text

    login_as(client, hub.officers[OWNER])
    page = client.get("/hub/lists")
    assert f'id="request-{request_id}"' in page.text
    assert 'class="decide-form"' in page.text and "核对低保对象身份" in page.text
    decision = client.post(f"/api/v1/datahub/requests/{request_id}/decision",
                           json={"approve": True, "fields": ["name", "gender"], "clear_fields": []})
    assert decision.status_code == 200, decision.text
    grant_id = decision.json()["grant_id"]
    page = client.get("/hub/lists")
    assert 'class="decide-form"' not in page.text  # decided: nothing left to approve
    assert f'id="given-{grant_id}"' in page.text and 'class="revoke-form row"' in page.text
    assert "暂无访问记录" in page.text

    login_as(client, hub.officers[REQUESTER])
    page = client.get("/hub/lists")
    assert f'id="grant-{grant_id}"' in page.text and "部分批准" in page.text
    rows = client.get("/api/v1/datahub/datasets/gaj.people/rows", params={"limit": 5})
    assert rows.status_code == 200, rows.text

    login_as(client, hub.officers[OWNER])
    log = client.get("/hub/lists").text.split('id="access-log"')[1]
    assert "mzj_officer · 淄博市民政局" in log and "核对低保对象身份" in log and "gaj.people" in log
    assert "姓名" in log and "性别" in log  # the fields read, by their titles
    assert ">5</td>" in log

    login_as(client, hub.officers[BYSTANDER])  # neither asked nor owns: none of it
    page = client.get("/hub/lists").text
    assert f'id="grant-{grant_id}"' not in page and "核对低保对象身份" not in page


def test_an_admin_without_a_department_chooses_one(hub: Hub, client: TestClient) -> None:
    login_as(client, "city_admin")
    page = client.get("/hub/lists")
    assert page.status_code == 200
    assert 'id="lists-department"' in page.text and 'id="responsibility"' not in page.text
    page = client.get("/hub/lists", params={"department": OWNER})
    assert page.status_code == 200
    assert 'id="responsibility"' in page.text and 'id="access-log"' in page.text
    assert client.get("/hub/lists", params={"department": "no-such"}).status_code == 404
