"""Fuse: does a new report describe a case that is already open? Pure: no database, no clock.

Each open case near the report (in place and time) is scored on four things: how far apart they are, how far
apart in time, how alike the two texts are, and whether the categories agree. A candidate that fails a gate
(outside the radius or the time window, another category where the policy wants the same, texts too unlike)
cannot be chosen; among the others the best score at or above the policy's threshold wins. The decision keeps
every candidate's scores and why it was or was not chosen, so a dispatcher can see why two reports became one
case and split them apart when the machine was wrong.

Settings differ by category (fusion_policies.csv): a burst water main draws fifty calls within 500 m in an
hour, noise repeats nightly at one address for days, and a hotline complaint about unpaid wages has no useful
coordinates at all and is matched by region and text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from importlib import resources
from math import sqrt
from typing import Any, Literal, NamedTuple

from cityops.cases.cells import haversine_m
from cityops.core.errors import ValidationFailed
from cityops.regions.codes import level_for_division_code, level_rank, scope_prefix_for

MatchBy = Literal["place", "region"]
DEFAULT_KEY = "*"


@dataclass(frozen=True)
class FusionPolicy:
    """How one category (or every category under a code prefix) is fused."""

    key: str  # a category code or code prefix (BJ01-05, RX); "*" is the default
    match_by: MatchBy  # place: by coordinates (by region when they are missing); region: region and text only
    radius_m: float
    window_hours: float  # how long after a case's latest report a new one may still join it
    min_text_similarity: float
    # Without coordinates on both sides, or without a category, only the text tells: ask more of it.
    min_text_similarity_strict: float
    same_category: bool
    weight_place: float
    weight_time: float
    weight_text: float
    threshold: float
    # Words every report of this category uses (the catalogue's keywords): like generic words, they say little
    # about whether two reports of the category describe the same problem.
    category_words: frozenset[str] = frozenset()
    note: str = ""


@dataclass(frozen=True)
class Incoming:
    """The new report, as triage knows it (WGS-84 coordinates, when it has them)."""

    text: str
    at: datetime
    lng: float | None = None
    lat: float | None = None
    category_code: str | None = None
    region_code: str | None = None


class Candidate(NamedTuple):
    """An open case the report might belong to. (Candidates and their evidence are tuples: a hotline report
    can be weighed against fifty cases, and a tuple is built four times faster than a frozen dataclass.)"""

    case_id: int
    text: str
    last_report_at: datetime  # the case's latest report: a case that keeps being reported stays in the window
    lng: float | None = None
    lat: float | None = None
    category_code: str | None = None
    region_code: str | None = None
    received_at: datetime | None = None


class Evidence(NamedTuple):
    """One candidate's scores. distance_score is by coordinates, or by region when either side has none."""

    case_id: int
    distance_m: float | None
    distance_score: float
    minutes_apart: float
    time_score: float
    text_similarity: float
    category_match: bool | None  # None: one side has no category
    score: float
    refused: str | None = None  # the gate it failed, or None when it could be the case

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self._asdict().items()}


@dataclass(frozen=True)
class FusionDecision:
    case_id: int | None
    fused: bool
    evidence: list[Evidence]
    reason: str
    policy: str = DEFAULT_KEY

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "fused": self.fused, "policy": self.policy, "reason": self.reason,
                "evidence": [e.to_dict() for e in self.evidence]}


# --- the decision ---------------------------------------------------------------------------------------------


def decide(incoming: Incoming, candidates: Iterable[Candidate], policy: FusionPolicy) -> FusionDecision:
    evidence = sorted((score(incoming, c, policy) for c in candidates), key=_rank)
    chosen = next((e for e in evidence if e.refused is None), None)
    if chosen is None:
        why = evidence[0].refused if evidence else "附近没有未办结的案件 / no open case nearby"
        return FusionDecision(None, False, evidence, f"新案件 / new case: {why}", policy.key)
    return FusionDecision(chosen.case_id, True, evidence, _explain(chosen, policy), policy.key)


def _rank(e: Evidence) -> tuple[bool, float, float, float, int]:
    # Best score first; ties go to the most recently reported case, then the closest, then the oldest id,
    # so the same inputs always give the same decision.
    return (e.refused is not None, -e.score, e.minutes_apart, e.distance_m or 0.0, e.case_id)


def score(incoming: Incoming, candidate: Candidate, policy: FusionPolicy) -> Evidence:
    minutes = abs((incoming.at - candidate.last_report_at).total_seconds()) / 60
    time_score = _nearness(minutes, policy.window_hours * 60)
    text = text_similarity(incoming.text, candidate.text, policy.category_words)
    category = _category_match(incoming.category_code, candidate.category_code)
    distance, place, place_refusal = _place(incoming, candidate, policy)
    weights = policy.weight_place + policy.weight_time + policy.weight_text
    total = (policy.weight_place * place + policy.weight_time * time_score + policy.weight_text * text) / weights
    strict = distance is None or category is None
    refused = (place_refusal
               or _time_refusal(minutes, policy)
               or _category_refusal(category, policy)
               or _text_refusal(text, policy.min_text_similarity_strict if strict else policy.min_text_similarity)
               or (f"综合得分不足 / score {total:.2f} < {policy.threshold:.2f}" if total < policy.threshold else None))
    return Evidence(candidate.case_id, distance, place, minutes, time_score, text, category, total, refused)


def _place(incoming: Incoming, candidate: Candidate, policy: FusionPolicy) -> tuple[float | None, float, str | None]:
    """(distance in metres or None, place score, refusal)."""
    if policy.match_by == "place" and None not in (incoming.lng, incoming.lat, candidate.lng, candidate.lat):
        distance = haversine_m(incoming.lng, incoming.lat, candidate.lng, candidate.lat)  # type: ignore[arg-type]
        if distance > policy.radius_m:
            return distance, 0.0, f"超出范围 / too far: {distance:.0f} m > {policy.radius_m:.0f} m"
        return distance, _nearness(distance, policy.radius_m), None
    closeness = region_closeness(incoming.region_code, candidate.region_code)
    if closeness is None:
        return None, 0.0, "不在同一区域 / different regions"
    return None, closeness, None


def _nearness(value: float, limit: float) -> float:
    """1 at 0, 0 at the limit, falling slowly at first: well inside the radius or the window, a little further
    says little; close to the limit it says more."""
    return max(0.0, 1.0 - (value / limit) ** 2)


def _time_refusal(minutes: float, policy: FusionPolicy) -> str | None:
    if minutes > policy.window_hours * 60:
        return f"超出时间窗 / too long apart: {minutes / 60:.1f} h apart > {policy.window_hours:g} h"
    return None


def _category_refusal(match: bool | None, policy: FusionPolicy) -> str | None:
    return "类别不同 / another category" if policy.same_category and match is False else None


def _text_refusal(similarity: float, minimum: float) -> str | None:
    return f"文本差异大 / texts differ: similarity {similarity:.2f} < {minimum:.2f}" if similarity < minimum else None


def _category_match(a: str | None, b: str | None) -> bool | None:
    return None if not a or not b else a == b


def _explain(e: Evidence, policy: FusionPolicy) -> str:
    where = f"{e.distance_m:.0f} m" if e.distance_m is not None else "same region"
    return (f"与案件 {e.case_id} 为同一问题 / same problem as case {e.case_id}: {where}, "
            f"{e.minutes_apart:.0f} min apart, text {e.text_similarity:.2f}, "
            f"score {e.score:.2f} ≥ {policy.threshold:.2f} ({policy.key})")


# --- regions -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)  # the same few hundred regions meet again and again
def region_closeness(a: str | None, b: str | None) -> float | None:
    """1.0 for the same region; depth of the larger ÷ depth of the smaller when one contains the other (a city
    and one of its grids: 1/5); None when neither contains the other."""
    if not a or not b:
        return None
    level_a, level_b = level_for_division_code(a), level_for_division_code(b)
    if level_a is None or level_b is None:
        return 1.0 if a == b else None
    (outer, outer_level), (inner, inner_level) = sorted([(a, level_a), (b, level_b)], key=lambda x: level_rank(x[1]))
    if not inner.startswith(scope_prefix_for(outer, outer_level)):
        return None
    return (level_rank(outer_level) + 1) / (level_rank(inner_level) + 1)


# --- text ----------------------------------------------------------------------------------------------------

# Function words and politeness carry no meaning about the problem; they split the text like punctuation, so
# no bigram spans them.
_STOP_CHARS = frozenset("的了吗呢啊吧呀哦嘛么着过也都还就又在是和与及或把被给让从向对这那个我你他她它们您很太挺请")
# Words every complaint uses, whatever the problem: they count a quarter of a specific word.
_GENERIC = frozenset({
    "反映", "市民", "来电", "投诉", "举报", "附近", "严重", "希望", "尽快", "处理", "解决", "部门", "相关", "现在",
    "发现", "情况", "问题", "要求", "一下", "好几", "几次", "刚才", "赶紧", "派人", "没人", "麻烦", "谢谢", "已经",
    "一直", "没有", "不能", "影响", "安全", "隐患", "注意", "帮忙", "帮助", "请求", "路过", "看到", "居民",
})
_GENERIC_WEIGHT = 0.25
_TOKEN = re.compile(r"[0-9]+|[a-z]+|[\u4e00-\u9fff]")


def text_similarity(a: str, b: str, category_words: frozenset[str] = frozenset()) -> float:
    """Cosine of the two texts' character bigrams, the bigrams of generic complaint words and of the category's
    own words weighted down. In [0, 1]; some 20 µs for two short reports."""
    (grams_a, norm_a), (grams_b, norm_b) = _grams(a, category_words), _grams(b, category_words)
    if not grams_a or not grams_b:
        return 0.0
    if len(grams_b) < len(grams_a):
        grams_a, grams_b = grams_b, grams_a
    shared = sum(weight * grams_b[gram] for gram, weight in grams_a.items() if gram in grams_b)
    return min(1.0, shared / (norm_a * norm_b))


@lru_cache(maxsize=4096)  # a burst compares one text with many; bounded, for a worker that runs for months
def _grams(text: str, category_words: frozenset[str]) -> tuple[dict[str, float], float]:
    """Bigram → weight, and the vector's length. Generic and category words are pieces of their own, so no
    bigram straddles one ("市民反映希望" gives 市民, 反映, 希望 at a quarter weight, not 民反 or 映希)."""
    grams: dict[str, float] = {}
    low = _GENERIC | category_words
    for piece in _splitter(category_words).split(text.lower()):
        weight = _GENERIC_WEIGHT if piece in low else 1.0
        for run in _runs(piece):
            pieces = [run[0]] if len(run) == 1 else [run[i] + run[i + 1] for i in range(len(run) - 1)]
            for gram in pieces:
                grams[gram] = max(grams.get(gram, 0.0), weight)
    return grams, sqrt(sum(w * w for w in grams.values()))


@lru_cache(maxsize=64)
def _splitter(category_words: frozenset[str]) -> re.Pattern[str]:
    words = sorted(_GENERIC | category_words, key=lambda w: (-len(w), w))  # longest first: 拖欠工资 before 工资
    return re.compile("(" + "|".join(re.escape(w) for w in words) + ")")


def _runs(text: str) -> list[list[str]]:
    """Runs of meaningful tokens (a Chinese character, a number, a Latin word), split at everything else."""
    runs: list[list[str]] = [[]]
    position = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if match.start() != position or token in _STOP_CHARS:
            runs.append([])
        if token not in _STOP_CHARS:
            runs[-1].append(token)
        position = match.end()
    return [run for run in runs if run]


# --- policies ------------------------------------------------------------------------------------------------

COLUMNS = ("key", "match_by", "radius_m", "window_hours", "min_text_similarity", "min_text_similarity_strict",
           "same_category", "weight_place", "weight_time", "weight_text", "threshold", "category_words", "note")


@dataclass(frozen=True)
class FusionPolicies:
    """The policies by key; the longest key a category code starts with applies, else the default."""

    by_key: dict[str, FusionPolicy] = field(default_factory=dict)

    def for_category(self, code: str | None) -> FusionPolicy:
        if code:
            for length in range(len(code), 0, -1):
                found = self.by_key.get(code[:length])
                if found is not None:
                    return found
        return self.by_key[DEFAULT_KEY]


def parse_policies(text: str, *, source: str = "fusion_policies.csv") -> FusionPolicies:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise ValidationFailed(f"{source} 缺少列 / has no column {missing[0]!r}", field=missing[0])
    policies = {p.key: p for p in (_policy(row, reader.line_num, source) for row in reader)}
    if DEFAULT_KEY not in policies:
        raise ValidationFailed(f"{source} 需要默认行 / needs a default row (key {DEFAULT_KEY!r})", field="key")
    return FusionPolicies(policies)


def _policy(row: dict[str, str], line: int, source: str) -> FusionPolicy:
    def number(name: str, low: float, high: float) -> float:
        try:
            value = float(row[name])
        except (TypeError, ValueError):
            value = float("nan")
        if not low <= value <= high:
            raise ValidationFailed(f"{source} 第 {line} 行 / line {line}: {row.get(name)!r} not in [{low:g}, {high:g}]",
                                   field=name)
        return value

    if row["match_by"] not in ("place", "region"):
        raise ValidationFailed(f"{source} 第 {line} 行 / line {line}: place or region", field="match_by")
    if row["same_category"] not in ("0", "1"):
        raise ValidationFailed(f"{source} 第 {line} 行 / line {line}: 0 or 1", field="same_category")
    weights = {name: number(name, 0, 1) for name in ("weight_place", "weight_time", "weight_text")}
    if sum(weights.values()) <= 0:
        raise ValidationFailed(f"{source} 第 {line} 行 / line {line}: weights are all 0", field="weight_text")
    return FusionPolicy(
        key=row["key"].strip(), match_by=row["match_by"], radius_m=number("radius_m", 1, 50_000),  # type: ignore[arg-type]
        window_hours=number("window_hours", 0.1, 24 * 366),
        min_text_similarity=number("min_text_similarity", 0, 1),
        min_text_similarity_strict=number("min_text_similarity_strict", 0, 1),
        same_category=row["same_category"] == "1", threshold=number("threshold", 0, 1),
        category_words=frozenset(w.strip() for w in (row["category_words"] or "").split("|") if w.strip()),
        note=row.get("note") or "", **weights)


@cache
def load_policies() -> FusionPolicies:
    """The packaged policies (src/cityops/triage/data/fusion_policies.csv)."""
    text = resources.files("cityops.triage").joinpath("data/fusion_policies.csv").read_text(encoding="utf-8")
    return parse_policies(text)


def policies_from(rows: Sequence[FusionPolicy]) -> FusionPolicies:
    return FusionPolicies({p.key: p for p in rows})
