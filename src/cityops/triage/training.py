"""Fitting the classifier: vocabulary and idf, one linear SVM per label, a softmax temperature. Pure.

The temperature is fitted on out-of-fold scores (a model's scores on its own training rows are overconfident),
then the SVMs are fitted once more on every row. Progress counts one step for the vocabulary and one per SVM.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import minimize_scalar
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from cityops.triage.classify import CALIBRATION_FOLDS, SVM_C, Classifier, Progress, char_ngrams, softmax


@dataclass(frozen=True)
class Fitted:
    vocabulary: dict[str, int]
    idf: NDArray[np.float64]
    coef: NDArray[np.float64]
    intercept: NDArray[np.float64]
    labels: list[str]
    temperature: float


def fit(
    texts: list[str], labels: list[str], *, progress: Progress | None = None, weights: NDArray[np.float64] | None = None
) -> Fitted:
    names = sorted(set(labels))
    y = np.array([names.index(label) for label in labels])
    folds = _calibration_folds(y)
    total = 1 + len(names) * (1 + len(folds))
    tick = _Ticker(total, progress)
    vocabulary, idf = _vocabulary(texts)
    model = Classifier(vocabulary=vocabulary, idf=idf, labels=names)
    x = model.vectorize(texts)
    tick()
    held_out = np.zeros((len(texts), len(names)))
    for train, test in folds:
        coef, intercept = _svms(x[train], y[train], len(names), None if weights is None else weights[train], tick)
        held_out[test] = np.asarray(x[test] @ coef) + intercept
    coef, intercept = _svms(x, y, len(names), weights, tick)
    temperature = _temperature(held_out, y) if folds else 1.0
    return Fitted(vocabulary, idf, coef, intercept, names, temperature)


def _vocabulary(texts: Sequence[str]) -> tuple[dict[str, int], NDArray[np.float64]]:
    document_frequency: Counter[str] = Counter()
    for text in texts:
        document_frequency.update(set(char_ngrams(text)))
    grams = sorted(document_frequency)
    df = np.array([document_frequency[g] for g in grams], dtype=float)
    idf = np.log((1 + len(texts)) / (1 + df)) + 1  # scikit-learn's smoothed idf, so results match its vectorizer
    return {g: i for i, g in enumerate(grams)}, idf


def _svms(
    x: sparse.csr_matrix, y: NDArray[np.int_], n_labels: int, weights: NDArray[np.float64] | None, tick: _Ticker
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One-vs-rest, as LinearSVC does it internally, but label by label so the bar can move."""
    coef = np.zeros((x.shape[1], n_labels))
    intercept = np.full(n_labels, -1.0)  # a label absent from this fold never wins
    for label in range(n_labels):
        target = (y == label).astype(int)
        if 0 < target.sum() < len(target):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                svm = LinearSVC(C=SVM_C, random_state=0).fit(x, target, sample_weight=weights)
            coef[:, label], intercept[label] = svm.coef_[0], svm.intercept_[0]
        tick()
    return coef, intercept


def _calibration_folds(y: NDArray[np.int_]) -> list[tuple[NDArray[np.int_], NDArray[np.int_]]]:
    smallest = int(np.bincount(y).min())
    n_folds = min(CALIBRATION_FOLDS, smallest)
    if n_folds < 2:
        return []  # a label with one example: no honest held-out score, the temperature stays 1
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=0)
    return list(splitter.split(np.zeros(len(y)), y))


def _temperature(scores: NDArray[np.float64], y: NDArray[np.int_]) -> float:
    """The temperature that makes softmax(scores / T) the most likely explanation of the held-out labels."""

    def loss(log_t: float) -> float:
        probabilities = softmax(scores / np.exp(log_t))
        return float(-np.log(probabilities[np.arange(len(y)), y] + 1e-12).mean())

    return float(np.exp(minimize_scalar(loss, bounds=(-5.0, 3.0), method="bounded").x))


class _Ticker:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done, self.total, self.progress = 0, total, progress

    def __call__(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)
