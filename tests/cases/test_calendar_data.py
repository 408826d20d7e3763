"""The calendar as data: CSV parsing, import (all or nothing), the shipped seed, the cached calendar, the CLI.

Database tests run on SQLite and PostgreSQL through the `platform` fixture."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cityops.audit.models import AuditRecord
from cityops.cases import calendar_flows as flows
from cityops.cases import calendar_service as service
from cityops.cases.calendar_cli import app
from cityops.cases.calendar_models import CalendarDay
from cityops.core.errors import ValidationFailed
from cityops.core.models import OutboxMessage
from cityops.core.settings import reset_settings_cache
from cityops.platform import Platform

OFFICIAL_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-02-04,holiday,春节
2027-02-05,holiday,春节
2027-02-06,holiday,春节
2027-02-07,workday,调休上班（春节）
"""


def csv_bytes(*rows: str, header: str = "date,kind,name,provisional") -> bytes:
    return "\n".join([header, *rows]).encode("utf-8")


def count(platform: Platform, model: type) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# --- parsing ----------------------------------------------------------------------------------------


def test_the_shipped_file_parses_with_2026_official_and_2027_provisional():
    entries = service.parse_csv(flows.default_calendar_csv())
    by_year = {year: [e for e in entries if e.date.year == year] for year in (2026, 2027)}
    assert not any(e.provisional for e in by_year[2026])
    assert all(e.provisional for e in by_year[2027])
    workdays_2026 = sorted(e.date for e in by_year[2026] if e.kind == "workday")
    assert workdays_2026 == [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
                             date(2026, 9, 20), date(2026, 10, 10)]
    assert sum(e.kind == "holiday" for e in by_year[2026]) == 33


@pytest.mark.parametrize(("rows", "field", "words"), [
    (["2026-13-01,holiday,元旦,false"], "rows[0].date", "not a date"),
    (["2026-10-01,holiday,国庆节,false", "2026-10-02,party,国庆节,false"], "rows[1].kind", "line 3"),
    (["2026-10-01,holiday,,false"], "rows[0].name", "name"),
    (["2026-10-01,holiday,国庆节,maybe"], "rows[0].provisional", "true or false"),
    (["2026-10-09,workday,调休上班,false"], "rows[0].kind", "weekday"),  # a Friday cannot be a make-up day
    (["2026-10-01,holiday,国庆节,false", "2026-10-01,holiday,国庆节,false"], "rows[1].date", "twice"),
])
def test_a_bad_cell_is_named_by_row_and_field(rows: list[str], field: str, words: str):
    with pytest.raises(ValidationFailed) as caught:
        service.parse_csv(csv_bytes(*rows))
    assert caught.value.field == field
    assert words in str(caught.value.detail)


def test_missing_columns_and_empty_files_are_refused():
    with pytest.raises(ValidationFailed) as caught:
        service.parse_csv(b"day,name\n2026-10-01,x\n")
    assert caught.value.field == "columns"
    with pytest.raises(ValidationFailed) as caught:
        service.parse_csv(b"date,kind,name\n")
    assert caught.value.field == "rows"


def test_spreadsheet_habits_are_accepted():
    content = "date,kind,name,provisional\n2026/10/1,放假,国庆节,否\n2026/10/10,上班,调休上班,\n"
    entries = service.parse_csv(content.encode("gb18030"))
    assert [(e.date, e.kind, e.provisional) for e in entries] == [
        (date(2026, 10, 1), "holiday", False), (date(2026, 10, 10), "workday", False)]


# --- importing and seeding --------------------------------------------------------------------------


def test_seeding_the_default_calendar_twice_creates_nothing_twice(platform: Platform):
    first = flows.load_default_calendar(platform)
    assert first.created == 52 and first.years == (2026, 2027)
    audit_records, messages = count(platform, AuditRecord), count(platform, OutboxMessage)
    second = flows.load_default_calendar(platform)
    assert (second.created, second.updated, second.deleted) == (0, 0, 0)
    assert (count(platform, CalendarDay), count(platform, AuditRecord)) == (52, audit_records)
    assert count(platform, OutboxMessage) == messages


def test_importing_the_official_list_replaces_the_provisional_year_whole(platform: Platform):
    flows.load_default_calendar(platform)
    summary = flows.import_calendar(platform, OFFICIAL_2027.encode(), actor="staff:1:admin")
    assert summary.years == (2027,) and summary.deleted > 0
    with platform.db.session() as session:
        days = service.list_year(session=session, year=2027)
        assert [d.date for d in days] == [date(2027, 1, 1), date(2027, 2, 4), date(2027, 2, 5), date(2027, 2, 6),
                                          date(2027, 2, 7)]
        assert not any(d.provisional for d in days) and days[0].updated_by == "staff:1:admin"
        assert len(service.list_year(session=session, year=2026)) == 39  # other years untouched
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "calendar.imported")
                                 .order_by(AuditRecord.seq.desc())).first()
        assert record is not None and record.data["years"] == [2027]
    # The seed never overwrites what an admin imported.
    assert flows.load_default_calendar(platform).created == 0


def test_merge_changes_only_the_listed_days(platform: Platform):
    flows.load_default_calendar(platform)
    flows.import_calendar(platform, csv_bytes("2026-03-02,holiday,地方节日,false"), actor="t", merge=True)
    with platform.db.session() as session:
        assert len(service.list_year(session=session, year=2026)) == 40
        assert not service.load(session=session).is_working_day(date(2026, 3, 2))


def test_a_file_with_one_bad_row_changes_nothing(platform: Platform):
    flows.load_default_calendar(platform)
    bad = csv_bytes("2026-03-02,holiday,地方节日,false", "2026-03-03,holiday,地方节日,false",
                    "2026-03-04,holiday,地方节日,false", "2026-03-05,vacation,地方节日,false")
    with pytest.raises(ValidationFailed) as caught:
        flows.import_calendar(platform, bad, actor="t")
    assert caught.value.field == "rows[3].kind"
    assert count(platform, CalendarDay) == 52


def test_the_same_import_twice_leaves_no_second_trace(platform: Platform):
    flows.import_calendar(platform, OFFICIAL_2027.encode(), actor="t")
    records = count(platform, AuditRecord)
    again = flows.import_calendar(platform, OFFICIAL_2027.encode(), actor="t")
    assert (again.created, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 5)
    assert count(platform, AuditRecord) == records


# --- the cached calendar ----------------------------------------------------------------------------


def test_the_calendar_is_built_once_and_rebuilt_after_an_import_in_this_process(platform: Platform):
    assert service.working_calendar(platform).is_working_day(date(2026, 10, 1))  # empty table: weekdays work
    flows.load_default_calendar(platform)
    calendar = service.working_calendar(platform)
    assert not calendar.is_working_day(date(2026, 10, 1))
    assert service.working_calendar(platform) is calendar
    assert service.calendar_cache(platform).builds == 2


def test_another_process_sees_a_change_after_its_next_check(platform: Platform):
    ticks = [0.0]
    cache = service.CalendarCache(check_every=60, monotonic=lambda: ticks[0])
    assert cache.get(platform.db).is_working_day(date(2026, 10, 1))
    flows.load_default_calendar(platform)  # invalidates this platform's cache, not the other process's
    ticks[0] = 59
    assert cache.get(platform.db).is_working_day(date(2026, 10, 1))  # still within the minute
    ticks[0] = 61
    assert not cache.get(platform.db).is_working_day(date(2026, 10, 1))
    assert cache.builds == 2


# --- the CLI ----------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def data_dir(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("CITYOPS_DATABASE_URL", "CITYOPS_DATA_DIR", "CITYOPS_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    reset_settings_cache()
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(sqlite_template, folder / "cityops.db")
    yield folder
    reset_settings_cache()


def test_cli_imports_a_file_and_shows_the_year(data_dir: Path, tmp_path: Path):
    source = tmp_path / "calendar.csv"
    source.write_bytes(flows.default_calendar_csv())
    imported = runner.invoke(app, ["import", str(source), "--data-dir", str(data_dir), "--actor", "cli:test"])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["created"] == 52
    shown = runner.invoke(app, ["show", "--year", "2026", "--data-dir", str(data_dir)])
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert (body["holidays"], body["workdays"], body["provisional"]) == (33, 6, False)
    assert body["working_days"] == 365 - 104 - 19 + 6  # weekends, holidays on weekdays, make-up days
    assert body["days"][3] == {"date": "2026-01-04", "weekday": "周日", "kind": "workday",
                               "name": "调休上班（元旦）", "provisional": False}


def test_cli_names_the_bad_row_and_exits_non_zero(data_dir: Path, tmp_path: Path):
    source = tmp_path / "bad.csv"
    source.write_bytes(csv_bytes("2026-10-01,holiday,国庆节,false", "2026-10-32,holiday,国庆节,false"))
    result = runner.invoke(app, ["import", str(source), "--data-dir", str(data_dir)])
    assert result.exit_code == 2
    assert "rows[1].date" in result.stderr and "validation.invalid" in result.stderr
