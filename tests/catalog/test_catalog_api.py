"""The catalogue over HTTP: everyone on staff reads, city-level admins write categories, region admins write the
rules of their region; errors come back as JSON with a code and the field."""

from __future__ import annotations

import io
import json

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from cityops.catalog import flows
from cityops.platform import Platform
from tests.catalog.conftest import CATEGORIES
from tests.catalog.test_catalog_importers import NATIVE
from tests.cityfixture import CITY, DISTRICT, PASSWORD, STREET_A, STREET_B, build_small_city
from tests.web.conftest import login

GRID_A = STREET_A + "001001"
URBAN = ("standard_ref,matter_kind,standard_code,category,standard_name,default_department_local_config\n"
         "X,管理部件,01001,市政公用设施,供水井盖,城市管理部门\n")


@pytest.fixture
def city(platform: Platform) -> Platform:
    build_small_city(platform)
    flows.save_categories(platform, CATEGORIES, actor="test", file="fixture", fmt="native")
    return platform


def error(response) -> dict:  # type: ignore[no-untyped-def]
    return response.json()["error"]


# --- categories -----------------------------------------------------------------------------------


def test_any_staff_member_lists_filters_and_reads_categories(city: Platform, client: TestClient):
    assert client.get("/api/v1/categories").status_code == 401
    login(client, "a_grid_worker", PASSWORD)
    page = client.get("/api/v1/categories", params={"kind": "component", "limit": 1}).json()
    assert (page["total"], len(page["items"]), page["items"][0]["code"]) == (2, 1, "C01")
    assert [c["code"] for c in client.get("/api/v1/categories", params={"q": "井盖"}).json()["items"]] == ["C01001"]
    detail = client.get("/api/v1/categories/C01001").json()
    assert (detail["level"], detail["handle_unit"], detail["default_department_code"]) == (
        2, "working_hours", "370300-cgj")
    assert error(client.get("/api/v1/categories/NOPE"))["code"] == "not_found"
    assert client.get("/api/v1/categories", params={"kind": "gadget"}).status_code == 422


def test_a_city_admin_edits_a_category_and_the_history_shows_each_version(city: Platform, client: TestClient):
    login(client, "city_admin", PASSWORD)
    body = {"name": "噪声扰民", "kind": "matter", "handle_limit": 2, "keywords": ["噪音", "吵"]}
    response = client.put("/api/v1/categories/M01", json=body)
    assert response.status_code == 200, response.text
    assert (response.json()["version"], response.json()["keywords"]) == (2, ["噪音", "吵"])
    history = client.get("/api/v1/categories/M01/history").json()
    assert [(h["version"], h["snapshot"]["handle_limit"]) for h in history] == [(2, 2.0), (1, 3.0)]
    assert history[0]["changed_by"].endswith(":city_admin")
    created = client.put("/api/v1/categories/NEW-1", json={"name": "新分类", "kind": "custom"})
    assert created.status_code == 200 and created.json()["version"] == 1


@pytest.mark.parametrize("username", ["district_admin", "a_admin", "a_dispatcher", "a_leader"])
def test_category_writes_are_forbidden_below_a_city_admin(city: Platform, client: TestClient, username: str):
    login(client, username, PASSWORD)
    response = client.put("/api/v1/categories/M01", json={"name": "改名", "kind": "matter"})
    assert response.status_code == 403 and error(response)["code"] == "auth.forbidden"
    upload = client.post("/api/v1/categories/import", files={"file": ("c.csv", NATIVE.encode(), "text/csv")})
    assert upload.status_code == 403


def test_invalid_category_edits_name_the_field(city: Platform, client: TestClient):
    login(client, "city_admin", PASSWORD)
    for body, field in [({"name": "x", "kind": "matter", "severity": 9}, "severity"),
                        ({"name": "x", "kind": "matter", "parent_code": "NOPE"}, "parent_code"),
                        ({"name": "x", "kind": "matter", "handle_limit": -1}, "handle_limit"),
                        ({"name": "x", "kind": "robot"}, "kind")]:
        response = client.put("/api/v1/categories/M01", json=body)
        assert (response.status_code, error(response)["field"]) == (422, field), response.text


def test_import_uploads_in_each_format_and_a_bad_file_changes_nothing(city: Platform, client: TestClient):
    login(client, "city_admin", PASSWORD)
    native = client.post("/api/v1/categories/import", files={"file": ("c.csv", NATIVE.encode(), "text/csv")})
    assert native.json() == {"created": 2, "updated": 0, "unchanged": 0, "total": 2}, native.text
    urban = client.post("/api/v1/categories/import", files={"file": ("u.csv", URBAN.encode(), "text/csv")},
                        data={"format": "urban", "department_map": json.dumps({"城市管理部门": "370303-cgj"})})
    assert urban.json()["updated"] == 2, urban.text  # C01 and C01001 were in the fixture already
    assert client.get("/api/v1/categories/C01001").json()["default_department_code"] == "370303-cgj"
    bad = NATIVE.replace("0.5,0.5,4", "0.5,0.5,soon").replace("BJ01-01", "BJ01-09")
    response = client.post("/api/v1/categories/import", files={"file": ("bad.csv", bad.encode(), "text/csv")})
    assert (response.status_code, error(response)["field"]) == (422, "rows[0].handle_limit")
    assert client.get("/api/v1/categories/BJ01-09").status_code == 404
    wrong_map = client.post("/api/v1/categories/import", files={"file": ("u.csv", URBAN.encode(), "text/csv")},
                            data={"format": "urban", "department_map": "[1]"})
    assert error(wrong_map)["field"] == "department_map"


def test_exports_open_in_excel_and_import_back_unchanged(city: Platform, client: TestClient):
    login(client, "city_admin", PASSWORD)
    csv_export = client.get("/api/v1/categories/export", params={"format": "csv"})
    assert csv_export.content.startswith(b"\xef\xbb\xbf")
    assert "categories.csv" in csv_export.headers["content-disposition"]
    xlsx_export = client.get("/api/v1/categories/export", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx_export.content)).worksheets[0]
    assert [cell.value for cell in sheet[1]][:3] == ["code", "name", "name_en"] and sheet.max_row == 4
    again = client.post("/api/v1/categories/import", files={"file": ("c.xlsx", xlsx_export.content)})
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 3, "total": 3}


# --- routing rules --------------------------------------------------------------------------------


def test_a_street_admin_writes_rules_in_its_street_and_only_reads_the_ones_above(city: Platform,
                                                                                client: TestClient):
    login(client, "city_admin", PASSWORD)
    city_rule = client.post("/api/v1/routing-rules", json={"region_code": CITY, "department_code": "370300-cgj"})
    other = client.post("/api/v1/routing-rules", json={"category_code": "C01001", "region_code": STREET_B,
                                                       "department_code": f"{STREET_B}-office"})
    assert (city_rule.status_code, other.status_code) == (201, 201)
    client.post("/api/v1/auth/logout")
    login(client, "a_admin", PASSWORD)
    own = client.post("/api/v1/routing-rules", json={"category_code": "C01001", "region_code": STREET_A,
                                                     "department_code": f"{STREET_A}-office"})
    assert own.status_code == 201, own.text
    codes = [r["region_code"] for r in client.get("/api/v1/routing-rules").json()["items"]]
    assert codes == [CITY, STREET_A]
    city_id, other_id, own_id = city_rule.json()["id"], other.json()["id"], own.json()["id"]
    assert client.get(f"/api/v1/routing-rules/{city_id}").status_code == 200
    assert client.put(f"/api/v1/routing-rules/{city_id}", json={"active": False}).status_code == 403
    assert client.get(f"/api/v1/routing-rules/{other_id}").status_code == 404
    assert client.put(f"/api/v1/routing-rules/{other_id}", json={"active": False}).status_code == 404
    moved = client.put(f"/api/v1/routing-rules/{own_id}", json={"region_code": DISTRICT})
    assert (moved.status_code, error(moved)["field"]) == (403, "region_code")
    assert client.put(f"/api/v1/routing-rules/{own_id}", json={"department_code": "370300-cgj"}).json()[
        "version"] == 2
    assert client.delete(f"/api/v1/routing-rules/{own_id}").status_code == 204
    history = client.get(f"/api/v1/routing-rules/{own_id}/history").json()
    assert [(h["version"], h["snapshot"]["active"]) for h in history] == [(3, False), (2, True), (1, True)]


def test_rule_writes_are_admin_only_and_checked(city: Platform, client: TestClient):
    login(client, "a_dispatcher", PASSWORD)
    body = {"category_code": "C01001", "region_code": STREET_A, "department_code": f"{STREET_A}-office"}
    assert client.post("/api/v1/routing-rules", json=body).status_code == 403
    client.post("/api/v1/auth/logout")
    login(client, "district_admin", PASSWORD)
    assert client.post("/api/v1/routing-rules", json=body).status_code == 201
    duplicate = client.post("/api/v1/routing-rules", json=body)
    assert (duplicate.status_code, error(duplicate)["code"]) == (409, "conflict")
    unknown = client.post("/api/v1/routing-rules", json={**body, "department_code": "nope"})
    assert (unknown.status_code, error(unknown)["field"]) == (422, "department_code")
    rules = "category_code,region_code,department_code\nC01,370303,370303-cgj\nM01,370300,370300-cgj\n"
    imported = client.post("/api/v1/routing-rules/import", files={"file": ("r.csv", rules.encode(), "text/csv")})
    assert (imported.status_code, error(imported)["field"]) == (403, "rows[1].region_code")


def test_the_preview_shows_the_decision_and_its_reason(city: Platform, client: TestClient):
    login(client, "district_admin", PASSWORD)
    rule = client.post("/api/v1/routing-rules", json={"category_code": "C01001", "region_code": DISTRICT,
                                                      "department_code": "370303-cgj"}).json()
    preview = client.get("/api/v1/routing/preview", params={"category_code": "C01001", "region_code": GRID_A})
    assert preview.json()["decision"] == {"department_code": "370303-cgj", "rule_id": rule["id"],
                                          "reason": f"rule {rule['id']}: 张店区 → 张店区城管局 for C01001",
                                          "fallback": False}
    fallback = client.get("/api/v1/routing/preview", params={"category_code": "C01", "region_code": GRID_A})
    assert fallback.json()["decision"]["reason"] == "category default"
    nobody = client.get("/api/v1/routing/preview", params={"category_code": "M01", "region_code": GRID_A})
    assert nobody.status_code == 200 and nobody.json()["decision"] is None
    assert client.get("/api/v1/routing/preview", params={"category_code": "NOPE", "region_code": GRID_A}
                      ).status_code == 404
    assert client.get("/api/v1/routing/preview", params={"region_code": "370302001"}).status_code == 404
