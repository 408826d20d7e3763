"""Building a base register from two departments' data, and the quality report over the API, CLI and job."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cityops import workers
from cityops.cli.main import app as cli_app
from cityops.core.settings import reset_settings_cache
from tests.datahub.conftest import (
    OWNER,
    PERSON_SCHEMA,
    REQUESTER,
    Hub,
    define_people,
    import_people,
    people_csv,
    person,
)

CIVIL_SCHEMA: dict[str, Any] = {"primaryKey": ["id_number"], "fields": [
    {"name": "id_number", "type": "string", "standard": "resident_id", "piClass": "resident_id",
     "grade": "important", "constraints": {"required": True}},
    {"name": "name", "type": "string", "piClass": "name", "grade": "important"},
    {"name": "mobile", "type": "string", "standard": "mobile", "piClass": "mobile", "grade": "important"},
    {"name": "marital_status", "type": "string", "dimension": True}]}
REGISTER_SCHEMA: dict[str, Any] = {"primaryKey": ["id_number"], "fields": [
    *PERSON_SCHEMA["fields"][:3], {"name": "gender", "type": "string", "dimension": True},
    {"name": "marital_status", "type": "string", "dimension": True}]}


def _two_sources(client: TestClient, hub: Hub) -> list[dict[str, str]]:
    people = [person(n) for n in range(20)]
    for row in people[:5]:
        row["mobile"] = ""  # public security lacks these mobiles; civil affairs has them
    define_people(client, hub, feeds_register="population", register_priority=20)
    assert import_people(client, hub, people_csv(people))["status"] == "succeeded"
    civil = [{"id_number": p["id_number"], "name": p["name"], "mobile": f"1590000{n:04d}",
              "marital_status": "已婚"} for n, p in enumerate(people[:10])]
    civil[7]["name"] = civil[7]["name"] + "某"  # the same ID with a different name: a conflict
    define_people(client, hub, "mzj.civil", CIVIL_SCHEMA, owner=REQUESTER, feeds_register="population",
                  register_priority=10)
    assert import_people(client, hub, people_csv(civil, ("id_number", "name", "mobile", "marital_status")),
                         code="mzj.civil", owner=REQUESTER)["status"] == "succeeded"
    define_people(client, hub, "reg.population", REGISTER_SCHEMA, register="population")
    return people


def test_the_register_merges_sources_by_priority_and_lists_the_conflicts(hub: Hub, hub_client: TestClient) -> None:
    client = hub_client
    people = _two_sources(client, hub)
    built = client.post("/api/v1/datahub/registers/population/build", headers=hub.auth(OWNER))
    assert built.status_code == 200, built.text
    summary = built.json()
    assert summary["rows"] == 20 and summary["sources"] == {"gaj.people": 20, "mzj.civil": 10}
    conflicted = people[7]["id_number"]
    names = {c["key"]: c for c in summary["conflicts"] if c["field"] == "name"}
    assert set(names) == {conflicted}
    assert names[conflicted]["chosen_from"] == "gaj.people"

    rows = client.get("/api/v1/datahub/datasets/reg.population/rows", headers=hub.auth(OWNER),
                      params={"limit": 100}).json()["rows"]
    by_id = {r["id_number"]: r for r in rows}
    assert by_id[conflicted]["name"] == people[7]["name"]  # the higher-priority source wins
    assert by_id[people[2]["id_number"]]["mobile"] == "15900000002"  # the gap filled from civil affairs
    assert by_id[people[15]["id_number"]]["marital_status"] is None
    assert by_id[people[3]["id_number"]]["marital_status"] == "已婚"
    assert by_id[people[2]["id_number"]]["_sources"] == {"name": "gaj.people", "mobile": "mzj.civil",
                                                         "gender": "gaj.people", "marital_status": "mzj.civil"}

    register = client.get("/api/v1/datahub/datasets/reg.population", headers=hub.auth(OWNER)).json()
    assert (register["register"], register["row_count"]) == ("population", 20)


def test_the_register_is_read_by_other_departments_only_through_a_grant(hub: Hub, hub_client: TestClient) -> None:
    client = hub_client
    people = _two_sources(client, hub)
    client.post("/api/v1/datahub/registers/population/build", headers=hub.auth(OWNER))
    key = people[0]["id_number"]
    assert client.get(f"/api/v1/datahub/datasets/reg.population/rows/{key}",
                      headers=hub.auth(REQUESTER)).status_code == 403
    assert client.get(f"/api/v1/datahub/datasets/reg.population/rows/{key}",
                      headers=hub.auth(OWNER)).json()["name"] == people[0]["name"]


def test_the_quality_report_finds_the_same_id_with_another_name(hub: Hub, hub_client: TestClient) -> None:
    client = hub_client
    people = _two_sources(client, hub)
    response = client.post("/api/v1/datahub/datasets/gaj.people/quality", headers=hub.auth(OWNER))
    assert response.status_code == 200, response.text
    report = response.json()["report"]
    assert report["rows"] == 20
    mobile = next(f for f in report["fields"] if f["name"] == "mobile")
    assert mobile["completeness"] == 0.75
    assert report["validity"] == 1.0
    assert report["timeliness"] == 1.0
    [check] = report["consistency_checks"]
    assert (check["right_name"], check["matched"], check["mismatched"]) == ("mzj.civil", 10, 1)
    assert check["score"] == 0.9
    shown = json.dumps(report, ensure_ascii=False)
    assert people[7]["id_number"] not in shown  # examples are masked
    assert not re.search(r"\d{17}[\dX]", shown)

    latest = client.get("/api/v1/datahub/datasets/gaj.people/quality", headers=hub.auth(OWNER)).json()
    assert latest["overall"] == response.json()["overall"]
    detail = client.get("/api/v1/datahub/datasets/gaj.people", headers=hub.auth(REQUESTER)).json()
    assert detail["quality_overall"] == latest["overall"]


def test_the_scheduled_check_runs_for_changed_datasets_only(hub: Hub, hub_client: TestClient) -> None:
    client = hub_client
    define_people(client, hub)
    import_people(client, hub, people_csv([person(n) for n in range(5)]))
    assert workers.run_quality_checks(hub.platform) == ["gaj.people"]
    assert workers.run_quality_checks(hub.platform) == []  # unchanged and checked within the interval
    hub.platform.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    import_people(client, hub, people_csv([person(n) for n in range(5, 8)]))
    assert workers.run_quality_checks(hub.platform) == ["gaj.people"]


def test_cityops_datahub_quality_prints_the_report(hub: Hub, hub_client: TestClient,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    define_people(hub_client, hub)
    import_people(hub_client, hub, people_csv([person(n) for n in range(5)]))
    monkeypatch.setenv("CITYOPS_DATABASE_URL", hub.platform.settings.effective_database_url)
    monkeypatch.setenv("CITYOPS_DATA_DIR", str(hub.platform.settings.data_dir))
    reset_settings_cache()
    try:
        result = CliRunner().invoke(cli_app, ["datahub", "quality", "gaj.people"])
        missing = CliRunner().invoke(cli_app, ["datahub", "quality", "no.such"])
    finally:
        reset_settings_cache()
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dataset"] == "gaj.people" and report["rows"] == 5
    assert {m["label"] for m in report["measures"]} >= {"完整性", "有效性", "唯一性", "及时性"}
    assert missing.exit_code == 2
