"""Property: whatever the dataset's shape and whatever the grant, no API response to a grantee contains a field
outside its grant, or the clear value of a field the rules mask or withhold."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops.datahub import identifiers, masking
from tests.datahub.conftest import OWNER, REQUESTER, Hub, import_people, login_as, people_csv

CLASSES = ("none", "resident_id", "name", "mobile", "address", "other", "birth_date", "email")
GRADES = ("general", "important", "core")
_codes = itertools.count()


def _value(pi_class: str, n: int) -> str:
    if pi_class == "resident_id":
        return identifiers.resident_id("370303", date(1960 + n % 40, 1 + n % 12, 1 + n % 27), n % 1000)
    if pi_class == "mobile":
        return f"1{3 + n % 7}{n:09d}"[:11]
    if pi_class == "name":
        return "王李张刘陈"[n % 5] + "小大明红"[n % 4] + ("伟" if n % 2 else "")
    if pi_class == "address":
        return f"山东省淄博市张店区车站街道共青团西路{n + 1}号"
    if pi_class == "birth_date":
        return f"19{50 + n % 49}-0{1 + n % 9}-1{n % 9}"
    if pi_class == "email":
        return f"user{n}@example.cn"
    return f"值{n:04d}乙丙"


field_shapes = st.lists(st.tuples(st.sampled_from(CLASSES), st.sampled_from(GRADES)), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=field_shapes, rows=st.integers(min_value=1, max_value=12), data=st.data())
def test_no_response_to_a_grantee_holds_a_field_outside_its_grant_or_an_unmasked_masked_value(
        hub: Hub, hub_client: TestClient, shapes: list[tuple[str, str]], rows: int, data: st.DataObject) -> None:
    client = hub_client
    code = f"prop.{next(_codes)}"
    names = [f"f{i}" for i in range(len(shapes))]
    fields: list[dict[str, Any]] = [{"name": "key", "type": "string", "constraints": {"required": True}}]
    fields += [{"name": n, "type": "string", "piClass": c, "grade": g}
               for n, (c, g) in zip(names, shapes, strict=True)]
    response = client.post("/api/v1/datahub/datasets", headers=hub.auth(OWNER), json={
        "code": code, "name": "属性测试", "owner_department": OWNER,
        "schema": {"primaryKey": ["key"], "fields": fields}})
    assert response.status_code == 200, response.text
    table = [{"key": f"k{r}", **{n: _value(c, r * 7 + i) for i, (n, (c, _g)) in enumerate(zip(names, shapes,
                                                                                                   strict=True))}}
             for r in range(rows)]
    job = import_people(client, hub, people_csv(table, ("key", *names)), code=code)
    assert job["status"] == "succeeded", job["errors"]

    all_fields = ["key", *names]
    asked = data.draw(st.lists(st.sampled_from(all_fields), min_size=1, unique=True), label="requested")
    approved = data.draw(st.lists(st.sampled_from(asked), min_size=1, unique=True), label="approved")
    clear = data.draw(st.lists(st.sampled_from(approved), unique=True), label="clear")
    login_as(client, hub.officers[REQUESTER])
    request = client.post("/api/v1/datahub/requests", json={
        "dataset": code, "fields": asked, "clear_fields": clear, "purpose": "属性测试用途",
        "legal_basis": "测试依据", "wanted_until": "2026-12-31T00:00:00Z"})
    assert request.status_code == 201, request.text
    login_as(client, hub.officers[OWNER])
    decision = client.post(f"/api/v1/datahub/requests/{request.json()['id']}/decision",
                           json={"approve": True, "fields": approved, "clear_fields": clear})
    assert decision.status_code == 200, decision.text

    wanted = data.draw(st.one_of(st.none(), st.lists(st.sampled_from(all_fields), min_size=1, unique=True)),
                       label="read fields")
    params = {"fields": ",".join(wanted)} if wanted else {}
    page = client.get(f"/api/v1/datahub/datasets/{code}/rows", params=params, headers=hub.auth(REQUESTER))
    if wanted and set(wanted) - set(approved):
        assert page.status_code == 403
        return
    assert page.status_code == 200, page.text
    body = page.json()
    spec = {"key": ("none", "general"), **dict(zip(names, shapes, strict=True))}
    assert len(body["rows"]) == rows
    one = client.get(f"/api/v1/datahub/datasets/{code}/rows/k0", headers=hub.auth(REQUESTER))
    assert one.status_code == 200, one.text
    served_rows = [(no, served, set(wanted or approved)) for no, served in enumerate(body["rows"])]
    for no, served, expected in [*served_rows, (0, one.json(), set(approved))]:
        assert set(served) == expected and expected <= set(approved)
        original = table[no]
        for name, value in served.items():
            pi_class, grade = spec[name]
            treatment = masking.treatment(grade, pi_class, name in clear)
            assert body["fields"].get(name, str(treatment)) == str(treatment)
            if treatment == masking.Treatment.WITHHELD:
                assert value is None
            elif treatment == masking.Treatment.MASKED:
                assert value != original[name]
                assert value == masking.mask_value(original[name], pi_class if pi_class != "none" else "other")
            else:
                assert value == original[name]
