"""How good a classifier is: metrics on labelled rows, stratified cross-validation, the plain baseline. Pure.

The baseline (character 1–2-gram TF-IDF + LinearSVC, scikit-learn defaults) runs on the same folds as the
model, so the two figures differ only by the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from cityops.triage.classify import Classifier, Progress

Predictor = Callable[[list[str], list[str], list[str]], list[str]]  # (train texts, train labels, test texts)


def metrics(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    per_class = {
        label: {
            "precision": _round(precision[i]),
            "recall": _round(recall[i]),
            "f1": _round(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    return {
        "rows": len(truth),
        "accuracy": _round(accuracy_score(truth, predicted)),
        "macro_f1": _round(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)),
        "per_class": per_class,
        "confusion_matrix": {"labels": labels, "matrix": confusion_matrix(truth, predicted, labels=labels).tolist()},
    }


def model_predictor(progress: Progress | None = None, *, catalog: Sequence[tuple[str, str]] = ()) -> Predictor:
    """Our model; `catalog` (text, label) rows — category names and keywords — join every training fold."""

    def predict(train_texts: list[str], train_labels: list[str], test_texts: list[str]) -> list[str]:
        known = set(train_labels)
        extra = [(text, label) for text, label in catalog if label in known]
        model = Classifier().fit(train_texts + [t for t, _ in extra], train_labels + [label for _, label in extra],
                                 progress)
        return [p.label for p in model.predict(test_texts)]

    return predict


def baseline_predictor(train_texts: list[str], train_labels: list[str], test_texts: list[str]) -> list[str]:
    pipeline = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 2)), LinearSVC())
    return [str(label) for label in pipeline.fit(train_texts, train_labels).predict(test_texts)]


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int,
    predictors: dict[str, Predictor],
    seed: int = 0,
    on_fold: Callable[[int], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each predictor's metrics over the same stratified folds (every row predicted once, by a model that
    never saw it)."""
    text_array, label_array = np.array(texts, dtype=object), np.array(labels, dtype=object)
    predicted = {name: np.empty(len(texts), dtype=object) for name in predictors}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for number, (train, test) in enumerate(splitter.split(text_array, label_array), start=1):
        for name, predictor in predictors.items():
            predicted[name][test] = predictor(list(text_array[train]), list(label_array[train]), list(text_array[test]))
        if on_fold is not None:
            on_fold(number)
    result = {name: metrics(list(labels), [str(p) for p in values]) for name, values in predicted.items()}
    for value in result.values():
        value["folds"] = folds
    return result


def _round(value: Any) -> float:
    return round(float(value), 4)
