"""The dispatcher workbench and the handlers' task page: who may open them, and what they hand to their scripts."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from cityops.cases.states import RULES
from cityops.platform import Platform
from tests.cityfixture import PASSWORD, build_small_city
from tests.web.conftest import login

PAGES = ["/workbench", "/workbench/cases/1", "/tasks"]


@pytest.fixture
def city_client(platform: Platform, client: TestClient) -> TestClient:
    build_small_city(platform)
    return client


@pytest.mark.parametrize("path", PAGES)
def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(city_client: TestClient, path: str) -> None:
    response = city_client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + path


@pytest.mark.parametrize(("username", "path", "status"), [
    ("a_dispatcher", "/workbench", 200), ("a_dispatcher", "/workbench/cases/1", 200), ("a_dispatcher", "/tasks", 403),
    ("a_handler", "/workbench", 403), ("a_handler", "/workbench/cases/1", 403), ("a_handler", "/tasks", 200),
    ("district_admin", "/workbench", 200), ("district_admin", "/tasks", 200),
    ("a_leader", "/workbench", 403), ("a_grid_worker", "/tasks", 403),
])
def test_each_page_opens_only_for_its_roles(city_client: TestClient, username: str, path: str, status: int) -> None:
    login(city_client, username, PASSWORD)
    response = city_client.get(path)
    assert response.status_code == status
    assert "text/html" in response.headers["content-type"]


def _embedded(html: str, element_id: str) -> object:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert match, f"#{element_id} is missing"
    return json.loads(match.group(1))


def test_the_workbench_hands_its_script_the_servers_rules_and_shows_its_shortcuts(city_client: TestClient) -> None:
    login(city_client, "a_dispatcher", PASSWORD)
    html = city_client.get("/workbench").text
    rules = _embedded(html, "case-rules")
    assert isinstance(rules, dict)
    assert set(rules) == {a.value for a in RULES}
    assert rules["register"]["requires"] == ["category_code"]
    assert rules["dispatch"]["sources"] == ["registered", "returned"]
    context = _embedded(html, "case-context")
    assert isinstance(context, dict)
    assert context["role"] == "dispatcher"
    for words in ("分拨队列", "超期", "即将超期", "<kbd>j</kbd>", 'for="f-q"', 'for="f-state"', 'for="f-category"',
                  'for="f-region"', "/static/js/workbench.js", "/static/vendor/leaflet/leaflet.js"):
        assert words in html


def test_the_task_page_knows_the_handlers_department_and_speaks_english_on_request(
        platform: Platform, city_client: TestClient) -> None:
    login(city_client, "a_handler", PASSWORD)
    html = city_client.get("/tasks?lang=en").text
    context = _embedded(html, "case-context")
    assert isinstance(context, dict)
    assert context["role"] == "handler" and isinstance(context["department_id"], int)
    assert "My tasks" in html and "/static/js/tasks.js" in html


def test_the_static_files_of_the_pages_are_served(city_client: TestClient) -> None:
    for path in ("/static/js/workbench.js", "/static/js/tasks.js", "/static/css/workbench.css"):
        assert city_client.get(path).status_code == 200, path
