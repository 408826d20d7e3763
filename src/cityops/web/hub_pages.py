"""The data hub's pages: catalogue, dataset, requests, grants and access log.

The catalogue, quality report, imports, rows and every write go through the JSON API from the page's script
(static/js/hub.js); what the API does not list (the grants a department has given, the access log of its
datasets) is read here, server-side, through the domain services and scoped by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.audit import service as audit
from cityops.audit.models import AuditRecord
from cityops.core.errors import DomainError, PermissionDenied
from cityops.datahub import flows, service, sharing_flows
from cityops.datahub.models import Dataset, Grant
from cityops.org import service as org
from cityops.org.access import Principal, scoped
from cityops.org.roles import STAFF_ROLES, Role, allowed
from cityops.web import ui
from cityops.web.deps import OptionalPrincipalDep, PlatformDep, SessionDep

router = APIRouter(include_in_schema=False)

HUB_ROLES: Final = frozenset(STAFF_ROLES)
LIST_ROLES: Final = frozenset({Role.ADMIN, Role.DATA_OFFICER})
ACCESS_LOG_SIZE: Final = 100
GRADES: Final = {"general": ("一般", "General"), "important": ("重要", "Important"), "core": ("核心", "Core")}
FREQUENCIES: Final = {"realtime": ("实时", "Real time"), "daily": ("每日", "Daily"), "weekly": ("每周", "Weekly"),
                      "monthly": ("每月", "Monthly"), "quarterly": ("每季度", "Quarterly"),
                      "yearly": ("每年", "Yearly"), "irregular": ("不定期", "Irregular")}
REGISTERS: Final = {"population": ("人口库", "Population"), "legal_entity": ("法人库", "Legal entities"),
                    "licence": ("电子证照库", "Licences")}
PI_CLASSES: Final = {"none": ("否", "No"), "resident_id": ("身份证号", "ID number"), "name": ("姓名", "Name"),
                     "mobile": ("手机号", "Mobile"), "phone": ("电话", "Phone"), "address": ("地址", "Address"),
                     "email": ("电子邮箱", "Email"), "bank_card": ("银行卡号", "Bank card"),
                     "birth_date": ("出生日期", "Birth date"), "licence_no": ("证照号", "Licence number"),
                     "free_text": ("自由文本", "Free text"), "other": ("其他", "Other")}
STATUSES: Final = {"pending": ("待审批", "Pending"), "approved": ("已批准", "Approved"),
                   "partial": ("部分批准", "Partly approved"), "rejected": ("已驳回", "Rejected")}


def _labels() -> dict[str, Any]:
    return {"grades": GRADES, "frequencies": FREQUENCIES, "registers": REGISTERS, "pi_classes": PI_CLASSES,
            "statuses": STATUSES}


@router.get("/hub")
def catalogue(request: Request, principal: OptionalPrincipalDep) -> Response:
    if (refused := ui.guard(request, principal, HUB_ROLES)) is not None:
        return refused
    return ui.page(request, "hub/catalogue.html", principal, {"q": request.query_params.get("q", "")[:60],
                                                              **_labels()})


def _manages(principal: Principal, dataset: Dataset) -> bool:
    """The owner's tools (import, quality check, preview) are shown to whom the API would let use them."""
    try:
        flows.ensure_owner(principal, dataset)
    except PermissionDenied:
        return False
    return True


def _may_request(principal: Principal, dataset: Dataset) -> bool:
    return (allowed(principal.role, "datahub.share") and principal.department_id is not None
            and principal.department_id != dataset.owner_department_id)


@router.get("/hub/datasets/{code}")
def dataset_page(code: str, request: Request, principal: OptionalPrincipalDep, session: SessionDep) -> Response:
    if (refused := ui.guard(request, principal, HUB_ROLES)) is not None:
        return refused
    assert principal is not None
    dataset = service.get_dataset(session=session, code=code[:60])
    if dataset is None:
        return ui.page(request, "hub/missing.html", principal, {"code": code[:60]}, status_code=404)
    departments = {d.id: d.name for d in org.list_departments(session=session)}
    schema = service.schema_of(dataset)
    return ui.page(request, "hub/dataset.html", principal, {
        "dataset": dataset, "fields": schema.fields, "primary_key": list(schema.primary_key),
        "owner": departments.get(dataset.owner_department_id, ""),
        "versions": service.versions(session=session, dataset_id=dataset.id)[:20],
        "manages": _manages(principal, dataset), "may_request": _may_request(principal, dataset),
        **_labels()})


# --- the department's lists ------------------------------------------------------------------------------


def _grants_given(session: Session, department_id: int) -> list[Grant]:
    owned, _total = service.search_datasets(session=session, department_id=department_id, limit=1000)
    given = [g for d in owned for g in service.grants_on(session=session, dataset_id=d.id)]
    return sorted(given, key=lambda g: g.id, reverse=True)


def _access_log(session: Session, principal: Principal, codes: Sequence[str]) -> list[AuditRecord]:
    """Reads of the department's datasets (action datahub.accessed), inside the caller's region only."""
    if not codes:
        return []
    query = scoped(select(AuditRecord), principal, AuditRecord.region_code).where(
        AuditRecord.action == "datahub.accessed", AuditRecord.entity_type == "dataset",
        AuditRecord.entity_id.in_(list(codes)))
    rows, _total = audit.list_records(session=session, query=query, limit=ACCESS_LOG_SIZE, offset=0)
    return list(rows)


@router.get("/hub/lists")
def lists_page(request: Request, principal: OptionalPrincipalDep, session: SessionDep,
               platform: PlatformDep) -> Response:
    if (refused := ui.guard(request, principal, LIST_ROLES)) is not None:
        return refused
    assert principal is not None
    chosen = request.query_params.get("department") or None
    departments = org.list_departments(session=session)
    names = {d.id: d.name for d in departments}
    context: dict[str, Any] = {"departments": departments, "names": names, "chosen": chosen, "problem": None,
                               "lists": None, **_labels()}
    try:
        lists = sharing_flows.department_lists(platform, actor=principal, department_code=chosen)
    except DomainError as exc:
        # An administrator without a department picks one; a code outside their region is refused by name.
        context["problem"] = exc.to_dict(ui.language(request))["message"]
        return ui.page(request, "hub/lists.html", principal, context,
                       status_code=200 if chosen is None else exc.status)
    department_id = lists["department_id"]
    given = _grants_given(session, department_id)
    datasets = dict(lists["datasets"])
    datasets.update(service.datasets_by_id(session=session, ids=[g.dataset_id for g in given]))
    owned, _total = service.search_datasets(session=session, department_id=department_id, limit=1000)
    datasets.update({d.id: d for d in owned})
    schemas = {d.id: {f.name: (f.title or f.name) for f in service.schema_of(d).fields} for d in datasets.values()}
    context.update(lists=lists, department_id=department_id, department_name=names.get(department_id, ""),
                   datasets=datasets, schemas=schemas, given=given,
                   titles={d.code: schemas[d.id] for d in owned},
                   access_log=_access_log(session, principal, [d.code for d in owned]))
    return ui.page(request, "hub/lists.html", principal, context)
