"""Routes for sign-in, departments, staff and API keys. Thin: validation, then a service or flow call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from cityops.core.errors import NotFound, ValidationFailed
from cityops.org import flows, service
from cityops.org.access import Principal, ensure_in_scope, require
from cityops.org.roles import ROLE_LABELS, Role
from cityops.org.schemas import ApiKeyIn, ApiKeyOut, DepartmentOut, LoginIn, PrincipalOut, StaffIn, StaffOut
from cityops.web.deps import SESSION_KEY, PlatformDep, PrincipalDep, SessionDep, current_principal
from cityops.web.pagination import Limit, Offset, Page

router = APIRouter(prefix="/api/v1", tags=["org 组织与权限"])


def _principal_out(principal: Principal) -> PrincipalOut:
    return PrincipalOut(kind=principal.kind, id=principal.id, name=principal.name, role=principal.role.value,
                        role_label=ROLE_LABELS[principal.role][0], region_code=principal.region_code,
                        region_path=list(principal.region_path), department_id=principal.department_id)


@router.post("/auth/login", response_model=PrincipalOut)
def login(body: LoginIn, request: Request, platform: PlatformDep) -> PrincipalOut:
    principal = flows.login(platform, username=body.username, password=body.password)
    request.session.clear()
    request.session[SESSION_KEY] = {"kind": "staff", "id": principal.id}
    return _principal_out(principal)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request) -> None:
    request.session.clear()


@router.get("/auth/me", response_model=PrincipalOut)
def me(principal: PrincipalDep) -> PrincipalOut:
    return _principal_out(principal)


@router.get("/departments", response_model=list[DepartmentOut])
def departments(principal: PrincipalDep, session: SessionDep) -> list[DepartmentOut]:
    require(principal, "departments.read")
    return [DepartmentOut.model_validate(d) for d in service.list_departments(session=session, principal=principal)]


@router.get("/departments/{department_id}", response_model=DepartmentOut)
def department(department_id: int, principal: PrincipalDep, session: SessionDep) -> DepartmentOut:
    require(principal, "departments.read")
    found = service.get_department(session=session, department_id=department_id)
    if found is None:
        raise NotFound()
    ensure_in_scope(principal, found.region_code, reference=True)
    return DepartmentOut.model_validate(found)


@router.get("/staff", response_model=Page[StaffOut])
def staff_list(principal: PrincipalDep, session: SessionDep, limit: Limit = 50, offset: Offset = 0,
               role: Annotated[str | None, Query(description="按角色筛选 / filter by role")] = None
               ) -> Page[StaffOut]:
    require(principal, "staff.read")
    rows, total = service.list_staff(session=session, principal=principal, role=role, limit=limit, offset=offset)
    return Page[StaffOut](items=[StaffOut.model_validate(r) for r in rows], total=total, limit=limit,
                          offset=offset)


@router.get("/staff/{staff_id}", response_model=StaffOut)
def staff_detail(staff_id: int, principal: PrincipalDep, session: SessionDep) -> StaffOut:
    require(principal, "staff.read")
    found = service.get_staff(session=session, staff_id=staff_id)
    if found is None:
        raise NotFound()
    ensure_in_scope(principal, found.region_code)
    return StaffOut.model_validate(found)


@router.post("/staff", response_model=StaffOut, status_code=status.HTTP_201_CREATED)
def staff_create(body: StaffIn, platform: PlatformDep,
                 principal: Annotated[Principal, Depends(current_principal)]) -> StaffOut:
    staff_id = flows.create_staff(platform, actor=principal, new=flows.NewStaff(**body.model_dump()))
    with platform.db.session() as session:
        return StaffOut.model_validate(service.get_staff(session=session, staff_id=staff_id))


@router.post("/api-keys", response_model=ApiKeyOut, status_code=status.HTTP_201_CREATED)
def api_key_create(body: ApiKeyIn, platform: PlatformDep, principal: PrincipalDep) -> ApiKeyOut:
    if body.role not in {r.value for r in Role}:
        raise ValidationFailed(f"unknown role {body.role!r}", field="role")
    key_id, token = flows.create_api_key(platform, actor=principal, name=body.name, role=body.role,
                                         region_code=body.region_code)
    return ApiKeyOut(id=key_id, name=body.name, api_key=token)
