"""The cockpit's figures are the platform's figures: each card equals what the KPI, case, workbench and alarm APIs
give for the same region and period, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityops.cases.states import OPEN_STATES
from cityops.core.clock import FixedClock
from cityops.insight import cockpit
from cityops.platform import Platform
from tests.casefixture import principal
from tests.cases.matrix import seed_cases
from tests.cityfixture import DISTRICT, PASSWORD, STREET_A, SmallCity, build_small_city
from tests.indicators.matrix import raise_alarm, seed_alarms
from tests.insight.history import case_row, scenario, timeline
from tests.web.conftest import login

END_OF_MARCH = datetime(2026, 3, 31, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai: "this month" is all of March


def insert_history_apart(platform: Platform, city: SmallCity) -> None:
    """tests/insight/history.py's March, with ids clear of the cases triage opens."""
    facts = [replace(f, case_id=1000 + f.case_id) for f in scenario(city.departments[f"{STREET_A}-office"], None)]
    with platform.uow() as uow:
        uow.session.add_all(case_row(f) for f in facts)
        uow.session.flush()
        for f in facts:
            uow.session.add_all(timeline(f))
        uow.commit()


@pytest.fixture
def city(platform: Platform) -> SmallCity:
    city = build_small_city(platform)
    seed_cases(platform, city)
    seed_alarms(platform, city)
    raise_alarm(platform, source_key="gauge-red", region_code=STREET_A + "001001", level="red", value=4.1)
    insert_history_apart(platform, city)
    return city


def summary_for(platform: Platform, username: str, region: str | None) -> dict[str, Any]:
    with platform.db.session() as session:
        return cockpit.summary(platform, session, principal(platform, username), region)


def kpi_measures(client: TestClient, region: str, date_from: str, date_to: str) -> dict[str, Any]:
    body = client.get("/api/v1/kpis", params={"from": date_from, "to": date_to, "region": region}).json()
    return {m["key"]: m for m in body["measures"]}


@pytest.mark.parametrize("region", [DISTRICT, STREET_A])
def test_every_card_is_the_figure_the_apis_give(platform: Platform, client: TestClient, city: SmallCity,
                                                region: str) -> None:
    login(client, "district_admin", PASSWORD)
    body = summary_for(platform, "district_admin", region)
    assert body["region"]["region_code"] == region
    counts = client.get("/api/v1/workbench/counts").json()
    cases = client.get("/api/v1/cases", params={"region_code": region, "limit": 200}).json()["items"]
    open_here = [c for c in cases if c["state"] in {s.value for s in OPEN_STATES}]
    assert body["open_cases"] == len(open_here)
    if region == DISTRICT:
        assert body["open_cases"] == sum(n for state, n in counts.items() if state in {s.value for s in OPEN_STATES})
    overdue = client.get("/api/v1/cases", params={"region_code": region, "overdue": "true"}).json()["total"]
    assert body["overdue_cases"] == overdue and overdue >= 1
    reports = client.get("/api/v1/reports", params={"limit": 200}).json()["items"]  # all received "today"
    assert body["reports_today"] == sum(1 for r in reports if (r["region_code"] or "").startswith(region))
    alarms = client.get("/api/v1/alarms", params={"status": "open", "limit": 200}).json()["items"]
    for level in cockpit.LEVELS:
        assert body["alarms"][level] == sum(1 for a in alarms if a["level"] == level
                                            and a["region_code"].startswith(region))
    measures = kpi_measures(client, region, "2026-03-01", "2026-03-02")  # today is March 1: the month so far
    for key in cockpit.RATE_KEYS:
        got, expected = body["rates"][key], measures[key]
        assert (got["numerator"], got["denominator"], got["rate"]) == \
            (expected["numerator"], expected["denominator"], expected["rate"])
        assert got["period"] == {"from": "2026-03-01", "to": "2026-03-02", "to_excluded": True}


def test_at_the_end_of_the_month_the_rates_are_march_as_the_kpi_api_counts_it(platform: Platform,
                                                                               client: TestClient, city: SmallCity):
    assert isinstance(platform.clock, FixedClock)
    platform.clock.advance(END_OF_MARCH - platform.clock.now())
    login(client, "district_admin", PASSWORD)
    body = summary_for(platform, "district_admin", None)
    measures = kpi_measures(client, DISTRICT, "2026-03-01", "2026-04-01")
    assert measures["timely_closure"]["denominator"] > 0 and measures["satisfaction"]["denominator"] > 0
    for key in cockpit.RATE_KEYS:
        assert body["rates"][key]["numerator"] == measures[key]["numerator"]
        assert body["rates"][key]["denominator"] == measures[key]["denominator"]
    assert body["reports_today"] == 0  # the reports came in on March 1


def test_the_breakdown_adds_up_to_the_district_and_the_map_shows_the_same_open_cases(platform: Platform,
                                                                                    city: SmallCity) -> None:
    body = summary_for(platform, "district_admin", DISTRICT)
    assert [r["region_code"] for r in body["breakdown"]] == ["370303001", "370303002"]
    assert sum(r["open_cases"] for r in body["breakdown"]) == body["open_cases"]
    assert sum(r["overdue_cases"] for r in body["breakdown"]) == body["overdue_cases"]
    with platform.db.session() as session:
        layer = cockpit.map_layer(platform, session, principal(platform, "district_admin"), DISTRICT, None)
    assert not layer["clustered"] and len(layer["items"]) <= body["open_cases"]
    assert sum(p["overdue"] for p in layer["items"]) == body["overdue_cases"]
    assert {a["level"] for a in layer["alarms"]} == {"yellow", "red"}


def test_trends_count_each_day_and_the_top_categories(platform: Platform, city: SmallCity) -> None:
    with platform.db.session() as session:
        body = cockpit.trends(platform, session, principal(platform, "district_admin"), DISTRICT)
    assert len(body["daily"]) == cockpit.TREND_DAYS and body["daily"][-1]["date"] == "2026-03-01"
    assert body["daily"][-1]["reports"] == 8  # the four reports of each street, all today
    assert sum(d["reports"] for d in body["daily"]) == sum(r["reports"] for r in body["breakdown"])
    top = {c["category_code"]: c["cases"] for c in body["top_categories"]}
    assert top["T-MANHOLE"] >= 4


def test_indicators_show_the_worst_open_alarm_level(platform: Platform, city: SmallCity) -> None:
    from cityops.indicators import flows

    flows.import_demo_catalogue(platform, actor="test")
    with platform.db.session() as session:
        body = cockpit.indicators(platform, session, principal(platform, "a_leader"), None)
    assert body["region"]["region_code"] == STREET_A
    by_code = {i["code"]: i for i in body["items"]}
    assert by_code["WAT-XFH-LEVEL-MAX"]["level"] == "red" and by_code["WAT-XFH-LEVEL-MAX"]["value"] == 4.1
    assert by_code["WAT-XFH-LEVEL-MAX"]["open_alarms"] == 2  # street A's yellow and red, not street B's


def test_the_slow_figures_are_kept_and_served_stale_while_one_thread_recomputes() -> None:
    memo = cockpit.Memo(ttl_s=0.0, stale_s=60.0)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert memo.get("k", compute) == 1
    assert memo.get("k", compute) == 1  # stale: answered at once, refreshed behind
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while len(calls) < 2 and datetime.now(UTC) < deadline:
        pass
    assert len(calls) == 2


def test_warming_up_computes_the_city_and_its_districts_so_the_first_viewer_is_served_from_the_cache(
        platform: Platform, city: SmallCity) -> None:
    assert cockpit.warm_up(platform) == ["370300", "370302", DISTRICT]
    memo = cockpit.memo_of(platform)
    warmed = {key for key in memo._entries if isinstance(key, tuple)}
    assert {("summary", "370300"), ("summary", DISTRICT), ("indicators", DISTRICT)} <= warmed
    cached = summary_for(platform, "city_admin", DISTRICT)
    memo.clear()
    assert summary_for(platform, "city_admin", DISTRICT) == cached  # the warmed answer is the computed one


def test_warming_up_a_platform_without_regions_does_nothing(platform: Platform) -> None:
    assert cockpit.warm_up(platform) == []
