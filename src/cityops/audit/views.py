from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from cityops.audit import service
from cityops.audit.models import AuditRecord
from cityops.core.errors import NotFound
from cityops.org.access import ensure_in_scope, require, scoped
from cityops.web.deps import PrincipalDep, SessionDep
from cityops.web.pagination import Limit, Offset, Page

router = APIRouter(prefix="/api/v1", tags=["audit 审计"])


class AuditRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    region_code: str | None
    data: dict[str, Any]
    hash: str


@router.get("/audit", response_model=Page[AuditRecordOut])
def audit_list(principal: PrincipalDep, session: SessionDep, limit: Limit = 50, offset: Offset = 0,
               action: Annotated[str | None, Query(description="按动作筛选 / filter by action")] = None
               ) -> Page[AuditRecordOut]:
    require(principal, "audit.read")
    query = scoped(select(AuditRecord), principal, AuditRecord.region_code)
    if action:
        query = query.where(AuditRecord.action == action)
    rows, total = service.list_records(session=session, query=query, limit=limit, offset=offset)
    return Page[AuditRecordOut](items=[AuditRecordOut.model_validate(r) for r in rows], total=total,
                                limit=limit, offset=offset)


@router.get("/audit/{seq}", response_model=AuditRecordOut)
def audit_detail(seq: int, principal: PrincipalDep, session: SessionDep) -> AuditRecordOut:
    require(principal, "audit.read")
    record = session.get(AuditRecord, seq)
    if record is None:
        raise NotFound()
    ensure_in_scope(principal, record.region_code)
    return AuditRecordOut.model_validate(record)
