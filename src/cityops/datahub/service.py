"""Queries and single writes for the catalogue, dataset rows, imports, requests, grants and quality checks.

Keyword-only, typed, never commits. A dataset's description or schema change bumps its version and keeps a
snapshot, so "which fields were core when this grant was approved" can be answered later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from cityops.core.errors import NotFound
from cityops.datahub import shared_copy
from cityops.datahub.models import Dataset, DatasetRow, DatasetVersion, Grant, ImportJob, QualityCheck, ShareRequest
from cityops.datahub.schema import TableSchema, parse_schema
from cityops.org.access import Principal, record_condition

WRITE_BATCH: Final = 2_000
ANALYZE_AFTER_ROWS: Final = 1_000
DESCRIBED: Final = ("code", "name", "name_en", "description", "update_frequency", "table_schema", "keywords",
                    "register", "feeds_register", "register_priority", "owner_department_id", "region_code")


# --- catalogue ---------------------------------------------------------------------------------------


def get_dataset(*, session: Session, code: str) -> Dataset | None:
    return session.scalars(select(Dataset).where(Dataset.code == code)).one_or_none()


def get_dataset_or_raise(*, session: Session, code: str) -> Dataset:
    dataset = get_dataset(session=session, code=code)
    if dataset is None:
        raise NotFound(f"no dataset {code}", field="code")
    return dataset


def schema_of(dataset: Dataset) -> TableSchema:
    return parse_schema(dataset.table_schema)


def search_datasets(*, session: Session, text: str | None = None, department_id: int | None = None,
                    register: bool | None = None, limit: int = 50, offset: int = 0
                    ) -> tuple[Sequence[Dataset], int]:
    """The catalogue is readable city-wide (it lists what exists, not the data), so no region scope here."""
    query = select(Dataset)
    if text:
        like = f"%{text}%"
        query = query.where(or_(Dataset.name.like(like), Dataset.code.like(like), Dataset.description.like(like),
                                Dataset.name_en.like(like)))
    if department_id is not None:
        query = query.where(Dataset.owner_department_id == department_id)
    if register is not None:
        query = query.where(Dataset.register.is_not(None) if register else Dataset.register.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Dataset.code).limit(limit).offset(offset)).all()
    return rows, total


def snapshot(dataset: Dataset) -> dict[str, Any]:
    return {key: getattr(dataset, key) for key in DESCRIBED} | {"version": dataset.version}


def save_dataset(*, session: Session, values: Mapping[str, Any], at: datetime, actor: str
                 ) -> tuple[Dataset, str]:
    """Create or update by code; "created", "updated" or "unchanged". Every change is a new version."""
    dataset = get_dataset(session=session, code=values["code"])
    if dataset is None:
        dataset = Dataset(**{k: values[k] for k in DESCRIBED if k in values}, version=1, row_count=0,
                          created_at=at, updated_at=at, updated_by=actor)
        dataset.keywords = list(values.get("keywords") or [])
        session.add(dataset)
        session.flush()
        outcome = "created"
    else:
        changed = {k: v for k, v in values.items() if k in DESCRIBED and getattr(dataset, k) != v}
        if not changed:
            return dataset, "unchanged"
        for key, value in changed.items():
            setattr(dataset, key, value)
        dataset.version += 1
        dataset.updated_at, dataset.updated_by = at, actor
        outcome = "updated"
        if "table_schema" in changed and dataset.shared_signature is not None:
            _keep_copies_current(session, dataset)
    session.add(DatasetVersion(dataset_id=dataset.id, version=dataset.version, snapshot=snapshot(dataset),
                               changed_by=actor, changed_at=at))
    return dataset, outcome


def versions(*, session: Session, dataset_id: int) -> Sequence[DatasetVersion]:
    return session.scalars(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id)
                           .order_by(DatasetVersion.version.desc())).all()


# --- rows --------------------------------------------------------------------------------------------


def iter_rows(*, session: Session, dataset_id: int, batch: int = 5_000) -> Iterator[dict[str, Any]]:
    """Every row of a dataset in row order, read in batches (a register may have millions)."""
    after = 0
    while True:
        page = read_rows(session=session, dataset_id=dataset_id, after=after, limit=batch)
        if not page:
            return
        for _row_no, data in page:
            yield data
        after = page[-1][0]


def read_rows(*, session: Session, dataset_id: int, after: int = 0, limit: int = 100, copies: bool = False
              ) -> list[tuple[int, dict[str, Any]]]:
    """A page of (row number, data) after a row number: keyset paging, so page 1,000 costs what page 1 does.
    With `copies`, each row's shared copy instead of its data (None for a row stored without one)."""
    column = DatasetRow.shared if copies else DatasetRow.data
    query = (select(DatasetRow.row_no, column)
             .where(DatasetRow.dataset_id == dataset_id, DatasetRow.row_no > after)
             .order_by(DatasetRow.row_no).limit(limit))
    # This is the sharing API's hot path: on the connection rather than the ORM session and fetched at once,
    # because the ORM's per-row result handling cost more than the query.
    return [(no, data) for no, data in session.connection().execute(query).all()]


def copies_current(dataset: Dataset, schema: TableSchema) -> bool:
    """The dataset's stored shared copies were made with its schema and the masking rules as they are now."""
    return dataset.shared_signature is not None and dataset.shared_signature == shared_copy.signature(schema)


def rows_by_key(*, session: Session, dataset_id: int, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        query = select(DatasetRow.row_key, DatasetRow.data).where(DatasetRow.dataset_id == dataset_id,
                                                                 DatasetRow.row_key.in_(chunk))
        found.update({str(k): d for k, d in session.execute(query)})
    return found


def count_rows(*, session: Session, dataset_id: int) -> int:
    return session.scalar(select(func.count()).select_from(DatasetRow).where(DatasetRow.dataset_id == dataset_id)) or 0


def replace_rows(*, session: Session, dataset: Dataset, rows: Iterable[tuple[str | None, dict[str, Any]]]) -> int:
    """The dataset's rows become `rows` (key, data), each stored with its shared copy."""
    session.execute(delete(DatasetRow).where(DatasetRow.dataset_id == dataset.id))
    schema = schema_of(dataset)
    dataset.shared_signature = shared_copy.signature(schema)
    return _insert(session, dataset.id, rows, shared_copy.copier(schema), start=0)


def upsert_rows(*, session: Session, dataset: Dataset, rows: Sequence[tuple[str | None, dict[str, Any]]]
                ) -> tuple[int, int]:
    """Rows with a key already stored replace that row's data; the others are appended. (created, updated)."""
    _keep_copies_current(session, dataset)
    copy = shared_copy.copier(schema_of(dataset))
    keys = [k for k, _ in rows if k is not None]
    stored = _row_numbers(session, dataset.id, keys)
    fresh = [(k, d) for k, d in rows if k is None or k not in stored]
    changed = [(stored[k], d) for k, d in rows if k is not None and k in stored]
    for start in range(0, len(changed), WRITE_BATCH):
        batch = changed[start:start + WRITE_BATCH]
        session.execute(update(DatasetRow), [  # bulk UPDATE by primary key
            {"dataset_id": dataset.id, "row_no": no, "data": data, "shared": shared}
            for (no, data), shared in zip(batch, copy([d for _no, d in batch]), strict=True)])
    last = session.scalar(select(func.max(DatasetRow.row_no)).where(DatasetRow.dataset_id == dataset.id)) or 0
    created = _insert(session, dataset.id, fresh, copy, start=int(last))
    return created, len(rows) - len(fresh)


def _keep_copies_current(session: Session, dataset: Dataset) -> None:
    """Make every stored row's shared copy again when the schema or the masking rules changed since."""
    schema = schema_of(dataset)
    if copies_current(dataset, schema):
        return
    copy = shared_copy.copier(schema)
    after = 0
    while page := read_rows(session=session, dataset_id=dataset.id, after=after, limit=WRITE_BATCH):
        session.execute(update(DatasetRow), [
            {"dataset_id": dataset.id, "row_no": no, "shared": shared}
            for (no, _data), shared in zip(page, copy([d for _no, d in page]), strict=True)])
        after = page[-1][0]
    dataset.shared_signature = shared_copy.signature(schema)


def refresh_row_statistics(*, session: Session, written: int) -> None:
    """After a bulk write, let PostgreSQL's planner know the table's size now: with the statistics of a nearly
    empty table it reads a whole dataset for each page instead of walking the key index."""
    if written >= ANALYZE_AFTER_ROWS and session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE dataset_rows"))


def _row_numbers(session: Session, dataset_id: int, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        query = select(DatasetRow.row_key, DatasetRow.row_no).where(DatasetRow.dataset_id == dataset_id,
                                                                   DatasetRow.row_key.in_(chunk))
        found.update({str(k): int(n) for k, n in session.execute(query)})
    return found


def _insert(session: Session, dataset_id: int, rows: Iterable[tuple[str | None, dict[str, Any]]],
            copy: Callable[[list[dict[str, Any]]], list[dict[str, Any]]], *, start: int) -> int:
    number = start
    batch: list[tuple[str | None, dict[str, Any]]] = []

    def write() -> None:
        first = number - len(batch) + 1
        session.execute(insert(DatasetRow), [
            {"dataset_id": dataset_id, "row_no": first + i, "row_key": key, "data": data, "shared": shared}
            for i, ((key, data), shared) in enumerate(zip(batch, copy([d for _k, d in batch]), strict=True))])

    for key, data in rows:
        number += 1
        batch.append((key, data))
        if len(batch) >= WRITE_BATCH:
            write()
            batch = []
    if batch:
        write()
    return number - start


# --- imports -----------------------------------------------------------------------------------------


def get_import(*, session: Session, job_id: str) -> ImportJob | None:
    return session.get(ImportJob, job_id)


def imports_of(*, session: Session, dataset_id: int, limit: int = 20) -> Sequence[ImportJob]:
    return session.scalars(select(ImportJob).where(ImportJob.dataset_id == dataset_id)
                           .order_by(ImportJob.started_at.desc()).limit(limit)).all()


# --- sharing -----------------------------------------------------------------------------------------


def get_request(*, session: Session, request_id: int) -> ShareRequest | None:
    return session.get(ShareRequest, request_id)


def get_grant(*, session: Session, grant_id: int) -> Grant | None:
    return session.get(Grant, grant_id)


def demand_list(*, session: Session, department_id: int) -> Sequence[ShareRequest]:
    """需求清单: what this department asked others for."""
    return session.scalars(select(ShareRequest).where(ShareRequest.requester_department_id == department_id)
                           .order_by(ShareRequest.id.desc())).all()


def responsibility_list(*, session: Session, department_id: int) -> Sequence[ShareRequest]:
    """责任清单: what others asked this department for, on the datasets it owns."""
    owned = select(Dataset.id).where(Dataset.owner_department_id == department_id)
    return session.scalars(select(ShareRequest).where(ShareRequest.dataset_id.in_(owned))
                           .order_by(ShareRequest.id.desc())).all()


def grants_of(*, session: Session, department_id: int) -> Sequence[Grant]:
    return session.scalars(select(Grant).where(Grant.grantee_department_id == department_id)
                           .order_by(Grant.id.desc())).all()


def grants_on(*, session: Session, dataset_id: int) -> Sequence[Grant]:
    return session.scalars(select(Grant).where(Grant.dataset_id == dataset_id).order_by(Grant.id.desc())).all()


def active_grants(*, session: Session, dataset_id: int, department_id: int, kind: str, now: datetime
                  ) -> Sequence[Grant]:
    return session.scalars(select(Grant).where(
        Grant.dataset_id == dataset_id, Grant.grantee_department_id == department_id, Grant.kind == kind,
        Grant.revoked_at.is_(None), Grant.expires_at > now).order_by(Grant.id)).all()


def datasets_by_id(*, session: Session, ids: Iterable[int]) -> dict[int, Dataset]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {d.id: d for d in session.scalars(select(Dataset).where(Dataset.id.in_(wanted)))}


# --- quality -----------------------------------------------------------------------------------------


def latest_quality(*, session: Session, dataset_id: int) -> QualityCheck | None:
    return session.scalars(select(QualityCheck).where(QualityCheck.dataset_id == dataset_id)
                           .order_by(QualityCheck.checked_at.desc(), QualityCheck.id.desc()).limit(1)).one_or_none()


def all_datasets(*, session: Session) -> Sequence[Dataset]:
    return session.scalars(select(Dataset).order_by(Dataset.code)).all()


def datasets_in_scope(*, session: Session, principal: Principal) -> Sequence[Dataset]:
    return session.scalars(select(Dataset).where(record_condition(principal, Dataset.region_code))
                           .order_by(Dataset.code)).all()
