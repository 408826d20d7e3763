"""Sample reports for the demo city, written for it (not real people's messages): enough that the workbench,
the queues and the KPIs have something to show. Each has a fixed channel id, so loading twice adds nothing."""

from __future__ import annotations

import random

from cityops.intake import flows as intake
from cityops.intake.channels import Channel
from cityops.intake.schemas import ReportIn
from cityops.org.access import system_principal
from cityops.platform import Platform
from cityops.triage import worker as triage

# (district centre lng, lat, places people name there)
DISTRICTS = [
    (118.05, 36.80, ["人民西路", "柳泉路", "华光路", "金晶大道", "共青团路"]),  # 张店区
    (117.97, 36.64, ["般阳路", "松龄路", "淄川商城"]),  # 淄川区
    (117.86, 36.49, ["山头街", "博山陶瓷城", "凤凰山路"]),  # 博山区
    (118.31, 36.83, ["齐都路", "临淄大道", "稷下街"]),  # 临淄区
    (117.87, 36.80, ["周村古商城", "丝绸路", "正阳路"]),  # 周村区
    (118.10, 36.96, ["桓台县城", "中心大街"]),  # 桓台县
]
# (category or None for the dispatcher's triage queue, text with {place})
REPORTS = [
    ("BJ01-01", "{place}人行道上井盖缺失，晚上看不清很危险"),
    ("BJ01-03", "{place}一排路灯都不亮了，已经好几天"),
    ("BJ01-05", "{place}地面一直冒水，像是供水管道漏了"),
    ("BJ02-01", "{place}路口红绿灯坏了，车辆乱成一团"),
    ("BJ03-01", "{place}垃圾箱满了没人清，周围全是垃圾"),
    ("SJ01-04", "{place}工地晚上十一点还在施工，噪声太大"),
    ("SJ01-03", "{place}烧烤店油烟直排，楼上没法开窗"),
    ("SJ02-01", "{place}早市摊位占了整条人行道"),
    ("SJ02-02", "{place}车辆乱停占用消防通道"),
    ("SJ03-01", "{place}小区楼顶有人私搭违建"),
    ("SJ04-01", "{place}路面塌了一个坑，电动车差点摔倒"),
    ("SJ04-02", "{place}下雨后积水很深，行人没法通过"),
    ("RX01-01", "{place}小区暖气不热，室温只有十二度"),
    ("RX02-01", "在{place}附近工地干活，老板拖欠工资三个月"),
    (None, "{place}这边情况比较复杂，希望有关部门来看看"),
    (None, "反映{place}的问题，电话里说不清楚，请回电"),
]


def load_demo_reports(platform: Platform, *, count: int = 48) -> int:
    """Submits the sample reports (idempotent) and lets triage route them; returns how many were new."""
    rng = random.Random(2026)
    new = 0
    for n in range(count):
        lng, lat, places = DISTRICTS[n % len(DISTRICTS)]
        category, text = REPORTS[n % len(REPORTS)]
        channel = rng.choice([Channel.HOTLINE, Channel.PATROL, Channel.PORTAL])
        body = ReportIn(channel=channel, channel_report_id=f"demo-{n:04d}",
                        text=text.format(place=rng.choice(places)), category_code=category,
                        lng=lng + rng.uniform(-0.02, 0.02), lat=lat + rng.uniform(-0.015, 0.015))
        receipt = intake.receive(platform, report=body, submitted_by=system_principal("demo"))
        new += not receipt.duplicate
    triage.drain(platform)
    return new
