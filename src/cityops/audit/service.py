"""Writing and reading the audit log. `append` runs inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, func, select
from sqlalchemy.orm import Session

from cityops.audit.chain import GENESIS_HASH, ChainReport, record_hash, verify_chain
from cityops.audit.models import AuditHead, AuditRecord
from cityops.core import bulk
from cityops.core.clock import as_utc

HEAD_ID = 1


def _locked_head(session: Session) -> AuditHead:
    """The head row, locked once per transaction (appends after the first reuse the lock and the row)."""
    transaction = session.get_transaction()
    held = session.info.get("audit.head")
    if held is not None and held[0] is transaction:
        return held[1]  # type: ignore[no-any-return]
    head = session.scalars(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()).one_or_none()
    if head is None:
        head = AuditHead(id=HEAD_ID, seq=0, hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    session.info["audit.head"] = (transaction, head)
    return head


def append(session: Session, *, at: datetime, actor: str, action: str, entity_type: str, entity_id: str | int,
           region_code: str | None = None, data: dict[str, Any] | None = None) -> AuditRecord:
    at = as_utc(at)
    head = _locked_head(session)
    fields: dict[str, Any] = {
        "seq": head.seq + 1,
        "occurred_at": at.isoformat(),
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "region_code": region_code,
        "data": data or {},
    }
    digest = record_hash(fields, head.hash)
    record = AuditRecord(**{**fields, "occurred_at": at}, prev_hash=head.hash, hash=digest)
    session.add(record)
    head.seq, head.hash = record.seq, digest  # written with the rest of the transaction, no flush of its own
    return record


def append_many(session: Session, entries: Sequence[dict[str, Any]]) -> None:
    """`append` for many records (each given append's keyword arguments), chained in order and written at once
    (bulk.insert_rows) instead of as ORM objects: the triage worker audits every step of a whole batch."""
    if not entries:
        return
    head = _locked_head(session)
    seq, prev = head.seq, head.hash
    rows = []
    for entry in entries:
        seq += 1
        at = as_utc(entry["at"])
        fields: dict[str, Any] = {
            "seq": seq, "occurred_at": at.isoformat(), "actor": entry["actor"], "action": entry["action"],
            "entity_type": entry["entity_type"], "entity_id": str(entry["entity_id"]),
            "region_code": entry.get("region_code"), "data": entry.get("data") or {},
        }
        digest = record_hash(fields, prev)
        rows.append({**fields, "occurred_at": at, "prev_hash": prev, "hash": digest})
        prev = digest
    bulk.insert_rows(session, cast(Table, AuditRecord.__table__), rows)
    head.seq, head.hash = seq, prev


def _as_fields(record: AuditRecord) -> dict[str, Any]:
    return {
        "seq": record.seq, "occurred_at": record.occurred_at.isoformat(), "actor": record.actor,
        "action": record.action, "entity_type": record.entity_type, "entity_id": record.entity_id,
        "region_code": record.region_code, "data": record.data, "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


def _stream(session: Session, batch: int = 2000) -> Iterator[dict[str, Any]]:
    query = select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=batch)
    for record in session.scalars(query):
        yield _as_fields(record)


def verify(*, session: Session) -> ChainReport:
    head = session.get(AuditHead, HEAD_ID)
    return verify_chain(_stream(session), head=(head.seq, head.hash) if head else None)


def list_records(*, session: Session, query: Select[Any], limit: int, offset: int
                 ) -> tuple[Sequence[AuditRecord], int]:
    """Newest first; `query` arrives already scoped by the caller's region."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditRecord.seq.desc()).limit(limit).offset(offset)).all()
    return rows, total
