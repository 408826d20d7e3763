"""A small data hub for API tests: three departments with a data officer and an API key each, and a person
dataset (身份证号, 姓名, 手机, 区县, 性别, 年龄) owned by 公安 whose rows are generated with valid IDs."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityops.datahub import identifiers
from cityops.org import flows as org_flows
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.regions.schemas import RegionInput
from tests.cityfixture import CITY, DISTRICT, OTHER_DISTRICT, PASSWORD, square

OWNER, REQUESTER, BYSTANDER = "370300-gaj", "370300-mzj", "370300-cgj"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"

PERSON_SCHEMA: dict[str, Any] = {
    "primaryKey": ["id_number"],
    "fields": [
        {"name": "id_number", "title": "公民身份号码", "type": "string", "standard": "resident_id",
         "grade": "important", "piClass": "resident_id", "constraints": {"required": True}},
        {"name": "name", "title": "姓名", "type": "string", "grade": "important", "piClass": "name",
         "constraints": {"required": True}},
        {"name": "mobile", "title": "手机号码", "type": "string", "standard": "mobile", "grade": "important",
         "piClass": "mobile"},
        {"name": "district_code", "title": "区县", "type": "string", "standard": "adcode", "dimension": True},
        {"name": "gender", "title": "性别", "type": "string", "dimension": True,
         "constraints": {"enum": ["男", "女"]}},
        {"name": "age", "title": "年龄", "type": "integer", "constraints": {"minimum": 0, "maximum": 130}},
    ],
}
UNTIL = "2026-12-31T00:00:00+08:00"  # a grant's wanted end, after the fixtures' clock
PERSON_COLUMNS = ("id_number", "name", "mobile", "district_code", "gender", "age")


def person(n: int, district: str = DISTRICT) -> dict[str, str]:
    """The n-th generated person: a valid ID, a plausible name and mobile, gender agreeing with the ID."""
    birth = date(1950 + n % 50, 1 + n % 12, 1 + n % 28)
    id_number = identifiers.resident_id(district, birth, n % 1000)
    gender = "男" if int(id_number[16]) % 2 == 1 else "女"
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)] + ("" if n % 3 else GIVEN[n % len(GIVEN)])
    return {"id_number": id_number, "name": name, "mobile": f"13{n % 10}{n:08d}"[:11], "district_code": district,
            "gender": gender, "age": str(2026 - birth.year)}


def people_csv(rows: list[dict[str, str]], columns: tuple[str, ...] = PERSON_COLUMNS) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([row.get(c, "") for c in columns] for row in rows)
    return buffer.getvalue().encode("utf-8")


@dataclass
class Hub:
    platform: Platform
    departments: dict[str, int] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # department code → API key token
    officers: dict[str, str] = field(default_factory=dict)  # department code → username

    def auth(self, department: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[department]}"}


def build_hub(platform: Platform) -> Hub:
    with platform.uow() as uow:
        regions.upsert_regions(session=uow.session, at=uow.clock.now(), regions=[
            RegionInput(CITY, "淄博市", "city", None, square(117.0, 36.0, 2.0), "official"),
            RegionInput(DISTRICT, "张店区", "district", CITY, square(118.0, 36.6, 0.4), "official"),
            RegionInput(OTHER_DISTRICT, "淄川区", "district", CITY, square(117.6, 36.2, 0.4), "official")])
        uow.commit()
    hub = Hub(platform)
    for code, name in ((OWNER, "淄博市公安局"), (REQUESTER, "淄博市民政局"), (BYSTANDER, "淄博市城市管理局")):
        department_id = org_flows.create_department(platform, actor=None, code=code, name=name, region_code=CITY)
        hub.departments[code] = department_id
        username = code.split("-")[1] + "_officer"
        org_flows.create_staff(platform, actor=None, new=org_flows.NewStaff(
            username=username, display_name=f"{name}数据专员", password=PASSWORD, role="data_officer",
            region_code=CITY, department_id=department_id))
        hub.officers[code] = username
        _id, token = org_flows.create_api_key(platform, actor=None, name=f"{name}系统", role="system",
                                              region_code=CITY, department_id=department_id)
        hub.keys[code] = token
    return hub


@pytest.fixture
def hub(platform: Platform) -> Hub:
    return build_hub(platform)


@pytest.fixture
def hub_client(hub: Hub, client: TestClient) -> Iterator[TestClient]:
    yield client


def login_as(client: TestClient, username: str) -> None:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text


def define_people(client: TestClient, hub: Hub, code: str = "gaj.people", schema: dict[str, Any] | None = None,
                  owner: str = OWNER, **extra: Any) -> None:
    body = {"code": code, "name": "实有人口（测试）", "owner_department": owner, "update_frequency": "daily",
            "schema": schema or PERSON_SCHEMA, **extra}
    response = client.post("/api/v1/datahub/datasets", json=body, headers=hub.auth(owner))
    assert response.status_code == 200, response.text


def import_people(client: TestClient, hub: Hub, content: bytes, code: str = "gaj.people",
                  name: str = "people.csv", owner: str = OWNER) -> dict[str, Any]:
    response = client.post(f"/api/v1/datahub/datasets/{code}/imports", headers=hub.auth(owner),
                           files={"file": (name, content, "text/csv")}, data={"mode": "upsert"})
    assert response.status_code == 202, response.text
    job = client.get(f"/api/v1/datahub/imports/{response.json()['id']}", headers=hub.auth(owner))
    assert job.status_code == 200, job.text
    result: dict[str, Any] = job.json()
    return result


def request_fields(client: TestClient, hub: Hub, fields: list[str], **extra: object) -> int:
    """民政 asks for fields of gaj.people; the request's id."""
    login_as(client, hub.officers[REQUESTER])
    body = {"dataset": "gaj.people", "fields": fields, "purpose": "核对低保对象身份与家庭情况",
            "legal_basis": "《社会救助暂行办法》第十一条", "wanted_until": UNTIL, **extra}
    response = client.post("/api/v1/datahub/requests", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def decide(client: TestClient, hub: Hub, request_id: int, **body: object) -> dict[str, object]:
    """公安 decides the request."""
    login_as(client, hub.officers[OWNER])
    response = client.post(f"/api/v1/datahub/requests/{request_id}/decision", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())
