"""Business actions on the working calendar: import a calendar file, seed the shipped one.

The file is parsed before the transaction opens, so a bad file takes no lock and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Final

from cityops.audit import service as audit
from cityops.cases import calendar_service as service
from cityops.cases.calendar_service import CalendarEntry, SaveResult
from cityops.core.uow import UnitOfWork
from cityops.org.access import SYSTEM_ACTOR
from cityops.platform import Platform

CHANGED_SUBJECT: Final = "cityops.calendar.changed"
DEFAULT_FILE: Final = "calendar_cn.csv"


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    deleted: int
    unchanged: int
    years: tuple[int, ...]
    version: int


def import_calendar(platform: Platform, file: Path | bytes, *, actor: str, merge: bool = False,
                    file_name: str | None = None) -> ImportSummary:
    """Import a calendar CSV, all or nothing. Without `merge`, every year in the file is replaced whole."""
    content = file.read_bytes() if isinstance(file, Path) else file
    name = file_name or (file.name if isinstance(file, Path) else "upload")
    entries = service.parse_csv(content)
    return save(platform, entries, actor=actor, file_name=name, replace_years=not merge)


def load_default_calendar(platform: Platform, *, actor: str = SYSTEM_ACTOR) -> ImportSummary:
    """Seed the shipped China calendar into the years the table does not have yet.

    Running it again changes nothing, and it never overwrites a year an admin has imported."""
    entries = service.parse_csv(default_calendar_csv())
    with platform.db.session() as session:
        present = service.years(session=session)
    missing = [entry for entry in entries if entry.date.year not in present]
    return save(platform, missing, actor=actor, file_name=f"cityops:{DEFAULT_FILE}", replace_years=False)


def default_calendar_csv() -> bytes:
    return (files("cityops.cases") / "data" / DEFAULT_FILE).read_bytes()


def save(platform: Platform, entries: list[CalendarEntry], *, actor: str, file_name: str,
         replace_years: bool) -> ImportSummary:
    """One transaction: the days, one audit record and one `calendar.changed` message; nothing when nothing
    changed, so importing the same file twice leaves no trace."""
    years = tuple(sorted({entry.date.year for entry in entries}))
    with platform.uow() as uow:
        at = uow.clock.now()
        result = service.save_entries(session=uow.session, entries=entries, at=at, actor=actor,
                                      replace_years=replace_years)
        version = service.current_version(session=uow.session)
        if result.changed:
            _announce(uow, result, years=years, version=version, actor=actor, file_name=file_name)
            uow.commit()
    if result.changed:
        service.calendar_cache(platform).invalidate()
    return ImportSummary(result.created, result.updated, result.deleted, result.unchanged, years, version)


def _announce(uow: UnitOfWork, result: SaveResult, *, years: tuple[int, ...], version: int, actor: str,
              file_name: str) -> None:
    data = {"file": file_name, "years": list(years), "version": version, "created": result.created,
            "updated": result.updated, "deleted": result.deleted}
    audit.append(uow.session, at=uow.clock.now(), actor=actor, action="calendar.imported",
                 entity_type="calendar", entity_id=",".join(map(str, years)) or "-", data=data)
    uow.publish(CHANGED_SUBJECT, {"version": version, "years": list(years)}, key=f"calendar.changed:{version}")
