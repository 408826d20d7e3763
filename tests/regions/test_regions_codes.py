"""The code rules access control relies on: scope prefixes, in_scope, code shapes per level."""

from __future__ import annotations

import pytest

from cityops.core.errors import ValidationFailed
from cityops.regions.codes import (
    code_problem,
    implied_parent_codes,
    in_scope,
    level_for_division_code,
    normalise_division_code,
    parse_level,
    scope_prefix_for,
)


@pytest.mark.parametrize(("code", "level", "prefix"), [
    ("370300", "city", "3703"),
    ("110000", "city", "11"),  # 北京市: its districts are 1101xx, 1102xx…
    ("370303", "district", "370303"),
    ("370303001", "street", "370303001"),
    ("370303001001", "community", "370303001001"),
    ("370303001001001", "grid", "370303001001001"),
])
def test_scope_prefix_per_level(code: str, level: str, prefix: str):
    assert scope_prefix_for(code, level) == prefix  # type: ignore[arg-type]


@pytest.mark.parametrize(("record", "prefix", "inside"), [
    ("370303001001001", "3703", True),
    ("370303001001001", "370303", True),
    ("370303001001001", "370303001", True),
    ("370303002001001", "370303001", False),  # sibling street
    ("370302001", "370303", False),  # other district
    ("370303", "370303", True),  # the region itself
    ("370303001", "", False),  # no scope grants nothing, not everything
    (None, "3703", False),
])
def test_in_scope_means_code_starts_with_prefix(record: str | None, prefix: str, inside: bool):
    assert in_scope(record, prefix) is inside


@pytest.mark.parametrize(("code", "level"), [
    ("370303", "city"),  # a city ends in 00
    ("370300", "district"),  # that is a city
    ("370000", "city"),  # a province
    ("37030300", "street"),
    ("37030300A", "street"),
    ("３７０３００", "city"),  # full-width digits
    ("370303001001", "grid"),
])
def test_code_problem_refuses_codes_that_do_not_fit_the_level(code: str, level: str):
    assert code_problem(code, level) is not None  # type: ignore[arg-type]


@pytest.mark.parametrize(("code", "level"), [
    ("370300", "city"), ("110000", "city"), ("370303", "district"), ("370303001", "street"),
    ("370303001201", "community"), ("370303001201003", "grid"),
])
def test_code_problem_accepts_well_formed_codes(code: str, level: str):
    assert code_problem(code, level) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("raw", "short", "level"), [
    ("3703", "370300", "city"),
    ("370300", "370300", "city"),
    ("370303", "370303", "district"),
    ("370303000000", "370303", "district"),
    ("370300000000", "370300", "city"),
    ("370303001000", "370303001", "street"),
    ("370303001001", "370303001001", "community"),
])
def test_division_codes_normalise_and_give_their_level(raw: str, short: str, level: str):
    assert normalise_division_code(raw) == short
    assert level_for_division_code(short) == level


def test_level_for_an_unknown_length_is_none():
    assert level_for_division_code("37") is None


def test_implied_parents_follow_the_numbering():
    assert implied_parent_codes("370303", "district") == ("370300", "370000")
    assert implied_parent_codes("370303001", "street") == ("370303",)
    assert implied_parent_codes("370303001001001", "grid") == ("370303001001",)
    assert implied_parent_codes("370300", "city") == ()


def test_parse_level_refuses_unknown_names():
    assert parse_level("grid") == "grid"
    with pytest.raises(ValidationFailed) as error:
        parse_level("province")
    assert error.value.field == "level"
