"""Reading a file of messages: every row checked before any is stored, errors naming row and column."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityops.core.errors import ValidationFailed
from cityops.core.tabular import parse_datetime, read_table
from cityops.intake.bulk import BulkColumns, parse
from cityops.intake.channels import Channel

ZONE = ZoneInfo("Asia/Shanghai")
COLUMNS = BulkColumns(id="留言编号", texts=("留言主题", "留言详情"), time="留言时间")


def table(text: str):
    return read_table(text.encode("utf-8"))


def test_rows_come_back_in_time_order_with_subject_and_detail_joined():
    parsed = parse(
        table(
            "留言编号,留言主题,留言时间,留言详情\n"
            "2,路灯不亮,2019/3/1 08:00:00,华光路路灯坏了\n"
            "1,噪声扰民,2019/2/28 23:10:00,夜里施工太吵\n"
        ),
        COLUMNS,
        channel=Channel.HOTLINE,
        zone=ZONE,
    )
    assert [r.channel_report_id for r in parsed.reports] == ["1", "2"]
    assert parsed.reports[0].text == "噪声扰民\n夜里施工太吵"
    assert parsed.reports[0].reported_at is not None
    assert parsed.reports[0].reported_at.isoformat() == "2019-02-28T23:10:00+08:00"


def test_a_repeated_id_is_kept_once_and_counted():
    row = "1,路灯不亮,2019/3/1 08:00,坏了\n"
    parsed = parse(
        table("留言编号,留言主题,留言时间,留言详情\n" + row + row), COLUMNS, channel=Channel.HOTLINE, zone=ZONE
    )
    assert len(parsed.reports) == 1 and parsed.duplicate_rows == 1


@pytest.mark.parametrize(
    ("csv_text", "field"),
    [
        ("留言编号,留言主题,留言时间\n1,路灯,2019/3/1\n", "header"),  # no detail column
        ("留言编号,留言主题,留言时间,留言详情\n1,路灯不亮,昨天晚上,坏了\n", "rows[2].留言时间"),
        ("留言编号,留言主题,留言时间,留言详情\n1,路灯不亮,,坏了\n", "rows[2].留言时间"),
        (
            "留言编号,留言主题,留言时间,留言详情\n1,路灯不亮,2019/3/1,坏了\n,路灯不亮,2019/3/1,坏了\n",
            "rows[3].留言编号",
        ),
        ("留言编号,留言主题,留言时间,留言详情\n1,,2019/3/1,\n", "rows[2].留言主题+留言详情"),
    ],
)
def test_a_bad_row_stops_the_whole_file_naming_row_and_column(csv_text: str, field: str):
    with pytest.raises(ValidationFailed) as caught:
        parse(table(csv_text), COLUMNS, channel=Channel.HOTLINE, zone=ZONE)
    assert caught.value.field == field


def test_coordinates_are_numbers_and_need_both_columns():
    columns = BulkColumns(id="id", texts=("text",), time="time", lng="lng", lat="lat")
    good = parse(
        table("id,text,time,lng,lat\nA,井盖缺失,2026-10-01 09:00,118.05,36.81\n"),
        columns,
        channel=Channel.PATROL,
        zone=ZONE,
    )
    assert (good.reports[0].lng, good.reports[0].lat) == (118.05, 36.81)
    with pytest.raises(ValidationFailed) as caught:
        parse(
            table("id,text,time,lng,lat\nA,井盖缺失,2026-10-01 09:00,东经118,36.81\n"),
            columns,
            channel=Channel.PATROL,
            zone=ZONE,
        )
    assert caught.value.field == "rows[2].lng"
    with pytest.raises(ValidationFailed) as caught:
        parse(
            table("id,text,time\nA,井盖缺失,2026-10-01 09:00\n"),
            BulkColumns(id="id", texts=("text",), time="time", lng="lng"),
            channel=Channel.PATROL,
            zone=ZONE,
        )
    assert caught.value.field == "--lat-column"


def test_a_patrol_report_without_any_place_is_refused_but_a_hotline_message_may_name_it_in_its_text():
    csv_text = "id,text,time\nA,井盖缺失,2026-10-01 09:00\n"
    columns = BulkColumns(id="id", texts=("text",), time="time")
    assert len(parse(table(csv_text), columns, channel=Channel.HOTLINE, zone=ZONE).reports) == 1
    with pytest.raises(ValidationFailed):
        parse(table(csv_text), columns, channel=Channel.PATROL, zone=ZONE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019/2/28 11:25:05", "2019-02-28T11:25:05+08:00"),
        ("2019-02-28 11:25", "2019-02-28T11:25:00+08:00"),
        ("2019年2月28日 11时25分", "2019-02-28T11:25:00+08:00"),
        ("2019.2.28", "2019-02-28T00:00:00+08:00"),
        ("2026-03-01T09:30:00+00:00", "2026-03-01T09:30:00+00:00"),
    ],
)
def test_times_are_read_the_ways_chinese_spreadsheets_write_them(text: str, expected: str):
    assert parse_datetime(text, ZONE, "t").isoformat() == expected


@given(st.text(max_size=40))
def test_reading_a_time_either_succeeds_or_names_the_field(text: str):
    try:
        value = parse_datetime(text, ZONE, "t")
    except ValidationFailed as exc:
        assert exc.field == "t"
    else:
        assert value.tzinfo is not None
