"""Routes for regions. Thin: scope check, then a service call.

Regions are reference data: a caller sees their own region, everything inside it, and the regions above it
(so breadcrumbs work), never a sibling. Locating a point is public: boundaries are public information and the
citizen portal needs it before anyone signs in.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from cityops.org.access import Principal, ensure_in_scope, require
from cityops.regions import service
from cityops.regions.codes import Level
from cityops.regions.coords import Crs, to_wgs84
from cityops.regions.models import Region
from cityops.regions.schemas import LocateOut, PathStepOut, RegionDetailOut, RegionOut
from cityops.web.deps import PlatformDep, PrincipalDep, SessionDep
from cityops.web.pagination import Limit, Offset, Page

router = APIRouter(prefix="/api/v1", tags=["regions 区划与网格"])

LevelQuery = Annotated[Level | None, Query(description="层级 / level")]
ParentQuery = Annotated[str | None, Query(max_length=20, description="上级区划代码 / parent code")]
CHILDREN_MAX = 1000


def _scope(principal: Principal) -> list[str]:
    return [principal.scope_prefix]


@router.get("/regions", response_model=Page[RegionOut])
def region_list(principal: PrincipalDep, session: SessionDep, limit: Limit = 100, offset: Offset = 0,
                level: LevelQuery = None, parent_code: ParentQuery = None) -> Page[RegionOut]:
    require(principal, "regions.read")
    filters: dict[str, Any] = {"level": level, "parent_code": parent_code, "prefixes": _scope(principal)}
    rows = service.list_regions(session=session, limit=limit, offset=offset, **filters)
    total = service.count_regions(session=session, **filters)
    return Page[RegionOut](items=[RegionOut.model_validate(r) for r in rows], total=total, limit=limit,
                           offset=offset)


@router.get("/regions/geojson", response_class=JSONResponse)
def region_geojson(principal: PrincipalDep, session: SessionDep, level: LevelQuery = None,
                   parent_code: ParentQuery = None, offset: Offset = 0,
                   limit: Annotated[int, Query(ge=1, le=10000, description="最多条数 / at most")] = 2000,
                   ) -> JSONResponse:
    """Regions as an RFC 7946 FeatureCollection (WGS-84), for maps."""
    require(principal, "regions.read")
    rows = service.list_regions(session=session, level=level, parent_code=parent_code,
                                prefixes=_scope(principal), limit=limit, offset=offset)
    body = {"type": "FeatureCollection", "features": [_feature(r) for r in rows if r.geometry]}
    return JSONResponse(body, media_type="application/geo+json")


def _feature(region: Region) -> dict[str, Any]:
    properties = {"code": region.code, "name": region.name, "level": region.level,
                  "parent_code": region.parent_code, "source": region.source}
    return {"type": "Feature", "id": region.code, "properties": properties, "geometry": region.geometry}


@router.get("/regions/locate", response_model=LocateOut)
def region_locate(platform: PlatformDep,
                  lng: Annotated[float, Query(ge=-180, le=180, description="经度 / longitude")],
                  lat: Annotated[float, Query(ge=-90, le=90, description="纬度 / latitude")],
                  crs: Annotated[Crs, Query(description="wgs84 (GPS, default) or gcj02 (高德/腾讯)")] = "wgs84",
                  ) -> LocateOut:
    steps = service.locator(platform).locate(platform.db, lng, lat, crs=crs)
    wgs_lng, wgs_lat = to_wgs84(lng, lat, crs)
    return LocateOut(lng=wgs_lng, lat=wgs_lat, path=[PathStepOut(**step._asdict()) for step in steps])


@router.get("/regions/{code}", response_model=RegionDetailOut)
def region_detail(code: str, principal: PrincipalDep, session: SessionDep) -> RegionDetailOut:
    require(principal, "regions.read")
    ensure_in_scope(principal, code, reference=True)  # before the lookup: outside scope reads as not found
    return RegionDetailOut.model_validate(service.get_or_raise(session=session, code=code))


@router.get("/regions/{code}/children", response_model=list[RegionOut])
def region_children(code: str, principal: PrincipalDep, session: SessionDep) -> list[RegionOut]:
    require(principal, "regions.read")
    ensure_in_scope(principal, code, reference=True)
    service.get_or_raise(session=session, code=code)
    rows = service.list_regions(session=session, parent_code=code, prefixes=_scope(principal), limit=CHILDREN_MAX)
    return [RegionOut.model_validate(r) for r in rows]
