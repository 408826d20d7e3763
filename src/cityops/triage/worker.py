"""The triage worker: takes received reports in batches; each is located, classified, fused into an open case
about the same problem or opened as a case of its own, routed and put on the clock.

A report is done when its status leaves "received", in the same transaction that opened its case, so a
crash or a redelivered bus message can never open a second case for it. Each report runs in a savepoint:
one bad report is marked failed and kept as a dead letter while the rest of the batch goes on.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.orm import Session

from cityops.audit.models import AuditRecord
from cityops.cases import flows as case_flows
from cityops.cases import merge
from cityops.cases import service as case_service
from cityops.cases.models import Case, CaseTask, CaseTransition
from cityops.cases.states import Action
from cityops.catalog import service as catalog
from cityops.core import bulk
from cityops.core.bus.base import Handler, Message
from cityops.core.db import Base
from cityops.core.models import DeadLetter, OutboxMessage
from cityops.core.uow import UnitOfWork
from cityops.intake import service as reports
from cityops.intake.models import Report
from cityops.org import service as org
from cityops.org.access import system_principal
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.regions.errors import PointOutsideRegions
from cityops.triage import fusion, fusion_service, locate
from cityops.triage.gazetteer_service import gazetteer_for
from cityops.triage.model_store import current_classifier

log = structlog.get_logger(__name__)
TRIAGE = system_principal("triage")
BATCH = 200


DISPATCHED, WAITING, FUSED = "dispatched", "waiting", "fused"


@dataclass
class BatchResult:
    cases: int = 0  # new cases opened
    dispatched: int = 0  # of which registered and dispatched without a person
    waiting: int = 0  # of which waiting in the dispatcher's triage queue
    fused: int = 0  # reports that joined a case already open
    failed: int = 0
    report_ids: list[int] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        for name in ("cases", "dispatched", "waiting", "fused", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.report_ids += other.report_ids


def process_pending(platform: Platform, *, limit: int = BATCH) -> BatchResult:
    """One batch: every received report (oldest first) is triaged.

    Fast path: the whole batch in one transaction without savepoints, with a fixed number of queries however
    many reports it holds (claim, case ids, fusion candidates, case locks, then the writes at the commit). If
    anything in it fails, the batch is rolled back and done again report by report, each in a savepoint, so
    the failing report is isolated and kept as a dead letter while the others go through.
    """
    try:
        with platform.uow() as uow, uow.session.no_autoflush:  # written once, at the commit
            result = _batch(uow, platform, limit)
            bulk.insert_pending(uow.session, NEW_ROWS)  # the reports' and joined cases' changes go at the commit
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


def _batch(uow: UnitOfWork, platform: Platform, limit: int) -> BatchResult:
    """The fast path: every step's decision for the whole batch first (fusion in report order, each report
    seeing the cases the ones before it opened or joined), then the cases to join locked in one query, then
    the writes in report order, so timeline, audit chain and outbox read as if the reports went one by one."""
    session = uow.session
    result = BatchResult()
    batch = reports.claim(session=session, limit=limit)
    case_ids = case_service.reserve_case_ids(session=session, count=len(batch))
    assessed = [_assess(platform, session, report) for report in batch]
    joins = _fuse_in_order(session, batch, assessed, case_ids)
    opened = set(case_ids)
    held = case_service.lock_many(session=session, ids=[j for j in joins if j is not None and j not in opened])
    for report, assessment, case_id, join in zip(batch, assessed, case_ids, joins, strict=True):
        result.report_ids.append(report.id)
        if join is None:
            outcome, held[case_id] = _open(uow, platform, report, assessment, case_id)
        else:
            outcome = _join(uow, report, assessment, held[join])
        _count(result, outcome)
    return result


def _fuse_in_order(session: Session, batch: Sequence[Report], assessed: list[Assessment],
                   case_ids: list[int]) -> list[int | None]:
    """Each report's fusion decision (the case it joins, or None for a case of its own under its reserved id),
    in report order, each seeing what the decisions before it did."""
    fusion_batch = fusion_service.BatchFusion(session, [a.incoming for a in assessed], _policies())
    joins: list[int | None] = []
    for i, (report, assessment, case_id) in enumerate(zip(batch, assessed, case_ids, strict=True)):
        join = _decide_fusion(assessment, fusion_batch.decide(i))
        if join is None:
            fusion_batch.opened(i, case_id, assessment.place.code)
        else:
            fusion_batch.attached(join, report.received_at)
        joins.append(join)
    return joins


# What a batch only adds and never reads back once decided, each after the rows it refers to.
NEW_ROWS: tuple[type[Base], ...] = (Case, CaseTransition, CaseTask, AuditRecord, OutboxMessage)


def _count(result: BatchResult, outcome: str) -> None:
    if outcome == FUSED:
        result.fused += 1
        return
    result.cases += 1
    if outcome == DISPATCHED:
        result.dispatched += 1
    else:
        result.waiting += 1


def drain(platform: Platform, *, progress: Callable[[int, int], None] | None = None) -> BatchResult:
    """Process batches until no report is waiting (CLI, tests, the demo)."""
    total = BatchResult()
    if progress is not None:
        with platform.db.session() as session:
            backlog = reports.count_by_status(session=session).get("received", 0)
    while True:
        batch = process_pending(platform)
        if not batch.report_ids:
            return total
        total.add(batch)
        if progress is not None:
            progress(len(total.report_ids), max(backlog, len(total.report_ids)))


def _one(uow: UnitOfWork, platform: Platform, report: Report, result: BatchResult) -> None:
    result.report_ids.append(report.id)
    savepoint = uow.session.begin_nested()
    try:
        outcome = _triage(uow, platform, report)
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
    _count(result, outcome)


@dataclass
class Assessment:
    """Locate and classify: what a report says before the database's open cases are looked at."""

    place: Place
    category: str | None
    steps: dict[str, object]
    incoming: fusion.Incoming


def _assess(platform: Platform, session: Session, report: Report) -> Assessment:
    steps: dict[str, object] = {}
    place = _locate(platform, session, report, steps)
    category = _category(platform, session, report, steps)
    incoming = fusion.Incoming(text=report.text, at=report.received_at, lng=report.lng, lat=report.lat,
                               category_code=category, region_code=place.code if place.resolved else None)
    return Assessment(place, category, steps, incoming)


def _decide_fusion(assessment: Assessment, decision: fusion.FusionDecision) -> int | None:
    assessment.steps["fuse"] = decision.to_dict()
    return decision.case_id if decision.fused else None


def _triage(uow: UnitOfWork, platform: Platform, report: Report) -> str:
    """One report on its own (the slow path): locate → classify → fuse → route → deadline, each step's decision
    kept on the report."""
    session = uow.session
    assessment = _assess(platform, session, report)
    join = _decide_fusion(assessment, fusion_service.find_case(session, assessment.incoming, _policies()))
    if join is not None:
        return _join(uow, report, assessment, case_service.lock(session=session, case_id=join))
    return _open(uow, platform, report, assessment)[0]


def _join(uow: UnitOfWork, report: Report, assessment: Assessment, case: Case) -> str:
    merge.attach(uow, case=case, report=report, evidence=assessment.steps["fuse"],  # type: ignore[arg-type]
                 actor=TRIAGE)
    report.region_code, report.triage = assessment.place.code, assessment.steps
    return FUSED


def _open(uow: UnitOfWork, platform: Platform, report: Report, assessment: Assessment,
          case_id: int | None = None) -> tuple[str, Case]:
    """A case of its own: opened, routed, and registered and dispatched when nothing needs a person."""
    session, steps, place, category = uow.session, assessment.steps, assessment.place, assessment.category
    route = catalog.route_for(session=session, category_code=category, region_code=place.code) if category else None
    department_id = _department_id(session, route.department_code) if route else None
    steps["route"] = ({"department_code": route.department_code, "department_id": department_id,
                       "reason": route.reason, "fallback": route.fallback} if route else None)
    new = case_flows.NewCase(
        title=_title(report.text), description=report.text, region_code=place.code, channel=report.channel,
        received_at=report.received_at, number="AJ" + report.public_id[1:], lng=report.lng, lat=report.lat,
        address=report.address, category_code=category, route=steps["route"],  # type: ignore[arg-type]
        case_id=case_id)
    case = case_flows.open_case(uow, platform, new=new, actor=TRIAGE)
    report.case_id, report.region_code, report.triage = case.id, place.code, steps
    waiting_because = _needs_dispatcher(place, category, department_id)
    if waiting_because:
        steps["deadline"] = {"register_due_at": _iso(case.register_due_at), "waiting_because": waiting_because}
        report.status = "waiting"
        return WAITING, case  # a dispatcher takes it from the triage queue
    _system(uow, platform, case, case_flows.Command(Action.REGISTER, category_code=category))
    _system(uow, platform, case, case_flows.Command(Action.DISPATCH, department_id=department_id,
                                                    reason=route.reason if route else None))
    steps["deadline"] = {"stage_due_at": _iso(case.stage_due_at), "due_at": _iso(case.due_at)}
    report.status = "triaged"
    return DISPATCHED, case


def _needs_dispatcher(place: Place, category: str | None, department_id: int | None) -> str | None:
    if not place.resolved:
        return "unlocated"  # routing a problem whose place nobody knows would be a guess
    if category is None:
        return "no_category"
    if department_id is None:
        return "no_department"
    return None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _system(uow: UnitOfWork, platform: Platform, case: object, command: case_flows.Command) -> None:
    case_flows.apply(uow, platform, case, TRIAGE, command)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Place:
    code: str  # deepest region known; the city when nothing was found
    resolved: bool


def _locate(platform: Platform, session: Session, report: Report, steps: dict[str, object]) -> Place:
    """Coordinates win over text; an address that names another place than the point is flagged."""
    text = report.address or report.text
    match = locate.locate_text(gazetteer_for(platform), text)
    if report.lng is not None and report.lat is not None:
        try:
            path = [p.code for p in regions.locator(platform).locate(platform.db, report.lng, report.lat)]
        except PointOutsideRegions:
            steps["locate"] = {"by": "coordinates", "resolved": False, "outside": True, "text": match.to_dict()}
            return Place(_city(session), False)
        step: dict[str, object] = {"by": "coordinates", "resolved": True, "approximate": False, "path": path}
        if report.address:  # free text names places in passing; only a stated address is held against the point
            disagreement = locate.compare_with_coordinates(path, match)
            if disagreement:
                step["disagreement"] = disagreement
        steps["locate"] = step
        return Place(path[-1], True)
    by = "address" if report.address else "text"
    if match.code is None:
        steps["locate"] = {"by": by, "resolved": False, "text": match.to_dict()}
        return Place(_city(session), False)
    steps["locate"] = {"by": by, "resolved": True, "approximate": match.approximate, "path": list(match.path),
                       "text": match.to_dict()}
    return Place(match.code, True)


def _city(session: Session) -> str:
    root = regions.list_regions(session=session, level="city", limit=1)
    return root[0].code if root else ""


def _category(platform: Platform, session: Session, report: Report, steps: dict[str, object]) -> str | None:
    code = report.category_code
    if code and catalog.get_category(session=session, code=code) is not None:
        steps["classify"] = {"by": "channel", "category_code": code}
        return code
    prediction = current_classifier(platform).predict_one(report.text)
    known = catalog.get_category(session=session, code=prediction.label) is not None
    confident = prediction.confidence >= platform.settings.triage_min_confidence
    steps["classify"] = {"by": "model", "given": code, "suggested": prediction.label,
                         "confidence": round(prediction.confidence, 4), "known": known, "accepted": known and confident,
                         "top": [[label, round(p, 4)] for label, p in prediction.top[:3]]}
    return prediction.label if known and confident else None


@functools.cache
def _policies() -> fusion.FusionPolicies:
    return fusion.load_policies()  # packaged data: read once per process


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

