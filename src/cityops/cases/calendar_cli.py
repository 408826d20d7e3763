"""`cityops calendar …`: import the official holiday list, show a year."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

import typer

from cityops.cases import calendar_flows as flows
from cityops.cases import calendar_service as service
from cityops.cases.calendar import WorkingCalendar
from cityops.cases.calendar_models import CalendarDay
from cityops.cli.common import (
    DataDirOption,
    default_actor,
    handles_domain_errors,
    platform_for,
    print_json,
)
from cityops.core.clock import CHINA_TZ

app = typer.Typer(no_args_is_help=True)

WEEKDAYS = "一二三四五六日"



@app.command("import")
@handles_domain_errors
def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: date,kind,name[,provisional]"),
    merge: bool = typer.Option(False, "--merge", help="只增改所列日期 / change only the listed days, keep the rest"),
    actor: str | None = typer.Option(None, "--actor", help="审计记录中的操作人 / actor for the audit record"),
    data_dir: Path | None = DataDirOption,
) -> None:
    """导入节假日与调休上班日。Import holidays and make-up working days; each year in the file is replaced whole."""
    with platform_for(data_dir) as platform:
        summary = flows.import_calendar(platform, file, actor=actor or default_actor(), merge=merge)
    print_json(asdict(summary))


@app.command("show")
@handles_domain_errors
def show(
    year: int | None = typer.Option(None, "--year", help="年份 / year (default: this year)"),
    data_dir: Path | None = DataDirOption,
) -> None:
    """显示一年的节假日安排。Print a year's holidays and make-up working days as JSON."""
    with platform_for(data_dir) as platform, platform.db.session() as session:
        year = year or platform.clock.now().astimezone(CHINA_TZ).year
        days = service.list_year(session=session, year=year)
        calendar = service.load(session=session)
        print_json(year_summary(year, days, calendar))


def year_summary(year: int, rows: Sequence[CalendarDay], calendar: WorkingCalendar) -> dict[str, object]:
    listed = [{"date": row.date.isoformat(), "weekday": "周" + WEEKDAYS[row.date.weekday()], "kind": row.kind,
               "name": row.name, "provisional": row.provisional} for row in rows]
    return {"year": year, "working_days": _working_days(year, calendar),
            "holidays": sum(row.kind == "holiday" for row in rows),
            "workdays": sum(row.kind == "workday" for row in rows),
            "provisional": any(row.provisional for row in rows), "days": listed}


def _working_days(year: int, calendar: WorkingCalendar) -> int:
    first, last = date(year, 1, 1), date(year, 12, 31)
    return sum(calendar.is_working_day(first + timedelta(days=n)) for n in range((last - first).days + 1))
