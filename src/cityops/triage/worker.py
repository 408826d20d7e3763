"""The triage worker: takes received reports in batches; each is located, classified, fused into an open case
about the same problem or opened as a case of its own, routed and put on the clock.

A report is done when its status leaves "received", in the same transaction that opened its case, so a
crash or a redelivered bus message can never open a second case for it. A batch is written in bulk at its
end (cases/opening.py); if it fails, its reports are done again one by one, each in a savepoint: one bad
report is marked failed and kept as a dead letter while the rest of the batch goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.orm import Session

from cityops.cases import opening, timing
from cityops.cases import service as case_service
from cityops.cases.changes import NewCase
from cityops.catalog.cache import routing_table
from cityops.catalog.routing import RoutingTable
from cityops.core.bus.base import Message
from cityops.core.models import DeadLetter
from cityops.core.uow import UnitOfWork
from cityops.intake import service as reports
from cityops.org.access import system_principal
from cityops.platform import Platform
from cityops.regions import service as regions
from cityops.regions.errors import PointOutsideRegions
from cityops.triage import fusion, fusion_service, locate
from cityops.triage.gazetteer_service import gazetteer_for
from cityops.triage.model_store import current_classifier

log = structlog.get_logger(__name__)
TRIAGE = system_principal("triage")
BATCH = 500


TRIAGED, WAITING, FUSED = "triaged", "waiting", "fused"  # a report's status once triaged


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

    Fast path: the whole batch in one transaction without savepoints, with a fixed number of statements however
    many reports it holds (claim, case ids, fusion candidates, case locks, then the writes in bulk). If anything
    in it fails, the batch is rolled back and done again report by report, each in a savepoint, so the failing
    report is isolated and kept as a dead letter while the others go through.
    """
    try:
        with platform.uow() as uow:
            result = _triage(uow, platform, reports.claim_rows(session=uow.session, limit=limit))
            uow.commit()
            return result
    except Exception:
        log.warning("triage.batch_failed_retrying_one_by_one", exc_info=True)
    return _one_by_one(platform, limit)


def _one_by_one(platform: Platform, limit: int) -> BatchResult:
    """The slow path: each report in a savepoint of its own, a failing one kept as a dead letter."""
    result = BatchResult()
    with platform.uow() as uow:
        for report in reports.claim_rows(session=uow.session, limit=limit):
            savepoint = uow.session.begin_nested()
            try:
                result.add(_triage(uow, platform, [report]))
                savepoint.commit()
            except Exception as exc:  # one bad report must not stop the others; it is kept, never dropped
                savepoint.rollback()
                log.exception("triage.failed", report=report.public_id)
                _fail(uow, report, exc)
                result.report_ids.append(report.id)
                result.failed += 1
        uow.commit()
    return result


def _fail(uow: UnitOfWork, report: reports.ReportRow, exc: Exception) -> None:
    reports.record_triage(session=uow.session, outcomes=[{
        "report_id": report.id, "status": "failed", "case_id": None, "region_code": None,
        "triage": {**report.triage, "error": str(exc)}}])
    uow.session.add(DeadLetter(source="triage", subject="cityops.reports.received", key=report.public_id,
                               payload=report.text, error=repr(exc), deliveries=1, created_at=uow.clock.now()))


def _triage(uow: UnitOfWork, platform: Platform, batch: Sequence[reports.ReportRow]) -> BatchResult:
    """Every step's decision for the whole batch first (fusion in report order, each report seeing the cases
    the ones before it opened or joined), then the stored cases to join locked in one query, then the cases
    opened, routed and joined in report order, so timeline, audit chain and outbox read as if the reports went
    one by one; all of it written at the end (cases/opening.py)."""
    session = uow.session
    result = BatchResult()
    case_ids = case_service.reserve_case_ids(session=session, count=len(batch))
    table = routing_table(platform)
    assessed = [_assess(platform, session, table, report) for report in batch]
    joins = _fuse_in_order(session, batch, assessed, case_ids)
    opened = set(case_ids)
    held = case_service.lock_rows(session=session, ids=[j for j in joins if j is not None and j not in opened],
                                  columns=opening.JOIN_COLUMNS)
    cases = opening.Batch(actor=TRIAGE, now=uow.clock.now())
    outcomes = []
    for report, assessment, case_id, join in zip(batch, assessed, case_ids, joins, strict=True):
        result.report_ids.append(report.id)
        if join is None:
            status, held[case_id] = _open(platform, table, cases, report, assessment, case_id)
        else:
            cases.attach(held[join], report.public_id, report.received_at,
                         assessment.steps["fuse"])  # type: ignore[arg-type]
            status, case_id = FUSED, join
        outcomes.append({"report_id": report.id, "status": status, "case_id": case_id,
                         "region_code": assessment.place.code, "triage": assessment.steps})
        _count(result, status)
    opening.write(uow, cases)
    reports.record_triage(session=session, outcomes=outcomes)
    return result


def _fuse_in_order(session: Session, batch: Sequence[reports.ReportRow], assessed: list[Assessment],
                   case_ids: list[int]) -> list[int | None]:
    """Each report's fusion decision (the case it joins, or None for a case of its own under its reserved id),
    in report order, each seeing what the decisions before it did."""
    fusion_batch = fusion_service.BatchFusion(session, [a.incoming for a in assessed], _policies())
    joins: list[int | None] = []
    for i, (report, assessment, case_id) in enumerate(zip(batch, assessed, case_ids, strict=True)):
        decision = fusion_batch.decide(i)
        assessment.steps["fuse"] = decision.to_dict()
        join = decision.case_id if decision.fused else None
        if join is None:
            fusion_batch.opened(i, case_id, assessment.place.code)
        else:
            fusion_batch.attached(join, report.received_at)
        joins.append(join)
    return joins


def _count(result: BatchResult, status: str) -> None:
    if status == FUSED:
        result.fused += 1
        return
    result.cases += 1
    if status == TRIAGED:
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


@dataclass
class Assessment:
    """Locate and classify: what a report says before the database's open cases are looked at."""

    place: Place
    category: str | None
    steps: dict[str, object]
    incoming: fusion.Incoming


def _assess(platform: Platform, session: Session, table: RoutingTable, report: reports.ReportRow) -> Assessment:
    steps: dict[str, object] = {}
    place = _locate(platform, session, report, steps)
    category = _category(platform, table, report, steps)
    incoming = fusion.Incoming(text=report.text, at=report.received_at, lng=report.lng, lat=report.lat,
                               category_code=category, region_code=place.code if place.resolved else None)
    return Assessment(place, category, steps, incoming)


def _open(platform: Platform, table: RoutingTable, cases: opening.Batch, report: reports.ReportRow,
          assessment: Assessment, case_id: int) -> tuple[str, dict[str, Any]]:
    """A case of its own: opened, routed, and registered and dispatched when nothing needs a person."""
    steps, place, category = assessment.steps, assessment.place, assessment.category
    route = table.route(category, place.code) if category else None
    department_id = table.department_ids.get(route.department_code) if route else None
    steps["route"] = ({"department_code": route.department_code, "department_id": department_id,
                       "reason": route.reason, "fallback": route.fallback} if route else None)
    new = NewCase(
        title=_title(report.text), description=report.text, region_code=place.code, channel=report.channel,
        received_at=report.received_at, number="AJ" + report.public_id[1:], lng=report.lng, lat=report.lat,
        address=report.address, category_code=category, route=steps["route"],  # type: ignore[arg-type]
        case_id=case_id)
    clock = timing.for_limits(platform, table.categories.get(category) if category else None)
    row = cases.open(new, clock)
    waiting_because = _needs_dispatcher(place, category, department_id)
    if waiting_because or department_id is None:
        steps["deadline"] = {"register_due_at": _iso(row["register_due_at"]), "waiting_because": waiting_because}
        return WAITING, row  # a dispatcher takes it from the triage queue
    cases.register_and_dispatch(row, clock, department_id, route.reason if route else None)
    steps["deadline"] = {"stage_due_at": _iso(row["stage_due_at"]), "due_at": _iso(row["due_at"])}
    return TRIAGED, row


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


@dataclass(frozen=True)
class Place:
    code: str  # deepest region known; the city when nothing was found
    resolved: bool


def _locate(platform: Platform, session: Session, report: reports.ReportRow, steps: dict[str, object]) -> Place:
    """Coordinates win over text; an address that names another place than the point is flagged."""
    def match() -> locate.AddressMatch:  # only when the point needs it: matching text costs more than the point
        return locate.locate_text(gazetteer_for(platform), report.address or report.text)

    if report.lng is not None and report.lat is not None:
        try:
            path = [p.code for p in regions.locator(platform).locate(platform.db, report.lng, report.lat)]
        except PointOutsideRegions:
            steps["locate"] = {"by": "coordinates", "resolved": False, "outside": True, "text": match().to_dict()}
            return Place(_city(session), False)
        step: dict[str, object] = {"by": "coordinates", "resolved": True, "approximate": False, "path": path}
        if report.address:  # free text names places in passing; only a stated address is held against the point
            disagreement = locate.compare_with_coordinates(path, match())
            if disagreement:
                step["disagreement"] = disagreement
        steps["locate"] = step
        return Place(path[-1], True)
    by, found = ("address" if report.address else "text"), match()
    if found.code is None:
        steps["locate"] = {"by": by, "resolved": False, "text": found.to_dict()}
        return Place(_city(session), False)
    steps["locate"] = {"by": by, "resolved": True, "approximate": found.approximate, "path": list(found.path),
                       "text": found.to_dict()}
    return Place(found.code, True)


def _city(session: Session) -> str:
    root = regions.list_regions(session=session, level="city", limit=1)
    return root[0].code if root else ""


def _category(platform: Platform, table: RoutingTable, report: reports.ReportRow,
              steps: dict[str, object]) -> str | None:
    code = report.category_code
    if code and code in table.categories:
        steps["classify"] = {"by": "channel", "category_code": code}
        return code
    prediction = current_classifier(platform).predict_one(report.text)
    known = prediction.label in table.categories
    confident = prediction.confidence >= platform.settings.triage_min_confidence
    steps["classify"] = {"by": "model", "given": code, "suggested": prediction.label,
                         "confidence": round(prediction.confidence, 4), "known": known, "accepted": known and confident,
                         "top": [[label, round(p, 4)] for label, p in prediction.top[:3]]}
    return prediction.label if known and confident else None


@functools.cache
def _policies() -> fusion.FusionPolicies:
    return fusion.load_policies()  # packaged data: read once per process


def _title(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else text
    return first[:60] + ("…" if len(first) > 60 else "")


class Waker:
    """Runs `drain` one pass at a time: woken by each cityops.reports.received message, and every `poll_s` for
    reports no message announced (received while no worker ran, or on another process's in-process bus).

    A message only wakes it: the table is the queue, so messages that arrive during a pass are all served by
    the next one. Draining once per message instead, a burst of reports ran a pass for each, most of them
    finding nothing left to do, and the others too small a batch to be worth their fixed cost."""

    def __init__(self, platform: Platform, *, poll_s: float) -> None:
        self._platform, self._poll_s = platform, poll_s
        self._wake = asyncio.Event()

    async def handle(self, message: Message) -> None:
        """The bus consumer: redelivery is harmless, and nothing is lost if the process stops before the pass."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_s):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await asyncio.to_thread(drain, self._platform)
            except Exception:  # a failed pass is logged and tried again; the loop must live on
                log.exception("triage.pass_failed")
