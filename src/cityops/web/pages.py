"""The landing page, sign-in and sign-out, the role's home, and the large-text switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityops.regions import service as regions
from cityops.web import ui
from cityops.web.deps import OptionalPrincipalDep, SessionDep

router = APIRouter(include_in_schema=False)


def _local(target: str | None, default: str = "/") -> str:
    """Only paths on this site: a `next` pointing elsewhere would make sign-in an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep, principal: OptionalPrincipalDep) -> HTMLResponse:
    return ui.page(request, "index.html", principal, {"summary": regions.summary(session=session)})


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, principal: OptionalPrincipalDep, next: str | None = None) -> HTMLResponse:
    return ui.page(request, "login.html", principal, {"next": _local(next, ""), "hide_login": True})


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/home")
def home(request: Request, principal: OptionalPrincipalDep) -> Response:
    refused = ui.guard(request, principal)
    if refused is not None or principal is None:
        return refused or RedirectResponse("/login", status_code=303)
    return RedirectResponse(ui.HOME_BY_ROLE.get(principal.role, "/"), status_code=303)


@router.post("/ui/large-text")
def toggle_large_text(request: Request, next: Annotated[str, Form()] = "/") -> RedirectResponse:
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(ui.LARGE_COOKIE, "0" if ui.large_text(request) else "1", max_age=ui.COOKIE_AGE,
                        samesite="lax")
    return response
