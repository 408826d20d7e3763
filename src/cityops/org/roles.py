"""Roles and what each may do: a table, not if-chains. Region scope is applied separately (access.py)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    LEADER = "leader"
    DISPATCHER = "dispatcher"
    HANDLER = "handler"
    GRID_WORKER = "grid_worker"
    DATA_OFFICER = "data_officer"
    CITIZEN = "citizen"
    SYSTEM = "system"  # an external program with an API key (Open311 client, video-AI platform, …)


STAFF_ROLES = (Role.ADMIN, Role.LEADER, Role.DISPATCHER, Role.HANDLER, Role.GRID_WORKER, Role.DATA_OFFICER)

ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.ADMIN: ("系统管理员", "Administrator"),
    Role.LEADER: ("领导", "Leader"),
    Role.DISPATCHER: ("派遣员", "Dispatcher"),
    Role.HANDLER: ("处置人员", "Department handler"),
    Role.GRID_WORKER: ("网格员", "Grid worker"),
    Role.DATA_OFFICER: ("数据专员", "Data officer"),
    Role.CITIZEN: ("市民", "Citizen"),
    Role.SYSTEM: ("外部系统", "External system"),
}

_ALL_STAFF = frozenset(STAFF_ROLES)

PERMISSIONS: dict[str, frozenset[Role]] = {
    "regions.read": _ALL_STAFF | {Role.CITIZEN, Role.SYSTEM},
    "regions.write": frozenset({Role.ADMIN}),
    "departments.read": _ALL_STAFF | {Role.SYSTEM},
    "departments.write": frozenset({Role.ADMIN}),
    "staff.read": frozenset({Role.ADMIN, Role.LEADER, Role.DISPATCHER}),
    "staff.write": frozenset({Role.ADMIN}),
    "apikeys.write": frozenset({Role.ADMIN}),
    "audit.read": frozenset({Role.ADMIN, Role.LEADER, Role.DATA_OFFICER}),
    "catalog.read": _ALL_STAFF | {Role.SYSTEM},
    "catalog.write": frozenset({Role.ADMIN}),
    "kpis.read": frozenset({Role.ADMIN, Role.LEADER, Role.DISPATCHER, Role.DATA_OFFICER, Role.HANDLER}),
    "cases.read": _ALL_STAFF,
    "reports.create": _ALL_STAFF | {Role.SYSTEM},
    "reports.read": frozenset({Role.ADMIN, Role.LEADER, Role.DISPATCHER, Role.GRID_WORKER, Role.DATA_OFFICER}),
    "photos.read": _ALL_STAFF | {Role.SYSTEM},
    "telemetry.create": frozenset({Role.ADMIN, Role.SYSTEM}),  # device gateways hold a system API key
    "datahub.read": _ALL_STAFF | {Role.SYSTEM},  # the catalogue says what exists, not what it holds
    # A department's own system (an API key of that department) may push its data, as its officer may.
    "datahub.manage": frozenset({Role.ADMIN, Role.DATA_OFFICER, Role.SYSTEM}),
    "datahub.share": frozenset({Role.ADMIN, Role.DATA_OFFICER}),  # request, approve, reject, revoke
    "datahub.access": frozenset({Role.ADMIN, Role.DATA_OFFICER, Role.SYSTEM}),  # read under a grant
}


def allowed(role: Role, permission: str) -> bool:
    return role in PERMISSIONS.get(permission, frozenset())
