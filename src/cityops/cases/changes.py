"""What a case action changes and what it leaves behind, as plain data.

The flows (flows.py, merge.py) apply these to one case through the ORM; the triage worker opens and routes a
whole batch of cases with them as rows written in bulk (opening.py). Both take the fields and the records from
here, so a case opened either way reads the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cityops.cases.cells import cell_of
from cityops.cases.states import State
from cityops.org.access import Principal

if TYPE_CHECKING:
    from cityops.cases.timing import CaseTiming


@dataclass(frozen=True)
class NewCase:
    """What triage knows when it opens a case for a report."""

    title: str
    description: str
    region_code: str
    channel: str
    received_at: datetime
    number: str
    lng: float | None = None
    lat: float | None = None
    address: str | None = None
    category_code: str | None = None
    route: dict[str, Any] | None = None
    case_id: int | None = None  # reserved in advance (service.reserve_case_ids) by batch callers


@dataclass(frozen=True)
class Entry:
    """One step's records: its line on the case's timeline, its audit record and, if any, its bus message."""

    transition: dict[str, Any]  # a case_transitions row without its id
    audit: dict[str, Any]  # audit.append's keyword arguments
    message: tuple[str, dict[str, Any], str] | None  # (subject, payload, idempotency key)


# --- fields -------------------------------------------------------------------------------------------------


def received(new: NewCase, clock: CaseTiming, now: datetime) -> dict[str, Any]:
    """Every column of a case just opened in 受理 (received), with its registration deadline."""
    register_due = clock.register_due(new.received_at)
    return {
        "id": new.case_id, "number": new.number, "title": new.title, "description": new.description,
        "category_code": new.category_code, "severity": clock.severity, "region_code": new.region_code,
        "lng": new.lng, "lat": new.lat, "address": new.address, "fusion_cell": _cell(new), "channel": new.channel,
        "state": State.RECEIVED.value, "suspended": False, "suspended_at": None, "department_id": None,
        "route": new.route, "escalation_level": 0, "reopened_count": 0, "rework_count": 0, "return_count": 0,
        "report_count": 1, "stage_due_at": register_due, "handle_due_at": None, "due_at": None, "warned_at": None,
        "overdue_at": None, "received_at": new.received_at, "last_report_at": new.received_at,
        "registered_at": None, "register_due_at": register_due, "first_dispatched_at": None, "dispatched_at": None,
        "handled_at": None, "verify_due_at": None, "verified_at": None, "closed_at": None, "followed_up_at": None,
        "resolved": None, "satisfaction": None, "result": None, "result_photos": None, "imported": False,
        "external_id": None, "updated_at": now, "version": 1,
    }


def _cell(new: NewCase) -> int | None:
    """The fusion cell, so later reports of the same problem find this case (triage/fusion_service.py)."""
    return cell_of(new.lng, new.lat) if new.lng is not None and new.lat is not None else None


def entering(state: State, stage_due: datetime | None) -> dict[str, Any]:
    """A new stage begins: its deadline, and a fresh warning/overdue memory for the deadline job."""
    return {"state": state.value, "stage_due_at": stage_due, "warned_at": None, "overdue_at": None}


def registration(clock: CaseTiming, now: datetime, category_code: str) -> dict[str, Any]:
    """立案 under a category: its severity and the case's overall deadline; dispatching is due next."""
    return {"category_code": category_code, "severity": clock.severity, "registered_at": now,
            "due_at": clock.case_due(now), **entering(State.REGISTERED, clock.dispatch_due(now))}


def dispatching(clock: CaseTiming, now: datetime, lead: int, first_dispatched_at: datetime | None) -> dict[str, Any]:
    """派遣 to a lead department: the handling clock starts."""
    handle_due = clock.handle_due(now)
    return {"department_id": lead, "first_dispatched_at": first_dispatched_at or now, "dispatched_at": now,
            "handle_due_at": handle_due, **entering(State.DISPATCHED, handle_due)}


def task(case_id: int, department_id: int, role: str, round_: int, now: datetime) -> dict[str, Any]:
    """A department's open task in a dispatch round (a case_tasks row without its id)."""
    return {"case_id": case_id, "department_id": department_id, "role": role, "round": round_, "state": "open",
            "result": None, "created_at": now, "done_at": None}


# --- records ------------------------------------------------------------------------------------------------


def opened(case: dict[str, Any], actor: Principal, now: datetime) -> Entry:
    """The case was opened (its first line, "receive")."""
    channel = case["channel"]
    return Entry(
        transition=_line(case["id"], "receive", None, case["state"], actor, None, {"channel": channel}, now),
        audit=_audit(case, actor, "case.received", {"number": case["number"], "channel": channel}, now),
        message=("cityops.cases.opened",
                 {"case_id": case["id"], "number": case["number"], "region_code": case["region_code"]},
                 f"case.opened:{case['id']}"))


def transitioned(case: dict[str, Any], action: str, from_state: str | None, actor: Principal, reason: str | None,
                 data: dict[str, Any], now: datetime) -> Entry:
    """An action of the workflow, `case` as it is after it (its version already moved on)."""
    payload = {"case_id": case["id"], "number": case["number"], "action": action, "from": from_state,
               "to": case["state"], "region_code": case["region_code"], "department_id": case["department_id"]}
    return Entry(
        transition=_line(case["id"], action, from_state, case["state"], actor, reason, data, now),
        audit=_audit(case, actor, f"case.{action}",
                     {"from": from_state, "to": case["state"], "reason": reason, **data}, now),
        # The case's version is unique per transition of that case: a key without waiting for the row's id.
        message=("cityops.cases.transitioned", payload, f"case.transition:{case['id']}:{case['version']}"))


def noted(case: dict[str, Any], action: str, actor: Principal, reason: str | None, data: dict[str, Any],
          subject: str | None, now: datetime) -> Entry:
    """A change that leaves the state as it is (a report attached, a merge, a split), `case` after it."""
    message = None
    if subject is not None:
        payload = {"case_id": case["id"], "number": case["number"], "action": action,
                   "region_code": case["region_code"], **{k: v for k, v in data.items() if k != "evidence"}}
        message = (subject, payload, f"{subject}:{case['id']}:{case['version']}")
    return Entry(transition=_line(case["id"], action, case["state"], case["state"], actor, reason, data, now),
                 audit=_audit(case, actor, f"case.{action}", {"reason": reason, **data}, now), message=message)


def _line(case_id: int, action: str, from_state: str | None, to_state: str, actor: Principal, reason: str | None,
          data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"case_id": case_id, "action": action, "from_state": from_state, "to_state": to_state,
            "actor": actor.actor, "role": actor.role.value, "reason": reason, "data": data, "at": now}


def _audit(case: dict[str, Any], actor: Principal, action: str, data: dict[str, Any], now: datetime
           ) -> dict[str, Any]:
    return {"at": now, "actor": actor.actor, "action": action, "entity_type": "case", "entity_id": case["id"],
            "region_code": case["region_code"], "data": data}
