"""Importing files into a dataset over the API: all or nothing, errors that name line, field and rule."""

from __future__ import annotations

import io
import json

from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from cityops.audit import service as audit
from tests.datahub.conftest import OWNER, Hub, define_people, import_people, people_csv, person


def _all_rows(client: TestClient, hub: Hub, code: str = "gaj.people") -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    after = 0
    while True:
        page = client.get(f"/api/v1/datahub/datasets/{code}/rows", params={"after": after, "limit": 1000},
                          headers=hub.auth(OWNER)).json()
        rows.extend(page["rows"])
        if page["next_after"] is None:
            return rows
        after = page["next_after"]


def test_one_bad_check_digit_among_thousands_fails_the_file_names_the_row_and_changes_nothing(
        hub: Hub, hub_client: TestClient) -> None:
    define_people(hub_client, hub)
    first = import_people(hub_client, hub, people_csv([person(n) for n in range(500)]))
    assert first["status"] == "succeeded", first
    before_rows = _all_rows(hub_client, hub)
    before = hub_client.get("/api/v1/datahub/datasets/gaj.people", headers=hub.auth(OWNER)).json()

    people = [person(n) for n in range(3000)]
    for row in people[:100]:
        row["mobile"] = "13900000000"  # updates of stored rows that must not land either
    bad = people[2345]
    last = bad["id_number"][-1]
    bad["id_number"] = bad["id_number"][:-1] + ("0" if last != "0" else "1")
    failed = import_people(hub_client, hub, people_csv(people))

    assert failed["status"] == "failed"
    assert failed["error_count"] == 1
    [error] = failed["errors"]
    assert error["line"] == 2345 + 2  # the header is line 1, the first person line 2
    assert error["field"] == "id_number"
    assert error["rule"] == "resident_id.check_digit"
    assert "校验" in error["message"]
    after = hub_client.get("/api/v1/datahub/datasets/gaj.people", headers=hub.auth(OWNER)).json()
    assert (after["row_count"], after["version"], after["data_updated_at"]) == (
        before["row_count"], before["version"], before["data_updated_at"])
    assert _all_rows(hub_client, hub) == before_rows


def test_a_failed_import_offers_its_errors_as_a_workbook(hub: Hub, hub_client: TestClient) -> None:
    define_people(hub_client, hub)
    people = [person(n) for n in range(20)]
    people[3]["mobile"] = "1234"
    people[7]["gender"] = "未知"
    people[9]["name"] = ""
    job = import_people(hub_client, hub, people_csv(people))
    assert job["status"] == "failed"
    assert {(e["line"], e["field"], e["rule"]) for e in job["errors"]} == {
        (5, "mobile", "mobile.format"), (9, "gender", "constraint.enum"), (11, "name", "constraint.required")}

    response = hub_client.get(f"/api/v1/datahub/imports/{job['id']}/errors.xlsx", headers=hub.auth(OWNER))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    lines = sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert lines == [5, 9, 11]


def test_gb18030_csv_with_chinese_headers_and_an_xlsx_both_import(hub: Hub, hub_client: TestClient) -> None:
    define_people(hub_client, hub)
    titles = ("公民身份号码", "姓名", "手机号码", "区县", "性别", "年龄")
    text = people_csv([person(n) for n in range(30)]).decode("utf-8")
    header, _, body = text.partition("\n")
    gbk = (",".join(titles) + "\n" + body).encode("gb18030")
    job = import_people(hub_client, hub, gbk)
    assert job["status"] == "succeeded", job["errors"]
    assert job["summary"]["created"] == 30

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header.split(",")))
    for n in range(30, 40):
        row = person(n)
        sheet.append([row["id_number"], row["name"], row["mobile"], row["district_code"], row["gender"],
                      int(row["age"])])
    buffer = io.BytesIO()
    book.save(buffer)
    job = import_people(hub_client, hub, buffer.getvalue(), name="people.xlsx")
    assert job["status"] == "succeeded", job["errors"]
    detail = hub_client.get("/api/v1/datahub/datasets/gaj.people", headers=hub.auth(OWNER)).json()
    assert detail["row_count"] == 40


def test_upsert_replaces_rows_by_primary_key_and_json_imports(hub: Hub, hub_client: TestClient) -> None:
    define_people(hub_client, hub)
    import_people(hub_client, hub, people_csv([person(n) for n in range(10)]))
    changed = person(4) | {"mobile": "13700000004"}
    payload = json.dumps([{**changed, "age": int(changed["age"])}], ensure_ascii=False)
    job = import_people(hub_client, hub, payload.encode("utf-8"), name="people.json")
    assert job["status"] == "succeeded", job["errors"]
    assert (job["summary"]["created"], job["summary"]["updated"]) == (0, 1)
    rows = _all_rows(hub_client, hub)
    assert len(rows) == 10
    assert next(r for r in rows if r["id_number"] == changed["id_number"])["mobile"] == "13700000004"
    assert next(r for r in rows if r["id_number"] == changed["id_number"])["age"] == int(changed["age"])


def test_an_unknown_column_or_a_missing_required_one_refuses_the_file_naming_it(hub: Hub,
                                                                               hub_client: TestClient) -> None:
    define_people(hub_client, hub)
    rows = [person(n) for n in range(3)]
    job = import_people(hub_client, hub, people_csv(rows, (*("id_number", "name"), "shoe_size")))
    assert job["status"] == "failed"
    assert job["errors"][0]["field"] == "header"
    assert "shoe_size" in job["errors"][0]["message"]
    job = import_people(hub_client, hub, people_csv(rows, ("name", "mobile")))
    assert job["status"] == "failed"
    assert "id_number" in job["errors"][0]["message"]


def test_imports_are_for_the_owner_only_and_are_audited(hub: Hub, hub_client: TestClient) -> None:
    define_people(hub_client, hub)
    response = hub_client.post("/api/v1/datahub/datasets/gaj.people/imports", headers=hub.auth("370300-mzj"),
                               files={"file": ("p.csv", people_csv([person(1)]), "text/csv")})
    assert response.status_code == 403
    job = import_people(hub_client, hub, people_csv([person(1)]))
    for path in (f"/api/v1/datahub/imports/{job['id']}", f"/api/v1/datahub/imports/{job['id']}/errors.xlsx"):
        assert hub_client.get(path, headers=hub.auth("370300-mzj")).status_code == 403
    with hub.platform.db.session() as session:
        actions = [r["action"] for r in audit._stream(session)]
        assert actions.count("datahub.imported") == 1
        assert audit.verify(session=session).ok


def test_a_bad_schema_is_refused_naming_the_field(hub: Hub, hub_client: TestClient) -> None:
    body = {"code": "bad.schema", "name": "坏的", "owner_department": OWNER,
            "schema": {"fields": [{"name": "a", "type": "text"}]}}
    response = hub_client.post("/api/v1/datahub/datasets", json=body, headers=hub.auth(OWNER))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "schema.fields[0].type"
