"""Importing a real-world-shaped case history: all or nothing, re-importable, unknown categories and
departments created and listed, and KPIs over it equal a direct computation over the file."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from cityops.cases import export as case_export
from cityops.cases import history
from cityops.cases.facts import case_facts
from cityops.cases.models import Case
from cityops.cli.main import app
from cityops.core import migrate
from cityops.core.db import create_db_engine
from cityops.core.errors import ValidationFailed
from cityops.insight.kpis import compute_kpis
from cityops.platform import Platform
from tests.casefixture import MANHOLE, build_case_city
from tests.cityfixture import REGIONS

ZONE = ZoneInfo("Asia/Shanghai")
MAPPING = {
    "columns": {
        "external_id": "工单编号",
        "created_at": "受理时间",
        "due_at": "办理时限",
        "closed_at": "办结时间",
        "category": "问题分类",
        "department": "承办单位",
        "status": "办理状态",
        "lng": "经度",
        "lat": "纬度",
        "text": "诉求内容",
    },
    "values": {
        "status": {
            "已办结": "closed",
            "办理中": "in_progress",
            "待受理": "received",
            "不予受理": "rejected",
            "已回访": "followed_up",
        }
    },
}
HEADER = [
    "工单编号",
    "受理时间",
    "办理时限",
    "办结时间",
    "问题分类",
    "承办单位",
    "办理状态",
    "经度",
    "纬度",
    "诉求内容",
]
FMT = "%Y-%m-%d %H:%M:%S"


def make_history(n: int = 3000, seed: int = 7, duplicates: int = 60) -> list[list[str]]:
    """Open, closed on time, closed late, rejected and duplicated cases over six months of 2025."""
    rng = random.Random(seed)
    rows: list[list[str]] = []
    start = datetime(2025, 1, 1, 8, 0)
    for i in range(n):
        created = start + timedelta(minutes=rng.randrange(0, 180 * 24 * 60))
        due = created + timedelta(days=rng.choice([1, 3, 5]))
        status = rng.choices(["已办结", "办理中", "待受理", "不予受理", "已回访"], [60, 15, 5, 5, 15])[0]
        closed = ""
        if status in ("已办结", "已回访"):
            late = rng.random() < 0.25
            closed = (
                due + timedelta(hours=rng.randrange(1, 72)) if late else created + (due - created) * rng.random()
            ).strftime(FMT)
        category = rng.choice([MANHOLE, "T-NOISE", "OLD-供暖", "OLD-物业"])
        department = rng.choice(["张店区城管局", "车站街道办事处", "旧系统-市供热办", "旧系统-物业科"])
        lng, lat = (
            (f"{118.0 + rng.random() * 0.4:.5f}", f"{36.6 + rng.random() * 0.2:.5f}")
            if rng.random() < 0.7
            else ("", "")
        )
        rows.append(
            [
                f"ZB{i:06d}",
                created.strftime(FMT),
                due.strftime(FMT),
                closed,
                category,
                department,
                status,
                lng,
                lat,
                f"历史诉求{i}",
            ]
        )
    rows += [list(rows[i]) for i in rng.sample(range(n), min(duplicates, n // 2))]  # exported twice by the old system
    rng.shuffle(rows)
    return rows


def to_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def direct_closure(rows: list[list[str]], start: datetime, end: datetime) -> tuple[int, int, int]:
    """结案率 and 按期结案率 straight from the file: (due in period, closed by the end, closed on time)."""
    first: dict[str, list[str]] = {}
    for row in rows:
        first.setdefault(row[0], row)
    due = closed = on_time = 0
    for row in first.values():
        deadline = datetime.strptime(row[2], FMT)
        if not start <= deadline < end:
            continue
        due += 1
        if row[6] in ("已办结", "已回访") and row[3]:
            done = datetime.strptime(row[3], FMT)
            closed += done < end
            on_time += done <= deadline
    return due, closed, on_time


def test_kpis_over_imported_history_equal_a_direct_computation_over_the_file(platform: Platform):
    build_case_city(platform)
    rows = make_history()
    summary = history.import_history(platform, content=to_csv(rows), mapping=history.Mapping.model_validate(MAPPING))
    assert summary.imported == 3000 and summary.duplicates_in_file == 60
    assert sorted(summary.new_categories) == ["OLD-供暖", "OLD-物业"]
    assert sorted(summary.new_departments) == ["旧系统-市供热办", "旧系统-物业科"]  # the others exist already
    for month in (1, 3, 5):
        start, end = datetime(2025, month, 1), datetime(2025, month + 1, 1)
        due, closed, on_time = direct_closure(rows, start, end)
        utc_start, utc_end = start.replace(tzinfo=ZONE), end.replace(tzinfo=ZONE)
        with platform.db.session() as session:
            facts = list(
                case_facts(session=session, region_prefix=None, department_id=None, since=utc_start, until=utc_end)
            )
        report = compute_kpis(facts, utc_start, utc_end)
        closure, timely = report.measure("closure"), report.measure("timely_closure")
        assert (closure.numerator, closure.denominator) == (closed, due)
        assert (timely.numerator, timely.denominator) == (on_time, due)
        assert due > 100


def test_importing_the_same_file_again_changes_nothing(platform: Platform):
    build_case_city(platform)
    content = to_csv(make_history(300))
    mapping = history.Mapping.model_validate(MAPPING)
    history.import_history(platform, content=content, mapping=mapping)
    again = history.import_history(platform, content=content, mapping=mapping)
    assert (again.imported, again.already_present) == (0, 300)
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 300


def test_one_bad_row_imports_nothing_and_names_row_and_column(platform: Platform):
    build_case_city(platform)
    rows = make_history(200)
    rows[150][1] = "去年春天"
    with pytest.raises(ValidationFailed) as caught:
        history.import_history(platform, content=to_csv(rows), mapping=history.Mapping.model_validate(MAPPING))
    assert caught.value.field == "rows[152].受理时间"  # header is line 1, so data row 150 is line 152
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_an_unmapped_status_is_refused_naming_it(platform: Platform):
    build_case_city(platform)
    rows = make_history(20)
    rows[3][6] = "神秘状态"
    with pytest.raises(ValidationFailed) as caught:
        history.import_history(platform, content=to_csv(rows), mapping=history.Mapping.model_validate(MAPPING))
    assert "神秘状态" in str(caught.value.detail) and caught.value.field == "rows[5].办理状态"


def test_xlsx_history_imports_like_csv_and_exports_with_states_and_times(platform: Platform):
    build_case_city(platform)
    rows = make_history(50)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    summary = history.import_history(
        platform, content=buffer.getvalue(), mapping=history.Mapping.model_validate(MAPPING)
    )
    assert summary.imported == len({r[0] for r in rows})
    with platform.db.session() as session:
        exported = case_export.export(session, fmt="xlsx")
    sheet = load_workbook(io.BytesIO(exported)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "案件ID case_id" and len(values) == summary.imported + 1
    external = {v[-1] for v in values[1:]}
    assert external == {r[0] for r in rows}


def test_cli_imports_with_a_progress_bar_and_exports_csv(tmp_path: Path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    engine = create_db_engine(f"sqlite:///{data_dir / 'cityops.db'}")
    migrate.upgrade(engine)
    engine.dispose()
    from cityops.regions.flows import save_regions
    from tests.conftest import make_settings

    platform = Platform.__new__(Platform)  # built below through the normal path
    from cityops.platform import build_platform

    platform = build_platform(make_settings(data_dir, f"sqlite:///{data_dir / 'cityops.db'}"))
    save_regions(platform, REGIONS, actor="test", file="test", level="city")
    platform.close()
    (tmp_path / "history.csv").write_bytes(to_csv(make_history(100)))
    (tmp_path / "mapping.json").write_text(json.dumps(MAPPING, ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "cases",
            "import-history",
            str(tmp_path / "history.csv"),
            "--mapping",
            str(tmp_path / "mapping.json"),
            "--data-dir",
            str(data_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout[result.stdout.index("{") :])["imported"] == 100
    out = tmp_path / "cases.csv"
    result = runner.invoke(
        app, ["cases", "export", "--format", "csv", "--output", str(out), "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_bytes().decode("utf-8-sig").splitlines()
    assert len(lines) == 101 and lines[0].startswith("案件ID case_id")
