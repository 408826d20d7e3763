"""The shipped demo registers: valid identifiers, people, companies and licences that agree with each other,
the deliberate conflicts that CONFLICTS.md lists (and no others), and files the generator reproduces exactly."""

from __future__ import annotations

import csv
import importlib.util
import io
import sys
from collections import Counter
from datetime import date
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from types import ModuleType

import pytest

from cityops.datahub.standards import check_credit_code, check_mobile, check_resident_id, parse_date

DATA = files("cityops.demo") / "data"
REGISTERS = DATA / "registers"
TOOL = Path(__file__).resolve().parents[2] / "tools" / "make_demo_registers.py"


def _rows(name: str, folder: Traversable = REGISTERS) -> list[dict[str, str]]:
    text = (folder / name).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def people() -> list[dict[str, str]]:
    return _rows("people.csv")


@cache
def civil_affairs() -> list[dict[str, str]]:
    return _rows("people_civil_affairs.csv")


@cache
def companies() -> list[dict[str, str]]:
    return _rows("companies.csv")


@cache
def licences() -> list[dict[str, str]]:
    return _rows("licences.csv")


@cache
def districts() -> dict[str, str]:
    return {row["code"]: row["name"] for row in _rows("zibo_areas.csv", DATA)}


@cache
def streets() -> dict[str, str]:
    return {row["code"]: row["name"] for row in _rows("zibo_streets.csv", DATA)}


@cache
def conflicts() -> list[tuple[str, str, str, str]]:
    text = (REGISTERS / "CONFLICTS.md").read_text("utf-8")
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in text.splitlines()
             if line.startswith("| ") and not line.startswith("| id_number")]
    return [(c[0], c[1], c[2], c[3]) for c in cells]


def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo_registers", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def zibo() -> frozenset[str]:
    return frozenset(districts())


# --- people --------------------------------------------------------------------------------------------

def test_people_register_is_about_two_thousand_distinct_people() -> None:
    ids = [row["id_number"] for row in people()]
    assert 1900 <= len(ids) <= 2100
    assert len(set(ids)) == len(ids)


def test_every_resident_id_is_valid_with_a_zibo_region() -> None:
    for row in people():
        assert check_resident_id(row["id_number"], region_codes=zibo()) is None, row


def test_gender_and_birth_date_agree_with_the_id() -> None:
    for row in people():
        id_number = row["id_number"]
        assert row["gender"] == ("男" if int(id_number[16]) % 2 else "女"), row
        assert row["birth_date"] == f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}", row


def test_people_span_ages_from_babies_to_the_nineties() -> None:
    years = [int(row["birth_date"][:4]) for row in people()]
    assert min(years) <= 1932 and max(years) >= 2024
    assert Counter(row["gender"] for row in people())["女"] > 800


def test_people_live_on_real_zibo_streets_named_in_their_address() -> None:
    for row in people():
        district, street = row["district_code"], row["street_code"]
        assert district in districts() and street in streets() and street.startswith(district), row
        assert row["address"].startswith(f"山东省淄博市{districts()[district]}{streets()[street]}"), row


def test_most_people_have_a_valid_unique_mobile() -> None:
    mobiles = [row["mobile"] for row in people() if row["mobile"]]
    assert 0.8 <= len(mobiles) / len(people()) <= 0.9
    assert len(set(mobiles)) == len(mobiles)
    for mobile in mobiles:
        assert check_mobile(mobile) is None, mobile


def test_names_are_chinese_with_common_surnames_first() -> None:
    surnames = Counter(row["name"][0] for row in people())
    assert {s for s, _ in surnames.most_common(3)} <= {"王", "李", "张", "刘"}
    assert all(2 <= len(row["name"]) <= 3 for row in people())


# --- civil affairs copy ----------------------------------------------------------------------------------

def test_civil_affairs_holds_a_subset_of_the_people() -> None:
    ids = {row["id_number"] for row in people()}
    rows = civil_affairs()
    assert 550 <= len(rows) <= 650
    assert len({row["id_number"] for row in rows}) == len(rows)
    assert {row["id_number"] for row in rows} <= ids
    assert {row["marital_status"] for row in rows} <= {"未婚", "已婚", "离异", "丧偶"}
    for row in rows:
        assert check_resident_id(row["id_number"], region_codes=zibo()) is None, row
        assert not row["mobile"] or check_mobile(row["mobile"]) is None, row


def test_the_listed_conflicts_really_disagree() -> None:
    by_id = {row["id_number"]: row for row in people()}
    copy = {row["id_number"]: row for row in civil_affairs()}
    listed = conflicts()
    assert 8 <= len(listed) <= 12 and {field for _, field, _, _ in listed} == {"name", "mobile"}
    for id_number, field, ours, theirs in listed:
        assert ours != theirs
        assert by_id[id_number][field] == ours, id_number
        assert copy[id_number][field] == theirs, id_number


def test_every_other_shared_field_agrees() -> None:
    by_id = {row["id_number"]: row for row in people()}
    listed = {(id_number, field) for id_number, field, _, _ in conflicts()}
    for row in civil_affairs():
        for field in ("name", "mobile", "address"):
            if (row["id_number"], field) not in listed:
                assert row[field] == by_id[row["id_number"]][field], (row["id_number"], field)


# --- companies -----------------------------------------------------------------------------------------

def test_every_credit_code_is_valid_unique_and_coded_with_the_company_district() -> None:
    codes = [row["credit_code"] for row in companies()]
    assert 380 <= len(codes) <= 420 and len(set(codes)) == len(codes)
    for row in companies():
        code = row["credit_code"]
        assert check_credit_code(code) is None, row
        assert code[2:8] == row["district_code"] and row["district_code"] in districts(), row


def test_entity_kinds_match_their_names() -> None:
    for row in companies():
        kind = row["credit_code"][:2]
        name = row["name"]
        if kind == "91":
            assert name.endswith("公司"), row
        elif kind == "92":
            assert name.startswith(districts()[row["district_code"]]) and not name.endswith("公司"), row
        else:
            assert kind == "93" and name.endswith("专业合作社"), row


def test_legal_representatives_from_the_people_register_match_it() -> None:
    by_id = {row["id_number"]: row for row in people()}
    linked = [row for row in companies() if row["legal_rep_id_number"]]
    assert 0.4 <= len(linked) / len(companies()) <= 0.6
    for row in linked:
        assert by_id[row["legal_rep_id_number"]]["name"] == row["legal_representative"], row
    assert all(row["legal_representative"] for row in companies())


def test_company_facts_are_well_formed() -> None:
    for row in companies():
        assert float(row["registered_capital_wan"]) > 0, row
        established = parse_date(row["established"])
        assert established is not None and established <= date(2026, 3, 1), row
        assert row["address"].startswith(f"山东省淄博市{districts()[row['district_code']]}"), row
    statuses = Counter(row["status"] for row in companies())
    assert set(statuses) <= {"存续", "在业", "注销", "吊销"} and statuses.most_common(1)[0][0] == "存续"


# --- licences ------------------------------------------------------------------------------------------

def test_every_licence_holder_exists_under_the_same_name() -> None:
    person = {row["id_number"]: row["name"] for row in people()}
    company = {row["credit_code"]: row["name"] for row in companies()}
    for row in licences():
        holders = company if row["holder_type"] == "company" else person
        assert row["holder_type"] in ("company", "person"), row
        assert holders.get(row["holder_id"]) == row["holder_name"], row


def test_licence_numbers_are_unique_and_business_licences_carry_the_credit_code() -> None:
    numbers = [row["licence_no"] for row in licences()]
    assert 650 <= len(numbers) <= 780 and len(set(numbers)) == len(numbers)
    for row in licences():
        if row["licence_type"] == "营业执照":
            assert row["licence_no"] == row["holder_id"], row
        if row["licence_type"] == "食品经营许可证":
            assert len(row["licence_no"]) == 16 and row["licence_no"].startswith("JY"), row
            assert row["licence_no"][3:9] in districts(), row
    assert {row["credit_code"] for row in companies()} <= {
        row["holder_id"] for row in licences() if row["licence_type"] == "营业执照"}


def test_licence_dates_and_status_agree() -> None:
    snapshot = date(2026, 3, 1)
    statuses: Counter[str] = Counter()
    for row in licences():
        issued = parse_date(row["issued_on"])
        assert issued is not None and issued <= snapshot, row
        if row["valid_until"]:
            valid_until = parse_date(row["valid_until"])
            assert valid_until is not None and valid_until > issued, row
            if valid_until < snapshot:
                assert row["status"] in ("过期", "注销"), row
            elif row["status"] == "过期":
                pytest.fail(f"not yet expired but marked so: {row}")
        statuses[row["status"]] += 1
    assert statuses["过期"] >= 20 and statuses["有效"] > len(licences()) / 2


# --- reproducible ----------------------------------------------------------------------------------------

def test_the_generator_reproduces_the_shipped_files_byte_for_byte(tmp_path: Path) -> None:
    module = tool()
    written = module.generate(tmp_path)
    assert sorted(path.name for path in written) == sorted(module.FILES)
    for path in written:
        assert path.read_bytes() == (REGISTERS / path.name).read_bytes(), path.name


def test_sources_say_the_data_is_generated() -> None:
    text = (REGISTERS / "SOURCES.md").read_text("utf-8")
    assert "tools/make_demo_registers.py" in text and "20260301" in text and "Apache-2.0" in text
