"""Importing a city's case history from its old system (CSV/XLSX) with a column and value mapping.

All-or-nothing: every row is checked before anything is written, and errors name the row and the column.
Imported cases get the same columns live cases have (imported=True), so every KPI is computed over them
exactly as over live cases. Re-importing the same file changes nothing (the old system's id is unique).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import insert, select

from cityops.audit import service as audit
from cityops.cases.cells import cell_of
from cityops.cases.models import Case
from cityops.cases.states import State
from cityops.catalog import service as catalog
from cityops.core.errors import ValidationFailed
from cityops.core.tabular import Table, parse_datetime, read_table
from cityops.org import service as org
from cityops.org.access import SYSTEM_ACTOR
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.regions.errors import PointOutsideRegions

FIELDS = (
    "external_id",
    "created_at",
    "due_at",
    "closed_at",
    "category",
    "department",
    "status",
    "lng",
    "lat",
    "address",
    "text",
    "title",
    "region_code",
)
REQUIRED = ("external_id", "created_at", "status")
CHUNK = 1000
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
Progress = Callable[[int, int], None]


class Mapping(BaseModel):
    """Which column holds what, and what the old system's values mean.

    {"columns": {"external_id": "工单编号", "created_at": "受理时间", "status": "状态", …},
     "values": {"status": {"已办结": "closed", "办理中": "in_progress"}},
     "timezone": "Asia/Shanghai"}
    """

    columns: dict[str, str]
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    timezone: str = "Asia/Shanghai"

    @classmethod
    def load(cls, text: str) -> Mapping:
        try:
            mapping = cls.model_validate(json.loads(text))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ValidationFailed(f"not a valid mapping file: {exc}", field="mapping") from exc
        unknown = sorted(set(mapping.columns) - set(FIELDS))
        if unknown:
            raise ValidationFailed(f"unknown field {unknown[0]!r}; known: {', '.join(FIELDS)}", field="mapping.columns")
        missing = [f for f in REQUIRED if f not in mapping.columns]
        if missing:
            raise ValidationFailed(f"the mapping must name a column for {missing[0]!r}", field="mapping.columns")
        return mapping


@dataclass(frozen=True)
class HistoryRow:
    external_id: str
    created_at: datetime
    status: State
    due_at: datetime | None = None
    closed_at: datetime | None = None
    category: str | None = None
    department: str | None = None
    lng: float | None = None
    lat: float | None = None
    address: str | None = None
    text: str = ""
    title: str = ""
    region_code: str | None = None


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    already_present: int = 0
    duplicates_in_file: int = 0
    new_categories: list[str] = field(default_factory=list)
    new_departments: list[str] = field(default_factory=list)


def parse(table: Table, mapping: Mapping) -> tuple[list[HistoryRow], int]:
    """Every row checked; returns the rows (first of each external id kept) and how many duplicates there were."""
    missing = [c for c in mapping.columns.values() if c.lower() not in table.columns]
    if missing:
        raise ValidationFailed(f"the file has no column {missing[0]!r}", field="header")
    zone = ZoneInfo(mapping.timezone)
    rows: dict[str, HistoryRow] = {}
    duplicates = 0
    for line, raw in zip(table.lines, table.rows, strict=True):
        row = _row(raw, mapping, zone, line)
        if row.external_id in rows:
            duplicates += 1
            continue
        rows[row.external_id] = row
    return list(rows.values()), duplicates


def _row(raw: dict[str, str], mapping: Mapping, zone: ZoneInfo, line: int) -> HistoryRow:
    def cell(name: str) -> str:
        column = mapping.columns.get(name)
        return raw.get(column.lower(), "").strip() if column else ""

    def where(name: str) -> str:
        return f"rows[{line}].{mapping.columns.get(name, name)}"

    values: dict[str, Any] = {}
    for name in ("external_id", "created_at", "status"):
        if not cell(name):
            raise ValidationFailed("empty / 不能为空", field=where(name))
    values["external_id"] = cell("external_id")
    for name in ("created_at", "due_at", "closed_at"):
        values[name] = parse_datetime(cell(name), zone, where(name)) if cell(name) else None
    values["status"] = _status(cell("status"), mapping, where("status"))
    for name in ("lng", "lat"):
        values[name] = _number(cell(name), where(name)) if cell(name) else None
    for name in ("category", "department", "address", "region_code"):
        values[name] = cell(name) or None
    values["text"] = cell("text")
    values["title"] = cell("title") or values["text"][:60] or values["external_id"]
    if values["status"] in (State.CLOSED, State.FOLLOWED_UP) and values["closed_at"] is None:
        raise ValidationFailed("a closed case needs its closing time / 已办结需有办结时间", field=where("closed_at"))
    return HistoryRow(**values)


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise ValidationFailed(f"not a number: {text!r}", field=where) from exc


def _status(text: str, mapping: Mapping, where: str) -> State:
    value = mapping.values.get("status", {}).get(text, text)
    try:
        return State(value)
    except ValueError as exc:
        known = ", ".join(sorted(mapping.values.get("status", {})) or [s.value for s in State])
        raise ValidationFailed(f"unknown status {text!r}; map it in values.status ({known})", field=where) from exc


def import_history(
    platform: Platform, *, content: bytes, mapping: Mapping, actor: str = SYSTEM_ACTOR, progress: Progress | None = None
) -> ImportSummary:
    rows, duplicates = parse(read_table(content), mapping)
    summary = ImportSummary(rows=len(rows) + duplicates, duplicates_in_file=duplicates)
    with platform.uow() as uow:
        session, now = uow.session, uow.clock.now()
        present = _present(session, [r.external_id for r in rows])
        fresh = [r for r in rows if r.external_id not in present]
        summary.already_present = len(rows) - len(fresh)
        region_of = _region_resolver(platform)
        departments = _departments(session, fresh, region_of(None, None, None), now, summary)
        categories = _categories(session, fresh, now, actor, summary)
        done = 0
        for chunk in _chunks(fresh, CHUNK):
            session.execute(insert(Case), [_case_values(r, departments, categories, region_of, now) for r in chunk])
            done += len(chunk)
            if progress:
                progress(done, len(fresh))
        summary.imported = len(fresh)
        if fresh:
            audit.append(
                session,
                at=now,
                actor=actor,
                action="cases.history_imported",
                entity_type="case",
                entity_id="history",
                region_code=region_of(None, None, None),
                data={
                    "imported": summary.imported,
                    "duplicates_in_file": duplicates,
                    "new_categories": summary.new_categories,
                    "new_departments": summary.new_departments,
                },
            )
        uow.commit()
    return summary


def _present(session: Any, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(ids, CHUNK):
        found.update(session.scalars(select(Case.external_id).where(Case.external_id.in_(chunk))))
    return found


def _departments(
    session: Any, rows: Sequence[HistoryRow], root: str, now: datetime, summary: ImportSummary
) -> dict[str, int]:
    """Department names in the file → ids; unknown ones are created as imported departments of the city,
    in the import's own transaction."""
    ids: dict[str, int] = {}
    for name in sorted({r.department for r in rows if r.department}):
        found = org.get_department_by_name(session=session, name=name) or org.get_department_by_code(
            session=session, code=name
        )
        if found is None:
            code = f"imported-{now:%Y%m%d%H%M%S}-{len(summary.new_departments) + 1:04d}"
            found = org.add_department(session=session, code=code, name=name, region_code=root, at=now)
            summary.new_departments.append(name)
        ids[name] = found.id
    return ids


def _categories(
    session: Any, rows: Sequence[HistoryRow], now: datetime, actor: str, summary: ImportSummary
) -> dict[str, str]:
    """What the old system wrote (a code or a name) → our category code; unknown ones are created as imported."""
    known = catalog.all_categories(session=session)
    by_code = {c.code: c.code for c in known}
    by_name = {c.name: c.code for c in known}
    codes: dict[str, str] = {}
    for value in sorted({r.category for r in rows if r.category}):
        code = by_code.get(value) or by_name.get(value)
        if code is None:
            code = value if _CODE.match(value) else "imp-" + hashlib.sha1(value.encode()).hexdigest()[:10]
            if catalog.ensure_imported_category(session=session, code=code, name=value, at=now, actor=actor):
                summary.new_categories.append(value)
        codes[value] = code
    return codes


def _region_resolver(platform: Platform) -> Callable[[str | None, float | None, float | None], str]:
    locator = regions.locator(platform)
    with platform.db.session() as session:
        city = regions.list_regions(session=session, level="city", limit=1)
    root = city[0].code if city else ""

    def region_of(code: str | None, lng: float | None, lat: float | None) -> str:
        if code:
            return code
        if lng is not None and lat is not None:
            try:
                return locator.locate(platform.db, lng, lat)[-1].code
            except PointOutsideRegions:
                return root
        return root

    return region_of


def _case_values(
    row: HistoryRow,
    departments: dict[str, int],
    categories: dict[str, str],
    region_of: Callable[[str | None, float | None, float | None], str],
    now: datetime,
) -> dict[str, Any]:
    closed = row.closed_at if row.status in (State.CLOSED, State.FOLLOWED_UP) else None
    dispatched = row.status not in (State.RECEIVED, State.REGISTERED, State.REJECTED)
    return {
        "number": f"LS{row.external_id}"[:32],
        "title": row.title[:200],
        "description": row.text,
        "category_code": categories.get(row.category or ""),
        "severity": 2,
        "region_code": region_of(row.region_code, row.lng, row.lat),
        "lng": row.lng,
        "lat": row.lat,
        "fusion_cell": cell_of(row.lng, row.lat) if row.lng is not None and row.lat is not None else None,
        "address": row.address,
        "channel": "history",
        "state": row.status.value,
        "suspended": False,
        "department_id": departments.get(row.department or ""),
        "escalation_level": 0,
        "reopened_count": 0,
        "rework_count": 0,
        "return_count": 0,
        "report_count": 0,
        "stage_due_at": None if closed else row.due_at,
        "handle_due_at": row.due_at,
        "due_at": row.due_at,
        "received_at": row.created_at,
        "last_report_at": row.created_at,
        "registered_at": None if row.status is State.RECEIVED else row.created_at,
        "first_dispatched_at": row.created_at if dispatched else None,
        "dispatched_at": row.created_at if dispatched else None,
        "handled_at": closed,
        "verified_at": closed,
        "closed_at": closed,
        "imported": True,
        "external_id": row.external_id,
        "updated_at": now,
        "version": 1,
    }


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
