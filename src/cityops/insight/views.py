"""Routes for KPIs, hotspots and the monthly topic. Thin: validation, the service call, then the chosen format."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from cityops.core.clock import CHINA_TZ
from cityops.core.errors import ValidationFailed
from cityops.insight import export, hotspot_export, topic_report
from cityops.insight.hotspot_service import hotspots_for, monthly_topic_for
from cityops.insight.hotspots import HotspotParams
from cityops.insight.service import kpis_for
from cityops.insight.topics import Month
from cityops.regions.codes import Level
from cityops.web.deps import PlatformDep, PrincipalDep, SessionDep

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
    return _download(body, export.filename(result, format), export.MEDIA_TYPES[format])


def _download(body: bytes, name: str, media_type: str) -> Response:
    # RFC 6266: a plain ASCII name, plus the UTF-8 one for names that are not ASCII.
    disposition = f'attachment; filename="{name.encode("ascii", "replace").decode()}"; ' \
                  f"filename*=UTF-8''{quote(name)}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


DEFAULT_HOTSPOT_DAYS = 7


@router.get("/insight/hotspots")
def hotspots(principal: PrincipalDep, session: SessionDep, platform: PlatformDep,
             since: Annotated[date | None, Query(description="开始日期（含），默认截止日前 7 天 / first day")] = None,
             until: Annotated[date | None, Query(description="结束日期（不含），默认明天 / end day, excluded")] = None,
             region: Annotated[str | None, Query(description="区划代码，默认本人辖区 / region code")] = None,
             resolution: Annotated[int, Query(ge=5, le=11, description="H3 分辨率 / H3 resolution")] = 8,
             limit: Annotated[int, Query(ge=1, le=500, description="最多返回热点数 / at most")] = 20) -> dict[str, Any]:
    """未诉先办: places whose reports rise above their own baseline, strongest first (docs/insight.md).
    Without dates: the last seven days, today included."""
    until = until or platform.clock.now().astimezone(CHINA_TZ).date() + timedelta(days=1)
    since = since or until - timedelta(days=DEFAULT_HOTSPOT_DAYS)
    report = hotspots_for(session=session, principal=principal, region_code=region, date_since=since,
                          date_until=until, params=HotspotParams(resolution=resolution, limit=limit))
    return hotspot_export.to_json(report)


TopicFormat = Literal["json", "xlsx", "md"]


@router.get("/insight/monthly-topic", response_model=None)
def monthly_topic(principal: PrincipalDep, session: SessionDep,
                  month: Annotated[str, Query(description="月份 YYYY-MM / month")],
                  region: Annotated[str | None, Query(description="区划代码，默认本人辖区 / region code")] = None,
                  level: Annotated[Level | None, Query(description="分区层级，默认下一级 / grouped by")] = None,
                  format: Annotated[TopicFormat, Query(description="json | xlsx | md")] = "json") -> Response:
    """每月一题: the month's topics ranked by volume, growth and repeat rate, overall and per region."""
    try:
        chosen = Month.parse(month)
    except ValueError:
        raise ValidationFailed("not a month YYYY-MM / 不是月份 YYYY-MM", field="month") from None
    result = monthly_topic_for(session=session, principal=principal, region_code=region, month=chosen, level=level)
    if format == "json":
        return JSONResponse(topic_report.to_json(result))
    body = topic_report.to_xlsx(result) if format == "xlsx" else topic_report.render_markdown(result).encode()
    return _download(body, topic_report.filename(result, format), topic_report.MEDIA_TYPES[format])
