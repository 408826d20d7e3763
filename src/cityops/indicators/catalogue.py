"""Reading and writing the indicator catalogue and its thresholds as CSV/XLSX. Pure.

All or nothing: the first problem raises ValidationFailed naming the row and column ("rows[3].aggregate",
data rows counted from 0) with the file's line in the message. Exports use the same columns, so an export
imports back to the same catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass, fields
from typing import Any, Final, Literal

from cityops.core.errors import ValidationFailed
from cityops.core.tabular import read_table, require_columns, write_csv, write_xlsx
from cityops.indicators.evaluate import Rule, ThresholdSet

DOMAINS: Final = ("environment", "water", "safety", "traffic", "public_service")
SOURCE_KINDS: Final = ("sensor_aggregate", "case_statistic", "dataset", "device_status")
AGGREGATES: Final = ("max", "mean", "min", "sum", "count")
# Case statistics the platform can compute (read-only, through the cases/insight services).
STATISTICS: Final = ("reports_per_hour", "overdue_cases", "on_time_closure_rate_today")
TRUE_WORDS: Final = frozenset({"true", "1", "yes", "是", "启用", ""})
FALSE_WORDS: Final = frozenset({"false", "0", "no", "否", "停用"})
ExportFormat = Literal["csv", "xlsx"]


@dataclass(frozen=True)
class IndicatorInput:
    code: str
    name: str
    name_en: str | None
    unit: str
    department_code: str
    domain: str
    source_kind: str
    metric: str | None = None
    aggregate: str | None = None
    device_type: str | None = None
    region_code: str | None = None
    device_group: str | None = None
    window_minutes: int | None = None
    statistic: str | None = None
    category_code: str | None = None
    active: bool = True


@dataclass(frozen=True)
class ThresholdInput:
    indicator_code: str
    region_code: str  # "" = city-wide default
    level: str
    comparison: str
    value: float
    clear_value: float
    duration_minutes: float = 0.0
    repetitions: int = 1

    def rule(self) -> Rule:
        return Rule(self.level, self.comparison, self.value, self.clear_value,  # type: ignore[arg-type]
                    duration_s=self.duration_minutes * 60, repetitions=self.repetitions)


INDICATOR_COLUMNS: Final = tuple(f.name for f in fields(IndicatorInput))
THRESHOLD_COLUMNS: Final = tuple(f.name for f in fields(ThresholdInput))


class _Row:
    """Typed cells of one data row; every error names the row, the column and the line."""

    def __init__(self, row: Mapping[str, str], index: int, line: int) -> None:
        self.row, self.index, self.line = row, index, line

    def fail(self, column: str, detail: str) -> ValidationFailed:
        return ValidationFailed(f"第 {self.line} 行 / line {self.line}: {detail}", field=f"rows[{self.index}].{column}")

    def text(self, column: str, *, required: bool = False, max_len: int = 120) -> str | None:
        value = self.row.get(column, "")
        if required and not value:
            raise self.fail(column, "必填 / required")
        if len(value) > max_len:
            raise self.fail(column, f"最多 {max_len} 个字符 / at most {max_len} characters")
        return value or None

    def required(self, column: str, max_len: int = 120) -> str:
        value = self.text(column, required=True, max_len=max_len)
        assert value is not None  # required=True raised otherwise
        return value

    def choice(self, column: str, allowed: tuple[str, ...], *, required: bool = True) -> str | None:
        value = self.text(column, required=required)
        if value is not None and value not in allowed:
            raise self.fail(column, f"{value!r} 不在 {'/'.join(allowed)} 中 / not one of {', '.join(allowed)}")
        return value

    def number(self, column: str, default: float | None = None) -> float:
        value = self.row.get(column, "")
        if not value and default is not None:
            return default
        try:
            return float(value)
        except ValueError:
            raise self.fail(column, f"{value!r} 不是数字 / not a number") from None

    def whole(self, column: str, *, minimum: int, default: int | None = None) -> int | None:
        value = self.row.get(column, "")
        if not value:
            return default
        if not value.isdigit() or int(value) < minimum:
            raise self.fail(column, f"{value!r} 须为≥{minimum}的整数 / a whole number ≥ {minimum}")
        return int(value)

    def flag(self, column: str) -> bool:
        value = self.row.get(column, "").lower()
        if value in TRUE_WORDS:
            return True
        if value in FALSE_WORDS:
            return False
        raise self.fail(column, f"{value!r} 须为 true/false / true or false")


def _rows(data: bytes, required: tuple[str, ...]) -> list[_Row]:
    table = read_table(data)
    require_columns(table, required)
    return [_Row(row, i, line) for i, (row, line) in enumerate(zip(table.rows, table.lines, strict=True))]


def parse_indicators(data: bytes) -> list[IndicatorInput]:
    """Indicators from a CSV or XLSX file, each checked against its source kind, codes unique."""
    built, seen = [], set()
    for row in _rows(data, ("code", "name", "unit", "department_code", "domain", "source_kind")):
        indicator = _indicator(row)
        if indicator.code in seen:
            raise row.fail("code", f"编码 {indicator.code} 重复 / code appears twice")
        seen.add(indicator.code)
        built.append(indicator)
    return built


def _indicator(row: _Row) -> IndicatorInput:
    kind = row.choice("source_kind", SOURCE_KINDS)
    indicator = IndicatorInput(
        code=row.required("code", 60), name=row.required("name"), name_en=row.text("name_en", max_len=160),
        unit=row.required("unit", 20), department_code=row.required("department_code", 40),
        domain=str(row.choice("domain", DOMAINS)), source_kind=str(kind), metric=row.text("metric", max_len=40),
        aggregate=row.choice("aggregate", AGGREGATES, required=kind == "sensor_aggregate"),
        device_type=row.text("device_type", max_len=40), region_code=row.text("region_code", max_len=20),
        device_group=row.text("device_group", max_len=60),
        window_minutes=row.whole("window_minutes", minimum=1, default=None),
        statistic=row.choice("statistic", STATISTICS, required=kind == "case_statistic"),
        category_code=row.text("category_code", max_len=40), active=row.flag("active"))
    if kind == "sensor_aggregate":
        _check_sensor_source(row, indicator)
    return indicator


def _check_sensor_source(row: _Row, indicator: IndicatorInput) -> None:
    if not indicator.metric:
        raise row.fail("metric", "传感器指标须填写测量项 / a sensor aggregate needs a metric")
    if not indicator.device_group and not (indicator.device_type and indicator.region_code):
        raise row.fail("device_type", "须填写设备类型和区划，或设备组 / give device_type and region_code, "
                                      "or a device_group")
    if indicator.window_minutes is None:
        raise row.fail("window_minutes", "须填写统计窗口（分钟）/ a window in minutes is needed")


def parse_thresholds(data: bytes) -> list[ThresholdInput]:
    """Thresholds from a CSV or XLSX file; the levels of one indicator and region are checked as one set."""
    built: list[ThresholdInput] = []
    groups: dict[tuple[str, str], list[tuple[_Row, ThresholdInput]]] = {}
    for row in _rows(data, ("indicator_code", "level", "comparison", "value", "clear_value")):
        threshold = _threshold(row)
        groups.setdefault((threshold.indicator_code, threshold.region_code), []).append((row, threshold))
        built.append(threshold)
    for members in groups.values():
        try:
            ThresholdSet(tuple(t.rule() for _, t in members))
        except ValidationFailed as exc:
            last = members[-1][0]
            raise last.fail(exc.field or "level", exc.detail or "") from None
    return built


def _threshold(row: _Row) -> ThresholdInput:
    return ThresholdInput(
        indicator_code=row.required("indicator_code", 60), region_code=row.text("region_code", max_len=20) or "",
        level=str(row.choice("level", ("blue", "yellow", "orange", "red"))),
        comparison=str(row.choice("comparison", ("above", "below"))), value=row.number("value"),
        clear_value=row.number("clear_value"), duration_minutes=row.number("duration_minutes", 0.0),
        repetitions=row.whole("repetitions", minimum=1, default=1) or 1)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def export_table(items: Iterable[IndicatorInput | ThresholdInput], columns: tuple[str, ...],
                 fmt: ExportFormat, *, title: str) -> bytes:
    """Indicators or thresholds in their import format: CSV (UTF-8 with BOM) or XLSX."""
    rows = [[_cell(v) for v in astuple(item)] for item in items]
    return write_xlsx(columns, rows, title=title) if fmt == "xlsx" else write_csv(columns, rows)
