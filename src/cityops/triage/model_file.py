"""Saving and loading a trained classifier: one joblib file holding plain data and metadata.

Only numbers, strings and numpy arrays go in the file (no scikit-learn objects), so it loads whatever
scikit-learn is installed; the format version guards the layout of that data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import joblib
import numpy as np
import sklearn

from cityops.core.errors import ValidationFailed
from cityops.triage.classify import Classifier

FORMAT: Final = "cityops.triage.classifier"
FORMAT_VERSION: Final = 1


class ModelFileError(ValidationFailed):
    """A model file that is missing, unreadable or of another format, with the reason in both languages."""

    code = "triage.model_file"

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en, field="model")
        self.zh, self.en = zh, en

    def message(self, language: str = "zh-CN") -> str:
        return self.en if language.lower().startswith("en") else self.zh


def save(
    model: Classifier,
    path: Path,
    *,
    rows: int,
    subject_weight: int = 1,
    trained_at: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sklearn_version": sklearn.__version__,
        "labels": list(model.labels),
        "rows": rows,
        "subject_weight": subject_weight,
        "trained_at": (trained_at or datetime.now(UTC)).isoformat(),
        **(extra or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"meta": meta, "state": model.state()}, path, compress=3)
    return meta


def load(path: Path) -> tuple[Classifier, dict[str, Any]]:
    if not path.is_file():
        raise ModelFileError(f"模型文件不存在：{path}", f"model file not found: {path}")
    try:
        content = joblib.load(path)
    except Exception as exc:  # a truncated or foreign file can fail in many ways inside unpickling
        raise ModelFileError(f"无法读取模型文件 {path}：{exc}", f"cannot read model file {path}: {exc}") from exc
    meta = content.get("meta") if isinstance(content, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} 不是 CityOps 分类模型文件", f"{path} is not a CityOps classifier file")
    if meta.get("format_version") != FORMAT_VERSION:
        version = meta.get("format_version")
        raise ModelFileError(
            f"模型文件格式版本为 {version}，本程序只支持 {FORMAT_VERSION}，请用 cityops triage train 重新训练",
            f"model file format version {version} is not supported (this program reads {FORMAT_VERSION}); "
            "train it again with 'cityops triage train'",
        )
    return _classifier(content["state"]), meta


def _classifier(state: dict[str, Any]) -> Classifier:
    return Classifier(
        vocabulary=dict(state["vocabulary"]),
        idf=np.asarray(state["idf"], dtype=float),
        coef=np.asarray(state["coef"], dtype=float),
        intercept=np.asarray(state["intercept"], dtype=float),
        labels=[str(label) for label in state["labels"]],
        temperature=float(state["temperature"]),
        top_k=int(state["top_k"]),
    )
