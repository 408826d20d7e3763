"""Routes for reports and photos."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status
from fastapi.responses import FileResponse

from cityops.core import photos
from cityops.core.errors import NotFound, ValidationFailed
from cityops.intake import flows, service
from cityops.intake.batcher import IntakeBatcher
from cityops.intake.flows import Receipt
from cityops.intake.models import Report
from cityops.intake.schemas import ReceiptOut, ReportIn, ReportOut
from cityops.org.access import ensure_in_scope, require
from cityops.web.deps import AsyncPrincipalDep, PlatformDep, PrincipalDep, SessionDep
from cityops.web.pagination import Limit, Offset, Page

router = APIRouter(prefix="/api/v1", tags=["intake 受理"])


@router.post("/reports", response_model=ReceiptOut, status_code=status.HTTP_201_CREATED,
             responses={200: {"model": ReceiptOut, "description": "already received (same channel id)"}})
async def receive(body: ReportIn, request: Request, principal: AsyncPrincipalDep) -> Response:
    """Also answered by fast_lane.py for a remembered API key and a valid body; this route decides the rest."""
    require(principal, "reports.create")
    batcher: IntakeBatcher = request.app.state.intake_batcher
    receipt = await batcher.submit(body, principal)  # shares a transaction with reports arriving at the same time
    return receipt_response(receipt)


def receipt_response(receipt: Receipt) -> Response:
    """ReceiptOut as JSON: 201 for a new report, 200 for one already received under the same channel id."""
    body = {"id": receipt.public_id, "status": "received", "duplicate": receipt.duplicate}
    return Response(orjson.dumps(body), status_code=200 if receipt.duplicate else 201, media_type="application/json")


@router.post("/photos", status_code=status.HTTP_201_CREATED)
async def upload_photo(platform: PlatformDep, principal: PrincipalDep,
                       file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")]) -> dict[str, str]:
    require(principal, "reports.create")
    content = await file.read(platform.settings.photo_max_bytes + 1)
    return {"id": flows.store_photo(platform, content)}


@router.get("/photos/{photo_id}")
def photo(photo_id: str, platform: PlatformDep, principal: PrincipalDep) -> Response:
    require(principal, "photos.read")
    try:
        path = photos.path_of(platform.settings.photo_dir, photo_id)
    except ValidationFailed:
        raise NotFound() from None
    if not path.exists():
        raise NotFound()
    return FileResponse(path, media_type=f"image/{'jpeg' if photo_id.endswith('jpg') else photo_id[-4:].strip('.')}")


def report_out(report: Report) -> ReportOut:
    return ReportOut(id=report.public_id, channel=report.channel, channel_report_id=report.channel_report_id,
                     text=report.text, category_code=report.category_code, lng=report.lng, lat=report.lat,
                     address=report.address, photos=report.photos, status=report.status,
                     region_code=report.region_code, case_id=report.case_id, received_at=report.received_at,
                     triage=report.triage)


@router.get("/reports", response_model=Page[ReportOut])
def list_reports(principal: PrincipalDep, session: SessionDep, limit: Limit = 50, offset: Offset = 0,
                 status: Annotated[str | None, Query()] = None,
                 channel: Annotated[str | None, Query()] = None) -> Page[ReportOut]:
    require(principal, "reports.read")
    rows, total = service.list_reports(session=session, principal=principal, status=status, channel=channel,
                                       limit=limit, offset=offset)
    return Page[ReportOut](items=[report_out(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/reports/{public_id}", response_model=ReportOut)
def get_report(public_id: str, principal: PrincipalDep, session: SessionDep) -> ReportOut:
    require(principal, "reports.read")
    report = service.get_by_public_id(session=session, public_id=public_id)
    if report is None:
        raise NotFound()
    ensure_in_scope(principal, report.region_code)
    return report_out(report)
