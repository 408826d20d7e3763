"""Reading category and routing-rule files. Pure: checks that need the database happen in the service.

All or nothing: the first problem raises ValidationFailed naming the row and the file's column
("rows[12].handle_limit", counting data rows from 0) with the line in the message, so nothing is half-imported
and people can find the spot.

Formats:
- native: our own columns (schemas.NATIVE_COLUMNS); keywords separated by "|".
- urban: the urban-management directory's shape (standard_code, matter_kind, category, standard_name,
  default_department_local_config). Components and matters share code numbers there, so codes get the kind's
  letter: 部件 01001 → C01001, 事项 01001 → M01001; the category column becomes a parent row coded from the
  first two digits (C01 市政公用设施). Department names map to codes through an optional mapping.
- hotline: a 3-level tree (一级分类, 二级分类, 三级分类) with codes H01, H01-02, H01-02-003 numbered in order of
  first appearance, so the same file always gives the same codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from cityops.catalog.schemas import (
    KEYWORD_SEPARATOR,
    LIMIT_FIELDS,
    CategoryInput,
    RuleInput,
    check_category,
)
from cityops.core.errors import ValidationFailed
from cityops.core.tabular import Table, read_table, require_columns
from cityops.regions.codes import level_for_division_code

Format = Literal["native", "urban", "hotline"]
FORMATS: Final[tuple[str, ...]] = get_args(Format)

# Words people put in spreadsheets for the coded values.
KIND_ALIASES: Final = {"部件": "component", "管理部件": "component", "事件": "matter", "事项": "matter",
                       "管理事项": "matter", "热线": "hotline", "自定义": "custom"}
UNIT_ALIASES: Final = {"工作时": "working_hours", "工作小时": "working_hours", "工作日": "working_days",
                       "自然时": "natural_hours", "小时": "natural_hours", "自然日": "natural_days",
                       "天": "natural_days"}
SEVERITY_ALIASES: Final = {"紧急": "1", "重要": "2", "一般": "3"}
TRUE_WORDS: Final = frozenset({"true", "1", "yes", "y", "是", "启用"})
FALSE_WORDS: Final = frozenset({"false", "0", "no", "n", "否", "停用"})
URBAN_KIND_LETTER: Final = {"component": "C", "matter": "M"}
HOTLINE_COLUMNS: Final = (("一级分类", "一级", "level1"), ("二级分类", "二级", "level2"),
                          ("三级分类", "三级", "level3"))
ANY_CATEGORY: Final = frozenset({"", "*"})
NULLABLE: Final = frozenset({"name_en", "parent_code", "default_department_code"})


def parse_categories(data: bytes, *, fmt: Format = "native",
                     department_map: Mapping[str, str] | None = None) -> list[CategoryInput]:
    """Categories from a CSV or XLSX file in one of FORMATS, each checked, codes unique."""
    table = read_table(data)
    if fmt == "native":
        return _native(table)
    if fmt == "urban":
        return _urban(table, department_map or {})
    if fmt == "hotline":
        return _hotline(table)
    raise ValidationFailed(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", field="format")


def parse_department_map(text: str | None) -> dict[str, str] | None:
    """The urban format's {"部门名称": "部门编码"} mapping, from JSON text; None when not given."""
    if not text or not text.strip():
        return None
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"not JSON: {exc.msg}", field="department_map") from exc
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValidationFailed('expected {"部门名称": "部门编码", …}', field="department_map")
    return value


def parse_rules(data: bytes) -> list[RuleInput]:
    """Routing rules: category_code (empty or * = any category), region_code, department_code."""
    table = read_table(data)
    require_columns(table, ("category_code", "region_code", "department_code"))
    rules: list[RuleInput] = []
    seen: dict[tuple[str | None, str], int] = {}
    for i, (row, line) in enumerate(zip(table.rows, table.lines, strict=True)):
        rule = _rule(row, i, line)
        key = (rule.category_code, rule.region_code)
        if key in seen:
            raise _at(line, f"the same category and region as rows[{seen[key]}]", rule.field("region_code"))
        seen[key] = i
        rules.append(rule)
    return rules


def _rule(row: Mapping[str, str], i: int, line: int) -> RuleInput:
    where = f"rows[{i}]"
    region = row["region_code"]
    if not (region.isascii() and region.isdigit() and level_for_division_code(region)):
        raise _at(line, f"{region!r} is not a 6, 9, 12 or 15-digit region code", f"{where}.region_code")
    department = row["department_code"]
    if not department or len(department) > 40:
        raise _at(line, "required, at most 40 characters", f"{where}.department_code")
    category = row["category_code"]
    return RuleInput(None if category in ANY_CATEGORY else category, region, department, origin=where)


def _at(line: int, detail: str, field: str) -> ValidationFailed:
    return ValidationFailed(f"line {line}: {detail}", field=field)


# --- native ---------------------------------------------------------------------------------------


def _native(table: Table) -> list[CategoryInput]:
    require_columns(table, ("code", "name", "kind"))
    built = [_checked(_native_row(row, i, line), line) for i, (row, line)
             in enumerate(zip(table.rows, table.lines, strict=True))]
    _check_unique(built, table.lines)
    return built


def _native_row(row: Mapping[str, str], i: int, line: int) -> CategoryInput:
    """Empty cells take the defaults of a new category."""
    where = f"rows[{i}]"
    read = _Reader(row, where, line)
    values: dict[str, Any] = {
        "code": row["code"], "name": row["name"], "kind": KIND_ALIASES.get(row["kind"], row["kind"]),
        "name_en": row.get("name_en") or None, "parent_code": row.get("parent_code") or None,
        "default_department_code": row.get("default_department_code") or None,
        "handle_unit": read.unit(), "severity": read.severity(), "keywords": read.keywords(),
        "active": read.active(), **{name: read.number(name) for name in LIMIT_FIELDS if row.get(name)}}
    return CategoryInput(origin=where, **{k: v for k, v in values.items() if v is not None or k in NULLABLE})


@dataclass(frozen=True)
class _Reader:
    """Typed values from one row's text cells; errors name the row, column and line."""

    row: Mapping[str, str]
    where: str
    line: int

    def fail(self, name: str, detail: str) -> ValidationFailed:
        return _at(self.line, detail, f"{self.where}.{name}")

    def number(self, name: str) -> float:
        try:
            return float(self.row[name])
        except ValueError:
            raise self.fail(name, f"{self.row[name]!r} is not a number") from None

    def unit(self) -> str | None:
        value = self.row.get("handle_unit", "")
        return UNIT_ALIASES.get(value, value) or None

    def severity(self) -> int | None:
        value = self.row.get("severity", "")
        if not value:
            return None
        value = SEVERITY_ALIASES.get(value, value)
        if not value.isdigit():
            raise self.fail("severity", f"{value!r} is not 1, 2 or 3")
        return int(value)

    def keywords(self) -> tuple[str, ...]:
        return tuple(k.strip() for k in self.row.get("keywords", "").split(KEYWORD_SEPARATOR) if k.strip())

    def active(self) -> bool:
        value = self.row.get("active", "").lower()
        if not value or value in TRUE_WORDS:
            return True
        if value in FALSE_WORDS:
            return False
        raise self.fail("active", f"{value!r} is neither true nor false")


def _checked(category: CategoryInput, line: int, columns: Mapping[str, str] | None = None) -> CategoryInput:
    """check_category, with the line added and our field names turned into the file's column names."""
    try:
        check_category(category)
    except ValidationFailed as exc:
        where, _, name = (exc.field or "").rpartition(".")
        column = (columns or {}).get(name, name)
        raise _at(line, exc.detail or "invalid", f"{where}.{column}" if where else column) from None
    return category


def _check_unique(categories: list[CategoryInput], lines: list[int]) -> None:
    first: dict[str, str] = {}
    for category, line in zip(categories, lines, strict=True):
        if category.code in first:
            raise _at(line, f"code {category.code} appears twice (first at {first[category.code]})",
                      category.field("code"))
        first[category.code] = category.origin


# --- urban-management directory -------------------------------------------------------------------

URBAN_COLUMNS: Final = {"code": "standard_code", "name": "standard_name", "kind": "matter_kind",
                        "parent_code": "category", "default_department_code": "default_department_local_config"}


def _urban(table: Table, department_map: Mapping[str, str]) -> list[CategoryInput]:
    require_columns(table, ("matter_kind", "standard_code", "category", "standard_name"))
    parents: dict[str, CategoryInput] = {}
    built: list[CategoryInput] = []
    lines: list[int] = []
    for i, (row, line) in enumerate(zip(table.rows, table.lines, strict=True)):
        child = _urban_row(row, i, line, department_map)
        parent = _urban_parent(row, child, line, parents)
        if parent is not None:
            built.append(_checked(parent, line, URBAN_COLUMNS | {"name": "category"}))
            lines.append(line)
        built.append(_checked(child, line, URBAN_COLUMNS))
        lines.append(line)
    _check_unique(built, lines)
    return built


def _urban_row(row: Mapping[str, str], i: int, line: int, department_map: Mapping[str, str]) -> CategoryInput:
    where = f"rows[{i}]"
    kind = KIND_ALIASES.get(row["matter_kind"], row["matter_kind"])
    if kind not in URBAN_KIND_LETTER:
        raise _at(line, f"{row['matter_kind']!r} is neither 管理部件 nor 管理事项", f"{where}.matter_kind")
    number = row["standard_code"]
    if not (number.isascii() and number.isdigit() and len(number) >= 3):
        raise _at(line, f"{number!r} is not a code of at least 3 digits", f"{where}.standard_code")
    letter = URBAN_KIND_LETTER[kind]
    department = department_map.get(row.get("default_department_local_config", ""))
    return CategoryInput(code=letter + number, name=row["standard_name"], kind=kind,
                         parent_code=letter + number[:2], default_department_code=department, origin=where)


def _urban_parent(row: Mapping[str, str], child: CategoryInput, line: int,
                  parents: dict[str, CategoryInput]) -> CategoryInput | None:
    """The category row for the child's first two digits, the first time it is seen; None after that."""
    code = child.parent_code or ""
    known = parents.get(code)
    if known is not None:
        if known.name != row["category"]:
            raise _at(line, f"{code} is already named {known.name!r}", f"{child.origin}.category")
        return None
    parents[code] = CategoryInput(code=code, name=row["category"], kind=child.kind, origin=child.origin)
    return parents[code]


# --- hotline 3-level tree -------------------------------------------------------------------------


@dataclass
class _Tree:
    """Names seen at each level, numbered in order of first appearance under their parent."""

    numbers: dict[tuple[str, ...], int] = field(default_factory=dict)
    children: dict[tuple[str, ...], int] = field(default_factory=dict)

    def number(self, path: tuple[str, ...]) -> tuple[int, bool]:
        """(number, new?) of the last name in `path` under its parent."""
        if path in self.numbers:
            return self.numbers[path], False
        parent = path[:-1]
        self.children[parent] = self.children.get(parent, 0) + 1
        self.numbers[path] = self.children[parent]
        return self.numbers[path], True


HOTLINE_CODE: Final[tuple[Callable[[list[int]], str], ...]] = (
    lambda n: f"H{n[0]:02d}", lambda n: f"H{n[0]:02d}-{n[1]:02d}", lambda n: f"H{n[0]:02d}-{n[1]:02d}-{n[2]:03d}")


def _hotline(table: Table) -> list[CategoryInput]:
    columns = [_hotline_column(table, aliases) for aliases in HOTLINE_COLUMNS]
    tree, built, lines = _Tree(), [], []
    for i, (row, line) in enumerate(zip(table.rows, table.lines, strict=True)):
        for level, category in _hotline_row(row, i, line, columns, tree):
            built.append(_checked(category, line, {"name": columns[level]}))
            lines.append(line)
    _check_unique(built, lines)
    return built


def _hotline_column(table: Table, aliases: tuple[str, ...]) -> str:
    found = next((a for a in aliases if a in table.columns), None)
    if found is None:
        raise ValidationFailed(f"missing column {aliases[0]!r}", field="header")
    return found


def _hotline_row(row: Mapping[str, str], i: int, line: int, columns: list[str],
                 tree: _Tree) -> list[tuple[int, CategoryInput]]:
    """The categories this row adds to the tree (none when every level was seen before), with their level."""
    names = [row.get(column, "") for column in columns]
    depth = max((level + 1 for level, name in enumerate(names) if name), default=0)
    for level, name in enumerate(names[:depth]):
        if not name:
            raise _at(line, "a lower level is filled but this one is empty", f"rows[{i}].{columns[level]}")
    created, numbers = [], []
    for level in range(depth):
        number, new = tree.number(tuple(names[: level + 1]))
        numbers.append(number)
        if new:
            parent = HOTLINE_CODE[level - 1](numbers) if level else None
            created.append((level, CategoryInput(code=HOTLINE_CODE[level](numbers), name=names[level],
                                                  kind="hotline", parent_code=parent, origin=f"rows[{i}]")))
    return created
