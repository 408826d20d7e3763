"""Request dependencies: the platform, a read session, and who is calling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from cityops.core.errors import Unauthenticated
from cityops.org import service as org
from cityops.org.access import Principal
from cityops.platform import Platform

SESSION_KEY = "principal"


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def read_session(platform: Annotated[Platform, Depends(get_platform)]) -> Iterator[Session]:
    with platform.db.session() as session:
        yield session


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def resolve_principal(request: Request, session: Session) -> Principal | None:
    token = _bearer_token(request)
    if token:
        key = org.api_key_by_token(session=session, token=token)
        if key is None:
            raise Unauthenticated("invalid API key")
        return org.principal_for(session=session, kind="api_key", id=key.id, name=key.name, role=key.role,
                                 region_code=key.region_code, department_id=key.department_id)
    claim = request.session.get(SESSION_KEY) if "session" in request.scope else None
    if not claim or claim.get("kind") != "staff":
        return None
    staff = org.get_staff(session=session, staff_id=int(claim["id"]))
    if staff is None or not staff.active:
        request.session.pop(SESSION_KEY, None)
        return None
    return org.staff_principal(session=session, staff=staff)


def optional_principal(request: Request, session: Annotated[Session, Depends(read_session)]
                       ) -> Principal | None:
    return resolve_principal(request, session)


def current_principal(principal: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    if principal is None:
        raise Unauthenticated()
    return principal


PlatformDep = Annotated[Platform, Depends(get_platform)]
SessionDep = Annotated[Session, Depends(read_session)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
