"""Generate the demo city's base registers: people, a civil-affairs copy of some of them, companies, licences.

Everything is invented (no real person or company) but shaped like the real registers of 淄博市: valid
citizen ID numbers and unified social credit codes coded with Zibo's districts, Chinese names with the usual
surname frequencies, addresses on real district and street/town codes, licence numbers in each licence's own
format. One seed gives the same files byte for byte, so the shipped files can be checked against this script.

    python tools/make_demo_registers.py [--out src/cityops/demo/data/registers] [--seed 20260301]

Writes people.csv, people_civil_affairs.csv, companies.csv, licences.csv and CONFLICTS.md (the deliberate
disagreements between the two people files). SOURCES.md and datasets.json in that folder are written by hand.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Final, TypeVar

from cityops.datahub import identifiers
from cityops.datahub.standards import CREDIT_CODE_ALPHABET

SEED: Final = 20260301
SNAPSHOT: Final = date(2026, 3, 1)  # the registers' "as of" date: licence status and ages are as of this day
LAST_BIRTH: Final = date(2025, 12, 31)  # nobody is born after it, so the files check with any later "today"
OUT: Final = Path(__file__).resolve().parents[1] / "src" / "cityops" / "demo" / "data" / "registers"
PEOPLE_TARGET: Final = 2000
CIVIL_AFFAIRS_ROWS: Final = 600
NAME_CONFLICTS: Final = 5
MOBILE_CONFLICTS: Final = 5
FILES: Final = ("people.csv", "people_civil_affairs.csv", "companies.csv", "licences.csv", "CONFLICTS.md")
T = TypeVar("T")

# --- names -----------------------------------------------------------------------------------------------

# Surnames with rough weights per thousand people: the national order, with Shandong's many 孙 and 于.
SURNAMES: Final = (
    ("王", 78), ("李", 74), ("张", 72), ("刘", 55), ("陈", 25), ("杨", 24), ("赵", 24), ("孙", 22), ("黄", 9),
    ("吴", 9), ("周", 11), ("徐", 13), ("高", 13), ("于", 12), ("马", 12), ("朱", 7), ("胡", 7), ("郭", 9),
    ("何", 3), ("林", 4), ("罗", 3), ("郑", 5), ("梁", 4), ("宋", 8), ("谢", 3), ("韩", 9), ("唐", 3), ("冯", 5),
    ("董", 10), ("萧", 1), ("程", 4), ("曹", 6), ("袁", 3), ("邓", 2), ("许", 5), ("傅", 3), ("沈", 2), ("曾", 1),
    ("彭", 2), ("吕", 5), ("苏", 3), ("卢", 3), ("蒋", 2), ("蔡", 2), ("贾", 5), ("丁", 4), ("魏", 6), ("薛", 4),
    ("叶", 2), ("阎", 2), ("孟", 7), ("毕", 4), ("崔", 7), ("田", 8), ("姜", 6), ("翟", 4), ("邢", 4), ("路", 3),
    ("石", 4), ("任", 5), ("范", 4), ("房", 3), ("巩", 2), ("商", 2), ("蒲", 1), ("耿", 3), ("岳", 3), ("齐", 3),
)
# Characters of given names by sex and generation (born before 1965, 1965–1994, from 1995).
GIVEN: Final[dict[tuple[str, int], str]] = {
    ("男", 0): "建国庆华德福成玉文明忠兴民山林树春广志长发明义安廷德宝",
    ("男", 1): "伟磊勇军强杰涛刚峰斌鹏辉波超建明华海东永振兴平学新立国庆文志",
    ("男", 2): "浩宇轩泽睿昊晨博子凯鑫俊洋杰然逸航宸皓奕铭涛烨磊鹏辰",
    ("女", 0): "秀英兰玉凤桂芳珍淑华荣翠美霞云琴素花梅凤香",
    ("女", 1): "丽静敏艳娟霞芳玲红燕萍梅娜婷雪慧英琳颖莉晓春青",
    ("女", 2): "欣怡佳雨梦涵萱悦彤诗可思紫琪妍然晴雯瑶璐婧蕾萌",
}
# Characters a clerk may key instead (same sound or shape): the civil-affairs copy's deliberate name conflicts.
VARIANTS: Final[dict[str, str]] = {
    "伟": "玮", "磊": "垒", "勇": "永", "军": "君", "杰": "傑", "涛": "滔", "明": "鸣", "刚": "钢", "峰": "锋",
    "斌": "彬", "鹏": "朋", "辉": "晖", "超": "朝", "浩": "皓", "宇": "雨", "洋": "阳", "建": "健", "华": "桦",
    "丽": "莉", "静": "婧", "敏": "民", "艳": "燕", "娟": "鹃", "芳": "方", "玲": "琳", "红": "虹", "萍": "平",
    "梅": "玫", "婷": "亭", "慧": "惠", "英": "瑛", "兰": "岚", "颖": "莹", "欣": "昕", "怡": "仪", "佳": "嘉",
    "霞": "侠", "秀": "琇", "凤": "风", "雪": "雯", "晓": "小", "春": "纯", "涵": "含", "悦": "玥", "琪": "淇",
}

# --- places ----------------------------------------------------------------------------------------------

# Road names common in each district's towns (real names, combined with streets and numbers at random).
ROADS: Final[dict[str, tuple[str, ...]]] = {
    "370302": ("般阳路", "松龄路", "淄城路", "洪山路", "商场东街", "张博路", "北外环路", "西外环路", "昆仑路",
               "将军路"),
    "370303": ("共青团西路", "共青团东路", "人民西路", "人民东路", "柳泉路", "华光路", "金晶大道", "西六路", "西五路",
               "北京路", "新村西路", "新村东路", "和平路", "世纪路", "联通路", "鲁泰大道", "中润大道", "南京路"),
    "370304": ("中心路", "新博路", "城西路", "白虎山路", "西冶街", "沿河东路", "沿河西路", "峨眉山路", "福门街"),
    "370305": ("齐都路", "桓公路", "晏婴路", "闻韶路", "太公路", "临淄大道", "牛山路", "大顺路", "稷下路", "遄台路"),
    "370306": ("正阳路", "新建路", "丝绸路", "永安街", "北郊路", "青年路", "城北路", "周隆路", "东方路"),
    "370321": ("中心大街", "张北路", "兴桓路", "少海路", "红莲湖路", "东岳路", "建设街", "华沟路"),
    "370322": ("青城路", "芦湖路", "高苑路", "黄河路", "千乘湖路", "田镇路", "花沟路", "文化路"),
    "370323": ("胜利路", "鲁山路", "振兴路", "螳螂河路", "荆山路", "历山路", "人民路", "瑞阳路"),
}
VILLAGE_SUFFIXES: Final = ("庄", "峪", "坡", "沟", "屯", "楼", "店", "营")
# How much of the city's population and business each district has (roughly its share of Zibo's).
DISTRICT_WEIGHTS: Final[dict[str, int]] = {
    "370302": 14, "370303": 26, "370304": 9, "370305": 14, "370306": 10, "370321": 11, "370322": 7, "370323": 9,
}

# --- businesses ------------------------------------------------------------------------------------------

TRADE_NAMES: Final = (
    "鑫源", "华通", "恒泰", "宏达", "金诚", "瑞丰", "齐鲁", "鲁中", "博润", "盛华", "泰和", "永兴", "东岳", "天成",
    "华瑞", "金鼎", "汇丰", "中齐", "稷下", "新华", "正阳", "明珠", "凯达", "润泽", "昌盛", "信达", "众诚", "金牛",
    "海岱", "嘉禾", "远航", "蓝天", "立信", "同泰", "德胜", "福瑞", "隆昌", "和顺", "锦程", "鸿运", "晨光", "聚源",
)
# GB/T 4754-2017 sections with the business words of companies in them and a weight for how many.
Trade = tuple[str, tuple[str, ...], int]  # GB/T 4754 section, business words, weight
ENTERPRISE_TRADES: Final[tuple[Trade, ...]] = (
    ("制造业", ("机械制造", "陶瓷", "化工", "新材料科技", "塑料制品", "耐火材料", "医药", "纺织", "玻璃制品",
               "汽车零部件", "泵业", "电机"), 34),
    ("批发和零售业", ("商贸", "医药连锁", "超市", "建材", "农资"), 16),
    ("住宿和餐饮业", ("餐饮管理", "酒店管理", "烧烤餐饮"), 7),
    ("建筑业", ("建筑工程", "建设工程", "装饰工程", "市政工程"), 9),
    ("交通运输、仓储和邮政业", ("物流", "运输", "货运"), 7),
    ("信息传输、软件和信息技术服务业", ("信息科技", "网络科技", "软件"), 6),
    ("房地产业", ("房地产开发", "物业管理", "置业"), 6),
    ("租赁和商务服务业", ("企业管理咨询", "人力资源", "广告"), 6),
    ("科学研究和技术服务业", ("检测技术", "环保科技", "工程设计"), 4),
    ("居民服务、修理和其他服务业", ("家政服务", "汽车维修", "洗浴"), 5),
)
POLLUTING: Final = frozenset({"陶瓷", "化工", "耐火材料", "医药", "玻璃制品", "纺织"})  # need a pollutant permit
INDIVIDUAL_TRADES: Final[tuple[Trade, ...]] = (
    ("住宿和餐饮业", ("餐饮店", "烧烤店", "面馆", "小吃店", "烧饼店", "快餐店", "宾馆"), 45),
    ("批发和零售业", ("便利店", "五金店", "水果店", "服装店", "日用品店", "副食店", "琉璃工艺品店"), 35),
    ("居民服务、修理和其他服务业", ("理发店", "汽车修理部", "家电维修部", "洗衣店", "美容店"), 20),
)
COOPERATIVE_PRODUCTS: Final[tuple[str, ...]] = (
    "苹果种植", "蔬菜种植", "黑牛养殖", "葡萄种植", "食用菌种植", "粮食种植", "花卉苗木", "生猪养殖", "蜜桃种植",
    "中药材种植")
ENTERPRISE_CAPITAL: Final = ((10, 4), (50, 10), (100, 16), (200, 12), (300, 8), (500, 14), (1000, 14), (2000, 7),
                             (3000, 5), (5000, 5), (10000, 3), (30000, 1))
INDIVIDUAL_CAPITAL: Final = ((1, 15), (2, 15), (3, 15), (5, 25), (10, 18), (20, 7), (50, 5))
COOPERATIVE_CAPITAL: Final = ((50, 30), (100, 35), (200, 20), (500, 15))
COMPANY_STATUS: Final = (("存续", 80), ("在业", 8), ("注销", 8), ("吊销", 4))
MOBILE_PREFIXES: Final = ("130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
                          "153", "155", "156", "157", "158", "159", "166", "173", "177", "180", "181", "182", "183",
                          "185", "186", "187", "188", "189", "191", "198", "199")


@dataclass
class Person:
    id_number: str
    name: str
    gender: str
    birth: date
    mobile: str
    address: str
    district: str
    street: str
    marital_status: str
    household_type: str


@dataclass
class Company:
    credit_code: str
    name: str
    legal_representative: str
    legal_rep_id_number: str
    capital: float
    established: date
    industry: str
    district: str
    address: str
    status: str
    words: str  # the business words of its name, for the licences it needs


@dataclass
class Licence:
    licence_no: str
    licence_type: str
    holder_type: str
    holder_id: str
    holder_name: str
    issuer: str
    issued_on: date
    valid_until: date | None
    status: str


class Generator:
    """All the random choices, in one fixed order, from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.districts = _read_divisions("zibo_areas.csv")
        streets = _read_divisions("zibo_streets.csv")
        self.streets = {code: [(c, n) for c, n in streets.items() if c.startswith(code)] for code in self.districts}
        self.ids: set[str] = set()
        self.mobiles: set[str] = set()
        self.codes: set[str] = set()
        self.names: set[str] = set()
        self.permit_numbers: set[str] = set()
        self.drug_sequence = 500

    # --- small pieces ---

    def weighted(self, pairs: Sequence[tuple[T, int]]) -> T:
        return self.rng.choices([value for value, _ in pairs], [weight for _, weight in pairs])[0]

    def district(self) -> str:
        return self.weighted(list(DISTRICT_WEIGHTS.items()))

    def day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randrange((last - first).days + 1))

    def name(self, gender: str, birth_year: int) -> str:
        surname = self.weighted(SURNAMES)
        pool = GIVEN[gender, 0 if birth_year < 1965 else 1 if birth_year < 1995 else 2]
        size = 2 if self.rng.random() < (0.85 if birth_year < 1995 else 0.7) else 1
        return surname + "".join(self.rng.choice(pool) for _ in range(size))

    def resident_id(self, district: str, birth: date, gender: str) -> str:
        while True:
            # The ID's region is where it was first issued: mostly the district one lives in.
            region = district if self.rng.random() < 0.85 else self.rng.choice(sorted(self.districts))
            sequence = self.rng.randrange(500) * 2 + (1 if gender == "男" else 0)
            value = identifiers.resident_id(region, birth, sequence)
            if value not in self.ids:
                self.ids.add(value)
                return value

    def mobile(self) -> str:
        while True:
            value = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if value not in self.mobiles:
                self.mobiles.add(value)
                return value

    def address(self, district: str, street: tuple[str, str], *, home: bool = True) -> str:
        prefix = f"山东省淄博市{self.districts[district]}{street[1]}"
        if street[1].endswith("镇"):
            village = self.weighted(SURNAMES) + "家" + self.rng.choice(VILLAGE_SUFFIXES) + "村"
            return f"{prefix}{village}{self.rng.randrange(1, 300)}号"
        road = f"{self.rng.choice(ROADS[district])}{self.rng.randrange(1, 300)}号"
        if not home:
            return prefix + road
        unit = f"{self.rng.randrange(1, 5)}单元{self.rng.randrange(1, 19)}{self.rng.randrange(1, 5):02d}"
        if self.rng.random() < 0.5:
            return f"{prefix}{road}{self.rng.randrange(1, 30)}号楼{unit}"
        return prefix + road + unit

    # --- people ---

    def people(self) -> list[Person]:
        people: list[Person] = []
        while len(people) < PEOPLE_TARGET:
            people.extend(self.household())
        return people[:PEOPLE_TARGET]

    def household(self) -> list[Person]:
        """One household at one address: a head, perhaps a spouse, children and a widowed parent."""
        district = self.district()
        street = self.rng.choice(self.streets[district])
        address = self.address(district, street)
        kind = "农村家庭户" if street[1].endswith("镇") else "城镇家庭户"
        size = self.weighted(((1, 20), (2, 30), (3, 30), (4, 14), (5, 6)))
        low, high = self.weighted((((22, 35), 25), ((35, 50), 32), ((50, 65), 24), ((65, 80), 14), ((80, 91), 5)))
        head_age = self.rng.randrange(low if size > 1 else 18, high)
        if size == 1 and head_age < 30 and self.rng.random() < 0.4:
            kind = "集体户"  # a young worker or student in a works or campus collective household
        head_gender = "男" if self.rng.random() < 0.8 else "女"
        head = self.person(district, street, address, kind, head_age, head_gender)
        members = [head]
        if size == 1:
            head_status = ("未婚" if head_age < 30 else
                           self.weighted((("未婚", 20), ("离异", 40), ("丧偶", 40 if head_age > 60 else 5))))
            head.marital_status = head_status
            return members
        married = size >= 3 or self.rng.random() < 0.8
        if married:
            spouse_gender = "女" if head_gender == "男" else "男"
            spouse_age = max(22, min(95, head_age + self.rng.randrange(-6, 5)))
            spouse = self.person(district, street, address, kind, spouse_age, spouse_gender)
            head.marital_status = spouse.marital_status = "已婚"
            members.append(spouse)
        else:
            head.marital_status = self.weighted((("离异", 60), ("丧偶", 40)))
        surname = head.name[0] if head_gender == "男" else members[-1].name[0]
        while len(members) < size:
            if len(members) == size - 1 and size == 5 and head_age + 26 <= 95:
                parent_age = self.rng.randrange(head_age + 22, min(96, head_age + 36))
                parent = self.person(district, street, address, kind, parent_age, self.rng.choice("男女"))
                parent.marital_status = "丧偶"
                members.append(parent)
                continue
            child_age = head_age - self.rng.randrange(22, 38)
            if child_age < 0:
                child_age = self.rng.randrange(0, 4)
            child = self.person(district, street, address, kind, child_age, self.rng.choice("男女"), surname=surname)
            child.marital_status = "未婚" if child_age < 25 or self.rng.random() < 0.6 else "离异"
            members.append(child)
        return members

    def person(self, district: str, street: tuple[str, str], address: str, kind: str, age: int, gender: str, *,
               surname: str | None = None) -> Person:
        latest = min(LAST_BIRTH, _years_before(SNAPSHOT, age))
        birth = self.day_between(_years_before(SNAPSHOT, age + 1) + timedelta(days=1), latest)
        name = self.name(gender, birth.year)
        if surname is not None:
            name = surname + name[1:]
        id_number = self.resident_id(district, birth, gender)
        phone_chance = 0.0 if age < 10 else 0.5 if age < 16 else 0.95
        mobile = self.mobile() if self.rng.random() < phone_chance else ""
        return Person(id_number, name, gender, birth, mobile, address, district, street[0], "未婚", kind)

    # --- the civil-affairs copy ---

    def civil_affairs(self, people: list[Person]) -> tuple[list[list[str]], list[tuple[str, str, str, str]]]:
        chosen = sorted(self.rng.sample(range(len(people)), CIVIL_AFFAIRS_ROWS))
        rows = {i: [people[i].id_number, people[i].name, people[i].marital_status, people[i].household_type,
                    people[i].address, people[i].mobile] for i in chosen}
        conflicts: list[tuple[str, str, str, str]] = []
        renamable = [i for i in chosen if any(char in VARIANTS for char in people[i].name[1:])]
        for i in self.rng.sample(renamable, NAME_CONFLICTS):
            name = people[i].name
            position = next(p for p in range(1, len(name)) if name[p] in VARIANTS)
            variant = name[:position] + VARIANTS[name[position]] + name[position + 1:]
            rows[i][1] = variant
            conflicts.append((people[i].id_number, "name", name, variant))
        with_mobile = [i for i in chosen if people[i].mobile and rows[i][1] == people[i].name]
        for i in self.rng.sample(with_mobile, MOBILE_CONFLICTS):
            other = self.mobile()
            rows[i][5] = other
            conflicts.append((people[i].id_number, "mobile", people[i].mobile, other))
        conflicts.sort()
        return [rows[i] for i in chosen], conflicts

    # --- companies ---

    def companies(self, people: list[Person]) -> list[Company]:
        adults = [p for p in people if _age(p.birth, SNAPSHOT) >= 24]
        companies: list[Company] = []
        for n in range(400):
            kind = identifiers.KIND_ENTERPRISE if n % 20 < 12 else (
                identifiers.KIND_INDIVIDUAL_BUSINESS if n % 20 < 19 else identifiers.KIND_COOPERATIVE)
            companies.append(self.company(kind, adults))
        return companies

    def company(self, kind: str, adults: list[Person]) -> Company:
        district = self.district()
        short = self.districts[district]
        street = self.rng.choice(self.streets[district])
        if kind == identifiers.KIND_ENTERPRISE:
            established = self.day_between(date(1995, 1, 1), date(2025, 12, 31))
            industry, words_pool = self.weighted([((i, w), weight) for i, w, weight in ENTERPRISE_TRADES])
            capital = float(self.weighted(ENTERPRISE_CAPITAL))
            from_people = self.rng.random() < 0.35
        elif kind == identifiers.KIND_INDIVIDUAL_BUSINESS:
            established = self.day_between(date(2008, 1, 1), date(2025, 12, 31))
            industry, words_pool = self.weighted([((i, w), weight) for i, w, weight in INDIVIDUAL_TRADES])
            capital = float(self.weighted(INDIVIDUAL_CAPITAL))
            from_people = self.rng.random() < 0.8
        else:
            established = self.day_between(date(2008, 1, 1), date(2022, 12, 31))
            industry, words_pool = "农、林、牧、渔业", COOPERATIVE_PRODUCTS
            capital = float(self.weighted(COOPERATIVE_CAPITAL))
            from_people = self.rng.random() < 0.6
            street = self.rng.choice([s for s in self.streets[district] if s[1].endswith("镇")])
        words = self.rng.choice(words_pool)
        representative, representative_id = self.representative(district, established, adults, from_people)
        name = self.company_name(kind, short, street, words, representative)
        status = self.weighted(COMPANY_STATUS)
        code = self.credit_code(kind, district, established)
        town = street[1].endswith("镇")
        if kind == identifiers.KIND_ENTERPRISE and town and industry == "制造业" and self.rng.random() < 0.6:
            stem = street[1].removesuffix("镇")
            address = f"山东省淄博市{short}{street[1]}{stem}工业园{self.rng.randrange(1, 60)}号"
        else:
            address = self.address(district, street, home=False)
        if kind == identifiers.KIND_ENTERPRISE and not town and self.rng.random() < 0.3:
            place = "号厂房" if industry == "制造业" else "楼"
            address = f"{address}{self.rng.randrange(1, 25)}{place}"
        return Company(code, name, representative, representative_id, capital, established, industry, district,
                       address, status, words)

    def representative(self, district: str, established: date, adults: list[Person],
                       from_people: bool) -> tuple[str, str]:
        if from_people:
            local = [p for p in adults if p.district == district and _age(p.birth, established) >= 20]
            candidates = local or [p for p in adults if _age(p.birth, established) >= 20]
            if candidates:
                person = self.rng.choice(candidates)
                return person.name, person.id_number
        gender = "男" if self.rng.random() < 0.7 else "女"
        return self.name(gender, self.rng.randrange(1955, 1995)), ""

    def company_name(self, kind: str, short: str, street: tuple[str, str], words: str, person: str) -> str:
        while True:
            trade = self.rng.choice(TRADE_NAMES)
            if kind == identifiers.KIND_ENTERPRISE:
                form = self.rng.random()
                if form < 0.65:
                    name = f"淄博{trade}{words}有限公司"
                elif form < 0.8:
                    name = f"山东{trade}{words}股份有限公司"
                else:
                    name = f"淄博市{short}{trade}{words}有限公司"
            elif kind == identifiers.KIND_INDIVIDUAL_BUSINESS:
                brand = self.rng.choice((trade, f"{person[0]}记", f"老{person[0]}", f"{person[0]}家"))
                name = f"{short}{brand}{words}"
            else:
                town = street[1].removesuffix("镇")
                name = f"{short}{town}{trade}{words}专业合作社"
            if name not in self.names:
                self.names.add(name)
                return name

    def credit_code(self, kind: str, district: str, established: date) -> str:
        while True:
            if established >= date(2016, 1, 1):  # new entities get a body assigned at registration: MA…
                body = "MA" + self.rng.choice("3Q") + "".join(self.rng.choices(CREDIT_CODE_ALPHABET, k=5))
            elif kind == identifiers.KIND_INDIVIDUAL_BUSINESS:
                body = "L" + f"{self.rng.randrange(10**7):07d}"
            else:  # older organisations keep their GB 11714 organisation code
                body = self.rng.choice("1267") + f"{self.rng.randrange(10**7):07d}"
            code = identifiers.credit_code(identifiers.AUTHORITY_MARKET_REGULATION, kind, district,
                                           identifiers.organisation_code(body))
            if code not in self.codes:
                self.codes.add(code)
                return code

    # --- licences ---

    def licences(self, companies: list[Company], people: list[Person]) -> list[Licence]:
        licences = [self.business_licence(company) for company in companies]
        sequences = {district: self.rng.randrange(100, 900) for district in sorted(self.districts)}
        for company in companies:
            licences.extend(self.sector_licences(company, sequences))
        drivers = [p for p in people if 21 <= _age(p.birth, SNAPSHOT) <= 60 and p.gender == "男"]
        drivers += [p for p in people if 21 <= _age(p.birth, SNAPSHOT) <= 55 and p.gender == "女"][: len(drivers) // 8]
        for person in self.rng.sample(drivers, 75):
            licences.append(self.driver_licence(person))
        return licences

    def issuer(self, district: str, issued: date, before_2019: str) -> str:
        """Since the 2019 reform most permits in Zibo's districts are issued by the 行政审批服务局."""
        name = "行政审批服务局" if issued >= date(2019, 1, 1) else before_2019
        return f"淄博市{self.districts[district]}{name}"

    def business_licence(self, company: Company) -> Licence:
        # Older entities got a licence with the credit code when the three certificates merged (2015–2017).
        issued = company.established if company.established >= date(2016, 1, 1) else self.day_between(
            date(2016, 1, 1), date(2017, 12, 31))
        issuer = self.issuer(company.district, issued, "工商行政管理局")
        status = {"注销": "注销", "吊销": "吊销"}.get(company.status, "有效")
        return Licence(company.credit_code, "营业执照", "company", company.credit_code, company.name, issuer,
                       issued, None, status)

    def sector_licences(self, company: Company, sequences: dict[str, int]) -> list[Licence]:
        out: list[Licence] = []
        district = company.district
        food = company.industry in ("住宿和餐饮业", "批发和零售业") and company.words not in (
            "五金店", "服装店", "琉璃工艺品店", "建材", "农资", "宾馆", "酒店管理", "医药连锁")
        if company.words == "医药连锁":
            # 药品经营许可证: province, B (retail chain) A (a legal person), Zibo's 533, a 4-digit sequence.
            self.drug_sequence += 1
            issued = self.renewed(company.established, date(2016, 1, 1), 5)
            issuer = "淄博市市场监督管理局" if issued >= date(2019, 1, 1) else "淄博市食品药品监督管理局"
            out.append(self.permit(company, f"鲁BA533{self.drug_sequence:04d}", "药品经营许可证", issued, 5, issuer))
        if food:
            subject = "1" if company.industry == "批发和零售业" else "2"
            sequences[district] += 1
            number = f"JY{subject}{district}{sequences[district]:06d}{self.rng.randrange(10)}"
            issued = self.renewed(company.established, date(2016, 1, 1), 5)
            out.append(self.permit(company, number, "食品经营许可证", issued, 5,
                                   self.issuer(district, issued, "食品药品监督管理局")))
        if company.industry == "制造业" and self.rng.random() < 0.25:  # a works canteen (单位食堂)
            sequences[district] += 1
            number = f"JY3{district}{sequences[district]:06d}{self.rng.randrange(10)}"
            issued = self.renewed(company.established, date(2016, 1, 1), 5)
            out.append(self.permit(company, number, "食品经营许可证", issued, 5,
                                   self.issuer(district, issued, "食品药品监督管理局")))
        if company.words in POLLUTING:
            # 排污许可证: the holder's credit code, a 3-digit sequence and P (a full permit).
            issued = self.renewed(company.established, date(2018, 1, 1), 5)
            out.append(self.permit(company, f"{company.credit_code}001P", "排污许可证", issued, 5,
                                   "淄博市生态环境局"))
        if company.words in ("宾馆", "酒店管理", "理发店", "美容店", "洗浴"):
            issued = self.renewed(company.established, date(2016, 1, 1), 4)
            sequences[district] += 1
            number = f"鲁卫公证字〔{issued.year}〕第{district}{sequences[district]:06d}号"
            out.append(self.permit(company, number, "卫生许可证", issued, 4,
                                   self.issuer(district, issued, "卫生和计划生育局")))
        if company.industry in ("建筑业", "房地产业") and company.words != "物业管理":
            for _ in range(self.rng.choice((1, 1, 2))):
                issued = self.day_between(max(company.established, date(2018, 1, 1)), SNAPSHOT)
                number = f"{district}{issued:%Y%m%d}{self.rng.randrange(1, 100):02d}01"
                if number in self.permit_numbers:
                    continue
                self.permit_numbers.add(number)
                out.append(self.permit(company, number, "建筑工程施工许可证", issued, 3,
                                       self.issuer(district, issued, "住房和城乡建设局")))
        if company.industry == "交通运输、仓储和邮政业":
            issued = self.renewed(company.established, date(2014, 1, 1), 4)
            sequences[district] += 1
            number = f"鲁交运管许可淄字{district}{sequences[district]:06d}号"
            out.append(self.permit(company, number, "道路运输经营许可证", issued, 4, "淄博市交通运输局"))
        return out

    def renewed(self, established: date, earliest: date, years: int) -> date:
        """The latest issue date: some holders renewed in time, some let the permit lapse."""
        start = max(established, earliest)
        if self.rng.random() < 0.8:
            start = max(start, _years_before(SNAPSHOT, years))
        return self.day_between(start, max(start, SNAPSHOT - timedelta(days=10)))

    def permit(self, company: Company, number: str, kind: str, issued: date, years: int, issuer: str) -> Licence:
        valid_until = _years_before(issued, -years) - timedelta(days=1)
        if company.status in ("注销", "吊销"):
            status = "注销"
        elif valid_until < SNAPSHOT:
            status = "过期"
        else:
            status = "注销" if self.rng.random() < 0.03 else "有效"
        return Licence(number, kind, "company", company.credit_code, company.name, issuer, issued, valid_until,
                       status)

    def driver_licence(self, person: Person) -> Licence:
        earliest = max(_years_before(person.birth, -21), date(2012, 1, 1))
        issued = self.day_between(earliest, max(earliest, SNAPSHOT - timedelta(days=30)))
        valid_until = _years_before(issued, -6) - timedelta(days=1)
        status = "过期" if valid_until < SNAPSHOT else "有效"
        return Licence(person.id_number, "道路运输从业资格证", "person", person.id_number, person.name,
                       "淄博市交通运输局", issued, valid_until, status)


# --- helpers and output ----------------------------------------------------------------------------------

def _read_divisions(name: str) -> dict[str, str]:
    text = (files("cityops.demo") / "data" / name).read_text("utf-8")
    return {row["code"]: row["name"] for row in csv.DictReader(io.StringIO(text))}


def _years_before(day: date, years: int) -> date:
    """The same day `years` earlier (negative: later); 29 February becomes 28 February off leap years."""
    year = day.year - years
    return day.replace(year=year, day=28) if day.month == 2 and day.day == 29 else day.replace(year=year)


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _number(value: float) -> str:
    return f"{value:g}"


def render(seed: int = SEED) -> dict[str, bytes]:
    """The generated files' names and contents."""
    generator = Generator(seed)
    people = generator.people()
    civil_rows, conflicts = generator.civil_affairs(people)
    companies = generator.companies(people)
    licences = generator.licences(companies, people)
    out = {
        "people.csv": _csv(
            ("id_number", "name", "gender", "birth_date", "mobile", "address", "district_code", "street_code"),
            ((p.id_number, p.name, p.gender, p.birth.isoformat(), p.mobile, p.address, p.district, p.street)
             for p in people)),
        "people_civil_affairs.csv": _csv(
            ("id_number", "name", "marital_status", "household_type", "address", "mobile"), civil_rows),
        "companies.csv": _csv(
            ("credit_code", "name", "legal_representative", "legal_rep_id_number", "registered_capital_wan",
             "established", "industry", "district_code", "address", "status"),
            ((c.credit_code, c.name, c.legal_representative, c.legal_rep_id_number, _number(c.capital),
              c.established.isoformat(), c.industry, c.district, c.address, c.status) for c in companies)),
        "licences.csv": _csv(
            ("licence_no", "licence_type", "holder_type", "holder_id", "holder_name", "issuer", "issued_on",
             "valid_until", "status"),
            ((x.licence_no, x.licence_type, x.holder_type, x.holder_id, x.holder_name, x.issuer,
              x.issued_on.isoformat(), x.valid_until.isoformat() if x.valid_until else "", x.status)
             for x in licences)),
    }
    lines = ["# Deliberate conflicts between people.csv and people_civil_affairs.csv", "",
             f"Generated by `tools/make_demo_registers.py` (seed {seed}). Every other shared field agrees.", "",
             "| id_number | field | people.csv | people_civil_affairs.csv |", "|---|---|---|---|"]
    lines += [f"| {id_number} | {field} | {ours} | {theirs} |" for id_number, field, ours, theirs in conflicts]
    out["CONFLICTS.md"] = ("\n".join(lines) + "\n").encode("utf-8")
    return out


def generate(out_dir: Path, *, seed: int = SEED) -> list[Path]:
    """Write the generated files into `out_dir` (created if missing); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in render(seed).items():
        path = out_dir / name
        path.write_bytes(content)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    for path in generate(args.out, seed=args.seed):
        print(path)


if __name__ == "__main__":
    main()
