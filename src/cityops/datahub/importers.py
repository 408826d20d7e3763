"""Reading a dataset file (CSV in UTF-8 or GB18030, XLSX, JSON) and checking every row against the schema.

Pure apart from the bytes it is given. The file is read as a stream of (line, cells) so a million-row CSV is not
first turned into a million dictionaries of text; only rows that pass become typed rows. Headers may use the
field's name or its title (Chinese spreadsheets say 身份证号, the schema says id_number).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from openpyxl import load_workbook

from cityops.core.errors import ValidationFailed
from cityops.core.tabular import XLSX_MAGIC, cell_text, decode_text, write_xlsx
from cityops.datahub.schema import CheckContext, RowChecker, RowError, TableSchema, missing_columns, row_key

MAX_ERRORS_KEPT: Final = 1_000  # a file with 200,000 bad rows needs its first thousand shown, not all
PROGRESS_EVERY: Final = 5_000
Progress = Callable[[int, int], None]
Cells = list[str]


@dataclass
class CheckedFile:
    columns: tuple[str, ...]
    total: int = 0
    rows: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0


def sniff_format(content: bytes, name: str = "") -> str:
    if content.startswith(XLSX_MAGIC):
        return "xlsx"
    head = content.lstrip()[:1]
    if name.lower().endswith(".json") or head in (b"[", b"{"):
        return "json"
    return "csv"


def read_records(content: bytes, name: str = "") -> tuple[list[str], Iterator[tuple[int, Cells]], int]:
    """(header, stream of (line, cells), number of data rows), whatever the format."""
    fmt = sniff_format(content, name)
    if fmt == "xlsx":
        return _xlsx(content)
    if fmt == "json":
        return _json(content)
    return _csv(content)


def _csv(content: bytes) -> tuple[list[str], Iterator[tuple[int, Cells]], int]:
    text = decode_text(content)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise ValidationFailed("the file is empty", field="file")
    total = max(text.count("\n") - 1, 0) + (0 if text.endswith("\n") else 1)

    def rows() -> Iterator[tuple[int, Cells]]:
        for cells in reader:
            if any(c.strip() for c in cells):
                yield reader.line_num, cells
    return header, rows(), total


def _xlsx(content: bytes) -> tuple[list[str], Iterator[tuple[int, Cells]], int]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValidationFailed(f"not a readable XLSX workbook: {exc}", field="file") from exc
    sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    first = next(values, None)
    if not first:
        book.close()
        raise ValidationFailed("the first sheet is empty", field="file")
    total = max((sheet.max_row or 1) - 1, 0)

    def rows() -> Iterator[tuple[int, Cells]]:
        try:
            for number, row in enumerate(values, start=2):
                cells = [cell_text(v) for v in row]
                if any(cells):
                    yield number, cells
        finally:
            book.close()
    return [cell_text(c) for c in first], rows(), total


def _json(content: bytes) -> tuple[list[str], Iterator[tuple[int, Cells]], int]:
    try:
        data = json.loads(decode_text(content))
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"not valid JSON: {exc.msg} at line {exc.lineno}", field="file") from exc
    items = data.get("rows", data.get("data")) if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise ValidationFailed("JSON must be a list of objects, or {\"rows\": [...]}", field="file")
    header: list[str] = []
    for item in items:
        header.extend(k for k in item if k not in header)

    def rows() -> Iterator[tuple[int, Cells]]:
        for number, item in enumerate(items, start=1):
            yield number, [_json_text(item.get(k)) for k in header]
    return header, rows(), len(items)


def _json_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return cell_text(value)


def column_map(schema: TableSchema, header: Sequence[str]) -> list[tuple[int, str]]:
    """(column position, field name) for each header cell, matched by name or title, case and space blind."""
    by_label: dict[str, str] = {}
    for spec in schema.fields:
        by_label[spec.name.strip().lower()] = spec.name
        if spec.title:
            by_label[spec.title.strip().lower()] = spec.name
    mapping: list[tuple[int, str]] = []
    seen: dict[str, str] = {}
    for position, raw in enumerate(header):
        label = raw.strip().lstrip("\ufeff").lower()
        if not label:
            continue
        name = by_label.get(label)
        if name is None:
            raise ValidationFailed(f"column {raw!r} is not a field of this dataset", field="header",
                                   column=raw)
        if name in seen:
            raise ValidationFailed(f"columns {seen[name]!r} and {raw!r} both mean field {name}", field="header")
        seen[name] = raw
        mapping.append((position, name))
    missing = missing_columns(schema, [n for _, n in mapping])
    if missing:
        raise ValidationFailed(f"missing column for required field {missing[0]!r}", field="header",
                               column=missing[0])
    return mapping


def check_file(content: bytes, schema: TableSchema, *, name: str = "", context: CheckContext | None = None,
               progress: Progress | None = None) -> CheckedFile:
    """Every row checked; the typed rows are kept only while the file is still clean (all or nothing)."""
    header, records, total = read_records(content, name)
    mapping = column_map(schema, header)
    checker = RowChecker(schema, context)
    result = CheckedFile(columns=tuple(n for _, n in mapping), total=total)
    seen = 0
    for line, cells in records:
        seen += 1
        row, errors = checker.check({n: cells[i] if i < len(cells) else "" for i, n in mapping}, line)
        if errors:
            result.error_count += len(errors)
            room = MAX_ERRORS_KEPT - len(result.errors)
            if room > 0:
                result.errors.extend(errors[:room])
            result.rows = []  # nothing of a bad file will be written: stop holding its rows
        elif result.ok:
            result.rows.append((row_key(schema, row), row))
        if progress is not None and seen % PROGRESS_EVERY == 0:
            progress(seen, max(total, seen))
    result.total = seen
    if progress is not None:
        progress(seen, seen)
    if seen == 0:
        raise ValidationFailed("the file has no data rows", field="file")
    return result


ERROR_COLUMNS: Final = ("行号 line", "字段 field", "规则 rule", "说明", "message", "值 value")


def error_report_xlsx(errors: Sequence[Mapping[str, Any]], *, title: str = "导入错误") -> bytes:
    """The errors of a failed import as a workbook people can open, sort and fix their file from."""
    rows = ([e.get("line"), e.get("field"), e.get("rule"), e.get("message"), e.get("message_en"), e.get("value")]
            for e in errors)
    return write_xlsx(ERROR_COLUMNS, rows, title=title)
