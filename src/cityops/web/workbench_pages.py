"""The dispatcher's workbench and the department handler's pages.

Thin on purpose: each route guards and renders; the page's JS calls the JSON API. The workflow table
(cases/states.py RULES) goes to the page as data, so the buttons a page offers are the rules the server enforces.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cityops.cases.flows import SATISFACTION
from cityops.cases.states import RULES, STATE_LABELS
from cityops.org.roles import Role
from cityops.web import ui
from cityops.web.deps import OptionalPrincipalDep

router = APIRouter(include_in_schema=False)

WORKBENCH_ROLES: Final = frozenset({Role.DISPATCHER, Role.ADMIN})
TASK_ROLES: Final = frozenset({Role.HANDLER, Role.ADMIN})


def rules_for_pages() -> dict[str, dict[str, Any]]:
    """The rule table as JSON for the pages' scripts (which actions a state and a role allow, what each needs)."""
    return {action.value: {"sources": sorted(s.value for s in rule.sources),
                           "target": rule.target.value if rule.target else None,
                           "roles": sorted(r.value for r in rule.roles), "requires": list(rule.requires),
                           "department_only": rule.department_only,
                           "allowed_when_suspended": rule.allowed_when_suspended}
            for action, rule in RULES.items()}


def _context() -> dict[str, Any]:
    return {"case_rules": rules_for_pages(), "satisfaction": list(SATISFACTION),
            "state_labels": {state.value: list(labels) for state, labels in STATE_LABELS.items()}}


@router.get("/workbench")
def workbench(request: Request, principal: OptionalPrincipalDep) -> Response:
    if (refused := ui.guard(request, principal, WORKBENCH_ROLES)) is not None:
        return refused
    return ui.page(request, "workbench/index.html", principal, _context())


@router.get("/workbench/cases/{case_id}")
def workbench_case(case_id: int, request: Request, principal: OptionalPrincipalDep) -> Response:
    """One case on a page of its own (a link to share, or a second screen); the same panel as in the workbench."""
    if (refused := ui.guard(request, principal, WORKBENCH_ROLES)) is not None:
        return refused
    return ui.page(request, "workbench/case.html", principal, {**_context(), "case_id": case_id})


@router.get("/tasks")
def tasks(request: Request, principal: OptionalPrincipalDep) -> Response:
    if (refused := ui.guard(request, principal, TASK_ROLES)) is not None:
        return refused
    return ui.page(request, "tasks/index.html", principal, _context())
