"""Region levels and the code rules every other domain relies on. Pure: no database, no geometry.

Codes follow the national statistical division codes (统计用区划代码, GB/T 2260 for the first six digits):

| level     | code                      | example          | scope_prefix       |
|-----------|---------------------------|------------------|--------------------|
| city      | 6 digits ending "00"      | 370300           | 3703               |
| district  | 6 digits                  | 370303           | 370303             |
| street    | district + 3 digits       | 370303001        | 370303001          |
| community | street + 3 digits         | 370303001001     | 370303001001       |
| grid      | community + 3 digits      | 370303001001001  | 370303001001001    |

A record (case, report, device…) carries the code of the region it lies in; it is inside a region exactly
when its code starts with that region's scope_prefix. Access control depends on this, so the service
refuses any region whose code does not start with its parent's scope_prefix.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from cityops.core.errors import ValidationFailed

Level = Literal["city", "district", "street", "community", "grid"]
LEVELS: Final[tuple[Level, ...]] = get_args(Level)
CODE_LENGTHS: Final[dict[Level, int]] = {"city": 6, "district": 6, "street": 9, "community": 12, "grid": 15}
# Province-level cities: their xx0000 code is a city; any other xx0000 is a province, not a region here.
MUNICIPALITIES: Final[frozenset[str]] = frozenset({"11", "12", "31", "50"})
_LEVEL_BY_LENGTH: Final[dict[int, Level]] = {9: "street", 12: "community", 15: "grid"}


def level_rank(level: Level) -> int:
    return LEVELS.index(level)


def parent_level(level: Level) -> Level | None:
    rank = level_rank(level)
    return LEVELS[rank - 1] if rank > 0 else None


def is_level(value: str) -> bool:
    return value in LEVELS


def code_problem(code: str, level: Level) -> str | None:
    """Why `code` cannot be a `level` code, or None when it can."""
    length = CODE_LENGTHS[level]
    if not code.isascii() or not code.isdigit() or len(code) != length:
        return f"a {level} code has {length} digits, got {code!r}"
    if level == "city" and not code.endswith("00"):
        return f"a city code ends in 00, got {code!r}"
    if level == "city" and code.endswith("0000") and code[:2] not in MUNICIPALITIES:
        return f"{code!r} is a province code; the top level here is the city"
    if level == "district" and code.endswith("00"):
        return f"a district code does not end in 00 (that is a city), got {code!r}"
    return None


def scope_prefix_for(code: str, level: Level) -> str:
    """The prefix every code inside this region starts with.

    A city covers its 4-digit prefix (370300 → 3703). Province-level cities (北京 110000, 上海 310000) are
    coded xx0000 and their districts 1101xx, 1102xx…, so they cover the 2-digit province prefix.
    """
    if level == "city":
        return code[:2] if code[2:6] == "0000" else code[:4]
    if level == "district":
        return code[:6]
    return code


def in_scope(record_code: str | None, prefix: str) -> bool:
    """True when a record coded `record_code` lies inside the region whose scope_prefix is `prefix`.

    An empty prefix grants nothing: a missing scope must never read as "everywhere".
    """
    return bool(prefix) and record_code is not None and record_code.startswith(prefix)


def implied_parent_codes(code: str, level: Level) -> tuple[str, ...]:
    """Codes that, by the numbering, may be this region's parent, most likely first."""
    if level == "city":
        return ()
    if level == "district":
        return (code[:4] + "00", code[:2] + "0000")
    return (code[:-3],)


def level_for_division_code(code: str) -> Level | None:
    """The level a statistical division code belongs to, judged by its length; None for other lengths."""
    if len(code) == 6:
        return "city" if code.endswith("00") else "district"
    return _LEVEL_BY_LENGTH.get(len(code))


def normalise_division_code(code: str) -> str:
    """Short form of a statistical code: "3703" → "370300", "370303000000" → "370303",
    "370303001000" → "370303001".

    The national files come both with short codes per level and as 12 digits padded with zeros.
    """
    if len(code) == 4:
        return code + "00"
    if len(code) == 12 and code.endswith("000"):
        code = code[:9]
        return code[:6] if code.endswith("000") else code
    return code


def parse_level(value: str) -> Level:
    """A level name from a request or flag."""
    for level in LEVELS:
        if value == level:
            return level
    raise ValidationFailed(f"unknown level {value!r}; use one of {', '.join(LEVELS)}", field="level")
