from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cityops.cases.states import STATE_LABELS, State


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    title: str
    description: str
    category_code: str | None
    severity: int
    region_code: str
    lng: float | None
    lat: float | None
    address: str | None
    channel: str
    state: str
    state_label: str = ""
    suspended: bool
    department_id: int | None
    escalation_level: int
    reopened_count: int
    rework_count: int
    return_count: int
    report_count: int
    stage_due_at: datetime | None
    handle_due_at: datetime | None
    due_at: datetime | None
    overdue: bool = False
    received_at: datetime
    registered_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    followed_up_at: datetime | None
    resolved: bool | None
    satisfaction: str | None
    result: str | None
    result_photos: list[Any] | None
    route: dict[str, Any] | None
    version: int

    @classmethod
    def of(cls, case: Any, now: datetime) -> CaseOut:
        out = cls.model_validate(case)
        out.state_label = STATE_LABELS[State(case.state)][0]
        out.overdue = bool(case.stage_due_at and case.stage_due_at < now and not case.suspended
                           and case.state not in ("rejected", "closed", "followed_up"))
        return out


class TransitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    action: str
    from_state: str | None
    to_state: str
    actor: str
    role: str
    reason: str | None
    data: dict[str, Any]
    at: datetime


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    department_id: int
    role: str
    round: int
    state: str
    result: str | None
    created_at: datetime
    done_at: datetime | None


class ExtensionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    department_id: int
    hours: float
    reason: str
    state: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None


class EscalationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    level: int
    reason: str
    raised_by: str
    at: datetime


class CaseDetailOut(BaseModel):
    case: CaseOut
    reports: list[dict[str, Any]]
    tasks: list[TaskOut]
    extensions: list[ExtensionOut]
    escalations: list[EscalationOut]
    timeline: list[TransitionOut]


class ActionIn(BaseModel):
    """The fields an action may carry; which are required depends on the action (see the rule table)."""

    reason: str | None = Field(default=None, max_length=2000)
    category_code: str | None = Field(default=None, max_length=40)
    department_id: int | None = None
    assist_department_ids: list[int] = Field(default_factory=list, max_length=10)
    result: str | None = Field(default=None, max_length=5000)
    photos: list[str] = Field(default_factory=list, max_length=9)
    hours: float | None = Field(default=None, gt=0, le=720)
    approved: bool | None = None
    resolved: bool | None = None
    satisfaction: str | None = None
    reopen: bool = False
    level: int | None = Field(default=None, ge=1, le=2)
    expected_version: int | None = None


class MergeIn(BaseModel):
    """合并：另一案件是本案件的重复 / the other case is a duplicate of this one."""

    source: str = Field(min_length=1, max_length=32, description="重复案件的编号或 id / the duplicate's number or id")
    reason: str = Field(min_length=1, max_length=2000)


class SplitIn(BaseModel):
    """拆分：该上报被误并入此案件 / the report was fused into its case by mistake."""

    reason: str = Field(min_length=1, max_length=2000)
