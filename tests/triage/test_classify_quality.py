"""Quality on a labelled set the shipped model never saw: seven broad hotline classes, ~55 reports each.

The model learns from the city's category catalogue as well as from labelled reports: each catalogue entry's
name is a short extra example of its class (the TipDM three-level hotline taxonomy in ../shared here). Many
reports need knowledge the text does not carry (拖欠工程款 is 城乡建设, 失独家庭 is 卫生计生) and the catalogue
carries it. Measured with 5 stratified folds, seeds 0–2: macro-F1 0.873 / 0.881 / 0.870 against the plain
character 1–2-gram TF-IDF + LinearSVC baseline's 0.847 / 0.834 / 0.855 on the same folds.
Classification speed is measured in bench/triage.py, not here.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cityops.triage import evaluation
from cityops.triage.classify import Classifier, join_fields

EVAL = Path(__file__).parent / "data" / "broad_classes_eval.csv"
TAXONOMY = Path(__file__).parents[3] / "shared" / "data" / "taxonomy" / "hotline_categories_3level.csv"
FLOOR = 0.85  # the goal; the lowest of three seeds was 0.870
MARGIN = 0.02  # mean lead over the baseline across seeds; measured 0.030


@pytest.fixture(scope="module")
def data() -> tuple[list[str], list[str]]:
    with EVAL.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [join_fields([r["留言主题"], r["留言详情"]]) for r in rows], [r["一级分类"] for r in rows]


def test_the_eval_set_is_large_and_balanced_enough_to_mean_something(data):
    labels = data[1]
    counts = {label: labels.count(label) for label in set(labels)}
    assert len(counts) == 7 and min(counts.values()) >= 50 and len(labels) >= 350


@pytest.fixture(scope="module")
def catalog() -> list[tuple[str, str]]:
    if not TAXONOMY.exists():
        pytest.skip(f"the reference taxonomy is not beside the project ({TAXONOMY}); it is not shipped")
    with TAXONOMY.open(encoding="utf-8-sig") as handle:
        return sorted({(r["三级分类"], r["一级分类"]) for r in csv.DictReader(handle)})


def test_with_the_catalogue_cross_validated_macro_f1_reaches_the_goal_and_clearly_beats_the_baseline(data, catalog):
    model_f1, baseline_f1 = [], []
    for seed in (0, 1, 2):
        results = evaluation.cross_validate(*data, folds=5, seed=seed, predictors={
            "model": evaluation.model_predictor(catalog=catalog), "baseline": evaluation.baseline_predictor})
        model_f1.append(results["model"]["macro_f1"])
        baseline_f1.append(results["baseline"]["macro_f1"])
        assert sum(map(sum, results["model"]["confusion_matrix"]["matrix"])) == len(data[0])
    assert min(model_f1) >= FLOOR
    assert np.mean(model_f1) >= np.mean(baseline_f1) + MARGIN


def test_confident_predictions_are_more_often_right_than_unsure_ones(data):
    texts, labels = np.array(data[0], dtype=object), np.array(data[1], dtype=object)
    held_out = np.arange(len(texts)) % 4 == 0
    model = Classifier().fit(list(texts[~held_out]), list(labels[~held_out]))
    predictions = model.predict(list(texts[held_out]))
    right = np.array([p.label == t for p, t in zip(predictions, labels[held_out], strict=True)])
    sure = np.array([p.confidence >= 0.9 for p in predictions])
    assert right[sure].mean() > right[~sure].mean() + 0.15
    assert right[sure].mean() >= 0.85
