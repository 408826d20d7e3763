"""Checks for the Chinese standards a data field can declare. Pure: no database, no I/O.

| name          | what                                        | reference                          |
|---------------|---------------------------------------------|------------------------------------|
| `resident_id` | 18-character citizen ID number 公民身份号码 | GB 11643-1999 (ISO 7064 MOD 11-2)  |
| `credit_code` | unified social credit code 统一社会信用代码 | GB 32100-2015                      |
| `mobile`      | mainland mobile number 手机号码             | 电信网编号计划（2017 年版）         |
| `landline`    | fixed-line number with area code 固定电话   | 电信网编号计划（2017 年版）         |
| `phone`       | mobile or landline                          | 电信网编号计划（2017 年版）         |
| `adcode`      | administrative / statistical division code  | GB/T 2260-2007, 统计用区划代码      |
| `date`        | calendar date 日期                          | GB/T 7408-2005                     |

Every check takes text that is already stripped and non-empty and returns None when the value is good, or one
`Violation` naming the rule broken, in Chinese and English words a data clerk can act on. The good path is
built to cost about a microsecond (an import checks millions of cells): compiled patterns, precomputed
weights, no exceptions, and the detailed diagnosis only once a value has failed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache, partial
from types import MappingProxyType
from typing import Final

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "CREDIT_CODE_WEIGHTS",
    "PROVINCE_CODES",
    "RESIDENT_ID_WEIGHTS",
    "STANDARDS",
    "Standard",
    "Violation",
    "check_adcode",
    "check_credit_code",
    "check_date",
    "check_landline",
    "check_mobile",
    "check_phone",
    "check_resident_id",
    "checker",
    "credit_code_check_char",
    "parse_date",
    "resident_id_check_char",
]


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: a stable code (`resident_id.check_digit`…) and what is wrong, in Chinese and English."""

    rule: str
    message: str
    message_en: str


Check = Callable[[str], Violation | None]


@dataclass(frozen=True, slots=True)
class Standard:
    """A named standard a field can declare, and its check with default options."""

    name: str
    label: str
    label_en: str
    reference: str
    check: Check


# --- shared pieces ---------------------------------------------------------------------------------------

# GB/T 2260 province-level codes: 11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71 (台湾), 81 (香港), 82 (澳门).
PROVINCE_CODES: Final[frozenset[str]] = frozenset(
    f"{n:02d}" for n in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55),
                         *range(61, 66), 71, 81, 82))

_DAYS_IN_MONTH: Final = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_FULL_WIDTH_DIGITS: Final = frozenset("０１２３４５６７８９")


def _is_real_date(year: int, month: int, day: int) -> bool:
    if year < 1 or not 1 <= month <= 12 or day < 1:
        return False
    if day <= _DAYS_IN_MONTH[month]:
        return True
    return month == 2 and day == 29 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _char_note(char: str) -> tuple[str, str]:
    """A hint for a character that looks right to people but is not what a code may contain."""
    if char in _FULL_WIDTH_DIGITS or "Ａ" <= char <= "Ｚ" or "ａ" <= char <= "ｚ":
        return "（全角字符，请改为半角）", " (a full-width character; use the half-width one)"
    if char.isspace():
        return "（空格）", " (a space)"
    if char in "-－—_":
        return "（连接符）", " (a hyphen)"
    return "", ""


def _first_bad(value: str, allowed: Container[str]) -> tuple[int, str] | None:
    """1-based position and character of the first character not in `allowed`."""
    for i, char in enumerate(value, start=1):
        if char not in allowed:
            return i, char
    return None


def _digit_count_problem(what: str, what_en: str, expected: int, value: str) -> tuple[str, str]:
    return (f"{what}应为 {expected} 位，实际为 {len(value)} 位",
            f"{what_en} has {expected} characters, got {len(value)}")


# --- resident ID (GB 11643-1999) -----------------------------------------------------------------------

RESIDENT_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RID_CHECK_CHARS: Final = "10X98765432"  # indexed by the weighted sum mod 11
_RID_SHAPE: Final = re.compile(r"[0-9]{17}[0-9X]")
_FIRST17: Final = re.compile(r"[0-9]{17}")
_DIGITS: Final = frozenset("0123456789")
_DIGITS_AND_HYPHEN: Final = _DIGITS | {"-"}
# MMDD of every day a year can have; 29 February is checked against the year separately.
_MONTH_DAYS: Final = frozenset(
    f"{month:02d}{day:02d}" for month in range(1, 13) for day in range(1, _DAYS_IN_MONTH[month] + 1)) | {"0229"}
_EARLIEST_BIRTH: Final = "19000101"


def _rid_check_char(digits: str) -> str:
    """ISO 7064 MOD 11-2 over the first 17 characters (ASCII digits, already checked).

    The weight of digit i (1-based) is 2^(18-i) mod 11 (RESIDENT_ID_WEIGHTS), so the weighted sum is
    2 × (the 17 digits read as a base-13 number) mod 11, because 13 ≡ 2 (mod 11): int() does the sum in C.
    """
    return _RID_CHECK_CHARS[2 * int(digits[:17], 13) % 11]


def resident_id_check_char(first17: str) -> str:
    """The 18th character (0–9 or X) of a citizen ID whose first 17 digits are given (ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or _FIRST17.fullmatch(first17) is None:
        raise ValueError(f"a resident ID check character is computed from 17 digits, got {first17!r}")
    return _rid_check_char(first17)


def _resident_format(value: str) -> Violation:
    rule = "resident_id.format"
    if len(value) == 15 and value.isascii() and value.isdigit():
        return Violation(rule, "这是 15 位的旧版身份证号，请填写 18 位的公民身份号码",
                         "this is an old 15-digit ID number; give the 18-character citizen ID number")
    if len(value) != 18:
        return Violation(rule, *_digit_count_problem("身份证号", "A resident ID number", 18, value))
    bad = _first_bad(value[:17], _DIGITS)
    if bad is not None:
        position, char = bad
        note, note_en = _char_note(char)
        return Violation(rule, f"身份证号前 17 位只能是数字，第 {position} 位是“{char}”{note}",
                         f"the first 17 characters of a resident ID must be digits; character {position} "
                         f"is {char!r}{note_en}")
    last = value[17]
    if last == "x":
        return Violation(rule, "身份证号最后一位的 x 应写作大写 X",
                         "the last character must be an uppercase X, not a lowercase x")
    note, note_en = _char_note(last)
    return Violation(rule, f"身份证号最后一位只能是数字或大写 X，实际为“{last}”{note}",
                     f"the last character of a resident ID must be a digit or an uppercase X, got {last!r}{note_en}")


class _Today:
    """The clock's date as YYYYMMDD, read once a day: date.today() costs more than a whole ID check."""

    __slots__ = ("text", "until")

    def __init__(self) -> None:
        self.text = ""
        self.until = 0.0

    def __call__(self) -> str:
        now = time.time()
        if now >= self.until:
            today = date.today()
            self.text = _yyyymmdd(today)
            self.until = datetime.combine(today + timedelta(days=1), datetime.min.time()).timestamp()
        return self.text


_today = _Today()


def check_resident_id(value: str, *, region_codes: Container[str] | None = None,
                      today: date | None = None) -> Violation | None:
    """An 18-character citizen ID number: shape, region code, birth date, then the MOD 11-2 check character.

    The region (first 6 digits) must be in `region_codes` when given, otherwise have a real province part.
    The birth date (digits 7–14) must be a real date from 1900-01-01 up to `today` (default: the clock's date).
    Only an uppercase X is accepted as the check character.
    """
    return _check_resident_id(value, region_codes, None if today is None else _yyyymmdd(today))


@lru_cache(maxsize=16)
def _yyyymmdd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _check_resident_id(value: str, region_codes: Container[str] | None, today: str | None) -> Violation | None:
    """check_resident_id with `today` as YYYYMMDD text (None: the clock's), which checker() computes once."""
    if len(value) != 18 or _RID_SHAPE.fullmatch(value) is None:
        return _resident_format(value)
    region = value[:6]
    if region_codes is not None:
        if region not in region_codes:
            return Violation("resident_id.region", f"身份证号前 6 位地区码 {region} 不在行政区划代码表中",
                             f"the region code {region} (first 6 digits) is not in the division code list")
    elif value[:2] not in PROVINCE_CODES:
        return Violation("resident_id.region",
                         f"身份证号前 6 位地区码 {region} 无效：不存在省级代码 {value[:2]}",
                         f"the region code {region} (first 6 digits) is not valid: there is no province "
                         f"{value[:2]}")
    birth = value[6:14]
    month_day = value[10:14]
    if (month_day not in _MONTH_DAYS or birth < _EARLIEST_BIRTH or birth > (today or _today())
            or (month_day == "0229" and not _is_real_date(int(value[6:10]), 2, 29))):
        return _birth_problem(birth, today or _today())
    expected = _rid_check_char(value)
    if value[17] != expected:
        return Violation("resident_id.check_digit",
                         f"身份证号校验位错误：应为 {expected}，实际为 {value[17]}，请核对号码是否有误",
                         f"the check character of the resident ID is wrong: it should be {expected}, "
                         f"not {value[17]}; check the number for a typing error")
    return None


def _birth_problem(digits: str, today: str) -> Violation:
    rule = "resident_id.birth_date"
    shown = f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    if not _is_real_date(year, month, day):
        return Violation(rule, f"身份证号中的出生日期 {shown}（第 7–14 位）不是真实存在的日期",
                         f"the birth date {shown} (digits 7–14) is not a real calendar date")
    if year < 1900:
        return Violation(rule, f"身份证号中的出生日期 {shown} 早于 1900 年",
                         f"the birth date {shown} (digits 7–14) is before 1900")
    shown_today = f"{today[:4]}-{today[4:6]}-{today[6:]}"
    return Violation(rule, f"身份证号中的出生日期 {shown} 晚于今天（{shown_today}）",
                     f"the birth date {shown} (digits 7–14) is after today ({shown_today})")


# --- unified social credit code (GB 32100-2015) --------------------------------------------------------

CREDIT_CODE_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
CREDIT_CODE_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Each character as the base-34 digit of its value in the alphabet (0–9, then a = 10 … u = 30).
_CC_DIGITS: Final = bytes.maketrans(CREDIT_CODE_ALPHABET.encode("ascii"), b"0123456789abcdefghijklmnopqrstu")
_CC_CHARS: Final = frozenset(CREDIT_CODE_ALPHABET)
_CC_CLASS: Final = "[0-9A-HJ-NP-RTUWXY]"
_CC_SHAPE: Final = re.compile(f"{_CC_CLASS}{{2}}[0-9]{{6}}{_CC_CLASS}{{10}}")
_CC_FIRST17: Final = re.compile(f"{_CC_CLASS}{{2}}[0-9]{{6}}{_CC_CLASS}{{9}}")


def _cc_check_char(code: str) -> str:
    """GB 32100 check character over the first 17 characters (of the alphabet, already checked).

    The check is 31 - (weighted sum mod 31), 31 read as 0, that is -sum mod 31. The weight of character i
    (1-based) is 3^(i-1) mod 31 (CREDIT_CODE_WEIGHTS), so the sum is the 17 values read right to left as a
    base-34 number, mod 31, because 34 ≡ 3 (mod 31): int() does the sum in C.
    """
    return CREDIT_CODE_ALPHABET[-int(code.encode("ascii").translate(_CC_DIGITS)[16::-1], 34) % 31]


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code whose first 17 characters are given."""
    if len(first17) != 17 or _CC_FIRST17.fullmatch(first17) is None:
        raise ValueError("a credit code check character is computed from 17 characters of "
                         f"{CREDIT_CODE_ALPHABET} with digits in positions 3–8, got {first17!r}")
    return _cc_check_char(first17)


def _credit_format(value: str) -> Violation:
    rule = "credit_code.format"
    if len(value) == 15 and value.isascii() and value.isdigit():
        return Violation(rule, "这是 15 位的旧版工商注册号，请填写 18 位的统一社会信用代码",
                         "this is an old 15-digit business registration number; give the 18-character "
                         "unified social credit code")
    if len(value) != 18:
        return Violation(rule, *_digit_count_problem("统一社会信用代码", "A unified social credit code", 18, value))
    bad = _first_bad(value, _CC_CHARS)
    if bad is not None:
        position, char = bad
        if char.isascii() and char.islower():
            note, note_en = "（请使用大写字母）", " (use uppercase letters)"
        elif char in "IOZSV":
            note, note_en = "（代码中不使用字母 I、O、Z、S、V）", " (the code never uses the letters I, O, Z, S, V)"
        else:
            note, note_en = _char_note(char)
        return Violation(rule, f"统一社会信用代码第 {position} 位“{char}”不是允许的字符{note}",
                         f"character {position} of the credit code, {char!r}, is not allowed{note_en}")
    return Violation(rule, "统一社会信用代码第 3–8 位是登记管理机关行政区划码，只能是数字",
                     "characters 3–8 of the credit code are the registering authority's division code "
                     "and must be digits")


def check_credit_code(value: str) -> Violation | None:
    """An 18-character unified social credit code: alphabet, digits in positions 3–8, check character."""
    if len(value) != 18 or _CC_SHAPE.fullmatch(value) is None:
        return _credit_format(value)
    expected = _cc_check_char(value)
    if value[17] != expected:
        return Violation("credit_code.check_char",
                         f"统一社会信用代码校验码错误：应为 {expected}，实际为 {value[17]}，请核对代码是否有误",
                         f"the check character of the credit code is wrong: it should be {expected}, "
                         f"not {value[17]}; check the code for a typing error")
    return None


# --- telephone numbers ----------------------------------------------------------------------------------

_MOBILE: Final = re.compile(r"(?:\+86)?1[3-9][0-9]{9}")
_LANDLINE: Final = re.compile(r"0[1-9][0-9]{1,2}-?[1-9][0-9]{6,7}(?:-[0-9]{1,6})?")


def check_mobile(value: str) -> Violation | None:
    """A mainland mobile number: 11 digits starting 13–19, optionally after +86; no spaces or hyphens."""
    if _MOBILE.fullmatch(value) is not None:
        return None
    rule = "mobile.format"
    number = value.removeprefix("+86")
    bad = _first_bad(number, _DIGITS)
    if bad is not None:
        _, char = bad
        note, note_en = _char_note(char)
        return Violation(rule, f"手机号只能由数字组成（可加 +86 前缀），其中有“{char}”{note}",
                         f"a mobile number has digits only (optionally after +86); it contains {char!r}{note_en}")
    if len(number) != 11:
        if len(number) == 13 and number.startswith("86"):
            return Violation(rule, "手机号的国家代码请写作 +86，或直接填写 11 位号码",
                             "write the country code as +86, or give the 11-digit number alone")
        return Violation(rule, f"手机号应为 11 位数字，实际为 {len(number)} 位",
                         f"a mobile number has 11 digits, got {len(number)}")
    return Violation(rule, f"手机号应以 13–19 开头，实际以 {number[:2]} 开头",
                     f"a mobile number starts with 13–19, this one starts with {number[:2]}")


def check_landline(value: str) -> Violation | None:
    """A fixed-line number: area code (0 + 2–3 digits), optional hyphen, 7–8 digits, optional -extension."""
    if _LANDLINE.fullmatch(value) is not None:
        return None
    rule = "landline.format"
    example = "如 0533-2181234 或 010-12345678-123"
    example_en = "such as 0533-2181234 or 010-12345678-123"
    bad = _first_bad(value, _DIGITS_AND_HYPHEN)
    if bad is not None:
        _, char = bad
        note, note_en = _char_note(char)
        return Violation(rule, f"固定电话只能由数字和连接符“-”组成，其中有“{char}”{note}，{example}",
                         f"a landline number has digits and hyphens only; it contains {char!r}{note_en}, "
                         f"{example_en}")
    if not value.startswith("0"):
        return Violation(rule, f"固定电话应以 0 开头的区号开始，{example}",
                         f"a landline number starts with its area code beginning with 0, {example_en}")
    return Violation(rule, f"固定电话应为“区号（3–4 位）-号码（7–8 位）”，可加“-分机号”，{example}",
                     f"a landline number is an area code (3–4 digits), a 7–8 digit number and an optional "
                     f"-extension, {example_en}")


def check_phone(value: str) -> Violation | None:
    """A mobile or a landline number."""
    if _MOBILE.fullmatch(value) is not None or _LANDLINE.fullmatch(value) is not None:
        return None
    return Violation("phone.format",
                     "电话号码格式不正确：应为 11 位手机号（如 13812345678）或带区号的固定电话（如 0533-2181234）",
                     "not a phone number: give an 11-digit mobile number (such as 13812345678) or a landline "
                     "with its area code (such as 0533-2181234)")


# --- division codes -------------------------------------------------------------------------------------

_ADCODE: Final = re.compile(r"[0-9]{6}(?:[0-9]{3}){0,2}")


def check_adcode(value: str, *, region_codes: Container[str] | None = None) -> Violation | None:
    """A 6-digit division code, or a 9/12-digit statistical code (street, community); a real province part.

    With `region_codes` the code must be one of them.
    """
    if _ADCODE.fullmatch(value) is None:
        return Violation("adcode.format",
                         f"行政区划代码应为 6 位数字（街道 9 位、社区 12 位），实际为“{value}”",
                         f"a division code has 6 digits (9 for a street, 12 for a community), got {value!r}")
    if value[:2] not in PROVINCE_CODES:
        return Violation("adcode.unknown", f"行政区划代码 {value} 无效：不存在省级代码 {value[:2]}",
                         f"the division code {value} is not valid: there is no province {value[:2]}")
    if region_codes is not None and value not in region_codes:
        return Violation("adcode.unknown", f"行政区划代码 {value} 不在行政区划代码表中",
                         f"the division code {value} is not in the division code list")
    return None


# --- dates ----------------------------------------------------------------------------------------------

# 2024-03-05, 2024-3-5, 2024/3/5, 2024年3月5日, 20240305.
_DATE: Final = re.compile(r"([0-9]{4})(?:([-/])([0-9]{1,2})\2([0-9]{1,2})|年([0-9]{1,2})月([0-9]{1,2})日"
                          r"|([0-9]{2})([0-9]{2}))")


def _date_parts(value: str) -> tuple[int, int, int] | None:
    found = _DATE.fullmatch(value)
    if found is None:
        return None
    year, _, m1, d1, m2, d2, m3, d3 = found.groups()
    month = m1 or m2 or m3
    day = d1 or d2 or d3
    return int(year), int(month), int(day)


def parse_date(value: str) -> date | None:
    """The date in 2024-03-05, 2024/3/5, 2024年3月5日 or 20240305; None when it is not one (or not real)."""
    parts = _date_parts(value)
    if parts is None or not _is_real_date(*parts):
        return None
    return date(*parts)


def check_date(value: str) -> Violation | None:
    """A real calendar date written 2024-03-05, 2024/3/5, 2024年3月5日 or 20240305."""
    parts = _date_parts(value)
    if parts is None:
        return Violation("date.format",
                         f"日期格式不正确：“{value}”，应写作 2024-03-05（或 2024/3/5、2024年3月5日、20240305）",
                         f"not a date: {value!r}; write it as 2024-03-05 (or 2024/3/5, 2024年3月5日, 20240305)")
    if not _is_real_date(*parts):
        year, month, day = parts
        return Violation("date.invalid", f"日期 {value} 不存在（{year} 年没有 {month} 月 {day} 日）",
                         f"{value} is not a real date: {year} has no day {day} in month {month}")
    return None


# --- registry -------------------------------------------------------------------------------------------

STANDARDS: Final[Mapping[str, Standard]] = MappingProxyType({s.name: s for s in (
    Standard("resident_id", "公民身份号码", "resident ID number", "GB 11643-1999", check_resident_id),
    Standard("credit_code", "统一社会信用代码", "unified social credit code", "GB 32100-2015", check_credit_code),
    Standard("mobile", "手机号码", "mobile number", "电信网编号计划（2017 年版）", check_mobile),
    Standard("landline", "固定电话号码", "landline number", "电信网编号计划（2017 年版）", check_landline),
    Standard("phone", "电话号码", "phone number", "电信网编号计划（2017 年版）", check_phone),
    Standard("adcode", "行政区划代码", "administrative division code", "GB/T 2260-2007", check_adcode),
    Standard("date", "日期", "date", "GB/T 7408-2005", check_date),
)})


def checker(name: str, *, region_codes: Container[str] | None = None, today: date | None = None) -> Check:
    """The check of standard `name` with its options bound; options a standard does not use are ignored.

    `region_codes` applies to resident_id and adcode, `today` to resident_id (None: the clock's date at each
    check). Raises KeyError naming the known standards for any other name.
    """
    standard = STANDARDS.get(name)
    if standard is None:
        raise KeyError(f"unknown standard {name!r}; known standards: {', '.join(STANDARDS)}")
    if name == "resident_id" and (region_codes is not None or today is not None):
        return partial(_check_resident_id, region_codes=region_codes,
                       today=None if today is None else _yyyymmdd(today))
    if name == "adcode" and region_codes is not None:
        return partial(check_adcode, region_codes=region_codes)
    return standard.check
