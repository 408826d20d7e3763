"""The stored masked copy of a row: which plans it answers, and what makes it stale."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cityops.datahub import masking, shared_copy, sharing
from cityops.datahub.schema import parse_schema

FIELDS: list[dict[str, Any]] = [
    {"name": "id_number", "type": "string", "grade": "important", "piClass": "resident_id"},
    {"name": "name", "type": "string", "grade": "general", "piClass": "name"},
    {"name": "gender", "type": "string"},
    {"name": "note", "type": "string", "grade": "important"},
    {"name": "secret", "type": "string", "grade": "core"},
]
SCHEMA = parse_schema({"fields": FIELDS})
ROW = {"id_number": "370303198503121234", "name": "张小伟", "gender": "男", "note": "某某内容", "secret": "机密"}


def grant(fields: tuple[str, ...], clear: tuple[str, ...] = ()) -> sharing.GrantView:
    return sharing.GrantView("rows", fields, clear, datetime(2100, 1, 1, tzinfo=UTC), None)


def with_field(field: str, **change: str) -> list[dict[str, Any]]:
    return [f | change if f["name"] == field else f for f in FIELDS]


def test_a_copy_holds_every_field_as_a_grant_with_nothing_approved_in_clear_receives_it() -> None:
    [copy] = shared_copy.copier(SCHEMA)([ROW])
    assert copy == {"id_number": "370303********1234", "name": "张**", "gender": "男", "note": "某**容",
                    "secret": None}
    assert list(copy) == list(SCHEMA.names)  # schema order, so a full page is served as stored


@pytest.mark.parametrize("fields", [SCHEMA.names, ("name",), ("gender", "secret"), ("id_number", "note")])
def test_the_copies_serve_any_choice_of_fields_at_their_default_treatment(fields: tuple[str, ...]) -> None:
    assert shared_copy.serves(SCHEMA, sharing.plan_for(SCHEMA, grant(fields)))


@pytest.mark.parametrize("clear", ["id_number", "name", "note"])
def test_a_field_approved_in_clear_beyond_its_default_is_not_served_from_the_copies(clear: str) -> None:
    assert not shared_copy.serves(SCHEMA, sharing.plan_for(SCHEMA, grant(SCHEMA.names, (clear,))))


def test_clear_approval_that_changes_nothing_still_uses_the_copies() -> None:
    # gender is general and not personal: clear either way; a core field is never given clear
    assert shared_copy.serves(SCHEMA, sharing.plan_for(SCHEMA, grant(SCHEMA.names, ("gender", "secret"))))


def test_the_owner_plan_is_not_served_from_the_copies() -> None:
    assert not shared_copy.serves(SCHEMA, sharing.owner_plan(SCHEMA))


@pytest.mark.parametrize("changed", [
    with_field("name", piClass="other"), with_field("note", grade="general"), with_field("gender", name="sex"),
    [FIELDS[1], FIELDS[0], *FIELDS[2:]], FIELDS[:-1],
])
def test_the_signature_changes_with_a_field_name_grade_class_or_order(changed: list[dict[str, Any]]) -> None:
    assert shared_copy.signature(parse_schema({"fields": changed})) != shared_copy.signature(SCHEMA)


def test_the_signature_ignores_what_masking_does_not_read() -> None:
    described = [f | {"title": "标题", "description": "说明", "dimension": True} for f in FIELDS]
    assert shared_copy.signature(parse_schema({"fields": described})) == shared_copy.signature(SCHEMA)


def test_the_signature_changes_with_the_masking_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    before = shared_copy.signature(SCHEMA)
    shared_copy._rules_answers.cache_clear()
    monkeypatch.setattr(masking, "_MASKERS", {**masking._MASKERS, masking.PiClass.NAME: lambda v: v and "?" * len(v)})
    try:
        assert shared_copy.signature(SCHEMA) != before
    finally:
        monkeypatch.undo()
        shared_copy._rules_answers.cache_clear()
    assert shared_copy.signature(SCHEMA) == before
