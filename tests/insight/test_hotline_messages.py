"""Hotspots and the monthly topic on imported hotline messages: text, time and (sometimes) a district named in the
text, no coordinates, no category. Rows of the shared 12345 sample (/work/shared/data/hotline) are fed to the
pure functions directly; a planted rise in one district must still come out on top."""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cityops.core.clock import CHINA_TZ
from cityops.insight import topic_report
from cityops.insight.facts import ReportRow
from cityops.insight.hotspots import find_hotspots
from cityops.insight.keywords import stopwords
from cityops.insight.keywords import words as words_of
from cityops.insight.topics import Month, monthly_topics

SAMPLE = Path("/work/shared/data/hotline/messages_with_likes.csv")
CITY = "430100"  # the sample's "A市" stands in for a city; its districts A1区…A7区 for 430101…430107
MONTHS = ("2019-07", "2019-08")
_TIME = re.compile(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?")
_DISTRICT = re.compile(r"A([1-7])区")


def parse_time(text: str) -> datetime:
    found = _TIME.match(text.strip())
    assert found, text
    year, month, day, hour, minute, second = (int(g or 0) for g in found.groups())
    return datetime(year, month, day, hour, minute, second, tzinfo=CHINA_TZ)


@pytest.fixture(scope="module")
def messages() -> list[ReportRow]:
    """July and August 2019: about eight hundred messages, placed by the district their text names (if any)."""
    if not SAMPLE.exists():
        pytest.skip(f"the hotline sample {SAMPLE} is not on this machine")
    rows = []
    with SAMPLE.open(encoding="utf-8") as handle:
        for line in csv.DictReader(handle):
            at = parse_time(line["留言时间"])
            if at.strftime("%Y-%m") not in MONTHS:
                continue
            text = f"{line['留言主题'].strip()}\n{line['留言详情'].strip()}"
            district = _DISTRICT.search(text)
            rows.append(ReportRow(report_id=int(line["留言编号"]), at=at, lng=None, lat=None, text=text,
                                  region_code=f"43010{district.group(1)}" if district else None))
    return rows


def planted(start: datetime) -> list[ReportRow]:
    """Twenty-five messages about lifts in A5区 over one week."""
    return [ReportRow(report_id=10_000_000 + n, at=start + timedelta(hours=6 * n), lng=None, lat=None,
                      region_code="430105", text=f"A5区某小区电梯频繁故障，电梯困人无人维修（第{n}次反映）")
            for n in range(25)]


def test_hotspots_on_messages_count_every_one_by_district_or_as_unlocated(messages: list[ReportRow]):
    since = datetime(2019, 8, 1, tzinfo=CHINA_TZ)
    until = since + timedelta(days=7)
    result = find_hotspots(messages, since=since, until=until)
    window = [r for r in messages if since <= r.at < until]
    assert result.reports == len(window)
    assert result.unlocated.count == sum(1 for r in window if r.region_code is None)
    by_district = Counter(r.region_code for r in window if r.region_code)
    assert {c.key.id: c.count for c in result.cells if c.count} == dict(by_district)
    for hotspot in result.hotspots:
        assert hotspot.located_by == "region" and hotspot.count == by_district[hotspot.region_codes[0]]


def test_a_planted_rise_in_messages_comes_out_first_with_its_words(messages: list[ReportRow]):
    since = datetime(2019, 8, 1, tzinfo=CHINA_TZ)
    result = find_hotspots([*messages, *planted(since)], since=since, until=since + timedelta(days=7))
    top = result.hotspots[0]
    assert top.region_codes == ("430105",)
    words = [k.word for k in top.keywords]
    assert set(words[:3]) <= words_of(planted(since)[0].text), words  # what the rise is about, not what A5 always says
    assert "电梯" in words


def test_the_monthly_topic_on_messages_puts_every_message_in_one_topic_and_region(messages: list[ReportRow],
                                                                                 tmp_path: Path):
    result = monthly_topics(messages, month=Month(2019, 8), region_code=CITY, level="district")
    august = [r for r in messages if r.at.strftime("%Y-%m") == "2019-08"]
    july = [r for r in messages if r.at.strftime("%Y-%m") == "2019-07"]
    assert (result.volume, result.previous, result.categorised) == (len(august), len(july), 0)
    assert sum(row.volume for row in result.ranking) == len(august)
    assert sum(group.volume for group in result.by_region) == len(august)
    unplaced = next(g for g in result.by_region if g.region_code == CITY)
    assert unplaced.not_finer and unplaced.volume == sum(1 for r in august if r.region_code is None)
    labels = [row.label for row in result.ranking if row.kind == "keyword"]
    assert labels and not set(labels) & stopwords()
    assert all(result.name_of(row.topic).startswith(row.label) for row in result.ranking if row.kind == "keyword")
    topic_report.write_xlsx(result, tmp_path / "august.xlsx")
    assert "建议将" in topic_report.render_markdown(result)


def test_a_planted_topic_in_messages_tops_the_month(messages: list[ReportRow]):
    result = monthly_topics([*messages, *planted(datetime(2019, 8, 10, tzinfo=CHINA_TZ))], month=Month(2019, 8),
                            region_code=CITY, level="district")
    lifts = next(row for row in result.ranking if row.topic == "keyword:电梯")
    assert lifts.rank is not None and lifts.rank <= 3
    assert lifts.top_regions[0][0] == "430105" and lifts.top_regions[0][1] >= 25
    assert result.name_of(lifts.topic).startswith("电梯（")
