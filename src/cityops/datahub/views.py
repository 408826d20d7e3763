"""Routes of the data hub: catalogue, imports, sharing, access, aggregates, quality, registers. Thin.

The catalogue (what exists, its fields and grades) is readable by all staff; rows are read only by the owning
department or under a grant, with an API key (`Authorization: Bearer …`) or a staff session.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import orjson
from fastapi import APIRouter, BackgroundTasks, File, Form, Query, UploadFile, status
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

from cityops.core.errors import NotFound, ValidationFailed
from cityops.datahub import aggregate, flows, importers, register_flows, service, sharing_flows
from cityops.datahub.models import Dataset, Grant, ImportJob, ShareRequest
from cityops.datahub.schema import parse_schema
from cityops.datahub.schemas import (
    AggregateCellOut,
    AggregateIn,
    AggregateOut,
    BuildOut,
    CreatedOut,
    DatasetDetailOut,
    DatasetIn,
    DatasetOut,
    DecisionIn,
    DecisionOut,
    FieldOut,
    GrantOut,
    ImportOut,
    ListsOut,
    QualityOut,
    RevokeIn,
    RowsOut,
    SavedOut,
    ShareRequestIn,
    ShareRequestOut,
    VersionOut,
)
from cityops.org import service as org
from cityops.org.access import require
from cityops.web.deps import PlatformDep, PrincipalDep, SessionDep
from cityops.web.pagination import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/datahub", tags=["datahub 数字底座"])

UPLOAD_MAX: Final = 300 * 1024 * 1024  # a million-row register is ~150 MB of CSV
CodePath = Annotated[str, PathParam(max_length=60, description="数据资源编码 / dataset code")]
SUPPRESSION_RULE: Final = ("小于 k 的基础单元格不参与任何汇总；汇总只由可见单元格相加而成 / base cells under k "
                           "contribute to no answer; every answer is a sum of visible base cells")


def _dataset_out(dataset: Dataset, departments: dict[int, str]) -> DatasetOut:
    out = DatasetOut.model_validate(dataset)
    out.owner_department = departments.get(dataset.owner_department_id)
    return out


def _department_names(session: SessionDep) -> dict[int, str]:
    return {d.id: d.name for d in org.list_departments(session=session)}


# --- catalogue -------------------------------------------------------------------------------------------


@router.get("/datasets", response_model=Page[DatasetOut])
def dataset_list(principal: PrincipalDep, session: SessionDep, limit: Limit = 50, offset: Offset = 0,
                 q: Annotated[str | None, Query(max_length=60, description="名称、编码或描述 / search")] = None,
                 department: Annotated[str | None, Query(max_length=40, description="部门编码")] = None,
                 register: Annotated[bool | None, Query(description="仅基础库 / base registers only")] = None,
                 ) -> Page[DatasetOut]:
    require(principal, "datahub.read")
    department_id = None
    if department:
        found = org.get_department_by_code(session=session, code=department)
        if found is None:
            raise NotFound(f"no department {department}", field="department")
        department_id = found.id
    rows, total = service.search_datasets(session=session, text=q, department_id=department_id, register=register,
                                          limit=limit, offset=offset)
    names = _department_names(session)
    return Page[DatasetOut](items=[_dataset_out(d, names) for d in rows], total=total, limit=limit, offset=offset)


@router.post("/datasets", response_model=SavedOut)
def dataset_save(body: DatasetIn, platform: PlatformDep, principal: PrincipalDep) -> SavedOut:
    """Create or update a catalogue entry (the owning department's data officer)."""
    code, outcome = flows.save_dataset(platform, actor=principal, values=body.model_dump(by_alias=True))
    return SavedOut(code=code, outcome=outcome)


@router.get("/datasets/{code}", response_model=DatasetDetailOut)
def dataset_detail(code: CodePath, principal: PrincipalDep, session: SessionDep) -> DatasetDetailOut:
    require(principal, "datahub.read")
    dataset = service.get_dataset_or_raise(session=session, code=code)
    schema = parse_schema(dataset.table_schema)
    detail = DatasetDetailOut(**_dataset_out(dataset, _department_names(session)).model_dump(by_alias=True))
    detail.fields = [FieldOut(name=f.name, type=f.type, title=f.title, description=f.description,
                              standard=f.standard, grade=f.grade, pi_class=f.pi_class, dimension=f.dimension,
                              required=f.required) for f in schema.fields]
    detail.primary_key = list(schema.primary_key)
    latest = service.latest_quality(session=session, dataset_id=dataset.id)
    if latest is not None:
        detail.quality_overall, detail.quality_checked_at = latest.overall, latest.checked_at
    return detail


@router.get("/datasets/{code}/schema")
def dataset_schema(code: CodePath, principal: PrincipalDep, session: SessionDep) -> JSONResponse:
    """The dataset's Frictionless Table Schema, for exchange with other tools."""
    require(principal, "datahub.read")
    dataset = service.get_dataset_or_raise(session=session, code=code)
    return JSONResponse(dataset.table_schema, headers={
        "Content-Disposition": f'attachment; filename="{dataset.code}.schema.json"'})


@router.get("/datasets/{code}/versions", response_model=list[VersionOut])
def dataset_versions(code: CodePath, principal: PrincipalDep, session: SessionDep) -> list[VersionOut]:
    require(principal, "datahub.read")
    dataset = service.get_dataset_or_raise(session=session, code=code)
    return [VersionOut.model_validate(v) for v in service.versions(session=session, dataset_id=dataset.id)]


# --- imports ---------------------------------------------------------------------------------------------


def _import_out(job: ImportJob, code: str | None, errors_shown: int = 50) -> ImportOut:
    progress = 1.0 if job.status != "running" else (job.processed_rows / job.total_rows if job.total_rows else 0.0)
    return ImportOut(id=job.id, dataset_code=code, file_name=job.file_name, mode=job.mode, status=job.status,
                     total_rows=job.total_rows, processed_rows=job.processed_rows, progress=round(progress, 4),
                     error_count=job.error_count, errors=job.errors[:errors_shown], summary=job.summary,
                     started_at=job.started_at, finished_at=job.finished_at)


@router.post("/datasets/{code}/imports", response_model=ImportOut, status_code=status.HTTP_202_ACCEPTED)
def dataset_import(code: CodePath, platform: PlatformDep, principal: PrincipalDep, background: BackgroundTasks,
                   file: Annotated[UploadFile, File(description="CSV（UTF-8/GB18030）、XLSX 或 JSON")],
                   mode: Annotated[Literal["upsert", "replace"], Form(description="upsert | replace")] = "upsert",
                   ) -> ImportOut:
    """Starts the import and answers at once; poll `GET /imports/{id}` for progress and the outcome."""
    content = file.file.read(UPLOAD_MAX + 1)
    if len(content) > UPLOAD_MAX:
        raise ValidationFailed(f"larger than {UPLOAD_MAX // (1024 * 1024)} MB", field="file")
    job_id = flows.start_import(platform, actor=principal, dataset_code=code, file_name=file.filename or "upload",
                                mode=mode)
    background.add_task(flows.run_import, platform, job_id=job_id, content=content)
    with platform.db.session() as session:
        return _import_out(_visible_import(session, principal, job_id), code)


def _visible_import(session: SessionDep, principal: PrincipalDep, job_id: str) -> ImportJob:
    job = service.get_import(session=session, job_id=job_id)
    if job is None:
        raise NotFound(f"no import {job_id}", field="job_id")
    dataset = service.datasets_by_id(session=session, ids=[job.dataset_id])[job.dataset_id]
    flows.ensure_owner(principal, dataset)
    return job


@router.get("/imports/{job_id}", response_model=ImportOut)
def import_detail(job_id: str, principal: PrincipalDep, session: SessionDep) -> ImportOut:
    job = _visible_import(session, principal, job_id)
    code = service.datasets_by_id(session=session, ids=[job.dataset_id])[job.dataset_id].code
    return _import_out(job, code)


@router.get("/imports/{job_id}/errors.xlsx")
def import_errors(job_id: str, principal: PrincipalDep, session: SessionDep) -> Response:
    """The failed import's errors as a workbook: line, field, rule, message, value."""
    job = _visible_import(session, principal, job_id)
    body = importers.error_report_xlsx(job.errors)
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="import-{job.id[:8]}-errors.xlsx"'})


# --- access ----------------------------------------------------------------------------------------------


@router.get("/datasets/{code}/rows", response_model=RowsOut)
def dataset_rows(code: CodePath, platform: PlatformDep, principal: PrincipalDep,
                 after: Annotated[int, Query(ge=0, description="上一页最后的行号 / after row")] = 0,
                 limit: Annotated[int, Query(ge=1, le=sharing_flows.MAX_PAGE)] = 100,
                 fields: Annotated[str | None, Query(max_length=2000, description="逗号分隔 / comma-separated")] = None,
                 ) -> Response:
    """Rows as the caller may see them: the owner in clear, a grantee only its granted fields, masked."""
    wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    page = sharing_flows.read_rows(platform, principal=principal, dataset_code=code, fields=wanted, after=after,
                                   limit=limit)
    # Rows are plain JSON values already: encoded directly, not validated again field by field (RowsOut
    # documents the shape), because a page of 5,000 rows is the hot path of sharing.
    body = {"rows": page.rows, "fields": page.fields, "next_after": page.next_after, "grant_id": page.grant_id}
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/datasets/{code}/rows/{key}")
def dataset_row(code: CodePath, key: Annotated[str, PathParam(max_length=200)], platform: PlatformDep,
                principal: PrincipalDep) -> dict[str, Any]:
    row = sharing_flows.lookup(platform, principal=principal, dataset_code=code, key=key)
    if row is None:
        raise NotFound("no row with this key", field="key")
    return row


@router.post("/datasets/{code}/aggregate", response_model=AggregateOut)
def dataset_aggregate(code: CodePath, body: AggregateIn, platform: PlatformDep, principal: PrincipalDep,
                      ) -> AggregateOut:
    """Counts, sums and means by permitted dimensions (可用不可见); cells under k people are suppressed."""
    query = aggregate.AggregateQuery(
        group_by=tuple(body.group_by), measures=tuple(aggregate.Measure(m.op, m.field) for m in body.measures),
        filters={k: frozenset(v) for k, v in body.filters.items()})
    answer = sharing_flows.aggregate_query(platform, principal=principal, dataset_code=code, query=query)
    return AggregateOut(group_by=list(answer.group_by), k=answer.k, suppressed_cells=answer.suppressed_cells,
                        rule=SUPPRESSION_RULE,
                        cells=[AggregateCellOut(key=c.key, suppressed=c.suppressed, partial=c.partial,
                                                values=c.values) for c in answer.cells])


# --- sharing ---------------------------------------------------------------------------------------------


def _request_out(share: ShareRequest, datasets: dict[int, Dataset]) -> ShareRequestOut:
    out = ShareRequestOut.model_validate(share)
    dataset = datasets.get(share.dataset_id)
    out.dataset_code, out.dataset_name = (dataset.code, dataset.name) if dataset else (None, None)
    return out


def _grant_out(grant: Grant, datasets: dict[int, Dataset]) -> GrantOut:
    out = GrantOut.model_validate(grant)
    dataset = datasets.get(grant.dataset_id)
    out.dataset_code = dataset.code if dataset else None
    return out


@router.post("/requests", response_model=CreatedOut, status_code=status.HTTP_201_CREATED)
def share_request(body: ShareRequestIn, platform: PlatformDep, principal: PrincipalDep) -> CreatedOut:
    """A department asks for a dataset's fields (需求清单)."""
    request_id = sharing_flows.request_share(
        platform, actor=principal, dataset_code=body.dataset, fields=body.fields, purpose=body.purpose,
        legal_basis=body.legal_basis, wanted_until=body.wanted_until, kind=body.kind, clear_fields=body.clear_fields)
    return CreatedOut(id=request_id)


@router.post("/requests/{request_id}/decision", response_model=DecisionOut)
def share_decision(request_id: int, body: DecisionIn, platform: PlatformDep, principal: PrincipalDep
                   ) -> DecisionOut:
    """The owning department approves all or some fields, or rejects with a reason (责任清单)."""
    grant_id = sharing_flows.decide(platform, actor=principal, request_id=request_id, approve=body.approve,
                                    fields=body.fields, clear_fields=body.clear_fields, expires_at=body.expires_at,
                                    reason=body.reason)
    with platform.db.session() as session:
        share = service.get_request(session=session, request_id=request_id)
        return DecisionOut(request_id=request_id, status=share.status if share else "unknown", grant_id=grant_id)


@router.post("/grants/{grant_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
def grant_revoke(grant_id: int, body: RevokeIn, platform: PlatformDep, principal: PrincipalDep) -> Response:
    sharing_flows.revoke(platform, actor=principal, grant_id=grant_id, reason=body.reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/lists", response_model=ListsOut)
def department_lists(platform: PlatformDep, principal: PrincipalDep,
                     department: Annotated[str | None, Query(max_length=40, description="部门编码")] = None,
                     ) -> ListsOut:
    """The department's demand list, responsibility list and the grants it holds."""
    lists = sharing_flows.department_lists(platform, actor=principal, department_code=department)
    datasets = lists["datasets"]
    return ListsOut(department_id=lists["department_id"],
                    demand=[_request_out(r, datasets) for r in lists["demand"]],
                    responsibility=[_request_out(r, datasets) for r in lists["responsibility"]],
                    grants=[_grant_out(g, datasets) for g in lists["grants"]])


# --- quality and registers ------------------------------------------------------------------------------


@router.get("/datasets/{code}/quality", response_model=QualityOut)
def quality_latest(code: CodePath, principal: PrincipalDep, session: SessionDep) -> QualityOut:
    require(principal, "datahub.read")
    dataset = service.get_dataset_or_raise(session=session, code=code)
    check = service.latest_quality(session=session, dataset_id=dataset.id)
    if check is None:
        raise NotFound("this dataset has not been checked yet", field="code")
    return QualityOut(dataset_code=code, dataset_version=check.dataset_version, checked_at=check.checked_at,
                      overall=check.overall, report=check.report)


@router.post("/datasets/{code}/quality", response_model=QualityOut)
def quality_run(code: CodePath, platform: PlatformDep, principal: PrincipalDep) -> QualityOut:
    check = register_flows.check_quality(platform, actor=principal, dataset_code=code)
    return QualityOut(dataset_code=code, dataset_version=check.dataset_version, checked_at=check.checked_at,
                      overall=check.overall, report=check.report)


@router.post("/registers/{register}/build", response_model=BuildOut)
def register_build(register: Literal["population", "legal_entity", "licence"], platform: PlatformDep,
                   principal: PrincipalDep) -> BuildOut:
    summary = register_flows.build_register(platform, actor=principal, register=register)
    return BuildOut(base_register=summary.register, dataset_code=summary.dataset_code, rows=summary.rows,
                    sources=summary.sources, conflict_count=summary.conflict_count, conflicts=summary.conflicts)
