"""Reading device files (CSV or XLSX). Pure: locating devices in grids needs the database (flows).

All or nothing: the first problem raises ValidationFailed naming the row and column ("rows[3].lat", data rows
counted from 0) with the file's line in the message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from cityops.core.errors import ValidationFailed
from cityops.core.tabular import read_table, require_columns
from cityops.sensing.device_types import DeviceType, device_types
from cityops.sensing.schemas import DEVICE_ID_PATTERN, GROUP_CODE_PATTERN, DeviceInput

REQUIRED = ("device_id", "type_code", "lng", "lat")


def parse_devices(data: bytes, types: Mapping[str, DeviceType] | None = None) -> list[DeviceInput]:
    """Devices from a file; `interval_s` left empty takes the type's default interval."""
    known = device_types() if types is None else types
    table = read_table(data)
    require_columns(table, REQUIRED)
    devices: list[DeviceInput] = []
    first: dict[str, int] = {}
    for i, (row, line) in enumerate(zip(table.rows, table.lines, strict=True)):
        device = _device(row, f"rows[{i}]", line, known)
        if device.device_id in first:
            raise _at(line, f"device {device.device_id} appears twice (first at rows[{first[device.device_id]}])",
                      device.field("device_id"))
        first[device.device_id] = i
        devices.append(device)
    return devices


def _device(row: Mapping[str, str], where: str, line: int, types: Mapping[str, DeviceType]) -> DeviceInput:
    device_id = row["device_id"]
    if not re.fullmatch(DEVICE_ID_PATTERN, device_id):
        raise _at(line, f"{device_id!r} is not a device id (letters, digits, _ . : -; at most 64)",
                  f"{where}.device_id")
    kind = types.get(row["type_code"])
    if kind is None:
        raise _at(line, f"unknown device type {row['type_code']!r} (known: {', '.join(types)})",
                  f"{where}.type_code")
    lng, lat = _number(row, "lng", where, line, 180.0), _number(row, "lat", where, line, 90.0)
    interval = row.get("interval_s", "")
    if interval and not (interval.isascii() and interval.isdigit() and int(interval) > 0):
        raise _at(line, f"{interval!r} is not a positive number of seconds", f"{where}.interval_s")
    group = row.get("device_group", "")
    if group and not re.fullmatch(GROUP_CODE_PATTERN, group):
        raise _at(line, f"{group!r} is not a device group code (letters, digits, _ - .; at most 60)",
                  f"{where}.device_group")
    return DeviceInput(device_id=device_id, type_code=kind.code, model=row.get("model") or None, lng=lng, lat=lat,
                       department_code=row.get("department_code") or None,
                       interval_s=int(interval) if interval else kind.interval_s, origin=where,
                       group_code=group or None)


def _number(row: Mapping[str, str], name: str, where: str, line: int, bound: float) -> float:
    try:
        value = float(row[name])
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and -bound <= value <= bound):
        raise _at(line, f"{row[name]!r} is not a WGS-84 {name} (±{bound:g})", f"{where}.{name}")
    return value


def _at(line: int, detail: str, field: str) -> ValidationFailed:
    return ValidationFailed(f"line {line}: {detail}", field=field)
