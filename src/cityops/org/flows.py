"""Business actions on the organisation: each is one transaction with its audit record."""

from __future__ import annotations

from dataclasses import dataclass

from cityops.audit import service as audit
from cityops.core.security import new_token
from cityops.org import service
from cityops.org.access import SYSTEM_ACTOR, Principal, ensure_in_scope, require
from cityops.platform import Platform


@dataclass(frozen=True)
class NewStaff:
    username: str
    display_name: str
    password: str
    role: str
    region_code: str
    department_id: int | None = None
    phone: str | None = None


def login(platform: Platform, *, username: str, password: str) -> Principal:
    """Checks the password and records the sign-in; wrong names and passwords get the same answer."""
    with platform.uow() as uow:
        staff = service.authenticate_staff(session=uow.session, username=username, password=password)
        principal = service.staff_principal(session=uow.session, staff=staff)
        audit.append(uow.session, at=uow.clock.now(), actor=principal.actor, action="auth.login",
                     entity_type="staff", entity_id=staff.id, region_code=staff.region_code)
        uow.commit()
        return principal


def create_staff(platform: Platform, *, actor: Principal | None, new: NewStaff) -> int:
    """Adds a staff member; an admin can only add staff inside their own region."""
    if actor is not None:
        require(actor, "staff.write")
        ensure_in_scope(actor, new.region_code)
    with platform.uow() as uow:
        now = uow.clock.now()
        staff = service.add_staff(session=uow.session, username=new.username, display_name=new.display_name,
                                  password=new.password, role=new.role, region_code=new.region_code,
                                  department_id=new.department_id, phone=new.phone, at=now)
        audit.append(uow.session, at=now, actor=_actor(actor), action="staff.created", entity_type="staff",
                     entity_id=staff.id, region_code=staff.region_code,
                     data={"username": staff.username, "role": staff.role})
        uow.publish("cityops.org.staff.created", {"staff_id": staff.id}, key=f"staff.created:{staff.id}")
        uow.commit()
        return staff.id


def create_department(platform: Platform, *, actor: Principal | None, code: str, name: str,
                      region_code: str, name_en: str | None = None) -> int:
    if actor is not None:
        require(actor, "departments.write")
        ensure_in_scope(actor, region_code)
    with platform.uow() as uow:
        now = uow.clock.now()
        department = service.add_department(session=uow.session, code=code, name=name, name_en=name_en,
                                            region_code=region_code, at=now)
        audit.append(uow.session, at=now, actor=_actor(actor), action="department.created",
                     entity_type="department", entity_id=department.id, region_code=region_code,
                     data={"code": code, "name": name})
        uow.commit()
        return department.id


def create_api_key(platform: Platform, *, actor: Principal | None, name: str, role: str, region_code: str,
                   token: str | None = None, department_id: int | None = None) -> tuple[int, str]:
    """Returns (id, token). The token is shown this once; only its digest is stored."""
    if actor is not None:
        require(actor, "apikeys.write")
        ensure_in_scope(actor, region_code)
    token = token or new_token()
    with platform.uow() as uow:
        now = uow.clock.now()
        key = service.add_api_key(session=uow.session, name=name, token=token, role=role,
                                  region_code=region_code, department_id=department_id, at=now)
        audit.append(uow.session, at=now, actor=_actor(actor), action="api_key.created", entity_type="api_key",
                     entity_id=key.id, region_code=region_code, data={"name": name, "role": role})
        uow.commit()
        return key.id, token


def _actor(actor: Principal | None) -> str:
    return actor.actor if actor is not None else SYSTEM_ACTOR
