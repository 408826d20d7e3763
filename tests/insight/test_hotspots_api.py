"""GET /api/v1/insight/hotspots and /api/v1/insight/monthly-topic over reports sent through intake and triage:
the planted cluster is found and nothing steady is, the monthly figures are the counts of what was sent,
downloads open, scope (a street user sees only their street) and bad input."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from cityops.platform import Platform
from tests.casefixture import MANHOLE, NOISE
from tests.cityfixture import DISTRICT, OTHER_DISTRICT, PASSWORD, STREET_A, STREET_B
from tests.insight.reports_seed import GRID_A, GRID_B, PLANTED_TEXT, SINCE, UNTIL, counted, seed, spec
from tests.web.conftest import login

WEEK = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
FEBRUARY, JANUARY = (date(2026, 2, 1), date(2026, 3, 1)), (date(2026, 1, 1), date(2026, 2, 1))


@pytest.fixture
def seeded(platform: Platform) -> Platform:
    seed(platform)
    return platform


def get(client: TestClient, path: str, **params: str) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_rising_cluster_is_the_one_hotspot_in_the_district(client: TestClient, seeded: Platform):
    login(client, "district_admin", PASSWORD)
    body = get(client, "/api/v1/insight/hotspots", **WEEK)
    assert body["region"] == {"region_code": DISTRICT, "region_name": "张店区"}
    assert body["reports"] == counted(spec(), SINCE, UNTIL)
    [hotspot] = body["items"]
    assert hotspot["count"] == counted(spec(), SINCE, UNTIL, text=PLANTED_TEXT) == 10
    assert hotspot["baseline"] == 0 and hotspot["rank"] == 1
    assert hotspot["region_codes"] == [GRID_A]
    assert hotspot["regions"][0]["region_name"] == "车站第1社区第1网格"
    assert hotspot["categories"] == [{"category_code": MANHOLE, "category_name": "井盖缺失", "reports": 10}]
    assert {"缺失", "摔伤"} <= {k["word"] for k in hotspot["keywords"]}
    assert "松动" not in {k["word"] for k in hotspot["keywords"]}  # street B's steady manhole complaints
    assert abs(hotspot["centre"]["lng"] - 118.01) < 0.01 and abs(hotspot["centre"]["lat"] - 36.61) < 0.01
    assert len(hotspot["sample_reports"]) == 5 and all(r.startswith("R2026") for r in hotspot["sample_reports"])


def test_a_street_user_sees_only_their_streets_hotspots(client: TestClient, seeded: Platform):
    login(client, "b_leader", PASSWORD)
    body = get(client, "/api/v1/insight/hotspots", **WEEK)
    assert body["region"]["region_code"] == STREET_B
    assert body["items"] == []  # street B is steady; A's cluster is not B's to see
    assert body["reports"] == counted(spec(), SINCE, UNTIL, grid=GRID_B)
    response = client.get("/api/v1/insight/hotspots", params={**WEEK, "region": STREET_A})
    assert response.status_code == 404
    login(client, "a_grid_worker", PASSWORD)
    assert [h["region_codes"] for h in get(client, "/api/v1/insight/hotspots", **WEEK)["items"]] == [[GRID_A]]


def test_a_week_with_nothing_new_has_no_hotspot(client: TestClient, seeded: Platform):
    login(client, "district_admin", PASSWORD)
    body = get(client, "/api/v1/insight/hotspots", since="2026-02-08", until="2026-02-15")
    assert body["items"] == [] and body["reports"] > 0


def test_hotspots_refuse_bad_input_and_roles_without_report_access(client: TestClient, seeded: Platform):
    login(client, "district_admin", PASSWORD)
    for params in ({"since": "2026-03-01", "until": "2026-02-22"}, {"since": "2025-01-01", "until": "2026-03-01"},
                   {**WEEK, "resolution": "12"}, {"since": "2026-02-30", "until": "2026-03-01"}):
        assert client.get("/api/v1/insight/hotspots", params=params).status_code == 422, params
    assert client.get("/api/v1/insight/hotspots", params={**WEEK, "region": OTHER_DISTRICT}).status_code == 404
    assert client.get("/api/v1/insight/hotspots", params={**WEEK, "region": "370303999"}).status_code == 404
    login(client, "city_admin", PASSWORD)
    other = get(client, "/api/v1/insight/hotspots", **WEEK, region=OTHER_DISTRICT)
    assert (other["reports"], other["items"]) == (0, [])
    login(client, "a_handler", PASSWORD)
    assert client.get("/api/v1/insight/hotspots", params=WEEK).status_code == 403


def test_monthly_topic_figures_are_the_counts_of_what_was_sent(client: TestClient, seeded: Platform):
    login(client, "district_admin", PASSWORD)
    body = get(client, "/api/v1/insight/monthly-topic", month="2026-02")
    sent = spec()
    assert (body["month"], body["level"], body["region"]["region_code"]) == ("2026-02", "street", DISTRICT)
    assert (body["volume"], body["previous"]) == (counted(sent, *FEBRUARY), counted(sent, *JANUARY))
    topics = {t["topic"]: t for t in body["topics"]}
    assert set(topics) == {f"category:{MANHOLE}", f"category:{NOISE}"}
    manholes = topics[f"category:{MANHOLE}"]
    assert manholes["name"] == "井盖缺失"
    assert (manholes["volume"], manholes["previous"]) == (counted(sent, *FEBRUARY, category=MANHOLE),
                                                          counted(sent, *JANUARY, category=MANHOLE))
    # Every report at a place that had the same topic within 30 days is a repeat: all but the first at each
    # place (street B's daily reports since 25 January, street A's planted ones after the first).
    assert manholes["repeats"] == counted(sent, *FEBRUARY, category=MANHOLE) - 1
    streets = {row["region_code"]: row for row in body["breakdown"]}
    assert set(streets) == {STREET_A, STREET_B}
    assert streets[STREET_A]["volume"] == counted(sent, *FEBRUARY, grid=GRID_A)
    assert streets[STREET_A]["region_name"] == "车站街道"
    assert body["summary"].startswith("2026年2月，张店区共受理群众诉求")


def test_monthly_topic_downloads(client: TestClient, seeded: Platform):
    login(client, "district_admin", PASSWORD)
    xlsx = client.get("/api/v1/insight/monthly-topic", params={"month": "2026-02", "format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx.headers["content-disposition"].startswith('attachment; filename="monthly-topic-2026-02.xlsx"')
    book = load_workbook(io.BytesIO(xlsx.content))
    ranking = book["主题排名 Ranking"]
    assert ranking.freeze_panes == "A2"
    assert sum(row[3].value for row in ranking.iter_rows(min_row=2)) == counted(spec(), *FEBRUARY)
    markdown = client.get("/api/v1/insight/monthly-topic", params={"month": "2026-02", "format": "md"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith("# 每月一题 · 2026年2月 · 张店区")


def test_monthly_topic_scope_and_bad_input(client: TestClient, seeded: Platform):
    login(client, "a_leader", PASSWORD)
    body = get(client, "/api/v1/insight/monthly-topic", month="2026-02")
    assert body["region"]["region_code"] == STREET_A and body["level"] == "community"
    assert body["volume"] == counted(spec(), *FEBRUARY, grid=GRID_A)
    assert all(row["region_code"].startswith(STREET_A) for row in body["breakdown"])
    assert client.get("/api/v1/insight/monthly-topic", params={"month": "2026-02", "region": STREET_B}
                      ).status_code == 404
    bad = client.get("/api/v1/insight/monthly-topic", params={"month": "2026-13"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "month"
    above = client.get("/api/v1/insight/monthly-topic", params={"month": "2026-02", "level": "district"})
    assert above.status_code == 422
    login(client, "a_handler", PASSWORD)
    assert client.get("/api/v1/insight/monthly-topic", params={"month": "2026-02"}).status_code == 403
