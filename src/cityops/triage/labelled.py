"""Labelled text files for training and evaluation: CSV (UTF-8 with or without BOM, GB18030) or XLSX.

Errors name the file's column and say what is wrong in zh-CN and English; the CLI exits 2 on them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cityops.core.errors import ValidationFailed
from cityops.core.tabular import read_table
from cityops.triage.classify import join_fields


class LabelledDataError(ValidationFailed):
    code = "triage.labelled_data"

    def __init__(self, zh: str, en: str, *, column: str | None = None) -> None:
        super().__init__(en, field=column)
        self.zh, self.en = zh, en

    def message(self, language: str = "zh-CN") -> str:
        return self.en if language.lower().startswith("en") else self.zh


@dataclass(frozen=True)
class Labelled:
    texts: list[str]
    labels: list[str]


def read_labelled(
    path: Path, *, text_columns: Sequence[str], label_column: str | None, subject_weight: int = 1
) -> Labelled:
    """Texts (the text columns joined, the first one being the subject) and, when a label column is named,
    labels. Rows whose text columns are all empty are skipped; an empty label is an error naming its line."""
    try:
        table = read_table(path.read_bytes())
    except OSError as exc:
        raise LabelledDataError(f"无法读取文件 {path}：{exc}", f"cannot read {path}: {exc}", column="file") from exc
    wanted = [c.strip().lower() for c in text_columns] + ([label_column.strip().lower()] if label_column else [])
    for column in wanted:
        if column not in table.columns:
            have = "、".join(c for c in table.columns if c)
            raise LabelledDataError(
                f"缺少列“{column}”（文件中的列：{have}）",
                f"missing column '{column}' (the file has: {have})",
                column=column,
            )
    texts, labels = [], []
    for row, line in zip(table.rows, table.lines, strict=True):
        text = join_fields([row[c.strip().lower()] for c in text_columns], subject_weight=subject_weight)
        if not text:
            continue
        texts.append(text)
        if label_column:
            labels.append(_label(row, label_column.strip().lower(), line))
    if not texts:
        raise LabelledDataError("文本列全部为空", "every text column is empty", column=wanted[0])
    return Labelled(texts, labels)


def require_two_labels(data: Labelled, label_column: str) -> None:
    if len(set(data.labels)) < 2:
        raise LabelledDataError(
            f"列“{label_column}”至少需要两种不同的类别",
            f"column '{label_column}' needs at least two different labels",
            column=label_column,
        )


def require_rows_per_label(data: Labelled, label_column: str, folds: int) -> None:
    """Stratified folds need every label in every fold."""
    require_two_labels(data, label_column)
    label, count = min(Counter(data.labels).items(), key=lambda item: item[1])
    if count < folds:
        raise LabelledDataError(
            f"列“{label_column}”中类别“{label}”只有 {count} 行，少于折数 {folds}",
            f"label '{label}' in column '{label_column}' has {count} rows, fewer than the {folds} folds",
            column=label_column,
        )


def _label(row: dict[str, str], column: str, line: int) -> str:
    value = row.get(column, "").strip()
    if not value:
        raise LabelledDataError(
            f"第 {line} 行的“{column}”为空", f"line {line}: column '{column}' is empty", column=column
        )
    return value
