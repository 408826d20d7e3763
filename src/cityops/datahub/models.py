"""The data hub's tables: the catalogue, dataset rows, imports, sharing requests and grants, quality checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityops.core.db import Base


class Dataset(Base):
    """One entry of the catalogue (一本目录): a department's data resource with its Table Schema."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(20), index=True)  # the owner's region, for scoping
    update_frequency: Mapped[str] = mapped_column(String(16))  # realtime daily weekly monthly quarterly yearly …
    table_schema: Mapped[dict[str, Any]]  # Frictionless Table Schema descriptor (see datahub/schema.py)
    keywords: Mapped[list[Any]]
    register: Mapped[str | None] = mapped_column(String(20))  # set on a base register's own dataset
    feeds_register: Mapped[str | None] = mapped_column(String(20))  # a source of that base register
    register_priority: Mapped[int] = mapped_column(Integer, default=0)  # higher wins a conflict
    version: Mapped[int] = mapped_column(Integer, default=1)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    shared_signature: Mapped[str | None] = mapped_column(String(64))  # what the rows' shared copies were made with
    data_updated_at: Mapped[datetime | None]  # last successful import or register build
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(120))


class DatasetVersion(Base):
    """Every version of a dataset's description and schema, as it was."""

    __tablename__ = "dataset_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]]
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime]


class DatasetRow(Base):
    """A row of a dataset, its typed values as JSON. `row_key` is the primary-key value, for upserts. `shared` is
    the row as a grant with nothing approved in clear receives it (datahub/shared_copy.py)."""

    __tablename__ = "dataset_rows"
    __table_args__ = (Index("ix_dataset_rows_key", "dataset_id", "row_key"),)

    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    row_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    row_key: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]]
    shared: Mapped[dict[str, Any] | None]


class ImportJob(Base):
    """One file imported into a dataset: its progress while it runs, and its errors when it fails."""

    __tablename__ = "dataset_imports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(10))  # upsert / replace
    status: Mapped[str] = mapped_column(String(12))  # running / succeeded / failed
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]]  # the first errors, each {line, field, rule, message, message_en, value}
    summary: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class ShareRequest(Base):
    """A department's request for a dataset (需求清单): which fields, for what purpose, on what basis."""

    __tablename__ = "share_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    requester_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # rows / aggregate
    fields: Mapped[list[Any]]
    clear_fields: Mapped[list[Any]]  # fields asked for unmasked
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    wanted_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12))  # pending / approved / partial / rejected / withdrawn
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)


class Grant(Base):
    """What the owner approved (责任清单): exactly these fields, to this department, until then."""

    __tablename__ = "share_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("share_requests.id"), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    grantee_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    fields: Mapped[list[Any]]
    clear_fields: Mapped[list[Any]]
    purpose: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(String(120))
    granted_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(120))
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class QualityCheck(Base):
    """A quality report of a dataset as it was checked (数据质量核查)."""

    __tablename__ = "dataset_quality"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    dataset_version: Mapped[int] = mapped_column(Integer)
    checked_at: Mapped[datetime]
    overall: Mapped[float]
    report: Mapped[dict[str, Any]]
