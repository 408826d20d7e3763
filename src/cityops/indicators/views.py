"""Alarm routes: list in the caller's region, acknowledge. Thin: checks happen in the alarm service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from cityops.indicators import alarms, flows
from cityops.indicators.schemas import AlarmOut
from cityops.web.deps import PlatformDep, PrincipalDep, SessionDep
from cityops.web.pagination import Limit, Offset, Page

router = APIRouter(prefix="/api/v1", tags=["indicators 城市体征与告警"])

StatusQuery = Annotated[Literal["open", "active", "acknowledged", "cleared"] | None,
                        Query(description="open（未解除）/ active / acknowledged / cleared")]


@router.get("/alarms", response_model=Page[AlarmOut])
def alarm_list(principal: PrincipalDep, session: SessionDep, limit: Limit = 100, offset: Offset = 0,
               status: StatusQuery = None) -> Page[AlarmOut]:
    rows, total = alarms.list_alarms(session=session, principal=principal, status=status, limit=limit,
                                     offset=offset)
    return Page[AlarmOut](items=[AlarmOut.model_validate(r) for r in rows], total=total, limit=limit,
                          offset=offset)


@router.post("/alarms/{alarm_id}/acknowledge", response_model=AlarmOut)
def alarm_acknowledge(platform: PlatformDep, principal: PrincipalDep,
                      alarm_id: Annotated[int, PathParam(ge=1, description="告警编号 / alarm id")]) -> AlarmOut:
    return AlarmOut.model_validate(flows.acknowledge_alarm(platform, principal, alarm_id=alarm_id))
