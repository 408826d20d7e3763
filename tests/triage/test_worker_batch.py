"""The worker's batch (its fast path: one transaction, one fusion query, one lock query) decides every report
exactly as if the reports had gone through one at a time, each written before the next (both databases)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from cityops.audit import service as audit
from cityops.audit.models import AuditRecord
from cityops.cases.models import Case, CaseTransition
from cityops.core.clock import FixedClock
from cityops.core.models import OutboxMessage
from cityops.intake import flows
from cityops.intake.models import Report
from cityops.intake.schemas import ReportIn
from cityops.org.access import system_principal
from cityops.org.models import Department
from cityops.platform import Platform
from cityops.triage import worker
from tests.casefixture import MANHOLE, NOISE, POINT_A, POINT_B, add_category, add_rule, build_case_city
from tests.cityfixture import STREET_A, STREET_B

WATER = "BJ01-05"  # burst water main: fused within 500 m and two hours of the case's latest report
WAGES = "RX02-01"  # unpaid wages: hotline matters fused by region and text within 30 days
METRES_PER_DEGREE_LAT = 111_000


def north_of(point: tuple[float, float], metres: float) -> dict[str, float]:
    return {"lng": point[0], "lat": point[1] + metres / METRES_PER_DEGREE_LAT}


# (minutes after the previous report, text, fields): the reports of one run, in the order they arrive.
EARLIER: list[tuple[int, str, dict[str, Any]]] = [  # triaged before the batch: open cases the batch's reports may join
    (0, "自来水管爆了，水冒到马路上", {"category_code": WATER, **north_of(POINT_A, 0)}),
    (1, "车站街道华光路上的井盖没了，晚上行人容易掉进去", {"category_code": MANHOLE, **north_of(POINT_A, 2000)}),
]
BATCH: list[tuple[int, str, dict[str, Any]]] = [
    # joins the stored burst, 110 minutes after it: its latest report moves on…
    (110, "路边水管破裂，水流成河", {"category_code": WATER, **north_of(POINT_A, 100)}),
    # …so this one, 150 minutes after the first, is still inside the burst's two-hour window
    (40, "这里自来水管漏水很严重，快来人", {"category_code": WATER, **north_of(POINT_A, 200)}),
    # the same manhole again: joins the stored case
    (1, "华光路井盖没了，很危险", {"category_code": MANHOLE, **north_of(POINT_A, 2010)}),
    # a new manhole far away, then the same one reported again in the same batch: one new case
    (1, "公园街道这边井盖缺失", {"category_code": MANHOLE, **north_of(POINT_B, 0)}),
    (1, "公园街道井盖缺失，请处理", {"category_code": MANHOLE, **north_of(POINT_B, 20)}),
    # another category at the same spot: a case of its own, routed to its own department
    (1, "晚上工地施工噪声很大", {"category_code": NOISE, **north_of(POINT_B, 10)}),
    # no category the catalogue knows and the classifier is unsure: waits for a dispatcher
    (1, "有点事情想反映一下", north_of(POINT_A, 3000)),
    # hotline calls without coordinates about one employer: fused by region and text
    (1, "车站街道某某建筑公司拖欠农民工工资三个月", {"category_code": WAGES}),
    (1, "车站街道某某建筑公司欠我们工资不发", {"category_code": WAGES}),
]


def send_all(platform: Platform, run: str, reports: list[tuple[int, str, dict[str, Any]]]) -> list[str]:
    clock = platform.clock
    assert isinstance(clock, FixedClock)
    ids = []
    for i, (minutes, text, fields) in enumerate(reports):
        clock.advance(timedelta(minutes=minutes))
        body = {"channel": "hotline", "channel_report_id": f"{run}-{i}", "text": text, **fields}
        ids.append(flows.receive(platform, report=ReportIn.model_validate(body),
                                 submitted_by=system_principal()).public_id)
    return ids


def outcome(platform: Platform, public_ids: list[str]) -> list[dict[str, Any]]:
    """What triage made of each report, with cases named by the first report that opened them (their ids and
    times differ from run to run)."""
    with platform.db.session() as session:
        reports = {r.public_id: r for r in session.scalars(select(Report).where(Report.public_id.in_(public_ids)))}
        cases = {c.id: c for c in session.scalars(select(Case).where(
            Case.id.in_({r.case_id for r in reports.values()})))}
        first: dict[int, int] = {}
        for i, public_id in enumerate(public_ids):
            first.setdefault(reports[public_id].case_id or 0, i)
        found = []
        for public_id in public_ids:
            report = reports[public_id]
            case = cases[report.case_id or 0]
            fuse = report.triage["fuse"]
            found.append({
                "status": report.status, "case": first[case.id], "state": case.state,
                "report_count": case.report_count, "department_id": case.department_id,
                "region_code": report.region_code,
                "fused_into": first[fuse["case_id"]] if fuse["fused"] else None,
                "evidence": [{k: v for k, v in e.items() if k not in ("case_id", "minutes_apart", "time_score")}
                             for e in fuse["evidence"]],
                "minutes_apart": [round(e["minutes_apart"], 6) for e in fuse["evidence"]]})
        return found


def run(platform: Platform, name: str, *, one_by_one: bool) -> list[dict[str, Any]]:
    earlier = send_all(platform, name + "e", EARLIER)
    worker.drain(platform)
    batch = send_all(platform, name + "b", BATCH)
    if one_by_one:
        while worker.process_pending(platform, limit=1).report_ids:
            pass
    else:
        assert len(worker.process_pending(platform).report_ids) == len(BATCH)
    return outcome(platform, earlier + batch)


@pytest.fixture
def city(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Platform:
    build_case_city(platform)
    add_category(platform, WATER, "供水管道漏水", "370303-cgj")
    add_category(platform, WAGES, "拖欠工资", "370303-cgj")
    add_rule(platform, NOISE, STREET_B, f"{STREET_B}-office")

    def no_fallback(*args: object) -> None:
        raise AssertionError("the batch failed and was done again report by report")

    monkeypatch.setattr(worker, "_one_by_one", no_fallback)  # these tests are about the fast path
    return platform


def test_a_batch_decides_every_report_as_if_they_went_one_at_a_time(city: Platform):
    clock = city.clock
    assert isinstance(clock, FixedClock)
    before = log_marks(city)
    alone = run(city, "alone", one_by_one=True)
    alone_log, middle = log_since(city, before), log_marks(city)
    clock.advance(timedelta(days=90))  # beyond every fusion window: the second run cannot see the first's cases
    together = run(city, "together", one_by_one=False)
    assert together == alone
    assert log_since(city, middle) == alone_log


def log_marks(platform: Platform) -> tuple[int, int, int]:
    with platform.db.session() as session:
        return (session.scalar(select(func.max(CaseTransition.id))) or 0,
                session.scalar(select(func.max(AuditRecord.seq))) or 0,
                session.scalar(select(func.max(OutboxMessage.id))) or 0)


def log_since(platform: Platform, marks: tuple[int, int, int]) -> dict[str, list[tuple[Any, ...]]]:
    """The timeline, audit and outbox rows written since `marks`, in the order written, without ids and times."""
    with platform.db.session() as session:
        return {
            "timeline": [tuple(row) for row in session.execute(
                select(CaseTransition.action, CaseTransition.from_state, CaseTransition.to_state, CaseTransition.actor)
                .where(CaseTransition.id > marks[0]).order_by(CaseTransition.id))],
            "audit": [tuple(row) for row in session.execute(
                select(AuditRecord.action, AuditRecord.entity_type, AuditRecord.actor, AuditRecord.region_code)
                .where(AuditRecord.seq > marks[1]).order_by(AuditRecord.seq))],
            "outbox": [tuple(row) for row in session.execute(
                select(OutboxMessage.subject).where(OutboxMessage.id > marks[2]).order_by(OutboxMessage.id))],
        }


def test_two_reports_of_one_problem_in_one_batch_become_one_case_and_a_stored_case_window_moves_on(city: Platform):
    found = run(city, "r", one_by_one=False)
    burst, manhole, *batch = found
    assert batch[0]["fused_into"] == 0 and batch[1]["fused_into"] == 0  # the second only through the first
    assert burst["report_count"] == 3
    assert batch[2]["fused_into"] == 1 and manhole["report_count"] == 2
    assert batch[3]["fused_into"] is None and batch[4]["fused_into"] == 5  # opened in the batch, joined in it
    assert batch[3]["report_count"] == 2
    assert batch[7]["fused_into"] is None and batch[8]["fused_into"] == 9
    assert [r["status"] for r in found].count("fused") == 5


def test_a_batch_mixing_categories_routes_each_to_its_own_department(city: Platform):
    found = run(city, "m", one_by_one=False)
    departments = _departments(city)
    manhole_a, batch = found[1], found[2:]
    assert manhole_a["department_id"] == departments[f"{STREET_A}-office"]  # by the street's rule
    assert batch[3]["department_id"] == departments["370303-cgj"]  # no rule in street B: the default
    assert batch[5]["department_id"] == departments[f"{STREET_B}-office"] and batch[5]["state"] == "dispatched"
    assert batch[5]["case"] != batch[3]["case"]  # same spot, another category: a case of its own
    assert batch[6]["status"] == "waiting" and batch[6]["department_id"] is None
    assert batch[7]["region_code"] == STREET_A and batch[7]["department_id"] == departments["370303-cgj"]


def _departments(platform: Platform) -> dict[str, int]:
    with platform.db.session() as session:
        return {d.code: d.id for d in session.scalars(select(Department))}


def test_the_audit_chain_holds_after_a_batch(city: Platform):
    run(city, "a", one_by_one=False)
    with city.db.session() as session:
        assert audit.verify(session=session).ok


def test_a_batch_reads_the_database_the_same_number_of_times_however_many_reports_it_holds(city: Platform):
    if city.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite answers in-process: the fusion candidates are read report by report there")
    send_all(city, "warm", EARLIER)
    worker.drain(city)  # catalogue, rules and regions are read once per transaction; warm the process caches

    def statements_for(n: int, run_name: str, start_m: int) -> int:
        far = [(1, f"第{i}处井盖缺失", {"category_code": MANHOLE, **north_of(POINT_A, start_m + 400 * i)})
               for i in range(n)]  # none near another: every report opens a case, in both runs
        send_all(city, run_name, far)
        seen: list[str] = []

        def note(conn: object, cursor: object, statement: str, *args: object) -> None:
            seen.append(statement)

        event.listen(city.db.engine, "before_cursor_execute", note)
        try:
            assert len(worker.process_pending(city).report_ids) == n
        finally:
            event.remove(city.db.engine, "before_cursor_execute", note)
        return len(seen)

    assert statements_for(3, "small", 5000) == statements_for(30, "large", 8000)
