"""Opening, routing and joining cases for a whole triage batch, as rows written in bulk at its end.

The triage worker opens hundreds of cases a second. Going through the ORM one action at a time (flows.py)
built and flushed about a dozen objects per report, which was most of the worker's time. Here the same steps
(received → registered → dispatched, or a report attached to an open case) change plain rows with the fields
and records changes.py gives the flows too, and `write` stores the batch with a handful of statements: COPY on
PostgreSQL for the new rows, one UPDATE for the open cases that were joined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, update

from cityops.audit import service as audit
from cityops.cases import changes
from cityops.cases.changes import NewCase
from cityops.cases.models import Case, CaseTask, CaseTransition
from cityops.cases.states import OPEN_STATES, Action, State
from cityops.cases.timing import CaseTiming
from cityops.core import bulk
from cityops.core.errors import InvalidTransition
from cityops.core.uow import UnitOfWork
from cityops.org.access import Principal, ensure_in_scope


@dataclass
class Batch:
    """What a batch has done to cases so far, written by `write` in one go."""

    actor: Principal
    now: datetime
    new: list[dict[str, Any]] = field(default_factory=list)  # cases opened, as they are now
    joined: dict[int, dict[str, Any]] = field(default_factory=dict)  # stored open cases joined, as they are now
    tasks: list[dict[str, Any]] = field(default_factory=list)
    entries: list[changes.Entry] = field(default_factory=list)  # in the order the steps happened
    _new_ids: set[int] = field(default_factory=set)

    def open(self, new: NewCase, clock: CaseTiming) -> dict[str, Any]:
        """A case in 受理 (received), as flows.open_case opens it; returns its row (still changing)."""
        row = changes.received(new, clock, self.now)
        self.new.append(row)
        self._new_ids.add(row["id"])
        self.entries.append(changes.opened(row, self.actor, self.now))
        return row

    def register_and_dispatch(self, row: dict[str, Any], clock: CaseTiming, department_id: int,
                              reason: str | None) -> None:
        """立案 under the case's category and 派遣 to its department in one go, as flows.apply does with the
        REGISTER and DISPATCH commands of the triage system (which needs no authorisation)."""
        code = row["category_code"]
        self._step(row, Action.REGISTER, None, changes.registration(clock, self.now, code), {"category_code": code})
        self.tasks.append(changes.task(row["id"], department_id, "lead", 1, self.now))
        self._step(row, Action.DISPATCH, reason,
                   changes.dispatching(clock, self.now, department_id, row["first_dispatched_at"]),
                   {"department_id": department_id, "assist_department_ids": [], "round": 1})

    def _step(self, row: dict[str, Any], action: Action, reason: str | None, values: dict[str, Any],
              data: dict[str, Any]) -> None:
        from_state = row["state"]
        row.update(values, updated_at=self.now, version=row["version"] + 1)
        self.entries.append(changes.transitioned(row, action.value, from_state, self.actor, reason, data, self.now))

    def attach(self, row: dict[str, Any], report_public_id: str, received_at: datetime,
               evidence: dict[str, Any]) -> None:
        """The report joins the open case `row` (a stored one from `lock_rows`, or one this batch opened), as
        merge.attach does."""
        ensure_in_scope(self.actor, row["region_code"])
        if State(row["state"]) not in OPEN_STATES:
            raise InvalidTransition(f"只能并入未办结的案件 / case {row['number']} is {row['state']}: a report joins "
                                    f"only an open case")
        latest = row["last_report_at"]
        row.update(report_count=row["report_count"] + 1, updated_at=self.now, version=row["version"] + 1,
                   last_report_at=received_at if latest is None or received_at > latest else latest)
        if row["id"] not in self._new_ids:
            self.joined[row["id"]] = row
        self.entries.append(changes.noted(row, "attach_report", self.actor, None,
                                          {"report": report_public_id, "evidence": evidence},
                                          "cityops.cases.report_attached", self.now))


# The columns of a stored case that joining it reads or changes (lock_rows).
JOIN_COLUMNS = ("id", "number", "state", "region_code", "department_id", "channel", "report_count",
                "last_report_at", "updated_at", "version")


def write(uow: UnitOfWork, batch: Batch) -> None:
    """The batch's new cases, their tasks, the joined cases' changes, every timeline line, audit record and bus
    message, in the caller's transaction; cases first, since the rest refer to them."""
    session = uow.session
    bulk.insert_rows(session, cast(Table, Case.__table__), batch.new)
    if batch.joined:
        table = cast(Table, Case.__table__)
        statement = (update(table).where(table.c.id == bindparam("case_id"))
                     .values({name: bindparam(name) for name in ("report_count", "last_report_at", "updated_at",
                                                                 "version")}))
        session.connection().execute(statement, [
            {"case_id": row["id"], "report_count": row["report_count"], "last_report_at": row["last_report_at"],
             "updated_at": row["updated_at"], "version": row["version"]} for row in batch.joined.values()])
    bulk.insert_rows(session, cast(Table, CaseTask.__table__), batch.tasks)
    bulk.insert_rows(session, cast(Table, CaseTransition.__table__), [e.transition for e in batch.entries])
    audit.append_many(session, [e.audit for e in batch.entries])
    uow.publish_many([e.message for e in batch.entries if e.message is not None])
