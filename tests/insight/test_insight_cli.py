"""`cityops insight hotspots` and `cityops insight monthly-topic` on a SQLite data folder filled through intake
and triage: the planted cluster in both formats, the report files, errors in Chinese and English that name the
option at fault, and `kpis` still answering beside them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from cityops.core import migrate
from cityops.core.clock import FixedClock
from cityops.core.db import create_db_engine
from cityops.insight import cli as insight_cli
from cityops.platform import build_platform
from tests.conftest import START, make_settings
from tests.insight.reports_seed import GRID_A, PLANTED_TEXT, SINCE, UNTIL, counted, seed, spec

runner = CliRunner()
cli = typer.Typer()
cli.add_typer(insight_cli.app, name="insight")  # mounted as `cityops insight` mounts it
WEEK = ["--since", SINCE.isoformat(), "--until", UNTIL.isoformat()]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("insight")
    url = f"sqlite:///{folder / 'cityops.db'}"
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    platform = build_platform(make_settings(folder, url), clock=FixedClock(START))
    try:
        seed(platform)
    finally:
        platform.close()
    return folder


pytestmark = pytest.mark.usefixtures("cli_env")


def insight(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["insight", *args, "--data-dir", str(data_dir)])
    return result.exit_code, result.stdout, result.stderr


def test_hotspots_as_json_find_the_planted_cluster(data_dir: Path):
    code, out, err = insight(data_dir, "hotspots", *WEEK, "--format", "json")
    assert code == 0, err
    body = json.loads(out)
    assert body["region"]["region_code"] == "370300"  # the CLI acts city-wide
    assert body["reports"] == counted(spec(), SINCE, UNTIL)
    assert [(h["region_codes"], h["count"]) for h in body["items"]] == [([GRID_A], 10)]
    assert counted(spec(), SINCE, UNTIL, text=PLANTED_TEXT) == 10


def test_hotspots_as_a_table(data_dir: Path):
    code, out, err = insight(data_dir, "hotspots", *WEEK, "--region", "370303", "--resolution", "9")
    assert code == 0, err
    assert "张店区 (370303)" in out
    assert "车站第1社区第1网格" in out and "摔伤" in out
    assert f"本期诉求 {counted(spec(), SINCE, UNTIL)} 件" in out and "hotspots found 1" in out


def test_hotspots_say_so_when_there_are_none(data_dir: Path):
    code, out, _ = insight(data_dir, "hotspots", "--since", "2026-02-08", "--until", "2026-02-15")
    assert code == 0
    assert "未发现热点 / no hotspots" in out


@pytest.mark.parametrize(("args", "words"), [
    (["--since", "2026-02-30", "--until", "2026-03-01"], ["--since", "不是日期", "is not a date"]),
    (["--since", "2026-03-01", "--until", "2026-03-01"], ["--until", "须晚于", "must be after"]),
    ([*WEEK, "--resolution", "4"], ["--resolution", "H3 分辨率", "must be 5 to 11"]),
])
def test_hotspots_errors_name_the_option_in_both_languages(data_dir: Path, args: list[str], words: list[str]):
    code, out, err = insight(data_dir, "hotspots", *args)
    assert code == 2
    for word in words:
        assert word in out + err


def test_hotspots_outside_any_region_are_not_found(data_dir: Path):
    code, _, err = insight(data_dir, "hotspots", *WEEK, "--region", "110101")
    assert code == 2
    assert "not_found" in err or "region" in err


def test_monthly_topic_writes_markdown_and_a_workbook(data_dir: Path, tmp_path: Path):
    out_dir = tmp_path / "reports"
    code, out, err = insight(data_dir, "monthly-topic", "--month", "2026-02", "--out", str(out_dir))
    assert code == 0, err
    markdown, workbook = out_dir / "monthly-topic-2026-02.md", out_dir / "monthly-topic-2026-02.xlsx"
    assert f"已写入 / written: {markdown}" in out and f"已写入 / written: {workbook}" in out
    text = markdown.read_text(encoding="utf-8")
    february = counted(spec(), SINCE.replace(day=1), UNTIL)
    assert text.startswith("# 每月一题 · 2026年2月 · 淄博市")
    assert f"共受理群众诉求 {february} 件" in text
    assert "井盖缺失" in text and "## 分区明细 By region（按区县）" in text
    ranking = load_workbook(workbook)["主题排名 Ranking"]
    assert sum(row[3].value for row in ranking.iter_rows(min_row=2)) == february


def test_monthly_topic_by_street_of_one_district(data_dir: Path, tmp_path: Path):
    code, _, err = insight(data_dir, "monthly-topic", "--month", "2026-02", "--region", "370303", "--level", "street",
                           "--out", str(tmp_path))
    assert code == 0, err
    text = (tmp_path / "monthly-topic-2026-02.md").read_text(encoding="utf-8")
    assert "### 车站街道" in text and "### 公园街道" in text


@pytest.mark.parametrize(("args", "words"), [
    (["--month", "2026-13"], ["--month", "不是月份", "is not a month"]),
    (["--month", "October"], ["--month", "不是月份", "is not a month"]),
    (["--month", "2026-02", "--level", "block"], ["--level", "不是区划层级", "is not a level"]),
])
def test_monthly_topic_errors_name_the_option_in_both_languages(data_dir: Path, tmp_path: Path, args: list[str],
                                                                words: list[str]):
    code, out, err = insight(data_dir, "monthly-topic", *args, "--out", str(tmp_path))
    assert code == 2
    for word in words:
        assert word in out + err
    assert not list(tmp_path.iterdir())  # nothing written


def test_kpis_still_answer_beside_them(data_dir: Path):
    code, out, err = insight(data_dir, "kpis", "--from", "2026-02-01", "--to", "2026-03-01")
    assert code == 0, err
    assert json.loads(out)["region"]["region_code"] == "370300"
