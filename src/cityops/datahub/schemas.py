"""API shapes of the data hub."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class DatasetIn(BaseModel):
    code: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                      description="数据资源编码 / dataset code")
    name: str = Field(min_length=1, max_length=160, description="名称 / name")
    name_en: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=4000)
    owner_department: str = Field(min_length=1, max_length=40, description="数源部门编码 / owning department code")
    update_frequency: Literal["realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular"] = (
        "irregular")
    table_schema: dict[str, Any] = Field(alias="schema", description="Frictionless Table Schema")
    keywords: list[str] = Field(default_factory=list, max_length=30)
    base_register: Literal["population", "legal_entity", "licence"] | None = Field(default=None, alias="register")
    feeds_register: Literal["population", "legal_entity", "licence"] | None = None
    register_priority: int = Field(default=0, ge=0, le=1000)

    model_config = ConfigDict(populate_by_name=True)


class SavedOut(BaseModel):
    code: str
    outcome: str


class DatasetOut(BaseModel):
    code: str
    name: str
    name_en: str | None
    description: str
    owner_department_id: int
    owner_department: str | None = None
    region_code: str
    update_frequency: str
    keywords: list[str]
    base_register: str | None = Field(validation_alias="register", serialization_alias="register")
    feeds_register: str | None
    version: int
    row_count: int
    data_updated_at: datetime | None
    updated_at: datetime

    model_config = ConfigDict(from_attributes=True)


class FieldOut(BaseModel):
    name: str
    type: str
    title: str | None
    description: str | None
    standard: str | None
    grade: str
    pi_class: str
    dimension: bool
    required: bool


class DatasetDetailOut(DatasetOut):
    fields: list[FieldOut] = []
    primary_key: list[str] = []
    quality_overall: float | None = None
    quality_checked_at: datetime | None = None


class VersionOut(BaseModel):
    version: int
    changed_by: str
    changed_at: datetime
    snapshot: dict[str, Any]

    model_config = ConfigDict(from_attributes=True)


class ImportOut(BaseModel):
    id: str
    dataset_code: str | None = None
    file_name: str
    mode: str
    status: str
    total_rows: int
    processed_rows: int
    progress: float
    error_count: int
    errors: list[dict[str, Any]]
    summary: dict[str, Any]
    started_at: datetime
    finished_at: datetime | None


class ShareRequestIn(BaseModel):
    dataset: str = Field(min_length=1, max_length=60, description="数据资源编码 / dataset code")
    kind: Literal["rows", "aggregate"] = "rows"
    fields: list[str] = Field(min_length=1, max_length=200)
    clear_fields: list[str] = Field(default_factory=list, max_length=200, description="申请明文的字段")
    purpose: str = Field(min_length=1, max_length=2000, description="用途 / purpose")
    legal_basis: str = Field(min_length=1, max_length=2000, description="依据 / legal basis")
    wanted_until: datetime = Field(description="使用期限 / until")


class CreatedOut(BaseModel):
    id: int


class DecisionIn(BaseModel):
    approve: bool
    fields: list[str] | None = Field(default=None, description="批准的字段（省略为全部）/ approved fields")
    clear_fields: list[str] | None = None
    expires_at: datetime | None = None
    reason: str | None = Field(default=None, max_length=2000)


class DecisionOut(BaseModel):
    request_id: int
    status: str
    grant_id: int | None


class RevokeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class ShareRequestOut(BaseModel):
    id: int
    dataset_id: int
    dataset_code: str | None = None
    dataset_name: str | None = None
    requester_department_id: int
    kind: str
    fields: list[str]
    clear_fields: list[str]
    purpose: str
    legal_basis: str
    wanted_until: datetime
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None

    model_config = ConfigDict(from_attributes=True)


class GrantOut(BaseModel):
    id: int
    request_id: int
    dataset_id: int
    dataset_code: str | None = None
    grantee_department_id: int
    kind: str
    fields: list[str]
    clear_fields: list[str]
    purpose: str
    granted_by: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None

    model_config = ConfigDict(from_attributes=True)


class ListsOut(BaseModel):
    department_id: int
    demand: list[ShareRequestOut]
    responsibility: list[ShareRequestOut]
    grants: list[GrantOut]


class RowsOut(BaseModel):
    rows: list[dict[str, Any]]
    fields: dict[str, str]
    next_after: int | None
    grant_id: int | None


class MeasureIn(BaseModel):
    op: Literal["count", "sum", "mean"]
    field: str | None = None


class AggregateIn(BaseModel):
    group_by: list[str] = Field(default_factory=list, max_length=6)
    measures: list[MeasureIn] = Field(default_factory=lambda: [MeasureIn(op="count")], min_length=1, max_length=10)
    filters: dict[str, list[str]] = Field(default_factory=dict)


class AggregateCellOut(BaseModel):
    key: dict[str, Any]
    suppressed: bool
    partial: bool
    values: dict[str, float | None]


class AggregateOut(BaseModel):
    group_by: list[str]
    k: int
    suppressed_cells: int
    cells: list[AggregateCellOut]
    rule: str


class BuildOut(BaseModel):
    base_register: str = Field(serialization_alias="register")
    dataset_code: str
    rows: int
    sources: dict[str, int]
    conflict_count: int
    conflicts: list[dict[str, Any]]


class QualityOut(BaseModel):
    dataset_code: str
    dataset_version: int
    checked_at: datetime
    overall: float
    report: dict[str, Any]
