"""GET /api/v1/kpis: the known answers over the database, one row per child region, CSV and XLSX downloads,
scope (another street's figures are "not found", handlers see their own department) and bad input."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from cityops.insight.kpis import MEASURE_KEYS
from cityops.org import flows as org_flows
from cityops.platform import Platform
from tests.cityfixture import DISTRICT, PASSWORD, STREET_A, STREET_B, build_small_city
from tests.insight.history import FROM, GRID_A, TO, insert_history, relevant, scenario
from tests.insight.test_kpis import BY_HAND
from tests.web.conftest import login

PERIOD = {"from": FROM.isoformat(), "to": TO.isoformat()}
OFFICE_A, OFFICE_B = f"{STREET_A}-office", f"{STREET_B}-office"


@pytest.fixture
def departments(platform: Platform) -> dict[str, int]:
    city = build_small_city(platform)
    insert_history(platform, scenario(city.departments[OFFICE_A], city.departments[OFFICE_B]))
    org_flows.create_staff(platform, actor=None, new=org_flows.NewStaff(
        username="a_office_handler", display_name="车站街道处置员", password=PASSWORD, role="handler",
        region_code=STREET_A, department_id=city.departments[OFFICE_A]))
    org_flows.create_staff(platform, actor=None, new=org_flows.NewStaff(
        username="a_loose_handler", display_name="无部门处置员", password=PASSWORD, role="handler",
        region_code=STREET_A))
    return city.departments


def get_kpis(client: TestClient, **params: str) -> Any:
    response = client.get("/api/v1/kpis", params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    return response.json()


def pairs(body: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {m["key"]: (m["numerator"], m["denominator"]) for m in body["measures"]}


def test_district_figures_are_the_known_answers(client: TestClient, departments: dict[str, int]):
    login(client, "district_admin", PASSWORD)
    body = get_kpis(client)
    assert body["region"]["region_code"] == DISTRICT
    assert pairs(body) == BY_HAND
    assert body["cases"] == sum(1 for f in scenario() if relevant(f))


def test_breakdown_has_one_row_per_street_and_adds_up_to_the_district(client: TestClient,
                                                                     departments: dict[str, int]):
    login(client, "district_admin", PASSWORD)
    body = get_kpis(client)
    rows = body["breakdown"]
    assert [r["region_code"] for r in rows] == [STREET_A, STREET_B]
    for key in MEASURE_KEYS:  # every case lies in one street, so the counts add up
        assert tuple(map(sum, zip(*(pairs(r)[key] for r in rows), strict=True))) == BY_HAND[key], key


def test_without_a_region_a_street_user_gets_only_their_street(client: TestClient, departments: dict[str, int]):
    login(client, "a_leader", PASSWORD)
    body = get_kpis(client)
    assert body["region"]["region_code"] == STREET_A
    assert body["cases"] == sum(1 for f in scenario() if relevant(f) and f.region_code == GRID_A)
    assert [r["region_code"] for r in body["breakdown"]] == [STREET_A + "001"]


@pytest.mark.parametrize("region", [STREET_B, DISTRICT, "370303999"])
def test_a_street_user_asking_outside_their_street_gets_not_found(client: TestClient,
                                                                  departments: dict[str, int], region: str):
    login(client, "a_leader", PASSWORD)
    response = client.get("/api/v1/kpis", params={**PERIOD, "region": region})
    assert response.status_code == 404
    assert region not in response.text


def test_grid_workers_may_not_read_kpis(client: TestClient, departments: dict[str, int]):
    login(client, "a_grid_worker", PASSWORD)
    assert client.get("/api/v1/kpis", params=PERIOD).status_code == 403


def test_a_handler_sees_only_their_own_department(client: TestClient, departments: dict[str, int]):
    login(client, "a_office_handler", PASSWORD)
    body = get_kpis(client)
    assert body["department"]["code"] == OFFICE_A
    office = departments[OFFICE_A]
    assert body["cases"] == sum(1 for f in scenario(office, departments[OFFICE_B])
                                if relevant(f) and f.department_id == office)
    refused = client.get("/api/v1/kpis", params={**PERIOD, "department": OFFICE_B})
    assert refused.status_code in (403, 404)


def test_a_handler_without_a_department_is_refused(client: TestClient, departments: dict[str, int]):
    login(client, "a_loose_handler", PASSWORD)
    assert client.get("/api/v1/kpis", params=PERIOD).status_code == 403


def test_department_by_name_narrows_the_figures(client: TestClient, departments: dict[str, int]):
    login(client, "district_admin", PASSWORD)
    by_name = get_kpis(client, department="公园街道办事处")
    assert by_name["department"] == {"code": OFFICE_B, "name": "公园街道办事处"}
    assert by_name == get_kpis(client, department=OFFICE_B)
    assert client.get("/api/v1/kpis", params={**PERIOD, "department": "无此部门"}).status_code == 404


def test_csv_download_has_a_bom_chinese_headers_and_one_row_per_measure(client: TestClient,
                                                                         departments: dict[str, int]):
    login(client, "district_admin", PASSWORD)
    response = client.get("/api/v1/kpis", params={**PERIOD, "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith(
        f'attachment; filename="kpis_{DISTRICT}_2026-03-01_2026-04-01.csv"')
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["指标 (measure)", "分子 (numerator)", "分母 (denominator)", "比率% (rate %)"]
    closure = next(r for r in rows if r[0].startswith("结案率"))
    assert closure[1:4] == ["8", "11", "72.73"]
    assert sum(1 for r in rows if "率" in r[0]) == len(MEASURE_KEYS)


def test_xlsx_download_has_bold_headers_percentages_and_a_sheet_per_breakdown(client: TestClient,
                                                                              departments: dict[str, int]):
    login(client, "district_admin", PASSWORD)
    response = client.get("/api/v1/kpis", params={**PERIOD, "format": "xlsx"})
    assert response.status_code == 200
    assert 'filename="kpis_370303_2026-03-01_2026-04-01.xlsx"' in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    summary = book["汇总 Summary"]
    assert summary["A1"].font.bold
    closure = next(row for row in summary.iter_rows(min_row=2) if str(row[0].value).startswith("结案率"))
    assert (closure[1].value, closure[2].value) == (8, 11)
    assert closure[3].value == pytest.approx(8 / 11)
    assert closure[3].number_format == "0.00%"
    by_region = book["下级区划 By region"]
    assert [row[0].value for row in by_region.iter_rows(min_row=2)] == [STREET_A, STREET_B]


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2026-04-01", "to": "2026-03-01"}, "to"),
    ({"from": "2026-03-01", "to": "2026-03-01"}, "to"),
    ({"from": "2026-03-01"}, "to"),
    ({"from": "1 March", "to": "2026-04-01"}, "from"),
    ({**PERIOD, "format": "pdf"}, "format"),
])
def test_bad_periods_and_formats_are_refused_naming_the_parameter(client: TestClient, departments: dict[str, int],
                                                                 params: dict[str, str], field: str):
    login(client, "district_admin", PASSWORD)
    response = client.get("/api/v1/kpis", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_signed_out_callers_get_401(client: TestClient, departments: dict[str, int]):
    assert client.get("/api/v1/kpis", params=PERIOD).status_code == 401
