"""HTTP ingestion for devices that cannot speak MQTT: the same body as the MQTT payload (payload.py).

202 with the result when stored; 422 naming the field when refused (the message is also dead-lettered);
404 for a device that is unknown or outside the caller's region (the same answer, so ids cannot be probed).
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Request, status
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from cityops.core.errors import NotFound, ValidationFailed
from cityops.org.access import ensure_in_scope, require
from cityops.sensing import service
from cityops.sensing.ingest import ingest
from cityops.sensing.payload import MAX_BYTES
from cityops.sensing.schemas import IngestOut
from cityops.web.deps import PlatformDep, PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/sensing", tags=["sensing 物联感知"])
SOURCE: Final = "sensing.http"
DeviceIdPath = Annotated[str, PathParam(max_length=64, description="设备编号 / device id")]


@router.post("/devices/{device_id}/telemetry", response_model=IngestOut, status_code=status.HTTP_202_ACCEPTED)
async def telemetry(device_id: DeviceIdPath, request: Request, platform: PlatformDep, principal: PrincipalDep,
                    session: SessionDep) -> IngestOut:
    require(principal, "telemetry.create")
    device = service.get(session=session, device_id=device_id)
    if device is not None:
        ensure_in_scope(principal, device.region_code)
    raw = await request.body()
    if len(raw) > MAX_BYTES:  # still dead-lettered by ingest, but answered before more work is done
        raw = raw[: MAX_BYTES + 1]
    result = await run_in_threadpool(ingest, platform, device_id, raw, source=SOURCE)
    if result.reason == "unknown_device":
        raise NotFound(result.detail, field="device_id")
    if not result.accepted:
        raise ValidationFailed(f"{result.reason}: {result.detail}", field=result.field or "body")
    return IngestOut(device_id=result.device_id, accepted=True, stored=result.stored)
