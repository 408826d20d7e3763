"""A street-scoped user can neither list nor read another street's records, whatever their role.

The matrix covers every GET endpoint under /api/v1: a new endpoint that is not put here makes
`test_every_api_get_endpoint_is_in_the_matrix` fail, so scoping cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from cityops.org.roles import STAFF_ROLES
from cityops.platform import Platform
from cityops.web.app import create_app
from tests.cases.matrix import case_path, report_path, seed_cases
from tests.catalog.matrix import preview_path, rule_path, seed_rules
from tests.cityfixture import PASSWORD, STREET_A, STREET_B, SmallCity, build_small_city
from tests.indicators.matrix import seed_alarms
from tests.insight.reports_seed import hotspot_region, seed_insight
from tests.web.conftest import login

# Reference data: visible in the caller's own region and along the path upwards (district, city).
VISIBLE_UPWARDS = {"370300", "370303"}


@dataclass(frozen=True)
class Endpoint:
    path: str
    kind: str  # "list", "detail" or "aggregate" (figures for a region, chosen with ?region=)
    # list: item -> region code; detail: (city, street tag) -> concrete path for that street's record
    region_of: Callable[[dict[str, Any]], str | None] | None = None
    target: Callable[[SmallCity, str], str] | None = None
    reference: bool = False
    params: tuple[tuple[str, str], ...] = ()  # query parameters the endpoint needs
    seed: Callable[[Platform, SmallCity], None] | None = None  # adds the records the endpoint would show


def items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return body
    if "items" in body:
        return list(body["items"])
    return list(body.get("features", []))


def feature_or_item_code(item: dict[str, Any]) -> str | None:
    props = item.get("properties", item)
    return props.get("code") or props.get("region_code")


MATRIX: dict[str, Endpoint] = {
    "/api/v1/staff": Endpoint("/api/v1/staff", "list", region_of=lambda i: i["region_code"]),
    "/api/v1/staff/{staff_id}": Endpoint(
        "/api/v1/staff/{staff_id}", "detail",
        target=lambda city, tag: f"/api/v1/staff/{city.staff[f'{tag}_dispatcher']}"),
    "/api/v1/audit": Endpoint("/api/v1/audit", "list", region_of=lambda i: i["region_code"]),
    "/api/v1/audit/{seq}": Endpoint("/api/v1/audit/{seq}", "detail", target=lambda city, tag: "AUDIT:" + tag),
    "/api/v1/departments": Endpoint("/api/v1/departments", "list", region_of=lambda i: i["region_code"],
                                    reference=True),
    "/api/v1/departments/{department_id}": Endpoint(
        "/api/v1/departments/{department_id}", "detail", reference=True,
        target=lambda city, tag: f"/api/v1/departments/{city.departments[f'{STREETS[tag]}-office']}"),
    "/api/v1/regions": Endpoint("/api/v1/regions", "list", region_of=feature_or_item_code, reference=True),
    "/api/v1/regions/geojson": Endpoint("/api/v1/regions/geojson", "list", region_of=feature_or_item_code,
                                        reference=True),
    "/api/v1/regions/{code}": Endpoint("/api/v1/regions/{code}", "detail", reference=True,
                                       target=lambda city, tag: f"/api/v1/regions/{STREETS[tag]}"),
    "/api/v1/regions/{code}/children": Endpoint(
        "/api/v1/regions/{code}/children", "detail", reference=True,
        target=lambda city, tag: f"/api/v1/regions/{STREETS[tag]}/children"),
    # Figures, not records: street B's are refused; without a region they cover the caller's own scope only.
    "/api/v1/kpis": Endpoint("/api/v1/kpis", "aggregate", params=(("from", "2026-03-01"), ("to", "2026-04-01")),
                             region_of=lambda body: body.get("region", body)["region_code"]),
    # Routing rules are reference data of their region (own region and above), like departments.
    "/api/v1/routing-rules": Endpoint("/api/v1/routing-rules", "list", region_of=lambda i: i["region_code"],
                                      reference=True, seed=seed_rules),
    "/api/v1/routing-rules/{rule_id}": Endpoint("/api/v1/routing-rules/{rule_id}", "detail", reference=True,
                                                seed=seed_rules, target=lambda city, tag: rule_path(tag)),
    "/api/v1/routing-rules/{rule_id}/history": Endpoint(
        "/api/v1/routing-rules/{rule_id}/history", "detail", reference=True, seed=seed_rules,
        target=lambda city, tag: rule_path(tag, "/history")),
    "/api/v1/routing/preview": Endpoint("/api/v1/routing/preview", "detail", reference=True, seed=seed_rules,
                                        target=lambda city, tag: preview_path(STREETS[tag])),
    "/api/v1/cases": Endpoint("/api/v1/cases", "list", region_of=lambda i: i["region_code"], seed=seed_cases),
    "/api/v1/cases/{case_id}": Endpoint("/api/v1/cases/{case_id}", "detail", seed=seed_cases,
                                        target=lambda city, tag: case_path(tag)),
    "/api/v1/cases/{case_id}/timeline": Endpoint("/api/v1/cases/{case_id}/timeline", "detail", seed=seed_cases,
                                                 target=lambda city, tag: case_path(tag, "/timeline")),
    "/api/v1/reports": Endpoint("/api/v1/reports", "list", region_of=lambda i: i["region_code"], seed=seed_cases),
    "/api/v1/reports/{public_id}": Endpoint("/api/v1/reports/{public_id}", "detail", seed=seed_cases,
                                            target=lambda city, tag: report_path(tag)),
    "/api/v1/workbench/triage-queue": Endpoint("/api/v1/workbench/triage-queue", "list",
                                               region_of=lambda i: i["region_code"], seed=seed_cases),
    "/api/v1/workbench/my-tasks": Endpoint("/api/v1/workbench/my-tasks", "list", region_of=lambda i: i["region_code"],
                                           seed=seed_cases),
    "/api/v1/workbench/overdue": Endpoint("/api/v1/workbench/overdue", "list", region_of=lambda i: i["region_code"],
                                          seed=seed_cases),
    "/api/v1/workbench/soon-due": Endpoint("/api/v1/workbench/soon-due", "list", region_of=lambda i: i["region_code"],
                                           seed=seed_cases),
    # Hotspots are made of the caller's region's reports only; by default the last seven days.
    "/api/v1/insight/hotspots": Endpoint("/api/v1/insight/hotspots", "list", region_of=hotspot_region,
                                         seed=seed_insight),
    "/api/v1/insight/monthly-topic": Endpoint("/api/v1/insight/monthly-topic", "aggregate",
                                              params=(("month", "2026-02"),), seed=seed_insight,
                                              region_of=lambda body: body.get("region", body)["region_code"]),
    "/api/v1/alarms": Endpoint("/api/v1/alarms", "list", region_of=lambda i: i["region_code"], seed=seed_alarms),
    # The leader cockpit: the cards and trends of a region (with a row per child region), the open cases on the map.
    "/api/v1/cockpit/summary": Endpoint("/api/v1/cockpit/summary", "aggregate", seed=seed_cases,
                                        region_of=lambda body: body.get("region", body)["region_code"]),
    "/api/v1/cockpit/trends": Endpoint("/api/v1/cockpit/trends", "aggregate", seed=seed_cases,
                                       region_of=lambda body: body.get("region", body)["region_code"]),
    "/api/v1/cockpit/map": Endpoint("/api/v1/cockpit/map", "list", region_of=lambda i: i["region_code"],
                                    seed=seed_cases),
}

# GET endpoints that hold no records of any region, with the reason.
NOT_SCOPED = {
    "/api/v1/auth/me": "answers only the caller's own identity",
    "/api/v1/regions/locate": "a geographic lookup of public boundaries (the citizen portal needs it)",
    "/api/v1/categories": "the category catalogue is city-wide reference data, the same for every region",
    "/api/v1/categories/export": "the city-wide category catalogue as a file",
    "/api/v1/categories/{code}": "one category of the city-wide catalogue",
    "/api/v1/categories/{code}/history": "versions of a city-wide category",
    "/api/v1/photos/{photo_id}": "content-addressed: the id is a SHA-256 of the photo, known only from cases the"
                                 " caller can see (unguessable, like a capability URL)",
    "/api/v1/workbench/counts": "scoped figures, checked by test_workbench_counts_cover_only_the_callers_street",
    # The data hub is scoped by department (owner or grantee), not by region; tests/datahub checks each path.
    "/api/v1/datahub/datasets": "the catalogue says what data exists city-wide, not what it holds",
    "/api/v1/datahub/datasets/{code}": "one catalogue entry: description and schema, no rows",
    "/api/v1/datahub/datasets/{code}/schema": "one catalogue entry's Table Schema",
    "/api/v1/datahub/datasets/{code}/versions": "versions of one catalogue entry's description and schema",
    "/api/v1/datahub/datasets/{code}/quality": "scores with masked examples, published with the catalogue",
    "/api/v1/datahub/datasets/{code}/rows": "rows for the owning department or under a grant only"
                                            " (test_sharing_api, test_grant_property)",
    "/api/v1/datahub/datasets/{code}/rows/{key}": "one row for the owner or under a grant (test_grant_property)",
    "/api/v1/datahub/imports/{job_id}": "the owning department's import only (test_import_api)",
    "/api/v1/datahub/imports/{job_id}/errors.xlsx": "the owning department's import only (test_import_api)",
    "/api/v1/datahub/lists": "the caller's own department's lists (test_sharing_api)",
    "/api/v1/cockpit/indicators": "vital signs of one region, checked like /api/v1/kpis; alarms counted inside it"
                                  " (test_cockpit_pages: test_a_street_user_cannot_get_another_streets_figures)",
    "/api/v1/cockpit/stream": "server-sent /api/v1/cockpit/summary, the same scope check before the first event"
                              " (test_cockpit_pages)",
}

STREETS = {"a": STREET_A, "b": STREET_B}


def test_every_api_get_endpoint_is_in_the_matrix(platform: Platform):
    app = create_app(platform, start_bus=False)
    gets = {r.path for r in app.routes if isinstance(r, APIRoute) and "GET" in r.methods
            and r.path.startswith("/api/")}
    missing = gets - set(MATRIX) - set(NOT_SCOPED)
    assert not missing, f"GET endpoints not covered by the scope matrix: {sorted(missing)}"


def _audit_seq_for(client: TestClient, platform: Platform, street: str) -> int:
    from sqlalchemy import select

    from cityops.audit.models import AuditRecord

    with platform.db.session() as session:
        seq = session.scalars(select(AuditRecord.seq).where(AuditRecord.region_code == street)
                              .order_by(AuditRecord.seq)).first()
    assert seq is not None
    return seq


def _resolve(endpoint: Endpoint, city: SmallCity, tag: str, client: TestClient, platform: Platform) -> str:
    assert endpoint.target is not None
    path = endpoint.target(city, tag)
    if path.startswith("AUDIT:"):
        return f"/api/v1/audit/{_audit_seq_for(client, platform, STREETS[tag])}"
    return path


def _visible_to_street_a(code: str | None, reference: bool) -> bool:
    if code is None:
        return False
    return code.startswith(STREET_A) or (reference and code in VISIBLE_UPWARDS)


def _aggregate_covers_only_street_a(endpoint: Endpoint, client: TestClient, role: str) -> bool:
    """Street B's figures are not found (or forbidden); the default figures are street A's and its children's."""
    params = dict(endpoint.params)
    other = client.get(endpoint.path, params={**params, "region": STREET_B})
    assert other.status_code in (403, 404), (endpoint.path, role, other.text)
    assert STREET_B not in other.text
    own = client.get(endpoint.path, params=params)
    assert own.status_code in (200, 403), (endpoint.path, role, own.text)
    if own.status_code == 403:
        return False
    assert endpoint.region_of is not None
    body = own.json()
    codes = [endpoint.region_of(body), *(endpoint.region_of(row) for row in body.get("breakdown", []))]
    assert codes[0] == STREET_A and len(codes) > 1, (endpoint.path, role, codes)
    leaked = [c for c in codes if not _visible_to_street_a(c, reference=False)]
    assert not leaked, f"{role} got other regions' figures via {endpoint.path}: {leaked}"
    return True


@pytest.mark.parametrize("role", [r.value for r in STAFF_ROLES])
def test_street_user_sees_no_other_streets_records(role: str, platform: Platform, client: TestClient):
    city = build_small_city(platform)
    for seed in {e.seed for e in MATRIX.values() if e.seed is not None}:
        seed(platform, city)
    login(client, f"a_{role}", PASSWORD)
    allowed_somewhere = False
    for endpoint in MATRIX.values():
        if endpoint.kind == "list":
            response = client.get(endpoint.path, params={"limit": 500} if "geojson" not in endpoint.path else {})
            assert response.status_code in (200, 403), (endpoint.path, response.text)
            if response.status_code == 403:
                continue
            allowed_somewhere = True
            assert endpoint.region_of is not None
            codes = [endpoint.region_of(item) for item in items(response.json())]
            assert codes, f"{endpoint.path} listed nothing at all for {role}: the check would be vacuous"
            leaked = [c for c in codes if not _visible_to_street_a(c, endpoint.reference)]
            assert not leaked, f"{role} listed other regions' records via {endpoint.path}: {leaked}"
        elif endpoint.kind == "aggregate":
            allowed_somewhere |= _aggregate_covers_only_street_a(endpoint, client, role)
        else:
            own = client.get(_resolve(endpoint, city, "a", client, platform))
            other = client.get(_resolve(endpoint, city, "b", client, platform))
            assert other.status_code in (403, 404), (endpoint.path, role, other.text)
            assert STREET_B not in other.text
            assert own.status_code == (403 if other.status_code == 403 else 200), (endpoint.path, role, own.text)
    assert allowed_somewhere, f"{role} could list nothing: the matrix proves nothing for it"


def test_district_admin_sees_both_streets_but_not_the_other_district(platform: Platform, client: TestClient):
    build_small_city(platform)
    login(client, "district_admin", PASSWORD)
    codes = {item["region_code"] for item in client.get("/api/v1/staff", params={"limit": 500}).json()["items"]}
    assert codes == {STREET_A, STREET_B, "370303"}


def test_api_key_scoped_to_a_street_cannot_read_the_other_street(platform: Platform, client: TestClient):
    from cityops.org import flows

    city = build_small_city(platform)
    _, token = flows.create_api_key(platform, actor=None, name="street A system", role="system",
                                    region_code=STREET_A)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/regions/{STREET_B}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/regions/{STREET_A}", headers=headers).status_code == 200
    other_office = city.departments[f"{STREET_B}-office"]
    assert client.get(f"/api/v1/departments/{other_office}", headers=headers).status_code == 404
    assert client.get("/api/v1/staff", headers=headers).status_code == 403


def test_workbench_counts_cover_only_the_callers_street(platform: Platform, client: TestClient):
    city = build_small_city(platform)
    seed_cases(platform, city)
    login(client, "a_dispatcher", PASSWORD)
    counts = client.get("/api/v1/workbench/counts").json()
    assert counts == {"dispatched": 3, "received": 1}  # street A's four cases; street B's four are not counted
    login(client, "district_admin", PASSWORD)
    assert sum(client.get("/api/v1/workbench/counts").json().values()) == 8
