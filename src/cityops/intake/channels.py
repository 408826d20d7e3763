"""The channels a report can arrive through. Data, so a city can label them its own way."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    HOTLINE = "hotline"  # 12345 热线
    PATROL = "patrol"  # 网格员巡查
    PORTAL = "portal"  # 市民门户 / 随手拍
    OPEN311 = "open311"
    VIDEO = "video"  # 视频AI识别
    SENSOR = "sensor"  # 物联感知告警
    DEPARTMENT = "department"  # 部门业务系统


CHANNEL_LABELS: dict[Channel, tuple[str, str]] = {
    Channel.HOTLINE: ("12345热线", "12345 hotline"),
    Channel.PATROL: ("网格巡查", "Grid patrol"),
    Channel.PORTAL: ("市民随手拍", "Citizen portal"),
    Channel.OPEN311: ("Open311接口", "Open311"),
    Channel.VIDEO: ("视频AI", "Video AI"),
    Channel.SENSOR: ("物联感知", "Sensor alarm"),
    Channel.DEPARTMENT: ("部门系统", "Department system"),
}

# Channels whose reports may come without coordinates or an address field: a hotline operator or a department
# system often writes the place into the text, and triage locates it from there.
TEXT_LOCATED: frozenset[Channel] = frozenset({Channel.HOTLINE, Channel.DEPARTMENT})
