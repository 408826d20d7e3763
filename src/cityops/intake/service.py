"""Queries and single writes for reports. Never commits.

Receiving is the hot path (hundreds of reports a second): it uses one INSERT … ON CONFLICT DO NOTHING
RETURNING, so a repeated (channel, channel_report_id) costs one statement and never raises.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cityops.core.clock import CHINA_TZ
from cityops.intake.models import Report
from cityops.org.access import Principal, scoped

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread on the phone


def new_public_id(at: datetime) -> str:
    """A tracking number people can read out: date, then 8 random characters (R20261122K7Q2M9XA)."""
    return "R" + at.astimezone(CHINA_TZ).strftime("%Y%m%d") + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def insert_if_new(*, session: Session, values: dict[str, Any]) -> tuple[str, bool]:
    """Stores the report unless the channel already sent it; returns (public id, created)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (insert(Report).values(**values)
                 .on_conflict_do_nothing(index_elements=["channel", "channel_report_id"])
                 .returning(Report.public_id))
    created = session.execute(statement).scalar_one_or_none()
    if created is not None:
        return created, True
    existing = session.scalar(select(Report.public_id).where(
        Report.channel == values["channel"], Report.channel_report_id == values["channel_report_id"]))
    assert existing is not None  # the conflict that stopped the insert is this row
    return existing, False


def get_by_public_id(*, session: Session, public_id: str) -> Report | None:
    return session.scalars(select(Report).where(Report.public_id == public_id)).one_or_none()


def reports_of_case(*, session: Session, case_id: int) -> Sequence[Report]:
    return session.scalars(select(Report).where(Report.case_id == case_id).order_by(Report.id)).all()


def pending_ids(*, session: Session, limit: int) -> list[int]:
    query = select(Report.id).where(Report.status == "received").order_by(Report.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # several workers share the queue
    return list(session.scalars(query))


def load(*, session: Session, ids: Sequence[int]) -> Sequence[Report]:
    return session.scalars(select(Report).where(Report.id.in_(ids)).order_by(Report.id)).all()


def list_reports(*, session: Session, principal: Principal, status: str | None, channel: str | None,
                 limit: int, offset: int) -> tuple[Sequence[Report], int]:
    query = scoped(select(Report), principal, Report.region_code)
    if status:
        query = query.where(Report.status == status)
    if channel:
        query = query.where(Report.channel == channel)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Report.id.desc()).limit(limit).offset(offset)).all()
    return rows, total


def count_by_status(*, session: Session) -> dict[str, int]:
    rows = session.execute(select(Report.status, func.count()).group_by(Report.status)).all()
    return {status: count for status, count in rows}


def reports_for_cases(*, session: Session, case_ids: Sequence[int]) -> dict[int, list[Report]]:
    found: dict[int, list[Report]] = {}
    for report in session.scalars(select(Report).where(Report.case_id.in_(case_ids)).order_by(Report.id)):
        found.setdefault(report.case_id or 0, []).append(report)
    return found


@dataclass(frozen=True)
class Outcome:
    """What triage made of a set of reports (an import's summary)."""

    new_cases: int  # reports that opened a case of their own
    fused: int  # reports that joined a case already open
    unlocated: int  # place not found from coordinates or text
    to_triage: int  # waiting for a dispatcher (category or department unknown, or low confidence)
    pending: int  # not processed yet
    failed: int  # kept as dead letters

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def outcome_of(*, session: Session, public_ids: Sequence[str]) -> Outcome:
    counts = {"new_cases": 0, "fused": 0, "unlocated": 0, "to_triage": 0, "pending": 0, "failed": 0}
    for start in range(0, len(public_ids), 1000):
        rows = session.execute(select(Report.status, Report.triage).where(
            Report.public_id.in_(public_ids[start:start + 1000])))
        for status, triage in rows:
            if status == "received":
                counts["pending"] += 1
                continue
            if status == "failed":
                counts["failed"] += 1
                continue
            counts["fused" if status == "fused" else "new_cases"] += 1
            counts["to_triage"] += status == "waiting"
            counts["unlocated"] += not (triage.get("locate") or {}).get("resolved", False)
    return Outcome(**counts)
