"""每月一题 (the monthly topic): the month's topics ranked by volume, growth and repeat rate, overall and per
region. Pure: no database, no clock. Rendered by topic_report.py; definitions in docs/insight.md.

- topic: the report's category when triage (or the channel) gave one; otherwise a keyword topic: the
  uncategorised reports of the month are covered greedily by keywords (the word with the highest
  df × idf, df counting the reports not yet covered and idf being jieba's general-Chinese table, becomes a
  topic and takes every report containing it; then the next word over what is left, …), so every
  uncategorised report lands in exactly one topic, or in 其他 (other) when none of the chosen words fits.
  A keyword topic is named by its word and the three words most peculiar to its reports (TF-IDF against
  the month's uncategorised reports), e.g. 景园（滨河、车位、捆绑）;
- region: the report's region at the chosen level (district by default); reports not located that finely are
  grouped under the region asked about ("未细分", not located more precisely);
- volume: reports in the month; growth: (volume − previous month) ÷ previous month, none when the topic is
  new; repeat rate: the share of the month's reports that ask again about something already raised: fused
  into a case an earlier report had opened, or of the same topic at the same place (H3 cell at resolution 9,
  ≈ 0.1 km², else a community or grid code) as a report in the `repeat_days` before;
- score = w_v · volume ÷ the largest volume ranked with it + w_g · growth clipped to [0, 1] (a rise of
  100 % or more counts fully; a new topic's growth counts as its volume ÷ 1) + w_r · repeat rate,
  with weights 0.5, 0.3 and 0.2.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

import h3

from cityops.core.clock import CHINA_TZ
from cityops.insight.facts import ReportRow
from cityops.insight.keywords import Background, WordCache, general_idf, top_keywords
from cityops.regions.codes import CODE_LENGTHS, Level, code_problem

TopicKind = Literal["category", "keyword", "other"]
OTHER = "other"
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        found = _MONTH.match(text.strip())
        if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1900:
            raise ValueError(f"{text!r} 不是月份 YYYY-MM / is not a month YYYY-MM")
        return cls(int(found.group(1)), int(found.group(2)))

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def following(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @property
    def start(self) -> datetime:
        """The first moment of the month in Asia/Shanghai, in UTC."""
        return datetime.combine(date(self.year, self.month, 1), time(), tzinfo=CHINA_TZ).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return self.following().start

    @property
    def iso(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def zh(self) -> str:
        return f"{self.year}年{self.month}月"


@dataclass(frozen=True)
class TopicParams:
    weights: tuple[float, float, float] = (0.5, 0.3, 0.2)  # volume, growth, repeat rate
    keyword_topics: int = 20  # at most this many keyword topics; the rest of the uncategorised is "other"
    min_keyword_reports: int = 3  # a word needs this many of the month's reports to become a topic
    repeat_days: int = 30
    place_resolution: int = 9
    top_regions: int = 3  # regions named next to each topic in the ranking


class _Rates:
    """Growth and repeat rate of a count of reports, for every level the result is told at."""

    volume: int
    previous: int
    repeats: int

    @property
    def growth(self) -> float | None:
        """(volume − previous) ÷ previous; None when the topic is new this month."""
        return (self.volume - self.previous) / self.previous if self.previous else None

    @property
    def repeat_rate(self) -> float | None:
        return self.repeats / self.volume if self.volume else None


@dataclass(frozen=True)
class TopicRow(_Rates):
    rank: int | None  # None for "other"
    topic: str  # "category:BJ01-01", "keyword:电梯" or "other"
    kind: TopicKind
    label: str  # category code, the keyword, or "" for other
    volume: int
    previous: int
    repeats: int
    score: float
    top_regions: tuple[tuple[str, int], ...] = ()  # (region code, volume) where the topic is most reported


@dataclass(frozen=True)
class RegionTopics(_Rates):
    region_code: str
    volume: int
    previous: int
    repeats: int
    rows: tuple[TopicRow, ...]  # ranked within the region
    not_finer: bool = False  # the region asked about itself: its reports not located at the chosen level


@dataclass(frozen=True)
class TopicResult(_Rates):
    month: Month
    region_code: str  # the region asked about
    level: Level  # the level regions are grouped at
    params: TopicParams
    volume: int
    previous: int
    repeats: int
    categorised: int  # of the month's reports, those with a category
    ranking: tuple[TopicRow, ...]
    by_region: tuple[RegionTopics, ...]
    names: dict[str, str] = field(default_factory=dict)  # region codes and topic keys → display names

    def name_of(self, key: str) -> str:
        return self.names.get(key) or default_name(key)


def default_name(key: str) -> str:
    if key == OTHER:
        return "其他未分类 (other)"
    kind, _, label = key.partition(":")
    return f"「{label}」类诉求 (keyword)" if kind == "keyword" else label


def rows_needed_since(month: Month, params: TopicParams) -> datetime:
    """The earliest report the analysis reads: the previous month, and the repeat look-back before the month."""
    return min(month.previous().start, month.start - timedelta(days=params.repeat_days))


def region_at(code: str | None, level: Level, home: str) -> str:
    """The report's region at `level`, or `home` (the region asked about) when it is not located that finely."""
    length = CODE_LENGTHS[level]
    if code and len(code) >= length and code_problem(code[:length], level) is None:
        return code[:length]
    return home


def monthly_topics(rows: Iterable[ReportRow], *, month: Month, region_code: str, level: Level,
                   params: TopicParams | None = None) -> TopicResult:
    params = params or TopicParams()
    since = rows_needed_since(month, params)
    ordered = sorted((r for r in rows if since <= r.at < month.end), key=lambda r: (r.at, r.report_id))
    current = [r for r in ordered if r.at >= month.start]
    topic_of = _topics(ordered, current, params)
    repeated = _repeated(ordered, topic_of, params)
    previous = [r for r in ordered if month.previous().start <= r.at < month.start]
    region_of = {r.report_id: region_at(r.region_code, level, region_code) for r in [*current, *previous]}
    tally = _Tally.of(current, previous, topic_of, region_of, repeated)
    ranking = _rank(tally.by_topic(), params, tally, top=True)
    by_region = tuple(_region(code, tally, params, region_code) for code in tally.regions())
    return TopicResult(month=month, region_code=region_code, level=level, params=params, volume=len(current),
                       previous=len(previous), repeats=sum(1 for r in current if repeated[r.report_id]),
                       categorised=sum(1 for r in current if r.category_code), ranking=ranking,
                       by_region=by_region, names=topic_of.names)


def named(result: TopicResult, names: Mapping[str, str]) -> TopicResult:
    """The result with display names for region codes and category topics ("category:CODE" → name)."""
    return replace(result, names={**result.names, **names})


# --- topics -----------------------------------------------------------------------------------------------------


class _Topics(dict[int, str]):
    """report id → topic key, with the display names of the keyword topics."""

    names: dict[str, str]


def _topics(ordered: Sequence[ReportRow], current: Sequence[ReportRow], params: TopicParams) -> _Topics:
    """Every report's topic: its category, else the first chosen keyword it contains, else "other"."""
    words = WordCache()
    uncategorised = {r.report_id: words.of(r.report_id, r.text) for r in ordered if not r.category_code}
    month = [uncategorised[r.report_id] for r in current if not r.category_code]
    chosen = _keyword_topics(month, params)
    topics = _Topics()
    for row in ordered:
        if row.category_code:
            topics[row.report_id] = f"category:{row.category_code}"
            continue
        found = next((w for w in chosen if w in uncategorised[row.report_id]), None)
        topics[row.report_id] = f"keyword:{found}" if found else OTHER
    groups: dict[str, list[frozenset[str]]] = defaultdict(list)
    for row in current:
        if not row.category_code:
            groups[topics[row.report_id]].append(uncategorised[row.report_id])
    topics.names = {f"keyword:{w}": _keyword_name(w, groups[f"keyword:{w}"], Background.of(month)) for w in chosen}
    return topics


def _keyword_name(word: str, group: Sequence[frozenset[str]], background: Background) -> str:
    others = [k.word for k in top_keywords(group, background, 4) if k.word != word][:3]
    return f"{word}（{'、'.join(others)}）" if others else word


def _keyword_topics(documents: Sequence[frozenset[str]], params: TopicParams) -> list[str]:
    """Greedy cover: the uncovered reports' best word (df × general idf) becomes a topic and covers them."""
    frequency: Counter[str] = Counter()
    holders: dict[str, list[int]] = defaultdict(list)
    for i, document in enumerate(documents):
        frequency.update(document)
        for word in document:
            holders[word].append(i)
    covered: set[int] = set()
    chosen: list[str] = []
    while len(chosen) < params.keyword_topics:
        candidates = [(n * general_idf(w), w) for w, n in frequency.items() if n >= params.min_keyword_reports]
        if not candidates:
            break
        chosen.append(min(candidates, key=lambda sw: (-sw[0], sw[1]))[1])
        for i in holders[chosen[-1]]:
            if i not in covered:
                covered.add(i)
                frequency.subtract(documents[i])
        frequency = +frequency  # drop the words no uncovered report has any more
    return chosen


# --- repeats ----------------------------------------------------------------------------------------------------


def _place(row: ReportRow, resolution: int) -> str | None:
    if row.lng is not None and row.lat is not None and -90 <= row.lat <= 90 and abs(row.lng) <= 180:
        return h3.latlng_to_cell(row.lat, row.lng, resolution)
    code = row.region_code
    return code if code and len(code) >= CODE_LENGTHS["community"] else None  # coarser says nothing of the place


def _repeated(ordered: Sequence[ReportRow], topic_of: Mapping[int, str], params: TopicParams) -> dict[int, bool]:
    """Whether each report repeats an earlier one: fused into an existing case, or same topic and place within
    `repeat_days` of the last such report."""
    last_seen: dict[tuple[str, str], datetime] = {}
    window = timedelta(days=params.repeat_days)
    repeated: dict[int, bool] = {}
    for row in ordered:
        place = _place(row, params.place_resolution)
        key = (topic_of[row.report_id], place) if place else None
        before = last_seen.get(key) if key else None
        repeated[row.report_id] = row.joined_case or (before is not None and row.at - before <= window)
        if key:
            last_seen[key] = row.at
    return repeated


# --- counting and ranking ---------------------------------------------------------------------------------------


@dataclass
class _Counts:
    volume: int = 0
    previous: int = 0
    repeats: int = 0


@dataclass
class _Tally:
    topics: dict[str, _Counts] = field(default_factory=lambda: defaultdict(_Counts))
    cells: dict[tuple[str, str], _Counts] = field(default_factory=lambda: defaultdict(_Counts))  # (region, topic)

    @classmethod
    def of(cls, current: Sequence[ReportRow], previous: Sequence[ReportRow], topic_of: Mapping[int, str],
           region_of: Mapping[int, str], repeated: Mapping[int, bool]) -> _Tally:
        tally = cls()
        for row in current:
            topic, region = topic_of[row.report_id], region_of[row.report_id]
            for counts in (tally.topics[topic], tally.cells[(region, topic)]):
                counts.volume += 1
                counts.repeats += repeated[row.report_id]
        for row in previous:
            topic, region = topic_of[row.report_id], region_of[row.report_id]
            tally.topics[topic].previous += 1
            tally.cells[(region, topic)].previous += 1
        return tally

    def by_topic(self) -> dict[str, _Counts]:
        return dict(self.topics)

    def regions(self) -> list[str]:
        return sorted({region for region, _ in self.cells})

    def of_region(self, region: str) -> dict[str, _Counts]:
        return {topic: counts for (r, topic), counts in self.cells.items() if r == region}

    def top_regions(self, topic: str, count: int) -> tuple[tuple[str, int], ...]:
        found = [(region, c.volume) for (region, t), c in self.cells.items() if t == topic and c.volume]
        return tuple(sorted(found, key=lambda rv: (-rv[1], rv[0]))[:count])


def score(volume: int, previous: int, repeats: int, largest: int, weights: tuple[float, float, float]) -> float:
    """The combined rank score (module docstring); 0 for a topic with no reports this month."""
    if not volume or not largest:
        return 0.0
    rise = min(max((volume - previous) / max(previous, 1), 0.0), 1.0)
    w_volume, w_growth, w_repeat = weights
    return w_volume * volume / largest + w_growth * rise + w_repeat * repeats / volume


def _rank(counts: Mapping[str, _Counts], params: TopicParams, tally: _Tally, *, top: bool) -> tuple[TopicRow, ...]:
    """Topics of this month (volume > 0), best score first; ties by volume, then by key, so the order is stable."""
    present = {topic: c for topic, c in counts.items() if c.volume}
    largest = max((c.volume for topic, c in present.items() if topic != OTHER), default=0)
    # "other" is what no topic covers, not a topic of its own: listed last, without a rank or a score.
    scored = sorted(((0.0 if topic == OTHER else score(c.volume, c.previous, c.repeats, largest, params.weights),
                      topic, c) for topic, c in present.items()),
                    key=lambda s: (s[1] == OTHER, -s[0], -s[2].volume, s[1]))
    return tuple(TopicRow(rank=None if topic == OTHER else i, topic=topic, kind=_kind(topic),
                          label=topic.partition(":")[2], volume=c.volume, previous=c.previous, repeats=c.repeats,
                          score=s, top_regions=tally.top_regions(topic, params.top_regions) if top else ())
                 for i, (s, topic, c) in enumerate(scored, start=1))


def _kind(topic: str) -> TopicKind:
    if topic == OTHER:
        return "other"
    return "category" if topic.startswith("category:") else "keyword"


def _region(code: str, tally: _Tally, params: TopicParams, home: str) -> RegionTopics:
    counts = tally.of_region(code)
    return RegionTopics(region_code=code, volume=sum(c.volume for c in counts.values()),
                        previous=sum(c.previous for c in counts.values()),
                        repeats=sum(c.repeats for c in counts.values()),
                        rows=_rank(counts, params, tally, top=False), not_finer=code == home)
