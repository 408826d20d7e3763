"""每月一题 over a hand-made October: volume, growth, repeat rate, score and rank, overall and per street, against
figures worked out by hand below (the arithmetic is written out, not computed by the code under test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cityops.core.clock import CHINA_TZ
from cityops.insight.facts import ReportRow
from cityops.insight.topics import Month, TopicResult, TopicRow, monthly_topics, region_at, score

DISTRICT, S1, S2 = "370303", "370303001", "370303002"
GRID = S1 + "001001"  # a grid in street 1: a place precise enough to tell repeats
OCTOBER = Month(2026, 10)
A, B, C = "category:BJ01-01", "category:SJ02-01", "category:BJ01-03"  # manholes, street stalls, street lights
LIFT = "keyword:电梯"


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CHINA_TZ)


def point(n: int) -> tuple[float, float]:
    """Points about 1 km apart: never the same H3 resolution-9 cell."""
    return 118.0 + n * 0.01, 36.6 + (n % 3) * 0.01


ROWS_SPEC: list[tuple[datetime, str | None, str, str | None, tuple[float, float] | None, bool]] = [
    # (when, category, region, text or None, coordinates, joined an earlier report's case)
    # --- category A, manholes: October 6 (S1 4, S2 2), September 4 (S1 2, S2 2)
    (at(9, 25), "BJ01-01", GRID, None, None, False),  # the place the October reports come back to
    (at(9, 3), "BJ01-01", S1, None, point(1), False),
    (at(9, 4), "BJ01-01", S2, None, point(2), False),
    (at(9, 5), "BJ01-01", S2, None, point(3), False),
    (at(10, 2), "BJ01-01", GRID, None, None, False),  # repeat: 7 days after 25 September, same grid
    (at(10, 10), "BJ01-01", GRID, None, None, False),  # repeat
    (at(10, 20), "BJ01-01", GRID, None, None, False),  # repeat
    (at(10, 21), "BJ01-01", S1, None, point(4), False),
    (at(10, 22), "BJ01-01", S2, None, point(5), False),
    (at(10, 23), "BJ01-01", S2, None, point(6), False),
    # --- category B, street stalls: October 3 in S2, one fused into an earlier report's case; new this month
    (at(10, 5), "SJ02-01", S2, None, point(7), False),
    (at(10, 6), "SJ02-01", S2, None, point(8), True),  # repeat: joined a case
    (at(10, 7), "SJ02-01", S2, None, point(9), False),
    # --- category C, street lights: October 2 in S1 (same spot) + 1 known only to the district; September 4 in S1
    (at(10, 5), "BJ01-03", S1, None, point(10), False),
    (at(10, 6), "BJ01-03", S1, None, point(10), False),  # repeat: same place, next day
    (at(10, 9), "BJ01-03", DISTRICT, None, None, False),  # a district code says nothing of the place
    *[(at(9, d), "BJ01-03", S1, None, point(20 + d), False) for d in (1, 2, 3, 4)],
    # --- uncategorised: four about lifts (a keyword topic), one about nothing in common (other)
    (at(10, 3), None, S1, "电梯坏了", None, False),
    (at(10, 4), None, S1, "电梯停运", None, False),
    (at(10, 3), None, S2, "电梯异响", point(30), False),
    (at(10, 15), None, S2, "电梯困人了", point(30), False),  # repeat: same topic, same place
    (at(10, 16), None, S2, "来电反映噪声", None, False),
    (at(9, 12), None, S1, "电梯又坏了", None, False),
    # --- outside the months read: August (over 30 days before October) and November
    (at(8, 20), "BJ01-01", GRID, None, None, False),
    (at(11, 1), "BJ01-01", GRID, None, None, False),
]


def rows() -> list[ReportRow]:
    return [ReportRow(report_id=i, at=when, lng=xy[0] if xy else None, lat=xy[1] if xy else None, region_code=region,
                      text=text or f"{category} 第{i}件", category_code=category, joined_case=joined)
            for i, (when, category, region, text, xy, joined) in enumerate(ROWS_SPEC, start=1)]


@pytest.fixture(scope="module")
def result() -> TopicResult:
    return monthly_topics(rows(), month=OCTOBER, region_code=DISTRICT, level="street")


def by_topic(found: tuple[TopicRow, ...]) -> dict[str, TopicRow]:
    return {row.topic: row for row in found}


def test_month_totals(result: TopicResult):
    assert (result.volume, result.previous) == (6 + 3 + 3 + 4 + 1, 4 + 4 + 1)
    assert result.repeats == 3 + 1 + 1 + 1  # A, B, C, lifts
    assert result.categorised == 6 + 3 + 3
    assert result.growth == pytest.approx((17 - 9) / 9)


def test_volume_previous_and_repeats_per_topic(result: TopicResult):
    found = {topic: (row.volume, row.previous, row.repeats) for topic, row in by_topic(result.ranking).items()}
    assert found == {A: (6, 4, 3), B: (3, 0, 1), C: (3, 4, 1), LIFT: (4, 1, 1), "other": (1, 0, 0)}


def test_growth_and_repeat_rate(result: TopicResult):
    rows_ = by_topic(result.ranking)
    assert rows_[A].growth == pytest.approx(0.5) and rows_[A].repeat_rate == pytest.approx(0.5)
    assert rows_[B].growth is None  # new this month
    assert rows_[C].growth == pytest.approx(-0.25)
    assert rows_[LIFT].growth == pytest.approx(3.0) and rows_[LIFT].repeat_rate == pytest.approx(0.25)


def test_scores_and_ranking(result: TopicResult):
    expected = {  # 0.5 × volume / 6 (the largest) + 0.3 × rise clipped to [0, 1] + 0.2 × repeat rate
        A: 0.5 * 6 / 6 + 0.3 * 0.5 + 0.2 * 3 / 6,  # 0.75
        LIFT: 0.5 * 4 / 6 + 0.3 * 1 + 0.2 * 1 / 4,  # 0.683: tripled
        B: 0.5 * 3 / 6 + 0.3 * 1 + 0.2 * 1 / 3,  # 0.617: new, counted as a rise of 3 ÷ 1
        C: 0.5 * 3 / 6 + 0.3 * 0 + 0.2 * 1 / 3,  # 0.317: fell
    }
    ranked = [row for row in result.ranking if row.rank is not None]
    assert [row.topic for row in ranked] == [A, LIFT, B, C]
    assert [row.rank for row in ranked] == [1, 2, 3, 4]
    assert {row.topic: row.score for row in ranked} == pytest.approx(expected)
    assert result.ranking[-1].topic == "other" and result.ranking[-1].rank is None


def test_top_regions_of_a_topic(result: TopicResult):
    assert by_topic(result.ranking)[A].top_regions == ((S1, 4), (S2, 2))
    assert by_topic(result.ranking)[C].top_regions == ((S1, 2), (DISTRICT, 1))


def test_each_street_has_its_own_ranking(result: TopicResult):
    groups = {g.region_code: g for g in result.by_region}
    assert set(groups) == {DISTRICT, S1, S2}
    s1, s2, home = groups[S1], groups[S2], groups[DISTRICT]
    assert [(r.topic, r.volume, r.previous, r.repeats) for r in s1.rows] == [
        (A, 4, 2, 3),  # 0.5 × 4/4 + 0.3 × 1 + 0.2 × 3/4 = 0.95
        (LIFT, 2, 1, 0),  # 0.5 × 2/4 + 0.3 × 1 + 0 = 0.55
        (C, 2, 4, 1)]  # 0.5 × 2/4 + 0 + 0.2 × 1/2 = 0.35
    assert [r.score for r in s1.rows] == pytest.approx([0.95, 0.55, 0.35])
    assert [(r.topic, r.rank) for r in s2.rows] == [(B, 1), (LIFT, 2), (A, 3), ("other", None)]
    assert [r.score for r in s2.rows[:3]] == pytest.approx([0.5 + 0.3 + 0.2 / 3, 0.5 * 2 / 3 + 0.3 + 0.1, 0.5 * 2 / 3])
    assert (home.not_finer, home.volume, [r.topic for r in home.rows]) == (True, 1, [C])
    assert (s1.volume + s2.volume + home.volume, s1.previous + s2.previous) == (result.volume, result.previous)


def test_the_keyword_topic_is_named_by_its_words(result: TopicResult):
    assert result.name_of(LIFT).startswith("电梯")
    assert result.name_of("other").startswith("其他")
    assert result.name_of(A) == "BJ01-01"  # until the service adds the catalogue's names


def test_each_uncategorised_report_lands_in_one_topic_the_most_telling_word_first():
    texts = ["电梯停运", "电梯异响", "电梯困人了", "电梯坏了，楼下乱停车", "乱停车", "道路停车收费", "又乱停车"]
    found = monthly_topics([ReportRow(report_id=i, at=at(10, 1 + i), lng=None, lat=None, region_code=S1, text=t)
                            for i, t in enumerate(texts)], month=OCTOBER, region_code=DISTRICT, level="street")
    assert {row.topic: row.volume for row in found.ranking} == {LIFT: 4, "keyword:停车": 3}


def test_a_month_without_reports_is_empty_not_an_error():
    empty = monthly_topics(rows(), month=Month(2025, 1), region_code=DISTRICT, level="street")
    assert (empty.volume, empty.previous, empty.ranking, empty.by_region) == (0, 0, (), ())


def test_months_are_calendar_months_in_beijing_time():
    assert OCTOBER.start == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert OCTOBER.end == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert Month(2026, 1).previous() == Month(2025, 12) and Month(2026, 12).following() == Month(2027, 1)
    assert Month.parse("2026-10") == OCTOBER and Month.parse(" 2026-3 ") == Month(2026, 3)
    late = ReportRow(report_id=1, at=OCTOBER.end - timedelta(seconds=1), lng=None, lat=None, region_code=S1, text="x")
    assert monthly_topics([late], month=OCTOBER, region_code=DISTRICT, level="street").volume == 1


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-10", "2026/10", "October", ""])
def test_what_is_not_a_month_is_refused(text: str):
    with pytest.raises(ValueError, match="YYYY-MM"):
        Month.parse(text)


@pytest.mark.parametrize(("code", "level", "expected"), [
    (GRID, "street", S1), (GRID, "district", DISTRICT), (S1, "community", DISTRICT), ("370300", "district", DISTRICT),
    (None, "street", DISTRICT), (GRID, "grid", GRID)])
def test_a_report_is_grouped_at_the_level_or_under_the_region_asked_about(code: str | None, level: str,
                                                                       expected: str):
    assert region_at(code, level, DISTRICT) == expected  # type: ignore[arg-type]


def test_the_score_formula():
    assert score(0, 5, 0, 10, (0.5, 0.3, 0.2)) == 0.0
    assert score(10, 5, 5, 10, (0.5, 0.3, 0.2)) == pytest.approx(0.5 + 0.3 + 0.1)
    assert score(10, 20, 0, 20, (0.5, 0.3, 0.2)) == pytest.approx(0.25)  # halved: no growth credit
    assert score(2, 0, 0, 4, (1.0, 0.0, 0.0)) == pytest.approx(0.5)
