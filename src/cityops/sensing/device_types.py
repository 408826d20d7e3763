"""Device types as data (data/device_types.csv): what each kind of sensor reports, in which unit, and the
physical range outside which a value is a fault rather than a reading. Pure.

The file has one row per (type, metric), so people can add a metric in a spreadsheet without touching code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from cityops.core.errors import ValidationFailed
from cityops.core.tabular import read_table, require_columns

COLUMNS: Final = ("type_code", "name", "name_en", "interval_s", "metric", "metric_name", "unit", "min", "max")


@dataclass(frozen=True)
class MetricSpec:
    code: str
    name: str
    unit: str
    min: float
    max: float

    def in_range(self, value: float) -> bool:
        return self.min <= value <= self.max


@dataclass(frozen=True)
class DeviceType:
    code: str
    name: str
    name_en: str
    interval_s: int  # default expected reporting interval
    metrics: dict[str, MetricSpec]


def parse_device_types(data: bytes) -> dict[str, DeviceType]:
    """Device types from a CSV/XLSX file; errors name the row and column."""
    table = read_table(data)
    require_columns(table, COLUMNS)
    types: dict[str, DeviceType] = {}
    for i, (row, line) in enumerate(zip(table.rows, table.lines, strict=True)):
        where = f"rows[{i}]"
        known = types.get(row["type_code"])
        if known is None:
            known = types[row["type_code"]] = DeviceType(row["type_code"], row["name"], row["name_en"],
                                                          _positive_int(row, "interval_s", where, line), {})
        metric = MetricSpec(row["metric"], row["metric_name"], row["unit"], _number(row, "min", where, line),
                            _number(row, "max", where, line))
        if not metric.code or metric.code in known.metrics:
            raise ValidationFailed(f"line {line}: metric missing or repeated", field=f"{where}.metric")
        if metric.min > metric.max:
            raise ValidationFailed(f"line {line}: min is above max", field=f"{where}.min")
        known.metrics[metric.code] = metric
    return types


def _number(row: dict[str, str], name: str, where: str, line: int) -> float:
    try:
        value = float(row[name])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValidationFailed(f"line {line}: {row[name]!r} is not a number", field=f"{where}.{name}")
    return value


def _positive_int(row: dict[str, str], name: str, where: str, line: int) -> int:
    text = row[name]
    if not (text.isascii() and text.isdigit() and int(text) > 0):
        raise ValidationFailed(f"line {line}: {text!r} is not a positive whole number", field=f"{where}.{name}")
    return int(text)


@cache
def device_types() -> dict[str, DeviceType]:
    """The shipped catalogue, read once per process."""
    data = resources.files("cityops.sensing").joinpath("data/device_types.csv").read_bytes()
    return parse_device_types(data)
