"""Dataset schemas as Frictionless Table Schema descriptors, and the row checks compiled from them. Pure.

A descriptor is the standard JSON (`fields`, `primaryKey`, `missingValues`); CityOps adds four field properties
that other Table Schema tools ignore:

| property    | meaning                                                                                  |
|-------------|------------------------------------------------------------------------------------------|
| `standard`  | a Chinese standard the value must meet: `resident_id`, `credit_code`, `mobile`,           |
|             | `landline`, `phone`, `adcode`, `date`, `address`                                          |
| `grade`     | sensitivity grade: `general` 一般 / `important` 重要 / `core` 核心 (default general)       |
| `piClass`   | personal-information class, which masker applies (`none`, `resident_id`, `name`, …)       |
| `dimension` | true when aggregate-only answers may group by this field                                  |

The compiled schema checks a row of text cells and gives back typed values (integer → int, number → float,
boolean → bool, date → ISO text) or the violations, each naming the field and the rule. Checks are closures
built once per import, because a million-row file runs them millions of times.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from cityops.datahub.standards import Violation, checker, parse_date

TYPES: Final = ("string", "integer", "number", "boolean", "date", "datetime", "year")
GRADES: Final = ("general", "important", "core")
PI_CLASSES: Final = ("none", "resident_id", "name", "mobile", "phone", "address", "email", "bank_card",
                     "birth_date", "licence_no", "free_text", "other")
STANDARD_NAMES: Final = ("resident_id", "credit_code", "mobile", "landline", "phone", "adcode", "date", "address")
TRUE_VALUES: Final = frozenset({"true", "True", "TRUE", "1", "是", "yes", "Y"})
FALSE_VALUES: Final = frozenset({"false", "False", "FALSE", "0", "否", "no", "N"})
DATETIME_PATTERN: Final = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")

Value = str | int | float | bool
Check = Callable[[str], Violation | None]
AddressResolver = Callable[[str], str | None]  # address text → region code, None when it cannot be placed


class SchemaError(ValueError):
    """A descriptor that is not a usable Table Schema; `field` names the offending part."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = "string"
    title: str | None = None
    description: str | None = None
    standard: str | None = None
    grade: str = "general"
    pi_class: str = "none"
    dimension: bool = False
    required: bool = False
    unique: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def numeric(self) -> bool:
        return self.type in ("integer", "number")


@dataclass(frozen=True)
class TableSchema:
    fields: tuple[FieldSpec, ...]
    primary_key: tuple[str, ...] = ()
    missing_values: tuple[str, ...] = ("",)
    descriptor: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def get(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.dimension)

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.numeric)


@dataclass(frozen=True, slots=True)
class RowError:
    """One failed rule: the file's line (CSV) or sheet row (XLSX) or item number (JSON), field and rule."""

    line: int
    field: str
    rule: str
    message: str
    message_en: str
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "rule": self.rule, "message": self.message,
                "message_en": self.message_en, "value": self.value}


# --- parsing a descriptor ------------------------------------------------------------------------------


def parse_schema(descriptor: Mapping[str, Any]) -> TableSchema:
    """A Table Schema descriptor → TableSchema, or SchemaError naming what is wrong."""
    raw_fields = descriptor.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise SchemaError("a schema needs a non-empty list of fields", field="fields")
    fields = tuple(_field(item, f"fields[{i}]") for i, item in enumerate(raw_fields))
    names = [f.name for f in fields]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SchemaError(f"field names repeat: {', '.join(duplicated)}", field="fields")
    primary_key = _primary_key(descriptor.get("primaryKey"), names)
    missing = descriptor.get("missingValues", [""])
    if not isinstance(missing, list) or not all(isinstance(v, str) for v in missing):
        raise SchemaError("missingValues must be a list of strings", field="missingValues")
    return TableSchema(fields, primary_key, tuple(missing), dict(descriptor))


def _primary_key(value: Any, names: Sequence[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    keys = [value] if isinstance(value, str) else value
    if not isinstance(keys, list) or not all(isinstance(k, str) and k in names for k in keys):
        raise SchemaError("primaryKey must name fields of the schema", field="primaryKey")
    return tuple(keys)


def _field(item: Any, where: str) -> FieldSpec:
    if not isinstance(item, Mapping) or not isinstance(item.get("name"), str) or not item["name"].strip():
        raise SchemaError("every field needs a name", field=where)
    name = item["name"].strip()
    kind = item.get("type", "string")
    _one_of(kind, TYPES, f"{where}.type")
    grade = item.get("grade", "general")
    _one_of(grade, GRADES, f"{where}.grade")
    pi_class = item.get("piClass", "none")
    _one_of(pi_class, PI_CLASSES, f"{where}.piClass")
    standard = item.get("standard")
    if standard is not None:
        _one_of(standard, STANDARD_NAMES, f"{where}.standard")
    constraints = item.get("constraints", {})
    if not isinstance(constraints, Mapping):
        raise SchemaError("constraints must be an object", field=f"{where}.constraints")
    pattern = constraints.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise SchemaError(f"pattern is not a regular expression: {exc}", field=f"{where}.constraints") from exc
    enum = constraints.get("enum")
    return FieldSpec(
        name=name, type=kind, title=item.get("title"), description=item.get("description"), standard=standard,
        grade=grade, pi_class=pi_class, dimension=bool(item.get("dimension", False)),
        required=bool(constraints.get("required", False)), unique=bool(constraints.get("unique", False)),
        min_length=_number(constraints, "minLength", where, int),
        max_length=_number(constraints, "maxLength", where, int),
        pattern=pattern, enum=tuple(str(v) for v in enum) if isinstance(enum, list) else None,
        minimum=_number(constraints, "minimum", where, float), maximum=_number(constraints, "maximum", where, float))


def _one_of(value: Any, allowed: Sequence[str], where: str) -> None:
    if value not in allowed:
        raise SchemaError(f"{value!r} is not one of {', '.join(allowed)}", field=where)


def _number(constraints: Mapping[str, Any], key: str, where: str, kind: type) -> Any:
    value = constraints.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(f"{key} must be a number", field=f"{where}.constraints.{key}")
    return kind(value)


def field_descriptor(spec: FieldSpec) -> dict[str, Any]:
    """A FieldSpec back as Table Schema JSON (for export and for comparing versions)."""
    out: dict[str, Any] = {"name": spec.name, "type": spec.type}
    for key, value in (("title", spec.title), ("description", spec.description), ("standard", spec.standard)):
        if value:
            out[key] = value
    out["grade"] = spec.grade
    out["piClass"] = spec.pi_class
    if spec.dimension:
        out["dimension"] = True
    constraints = {k: v for k, v in (
        ("required", spec.required or None), ("unique", spec.unique or None), ("minLength", spec.min_length),
        ("maxLength", spec.max_length), ("pattern", spec.pattern), ("enum", list(spec.enum) if spec.enum else None),
        ("minimum", spec.minimum), ("maximum", spec.maximum)) if v is not None}
    if constraints:
        out["constraints"] = constraints
    return out


# --- checking rows ---------------------------------------------------------------------------------------

FieldCheck = Callable[[str], tuple[Value | None, Violation | None]]


@dataclass(frozen=True)
class CheckContext:
    """What some standards need to know about the city: its region codes, and how to place an address."""

    region_codes: Container[str] | None = None
    resolve_address: AddressResolver | None = None
    today: date | None = None


def _violation(rule: str, message: str, message_en: str) -> Violation:
    return Violation(rule=rule, message=message, message_en=message_en)


def _converter(spec: FieldSpec) -> FieldCheck:
    """Text → typed value, or the type violation."""
    kind = spec.type
    if kind == "integer":
        def as_int(text: str) -> tuple[Value | None, Violation | None]:
            try:
                return int(text.replace(",", "")), None
            except ValueError:
                return None, _violation("type.integer", "应为整数", "must be a whole number")
        return as_int
    if kind == "number":
        def as_float(text: str) -> tuple[Value | None, Violation | None]:
            try:
                number = float(text.replace(",", ""))
            except ValueError:
                return None, _violation("type.number", "应为数字", "must be a number")
            if not math.isfinite(number):
                return None, _violation("type.number", "应为有限的数字", "must be a finite number")
            return number, None
        return as_float
    if kind == "boolean":
        def as_bool(text: str) -> tuple[Value | None, Violation | None]:
            if text in TRUE_VALUES:
                return True, None
            if text in FALSE_VALUES:
                return False, None
            return None, _violation("type.boolean", "应为 是/否", "must be yes/no (true/false)")
        return as_bool
    if kind == "date":
        def as_date(text: str) -> tuple[Value | None, Violation | None]:
            parsed = parse_date(text)
            if parsed is None:
                return None, _violation("type.date", "应为日期，如 2024-03-05", "must be a date such as 2024-03-05")
            return parsed.isoformat(), None
        return as_date
    if kind == "datetime":
        def as_datetime(text: str) -> tuple[Value | None, Violation | None]:
            if DATETIME_PATTERN.match(text):
                try:
                    datetime.fromisoformat(text.replace("Z", "+00:00"))
                    return text, None
                except ValueError:
                    pass
            return None, _violation("type.datetime", "应为时间，如 2024-03-05 08:30", "must be a date and time")
        return as_datetime
    if kind == "year":
        def as_year(text: str) -> tuple[Value | None, Violation | None]:
            if len(text) == 4 and text.isdigit():
                return int(text), None
            return None, _violation("type.year", "应为四位年份", "must be a four-digit year")
        return as_year
    return lambda text: (text, None)


def _constraint_checks(spec: FieldSpec) -> list[Callable[[str, Value], Violation | None]]:
    checks: list[Callable[[str, Value], Violation | None]] = []
    if spec.min_length is not None:
        low = spec.min_length
        checks.append(lambda t, _v: None if len(t) >= low else _violation(
            "constraint.minLength", f"长度不能少于 {low}", f"must be at least {low} characters"))
    if spec.max_length is not None:
        high = spec.max_length
        checks.append(lambda t, _v: None if len(t) <= high else _violation(
            "constraint.maxLength", f"长度不能超过 {high}", f"must be at most {high} characters"))
    if spec.pattern is not None:
        compiled = re.compile(spec.pattern)
        checks.append(lambda t, _v: None if compiled.fullmatch(t) else _violation(
            "constraint.pattern", f"格式不符合 {spec.pattern}", f"does not match {spec.pattern}"))
    if spec.enum is not None:
        allowed = frozenset(spec.enum)
        shown = list(spec.enum[:8])
        checks.append(lambda t, _v: None if t in allowed else _violation(
            "constraint.enum", f"应为以下之一：{'、'.join(shown)}", f"must be one of: {', '.join(shown)}"))
    if spec.minimum is not None:
        low_value = spec.minimum
        checks.append(lambda _t, v: None if not isinstance(v, int | float) or v >= low_value else _violation(
            "constraint.minimum", f"不能小于 {low_value:g}", f"must be at least {low_value:g}"))
    if spec.maximum is not None:
        high_value = spec.maximum
        checks.append(lambda _t, v: None if not isinstance(v, int | float) or v <= high_value else _violation(
            "constraint.maximum", f"不能大于 {high_value:g}", f"must be at most {high_value:g}"))
    return checks


def _standard_check(spec: FieldSpec, context: CheckContext) -> Check | None:
    if spec.standard is None:
        return None
    if spec.standard == "address":
        resolve = context.resolve_address
        if resolve is None:
            return None

        def placed(text: str) -> Violation | None:
            if resolve(text) is None:
                return _violation("address.unresolved", "地址无法定位到本市的行政区划",
                                  "the address cannot be placed in a region of this city")
            return None
        return placed
    return checker(spec.standard, region_codes=context.region_codes, today=context.today)


def compile_field(spec: FieldSpec, context: CheckContext) -> FieldCheck:
    """One cell's whole check: type, constraints, standard. Missing values are handled by the caller."""
    convert = _converter(spec)
    constraints = _constraint_checks(spec)
    standard = _standard_check(spec, context)

    def check(text: str) -> tuple[Value | None, Violation | None]:
        value, problem = convert(text)
        if problem is not None or value is None:
            return None, problem
        for constraint in constraints:
            problem = constraint(text, value)
            if problem is not None:
                return None, problem
        if standard is not None:
            problem = standard(text)
            if problem is not None:
                return None, problem
        return value, None
    return check


REQUIRED: Final = Violation(rule="constraint.required", message="必填项不能为空", message_en="is required")


class RowChecker:
    """Checks rows of text cells against a schema and remembers unique values across the whole file."""

    def __init__(self, schema: TableSchema, context: CheckContext | None = None) -> None:
        context = context or CheckContext()
        self.schema = schema
        self._missing = frozenset(schema.missing_values)
        self._fields = [(f.name, f.required or f.name in schema.primary_key, compile_field(f, context))
                        for f in schema.fields]
        self._unique: dict[str, dict[Value, int]] = {f.name: {} for f in schema.fields if f.unique}
        self._keys: dict[tuple[Value | None, ...], int] = {}

    def check(self, cells: Mapping[str, str], line: int) -> tuple[dict[str, Value | None], list[RowError]]:
        row: dict[str, Value | None] = {}
        errors: list[RowError] = []
        missing = self._missing
        for name, required, check in self._fields:
            text = cells.get(name)
            text = text.strip() if text is not None else ""
            if text in missing:
                row[name] = None
                if required:
                    errors.append(RowError(line, name, REQUIRED.rule, REQUIRED.message, REQUIRED.message_en, None))
                continue
            value, problem = check(text)
            if problem is not None:
                errors.append(RowError(line, name, problem.rule, problem.message, problem.message_en, text[:100]))
            row[name] = value
        if not errors:
            errors.extend(self._repeats(row, line))
        return row, errors

    def _repeats(self, row: Mapping[str, Value | None], line: int) -> list[RowError]:
        found: list[RowError] = []
        for name, seen in self._unique.items():
            value = row.get(name)
            if value is None:
                continue
            first = seen.setdefault(value, line)
            if first != line:
                found.append(RowError(line, name, "constraint.unique", f"与第 {first} 行重复",
                                      f"repeats line {first}", str(value)[:100]))
        key_fields = self.schema.primary_key
        if key_fields:
            key = tuple(row.get(k) for k in key_fields)
            first = self._keys.setdefault(key, line)
            if first != line:
                found.append(RowError(line, key_fields[0], "constraint.primaryKey", f"主键与第 {first} 行重复",
                                      f"primary key repeats line {first}", "|".join(str(k) for k in key)[:100]))
        return found


def row_key(schema: TableSchema, row: Mapping[str, Value | None]) -> str | None:
    """The stored key of a row: its primary key values joined, or None for a dataset without one."""
    if not schema.primary_key:
        return None
    return "|".join("" if row.get(k) is None else str(row.get(k)) for k in schema.primary_key)


def missing_columns(schema: TableSchema, columns: Sequence[str]) -> list[str]:
    """Required (or key) fields the file has no column for: the whole file is refused before any row is read."""
    present = set(columns)
    return [f.name for f in schema.fields if (f.required or f.name in schema.primary_key) and f.name not in present]
