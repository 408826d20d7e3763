"""The Chinese standards checks, and the identifier generators that must always pass them."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.datahub import identifiers
from cityops.datahub.standards import (
    CREDIT_CODE_ALPHABET,
    CREDIT_CODE_WEIGHTS,
    PROVINCE_CODES,
    RESIDENT_ID_WEIGHTS,
    STANDARDS,
    Violation,
    check_adcode,
    check_credit_code,
    check_date,
    check_landline,
    check_mobile,
    check_phone,
    check_resident_id,
    checker,
    credit_code_check_char,
    parse_date,
    resident_id_check_char,
)

TODAY = date(2026, 3, 1)
ZIBO = frozenset({"370302", "370303", "370304", "370305", "370306", "370321", "370322", "370323"})
CJK = re.compile(r"[\u4e00-\u9fff]")


def with_check(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def rule(problem: Violation | None) -> str | None:
    return None if problem is None else problem.rule


# --- resident ID ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "11010519491231002X",  # the well-known sample: 北京市朝阳区, 1949-12-31, check character X
    with_check("37030319900101123"),
    with_check("37030320000229002"),  # 29 February of a leap year
    with_check("37032319000101001"),  # the earliest birth date accepted
    with_check("37030320260301001"),  # born today
    with_check("82000019851010001"),  # 澳门, the last province-level code
])
def test_resident_id_accepts_valid_numbers(value: str) -> None:
    assert check_resident_id(value, today=TODAY) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("110105194912310021", "resident_id.check_digit"),  # the sample with its X mistyped as 1
    ("11010519491231003X", "resident_id.check_digit"),  # one sequence digit mistyped
    (with_check("37030319900230123"), "resident_id.birth_date"),  # 30 February
    (with_check("37030319990229123"), "resident_id.birth_date"),  # 29 February, not a leap year
    (with_check("37030319901301123"), "resident_id.birth_date"),  # month 13
    (with_check("37030319900100123"), "resident_id.birth_date"),  # day 0
    (with_check("37030320260302123"), "resident_id.birth_date"),  # tomorrow
    (with_check("37030318991231123"), "resident_id.birth_date"),  # before 1900
    (with_check("99030319900101123"), "resident_id.region"),  # no province 99
    (with_check("00000019900101123"), "resident_id.region"),
    (with_check("16030319900101123"), "resident_id.region"),  # 16 falls between 15 (内蒙古) and 21 (辽宁)
    ("11010519491231002", "resident_id.format"),  # 17 characters
    ("11010519491231002X1", "resident_id.format"),  # 19 characters
    ("11010519491231002x", "resident_id.format"),  # lowercase x
    ("110105491231002", "resident_id.format"),  # an old 15-digit number
    ("1101051949123100AX", "resident_id.format"),
    ("110105 19491231002X", "resident_id.format"),
    ("11010519491231002Y", "resident_id.format"),
    ("１１０１０５１９４９１２３１００２Ｘ", "resident_id.format"),  # full-width
])
def test_resident_id_names_the_broken_rule(value: str, expected: str) -> None:
    assert rule(check_resident_id(value, today=TODAY)) == expected


def test_resident_id_region_must_be_in_the_given_codes() -> None:
    zhangdian = with_check("37030319900101123")
    beijing = with_check("11010519900101123")
    assert check_resident_id(zhangdian, region_codes=ZIBO, today=TODAY) is None
    problem = check_resident_id(beijing, region_codes=ZIBO, today=TODAY)
    assert problem is not None and problem.rule == "resident_id.region"
    assert "110105" in problem.message and "110105" in problem.message_en


def test_resident_id_default_today_is_the_clock() -> None:
    assert check_resident_id("11010519491231002X") is None
    assert rule(check_resident_id(with_check("37030321000101123"))) == "resident_id.birth_date"


def test_resident_id_check_digit_message_gives_the_right_character() -> None:
    problem = check_resident_id("110105194912310021", today=TODAY)
    assert problem is not None
    assert "身份证号校验位错误：应为 X" in problem.message
    assert "should be X" in problem.message_en


@pytest.mark.parametrize(("value", "zh", "en"), [
    ("11010519491231002x", "大写 X", "uppercase X"),
    ("11010519491231002", "18 位", "18 characters"),
    ("110105491231002", "15 位", "15-digit"),
    ("1101051949123100AX", "第 17 位", "character 17"),
    ("１１０１０５１９４９１２３１００２Ｘ", "全角", "full-width"),
    (with_check("37030319900230123"), "1990-02-30", "1990-02-30"),
    (with_check("37030320260302123"), "晚于今天", "after today"),
    (with_check("37030318991231123"), "1900", "1900"),
    (with_check("99030319900101123"), "省级代码 99", "no province 99"),
])
def test_resident_id_messages_say_what_is_wrong(value: str, zh: str, en: str) -> None:
    problem = check_resident_id(value, today=TODAY)
    assert problem is not None
    assert zh in problem.message and CJK.search(problem.message)
    assert en in problem.message_en and not CJK.search(problem.message_en)


@pytest.mark.parametrize("first17", ["1101051949123100", "1101051949123100A", "110105194912310021", ""])
def test_resident_id_check_char_refuses_anything_but_17_digits(first17: str) -> None:
    with pytest.raises(ValueError, match="17 digits"):
        resident_id_check_char(first17)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_resident_id_check_char_is_iso_7064_mod_11_2(first17: str) -> None:
    total = sum(int(char) * weight for char, weight in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    assert resident_id_check_char(first17) == "10X98765432"[total % 11]
    assert tuple(pow(2, 17 - i, 11) for i in range(17)) == RESIDENT_ID_WEIGHTS


# --- unified social credit code ------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "91350100M000100Y43",
    "91110000600037341L",
    identifiers.credit_code("9", "1", "370303", identifiers.organisation_code("MA3C8D7E")),
    identifiers.credit_code("9", "2", "370302", identifiers.organisation_code("L1234567")),
    identifiers.credit_code("5", "1", "370300", identifiers.organisation_code("50000001")),
])
def test_credit_code_accepts_valid_codes(value: str) -> None:
    assert check_credit_code(value) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("91350100M000100Y44", "credit_code.check_char"),
    ("91350100M000100Y4X", "credit_code.check_char"),
    ("91110000600037341M", "credit_code.check_char"),
    ("91110000600037431L", "credit_code.check_char"),  # two characters swapped
    ("91350100M000100Y4", "credit_code.format"),  # 17 characters
    ("91350100M000100Y433", "credit_code.format"),
    ("91350100m000100y43", "credit_code.format"),  # lowercase
    ("91350100M0001OOY43", "credit_code.format"),  # letter O for zero
    ("91350100I000100Y43", "credit_code.format"),
    ("9135010OM000100Y43", "credit_code.format"),  # a letter in the division code (positions 3–8)
    ("9A350100M000100Y43", "credit_code.check_char"),  # a letter in position 2 is allowed, the check fails
    ("370303000012345", "credit_code.format"),  # an old 15-digit registration number
    ("91350100-M000100Y43", "credit_code.format"),
])
def test_credit_code_names_the_broken_rule(value: str, expected: str) -> None:
    assert rule(check_credit_code(value)) == expected


@pytest.mark.parametrize(("value", "zh", "en"), [
    ("91350100M000100Y44", "应为 3", "should be 3"),
    ("91350100m000100y43", "大写", "uppercase"),
    ("91350100I000100Y43", "I、O、Z、S、V", "I, O, Z, S, V"),
    ("91A50100M000100Y43", "第 3–8 位", "characters 3–8"),
    ("91350100M000100Y4", "18 位", "18 characters"),
    ("370303000012345", "15 位", "15-digit"),
])
def test_credit_code_messages_say_what_is_wrong(value: str, zh: str, en: str) -> None:
    problem = check_credit_code(value)
    assert problem is not None
    assert zh in problem.message and en in problem.message_en


@given(st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=2, max_size=2), st.text(alphabet="0123456789", min_size=6,
       max_size=6), st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=9, max_size=9))
def test_credit_code_check_char_follows_gb_32100_weights(head: str, region: str, tail: str) -> None:
    first17 = head + region + tail
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    assert credit_code_check_char(first17) == CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]
    assert tuple(pow(3, i, 31) for i in range(17)) == CREDIT_CODE_WEIGHTS


@pytest.mark.parametrize("first17", ["91350100M000100Y", "91350100M000100I4", "9135010AM000100Y4"])
def test_credit_code_check_char_refuses_malformed_input(first17: str) -> None:
    with pytest.raises(ValueError, match="17 characters"):
        credit_code_check_char(first17)


# --- telephone numbers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["13812345678", "19912345678", "16612345678", "+8613812345678"])
def test_mobile_accepts_mainland_numbers(value: str) -> None:
    assert check_mobile(value) is None


@pytest.mark.parametrize(("value", "zh", "en"), [
    ("12812345678", "13–19 开头", "starts with 13–19"),
    ("23812345678", "以 23 开头", "starts with 23"),
    ("1381234567", "11 位", "11 digits"),
    ("138123456789", "11 位", "11 digits"),
    ("138 1234 5678", "空格", "a space"),
    ("138-1234-5678", "连接符", "a hyphen"),
    ("8613812345678", "+86", "+86"),
    ("+86 13812345678", "空格", "a space"),
    ("１３８１２３４５６７８", "全角", "full-width"),
    ("0533-2181234", "连接符", "a hyphen"),
])
def test_mobile_says_what_is_wrong(value: str, zh: str, en: str) -> None:
    problem = check_mobile(value)
    assert problem is not None and problem.rule == "mobile.format"
    assert zh in problem.message and en in problem.message_en


@pytest.mark.parametrize("value", ["0533-2181234", "05332181234", "010-12345678", "01012345678", "021-87654321",
                                   "010-12345678-123", "0533-2181234-8"])
def test_landline_accepts_area_code_and_number(value: str) -> None:
    assert check_landline(value) is None


@pytest.mark.parametrize("value", ["2181234", "0533-218123", "0533-218123456", "0533 2181234", "(0533)2181234",
                                   "0533-2181234-1234567", "13812345678", "0533--2181234", "0533-0181234",
                                   "00533-2181234"])
def test_landline_rejects_other_shapes(value: str) -> None:
    problem = check_landline(value)
    assert problem is not None and problem.rule == "landline.format"
    assert "0533-2181234" in problem.message and "0533-2181234" in problem.message_en


@pytest.mark.parametrize("value", ["13812345678", "+8613812345678", "0533-2181234", "010-12345678-123"])
def test_phone_accepts_mobile_or_landline(value: str) -> None:
    assert check_phone(value) is None


@pytest.mark.parametrize("value", ["12345", "2181234", "138-1234-5678", "电话"])
def test_phone_rejects_anything_else(value: str) -> None:
    assert rule(check_phone(value)) == "phone.format"


# --- division codes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["370303", "370300", "370000", "110000", "370303001", "370303001001", "820000"])
def test_adcode_accepts_district_street_and_community_codes(value: str) -> None:
    assert check_adcode(value) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("37030", "adcode.format"),
    ("3703030", "adcode.format"),
    ("37030300100", "adcode.format"),
    ("370303001001001", "adcode.format"),  # a grid code is CityOps' own, not a statistical division code
    ("37030a", "adcode.format"),
    ("990000", "adcode.unknown"),
    ("000000", "adcode.unknown"),
    ("720000", "adcode.unknown"),
])
def test_adcode_names_the_broken_rule(value: str, expected: str) -> None:
    assert rule(check_adcode(value)) == expected


def test_adcode_must_be_in_the_given_codes() -> None:
    assert check_adcode("370303", region_codes=ZIBO) is None
    problem = check_adcode("370399", region_codes=ZIBO)
    assert problem is not None and problem.rule == "adcode.unknown" and "370399" in problem.message


# --- dates ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("2024-03-05", date(2024, 3, 5)),
    ("2024-3-5", date(2024, 3, 5)),
    ("2024/3/5", date(2024, 3, 5)),
    ("2024/03/05", date(2024, 3, 5)),
    ("2024年3月5日", date(2024, 3, 5)),
    ("2024年03月05日", date(2024, 3, 5)),
    ("20240305", date(2024, 3, 5)),
    ("2024-02-29", date(2024, 2, 29)),
    ("2000-02-29", date(2000, 2, 29)),
])
def test_dates_in_every_accepted_writing_parse(value: str, expected: date) -> None:
    assert check_date(value) is None
    assert parse_date(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("2024.03.05", "date.format"),
    ("05/03/2024", "date.format"),
    ("2024-03", "date.format"),
    ("2024/03-05", "date.format"),  # mixed separators
    ("2024-03-05T10:00", "date.format"),
    ("昨天", "date.format"),
    ("2024-02-30", "date.invalid"),
    ("2023-02-29", "date.invalid"),
    ("1900-02-29", "date.invalid"),  # 1900 is not a leap year
    ("2024-13-01", "date.invalid"),
    ("2024-00-10", "date.invalid"),
    ("2024-04-31", "date.invalid"),
    ("20240230", "date.invalid"),
    ("2024年2月30日", "date.invalid"),
    ("0000-01-01", "date.invalid"),
])
def test_bad_dates_name_the_broken_rule(value: str, expected: str) -> None:
    assert rule(check_date(value)) == expected
    assert parse_date(value) is None


def test_invalid_date_message_names_the_missing_day() -> None:
    problem = check_date("2023-02-29")
    assert problem is not None
    assert "2023 年没有 2 月 29 日" in problem.message and "2023 has no day 29 in month 2" in problem.message_en


# --- registry ------------------------------------------------------------------------------------------

def test_registry_lists_every_standard_with_labels_and_references() -> None:
    assert set(STANDARDS) == {"resident_id", "credit_code", "mobile", "landline", "phone", "adcode", "date"}
    for name, standard in STANDARDS.items():
        assert standard.name == name and CJK.search(standard.label) and standard.label_en and standard.reference
    assert STANDARDS["resident_id"].reference == "GB 11643-1999"
    assert STANDARDS["credit_code"].reference == "GB 32100-2015"
    assert STANDARDS["credit_code"].check("91350100M000100Y44") is not None


def test_checker_binds_region_codes_and_today() -> None:
    beijing = with_check("11010519900101123")
    born_in_june = with_check("37030320260601123")
    assert checker("resident_id")(beijing) is None
    assert rule(checker("resident_id", region_codes=ZIBO)(beijing)) == "resident_id.region"
    assert checker("resident_id", today=date(2026, 7, 1))(born_in_june) is None
    assert rule(checker("resident_id", today=TODAY)(born_in_june)) == "resident_id.birth_date"
    assert rule(checker("adcode", region_codes=ZIBO)("110105")) == "adcode.unknown"
    assert checker("adcode")("110105") is None


def test_checker_ignores_options_a_standard_does_not_use() -> None:
    check = checker("mobile", region_codes=ZIBO, today=TODAY)
    assert check("13812345678") is None
    assert rule(check("1381234567")) == "mobile.format"


def test_checker_refuses_unknown_names_listing_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown standard 'passport'.*resident_id"):
        checker("passport")


def test_every_province_code_is_two_digits_from_the_gb_t_2260_list() -> None:
    assert len(PROVINCE_CODES) == 34
    assert {"11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65", "71", "81", "82"} <= PROVINCE_CODES
    assert not {"10", "16", "20", "24", "30", "38", "47", "55", "66", "72", "83"} & PROVINCE_CODES


# --- identifiers: generated values always pass ---------------------------------------------------------

regions = st.builds(lambda province, rest: province + rest, st.sampled_from(sorted(PROVINCE_CODES)),
                    st.text(alphabet="0123456789", min_size=4, max_size=4))
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)
credit_chars = st.sampled_from(CREDIT_CODE_ALPHABET)
org_bodies = st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=8, max_size=8)
division_codes = st.text(alphabet="0123456789", min_size=6, max_size=6)


@settings(max_examples=300)
@given(regions, births, sequences)
def test_generated_resident_ids_pass_and_carry_their_parts(region: str, birth: date, sequence: int) -> None:
    value = identifiers.resident_id(region, birth, sequence)
    assert check_resident_id(value, today=TODAY) is None
    assert value[:6] == region and value[6:14] == birth.strftime("%Y%m%d") and int(value[14:17]) == sequence
    assert (int(value[16]) % 2 == 1) == (sequence % 2 == 1)  # odd for men, even for women


@settings(max_examples=300)
@given(regions, births, sequences, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=10))
def test_any_single_substitution_in_a_resident_id_is_caught(region: str, birth: date, sequence: int, position: int,
                                                            shift: int) -> None:
    value = identifiers.resident_id(region, birth, sequence)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    old = alphabet.index(value[position])
    new = alphabet[(old + shift) % len(alphabet)]
    if new == value[position]:  # shift 10 at a digit position comes back round
        new = alphabet[(old + 1) % len(alphabet)]
    mutated = value[:position] + new + value[position + 1:]
    assert check_resident_id(mutated, today=TODAY) is not None
    assert resident_id_check_char(mutated[:17]) != mutated[17]  # MOD 11-2 alone detects every single error


@settings(max_examples=300)
@given(credit_chars, credit_chars, division_codes, org_bodies)
def test_generated_credit_codes_pass(authority: str, kind: str, region: str, body: str) -> None:
    value = identifiers.credit_code(authority, kind, region, identifiers.organisation_code(body))
    assert check_credit_code(value) is None
    assert value[:2] == authority + kind and value[2:8] == region and value[8:16] == body


@settings(max_examples=300)
@given(credit_chars, credit_chars, division_codes, org_bodies, st.integers(min_value=0, max_value=17),
       st.integers(min_value=1, max_value=30))
def test_any_single_substitution_in_a_credit_code_is_caught(authority: str, kind: str, region: str, body: str,
                                                            position: int, shift: int) -> None:
    value = identifiers.credit_code(authority, kind, region, identifiers.organisation_code(body))
    alphabet = "0123456789" if 2 <= position <= 7 else CREDIT_CODE_ALPHABET
    old = alphabet.index(value[position])
    new = alphabet[(old + shift) % len(alphabet)]
    if new == value[position]:
        new = alphabet[(old + 1) % len(alphabet)]
    mutated = value[:position] + new + value[position + 1:]
    expected = "credit_code.check_char"
    assert rule(check_credit_code(mutated)) == expected


@pytest.mark.parametrize(("body", "code"), [("M000100Y", "M000100Y4"), ("60003734", "600037341"),
                                            ("D2143569", "D2143569X")])
def test_organisation_code_appends_the_gb_11714_check_char(body: str, code: str) -> None:
    assert identifiers.organisation_code(body) == code


def test_credit_code_generator_reproduces_published_samples() -> None:
    assert identifiers.credit_code("9", "1", "350100", "M000100Y4") == "91350100M000100Y43"
    assert identifiers.credit_code("9", "1", "110000", "600037341") == "91110000600037341L"


@pytest.mark.parametrize(("args", "message"), [
    (("9", "1", "370303", "M000100Y5"), "wrong check character"),
    (("9", "1", "370303", "M000100Y"), "9 characters"),
    (("9", "1", "37030", "M000100Y4"), "6 digits"),
    (("I", "1", "370303", "M000100Y4"), "authority"),
    (("9", "", "370303", "M000100Y4"), "kind"),
])
def test_credit_code_generator_refuses_bad_parts(args: tuple[str, str, str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        identifiers.credit_code(*args)


@pytest.mark.parametrize(("region", "birth", "sequence", "message"), [
    ("37030", date(1990, 1, 1), 1, "6 digits"),
    ("370303", date(1990, 1, 1), 1000, "0–999"),
    ("370303", date(1990, 1, 1), -1, "0–999"),
    ("370303", date(999, 1, 1), 1, "4 digits"),
])
def test_resident_id_generator_refuses_bad_parts(region: str, birth: date, sequence: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        identifiers.resident_id(region, birth, sequence)


def test_organisation_code_refuses_a_malformed_body() -> None:
    with pytest.raises(ValueError, match="8 digits or uppercase letters"):
        identifiers.organisation_code("m000100y")
