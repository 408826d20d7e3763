"""Hotspots over hand-made report streams: a rising cluster planted in steady data is found first; steady places
are never flagged however large; places without coordinates count by region code or in the unlocated bucket;
counts are conserved whatever the rows."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import h3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.core.clock import CHINA_TZ
from cityops.insight import surprise
from cityops.insight.facts import ReportRow
from cityops.insight.hotspots import CellKey, HotspotParams, HotspotResult, cell_of, find_hotspots

SINCE = datetime(2026, 10, 22, tzinfo=CHINA_TZ)
UNTIL = datetime(2026, 10, 29, tzinfo=CHINA_TZ)  # one week, after four weeks of baseline
BASELINE_DAYS = 28
CENTRE = h3.latlng_to_cell(36.80, 118.05, 8)  # 张店
STEADY_TEXTS = ["路边垃圾没人清理", "晚上路灯不亮", "烧烤油烟扰民", "车辆乱停占用人行道", "工地夜间施工噪音"]
PLANTED_TEXT = "小区电梯故障，电梯维保单位不来维修"


class Stream:
    """Reports with increasing ids, placed at cell centres, spread over each day."""

    def __init__(self) -> None:
        self.rows: list[ReportRow] = []

    def add(self, at: datetime, text: str, *, cell: str | None = None, region: str | None = "370303001",
            category: str | None = None) -> None:
        lat, lng = h3.cell_to_latlng(cell) if cell else (None, None)
        self.rows.append(ReportRow(report_id=len(self.rows) + 1, at=at, lng=lng, lat=lat, region_code=region,
                                   text=text, category_code=category))

    def daily(self, per_day: float, *, cell: str | None = None, region: str | None = "370303001",
              days: range = range(-BASELINE_DAYS, 7), text: str | None = None) -> None:
        """`per_day` reports every day (a fraction: one every 1/per_day days), the same in baseline and window."""
        for day in days:
            count = int(per_day) if per_day >= 1 else int(day % round(1 / per_day) == 0)
            for n in range(count):
                at = SINCE + timedelta(days=day, minutes=(n * 1440) // max(count, 1) + 7)
                self.add(at, text or STEADY_TEXTS[(day + n) % len(STEADY_TEXTS)], cell=cell, region=region,
                         category="BJ03-01" if n % 2 else None)


def steady_city() -> tuple[Stream, dict[str, float]]:
    """Several steady cells, one of them very busy (60 a day), all in the same street."""
    stream = Stream()
    rates = {}
    for cell, per_day in zip(sorted(h3.grid_ring(CENTRE, 2)), [0.5, 1, 2, 3, 5, 8, 60, 0.25, 1, 4], strict=False):
        stream.daily(per_day, cell=cell)
        rates[cell] = per_day
    return stream, rates


def planted_cells() -> list[str]:
    """Two neighbouring cells right next to the busiest steady cell, so a careless merge would swallow it."""
    busy = sorted(h3.grid_ring(CENTRE, 2))[6]
    first = next(c for c in sorted(h3.grid_ring(busy, 1)) if h3.grid_distance(c, CENTRE) == 3)
    second = next(c for c in sorted(h3.grid_ring(first, 1)) if h3.grid_distance(c, CENTRE) == 3)
    return [first, second]


def plant(stream: Stream, cells: list[str]) -> None:
    """One report a fortnight before the window; five a day in each cell during it."""
    for cell in cells:
        stream.daily(1 / 14, cell=cell, days=range(-BASELINE_DAYS, 0), text=PLANTED_TEXT)
        stream.daily(5, cell=cell, days=range(0, 7), text=PLANTED_TEXT)


def run(rows: list[ReportRow], **params: object) -> HotspotResult:
    return find_hotspots(rows, since=SINCE, until=UNTIL, params=HotspotParams(**params))  # type: ignore[arg-type]


def test_the_planted_rising_cluster_is_found_first_and_alone():
    stream, _ = steady_city()
    cells = planted_cells()
    plant(stream, cells)
    result = run(stream.rows)
    top = result.hotspots[0]
    assert set(top.cells) == set(cells)  # the two rising cells, merged, without the busy neighbour
    assert top.count == 2 * 5 * 7
    assert top.baseline == 2 * 2  # one report a fortnight, in each cell, over four weeks
    assert top.located_by == "coordinates"
    assert [h.rank for h in result.hotspots] == list(range(1, len(result.hotspots) + 1))
    assert len(result.hotspots) == 1, [h.cells for h in result.hotspots]


def test_steady_data_has_no_hotspot():
    stream, _ = steady_city()
    result = run(stream.rows)
    assert result.hotspots == ()
    assert result.found == 0
    assert result.reports > 500  # the busy cell alone has 60 a day: steady volume is never a hotspot


def poisson_draw(rng: random.Random, rate: float) -> int:
    """Knuth's method: count uniform draws until their product falls below e^-rate."""
    limit, product, count = math.exp(-rate), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


@pytest.mark.parametrize("seed", range(5))
def test_steady_data_with_day_to_day_noise_has_no_hotspot(seed: int):
    rng = random.Random(seed)
    stream = Stream()
    for cell, per_day in zip(sorted(h3.grid_ring(CENTRE, 2)), [0.25, 0.5, 1, 2, 3, 5, 8, 60, 1, 4], strict=False):
        for day in range(-BASELINE_DAYS, 7):
            for n in range(poisson_draw(rng, per_day)):
                stream.add(SINCE + timedelta(days=day, minutes=n * 7), STEADY_TEXTS[n % 5], cell=cell)
    assert run(stream.rows).hotspots == ()


@pytest.mark.parametrize("per_day", [20, 300, 2000])
def test_a_steady_place_is_never_flagged_however_large(per_day: int):
    stream = Stream()
    stream.daily(per_day, cell=CENTRE)
    assert run(stream.rows).hotspots == ()


def test_the_planted_clusters_keywords_are_its_words():
    stream, _ = steady_city()
    plant(stream, planted_cells())
    words = [k.word for k in run(stream.rows).hotspots[0].keywords]
    assert {"电梯", "故障", "维保", "维修"} <= set(words), words
    assert not set(words) & {"路灯", "垃圾", "油烟"}  # the steady complaints are not what this cluster is about


def test_keywords_are_ranked_against_the_period_not_by_raw_frequency():
    """A word every report in the period uses ranks below a word peculiar to the cluster, even when the
    cluster's reports use the common word as often."""
    stream = Stream()
    for day in range(-BASELINE_DAYS, 7):
        stream.add(SINCE + timedelta(days=day, hours=3), "道路积水严重", cell=CENTRE)
        stream.add(SINCE + timedelta(days=day, hours=5), "道路积水严重", region="370303002")
    far = h3.latlng_to_cell(36.60, 118.30, 8)
    for n in range(12):
        stream.add(SINCE + timedelta(days=n % 7, hours=n), "道路积水，井盖冒水", cell=far)
    top = run(stream.rows).hotspots[0]
    words = [k.word for k in top.keywords]
    assert top.cells == (far,)
    assert words.index("井盖") < words.index("积水"), words
    assert {k.word: k.reports for k in top.keywords}["积水"] == 12


def test_a_new_place_needs_more_than_a_couple_of_reports():
    stream, _ = steady_city()
    far = h3.latlng_to_cell(36.60, 118.30, 8)
    stream.add(SINCE + timedelta(days=2), "井盖缺失", cell=far)
    stream.add(SINCE + timedelta(days=3), "井盖缺失", cell=far)
    assert run(stream.rows).hotspots == ()


def test_distant_rising_places_are_separate_hotspots_ranked_by_score():
    stream, _ = steady_city()
    strong, weak = h3.latlng_to_cell(36.60, 118.30, 8), h3.latlng_to_cell(36.50, 117.90, 8)
    stream.daily(6, cell=strong, days=range(0, 7), text=PLANTED_TEXT)
    stream.daily(1, cell=weak, days=range(0, 7), text="井盖缺失")
    result = run(stream.rows)
    assert [h.cells for h in result.hotspots] == [(strong,), (weak,)]
    assert result.hotspots[0].score > result.hotspots[1].score


def test_reports_without_coordinates_count_by_region_and_unlocated_ones_apart():
    stream, _ = steady_city()
    stream.daily(1, region="370303002")  # a street whose reports come by hotline, placed by text: steady
    for n in range(15):  # a district-placed rise
        stream.add(SINCE + timedelta(days=n % 7, hours=n), "供暖不热，室温只有十五度", region="370302")
    for n in range(9):  # placed nowhere: no coordinates, the city only, or nothing
        stream.add(SINCE + timedelta(days=n % 7), "来电反映情况", region=("370300", None)[n % 2])
    result = run(stream.rows)
    [hotspot] = result.hotspots
    assert (hotspot.located_by, hotspot.cells, hotspot.region_codes) == ("region", (), ("370302",))
    assert hotspot.centre_lng is None
    assert hotspot.count == 15
    assert result.unlocated.count == 9
    assert CellKey("region", "370303002") in {c.key for c in result.cells}


def test_categories_and_samples_describe_the_hotspot():
    stream, _ = steady_city()
    far = h3.latlng_to_cell(36.60, 118.30, 8)
    for n in range(10):
        stream.add(SINCE + timedelta(days=n % 7, hours=n), "井盖缺失", cell=far,
                   category=("BJ01-01", "BJ01-01", None)[n % 3])
    top = run(stream.rows, samples=3).hotspots[0]
    assert top.categories == (("BJ01-01", 7), (None, 3))
    newest = sorted((r for r in stream.rows if r.lat is not None and cell_of(r, 8) == CellKey("h3", far)),
                    key=lambda r: r.at)[-3:]
    assert top.sample_report_ids == tuple(r.report_id for r in reversed(newest))


def test_reports_outside_the_window_and_its_baseline_are_not_read():
    stream, _ = steady_city()
    before, after = len(stream.rows), run(stream.rows)
    far = h3.latlng_to_cell(36.60, 118.30, 8)
    for day in (-BASELINE_DAYS - 1, 7, 30):
        for n in range(20):
            stream.add(SINCE + timedelta(days=day, minutes=n), "井盖缺失", cell=far)
    result = run(stream.rows)
    assert len(stream.rows) == before + 60
    assert (result.reports, result.baseline_reports, result.hotspots) == (after.reports, after.baseline_reports, ())


def test_parameters_out_of_range_are_refused():
    for bad in ({"resolution": 16}, {"lookback": 0}, {"alpha": 0}, {"min_growth": 0.5}):
        with pytest.raises(ValueError):
            HotspotParams(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        find_hotspots([], since=UNTIL, until=SINCE)


@pytest.mark.parametrize(("k", "n", "p"), [(0, 5, 0.2), (1, 5, 0.2), (3, 4, 0.2), (5, 5, 0.2), (37, 128, 0.2),
                                          (20, 58, 0.2), (10, 100, 0.2), (2, 10, 0.5), (60, 80, 1 / 3), (1, 1, 0.2)])
def test_binomial_tail_matches_the_direct_sum(k: int, n: int, p: float):
    direct = sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(k, n + 1))
    assert surprise.log_sf(k, n, p) == pytest.approx(math.log(direct), rel=1e-9, abs=1e-12)


def test_the_tail_stays_finite_far_out():
    assert math.isfinite(surprise.log_sf(5000, 5010, 0.2))
    assert surprise.surprise(5000, 10, 4) > surprise.surprise(4000, 10, 4) > 1000


def test_a_quiet_baseline_is_a_noisy_count_not_an_exact_rate():
    """37 this week after 91 in four weeks (23 a week) is 1.6 times the old rate but happens about once in a
    hundred steady weeks: not one in a thousand, as taking 23 a week as exact would say."""
    assert 10 ** -surprise.surprise(37, 91, 4) == pytest.approx(0.0101, abs=0.0005)


# --- any rows at all -------------------------------------------------------------------------------------------

START = SINCE - timedelta(days=BASELINE_DAYS + 3)
coordinates = st.one_of(st.none(), st.tuples(st.floats(117.9, 118.3), st.floats(36.5, 36.9)),
                        st.tuples(st.floats(-180, 180), st.floats(-90, 90)))
row_parts = st.tuples(st.integers(0, (UNTIL - START).days * 24 + 72), coordinates,
                      st.sampled_from([None, "", "370300", "370303", "370303001", "370303001001001"]),
                      st.text(max_size=30), st.sampled_from([None, "BJ01-01", "SJ02-01"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(row_parts, max_size=80), st.sampled_from([7, 8, 9]))
def test_any_rows_are_analysed_and_every_report_is_counted_once(parts: list, resolution: int):
    rows = [ReportRow(report_id=i, at=START + timedelta(hours=hours), lng=xy[0] if xy else None,
                      lat=xy[1] if xy else None, region_code=code, text=text, category_code=category)
            for i, (hours, xy, code, text, category) in enumerate(parts)]
    result = run(rows, resolution=resolution, min_count=2)
    in_window = sum(1 for r in rows if SINCE <= r.at < UNTIL)
    in_baseline = sum(1 for r in rows if result.baseline_since <= r.at < SINCE)
    assert result.reports == in_window == sum(c.count for c in result.cells) + result.unlocated.count
    assert result.baseline_reports == in_baseline == sum(c.baseline for c in result.cells) + result.unlocated.baseline
    counts = {c.key.id: c.count for c in result.cells if c.key.kind == "h3"}
    seen: set[str] = set()
    for hotspot in result.hotspots:
        assert hotspot.count == (sum(counts[c] for c in hotspot.cells) if hotspot.cells else hotspot.count)
        assert hotspot.count >= 2 and hotspot.growth >= 1.5
        assert hotspot.score >= -math.log10(0.05 / sum(1 for c in result.cells if c.count))
        assert not seen & set(hotspot.cells)
        seen |= set(hotspot.cells)
    assert sum(h.count for h in result.hotspots) <= in_window


def test_times_in_any_zone_are_compared_as_instants():
    stream = Stream()
    far = h3.latlng_to_cell(36.60, 118.30, 8)
    for n in range(8):  # 23:30 UTC on the day before the window = 07:30 in Beijing, inside it
        stream.add(datetime(2026, 10, 21, 23, 30, tzinfo=UTC) + timedelta(days=n % 7), "井盖缺失", cell=far)
    assert run(stream.rows).hotspots[0].count == 8
