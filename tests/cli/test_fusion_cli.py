"""`cityops triage evaluate-fusion`: the shipped labelled pairs meet the acceptance figures, and a broken file is
refused with a message naming the column, in Chinese and English."""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityops.cli.main import app
from cityops.core.tabular import write_xlsx

runner = CliRunner()
PAIRS = Path(str(resources.files("cityops.triage").joinpath("data/fusion_pairs.csv")))
HEADER = ("a_text,a_lng,a_lat,a_time,a_category_code,a_region_code,"
          "b_text,b_lng,b_lat,b_time,b_category_code,b_region_code,same")


def evaluate(path: Path, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["triage", "evaluate-fusion", "--input", str(path), *extra])
    return result.exit_code, result.stdout, result.stderr


def test_the_shipped_pairs_meet_the_acceptance_figures():
    code, out, _ = evaluate(PAIRS, "--min-precision", "0.95", "--min-recall", "0.80")
    figures = json.loads(out)
    assert code == 0
    assert figures["pairs"] >= 300 and figures["precision"] >= 0.95 and figures["recall"] >= 0.80
    labelled = list(csv.DictReader(io.StringIO(PAIRS.read_text(encoding="utf-8"))))
    assert figures["pairs"] == len(labelled)
    assert figures["true_positives"] + figures["false_negatives"] == sum(row["same"] == "1" for row in labelled)
    assert len(figures["errors"]) <= 5 and figures["by_kind"]


def test_an_unreachable_bar_exits_1_with_the_figures_still_printed():
    code, out, err = evaluate(PAIRS, "--min-precision", "1.0", "--min-recall", "1.0")
    assert code == 1 and json.loads(out)["pairs"] >= 300 and "below" in err


def test_a_small_file_gives_exact_counts_and_reads_xlsx_too(tmp_path: Path):
    rows = [
        "柳泉路人民西路口水管爆了,118.0468,36.8121,2026-03-02 08:00,BJ01-05,370303002,"
        "人民公园东南角柳泉路上跑水了,118.0475,36.8125,2026-03-02 08:20,BJ01-05,370303002,1",
        "柳泉路人民西路口水管爆了,118.0468,36.8121,2026-03-02 08:00,BJ01-05,370303002,"
        "临淄大道齐都路口水管爆了,118.3090,36.8300,2026-03-02 08:20,BJ01-05,370305001,0",
        "鑫泰建筑公司拖欠工资三个月,,,2026/3/2 9:00,RX02-01,370303,"
        "反映鑫泰建筑干完活工资不结,,,2026/3/5 9:00,RX02-01,370303,1",
    ]
    csv_file = tmp_path / "pairs.csv"
    csv_file.write_text("\n".join([HEADER, *rows]), encoding="gb18030")
    code, out, _ = evaluate(csv_file)
    figures = json.loads(out)
    assert code == 0 and (figures["pairs"], figures["true_positives"], figures["true_negatives"]) == (3, 2, 1)
    assert (figures["precision"], figures["recall"]) == (1.0, 1.0) and "by_kind" not in figures
    xlsx = tmp_path / "pairs.xlsx"
    xlsx.write_bytes(write_xlsx(HEADER.split(","), [r.split(",") for r in rows], title="pairs"))
    assert json.loads(evaluate(xlsx)[1])["true_positives"] == 2


@pytest.mark.parametrize(("header", "row", "column"), [
    (HEADER.replace(",same", ""), "a,,,2026-03-02 08:00,,,b,,,2026-03-02 08:00,,", "same"),
    (HEADER.replace("b_time", "b_when"), "a,,,2026-03-02 08:00,,,b,,,2026-03-02 08:00,,,1", "b_time"),
    (HEADER, "a,,,2026-03-02 08:00,,,b,,,2026-03-02 08:00,,,yes", "same"),
    (HEADER, "a,118.1,,2026-03-02 08:00,,,b,east,,2026-03-02 08:00,,,1", "b_lng"),
    (HEADER, "a,,,yesterday,,,b,,,2026-03-02 08:00,,,1", "a_time"),
    (HEADER, ",,,2026-03-02 08:00,,,b,,,2026-03-02 08:00,,,1", "a_text"),
])
def test_a_bad_file_is_refused_naming_the_column(tmp_path: Path, header: str, row: str, column: str):
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{header}\n{row}\n", encoding="utf-8")
    code, out, err = evaluate(bad)
    assert code == 2 and out == ""
    assert "错误" in err and "error [validation.invalid]" in err and column in err
