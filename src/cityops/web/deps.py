"""Request dependencies: the platform, a read session, and who is calling."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from cityops.core.errors import Unauthenticated
from cityops.core.security import token_digest
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


def bearer_token(headers: Headers) -> str | None:
    """The API key a request carries: `Authorization: Bearer …` or `X-API-Key`."""
    header = headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return headers.get("x-api-key")


class PrincipalCache:
    """Who a token or session is, remembered for a few seconds: busy programs send hundreds of requests a
    second, and looking the key and its region path up each time would cost three queries per request.
    A revoked key or deactivated user is refused at most `ttl_s` later."""

    def __init__(self, ttl_s: float = 10.0) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    def peek(self, key: str) -> Principal | None:
        """The remembered principal, or None when there is none (or it was remembered as nobody)."""
        hit = self._entries.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def get(self, key: str, load: Callable[[], Principal | None]) -> Principal | None:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        principal = load()
        if len(self._entries) > 10_000:  # bounded: forget everything rather than grow without end
            self._entries.clear()
        self._entries[key] = (now + self.ttl_s, principal)
        return principal


def _cache(request: Request) -> PrincipalCache:
    return principal_cache(request.app.state.platform)


def principal_cache(platform: Platform) -> PrincipalCache:
    caches = platform.caches
    cache = caches.get("web.principals")
    if not isinstance(cache, PrincipalCache):
        cache = caches["web.principals"] = PrincipalCache()
    return cache


def _session_staff_id(request: Request) -> int | None:
    """The staff member a signed-in browser session names, if any."""
    claim = request.session.get(SESSION_KEY) if "session" in request.scope else None
    return int(claim["id"]) if claim and claim.get("kind") == "staff" else None


def resolve_principal(request: Request, session: Session) -> Principal | None:
    token = bearer_token(request.headers)
    if token:
        principal = _cache(request).get("key:" + token_digest(token), lambda: _api_key_principal(session, token))
        if principal is None:
            raise Unauthenticated("invalid API key")
        return principal
    staff_id = _session_staff_id(request)
    if staff_id is None:
        return None
    principal = _cache(request).get(f"staff:{staff_id}", lambda: _staff_principal(session, staff_id))
    if principal is None:
        request.session.pop(SESSION_KEY, None)
    return principal


def remembered_key(platform: Platform, token: str) -> Principal | None:
    """The principal of an API key the cache holds as valid; None when unknown, expired or invalid."""
    return principal_cache(platform).peek("key:" + token_digest(token))


def _remembered(request: Request) -> Principal | None:
    """resolve_principal's answer when the cache holds it, without a session or a thread."""
    token = bearer_token(request.headers)
    if token:
        return remembered_key(get_platform(request), token)
    staff_id = _session_staff_id(request)
    return None if staff_id is None else _cache(request).peek(f"staff:{staff_id}")


def _resolve_in_session(request: Request) -> Principal | None:
    with get_platform(request).db.session() as session:
        return resolve_principal(request, session)


async def current_principal_async(request: Request) -> Principal:
    """current_principal for hot endpoints (intake): a remembered caller is answered on the event loop. The
    sync dependencies cost four thread hand-offs per request, more CPU than storing a report."""
    principal = _remembered(request) or await run_in_threadpool(_resolve_in_session, request)
    if principal is None:
        raise Unauthenticated()
    return principal


def _api_key_principal(session: Session, token: str) -> Principal | None:
    key = org.api_key_by_token(session=session, token=token)
    if key is None:
        return None
    return org.principal_for(session=session, kind="api_key", id=key.id, name=key.name, role=key.role,
                             region_code=key.region_code, department_id=key.department_id)


def _staff_principal(session: Session, staff_id: int) -> Principal | None:
    staff = org.get_staff(session=session, staff_id=staff_id)
    if staff is None or not staff.active:
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
AsyncPrincipalDep = Annotated[Principal, Depends(current_principal_async)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
