"""Who is asking, and what they may see: the one place where role and region scope are enforced.

Every query for records goes through `scoped`, every single-record read through `ensure_in_scope`.
A record outside the caller's region answers "not found", so its existence is not revealed either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Select, or_

from cityops.core.errors import NotFound, PermissionDenied
from cityops.org.roles import Role, allowed

S = TypeVar("S", bound=Select[Any])


@dataclass(frozen=True)
class Principal:
    kind: Literal["staff", "citizen", "api_key", "system"]
    id: int
    name: str
    role: Role
    region_code: str
    scope_prefix: str
    region_path: tuple[str, ...] = field(default=())
    department_id: int | None = None

    @property
    def actor(self) -> str:
        """How this caller is named in the audit log."""
        return f"{self.kind}:{self.id}:{self.name}"

    def sees(self, region_code: str | None) -> bool:
        return region_code is not None and region_code.startswith(self.scope_prefix)


SYSTEM_ACTOR = "system:0:cityops"


def system_principal(name: str = "cityops", role: Role = Role.DISPATCHER) -> Principal:
    """The platform itself acting (triage worker, deadline job): city-wide, never an external caller."""
    return Principal(kind="system", id=0, name=name, role=role, region_code="", scope_prefix="")


def require(principal: Principal, permission: str) -> None:
    if not allowed(principal.role, permission):
        raise PermissionDenied(permission=permission)


def record_condition(principal: Principal, region_column: Any) -> ColumnElement[bool]:
    """Records (staff, audit entries, cases…) are visible inside the caller's region only."""
    return region_column.startswith(principal.scope_prefix, autoescape=True)  # type: ignore[no-any-return]


def reference_condition(principal: Principal, region_column: Any) -> ColumnElement[bool]:
    """Reference things (regions, departments) are visible inside the region and along its path upwards,
    so a street user sees its district and city but not a sibling street."""
    inside = region_column.startswith(principal.scope_prefix, autoescape=True)
    return or_(inside, region_column.in_(principal.region_path)) if principal.region_path else inside


def scoped(query: S, principal: Principal, region_column: Any) -> S:
    return query.where(record_condition(principal, region_column))  # type: ignore[return-value]


def ensure_in_scope(principal: Principal, region_code: str | None, *, reference: bool = False) -> None:
    if principal.sees(region_code):
        return
    if reference and region_code in principal.region_path:
        return
    raise NotFound()
