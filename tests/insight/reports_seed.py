"""Reports for the hotspot and monthly-topic tests over the database, sent through intake and triage as any
channel would send them: five weeks of steady reports in both streets of the small city, and a cluster in
street A that rises in the last week of February.

Places are kilometres apart and every report names its category, so whatever fusion and classification decide,
the counts below stay true (tests count them from SPEC, not from the code under test).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from cityops.core.clock import CHINA_TZ
from cityops.intake import flows
from cityops.intake.channels import Channel
from cityops.intake.schemas import ReportIn
from cityops.org.access import system_principal
from cityops.platform import Platform
from cityops.triage import worker
from tests.casefixture import MANHOLE, NOISE, POINT_A, POINT_B, add_category, add_rule
from tests.cityfixture import STREET_A, STREET_B, SmallCity, build_small_city

GRID_A, GRID_B = STREET_A + "001001", STREET_B + "001001"
QUIET_A = (118.04, 36.64)  # also in grid A, about 4 km from POINT_A
SINCE, UNTIL = date(2026, 2, 22), date(2026, 3, 1)  # the last week of February; 1 March excluded
FIRST_DAY = SINCE - timedelta(days=28)  # the four weeks of baseline
PLANTED_TEXT = "人行道井盖缺失，老人踩空摔伤"


@dataclass(frozen=True)
class Sent:
    day: date
    point: tuple[float, float]
    grid: str
    category: str
    text: str


def spec() -> list[Sent]:
    days = [FIRST_DAY + timedelta(days=n) for n in range((UNTIL - FIRST_DAY).days)]
    steady_b = [Sent(d, POINT_B, GRID_B, MANHOLE, "路口井盖松动异响") for d in days]
    steady_a = [Sent(d, QUIET_A, GRID_A, NOISE, "夜间施工噪音扰民") for i, d in enumerate(days) if i % 2 == 0]
    # in the order they happened, as a channel sends them (fusion sees reports in arrival order)
    planted = sorted((Sent(SINCE + timedelta(days=n % 7), POINT_A, GRID_A, MANHOLE, PLANTED_TEXT) for n in range(10)),
                     key=lambda sent: sent.day)
    return steady_b + steady_a + planted


def seed(platform: Platform) -> SmallCity:
    city = build_small_city(platform)
    add_category(platform, MANHOLE, "井盖缺失", "370303-cgj")
    add_category(platform, NOISE, "噪声扰民", "370303-cgj")
    for street in (STREET_A, STREET_B):
        add_rule(platform, MANHOLE, street, f"{street}-office")
    send(platform, spec())
    return city


def send(platform: Platform, reports: list[Sent], *, tag: str = "seed") -> None:
    for n, report in enumerate(reports):
        lng, lat = report.point
        body = ReportIn(channel=Channel.PATROL, channel_report_id=f"{tag}-{n}", text=report.text,
                        category_code=report.category or None, lng=lng, lat=lat,
                        reported_at=datetime.combine(report.day, time(9, n % 60), tzinfo=CHINA_TZ))
        flows.receive(platform, report=body, submitted_by=system_principal("test"))
    worker.drain(platform)


def counted(reports: list[Sent], first: date, last: date, **where: str) -> int:
    """Reports sent on days in [first, last) matching every given attribute (grid, category, text…)."""
    return sum(1 for r in reports if first <= r.day < last and all(getattr(r, k) == v for k, v in where.items()))


# --- for the scope matrix (tests/web/test_scope_matrix.py) ---------------------------------------------------------


def seed_insight(platform: Platform, city: SmallCity) -> None:
    """A rising cluster in each street in the week before the platform's "now" (1 March), which is what the
    hotspot endpoint shows by default, and some February reports for the monthly topic. Uncategorised: the
    matrix's other seeds own the categories."""
    today = platform.clock.now().astimezone(CHINA_TZ).date()
    reports = [Sent(today - timedelta(days=n % 5), point, grid, "", f"{street} 路面塌陷 {n}")
               for point, grid, street in ((POINT_A, GRID_A, STREET_A), (POINT_B, GRID_B, STREET_B))
               for n in range(6)]
    send(platform, reports, tag="insight")


def hotspot_region(item: dict[str, object]) -> str:
    """The region a hotspot lies in: what all its regions' codes share (a hotspot straddling two streets
    would answer their district, which a street user must not see)."""
    codes = item["region_codes"]
    assert isinstance(codes, list) and codes
    return _common_prefix([str(c) for c in codes])


def _common_prefix(codes: list[str]) -> str:
    first, last = min(codes), max(codes)
    size = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), min(len(first), len(last)))
    return first[:size]
