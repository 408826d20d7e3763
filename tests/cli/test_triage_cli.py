"""`cityops triage train | evaluate | cross-validate | retrain`: CSV in UTF-8 and GB18030, XLSX; clear errors."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityops.cli.main import app
from cityops.core.tabular import write_xlsx
from cityops.triage import model_file, model_store

runner = CliRunner()
EVAL = Path(__file__).parents[1] / "triage" / "data" / "broad_classes_eval.csv"
COLUMNS = ("留言主题", "留言详情", "一级分类")
TEXT = ["--text-column", "留言主题", "--text-column", "留言详情"]


@pytest.fixture(autouse=True)
def clean_settings(cli_env: None) -> Iterator[None]:
    yield
    model_store.reset_cache()


@pytest.fixture(scope="module")
def rows() -> list[list[str]]:
    """Twelve reports of each class: enough to learn from, small enough to keep the commands quick."""
    with EVAL.open(encoding="utf-8") as handle:
        every = [[r[c] for c in COLUMNS] for r in csv.DictReader(handle)]
    kept: dict[str, list[list[str]]] = {}
    for row in every:
        kept.setdefault(row[2], []).append(row)
    return [row for group in kept.values() for row in group[:12]]


def write(path: Path, rows: list[list[str]], encoding: str = "utf-8", header=COLUMNS) -> Path:
    if path.suffix == ".xlsx":
        path.write_bytes(write_xlsx(header, rows, title="reports"))
        return path
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows([list(header), *rows])
    return path


def test_train_on_utf8_then_evaluate_on_gb18030_and_xlsx(rows: list[list[str]], tmp_path: Path):
    model = tmp_path / "model.joblib"
    trained = runner.invoke(
        app,
        [
            "triage",
            "train",
            "--input",
            str(write(tmp_path / "t.csv", rows, "utf-8-sig")),
            *TEXT,
            "--label-column",
            "一级分类",
            "--model-out",
            str(model),
        ],
    )
    assert trained.exit_code == 0, trained.output
    summary = json.loads(trained.stdout)
    assert summary["rows"] == len(rows) and len(summary["labels"]) == 7 and model.exists()
    for source in (write(tmp_path / "e.csv", rows, "gb18030"), write(tmp_path / "e.xlsx", rows)):
        result = runner.invoke(
            app,
            ["triage", "evaluate", "--model", str(model), "--input", str(source), *TEXT, "--label-column", "一级分类"],
        )
        assert result.exit_code == 0, result.output
        figures = json.loads(result.stdout)
        assert figures["accuracy"] > 0.9  # the rows it was trained on
        assert set(figures["per_class"]) == set(summary["labels"])
        assert figures["confusion_matrix"]["labels"] == sorted(summary["labels"])


def test_cross_validate_prints_the_model_on_top_and_the_baseline_beside_it(rows: list[list[str]], tmp_path: Path):
    source = write(tmp_path / "cv.xlsx", rows)
    result = runner.invoke(
        app, ["triage", "cross-validate", "--input", str(source), *TEXT, "--label-column", "一级分类", "--folds", "3"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert {"accuracy", "macro_f1", "per_class", "confusion_matrix"} <= set(figures)
    assert figures["folds"] == 3 and figures["rows"] == len(rows)
    assert {"accuracy", "macro_f1"} <= set(figures["baseline"])
    alone = runner.invoke(
        app,
        [
            "triage",
            "cross-validate",
            "--input",
            str(source),
            *TEXT,
            "--label-column",
            "一级分类",
            "--folds",
            "3",
            "--no-compare-baseline",
        ],
    )
    assert "baseline" not in json.loads(alone.stdout)
    assert json.loads(alone.stdout)["macro_f1"] == figures["macro_f1"]


def test_a_missing_column_exits_2_naming_it_in_both_languages(rows: list[list[str]], tmp_path: Path):
    source = write(tmp_path / "t.csv", rows)
    result = runner.invoke(
        app, ["triage", "cross-validate", "--input", str(source), "--text-column", "内容", "--label-column", "一级分类"]
    )
    assert result.exit_code == 2
    assert "缺少列“内容”" in result.stderr and "missing column '内容'" in result.stderr


def test_an_empty_label_exits_2_naming_the_line(rows: list[list[str]], tmp_path: Path):
    broken = [*rows[:5], [rows[5][0], rows[5][1], ""], *rows[6:]]
    result = runner.invoke(
        app,
        [
            "triage",
            "train",
            "--input",
            str(write(tmp_path / "t.csv", broken)),
            *TEXT,
            "--label-column",
            "一级分类",
            "--model-out",
            str(tmp_path / "m.joblib"),
        ],
    )
    assert result.exit_code == 2
    assert "第 7 行" in result.stderr and "line 7" in result.stderr and "一级分类" in result.stderr


def test_a_label_with_fewer_rows_than_folds_exits_2(rows: list[list[str]], tmp_path: Path):
    source = write(tmp_path / "t.csv", [*rows, ["新主题", "新内容", "新类别"]])
    result = runner.invoke(
        app, ["triage", "cross-validate", "--input", str(source), *TEXT, "--label-column", "一级分类", "--folds", "5"]
    )
    assert result.exit_code == 2
    assert "新类别" in result.stderr and "fewer than the 5 folds" in result.stderr


def test_a_single_label_cannot_be_trained_on(tmp_path: Path):
    source = write(tmp_path / "t.csv", [["井盖", "井盖坏了", "城乡建设"], ["路灯", "路灯不亮", "城乡建设"]])
    result = runner.invoke(
        app,
        [
            "triage",
            "train",
            "--input",
            str(source),
            *TEXT,
            "--label-column",
            "一级分类",
            "--model-out",
            str(tmp_path / "m.joblib"),
        ],
    )
    assert result.exit_code == 2 and "at least two different labels" in result.stderr


def test_an_unreadable_file_or_model_exits_2(rows: list[list[str]], tmp_path: Path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\xff\xfe\x00\x81\xff" * 20)
    result = runner.invoke(app, ["triage", "cross-validate", "--input", str(junk), *TEXT, "--label-column", "一级分类"])
    assert result.exit_code == 2 and "GB18030" in result.stderr
    fake = tmp_path / "fake.joblib"
    fake.write_bytes(b"nonsense")
    result = runner.invoke(
        app,
        [
            "triage",
            "evaluate",
            "--model",
            str(fake),
            "--input",
            str(write(tmp_path / "t.csv", rows)),
            *TEXT,
            "--label-column",
            "一级分类",
        ],
    )
    assert result.exit_code == 2 and "无法读取模型文件" in result.stderr and "cannot read model file" in result.stderr


def test_retrain_writes_a_new_model_into_the_data_folder(sqlite_template: Path, tmp_path: Path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(sqlite_template, data_dir / "cityops.db")
    result = runner.invoke(app, ["triage", "retrain", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["corrections"] == 0 and summary["rows"] == summary["shipped_rows"]
    _, meta = model_file.load(Path(summary["model"]))
    assert Path(summary["model"]).parent == data_dir / "models" and meta["rows"] == summary["rows"]
    classified = runner.invoke(app, ["triage", "classify", "路灯不亮，晚上一片黑", "--data-dir", str(data_dir)])
    assert classified.exit_code == 0, classified.output
    assert json.loads(classified.stdout)["label"] == "BJ01-03"
