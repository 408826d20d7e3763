"""Queries and single writes for reports. Never commits.

Receiving is the hot path (hundreds of reports a second): it uses one INSERT … ON CONFLICT DO NOTHING
RETURNING, so a repeated (channel, channel_report_id) costs one statement and never raises.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    Dialect,
    Select,
    Table,
    TextClause,
    bindparam,
    func,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from cityops.core import bulk
from cityops.core.clock import CHINA_TZ
from cityops.core.errors import NotFound
from cityops.intake.models import Report
from cityops.org.access import Principal, scoped

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread on the phone


def new_public_id(at: datetime) -> str:
    """A tracking number people can read out: date, then 8 random characters (R20261122K7Q2M9XA)."""
    return "R" + at.astimezone(CHINA_TZ).strftime("%Y%m%d") + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def insert_many_if_new(*, session: Session, rows: Sequence[dict[str, Any]]) -> list[tuple[str, bool]]:
    """Stores each report unless its channel already sent it (also earlier in `rows`), in one INSERT.

    Returns (public id, created) per row, in order; a repeat gets the public id of the report stored first.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        created = set(session.scalars(*_unnest_insert(dialect, rows)))
    else:
        created = set(session.scalars(_insert_if_new(dialect.name), list(rows)))
    keys = {(row["channel"], row["channel_report_id"]) for row in rows if row["public_id"] not in created}
    existing: dict[tuple[str, str], str] = {}
    if keys:
        found = session.execute(select(Report.channel, Report.channel_report_id, Report.public_id).where(
            tuple_(Report.channel, Report.channel_report_id).in_(sorted(keys))))
        existing = {(channel, channel_id): public_id for channel, channel_id, public_id in found}
    result = []
    for row in rows:
        if row["public_id"] in created:
            result.append((row["public_id"], True))
        else:
            result.append((existing[(row["channel"], row["channel_report_id"])], False))
    return result


def _unnest_insert(dialect: Dialect, rows: Sequence[dict[str, Any]]) -> tuple[TextClause, dict[str, Any]]:
    """PostgreSQL: the rows as one array per column, unnested into one INSERT. The statement's text is the same
    for every batch, so neither SQLAlchemy nor the driver parses a statement of that many rows each time (which
    was a third of intake's database work); each value goes through its column's type as in an INSERT."""
    names = tuple(rows[0])
    statement, processors = _unnest_statement(dialect, names)
    params = {f"c{i}": [row[name] if process is None else process(row[name]) for row in rows]
              for i, (name, process) in enumerate(zip(names, processors, strict=True))}
    return statement, params


@lru_cache(maxsize=16)
def _unnest_statement(dialect: Dialect, names: tuple[str, ...]) -> tuple[TextClause, list[Any]]:
    table = cast(Table, Report.__table__)
    columns = [table.c[name] for name in names]
    arrays = ", ".join(f"CAST(:c{i} AS {column.type.compile(dialect)}[])" for i, column in enumerate(columns))
    quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    statement = text(f"INSERT INTO reports ({quoted}) SELECT * FROM unnest({arrays}) "
                     "ON CONFLICT (channel, channel_report_id) DO NOTHING RETURNING public_id")
    return statement, [column.type._cached_bind_processor(dialect) for column in columns]


@cache
def _insert_if_new(dialect: str) -> ReturningInsert[tuple[str]]:
    """SQLite: one row's INSERT on the table (not the mapped class), built once and given every row as
    parameters, where `.values(rows)` made SQLAlchemy compile a statement of that many rows for every batch."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, Report.__table__)
    return (insert(table).on_conflict_do_nothing(index_elements=["channel", "channel_report_id"])
            .returning(table.c.public_id))


def get_by_public_id(*, session: Session, public_id: str) -> Report | None:
    return session.scalars(select(Report).where(Report.public_id == public_id)).one_or_none()


def lock_by_public_id(*, session: Session, public_id: str) -> Report | None:
    """The report, locked for this transaction (its case is about to change)."""
    return session.scalars(select(Report).where(Report.public_id == public_id).with_for_update()).one_or_none()


def reports_of_case(*, session: Session, case_id: int) -> Sequence[Report]:
    return session.scalars(select(Report).where(Report.case_id == case_id).order_by(Report.id)).all()


class ReportRow(NamedTuple):
    """A received report as triage reads it (plain data: a batch holds hundreds)."""

    id: int
    public_id: str
    channel: str
    text: str
    address: str | None
    lng: float | None
    lat: float | None
    category_code: str | None
    received_at: datetime
    triage: dict[str, Any]


def claim_rows(*, session: Session, limit: int) -> list[ReportRow]:
    """`claim` as plain rows: the oldest received reports, locked for this transaction."""
    query = (select(*(Report.__table__.c[name] for name in ReportRow._fields)).where(Report.status == "received")
             .order_by(Report.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # several workers share the queue
    return [ReportRow._make(row) for row in session.execute(query)]


def record_triage(*, session: Session, outcomes: Sequence[dict[str, Any]]) -> None:
    """What triage made of each report: {"report_id", "status", "case_id", "region_code", "triage"}, in one
    statement given every report."""
    if not outcomes:
        return
    if session.get_bind().dialect.name == "postgresql":
        # One statement given one JSON document: the server parses it far faster than the driver builds arrays.
        session.connection().exec_driver_sql(_RECORDSET_UPDATE, (bulk.json_text(list(outcomes)),))
        return
    table = cast(Table, Report.__table__)
    statement = (update(table).where(table.c.id == bindparam("report_id"))
                 .values({name: bindparam(name) for name in ("status", "case_id", "region_code", "triage")}))
    session.connection().execute(statement, list(outcomes))


_RECORDSET_UPDATE = (
    "UPDATE reports SET status = u.status, case_id = u.case_id, region_code = u.region_code, triage = u.triage "
    "FROM json_to_recordset(%s::json) AS u(report_id bigint, status text, case_id bigint, region_code text, "
    "triage json) WHERE reports.id = u.report_id")


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


# --- which case a report belongs to (cases/merge.py: attach, merge, split) -------------------------------------


def set_case(*, session: Session, public_id: str, case_id: int, status: str | None = None) -> Report:
    """Puts the report in the case (and, when given, sets its status); NotFound for an unknown report."""
    report = session.scalars(select(Report).where(Report.public_id == public_id).with_for_update()).one_or_none()
    if report is None:
        raise NotFound(f"没有该上报 / no report {public_id}", field="report")
    report.case_id = case_id
    if status is not None:
        report.status = status
    return report


def move_reports(*, session: Session, from_case_id: int, to_case_id: int) -> list[str]:
    """Moves every report of one case to another; returns their public ids, oldest first."""
    moved = list(session.scalars(select(Report.public_id).where(Report.case_id == from_case_id)
                                 .order_by(Report.id)))
    if moved:
        session.execute(update(Report).where(Report.case_id == from_case_id).values(case_id=to_case_id))
    return moved


# --- insight: what the hotspot and monthly-topic analyses read (insight/hotspot_service.py) -----------------------


@dataclass(frozen=True)
class ReportFact:
    """One report as the analyses see it, plain data."""

    id: int
    at: datetime  # when it was reported; a time after it reached the platform is taken as the arrival
    lng: float | None
    lat: float | None
    region_code: str | None
    text: str
    category_code: str | None  # as the channel gave it; the case's category is the cases domain's to say
    case_id: int | None
    joined_case: bool  # an earlier report had opened its case: this one was fused into it


def report_facts(*, session: Session, since: datetime, until: datetime, region_prefix: str) -> list[ReportFact]:
    """Reports made in [since, until) whose region code starts with `region_prefix`, oldest first.

    "Made" is the reported time, or the arrival when the sender's clock says later: imported messages keep their
    own dates, and a sender cannot push a report into the future."""
    relevant = _made_between(since, until) & Report.region_code.startswith(region_prefix, autoescape=True)
    firsts = (select(Report.case_id, func.min(Report.id).label("first_id"))
              .where(Report.case_id.in_(select(Report.case_id).where(relevant))).group_by(Report.case_id)
              .subquery("firsts"))
    query = (select(Report.id, Report.reported_at, Report.received_at, Report.lng, Report.lat, Report.region_code,
                    Report.text, Report.category_code, Report.case_id, firsts.c.first_id)
             .outerjoin(firsts, firsts.c.case_id == Report.case_id).where(relevant))
    facts = [ReportFact(id=row.id, at=min(row.reported_at, row.received_at), lng=row.lng, lat=row.lat,
                        region_code=row.region_code, text=row.text, category_code=row.category_code,
                        case_id=row.case_id, joined_case=row.first_id is not None and row.first_id != row.id)
             for row in session.execute(query.execution_options(yield_per=2000))]
    return sorted(facts, key=lambda f: (f.at, f.id))


def case_ids_of_facts(*, since: datetime, until: datetime, region_prefix: str) -> Select[Any]:
    """The case ids of the reports `report_facts` returns, as a subquery for the cases domain to filter by."""
    relevant = _made_between(since, until) & Report.region_code.startswith(region_prefix, autoescape=True)
    return select(Report.case_id).where(relevant, Report.case_id.is_not(None))


def _made_between(since: datetime, until: datetime) -> ColumnElement[bool]:
    # min(reported, received) in [since, until), written so the index on received_at narrows the scan
    return ((Report.received_at >= since) & (Report.reported_at >= since)
            & ((Report.reported_at < until) | (Report.received_at < until)))
