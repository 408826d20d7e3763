"""The triage worker: takes received reports in batches and turns each into a case, located and routed.

A report is done when its status leaves "received", in the same transaction that opened its case, so a
crash or a redelivered bus message can never open a second case for it. Each report runs in a savepoint:
one bad report is marked failed and kept as a dead letter while the rest of the batch goes on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import structlog
from sqlalchemy.orm import Session

from cityops.cases import flows as case_flows
from cityops.cases import service as case_service
from cityops.cases.states import Action
from cityops.catalog import service as catalog
from cityops.core.bus.base import Handler, Message
from cityops.core.models import DeadLetter
from cityops.core.uow import UnitOfWork
from cityops.intake import service as reports
from cityops.intake.models import Report
from cityops.org import service as org
from cityops.org.access import system_principal
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.regions.errors import PointOutsideRegions

log = structlog.get_logger(__name__)
TRIAGE = system_principal("triage")
BATCH = 200


@dataclass
class BatchResult:
    cases: int = 0
    dispatched: int = 0
    waiting: int = 0
    fused: int = 0
    failed: int = 0
    report_ids: list[int] = field(default_factory=list)


def process_pending(platform: Platform, *, limit: int = BATCH) -> BatchResult:
    """One batch: every received report (oldest first) becomes a case.

    Fast path: the whole batch in one transaction without savepoints (one write of each table at the end).
    If anything in it fails, the batch is rolled back and done again report by report, each in a savepoint,
    so the failing report is isolated and kept as a dead letter while the others go through.
    """
    try:
        with platform.uow() as uow:
            result = BatchResult()
            ids = reports.pending_ids(session=uow.session, limit=limit)
            case_ids = case_service.reserve_case_ids(session=uow.session, count=len(ids))
            for report, case_id in zip(reports.load(session=uow.session, ids=ids), case_ids, strict=True):
                result.report_ids.append(report.id)
                _count(result, _triage(uow, platform, report, case_id))
            uow.commit()
            return result
    except Exception:
        log.warning("triage.batch_failed_retrying_one_by_one", exc_info=True)
    result = BatchResult()
    with platform.uow() as uow:
        ids = reports.pending_ids(session=uow.session, limit=limit)
        for report in reports.load(session=uow.session, ids=ids):
            _one(uow, platform, report, result)
        uow.commit()
    return result


def _count(result: BatchResult, dispatched: bool) -> None:
    result.cases += 1
    if dispatched:
        result.dispatched += 1
    else:
        result.waiting += 1


def drain(platform: Platform, *, progress: object = None) -> BatchResult:
    """Process batches until no report is waiting (CLI, tests, the demo)."""
    total = BatchResult()
    while True:
        batch = process_pending(platform)
        if not batch.report_ids:
            return total
        for name in ("cases", "dispatched", "waiting", "failed"):
            setattr(total, name, getattr(total, name) + getattr(batch, name))
        total.report_ids += batch.report_ids


def _one(uow: UnitOfWork, platform: Platform, report: Report, result: BatchResult) -> None:
    result.report_ids.append(report.id)
    savepoint = uow.session.begin_nested()
    try:
        dispatched = _triage(uow, platform, report)
        savepoint.commit()
    except Exception as exc:  # one bad report must not stop the others; it is kept, never dropped
        savepoint.rollback()
        log.exception("triage.failed", report=report.public_id)
        report.status = "failed"
        report.triage = {**report.triage, "error": str(exc)}
        uow.session.add(DeadLetter(source="triage", subject="cityops.reports.received", key=report.public_id,
                                   payload=report.text, error=repr(exc), deliveries=1, created_at=uow.clock.now()))
        result.failed += 1
        return
    _count(result, dispatched)


def _triage(uow: UnitOfWork, platform: Platform, report: Report, case_id: int | None = None) -> bool:
    session = uow.session
    steps: dict[str, object] = {}
    region_code = _locate(platform, session, report, steps)
    category = _category(session, report, steps)
    route = catalog.route_for(session=session, category_code=category, region_code=region_code) if category else None
    department_id = _department_id(session, route.department_code) if route else None
    steps["route"] = ({"department_code": route.department_code, "department_id": department_id,
                       "reason": route.reason, "fallback": route.fallback} if route else None)
    new = case_flows.NewCase(
        title=_title(report.text), description=report.text, region_code=region_code, channel=report.channel,
        received_at=report.received_at, number="AJ" + report.public_id[1:], lng=report.lng, lat=report.lat,
        address=report.address, category_code=category, route=steps["route"],  # type: ignore[arg-type]
        case_id=case_id)
    case = case_flows.open_case(uow, platform, new=new, actor=TRIAGE)
    report.case_id, report.region_code, report.triage = case.id, region_code, steps
    report.status = "triaged" if department_id else "waiting"
    if category is None or department_id is None:
        return False  # a dispatcher takes it from the triage queue
    _system(uow, platform, case, case_flows.Command(Action.REGISTER, category_code=category))
    _system(uow, platform, case, case_flows.Command(Action.DISPATCH, department_id=department_id,
                                                    reason=route.reason if route else None))
    return True


def _system(uow: UnitOfWork, platform: Platform, case: object, command: case_flows.Command) -> None:
    case_flows.apply(uow, platform, case, TRIAGE, command)  # type: ignore[arg-type]


def _locate(platform: Platform, session: Session, report: Report, steps: dict[str, object]) -> str:
    if report.lng is not None and report.lat is not None:
        try:
            path = regions.locator(platform).locate(platform.db, report.lng, report.lat)
            steps["locate"] = {"by": "coordinates", "path": [p.code for p in path]}
            return path[-1].code
        except PointOutsideRegions:
            steps["locate"] = {"by": "coordinates", "outside": True}
    else:
        steps["locate"] = {"by": "address", "resolved": False}  # address matching comes with the gazetteer
    root = regions.list_regions(session=session, level="city", limit=1)
    return root[0].code if root else ""


def _category(session: Session, report: Report, steps: dict[str, object]) -> str | None:
    code = report.category_code
    if code and catalog.get_category(session=session, code=code) is not None:
        steps["classify"] = {"by": "channel", "category_code": code}
        return code
    steps["classify"] = {"by": None, "given": code, "known": False}
    return None


def _department_id(session: Session, code: str) -> int | None:
    department = org.get_department_by_code(session=session, code=code)
    return department.id if department else None


def _title(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else text
    return first[:60] + ("…" if len(first) > 60 else "")


def bus_handler(platform: Platform) -> Handler:
    """The consumer of cityops.reports.received: each message wakes a batch (redelivery is harmless)."""

    async def handle(message: Message) -> None:
        await asyncio.to_thread(drain, platform)

    return handle

