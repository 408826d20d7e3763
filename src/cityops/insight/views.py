"""Routes for KPIs. Thin: validation, the service call, then the chosen format."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from cityops.insight import export
from cityops.insight.service import kpis_for
from cityops.web.deps import PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["insight 指标"])

Format = Literal["json", "csv", "xlsx"]


@router.get("/kpis", response_model=None)
def kpis(principal: PrincipalDep, session: SessionDep,
         date_from: Annotated[date, Query(alias="from", description="开始日期（含）/ first day, included")],
         date_to: Annotated[date, Query(alias="to", description="结束日期（不含）/ end day, excluded")],
         region: Annotated[str | None, Query(description="区划代码，默认本人辖区 / region code")] = None,
         department: Annotated[str | None, Query(description="部门编码或名称 / department code or name")] = None,
         format: Annotated[Format, Query(description="json | csv | xlsx")] = "json") -> Response:
    """数字城管 and 接诉即办 KPIs for a region, department and period, with one row per child region.
    Definitions: docs/kpis.md."""
    result = kpis_for(session=session, principal=principal, region_code=region, department=department,
                      date_from=date_from, date_to=date_to)
    if format == "json":
        return JSONResponse(export.to_json(result))
    body = export.to_csv(result) if format == "csv" else export.to_xlsx(result)
    name = export.filename(result, format)
    # RFC 6266: a plain ASCII name, plus the UTF-8 one for department codes that are not ASCII.
    disposition = f'attachment; filename="{name.encode("ascii", "replace").decode()}"; ' \
                  f"filename*=UTF-8''{quote(name)}"
    return Response(body, media_type=export.MEDIA_TYPES[format], headers={"Content-Disposition": disposition})
