"""The classifier as plain functions: fit, predict, confidence, the fast path, save and load."""

from __future__ import annotations

import csv
import unicodedata
from collections import Counter
from pathlib import Path

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from cityops.triage import model_file
from cityops.triage.classify import Classifier, join_fields
from cityops.triage.model_file import ModelFileError

EVAL = Path(__file__).parent / "data" / "broad_classes_eval.csv"


def eval_rows() -> list[dict[str, str]]:
    with EVAL.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def split() -> tuple[list[str], list[str], list[str], list[str]]:
    """Every fifth row held out, the rest for training."""
    rows = eval_rows()
    texts = [join_fields([r["留言主题"], r["留言详情"]]) for r in rows]
    labels = [r["一级分类"] for r in rows]
    train = [i for i in range(len(rows)) if i % 5]
    test = [i for i in range(len(rows)) if not i % 5]
    return ([texts[i] for i in train], [labels[i] for i in train], [texts[i] for i in test], [labels[i] for i in test])


@pytest.fixture(scope="module")
def model(split: tuple[list[str], list[str], list[str], list[str]]) -> Classifier:
    return Classifier().fit(split[0], split[1])


def test_a_trained_model_labels_most_unseen_reports_correctly(model: Classifier, split):
    _, _, texts, truth = split
    predicted = [p.label for p in model.predict(texts)]
    majority = Counter(truth).most_common(1)[0][1] / len(truth)
    accuracy = np.mean([p == t for p, t in zip(predicted, truth, strict=True)])
    assert accuracy > 0.75 > majority


def test_confidence_is_a_probability_and_the_top_list_is_ordered(model: Classifier, split):
    for prediction in model.predict(split[2]):
        probabilities = [p for _, p in prediction.top]
        assert 0.0 <= prediction.confidence <= 1.0
        assert probabilities == sorted(probabilities, reverse=True)
        assert prediction.top[0] == (prediction.label, prediction.confidence)
        assert sum(probabilities) <= 1.0 + 1e-9
        assert len(prediction.top) == min(3, len(model.labels))


def test_correct_predictions_are_more_confident_than_wrong_ones(model: Classifier, split):
    predictions = model.predict(split[2])
    right = [p.confidence for p, t in zip(predictions, split[3], strict=True) if p.label == t]
    wrong = [p.confidence for p, t in zip(predictions, split[3], strict=True) if p.label != t]
    assert wrong and np.mean(right) > np.mean(wrong) + 0.1


def test_the_single_message_path_gives_the_same_answer_as_the_batch_path(model: Classifier, split):
    for text, batch in zip(split[2][:40], model.predict(split[2][:40]), strict=True):
        one = model.predict_one(text)
        assert one.label == batch.label
        assert one.confidence == pytest.approx(batch.confidence, abs=1e-9)


def test_features_are_those_of_scikit_learns_character_tfidf_after_nfkc_folding(split):
    texts = split[0][:60]
    ours = Classifier().fit(texts, split[1][:60])
    reference = TfidfVectorizer(
        analyzer="char", ngram_range=(1, 2), preprocessor=lambda t: unicodedata.normalize("NFKC", t).lower()
    ).fit(texts)
    assert set(ours.vocabulary) == set(reference.vocabulary_)
    order = [ours.vocabulary[g] for g in reference.get_feature_names_out()]
    ours_matrix = ours.vectorize(texts).toarray()[:, order]
    assert np.allclose(ours_matrix, reference.transform(texts).toarray())


def test_text_of_unseen_characters_only_still_gets_a_prediction(model: Classifier):
    prediction = model.predict_one("ⅩⅩⅩ 🙂🙂")
    assert prediction.label in model.labels and 0.0 <= prediction.confidence <= 1.0


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_predicting_never_fails_on_arbitrary_unicode(model: Classifier, text: str):
    prediction = model.predict_one(text)
    assert prediction.label in model.labels
    assert 0.0 <= prediction.confidence <= 1.0


def test_a_label_with_a_single_example_trains_without_calibration():
    model = Classifier().fit(
        ["井盖丢了", "井盖坏了", "路灯不亮", "路灯坏了", "噪音扰民"], ["井盖", "井盖", "路灯", "路灯", "噪音"]
    )
    assert model.temperature == 1.0
    assert model.predict_one("井盖没了").label == "井盖"


def test_training_needs_matching_lengths_and_two_labels():
    with pytest.raises(ValueError, match="labels"):
        Classifier().fit(["一", "二"], ["a"])
    with pytest.raises(ValueError, match="two different labels"):
        Classifier().fit(["一", "二"], ["a", "a"])


def test_weighted_examples_pull_the_decision_their_way():
    texts = ["路边井盖坏了", "井盖松动", "路灯不亮", "路灯闪烁", "井盖路灯都坏了"]
    labels = ["井盖", "井盖", "路灯", "路灯", "路灯"]
    light = Classifier().fit(texts, labels, weights=[1, 1, 1, 1, 0.01])
    heavy = Classifier().fit(texts, labels, weights=[1, 1, 1, 1, 50])
    mixed = "井盖路灯都坏了"
    assert dict(heavy.predict_one(mixed).top)["路灯"] > dict(light.predict_one(mixed).top)["路灯"]


def test_progress_is_reported_up_to_its_total(split):
    seen: list[tuple[int, int]] = []
    Classifier().fit(split[0][:80], split[1][:80], lambda done, total: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == list(range(1, len(seen) + 1))


def test_subject_weighting_repeats_the_first_field_and_drops_empty_ones():
    assert join_fields(["井盖缺失", "华光路口井盖没了"]) == "井盖缺失\n华光路口井盖没了"
    weighted = join_fields(["井盖缺失", "华光路口井盖没了"], subject_weight=3)
    assert weighted == "井盖缺失\n井盖缺失\n井盖缺失\n华光路口井盖没了"
    assert join_fields([" ", "只有详情 "], subject_weight=2) == "只有详情"


def test_a_saved_model_loads_with_its_metadata_and_predicts_the_same(model: Classifier, split, tmp_path: Path):
    path = tmp_path / "m.joblib"
    model_file.save(model, path, rows=len(split[0]), subject_weight=2)
    loaded, meta = model_file.load(path)
    assert meta["format_version"] == model_file.FORMAT_VERSION and meta["rows"] == len(split[0])
    assert meta["labels"] == model.labels and meta["subject_weight"] == 2
    assert {"sklearn_version", "trained_at"} <= set(meta)
    assert [p.label for p in loaded.predict(split[2])] == [p.label for p in model.predict(split[2])]


def test_a_file_of_another_format_version_is_refused_with_a_clear_message(model: Classifier, tmp_path: Path):
    path = tmp_path / "old.joblib"
    model_file.save(model, path, rows=1)
    content = joblib.load(path)
    content["meta"]["format_version"] = model_file.FORMAT_VERSION + 1
    joblib.dump(content, path)
    with pytest.raises(ModelFileError) as caught:
        model_file.load(path)
    assert str(model_file.FORMAT_VERSION + 1) in caught.value.message("en")
    assert "格式版本" in caught.value.message("zh-CN")


def test_files_that_are_not_classifiers_are_refused(tmp_path: Path):
    junk, other = tmp_path / "junk.joblib", tmp_path / "other.joblib"
    junk.write_bytes(b"not a pickle at all")
    joblib.dump({"something": "else"}, other)
    for path in (junk, other, tmp_path / "missing.joblib"):
        with pytest.raises(ModelFileError):
            model_file.load(path)
