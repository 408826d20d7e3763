"""Health, readiness, metrics, and errors as JSON with stable codes, in Chinese first and English on request."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cityops.platform import Platform
from tests.cityfixture import PASSWORD, build_small_city
from tests.web.conftest import login


def test_health_and_readiness_answer_ok(client: TestClient):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "bus": "ok"}


def test_metrics_count_requests_by_route_template(client: TestClient):
    client.get("/api/v1/regions/370303")
    client.get("/api/v1/regions/370302")
    body = client.get("/metrics").text
    assert 'route="/api/v1/regions/{code}"' in body
    assert "cityops_http_request_duration_seconds_bucket" in body


def test_unauthenticated_request_gets_401_with_code_and_chinese_message(client: TestClient):
    response = client.get("/api/v1/staff")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth.unauthenticated"
    assert response.json()["error"]["message"] == "请先登录"


def test_english_message_on_request(client: TestClient):
    response = client.get("/api/v1/staff", headers={"Accept-Language": "en-US"})
    assert response.json()["error"]["message"] == "Please sign in first"


def test_wrong_password_and_unknown_user_get_the_same_answer(platform: Platform, client: TestClient):
    build_small_city(platform)
    wrong = client.post("/api/v1/auth/login", json={"username": "a_admin", "password": "nope"})
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "auth.bad_credentials"


def test_validation_error_names_the_field(platform: Platform, client: TestClient):
    build_small_city(platform)
    login(client, "city_admin", PASSWORD)
    response = client.post("/api/v1/staff", json={"username": "x y", "display_name": "测试", "password": "short",
                                                 "role": "handler", "region_code": "370303001"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation.invalid"
    assert {e["field"] for e in error["errors"]} == {"username", "password"}
    assert "username" in error["message"]


def test_unknown_role_is_refused_naming_the_field(platform: Platform, client: TestClient):
    build_small_city(platform)
    login(client, "city_admin", PASSWORD)
    response = client.post("/api/v1/staff", json={"username": "newbie", "display_name": "新人",
                                                 "password": "long-enough-pass", "role": "mayor",
                                                 "region_code": "370303001"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "role"


def test_admin_cannot_create_staff_outside_their_region(platform: Platform, client: TestClient):
    build_small_city(platform)
    login(client, "a_admin", PASSWORD)
    response = client.post("/api/v1/staff", json={"username": "elsewhere", "display_name": "别处",
                                                 "password": "long-enough-pass", "role": "handler",
                                                 "region_code": "370303002"})
    assert response.status_code == 404
    inside = client.post("/api/v1/staff", json={"username": "inside", "display_name": "本街道",
                                               "password": "long-enough-pass", "role": "handler",
                                               "region_code": "370303001"})
    assert inside.status_code == 201, inside.text


def test_staff_creation_is_audited_in_the_same_transaction(platform: Platform, client: TestClient):
    build_small_city(platform)
    login(client, "city_admin", PASSWORD)
    created = client.post("/api/v1/staff", json={"username": "audited", "display_name": "审计",
                                                "password": "long-enough-pass", "role": "handler",
                                                "region_code": "370303001"}).json()
    records = client.get("/api/v1/audit", params={"action": "staff.created"}).json()["items"]
    newest = records[0]
    assert newest["entity_id"] == str(created["id"])
    assert newest["actor"].endswith(":city_admin")


def test_logout_ends_the_session(platform: Platform, client: TestClient):
    build_small_city(platform)
    login(client, "a_leader", PASSWORD)
    assert client.get("/api/v1/auth/me").json()["role"] == "leader"
    client.post("/api/v1/auth/logout")
    assert client.get("/api/v1/auth/me").status_code == 401


def test_landing_page_renders_in_chinese(client: TestClient):
    page = client.get("/")
    assert page.status_code == 200
    assert "城市运行管理平台" in page.text
