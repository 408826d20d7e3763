"""Keywords of a group of reports: jieba words minus stopwords, ranked by TF-IDF against a background.

- words: jieba's segmentation of the first `MAX_CHARS` characters, keeping words of two or more characters
  that contain a Chinese character and are not in data/stopwords_zh.txt (source noted in the file);
- tf: the share of the group's reports that contain the word, so each report counts once and one long letter
  repeating a word does not outweigh ten short messages;
- idf: ln((1 + N) / (1 + df)) + 1 over the N background reports (the smoothed form scikit-learn uses), so a
  word every report uses ("道路", "晚上") scores low and a word peculiar to the group scores high.

`general_idf` is jieba's own IDF table (general Chinese text, the one jieba.analyse.extract_tags uses), for
telling a topical word ("噪音", "拆迁") from an everyday one ("购买", "通知") when there is no background of
our own to compare with.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import TypeVar

import jieba

MAX_CHARS = 300  # the gist of a message comes first; segmenting whole letters would dominate the run time
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
T = TypeVar("T")

jieba.setLogLevel(logging.WARNING)  # jieba announces loading its dictionary on stderr, which CLI users would see


@cache
def stopwords() -> frozenset[str]:
    text = (files("cityops.insight") / "data" / "stopwords_zh.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def words(text: str) -> frozenset[str]:
    """The distinct keywords of one text."""
    stop = stopwords()
    return frozenset(w for w in jieba.lcut(text[:MAX_CHARS]) if len(w) >= 2 and w not in stop and _CHINESE.search(w))


@cache
def _jieba_idf() -> tuple[dict[str, float], float]:
    import jieba.analyse  # loads a 270 000-word table (about a second): only when it is used

    table, median = jieba.analyse.default_tfidf.idf_loader.get_idf()
    return table, median


def general_idf(word: str) -> float:
    """How rare the word is in general Chinese; words jieba does not know get the table's median."""
    table, median = _jieba_idf()
    return table.get(word, median)


class WordCache:
    """Each report is segmented once, however many groups and backgrounds it is part of."""

    def __init__(self) -> None:
        self._seen: dict[int, frozenset[str]] = {}

    def of(self, key: int, text: str) -> frozenset[str]:
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = words(text)
        return found


@dataclass(frozen=True)
class Background:
    """Document frequencies over the reports a group is compared with."""

    size: int
    df: Counter[str]

    @classmethod
    def of(cls, documents: Iterable[frozenset[str]]) -> Background:
        df: Counter[str] = Counter()
        size = 0
        for document in documents:
            df.update(document)
            size += 1
        return cls(size, df)

    def idf(self, word: str) -> float:
        return math.log((1 + self.size) / (1 + self.df[word])) + 1


@dataclass(frozen=True)
class Keyword:
    word: str
    score: float  # tf × idf
    reports: int  # reports of the group that contain the word


def top_keywords(group: Sequence[frozenset[str]], background: Background, count: int) -> list[Keyword]:
    """The group's `count` best words. In a group of three or more, a word must appear in two reports at least:
    one message's turn of phrase is not what the group is about."""
    if not group:
        return []
    in_group: Counter[str] = Counter()
    for document in group:
        in_group.update(document)
    least = 2 if len(group) >= 3 else 1
    scored = [Keyword(w, n / len(group) * background.idf(w), n) for w, n in in_group.items() if n >= least]
    scored.sort(key=lambda k: (-k.score, k.word))
    return scored[:count]


def evenly(items: Sequence[T], at_most: int) -> list[T]:
    """At most `at_most` items spread evenly over the sequence: a deterministic sample, so reruns agree."""
    if len(items) <= at_most:
        return list(items)
    step = len(items) / at_most
    return [items[int(i * step)] for i in range(at_most)]
