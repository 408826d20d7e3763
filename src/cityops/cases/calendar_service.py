"""The working calendar as data: parsing calendar CSV files, reading and writing `calendar_days`, and the
per-process cached WorkingCalendar. Service functions are keyword-only and never commit."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import delete, extract, select
from sqlalchemy.orm import Session

from cityops.cases.calendar import SATURDAY, WorkingCalendar
from cityops.cases.calendar_models import CalendarDay, CalendarMeta
from cityops.core.errors import ValidationFailed
from cityops.core.tabular import decode_text
from cityops.core.versioned_cache import VersionedCache, per_process
from cityops.platform import Platform

META_ID: Final = 1
CACHE_KEY: Final = "cases.calendar"
REQUIRED_COLUMNS: Final = ("date", "kind", "name")
# What people type in a spreadsheet, mapped to the stored value.
KIND_WORDS: Final[dict[str, str]] = {"holiday": "holiday", "放假": "holiday", "休": "holiday", "假日": "holiday",
                                     "workday": "workday", "上班": "workday", "班": "workday"}
BOOLEAN_WORDS: Final[dict[str, bool]] = {"": False, "false": False, "0": False, "no": False, "否": False,
                                         "true": True, "1": True, "yes": True, "是": True, "provisional": True}
NAME_MAX: Final = 60


@dataclass(frozen=True)
class CalendarEntry:
    date: date
    kind: str  # holiday / workday
    name: str
    provisional: bool = False


@dataclass(frozen=True)
class SaveResult:
    created: int
    updated: int
    deleted: int
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


# --- parsing (pure) -------------------------------------------------------------------------------


def parse_csv(content: bytes) -> list[CalendarEntry]:
    """Rows of a calendar CSV (date,kind,name[,provisional]); the first bad cell raises ValidationFailed
    naming it as `rows[i].column` (i counts data rows from 0) with the file's line number in the message."""
    reader = csv.DictReader(io.StringIO(decode_text(content)))
    missing = [name for name in REQUIRED_COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(f"missing column(s): {', '.join(missing)}", field="columns")
    entries: list[CalendarEntry] = []
    first_row: dict[date, int] = {}
    for index, row in enumerate(reader):
        entry = _entry(index, row)
        if entry.date in first_row:
            raise _bad(index, "date", f"{entry.date} is listed twice (also rows[{first_row[entry.date]}])")
        first_row[entry.date] = index
        entries.append(entry)
    if not entries:
        raise ValidationFailed("the file has no rows", field="rows")
    return entries


def _entry(index: int, row: dict[str | None, str | None]) -> CalendarEntry:
    day = _date(index, _cell(row, "date"))
    kind = KIND_WORDS.get(_cell(row, "kind").lower())
    if kind is None:
        raise _bad(index, "kind", f"{_cell(row, 'kind')!r} is neither holiday nor workday")
    if kind == "workday" and day.weekday() < SATURDAY:
        raise _bad(index, "kind", f"{day} is a weekday already; a make-up workday falls on a weekend")
    name = _cell(row, "name")
    if not name or len(name) > NAME_MAX:
        raise _bad(index, "name", f"a name of 1 to {NAME_MAX} characters is needed")
    provisional = BOOLEAN_WORDS.get(_cell(row, "provisional").lower())
    if provisional is None:
        raise _bad(index, "provisional", f"{_cell(row, 'provisional')!r} is not true or false")
    return CalendarEntry(day, kind, name, provisional)


def _cell(row: dict[str | None, str | None], column: str) -> str:
    return (row.get(column) or "").strip()


def _date(index: int, text: str) -> date:
    try:
        year, month, day = (int(part) for part in text.replace("/", "-").split("-"))
        return date(year, month, day)
    except ValueError:
        raise _bad(index, "date", f"{text!r} is not a date like 2026-10-01") from None


def _bad(index: int, column: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"line {index + 2}: {detail}", field=f"rows[{index}].{column}")


# --- reading --------------------------------------------------------------------------------------


def current_version(*, session: Session) -> int:
    return session.scalar(select(CalendarMeta.version).where(CalendarMeta.id == META_ID)) or 0


def load(*, session: Session) -> WorkingCalendar:
    """The WorkingCalendar the `calendar_days` table describes (just weekends when it is empty)."""
    rows = session.execute(select(CalendarDay.date, CalendarDay.kind)).all()
    return WorkingCalendar(holidays={day for day, kind in rows if kind == "holiday"},
                           workdays={day for day, kind in rows if kind == "workday"})


def list_year(*, session: Session, year: int) -> Sequence[CalendarDay]:
    query = select(CalendarDay).where(CalendarDay.date.between(date(year, 1, 1), date(year, 12, 31)))
    return session.scalars(query.order_by(CalendarDay.date)).all()


def years(*, session: Session) -> set[int]:
    """Years that have at least one day in the table."""
    return {int(year) for year in session.scalars(select(extract("year", CalendarDay.date)).distinct())}


# --- writing --------------------------------------------------------------------------------------


def save_entries(*, session: Session, entries: Iterable[CalendarEntry], at: datetime, actor: str,
                 replace_years: bool = True) -> SaveResult:
    """Upsert the entries. With `replace_years`, days of the same years that the entries do not list are
    deleted, so an official list replaces a provisional one whole. Bumps the version when anything changed."""
    wanted = {entry.date: entry for entry in entries}
    existing = {row.date: row for row in _rows_of_years(session, {day.year for day in wanted})}
    created = updated = unchanged = 0
    for day, entry in wanted.items():
        row = existing.get(day)
        if row is None:
            session.add(CalendarDay(date=day, kind=entry.kind, name=entry.name, provisional=entry.provisional,
                                    updated_at=at, updated_by=actor))
            created += 1
        elif (row.kind, row.name, row.provisional) != (entry.kind, entry.name, entry.provisional):
            row.kind, row.name, row.provisional, row.updated_at, row.updated_by = (
                entry.kind, entry.name, entry.provisional, at, actor)
            updated += 1
        else:
            unchanged += 1
    stale = [day for day in existing if day not in wanted] if replace_years else []
    if stale:
        session.execute(delete(CalendarDay).where(CalendarDay.date.in_(stale)))
    result = SaveResult(created, updated, len(stale), unchanged)
    if result.changed:
        session.flush()
        bump_version(session=session)
    return result


def _rows_of_years(session: Session, wanted_years: set[int]) -> Sequence[CalendarDay]:
    if not wanted_years:
        return []
    query = select(CalendarDay).where(extract("year", CalendarDay.date).in_(sorted(wanted_years)))
    return session.scalars(query).all()


def bump_version(*, session: Session) -> int:
    meta = session.scalars(select(CalendarMeta).where(CalendarMeta.id == META_ID).with_for_update()).one_or_none()
    if meta is None:
        meta = CalendarMeta(id=META_ID, version=0)
        session.add(meta)
    meta.version += 1
    session.flush()
    return meta.version


# --- the cached calendar --------------------------------------------------------------------------


class CalendarCache(VersionedCache[WorkingCalendar]):
    """The WorkingCalendar for one process, rebuilt when calendar_meta.version moves; checked at most once a
    minute by default, since holidays change a few times a year, not per request."""

    def __init__(self, *, check_every: float = 60.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(version=lambda session: current_version(session=session),
                         build=lambda session: load(session=session), check_every=check_every, monotonic=monotonic)


def calendar_cache(platform: Platform) -> CalendarCache:
    return per_process(platform.caches, CACHE_KEY, CalendarCache, CalendarCache)


def working_calendar(platform: Platform) -> WorkingCalendar:
    """The process-wide working calendar, at most a minute behind changes made by other processes."""
    return calendar_cache(platform).get(platform.db)
