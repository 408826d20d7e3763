"""Zibo's departments and a demo staff member for every role. Data, not code paths."""

from __future__ import annotations

from dataclasses import dataclass

CITY = "370300"

# (key, name, English name) of city-level departments.
CITY_DEPARTMENTS: list[tuple[str, str, str]] = [
    ("cgj", "淄博市城市管理局", "Zibo Urban Management Bureau"),
    ("zjj", "淄博市住房和城乡建设局", "Zibo Housing and Urban-Rural Development Bureau"),
    ("sthjj", "淄博市生态环境局", "Zibo Ecology and Environment Bureau"),
    ("jtysj", "淄博市交通运输局", "Zibo Transport Bureau"),
    ("slj", "淄博市水利局", "Zibo Water Resources Bureau"),
    ("yjglj", "淄博市应急管理局", "Zibo Emergency Management Bureau"),
    ("gaj", "淄博市公安局", "Zibo Public Security Bureau"),
    ("scjgj", "淄博市市场监督管理局", "Zibo Market Supervision Administration"),
    ("wjw", "淄博市卫生健康委员会", "Zibo Health Commission"),
    ("jyj", "淄博市教育局", "Zibo Education Bureau"),
    ("rsj", "淄博市人力资源和社会保障局", "Zibo Human Resources and Social Security Bureau"),
    ("mzj", "淄博市民政局", "Zibo Civil Affairs Bureau"),
    ("zrzyj", "淄博市自然资源和规划局", "Zibo Natural Resources and Planning Bureau"),
    ("dsjj", "淄博市大数据局", "Zibo Big Data Bureau"),
    ("rx12345", "淄博市12345政务服务便民热线中心", "Zibo 12345 Government Service Hotline Centre"),
    ("yjzx", "淄博市城市运行管理服务中心", "Zibo City Operations Centre"),
]

# (key, name suffix, English suffix) of departments each district/county has.
DISTRICT_DEPARTMENTS: list[tuple[str, str, str]] = [
    ("cgj", "城市管理局", "Urban Management Bureau"),
    ("zjj", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("scjgj", "市场监督管理局", "Market Supervision Administration"),
]


@dataclass(frozen=True)
class DemoStaff:
    username: str
    display_name: str
    role: str
    region: str  # a region code, or "first-grid:<district>" resolved when loading
    department: str | None  # department code


DEMO_STAFF: list[DemoStaff] = [
    DemoStaff("admin", "系统管理员", "admin", CITY, None),
    DemoStaff("leader", "王市长（演示）", "leader", CITY, None),
    DemoStaff("dispatcher", "市中心派遣员", "dispatcher", CITY, "370300-yjzx"),
    DemoStaff("zd_dispatcher", "张店区派遣员", "dispatcher", "370303", None),
    DemoStaff("zd_handler", "张店区城管处置员", "handler", "370303", "370303-cgj"),
    DemoStaff("zd_gridworker", "张店区网格员", "grid_worker", "first-grid:370303", None),
    DemoStaff("data_officer", "大数据局数据专员", "data_officer", CITY, "370300-dsjj"),
    DemoStaff("gaj_officer", "公安局数据专员", "data_officer", CITY, "370300-gaj"),
    DemoStaff("mzj_officer", "民政局数据专员", "data_officer", CITY, "370300-mzj"),
]


def department_code(region_code: str, key: str) -> str:
    return f"{region_code}-{key}"
