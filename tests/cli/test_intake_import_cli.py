"""`cityops intake import`: a file of messages through the live pipeline, in time order, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from cityops.cases.models import Case
from cityops.cli.main import app
from cityops.intake.models import Report
from cityops.platform import Platform
from tests.casefixture import POINT_A, add_category
from tests.catalog.conftest import load_places
from tests.conftest import small_city_data_dir
from tests.regions.conftest import make_platform

runner = CliRunner()
HOTLINE = Path(__file__).parents[3] / "shared" / "data" / "hotline" / "messages_with_likes.csv"
HOTLINE_ARGS = ["--channel", "hotline", "--id-column", "留言编号", "--text-column", "留言主题",
                "--text-column", "留言详情", "--time-column", "留言时间"]


pytestmark = pytest.mark.usefixtures("cli_env")


@pytest.fixture
def data_dir(sqlite_template: Path, tmp_path: Path) -> Path:
    """The small city with the manhole-cover category the shipped classifier knows."""
    return small_city_data_dir(sqlite_template, tmp_path / "data", load_places,
                               lambda platform: add_category(platform, "BJ01-01", "井盖破损/缺失", "370303-cgj"))


def run(data_dir: Path, *args: str) -> typer.testing.Result:
    return runner.invoke(app, [*args, "--data-dir", str(data_dir)])


def counts(data_dir: Path) -> tuple[int, int]:
    platform: Platform = make_platform(data_dir, f"sqlite:///{data_dir / 'cityops.db'}")
    try:
        with platform.db.session() as session:
            return (session.scalar(select(func.count()).select_from(Report)) or 0,
                    session.scalar(select(func.count()).select_from(Case)) or 0)
    finally:
        platform.close()


MESSAGES = f"""编号,标题,内容,时间,经度,纬度
m3,井盖又被反映,华光路井盖缺失还没修，刚才又有人差点踩空,2026/3/1 08:20,{POINT_A[0]},{POINT_A[1] + 0.0001}
m1,井盖没了,华光路路口的井盖没了，晚上很危险,2026/3/1 08:00,{POINT_A[0]},{POINT_A[1]}
m2,井盖丢失,张店区车站街道柳泉路有个井盖丢了,2026/3/1 09:00,,
m4,井盖缺失,我家门口的井盖没了，快来修,2026/3/1 10:00,,
"""
ARGS = ["--channel", "hotline", "--id-column", "编号", "--text-column", "标题", "--text-column", "内容",
        "--time-column", "时间", "--lng-column", "经度", "--lat-column", "纬度"]


def test_an_import_goes_through_the_pipeline_in_time_order_and_a_second_run_changes_nothing(data_dir: Path,
                                                                                              tmp_path: Path):
    source = tmp_path / "messages.csv"
    source.write_bytes(MESSAGES.encode("gb18030"))
    first = run(data_dir, "intake", "import", str(source), *ARGS)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary == {"rows": 4, "duplicate_rows_in_file": 0, "reports": 4, "already_imported": 0,
                       "new_cases": 3, "fused": 1, "unlocated": 1, "to_triage": 1, "pending": 0, "failed": 0}
    assert counts(data_dir) == (4, 3)
    again = run(data_dir, "intake", "import", str(source), *ARGS)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["reports"] == 0 and json.loads(again.stdout)["already_imported"] == 4
    assert counts(data_dir) == (4, 3)


def test_a_bad_row_imports_nothing_and_names_row_and_column(data_dir: Path, tmp_path: Path):
    source = tmp_path / "messages.csv"
    source.write_text(MESSAGES.replace("2026/3/1 09:00", "三月一日"), encoding="utf-8")
    result = run(data_dir, "intake", "import", str(source), *ARGS)
    assert result.exit_code == 2
    assert "rows[4].时间" in result.output
    assert counts(data_dir) == (0, 0)


def test_the_real_hotline_file_imports_as_it_is(data_dir: Path):
    if not HOTLINE.exists():
        pytest.skip(f"the shared hotline messages are not beside the project ({HOTLINE})")
    result = run(data_dir, "intake", "import", str(HOTLINE), *HOTLINE_ARGS)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"] == 4326 and summary["reports"] == 4326 and summary["failed"] == 0
    assert summary["new_cases"] + summary["fused"] == 4326 and summary["pending"] == 0
    assert summary["fused"] > 0  # the file repeats many issues
    reports, cases = counts(data_dir)
    assert reports == 4326 and cases == summary["new_cases"]
    again = json.loads(run(data_dir, "intake", "import", str(HOTLINE), *HOTLINE_ARGS).stdout)
    assert again["reports"] == 0 and again["already_imported"] == 4326
    assert counts(data_dir) == (reports, cases)
