"""The grid worker's phone pages: report what the patrol found (photo, GPS pin), the open cases of the worker's
grid, and the on-the-spot check of a handled case (核查通过 or 返工).

Thin shells: the guard and a template; the page's script calls the same JSON API as every other client
(/api/v1/photos, /api/v1/reports on the patrol channel, /api/v1/cases and its actions).
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cityops.intake.channels import Channel
from cityops.org.access import Principal
from cityops.org.roles import Role
from cityops.web import ui
from cityops.web.deps import OptionalPrincipalDep

router = APIRouter(include_in_schema=False)
ROLES: Final = frozenset({Role.GRID_WORKER, Role.ADMIN})


def _mobile(request: Request, principal: Principal | None, template: str, tab: str, **context: object) -> Response:
    if (refused := ui.guard(request, principal, ROLES)) is not None:
        return refused
    assert principal is not None
    return ui.page(request, template, principal, {"tab": tab, "region_code": principal.region_code,
                                                  "is_grid": principal.role is Role.GRID_WORKER,
                                                  "channel": Channel.PATROL.value, **context})


@router.get("/m")
def report_page(request: Request, principal: OptionalPrincipalDep) -> Response:
    return _mobile(request, principal, "mobile/report.html", "report")


@router.get("/m/cases")
def my_grid_page(request: Request, principal: OptionalPrincipalDep) -> Response:
    return _mobile(request, principal, "mobile/cases.html", "cases")


@router.get("/m/cases/{case_id}")
def verify_page(case_id: int, request: Request, principal: OptionalPrincipalDep) -> Response:
    return _mobile(request, principal, "mobile/case.html", "cases", case_id=case_id)
