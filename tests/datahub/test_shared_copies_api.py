"""Grantees are served the masked copies stored with the rows, and only while they match the schema and rules."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from cityops.datahub import masking
from cityops.platform import Platform
from tests.datahub.conftest import (
    PERSON_SCHEMA,
    REQUESTER,
    Hub,
    decide,
    define_people,
    import_people,
    people_csv,
    person,
    request_fields,
)

FIELDS = ["id_number", "name", "mobile", "gender"]


def _people_granted(client: TestClient, hub: Hub, count: int, clear: list[str] | None = None) -> list[dict[str, str]]:
    """gaj.people with `count` people, and 民政's grant of FIELDS (`clear` approved in clear)."""
    define_people(client, hub)
    people = [person(n) for n in range(count)]
    import_people(client, hub, people_csv(people))
    decide(client, hub, request_fields(client, hub, FIELDS, clear_fields=clear or []), approve=True)
    return people


def _page(client: TestClient, hub: Hub) -> dict[str, Any]:
    response = client.get("/api/v1/datahub/datasets/gaj.people/rows?limit=1000", headers=hub.auth(REQUESTER))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _stored(platform: Platform, column: str = "data") -> list[dict[str, Any]]:
    with platform.db.session() as session:
        found = session.execute(text(f"SELECT {column} FROM dataset_rows ORDER BY row_no")).all()
    return [r if isinstance(r, dict) else json.loads(r) for (r,) in found]  # SQLite gives the JSON text


def _live(page: dict[str, Any], stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page as masking each stored row on read gives it."""
    plan = {name: (masking.Treatment(treated), _class(name)) for name, treated in page["fields"].items()}
    return masking.compile_page(plan)(stored)


def _class(name: str) -> str:
    return next(f.get("piClass", "none") for f in PERSON_SCHEMA["fields"] if f["name"] == name)


def _sql(platform: Platform, statement: str, **values: Any) -> None:
    with platform.db.session() as session:
        session.execute(text(statement), values)
        session.commit()


def test_a_default_grant_reads_the_copies_stored_with_the_rows(hub: Hub, hub_client: TestClient,
                                                               platform: Platform) -> None:
    client = hub_client
    _people_granted(client, hub, 30)
    page = _page(client, hub)
    assert page["rows"] == _live(page, _stored(platform))
    assert page["rows"][0]["name"].endswith("*") and "*" in page["rows"][0]["id_number"]
    # what is served is the stored copy: marking one copy shows in the next page (only a test writes copies)
    _sql(platform, "UPDATE dataset_rows SET shared = :copy WHERE row_no = 1",
         copy='{"id_number": "copy", "name": "copy", "mobile": "copy", "district_code": "copy", '
              '"gender": "copy", "age": "copy"}')
    assert _page(client, hub)["rows"][0] == dict.fromkeys(FIELDS, "copy")


def test_a_field_approved_in_clear_is_read_from_the_rows_not_the_copies(hub: Hub, hub_client: TestClient,
                                                                        platform: Platform) -> None:
    client = hub_client
    people = _people_granted(client, hub, 10, clear=["name"])
    _sql(platform, "UPDATE dataset_rows SET shared = NULL WHERE row_no = 1")  # a copy that would fail the page
    page = _page(client, hub)
    assert [r["name"] for r in page["rows"]] == [p["name"] for p in people]
    assert page["rows"] == _live(page, _stored(platform))


def test_a_schema_change_makes_the_copies_again_before_a_grantee_reads_them(hub: Hub, hub_client: TestClient,
                                                                             platform: Platform) -> None:
    client = hub_client
    people = _people_granted(client, hub, 20)
    assert all(r["name"][1:] == "*" * (len(r["name"]) - 1) for r in _page(client, hub)["rows"])  # 张**
    as_other = [f | {"piClass": "other"} if f["name"] == "name" else f for f in PERSON_SCHEMA["fields"]]
    define_people(client, hub, schema={**PERSON_SCHEMA, "fields": as_other})  # a new version of the schema
    rows = _page(client, hub)["rows"]
    names = [p["name"] for p in people]
    # masked as `other` now: 张*伟 (first and last character), where `name` gave 张**
    assert [r["name"] for r in rows] == [masking.mask_value(n, "other") for n in names]
    assert [r["name"] for r in rows if len(r["name"]) == 3] == [n[0] + "*" + n[2] for n in names if len(n) == 3]
    assert [c["name"] for c in _stored(platform, "shared")] == [r["name"] for r in rows]  # made again, stored


def test_rows_stored_without_copies_are_masked_on_read_until_the_next_import_makes_them(
        hub: Hub, hub_client: TestClient, platform: Platform) -> None:
    client = hub_client
    _people_granted(client, hub, 20)
    served = _page(client, hub)
    # as rows stored before copies existed are left by the migration
    _sql(platform, "UPDATE dataset_rows SET shared = NULL")
    _sql(platform, "UPDATE datasets SET shared_signature = NULL")
    assert _page(client, hub) == served
    import_people(client, hub, people_csv([person(n) for n in range(20, 25)]))  # an upsert of five more
    with platform.db.session() as session:
        missing = session.execute(text("SELECT count(*) FROM dataset_rows WHERE shared IS NULL")).scalar_one()
    assert missing == 0
    page = _page(client, hub)
    assert page["rows"][:20] == served["rows"] and len(page["rows"]) == 25
    assert page["rows"] == _live(page, _stored(platform))
