"""Routes for the category catalogue, routing rules and the routing preview. Thin: checks, then a call.

Categories are city-wide reference data: every staff role reads them. Routing rules are reference data of
their region: a caller sees the rules of their region, inside it and above it, never a sibling's.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi import Path as PathParam
from fastapi.responses import Response

from cityops.catalog import exporters, flows, importers, service
from cityops.catalog.importers import Format
from cityops.catalog.models import RoutingRule
from cityops.catalog.schemas import (
    CategoryIn,
    CategoryOut,
    DecisionOut,
    HistoryOut,
    ImportSummaryOut,
    Kind,
    PreviewOut,
    RuleIn,
    RuleInput,
    RuleOut,
    RuleUpdateIn,
)
from cityops.catalog.service import UpsertCounts
from cityops.core.errors import ValidationFailed
from cityops.org.access import Principal, ensure_in_scope, require
from cityops.web.deps import PlatformDep, PrincipalDep, SessionDep
from cityops.web.pagination import Limit, Offset, Page

router = APIRouter(prefix="/api/v1", tags=["catalog 分类与派遣规则"])

UPLOAD_MAX: Final = 20 * 1024 * 1024  # a national catalogue is well under 1 MB; this stops accidents
KindQuery = Annotated[Kind | None, Query(description="部件 component / 事件 matter / 热线 hotline / custom")]
CodePath = Annotated[str, PathParam(max_length=40, description="分类编码 / category code")]


def _summary(counts: UpsertCounts) -> ImportSummaryOut:
    return ImportSummaryOut(created=counts.created, updated=counts.updated, unchanged=counts.unchanged,
                            total=counts.total)


# --- categories -----------------------------------------------------------------------------------


@router.get("/categories", response_model=Page[CategoryOut])
def category_list(principal: PrincipalDep, session: SessionDep, limit: Limit = 100, offset: Offset = 0,
                  kind: KindQuery = None,
                  active: Annotated[bool | None, Query(description="仅启用/停用 / active or not")] = None,
                  q: Annotated[str | None, Query(max_length=60, description="名称或编码 / name or code")] = None,
                  parent_code: Annotated[str | None, Query(max_length=40, description="上级 / parent")] = None,
                  ) -> Page[CategoryOut]:
    require(principal, "catalog.read")
    rows, total = service.list_categories(session=session, kind=kind, active=active, search=q,
                                          parent_code=parent_code, limit=limit, offset=offset)
    return Page[CategoryOut](items=[CategoryOut.model_validate(r) for r in rows], total=total, limit=limit,
                             offset=offset)


@router.get("/categories/export")
def category_export(principal: PrincipalDep, session: SessionDep, kind: KindQuery = None,
                    format: Annotated[Literal["csv", "xlsx"], Query(description="csv or xlsx")] = "csv",
                    ) -> Response:
    """The catalogue in the native import format (CSV is UTF-8 with BOM, so Excel reads Chinese)."""
    require(principal, "catalog.read")
    categories = [service.as_input(c) for c in service.all_categories(session=session, kind=kind)]
    body, media_type = exporters.export_categories(categories, format)
    disposition = f'attachment; filename="categories.{format}"'
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


@router.post("/categories/import", response_model=ImportSummaryOut)
def category_import(platform: PlatformDep, principal: PrincipalDep,
                          file: Annotated[UploadFile, File(description="CSV 或 XLSX / CSV or XLSX")],
                          format: Annotated[Format, Form(description="native | urban | hotline")] = "native",
                          department_map: Annotated[str | None, Form(
                              description='JSON {"部门名称": "部门编码"} for the urban format')] = None,
                          ) -> ImportSummaryOut:
    flows.authorise_catalogue(principal)  # before reading a possibly large upload
    upload = flows.ImportFile(name=file.filename or "upload", content=_read_upload(file))
    counts = flows.import_categories(platform, upload, actor=principal, fmt=format,
                                     department_map=importers.parse_department_map(department_map))
    return _summary(counts)


@router.get("/categories/{code}", response_model=CategoryOut)
def category_detail(code: CodePath, principal: PrincipalDep, session: SessionDep) -> CategoryOut:
    require(principal, "catalog.read")
    return CategoryOut.model_validate(service.get_category_or_raise(session=session, code=code))


@router.get("/categories/{code}/history", response_model=list[HistoryOut])
def category_history(code: CodePath, principal: PrincipalDep, session: SessionDep) -> list[HistoryOut]:
    require(principal, "catalog.read")
    service.get_category_or_raise(session=session, code=code)
    return [HistoryOut.model_validate(h) for h in service.category_history(session=session, code=code)]


@router.put("/categories/{code}", response_model=CategoryOut)
def category_put(code: CodePath, body: CategoryIn, platform: PlatformDep, principal: PrincipalDep) -> CategoryOut:
    """Create or replace a category (city-level administrators)."""
    flows.put_category(platform, actor=principal, category=body.to_input(code))
    with platform.db.session() as session:
        return CategoryOut.model_validate(service.get_category_or_raise(session=session, code=code))


# --- routing rules --------------------------------------------------------------------------------


@router.get("/routing-rules", response_model=Page[RuleOut])
def rule_list(principal: PrincipalDep, session: SessionDep, limit: Limit = 100, offset: Offset = 0,
              category_code: Annotated[str | None, Query(max_length=40)] = None,
              region_code: Annotated[str | None, Query(max_length=20)] = None,
              department_code: Annotated[str | None, Query(max_length=40)] = None,
              active: Annotated[bool | None, Query()] = None) -> Page[RuleOut]:
    require(principal, "catalog.read")
    rows, total = service.list_rules(session=session, principal=principal, category_code=category_code,
                                     region_code=region_code, department_code=department_code, active=active,
                                     limit=limit, offset=offset)
    return Page[RuleOut](items=[RuleOut.model_validate(r) for r in rows], total=total, limit=limit,
                         offset=offset)


def _visible_rule(principal: Principal, session: SessionDep, rule_id: int) -> RoutingRule:
    require(principal, "catalog.read")
    rule = service.get_rule_or_raise(session=session, rule_id=rule_id)
    ensure_in_scope(principal, rule.region_code, reference=True)
    return rule


@router.get("/routing-rules/{rule_id}", response_model=RuleOut)
def rule_detail(rule_id: int, principal: PrincipalDep, session: SessionDep) -> RuleOut:
    return RuleOut.model_validate(_visible_rule(principal, session, rule_id))


@router.get("/routing-rules/{rule_id}/history", response_model=list[HistoryOut])
def rule_history(rule_id: int, principal: PrincipalDep, session: SessionDep) -> list[HistoryOut]:
    _visible_rule(principal, session, rule_id)
    return [HistoryOut.model_validate(h) for h in service.rule_history(session=session, rule_id=rule_id)]


@router.post("/routing-rules", response_model=RuleOut, status_code=status.HTTP_201_CREATED)
def rule_create(body: RuleIn, platform: PlatformDep, principal: PrincipalDep) -> RuleOut:
    rule_id = flows.create_rule(platform, actor=principal, rule=RuleInput(**body.model_dump()))
    return _rule_out(platform, rule_id)


@router.put("/routing-rules/{rule_id}", response_model=RuleOut)
def rule_update(rule_id: int, body: RuleUpdateIn, platform: PlatformDep, principal: PrincipalDep) -> RuleOut:
    """Change fields given in the body (a field left out stays); `"active": false` deactivates the rule."""
    changes = body.model_dump(exclude_unset=True)
    for name in ("region_code", "department_code", "active"):
        if name in changes and changes[name] is None:
            raise ValidationFailed("may not be null", field=name)
    flows.update_rule(platform, actor=principal, rule_id=rule_id, changes=changes)
    return _rule_out(platform, rule_id)


@router.delete("/routing-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def rule_deactivate(rule_id: int, platform: PlatformDep, principal: PrincipalDep) -> None:
    """Deactivate (rules are kept with their history, never deleted)."""
    flows.deactivate_rule(platform, actor=principal, rule_id=rule_id)


@router.post("/routing-rules/import", response_model=ImportSummaryOut)
def rule_import(platform: PlatformDep, principal: PrincipalDep,
                      file: Annotated[UploadFile, File(description="CSV 或 XLSX / CSV or XLSX")]
                      ) -> ImportSummaryOut:
    require(principal, "catalog.write")
    upload = flows.ImportFile(name=file.filename or "upload", content=_read_upload(file))
    return _summary(flows.import_rules(platform, upload, actor=principal))


def _rule_out(platform: PlatformDep, rule_id: int) -> RuleOut:
    with platform.db.session() as session:
        return RuleOut.model_validate(service.get_rule_or_raise(session=session, rule_id=rule_id))


@router.get("/routing/preview", response_model=PreviewOut)
def routing_preview(principal: PrincipalDep, session: SessionDep,
                    region_code: Annotated[str, Query(min_length=6, max_length=20, pattern=r"^\d+$")],
                    category_code: Annotated[str | None, Query(max_length=40)] = None) -> PreviewOut:
    """Which department a case of this category in this region would go to, and why."""
    require(principal, "catalog.read")
    ensure_in_scope(principal, region_code, reference=True)
    if category_code:
        service.get_category_or_raise(session=session, code=category_code)
    decision = service.route_for(session=session, category_code=category_code, region_code=region_code)
    out = DecisionOut(**vars(decision)) if decision is not None else None
    return PreviewOut(category_code=category_code, region_code=region_code, decision=out)


# --- uploads --------------------------------------------------------------------------------------


def _read_upload(file: UploadFile) -> bytes:
    """Sync on purpose: these routes run in the thread pool, where blocking reads and writes are fine."""
    content = file.file.read(UPLOAD_MAX + 1)
    if len(content) > UPLOAD_MAX:
        raise ValidationFailed(f"larger than {UPLOAD_MAX // (1024 * 1024)} MB", field="file")
    return content
