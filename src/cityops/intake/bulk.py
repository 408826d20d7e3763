"""Bulk intake: the rows of a CSV/XLSX file of messages become reports, every row checked before any is stored.

The same ReportIn model as live intake checks each row, so a file cannot bring in what the API would refuse.
Rows are returned in time order because fusion and deadlines must see the messages as they happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from cityops.core.errors import ValidationFailed
from cityops.core.tabular import Table, parse_datetime
from cityops.intake.channels import Channel
from cityops.intake.schemas import ReportIn

# ReportIn's own field names → the option a user sets, so an error names what they typed
_FIELD_OPTION = {"channel_report_id": "id", "text": "text", "lng": "lng", "lat": "lat", "address": "address",
                 "category_code": "category"}


@dataclass(frozen=True)
class BulkColumns:
    """Which column holds what; several text columns (subject, detail) are joined in the order given."""

    id: str
    texts: tuple[str, ...]
    time: str
    address: str | None = None
    lng: str | None = None
    lat: str | None = None
    category: str | None = None

    def named(self) -> dict[str, str]:
        found = {"id": self.id, "time": self.time, **{f"text{i}": c for i, c in enumerate(self.texts)}}
        optional = {"address": self.address, "lng": self.lng, "lat": self.lat, "category": self.category}
        return {**found, **{k: v for k, v in optional.items() if v}}


@dataclass(frozen=True)
class ParsedFile:
    reports: list[ReportIn]  # oldest first
    duplicate_rows: int  # rows repeating an id seen earlier in the file (the first one is kept)


def parse(table: Table, columns: BulkColumns, *, channel: Channel, zone: ZoneInfo,
          crs: str = "wgs84") -> ParsedFile:
    if not columns.texts:
        raise ValidationFailed("at least one text column / 至少指定一个内容列", field="--text-column")
    if (columns.lng is None) != (columns.lat is None):
        raise ValidationFailed("--lng-column and --lat-column come together / 经纬度列需同时指定", field="--lat-column")
    for column in columns.named().values():
        if column.lower() not in table.columns:
            raise ValidationFailed(f"the file has no column {column!r} / 文件中没有列 {column!r}", field="header")
    reports: dict[str, tuple[datetime, int, ReportIn]] = {}
    duplicates = 0
    for line, raw in zip(table.lines, table.rows, strict=True):
        report = _row(raw, line, columns, channel, zone, crs)
        if report.channel_report_id in reports:
            duplicates += 1
            continue
        assert report.reported_at is not None
        reports[report.channel_report_id] = (report.reported_at, line, report)
    ordered = sorted(reports.values(), key=lambda item: (item[0], item[1]))
    return ParsedFile([report for _, _, report in ordered], duplicates)


def _row(raw: dict[str, str], line: int, columns: BulkColumns, channel: Channel, zone: ZoneInfo,
         crs: str) -> ReportIn:
    def cell(column: str | None) -> str:
        return raw.get(column.lower(), "").strip() if column else ""

    def where(column: str) -> str:
        return f"rows[{line}].{column}"

    if not cell(columns.time):
        raise ValidationFailed("empty / 不能为空", field=where(columns.time))
    at = parse_datetime(cell(columns.time), zone, where(columns.time))
    text = "\n".join(part for part in (cell(c) for c in columns.texts) if part)
    values: dict[str, object] = {
        "channel": channel, "channel_report_id": cell(columns.id), "text": text, "reported_at": at,
        "address": cell(columns.address) or None, "category_code": cell(columns.category) or None, "crs": crs,
        "lng": _number(cell(columns.lng), where(columns.lng)) if columns.lng and cell(columns.lng) else None,
        "lat": _number(cell(columns.lat), where(columns.lat)) if columns.lat and cell(columns.lat) else None,
    }
    try:
        return ReportIn.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        option = _FIELD_OPTION.get(name)
        column = getattr(columns, option) if option and option != "text" else None
        if option == "text":
            column = "+".join(columns.texts)
        raise ValidationFailed(error["msg"], field=where(column or name or "row")) from None


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise ValidationFailed(f"not a number: {text!r} / 不是数字", field=where) from exc
