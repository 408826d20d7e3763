"""How well fusion decides on labelled pairs of reports. Pure: reads a table, returns figures.

Each row is two reports, A and B, and a label: same=1 when they describe one problem, 0 when not. B is the new
report and A the only open case it could join, under the policy of B's category; "fused" counts as saying
"same". Columns (CSV in UTF-8 or GB18030, or XLSX; names in any case):

    a_text, a_lng, a_lat, a_time, a_category_code, a_region_code,
    b_text, b_lng, b_lat, b_time, b_category_code, b_region_code, same
    optional: pair_id (shown in errors), kind (figures are also given per kind)

lng/lat are WGS-84 and may be empty (a hotline call without a location); times without a zone are
Asia/Shanghai (2026-03-02 08:15, 2026/3/2 8:15); region codes are statistical division codes (370303001).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from cityops.core.errors import ValidationFailed
from cityops.core.tabular import Table, parse_datetime
from cityops.triage.fusion import Candidate, FusionDecision, FusionPolicies, Incoming, decide

SIDE_FIELDS = ("text", "lng", "lat", "time", "category_code", "region_code")
REQUIRED = (*(f"{side}_{name}" for side in "ab" for name in SIDE_FIELDS), "same")
ZONE = ZoneInfo("Asia/Shanghai")
_CANDIDATE_ID = 1  # A plays the one open case


@dataclass(frozen=True)
class LabelledPair:
    line: int
    pair_id: str
    kind: str
    a: Incoming
    b: Incoming
    same: bool


def parse_pairs(table: Table) -> list[LabelledPair]:
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise ValidationFailed(f"缺少列 {missing[0]!r} / missing column {missing[0]!r}", field=missing[0])
    return [_pair(row, line) for row, line in zip(table.rows, table.lines, strict=True)]


def _pair(row: dict[str, str], line: int) -> LabelledPair:
    same = row["same"].strip()
    if same not in ("0", "1"):
        raise ValidationFailed(f"第 {line} 行应为 0 或 1 / line {line}: 0 or 1, got {same!r}", field="same")
    return LabelledPair(line, row.get("pair_id", "") or str(line), row.get("kind", ""), _report(row, "a", line),
                        _report(row, "b", line), same == "1")


def _report(row: dict[str, str], side: str, line: int) -> Incoming:
    def cell(name: str) -> str:
        return row[f"{side}_{name}"].strip()

    text = cell("text")
    if not text:
        raise ValidationFailed(f"第 {line} 行为空 / line {line} is empty", field=f"{side}_text")
    return Incoming(text=text, at=parse_datetime(cell("time"), ZONE, f"{side}_time (line {line})"),
                    lng=_coordinate(cell("lng"), -180, 180, f"{side}_lng", line),
                    lat=_coordinate(cell("lat"), -90, 90, f"{side}_lat", line),
                    category_code=cell("category_code") or None, region_code=cell("region_code") or None)


def _coordinate(text: str, low: float, high: float, column: str, line: int) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise ValidationFailed(f"第 {line} 行不是有效坐标 / line {line}: not a coordinate: {text!r}", field=column)
    return value


def judge(pair: LabelledPair, policies: FusionPolicies) -> FusionDecision:
    a = pair.a
    case = Candidate(case_id=_CANDIDATE_ID, text=a.text, last_report_at=a.at, lng=a.lng, lat=a.lat,
                     category_code=a.category_code, region_code=a.region_code, received_at=a.at)
    return decide(pair.b, [case], policies.for_category(pair.b.category_code))


def evaluate(pairs: list[LabelledPair], policies: FusionPolicies, *, errors: int = 5) -> dict[str, Any]:
    """{pairs, precision, recall, f1, true_positives, …, errors: the first `errors` misjudged pairs, by_kind}."""
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    wrong: list[dict[str, Any]] = []
    for pair in pairs:
        decision = judge(pair, policies)
        outcome = ("t" if decision.fused == pair.same else "f") + ("p" if decision.fused else "n")
        counts[outcome] += 1
        kinds[pair.kind][0] += 1
        kinds[pair.kind][1] += outcome[0] == "t"
        if outcome[0] == "f" and len(wrong) < errors:
            wrong.append(_error(pair, decision))
    return _figures(len(pairs), counts, wrong, kinds)


def _error(pair: LabelledPair, decision: FusionDecision) -> dict[str, Any]:
    return {"pair_id": pair.pair_id, "line": pair.line, "kind": pair.kind, "same": int(pair.same),
            "fused": decision.fused, "a_text": pair.a.text, "b_text": pair.b.text, "policy": decision.policy,
            "evidence": decision.evidence[0].to_dict() if decision.evidence else None}


def _figures(total: int, c: dict[str, int], wrong: list[dict[str, Any]],
             kinds: dict[str, list[int]]) -> dict[str, Any]:
    precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    figures: dict[str, Any] = {
        "pairs": total, "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
        "true_positives": c["tp"], "false_positives": c["fp"], "false_negatives": c["fn"],
        "true_negatives": c["tn"], "errors": wrong}
    if any(kinds) and "" not in kinds:
        figures["by_kind"] = {k: {"pairs": n, "correct": ok} for k, (n, ok) in sorted(kinds.items())}
    return figures
