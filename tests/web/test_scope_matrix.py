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
from tests.cityfixture import PASSWORD, STREET_A, STREET_B, SmallCity, build_small_city
from tests.web.conftest import login

# Reference data: visible in the caller's own region and along the path upwards (district, city).
VISIBLE_UPWARDS = {"370300", "370303"}


@dataclass(frozen=True)
class Endpoint:
    path: str
    kind: str  # "list" or "detail"
    # list: item -> region code; detail: (city, street tag) -> concrete path for that street's record
    region_of: Callable[[dict[str, Any]], str | None] | None = None
    target: Callable[[SmallCity, str], str] | None = None
    reference: bool = False


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
}

# GET endpoints that hold no records of any region, with the reason.
NOT_SCOPED = {
    "/api/v1/auth/me": "answers only the caller's own identity",
    "/api/v1/regions/locate": "a geographic lookup of public boundaries (the citizen portal needs it)",
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


@pytest.mark.parametrize("role", [r.value for r in STAFF_ROLES])
def test_street_user_sees_no_other_streets_records(role: str, platform: Platform, client: TestClient):
    city = build_small_city(platform)
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
