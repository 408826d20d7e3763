"""Hotspots (未诉先办): places where reports rise above their own baseline. Pure: no database, no clock.

A place is an H3 cell when the report has coordinates, else the region code it was located to (hotline
messages placed by address or text). Reports placed nowhere (no coordinates, no region below the city) are
counted in a bucket of their own. For the window [since, until), every place is compared with its own past:

- baseline: its reports in the `lookback` windows just before (4 × the window length by default), plus a
  prior of one report, so a place with no history needs a few reports to stand out; expected = (baseline +
  prior) ÷ lookback is what the window would hold at the old rate, growth = count ÷ expected;
- score: -log10 P(window count at least this high | window + baseline reports, rate unchanged), the
  conditional binomial test of surprise.py, which allows for the baseline being a noisy count too. A place
  at its usual volume scores about 0.3, however large that volume is;
- hot cells: warm cells (P ≤ warm_p and count ≥ min_growth × expected) next to each other (H3 grid_disk
  neighbours) are merged into one cluster, so a rise spread over a few blocks is seen as one; a cluster (or a
  region-coded place) is a hotspot when, taken together, count ≥ min_count, count ≥ min_growth × expected
  and P ≤ alpha ÷ m, m being the number of places with reports in the window (Bonferroni: however many
  places a city has, the chance that a steady one is flagged stays about alpha). The growth floor keeps
  tiny but significant wobbles of very large places out.

Each hotspot carries its keywords (TF-IDF against all reports of the analysis, see keywords.py), its
categories and a few report ids. docs/insight.md explains the choices.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import h3

from cityops.insight import surprise
from cityops.insight.facts import ReportRow
from cityops.insight.keywords import Background, Keyword, WordCache, evenly, top_keywords
from cityops.regions.codes import code_problem

CellKind = Literal["h3", "region"]


@dataclass(frozen=True)
class HotspotParams:
    resolution: int = 8  # H3 resolution: 8 ≈ 0.74 km² a cell, a few blocks
    lookback: int = 4  # the baseline covers this many window lengths just before the window
    prior: int = 1  # reports added to every place's baseline, so a new place needs a few reports to count
    warm_p: float = 0.05  # a cell this unlikely under its baseline may join its hot neighbours
    alpha: float = 0.05  # the chance, over all places together, of flagging one where nothing changed
    min_growth: float = 1.5  # a hotspot has at least this many times its expected count…
    min_count: int = 3  # … and at least this many reports
    keywords: int = 8
    samples: int = 5
    limit: int = 20
    keyword_reports: int = 300  # reports of one hotspot whose words are read, evenly spread over the window
    background_reports: int = 1000  # reports the idf is estimated on, evenly spread over the whole analysis

    def __post_init__(self) -> None:
        checks = {"resolution": 0 <= self.resolution <= 15, "lookback": self.lookback >= 1,
                  "prior": self.prior >= 1, "warm_p": 0 < self.warm_p <= 1, "alpha": 0 < self.alpha <= 1,
                  "min_growth": self.min_growth >= 1, "min_count": self.min_count >= 1, "limit": self.limit >= 1}
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"hotspot parameters out of range: {', '.join(bad)}")


@dataclass(frozen=True, order=True)
class CellKey:
    kind: CellKind
    id: str  # H3 index, or region code


@dataclass(frozen=True)
class CellCount:
    key: CellKey
    count: int  # reports in the window
    baseline: int  # reports in the lookback period
    expected: float  # expected reports in the window


@dataclass(frozen=True)
class Hotspot:
    rank: int
    located_by: Literal["coordinates", "region"]
    cells: tuple[str, ...]  # H3 cells; empty when located by region code
    region_codes: tuple[str, ...]  # where its reports lie, most reports first
    centre_lng: float | None  # count-weighted centre of its cells (None for a region-coded place)
    centre_lat: float | None
    count: int
    baseline: int
    expected: float
    growth: float  # count ÷ expected
    score: float  # -log10 P(a count this high | count + baseline + prior reports, rate unchanged)
    keywords: tuple[Keyword, ...]
    categories: tuple[tuple[str | None, int], ...]  # (category code, or None if not classified; reports)
    sample_report_ids: tuple[int, ...]  # the latest reports


@dataclass(frozen=True)
class Bucket:
    """Reports that could not be placed: counted, never dropped."""

    count: int
    baseline: int


@dataclass(frozen=True)
class HotspotResult:
    since: datetime
    until: datetime
    baseline_since: datetime
    params: HotspotParams
    reports: int  # in the window
    baseline_reports: int
    unlocated: Bucket
    cells: tuple[CellCount, ...]  # every place with reports in the window or the baseline
    found: int  # hotspots before `limit` was applied
    hotspots: tuple[Hotspot, ...]


@dataclass
class _Place:
    key: CellKey
    expected: float = 0.0
    count: int = 0
    baseline: int = 0
    reports: list[ReportRow] = field(default_factory=list)  # the window's


def find_hotspots(rows: Iterable[ReportRow], *, since: datetime, until: datetime,
                  params: HotspotParams | None = None) -> HotspotResult:
    params = params or HotspotParams()
    if since.tzinfo is None or until.tzinfo is None or until <= since:
        raise ValueError("the window needs aware datetimes with since < until")
    baseline_since = since - (until - since) * params.lookback
    places, unlocated, analysed = _tally(rows, since, until, baseline_since, params)
    for place in places.values():
        place.expected = (place.baseline + params.prior) / params.lookback
    tested = sum(1 for place in places.values() if place.count)
    threshold = math.log(params.alpha / max(tested, 1))
    clusters = [c for c in _clusters(places, params) if _is_hot(c, params, threshold)]
    clusters.sort(key=lambda c: (-_score(c, params), -sum(p.count for p in c), c[0].key))
    words = WordCache()
    background = Background.of(words.of(r.report_id, r.text)
                               for r in evenly(sorted(analysed, key=_order), params.background_reports))
    hotspots = tuple(_hotspot(rank, cluster, background, words, params)
                     for rank, cluster in enumerate(clusters[:params.limit], start=1))
    cells = tuple(CellCount(p.key, p.count, p.baseline, p.expected) for p in sorted(places.values(),
                                                                                    key=lambda p: p.key))
    return HotspotResult(since=since, until=until, baseline_since=baseline_since, params=params,
                         reports=sum(c.count for c in cells) + unlocated.count,
                         baseline_reports=sum(c.baseline for c in cells) + unlocated.baseline,
                         unlocated=unlocated, cells=cells, found=len(clusters), hotspots=hotspots)


def cell_of(row: ReportRow, resolution: int) -> CellKey | None:
    """The place a report counts in: its H3 cell, else its region below the city, else none."""
    if row.lng is not None and row.lat is not None and math.isfinite(row.lng) and -90 <= row.lat <= 90:
        return CellKey("h3", h3.latlng_to_cell(row.lat, row.lng, resolution))
    code = row.region_code
    if code and code_problem(code, "city") is not None:  # a city code says only "somewhere in the city"
        return CellKey("region", code)
    return None


def _tally(rows: Iterable[ReportRow], since: datetime, until: datetime, baseline_since: datetime,
           params: HotspotParams) -> tuple[dict[CellKey, _Place], Bucket, list[ReportRow]]:
    places: dict[CellKey, _Place] = {}
    unlocated = [0, 0]
    analysed: list[ReportRow] = []
    for row in rows:
        in_window = since <= row.at < until
        if not in_window and not baseline_since <= row.at < since:
            continue
        analysed.append(row)
        key = cell_of(row, params.resolution)
        if key is None:
            unlocated[0 if in_window else 1] += 1
            continue
        place = places.get(key) or places.setdefault(key, _Place(key))
        if in_window:
            place.count += 1
            place.reports.append(row)
        else:
            place.baseline += 1
    return places, Bucket(*unlocated), analysed


def _is_warm(place: _Place, params: HotspotParams) -> bool:
    return (place.count >= params.min_growth * place.expected
            and surprise.rise_log_p(place.count, place.baseline + params.prior, params.lookback)
            <= math.log(params.warm_p))


def _clusters(places: dict[CellKey, _Place], params: HotspotParams) -> list[list[_Place]]:
    """Warm H3 cells joined to their warm neighbours; each warm region-coded place on its own."""
    warm = {key: place for key, place in places.items() if place.count and _is_warm(place, params)}
    clusters: list[list[_Place]] = []
    seen: set[CellKey] = set()
    for key in sorted(warm):
        if key in seen:
            continue
        seen.add(key)
        cluster, queue = [], deque([key])
        while queue:
            current = queue.popleft()
            cluster.append(warm[current])
            if current.kind != "h3":
                continue
            for neighbour in h3.grid_disk(current.id, 1):
                other = CellKey("h3", neighbour)
                if other in warm and other not in seen:
                    seen.add(other)
                    queue.append(other)
        clusters.append(sorted(cluster, key=lambda p: p.key))
    return clusters


def _totals(cluster: Sequence[_Place]) -> tuple[int, int, float]:
    return (sum(p.count for p in cluster), sum(p.baseline for p in cluster), sum(p.expected for p in cluster))


def _log_p(cluster: Sequence[_Place], params: HotspotParams) -> float:
    count, baseline, _ = _totals(cluster)
    return surprise.rise_log_p(count, baseline + params.prior * len(cluster), params.lookback)


def _score(cluster: Sequence[_Place], params: HotspotParams) -> float:
    return -_log_p(cluster, params) / math.log(10)


def _is_hot(cluster: Sequence[_Place], params: HotspotParams, log_threshold: float) -> bool:
    count, _, expected = _totals(cluster)
    return (count >= params.min_count and count >= params.min_growth * expected
            and _log_p(cluster, params) <= log_threshold)


def _hotspot(rank: int, cluster: Sequence[_Place], background: Background, words: WordCache,
             params: HotspotParams) -> Hotspot:
    count, baseline, expected = _totals(cluster)
    reports = sorted((r for p in cluster for r in p.reports), key=_order)
    located_by: Literal["coordinates", "region"] = "coordinates" if cluster[0].key.kind == "h3" else "region"
    group = [words.of(r.report_id, r.text) for r in evenly(reports, params.keyword_reports)]
    lng, lat = _centre(cluster) if located_by == "coordinates" else (None, None)
    regions = Counter(r.region_code for r in reports if r.region_code)
    categories = Counter(r.category_code for r in reports)
    return Hotspot(
        rank=rank, located_by=located_by,
        cells=tuple(p.key.id for p in cluster) if located_by == "coordinates" else (),
        region_codes=tuple(code for code, _ in sorted(regions.items(), key=lambda kv: (-kv[1], kv[0]))),
        centre_lng=lng, centre_lat=lat, count=count, baseline=baseline, expected=expected,
        growth=count / expected, score=_score(cluster, params),
        keywords=tuple(top_keywords(group, background, params.keywords)),
        categories=tuple(sorted(categories.items(), key=lambda kv: (-kv[1], kv[0] or ""))),
        sample_report_ids=tuple(r.report_id for r in reversed(reports[-params.samples:])))


def _centre(cluster: Sequence[_Place]) -> tuple[float, float]:
    weights = [(h3.cell_to_latlng(p.key.id), p.count) for p in cluster]
    total = sum(w for _, w in weights)
    return (sum(lng * w for (_, lng), w in weights) / total, sum(lat * w for (lat, _), w in weights) / total)


def _order(row: ReportRow) -> tuple[datetime, int]:
    return row.at, row.report_id
