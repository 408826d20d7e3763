"""Queries and single writes for departments, staff, citizens and API keys. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityops.core.errors import BadCredentials, Conflict, NotFound, ValidationFailed
from cityops.core.security import hash_password, token_digest, verify_password
from cityops.org.access import Principal, reference_condition, scoped
from cityops.org.models import ApiKey, Citizen, Department, Staff
from cityops.org.roles import STAFF_ROLES, Role
from cityops.regions import service as regions

# Verifying against a real hash when the user does not exist keeps the response time the same,
# so timing does not reveal which user names exist.
_DUMMY_HASH = hash_password("cityops-timing-equaliser")


def principal_for(*, session: Session, kind: str, id: int, name: str, role: str, region_code: str,
                  department_id: int | None = None) -> Principal:
    path = regions.path(session=session, code=region_code)
    if not path:
        raise NotFound(f"region {region_code}")
    return Principal(kind=kind, id=id, name=name, role=Role(role), region_code=region_code,  # type: ignore[arg-type]
                     scope_prefix=path[-1].scope_prefix, region_path=tuple(r.code for r in path),
                     department_id=department_id)


def staff_principal(*, session: Session, staff: Staff) -> Principal:
    return principal_for(session=session, kind="staff", id=staff.id, name=staff.username, role=staff.role,
                         region_code=staff.region_code, department_id=staff.department_id)


def authenticate_staff(*, session: Session, username: str, password: str) -> Staff:
    staff = session.scalars(select(Staff).where(Staff.username == username)).one_or_none()
    if staff is None or not staff.active:
        verify_password(_DUMMY_HASH, password)
        raise BadCredentials()
    if not verify_password(staff.password_hash, password):
        raise BadCredentials()
    return staff


def api_key_by_token(*, session: Session, token: str) -> ApiKey | None:
    key = session.scalars(select(ApiKey).where(ApiKey.token_digest == token_digest(token))).one_or_none()
    return key if key is not None and key.revoked_at is None else None


def get_staff(*, session: Session, staff_id: int) -> Staff | None:
    return session.get(Staff, staff_id)


def get_staff_by_username(*, session: Session, username: str) -> Staff | None:
    return session.scalars(select(Staff).where(Staff.username == username)).one_or_none()


def list_staff(*, session: Session, principal: Principal, role: str | None = None, limit: int = 50,
               offset: int = 0) -> tuple[Sequence[Staff], int]:
    query = scoped(select(Staff), principal, Staff.region_code)
    if role:
        query = query.where(Staff.role == role)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Staff.id).limit(limit).offset(offset)).all()
    return rows, total


def list_departments(*, session: Session, principal: Principal | None = None) -> Sequence[Department]:
    query = select(Department).where(Department.active.is_(True))
    if principal is not None:
        query = query.where(reference_condition(principal, Department.region_code))
    return session.scalars(query.order_by(Department.region_code, Department.code)).all()


def get_department(*, session: Session, department_id: int) -> Department | None:
    return session.get(Department, department_id)


def get_department_by_code(*, session: Session, code: str) -> Department | None:
    # Held for the transaction (found ones only): triage looks up the same few departments for a whole batch.
    held: dict[str, Department] = session.info.setdefault("org.departments_by_code", {})
    found = held.get(code) or session.scalars(select(Department).where(Department.code == code)).one_or_none()
    if found is not None:
        held[code] = found
    return found


def department_ids_and_names(*, session: Session) -> dict[str, tuple[int, str]]:
    """Every department: code → (id, name)."""
    return {code: (department_id, name)
            for code, department_id, name in session.execute(select(Department.code, Department.id, Department.name))}


def department_count(*, session: Session) -> int:
    """Departments are only ever added: their number tells a cache of them whether it is current."""
    return session.scalar(select(func.count()).select_from(Department)) or 0


def get_department_by_name(*, session: Session, name: str) -> Department | None:
    return session.scalars(select(Department).where(Department.name == name)).first()


def add_department(*, session: Session, code: str, name: str, region_code: str, at: datetime,
                   name_en: str | None = None, parent_id: int | None = None) -> Department:
    regions.get_or_raise(session=session, code=region_code)
    if get_department_by_code(session=session, code=code) is not None:
        raise Conflict(f"department code {code}", field="code")
    department = Department(code=code, name=name, name_en=name_en, region_code=region_code,
                            parent_id=parent_id, active=True, created_at=at)
    session.add(department)
    session.flush()
    return department


def add_staff(*, session: Session, username: str, display_name: str, password: str, role: str,
              region_code: str, at: datetime, department_id: int | None = None,
              phone: str | None = None) -> Staff:
    if role not in {r.value for r in STAFF_ROLES}:
        raise ValidationFailed(f"unknown role {role!r}", field="role")
    if len(password) < 10:
        raise ValidationFailed("at least 10 characters", field="password")
    regions.get_or_raise(session=session, code=region_code)
    if get_staff_by_username(session=session, username=username) is not None:
        raise Conflict(f"user name {username}", field="username")
    if department_id is not None and session.get(Department, department_id) is None:
        raise ValidationFailed(f"no department {department_id}", field="department_id")
    staff = Staff(username=username, display_name=display_name, password_hash=hash_password(password),
                  role=role, region_code=region_code, department_id=department_id, phone=phone,
                  active=True, created_at=at)
    session.add(staff)
    session.flush()
    return staff


def set_password(*, session: Session, staff: Staff, password: str) -> None:
    if len(password) < 10:
        raise ValidationFailed("at least 10 characters", field="password")
    staff.password_hash = hash_password(password)
    session.flush()


def add_api_key(*, session: Session, name: str, token: str, role: str, region_code: str, at: datetime,
                staff_id: int | None = None, department_id: int | None = None) -> ApiKey:
    regions.get_or_raise(session=session, code=region_code)
    key = ApiKey(name=name, token_digest=token_digest(token), role=Role(role).value, region_code=region_code,
                 staff_id=staff_id, department_id=department_id, created_at=at)
    session.add(key)
    session.flush()
    return key


def add_citizen(*, session: Session, phone: str, at: datetime, name: str | None = None,
                password: str | None = None) -> Citizen:
    citizen = Citizen(phone=phone, name=name, created_at=at,
                      password_hash=hash_password(password) if password else None)
    session.add(citizen)
    session.flush()
    return citizen


def verify_password_of(staff: Staff, password: str) -> bool:
    return verify_password(staff.password_hash, password)
