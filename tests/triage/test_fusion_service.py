"""Fusion against the database: only open cases are candidates, the cell index finds neighbours across a cell
border, and a burst of reports about one burst water main becomes one case with many reports while the same
kind of report 3 km away opens a case of its own."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from itertools import count

from sqlalchemy import select, update

from cityops.cases import flows, history, merge
from cityops.cases import service as cases
from cityops.cases.cells import CELL_LAT_DEG, CELL_LNG_DEG, METRES_PER_DEGREE, cell_of
from cityops.cases.models import Case
from cityops.intake import flows as intake
from cityops.intake import service as reports
from cityops.intake.schemas import ReportIn
from cityops.org.access import system_principal
from cityops.platform import Platform
from cityops.triage.fusion import FusionDecision, Incoming, load_policies
from cityops.triage.fusion_service import find_case
from tests.cityfixture import DISTRICT, OTHER_DISTRICT, STREET_A, STREET_B
from tests.conftest import START

TRIAGE = system_principal("triage")
POLICIES = load_policies()
CENTRE = (118.0468, 36.8121)  # 柳泉路与人民西路路口
numbers = count(1)
BURST_TEXTS = ["柳泉路人民西路路口自来水管爆了，水漫到机动车道上", "人民公园东南角柳泉路上跑水了，路面往外冒水",
               "柳泉路人民路路口地下水管破裂，水冒得有半米高", "我家楼下马路上水管爆了，快来人看看",
               "柳泉路这边水流成河，好像是供水管道爆裂"]


def offset(point: tuple[float, float], metres: float, bearing_deg: float) -> tuple[float, float]:
    lng, lat = point
    bearing = math.radians(bearing_deg)
    return (lng + metres * math.sin(bearing) / (METRES_PER_DEGREE * math.cos(math.radians(lat))),
            lat + metres * math.cos(bearing) / METRES_PER_DEGREE)


def open_case(platform: Platform, point: tuple[float, float] | None, at: datetime, *, text: str = "水管爆了",
              category: str | None = "BJ01-05", region: str = STREET_A, state: str | None = None) -> int:
    lng, lat = point if point else (None, None)
    with platform.uow() as uow:
        case = flows.open_case(uow, platform, actor=TRIAGE, new=flows.NewCase(
            title=text, description=text, region_code=region, channel="hotline", received_at=at,
            number=f"T{next(numbers)}", lng=lng, lat=lat, category_code=category))
        if state is not None:
            uow.session.execute(update(Case).where(Case.id == case.id).values(state=state))
        uow.commit()
        return case.id


def candidates(platform: Platform, point: tuple[float, float] | None, *, radius: float = 500,
               since: datetime = START - timedelta(hours=2), region: str | None = STREET_A,
               categories: list[str] | None = None) -> list[int]:
    lng, lat = point if point else (None, None)
    with platform.db.session() as session:
        return [c.case_id for c in cases.fusion_candidates(session=session, lng=lng, lat=lat, radius_m=radius,
                                                           since=since, region_code=region,
                                                           category_codes=categories, limit=50)]


def test_only_open_cases_are_candidates(platform: Platform):
    opened = {state: open_case(platform, CENTRE, START, state=state)
              for state in ("received", "in_progress", "verified", "closed", "followed_up", "rejected", "merged")}
    assert sorted(candidates(platform, CENTRE)) == sorted(opened[s] for s in ("received", "in_progress", "verified"))


def test_a_case_across_a_cell_border_is_found_nearest_first(platform: Platform):
    border_lat = (math.floor((CENTRE[1] + 90) / CELL_LAT_DEG) + 1) * CELL_LAT_DEG - 90
    border_lng = (math.floor((CENTRE[0] + 180) / CELL_LNG_DEG) + 1) * CELL_LNG_DEG - 180
    south_west = (border_lng - 0.00003, border_lat - 0.00003)  # about 4 m from each border
    north_east = (border_lng + 0.00003, border_lat + 0.00003)
    assert cell_of(*south_west) != cell_of(*north_east)
    near = open_case(platform, south_west, START)
    further = open_case(platform, offset(north_east, 400, 45), START)
    assert candidates(platform, north_east) == [near, further]
    decision = find(platform, Incoming("柳泉路口水管爆了", START + timedelta(minutes=5), *north_east, "BJ01-05",
                                       STREET_A))
    assert decision.case_id == near


def test_the_time_window_the_radius_and_the_category_narrow_the_candidates(platform: Platform):
    recent = open_case(platform, CENTRE, START)
    open_case(platform, CENTRE, START - timedelta(hours=3))  # before the window
    open_case(platform, offset(CENTRE, 700, 90), START)  # beyond the radius
    noise = open_case(platform, CENTRE, START, category="SJ01-04")
    assert candidates(platform, CENTRE, categories=["BJ01-05"]) == [recent]
    assert sorted(candidates(platform, CENTRE)) == sorted([recent, noise])


def test_without_coordinates_the_region_and_the_regions_holding_it_are_searched(platform: Platform):
    street = open_case(platform, None, START, region=STREET_A)
    district = open_case(platform, None, START, region=DISTRICT)
    grid = open_case(platform, None, START, region=STREET_A + "001001")
    open_case(platform, None, START, region=STREET_B)
    open_case(platform, None, START, region=OTHER_DISTRICT + "001")
    assert sorted(candidates(platform, None, region=STREET_A)) == sorted([street, district, grid])
    assert candidates(platform, None, region=None) == []


def find(platform: Platform, incoming: Incoming) -> FusionDecision:
    with platform.db.session() as session:
        return find_case(session, incoming, POLICIES)


def fuse_or_open(platform: Platform, public_id: str) -> tuple[FusionDecision, int]:
    """What the triage worker does for one report: join the open case it describes, or open one."""
    with platform.uow() as uow:
        report = reports.get_by_public_id(session=uow.session, public_id=public_id)
        assert report is not None
        incoming = Incoming(report.text, report.received_at, report.lng, report.lat, report.category_code, STREET_A)
        decision = find_case(uow.session, incoming, POLICIES)
        if decision.case_id is not None:
            case = merge.attach_report(uow, platform, case_id=decision.case_id, report_public_id=public_id,
                                       evidence=decision.to_dict(), actor=TRIAGE)
        else:
            case = flows.open_case(uow, platform, actor=TRIAGE, new=flows.NewCase(
                title=report.text[:20], description=report.text, region_code=STREET_A, channel=report.channel,
                received_at=report.received_at, number="AJ" + public_id[1:], lng=report.lng, lat=report.lat,
                category_code=report.category_code))
            reports.set_case(session=uow.session, public_id=public_id, case_id=case.id, status="waiting")
        uow.commit()
        return decision, case.id


def receive(platform: Platform, n: int, point: tuple[float, float], minutes: float, text: str) -> str:
    body = ReportIn(channel="hotline", channel_report_id=f"burst-{n}", text=text, lng=point[0], lat=point[1],
                    category_code="BJ01-05", reported_at=START + timedelta(minutes=minutes))
    (receipt,) = intake.receive_many(platform, reports=[body], submitted_by=TRIAGE, at_reported_time=True)
    return receipt.public_id


def test_a_burst_of_reports_becomes_one_case_with_many_reports_and_one_3_km_away_its_own_case(platform: Platform):
    burst = [receive(platform, i, offset(CENTRE, 15 * i, 37 * i), 3 * i, BURST_TEXTS[i % 5]) for i in range(20)]
    elsewhere = receive(platform, 99, offset(CENTRE, 3000, 250), 30, BURST_TEXTS[0])
    first_decision, first_case = fuse_or_open(platform, burst[0])
    later = [fuse_or_open(platform, public_id) for public_id in burst[1:]]
    apart_decision, apart_case = fuse_or_open(platform, elsewhere)

    assert not first_decision.fused
    assert [case_id for _, case_id in later] == [first_case] * 19
    assert all(d.fused and d.evidence[0].distance_m is not None and d.evidence[0].distance_m <= 300 for d, _ in later)
    assert not apart_decision.fused and apart_case != first_case
    with platform.db.session() as session:
        case = session.get(Case, first_case)
        assert case is not None and case.report_count == 20 and case.state == "received"
        assert len(reports.reports_of_case(session=session, case_id=first_case)) == 20
        attached = [t for t in cases.timeline(session=session, case_id=first_case) if t.action == "attach_report"]
        assert len(attached) == 19 and attached[0].data["evidence"]["fused"] is True


def test_imported_open_cases_with_coordinates_are_found_like_live_ones(platform: Platform):
    rows = ["工单编号,受理时间,办结时间,办理状态,经度,纬度,诉求内容,问题分类,区划",
            f"OLD-1,2026-03-01 15:30,,in_progress,{CENTRE[0]},{CENTRE[1]},柳泉路水管爆了,BJ01-05,{STREET_A}",
            f"OLD-2,2026-03-01 15:40,2026-03-01 15:50,closed,{CENTRE[0]},{CENTRE[1]},柳泉路水管爆了,BJ01-05,{STREET_A}",
            f"OLD-3,2026-03-01 15:45,,in_progress,,,柳泉路水管爆了,BJ01-05,{STREET_A}"]
    mapping = history.Mapping(columns={"external_id": "工单编号", "created_at": "受理时间", "closed_at": "办结时间",
                                       "status": "办理状态", "lng": "经度", "lat": "纬度", "text": "诉求内容",
                                       "category": "问题分类", "region_code": "区划"})
    history.import_history(platform, content="\n".join(rows).encode(), mapping=mapping)
    with platform.db.session() as session:
        located = session.scalars(select(Case).where(Case.external_id == "OLD-1")).one()
        assert located.fusion_cell == cell_of(*CENTRE) and located.last_report_at is not None
    assert candidates(platform, CENTRE, categories=["BJ01-05"]) == [located.id]
