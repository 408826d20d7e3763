"""Shapes of the catalogue: parsed inputs (shared by importers, API and service) and API models.

`check_category` is the one place that says what a valid category looks like, so a spreadsheet row and an
API request are held to the same rules; errors name the row and column (`rows[12].handle_limit`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from cityops.core.errors import ValidationFailed

Kind = Literal["component", "matter", "hotline", "custom"]
HandleUnit = Literal["working_hours", "working_days", "natural_hours", "natural_days"]
KINDS: Final[tuple[str, ...]] = get_args(Kind)
HANDLE_UNITS: Final[tuple[str, ...]] = get_args(HandleUnit)
SEVERITIES: Final = (1, 2, 3)  # 1 urgent 紧急, 2 important 重要, 3 ordinary 一般
CODE_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
NAME_MAX, NAME_EN_MAX, KEYWORD_MAX = 120, 160, 40
LIMIT_MAX: Final = 8760.0  # a year of hours: anything longer is a typo, not a time limit
LIMIT_FIELDS: Final = ("register_hours", "dispatch_hours", "handle_limit", "verify_hours", "close_hours")
# The native file format, in column order; "active" is optional on import and always written on export.
NATIVE_COLUMNS: Final = ("code", "name", "name_en", "kind", "parent_code", "default_department_code",
                         "register_hours", "dispatch_hours", "handle_limit", "handle_unit", "verify_hours",
                         "close_hours", "severity", "keywords", "active")
KEYWORD_SEPARATOR: Final = "|"
FORMULA_STARTS: Final = ("=", "+", "-", "@")  # a cell starting so is a formula to Excel: refused, not exported


@dataclass(frozen=True)
class CategoryInput:
    """One category as a file row or request states it. Defaults are those of a new category."""

    code: str
    name: str
    kind: str
    name_en: str | None = None
    parent_code: str | None = None
    default_department_code: str | None = None
    register_hours: float = 1.0
    dispatch_hours: float = 1.0
    handle_limit: float = 3.0
    handle_unit: str = "working_days"
    verify_hours: float = 4.0
    close_hours: float = 4.0
    severity: int = 2
    keywords: tuple[str, ...] = ()
    active: bool = True
    origin: str = field(default="", compare=False)  # "rows[3]" for a file row, "" for a request

    def field(self, name: str) -> str:
        return f"{self.origin}.{name}" if self.origin else name


# Columns the service copies onto a Category; `level` is derived from the parent, never taken from input.
INPUT_FIELDS: Final = tuple(f.name for f in fields(CategoryInput) if f.name not in ("code", "origin"))


@dataclass(frozen=True)
class RuleInput:
    category_code: str | None
    region_code: str
    department_code: str
    origin: str = field(default="", compare=False)

    def field(self, name: str) -> str:
        return f"{self.origin}.{name}" if self.origin else name


def check_category(category: CategoryInput) -> None:
    """Raise ValidationFailed naming the first field that breaks the catalogue's rules."""
    _check_text(category, "code", category.code, 40)
    if not re.fullmatch(CODE_PATTERN, category.code):
        raise ValidationFailed("letters, digits, '-', '_' or '.' only", field=category.field("code"))
    _check_text(category, "name", category.name, NAME_MAX)
    if category.name_en is not None and len(category.name_en) > NAME_EN_MAX:
        raise ValidationFailed(f"longer than {NAME_EN_MAX} characters", field=category.field("name_en"))
    _check_no_formula(category, "name", [category.name])
    _check_no_formula(category, "name_en", [category.name_en or ""])
    _check_no_formula(category, "keywords", category.keywords)
    _check_choice(category, "kind", category.kind, KINDS)
    _check_choice(category, "handle_unit", category.handle_unit, HANDLE_UNITS)
    _check_choice(category, "severity", category.severity, SEVERITIES)
    for name in LIMIT_FIELDS:
        _check_limit(category, name, getattr(category, name))
    if category.parent_code == category.code:
        raise ValidationFailed("a category cannot be its own parent", field=category.field("parent_code"))
    for keyword in category.keywords:
        if not keyword or len(keyword) > KEYWORD_MAX:
            raise ValidationFailed(f"keywords are 1–{KEYWORD_MAX} characters", field=category.field("keywords"))


def _check_text(category: CategoryInput, name: str, value: str, longest: int) -> None:
    if not value or not value.strip():
        raise ValidationFailed("required", field=category.field(name))
    if len(value) > longest:
        raise ValidationFailed(f"longer than {longest} characters", field=category.field(name))


def _check_no_formula(category: CategoryInput, name: str, values: Iterable[str]) -> None:
    if any(value.startswith(FORMULA_STARTS) for value in values):
        raise ValidationFailed("must not start with = + - or @ (a spreadsheet formula)", field=category.field(name))


def _check_choice(category: CategoryInput, name: str, value: object, choices: tuple[object, ...]) -> None:
    if value not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise ValidationFailed(f"{value!r} is not one of {allowed}", field=category.field(name))


def _check_limit(category: CategoryInput, name: str, value: float) -> None:
    if not (0 < value <= LIMIT_MAX):
        raise ValidationFailed(f"must be more than 0 and at most {LIMIT_MAX:g}", field=category.field(name))


# --- API ------------------------------------------------------------------------------------------


class CategoryIn(BaseModel):
    """PUT /categories/{code}: the whole category (a missing field takes the default of a new category)."""

    name: str = Field(min_length=1, max_length=NAME_MAX)
    kind: Kind
    name_en: str | None = Field(default=None, max_length=NAME_EN_MAX)
    parent_code: str | None = Field(default=None, max_length=40)
    default_department_code: str | None = Field(default=None, max_length=40)
    register_hours: float = 1.0
    dispatch_hours: float = 1.0
    handle_limit: float = 3.0
    handle_unit: HandleUnit = "working_days"
    verify_hours: float = 4.0
    close_hours: float = 4.0
    severity: int = 2
    keywords: list[str] = Field(default_factory=list, max_length=100)
    active: bool = True

    def to_input(self, code: str) -> CategoryInput:
        values: dict[str, Any] = self.model_dump()
        values["keywords"] = tuple(k.strip() for k in self.keywords)
        return CategoryInput(code=code, **values)


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    name_en: str | None
    kind: str
    parent_code: str | None
    level: int
    default_department_code: str | None
    register_hours: float
    dispatch_hours: float
    handle_limit: float
    handle_unit: str
    verify_hours: float
    close_hours: float
    severity: int
    keywords: list[str]
    active: bool
    imported: bool
    version: int
    updated_at: datetime
    updated_by: str


class HistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    snapshot: dict[str, Any]
    changed_by: str
    changed_at: datetime


class RuleIn(BaseModel):
    category_code: str | None = Field(default=None, max_length=40, description="空 = 所有分类 / any category")
    region_code: str = Field(min_length=6, max_length=20, pattern=r"^\d+$")
    department_code: str = Field(min_length=1, max_length=40)


class RuleUpdateIn(BaseModel):
    """PUT /routing-rules/{id}: fields left out stay as they are; `active: false` deactivates the rule."""

    category_code: str | None = Field(default=None, max_length=40)
    region_code: str | None = Field(default=None, min_length=6, max_length=20, pattern=r"^\d+$")
    department_code: str | None = Field(default=None, min_length=1, max_length=40)
    active: bool | None = None


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    category_code: str | None
    region_code: str
    department_code: str
    active: bool
    version: int
    updated_at: datetime
    updated_by: str


class DecisionOut(BaseModel):
    department_code: str
    rule_id: int | None
    reason: str
    fallback: bool


class PreviewOut(BaseModel):
    category_code: str | None
    region_code: str
    decision: DecisionOut | None  # null: no rule and no default, the case would wait for a dispatcher


class ImportSummaryOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    total: int
