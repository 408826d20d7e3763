"""The leader cockpit (一屏观全域): the page and its data endpoints.

The page is one dark full screen: the map of the region in view (click to drill down), the KPI cards, trends and
the vital signs. Its figures come from the JSON endpoints below (insight/cockpit.py), and the cards stay live
through server-sent events at /api/v1/cockpit/stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from cityops.core.errors import DomainError
from cityops.insight import cockpit
from cityops.web import ui
from cityops.web.deps import OptionalPrincipalDep, PlatformDep, PrincipalDep, SessionDep

# The JSON endpoints are in the API's schema; the page route leaves itself out.
router = APIRouter(tags=["cockpit 领导驾驶舱"])
STREAM_INTERVAL_S: Final = 3.0  # how often the stream sends a fresh summary
STREAM_MAX_S: Final = 600.0  # then the stream ends; EventSource reconnects by itself (no connection lives forever)

RegionQuery = Annotated[str | None, Query(pattern=r"^\d{2,20}$", description="区划代码，默认本人辖区 / region code")]


@router.get("/cockpit", response_class=HTMLResponse, include_in_schema=False)
def cockpit_page(request: Request, session: SessionDep, principal: OptionalPrincipalDep,
                 region: str | None = None) -> Response:
    if (refused := ui.guard(request, principal, cockpit.ROLES)) is not None:
        return refused
    assert principal is not None
    try:
        path = cockpit.region_path(session, principal, region)
    except DomainError:  # a region outside the caller's scope, or unknown: start from their own
        path = cockpit.region_path(session, principal, None)
    return ui.page(request, "cockpit/cockpit.html", principal,
                   {"region_path": path, "boot": json.dumps({"path": path}, ensure_ascii=False).replace("<", "\\u003c"),
                    "stream_interval_s": STREAM_INTERVAL_S})


@router.get("/api/v1/cockpit/summary")
def cockpit_summary(platform: PlatformDep, session: SessionDep, principal: PrincipalDep,
                    region: RegionQuery = None) -> Response:
    """The KPI cards of a region: today's reports, open and overdue cases (and per child region), this month's
    按期结案率 and 满意率 (as GET /api/v1/kpis), open alarms by level."""
    return _json(cockpit.summary(platform, session, principal, region))


@router.get("/api/v1/cockpit/map")
def cockpit_map(platform: PlatformDep, session: SessionDep, principal: PrincipalDep, region: RegionQuery = None,
                bbox: Annotated[str | None, Query(description="西,南,东,北 (WGS-84) / west,south,east,north")] = None,
                ) -> Response:
    """Open cases in view as points (or one cluster per grid when there are too many) and open alarms."""
    return _json(cockpit.map_layer(platform, session, principal, region, cockpit.Bbox.parse(bbox)))


@router.get("/api/v1/cockpit/trends")
def cockpit_trends(platform: PlatformDep, session: SessionDep, principal: PrincipalDep,
                   region: RegionQuery = None) -> Response:
    """The last 30 days: reports per day, the top categories of the cases received, reports per child region."""
    return _json(cockpit.trends(platform, session, principal, region))


@router.get("/api/v1/cockpit/indicators")
def cockpit_indicators(platform: PlatformDep, session: SessionDep, principal: PrincipalDep,
                       region: RegionQuery = None) -> Response:
    """The vital signs: each indicator covering the region with its current value and warning level."""
    return _json(cockpit.indicators(platform, session, principal, region))


@router.get("/api/v1/cockpit/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}})
async def cockpit_stream(request: Request, platform: PlatformDep, session: SessionDep, principal: PrincipalDep,
                         region: RegionQuery = None,
                         limit: Annotated[int | None, Query(ge=1, le=10_000, description="最多事件数 / at most")]
                         = None) -> StreamingResponse:
    """Server-sent events: `summary` (the body of GET /api/v1/cockpit/summary) now and every few seconds."""
    first = await run_in_threadpool(cockpit.summary, platform, session, principal, region)  # refusals answer here
    session.close()  # the stream outlives the request's session: give its connection back now

    def fresh() -> dict[str, Any]:
        with platform.db.session() as own:
            return cockpit.summary(platform, own, principal, region)

    async def events() -> AsyncIterator[str]:
        body, sent = first, 0
        loop = asyncio.get_running_loop()
        ends = loop.time() + STREAM_MAX_S
        yield f"retry: {int(STREAM_INTERVAL_S * 1000)}\n\n"
        while True:
            yield _event("summary", body)
            sent += 1
            if (limit is not None and sent >= limit) or loop.time() > ends:
                return
            await asyncio.sleep(STREAM_INTERVAL_S)
            if await request.is_disconnected():
                return
            body = await run_in_threadpool(fresh)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# Encoded answers by the identity of the body: the cockpit service hands out the same object while it keeps a
# region's figures, so a room of screens asking for the same region costs one encoding, not one each.
_ENCODED: dict[int, tuple[dict[str, Any], bytes]] = {}


def _json(body: dict[str, Any]) -> Response:
    hit = _ENCODED.get(id(body))
    if hit is not None and hit[0] is body:
        raw = hit[1]
    else:
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        if len(_ENCODED) > 512:  # bounded; the entry holds the body, so its id cannot be reused meanwhile
            _ENCODED.clear()
        _ENCODED[id(body)] = (body, raw)
    return Response(raw, media_type="application/json")


def _event(name: str, body: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(body, ensure_ascii=False, separators=(',', ':'))}\n\n"
