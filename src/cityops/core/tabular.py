"""Tables in and out: CSV (UTF-8, UTF-8 with BOM, GB18030) and XLSX, as lists of {column: text}. Pure.

Spreadsheets are what people edit catalogues in, so cells come back as trimmed text whatever Excel made of
them (3 → "3", 3.5 → "3.5"); the importers decide what each column means.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook

from cityops.core.errors import ValidationFailed

XLSX_MAGIC: Final = b"PK\x03\x04"  # XLSX is a zip archive
# How Chinese spreadsheets write a time: 2019/2/28 11:25:05, 2019-02-28 11:25, 2019年2月28日 11时25分, 2019.2.28
LOCAL_TIME: Final = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.\d+)?)?\s*[分秒]?)?\s*")


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[dict[str, str]]
    lines: list[int]  # the line (CSV) or sheet row (XLSX) each data row came from, for messages


def decode_text(data: bytes) -> str:
    """UTF-8 with or without BOM; files saved by Chinese Excel/WPS are often GB18030 (a superset of GBK)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ValidationFailed("not UTF-8 or GB18030 text", field="file") from exc


def read_table(data: bytes) -> Table:
    """A CSV or XLSX file (told apart by content, so an upload's name does not matter)."""
    table = _read_xlsx(data) if data.startswith(XLSX_MAGIC) else _read_csv(data)
    if not table.rows:
        raise ValidationFailed("the file has no data rows", field="file")
    return table


def _read_csv(data: bytes) -> Table:
    reader = csv.reader(io.StringIO(decode_text(data), newline=""))
    header = next(reader, None)
    if not header:
        raise ValidationFailed("the file is empty", field="file")
    columns = _columns(header)
    rows, lines = [], []
    for values in reader:
        if any(v.strip() for v in values):
            rows.append(_row(columns, values))
            lines.append(reader.line_num)
    return Table(columns, rows, lines)


def _read_xlsx(data: bytes) -> Table:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValidationFailed(f"not a readable XLSX workbook: {exc}", field="file") from exc
    try:
        sheet = book.worksheets[0]
        cells = sheet.iter_rows(values_only=True)
        header = next(cells, None)
        if not header:
            raise ValidationFailed("the first sheet is empty", field="file")
        columns = _columns([cell_text(c) for c in header])
        rows, lines = [], []
        for number, values in enumerate(cells, start=2):
            texts = [cell_text(v) for v in values]
            if any(texts):
                rows.append(_row(columns, texts))
                lines.append(number)
        return Table(columns, rows, lines)
    finally:
        book.close()


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _columns(header: Sequence[str]) -> tuple[str, ...]:
    columns = tuple(h.strip().lstrip("\ufeff").lower() for h in header)
    duplicates = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicates:
        raise ValidationFailed(f"column {duplicates[0]!r} appears twice", field="header")
    return columns


def _row(columns: tuple[str, ...], values: Sequence[str]) -> dict[str, str]:
    return {column: (values[i].strip() if i < len(values) else "") for i, column in enumerate(columns) if column}


def require_columns(table: Table, required: Iterable[str]) -> None:
    missing = [c for c in required if c not in table.columns]
    if missing:
        have = ", ".join(c for c in table.columns if c)
        raise ValidationFailed(f"missing column {missing[0]!r} (have: {have})", field="header")


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM: without it Excel on Chinese Windows reads UTF-8 as GBK and garbles every name."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(list(columns))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def parse_datetime(text: str, zone: ZoneInfo, field: str) -> datetime:
    """A cell's date and time; a time without a zone is local time in `zone`."""
    match = LOCAL_TIME.fullmatch(text.strip())
    try:
        if match:
            year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
            value = datetime(year, month, day, hour, minute, second)
        else:
            value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValidationFailed(f"not a date and time: {text!r} (e.g. 2025-03-01 09:30)", field=field) from exc
    return value.replace(tzinfo=zone) if value.tzinfo is None else value
