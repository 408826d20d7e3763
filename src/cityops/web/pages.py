"""Server-rendered pages. This first page says what is running and lets staff sign in."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from cityops.regions import service as regions
from cityops.web.deps import OptionalPrincipalDep, SessionDep

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep, principal: OptionalPrincipalDep) -> HTMLResponse:
    summary = regions.summary(session=session)
    return templates.TemplateResponse(request, "index.html", {"summary": summary, "principal": principal})
