"""Sharing over the API: request → approve some fields → access (masked, audited) → revoke → refused."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cityops.audit import service as audit
from cityops.cli.main import app as cli_app
from cityops.core.settings import reset_settings_cache
from cityops.platform import Platform
from tests.cityfixture import OTHER_DISTRICT
from tests.datahub.conftest import (
    BYSTANDER,
    OWNER,
    REQUESTER,
    UNTIL,
    Hub,
    decide,
    define_people,
    import_people,
    login_as,
    people_csv,
    person,
    request_fields,
)


def _accesses(platform: Platform) -> list[dict[str, object]]:
    with platform.db.session() as session:
        return [r for r in audit._stream(session) if r["action"] == "datahub.accessed"]


def _cli_audit_verify(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.setenv("CITYOPS_DATABASE_URL", platform.settings.effective_database_url)
    monkeypatch.setenv("CITYOPS_DATA_DIR", str(platform.settings.data_dir))
    reset_settings_cache()
    try:
        result = CliRunner().invoke(cli_app, ["audit", "verify"])
    finally:
        reset_settings_cache()
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_request_approve_some_access_revoke_refused_and_every_access_is_audited(
        hub: Hub, hub_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    client = hub_client
    define_people(client, hub)
    people = [person(n) for n in range(60)]
    import_people(client, hub, people_csv(people))
    request_id = request_fields(client, hub, ["id_number", "name", "mobile", "gender", "age"])

    login_as(client, hub.officers[OWNER])
    duty = client.get("/api/v1/datahub/lists").json()["responsibility"]
    assert [(r["id"], r["status"]) for r in duty] == [(request_id, "pending")]
    decision = decide(client, hub, request_id, approve=True, fields=["id_number", "name", "gender"])
    assert decision["status"] == "partial"
    grant_id = decision["grant_id"]

    page = client.get("/api/v1/datahub/datasets/gaj.people/rows", params={"limit": 50},
                      headers=hub.auth(REQUESTER)).json()
    assert page["fields"] == {"id_number": "masked", "name": "masked", "gender": "clear"}
    assert len(page["rows"]) == 50 and page["next_after"] is not None
    by_gender = {p["id_number"][:6] + "********" + p["id_number"][-4:]: p for p in people}
    for row in page["rows"]:
        assert set(row) == {"id_number", "name", "gender"}
        assert re.fullmatch(r"\d{6}\*{8}[\dX]{4}", row["id_number"])
        assert row["name"][0] in "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗" and set(row["name"][1:]) == {"*"}
        assert row["gender"] == by_gender[row["id_number"]]["gender"]
    rest = client.get("/api/v1/datahub/datasets/gaj.people/rows",
                      params={"after": page["next_after"], "limit": 50}, headers=hub.auth(REQUESTER)).json()
    assert len(rest["rows"]) == 10 and rest["next_after"] is None

    refused_field = client.get("/api/v1/datahub/datasets/gaj.people/rows", params={"fields": "mobile"},
                               headers=hub.auth(REQUESTER))
    assert refused_field.status_code == 403
    assert client.get("/api/v1/datahub/datasets/gaj.people/rows", headers=hub.auth(BYSTANDER)).status_code == 403

    accesses = _accesses(hub.platform)
    assert [(a["data"]["rows"], a["data"]["grant"]) for a in accesses] == [(50, grant_id), (10, grant_id)]
    for entry in accesses:
        assert entry["data"]["fields"] == ["id_number", "name", "gender"]
        assert entry["data"]["purpose"] == "核对低保对象身份与家庭情况"
        assert entry["actor"].startswith("api_key:")

    login_as(client, hub.officers[OWNER])
    revoked = client.post(f"/api/v1/datahub/grants/{grant_id}/revoke", json={"reason": "低保核对工作已结束"})
    assert revoked.status_code == 204
    after = client.get("/api/v1/datahub/datasets/gaj.people/rows", headers=hub.auth(REQUESTER))
    assert after.status_code == 403
    assert after.json()["error"]["code"] == "auth.forbidden"
    assert len(_accesses(hub.platform)) == 2  # a refused read returned nothing, so it accessed nothing

    report = _cli_audit_verify(hub.platform, monkeypatch)
    assert report["ok"] is True

    login_as(client, hub.officers[REQUESTER])
    lists = client.get("/api/v1/datahub/lists").json()
    assert lists["demand"][0]["status"] == "partial"
    assert lists["grants"][0]["revoked_at"] is not None


def test_a_rejection_needs_a_reason_and_a_decided_request_cannot_be_decided_again(
        hub: Hub, hub_client: TestClient) -> None:
    client = hub_client
    define_people(client, hub)
    request_id = request_fields(client, hub, ["name"])
    login_as(client, hub.officers[OWNER])
    no_reason = client.post(f"/api/v1/datahub/requests/{request_id}/decision", json={"approve": False})
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["field"] == "reason"
    assert decide(client, hub, request_id, approve=False, reason="用途与申请字段不符")["status"] == "rejected"
    again = client.post(f"/api/v1/datahub/requests/{request_id}/decision", json={"approve": True})
    assert again.status_code == 409


def test_only_the_owner_decides_and_only_requested_fields_can_be_approved(hub: Hub, hub_client: TestClient) -> None:
    client = hub_client
    define_people(client, hub)
    request_id = request_fields(client, hub, ["name", "gender"])
    login_as(client, hub.officers[REQUESTER])  # the requester cannot approve its own request
    response = client.post(f"/api/v1/datahub/requests/{request_id}/decision", json={"approve": True})
    assert response.status_code == 403
    login_as(client, hub.officers[OWNER])
    response = client.post(f"/api/v1/datahub/requests/{request_id}/decision",
                           json={"approve": True, "fields": ["name", "mobile"]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "fields"


def test_a_request_names_real_fields_a_purpose_and_a_future_end(hub: Hub, hub_client: TestClient) -> None:
    client = hub_client
    define_people(client, hub)
    login_as(client, hub.officers[REQUESTER])
    base = {"dataset": "gaj.people", "fields": ["name"], "purpose": "核对身份信息", "legal_basis": "依申请",
            "wanted_until": UNTIL}
    for change, field in (({"fields": ["salary"]}, "fields"), ({"purpose": "查"}, "purpose"),
                          ({"wanted_until": "2020-01-01T00:00:00Z"}, "wanted_until"),
                          ({"clear_fields": ["mobile"]}, "clear_fields")):
        response = client.post("/api/v1/datahub/requests", json=base | change)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error"]["field"] == field


def test_a_field_approved_in_clear_is_shown_in_clear_and_the_others_stay_masked(hub: Hub,
                                                                               hub_client: TestClient) -> None:
    client = hub_client
    define_people(client, hub)
    people = [person(n) for n in range(5)]
    import_people(client, hub, people_csv(people))
    request_id = request_fields(client, hub, ["id_number", "mobile"], clear_fields=["id_number"])
    decide(client, hub, request_id, approve=True)
    page = client.get("/api/v1/datahub/datasets/gaj.people/rows", headers=hub.auth(REQUESTER)).json()
    assert page["fields"] == {"id_number": "clear", "mobile": "masked"}
    assert {r["id_number"] for r in page["rows"]} == {p["id_number"] for p in people}
    assert all(re.fullmatch(r"\d{3}\*{4}\d{4}", r["mobile"]) for r in page["rows"])


def test_an_aggregate_cell_of_fewer_than_k_people_is_suppressed(hub: Hub, hub_client: TestClient) -> None:
    client = hub_client
    define_people(client, hub)
    people = [person(n) for n in range(40)] + [person(1000 + n, OTHER_DISTRICT) for n in range(3)]
    import_people(client, hub, people_csv(people))
    request_id = request_fields(client, hub, ["district_code", "gender", "age"], kind="aggregate")
    decide(client, hub, request_id, approve=True)

    answer = client.post("/api/v1/datahub/datasets/gaj.people/aggregate", headers=hub.auth(REQUESTER),
                         json={"group_by": ["district_code"], "measures": [{"op": "count"}]})
    assert answer.status_code == 200, answer.text
    cells = {c["key"]["district_code"]: c for c in answer.json()["cells"]}
    assert cells[OTHER_DISTRICT]["suppressed"] is True
    assert cells[OTHER_DISTRICT]["values"]["count"] is None
    zhangdian = [p for p in people if p["district_code"] != OTHER_DISTRICT]
    visible = sum(n for n in (sum(1 for p in zhangdian if p["gender"] == g) for g in ("男", "女")) if n >= 10)
    assert cells["370303"]["values"]["count"] == visible
    # Rows stay invisible to an aggregate grant.
    assert client.get("/api/v1/datahub/datasets/gaj.people/rows", headers=hub.auth(REQUESTER)).status_code == 403
    outside = client.post("/api/v1/datahub/datasets/gaj.people/aggregate", headers=hub.auth(REQUESTER),
                          json={"group_by": ["name"]})
    assert outside.status_code in (403, 422)
    assert _accesses(hub.platform)[-1]["data"]["aggregate"] is True
