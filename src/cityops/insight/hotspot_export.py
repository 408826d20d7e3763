"""Hotspots as JSON (the API and `--format json`) and as table rows for the terminal."""

from __future__ import annotations

from typing import Any

from cityops.insight.hotspot_service import HotspotReport
from cityops.insight.hotspots import Hotspot

TABLE_HEADER = ("排名\nrank", "区划\nregions", "本期\ncount", "预期\nexpected", "增幅\ngrowth", "得分\nscore",
                "关键词\nkeywords", "分类\ncategories")


def to_json(report: HotspotReport) -> dict[str, Any]:
    result = report.result
    return {"region": {"region_code": report.region_code, "region_name": report.region_name},
            "since": report.date_since.isoformat(), "until": report.date_until.isoformat(), "until_excluded": True,
            "window": {"start": result.since.isoformat(), "end": result.until.isoformat()},
            "baseline": {"start": result.baseline_since.isoformat(), "end": result.since.isoformat()},
            "resolution": result.params.resolution, "lookback": result.params.lookback,
            "reports": result.reports, "baseline_reports": result.baseline_reports,
            "unlocated": {"reports": result.unlocated.count, "baseline_reports": result.unlocated.baseline},
            "found": result.found, "items": [_hotspot(report, h) for h in result.hotspots]}


def _hotspot(report: HotspotReport, hotspot: Hotspot) -> dict[str, Any]:
    centre = None if hotspot.centre_lng is None else {"lng": round(hotspot.centre_lng, 6),
                                                      "lat": round(hotspot.centre_lat or 0.0, 6)}
    return {"rank": hotspot.rank, "located_by": hotspot.located_by, "cells": list(hotspot.cells),
            "region_codes": list(hotspot.region_codes),
            "regions": [{"region_code": c, "region_name": report.names.get(c, c)} for c in hotspot.region_codes],
            "centre": centre, "count": hotspot.count, "baseline": hotspot.baseline,
            "expected": round(hotspot.expected, 4), "growth": round(hotspot.growth, 4),
            "score": round(hotspot.score, 4),
            "keywords": [{"word": k.word, "score": round(k.score, 4), "reports": k.reports} for k in hotspot.keywords],
            "categories": [{"category_code": code, "category_name": report.names.get(code, code) if code else "未分类",
                            "reports": n} for code, n in hotspot.categories],
            "sample_reports": [report.public_ids.get(i, str(i)) for i in hotspot.sample_report_ids]}


def table_rows(report: HotspotReport) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for h in report.result.hotspots:
        regions = "、".join(report.names.get(c, c) for c in h.region_codes[:3]) or "—"
        categories = "、".join(f"{report.names.get(c, c) if c else '未分类'} {n}" for c, n in h.categories[:3])
        rows.append((str(h.rank), regions, str(h.count), f"{h.expected:.1f}", f"×{h.growth:.1f}", f"{h.score:.1f}",
                     " ".join(k.word for k in h.keywords[:5]), categories))
    return rows
