"""HTTP ingestion for devices and gateways that cannot speak MQTT: the same bodies as the MQTT payloads
(payload.py), one device's entry or batch, or a gateway's batch.

202 with the result when at least one entry was accepted (refused entries listed, and dead-lettered); 422
naming the field when nothing was (the message is also dead-lettered); 404 for a device that is unknown or
outside the caller's region (the same answer, so ids cannot be probed). A gateway's entries for devices unknown
or outside the caller's region are refused as `unknown_device`, for the same reason.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Request, status
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from cityops.core.errors import NotFound, ValidationFailed
from cityops.org.access import ensure_in_scope, require
from cityops.sensing import service
from cityops.sensing.ingest import IngestResult, ingest, ingest_gateway
from cityops.sensing.payload import MAX_BYTES
from cityops.sensing.schemas import GatewayIngestOut, IngestOut, RefusalOut
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
    raw = await _body(request)
    result = await run_in_threadpool(ingest, platform, device_id, raw, source=SOURCE)
    if result.reason == "unknown_device" and result.refused[0].position is None:
        raise NotFound(result.detail, field="device_id")
    _refuse_unless_accepted(result)
    return IngestOut(device_id=result.device_id, accepted=True, stored=result.stored, readings=result.readings,
                     refused=_refusals(result))


@router.post("/gateways/{gateway_id}/telemetry", response_model=GatewayIngestOut,
             status_code=status.HTTP_202_ACCEPTED)
async def gateway_telemetry(gateway_id: DeviceIdPath, request: Request, platform: PlatformDep,
                            principal: PrincipalDep) -> GatewayIngestOut:
    require(principal, "telemetry.create")
    raw = await _body(request)
    result = await run_in_threadpool(ingest_gateway, platform, gateway_id, raw, source=SOURCE,
                                     in_scope=principal.sees)
    _refuse_unless_accepted(result)
    return GatewayIngestOut(gateway_id=gateway_id, accepted=True, readings=result.readings, stored=result.stored,
                            refused=_refusals(result))


async def _body(request: Request) -> bytes:
    raw = await request.body()
    # Still dead-lettered by ingest when too large, but cut before more work is done.
    return raw[: MAX_BYTES + 1] if len(raw) > MAX_BYTES else raw


def _refuse_unless_accepted(result: IngestResult) -> None:
    if not result.accepted:
        raise ValidationFailed(f"{result.reason}: {result.detail}", field=result.field or "body")


def _refusals(result: IngestResult) -> list[RefusalOut]:
    return [RefusalOut(position=r.position, device_id=r.device_id, reason=r.reason, field=r.field,
                       detail=r.detail) for r in result.refused]
