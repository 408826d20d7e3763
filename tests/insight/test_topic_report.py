"""The monthly-topic report a leader reads: the Markdown, and a workbook that opens in a spreadsheet program with
the figures as numbers (read back with openpyxl, and through LibreOffice when it is installed)."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cityops.insight import topic_report
from cityops.insight.topics import TopicResult, monthly_topics, named
from tests.insight.test_topics import DISTRICT, OCTOBER, S1, S2, rows

NAMES = {DISTRICT: "张店区", S1: "车站街道", S2: "公园街道", "category:BJ01-01": "井盖缺失",
         "category:SJ02-01": "占道经营", "category:BJ01-03": "路灯不亮"}
SHEETS = ["概览 Summary", "主题排名 Ranking", "分区明细 By region"]
# Comma-separated, quoted with ", UTF-8, from line 1; the last field (-1) writes every sheet to its own file.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


@pytest.fixture(scope="module")
def result() -> TopicResult:
    return named(monthly_topics(rows(), month=OCTOBER, region_code=DISTRICT, level="street"), NAMES)


@pytest.fixture(scope="module")
def workbook_path(result: TopicResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("topic") / topic_report.filename(result, "xlsx")
    topic_report.write_xlsx(result, path)
    return path


def test_markdown_has_chinese_headings_a_summary_and_the_ranking(result: TopicResult):
    text = topic_report.render_markdown(result)
    for heading in ("# 每月一题 · 2026年10月 · 张店区", "## 概要 Summary", "## 主题排名 Topic ranking",
                    "## 分区明细 By region", "### 车站街道 · 8 件", "## 口径说明 Definitions"):
        assert heading in text
    summary = topic_report.summary_zh(result)
    assert summary.startswith("2026年10月，张店区共受理群众诉求 17 件，上月 9 件，环比增长 88.9%")
    assert "①「井盖缺失」6 件（环比 +50.0%，重复诉求率 50.0%），主要在车站街道 4 件、公园街道 2 件" in summary
    assert "建议将「井盖缺失」列为本月一题" in summary
    assert "| 1 | 井盖缺失 | 6 | 4 | +50.0% | 50.0% | 0.750 | 车站街道 4 件、公园街道 2 件 |" in text
    assert "| 3 | 占道经营 | 3 | 0 | 新出现 new | 33.3% | 0.617 |" in text
    assert "张店区（未细分到街道（乡镇）" in text  # the report known only to the district


def test_markdown_table_cells_cannot_break_the_table(result: TopicResult):
    text = topic_report.render_markdown(named(result, {"category:BJ01-01": "井盖|缺失"}))
    assert "| 1 | 井盖\\|缺失 | 6 |" in text


def test_a_month_without_reports_still_reads(tmp_path: Path):
    empty = named(monthly_topics([], month=OCTOBER, region_code=DISTRICT, level="street"), NAMES)
    assert topic_report.summary_zh(empty) == "2026年10月，张店区没有受理群众诉求（上月 0 件）。"
    assert "## 主题排名" in topic_report.render_markdown(empty)
    topic_report.write_xlsx(empty, tmp_path / "empty.xlsx")
    assert load_workbook(tmp_path / "empty.xlsx").sheetnames == SHEETS


def test_workbook_sheets_headers_and_layout(workbook_path: Path):
    book = load_workbook(workbook_path)
    assert book.sheetnames == SHEETS
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"  # the header row stays in view
        assert all(cell.font.bold for cell in sheet[1])
        assert sheet.column_dimensions["B"].width >= 20
    assert [c.value for c in book["主题排名 Ranking"][1]] == list(topic_report.RANKING_HEADER)


def test_workbook_figures_are_numbers_and_percentages_are_formatted(workbook_path: Path, result: TopicResult):
    sheet = load_workbook(workbook_path)["主题排名 Ranking"]
    found = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    expected = [(row.rank, row.topic, row.volume, row.previous, row.growth, row.repeats, row.repeat_rate)
                for row in result.ranking]
    assert [(r[0], r[1], r[3], r[4], r[5], r[6], r[7]) for r in found] == expected
    first = sheet[2]
    assert (first[3].value, first[5].value, first[7].value) == (6, 0.5, 0.5)
    assert (first[5].number_format, first[7].number_format, first[8].number_format) == ("0.0%", "0.0%", "0.000")
    summary = {row[0].value: row[1] for row in load_workbook(workbook_path)["概览 Summary"].iter_rows(min_row=2)}
    assert summary["诉求量 (reports)"].value == 17
    assert summary["环比 (growth)"].number_format == "0.0%"
    assert summary["建议本月一题 (suggested topic)"].value == "井盖缺失"


def test_workbook_has_one_row_per_region_and_topic(workbook_path: Path, result: TopicResult):
    sheet = load_workbook(workbook_path)["分区明细 By region"]
    found = [(r[0].value, r[3].value, r[5].value) for r in sheet.iter_rows(min_row=2)]
    assert found == [(g.region_code, row.topic, row.volume) for g in result.by_region for row in g.rows]
    assert sum(volume for _, _, volume in found) == result.volume


def test_workbook_opens_in_libreoffice_with_the_same_figures(workbook_path: Path, result: TopicResult,
                                                             tmp_path: Path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")
    out = tmp_path / "csv"
    done = subprocess.run([soffice, "--headless", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                           "--convert-to", CSV_FILTER, "--outdir", str(out), str(workbook_path)],
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    ranking = out / f"{workbook_path.stem}-主题排名 Ranking.csv"
    assert ranking.exists(), (done.stdout, sorted(p.name for p in out.iterdir()))
    with ranking.open(encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert tuple(lines[0]) == topic_report.RANKING_HEADER
    read = [(line[1], int(line[3]), int(line[4]), _percent(line[5]), int(line[6]), _percent(line[7]))
            for line in lines[1:]]
    assert read == [(row.topic, row.volume, row.previous, pytest.approx(row.growth) if row.growth is not None
                     else None, row.repeats, pytest.approx(row.repeat_rate)) for row in result.ranking]


def _percent(text: str) -> float | None:
    """A percentage as LibreOffice writes it ("33.3333333333333%"); empty for no value."""
    return float(text.rstrip("%")) / 100 if text else None
